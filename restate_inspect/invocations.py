"""Invocations: attempts that share StartMessage.id, in order (sans-IO).

Each attempt's replay is checked against what the invocation's earlier attempts sent (the
SDKs' entry-equality rules: journal.comparable). An invocation is handed on once an attempt
ends it with an EndMessage, or when the input ends; one that waits (suspended, or failed and
to be retried) stays until its next attempt, so memory holds only open invocations.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from restate_inspect.events import (
    HEADER_SIZE,
    DecodedFrame,
    Discovery,
    Frame,
    StoredJournal,
    StreamEnd,
    StreamInfo,
)
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol import journal_for
from restate_inspect.protocol.attempt import AFTER_LOSS, SDK, Attempt
from restate_inspect.protocol.timeline import Linkable, Moment
from restate_inspect.rules import Problem

_SIGNALS_KEPT: Final = 100_000  # signals (awakeables) remembered, to link what sent them
_SIGHTINGS_KEPT: Final = 10_000  # attempts remembered, to tell a copy of one


@dataclass
class Invocation:
    key: bytes | str  # StartMessage.id, or the stream when there is no StartMessage
    invocation_id: str
    attempts: list[Attempt] = field(default_factory=list)
    target: str | None = None  # service/handler
    object_key: str | None = None

    @property
    def ending(self) -> str:
        return self.attempts[-1].ending_text


@dataclass
class _Stored:
    """What the invocation's attempts sent or were replayed, for the next replay."""

    type: int
    name: str
    key: bytes  # Entry.comparable_key()
    attempt: int
    stream: StreamKey | None
    lossy: bool  # the attempt lost bytes: its entries may be numbered wrong


@dataclass
class _Linked:
    """An entry that may be linked across invocations, and where it is."""

    invocation_id: str
    attempt: int
    stream: StreamKey | None
    entry: Linkable


@dataclass
class _Sighting:
    """An attempt taken, to tell a copy of it on another connection."""

    stream: StreamKey | None
    span: tuple[float, float]
    invocation_id: str
    attempt: int


