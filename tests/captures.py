"""Helpers of the synthetic-capture tests (tests/test_readers_*.py): the sample exchange, and
what a capture decodes to, by direction and stream."""

from __future__ import annotations

from typing import Any

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.location import Direction
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import capture_events
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.helpers import SAMPLES
from tests.helpers import read_all as decode_all

REQUEST = (SAMPLES / "v1-call-other.req.bin").read_bytes()
RESPONSE = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1, /) -> bytes:
        chunk = self.data[self.pos : self.pos + size if size >= 0 else None]
        self.pos += len(chunk)
        return chunk


def decode(capture: bytes) -> list[Any]:
    return list(decode_events(capture_events(_Bytes(capture), "test")))


def frames_of(items: list[Any], direction: Direction, stream: str | None = None) -> list[Frame]:
    return [
        i.frame
        for i in items
        if isinstance(i, DecodedFrame)
        and i.frame.direction is direction
        and (stream is None or str(i.frame.stream) == stream)
    ]


def problems(items: list[Any]) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem)]


def shape(frames: list[Frame]) -> list[tuple[Any, ...]]:
    return [(f.offset, f.type, f.flags, f.length, f.body) for f in frames]


def expected(body: bytes) -> list[tuple[Any, ...]]:
    return shape([e for e in decode_all(body) if isinstance(e, Frame)])


def assert_whole_exchange(items: list[Any], stream: str = "tcp0/s1") -> None:
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
    assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)


def h2_packets(**options: Any) -> list[cw.Packet]:
    return cw.conversation_packets(cw.h2_exchange(REQUEST, RESPONSE), **options)


def sample_talk(segment: int = 100, **options: Any) -> cw.Conversation:
    """The sample exchange over h2c on one connection, in segments of `segment` bytes."""
    conversation = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080), **options)
    conversation.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        for start in range(0, len(data), segment):
            conversation.segment(side, data[start : start + segment])
    return conversation
