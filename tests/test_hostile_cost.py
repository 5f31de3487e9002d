"""Hostile input costs little: a small input takes little memory and time, whatever the
bytes, and never in proportion to the number of problems in it. The inputs are rebuilt
here in the shapes a fuzz campaign found; the tests count findings and read the peak
memory of the command that reads them, and time nothing."""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from hyperframe.frame import SettingsFrame

from restate_inspect import framing
from restate_inspect.framing import FrameDecoder, encode_frame
from restate_inspect.protocol import hints_for
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.readers import http1, http2sync, read_input
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.helpers import run_cli

LIMIT_BYTES = 300 * 1024 * 1024  # peak RSS of one command, the bound

# (the text, the format forced on it, the code each bad character breaks, how many break it)
TEXT_FLOODS = {
    "hex": ("g" * 369_090, "hex", "RI001", 369_090),
    "numbers": ("[" + "x" * 40_000 + "]", "numbers", "RI008", 40_000),
    "base64": ("[" * 369_000, "base64", "RI004", 369_000),
}


# The command in a child that tells its own peak (VmHWM) as it exits: the peak that wait4
# reports counts the test process too, forked before the exec.
_MEASURED = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("peak: " + re.search(r"VmHWM:\\s*(\\d+) kB", status).group(1) + "\\n")
atexit.register(peak)
sys.argv = ["restate-inspect", *sys.argv[1:]]
from restate_inspect.cli import main
main()
"""


def peak_rss(args: list[str]) -> tuple[int, str]:
    """A command's peak resident memory in bytes, and its stdout."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("no /proc to read a process's peak memory from")
    run = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, check=False
    )
    peak = re.search(r"peak: (\d+)", run.stderr)
    assert peak is not None, run.stderr
    return int(peak[1]) * 1024, run.stdout


@pytest.mark.parametrize("flood", TEXT_FLOODS)
@pytest.mark.parametrize("command", ["decode", "journal", "check"])
def test_a_forced_text_format_on_other_text_is_one_finding_in_little_memory(
    flood: str, command: str, tmp_path: Path
) -> None:
    text, input_format, code, count = TEXT_FLOODS[flood]
    path = tmp_path / "flood.txt"
    path.write_text(text + "\n")
    peak, out = peak_rss([command, "--json", "-f", input_format, str(path)])
    found = [json.loads(line) for line in out.splitlines()]
    runs = [r for r in found if r.get("code") == code]
    assert len(runs) == 1 and runs[0]["repeats"] == count
    assert peak < LIMIT_BYTES


START_FRAME = encode_frame(0x0000, pb.StartMessage(id=b"\x01" * 24, known_entries=1))

# --- resynchronising HTTP/2 ---------------------------------------------------------------

_CLAIM = b"\x00\x0b\xb8\x00\x00\x7f\xff\xff\xff"  # DATA, 3,000 bytes, stream 2^31 - 1


