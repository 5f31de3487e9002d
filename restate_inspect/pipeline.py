"""Glue: input events -> frame decoders (one per stream direction) -> numbered frames.

No printing, no files: the CLI hands in the events of a reader and renders what comes out.
What readers know about streams (StreamInfo, Discovery, StreamEnd) passes through, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from restate_inspect.framing import DEFAULT_MAX_LENGTH, Frame, FrameDecoder
from restate_inspect.journal import DecodedFrame, EntryNumbering
from restate_inspect.location import Direction, StreamKey
from restate_inspect.messages import LAST_INTERPRETED_VERSION, interpreted
from restate_inspect.readers.events import Chunk, Discovery, Gap, InputEvent, StreamEnd, StreamInfo
from restate_inspect.rules import Problem

Decoded = DecodedFrame | Problem | StreamInfo | Discovery | StreamEnd


class Decoding:
    """Routes chunks to the frame decoder of their stream direction and numbers entries."""

    def __init__(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.max_length = max_length
        # per direction, so that no key holds an enum member (their hash is Python code)
        self._decoders: dict[Direction, dict[StreamKey, FrameDecoder]] = {d: {} for d in Direction}
        self._numbering: dict[StreamKey, EntryNumbering] = {}
        self._ended: dict[StreamKey, int] = {}
        self._versions: dict[StreamKey, int] = {}  # from the content type, once known

    def process(self, event: InputEvent) -> list[Decoded]:
        if event.__class__ is Chunk:  # most events are: straight to its frame decoder
            decoder = self._decoders[event.direction].get(event.stream)
            if decoder is None:
                decoder = self._decoder(event.stream, event.direction)
            return self._numbered(event.stream, decoder.feed(event.data, event.time, event.packet))
        if isinstance(event, StreamInfo):
            return self._stream_info(event)
        if isinstance(event, Problem | Discovery):
            return [event]
        decoder = self._decoder(event.stream, event.direction)
        if isinstance(event, Chunk):
            return self._numbered(event.stream, decoder.feed(event.data, event.time, event.packet))
        if isinstance(event, Gap):
            return self._numbered(event.stream, decoder.gap(event.length, event.time, event.packet))
        out: list[Decoded] = [*self._numbered(event.stream, decoder.end_of_stream()), event]
        del self._decoders[event.direction][event.stream]
        self._ended[event.stream] = self._ended.get(event.stream, 0) + 1
        if self._ended[event.stream] == len(Direction):  # both bodies are over: forget it
            del self._ended[event.stream]
            self._numbering.pop(event.stream, None)
            self._versions.pop(event.stream, None)
        return out

    def _stream_info(self, info: StreamInfo) -> list[Decoded]:
        """A stream's frames are read by the protocol version its content type names; one
        that is not interpreted here is said so once. (Other HTTP has no frames to read,
        and no body of it ends here to forget its version.)"""
        if info.stream in self._versions:
            return [info]  # its version is known: the request's head told it
        version = info.protocol_version
        if version is None or not info.restate:
            return [info]
        self._versions[info.stream] = version
        if interpreted(version):
            return [info]
        text = (
            f"protocol V{version}: restate-inspect interprets V1 to "
            f"V{LAST_INTERPRETED_VERSION}, and V{version} carries other messages; "
            "this stream's frames are shown by their headers and raw fields, and not checked"
        )
        return [info, Problem("RI114", text, None, None, stream=info.stream)]

    def finish(self) -> list[Decoded]:
        """End every stream that is still open (an input cut short)."""
        out: list[Decoded] = []
        for direction, decoders in self._decoders.items():
            for stream in list(decoders):
                out.extend(self.process(StreamEnd(stream, direction, "capture")))
        return out

    def _decoder(self, stream: StreamKey, direction: Direction) -> FrameDecoder:
        decoders = self._decoders[direction]
        decoder = decoders.get(stream)
        if decoder is None:
            decoder = FrameDecoder(
                stream=stream,
                direction=direction,
                max_length=self.max_length,
                protocol=self._versions.get(stream),
            )
            decoders[stream] = decoder
        return decoder

    def _numbered(self, stream: StreamKey, events: list[Frame | Problem]) -> list[Decoded]:
        numbering = self._numbering.get(stream)
        if numbering is None:
            numbering = self._numbering[stream] = EntryNumbering()
        out: list[Decoded] = []
        last: DecodedFrame | None = None
        number = numbering.number
        for event in events:
            if event.__class__ is Problem:
                out.append(_with_entry_index(event, last))
            else:
                last = number(event)  # type: ignore[arg-type]
                out.append(last)
        return out


def decode_events(
    events: Iterable[InputEvent], *, max_length: int = DEFAULT_MAX_LENGTH
) -> Iterator[Decoded]:
    decoding = Decoding(max_length=max_length)
    for event in events:
        yield from decoding.process(event)
    yield from decoding.finish()


def _with_entry_index(problem: Problem, frame: DecodedFrame | None) -> Problem:
    """A frame's own problems follow it and point inside it: they share its entry index."""
    if frame is None or problem.offset is None:
        return problem
    if frame.frame.offset <= problem.offset < frame.frame.end:
        return replace(problem, entry_index=frame.entry_index)
    return problem
