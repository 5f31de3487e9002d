"""A V1-V3 conversation with one frame of every type, as an attempt journal reads it, and
lone attempts of a few frames: what the tests of V1 summaries, notes and entries look at."""

from __future__ import annotations

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.numbering import EntryNumbering
from restate_inspect.values import awakeable_id
from tests.helpers import read_all

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME

ID = bytes(range(24))

STATE_KEYS = pb.GetStateKeysEntryMessage.StateKeys(keys=[b"a", b"b"]).SerializeToString()

FAILURE = pb.Failure(code=570, message="mismatch")
TRACEBACK = 'Traceback (most recent call last):\n  File "app.py", line 9\nboom'  # Python, V2

# (direction, type, message, flags), in the order of the conversation; times 1 s apart
CONVERSATION: list[tuple[Direction, int, object, int]] = [
    (RUNTIME, 0x0000, pb.StartMessage(id=ID, debug_id="inv_1x", known_entries=2, key="k",
                                      retry_count_since_last_stored_entry=2,
                                      duration_since_last_stored_entry=1500), 0),
    (RUNTIME, 0x0400, pb.InputEntryMessage(value=b'{"a":1}'), 0),
    (RUNTIME, 0x0C03, pb.AwakeableEntryMessage(value=b"1"), 0x0001),
    (SDK, 0x0800, pb.GetStateEntryMessage(key=b"k", empty=pb.Empty()), 0x0001),
    (SDK, 0x0801, pb.SetStateEntryMessage(key=b"k", value=b'"v"'), 0),
    (SDK, 0x0802, pb.ClearStateEntryMessage(key=b"k"), 0),
    (SDK, 0x0803, pb.ClearAllStateEntryMessage(), 0),
    (SDK, 0x0804, pb.GetStateKeysEntryMessage(), 0),
    (SDK, 0x0808, pb.GetPromiseEntryMessage(key="p"), 0),
    (SDK, 0x0809, pb.PeekPromiseEntryMessage(key="p", empty=pb.Empty()), 0x0001),
    (SDK, 0x080A, pb.CompletePromiseEntryMessage(key="p", completion_value=b"1"), 0),
    (SDK, 0x080A, pb.CompletePromiseEntryMessage(key="q", completion_failure=FAILURE), 0),
    (SDK, 0x0C00, pb.SleepEntryMessage(wake_up_time=1_000_000, name="nap"), 0),
    (SDK, 0x0C01, pb.CallEntryMessage(service_name="S", handler_name="h", key="o",
                                      parameter=b"1"), 0),
    (SDK, 0x0C02, pb.OneWayCallEntryMessage(service_name="S", handler_name="h", key="o",
                                            parameter=b"2", invoke_time=2_000_000), 0),
    (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id=awakeable_id(ID, 2), value=b"3"), 0),
    (SDK, 0x0C05, pb.RunEntryMessage(name="step", value=b"4"), 0x8000),
    (RUNTIME, 0x0004, pb.EntryAckMessage(entry_index=15), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=6, value=STATE_KEYS), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=7, failure=FAILURE), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=12, value=b"x" * 80), 0),
    (SDK, 0x0401, pb.OutputEntryMessage(value=b"\xff"), 0),
    (SDK, 0x0003, pb.ErrorMessage(code=500, message=TRACEBACK, related_entry_index=12,
                                  next_retry_delay=200), 0),
]  # fmt: skip


def conversation() -> tuple[AttemptJournal, list[DecodedFrame]]:
    attempt, numbering, decoded = AttemptJournal(StreamKey("t")), EntryNumbering(), []
    for second, (direction, kind, message, flags) in enumerate(CONVERSATION):
        (frame,) = read_all(encode_frame(kind, message, flags), direction=direction)  # type: ignore[arg-type]
        assert isinstance(frame, Frame)
        item = numbering.number(frame._replace(time=float(second)))
        attempt.add(item)
        decoded.append(item)
    attempt.finish()
    return attempt, decoded


ATTEMPT, DECODED = conversation()


def lone(*items: tuple[Direction, int, object, int]) -> AttemptJournal:
    attempt, numbering = AttemptJournal(StreamKey("lone")), EntryNumbering()
    for direction, kind, message, flags in items:
        (frame,) = read_all(encode_frame(kind, message, flags), direction=direction)  # type: ignore[arg-type]
        assert isinstance(frame, Frame)
        attempt.add(numbering.number(frame))
    attempt.finish()
    return attempt
