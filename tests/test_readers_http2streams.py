"""The streams of an HTTP/2 connection, without frames: heads, bodies and ends; resets that
end the other direction once its frames under way have come; GOAWAY; DATA after the end."""

from __future__ import annotations

from restate_inspect.events import HttpBody, HttpEnd, HttpGap, HttpHead
from restate_inspect.location import Direction
from restate_inspect.readers.http2streams import IN_FLIGHT, Http2Streams
from restate_inspect.rules import Problem

REQUEST, RESPONSE = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
HEAD = (("content-type", "application/vnd.restate.invocation.v6"),)


def _streams(time: float = 10.0) -> Http2Streams:
    streams = Http2Streams("tcp1", (REQUEST, RESPONSE))
    streams.time, streams.packet = time, 1
    return streams


def test_a_stream_begins_with_its_head_takes_its_body_and_ends_once() -> None:
    streams = _streams()
    request = ((":method", "POST"), (":path", "/invoke/S/h"))
    streams.head(1, REQUEST, request)
    streams.head(1, REQUEST, HEAD)  # trailers: the stream began already
    streams.body(1, REQUEST, b"abc")
    streams.end(1, REQUEST, "end")
    streams.end(1, REQUEST, "end")  # once
    head, body, end = streams.take()
    assert head == HttpHead("s1", REQUEST, request, "POST /invoke/S/h", 10.0, 1)
    assert body == HttpBody("s1", REQUEST, b"abc", 10.0, 1)
    assert end == HttpEnd("s1", REQUEST, "end", 10.0, 1)
    assert streams.take() == []


def test_data_after_the_end_is_reported_and_not_taken() -> None:
    streams = _streams()
    streams.head(3, RESPONSE, ((":status", "200"),))
    streams.end(3, RESPONSE, "end")
    streams.take()
    assert not streams.data_kept(3, RESPONSE, 5)
    (problem,) = streams.take()
    assert isinstance(problem, Problem) and problem.code == "RI311"
    assert "tcp1/s3: a DATA frame of 5 bytes from the SDK comes after its END_STREAM" in (
        problem.message
    )


def test_data_of_a_stream_never_seen_begins_it_with_an_unknown_head_and_a_gap() -> None:
    streams = _streams()
    assert streams.data_kept(5, RESPONSE, 5)
    head, gap = streams.take()
    assert head == HttpHead("s5", RESPONSE, None, "", 10.0, 1)
    assert gap == HttpGap("s5", RESPONSE, 0, 10.0, 1)


def test_a_reset_ends_the_senders_direction_now_and_the_other_once_in_flight_is_over() -> None:
    streams = _streams()
    streams.head(1, REQUEST, HEAD)
    streams.head(1, RESPONSE, HEAD)
    streams.take()
    streams.reset(1, by=REQUEST)
    assert streams.take() == [HttpEnd("s1", REQUEST, "reset", 10.0, 1, REQUEST)]
    assert streams.new_resets and streams.next_due == 10.0 + IN_FLIGHT
    streams.time, streams.packet = 10.5, 2
    streams.late_frame(1, RESPONSE)  # sent before the reset reached the SDK
    streams.settle()
    assert streams.take() == []
    streams.time = 10.0 + IN_FLIGHT + 0.1
    streams.settle()
    # it ends at its last frame, not when settled
    assert streams.take() == [HttpEnd("s1", RESPONSE, "reset", 10.5, 2, REQUEST)]
    assert streams.next_due is None


def test_a_reset_of_a_stream_not_seen_changes_nothing() -> None:
    streams = _streams()
    streams.reset(7, by=RESPONSE)
    assert streams.take() == [] and not streams.new_resets


def test_goaway_ends_the_clients_streams_above_the_last_it_takes() -> None:
    streams = _streams()
    for stream in (1, 3, 5):
        streams.head(stream, REQUEST, HEAD)
    streams.take()
    streams.refused_above(3, by=RESPONSE)
    assert streams.take() == [HttpEnd("s5", REQUEST, "reset", 10.0, 1, RESPONSE)]


def test_closing_a_direction_ends_its_streams_and_its_resets() -> None:
    streams = _streams()
    streams.head(1, REQUEST, HEAD)
    streams.head(3, RESPONSE, HEAD)
    streams.head(3, REQUEST, HEAD)
    streams.take()
    streams.reset(3, by=REQUEST)
    streams.take()
    streams.close(RESPONSE, "closed", None)
    assert streams.take() == [HttpEnd("s3", RESPONSE, "reset", 10.0, 1, REQUEST)]
    streams.lost(REQUEST)
    assert streams.take() == [HttpGap("s1", REQUEST, 0, 10.0, 1)]


def test_an_upgraded_stream_keeps_its_http1_name_and_its_request_is_over() -> None:
    streams = _streams()
    streams.upgraded("m1", REQUEST)
    assert not streams.data_kept(1, REQUEST, 0)  # its request was sent in HTTP/1.1
    streams.head(1, RESPONSE, ((":status", "200"),))
    assert streams.take() == [HttpHead("m1", RESPONSE, ((":status", "200"),), "200", 10.0, 1)]
