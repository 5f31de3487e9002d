"""Sans-IO framing: bytes in, RawFrame and Problem records out.

Each frame is an 8-byte big-endian header (u16 type, u16 flags, u32 body length) and a
protobuf body; every protocol version shares this. FrameDecoder.feed() takes bytes split
anywhere and returns the frames it completed; end_of_stream() reports what was left over.
Frames plus the `undecoded` problem ranges tile the input exactly. What a frame's type and
body mean is the protocol family's to say (restate_inspect.protocol).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Final, Protocol

from google.protobuf.message import Message

from restate_inspect.events import HEADER, HEADER_SIZE, RawFrame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import Problem, counted
from restate_inspect.schemaless import parses

DEFAULT_MAX_LENGTH: Final = 64 * 1024 * 1024
DEFAULT_STREAM: Final = StreamKey("-")
RESYNC_LENGTH: Final = 1024 * 1024  # resynchronising: longer frames are not believed


class TypeHints(Protocol):
    """What framing asks of the protocol about a type code, which it does not interpret."""

    def plausible(self, type_code: int, flags: int) -> bool:
        """Could a frame with this type and flags follow a gap (not a StartMessage, which
        only ever comes first)?"""
        ...

    def describe(self, type_code: int) -> str:
        """The type, as a problem's text names it."""
        ...


class AnyType:
    """Framing on its own: any type but the StartMessage's, with flags no version leaves
    undefined clear; types named by their code."""

    def plausible(self, type_code: int, flags: int) -> bool:
        return type_code != 0 and not flags & ~0x8001

    def describe(self, type_code: int) -> str:
        return f"type {type_code:#06x}"


Event = RawFrame | Problem


def encode_frame(type_code: int, body: bytes | Message = b"", flags: int = 0) -> bytes:
    """Header plus body, as a peer would send it."""
    payload = body.SerializeToString() if isinstance(body, Message) else bytes(body)
    return HEADER.pack(type_code, flags, len(payload)) + payload


