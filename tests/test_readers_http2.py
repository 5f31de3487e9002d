"""HTTP/2 in synthetic captures and fed directly: CONTINUATION, padding, priority, flow
control, malformed frames, concurrent streams, GOAWAY and resets, frames after a stream
ended; and the direct reading of the common frames (plain HEADERS, RST_STREAM, WINDOW_UPDATE,
whole unpadded DATA), which gives what hyperframe's reading of the same bytes gives."""

from __future__ import annotations

import itertools
import struct
from typing import Any
from unittest import mock

import pytest
from hpack import Encoder
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import (
    DecodedFrame,
    StreamEnd,
)
from restate_inspect.readers import http2
from restate_inspect.readers.http2 import Http2Connection
from tests import capturewriter as cw
from tests.captures import (
    REQUEST,
    RESPONSE,
    RUNTIME,
    SDK,
    assert_whole_exchange,
    decode,
    expected,
    frames_of,
    problems,
    shape,
)
from tests.helpers import assert_split_invariant, joined_bodies

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
    out: list[Any] = connection.data(0, PREFACE, 1.0, 1)
    for piece in pieces:
        out += connection.data(0, piece, 1.0, 2)
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


@given(st.lists(frames(), max_size=8), st.integers(0, 2**32))
def test_http2_is_split_invariant(sequence: list[bytes], seed: int) -> None:
    """A frame at hand whole is read directly; one split across segments is streamed: the
    same events, but for how a body is cut."""
    data = OPENING + b"".join(sequence)
    assert_split_invariant(lambda pieces: joined_bodies(_fed(pieces)), data, seed)


def test_http2_continuation_padding_and_small_segments() -> None:
    exchange = cw.h2_exchange(REQUEST, RESPONSE, continuation=True, padded=True, chunk=50)
    assert_whole_exchange(decode(cw.pcap(cw.conversation_packets(exchange, segment=7))))


def test_http2_headers_with_padding_and_priority_and_flow_control_frames() -> None:
    """HEADERS with the PADDED and PRIORITY flags (read by hyperframe), between the plain
    ones and WINDOW_UPDATEs of the connection and of the stream (read without it)."""
    from hyperframe.frame import HeadersFrame, WindowUpdateFrame

    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    heading = next(i for i, (side, data) in enumerate(exchange) if side == 0 and data[3] == 1)
    plain = exchange[heading][1]
    fancy = HeadersFrame(1, plain[9:], flags=["END_HEADERS", "PADDED", "PRIORITY"])
    fancy.pad_length, fancy.depends_on, fancy.stream_weight = 4, 0, 15
    updates = cw.h2_frames(WindowUpdateFrame(0, window_increment=65535), WindowUpdateFrame(1, 1))
    exchange[heading] = (0, cw.h2_frames(fancy) + updates)
    assert_whole_exchange(decode(cw.pcap(cw.conversation_packets(exchange, segment=7))))


@pytest.mark.parametrize(
    ("kind", "stream", "payload", "why"),
    [
        (3, 1, b"\x00\x00\x08", "RST_STREAM must have 4 byte body"),
        (3, 0, b"\x00\x00\x00\x08", "Stream ID must be non-zero"),
        (8, 1, b"\x00\x00\x00\x00", "WINDOW_UPDATE increment must be between"),
        (8, 0, b"\x80\x00\x00\x01", "WINDOW_UPDATE increment must be between"),
        (1, 0, b"\x82", "Stream ID must be non-zero"),
    ],
)
def test_http2_malformed_control_frames_are_reported_and_skipped(
    kind: int, stream: int, payload: bytes, why: str
) -> None:
    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    bad = struct.pack("!HBBBL", 0, len(payload), kind, 0x04 if kind == 1 else 0, stream) + payload
    exchange.insert(2, (0, bad))
    items = decode(cw.pcap(cw.conversation_packets(exchange)))
    (problem,) = problems(items)
    assert problem.code == "RI311"
    assert "invalid HTTP/2 frame skipped" in problem.message and why in problem.message
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)


def test_http2_concurrent_streams_on_one_connection() -> None:
    from hpack import Encoder

    encoders = (Encoder(), Encoder())
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, chunk=40, encoders=encoders)
    two = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, chunk=40, encoders=encoders, preface=False)
    mixed = (
        one[:3]
        + [m for pair in zip(one[3:], two, strict=False) for m in pair]
        + one[3 + len(two) :]
    )
    items = decode(cw.pcap(cw.conversation_packets(mixed)))
    for stream in ("tcp0/s1", "tcp0/s3"):
        assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)


