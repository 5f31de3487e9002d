"""Passive HTTP/2 for one TCP connection (sans-IO), with hyperframe for the frames and hpack
for the headers: one HPACK decoder per direction, its table size taken from the peer's
SETTINGS. Many concurrent streams; HEADERS + CONTINUATION, padding, DATA, END_STREAM,
RST_STREAM (the other side's frames already under way still belong to the stream),
GOAWAY (the streams it refuses end); what becomes of the streams is in http2streams.py.
A capture that starts mid-connection finds the frame boundaries by plausibility, routes
DATA by stream id, and reports the headers it cannot decode as unknown.

A TCP gap inside a DATA frame's payload is attributed to that stream exactly and framing
goes on; a gap anywhere else loses framing until the next plausible frame, and every open
stream of that direction is told that an unknown amount may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

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

from restate_inspect.events import HttpEvent
from restate_inspect.headers import Headers
from restate_inspect.location import Direction
from restate_inspect.readers.http2headers import HeaderDecoder, HpackBroken
from restate_inspect.readers.http2streams import Http2Streams
from restate_inspect.readers.http2sync import HEADER, PLAUSIBLE_LENGTH, find_boundary
from restate_inspect.readers.httpconnection import HttpConnection
from restate_inspect.rules import Problem, counted

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY = 0x01, 0x04, 0x08, 0x20


@dataclass
class _Side:
    direction: Direction
    buffer: bytes = b""  # bytes not yet taken: a partial frame, usually a few bytes
    headers: HeaderDecoder = field(default_factory=lambda: HeaderDecoder(known=True))
    synced: bool = True
    skipped: int = 0  # bytes passed over while not synced, said when a frame is found
    preface_pending: bool = False
    block: tuple[int, list[bytes], bool] | None = None  # stream, fragments, END_STREAM
    # the DATA frame being read: stream, payload left, END_STREAM, whether the body takes it
    inside_data: tuple[int, int, bool, bool] | None = None

    def frames_start(self) -> int | None:
        """Where frames begin: after the client's preface, if it is there. None: wait."""
        if not self.preface_pending:
            return 0
        if len(self.buffer) < len(PREFACE):
            return None
        self.preface_pending = False
        if self.buffer.startswith(PREFACE):
            return len(PREFACE)
        self.synced = False  # no preface: the capture began after it
        return 0

    def resync(self, pos: int) -> tuple[int, int | None]:
        """Framing lost: where a plausible frame begins from pos, and the bytes skipped to
        it; or, none found, where to look again once more bytes have come (and None)."""
        found, resume = find_boundary(self.buffer, pos)
        if found is None:  # what came before `resume` is not looked at again
            kept = max(resume, len(self.buffer) - PLAUSIBLE_LENGTH)  # a bounded tail
            self.skipped += kept - pos
            return kept, None
        skipped, self.skipped = self.skipped + found - pos, 0
        self.synced = True
        return found, skipped


