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
from restate_inspect.values import (
    error_text,
    invocation_id_text,
    named_code,
    parse_awakeable_id,
)

BEFORE_FIRST_ENTRY: Final = 0xFFFFFFFF  # ErrorMessage.related_entry_index: no entry yet
SWAPPED: Final = "; the response begins with a StartMessage: are --request and --response swapped?"
# A completion or ack the runtime sent this shortly (capture time) before the SDK suspended
# on its entry was on its way: the SDK could not have read it when it decided to suspend.
IN_FLIGHT: Final = 0.02


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
        self.replayed = 0

    def _read(self, decoded: DecodedFrame, moment: Moment) -> None:
        if decoded.frame.direction is RUNTIME:
            self._from_runtime(decoded, moment)
        else:
            self._from_sdk(decoded, moment)

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
        return self.ending or self.unended_text()

    @property
    def replaying(self) -> bool:
        known = self.known_entries
        return known is not None and self.replayed < known

    # --- the runtime's side -----------------------------------------------------------

    def _from_runtime(self, decoded: DecodedFrame, moment: Moment) -> None:
        frame, message = decoded.frame, decoded.frame.message
        kind = frame.type if message is not None else None
        if not self._began and kind != START:
            self.said(moment, "RI201", f"the request begins with {_name(frame)}")
        self._began = True
        if kind == START:
            self._start(decoded, message, moment)
        elif V3_TABLE.is_entry(frame.type):
            self._replayed_entry(decoded, moment)
        elif kind == COMPLETION:
            self._completion(decoded, message, moment)
        elif kind == ENTRY_ACK:
            self._ack(decoded, message, moment)
        elif message is not None:
            text = f"the runtime sends {_name(frame)}, which only the SDK sends"
            self.said(moment, "RI202", text)

    def _start(self, decoded: DecodedFrame, message: Any, moment: Moment) -> None:
        if self.start is not None:
            self.said(moment, "RI202", "a second StartMessage")
            return
        self._started(message, decoded.frame)
        retry = (
            message.retry_count_since_last_stored_entry or message.duration_since_last_stored_entry
        )
        if retry and self.protocol_version == 1:
            text = (
                "StartMessage carries the V2 retry fields (retry count "
                f"{message.retry_count_since_last_stored_entry}, "
                f"{message.duration_since_last_stored_entry} ms since the last stored entry) "
                "under a V1 content type; newer runtimes do (said once for each connection)"
            )
            self.said(moment, "RI241", text)

    def _replayed_entry(self, decoded: DecodedFrame, moment: Moment) -> None:
        index, known = decoded.entry_index, self.known_entries
        self.replayed += 1
        if index is None:
            return
        if known is not None and index >= known:
            text = f"the runtime sends entry {index} after replaying the {known} it announced"
            self.said(moment, "RI203", text)
        self._record(_entry(index, decoded.frame, replayed=True), decoded, moment)

    def _completion(self, decoded: DecodedFrame, message: Any, moment: Moment) -> None:
        index = message.entry_index
        if self.request_response:
            text = f"a CompletionMessage for entry {index} in request/response mode"
            self.said(moment, "RI214", text)
        if self.replaying:
            text = f"a CompletionMessage for entry {index} before the replay is over"
            self.said(moment, "RI213", text)
        entry = self.entries.get(index)
        if entry is None:
            text = f"a CompletionMessage for entry {index}, which does not exist"
            self.said(moment, "RI210", text)
        elif not entry.completable:
            text = (
                f"a CompletionMessage for entry {index}, a {entry.name}, which is not completable"
            )
            self.said(moment, "RI211", text)
        elif entry.completed:
            how = (
                "it came completed" if entry.completed_by == "entry" else "a completion came before"
            )
            text = f"a CompletionMessage for entry {index}, which is already completed ({how})"
            self.said(moment, "RI212", text)
        else:
            entry.completed_by, entry.completion = "completion", decoded.frame

    def _ack(self, decoded: DecodedFrame, message: Any, moment: Moment) -> None:
        index = message.entry_index
        if self.request_response:
            text = f"an EntryAckMessage for entry {index} in request/response mode"
            self.said(moment, "RI214", text)
        entry = self.entries.get(index)
        if entry is None:
            text = f"an EntryAckMessage for entry {index}, which does not exist"
            self.said(moment, "RI210", text)
        elif not entry.requires_ack or entry.ack is not None:
            why = "was sent without REQUIRES_ACK" if not entry.requires_ack else "is acked already"
            self.said(moment, "RI215", f"an EntryAckMessage for entry {index}, which {why}")
        else:
            entry.ack = decoded.frame

    # --- the SDK's side ---------------------------------------------------------------

    def _from_sdk(self, decoded: DecodedFrame, moment: Moment) -> None:
        frame, message = decoded.frame, decoded.frame.message
        if self.end_frame is not None:
            where = f"offset {self.end_frame.offset:#x}"
            text = f"{_name(frame)} after the {self.ending} message at {where}"
            self.said(moment, "RI206", text)
            return
        kind = frame.type if message is not None else None
        if V3_TABLE.is_entry(frame.type):
            self._created_entry(decoded, moment)
        elif kind == SUSPENSION:
            self._suspension(decoded, message, moment)
        elif kind == ERROR:
            self._error(decoded, message, moment)
        elif kind == END:
            self.ending, self.end_frame = "end", frame
        elif message is not None:
            text = f"the SDK sends {_name(frame)}, which only the runtime sends"
            self.said(moment, "RI209", text)

    def _created_entry(self, decoded: DecodedFrame, moment: Moment) -> None:
        if self.replaying and decoded.frame.time is not None:
            text = (
                f"the SDK sends {_name(decoded.frame)} while the runtime has replayed "
                f"{self.replayed} of {self.known_entries} entries"
            )
            self.said(moment, "RI204", text)
        message: Any = decoded.frame.message
        if decoded.frame.type == OUTPUT and message is not None and message.HasField("failure"):
            self.failure = message.failure
            text = f"the invocation ends with a terminal failure: {_failure(message.failure)}"
            self.said(moment, "RI233", text)
        if decoded.entry_index is not None:
            entry = _entry(decoded.entry_index, decoded.frame, replayed=False)
            self._record(entry, decoded, moment)

    def _record(self, entry: Entry, decoded: DecodedFrame, moment: Moment) -> None:
        """Keep the entry; a completable one says by its COMPLETED flag whether it has its
        result, and the two must agree."""
        self.entries[entry.index] = entry
        message = entry.frame.message
        if not entry.completable or message is None:
            return
        flagged = bool(entry.frame.flags & COMPLETED)
        has_result = message.WhichOneof("result") is not None
        if flagged and has_result:
            entry.completed_by = "entry"
        elif flagged != has_result:
            state = "COMPLETED but no result" if flagged else "a result but no COMPLETED flag"
            self.said(moment, "RI216", f"entry {entry.index}, a {entry.name}, has {state}")

    def _suspension(self, decoded: DecodedFrame, message: Any, moment: Moment) -> None:
        self.ending, self.end_frame = "suspension", decoded.frame
        self.suspended_on = tuple(message.entry_indexes)
        if not self.suspended_on:
            self.said(moment, "RI220", "a SuspensionMessage that waits on no entry")
        for index in self.suspended_on:
            entry = self.entries.get(index)
            if entry is None:
                text = f"suspended on entry {index}, which does not exist"
                self.said(moment, "RI221", text, entry_index=index)
                continue
            answer = entry.completion if entry.completable else entry.ack
            sent = _on_its_way(answer, decoded.frame)
            if sent is not None:
                text = (
                    f"suspended on entry {index}, a {entry.name}, whose "
                    f"{'completion' if entry.completable else 'ack'} {sent}"
                )
                self.said(moment, "RI224", text, entry_index=index)
            elif entry.completable and entry.completed:
                text = f"suspended on entry {index}, a {entry.name}, which is already completed"
                self.said(moment, "RI222", text, entry_index=index)
            elif not entry.completable and not (entry.requires_ack and entry.ack is None):
                text = (
                    f"suspended on entry {index}, a {entry.name}, which is not completable and "
                    "awaits no ack"
                )
                self.said(moment, "RI223", text, entry_index=index)

    def _error(self, decoded: DecodedFrame, message: Any, moment: Moment) -> None:
        self.ending, self.end_frame, self.error = "error", decoded.frame, message
        related = self.related_entry(message)
        code = {570: "RI230", 571: "RI231"}.get(message.code, "RI232")
        text = error_text(message.code, message.message)
        if related:
            text += f"; related entry: {related}"
        index = message.related_entry_index if message.HasField("related_entry_index") else None
        self.said(moment, code, text, entry_index=index if index != BEFORE_FIRST_ENTRY else None)

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

    def _at_the_end(self, end: Moment) -> None:
        known = self.known_entries
        complete_request = self.ends.get(RUNTIME) in ("end", None) and RUNTIME in self.seen
        stored = self.stored_journal is not None  # a dump's unreadable rows are said (RI009)
        if known is not None and self.replayed < known and complete_request and not stored:
            text = f"the runtime announced {known} entries to replay and sent {self.replayed}"
            self.said(end, "RI203", text)
        super()._at_the_end(end)

    def _hint(self, fact: Fact) -> str:
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

    def _explained_by_missing(self, fact: Fact, missing: Direction) -> bool:
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


def _on_its_way(answer: Frame | None, suspension: Frame) -> str | None:
    """Why the runtime's answer (completion, ack) may not have reached the SDK when it
    suspended: it was captured only so long before (IN_FLIGHT), or a pair of bodies has
    no times to tell."""
    if answer is None:
        return None
    if answer.time is None or suspension.time is None:
        return "is in the other body: with no times to tell, it may have been on its way"
    ahead = suspension.time - answer.time
    if not 0 <= ahead <= IN_FLIGHT:
        return None
    return f"the runtime had sent {ahead * 1000:.1f} ms before: it was still on its way"


def _entry(index: int, frame: Frame, *, replayed: bool) -> Entry:
    return Entry(index, frame, replayed, frame.message_type)


def _name(frame: Frame) -> str:
    return frame.name or f"type {frame.type:#06x}"


def _failure(failure: Any) -> str:
    return named_code(failure.code) + (f" {failure.message!r}" if failure.message else "")