def test_http2_goaway_ends_the_streams_the_server_refuses() -> None:
    """GOAWAY with last_stream_id 1: stream 3, already sent, will never be processed."""
    from hpack import Encoder
    from hyperframe.frame import GoAwayFrame

    encoders = (Encoder(), Encoder())
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, encoders=encoders)
    three = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, encoders=encoders, preface=False)
    refused = three[:2]  # stream 3's request: its HEADERS and DATA, not yet its END_STREAM
    goaway = (1, cw.h2_frames(GoAwayFrame(0, last_stream_id=1)))
    items = decode(cw.pcap(cw.conversation_packets(one[:3] + refused + [goaway] + one[3:])))
    assert shape(frames_of(items, SDK, "tcp0/s1")) == expected(RESPONSE)
    ends = {(str(i.stream), i.direction, i.how) for i in items if isinstance(i, StreamEnd)}
    assert ("tcp0/s3", RUNTIME, "reset") in ends
    assert ("tcp0/s1", SDK, "end") in ends and ("tcp0/s1", RUNTIME, "end") in ends


def _without_sdk_end_stream(exchange: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """h2_exchange ends each direction with an empty DATA frame carrying END_STREAM."""
    return [item for item in exchange if item != (1, exchange[-1][1])]


def _after_first_response_data(exchange: list[tuple[int, bytes]]) -> int:
    """Where the SDK's response goes on after its HEADERS and first DATA frame."""
    return next(i for i, (side, _) in enumerate(exchange) if side == 1 and i > 1) + 2


def _talk_over(*parts: list[tuple[int, bytes]], pause: float = 2.0) -> cw.Conversation:
    """A connection carrying parts of an exchange, each after a pause (seconds)."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for number, part in enumerate(parts):
        talk.time += pause if number else 0.0
        for side, data in part:
            talk.segment(side, data)
    return talk


def test_http2_frames_under_way_when_the_runtime_resets_belong_to_the_stream() -> None:
    """The runtime resets streams 1 and 3 while the SDK is writing both: the SDK's frames
    sent before the resets reached it, of either stream and of others (a PING), still come
    and are what it sent. The streams are over once that has had time to happen, at the
    time of their last DATA."""
    from hpack import Encoder
    from hyperframe.frame import PingFrame, RstStreamFrame

    encoders = (Encoder(), Encoder())
    one = _without_sdk_end_stream(
        cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, chunk=30, encoders=encoders)
    )
    three = _without_sdk_end_stream(
        cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, chunk=30, encoders=encoders, preface=False)
    )
    cut_one, cut_three = (_after_first_response_data(one), _after_first_response_data(three))
    resets = (0, cw.h2_frames(RstStreamFrame(1, error_code=8), RstStreamFrame(3, error_code=8)))
    ping = (1, cw.h2_frames(PingFrame(0)))
    sdk_rest = [m for pair in zip(one[cut_one:], three[cut_three:], strict=True) for m in pair]
    talk = _talk_over(
        [*one[:cut_one], *three[:cut_three], resets, *sdk_rest[:2], ping, *sdk_rest[2:]], [ping]
    )
    items = decode(cw.pcap(talk.packets))
    assert problems(items) == []
    for stream in ("tcp0/s1", "tcp0/s3"):
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)
        (end,) = [i for i in items if isinstance(i, StreamEnd) and str(i.stream) == stream
                  and i.direction is SDK]  # fmt: skip
        assert end.how == "reset"
        last_data = talk.packets[frames_of(items, SDK, stream)[-1].packet - 1]  # type: ignore[operator]
        assert end.time == pytest.approx(last_data.time)
        assert end.packet == len(talk.packets) - 0.5  # ended by capture time, before the PING


def test_http2_a_response_not_begun_when_reset_is_over_in_time() -> None:
    """A stream the runtime resets before the SDK answers it is over once the SDK's frames
    under way have had time to come, not held open until the capture ends."""
    from hpack import Encoder
    from hyperframe.frame import RstStreamFrame

    client = Encoder()
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, encoders=(client, Encoder()))
    three = cw.h2_exchange(  # the SDK's encoder has not encoded stream 1's response
        REQUEST, RESPONSE, stream_id=3, encoders=(client, Encoder()), preface=False
    )
    request_only = [item for item in one if item[0] == 0 or item is one[1]]
    reset = (0, cw.h2_frames(RstStreamFrame(1, error_code=8)))
    items = decode(cw.pcap(_talk_over([*request_only, reset], three).packets))
    assert problems(items) == []
    ended = [i for i, item in enumerate(items) if isinstance(item, StreamEnd)
             and str(item.stream) == "tcp0/s1" and item.direction is SDK]  # fmt: skip
    assert len(ended) == 1 and items[ended[0]].how == "reset"
    first_answer = next(i for i, item in enumerate(items) if isinstance(item, DecodedFrame)
                        and item.frame.direction is SDK)  # fmt: skip
    assert ended[0] < first_answer
    assert shape(frames_of(items, SDK, "tcp0/s3")) == expected(RESPONSE)
    # the runtime's RST_STREAM: the runtime aborted the attempt, which is no SDK fault
    assert items[ended[0]].by is RUNTIME
    from restate_inspect.invocations import Invocation, invocations

    found = {
        str(attempt.stream): {f.code for f in attempt.all_findings()}
        for invocation in invocations(items) if isinstance(invocation, Invocation)
        for attempt in invocation.attempts
    }  # fmt: skip
    assert "RI242" in found["tcp0/s1"] and not {"RI242", "RI205"} & found["tcp0/s3"]
    assert "RI205" not in found["tcp0/s1"]


def test_http2_a_reset_says_which_side_sent_it() -> None:
    from hyperframe.frame import RstStreamFrame

    unended = cw.h2_exchange(REQUEST, RESPONSE)[:-1]  # the response has no END_STREAM
    for side, by in ((0, RUNTIME), (1, SDK)):
        reset = (side, cw.h2_frames(RstStreamFrame(1, error_code=8)))
        items = decode(cw.pcap(_talk_over(unended, [reset]).packets))
        ends = {i.direction: (i.how, i.by) for i in items if isinstance(i, StreamEnd)}
        assert ends == {RUNTIME: ("end", None), SDK: ("reset", by)}


def test_http2_data_after_end_stream_is_reported_not_added_to_the_body() -> None:
    from hyperframe.frame import DataFrame

    late = (1, cw.h2_frames(DataFrame(1, b"\x00\x05\x00\x00\x00\x00\x00\x00")))
    items = decode(cw.pcap(cw.conversation_packets([*cw.h2_exchange(REQUEST, RESPONSE), late])))
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)
    (late_data,) = problems(items)
    assert late_data.code == "RI311" and late_data.message.startswith(
        "tcp0/s1: a DATA frame of 8 bytes from the SDK comes after its END_STREAM"
    )


def test_http2_frames_after_a_stream_ended_do_not_start_it_again_within_a_bound() -> None:
    """A late DATA frame for a stream that ended is not a new stream; the ended streams a
    connection remembers are bounded, so that its state does not grow with its streams."""
    from hpack import Encoder
    from hyperframe.frame import DataFrame, HeadersFrame

    from restate_inspect.events import HttpHead
    from restate_inspect.readers.http2 import Http2Connection
    from restate_inspect.readers.http2streams import ENDED_KEPT

    connection = Http2Connection(0)
    encoder = Encoder()
    heads = 0

    def feed(*frames: Any) -> None:
        nonlocal heads
        events = connection.data(0, cw.h2_frames(*frames), None, 1)
        heads += sum(isinstance(e, HttpHead) for e in events)

    connection.data(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, 1)
    block = encoder.encode([(":method", "POST"), (":path", "/invoke/A/b")])
    count = ENDED_KEPT + 10
    for stream in range(1, 2 * count, 2):
        feed(HeadersFrame(stream, block, flags=["END_HEADERS", "END_STREAM"]))
    assert heads == count
    feed(DataFrame(2 * count - 1, b"late"))  # the last stream: remembered as ended
    assert heads == count
    feed(DataFrame(1, b"late"))  # the first: forgotten, taken for a stream begun earlier
    assert heads == count + 1


def test_a_header_block_seen_before_decodes_by_the_table_it_meets() -> None:
    """The same bytes of a header block mean other headers once the HPACK table has
    changed: an indexed field names whatever entry is at its index now."""
    from hpack import Encoder
    from hyperframe.frame import HeadersFrame

    from restate_inspect.events import HttpHead
    from restate_inspect.readers.http2 import Http2Connection

    encoder = Encoder()
    first = encoder.encode([("x-a", "1")])  # inserts x-a: 1 at index 62
    again = encoder.encode([("x-a", "1")])  # one byte: index 62
    inserting = b"\x40\x03x-b\x012"  # a literal that inserts x-b: 2 at index 62
    connection = Http2Connection(0)
    heads = connection.data(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, 1)
    for number, block in enumerate([first, again, again, inserting, again]):
        frame = HeadersFrame(2 * number + 1, block, flags=["END_HEADERS"])
        heads += connection.data(0, frame.serialize(), None, number)
    found = [dict(h.headers or ()) for h in heads if isinstance(h, HttpHead)]
    assert found == [{"x-a": "1"}] * 3 + [{"x-b": "2"}] * 2
