"""From captured packets to Restate streams (sans-IO): packets -> TCP -> HTTP/2 or HTTP/1.1
-> exchanges -> input events.

Restate traffic is recognised by content, on any port: an invocation is a POST to
`…/invoke/{service}/{handler}` with `content-type: application/vnd.restate.invocation.vN`;
`/discover` and `/discovery` are discovery exchanges, whose manifest is kept; other HTTP is
listed and skipped. Without headers (a capture that starts mid-connection) an exchange is
an invocation when its body begins with a plausible Restate frame header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from restate_inspect.events import (
    Chunk,
    Connection,
    Discovery,
    Gap,
    HttpBody,
    HttpEnd,
    HttpEvent,
    HttpGap,
    HttpHead,
    InputEvent,
    Packet,
    StreamEnd,
    StreamInfo,
    TcpClosed,
    TcpData,
    TcpEvent,
    TcpGap,
    show_endpoint,
)
from restate_inspect.headers import INVOCATION_CONTENT_TYPE, find_header, media_type
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.http1 import Http1Connection, looks_like_request
from restate_inspect.readers.http2 import PREFACE, Http2Connection
from restate_inspect.readers.http2sync import looks_like_http2
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.tcp import TcpReassembler
from restate_inspect.rules import Problem

MAX_MANIFEST: Final = 4 * 1024 * 1024
_DETECT_BYTES: Final = 64  # enough to tell HTTP/2, HTTP/1.1 or neither from a start
_MID_STREAM_BYTES: Final = 1024  # joined mid-stream: enough to find a chain of HTTP/2 frames
# An HTTP/2 server sends its SETTINGS (and perhaps a WINDOW_UPDATE), some tens of bytes, and
# then nothing until its client's preface and requests come: this much from it alone means
# that the capture has only its side
_SERVER_ALONE_BYTES: Final = 256
_CLOSE_HOW: Final = {"fin": "closed", "rst": "reset", "end": "capture"}


def classify(method: str | None, path: str | None, content_type: str | None) -> str:
    path = (path or "").split("?")[0]
    kind = media_type(content_type)
    if method == "POST" and "/invoke/" in path and kind.startswith(INVOCATION_CONTENT_TYPE):
        return "invocation"
    if method in ("GET", "POST") and path.rstrip("/").endswith(("/discover", "/discovery")):
        return "discovery"  # runtimes ask with GET; some older ones POSTed
    return "other"


def _restate_header(data: bytes, direction: Direction) -> bool:
    """Could these 8 bytes start a Restate body in this direction? The runtime's begins
    with a StartMessage; the SDK's with a control message, a journal entry or command (of
    any protocol version), or a custom type; and no version has a flag but 0x8000 and 1."""
    type_code = int.from_bytes(data[:2], "big")
    flags = int.from_bytes(data[2:4], "big")
    length = int.from_bytes(data[4:8], "big")
    if direction is Direction.RUNTIME_TO_SDK:
        return type_code == 0 and flags == 0 and 0 < length < 1 << 20
    known = type_code < _FIRST_UNKNOWN_CONTROL or _ENTRIES[0] <= type_code <= _ENTRIES[1]
    return (known or type_code >= _CUSTOM) and not flags & ~0x8001 and length < 1 << 26


_FIRST_UNKNOWN_CONTROL: Final = 0x0008
_ENTRIES: Final = (0x0400, 0x0C09)  # V4+ commands, V1-V3 entries
_CUSTOM: Final = 0xFC00


def _encrypted(label: str, link: _Link) -> Problem:
    return Problem(
        "RI314",
        f"{label} ({link.connection.label()}) is TLS: encrypted, so its HTTP cannot be read; "
        "capture where the traffic is plain (h2c or HTTP/1.1), or decrypt it first "
        "(Wireshark with an SSLKEYLOGFILE can export the plain streams)",
        None,
        None,
    )


def _tls_record(data: bytes) -> bool:
    """Does the data begin with a TLS record header (handshake, alert, data; TLS 1.0-1.3)?
    As an HTTP/2 frame header these bytes would announce a frame of over a megabyte."""
    return len(data) >= 3 and 0x14 <= data[0] <= 0x17 and data[1] == 3 and data[2] <= 4


def _text_line(data: bytes) -> bool:
    """Does the data begin with a line of printable ASCII (a text protocol's greeting)?"""
    line, newline, _ = data[:_DETECT_BYTES].partition(b"\n")
    return (
        bool(newline) and line.rstrip(b"\r").isascii() and line.rstrip(b"\r").decode().isprintable()
    )


@dataclass
class _Exchange:
    key: StreamKey
    info: StreamInfo
    bytes: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    held: list[HttpEvent] = field(default_factory=list)  # kind "unknown": until decided
    manifest: bytearray = field(default_factory=bytearray)
    ended: set[Direction] = field(default_factory=set)


@dataclass
class _Link:
    """What is known about one TCP connection's application protocol."""

    connection: Connection
    protocol: Http1Connection | Http2Connection | None = None
    undecided: list[bytearray] = field(default_factory=lambda: [bytearray(), bytearray()])
    ignored: bool = False
    closed: set[int] = field(default_factory=set)
    http_version: str = ""
    held_since: tuple[float | None, int] = (None, 0)  # time and packet of the last held bytes
    exchanges: dict[str, _Exchange] = field(default_factory=dict)


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


def _neither(link: _Link) -> Problem:
    label = f"tcp{link.connection.index} ({link.connection.label()})"
    return Problem("RI314", f"{label} is neither HTTP/2 nor HTTP/1.1; skipped", None, None)


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
        decoded = self._packets.decode(packet)
        if decoded is None:
            return events
        if isinstance(decoded, Problem):
            return [*events, decoded]
        tcp_events = self._tcp.feed(decoded)
        if not tcp_events:
            return events
        http = self._tcp_events(tcp_events)
        return events + http if events else http

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
                exchange = link.exchanges.get(getattr(event, "exchange", ""))
                began = (exchange.info.packet or 0) if exchange is not None else 0
                ended.append((began, index, order, link, event))
            due = link.protocol.streams.next_due
            if due is None:  # nothing left that time ends (a reset without times: the close)
                del self._waiting[index]
            else:
                self._due = min(self._due, due)
        out: list[InputEvent] = []
        for *_order, link, event in sorted(ended, key=lambda item: item[:3]):
            out += self._http_events(link, [event])
        return out

    def end_of_stream(self) -> list[InputEvent]:
        self._now = None
        fragments = self._packets.incomplete_fragments()
        events: list[InputEvent] = list(fragments)
        events += self._tcp_events(self._tcp.end_of_stream())
        return events

    # --- TCP to HTTP -------------------------------------------------------------------

    def _tcp_events(self, tcp_events: list[TcpEvent]) -> list[InputEvent]:
        out: list[InputEvent] = []
        for event in tcp_events:
            if isinstance(event, Problem):
                out.append(event)
                continue
            link = self._links.get(event.connection.index)
            if link is None:
                link = self._links[event.connection.index] = _Link(event.connection)
            if not link.ignored:
                out += self._http_events(link, self._to_http(link, event))
                protocol = link.protocol
                if isinstance(protocol, Http2Connection) and protocol.streams.new_resets:
                    # a stream was reset: it ends once capture time says so
                    protocol.streams.new_resets = False
                    due = protocol.streams.next_due
                    if due is not None:
                        self._waiting[link.connection.index] = link
                        self._due = min(self._due, due)
            if isinstance(event, TcpClosed):
                link.closed.add(event.side)
                if len(link.closed) == 2:
                    out += self._undecided_close(link)
                    del self._links[event.connection.index]
                    self._waiting.pop(event.connection.index, None)
        return out

    def _to_http(self, link: _Link, event: TcpEvent) -> list[HttpEvent | Problem]:
        if isinstance(event, TcpData):
            if link.protocol is None:
                return self._detect(link, event)
            events = link.protocol.feed(event.side, event.data, event.time, event.packet)
            if isinstance(link.protocol, Http1Connection) and link.protocol.upgraded:
                events += self._upgrade(link, link.protocol, event)
            return events
        events = []
        if link.protocol is None and isinstance(event, TcpClosed):
            events = self._detect_at_close(link)
        if link.protocol is None:
            return events
        if isinstance(event, TcpGap):
            return link.protocol.gap(event.side, event.length, event.time, event.packet)
        assert isinstance(event, TcpClosed)
        return events + link.protocol.close(event.side, _CLOSE_HOW[event.how], event.by)

    def _detect(self, link: _Link, event: TcpData) -> list[HttpEvent | Problem]:
        """Tell HTTP/2 from HTTP/1.1 from anything else by the first bytes of each side.

        With the SYN seen, the client is known and its own first bytes decide (an HTTP/2
        server may send SETTINGS before the client's preface arrives).
        """
        link.undecided[event.side] += event.data
        link.held_since = (event.time, event.packet)
        return self._decided(link, self._decide_protocol(link))

    def _detect_at_close(self, link: _Link) -> list[HttpEvent | Problem]:
        """A side closed before its connection was told apart: what little the server
        sent alone may still be HTTP/2 (a short exchange on its own connection)."""
        if link.ignored or not any(link.undecided):
            return []
        return self._decided(link, self._decide_protocol(link, closing=True))

    def _decided(
        self, link: _Link, decided: Http1Connection | Http2Connection | Problem | None
    ) -> list[HttpEvent | Problem]:
        if decided is None:
            return []
        if isinstance(decided, Problem):
            link.ignored = True
            return [decided]
        link.protocol = decided
        events: list[HttpEvent | Problem] = []
        for side in (decided.client_side, 1 - decided.client_side):
            if link.undecided[side]:
                events += decided.feed(side, bytes(link.undecided[side]), *link.held_since)
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
        link.protocol, link.http_version = http2, "HTTP/2"
        events: list[HttpEvent | Problem] = []
        for side in (http2.client_side, 1 - http2.client_side):
            if rests[side]:
                events += http2.feed(side, rests[side], event.time, event.packet)
        return events

    def _decide_protocol(
        self, link: _Link, *, closing: bool = False
    ) -> Http1Connection | Http2Connection | Problem | None:
        label = f"tcp{link.connection.index}"
        firsts = [bytes(held[:_DETECT_BYTES]) for held in link.undecided]
        for side, first in enumerate(firsts):
            if first.startswith(PREFACE):
                link.http_version = "HTTP/2"
                return Http2Connection(side, label=label)
            if looks_like_request(first) or first.startswith(b"HTTP/1."):
                link.http_version = "HTTP/1.1"
                return Http1Connection(side if looks_like_request(first) else 1 - side, label=label)
        if any(_tls_record(first) for first in firsts):
            return _encrypted(label, link)
        client: int | None = 0 if link.connection.syn_seen else None
        speaking = [side for side in (0, 1) if firsts[side]] if client is None else [0]
        for side in speaking:
            first = bytes(link.undecided[side][:_MID_STREAM_BYTES])
            if PREFACE.startswith(first[:24]) or len(first) < 9:
                continue  # too early to tell
            if looks_like_http2(first):
                link.http_version = "HTTP/2"
                guess = self._guess_client(link.connection) if client is None else client
                return Http2Connection(guess, preface=False, label=label)
            if len(first) >= _MID_STREAM_BYTES or _text_line(first):
                return _neither(link)
        alone = _SERVER_ALONE_BYTES if not closing else 9  # closing: all it will send
        if client == 0 and not firsts[0] and len(link.undecided[1]) >= alone:
            # The server sent this much and its client (whose SYN was seen) nothing, not even
            # HTTP/2's preface: a capture of the server's side only (RI316), read from its start.
            if not looks_like_http2(bytes(link.undecided[1][:_MID_STREAM_BYTES])):
                return _neither(link)
            link.http_version = "HTTP/2"
            return Http2Connection(0, label=label)
        return None

    @staticmethod
    def _guess_client(connection: Connection) -> int:
        """Mid-connection: the SYN sender if seen, else the side on the higher port."""
        if connection.syn_seen:
            return 0
        return 0 if connection.first[1] > connection.second[1] else 1

    def _undecided_close(self, link: _Link) -> list[InputEvent]:
        if link.protocol is None and not link.ignored and any(link.undecided):
            label = f"tcp{link.connection.index}"
            return [Problem("RI314", f"{label} ends before it shows HTTP; skipped", None, None)]
        return []

    # --- HTTP to Restate ---------------------------------------------------------------

    def _http_events(self, link: _Link, events: list[HttpEvent | Problem]) -> list[InputEvent]:
        out: list[InputEvent] = []
        for event in events:
            if isinstance(event, Problem):
                out.append(event)
            elif isinstance(event, HttpHead):
                out += self._head(link, event)
            else:
                exchange = link.exchanges.get(event.exchange)
                if exchange is not None:
                    out += self._body_event(link, exchange, event)
        return out

    def _head(self, link: _Link, head: HttpHead) -> list[InputEvent]:
        exchange = link.exchanges.get(head.exchange)
        if exchange is None:
            key = StreamKey(f"tcp{link.connection.index}", head.exchange)
            info = StreamInfo(
                key,
                "unknown",
                self._connection_label(link),
                link.http_version,
                head.time,
                head.packet,
            )
            exchange = link.exchanges[head.exchange] = _Exchange(key, info)
        info = exchange.info
        if head.direction is Direction.RUNTIME_TO_SDK:
            method, _, path = head.start_line.partition(" ")
            kind = info.kind
            if head.headers is not None:
                content_type = find_header(head.headers, "content-type")
                kind = classify(method, path, content_type)
            info = StreamInfo(
                info.stream, kind, info.connection, info.http_version, info.time, info.packet,
                method or None, path or None, head.headers, info.status, info.response_headers,
            )  # fmt: skip
        else:
            info = StreamInfo(
                info.stream, info.kind, info.connection, info.http_version, info.time, info.packet,
                info.method, info.path, info.request_headers, head.start_line or None, head.headers,
            )  # fmt: skip
        exchange.info = info
        return [info]

    def _body_event(self, link: _Link, exchange: _Exchange, event: HttpEvent) -> list[InputEvent]:
        kind = exchange.info.kind
        if kind == "unknown":
            exchange.held.append(event)
            return self._decide(link, exchange, event)
        if isinstance(event, HttpBody):
            exchange.bytes[event.direction] += len(event.data)
            if kind == "invocation":
                return [Chunk(exchange.key, event.direction, event.data, event.time, event.packet)]
            if kind == "discovery" and event.direction is Direction.SDK_TO_RUNTIME:
                exchange.manifest += event.data[: MAX_MANIFEST - len(exchange.manifest)]
            return []
        if isinstance(event, HttpGap):
            return (
                [Gap(exchange.key, event.direction, event.length, event.time, event.packet)]
                if kind == "invocation"
                else []
            )
        assert isinstance(event, HttpEnd)
        return self._end(link, exchange, event)

    def _decide(self, link: _Link, exchange: _Exchange, event: HttpEvent) -> list[InputEvent]:
        """An exchange without headers: look at the first body bytes of each direction."""
        held = exchange.held
        for direction in Direction:
            body = b"".join(
                e.data for e in held if isinstance(e, HttpBody) and e.direction is direction
            )
            if len(body) >= 8:
                restate = _restate_header(body, direction)
                break
        else:
            if len({e.direction for e in held if isinstance(e, HttpEnd)}) < 2:
                return []  # not enough bytes yet to tell
            restate = False
        exchange.info = exchange.info._replace(kind="invocation" if restate else "other")
        exchange.held = []
        out: list[InputEvent] = [exchange.info]
        for waiting in held:
            out += self._body_event(link, exchange, waiting)
        return out

    def _end(self, link: _Link, exchange: _Exchange, event: HttpEnd) -> list[InputEvent]:
        out: list[InputEvent] = []
        if exchange.info.kind == "discovery" and event.direction is Direction.SDK_TO_RUNTIME:
            out.append(Discovery(exchange.key, bytes(exchange.manifest), event.time))
        body_bytes = exchange.bytes[event.direction]
        out.append(
            StreamEnd(
                exchange.key,
                event.direction,
                event.how,
                event.time,
                self._now,
                body_bytes,
                event.by,
            )
        )
        exchange.ended.add(event.direction)
        if len(exchange.ended) == 2:
            del link.exchanges[event.exchange]
        return out

    def _connection_label(self, link: _Link) -> str:
        """client -> server, where the HTTP layer has told which is which (ASCII: it goes
        into every stream record)."""
        connection = link.connection
        protocol = link.protocol
        client_first = protocol is None or protocol.client_side == 0
        a, b = (
            (connection.first, connection.second)
            if client_first
            else (connection.second, connection.first)
        )
        return f"{show_endpoint(a)} -> {show_endpoint(b)}"
