"""Replays: V1-V3 entries compared as the SDKs compare them when an attempt replays."""

from __future__ import annotations

from restate_inspect.events import Frame
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.replay import comparable
from tests.helpers import read_all as decode_all

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def _frames(direction: Direction | None, *wires: bytes) -> list[Frame]:
    events = decode_all(b"".join(wires), direction=direction)
    return [e for e in events if isinstance(e, Frame)]


def test_entries_compare_as_the_sdks_compare_them_on_replay() -> None:
    def one(wire: bytes) -> bytes | None:
        (frame,) = _frames(SDK, wire)
        return comparable(frame)

    sent = pb.OneWayCallEntryMessage(service_name="s", handler_name="h", invoke_time=5)
    replayed = pb.OneWayCallEntryMessage(service_name="s", handler_name="h", invoke_time=9)
    assert one(encode_frame(0x0C02, sent)) == one(encode_frame(0x0C02, replayed))
    keys = pb.GetStateKeysEntryMessage(value=pb.GetStateKeysEntryMessage.StateKeys(keys=[b"a"]))
    assert one(encode_frame(0x0804, keys, 0x0001)) == one(encode_frame(0x0804, b""))
    call = pb.CallEntryMessage(service_name="s", handler_name="h", value=b"1")
    assert one(encode_frame(0x0C01, call, 1)) == one(
        encode_frame(0x0C01, pb.CallEntryMessage(service_name="s", handler_name="h"))
    )
    assert one(encode_frame(0x0C05, pb.RunEntryMessage(value=b"1"))) != one(
        encode_frame(0x0C05, pb.RunEntryMessage(value=b"2"))
    )
    assert one(encode_frame(0xFC00, b"\x08\x01")) == b"\x08\x01"  # no schema: the bytes