class Http2Connection(HttpConnection):
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
            side.headers.known = preface  # ... and the HPACK tables' earlier entries too
        self.streams = Http2Streams(label, (self._sides[0].direction, self._sides[1].direction))
        if upgraded:
            self.streams.upgraded(upgraded, self._sides[client_side].direction)
        if not preface:
            text = (
                f"{label}: the capture starts after this HTTP/2 connection did; its HPACK "
                "context is missing, so its headers are unknown (DATA is routed by stream)"
            )
            self.streams.events.append(Problem("RI312", text, None, None))

    def data(
        self, side: int, data: bytes, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self.streams.time, self.streams.packet = time, packet
        state = self._sides[side]
        state.buffer = state.buffer + data if state.buffer else data
        self._process(state)
        return self.streams.take()

    def gap(
        self, side: int, length: int, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self.streams.time, self.streams.packet = time, packet
        state = self._sides[side]
        self._process(state)
        inside = state.inside_data
        if inside is not None and not state.buffer and length <= inside[1]:
            stream, left, end_stream, kept = inside
            if kept:
                self.streams.gap(stream, state.direction, length)
            state.inside_data = (stream, left - length, end_stream, kept)
            self._finish_data(state)
        else:
            self._lose_framing(state, length)
        return self.streams.take()

    def settle(self, time: float) -> list[HttpEvent | Problem]:
        """Capture time has gone on to `time` (the connection's own packets, or any of the
        capture's, or a live capture's clock): the reset streams whose frames under way
        have had time to come are over. The capture decoder calls this for every connection
        at once."""
        self.streams.time = time
        self.streams.settle()
        return self.streams.take()

    def close(self, side: int, how: str, by: int | None = None) -> list[HttpEvent | Problem]:
        """The connection's side is over; how: "closed", "reset" or "capture" (its end);
        by: for a reset, the side that sent it."""
        state = self._sides[side]
        if state.buffer:
            left = counted(len(state.buffer), "byte")
            self._said(f"connection closes with {left} of an unfinished frame")
        if state.skipped:
            skipped = f"{counted(state.skipped, 'byte')} skipped, and no plausible HTTP/2 frame"
            self._said(skipped + " before the connection closes")
            state.skipped = 0
        state.buffer = b""
        by_direction = None if by is None else self._sides[by].direction
        self.streams.close(state.direction, how, by_direction)
        return self.streams.take()

    # --- framing ---------------------------------------------------------------------

    def _process(self, state: _Side) -> None:
        buffer = state.buffer
        pos = state.frames_start()
        while pos is not None:
            if state.inside_data is not None:
                pos = self._continue_data(state, pos)
                if state.inside_data is not None:
                    break
            if not state.synced:
                pos, skipped = state.resync(pos)
                if skipped is None:
                    break
                if skipped:
                    to_frame = "skipped to the next plausible HTTP/2 frame"
                    self._said(f"{counted(skipped, 'byte')} {to_frame}")
            step = self._next_frame(state, pos)
            if step is None:
                break
            pos = step
        if pos:
            state.buffer = buffer[pos:]

    def _next_frame(self, state: _Side, pos: int) -> int | None:
        """Handle the frame at pos; where the next one starts, or None to wait for bytes."""
        buffer = state.buffer
        if len(buffer) - pos < 9:
            return None
        high, low, kind, flags, stream = HEADER.unpack_from(buffer, pos)
        length: int = (high << 8) | low
        stream &= 0x7FFFFFFF
        streams = self.streams
        if stream in streams.resetting[state.direction] and kind in (0, 1, 9):
            streams.late_frame(stream, state.direction)  # DATA, HEADERS, CONTINUATION
        if kind == 0 and not flags & _PADDED and stream:
            end = pos + 9 + length
            if end <= len(buffer) and (stream, state.direction) in streams.open:
                # the common case, the whole frame of an open stream at hand: what the
                # streaming below would make of it, without its steps
                if length:
                    streams.body(stream, state.direction, buffer[pos + 9 : end])
                if flags & _END_STREAM:
                    streams.end(stream, state.direction, "end")
                return end
            # DATA is streamed as it comes, so that a gap inside it can be placed exactly
            kept = streams.data_kept(stream, state.direction, length)
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
            self.streams.reset(stream, state.direction)
            return True
        return kind == 8 and len(payload) == 4 and 0 < int.from_bytes(payload) < 1 << 31

    def _continue_data(self, state: _Side, pos: int) -> int:
        assert state.inside_data is not None
        stream, left, end_stream, kept = state.inside_data
        take = min(left, len(state.buffer) - pos)
        if take and kept:
            self.streams.body(stream, state.direction, state.buffer[pos : pos + take])
        state.inside_data = (stream, left - take, end_stream, kept)
        self._finish_data(state)
        return pos + take

    def _finish_data(self, state: _Side) -> None:
        assert state.inside_data is not None
        stream, left, end_stream, _kept = state.inside_data
        if left == 0:
            state.inside_data = None
            if end_stream:
                self.streams.end(stream, state.direction, "end")

    def _lose_framing(self, state: _Side, length: int) -> None:
        lost = f"{counted(length, 'byte')} missing; HTTP/2 framing is lost until the next "
        self._said(lost + "plausible frame")
        state.buffer = b""
        state.synced = False
        state.inside_data = None
        state.block = None
        self.streams.lost(state.direction)

    # --- frames ----------------------------------------------------------------------

    def _frame(self, state: _Side, header: memoryview, body: memoryview) -> None:
        try:
            frame, _ = Frame.parse_frame_header(header)
            frame.parse_body(body)
        except HyperframeError as exc:
            self._said(f"invalid HTTP/2 frame skipped: {exc}")
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
            streams, stream = self.streams, frame.stream_id
            if not streams.data_kept(stream, state.direction, len(frame.data)):
                return
            if frame.data:
                streams.body(stream, state.direction, frame.data)
            if "END_STREAM" in frame.flags:
                streams.end(stream, state.direction, "end")
        else:
            self._control(state, frame)

    def _control(self, state: _Side, frame: Frame) -> None:
        """RST_STREAM, GOAWAY and SETTINGS: what ends streams or changes the connection."""
        if isinstance(frame, RstStreamFrame):
            self.streams.reset(frame.stream_id, state.direction)
        elif isinstance(frame, GoAwayFrame) and state.direction is Direction.SDK_TO_RUNTIME:
            # the server will not process the client's streams above last_stream_id
            self.streams.refused_above(frame.last_stream_id, state.direction)
        elif isinstance(frame, SettingsFrame) and SettingsFrame.HEADER_TABLE_SIZE in frame.settings:
            size = frame.settings[SettingsFrame.HEADER_TABLE_SIZE]
            peer = self._sides[1] if state is self._sides[0] else self._sides[0]
            peer.headers.decoder.max_allowed_table_size = size

    def _header_block(self, state: _Side) -> None:
        assert state.block is not None
        stream, fragments, end_stream = state.block
        state.block = None
        headers = self._decode_headers(state, b"".join(fragments))
        if stream < 0:
            return  # a pushed request: decoded only to keep the HPACK table right
        self.streams.head(stream, state.direction, headers)
        if end_stream:
            self.streams.end(stream, state.direction, "end")

    def _decode_headers(self, state: _Side, block: bytes) -> Headers | None:
        try:
            return state.headers.decode(block)
        except HpackBroken as exc:
            text = (
                f"{self.label}: HPACK context missing or broken ({exc}); "
                "headers from here on are unknown"
            )
            self.streams.events.append(Problem("RI312", text, None, None))
            return None

    def _said(self, text: str) -> None:
        self.streams.events.append(Problem("RI311", f"{self.label}: {text}", None, None))
