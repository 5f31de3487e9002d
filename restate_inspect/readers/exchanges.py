"""From one connection's HTTP events to Restate input events (sans-IO): each exchange
(HTTP/2 stream, HTTP/1.1 request and response) is told by its request: an invocation is a
POST to `…/invoke/{service}/{handler}` with `content-type:
application/vnd.restate.invocation.vN`; `/discover` and `/discovery` are discovery
exchanges, whose manifest is kept; other HTTP is listed and skipped. Without headers (a
capture that starts mid-connection) an exchange is an invocation when its body begins with
a plausible Restate frame header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from restate_inspect.events import (
    Chunk,
    Discovery,
    Gap,
    HttpBody,
    HttpEnd,
    HttpEvent,
    HttpGap,
    HttpHead,
    InputEvent,
    StreamEnd,
    StreamInfo,
)
from restate_inspect.headers import INVOCATION_CONTENT_TYPE, find_header, media_type
from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import Problem

MAX_MANIFEST: Final = 4 * 1024 * 1024
_FIRST_UNKNOWN_CONTROL: Final = 0x0008
_ENTRIES: Final = (0x0400, 0x0C09)  # V4+ commands, V1-V3 entries
_CUSTOM: Final = 0xFC00


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


@dataclass
class _Exchange:
    key: StreamKey
    info: StreamInfo
    bytes: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    held: list[HttpEvent] = field(default_factory=list)  # kind "unknown": until decided
    manifest: bytearray = field(default_factory=bytearray)
    ended: set[Direction] = field(default_factory=set)


class Exchanges:
    """The exchanges of one connection, named `source`/exchange ("tcp3/s1")."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.http_version = ""  # once the connection's HTTP is known
        self.label = ""  # client -> server, once known
        self._open: dict[str, _Exchange] = {}

    def began(self, name: str) -> int:
        """The packet an exchange began at (0: not known)."""
        exchange = self._open.get(name)
        return (exchange.info.packet or 0) if exchange is not None else 0

    def events(self, events: list[HttpEvent | Problem], now: float | None) -> list[InputEvent]:
        """What HTTP events mean for Restate; `now`: the packet being read (streams end at
        it), or a place between two."""
        out: list[InputEvent] = []
        for event in events:
            if isinstance(event, Problem):
                out.append(event)
            elif isinstance(event, HttpHead):
                out.append(self._head(event))
            else:
                exchange = self._open.get(event.exchange)
                if exchange is not None:
                    out += self._body_event(exchange, event, now)
        return out

    def _head(self, head: HttpHead) -> StreamInfo:
        exchange = self._open.get(head.exchange)
        if exchange is None:
            key = StreamKey(self.source, head.exchange)
            info = StreamInfo(key, "unknown", self.label, self.http_version, head.time, head.packet)
            exchange = self._open[head.exchange] = _Exchange(key, info)
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
        return info

    def _body_event(
        self, exchange: _Exchange, event: HttpEvent, now: float | None
    ) -> list[InputEvent]:
        kind = exchange.info.kind
        if kind == "unknown":
            exchange.held.append(event)
            return self._decide(exchange, now)
        if isinstance(event, HttpBody):
            exchange.bytes[event.direction] += len(event.data)
            if kind == "invocation":
                return [Chunk(exchange.key, event.direction, event.data, event.time, event.packet)]
            if kind == "discovery" and event.direction is Direction.SDK_TO_RUNTIME:
                exchange.manifest += event.data[: MAX_MANIFEST - len(exchange.manifest)]
            return []
        if isinstance(event, HttpGap):
            if kind != "invocation":
                return []
            return [Gap(exchange.key, event.direction, event.length, event.time, event.packet)]
        assert isinstance(event, HttpEnd)
        return self._end(exchange, event, now)

    def _decide(self, exchange: _Exchange, now: float | None) -> list[InputEvent]:
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
            out += self._body_event(exchange, waiting, now)
        return out

    def _end(self, exchange: _Exchange, event: HttpEnd, now: float | None) -> list[InputEvent]:
        out: list[InputEvent] = []
        if exchange.info.kind == "discovery" and event.direction is Direction.SDK_TO_RUNTIME:
            out.append(Discovery(exchange.key, bytes(exchange.manifest), event.time))
        body_bytes = exchange.bytes[event.direction]
        key, how, by = exchange.key, event.how, event.by
        out.append(StreamEnd(key, event.direction, how, event.time, now, body_bytes, by))
        exchange.ended.add(event.direction)
        if len(exchange.ended) == 2:
            del self._open[event.exchange]
        return out
