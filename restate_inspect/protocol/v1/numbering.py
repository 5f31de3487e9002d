"""Entry indexes of a V1-V3 attempt (sans-IO).

Entries are numbered from 0 in the order they were stored: the runtime replays entries
0 … known_entries-1 right after the StartMessage, and each new entry the SDK sends takes
the next index. Completions and acks name their entry by index.
"""

from __future__ import annotations

from typing import Any

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.location import Direction
from restate_inspect.protocol.v1.messages import COMPLETION, ENTRY_ACK, START, V3_TABLE


class EntryNumbering:
    """Gives each frame of one attempt its entry index, where it can be known.

    Feed it the frames of both directions in the order they happened (or the request
    before the response). Without a StartMessage the SDK's entries cannot be numbered.
    """

    def __init__(self) -> None:
        self._known_entries: int | None = None
        self._replayed = 0  # entries the runtime sent
        self._created = 0  # entries the SDK sent
        self._invocation_raw: bytes | None = None

    def number(self, frame: Frame) -> DecodedFrame:
        return DecodedFrame(frame, FrameContext(self._index(frame), self._invocation_raw))

    def _index(self, frame: Frame) -> int | None:
        message: Any = frame.message  # of the version's own schema: read by field name
        kind = frame.type
        if kind == START and message is not None:
            self._known_entries = message.known_entries
            self._invocation_raw = message.id
            return None
        if kind in (COMPLETION, ENTRY_ACK) and message is not None:
            return int(message.entry_index)
        if not V3_TABLE.is_entry(kind):
            return None
        if frame.direction is Direction.RUNTIME_TO_SDK:
            self._replayed += 1
            return self._replayed - 1
        if frame.direction is Direction.SDK_TO_RUNTIME:
            self._created += 1
            if self._known_entries is not None:
                return self._known_entries + self._created - 1
        return None


class StartOnly:
    """A version no family reads: only its StartMessage, which every version shares, tells
    which invocation the attempt is; no frame is numbered."""

    def __init__(self) -> None:
        self._invocation_raw: bytes | None = None

    def number(self, frame: Frame) -> DecodedFrame:
        message: Any = frame.message
        if frame.type == START and message is not None:
            self._invocation_raw = message.id
        return DecodedFrame(frame, FrameContext(None, self._invocation_raw))