class InvocationTracker:
    def __init__(self) -> None:
        self._open: OrderedDict[bytes | str, Invocation] = OrderedDict()
        self._stored: dict[bytes | str, dict[int, _Stored]] = {}
        self._receivers: OrderedDict[Any, _Linked] = OrderedDict()  # by token
        self._senders: OrderedDict[Any, list[_Linked]] = OrderedDict()  # before their receiver
        self._sightings: OrderedDict[bytes, _Sighting] = OrderedDict()  # by fingerprint

    def add(self, finished: Finished) -> list[Invocation | Problem]:
        """Take a finished attempt; the invocations it ends, or why it is left out."""
        copy = self._copy(finished)
        if copy is not None:
            return [copy]
        attempt, info = finished.attempt, finished.info
        key = attempt.start.id if attempt.start is not None else f"stream {attempt.stream}"
        invocation = self._open.get(key)
        if invocation is None:
            name = attempt.invocation_id or f"(no StartMessage in {attempt.stream})"
            parts = info.target if info is not None else _stored_target(attempt)
            target = "/".join(parts) if parts else None
            object_key = (
                attempt.start.key if attempt.start is not None and attempt.start.key else None
            )
            invocation = self._open[key] = Invocation(
                key, name, target=target, object_key=object_key
            )
        invocation.attempts.append(attempt)
        attempt.stamp(invocation.invocation_id, len(invocation.attempts))
        if finished.fingerprint and finished.span is not None:
            sighting = _Sighting(attempt.stream, finished.span, invocation.invocation_id,
                                 len(invocation.attempts))  # fmt: skip
            self._remember(self._sightings, finished.fingerprint, sighting, _SIGHTINGS_KEPT)
        # an attempt that ends its invocation leaves nothing for a later replay to match
        self._check_replay(key, attempt, keep=attempt.ending != "end")
        self._link(attempt)
        if attempt.ending == "end":
            return [self._close(key)]
        return []

    def finish(self) -> list[Invocation]:
        return [self._close(key) for key in list(self._open)]

    def _copy(self, finished: Finished) -> Problem | None:
        """The finding that an attempt is a copy of one taken already: the same frames, both
        ways, on another stream, at the same time. A capture sees that where traffic passes
        a proxy or NAT between two of its interfaces (`tcpdump -i any` beside a Docker
        container's port); an attempt that is truly new comes after the last one ended."""
        seen = self._sightings.get(finished.fingerprint) if finished.fingerprint else None
        span, stream = finished.span, finished.attempt.stream
        if seen is None or span is None or seen.stream == stream:
            return None
        if span[0] > seen.span[1] or seen.span[0] > span[1]:
            return None
        text = (
            f"{stream} carries the same frames as {seen.stream} (attempt {seen.attempt} of "
            f"{seen.invocation_id}), at the same time: the capture saw it twice, as through a "
            "proxy or NAT; it is shown once"
        )
        return Problem("RI315", text, None, None, stream=stream,
                       invocation_id=seen.invocation_id, attempt=seen.attempt)  # fmt: skip

    def _close(self, key: bytes | str) -> Invocation:
        self._stored.pop(key, None)
        return self._open.pop(key)

    def _check_replay(self, key: bytes | str, attempt: Attempt, *, keep: bool) -> None:
        """Compare the attempt's replay with what the earlier attempts sent; keep: store
        its entries for the next attempt's replay."""
        stored = self._stored.setdefault(key, {})
        for moment, position, entry in attempt.replayable():
            earlier = stored.get(position)
            if entry.replayed and earlier is not None:
                self._compare(attempt, moment, position, entry, earlier)
            if keep:
                stored[position] = _Stored(
                    entry.frame.type, entry.name, entry.comparable_key(), attempt.number or 0,
                    attempt.stream, attempt.lossy,
                )  # fmt: skip

    @staticmethod
    def _compare(
        attempt: Attempt, moment: Moment, position: int, entry: Any, earlier: _Stored
    ) -> None:
        frame = entry.frame
        if earlier.type == frame.type and earlier.key == entry.comparable_key():
            return
        what = (
            f"type {frame.name or hex(frame.type)} where attempt {earlier.attempt} had "
            f"{earlier.name}"
            if earlier.type != frame.type
            else "other fields than attempt " + str(earlier.attempt) + " sent"
        )
        kind = attempt.position_name
        text = f"replayed {kind} {position} has {what} (in {earlier.stream})"
        text += ": a likely journal mismatch"
        after_loss = attempt.lossy or earlier.lossy
        by_command = kind == "command"
        moment.findings.append(
            Problem(
                "RI240",
                text + AFTER_LOSS if after_loss else text,
                frame.offset,
                HEADER_SIZE + frame.length,
                stream=attempt.stream,
                direction=frame.direction,
                entry_index=entry.index if by_command else position,
                invocation_id=attempt.invocation_id,
                attempt=attempt.number,
                after_loss=after_loss,
                command_index=position if by_command else None,
            )
        )

    def _link(self, attempt: Attempt) -> None:
        """Link a signal (an awakeable) to the entry of another invocation that sent it, where
        both are in the input, in whichever order their attempts end."""
        for linkable in attempt.linkables():
            here = _Linked(attempt.invocation_id or "", attempt.number or 0, attempt.stream,
                           linkable)  # fmt: skip
            token = linkable.token
            if not linkable.sends:
                self._remember(self._receivers, token, here)
                for sender in self._senders.pop(token, []):
                    _link(sender, here)
            elif (receiver := self._receivers.get(token)) is not None:
                _link(here, receiver)
            else:
                waiting = self._senders.setdefault(token, [])
                waiting.append(here)
                self._remember(self._senders, token, waiting)

    @staticmethod
    def _remember(
        table: OrderedDict[Any, Any], token: Any, value: Any, kept: int = _SIGNALS_KEPT
    ) -> None:
        table[token] = value
        while len(table) > kept:
            table.popitem(last=False)


