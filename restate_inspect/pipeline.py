"""Glue: input events -> frame decoders (one per stream direction) -> numbered frames.

No printing, no files: the CLI hands in the events of a reader and renders what comes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from restate_inspect.framing import DEFAULT_MAX_LENGTH, Frame, FrameDecoder
from restate_inspect.journal import DecodedFrame, EntryNumbering
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers import Chunk, InputEvent, StreamEnd
from restate_inspect.rules import Problem

Decoded = DecodedFrame | Problem


class Decoding:
    """Routes chunks to the frame decoder of their stream direction and numbers entries."""

    def __init__(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.max_length = max_length
        self._decoders: dict[tuple[StreamKey, Direction], FrameDecoder] = {}
        self._numbering: dict[StreamKey, EntryNumbering] = {}

    def process(self, event: InputEvent) -> list[Decoded]:
        if isinstance(event, Problem):
            return [event]
        decoder = self._decoder(event.stream, event.direction)
        if isinstance(event, Chunk):
            frames = decoder.feed(event.data, event.time, event.packet)
        else:
            frames = decoder.end_of_stream()
            del self._decoders[(event.stream, event.direction)]
        return self._numbered(event.stream, frames)

    def finish(self) -> list[Decoded]:
        """End every stream that is still open (an input cut short)."""
        out: list[Decoded] = []
        for stream, direction in list(self._decoders):
            out.extend(self.process(StreamEnd(stream, direction)))
        return out

    def _decoder(self, stream: StreamKey, direction: Direction) -> FrameDecoder:
        key = (stream, direction)
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = FrameDecoder(stream=stream, direction=direction, max_length=self.max_length)
            self._decoders[key] = decoder
        return decoder

    def _numbered(self, stream: StreamKey, events: list[Frame | Problem]) -> list[Decoded]:
        numbering = self._numbering.setdefault(stream, EntryNumbering())
        out: list[Decoded] = []
        last: DecodedFrame | None = None
        for event in events:
            if isinstance(event, Problem):
                out.append(_with_entry_index(event, last))
            else:
                last = numbering.number(event)
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
