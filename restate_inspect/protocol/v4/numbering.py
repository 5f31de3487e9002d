"""Where each frame of a V4-V8 attempt stands (sans-IO).

The runtime replays the stored journal right after the StartMessage: known_entries
commands and notifications in stored order, so each of them has its entry index. Commands
are counted apart (Input is command 0), replayed or new: ErrorMessage and CommandAck name a
command by that count. What comes live (the SDK's new commands, the runtime's notifications)
is stored in an order the wire does not tell, so it has no entry index here.
"""

from __future__ import annotations

from typing import Any

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.location import Direction
from restate_inspect.protocol.v4.messages import START, is_command, is_notification


class CommandNumbering:
    def __init__(self) -> None:
        self._known_entries: int | None = None
        self._replayed = 0  # journal messages the runtime replayed
        self._commands = 0  # commands seen, replayed or new
        self._invocation_raw: bytes | None = None

    def number(self, frame: Frame) -> DecodedFrame:
        entry, command = self._places(frame)
        return DecodedFrame(frame, FrameContext(entry, self._invocation_raw, command))

    def _places(self, frame: Frame) -> tuple[int | None, int | None]:
        message: Any = frame.message
        kind = frame.type
        if kind == START and message is not None:
            self._known_entries = message.known_entries
            self._invocation_raw = message.id
            return None, None
        command = is_command(kind)
        if not command and not is_notification(kind):
            return None, None
        entry = None
        if frame.direction is Direction.RUNTIME_TO_SDK and self._replaying:
            entry, self._replayed = self._replayed, self._replayed + 1
        if not command or frame.direction is None:
            return entry, None
        if self._known_entries is None and frame.direction is Direction.SDK_TO_RUNTIME:
            return entry, None  # without the replay, the SDK's commands cannot be counted
        self._commands += 1
        return entry, self._commands - 1

    @property
    def _replaying(self) -> bool:
        return self._known_entries is not None and self._replayed < self._known_entries
