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

from restate_inspect.events import DecodedFrame, Discovery, Frame, StreamEnd, StreamInfo
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol.attempt import AFTER_LOSS, SDK, Moment
from restate_inspect.protocol.v1.journal import AttemptJournal, Entry
from restate_inspect.protocol.v1.messages import AWAKEABLE, COMPLETE_AWAKEABLE, V3_TABLE
from restate_inspect.rules import Problem
from restate_inspect.values import awakeable_id

_AWAKEABLES_KEPT: Final = 100_000  # awakeable ids remembered, to link their completions
_SIGHTINGS_KEPT: Final = 10_000  # attempts remembered, to tell a copy of one


@dataclass
class Invocation:
    key: bytes | str  # StartMessage.id, or the stream when there is no StartMessage
    invocation_id: str
    attempts: list[AttemptJournal] = field(default_factory=list)
    target: str | None = None  # service/handler
    object_key: str | None = None

    @property
    def ending(self) -> str:
        return self.attempts[-1].ending_text


@dataclass
class _Stored:
    """What the invocation's attempts sent or were replayed, for the next replay."""

    type: int
    key: bytes  # Entry.replay_key
    attempt: int
    stream: StreamKey | None
    lossy: bool  # the attempt lost bytes: its entries may be numbered wrong


@dataclass
class _Awakeable:
    """An Awakeable entry, or a CompleteAwakeable entry, and where it is."""

    invocation_id: str
    attempt: int
    entry: Entry | None
    stream: StreamKey | None


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
        self._awakeables: OrderedDict[str, _Awakeable] = OrderedDict()
        self._completers: OrderedDict[str, list[_Awakeable]] = OrderedDict()  # before theirs
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
            parts = info.target if info is not None else None
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
        self._link_awakeables(attempt)
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

    def _check_replay(self, key: bytes | str, attempt: AttemptJournal, *, keep: bool) -> None:
        """Compare the attempt's replay with what the earlier attempts sent; keep: store
        its entries for the next attempt's replay."""
        stored = self._stored.setdefault(key, {})
        for moment in attempt.timeline:
            item = moment.item
            if not isinstance(item, DecodedFrame) or item.entry_index is None:
                continue
            entry = attempt.entries.get(item.entry_index)
            if entry is None or entry.frame is not item.frame:
                continue
            earlier = stored.get(entry.index)
            if entry.replayed and earlier is not None:
                self._compare(attempt, moment, entry, earlier)
            if keep:
                stored[entry.index] = _Stored(
                    entry.frame.type, entry.comparable_key(), attempt.number or 0,
                    attempt.stream, attempt.lossy,
                )  # fmt: skip

    def _compare(
        self, attempt: AttemptJournal, moment: Moment, entry: Entry, earlier: _Stored
    ) -> None:
        frame, index = entry.frame, entry.index
        if earlier.type == frame.type and earlier.key == entry.comparable_key():
            return
        what = (
            f"type {frame.name or hex(frame.type)} where attempt {earlier.attempt} had "
            f"{_type_name(earlier.type)}"
            if earlier.type != frame.type
            else "other fields than attempt " + str(earlier.attempt) + " sent"
        )
        text = f"replayed entry {index} has {what} (in {earlier.stream}): a likely journal mismatch"
        after_loss = attempt.lossy or earlier.lossy
        moment.findings.append(
            Problem(
                "RI240",
                text + AFTER_LOSS if after_loss else text,
                frame.offset,
                8 + frame.length,
                stream=attempt.stream,
                direction=frame.direction,
                entry_index=index,
                invocation_id=attempt.invocation_id,
                attempt=attempt.number,
                after_loss=after_loss,
            )
        )

    def _link_awakeables(self, attempt: AttemptJournal) -> None:
        """An Awakeable entry's id is known from the invocation id and its index; a
        CompleteAwakeable names such an id. Where both are in the input, link them, in
        whichever order their attempts end."""
        raw = attempt.start.id if attempt.start is not None else None
        here = _Awakeable(attempt.invocation_id or "", attempt.number or 0, None, attempt.stream)
        for entry in attempt.entries.values():
            message: Any = entry.frame.message
            if message is None:
                continue
            if entry.frame.type == AWAKEABLE and raw is not None:
                token = awakeable_id(raw, entry.index)
                awakeable = _Awakeable(here.invocation_id, here.attempt, entry, here.stream)
                self._remember(self._awakeables, token, awakeable)
                for completer in self._completers.pop(token, []):
                    _link(completer, awakeable)
            elif entry.frame.type == COMPLETE_AWAKEABLE:
                completer = _Awakeable(here.invocation_id, here.attempt, entry, here.stream)
                known = self._awakeables.get(message.id)
                if known is not None:
                    _link(completer, known)
                else:
                    waiting = self._completers.setdefault(message.id, [])
                    waiting.append(completer)
                    self._remember(self._completers, message.id, waiting)

    @staticmethod
    def _remember(
        table: OrderedDict[Any, Any], token: Any, value: Any, kept: int = _AWAKEABLES_KEPT
    ) -> None:
        table[token] = value
        while len(table) > kept:
            table.popitem(last=False)


