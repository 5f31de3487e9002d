"""Where every record came from: the stream, the direction, the byte span."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Direction(StrEnum):
    """Which body of the HTTP exchange the bytes travel in."""

    RUNTIME_TO_SDK = "runtime_to_sdk"  # the request body
    SDK_TO_RUNTIME = "sdk_to_runtime"  # the response body

    @property
    def arrow(self) -> str:
        return "→" if self is Direction.RUNTIME_TO_SDK else "←"

    @property
    def label(self) -> str:
        return "runtime → SDK" if self is Direction.RUNTIME_TO_SDK else "SDK → runtime"

    @property
    def body(self) -> str:
        return "request" if self is Direction.RUNTIME_TO_SDK else "response"

    @property
    def sender(self) -> str:
        return "the runtime" if self is Direction.RUNTIME_TO_SDK else "the SDK"

    @property
    def other(self) -> Direction:
        return (
            Direction.SDK_TO_RUNTIME
            if self is Direction.RUNTIME_TO_SDK
            else Direction.RUNTIME_TO_SDK
        )


class StreamKey(NamedTuple):
    """One HTTP stream: an input file (or pair of files), or, in a capture, a TCP connection
    ("tcp1", numbered as Wireshark's tcp.stream) and an exchange on it: "s3" for HTTP/2
    stream 3, "m2" for the second HTTP/1.1 request/response. Printed as "tcp1/s3".

    A NamedTuple: it keys every per-stream table, and its hash is computed in C."""

    source: str
    exchange: str | None = None

    def __str__(self) -> str:
        return self.source if self.exchange is None else f"{self.source}/{self.exchange}"
