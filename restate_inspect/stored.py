"""Journal dumps read as frames (sans-IO): each sys_journal row becomes the frame the
runtime would replay, its header rebuilt from `entry_type` (and, for V1-V3 journals, the
COMPLETED flag from `completed`), read by the family of its journal format. The version is
the invocation's pinned one (from sys_invocation) when it is given; else the family's
latest, and that is said once (RI115)."""

from __future__ import annotations

from typing import Final

from restate_inspect.events import HEADER_SIZE, RawFrame, StoredJournal, StoredRow
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol import Family, family_of
from restate_inspect.protocol.v1 import FAMILY as V1
from restate_inspect.protocol.v4 import FAMILY as V4
from restate_inspect.rules import Problem

# the version a journal format is read as when no sys_invocation row tells the pinned one
LATEST_OF_FORMAT: Final = {1: 3, 2: 7}
_FAMILY_OF_FORMAT: Final[dict[int, Family]] = {1: V1, 2: V4}


class StoredFrames:
    """The frames of the journals of a dump, invocation by invocation."""

    def __init__(self) -> None:
        self._offsets: dict[StreamKey, int] = {}
        self._families: dict[StreamKey, Family] = {}
        self._told_latest = False

    def version_of(self, journal: StoredJournal) -> tuple[int, list[Problem]]:
        """The version to read an invocation's rows as, and what must be said about it."""
        family = _FAMILY_OF_FORMAT.get(journal.journal_format, V4)
        pinned = (journal.facts or {}).get("pinned_service_protocol_version")
        self._offsets[journal.stream] = 0
        if isinstance(pinned, int) and family_of(pinned) is family:
            self._families[journal.stream] = family
            return pinned, []
        version = LATEST_OF_FORMAT[2 if family is V4 else 1]
        self._families[journal.stream] = family
        if self._told_latest:
            return version, []
        self._told_latest = True
        text = (
            f"journal format {journal.journal_format} rows read as V{version} "
            f"({'V4+' if family is V4 else 'V1-V3'} family), its latest: no sys_invocation row "
            "told the invocations' pinned_service_protocol_version (--invocations FILE, or "
            "--admin, tells it)"
        )
        return version, [Problem("RI115", text, None, None, stream=journal.stream)]

    def frame(self, row: StoredRow) -> RawFrame | Problem:
        """The row's frame, or why there is none."""
        family = self._families.get(row.stream, V4)
        code = family.stored_type(row.entry_type)
        if code is None:
            text = (
                f"row {row.row} ({row.stream} entry {row.entry_index}): entry_type "
                f"{row.entry_type!r} is no {family.name} message"
            )
            return Problem("RI009", text, None, None, stream=row.stream, line=row.row)
        offset = self._offsets.get(row.stream, 0)
        self._offsets[row.stream] = offset + HEADER_SIZE + len(row.body)
        flags = family.stored_flags(row.completed)
        return RawFrame(row.stream, Direction.RUNTIME_TO_SDK, offset, code, flags,
                        len(row.body), row.body, row.time, None, row.row)  # fmt: skip

    def forget(self, stream: StreamKey) -> None:
        self._offsets.pop(stream, None)
        self._families.pop(stream, None)
