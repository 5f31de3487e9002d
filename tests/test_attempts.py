"""Attempts built from the pipeline's items: handed on as their streams end, the ones the
capture cut after them; problems that come first kept; copies told apart by fingerprint."""

from __future__ import annotations

from restate_inspect.attempts import Built, Finished, finished_attempts
from restate_inspect.events import Chunk, Discovery, InputEvent, StreamEnd, StreamInfo
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.rules import Problem
from tests.helpers import SAMPLES

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
REQUEST = (SAMPLES / "v6-call-other.req.bin").read_bytes()
RESPONSE = (SAMPLES / "v6-call-other.resp.bin").read_bytes()
V6 = (("content-type", "application/vnd.restate.invocation.v6"),)


def _info(stream: StreamKey, kind: str = "invocation", packet: int = 1) -> StreamInfo:
    return StreamInfo(stream, kind, "a:1 -> b:9080", "HTTP/2", 1.0, packet,
                      "POST", "/invoke/S/h", V6)  # fmt: skip


def _conversation(
    stream: StreamKey, packet: int, *, response: bytes = RESPONSE, ended_by: int | None = 99
) -> list[InputEvent]:
    """A stream's head and both bodies, whose ends packet `ended_by` read (None: the
    capture's end)."""
    return [
        _info(stream, packet=packet),
        Chunk(stream, RUNTIME, REQUEST, 2.0, packet),
        Chunk(stream, SDK, response, 3.0, packet + 1),
        StreamEnd(stream, RUNTIME, packet=ended_by),
        StreamEnd(stream, SDK, packet=ended_by),
    ]


def _built(events: list[InputEvent]) -> list[Built]:
    return list(finished_attempts(decode_events(events)))


def _streams(built: list[Built]) -> list[StreamKey | None]:
    return [b.attempt.stream for b in built if isinstance(b, Finished)]


ONE, TWO, THREE, FOUR = (StreamKey("tcp0", f"s{n}") for n in (1, 3, 5, 7))


def test_attempts_come_as_their_streams_end_and_those_the_capture_cut_last() -> None:
    """Those the capture's end ended, and those still open then, come after the rest, in
    the order they began."""
    cut = _conversation(ONE, 3, ended_by=None)  # ended by the capture's end, first
    first, second = _conversation(TWO, 5), _conversation(THREE, 9)
    still_open = _conversation(FOUR, 1)[:3]  # began first; never ended
    events = [*still_open, *cut[:3], *second[:3], *first[:3], *cut[3:], *first[3:], *second[3:]]
    built = _built(events)
    assert _streams(built) == [TWO, THREE, FOUR, ONE]
    assert all(b.attempt.invocation_id for b in built if isinstance(b, Finished))


def test_only_restate_streams_are_attempts_and_the_rest_passes_on() -> None:
    other = StreamKey("tcp1", "s1")
    capture_wide = Problem("RI004", "truncated packet", None, None)
    discovery = Discovery(StreamKey("tcp2", "s1"), b"{}")
    events: list[InputEvent] = [
        _info(other, kind="other"),
        Chunk(other, RUNTIME, REQUEST),
        capture_wide,
        discovery,
        *_conversation(ONE, 3),
    ]
    built = _built(events)
    assert [b for b in built if not isinstance(b, Finished)] == [capture_wide, discovery]
    assert _streams(built) == [ONE]


def test_a_problem_before_the_version_is_known_is_kept_in_the_attempt() -> None:
    early = Problem("RI101", "cut", 0, 3, stream=ONE, direction=RUNTIME)
    (finished,) = _built([early, *_conversation(ONE, 3)])
    assert isinstance(finished, Finished)
    assert early in [moment.item for moment in finished.attempt.timeline]


def test_copies_share_a_fingerprint_and_the_frames_times_are_the_span() -> None:
    built = _built([*_conversation(ONE, 3), *_conversation(TWO, 7), *_conversation(THREE, 11,
                   response=RESPONSE[:-8])])  # fmt: skip
    one, two, three = (b for b in built if isinstance(b, Finished))
    assert one.fingerprint == two.fingerprint and len(one.fingerprint) == 8
    assert three.fingerprint != one.fingerprint  # its response lost its last frame
    assert one.span == (2.0, 3.0)


def test_a_file_makes_an_attempt_when_the_input_ends_and_an_empty_one_none() -> None:
    file = StreamKey("call.bin")
    (finished,) = _built([Chunk(file, RUNTIME, REQUEST), StreamEnd(file, RUNTIME)])
    assert isinstance(finished, Finished) and finished.info is None
    assert finished.attempt.protocol_version is None  # nothing told it: inferred
    assert _built([Chunk(file, RUNTIME, b""), StreamEnd(file, RUNTIME)]) == []