def _link(sender: _Linked, receiver: _Linked) -> None:
    for one, other in ((sender, receiver), (receiver, sender)):
        one.entry.entry.links.append(
            f"{one.entry.verb} {other.invocation_id} {other.entry.label} "
            f"(attempt {other.attempt}, {other.stream})"
        )


# --- from decoded events to invocations ------------------------------------------------------

Journaled = Invocation | Problem | Discovery


class Finished(NamedTuple):
    """An attempt whose stream is over, with what the capture told about the stream; and, to
    tell a copy of it, a digest of its frames and the capture times of the first and last."""

    attempt: Attempt
    info: StreamInfo | None
    fingerprint: bytes = b""
    span: tuple[float, float] | None = None


Built = Finished | Problem | Discovery


def invocations(items: Iterable[Decoded]) -> Iterator[Journaled]:
    """Build an attempt journal per Restate stream from the pipeline's events, and hand on
    invocations as they end. Problems that belong to no stream pass straight on."""
    return tracked(finished_attempts(items))


def tracked(built: Iterable[Built]) -> Iterator[Journaled]:
    """Invocations from finished attempts, handed on as they end."""
    tracker = InvocationTracker()
    said: set[tuple[str, str]] = set()
    for item in built:
        if isinstance(item, Finished):
            _once_per_connection(item.attempt, said)
            yield from tracker.add(item)
        else:
            yield item
    yield from tracker.finish()


# Findings about how a runtime talks, the same for every attempt it sends on a connection:
# one per connection says it; one per attempt would bury the rest (8 of 12 on the sample).
ONCE_PER_CONNECTION: Final = frozenset({"RI241"})


def _once_per_connection(attempt: Attempt, said: set[tuple[str, str]]) -> None:
    """Leaves out of the attempt the findings its connection has had already."""
    if attempt.stream is None:
        return
    for moment in attempt.timeline:
        if any(finding.code in ONCE_PER_CONNECTION for finding in moment.findings):
            kept = []
            for finding in moment.findings:
                if finding.code in ONCE_PER_CONNECTION:
                    key = (attempt.stream.source, finding.code)
                    if key in said:
                        continue
                    said.add(key)
                kept.append(finding)
            moment.findings[:] = kept


def finished_attempts(items: Iterable[Decoded]) -> Iterator[Built]:
    """Each Restate stream's attempt, once both its bodies are over, in the order they end;
    problems of the capture as a whole where they are found; and at the end, the attempts
    that were still open then, in the order they began."""
    building: dict[StreamKey, _Building] = {}
    skipped: set[StreamKey] = set()
    cut_short: list[_Building] = []
    for item in items:
        if type(item) is DecodedFrame:  # most are: what follows, without its steps
            state = building.get(item.frame.stream)
            if state is not None:
                state.take_frame(item)  # a frame never ends an attempt
                continue
        if isinstance(item, Discovery):
            yield item
            continue
        stream = item.frame.stream if isinstance(item, DecodedFrame) else item.stream
        if stream is None:  # a problem of the capture as a whole
            if isinstance(item, Problem):
                yield item
            continue
        if stream in skipped or (isinstance(item, StreamInfo) and not item.restate):
            skipped.add(stream)  # not Restate: its frames are not journaled
            building.pop(stream, None)
            continue
        state = building.get(stream)
        if state is None:
            state = building[stream] = _Building(stream, _packet(item))
        if state.take(item):
            del building[stream]
            assert isinstance(item, StreamEnd)
            if item.packet is None:  # the capture's end ended it
                cut_short.append(state)
                continue
            yield state.finished()
    for state in _still_open(building.values(), cut_short):
        yield state.finished()


def _still_open(building: Iterable[_Building], ended: list[_Building]) -> list[_Building]:
    """Files, and streams the capture cut short, finished, in the order they began; with
    those the capture's end ended. An empty file is no attempt at all."""
    for state in building:
        if state.info is not None or state.took:
            state.attempt.finish()
            ended.append(state)
    return sorted(ended, key=lambda state: state.began)


