"""Passive HTTP/2 for one TCP connection (sans-IO), with hyperframe for the frames and hpack
for the headers: one HPACK decoder per direction, its table size taken from the peer's
SETTINGS. Many concurrent streams; HEADERS + CONTINUATION, padding, DATA, END_STREAM,
RST_STREAM (the other side's frames already under way still belong to the stream: see
_settle), GOAWAY (the streams it refuses end). DATA after a direction is over is reported,
not added to its body. A capture that starts mid-connection finds
the frame boundaries by plausibility, routes DATA by stream id, and reports the headers it
cannot decode as unknown.

A TCP gap inside a DATA frame's payload is attributed to that stream exactly and framing
goes on; a gap anywhere else loses framing until the next plausible frame, and every open
stream of that direction is told that an unknown amount may be missing.
"""

from __future__ import annotations

import itertools
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from hpack import Decoder
from hpack.exceptions import HPACKError
from hyperframe.exceptions import HyperframeError
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
)

from restate_inspect.events import HttpBody, HttpEnd, HttpEvent, HttpGap, HttpHead
from restate_inspect.headers import Headers
from restate_inspect.location import Direction
from restate_inspect.rules import Problem, counted

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADER: Final = struct.Struct("!HBBBL")  # 24-bit length as 16 + 8 bits, type, flags, stream
_ENDED_KEPT: Final = 256  # stream directions remembered after their end, per connection
_PLAUSIBLE_LENGTH: Final = 1 << 20  # resynchronising: frames larger than this are not believed
# per type: (flags that may be set, stream id must be 0 / nonzero / either, fixed length)
_SHAPES: Final = {
    0: (0x09, "nonzero", None),  # DATA
    1: (0x2D, "nonzero", None),  # HEADERS
    2: (0x00, "nonzero", 5),  # PRIORITY
    3: (0x00, "nonzero", 4),  # RST_STREAM
    4: (0x01, "zero", None),  # SETTINGS
    5: (0x0C, "nonzero", None),  # PUSH_PROMISE
    6: (0x01, "zero", 8),  # PING
    7: (0x00, "zero", None),  # GOAWAY
    8: (0x00, "either", 4),  # WINDOW_UPDATE
    9: (0x04, "nonzero", None),  # CONTINUATION
}
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x01, 0x04, 0x08, 0x20


def plausible_header(data: bytes | bytearray, pos: int) -> int | None:
    """The frame length, if the 9 bytes at pos could be an HTTP/2 frame header."""
    high, low, kind, flags, stream = _HEADER.unpack_from(data, pos)
    length: int = (high << 8) | low
    shape = _SHAPES.get(kind)
    if shape is None or stream >> 31 or length > _PLAUSIBLE_LENGTH or flags & ~shape[0]:
        return None
    _flags, stream_rule, fixed = shape
    if stream_rule != "either" and (stream_rule == "zero") != (stream == 0):
        return None
    if (fixed is not None and length != fixed) or (kind == 4 and length % 6):
        return None
    return length


def _find_boundary(buffer: bytes, pos: int) -> tuple[int | None, int]:
    """A position from pos on where a plausible frame is followed by another (or by the
    end); else None, and where to look again once more bytes have come: at a frame that
    more bytes may show to be followed by another. Each byte is looked at once, however
    the bytes come (looking again from pos made resynchronising quadratic)."""
    while len(buffer) - pos >= 9:
        length = plausible_header(buffer, pos)
        if length is not None:
            after = pos + 9 + length
            if after == len(buffer):
                return pos, pos
            if after + 9 > len(buffer):
                return None, pos  # wait for more bytes before deciding
            if plausible_header(buffer, after) is not None:
                return pos, pos
        pos += 1
    return None, pos


def looks_like_http2(data: bytes) -> bool:
    """Bytes from the middle of a connection: is there a chain of plausible HTTP/2 frames
    (one reaching the end counts) near their start?"""
    for pos in range(min(len(data) - 9, 512) + 1):
        length = plausible_header(data, pos)
        if length is None:
            continue
        after = pos + 9 + length
        if after == len(data) or (
            after + 9 <= len(data) and plausible_header(data, after) is not None
        ):
            return True
    return False


