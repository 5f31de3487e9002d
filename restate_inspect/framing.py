"""Sans-IO frame codec: bytes in, Frame and Problem records out.

Each frame is an 8-byte big-endian header (u16 type, u16 flags, u32 body length) and a
protobuf body. FrameDecoder.feed() takes bytes split anywhere and returns the frames it
completed; end_of_stream() reports what was left over. Frames plus the `undecoded`
problem ranges tile the input exactly.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, NamedTuple

from google.protobuf.message import Message

from restate_inspect._proto import protocol_pb2 as pb
from restate_inspect.location import Direction, StreamKey, new_record
from restate_inspect.messages import (
    COMPLETED,
    CUSTOM_ENTRY_MIN,
    MESSAGE_TYPES,
    RESERVED_ENTRY_FIELDS,
    MessageType,
    decode_schemaless,
    interpreted,
    lookup,
)
from restate_inspect.rules import Problem, counted

HEADER: Final = struct.Struct(">HHI")
START_MESSAGE_TYPE: Final = 0x0000
HEADER_SIZE: Final = HEADER.size
DEFAULT_MAX_LENGTH: Final = 64 * 1024 * 1024
DEFAULT_STREAM: Final = StreamKey("-")


class Frame(NamedTuple):
    """One framed message.

    A NamedTuple rather than a frozen dataclass: it is just as immutable, and it is built
    once per frame on the hot path (with new_record), where a frozen dataclass costs four
    times as much.
    """

    stream: StreamKey
    direction: Direction | None
    offset: int  # of the header, within this direction's body
    type: int
    flags: int
    length: int  # of the body, header excluded
    body: bytes
    message: Message | None  # None: unknown, custom or V3 type, or a body that does not parse
    time: float | None  # capture time of the packet that completed the frame
    packet: int | None  # number of that packet (1-based, as in Wireshark)
    # The stream's protocol version when it is one restate-inspect does not interpret (V4
    # and later): of its types only the StartMessage's is known here, and decoded.
    foreign_version: int | None = None

    @property
    def end(self) -> int:
        return self.offset + HEADER_SIZE + self.length

    @property
    def message_type(self) -> MessageType | None:
        if self.foreign_version is not None and self.type != START_MESSAGE_TYPE:
            return None
        return lookup(self.type)

    @property
    def type_label(self) -> str:
        """The type's name, or what is known of a type without one."""
        spec = self.message_type
        if spec is not None:
            return spec.name
        if self.foreign_version is not None:
            return f"V{self.foreign_version} message"
        return "unknown type"

    @property
    def name(self) -> str | None:
        spec = self.message_type
        return None if spec is None else spec.name

    def to_bytes(self) -> bytes:
        return HEADER.pack(self.type, self.flags, self.length) + self.body


Event = Frame | Problem


def encode_frame(type_code: int, body: bytes | Message = b"", flags: int = 0) -> bytes:
    """Header plus body, as a peer would send it."""
    payload = body.SerializeToString() if isinstance(body, Message) else bytes(body)
    return HEADER.pack(type_code, flags, len(payload)) + payload


