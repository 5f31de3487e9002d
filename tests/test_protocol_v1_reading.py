"""V1-V3 frames read by their version's table: the fast path held equal to the checked one,
and each finding the checked path makes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restate_inspect.events import MessageType, RawFrame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.messages import V2_TABLE, V3_TABLE, MessageTable
from restate_inspect.protocol.v1.reading import FrameReader
from tests.strategies import messages

TABLES = (V2_TABLE, V3_TABLE)
TYPED = [
    pytest.param(table, spec, id=f"V{table.version}-{spec.name}")
    for table in TABLES
    for spec in table.types
    if spec.cls is not None
]


def _raw(code: int, body: bytes, flags: int = 0) -> RawFrame:
    stream, direction = StreamKey("s"), Direction.SDK_TO_RUNTIME
    return RawFrame(stream, direction, 16, code, flags, len(body), body, 2.5, 7)


@pytest.mark.parametrize(("table", "spec"), TYPED)
@settings(max_examples=10)  # 48 types: each a few shapes (and the corpus the real ones)
@given(data=st.data())
def test_the_fast_path_reads_as_the_checked_path_does(
    table: MessageTable, spec: MessageType, data: st.DataObject
) -> None:
    """Any message of any type, with any flags and a body that may be cut: the same frame and
    the same findings, whichever path read it."""
    body = data.draw(messages(spec)).SerializeToString()
    body = body[: data.draw(st.integers(0, len(body)))]
    flags = data.draw(st.sampled_from([0, 0x0001, 0x8000, 0x8001, 0x0400]))
    reader = FrameReader(table, table.version)
    raw = _raw(spec.code, body, flags)
    assert reader.read(raw) == reader._checked(raw)


def _codes(table: MessageTable, code: int, body: bytes, flags: int = 0) -> list[str]:
    _frame, problems = FrameReader(table, table.version).read(_raw(code, body, flags))
    assert all(
        (p.stream, p.direction) == (StreamKey("s"), Direction.SDK_TO_RUNTIME) for p in problems
    )
    return [p.code for p in problems]


def test_each_finding_of_a_frame() -> None:
    sleep = pb.SleepEntryMessage(wake_up_time=1).SerializeToString()
    assert _codes(V2_TABLE, 0x0C00, sleep, 0x0001) == []  # a sleep may be completed
    assert _codes(V2_TABLE, 0x0C77, b"") == ["RI105"]  # no such type
    assert _codes(V2_TABLE, 0x0005, b"", 0x0001) == ["RI108"]  # an End is not completable
    assert _codes(V2_TABLE, 0x0005, b"", 0x0400) == ["RI107"]  # a reserved bit
    assert _codes(V2_TABLE, 0x0C00, b"\xff") == ["RI109"]  # a body that does not parse
    assert _codes(V2_TABLE, 0xFC00, b"\x6a\x01x") == ["RI110"]  # field 13: a result's
    assert _codes(V2_TABLE, 0xFC00, b"\x62\x01x\x0a\x00") == []  # its name, and its own
    v3_only = next(spec for spec in V3_TABLE.types if spec.min_version == 3)
    assert "RI106" in _codes(V2_TABLE, v3_only.code, b"")
    assert "RI106" not in _codes(V3_TABLE, v3_only.code, b"")
