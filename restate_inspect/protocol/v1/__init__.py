"""The V1-V3 family: journal entries, completions by entry index, acks."""

from __future__ import annotations

from typing import Any, Final

from restate_inspect.events import Frame, FrameContext
from restate_inspect.location import StreamKey
from restate_inspect.protocol.reading import TableHints
from restate_inspect.protocol.v1.entries import VIEW
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.messages import (
    COMPLETED,
    END,
    ERROR,
    SUSPENSION,
    V2_TABLE,
    V3_TABLE,
    VERSIONS,
    flag_names,
    table,
)
from restate_inspect.protocol.v1.notes import MESSAGE_NOTES
from restate_inspect.protocol.v1.numbering import EntryNumbering
from restate_inspect.protocol.v1.reading import FrameReader

_BY_NAME: Final = {t.name: t.code for t in V3_TABLE.types}


class V1Family:
    name: Final = "v1"
    versions: Final = frozenset(VERSIONS)
    hints: Final = TableHints(V2_TABLE.by_code, V3_TABLE.lookup)
    journal_type: Final = AttemptJournal
    view: Final = VIEW

    @staticmethod
    def journal(stream: StreamKey | None) -> AttemptJournal:
        return AttemptJournal(stream)

    @staticmethod
    def stored_type(entry_type: str) -> int | None:
        """sys_journal's entry_type of a V1-V3 journal (`Call`, `GetState`): its code."""
        return _BY_NAME.get(entry_type + "EntryMessage")

    @staticmethod
    def stored_flags(completed: bool) -> int:
        return COMPLETED if completed else 0

    @staticmethod
    def reader(version: int | None, *, told: bool = True) -> FrameReader:
        return FrameReader(table(version), version)

    @staticmethod
    def flag_names(flags: int) -> list[str]:
        return flag_names(flags)

    @staticmethod
    def numbering() -> EntryNumbering:
        return EntryNumbering()

    @staticmethod
    def message_notes(frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None:
        note = MESSAGE_NOTES.get(frame.type)
        if note is not None and frame.message is not None:
            note(frame.message, context, notes)

    @staticmethod
    def ending_of(frame: Frame) -> str | None:
        message: Any = frame.message
        if message is None:
            return None
        if frame.type == END:
            return "end"
        if frame.type == SUSPENSION:
            return "suspended on " + ",".join(map(str, message.entry_indexes))
        if frame.type == ERROR:
            return f"error {message.code}"
        return None


FAMILY: Final = V1Family()
