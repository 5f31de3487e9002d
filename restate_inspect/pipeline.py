"""Glue: input events -> framing (one decoder per stream direction) -> the protocol family
of each stream (its frames read, and placed in their attempt).

No printing, no files: the CLI hands in the events of a reader and renders what comes out.
What readers know about streams (StreamInfo, Discovery, StreamEnd) passes through, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from restate_inspect.events import (
    Chunk,
    DecodedFrame,
    Discovery,
    Gap,
    InputEvent,
    RawFrame,
    StreamEnd,
    StreamInfo,
)
from restate_inspect.framing import DEFAULT_MAX_LENGTH, FrameDecoder
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol import (
    Numbering,
    Reader,
    family_of,
    hints_for,
    numbering_for,
    reader_for,
)
from restate_inspect.rules import Problem

Decoded = DecodedFrame | Problem | StreamInfo | Discovery | StreamEnd
LAST_READ_VERSION = 3


class _Stream:
    """One stream: its version, and how its frames are read and numbered."""

    def __init__(self, version: int | None) -> None:
        self.version = version
        self.reader: Reader = reader_for(version)
        self.numbering: Numbering = numbering_for(version)
        self.ended = 0  # directions over


class Decoding:
    """Routes chunks to the frame decoder of their stream direction, and the frames to
    their stream's protocol family."""

    def __init__(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.max_length = max_length
        # per direction, as streams end in that order when the input does
        self._decoders: dict[Direction, dict[StreamKey, FrameDecoder]] = {d: {} for d in Direction}
        self._streams: dict[StreamKey, _Stream] = {}
        self._versions: dict[StreamKey, int] = {}  # from the content type, once known

    def feed(self, event: InputEvent) -> list[Decoded]:
        if isinstance(event, Chunk):
            decoder = self._decoder(event.stream, event.direction)
            return self._read(event.stream, decoder.feed(event.data, event.time, event.packet))
        if isinstance(event, StreamInfo):
            return self._stream_info(event)
        if isinstance(event, Problem | Discovery):
            return [event]
        decoder = self._decoder(event.stream, event.direction)
        if isinstance(event, Gap):
            return self._read(event.stream, decoder.gap(event.length, event.time, event.packet))
        out = [*self._read(event.stream, decoder.end_of_stream()), event]
        del self._decoders[event.direction][event.stream]
        stream = self._stream(event.stream)
        stream.ended += 1
        if stream.ended == len(Direction):  # both bodies are over: forget it
            del self._streams[event.stream]
            self._versions.pop(event.stream, None)
        return out

    def end_of_stream(self) -> list[Decoded]:
        """End every stream that is still open (an input cut short)."""
        out: list[Decoded] = []
        for direction, decoders in self._decoders.items():
            for stream in list(decoders):
                out.extend(self.feed(StreamEnd(stream, direction, "capture")))
        return out

    def _stream_info(self, info: StreamInfo) -> list[Decoded]:
        """A stream's frames are read by the protocol version its content type names; one
        that no family reads is said so once. (Other HTTP has no frames to read, and no
        body of it ends here to forget its version.)"""
        if info.stream in self._versions:
            return [info]  # its version is known: the request's head told it
        version = info.protocol_version
        if version is None or not info.restate:
            return [info]
        self._versions[info.stream] = version
        if family_of(version) is not None:
            return [info]
        text = (
            f"protocol V{version}: restate-inspect interprets V1 to "
            f"V{LAST_READ_VERSION}, and V{version} carries other messages; "
            "this stream's frames are shown by their headers and raw fields, and not checked"
        )
        return [info, Problem("RI114", text, None, None, stream=info.stream)]

    def _stream(self, key: StreamKey) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(self._versions.get(key))
        return stream

    def _decoder(self, stream: StreamKey, direction: Direction) -> FrameDecoder:
        decoders = self._decoders[direction]
        decoder = decoders.get(stream)
        if decoder is None:
            decoder = decoders[stream] = FrameDecoder(
                stream=stream,
                direction=direction,
                max_length=self.max_length,
                hints=hints_for(self._versions.get(stream)),
            )
        return decoder

    def _read(self, key: StreamKey, events: list[RawFrame | Problem]) -> list[Decoded]:
        stream = self._stream(key)
        out: list[Decoded] = []
        last: DecodedFrame | None = None
        for event in events:
            if isinstance(event, Problem):
                out.append(_with_entry_index(event, last))
                continue
            frame, problems = stream.reader.read(event)
            last = stream.numbering.number(frame)
            out.append(last)
            out.extend(_with_entry_index(problem, last) for problem in problems)
        return out


def decode_events(
    events: Iterable[InputEvent], *, max_length: int = DEFAULT_MAX_LENGTH
) -> Iterator[Decoded]:
    decoding = Decoding(max_length=max_length)
    for event in events:
        yield from decoding.feed(event)
    yield from decoding.end_of_stream()


def _with_entry_index(problem: Problem, frame: DecodedFrame | None) -> Problem:
    """A frame's own problems follow it and point inside it: they share its entry index."""
    if frame is None or problem.offset is None:
        return problem
    if frame.frame.offset <= problem.offset < frame.frame.end:
        return replace(problem, entry_index=frame.entry_index)
    return problem


def decode_bytes(
    data: bytes,
    *,
    direction: Direction | None = None,
    stream: StreamKey | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> list[Decoded]:
    """One direction's whole body at once: its frames read and numbered, and its problems
    (for tests, small inputs and library use)."""
    key = stream or StreamKey("-")
    side = direction or Direction.RUNTIME_TO_SDK
    events: list[InputEvent] = [Chunk(key, side, data), StreamEnd(key, side)]
    decoded = list(decode_events(events, max_length=max_length))
    return [item for item in decoded if not isinstance(item, StreamEnd)]
