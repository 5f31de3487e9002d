"""From captured packets to Restate streams (sans-IO): packets -> TCP -> HTTP/2 or HTTP/1.1
(detect.py tells which) -> exchanges (exchanges.py) -> input events.

Restate traffic is recognised by content, on any port (see exchanges.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from restate_inspect.events import (
    Connection,
    HttpEvent,
    InputEvent,
    Packet,
    TcpClosed,
    TcpData,
    TcpEvent,
    TcpGap,
    show_endpoint,
)
from restate_inspect.readers.detect import Decided, detect
from restate_inspect.readers.exchanges import Exchanges
from restate_inspect.readers.http1 import Http1Connection
from restate_inspect.readers.http2 import Http2Connection
from restate_inspect.readers.httpconnection import HttpConnection
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.tcp import TcpReassembler
from restate_inspect.rules import Problem


@dataclass
class _Link:
    """One TCP connection: its HTTP, once told, and its exchanges."""

    connection: Connection
    exchanges: Exchanges
    protocol: HttpConnection | None = None
    undecided: list[bytearray] = field(default_factory=lambda: [bytearray(), bytearray()])
    ignored: bool = False
    closed: set[int] = field(default_factory=set)
    held_since: tuple[float | None, int] = (None, 0)  # time and packet of the last held bytes

    def speaks(self, protocol: HttpConnection) -> None:
        """The connection's HTTP is told: its exchanges are of that version."""
        self.protocol = protocol
        http2 = isinstance(protocol, Http2Connection)
        self.exchanges.http_version = "HTTP/2" if http2 else "HTTP/1.1"
        self.exchanges.label = _connection_label(self.connection, protocol.client_side)


_NEVER: Final = float("inf")
_TICK: Final = 0.1  # seconds of capture time between looks at the reset streams


def _cut_by_snap_length(packet: Packet) -> Problem:
    """Once per capture: why so many bytes are missing (RI111) from a capture cut so."""
    text = (
        f"packet {packet.number} is in the capture with {len(packet.data)} of its "
        f"{packet.original_length} bytes: the capture cuts packets to a snap length, and the "
        "bytes it cut off are missing (RI111) from every payload it cut; capture without a "
        "limit (tcpdump -s 0, or no packet length limit in Wireshark)"
    )
    return Problem("RI317", text, None, None)


def _connection_label(connection: Connection, client_side: int) -> str:
    """client -> server, as the HTTP layer told them apart (ASCII: it goes into every
    stream record)."""
    a, b = connection.first, connection.second
    client, server = (a, b) if client_side == 0 else (b, a)
    return f"{show_endpoint(client)} -> {show_endpoint(server)}"


