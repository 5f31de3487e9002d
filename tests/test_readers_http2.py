"""The HTTP/2 reader's direct reading of its common frames (plain HEADERS, RST_STREAM,
WINDOW_UPDATE; whole unpadded DATA) gives what hyperframe's reading of the same bytes gives."""

from __future__ import annotations

import itertools
import struct
from typing import Any
from unittest import mock

from hpack import Encoder
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import HttpBody
from restate_inspect.readers import http2
from restate_inspect.readers.http2 import Http2Connection
from tests.helpers import assert_split_invariant

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# flags that matter to these frames: END_STREAM, END_HEADERS, PADDED, PRIORITY, and others
FLAGS = st.integers(0, 255)
STREAMS = st.sampled_from([0, 1, 3, 5, 0x80000001])  # 0: not a stream; the reserved bit set


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">IBI", len(payload) << 8 | kind, flags, stream) + payload


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """A frame of a kind read directly, well formed or not."""
    kind = draw(st.sampled_from([0, 1, 3, 8]))
    flags, stream = draw(FLAGS), draw(STREAMS)
    if kind == 1:
        block = Encoder().encode([(":method", "POST"), (":path", "/invoke/S/h")])
        payload = draw(st.sampled_from([block, b"", block[:3]]))
    elif kind in (3, 8):
        increment = draw(st.sampled_from([0, 1, 65535, 1 << 31 - 1, 1 << 31, 0xFFFFFFFF]))
        payload = draw(st.sampled_from([increment.to_bytes(4), b"\0\0\1", b"\0\0\0\1\0"]))
    else:
        payload = draw(st.binary(max_size=20))
    if flags & 0x08 and kind in (0, 1) and payload:  # PADDED: a pad length, maybe too long
        payload = bytes([draw(st.integers(0, len(payload)))]) + payload
    return _frame(kind, flags, stream, payload)


def _fed(pieces: list[bytes]) -> list[Any]:
    """What a connection makes of the runtime's side, after its preface, fed in pieces."""
    connection = Http2Connection(0)
    out: list[Any] = connection.feed(0, PREFACE, 1.0, 1)
    for piece in pieces:
        out += connection.feed(0, piece, 1.0, 2)
    return out + connection.close(0, "end")


@given(st.lists(frames(), max_size=8), st.lists(st.integers(0, 40), max_size=4))
def test_frames_read_directly_read_as_hyperframe_reads_them(
    sequence: list[bytes], pieces: list[int]
) -> None:
    data = b"".join(sequence)
    cuts = [0, *sorted(min(p, len(data)) for p in pieces), len(data)]
    split = [data[a:b] for a, b in itertools.pairwise(cuts)]
    direct = _fed(split)
    with mock.patch.object(http2.Http2Connection, "_plain", return_value=False):
        through_hyperframe = _fed(split)
    assert direct == through_hyperframe


OPENING = b"".join(
    _frame(1, 0x04, stream, Encoder().encode([(":method", "POST"), (":path", "/invoke/S/h")]))
    for stream in (1, 3, 5)
)  # HEADERS with END_HEADERS: DATA on these streams is kept


def _joined(events: list[Any]) -> list[Any]:
    """Events with each run of one exchange's body as one: how DATA is cut into HttpBody
    events follows how the bytes came, and nothing else."""
    out: list[Any] = []
    for event in events:
        previous = out[-1] if out else None
        if (
            isinstance(event, HttpBody)
            and isinstance(previous, HttpBody)
            and previous[:2] == event[:2]
        ):
            out[-1] = previous._replace(data=previous.data + event.data)
        else:
            out.append(event)
    return out


@given(st.lists(frames(), max_size=8), st.integers(0, 2**32))
def test_http2_is_split_invariant(sequence: list[bytes], seed: int) -> None:
    """A frame at hand whole is read directly; one split across segments is streamed: the
    same events, but for how a body is cut."""
    data = OPENING + b"".join(sequence)
    assert_split_invariant(lambda pieces: _joined(_fed(pieces)), data, seed)
