"""The proxy's made-up packets read back as what was forwarded: the capture chain gets each
side's bytes in order, with the times given, and a pcapng file of them reads as a capture
(by tshark too, where it is installed)."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest

from restate_inspect.events import Chunk, StreamEnd
from restate_inspect.location import Direction
from restate_inspect.readers import capture_events
from restate_inspect.readers.capture import CaptureDecoder
from restate_inspect.readers.synthetic import SEGMENT, TcpFlow, pcapng_header, pcapng_packet

CLIENT, SERVER = ("127.0.0.1", 40000), ("10.1.2.3", 9080)
HEADERS = b"content-type: application/vnd.restate.invocation.v6\r\ntransfer-encoding: chunked"
REQUEST = b"POST /invoke/Demo/greet HTTP/1.1\r\n" + HEADERS + b"\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\n" + HEADERS + b"\r\n\r\n"


def _packets(body: bytes = b"x" * (SEGMENT * 2 + 5)) -> list:  # type: ignore[type-arg]
    flow = TcpFlow(CLIENT, SERVER, itertools.count(1))
    chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    return [
        *flow.opened(1.0),
        *flow.sent(True, REQUEST + chunk, 1.5),
        *flow.sent(False, RESPONSE + b"0\r\n\r\n", 2.0),
        *flow.closed(True, 2.5),
        *flow.closed(False, 2.6),
    ]


def test_each_sides_bytes_come_out_of_the_capture_chain_in_order() -> None:
    packets = _packets()
    assert [p.number for p in packets] == list(range(1, len(packets) + 1))
    decoder = CaptureDecoder()
    events = [e for p in packets for e in decoder.feed(p)] + decoder.end_of_stream()
    request = b"".join(e.data for e in events if isinstance(e, Chunk)
                       and e.direction is Direction.RUNTIME_TO_SDK)  # fmt: skip
    assert request == b"x" * (SEGMENT * 2 + 5)
    ends = [e for e in events if isinstance(e, StreamEnd)]
    assert {e.how for e in ends} == {"end"}


def test_a_reset_ends_both_sides() -> None:
    flow = TcpFlow(CLIENT, ("::1", 9080), itertools.count(1))
    packets = [*flow.opened(1.0), *flow.closed(False, 1.1, reset=True)]
    assert packets[-1].data[14 + 12 : 14 + 16] == bytes([10, 0, 0, 1])  # IPv6: made IPv4
    assert packets[-1].data[14 + 20 + 13] & 0x04  # RST


def test_a_pcapng_of_them_reads_back_as_a_capture(tmp_path: Path) -> None:
    data = pcapng_header() + b"".join(pcapng_packet(p) for p in _packets())
    events = list(capture_events(io.BytesIO(data), "made.pcapng"))
    assert sum(isinstance(e, Chunk) for e in events) >= 3
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    path = tmp_path / "made.pcapng"
    path.write_bytes(data)
    command = ["tshark", "-r", str(path), "-T", "fields", "-e", "tcp.analysis.flags"]
    listed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == ""  # no retransmission, no lost segment, no bad ACK