def _out_of_sync_capture(size: int) -> bytes:
    """An h2c connection that loses a segment (the server acknowledged it: it was sent)
    and then never offers a true frame: every segment ends in a header whose frame, once
    its bytes have come, is followed by none. Looking again from where the loss was, for
    each segment that comes, is quadratic in `size`."""
    segment = b"\xff" * (1400 - len(_CLAIM)) + _CLAIM
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    talk.segment(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + cw.h2_frames(SettingsFrame(0)))
    for _ in range(size // len(segment)):
        talk.segment(0, segment)
        talk.segment(1, flags=cw.ACK)
    del talk.packets[6]  # the second segment of the pattern, lost
    return cw.pcap(talk.packets)


def _header_looks(size: int, tmp_path: Path) -> tuple[int, list[str]]:
    """How often resynchronising looks at a header, and the problems, for `size` bytes."""
    path = tmp_path / f"resync-{size}.pcap"
    path.write_bytes(_out_of_sync_capture(size))
    looked = 0

    def counted(data: bytes | bytearray, pos: int) -> int | None:
        nonlocal looked
        looked += 1
        return real(data, pos)

    real = http2sync.plausible_header
    with mock.patch.object(http2sync, "plausible_header", counted):
        found = [e.message for e in read_input(str(path)) if isinstance(e, Problem)]
    return looked, found


def test_resynchronising_http2_looks_at_each_byte_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    sizes = (150_000, 300_000, 600_000)
    looks = [_header_looks(size, tmp_path)[0] for size in sizes]
    for size, count in zip(sizes, looks, strict=True):
        assert count <= 2 * size  # each byte a candidate once, and once as the one after
    assert looks[2] <= 4.5 * looks[0]  # linear: four times the bytes, about four times the work
    _, said = _header_looks(150_000, tmp_path)
    assert any("skipped, and no plausible HTTP/2 frame" in text for text in said)


def test_resynchronising_restate_framing_looks_at_each_byte_a_bounded_number_of_times() -> None:
    """After a gap, candidate headers that claim bodies which never parse (short ones,
    decided a few segments on; long ones, waited for)."""
    for claimed in (3_000, 500_000):
        claim = bytes.fromhex("0400") + b"\x00\x00" + claimed.to_bytes(4, "big")
        segment = b"\xff" * (1400 - len(claim)) + claim
        for size in (150_000, 300_000, 600_000):
            counter = _Counting(framing._plausible)
            decoder = FrameDecoder(hints=hints_for(1))
            with mock.patch.object(framing, "_plausible", counter):
                decoder.feed(START_FRAME)
                decoder.gap(100)
                for _ in range(size // len(segment)):
                    decoder.feed(segment)
                found = decoder.end_of_stream()
            assert any(isinstance(e, Problem) and e.code == "RI112" for e in found)
            assert counter.calls <= 2 * size  # once as a candidate, once as what follows one


def test_resynchronising_a_chunked_body_looks_at_each_byte_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    """A chunked response that loses a segment, then chunk-size lines whose chunks never
    end where they say."""
    looks = []
    for size in (150_000, 300_000, 600_000):
        talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
        talk.handshake()
        talk.segment(0, b"GET /health HTTP/1.1\r\nhost: sdk\r\n\r\n")
        talk.segment(1, b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"100\r\n" + b"y" * 256 + b"\r\n"
        segment = b"x" * 1390 + b"\r\n400\r\n"  # a chunk of 1,024 bytes that does not end so
        for data in [chunk] * 3 + [segment] * (size // len(segment)):
            talk.segment(1, data)
            talk.segment(0, flags=cw.ACK)
        del talk.packets[7]  # the second chunk, lost (the client acknowledged it)
        path = tmp_path / f"chunked-{size}.pcap"
        path.write_bytes(cw.pcap(talk.packets))
        pattern = _Counting(http1._NEXT_CHUNK.search)
        with mock.patch.object(http1, "_NEXT_CHUNK", mock.Mock(search=pattern)):
            list(read_input(str(path)))
        looks.append(pattern.calls)
    assert looks[0] > 0 and looks[2] <= 4.5 * looks[0]


class _Counting:
    """A function that counts its calls."""

    def __init__(self, function: Callable[..., object]) -> None:
        self.function, self.calls = function, 0

    def __call__(self, *args: object) -> object:
        self.calls += 1
        return self.function(*args)


# --- what compressed input expands to -------------------------------------------------------


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_a_packet_of_200_mib_in_a_small_gzip_is_cut_and_said(kind: str, tmp_path: Path) -> None:
    """200 KB of gzip that claims one packet of 200 MiB: read to 256 KiB, as a snap length
    would cut it, said (RI319), and the command stays small."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    head = talk.segment(1, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    talk.packets[-1] = cw.Packet(head.time, head.data + bytes(200 * 1024 * 1024))
    path = tmp_path / f"big.{kind}.gz"
    if kind == "pcap":
        capture = cw.pcap(talk.packets)
    else:
        capture = cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], talk.packets)])
    path.write_bytes(gzip.compress(capture, 6))
    assert path.stat().st_size < 300_000
    peak, _ = peak_rss(["streams", "--json", str(path)])
    assert peak < LIMIT_BYTES
    checked = run_cli(["check", "--json", str(path)]).stdout.splitlines()
    assert "RI319" in {json.loads(line)["code"] for line in checked}


def test_a_lambda_envelope_of_64_mb_in_a_small_gzip_stays_small(tmp_path: Path) -> None:
    """60 KB of gzip: a JSON envelope whose base64 body is one frame of 45 MiB of zeros
    (22 million fields, read without a schema: once 21 GB)."""
    size = 45 * 1024 * 1024
    frame = bytes.fromhex("0400") + bytes(2) + size.to_bytes(4, "big") + bytes(size)
    envelope = {"body": base64.b64encode(frame).decode(), "isBase64Encoded": True}
    path = tmp_path / "event.json.gz"
    path.write_bytes(gzip.compress(json.dumps(envelope).encode(), 6))
    assert path.stat().st_size < 100_000
    peak, out = peak_rss(["decode", str(path)])
    assert peak < LIMIT_BYTES
    assert "1 frame, 47185928 bytes" in out


def test_an_attempt_of_30000_frames_as_json_stays_small(tmp_path: Path) -> None:
    """Found by the fuzz campaign: journal --json holds an attempt's records together,
    and orjson's lines kept 4 KB each (335 MB for a 250 KB stream)."""
    entry = encode_frame(0x0800, pb.SetStateEntryMessage(key=b"k", value=b"v"))  # SetState
    path = tmp_path / "many.bin"
    path.write_bytes(entry * 30_000)
    peak, out = peak_rss(["journal", "--json", "--protocol-version", "1", str(path)])
    assert out.count('"kind":"frame"') == 30_000
    assert peak < 150 * 1024 * 1024


def test_an_attempt_of_400000_empty_frames_keeps_what_it_needs(tmp_path: Path) -> None:
    """The shape of a 58 KB file that expands to 5,000,000 empty frames (here fewer, as the
    bound is the same): an attempt keeps MOST_MOMENTS of them and counts the rest (RI243),
    where it kept all, at about 1 KB each."""
    path = tmp_path / "empty.bin.gz"
    path.write_bytes(gzip.compress(encode_frame(0x0C00, b"") * 400_000, 9))
    assert path.stat().st_size < 10_000
    told = ["--protocol-version", "1", "--direction", "sdk_to_runtime"]  # no finding but RI243
    peak, out = peak_rss(["journal", "--json", *told, str(path)])
    assert peak < LIMIT_BYTES
    records = [json.loads(line) for line in out.splitlines()]
    (excess,) = [r for r in records if r.get("code") == "RI243"]
    assert "300,000 frames more" in excess["message"]
    assert excess["offset"] == 100_000 * 8
    assert sum(r["kind"] == "frame" for r in records) == 100_000
    (invocation,) = [r for r in records if r["kind"] == "invocation"]
    assert invocation["ending"] == "not read to its end: more than 100,000 frames (RI243)"
