"""Attempts from the pipeline's events (sans-IO): each Restate stream's decoded frames and
problems fed to its family's attempt journal, handed on once both its bodies are over."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, NamedTuple

from restate_inspect.events import (
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
from restate_inspect.protocol.attempt import SDK, Attempt
from restate_inspect.protocol.timeline import Said
from restate_inspect.rules import Problem
from restate_inspect.stage import through


class Finished(NamedTuple):
    """An attempt whose stream is over, with what the capture told about the stream; and, to
    tell a copy of it, a digest of its frames and the capture times of the first and last."""

    attempt: Attempt
    info: StreamInfo | None
    fingerprint: bytes = b""
    span: tuple[float, float] | None = None


Built = Finished | Problem | Discovery


def finished_attempts(items: Iterable[Decoded]) -> Iterator[Built]:
    """The attempts of the pipeline's items, as AttemptBuilder hands them on."""
    return through(AttemptBuilder(), items)


class AttemptBuilder:
    """Each Restate stream's attempt, once both its bodies are over, in the order they end;
    problems of the capture as a whole where they are found; and at the end, the attempts
    that were still open then, in the order they began."""

    def __init__(self) -> None:
        self._building: dict[StreamKey, _Building] = {}
        self._said_once: set[Said] = set()  # what each connection's attempts say once for all
        self._skipped: set[StreamKey] = set()  # not Restate: their frames are not journaled
        self._cut_short: list[_Building] = []  # ended by the capture's end

    def feed(self, item: Decoded) -> list[Built]:
        if type(item) is DecodedFrame:  # most are: what follows, without its steps
            state = self._building.get(item.frame.stream)
            if state is not None:
                state.take_frame(item)  # a frame never ends an attempt
                return []
        if isinstance(item, Discovery):
            return [item]
        stream = item.frame.stream if isinstance(item, DecodedFrame) else item.stream
        if stream is None:  # a problem of the capture as a whole
            return [item] if isinstance(item, Problem) else []
        if stream in self._skipped or (isinstance(item, StreamInfo) and not item.restate):
            self._skipped.add(stream)
            self._building.pop(stream, None)
            return []
        state = self._building.get(stream)
        if state is None:
            state = self._building[stream] = _Building(stream, _packet(item), self._said_once)
        if not state.take(item):
            return []
        del self._building[stream]
        assert isinstance(item, StreamEnd)
        if item.packet is None:  # the capture's end ended it
            self._cut_short.append(state)
            return []
        return [state.finished()]

    def end_of_stream(self) -> list[Built]:
        ended = _still_open(self._building.values(), self._cut_short)
        return [state.finished() for state in ended]


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

    def __init__(self, stream: StreamKey, began: float, said_once: set[Said]) -> None:
        self.stream = stream
        self.said_once = said_once  # shared by every attempt (timeline.first_on_connection)
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
        attempt.said_once = self.said_once
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
            attempt.end_of(item.direction, item.how, item.by, item.time)
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
