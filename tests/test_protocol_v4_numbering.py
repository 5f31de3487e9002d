"""Where each frame of a V4-V8 attempt stands: entry indexes through the replay, commands
counted replayed or new, and what cannot be counted."""

from __future__ import annotations

from restate_inspect.location import Direction
from restate_inspect.protocol.v4._proto import v7_pb2
from restate_inspect.protocol.v4.numbering import CommandNumbering
from tests.v4_frames import one_frame

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
ID = bytes(range(24))


WOKE = v7_pb2.SleepCompletionNotificationMessage(completion_id=1, void=v7_pb2.Void())
CANCEL = v7_pb2.SignalNotificationMessage(idx=1, void=v7_pb2.Void())


def test_numbering_replayed_entries_and_commands() -> None:
    numbering = CommandNumbering()
    frames = [
        one_frame(0x0400, v7_pb2.InputCommandMessage(), direction=SDK),  # no StartMessage yet
        one_frame(0x0000, v7_pb2.StartMessage(id=ID, known_entries=3), direction=RUNTIME),
        one_frame(0x0400, v7_pb2.InputCommandMessage(), direction=RUNTIME),
        one_frame(0x040C, v7_pb2.SleepCommandMessage(result_completion_id=1), direction=RUNTIME),
        one_frame(0x800C, WOKE, direction=RUNTIME),
        one_frame(0xFBFF, CANCEL, direction=RUNTIME),
        one_frame(0x0411, v7_pb2.RunCommandMessage(result_completion_id=2), direction=SDK),
        one_frame(
            0x0005, v7_pb2.ProposeRunCompletionMessage(result_completion_id=2), direction=SDK
        ),
        one_frame(0x0401, v7_pb2.OutputCommandMessage(), direction=SDK),
        one_frame(0x0401, v7_pb2.OutputCommandMessage(), direction=RUNTIME)._replace(
            direction=None
        ),
    ]
    places = [numbering.number(f).context for f in frames]
    assert [(c.entry_index, c.command_index) for c in places] == [
        (None, None),
        (None, None),
        (0, 0),
        (1, 1),
        (2, None),
        (None, None),  # after the replay: live
        (None, 2),
        (None, None),
        (None, 3),
        (None, None),  # no direction: not counted
    ]
    assert places[-1].invocation_raw == ID
