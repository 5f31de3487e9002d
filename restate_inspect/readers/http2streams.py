"""The streams of one HTTP/2 connection (sans-IO): which directions are open, which ended
and how, which were reset and when the frames already under way have all come; and the
events of their heads, bodies and ends. readers/http2.py reads the frames and tells this
what they mean.

A stream's direction is over at its END_STREAM, or at a reset: at once for the direction
of the side that sent RST_STREAM, and for the other once its frames sent before the reset
reached it have had time to come (IN_FLIGHT of capture time, see settle).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from restate_inspect.events import HttpBody, HttpEnd, HttpEvent, HttpGap, HttpHead
from restate_inspect.headers import Headers
from restate_inspect.location import Direction
from restate_inspect.rules import Problem, counted

IN_FLIGHT: Final = 1.0  # seconds: frames sent before a reset reached their sender come by then
ENDED_KEPT: Final = 256  # stream directions remembered after their end, per connection


@dataclass
class _Resetting:
    until: float | None  # capture time after which the stream is over (None: at the close)
    time: float | None  # of the reset, or of the stream's last frame after it
    packet: int
    by: Direction  # the direction whose sender reset the stream


class Http2Streams:
    """The streams of a connection, and the events they make, to be taken (take())."""

    def __init__(self, label: str, directions: tuple[Direction, Direction]) -> None:
        """directions: of the connection's two sides, in their order."""
        self.label = label
        self.events: list[HttpEvent | Problem] = []
        self.time: float | None = None  # of the packet being read
        self.packet = 0
        self.open: set[tuple[int, Direction]] = set()  # stream directions not yet ended
        # stream directions that ended lately: a frame that comes after the end (trailers,
        # a late DATA) must not start them again. Bounded, as a connection may carry any
        # number of streams; one that ended longer ago would be taken for a new stream.
        self.ended: OrderedDict[tuple[int, Direction], str] = OrderedDict()  # -> how
        self.names: dict[int, str] = {}
        # by direction: its streams that the other side reset, whose frames sent before
        # the reset reached this side may still come
        self.resetting: dict[Direction, dict[int, _Resetting]] = {d: {} for d in directions}
        # a stream was reset since the capture decoder last asked for next_due: it asks
        # only then, rather than after every packet of a connection that resets streams
        self.new_resets = False

    def take(self) -> list[HttpEvent | Problem]:
        events, self.events = self.events, []
        return events

    def exchange(self, stream: int) -> str:
        return self.names.get(stream) or f"s{stream}"

    def upgraded(self, name: str, direction: Direction) -> None:
        """Stream 1 is the response of an HTTP/1.1 exchange that asked for h2c: its
        request was sent in HTTP/1.1, and it keeps its name."""
        self.names[1] = name
        self.ended[1, direction] = "end"

    # --- what frames tell ---------------------------------------------------------------

    def head(self, stream: int, direction: Direction, headers: Headers | None) -> None:
        """A header block: the start of the stream's direction, unless it began already
        (trailers) or is over (a late block)."""
        key = (stream, direction)
        if key not in self.open and key not in self.ended:
            self.open.add(key)
            line = _start_line(headers)
            name = self.exchange(stream)
            self.events.append(HttpHead(name, direction, headers, line, self.time, self.packet))

    def data_kept(self, stream: int, direction: Direction, length: int) -> bool:
        """Whether a DATA frame's payload is part of its stream's body: not when the
        stream's direction is over (an END_STREAM before, or a reset settled), which its
        receiver ignores and this reports."""
        how = self.ended.get((stream, direction))
        if how is None:
            self._head_if_missing(stream, direction)
            return True
        if length:
            after = "its END_STREAM" if how == "end" else "the stream was reset"
            text = (
                f"{self.label}/{self.exchange(stream)}: a DATA frame of "
                f"{counted(length, 'byte')} from {direction.sender} comes after {after}; "
                "it is not part of the body (the receiver ignores it)"
            )
            self.events.append(Problem("RI311", text, None, None))
        return False

    def body(self, stream: int, direction: Direction, data: bytes) -> None:
        name = self.exchange(stream)
        self.events.append(HttpBody(name, direction, data, self.time, self.packet))

    def gap(self, stream: int, direction: Direction, length: int) -> None:
        name = self.exchange(stream)
        self.events.append(HttpGap(name, direction, length, self.time, self.packet))

    def lost(self, direction: Direction) -> None:
        """Bytes of this direction are missing and which stream they were of is unknown:
        each open stream of it is told."""
        for stream, open_direction in sorted(self.open):
            if open_direction is direction:
                self.gap(stream, direction, 0)

    def _head_if_missing(self, stream: int, direction: Direction) -> None:
        """DATA of a stream whose HEADERS were not seen: they came before the capture did,
        or were lost with the bytes around them. Either way the stream's start may be
        missing too, and an unknown number of its bytes."""
        key = (stream, direction)
        if key not in self.open and key not in self.ended:
            self.open.add(key)
            name = self.exchange(stream)
            self.events.append(HttpHead(name, direction, None, "", self.time, self.packet))
            self.gap(stream, direction, 0)

    def late_frame(self, stream: int, direction: Direction) -> None:
        """A frame of a stream that the other side reset: the stream ends after it."""
        late = self.resetting[direction].get(stream)
        if late is not None:
            late.time, late.packet = self.time, self.packet

    # --- ends ---------------------------------------------------------------------------

    def end(
        self, stream: int, direction: Direction, how: str, *, by: Direction | None = None
    ) -> None:
        if (stream, direction) in self.open:
            self.open.discard((stream, direction))
            self.ended[stream, direction] = how
            if len(self.ended) > ENDED_KEPT:
                self.ended.popitem(last=False)
            late = self.resetting[direction].pop(stream, None)
            time, packet = (late.time, late.packet) if late else (self.time, self.packet)
            name = self.exchange(stream)
            self.events.append(HttpEnd(name, direction, how, time, packet, by))

    def reset(self, stream: int, by: Direction) -> None:
        """RST_STREAM sent in direction `by`: that direction of the stream is over; the
        other's is once its frames under way have had time to come (settle). A direction
        that had not begun is over too (a request refused before its response)."""
        peer = by.other
        keys = [(stream, by), (stream, peer)]
        if not any(key in self.open or key in self.ended for key in keys):
            return  # a stream this capture does not know
        if keys[0] not in self.ended:
            self._reset_over(stream, by, by)
        if keys[1] not in self.ended:
            until = None if self.time is None else self.time + IN_FLIGHT
            self.resetting[peer][stream] = _Resetting(until, self.time, self.packet, by)
            self.new_resets = True

    def refused_above(self, last_stream_id: int, by: Direction) -> None:
        """GOAWAY from the server: it will not process the client's streams above."""
        for stream, direction in sorted(self.open):
            if stream > last_stream_id and stream % 2:
                self.end(stream, direction, "reset", by=by)

    @property
    def next_due(self) -> float | None:
        """The capture time after which settle has a reset stream to end (None: none, or
        none with a time: those end with the connection)."""
        dues = [
            late.until
            for waiting in self.resetting.values()
            for late in itertools.islice(waiting.values(), 1)  # the oldest reset
            if late.until is not None
        ]
        return min(dues, default=None)

    def settle(self) -> None:
        """End the reset streams whose frames under way have had time to come. Each side
        may have sent frames of several streams, a reset one's among them, before the
        reset reached it: what arrives within IN_FLIGHT is taken as sent before. (The
        streams wait in the order of their resets, so the first not due ends the look.)"""
        now = self.time
        if now is None:
            return
        for direction, waiting in self.resetting.items():
            due = []
            for stream, late in waiting.items():
                if late.until is None or now <= late.until:
                    break
                due.append((stream, late.by))
            for stream, by in due:
                self._reset_over(stream, direction, by)

    def close(self, direction: Direction, how: str, by: Direction | None) -> None:
        """The direction is over: every stream of it ends, `how` ("closed", "reset",
        "capture"), the reset ones by their reset."""
        for stream, late in list(self.resetting[direction].items()):
            self._reset_over(stream, direction, late.by)
        for stream, open_direction in sorted(self.open):
            if open_direction is direction:
                self.end(stream, direction, how, by=by)

    def _reset_over(self, stream: int, direction: Direction, by: Direction) -> None:
        """The direction of the stream is over by a reset that `by`'s sender sent."""
        self.open.add((stream, direction))  # it may not have begun
        self.end(stream, direction, "reset", by=by)


def _start_line(headers: Headers | None) -> str:
    if headers is None:
        return ""
    fields = dict(headers)
    if ":status" in fields:
        return fields[":status"]
    return f"{fields.get(':method', '?')} {fields.get(':path', '?')}"
