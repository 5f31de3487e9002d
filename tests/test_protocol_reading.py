"""What both families' readers share: the fast path's refusals, a body's parse and its
finding, and where the findings of a frame point."""

from __future__ import annotations

from restate_inspect.events import HEADER_SIZE, RawFrame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.reading import fast_path, parse_body, read_fast, unknown_type
from restate_inspect.protocol.v4._proto import v6_pb2
from restate_inspect.protocol.v4.messages import TABLES

TABLE = TABLES[6]
FAST = fast_path(TABLE.types)
SLEEP = v6_pb2.SleepCommandMessage(wake_up_time=5, result_completion_id=1)


def _raw(code: int, body: bytes, flags: int = 0) -> RawFrame:
    return RawFrame(
        StreamKey("s"), Direction.SDK_TO_RUNTIME, 40, code, flags, len(body), body, None, None
    )


def test_the_fast_path_reads_typed_frames_and_leaves_the_rest_to_the_checked_one() -> None:
    assert read_fast(FAST, _raw(0x040C, SLEEP.SerializeToString(), 0x8000)) == (
        SLEEP,
        TABLE.by_code[0x040C],
    )
    assert read_fast(FAST, _raw(0x040C, SLEEP.SerializeToString(), 0x0001)) is None  # a flag
    assert read_fast(FAST, _raw(0x040C, b"\xff")) is None  # a body that does not parse
    assert read_fast(FAST, _raw(0xFC01, b"")) is None  # no schema
    assert 0xFC01 not in FAST and all(spec.cls is not None for *_, spec in FAST.values())


def test_a_body_without_a_schema_is_still_checked_to_be_protobuf() -> None:
    custom = TABLE.lookup(0xFC01)
    assert custom is not None
    assert parse_body(_raw(0xFC01, b"\x08\x01"), custom) == (None, None)
    message, problem = parse_body(_raw(0xFC01, b"\x08"), custom)  # a varint cut short
    assert message is None and problem is not None
    assert (problem.code, problem.offset, problem.length) == ("RI109", 40 + HEADER_SIZE, 1)
    assert problem.message.startswith("body of CustomMessage (1 byte) does not parse")


def test_an_unknown_type_points_at_its_whole_frame_in_its_stream() -> None:
    problem = unknown_type(_raw(0x0777, b"abc"))
    assert (problem.code, problem.offset, problem.length) == ("RI105", 40, HEADER_SIZE + 3)
    assert (problem.stream, problem.direction) == (StreamKey("s"), Direction.SDK_TO_RUNTIME)
    assert problem.message == "unknown message type 0x0777"