class CaptureDecoder:
    def __init__(self) -> None:
        self._packets = PacketDecoder()
        self._tcp = TcpReassembler()
        self._links: dict[int, _Link] = {}
        # the packet being read, for ordering: streams end at it, or between it and the
        # one before (n - 0.5) when capture time ends them (see _settle)
        self._now: float | None = None
        self._waiting: dict[int, _Link] = {}  # HTTP/2 connections with reset streams
        self._due = _NEVER  # the capture time after which one of them has a stream to end
        self._next_tick = -_NEVER  # capture time looks at them each _TICK, not each packet
        self._cut_untold = True  # a snap length's cut: said once

    def feed(self, packet: Packet) -> list[InputEvent]:
        events = []
        time = packet.time
        if time is not None and time >= self._next_tick:
            self._next_tick = (math.floor(time / _TICK) + 1) * _TICK
            if time > self._due:
                events = self._settle(time, packet.number - 0.5)
        self._now = packet.number
        if self._cut_untold and packet.original_length > len(packet.data):  # cut by snap length
            events = [*events, _cut_by_snap_length(packet)]
            self._cut_untold = False
        for decoded in self._packets.feed(packet):
            if isinstance(decoded, Problem):
                events = [*events, decoded]
            elif tcp_events := self._tcp.feed(decoded):
                http = self._tcp_events(tcp_events)
                events = events + http if events else http
        return events

    def idle(self, time: float) -> list[InputEvent]:
        """No packet has come, and capture time has gone on to `time` (a live capture gone
        quiet): what waited on time is over."""
        if time <= self._due or self._now is None:
            return []
        return self._settle(time, self._now + 0.5)

    def _settle(self, time: float, at: float) -> list[InputEvent]:
        """Capture time is `time`: the reset streams of every connection whose frames under
        way have had time to come end, at `at`, between two packets, in the order they
        began. Capture time is looked at on the first packet of each _TICK, not on each."""
        self._now = at
        self._due = _NEVER
        ended: list[tuple[int, int, int, _Link, HttpEvent | Problem]] = []
        for index, link in sorted(self._waiting.items()):
            assert isinstance(link.protocol, Http2Connection)
            for order, event in enumerate(link.protocol.settle(time)):
                began = link.exchanges.began(getattr(event, "exchange", ""))
                ended.append((began, index, order, link, event))
            due = link.protocol.streams.next_due
            if due is None:  # nothing left that time ends (a reset without times: the close)
                del self._waiting[index]
            else:
                self._due = min(self._due, due)
        out: list[InputEvent] = []
        for *_order, link, event in sorted(ended, key=lambda item: item[:3]):
            out += link.exchanges.events([event], self._now)
        return out

    def end_of_stream(self) -> list[InputEvent]:
        self._now = None
        events: list[InputEvent] = list(self._packets.end_of_stream())
        events += self._tcp_events(self._tcp.end_of_stream())
        return events

    # --- TCP to HTTP -------------------------------------------------------------------

    def _tcp_events(self, tcp_events: list[TcpEvent]) -> list[InputEvent]:
        out: list[InputEvent] = []
        for event in tcp_events:
            if isinstance(event, Problem):
                out.append(event)
                continue
            index = event.connection.index
            link = self._links.get(index)
            if link is None:
                link = self._links[index] = _Link(event.connection, Exchanges(f"tcp{index}"))
            if not link.ignored:
                out += link.exchanges.events(self._to_http(link, event), self._now)
                self._watch_resets(link)
            if isinstance(event, TcpClosed):
                link.closed.add(event.side)
                if len(link.closed) == 2:
                    out += self._undecided_close(link)
                    del self._links[index]
                    self._waiting.pop(index, None)
        return out

    def _watch_resets(self, link: _Link) -> None:
        """A stream was reset: it ends once capture time says so."""
        protocol = link.protocol
        if isinstance(protocol, Http2Connection) and protocol.streams.new_resets:
            protocol.streams.new_resets = False
            due = protocol.streams.next_due
            if due is not None:
                self._waiting[link.connection.index] = link
                self._due = min(self._due, due)

    def _to_http(
        self, link: _Link, event: TcpData | TcpGap | TcpClosed
    ) -> list[HttpEvent | Problem]:
        protocol = link.protocol
        if protocol is None:
            events = self._detect(link, event)
            if link.protocol is None or not isinstance(event, TcpClosed):
                return events
            return events + link.protocol.feed(event)
        events = protocol.feed(event)
        if isinstance(protocol, Http1Connection) and protocol.upgraded:
            assert isinstance(event, TcpData)  # what a 101 and the bytes after it came in
            events += self._upgrade(link, protocol, event)
        return events

    def _detect(
        self, link: _Link, event: TcpData | TcpGap | TcpClosed
    ) -> list[HttpEvent | Problem]:
        """The connection's HTTP, told from the first bytes of each side (detect.py); a
        side that closes before it is told may still tell it: what little the server sent
        alone may be HTTP/2 (a short exchange on its own connection)."""
        if isinstance(event, TcpData):
            link.undecided[event.side] += event.data
            link.held_since = (event.time, event.packet)
            return self._decided(link, detect(link.connection, link.undecided))
        if isinstance(event, TcpClosed) and any(link.undecided):
            return self._decided(link, detect(link.connection, link.undecided, closing=True))
        return []

    def _decided(self, link: _Link, decided: Decided) -> list[HttpEvent | Problem]:
        if decided is None:
            return []
        if isinstance(decided, Problem):
            link.ignored = True
            return [decided]
        link.speaks(decided)
        events: list[HttpEvent | Problem] = []
        for side in (decided.client_side, 1 - decided.client_side):
            if link.undecided[side]:
                events += decided.data(side, bytes(link.undecided[side]), *link.held_since)
        link.undecided = [bytearray(), bytearray()]
        return events

    def _upgrade(
        self, link: _Link, http1: Http1Connection, event: TcpData
    ) -> list[HttpEvent | Problem]:
        """The server switched to HTTP/2 (h2c upgrade): what each side sent after HTTP/1.1
        goes to an HTTP/2 reader, the client's preface first."""
        assert http1.upgraded is not None
        exchange, *rests = http1.upgraded
        http2 = Http2Connection(
            http1.client_side, label=f"tcp{link.connection.index}", upgraded=exchange
        )
        link.speaks(http2)
        events: list[HttpEvent | Problem] = []
        for side in (http2.client_side, 1 - http2.client_side):
            if rests[side]:
                events += http2.data(side, rests[side], event.time, event.packet)
        return events

    def _undecided_close(self, link: _Link) -> list[InputEvent]:
        if link.protocol is None and not link.ignored and any(link.undecided):
            label = f"tcp{link.connection.index}"
            return [Problem("RI314", f"{label} ends before it shows HTTP; skipped", None, None)]
        return []
