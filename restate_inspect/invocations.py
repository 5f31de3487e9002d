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
from typing import Any, Final

from restate_inspect.attempts import Built, Finished, finished_attempts
from restate_inspect.events import (
    HEADER_SIZE,
    Discovery,
)
from restate_inspect.location import StreamKey
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.protocol.timeline import Linkable, Moment
from restate_inspect.protocol.verdict import AFTER_LOSS
from restate_inspect.rules import Problem
from restate_inspect.stage import through

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
class _Ended:
    """An invocation handed on as ended, to tell a later attempt of it."""

    invocation_id: str
    attempts: int
    stream: StreamKey | None  # of the attempt that ended it


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
        self._ended: OrderedDict[bytes | str, _Ended] = OrderedDict()

    def feed(self, item: Built) -> list[Journaled]:
        """The invocations a finished attempt ends, or why it is left out; what is not an
        attempt passes on."""
        if not isinstance(item, Finished):
            return [item]
        return self._take(item)

    def end_of_stream(self) -> list[Journaled]:
        return [self._close(key) for key in list(self._open)]

    def _take(self, finished: Finished) -> list[Journaled]:
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
        ended = self._ended.pop(key, None) if len(invocation.attempts) == 1 else None
        if ended is not None and _a_retry(attempt):  # not the same id begun anew
            _not_taken(attempt, ended)
        if finished.fingerprint and finished.span is not None:
            sighting = _Sighting(attempt.stream, finished.span, invocation.invocation_id,
                                 len(invocation.attempts))  # fmt: skip
            self._remember(self._sightings, finished.fingerprint, sighting, _SIGHTINGS_KEPT)
        # an attempt that ends its invocation leaves nothing for a later replay to match
        self._check_replay(key, attempt, keep=attempt.ending != "end")
        self._link(attempt)
        if attempt.ending == "end":
            ended = _Ended(invocation.invocation_id, len(invocation.attempts), attempt.stream)
            self._remember(self._ended, key, ended, _SIGHTINGS_KEPT)
            return [self._close(key)]
        return []

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


def _a_retry(attempt: Attempt) -> bool:
    """Does the attempt go on from a stored journal? An invocation id can come again for a
    new invocation (a workflow's, or an idempotency key's, once the old one is forgotten):
    that one starts with its input alone, and no retry."""
    start = attempt.start
    retries = getattr(start, "retry_count_since_last_stored_entry", 0)
    return start is not None and (retries > 0 or (start.known_entries or 0) > 1)


def _not_taken(attempt: Attempt, ended: _Ended) -> None:
    """A new attempt of an invocation that an attempt ended with End, which the runtime did
    not take: it had given up on that attempt first. Said at its start; it is shown as an
    invocation of its own, as the one before was handed on when it ended."""
    text = (
        f"another attempt of {ended.invocation_id}, whose attempt {ended.attempts} in "
        f"{ended.stream} ended it with End: the runtime did not take that End, as it had "
        "given up on that attempt first (its abort timeout: the SDK neither suspended nor "
        "ended soon enough after the runtime closed its side for inactivity; or the "
        "connection broke), and retries from its stored journal: what the SDK did after "
        "that journal is done again"
    )
    if attempt.timeline:
        problem = Problem("RI244", text, None, None, stream=attempt.stream,
                          invocation_id=attempt.invocation_id, attempt=attempt.number)  # fmt: skip
        attempt.timeline[0].findings.append(problem)


def _link(sender: _Linked, receiver: _Linked) -> None:
    for one, other in ((sender, receiver), (receiver, sender)):
        one.entry.entry.links.append(
            f"{one.entry.verb} {other.invocation_id} {other.entry.label} "
            f"(attempt {other.attempt}, {other.stream})"
        )


# --- from decoded events to invocations ------------------------------------------------------

Journaled = Invocation | Problem | Discovery


def invocations(items: Iterable[Decoded]) -> Iterator[Journaled]:
    """Build an attempt journal per Restate stream from the pipeline's events, and hand on
    invocations as they end. Problems that belong to no stream pass straight on."""
    return tracked(finished_attempts(items))


def tracked(built: Iterable[Built]) -> Iterator[Journaled]:
    """Invocations from finished attempts, handed on as they end."""
    return through(InvocationTracker(), built)


def _stored_target(attempt: Attempt) -> tuple[str, str] | None:
    """service/handler of a stored journal, from its sys_invocation row."""
    facts = (attempt.stored_journal.facts if attempt.stored_journal else None) or {}
    service, handler = facts.get("target_service_name"), facts.get("target_handler_name")
    return (str(service), str(handler)) if service and handler else None
