"""The journal of an invocation attempt (sans-IO).

Entries are numbered from 0 in the order they were stored: the runtime replays entries
0 … known_entries-1 right after the StartMessage, and each new entry the SDK sends takes
the next index. Completions and acks name their entry by index.
"""

from __future__ import annotations

from typing import NamedTuple

from restate_inspect._proto import protocol_pb2 as pb
from restate_inspect.annotations import FrameContext
from restate_inspect.framing import Frame
from restate_inspect.location import Direction
from restate_inspect.messages import Namespace, lookup

FIRST_ENTRY_TYPE = 0x0400  # every type from the I/O namespace up is a journal entry


class DecodedFrame(NamedTuple):
    """A frame with what its place in the conversation tells about it (a NamedTuple, like
    Frame: one is made per frame)."""

    frame: Frame
    context: FrameContext

    @property
    def entry_index(self) -> int | None:
        return self.context.entry_index


def is_entry(type_code: int) -> bool:
    spec = lookup(type_code)
    return spec.namespace is not Namespace.CORE if spec else type_code >= FIRST_ENTRY_TYPE


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
        message = frame.message
        if isinstance(message, pb.StartMessage):
            self._known_entries = message.known_entries
            self._invocation_raw = message.id
            return None
        if isinstance(message, pb.CompletionMessage | pb.EntryAckMessage):
            return message.entry_index
        if not is_entry(frame.type):
            return None
        if frame.direction is Direction.RUNTIME_TO_SDK:
            self._replayed += 1
            return self._replayed - 1
        if frame.direction is Direction.SDK_TO_RUNTIME:
            self._created += 1
            if self._known_entries is not None:
                return self._known_entries + self._created - 1
        return None