class FrameDecoder:
    """Splits one direction of one stream into frames.

    It is in one of three states: framing; lost, after a header declared an impossible
    length (everything up to the next gap or the end is one undecodable range); or
    resynchronising, after a gap, skipping to the next plausible frame.
    """

    def __init__(
        self,
        *,
        stream: StreamKey = DEFAULT_STREAM,
        direction: Direction | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        hints: TypeHints | None = None,
    ) -> None:
        """hints: what the stream's protocol says of type codes, when it is known."""
        self.stream = stream
        self.direction = direction
        self.max_length = max_length
        self.hints = hints or AnyType()
        self._pending: list[bytes] = []  # bytes not yet framed, from self._base on
        self._pending_size = 0
        self._needed = HEADER_SIZE  # pending bytes it takes to make progress
        self._base = 0  # stream offset of the first pending byte
        self._total = 0  # bytes fed so far, gaps included
        self._lost_at: int | None = None  # lost: where the bad header is
        self._resync_from: int | None = None  # resynchronising: where skipping began
        self._search: _Search | None = None  # ... and how far the search got
        self._ended = False

    @property
    def bytes_fed(self) -> int:
        return self._total

    def feed(
        self,
        data: bytes | bytearray | memoryview,
        time: float | None = None,
        packet: int | None = None,
    ) -> list[Event]:
        if self._ended:
            raise ValueError("feed() after end_of_stream()")
        size = len(data)
        self._total += size
        if size == 0 or self._lost_at is not None:
            return []
        if self._pending:
            self._pending.append(bytes(data))
            self._pending_size += size
            if self._pending_size < self._needed:
                return []  # joining now would copy the partial frame again and again
            buffer = b"".join(self._pending)
            self._pending.clear()
        else:
            buffer = bytes(data)
        events: list[Event] = []
        if self._resync_from is not None:
            buffer = self._resynchronise(buffer, events)
            if self._resync_from is not None:  # no frame yet: a candidate waits, unframed
                self._keep(buffer)
                return events
        consumed = self._split(buffer, events, time, packet)
        self._base += consumed
        if self._lost_at is None and consumed < len(buffer):
            self._keep(buffer[consumed:])
        else:
            self._pending_size = 0
        return events

    def gap(self, length: int, time: float | None = None, packet: int | None = None) -> list[Event]:
        """The capture lacks `length` bytes here (0: an unknown number may be missing). The
        frame in progress is lost; decoding resumes at the next plausible frame."""
        if self._ended:
            raise ValueError("gap() after end_of_stream()")
        events = self._unframed(cut_by_gap=True)
        at = self._total
        text = (
            f"{counted(length, 'byte')} missing from the capture at offset {at:#x}"
            if length
            else f"an unknown number of bytes may be missing from the capture at offset {at:#x}"
        )
        events.append(self._problem("RI111", text, at, length, undecoded=True))
        self._total += length
        self._base = self._resync_from = self._total
        self._search = None
        self._lost_at = None
        self._needed = HEADER_SIZE
        return events

    def end_of_stream(self) -> list[Event]:
        self._ended = True
        return self._unframed(cut_by_gap=False)

    def _unframed(self, *, cut_by_gap: bool) -> list[Event]:
        """The bytes since the last frame, which no frame will take now, as one range."""
        rest = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if self._lost_at is not None:
            length = self._total - self._lost_at
            text = (
                f"{counted(length, 'byte')} from offset {self._lost_at:#x} cannot be framed "
                "after the framing error there"
            )
            return [self._problem("RI104", text, self._lost_at, length, undecoded=True)]
        if self._resync_from is not None:
            skipped = self._total - self._resync_from
            text = (
                f"{counted(skipped, 'byte')} at offset {self._resync_from:#x} skipped: "
                "no plausible frame"
            )
            return (
                [self._problem("RI112", text, self._resync_from, skipped, undecoded=True)]
                if skipped
                else []
            )
        return [self._truncated(rest, cut_by_gap)] if rest else []

    def _resynchronise(self, buffer: bytes, events: list[Event]) -> bytes:
        """Skip to the first plausible frame in buffer, or keep what may still start one."""
        assert self._resync_from is not None
        if self._search is None:
            self._search = _Search(self._base, min(self.max_length, RESYNC_LENGTH), self.hints)
        found, keep_from = self._search.find(buffer, self._base)
        if found is None:
            self._base += keep_from
            return buffer[keep_from:]  # no frame can be taken from it: it stays pending
        self._base += found
        skipped = self._base - self._resync_from
        if skipped:
            text = (
                f"{counted(skipped, 'byte')} at offset {self._resync_from:#x} skipped to the next "
                "plausible frame"
            )
            events.append(self._problem("RI112", text, self._resync_from, skipped, undecoded=True))
        self._resync_from = self._search = None
        return buffer[found:]

    def _keep(self, rest: bytes) -> None:
        self._pending = [rest]
        self._pending_size = len(rest)
        if len(rest) < HEADER_SIZE:
            self._needed = HEADER_SIZE
        else:
            self._needed = HEADER_SIZE + HEADER.unpack_from(rest)[2]

    def _split(
        self, buffer: bytes, events: list[Event], time: float | None, packet: int | None
    ) -> int:
        """Append every complete frame in buffer to events; return the bytes consumed."""
        unpack = HEADER.unpack_from
        append = events.append
        base, stream, direction, max_length = (
            self._base,
            self.stream,
            self.direction,
            self.max_length,
        )
        pos, size = 0, len(buffer)
        while size - pos >= HEADER_SIZE:
            type_code, flags, length = unpack(buffer, pos)
            if length > max_length:
                self._lose_framing(base + pos, type_code, length, events)
                return pos
            end = pos + HEADER_SIZE + length
            if end > size:
                break
            body = buffer[pos + HEADER_SIZE : end]
            append(
                RawFrame(
                    stream, direction, base + pos, type_code, flags, length, body, time, packet
                )
            )
            pos = end
        return pos

    def _lose_framing(self, offset: int, type_code: int, length: int, events: list[Event]) -> None:
        self._lost_at = offset
        events.append(
            self._problem(
                "RI103",
                f"{self.hints.describe(type_code)} frame at offset {offset:#x} declares "
                f"{length} body bytes, above the {self.max_length}-byte limit; framing is lost "
                "from here",
                offset,
                HEADER_SIZE,
            )
        )

    def _truncated(self, rest: bytes, cut_by_gap: bool) -> Problem:
        ending = "bytes go missing" if cut_by_gap else "the stream ends"
        if len(rest) < HEADER_SIZE:
            code = "RI113" if cut_by_gap else "RI101"
            text = (
                f"{ending} {counted(len(rest), 'byte')} into a frame header at offset "
                f"{self._base:#x}; a header has {HEADER_SIZE}"
            )
            return self._problem(code, text, self._base, len(rest), undecoded=True)
        type_code, _flags, length = HEADER.unpack_from(rest)
        text = (
            f"{self.hints.describe(type_code)} frame at offset {self._base:#x} declares "
            f"{length} body bytes, but {ending} after {len(rest) - HEADER_SIZE} of them"
        )
        code = "RI113" if cut_by_gap else "RI102"
        return self._problem(code, text, self._base, len(rest), undecoded=True)

    def _problem(
        self, code: str, message: str, offset: int, length: int, *, undecoded: bool = False
    ) -> Problem:
        return Problem(
            code,
            message,
            offset,
            length,
            stream=self.stream,
            direction=self.direction,
            undecoded=undecoded,
        )