_IN_FLIGHT: Final = 1.0  # seconds: frames sent before a reset reached their sender come by then


@dataclass
class _Resetting:
    until: float | None  # capture time after which the stream is over (None: at the close)
    time: float | None  # of the reset, or of the stream's last frame after it
    packet: int
    by: Direction  # the direction whose sender reset the stream


@dataclass
class _Side:
    direction: Direction
    buffer: bytes = b""  # bytes not yet taken: a partial frame, usually a few bytes
    decoder: Decoder = field(default_factory=Decoder)
    hpack_ok: bool = True
    synced: bool = True
    skipped: int = 0  # bytes passed over while not synced, said when a frame is found
    preface_pending: bool = False
    block: tuple[int, list[bytes], bool] | None = None  # stream, fragments, END_STREAM
    # the DATA frame being read: stream, payload left, END_STREAM, whether the body takes it
    inside_data: tuple[int, int, bool, bool] | None = None
    # streams of this direction that the other side reset, whose frames sent before the
    # reset reached this side may still come (see _settle)
    resetting: dict[int, _Resetting] = field(default_factory=dict)
    # header blocks that left the HPACK table as it was, with what they decoded to and the
    # table they did it on: a response's head (`:status 200`, its content type, indexed)
    # is the same few bytes in every stream
    known_blocks: dict[bytes, tuple[Headers, _TableState]] = field(default_factory=dict)


