"""The protocol-family seam: which family reads a version, and what it answers for frames
of versions no family reads."""

from __future__ import annotations

from restate_inspect.events import READ_VERSIONS, Frame, FrameContext
from restate_inspect.framing import encode_frame
from restate_inspect.protocol import (
    FAMILIES,
    HeaderOnly,
    ending_of,
    family_of,
    flag_names,
    hints_for,
    interpreted,
    message_notes,
    not_interpreted,
    numbering_for,
    reader_for,
)
from restate_inspect.protocol.v1 import FAMILY as V1
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v4 import FAMILY as V4
from tests.helpers import read_all


def test_each_version_is_read_by_one_family_and_unknown_ones_by_none() -> None:
    assert family_of(None) is None  # not known: no family reads it until it is inferred
    assert [family_of(v) for v in (1, 2, 3)] == [V1, V1, V1]
    assert [family_of(v) for v in (4, 5, 6, 7, 8)] == [V4] * 5
    assert family_of(9) is None and not interpreted(9) and interpreted(2)
    assert frozenset().union(*(f.versions for f in FAMILIES)) == READ_VERSIONS
    assert isinstance(reader_for(9), HeaderOnly)
    assert not_interpreted(9) == "not interpreted (protocol V9)"


def test_flags_and_types_of_a_version_no_family_reads_are_named_by_their_bits() -> None:
    assert flag_names(2, 0x8001) == ["REQUIRES_ACK", "COMPLETED"]
    assert flag_names(6, 0x8001) == ["REQUESTED_ACK", "0x0001"]
    assert flag_names(9, 0x8001) == flag_names(None, 0x8001) == ["0x8000", "0x0001"]
    hints = hints_for(None)
    assert hints.describe(0x0C01) == "type 0x0c01"  # V1-V3's CallEntry, a V4+ custom type
    assert hints.plausible(0x0C01, 0x8001) and hints.plausible(0x8002, 0)  # either family's
    assert not hints.plausible(0x0000, 0) and not hints.plausible(0x7777, 0)


def test_frames_of_such_a_version_show_only_their_start_message() -> None:
    start = pb.StartMessage(id=b"\x01" * 24)
    first, end = read_all(encode_frame(0x0000, start) + encode_frame(0x0003), version=9)
    assert isinstance(first, Frame) and isinstance(end, Frame)
    notes: dict[str, object] = {}
    message_notes(first, FrameContext(), notes)
    assert "invocation_id" in notes
    assert ending_of(end) is None and ending_of(first) is None
    numbering = numbering_for(9)
    assert numbering.number(end).context.invocation_raw is None
    numbering.number(first)
    assert numbering.number(end).context == FrameContext(None, b"\x01" * 24)


def test_notes_of_frames_no_family_reads() -> None:
    start, end = read_all(encode_frame(0x0000, b"\xff") + encode_frame(0x0003), version=9)
    for frame in (start, end):
        assert isinstance(frame, Frame)
        notes: dict[str, object] = {}
        message_notes(frame, FrameContext(), notes)
        assert notes == {}
