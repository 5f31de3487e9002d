"""Which HTTP a TCP connection speaks, from the first bytes of each side (sans-IO): HTTP/2
(its preface, or mid-connection a chain of plausible frames), HTTP/1.1 (a request or status
line), TLS (encrypted: said, and skipped) or neither.

With the SYN seen the client is known, and its own first bytes decide (an HTTP/2 server may
send SETTINGS before the client's preface arrives).
"""

from __future__ import annotations

from typing import Final

from restate_inspect.events import Connection
from restate_inspect.readers.http1 import Http1Connection, looks_like_request
from restate_inspect.readers.http2 import PREFACE, Http2Connection
from restate_inspect.readers.http2sync import looks_like_http2
from restate_inspect.readers.httpconnection import HttpConnection
from restate_inspect.rules import Problem

_DETECT_BYTES: Final = 64  # enough to tell HTTP/2, HTTP/1.1 or neither from a start
_MID_STREAM_BYTES: Final = 1024  # joined mid-stream: enough to find a chain of HTTP/2 frames
# An HTTP/2 server sends its SETTINGS (and perhaps a WINDOW_UPDATE), some tens of bytes, and
# then nothing until its client's preface and requests come: this much from it alone means
# that the capture has only its side
_SERVER_ALONE_BYTES: Final = 256

Decided = HttpConnection | Problem | None  # None: not yet


def detect(connection: Connection, held: list[bytearray], *, closing: bool = False) -> Decided:
    """The reader of the connection's HTTP, given what each side has sent so far; a problem
    when it is not HTTP; None when more bytes are needed (closing: none will come)."""
    label = f"tcp{connection.index}"
    firsts = [bytes(side[:_DETECT_BYTES]) for side in held]
    for side, first in enumerate(firsts):
        if first.startswith(PREFACE):
            return Http2Connection(side, label=label)
        if looks_like_request(first) or first.startswith(b"HTTP/1."):
            return Http1Connection(side if looks_like_request(first) else 1 - side, label=label)
    if any(_tls_record(first) for first in firsts):
        return _encrypted(connection)
    client: int | None = 0 if connection.syn_seen else None
    speaking = [side for side in (0, 1) if firsts[side]] if client is None else [0]
    for side in speaking:
        first = bytes(held[side][:_MID_STREAM_BYTES])
        if PREFACE.startswith(first[:24]) or len(first) < 9:
            continue  # too early to tell
        if looks_like_http2(first):
            guess = _guess_client(connection) if client is None else client
            return Http2Connection(guess, preface=False, label=label)
        if len(first) >= _MID_STREAM_BYTES or _text_line(first):
            return neither(connection)
    alone = _SERVER_ALONE_BYTES if not closing else 9  # closing: all it will send
    if client == 0 and not firsts[0] and len(held[1]) >= alone:
        # The server sent this much and its client (whose SYN was seen) nothing, not even
        # HTTP/2's preface: a capture of the server's side only (RI316), read from its start.
        if not looks_like_http2(bytes(held[1][:_MID_STREAM_BYTES])):
            return neither(connection)
        return Http2Connection(0, label=label)
    return None


def neither(connection: Connection) -> Problem:
    label = f"tcp{connection.index} ({connection.label()})"
    return Problem("RI314", f"{label} is neither HTTP/2 nor HTTP/1.1; skipped", None, None)


def _encrypted(connection: Connection) -> Problem:
    text = (
        f"tcp{connection.index} ({connection.label()}) is TLS: encrypted, so its HTTP cannot "
        "be read; capture where the traffic is plain (h2c or HTTP/1.1), or decrypt it first "
        "(Wireshark with an SSLKEYLOGFILE can export the plain streams)"
    )
    return Problem("RI314", text, None, None)


def _guess_client(connection: Connection) -> int:
    """Mid-connection: the SYN sender if seen, else the side on the higher port."""
    if connection.syn_seen:
        return 0
    return 0 if connection.first[1] > connection.second[1] else 1


def _tls_record(data: bytes) -> bool:
    """Does the data begin with a TLS record header (handshake, alert, data; TLS 1.0-1.3)?
    As an HTTP/2 frame header these bytes would announce a frame of over a megabyte."""
    return len(data) >= 3 and 0x14 <= data[0] <= 0x17 and data[1] == 3 and data[2] <= 4


def _text_line(data: bytes) -> bool:
    """Does the data begin with a line of printable ASCII (a text protocol's greeting)?"""
    line, newline, _ = data[:_DETECT_BYTES].partition(b"\n")
    return (
        bool(newline) and line.rstrip(b"\r").isascii() and line.rstrip(b"\r").decode().isprintable()
    )
