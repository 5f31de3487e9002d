"""Where every record came from: the stream, the direction, the byte span."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    """Which body of the HTTP exchange the bytes travel in."""

    RUNTIME_TO_SDK = "runtime_to_sdk"  # the request body
    SDK_TO_RUNTIME = "sdk_to_runtime"  # the response body

    @property
    def arrow(self) -> str:
        return "→" if self is Direction.RUNTIME_TO_SDK else "←"

    @property
    def body(self) -> str:
        return "request" if self is Direction.RUNTIME_TO_SDK else "response"


@dataclass(frozen=True, slots=True, order=True)
class StreamKey:
    """One HTTP stream: an input file, or a connection plus HTTP/2 stream id / HTTP/1.1 exchange."""

    source: str
    stream_id: int | None = None

    def __str__(self) -> str:
        return self.source if self.stream_id is None else f"{self.source}#{self.stream_id}"


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """A half-open range of bytes inside one direction's body."""

    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length
