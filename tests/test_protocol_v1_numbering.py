"""Entry numbering of a V1-V3 attempt: replayed entries from 0, the SDK's new entries after
known_entries, each direction in its order."""

from __future__ import annotations

from restate_inspect.events import Frame
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.numbering import EntryNumbering
from tests.helpers import read_all as decode_all

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def _frames(direction: Direction | None, *wires: bytes) -> list[Frame]:
    events = decode_all(b"".join(wires), direction=direction)
    return [e for e in events if isinstance(e, Frame)]


REQUEST = _frames(
    RUNTIME,
    encode_frame(0x0000, pb.StartMessage(id=b"\x01" * 24, known_entries=2)),
    encode_frame(0x0400, pb.InputEntryMessage(value=b"{}")),
    encode_frame(0x0C00, pb.SleepEntryMessage(wake_up_time=5, empty=pb.Empty()), 0x0001),
    encode_frame(0x0001, pb.CompletionMessage(entry_index=3, value=b"1")),
    encode_frame(0x0004, pb.EntryAckMessage(entry_index=4)),
)

RESPONSE = _frames(
    SDK,
    encode_frame(0x0C01, pb.CallEntryMessage(service_name="s", handler_name="h")),
    encode_frame(0x0C05, pb.RunEntryMessage(value=b"2"), 0x8000),
    encode_frame(0xFC02, b"\x62\x01n"),  # a custom entry takes an index too
    encode_frame(0x0C0A, b""),  # so does an unknown type in an entry namespace
    encode_frame(0x0006, b""),  # not an unknown core message
    encode_frame(0x0005),
)


def test_request_then_response_numbering() -> None:
    numbering = EntryNumbering()
    indexes = [numbering.number(f).entry_index for f in REQUEST + RESPONSE]
    assert indexes == [None, 0, 1, 3, 4, 2, 3, 4, 5, None, None]


def test_the_invocation_id_is_known_after_the_start_message() -> None:
    numbering = EntryNumbering()
    contexts = [numbering.number(f).context for f in REQUEST[:2]]
    assert [c.invocation_raw for c in contexts] == [b"\x01" * 24, b"\x01" * 24]


def test_without_a_start_message_new_entries_have_no_index() -> None:
    numbering = EntryNumbering()
    assert [numbering.number(f).entry_index for f in RESPONSE[:2]] == [None, None]


def test_interleaved_directions_number_each_side_in_order() -> None:
    numbering = EntryNumbering()
    order = [REQUEST[0], REQUEST[1], RESPONSE[0], REQUEST[2], RESPONSE[1]]
    assert [numbering.number(f).entry_index for f in order] == [None, 0, 2, 1, 3]


def test_frames_without_direction_have_no_entry_index() -> None:
    numbering = EntryNumbering()
    (frame,) = _frames(None, encode_frame(0x0801, pb.SetStateEntryMessage(key=b"k")))
    assert numbering.number(frame).entry_index is None
