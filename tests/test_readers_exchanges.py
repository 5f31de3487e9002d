"""A connection's HTTP events to Restate's: invocations by their request, discovery with
its manifest, other HTTP listed; without headers, by the first body bytes."""

from __future__ import annotations

import pytest

from restate_inspect.events import (
    Chunk,
    Discovery,
    Gap,
    HttpBody,
    HttpEnd,
    HttpGap,
    HttpHead,
    StreamEnd,
    StreamInfo,
)
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.exchanges import Exchanges, classify

REQUEST, RESPONSE = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
INVOKE = (
    (":method", "POST"),
    (":path", "/invoke/Greeter/greet"),
    ("content-type", "application/vnd.restate.invocation.v5"),
)
START = bytes.fromhex("0000000000000004") + b"\x0a\x02ab"  # a StartMessage's header, and body


@pytest.mark.parametrize(
    ("method", "path", "content_type", "kind"),
    [
        ("POST", "/invoke/S/h", "application/vnd.restate.invocation.v6", "invocation"),
        ("POST", "/invoke/S/h?x=1", "application/vnd.restate.invocation.v1; x=y", "invocation"),
        ("POST", "/x/invoke/Svc/h", "Application/Vnd.Restate.Invocation.V1; a=b", "invocation"),
        ("GET", "/invoke/Svc/h", "application/vnd.restate.invocation.v2", "other"),
        ("POST", "/invoke/S/h", "application/json", "other"),
        ("GET", "/discover", None, "discovery"),
        ("POST", "/discovery/", None, "discovery"),
        ("GET", "/health", None, "other"),
    ],
)
def test_an_exchange_is_told_by_its_request(
    method: str, path: str, content_type: str | None, kind: str
) -> None:
    assert classify(method, path, content_type) == kind


def _exchanges() -> Exchanges:
    exchanges = Exchanges("tcp2")
    exchanges.http_version, exchanges.label = "HTTP/2", "a:1 -> b:2"
    return exchanges


def test_an_invocations_bodies_are_chunks_and_its_ends_stream_ends() -> None:
    exchanges = _exchanges()
    key = StreamKey("tcp2", "s1")
    (info,) = exchanges.events(
        [HttpHead("s1", REQUEST, INVOKE, "POST /invoke/Greeter/greet", 1.0, 7)], 7
    )
    assert isinstance(info, StreamInfo) and info.kind == "invocation" and info.stream == key
    assert (info.connection, info.http_version, info.packet) == ("a:1 -> b:2", "HTTP/2", 7)
    assert exchanges.began("s1") == 7 and exchanges.began("s9") == 0
    out = exchanges.events(
        [HttpBody("s1", REQUEST, START, 1.1, 8), HttpGap("s1", REQUEST, 3, 1.2, 9),
         HttpEnd("s1", REQUEST, "end", 1.3, 10)], 10,
    )  # fmt: skip
    assert out == [
        Chunk(key, REQUEST, START, 1.1, 8),
        Gap(key, REQUEST, 3, 1.2, 9),
        StreamEnd(key, REQUEST, "end", 1.3, 10, len(START), None),
    ]


def test_an_exchange_without_headers_is_told_by_its_first_body_bytes() -> None:
    exchanges = _exchanges()
    out = exchanges.events(
        [HttpHead("s3", REQUEST, None, "", 1.0, 1), HttpBody("s3", REQUEST, START[:4], 1.0, 1)], 1
    )
    assert [type(e) for e in out] == [StreamInfo]  # not yet: four bytes tell nothing
    out = exchanges.events([HttpBody("s3", REQUEST, START[4:], 1.1, 2)], 2)
    assert isinstance(out[0], StreamInfo) and out[0].kind == "invocation"
    assert [type(e) for e in out[1:]] == [Chunk, Chunk]  # what was held, then the rest


def test_a_discovery_keeps_its_manifest() -> None:
    exchanges = _exchanges()
    head = HttpHead(
        "s5", REQUEST, ((":method", "GET"), (":path", "/discover")), "GET /discover", 1.0, 1
    )
    exchanges.events([head], 1)
    out = exchanges.events(
        [HttpBody("s5", RESPONSE, b'{"services":', 1.1, 2),
         HttpBody("s5", RESPONSE, b"[]}", 1.2, 3),
         HttpEnd("s5", RESPONSE, "end", 1.3, 4)], 4,
    )  # fmt: skip
    discovery, end = out
    assert discovery == Discovery(StreamKey("tcp2", "s5"), b'{"services":[]}', 1.3)
    assert isinstance(end, StreamEnd) and end.body_bytes == 15
