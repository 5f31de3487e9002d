"""HTTP/1.1 in synthetic captures: chunked and sized bodies, keep-alive, lost bytes, lost
requests, 100 Continue, and the upgrade to h2c, taken or declined."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import HttpBody, StreamEnd, StreamInfo
from restate_inspect.readers.http1 import Http1Connection
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


@pytest.mark.parametrize("chunked", [True, False])
def test_http1_chunked_and_content_length_with_keep_alive(chunked: bool) -> None:
    exchange = cw.http1_exchange(REQUEST, RESPONSE, chunked=chunked)
    two = exchange + cw.http1_exchange(REQUEST, RESPONSE, chunked=not chunked)
    items = decode(cw.pcap(cw.conversation_packets(two, segment=77)))
    assert problems(items) == []
    for exchange_name in ("tcp0/m1", "tcp0/m2"):
        assert shape(frames_of(items, RUNTIME, exchange_name)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, exchange_name)) == expected(RESPONSE)
    info = [i for i in items if isinstance(i, StreamInfo)][-1]
    assert (info.http_version, info.status, info.protocol_version) == ("HTTP/1.1", "200", 2)


@pytest.mark.parametrize("lost", [3, 6, 9])
def test_http1_chunked_body_goes_on_after_lost_bytes(lost: int) -> None:
    """A lost segment takes chunk-size lines with it: the body goes on from the next
    chunk whose size line says where it ends, and the frames after the loss decode."""
    body = RESPONSE * 4
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    (request, response) = cw.http1_exchange(REQUEST, body, chunk=23)
    talk.segment(*request)
    for start in range(0, len(response[1]), 50):
        talk.segment(1, response[1][start : start + 50])
    del talk.packets[-lost]  # a segment of the body, neither its first nor its last
    talk.segment(0, flags=cw.ACK)  # the client has it all: the bytes were sent
    talk.segment(0, flags=cw.FIN | cw.ACK)
    talk.segment(1, flags=cw.FIN | cw.ACK)
    items = decode(cw.pcap(talk.packets))
    codes = [p.code for p in problems(items)]
    assert "RI111" in codes and "RI313" not in codes  # the loss, and no lost HTTP framing
    got, want = shape(frames_of(items, SDK, "tcp0/m1")), expected(body)
    assert got[0] == want[0]  # before the loss
    # after it, offsets count only the bytes seen: how many were lost is not known
    assert got[-1][1:] == want[-1][1:]
    assert len(got) >= len(want) - 3  # what the loss took, and no more
    assert [e.how for e in items if isinstance(e, StreamEnd) and e.direction is SDK] == ["end"]


def test_http1_response_whose_request_was_lost_does_not_shift_the_pairs() -> None:
    """Keep-alive: the first request is lost whole. Its response is an exchange of its own,
    and the second request still pairs with its own response."""
    first = cw.http1_exchange(REQUEST, RESPONSE, chunked=False)
    second = cw.http1_exchange(REQUEST, RESPONSE, chunked=True)
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for side, data in first + second:
        talk.segment(side, data)
    del talk.packets[3]  # the first request
    talk.segment(1, flags=cw.ACK)  # the server had it: the bytes were sent
    items = decode(cw.pcap(talk.packets))
    heads = [(str(i.stream), i.method, i.status) for i in items if isinstance(i, StreamInfo)]
    assert heads[0] == ("tcp0/m1", None, "200")  # the answer to the lost request
    assert ("tcp0/m2", "POST", "200") in heads
    assert shape(frames_of(items, RUNTIME, "tcp0/m2")) == expected(REQUEST)
    assert shape(frames_of(items, SDK, "tcp0/m2")) == expected(RESPONSE)


def test_http1_continue_response_is_skipped() -> None:
    request, response = cw.http1_exchange(REQUEST, RESPONSE)
    exchange = [request, (1, b"HTTP/1.1 100 Continue\r\n\r\n"), response]
    items = decode(cw.pcap(cw.conversation_packets(exchange)))
    assert_whole_exchange(items, "tcp0/m1")


def _h2c_upgrade(answer: bytes) -> list[tuple[int, bytes]]:
    """An HTTP/1.1 request that asks for h2c, the server's answer (switching or not) and,
    after a 101, one more exchange in HTTP/2, on stream 3."""
    from hpack import Encoder
    from hyperframe.frame import DataFrame, HeadersFrame, SettingsFrame

    v2 = "application/vnd.restate.invocation.v2"
    head = (
        "POST /invoke/Demo/callOther HTTP/1.1\r\nHost: sdk\r\n"
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n"
        f"Content-Type: {v2}\r\nContent-Length: {len(REQUEST)}\r\n\r\n"
    )
    if not answer.startswith(b"HTTP/1.1 101"):
        return [(0, head.encode() + REQUEST), (1, answer)]
    server = Encoder()
    response = [(":status", "200"), ("content-type", v2)]
    stream_1 = cw.h2_frames(
        SettingsFrame(0),
        HeadersFrame(1, server.encode(response), flags=["END_HEADERS"]),
        DataFrame(1, RESPONSE, flags=["END_STREAM"]),
    )
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + cw.h2_frames(SettingsFrame(0))
    stream_3 = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, preface=False,
                              encoders=(Encoder(), server))  # fmt: skip
    return [(0, head.encode() + REQUEST), (1, answer + stream_1), (0, preface), *stream_3]


def test_http11_upgraded_to_h2c_goes_on_as_http2() -> None:
    """RFC 7540, 3.2: the upgrading request is answered on HTTP/2 stream 1, and keeps its
    HTTP/1.1 exchange's name; later exchanges are HTTP/2 streams."""
    switching = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    items = decode(cw.pcap(cw.conversation_packets(_h2c_upgrade(switching), segment=60)))
    assert problems(items) == []
    for stream in ("tcp0/m1", "tcp0/s3"):
        assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)
    infos = {str(i.stream): i for i in items if isinstance(i, StreamInfo)}
    assert (infos["tcp0/m1"].status, infos["tcp0/m1"].target) == ("200", ("Demo", "callOther"))
    assert infos["tcp0/s3"].http_version == "HTTP/2" and infos["tcp0/s3"].kind == "invocation"


