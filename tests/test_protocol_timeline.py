"""The records of an attempt's timeline and their small rules: the order an untimed pair's
frames are put in, a fact repeated by the next frame, a fact said once per connection."""

from __future__ import annotations

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.timeline import (
    Fact,
    Moment,
    first_on_connection,
    in_protocol_order,
    relative,
    repeats,
    unended,
)

R, S = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
STREAM = StreamKey("tcp4", "s1")


def _frame(
    direction: Direction, offset: int, kind: int = 0x0400, time: float | None = None
) -> Frame:
    return Frame(STREAM, direction, offset, kind, 0, 0, b"", None, time, None)


def _decoded(direction: Direction, offset: int, kind: int = 0x0400) -> DecodedFrame:
    return DecodedFrame(_frame(direction, offset, kind), FrameContext())


def test_an_untimed_pair_is_ordered_by_group_each_body_keeping_its_own_order() -> None:
    pair = [_decoded(R, 0), _decoded(R, 8), _decoded(S, 0), _decoded(S, 8), _decoded(R, 16)]
    # the runtime's start (0), a live completion (2), the SDK's entry (1) and end (3), and
    # a runtime frame of group 0 after its group-2 one: it cannot come before what preceded it
    ordered = in_protocol_order(pair, [0, 2, 1, 3, 0])
    assert [(d.frame.direction, d.frame.offset) for d in ordered] == [
        (R, 0), (R, 8), (R, 16), (S, 0), (S, 8),
    ]  # fmt: skip
    # an SDK frame is in no earlier group than the SDK's before it
    later = in_protocol_order([_decoded(S, 0), _decoded(S, 8), _decoded(R, 0)], [3, 1, 2])
    assert [(d.frame.direction, d.frame.offset) for d in later] == [(R, 0), (S, 0), (S, 8)]


def test_a_fact_is_repeated_by_a_frame_of_its_type_right_after_its_frame() -> None:
    first, second, other = _decoded(S, 0), _decoded(S, 8), _decoded(S, 16, kind=0x0401)
    timeline = [Moment(first, []), Moment(second, [])]
    fact = Fact(timeline[0], "RI206", "after the end", first.frame)
    assert repeats(fact, "RI206", second.frame, timeline[1], timeline)
    assert not repeats(fact, "RI209", second.frame, timeline[1], timeline)  # another rule
    timeline.append(Moment(other, []))
    assert not repeats(fact, "RI206", other.frame, timeline[2], timeline)  # another type
    assert not repeats(fact, "RI206", second.frame, timeline[1], timeline)  # not the last


def test_a_fact_said_once_per_connection_is_said_by_its_first_attempt_only() -> None:
    said: set[tuple[str, str]] = set()
    assert first_on_connection("RI241", STREAM, said)
    assert not first_on_connection("RI241", StreamKey("tcp4", "s3"), said)  # same connection
    assert first_on_connection("RI241", StreamKey("tcp5", "s1"), said)  # another one
    assert first_on_connection("RI206", STREAM, said) and first_on_connection("RI206", STREAM, said)
    assert first_on_connection("RI241", STREAM, None)  # nothing shared: every one is said


def test_how_an_unended_attempt_and_a_frame_elsewhere_are_said() -> None:
    assert unended({}) == "no terminal message"
    text = unended({"capture": ["request", "response"]})
    assert text.startswith("no terminal message; request and response ")
    assert relative(_frame(R, 40, time=1.0032), _frame(S, 0, time=1.0)) == "+3.2 ms"
    assert relative(_frame(R, 40), _frame(S, 0)) == "offset 0x28"
