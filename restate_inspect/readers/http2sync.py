"""Finding HTTP/2 frames in bytes from the middle of a connection (a capture that began
after it did, or a gap in it): where a chain of plausible frame headers begins."""

from __future__ import annotations

import struct
from typing import Final

HEADER: Final = struct.Struct("!HBBBL")  # 24-bit length as 16 + 8 bits, type, flags, stream
PLAUSIBLE_LENGTH: Final = 1 << 20  # resynchronising: frames larger than this are not believed
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


def plausible_header(data: bytes | bytearray, pos: int) -> int | None:
    """The frame length, if the 9 bytes at pos could be an HTTP/2 frame header."""
    high, low, kind, flags, stream = HEADER.unpack_from(data, pos)
    length: int = (high << 8) | low
    shape = _SHAPES.get(kind)
    if shape is None or stream >> 31 or length > PLAUSIBLE_LENGTH or flags & ~shape[0]:
        return None
    _flags, stream_rule, fixed = shape
    if stream_rule != "either" and (stream_rule == "zero") != (stream == 0):
        return None
    if (fixed is not None and length != fixed) or (kind == 4 and length % 6):
        return None
    return length


def find_boundary(buffer: bytes, pos: int) -> tuple[int | None, int]:
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