class _Building:
    """One stream's attempt as it is read. Its family is the version's, known from the
    content type or from the first frame; problems that come before either wait for it."""

    def __init__(self, stream: StreamKey, began: float) -> None:
        self.stream = stream
        self.began = began  # the packet of the stream's first event
        self.info: StreamInfo | None = None
        self.took = False  # a frame or a problem
        self.digest = 0  # of its frames, to tell a copy of it (Python's hash: within one run)
        self.first: float | None = None  # capture time of the first frame
        self.last: float | None = None
        self._attempt: Attempt | None = None
        self._early: list[Problem] = []
        self.stored: StoredJournal | None = None  # a dump's journal, not a conversation

    @property
    def attempt(self) -> Attempt:
        return self._attempt or self._begin(None)

    def _begin(self, version: int | None) -> Attempt:
        info = self.info
        told = info.protocol_version if info is not None else None
        attempt = self._attempt = journal_for(self.stream, told or version)
        if info is not None:
            self._describe(attempt, info)
        if self.stored is not None:
            attempt.stored(self.stored)
        for problem in self._early:
            attempt.add(problem)
        self._early = []
        return attempt

    def finished(self) -> Finished:
        span = None if self.first is None or self.last is None else (self.first, self.last)
        fingerprint = (
            self.digest.to_bytes(8, "big", signed=True) if self.attempt.start is not None else b""
        )
        return Finished(self.attempt, self.info, fingerprint, span)

    def take(self, item: DecodedFrame | Problem | StreamInfo | StreamEnd | StoredJournal) -> bool:
        """Add an item of the stream; True when it finished the attempt."""
        if isinstance(item, StoredJournal):
            self.stored = item
        elif isinstance(item, StreamInfo):
            self.info = item
            if self._attempt is not None:
                self._describe(self._attempt, item)
            elif item.protocol_version is not None:
                self._begin(item.protocol_version)
        elif isinstance(item, StreamEnd):
            attempt = self.attempt
            attempt.end_of(item.direction, item.how, item.by)
            known = self.info is not None or self.stored is not None  # not a file: it ends
            if known and len(attempt.ends) == len(Direction):
                attempt.finish()
                return True
        elif isinstance(item, DecodedFrame):
            self.take_frame(item)
        else:
            self.took = True
            if self._attempt is None:
                self._early.append(item)
            else:
                self._attempt.add(item)
        return False

    @staticmethod
    def _describe(attempt: Attempt, info: StreamInfo) -> None:
        attempt.protocol_version = info.protocol_version
        types = (info.header("content-type"), info.header("content-type", response=True))
        attempt.describe(info.http_version, info.status, types)

    def take_frame(self, decoded: DecodedFrame) -> None:
        self.took = True
        attempt = self._attempt or self._begin(decoded.frame.version)
        attempt.add(decoded)
        self._saw(decoded.frame)

    def _saw(self, frame: Frame) -> None:
        self.digest = hash(
            (self.digest, frame.direction is SDK, frame.type, frame.flags, frame.length, frame.body)
        )
        time = frame.time
        if time is not None:
            self.first = time if self.first is None else min(self.first, time)
            self.last = time if self.last is None else max(self.last, time)


def _packet(item: Decoded) -> float:
    packet = item.frame.packet if isinstance(item, DecodedFrame) else getattr(item, "packet", None)
    return _NEVER if packet is None else float(packet)


_NEVER: Final = float("inf")


def _stored_target(attempt: Attempt) -> tuple[str, str] | None:
    """service/handler of a stored journal, from its sys_invocation row."""
    facts = (attempt.stored_journal.facts if attempt.stored_journal else None) or {}
    service, handler = facts.get("target_service_name"), facts.get("target_handler_name")
    return (str(service), str(handler)) if service and handler else None