class Http2Connection:
    def __init__(
        self, client_side: int, *, preface: bool = True, label: str = "", upgraded: str = ""
    ) -> None:
        """upgraded: the HTTP/1.1 exchange that asked for h2c, when the connection was
        switched: HTTP/2 stream 1 is its response, and keeps its name."""
        self.label = label
        self.client_side = client_side
        self._sides = (
            _Side(Direction.RUNTIME_TO_SDK if client_side == 0 else Direction.SDK_TO_RUNTIME),
            _Side(Direction.SDK_TO_RUNTIME if client_side == 0 else Direction.RUNTIME_TO_SDK),
        )
        self._sides[client_side].preface_pending = preface
        for side in self._sides:
            side.synced = preface  # without a preface, the first frame boundary is a guess
            side.hpack_ok = preface  # ... and the HPACK tables' earlier entries are unknown
        self._open: set[tuple[int, Direction]] = set()  # stream directions not yet ended
        # stream directions that ended lately: a frame that comes after the end (trailers,
        # a late DATA) must not start them again. Bounded, as a connection may carry any
        # number of streams; one that ended longer ago would be taken for a new stream.
        self._ended: OrderedDict[tuple[int, Direction], str] = OrderedDict()  # -> how
        self._names: dict[int, str] = {}
        if upgraded:
            self._names[1] = upgraded
            self._ended[1, self._sides[client_side].direction] = "end"  # sent in HTTP/1.1
        self._events: list[HttpEvent | Problem] = []
        self._time: float | None = None
        self._packet = 0
        # a stream was reset since the capture decoder last asked for next_due: it asks
        # only then, rather than after every packet of a connection that resets streams
        self.new_resets = False
        if not preface:
            self._events.append(
                Problem(
                    "RI312",
                    f"{label}: the capture starts after this HTTP/2 connection did; its HPACK "
                    "context is missing, so its headers are unknown (DATA is routed by stream)",
                    None,
                    None,
                )
            )

    def feed(
        self, side: int, data: bytes, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self._time, self._packet = time, packet
        state = self._sides[side]
        state.buffer = state.buffer + data if state.buffer else data
        self._process(state)
        events, self._events = self._events, []
        return events

    def gap(
        self, side: int, length: int, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self._time, self._packet = time, packet
        state = self._sides[side]
        self._process(state)
        inside = state.inside_data
        if inside is not None and not state.buffer and length <= inside[1]:
            stream, left, end_stream, kept = inside
            if kept:
                self._events.append(
                    HttpGap(self._exchange(stream), state.direction, length, time, packet)
                )
            state.inside_data = (stream, left - length, end_stream, kept)
            self._finish_data(state)
        else:
            self._lose_framing(state, length)
        events, self._events = self._events, []
        return events

    @property
    def next_due(self) -> float | None:
        """The capture time after which settle has a reset stream to end (None: none, or
        none with a time: those end with the connection)."""
        if not (self._sides[0].resetting or self._sides[1].resetting):
            return None
        dues = [
            late.until
            for side in self._sides
            for late in itertools.islice(side.resetting.values(), 1)  # the oldest reset
            if late.until is not None
        ]
        return min(dues, default=None)

    def settle(self, time: float) -> list[HttpEvent | Problem]:
        """Capture time has gone on to `time` (the connection's own packets, or any of the
        capture's, or a live capture's clock): the reset streams whose frames under way
        have had time to come are over. The capture decoder calls this for every connection
        at once."""
        self._time = time
        self._settle()
        events, self._events = self._events, []
        return events

    def close(self, side: int, how: str, by: int | None = None) -> list[HttpEvent | Problem]:
        """The connection's side is over; how: "closed", "reset" or "capture" (its end);
        by: for a reset, the side that sent it."""
        state = self._sides[side]
        reset_by = None if by is None else self._sides[by].direction
        if state.buffer:
            self._events.append(
                self._problem(
                    f"connection closes with {counted(len(state.buffer), 'byte')} of an "
                    "unfinished frame"
                )
            )
        if state.skipped:
            text = f"{counted(state.skipped, 'byte')} skipped, and no plausible HTTP/2 frame"
            self._events.append(self._problem(text + " before the connection closes"))
            state.skipped = 0
        state.buffer = b""
        for stream, late in list(state.resetting.items()):
            self._reset_over(state, stream, late.by)
        for stream, direction in sorted(self._open):
            if direction is state.direction:
                self._end(stream, direction, how, by=reset_by)
        events, self._events = self._events, []
        return events

    # --- framing ---------------------------------------------------------------------

    def _process(self, state: _Side) -> None:
        buffer = state.buffer
        pos = self._preface(state)
        while pos is not None:
            if state.inside_data is not None:
                pos = self._continue_data(state, pos)
                if state.inside_data is not None:
                    break
            if not state.synced:
                found, resume = _find_boundary(buffer, pos)
                if found is None:  # what came before `resume` is not looked at again
                    kept = max(resume, len(buffer) - _PLAUSIBLE_LENGTH)  # a bounded tail
                    state.skipped += kept - pos
                    pos = kept
                    break
                skipped, state.skipped = state.skipped + found - pos, 0
                if skipped:
                    self._events.append(
                        self._problem(
                            f"{counted(skipped, 'byte')} skipped to the next plausible HTTP/2 frame"
                        )
                    )
                pos, state.synced = found, True
            step = self._next_frame(state, pos)
            if step is None:
                break
            pos = step
        if pos:
            state.buffer = buffer[pos:]

    def _preface(self, state: _Side) -> int | None:
        """Where frames begin: after the client's preface, if it is there. None: wait."""
        if not state.preface_pending:
            return 0
        if len(state.buffer) < len(PREFACE):
            return None
        state.preface_pending = False
        if state.buffer.startswith(PREFACE):
            return len(PREFACE)
        state.synced = False  # no preface: the capture began after it
        return 0

    def _next_frame(self, state: _Side, pos: int) -> int | None:
        """Handle the frame at pos; where the next one starts, or None to wait for bytes."""
        buffer = state.buffer
        if len(buffer) - pos < 9:
            return None
        high, low, kind, flags, stream = _HEADER.unpack_from(buffer, pos)
        length: int = (high << 8) | low
        stream &= 0x7FFFFFFF
        if stream in state.resetting and kind in (0, 1, 9):  # DATA, HEADERS, CONTINUATION
            late = state.resetting[stream]
            late.time, late.packet = self._time, self._packet
        if kind == 0 and not flags & _PADDED and stream:
            end = pos + 9 + length
            if end <= len(buffer) and (stream, state.direction) in self._open:
                # the common case, the whole frame of an open stream at hand: what the
                # streaming below would make of it, without its steps
                if length:
                    name = self._names.get(stream) or f"s{stream}"
                    data = buffer[pos + 9 : end]
                    body = HttpBody(name, state.direction, data, self._time, self._packet)
                    self._events.append(body)
                if flags & _END_STREAM:
                    self._end(stream, state.direction, "end")
                return end
            # DATA is streamed as it comes, so that a gap inside it can be placed exactly
            kept = self._data_kept(state, stream, length)
            state.inside_data = (stream, length, bool(flags & _END_STREAM), kept)
            return pos + 9
        end = pos + 9 + length
        if len(buffer) < end:
            return None
        if not self._plain(state, kind, flags, stream, buffer[pos + 9 : end]):
            view = memoryview(buffer)
            self._frame(state, view[pos : pos + 9], view[pos + 9 : end])
        return end

    def _plain(self, state: _Side, kind: int, flags: int, stream: int, payload: bytes) -> bool:
        """The common frames, handled without hyperframe's objects, which cost as much as
        the rest of their reading: HEADERS of a stream without padding or priority, a
        RST_STREAM, a WINDOW_UPDATE (flow control: nothing to follow). False: not one of
        them, or one that is not well formed; hyperframe reads it, and tells what is wrong.
        A property test holds the two readings equal (tests/test_readers_http2.py)."""
        if kind == 1 and stream and not flags & (_PADDED | _PRIORITY):
            state.block = (stream, [payload], bool(flags & _END_STREAM))
            if flags & _END_HEADERS:
                self._header_block(state)
            return True
        if kind == 3 and stream and len(payload) == 4:
            self._reset(state, stream)
            return True
        return kind == 8 and len(payload) == 4 and 0 < int.from_bytes(payload) < 1 << 31

    def _continue_data(self, state: _Side, pos: int) -> int:
        assert state.inside_data is not None
        stream, left, end_stream, kept = state.inside_data
        take = min(left, len(state.buffer) - pos)
        if take and kept:
            data = state.buffer[pos : pos + take]
            self._events.append(
                HttpBody(self._exchange(stream), state.direction, data, self._time, self._packet)
            )
        state.inside_data = (stream, left - take, end_stream, kept)
        self._finish_data(state)
        return pos + take

    def _finish_data(self, state: _Side) -> None:
        assert state.inside_data is not None
        stream, left, end_stream, _kept = state.inside_data
        if left == 0:
            state.inside_data = None
            if end_stream:
                self._end(stream, state.direction, "end")

    def _lose_framing(self, state: _Side, length: int) -> None:
        self._events.append(
            self._problem(
                f"{counted(length, 'byte')} missing; HTTP/2 framing is lost until the next "
                "plausible frame"
            )
        )
        state.buffer = b""
        state.synced = False
        state.inside_data = None
        state.block = None
        for stream, direction in sorted(self._open):
            if direction is state.direction:  # which stream lost bytes is unknown: tell each
                self._events.append(
                    HttpGap(self._exchange(stream), direction, 0, self._time, self._packet)
                )

    # --- frames ----------------------------------------------------------------------

    def _frame(self, state: _Side, header: memoryview, body: memoryview) -> None:
        try:
            frame, _ = Frame.parse_frame_header(header)
            frame.parse_body(body)
        except HyperframeError as exc:
            self._events.append(self._problem(f"invalid HTTP/2 frame skipped: {exc}"))
            return
        if isinstance(frame, HeadersFrame | PushPromiseFrame):
            fragments = [bytes(frame.data)]
            end_stream = isinstance(frame, HeadersFrame) and "END_STREAM" in frame.flags
            stream = frame.stream_id if isinstance(frame, HeadersFrame) else -1  # -1: a push
            state.block = (stream, fragments, end_stream)
            if "END_HEADERS" in frame.flags:
                self._header_block(state)
        elif isinstance(frame, ContinuationFrame) and state.block is not None:
            state.block[1].append(bytes(frame.data))
            if "END_HEADERS" in frame.flags:
                self._header_block(state)
        elif isinstance(frame, DataFrame):  # a padded one: the unpadded are streamed above
            if not self._data_kept(state, frame.stream_id, len(frame.data)):
                return
            if frame.data:
                self._events.append(
                    HttpBody(
                        self._exchange(frame.stream_id),
                        state.direction,
                        frame.data,
                        self._time,
                        self._packet,
                    )
                )
            if "END_STREAM" in frame.flags:
                self._end(frame.stream_id, state.direction, "end")
        else:
            self._control(state, frame)

    def _control(self, state: _Side, frame: Frame) -> None:
        """RST_STREAM, GOAWAY and SETTINGS: what ends streams or changes the connection."""
        if isinstance(frame, RstStreamFrame):
            self._reset(state, frame.stream_id)
        elif isinstance(frame, GoAwayFrame) and state.direction is Direction.SDK_TO_RUNTIME:
            # the server will not process the client's streams above last_stream_id
            for stream, direction in sorted(self._open):
                if stream > frame.last_stream_id and stream % 2:
                    self._end(stream, direction, "reset", by=state.direction)
        elif isinstance(frame, SettingsFrame) and SettingsFrame.HEADER_TABLE_SIZE in frame.settings:
            size = frame.settings[SettingsFrame.HEADER_TABLE_SIZE]
            self._peer(state).decoder.max_allowed_table_size = size

    def _header_block(self, state: _Side) -> None:
        assert state.block is not None
        stream, fragments, end_stream = state.block
        state.block = None
        headers = self._decode_headers(state, b"".join(fragments))
        if stream < 0:
            return  # a pushed request: decoded only to keep the HPACK table right
        key = (stream, state.direction)
        if key not in self._open and key not in self._ended:
            self._open.add(key)
            self._events.append(
                HttpHead(
                    self._exchange(stream),
                    state.direction,
                    headers,
                    _start_line(headers),
                    self._time,
                    self._packet,
                )
            )
        if end_stream:
            self._end(stream, state.direction, "end")

    def _decode_headers(self, state: _Side, block: bytes) -> Headers | None:
        if not state.hpack_ok:
            return None
        table = _table_state(state.decoder)
        known = state.known_blocks.get(block)
        if known is not None and _same_table(known[1], table):
            return known[0]
        try:
            decoded = state.decoder.decode(block, raw=True)  # raw: a header may not be UTF-8
        except (HPACKError, ValueError, IndexError) as exc:
            state.hpack_ok = False
            self._events.append(
                Problem(
                    "RI312",
                    f"{self.label}: HPACK context missing or broken ({exc}); "
                    "headers from here on are unknown",
                    None,
                    None,
                )
            )
            return None
        headers = tuple((k.decode("latin-1"), v.decode("utf-8", "replace")) for k, v in decoded)
        if _same_table(table, _table_state(state.decoder)):
            if len(state.known_blocks) >= _KNOWN_BLOCKS:
                state.known_blocks.clear()
            state.known_blocks[block] = (headers, table)
        return headers

    def _head_if_missing(self, state: _Side, stream: int) -> None:
        """DATA of a stream whose HEADERS were not seen: they came before the capture did,
        or were lost with the bytes around them. Either way the stream's start may be
        missing too, and an unknown number of its bytes."""
        key = (stream, state.direction)
        if key not in self._open and key not in self._ended:
            self._open.add(key)
            name = self._exchange(stream)
            self._events.append(HttpHead(name, state.direction, None, "", self._time, self._packet))
            self._events.append(HttpGap(name, state.direction, 0, self._time, self._packet))

    def _end(
        self, stream: int, direction: Direction, how: str, *, by: Direction | None = None
    ) -> None:
        if (stream, direction) in self._open:
            self._open.discard((stream, direction))
            self._ended[stream, direction] = how
            if len(self._ended) > _ENDED_KEPT:
                self._ended.popitem(last=False)
            side = self._sides[0] if self._sides[0].direction is direction else self._sides[1]
            late = side.resetting.pop(stream, None)
            time, packet = (late.time, late.packet) if late else (self._time, self._packet)
            self._events.append(HttpEnd(self._exchange(stream), direction, how, time, packet, by))

    def _reset(self, state: _Side, stream: int) -> None:
        """RST_STREAM from state's side: its direction of the stream is over; the other
        side's is once its frames under way have had time to come (_settle). A direction
        that had not begun is over too (a request refused before its response)."""
        peer = self._peer(state)
        keys = [(stream, state.direction), (stream, peer.direction)]
        if not any(key in self._open or key in self._ended for key in keys):
            return  # a stream this capture does not know
        if keys[0] not in self._ended:
            self._reset_over(state, stream, state.direction)
        if keys[1] not in self._ended:
            until = None if self._time is None else self._time + _IN_FLIGHT
            peer.resetting[stream] = _Resetting(until, self._time, self._packet, state.direction)
            self.new_resets = True

    def _peer(self, state: _Side) -> _Side:
        return self._sides[1] if state is self._sides[0] else self._sides[0]

    def _settle(self) -> None:
        """End the reset streams whose frames under way have had time to come. Each side
        may have sent frames of several streams, a reset one's among them, before the
        reset reached it: what arrives within _IN_FLIGHT is taken as sent before. (The
        streams wait in the order of their resets, so the first not due ends the look.)"""
        now = self._time
        if now is None:
            return
        for side in self._sides:
            due = []
            for stream, late in side.resetting.items():
                if late.until is None or now <= late.until:
                    break
                due.append((stream, late.by))
            for stream, by in due:
                self._reset_over(side, stream, by)

    def _reset_over(self, state: _Side, stream: int, by: Direction) -> None:
        """state's direction of the stream is over by a reset that `by`'s sender sent."""
        self._open.add((stream, state.direction))  # it may not have begun
        self._end(stream, state.direction, "reset", by=by)

    def _data_kept(self, state: _Side, stream: int, length: int) -> bool:
        """Whether a DATA frame's payload is part of its stream's body: not when the
        stream's direction is over (an END_STREAM before, or a reset settled), which its
        receiver ignores and this reports."""
        how = self._ended.get((stream, state.direction))
        if how is None:
            self._head_if_missing(state, stream)
            return True
        if length:
            after = "its END_STREAM" if how == "end" else "the stream was reset"
            self._events.append(
                Problem(
                    "RI311",
                    f"{self.label}/{self._exchange(stream)}: a DATA frame of "
                    f"{counted(length, 'byte')} from {state.direction.sender} comes after {after}; "
                    "it is not part of the body (the receiver ignores it)",
                    None,
                    None,
                )
            )
        return False

    def _exchange(self, stream: int) -> str:
        return self._names.get(stream) or f"s{stream}"

    def _problem(self, text: str) -> Problem:
        return Problem("RI311", f"{self.label}: {text}", None, None)


_KNOWN_BLOCKS: Final = 64
_TableState = tuple[object, int, int, int]  # first entry, entries, size limit, allowed limit


def _table_state(decoder: Decoder) -> _TableState:
    """What tells an HPACK table from the one it was: every insertion puts a new entry
    first (held here, so that no other object can take its id), and only an insertion or
    a new size limit evicts."""
    table = decoder.header_table
    entries = table.dynamic_entries
    first = entries[0] if entries else None
    return (first, len(entries), table.maxsize, decoder.max_allowed_table_size)


def _same_table(one: _TableState, other: _TableState) -> bool:
    return one[0] is other[0] and one[1:] == other[1:]


def _start_line(headers: tuple[tuple[str, str], ...] | None) -> str:
    if headers is None:
        return ""
    fields = dict(headers)
    if ":status" in fields:
        return fields[":status"]
    return f"{fields.get(':method', '?')} {fields.get(':path', '?')}"
