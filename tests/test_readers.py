"""Reading inputs: every kind to the same bytes, envelopes, pairs, overrides, unreadable
inputs, and captures read as a whole (repeated problems, live pipes)."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.events import Chunk, InputEvent, StreamEnd
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers import (
    InputError,
    InputFormat,
    decoded_bytes,
    pair_name,
    read_input,
    read_pair,
    sniff,
)
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.helpers import SAMPLES, chunk_bytes

REQUEST = (SAMPLES / "v1-call-other.req.bin").read_bytes()
RESPONSE = (SAMPLES / "v1-call-other.resp.bin").read_bytes()


@pytest.mark.parametrize("kind", ["bin", "hex"])
def test_every_input_kind_reads_to_the_same_bytes(kind: str, tmp_path: Path) -> None:
    path = SAMPLES / f"v1-call-other.req.{kind}"
    events = list(read_input(str(path)))
    assert chunk_bytes(events) == REQUEST
    assert events[-1] == StreamEnd(StreamKey(str(path)), Direction.RUNTIME_TO_SDK)


@pytest.mark.parametrize("encode", [bytes.hex, base64.encodebytes], ids=["hex", "base64"])
def test_a_capture_written_out_as_text_is_read_as_the_capture(
    encode: Callable[[bytes], bytes | str], tmp_path: Path
) -> None:
    """`xxd -p dump.pcapng | restate-inspect decode -`: the text decodes to a capture."""
    capture = SAMPLES / "v1-features.pcapng"
    text = encode(capture.read_bytes())
    written = tmp_path / "capture.txt"
    written.write_bytes(text if isinstance(text, bytes) else text.encode())
    events = list(read_input(str(written)))
    assert events == list(read_input(str(capture)))
    assert not [e for e in events if isinstance(e, Chunk) and e.stream.source == str(written)]
    raw = list(read_input(str(written), input_format=InputFormat.RAW))  # as told: the text
    assert chunk_bytes(raw) == written.read_bytes()


def test_a_capture_in_hex_with_a_broken_line_is_read_and_the_line_said_after_it(
    tmp_path: Path,
) -> None:
    lines = (SAMPLES / "v1-features.pcapng").read_bytes().hex()
    rows = [lines[i : i + 60] for i in range(0, len(lines), 60)]
    rows[-3] = rows[-3][:10] + "zz" + rows[-3][12:]  # a typo near the end
    written = tmp_path / "capture.hex"
    written.write_text("\n".join(rows) + "\n")
    events = list(read_input(str(written)))
    assert any(isinstance(e, Chunk) for e in events)  # the capture was read
    typo = next(i for i, e in enumerate(events) if isinstance(e, Problem) and e.code == "RI001")
    assert (events[typo].line, events[typo].column) == (len(rows) - 2, 11)  # type: ignore[union-attr]
    assert not [e for e in events[typo + 1 :] if isinstance(e, Chunk)]  # said after it


def test_base64_and_a_lambda_envelope(tmp_path: Path) -> None:
    plain = tmp_path / "body.txt"
    plain.write_text(base64.b64encode(RESPONSE).decode())
    assert chunk_bytes(list(read_input(str(plain)))) == RESPONSE
    envelope = tmp_path / "lambda.json"
    envelope.write_text(
        json.dumps(
            {
                "statusCode": 200,
                "isBase64Encoded": True,
                "body": base64.b64encode(RESPONSE).decode(),
            }
        )
    )
    events = list(read_input(str(envelope)))
    assert chunk_bytes(events) == RESPONSE
    assert {e.direction for e in events if isinstance(e, Chunk)} == {Direction.SDK_TO_RUNTIME}
    assert [e.code for e in events if isinstance(e, Problem)] == ["RI011"]  # and said so


def test_envelope_mistakes_are_input_errors(tmp_path: Path) -> None:
    cases = {
        "not-json.json": '{"body": "AAAA"',
        "no-body.json": '{"body": 1}',
        "a-list.json": '[{"body": "x"}]',
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        if name == "a-list.json":
            assert sniff(path.read_bytes(), whole=True)[1] is False
            continue
        with pytest.raises(InputError):
            list(read_input(str(path)))


def test_envelope_with_a_text_body(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"body": "abc", "isBase64Encoded": False}))
    assert chunk_bytes(list(read_input(str(path), input_format=InputFormat.AUTO))) == b"abc"


def test_override_of_format_and_direction() -> None:
    hex_path = SAMPLES / "v1-call-other.resp.hex"
    raw = list(
        read_input(str(hex_path), input_format=InputFormat.RAW, direction=Direction.RUNTIME_TO_SDK)
    )
    assert chunk_bytes(raw) == hex_path.read_bytes()
    assert {e.direction for e in raw if isinstance(e, Chunk)} == {Direction.RUNTIME_TO_SDK}


def test_text_that_is_neither_hex_nor_base64_is_read_raw_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are notes, not a stream\n")
    events = list(read_input(str(path)))
    inferred, warning = [e for e in events if isinstance(e, Problem)]
    assert warning.code == "RI006" and warning.stream == StreamKey(str(path))
    assert inferred.code == "RI011" and inferred.direction is Direction.SDK_TO_RUNTIME
    assert chunk_bytes(events) == path.read_bytes()


def test_hex_problems_carry_stream_and_direction(tmp_path: Path) -> None:
    path = tmp_path / "x.hex"
    path.write_text("00000000000000480a18548ae3cba54055b301a210d118ef035d63254d3fdfe6d70212z6\n")
    problems = [e for e in read_input(str(path)) if isinstance(e, Problem)]
    assert ("RI001", 1, 71) in [(p.code, p.line, p.column) for p in problems]
    assert {(p.stream, p.direction) for p in problems} == {
        (StreamKey(str(path)), Direction.RUNTIME_TO_SDK)
    }


def test_pairs_share_one_stream() -> None:
    events = list(
        read_pair(str(SAMPLES / "v1-call-other.req.bin"), str(SAMPLES / "v1-call-other.resp.hex"))
    )
    streams = {e.stream for e in events if not isinstance(e, Problem)}
    assert streams == {StreamKey(str(SAMPLES / "v1-call-other"))}
    request = [
        e for e in events if isinstance(e, Chunk) and e.direction is Direction.RUNTIME_TO_SDK
    ]
    assert b"".join(c.data for c in request) == REQUEST


@pytest.mark.parametrize(
    ("request_path", "response_path", "name"),
    [
        ("a/x.req.bin", "a/x.resp.bin", "a/x"),
        ("req.bin", "resp.bin", "req.bin+resp.bin"),
        ("call_request.hex", "call_response.hex", "call"),
    ],
)
def test_pair_names(request_path: str, response_path: str, name: str) -> None:
    assert pair_name(request_path, response_path) == name


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot open .*No such file"):
        list(read_input(str(tmp_path / "missing")))
    with pytest.raises(InputError, match=r"cannot open .*directory"):
        list(read_input(str(tmp_path)))


def test_a_read_error_midway_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr("restate_inspect.readers._open", lambda path: Failing())
    with pytest.raises(InputError, match="cannot read x: Input/output error"):
        list(read_input("x"))


def test_large_inputs_are_read_in_chunks() -> None:
    data = REQUEST * 20_000  # ~5 MB
    pieces = list(decoded_bytes(io.BytesIO(data), "big", InputFormat.RAW))
    assert len(pieces) > 3 and b"".join(p for p in pieces if isinstance(p, bytes)) == data


def _events(path: Path, **options: Any) -> list[InputEvent]:
    return list(read_input(str(path), **options))


def test_packets_that_break_alike_with_nothing_read_between_are_one_finding(
    tmp_path: Path,
) -> None:
    """3,000 cut-short IPv4 packets, each after an ARP packet (skipped, nothing read): one
    RI307 with the count and the last packet; a packet that is read ends the run."""
    cut = cw.link(cw.EN10MB, cw.ipv4("10.0.0.1", "10.0.0.2", b""))[:17]
    arp = b"\x02" * 12 + b"\x08\x06" + bytes(28)
    packets = [cw.Packet(float(i), data) for i in range(3_000) for data in (arp, cut)]
    path = tmp_path / "malformed.pcap"
    path.write_bytes(cw.pcap(packets))
    problems = [e for e in _events(path) if isinstance(e, Problem)]
    assert [(p.code, p.packet, p.repeats, p.to_packet) for p in problems] == [
        ("RI307", 2, 3_000, 6_000)
    ]
    assert problems[0].message.endswith("; and 2,999 more like it, to packet 6000")
    request = cw.tcp_header(40000, 9080, 1, 1, 0x18) + b"POST /invoke/S/h HTTP/1.1\r\n\r\n"
    read = cw.Packet(9.0, cw.link(cw.EN10MB, cw.ipv4("10.0.0.1", "10.0.0.2", request)))
    path.write_bytes(cw.pcap([*packets[:4], read, *packets[4:6]]))
    events = _events(path)
    problems = [e for e in events if isinstance(e, Problem)]
    assert [(p.code, p.packet, p.repeats) for p in problems[:2]] == [
        ("RI307", 2, 2),
        ("RI307", 7, 1),  # after a packet that was read: another run
    ]


def test_a_live_capture_on_a_pipe_is_decoded_as_it_comes() -> None:
    """tcpdump -U -w - | restate-inspect ...: the events of what has arrived come out while
    the writer still waits, instead of a block of bytes later."""
    capture = (SAMPLES / "py-v2-http11.pcap").read_bytes()
    cut = 24  # after the file header, then 60 packets (little-endian pcap)
    for _ in range(60):
        cut += 16 + int.from_bytes(capture[cut + 8 : cut + 12], "little")
    read_end, write_end = os.pipe()
    first_stream_seen = threading.Event()
    rest_written = threading.Event()

    def write() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(capture[:cut])
            pipe.flush()
            first_stream_seen.wait(timeout=10)
            pipe.write(capture[cut:])
            rest_written.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for event in read_input(f"/dev/fd/{read_end}"):
            if isinstance(event, StreamEnd) and not first_stream_seen.is_set():
                assert not rest_written.is_set()
                first_stream_seen.set()
    finally:
        first_stream_seen.set()
        writer.join()
    assert rest_written.is_set()


def test_a_live_capture_gone_quiet_still_ends_a_stream_the_runtime_reset() -> None:
    """The SDK's side of a stream the runtime reset waits for frames under way (a second of
    capture time): on a live capture with no packet after the reset, the clock stands in
    for capture time, and the stream ends while the writer still waits."""
    from hyperframe.frame import RstStreamFrame

    from tests import capturewriter as cw

    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    exchange[-1] = (0, cw.h2_frames(RstStreamFrame(1, error_code=8)))  # no SDK END_STREAM
    capture = cw.pcap(cw.conversation_packets(exchange, close=False))
    read_end, write_end = os.pipe()
    sdk_side_ended = threading.Event()

    def write() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(capture)
            pipe.flush()
            sdk_side_ended.wait(timeout=10)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for event in read_input(f"/dev/fd/{read_end}"):
            if isinstance(event, StreamEnd) and event.direction is Direction.SDK_TO_RUNTIME:
                assert writer.is_alive()  # the pipe is still open
                assert event.how == "reset"
                sdk_side_ended.set()
    finally:
        sdk_side_ended.set()
        writer.join()


def test_a_rewound_handle_gives_the_sniffed_bytes_back_first() -> None:
    """What was read to sniff the format comes first, whatever sizes are asked for (-1:
    all), and the progress counts every byte once."""
    from restate_inspect.readers import _Rewound

    counted: list[int] = []
    handle = _Rewound(b"abc", io.BytesIO(b"defgh"), counted.append)
    assert handle.read(2) == b"ab" and handle.read1(5) == b"c" and handle.read(-1) == b"defgh"
    assert counted[-1] == 8 and handle.read1(4) == b""
    assert _Rewound(b"abc", io.BytesIO(b"def"), None).read() == b"abcdef"
    assert _Rewound(b"abc", io.BytesIO(b"def"), None).read1() == b"abc"
    assert _Rewound(b"abc", io.BytesIO(b"de"), None).read(4) == b"abcd"
    assert _Rewound(b"", io.BytesIO(b"de"), None).read1(1) == b"d"
