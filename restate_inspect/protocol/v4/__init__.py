"""The V4-V8 family: commands and notifications, completion ids, signals."""

from __future__ import annotations

from typing import Any, Final

from restate_inspect.events import Frame, FrameContext
from restate_inspect.location import StreamKey
from restate_inspect.protocol.reading import TableHints
from restate_inspect.protocol.v4.entries import VIEW
from restate_inspect.protocol.v4.journal import AttemptJournal
from restate_inspect.protocol.v4.messages import (
    END,
    ERROR,
    LATEST,
    SUSPENSION,
    VERSIONS,
    flag_names,
)
from restate_inspect.protocol.v4.notes import awaiting_text, error_ending, message_notes
from restate_inspect.protocol.v4.numbering import CommandNumbering
from restate_inspect.protocol.v4.reading import FrameReader

_BY_NAME: Final = {t.name: t.code for t in LATEST.types}


class V4Family:
    name: Final = "v4"
    versions: Final = frozenset(VERSIONS)
    hints: Final = TableHints(LATEST.by_code, LATEST.lookup)
    journal_type: Final = AttemptJournal
    view: Final = VIEW

    @staticmethod
    def journal(stream: StreamKey | None) -> AttemptJournal:
        return AttemptJournal(stream)

    @staticmethod
    def stored_type(entry_type: str) -> int | None:
        """sys_journal's entry_type of a journal v2: `Command: Call`, `Notification: Call`,
        `Notification: CallInvocationId`, `Notification: Signal`: its code."""
        kind, _, name = entry_type.partition(": ")
        suffix = {"Command": "CommandMessage", "Notification": "CompletionNotificationMessage"}
        if name == "Signal" and kind == "Notification":
            return _BY_NAME.get("SignalNotificationMessage")
        return _BY_NAME.get(name + suffix[kind]) if kind in suffix else None

    @staticmethod
    def stored_flags(completed: bool) -> int:
        return 0  # a V4+ journal keeps no flags

    @staticmethod
    def reader(version: int | None, *, told: bool = True) -> FrameReader:
        if told or version is None:
            return FrameReader(version)
        return FrameReader(None, inferred=version)

    @staticmethod
    def flag_names(flags: int) -> list[str]:
        return flag_names(flags)

    @staticmethod
    def numbering() -> CommandNumbering:
        return CommandNumbering()

    @staticmethod
    def message_notes(frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None:
        message_notes(frame, context, notes)

    @staticmethod
    def ending_of(frame: Frame) -> str | None:
        message: Any = frame.message
        if message is None:
            return None
        if frame.type == END:
            return "end"
        if frame.type == SUSPENSION:
            return "suspended on " + awaiting_text(message)
        if frame.type == ERROR:
            return error_ending(message)
        return None


FAMILY: Final = V4Family()
