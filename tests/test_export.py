"""streams --export: the bodies of a capture's Restate streams, written to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from restate_inspect import export
from tests import capturewriter as cw
from tests.captures import REQUEST, RESPONSE, sample_talk
from tests.helpers import SAMPLES, captures_dir, run_cli


def _index(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / export.INDEX).read_text().splitlines()]


def _exported(directory: Path) -> dict[str, bytes]:
    """Every file written, by the stream name after its NNN_ number."""
    return {p.name.split("_", 1)[1]: p.read_bytes() for p in directory.glob("*.bin")}


@pytest.mark.parametrize("capture", ["v1-features", "v1-lazy-state", "py-v2-http11"])
def test_every_body_equals_the_shared_captures_own(capture: str, tmp_path: Path) -> None:
    folder = captures_dir() / capture
    result = run_cli(["streams", str(folder / f"{capture}.pcapng"), "--export", str(tmp_path)])
    assert result.exit_code == 0
    shared = json.loads((folder / "streams" / "index.json").read_text())
    invocations = [s["name"] for s in shared if "/invoke/" in (s["path"] or "")]
    want = {
        f"{name.split('_', 1)[1]}.{side}.bin": (
            folder / "streams" / f"{name}.{side}.bin"
        ).read_bytes()
        for name in invocations
        for side in ("req", "resp")
    }
    assert _exported(tmp_path) == want
    index = _index(tmp_path)
    assert len(index) == len(invocations)
    for record in index:
        assert (tmp_path / record["request_file"]).stat().st_size == record["request_bytes"]
        assert (tmp_path / record["response_file"]).stat().st_size == record["response_bytes"]
        assert record["invocation_id"].startswith("inv_") and record["gaps"] == []
    numbers = [int(record["name"].split("_")[0]) for record in index]
    assert len(set(numbers)) == len(numbers)  # one number per stream, in the order they began


def test_the_selection_chooses_what_is_exported(tmp_path: Path) -> None:
    capture = str(SAMPLES / "v1-features.pcapng")
    listed = run_cli(["streams", "--json", capture, "--service", "Counter"])
    rows = [json.loads(line)["stream"] for line in listed.stdout.splitlines()]
    result = run_cli(["streams", capture, "--service", "Counter", "--export", str(tmp_path)])
    assert result.exit_code == 0
    assert f"{len(rows)} Restate streams exported" in result.stderr
    # the index is written as streams end, the listing is in order of their start
    assert sorted(record["stream"] for record in _index(tmp_path)) == sorted(rows)
    assert len(list(tmp_path.glob("*.bin"))) == 2 * len(rows)  # the others' files are gone


def test_a_gap_is_left_out_of_the_file_and_told_in_the_index(tmp_path: Path) -> None:
    talk = sample_talk(segment=60)
    client = [
        i for i, p in enumerate(talk.packets) if len(p.data) > 100 and p.data[34:36] == b"\x9c\x40"
    ]
    del talk.packets[client[4]]  # 60 bytes of the request body's middle
    talk.segment(1, flags=cw.ACK)
    capture = tmp_path / "lossy.pcap"
    capture.write_bytes(cw.pcap(talk.packets))
    result = run_cli(["streams", str(capture), "--export", str(tmp_path / "out")])
    assert result.exit_code == 1  # the loss is a problem of the input
    (record,) = _index(tmp_path / "out")
    (gap,) = record["gaps"]
    assert gap["direction"] == "runtime_to_sdk" and gap["length"] == 60
    request = (tmp_path / "out" / record["request_file"]).read_bytes()
    at = gap["offset"]
    assert request == REQUEST[:at] + REQUEST[at + 60 :]  # no byte made up for the lost ones
    assert (tmp_path / "out" / record["response_file"]).read_bytes() == RESPONSE


def test_streams_in_flight_beyond_the_open_files_still_export_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "_OPEN_AT_ONCE", 1)  # every interleaved write reopens a file
    capture = captures_dir() / "v1-features"
    run_cli(["streams", str(capture / "v1-features.pcap"), "--export", str(tmp_path)])
    for name, data in _exported(tmp_path).items():
        (shared,) = (capture / "streams").glob(f"*_{name}")
        assert data == shared.read_bytes()


def test_export_of_a_stream_file_or_to_a_file_is_said(tmp_path: Path) -> None:
    folder = tmp_path / "bodies"
    raw = run_cli(["streams", str(SAMPLES / "v1-call-other.req.bin"), "--export", str(folder)])
    assert raw.exit_code == 2 and "is not a capture" in raw.stderr
    assert not folder.exists()  # refused before anything is made
    piped = run_cli(
        ["streams", "--export", str(folder), "-"],
        stdin=(SAMPLES / "v1-call-other.req.bin").read_bytes(),
    )  # stdin cannot be looked at first: said after, and not clean
    assert piped.exit_code == 1 and "0 Restate streams exported" in piped.stderr
    assert "only a capture's are" in piped.stderr
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    bad = run_cli(["streams", str(SAMPLES / "v1-features.pcapng"), "--export", str(blocked)])
    assert bad.exit_code == 2