def test_http11_upgrade_declined_stays_http11() -> None:
    v2 = "application/vnd.restate.invocation.v2"
    declined = f"HTTP/1.1 200 OK\r\nContent-Type: {v2}\r\nContent-Length: {len(RESPONSE)}\r\n\r\n"
    items = decode(cw.pcap(cw.conversation_packets(_h2c_upgrade(declined.encode() + RESPONSE))))
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME, "tcp0/m1")) == expected(REQUEST)
    assert shape(frames_of(items, SDK, "tcp0/m1")) == expected(RESPONSE)


def test_http1_declined_h2c_does_not_switch_on_a_later_101() -> None:
    from restate_inspect.readers.http1 import Http1Connection

    http1 = Http1Connection(0)
    asks = b"GET /a HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"
    websocket = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"
    http1.data(0, asks, None, 1)
    http1.data(1, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", None, 2)  # declined
    http1.data(0, websocket, None, 3)
    http1.data(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", None, 4)
    assert http1.upgraded is None


def test_http1_chunk_resync_does_not_wait_on_an_implausible_size() -> None:
    """After a loss, a size line found by chance that announces megabytes is passed over:
    the next real chunk is found without holding the bytes in between."""
    from restate_inspect.events import HttpBody, HttpEnd
    from restate_inspect.readers.http1 import Http1Connection

    http1 = Http1Connection(0)
    http1.data(0, b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", None, 1)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"
    http1.data(1, head, None, 2)
    http1.gap(1, 10, None, 3)
    events = http1.data(1, b"zz\r\nfffffff\r\nyy\r\n5\r\nhello\r\n0\r\n\r\n", None, 4)
    body = b"".join(e.data for e in events if isinstance(e, HttpBody))
    assert body == b"zz\r\nfffffff\r\nyy" + b"hello"
    assert [e.how for e in events if isinstance(e, HttpEnd)] == ["end"]


def _fed(pieces: list[bytes], side: int) -> list[Any]:
    """What a connection makes of one side's bytes fed in pieces, a body's runs joined (how
    a body is cut follows how its bytes came)."""
    connection = Http1Connection(0)
    out: list[Any] = []
    for piece in pieces:
        out += connection.data(side, piece, 1.0, 2)
    out += connection.close(side, "end")
    return joined_bodies(out)


@pytest.mark.parametrize("chunked", [True, False])
@given(seed=st.integers(0, 2**32))
def test_http1_is_split_invariant(chunked: bool, seed: int) -> None:
    """Heads, chunk sizes and bodies cut anywhere, in both directions: the same events."""
    for side, data in cw.http1_exchange(REQUEST, RESPONSE, chunked=chunked, chunk=50):
        whole = assert_split_invariant(lambda pieces: _fed(pieces, side), data, seed)  # noqa: B023
        assert any(isinstance(event, HttpBody) for event in whole)
