"""The journal of a V1-V3 invocation attempt (sans-IO).

Entries are numbered from 0 in the order they were stored (numbering.py); completions and
acks name their entry by index. AttemptJournal follows one attempt's conversation, frame by
frame in the order it happened, and checks it against the protocol's rules as it goes
(rules.py, RI2xx). Messages are of the schema of the attempt's version, so they are told
apart by their type code and read by their fields' names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from restate_inspect.events import DecodedFrame, Frame, MessageType
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.attempt import RUNTIME, SDK, SDK_ENDING, Attempt
from restate_inspect.protocol.timeline import Fact, Linkable, Moment, stored_ending
from restate_inspect.protocol.v1.conditions import BEFORE_FIRST_ENTRY
from restate_inspect.protocol.v1.messages import (
    AWAKEABLE,
    COMPLETE_AWAKEABLE,
    COMPLETED,
    COMPLETION,
    END,
    ENTRY_ACK,
    ERROR,
    LINKABLE,
    OUTPUT,
    REQUIRES_ACK,
    START,
    SUSPENSION,
    V3_TABLE,
    VERSIONS,
)
from restate_inspect.protocol.v1.replay import comparable
from restate_inspect.protocol.v1.rules import check
from restate_inspect.protocol.verdict import unended_text
from restate_inspect.values import (
    invocation_id_text,
    parse_awakeable_id,
)

SWAPPED: Final = "; the response begins with a StartMessage: are --request and --response swapped?"


# --- the attempt --------------------------------------------------------------------------


@dataclass
class Entry:
    """A journal entry as this attempt saw it, and what happened to it."""

    index: int
    frame: Frame
    replayed: bool  # sent by the runtime (stored earlier), or created by the SDK now
    spec: MessageType | None
    completed_by: str | None = None  # "entry" (it came completed) or "completion"
    completion: Frame | None = None
    ack: Frame | None = None
    links: list[str] = field(default_factory=list)  # to entries of other invocations
    # a digest of what a replay of it must carry (comparable()), made when first asked for
    replay_key: bytes | None = None

    def comparable_key(self) -> bytes:
        """replay_key, made now if it was not: most entries are never compared (an
        invocation that ends in its first attempt replays nothing of it again)."""
        if self.replay_key is None:
            self.replay_key = hashlib.blake2b(comparable(self.frame), digest_size=16).digest()
        return self.replay_key

    @property
    def linkable(self) -> bool:
        """May it be linked to an entry of another invocation (an awakeable and the entry
        that completes it), when that one's attempt ends?"""
        return self.frame.type in LINKABLE

    @property
    def completable(self) -> bool:
        return bool(self.spec and self.spec.completable)

    @property
    def completed(self) -> bool:
        return self.completed_by is not None

    @property
    def requires_ack(self) -> bool:
        return bool(self.frame.flags & REQUIRES_ACK)

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else f"0x{self.frame.type:04x}"

    @property
    def entry_name(self) -> str:
        """The name user code gave the entry (field 12), if any."""
        message = self.frame.message
        return str(getattr(message, "name", "") or "") if message is not None else ""