def _plausible(buffer: bytes, pos: int, limit: int, hints: TypeHints) -> int | None:
    """The body length, if the header at pos could start a frame after a gap: a type the
    hints find plausible with its flags, and a believable length."""
    type_code, flags, length = HEADER.unpack_from(buffer, pos)
    if length > limit or not hints.plausible(type_code, flags):
        return None
    return int(length)


class _Search:
    """The search for the first plausible frame after a gap, carried from one feed to the
    next: each position is looked at once, and a candidate whose body had not all come is
    looked at again when it has. Searching all the kept bytes again on every feed was
    quadratic: 35 million header checks for 600 KB of headers that claim 500 KB bodies.

    A frame is plausible when its header is, its body parses as protobuf, and what follows
    it is the end of the bytes so far or another plausible header. A candidate whose body
    has not all arrived yet is waited for, unless a plausible frame is found further on.
    Positions are stream offsets. What is kept is bounded as the bytes kept are: a
    candidate waits for at most `limit` bytes.
    """

    def __init__(self, start: int, limit: int, hints: TypeHints) -> None:
        self.at = start  # positions before it have been looked at
        self.limit, self.hints = limit, hints
        self._by_end: list[tuple[int, int]] = []  # waiting candidates: (end, position) heap
        self._waiting: deque[int] = deque()  # ... by position (decided ones left lazily)
        self._decided: set[int] = set()

    def find(self, buffer: bytes, base: int) -> tuple[int | None, int]:
        """(offset in buffer of the first plausible frame, or None; where to keep bytes
        from), buffer holding the stream's bytes from offset base on."""
        top = base + len(buffer)
        found = [pos for pos in self._decidable(top) if self._frame(buffer, base, pos)]
        for pos in range(max(self.at, base), top - HEADER_SIZE + 1):
            length = _plausible(buffer, pos - base, self.limit, self.hints)
            if length is None:
                continue
            end = pos + HEADER_SIZE + length
            if end + HEADER_SIZE > top and end != top:  # decided when more bytes come
                heapq.heappush(self._by_end, (end, pos))
                self._waiting.append(pos)
            elif self._frame(buffer, base, pos):
                found.append(pos)
                break
        self.at = max(self.at, top - HEADER_SIZE + 1)
        if found:
            return min(found) - base, min(found) - base
        while self._waiting and self._waiting[0] in self._decided:
            self._decided.discard(self._waiting.popleft())
        keep = self._waiting[0] if self._waiting else self.at
        return None, keep - base

    def _decidable(self, top: int) -> list[int]:
        """The waiting candidates whose bodies have come, and what follows them (or that
        end where the bytes do)."""
        ready, later = [], []
        while self._by_end and self._by_end[0][0] <= top:
            end, pos = heapq.heappop(self._by_end)
            if end + HEADER_SIZE <= top or end == top:
                ready.append(pos)
            else:
                later.append((end, pos))  # the header after it has not all come
        for waiting in later:
            heapq.heappush(self._by_end, waiting)
        self._decided.update(ready)
        return ready

    def _frame(self, buffer: bytes, base: int, pos: int) -> bool:
        """Whether the candidate at pos, its body all there, is a plausible frame."""
        start = pos - base
        length = HEADER.unpack_from(buffer, start)[2]
        end = start + HEADER_SIZE + length
        if not parses(buffer[start + HEADER_SIZE : end]):
            return False
        return end == len(buffer) or _plausible(buffer, end, self.limit, self.hints) is not None


def decode_all(
    data: bytes,
    *,
    stream: StreamKey = DEFAULT_STREAM,
    direction: Direction | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    hints: TypeHints | None = None,
) -> list[Event]:
    """Every event of a whole stream at once (tests, small inputs)."""
    decoder = FrameDecoder(stream=stream, direction=direction, max_length=max_length, hints=hints)
    return decoder.feed(data) + decoder.end_of_stream()
