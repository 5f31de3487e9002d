"""Passive HTTP/1.1 for one TCP connection (sans-IO): request and status lines, headers,
Content-Length and chunked bodies, several exchanges on one connection (keep-alive), and
the switch to HTTP/2 that `Upgrade: h2c` and a 101 response make (RFC 7540, 3.2).

Tolerant, as a debugger must be: an empty reason phrase, capitalised header names and a
connection that ends with RST are all normal here. Exchanges are numbered m1, m2, ... and
responses pair with the requests they answer, in order; a response whose request the
capture lacks is an exchange of its own, so that the ones after it still pair right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from restate_inspect.events import HttpBody, HttpEnd, HttpEvent, HttpGap, HttpHead
from restate_inspect.headers import Headers, find_header
from restate_inspect.location import Direction
from restate_inspect.readers.httpconnection import HttpConnection
from restate_inspect.rules import Problem, counted

_REQUEST_LINE: Final = re.compile(rb"[A-Z]+ \S+ HTTP/1\.[01]\r?\n")
_STATUS_LINE: Final = re.compile(rb"HTTP/1\.[01] \d{3}")
_MAX_HEAD: Final = 256 * 1024  # a head longer than this is not HTTP
_CHUNK_SIZE: Final = re.compile(rb"([0-9A-Fa-f]+)[^\r\n]*\r?\n")
# after bytes lost inside a chunked body: the end of a chunk and the next chunk's size line
_NEXT_CHUNK: Final = re.compile(rb"\r\n([0-9A-Fa-f]{1,8})(?:;[^\r\n]{0,64})?\r\n")
_CHUNKED: Final = ("chunk-size", "chunk-data", "chunk-end", "chunk-resync")
_MAX_RESYNC_CHUNK: Final = 1 << 20  # a larger size line found by chance is not believed


def looks_like_request(data: bytes) -> bool:
    line = data.split(b"\n", 1)[0] + b"\n"
    return bool(_REQUEST_LINE.match(line))


@dataclass
class _Side:
    direction: Direction
    buffer: bytearray = field(default_factory=bytearray)
    # head, length, chunk-size, chunk-data, chunk-end, chunk-resync, trailers, close, lost
    state: str = "head"
    left: int = 0  # body (or chunk) bytes still to come
    exchange: str = ""


class Http1Connection(HttpConnection):
    def __init__(self, client_side: int, *, label: str = "") -> None:
        self.label = label
        self.client_side = client_side
        self._sides = (
            _Side(Direction.RUNTIME_TO_SDK if client_side == 0 else Direction.SDK_TO_RUNTIME),
            _Side(Direction.SDK_TO_RUNTIME if client_side == 0 else Direction.RUNTIME_TO_SDK),
        )
        self._exchanges = 0  # numbered so far
        self._unanswered: list[tuple[str, str]] = []  # requests' exchanges and methods
        self._h2c_asked: str | None = None  # the exchange whose request asked for h2c
        # after a 101 to that request: the exchange, and what each side sent after HTTP/1.1
        self.upgraded: tuple[str, bytes, bytes] | None = None
        self._events: list[HttpEvent | Problem] = []
        self._time: float | None = None
        self._packet = 0

    def data(
        self, side: int, data: bytes, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self._time, self._packet = time, packet
        state = self._sides[side]
        state.buffer += data
        while state.buffer and self.upgraded is None and self._step(state):
            pass
        events, self._events = self._events, []
        return events

    def gap(
        self, side: int, length: int, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        self._time, self._packet = time, packet
        state = self._sides[side]
        in_body = state.state in ("length", "chunk-data", "close") and not state.buffer
        if in_body and (state.state == "close" or length <= state.left):
            self._events.append(HttpGap(state.exchange, state.direction, length, time, packet))
            self._went(state, length)
        elif state.state in _CHUNKED:
            # the chunk framing went with the lost bytes: the body goes on, an unknown
            # number of its bytes missing, from the next plausible chunk
            self._events.append(HttpGap(state.exchange, state.direction, 0, time, packet))
            state.buffer.clear()
            state.state = "chunk-resync"
        else:
            self._lose(
                state,
                f"{counted(length, 'byte')} missing in the {state.state} part of an HTTP/1.1 "
                "message",
            )
        events, self._events = self._events, []
        return events

    def close(self, side: int, how: str, by: int | None = None) -> list[HttpEvent | Problem]:
        """The connection's side is over; how: "closed", "reset" or "capture" (its end);
        by: for a reset, the side that sent it."""
        state = self._sides[side]
        if state.state == "chunk-resync":  # what waited for a chunk that never came
            self._body_piece(state, bytes(state.buffer))
            state.buffer.clear()
        if state.state == "close":
            self._end(state, "end")  # a body that runs until the connection closes
        elif state.state not in ("head", "lost") or state.buffer.strip():
            if state.exchange and state.state != "head":
                self._end(state, how, by)
            elif state.buffer.strip():
                self._events.append(
                    self._problem(
                        "connection ends inside an HTTP/1.1 head "
                        f"({counted(len(state.buffer), 'byte')})"
                    )
                )
        state.buffer.clear()
        events, self._events = self._events, []
        return events

    # --- parsing ---------------------------------------------------------------------

    def _step(self, state: _Side) -> bool:
        """Consume what the state can consume; False when more bytes are needed."""
        step = {
            "head": self._head,
            "length": self._body_bytes,
            "close": self._body_bytes,
            "chunk-data": self._body_bytes,
            "chunk-size": self._chunk_size,
            "chunk-end": self._chunk_end,
            "chunk-resync": self._chunk_resync,
            "trailers": self._trailer,
        }.get(state.state, self._resync)  # lost: wait for the start of a message
        return step(state)

    def _body_bytes(self, state: _Side) -> bool:
        buffer = state.buffer
        take = len(buffer) if state.state == "close" else min(state.left, len(buffer))
        self._body_piece(state, bytes(buffer[:take]))
        del buffer[:take]
        if state.state == "close":
            return False
        self._went(state, take)
        return bool(buffer)

    def _went(self, state: _Side, count: int) -> None:
        """count bytes of a sized body or of a chunk went by, read or lost."""
        state.left -= count
        if state.left == 0 and state.state == "length":
            self._end(state, "end")
        elif state.left == 0 and state.state == "chunk-data":
            state.state = "chunk-end"

    def _chunk_size(self, state: _Side) -> bool:
        match = _CHUNK_SIZE.match(state.buffer)
        if match is None:
            if b"\n" in state.buffer:
                self._lose(state, "a chunk size line that is not hex")
            return False
        state.left = int(match.group(1), 16)  # before the bytes it reads are deleted
        del state.buffer[: match.end()]
        state.state = "chunk-data" if state.left else "trailers"
        return True

    def _chunk_end(self, state: _Side) -> bool:
        buffer = state.buffer
        if len(buffer) < 2 and not buffer.startswith(b"\n"):
            return False
        del buffer[: 2 if buffer.startswith(b"\r\n") else 1]
        state.state = "chunk-size"
        return True

    def _chunk_resync(self, state: _Side) -> bool:
        """Find the next chunk after lost bytes: a chunk-size line whose chunk ends where
        it says. What comes before it is the rest of the chunk the loss cut."""
        buffer = state.buffer
        rest, found = _next_chunk(buffer)
        self._body_piece(state, bytes(buffer[:rest]))
        if found is None:
            del buffer[:rest]
            return False
        line_end, size = found
        del buffer[:line_end]
        state.left = size
        state.state = "chunk-data" if size else "trailers"
        return True

    def _body_piece(self, state: _Side, data: bytes) -> None:
        if data:
            self._events.append(
                HttpBody(state.exchange, state.direction, data, self._time, self._packet)
            )

    def _trailer(self, state: _Side) -> bool:
        end = state.buffer.find(b"\n")
        if end < 0:
            return False
        line = bytes(state.buffer[:end]).strip()
        del state.buffer[: end + 1]
        if not line:
            self._end(state, "end")
        return True

    def _head_lines(self, state: _Side) -> list[str] | None:
        """The lines of the head at the buffer's start, taken from it; None: not all here."""
        lines = _take_head(state.buffer)
        if lines is None and len(state.buffer) > _MAX_HEAD:
            self._lose(state, f"no end of the HTTP/1.1 head in {len(state.buffer)} bytes")
        return lines

    def _head(self, state: _Side) -> bool:
        lines = self._head_lines(state)
        if lines is None:
            return False
        start_line, headers = lines[0], tuple(_header(line) for line in lines[1:] if ":" in line)
        request = state.direction is Direction.RUNTIME_TO_SDK
        method = ""
        if request:
            state.exchange = self._new_exchange()
            self._unanswered.append((state.exchange, start_line.split(" ", 1)[0]))
            shown = " ".join(start_line.split(" ")[:2])
            upgrade = find_header(headers, "upgrade") or ""
            if "h2c" in (token.strip().lower() for token in upgrade.split(",")):
                self._h2c_asked = state.exchange
        else:
            status = start_line.split(" ")[1] if " " in start_line else ""
            if status == "101" and self._h2c_asked is not None:
                self._switch(self._h2c_asked)
                return False
            if status.startswith("1") and status != "101":
                return True  # 100 Continue and friends: the real response follows
            if self._unanswered:
                state.exchange, method = self._unanswered.pop(0)
            else:  # its request is not in the capture
                state.exchange = self._new_exchange()
            if state.exchange == self._h2c_asked:
                self._h2c_asked = None  # the server answers in HTTP/1.1: no switch
            shown = status
        self._events.append(
            HttpHead(state.exchange, state.direction, headers, shown, self._time, self._packet)
        )
        self._body(state, headers, request, shown, method)
        return True

    def _new_exchange(self) -> str:
        self._exchanges += 1
        return f"m{self._exchanges}"

    def _body(self, state: _Side, headers: Headers, request: bool, shown: str, method: str) -> None:
        state.state, state.left = _framing(headers, request, shown, method)
        if state.state == "end":
            self._end(state, "end")

    def _switch(self, exchange: str) -> None:
        """The server accepted h2c: HTTP/2 from here on, both ways. The request that asked
        is answered on HTTP/2 stream 1; the bytes each side sent after HTTP/1.1 are kept
        for the HTTP/2 reader."""
        rests = [bytes(side.buffer) for side in self._sides]
        for side in self._sides:
            side.buffer.clear()
        self.upgraded = (exchange, rests[0], rests[1])

    def _end(self, state: _Side, how: str, by: int | None = None) -> None:
        """The body is over; by: for a reset, the side that sent it."""
        reset_by = None if by is None else self._sides[by].direction
        self._events.append(
            HttpEnd(state.exchange, state.direction, how, self._time, self._packet, reset_by)
        )
        state.state = "head"

    def _lose(self, state: _Side, why: str) -> None:
        self._events.append(self._problem(f"{why}; skipping to the next message"))
        if state.exchange and state.state != "head":
            self._events.append(
                HttpGap(state.exchange, state.direction, 0, self._time, self._packet)
            )
            self._events.append(
                HttpEnd(state.exchange, state.direction, "closed", self._time, self._packet)
            )
        state.state = "lost"
        state.buffer.clear()

    def _resync(self, state: _Side) -> bool:
        pattern = _REQUEST_LINE if state.direction is Direction.RUNTIME_TO_SDK else _STATUS_LINE
        match = pattern.search(state.buffer)
        if match is None:
            del state.buffer[: max(0, len(state.buffer) - 64)]
            return False
        del state.buffer[: match.start()]
        state.state = "head"
        return True

    def _problem(self, text: str) -> Problem:
        return Problem("RI313", f"{self.label}: {text}", None, None)


