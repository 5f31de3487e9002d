"""Telling a connection's HTTP from its first bytes: HTTP/2 by its preface or, joined
mid-connection, by a chain of plausible frames; HTTP/1.1; TLS; neither; not yet."""

from __future__ import annotations

from hyperframe.frame import DataFrame, SettingsFrame

from restate_inspect.events import Connection
from restate_inspect.readers.detect import detect
from restate_inspect.readers.http1 import Http1Connection
from restate_inspect.readers.http2 import PREFACE, Http2Connection
from restate_inspect.rules import Problem


def _connection(syn_seen: bool = True, ports: tuple[int, int] = (40000, 9080)) -> Connection:
    return Connection(3, ("10.0.0.1", ports[0]), ("10.0.0.2", ports[1]), syn_seen)


def _held(client: bytes = b"", server: bytes = b"") -> list[bytearray]:
    return [bytearray(client), bytearray(server)]


def test_a_preface_or_a_request_line_tells_the_http_and_its_client() -> None:
    http2 = detect(_connection(), _held(PREFACE))
    assert isinstance(http2, Http2Connection) and http2.client_side == 0
    http1 = detect(_connection(), _held(b"", b"POST /invoke/S/h HTTP/1.1\r\n"))
    assert isinstance(http1, Http1Connection) and http1.client_side == 1  # it sent a request
    status = detect(_connection(), _held(b"", b"HTTP/1.1 200 OK\r\n"))
    assert isinstance(status, Http1Connection) and status.client_side == 0  # it answered


def test_tls_and_other_protocols_are_said_and_skipped() -> None:
    tls = detect(_connection(), _held(b"\x16\x03\x01\x02\x00" + bytes(60)))
    assert isinstance(tls, Problem) and tls.code == "RI314" and "is TLS" in tls.message
    text = detect(_connection(), _held(b"EHLO mail.example.com\r\n"))
    assert isinstance(text, Problem) and "neither HTTP/2 nor HTTP/1.1" in text.message


def test_mid_connection_frames_are_http2_with_the_client_guessed_by_its_port() -> None:
    frames = SettingsFrame(0).serialize() + DataFrame(1, data=b"x" * 20).serialize()
    joined = detect(_connection(syn_seen=False, ports=(9080, 40000)), _held(b"", frames))
    assert isinstance(joined, Http2Connection)
    assert joined.client_side == 1  # the higher port
    assert detect(_connection(syn_seen=False), _held(b"", frames[:5])) is None  # too few


def test_a_server_heard_alone_is_http2_once_it_has_said_enough() -> None:
    settings = SettingsFrame(0, settings={SettingsFrame.MAX_CONCURRENT_STREAMS: 100})
    alone = settings.serialize()
    assert detect(_connection(), _held(b"", alone)) is None  # its client may still speak
    closing = detect(_connection(), _held(b"", alone), closing=True)
    assert isinstance(closing, Http2Connection) and closing.client_side == 0
    noise = detect(_connection(), _held(b"", b"\xff" * 300))
    assert isinstance(noise, Problem)