class AttemptJournal(Attempt):
    """One V1-V3 attempt: feed it the stream's decoded frames in order, then finish() it."""

    versions: ClassVar[frozenset[int]] = frozenset(VERSIONS)

    def __init__(self, stream: StreamKey | None) -> None:
        super().__init__(stream)
        self.entries: dict[int, Entry] = {}
        self.suspended_on: tuple[int, ...] = ()

    @property
    def ending_text(self) -> str:
        """How the attempt ended, in a few words: end, suspended on #1, error 500, ..."""
        if self.stored_journal is not None:
            output = next((e.frame.message for e in self.entries.values()
                           if e.frame.type == OUTPUT), None)  # fmt: skip
            open_ = [e for e in self.entries.values() if e.completable and not e.completed]
            waiting = [f"#{e.index} {e.name.removesuffix('EntryMessage')}" for e in open_]
            return stored_ending(output, waiting, self.stored_journal)
        if self.ending == "suspension":
            return "suspended on " + ", ".join(f"#{i}" for i in self.suspended_on)
        if self.ending == "error" and self.error is not None:
            return f"error {self.error.code}"
        if self.outcome == "failed":
            return f"failed {self.failure.code}"
        if self.protocol_version is not None and not self.interpreted:
            return f"not interpreted (protocol V{self.protocol_version})"
        return self.ending or unended_text(self)

    # --- reading frames: the rules first (rules.py), on the attempt as it was -----------

    def _read(self, decoded: DecodedFrame, moment: Moment) -> None:
        check(self, decoded, moment)
        if decoded.frame.direction is RUNTIME:
            self._from_runtime(decoded)
            self._began = True
        elif self.end_frame is None:  # after the end, nothing the SDK sends counts
            self._from_sdk(decoded)

    def _from_runtime(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        message: Any = frame.message
        if V3_TABLE.is_entry(frame.type):
            self.replayed += 1
            self._record(decoded, replayed=True)
        elif message is None:
            return
        elif frame.type == START and self.start is None:
            self._started(message, frame)
        elif frame.type == COMPLETION:
            entry = self.entries.get(message.entry_index)
            if entry is not None and entry.completable and not entry.completed:
                entry.completed_by, entry.completion = "completion", frame
        elif frame.type == ENTRY_ACK:
            entry = self.entries.get(message.entry_index)
            if entry is not None and entry.requires_ack and entry.ack is None:
                entry.ack = frame

    def _from_sdk(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        message: Any = frame.message
        if V3_TABLE.is_entry(frame.type):
            if frame.type == OUTPUT and message is not None and message.HasField("failure"):
                self.failure = message.failure
            self._record(decoded, replayed=False)
        elif message is None:
            return
        elif frame.type == SUSPENSION:
            self.ending, self.end_frame = "suspension", frame
            self.suspended_on = tuple(message.entry_indexes)
        elif frame.type == ERROR:
            self.ending, self.end_frame, self.error = "error", frame, message
        elif frame.type == END:
            self.ending, self.end_frame = "end", frame

    def _record(self, decoded: DecodedFrame, *, replayed: bool) -> None:
        """Keep the entry; a completable one that has its result came completed."""
        frame, index = decoded.frame, decoded.entry_index
        if index is None:
            return
        entry = self.entries[index] = Entry(index, frame, replayed, frame.message_type)
        message: Any = frame.message
        if entry.completable and message is not None and frame.flags & COMPLETED:
            entry.completed_by = "entry" if message.WhichOneof("result") is not None else None

    def related_entry(self, message: Any) -> str:
        """The entry an ErrorMessage blames, in words."""
        if not message.HasField("related_entry_index"):
            return ""
        index = message.related_entry_index
        if index == BEFORE_FIRST_ENTRY:
            return "before the first entry"
        entry = self.entries.get(index)
        kind = entry.name if entry else None
        if kind is None and message.HasField("related_entry_type"):
            spec = V3_TABLE.lookup(message.related_entry_type)
            kind = spec.name if spec else f"type {message.related_entry_type:#06x}"
        name = message.related_entry_name or (entry.entry_name if entry else "")
        return f"#{index}" + (f" {kind}" if kind else "") + (f" {name!r}" if name else "")

    # --- across attempts and invocations ----------------------------------------------

    def replayable(self) -> Iterator[tuple[Moment, int, Entry]]:
        for moment in self.timeline:
            item = moment.item
            if isinstance(item, DecodedFrame) and item.entry_index is not None:
                entry = self.entries.get(item.entry_index)
                if entry is not None and entry.frame is item.frame:
                    yield moment, entry.index, entry

    def linkables(self) -> Iterator[Linkable]:
        """An Awakeable entry's id is its invocation's id and its index; a CompleteAwakeable
        names such an id."""
        invocation = invocation_id_text(self.start.id) if self.start is not None else None
        for entry in self.entries.values():
            message: Any = entry.frame.message
            if message is None:
                continue
            label = f"entry {entry.index}"
            if entry.frame.type == AWAKEABLE and invocation is not None:
                yield Linkable((invocation, entry.index), False, entry, label, "completed by")
            elif entry.frame.type == COMPLETE_AWAKEABLE:
                target = parse_awakeable_id(message.id)
                if target is not None and target.invocation_id is not None:
                    token = (target.invocation_id, target.entry_index)
                    yield Linkable(token, True, entry, label, "completes the awakeable of")

    # --- the end ----------------------------------------------------------------------

    def _order(self, decoded: DecodedFrame) -> int:
        """Where a frame of an untimed pair falls: the runtime's start and replay, the SDK's
        entries, the runtime's completions and acks, then the SDK's ending."""
        frame = decoded.frame
        entry_or_start = V3_TABLE.is_entry(frame.type) or frame.type == START
        if frame.direction is RUNTIME:
            return 0 if entry_or_start else 2
        return 1 if entry_or_start else SDK_ENDING

    def hint(self, fact: Fact) -> str:
        return SWAPPED if fact.code == "RI201" and self._swapped() else ""

    def _swapped(self) -> bool:
        """A request without a StartMessage and a response that begins with one: the two
        bodies were likely given the wrong way round (--request and --response)."""
        if self.start is not None:
            return False
        first = next(
            (frame for frame in (d.frame for d in self.frames()) if frame.direction is SDK), None
        )
        return first is not None and first.type == START and first.message is not None

    def explained_by_missing(self, fact: Fact, missing: Direction) -> bool:
        """Without the SDK's body: a completion or ack for an entry past the replay (one the
        SDK sent), and a runtime's reset that seems to come before the SDK ended the attempt
        (its End may be in that body). Without the runtime's: a suspension on an entry that
        does not exist (without the StartMessage, no entry has an index)."""
        if missing is RUNTIME:
            return fact.code == "RI221"
        if fact.code == "RI210":
            index, known = fact.entry_index, self.known_entries
            return known is not None and index is not None and index >= known
        return fact.code == "RI242"
