"""`decode` and `streams` as users run them: the JSON schema, text and its golden file,
bytes, stdin, pairs, hostile payloads, and captures with nothing of Restate."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests import capturewriter as cw
from tests.helpers import SAMPLES, run_cli
from tests.hostile import hostile_stream

REQ = str(SAMPLES / "v1-call-other.req.bin")
RESP = str(SAMPLES / "v1-call-other.resp.bin")
FRAME_KEYS = [
    "kind", "stream", "direction", "offset", "time", "packet", "type", "type_hex", "name",
    "flags", "flag_names", "length", "entry_index", "protocol_version", "message", "annotations",
]  # fmt: skip
PROBLEM_KEYS = [
    "kind", "code", "severity", "message", "stream", "direction", "offset", "length",
    "entry_index", "rule", "undecoded", "invocation_id", "attempt",
]  # fmt: skip
SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_clean_pair_in_json_follows_the_documented_schema() -> None:
    result = run_cli(["decode", "--json", "--request", REQ, "--response", RESP])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    (told,) = [r for r in records if r["kind"] == "problem"]  # no content type: inferred
    assert (told["code"], told["severity"]) == ("RI115", "info") and list(told) == PROBLEM_KEYS
    frames = [r for r in records if r["kind"] == "frame"]
    assert all(list(r) == FRAME_KEYS and r["protocol_version"] == 2 for r in frames)
    call = next(r for r in frames if r["name"] == "CallEntryMessage")
    assert call["type_hex"] == "0x0c01" and call["direction"] == "sdk_to_runtime"
    assert call["entry_index"] == 1 and call["stream"].endswith("v1-call-other")
    assert call["annotations"]["target"] == "Demo/greet"
    assert call["annotations"]["payloads"]["parameter"] == {"view": "json", "json": "alice"}
    assert call["message"]["parameter"] == "ImFsaWNlIg=="  # canonical mapping: bytes as base64


def test_problems_in_json_carry_offset_and_length_and_exit_1() -> None:
    data = (SAMPLES / "v1-call-other.req.bin").read_bytes()[:100]
    result = run_cli(["decode", "--json", "-"], stdin=data)
    assert result.exit_code == 1
    problem = json.loads(result.stdout.splitlines()[-1])
    assert list(problem) == PROBLEM_KEYS
    assert (problem["code"], problem["offset"], problem["length"], problem["undecoded"]) == (
        "RI102",
        78,
        22,
        True,
    )


def test_bytes_shows_header_and_body_rows() -> None:
    result = run_cli(["decode", "--bytes", RESP])
    assert re.search(r"header\s+00000000  0c 01 00 00 00 00 00 16 ", result.stdout)
    assert re.search(r"body\s+00000008  0a 04 44 65 6d 6f", result.stdout)
    as_json = run_cli(["decode", "--json", "--bytes", RESP])
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    first = next(r for r in records if r["kind"] == "frame")
    assert first["bytes"].startswith("0c010000000000160a04")


def test_hex_piped_on_stdin() -> None:
    hex_text = (SAMPLES / "v1-call-other.resp.hex").read_text()
    result = run_cli(["decode"], stdin=hex_text)
    assert (
        result.exit_code == 0 and "CallEntryMessage" in result.stdout and "<stdin>" in result.stdout
    )


@pytest.mark.parametrize("command", ["decode", "journal", "check"])
def test_a_capture_without_restate_traffic_says_how_it_is_recognised(
    command: str, tmp_path: Path
) -> None:
    """A capture taken in the wrong place (another port, the wrong interface) is the likely
    reason; stdout stays as it is (a --json reader gets nothing)."""
    health = [
        (0, b"GET /health HTTP/1.1\r\nhost: sdk\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    ]
    capture = tmp_path / "health.pcap"
    capture.write_bytes(cw.pcap(cw.conversation_packets(health)))
    result = run_cli([command, "--json", str(capture)])
    assert result.exit_code == (1 if command == "check" else 0)  # check: nothing checked
    assert f"no Restate invocation in {capture}" in result.stderr
    assert "application/vnd.restate.invocation.vN" in result.stderr
    assert all('"kind":"frame"' not in line for line in result.stdout.splitlines())
    restate = run_cli([command, "--json", str(SAMPLES / "v1-features.pcapng")])
    assert "no Restate invocation" not in restate.stderr
    cut = tmp_path / "cut.pcapng"  # the errors are the reason: no advice on where to capture
    cut.write_bytes((SAMPLES / "v1-features.pcapng").read_bytes()[:400] + b"\xff" * 40)
    broken = run_cli([command, str(cut)])
    assert broken.exit_code == 1 and "no Restate invocation" not in broken.stderr


def test_streams_of_a_file_or_a_pair_is_one_row() -> None:
    """A raw stream is one stream, however many frames it holds."""
    (one,) = [json.loads(line) for line in run_cli(["streams", "--json", REQ]).stdout.splitlines()]
    assert one["stream_kind"] == "file"
    assert one["frames"] == {"runtime_to_sdk": 4, "sdk_to_runtime": 0}
    pair = run_cli(["streams", "--json", "--request", REQ, "--response", RESP])
    (both,) = [json.loads(line) for line in pair.stdout.splitlines()]
    assert both["frames"] == {"runtime_to_sdk": 4, "sdk_to_runtime": 4}
    assert both["ending"] == "end" and both["invocation_id"].startswith("inv_")
    text = run_cli(["streams", REQ]).stdout
    assert "1 stream, 4 frames" in text and "a file: no HTTP" in text


def test_request_or_response_alone_fixes_the_direction() -> None:
    result = run_cli(["decode", "--json", "--response", REQ])
    first = json.loads(result.stdout.splitlines()[0])
    assert first["direction"] == "sdk_to_runtime"
    result = run_cli(["decode", "--json", "--request", RESP])
    assert json.loads(result.stdout.splitlines()[0])["direction"] == "runtime_to_sdk"


def test_hostile_payloads_stay_inert_in_text(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(hostile_stream())
    for colour in ("never", "always"):
        result = run_cli(["decode", "--bytes", "--color", colour, "--max-payload", "0", str(path)])
        assert result.exit_code == 1
        text = SGR.sub("", result.stdout)  # our own styling is the only escape allowed
        assert all(c.isprintable() or c == "\n" for c in text), repr(
            [c for c in text if not (c.isprintable() or c == "\n")][:5]
        )
        assert "[bold red]markup[/bold red]" in text
        assert "RI103" in text and "4294967295" in text


def test_hostile_payloads_stay_inert_in_json(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(hostile_stream())
    result = run_cli(["decode", "--json", str(path)])
    assert result.stdout.isascii()
    assert all(c.isprintable() or c == "\n" for c in result.stdout)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    start = next(r for r in records if r["kind"] == "frame")
    assert start["message"]["key"].startswith("\x1b[2J")  # the data itself is intact


def test_text_rendering_of_a_sample_matches_its_golden_file() -> None:
    """Golden output of the text renderer: its layout (test_corpus checks the decoding)."""
    golden = Path(__file__).parent / "golden" / "v2-py-flaky-error.txt"
    args = ["decode", "--request", str(SAMPLES / "v2-py-flaky-error.req.bin")]
    args += ["--response", str(SAMPLES / "v2-py-flaky-error.resp.bin")]
    result = run_cli(args)
    output = result.stdout.replace(str(SAMPLES), "samples")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(output)
    assert output == golden.read_text()


def test_a_capture_time_past_the_year_9999_is_shown_not_failed_on(tmp_path: Path) -> None:
    request = (SAMPLES / "v1-call-other.req.bin").read_bytes()
    response = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
    packets = cw.conversation_packets(cw.h2_exchange(request, response), start=3.2e11)
    path = tmp_path / "far.pcapng"
    path.write_bytes(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], packets)]))
    result = run_cli(["streams", str(path)])
    assert result.exit_code == 0 and "32000000000" in result.stdout.splitlines()[1]