def _take_head(buffer: bytearray) -> list[str] | None:
    """The lines of the head at the buffer's start (stray line ends before it skipped),
    taken from it; None while its end is not there."""
    while buffer.startswith((b"\r\n", b"\n")):  # stray line ends between messages
        del buffer[: 2 if buffer.startswith(b"\r\n") else 1]
    end = buffer.find(b"\r\n\r\n")
    size = end + 4
    if end < 0:
        end = buffer.find(b"\n\n")
        size = end + 2
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").replace("\r\n", "\n").split("\n")
    del buffer[:size]
    return lines


def _framing(headers: Headers, request: bool, status: str, method: str) -> tuple[str, int]:
    """How a message's body is framed: the reader's next state, and the bytes it holds
    ("end": it has none)."""
    fields = {name.lower(): value for name, value in headers}
    if not request and (method == "HEAD" or status in ("204", "304")):
        return "end", 0
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return "chunk-size", 0
    if _is_number(fields.get("content-length", "")):
        length = int(fields["content-length"])
        return ("length", length) if length else ("end", 0)
    return ("end", 0) if request else ("close", 0)  # a request without a length has none


def _next_chunk(buffer: bytearray) -> tuple[int, tuple[int, int] | None]:
    """After lost bytes: the bytes before the next plausible chunk-size line (the rest of
    the cut chunk), and that line's end and size; or, with None, the bytes that can go now
    (all but what may still begin one)."""
    search = 0
    while (match := _NEXT_CHUNK.search(buffer, search)) is not None:
        size = int(match.group(1), 16)
        data_end = match.end() + size
        if size > _MAX_RESYNC_CHUNK:  # waiting for it could hold any amount of bytes
            search = match.start() + 1
            continue
        if data_end + 2 > len(buffer):
            break  # cannot tell yet whether the chunk ends where it says
        if buffer[data_end : data_end + 2] == b"\r\n":
            return match.start(), (match.end(), size)
        search = match.start() + 1
    return (match.start() if match is not None else max(0, len(buffer) - 80)), None


def _is_number(text: str) -> bool:
    text = text.strip()
    return text.isascii() and text.isdigit()  # isdigit() alone takes "²", which int() refuses


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip(), value.strip()
