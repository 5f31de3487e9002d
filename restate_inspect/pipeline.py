"""Glue: input events -> framing (one decoder per stream direction) -> the protocol family
of each stream (its frames read, and placed in their attempt).

No printing, no files: the CLI hands in the events of a reader and renders what comes out.
What readers know about streams (StreamInfo, Discovery, StreamEnd) passes through, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from restate_inspect.events import (
    HEADER_SIZE,
    READ_VERSIONS,
    Chunk,
    DecodedFrame,
    Discovery,
    Gap,
    InputEvent,
    RawFrame,
    StoredJournal,
    StoredRow,
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
    reader_inferred,
)
from restate_inspect.protocol.inference import (
    HELD_FRAMES,
    Verdict,
    verdict,
    without_later_fields,
)
from restate_inspect.rules import Problem, counted
from restate_inspect.stage import through
from restate_inspect.stored import StoredFrames

Decoded = DecodedFrame | Problem | StreamInfo | Discovery | StreamEnd | StoredJournal


_LABELS = {
    2: "V1/V2 (V1-V3 family; V1 and V2 share a schema)",
    3: "V3 (V1-V3 family)",
    5: "V5 (V4+ family; V4 looks the same)",
    6: "V6 (V4+ family)",
    7: "V7 (V4+ family)",
}


class _Stream:
    """One stream: its version, told or inferred from its first frames (which wait for
    the verdict, with whatever came between them), and how its frames are read and
    placed in their attempt."""

    def __init__(self, key: StreamKey, version: int | None) -> None:
        self.key = key
        # how its frames are read and numbered; None while its version is not known
        self.reading: tuple[Reader, Numbering] | None = None
        self.held: list[RawFrame | Problem | StreamEnd] = []
        self.last: DecodedFrame | None = None  # the frame a framing problem may be about
        self.ended = 0  # directions over
        if version is not None:
            self.reading = reader_for(version), numbering_for(version)
        self.first: list[Decoded] = []  # said before its first frame

    def feed(self, items: Iterable[RawFrame | Problem | StreamEnd]) -> list[Decoded]:
        out, self.first = self.first, []
        for item in items:
            if self.reading is not None:
                out += self._read(item)
                continue
            self.held.append(item)
            if not isinstance(item, RawFrame):
                continue
            found = verdict(item)
            if found is not None:
                out += self._decided(found)
            elif sum(isinstance(i, RawFrame) for i in self.held) >= HELD_FRAMES:
                out += self.cannot_tell()
        return out

    def cannot_tell(self) -> list[Decoded]:
        """No frame told the version (or the input ended first): the frames are shown by
        their headers, and that is said."""
        if self.reading is not None:
            return []
        frames = [i for i in self.held if isinstance(i, RawFrame)]
        leaning = without_later_fields(frames)
        if leaning is not None:
            return self._decided(leaning)
        self.reading = reader_for(None), numbering_for(None)
        if not frames:
            return self._release()
        text = (
            "no content type told this stream's protocol version, and none of its "
            f"{counted(len(frames), 'frame')} tells V1-V3 from V4+: they are shown by their "
            "headers; --protocol-version N reads them as version N"
        )
        return [Problem("RI116", text, None, None, stream=self.key), *self._release()]

    def _decided(self, found: Verdict) -> list[Decoded]:
        raw = found.frame
        assert raw is not None
        self.reading = reader_inferred(found), numbering_for(found.version)
        text = (
            "protocol version inferred, as no content type told it: read as "
            f"{_LABELS.get(found.version, f'V{found.version}')}, from {found.because}; "
            "--protocol-version N to choose"
        )
        problem = Problem("RI115", text, raw.offset, HEADER_SIZE + raw.length,
                          stream=self.key, direction=raw.direction)  # fmt: skip
        return [problem, *self._release()]

    def _release(self) -> list[Decoded]:
        held, self.held = self.held, []
        out: list[Decoded] = []
        for item in held:
            out += self._read(item)
        return out

    def _read(self, item: RawFrame | Problem | StreamEnd) -> list[Decoded]:
        if isinstance(item, Problem):  # a framing problem: about the frame before, maybe
            return [_with_entry_index(item, self.last)]
        if isinstance(item, StreamEnd):
            return [item]
        assert self.reading is not None
        reader, numbering = self.reading
        frame, problems = reader.read(item)
        self.last = numbering.number(frame)
        return [self.last, *(_with_entry_index(problem, self.last) for problem in problems)]


class Decoding:
    """Routes chunks to the frame decoder of their stream direction, and the frames to
    their stream's protocol family. protocol_version: the version of every stream whose
    content type does not tell it (--protocol-version); else it is inferred."""

    def __init__(
        self, *, max_length: int = DEFAULT_MAX_LENGTH, protocol_version: int | None = None
    ) -> None:
        self.max_length = max_length
        self.protocol_version = protocol_version
        # per direction, as streams end in that order when the input does
        self._decoders: dict[Direction, dict[StreamKey, FrameDecoder]] = {d: {} for d in Direction}
        self._streams: dict[StreamKey, _Stream] = {}
        self._versions: dict[StreamKey, int] = {}  # from the content type, once known
        self._stored = StoredFrames()  # journal dumps' rows, made frames

    def feed(self, event: InputEvent) -> list[Decoded]:
        if isinstance(event, Chunk):
            decoder = self._decoder(event.stream, event.direction)
            return self._stream(event.stream).feed(
                decoder.feed(event.data, event.time, event.packet)
            )
        if isinstance(event, StreamInfo):
            return self._stream_info(event)
        if isinstance(event, Problem | Discovery):
            return [event]
        if isinstance(event, StoredJournal):
            version, said = self._stored.version_of(event)
            self._versions[event.stream] = version
            return [event, *said]
        if isinstance(event, StoredRow):
            return [_at_index(item, event) for item in self._stored_row(event)]
        decoder = self._decoder(event.stream, event.direction)
        if isinstance(event, Gap):
            events = decoder.gap(event.length, event.time, event.packet)
            return self._stream(event.stream).feed(events)
        stream = self._stream(event.stream)
        out = stream.feed([*decoder.end_of_stream(), event])
        del self._decoders[event.direction][event.stream]
        stream.ended += 1
        if stream.ended == len(Direction):  # both bodies are over: forget it
            out += stream.cannot_tell()
            del self._streams[event.stream]
            self._versions.pop(event.stream, None)
            self._stored.forget(event.stream)
        return out

    def _stored_row(self, row: StoredRow) -> list[Decoded]:
        frame = self._stored.frame(row)
        if isinstance(frame, Problem):
            return [frame]
        return self._stream(row.stream).feed([frame])

    def end_of_stream(self) -> list[Decoded]:
        """End every stream that is still open (an input cut short); a stream that waited
        for its version without a verdict is shown by its headers."""
        out: list[Decoded] = []
        for direction, decoders in self._decoders.items():
            for stream in list(decoders):
                out.extend(self.feed(StreamEnd(stream, direction, "capture")))
        for waiting in self._streams.values():
            out += waiting.cannot_tell()
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
        return [info, _not_interpreted(version, info.stream)]

    def _version(self, key: StreamKey) -> int | None:
        return self._versions.get(key, self.protocol_version)

    def _stream(self, key: StreamKey) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            version = self._version(key)
            stream = self._streams[key] = _Stream(key, version)
            told = self.protocol_version  # --protocol-version: said as a content type would
            if key not in self._versions and told is not None and family_of(told) is None:
                stream.first.append(_not_interpreted(told, key))
        return stream

    def _decoder(self, stream: StreamKey, direction: Direction) -> FrameDecoder:
        decoders = self._decoders[direction]
        decoder = decoders.get(stream)
        if decoder is None:
            decoder = decoders[stream] = FrameDecoder(
                stream=stream,
                direction=direction,
                max_length=self.max_length,
                hints=hints_for(self._version(stream)),
            )
        return decoder


def _at_index(item: Decoded, row: StoredRow) -> Decoded:
    """A stored row's frame is at its stored index: the dump says it exactly."""
    if isinstance(item, DecodedFrame) and item.frame.row == row.row:
        return DecodedFrame(item.frame, item.context._replace(entry_index=row.entry_index))
    return item


def _not_interpreted(version: int, stream: StreamKey) -> Problem:
    text = (
        f"protocol V{version}: restate-inspect interprets V1 to V{max(READ_VERSIONS)}, "
        f"and V{version} carries other messages; this stream's frames are shown by their "
        "headers and raw fields, and not checked"
    )
    return Problem("RI114", text, None, None, stream=stream)


def decode_events(
    events: Iterable[InputEvent],
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    protocol_version: int | None = None,
) -> Iterator[Decoded]:
    return through(Decoding(max_length=max_length, protocol_version=protocol_version), events)


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
    protocol_version: int | None = None,
) -> list[Decoded]:
    """One direction's whole body at once: its frames read and numbered, and its problems
    (for tests, small inputs and library use)."""
    key = stream or StreamKey("-")
    side = direction or Direction.RUNTIME_TO_SDK
    events: list[InputEvent] = [Chunk(key, side, data), StreamEnd(key, side)]
    decoded = list(decode_events(events, max_length=max_length, protocol_version=protocol_version))
    return [item for item in decoded if not isinstance(item, StreamEnd)]