def _link(completer: _Awakeable, awakeable: _Awakeable) -> None:
    assert completer.entry is not None
    assert awakeable.entry is not None
    completer.entry.links.append(
        f"completes the awakeable of {awakeable.invocation_id} entry {awakeable.entry.index} "
        f"(attempt {awakeable.attempt}, {awakeable.stream})"
    )
    awakeable.entry.links.append(
        f"completed by {completer.invocation_id} entry {completer.entry.index} "
        f"(attempt {completer.attempt}, {completer.stream})"
    )


def _type_name(type_code: int) -> str:
    spec = V3_TABLE.lookup(type_code)
    return spec.name if spec else f"0x{type_code:04x}"


# --- from decoded events to invocations ------------------------------------------------------

Journaled = Invocation | Problem | Discovery


class Finished(NamedTuple):
    """An attempt whose stream is over, with what the capture told about the stream; and, to
    tell a copy of it, a digest of its frames and the capture times of the first and last."""

    attempt: AttemptJournal
    info: StreamInfo | None
    fingerprint: bytes = b""
    span: tuple[float, float] | None = None


Built = Finished | Problem | Discovery


def invocations(items: Iterable[Decoded]) -> Iterator[Journaled]:
    """Build an AttemptJournal per Restate stream from the pipeline's events, and hand on
    invocations as they end. Problems that belong to no stream pass straight on."""
    return tracked(finished_attempts(items))


def tracked(built: Iterable[Built]) -> Iterator[Journaled]:
    """Invocations from finished attempts, handed on as they end."""
    tracker = InvocationTracker()
    for item in built:
        if isinstance(item, Finished):
            yield from tracker.add(item)
        else:
            yield item
    yield from tracker.finish()


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
            state = building[stream] = _Building(AttemptJournal(stream), None, _packet(item))
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


@dataclass
class _Building:
    attempt: AttemptJournal
    info: StreamInfo | None
    began: float  # the packet of the stream's first event
    took: bool = False  # a frame or a problem
    digest: int = 0  # of its frames, to tell a copy of it (Python's hash: within one run)
    first: float | None = None  # capture time of the first frame
    last: float | None = None

    def finished(self) -> Finished:
        span = None if self.first is None or self.last is None else (self.first, self.last)
        fingerprint = (
            self.digest.to_bytes(8, "big", signed=True) if self.attempt.start is not None else b""
        )
        return Finished(self.attempt, self.info, fingerprint, span)

    def take(self, item: DecodedFrame | Problem | StreamInfo | StreamEnd) -> bool:
        """Add an item of the stream; True when it finished the attempt."""
        attempt = self.attempt
        if isinstance(item, StreamInfo):
            self.info = item
            attempt.protocol_version = item.protocol_version
            types = (item.header("content-type"), item.header("content-type", response=True))
            attempt.describe(item.http_version, item.status, types)
        elif isinstance(item, StreamEnd):
            attempt.end_of(item.direction, item.how, item.by)
            if self.info is not None and len(attempt.ends) == len(Direction):
                attempt.finish()
                return True
        elif isinstance(item, DecodedFrame):
            self.take_frame(item)
        else:
            self.took = True
            attempt.add(item)
        return False

    def take_frame(self, decoded: DecodedFrame) -> None:
        self.took = True
        self.attempt.add(decoded)
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
