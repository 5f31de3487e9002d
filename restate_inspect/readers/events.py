"""What readers hand to the pipeline: stream bytes per direction, gaps, ends, and what is
known about each HTTP stream."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final, NamedTuple

from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import Problem

Headers = tuple[tuple[str, str], ...]
INVOCATION_CONTENT_TYPE: Final = "application/vnd.restate.invocation.v"  # then N


def media_type(content_type: str | None) -> str:
    """A content type as compared: without its parameters, in lowercase."""
    return (content_type or "").split(";")[0].strip().lower()


@functools.lru_cache(maxsize=64)  # a capture holds a few content types, asked for often
def invocation_version(content_type: str | None) -> int | None:
    """N from `application/vnd.restate.invocation.vN`; None for any other content type."""
    kind = media_type(content_type)
    number = kind[len(INVOCATION_CONTENT_TYPE) :]
    if kind.startswith(INVOCATION_CONTENT_TYPE) and number.isascii() and number.isdigit():
        return int(number)  # isdigit() alone takes "²", which int() refuses
    return None


def find_header(headers: Headers | None, name: str) -> str | None:
    """The value of the first header called name (given in lowercase), in any case."""
    for key, value in headers or ():
        if len(key) == len(name) and key.lower() == name:
            return value
    return None


class Chunk(NamedTuple):
    """Bytes of one direction's body, in order."""

    stream: StreamKey
    direction: Direction
    data: bytes
    time: float | None = None
    packet: int | None = None


class Gap(NamedTuple):
    """Bytes of one direction's body that the capture lacks. length 0: an unknown amount."""

    stream: StreamKey
    direction: Direction
    length: int
    time: float | None = None
    packet: int | None = None


class StreamEnd(NamedTuple):
    """One direction's body is over: "end" (complete), "reset", "closed" (the connection
    went away), "capture" (the capture ended first)."""

    stream: StreamKey
    direction: Direction
    how: str = "end"
    time: float | None = None
    # the packet whose reading ended it (n - 0.5: capture time did, before packet n was
    # read; see CaptureDecoder); None: the capture's end
    packet: float | None = None
    body_bytes: int | None = None
    by: Direction | None = None  # a reset: the direction whose sender reset the stream


class StreamInfo(NamedTuple):
    """What a capture tells about an HTTP stream, once a head is seen (sent again when the
    response head arrives). kind: "invocation", "discovery", "other" or "unknown" (no
    headers: a capture that starts mid-connection). A NamedTuple, as the other events: made
    twice per stream and sent between processes, where a frozen dataclass is slow both ways."""

    stream: StreamKey
    kind: str
    connection: str  # "10.0.0.1:40000 -> 10.0.0.2:9080", client first
    http_version: str  # "HTTP/2" or "HTTP/1.1"
    time: float | None
    packet: int | None
    method: str | None = None
    path: str | None = None
    request_headers: Headers | None = None
    status: str | None = None
    response_headers: Headers | None = None
    notes: tuple[str, ...] = ()

    def header(self, name: str, *, response: bool = False) -> str | None:
        return find_header(self.response_headers if response else self.request_headers, name)

    @property
    def restate(self) -> bool:
        """Is it a Restate stream, whose frames are read: an invocation, or a stream whose
        kind its headers do not tell?"""
        return self.kind in ("invocation", "unknown")

    @property
    def protocol_version(self) -> int | None:
        """N from `content-type: application/vnd.restate.invocation.vN`."""
        for headers in (self.request_headers, self.response_headers):
            version = invocation_version(find_header(headers, "content-type"))
            if version is not None:
                return version
        return None

    @property
    def target(self) -> tuple[str, str] | None:
        """(service, handler) from `…/invoke/{service}/{handler}`."""
        parts = (self.path or "").split("?")[0].split("/")
        if "invoke" in parts:
            index = len(parts) - 1 - parts[::-1].index("invoke")
            if len(parts) >= index + 3:
                return parts[index + 1], parts[index + 2]
        return None


@dataclass(frozen=True, slots=True)
class Discovery:
    """A discovery exchange's response body: the endpoint manifest (JSON)."""

    stream: StreamKey
    body: bytes
    time: float | None = None


InputEvent = Chunk | Gap | StreamEnd | StreamInfo | Discovery | Problem