# type code -> (parse, flags that are not allowed), for the frames that need no checks
_FAST_PATH: Final = {
    spec.code: (spec.cls.FromString, 0xFFFF & ~spec.allowed_flags)
    for spec in MESSAGE_TYPES
    if spec.cls is not None
}
# a stream of a version not interpreted here: its StartMessage is the one message it shares
_FOREIGN_FAST_PATH: Final = {START_MESSAGE_TYPE: (pb.StartMessage.FromString, 0)}


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
        protocol: int | None = None,
    ) -> None:
        """protocol: the stream's version, when its content type tells it."""
        self.stream = stream
        self.direction = direction
        self.max_length = max_length
        self.protocol = protocol
        foreign = not interpreted(protocol)
        self._foreign_version = protocol if foreign else None
        self._fast_path = _FOREIGN_FAST_PATH if foreign else _FAST_PATH
        self._pending: list[bytes] = []  # bytes not yet framed, from self._base on
        self._pending_size = 0
        self._needed = HEADER_SIZE  # pending bytes it takes to make progress
        self._base = 0  # stream offset of the first pending byte
        self._total = 0  # bytes fed so far, gaps included
        self._lost_at: int | None = None  # lost: where the bad header is
        self._resync_from: int | None = None  # resynchronising: where skipping began
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
        found, keep_from = _find_frame(buffer, min(self.max_length, RESYNC_LENGTH))
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
        self._resync_from = None
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
        fast_path = self._fast_path
        append = events.append
        base, stream, direction, max_length, foreign_version = (
            self._base,
            self.stream,
            self.direction,
            self.max_length,
            self._foreign_version,
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
            fast = fast_path.get(type_code)
            message = None
            if fast is not None and not flags & fast[1]:
                try:
                    message = fast[0](body)
                except Exception:  # untrusted bytes; _checked_frame reports why
                    fast = None
            frame: Frame = new_record(
                Frame,
                (
                    stream,
                    direction,
                    base + pos,
                    type_code,
                    flags,
                    length,
                    body,
                    message,
                    time,
                    packet,
                    foreign_version,
                ),
            )
            if fast is None or message is None:
                frame, problems = self._checked_frame(frame)
                append(frame)
                events.extend(problems)
            else:
                append(frame)
            pos = end
        return pos

    def _checked_frame(self, frame: Frame) -> tuple[Frame, list[Problem]]:
        """The slow path: a frame that may have something to report."""
        if frame.foreign_version is not None:
            return frame, []  # a protocol not interpreted here: nothing to check it against
        spec = lookup(frame.type)
        problems: list[Problem] = []
        span = (frame.offset, HEADER_SIZE + frame.length)
        if spec is None:
            problems.append(
                self._problem("RI105", f"unknown message type {frame.type:#06x}", *span)
            )
            return frame, problems
        if spec.min_version > (self.protocol or 2):
            problems.append(
                self._problem(
                    "RI106",
                    f"{spec.name} ({spec.hex}) needs protocol V{spec.min_version} or later; "
                    "V1/V2 peers do not know it",
                    *span,
                )
            )
        problems.extend(self._flag_problems(spec, frame.flags, span))
        message, body_problem = self._parse_body(spec, frame)
        if body_problem is not None:
            problems.append(body_problem)
        return frame._replace(message=message), problems

    def _flag_problems(self, spec: MessageType, flags: int, span: tuple[int, int]) -> list[Problem]:
        bad = flags & ~spec.allowed_flags
        problems = []
        if bad & COMPLETED:
            problems.append(
                self._problem(
                    "RI108",
                    f"COMPLETED flag (0x0001) on {spec.name}, which is not completable",
                    *span,
                )
            )
        if bad & ~COMPLETED:
            problems.append(
                self._problem(
                    "RI107",
                    f"reserved flag bits {bad & ~COMPLETED:#06x} set on {spec.name} "
                    f"(flags {flags:#06x})",
                    *span,
                )
            )
        return problems

    def _parse_body(self, spec: MessageType, frame: Frame) -> tuple[Message | None, Problem | None]:
        where = (frame.offset + HEADER_SIZE, frame.length)
        try:
            if spec.cls is not None:
                return spec.cls.FromString(frame.body), None
            fields = decode_schemaless(frame.body)
        except Exception as exc:  # untrusted bytes: every parse failure is a finding
            reason = str(exc).rsplit(": ", 1)[-1] or type(exc).__name__
            text = f"body of {spec.name} ({counted(frame.length, 'byte')}) does not parse: {reason}"
            return None, self._problem("RI109", text, *where)
        reserved = sorted({f.number for f in fields if f.number in RESERVED_ENTRY_FIELDS})
        if spec.code >= CUSTOM_ENTRY_MIN and reserved:
            text = f"custom entry {spec.hex} uses reserved field(s) {reserved}"
            return None, self._problem("RI110", text, *where)
        return None, None

    def _lose_framing(self, offset: int, type_code: int, length: int, events: list[Event]) -> None:
        self._lost_at = offset
        events.append(
            self._problem(
                "RI103",
                f"{_describe(type_code)} frame at offset {offset:#x} declares {length} body "
                f"bytes, above the {self.max_length}-byte limit; framing is lost from here",
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
            f"{_describe(type_code)} frame at offset {self._base:#x} declares {length} body "
            f"bytes, but {ending} after {len(rest) - HEADER_SIZE} of them"
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


RESYNC_LENGTH: Final = 1024 * 1024  # resynchronising: longer frames are not believed


def _plausible(
    buffer: bytes, pos: int, limit: int
) -> tuple[Callable[[bytes], Message], int] | None:
    """(its parser, body length) if the header at pos could start a frame after a gap: a
    V1/V2 type other than StartMessage (only ever the first), allowed flags, a believable
    length."""
    type_code, flags, length = HEADER.unpack_from(buffer, pos)
    fast = _FAST_PATH.get(type_code)
    if fast is None or type_code == 0 or flags & fast[1] or length > limit:
        return None
    return fast[0], length


def _find_frame(buffer: bytes, limit: int) -> tuple[int | None, int]:
    """(offset of the first plausible frame, or None; where to keep bytes from).

    A frame is plausible when its header is, its body parses, and what follows it is the
    end of the bytes so far or another plausible header. A candidate whose body has not
    all arrived yet is waited for, unless a plausible frame is found further on.
    """
    size = len(buffer)
    waiting: int | None = None
    for pos in range(size - HEADER_SIZE + 1):
        candidate = _plausible(buffer, pos, limit)
        if candidate is None:
            continue
        parse, length = candidate
        end = pos + HEADER_SIZE + length
        if end + HEADER_SIZE > size and end != size:
            waiting = pos if waiting is None else waiting  # decide when more bytes come
            continue
        try:
            parse(buffer[pos + HEADER_SIZE : end])
        except Exception:  # untrusted bytes: not this position
            continue
        if end == size or _plausible(buffer, end, limit):
            return pos, pos
    if waiting is not None:
        return None, waiting
    return None, max(0, size - HEADER_SIZE + 1)


def _describe(type_code: int) -> str:
    spec = lookup(type_code)
    return f"{spec.name} ({type_code:#06x})" if spec else f"type {type_code:#06x}"


def decode_all(
    data: bytes,
    *,
    stream: StreamKey = DEFAULT_STREAM,
    direction: Direction | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> list[Event]:
    """Every event of a whole stream at once (tests, small inputs)."""
    decoder = FrameDecoder(stream=stream, direction=direction, max_length=max_length)
    return decoder.feed(data) + decoder.end_of_stream()
