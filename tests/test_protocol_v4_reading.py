"""V4-V8 frames read by their version's table: round trips for every type of every version
(the fast path held equal to the checked one), split invariance, the findings of each kind,
and streams whose version was inferred."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from restate_inspect.events import Chunk, DecodedFrame, Frame, MessageType, RawFrame, StreamEnd
from restate_inspect.framing import decode_all, encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded, decode_events
from restate_inspect.protocol.v4._proto import v6_pb2, v7_pb2
from restate_inspect.protocol.v4.messages import TABLES
from restate_inspect.protocol.v4.reading import FrameReader, field_since, needs
from restate_inspect.rules import Problem
from tests.helpers import assert_split_invariant, read_all
from tests.strategies import messages

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
TYPED = [(v, spec) for v in (4, 5, 6, 7) for spec in TABLES[v].types if spec.cls is not None]


def _frames(events: list[Frame | Problem]) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def _codes(events: list[Frame | Problem]) -> list[str]:
    return [e.code for e in events if isinstance(e, Problem)]


@pytest.mark.parametrize(("version", "spec"), TYPED, ids=lambda x: getattr(x, "name", str(x)))
@settings(max_examples=10)  # 160 types: each a few shapes (and the corpus the real ones)
@given(data=st.data())
def test_every_type_of_every_version_round_trips(
    version: int, spec: MessageType, data: st.DataObject
) -> None:
    message: Message = data.draw(messages(spec))
    flags = data.draw(st.sampled_from(sorted({0, spec.allowed_flags})))
    events = read_all(encode_frame(spec.code, message, flags), version=version)
    assert _codes(events) == []
    (frame,) = _frames(events)
    assert (frame.message, frame.spec, frame.version, frame.flags) == (
        message,
        spec,
        version,
        flags,
    )
    # the fast path read it: the checked path must read it alike, a prefix of it too
    body = message.SerializeToString()
    body = body[: data.draw(st.integers(0, len(body)))]
    raw = RawFrame(StreamKey("s"), SDK, 0, spec.code, flags, len(body), body, None, None)
    reader = FrameReader(version)
    assert reader.read(raw) == reader._checked(raw)


def _stream(version: int | None, pieces: list[bytes]) -> list[Decoded]:
    key = StreamKey("s")
    chunks: list[Chunk | StreamEnd] = [Chunk(key, SDK, piece) for piece in pieces]
    return list(decode_events([*chunks, StreamEnd(key, SDK)], protocol_version=version))


@given(
    items=st.lists(st.sampled_from([(6, s) for v, s in TYPED if v == 6]), max_size=6),
    data=st.data(),
    seed=st.integers(0, 1000),
)
def test_v4_streams_are_split_invariant(
    items: list[tuple[int, MessageType]], data: st.DataObject, seed: int
) -> None:
    wire = b"".join(encode_frame(s.code, data.draw(messages(s)), 0) for _v, s in items)
    whole = assert_split_invariant(lambda pieces: _stream(6, pieces), wire, seed)
    assert len([d for d in whole if isinstance(d, DecodedFrame)]) == len(items)


@pytest.mark.parametrize(
    ("version", "code", "body", "flags", "expected"),
    [
        (6, 0x0006, b"", 0, ["RI106"]),  # AwaitingOn is V7's
        (7, 0x0200, b"", 0, ["RI106"]),  # ephemeral reads are V8's
        (8, 0x0200, b"\x08\x01", 0, []),  # known by name, read without a schema
        (6, 0x0403, b"", 0x0001, ["RI107"]),  # V1-V3's COMPLETED bit: reserved from V4
        (6, 0x8002, b"", 0x8000, ["RI107"]),  # REQUESTED_ACK on a notification
        (6, 0x0005, b"", 0x8000, ["RI107"]),  # ... on a run proposal before V7
        (7, 0x0005, b"", 0x8000, []),
        (6, 0x0800, b"", 0, ["RI105"]),  # V1-V3's GetStateEntry: no V4+ type
        (6, 0xFC01, b"\x08\x01", 0x8000, []),  # a custom type
        (6, 0xFC01, b"\x0a\x05ab", 0, ["RI109"]),
        (6, 0x0403, b"\x0a\x05ab", 0, ["RI109"]),
    ],
)
def test_findings_of_a_frame(
    version: int, code: int, body: bytes, flags: int, expected: list[str]
) -> None:
    events = read_all(encode_frame(code, body, flags), version=version)
    assert _codes(events) == expected
    (frame,) = _frames(events)
    assert frame.body == body and frame.version == version


def test_the_completed_bit_and_requested_ack_are_explained() -> None:
    (_frame, problem) = read_all(encode_frame(0x0403, b"", 0x8001), version=6)
    assert isinstance(problem, Problem) and "V1-V3 called it COMPLETED" in problem.message
    (_frame, problem) = read_all(encode_frame(0x8002, b"", 0x8000), version=6)
    assert isinstance(problem, Problem) and "REQUESTED_ACK is for commands" in problem.message


def _inferred(*frames: tuple[int, Message | bytes, int]) -> list[Frame | Problem]:
    """The frames read one after the other by the reader of a stream inferred as V5."""
    reader = FrameReader(None, inferred=5)
    out: list[Frame | Problem] = []
    offset = 0
    for code, message, flags in frames:
        wire = encode_frame(code, message, flags)
        (raw,) = decode_all(wire)
        assert isinstance(raw, RawFrame)
        frame, problems = reader.read(raw._replace(offset=offset))
        out += [frame, *problems]
        offset += len(wire)
    return out


def test_an_inferred_stream_is_labelled_by_what_it_has_shown() -> None:
    start = v7_pb2.StartMessage(id=b"x", random_seed=3)
    awaiting = v7_pb2.AwaitingOnMessage(awaiting_on=v7_pb2.Future(waiting_completions=[1]))
    events = _inferred(
        (0x0403, v7_pb2.SetStateCommandMessage(key=b"k"), 0),
        (0x0000, start, 0),
        (0x0006, awaiting, 0),
        (0x0005, v7_pb2.ProposeRunCompletionMessage(result_completion_id=1, value=b"1"), 0x8000),
    )
    frames = _frames(events)
    assert [f.version for f in frames] == [5, 6, 7, 7]
    raised = [e for e in events if isinstance(e, Problem)]
    assert [(p.code, p.offset) for p in raised] == [
        ("RI115", frames[1].offset),
        ("RI115", frames[2].offset),
    ]
    assert "read as V6 from here" in raised[0].message
    assert _frames(events)[1].message == start  # read with the schema that has it all


def test_an_inferred_suspension_is_read_in_its_own_shape() -> None:
    old = v6_pb2.SuspensionMessage(waiting_completions=[2], waiting_signals=[1])
    new = v7_pb2.SuspensionMessage(awaiting_on=v7_pb2.Future(waiting_signals=[1]))
    first, second = _frames(_inferred((0x0001, old, 0), (0x0001, new, 0)))
    assert first.message == old and first.version == 5
    assert second.message == new and second.version == 7
    (broken,) = _frames(_inferred((0x0001, b"\x22\x01", 0)))  # field 4 cut short
    assert broken.message is None


def test_when_fields_came() -> None:
    assert field_since("StartMessage", 9) == 6 and field_since("StartMessage", 12) == 7
    assert field_since("Failure", 3) == 6 and field_since("StartMessage.StateEntry", 1) == 4
    assert field_since("NoSuchMessage", 1) == 99 and field_since("StartMessage.Nope", 1) == 99
    assert needs(v7_pb2.StartMessage(id=b"x")) == 4
    failed = v7_pb2.OutputCommandMessage(
        failure=v7_pb2.Failure(code=1, metadata=[v7_pb2.FailureMetadata(key="k")])
    )
    assert needs(failed) == 6
    assert needs(v7_pb2.CallCommandMessage(scope="s")) == 7


def test_an_inferred_suspension_neither_shape_reads_is_kept_as_read() -> None:
    # field 1 as bytes: V7 reserves it (unknown, kept), V4-V6 want packed varints (cut)
    (frame,) = _frames(_inferred((0x0001, b"\x0a\x01\xff", 0)))
    assert frame.message is not None and frame.version == 5


def test_a_run_proposal_asking_for_an_ack_is_v7() -> None:
    proposal = v7_pb2.ProposeRunCompletionMessage(result_completion_id=1, value=b"1")
    events = _inferred(
        (0x0411, v7_pb2.RunCommandMessage(result_completion_id=1), 0), (0x0005, proposal, 0x8000)
    )
    assert [f.version for f in _frames(events)] == [5, 7]
