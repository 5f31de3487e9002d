"""What the HTTP layers (HTTP/2 and HTTP/1.1) tell the capture reader, per exchange."""

from __future__ import annotations

from typing import NamedTuple

from restate_inspect.location import Direction
from restate_inspect.readers.events import Headers, find_header


class HttpHead(NamedTuple):
    """The start of a request or a response. headers is None when they could not be read
    (an HTTP/2 capture that starts mid-connection lacks the HPACK context)."""

    exchange: str  # "s3" (HTTP/2 stream 3) or "m2" (the second HTTP/1.1 exchange)
    direction: Direction  # request: runtime_to_sdk, response: sdk_to_runtime
    headers: Headers | None
    start_line: str  # "POST /invoke/S/h" or "200"; "" when unknown
    time: float | None
    packet: int

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


class HttpBody(NamedTuple):
    exchange: str
    direction: Direction
    data: bytes
    time: float | None
    packet: int


class HttpGap(NamedTuple):
    exchange: str
    direction: Direction
    length: int  # body bytes the capture lacks
    time: float | None
    packet: int


class HttpEnd(NamedTuple):
    exchange: str
    direction: Direction
    how: str  # "end" (END_STREAM, the last chunk, Content-Length reached), "reset", "closed"
    time: float | None
    packet: int
    by: Direction | None = None  # a reset: the direction whose sender reset the stream


HttpEvent = HttpHead | HttpBody | HttpGap | HttpEnd
