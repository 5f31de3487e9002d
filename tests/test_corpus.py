"""Every real stream decodes exactly as the independent expected decoding says.

The expected files were made with an 8-byte header split and `protoc --decode`, not by
restate-inspect; here both are brought to protobuf's canonical JSON mapping and compared.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.events import RawFrame
from restate_inspect.framing import FrameDecoder
from restate_inspect.location import Direction
from tests.helpers import (
    CAPTURE_NAMES,
    SAMPLES,
    ExpectedFrame,
    captures_dir,
    expected_streams,
    run_cli,
)

COMPARED = ("offset", "type", "flags", "length")


def _records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def _same_family(got: int | None, told: int | None) -> bool:
    """Read by the family of the version the stream's content type told (V1-V3, V4+)."""
    return got is not None and told is not None and (got >= 4) == (told >= 4)


def _assert_matches(
    records: list[dict[str, Any]],
    expected: list[ExpectedFrame],
    where: str,
    inferred: tuple[str, ...] = ("RI115",),
) -> None:
    """The frames are the expected ones; the only findings are the inferences (each body on
    its own is given without its content type: RI115, and without --direction: RI011), and
    the frames are read with the family the content type told: the messages equal the
    expected ones as the schema of the version they were read as reads them."""
    problems = [r for r in records if r["kind"] == "problem"]
    assert problems and {p["code"] for p in problems} == set(inferred), where  # and any raise
    frames = [r for r in records if r["kind"] == "frame"]
    assert len(frames) == len(expected), where
    for got, want in zip(frames, expected, strict=True):
        assert [got[k] for k in COMPARED] == [getattr(want, k) for k in COMPARED], where
        assert got["name"] == want.name, where
        assert _same_family(got["protocol_version"], want.version), where
        message = want.message_dict(got["protocol_version"])
        assert got["message"] == message, f"{where} @{want.offset}"


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
def test_every_stream_decodes_as_expected_binary_and_hex_on_stdin(capture: str) -> None:
    folder = captures_dir() / capture / "streams"
    streams = [s for s in expected_streams(capture) if s.protocol]
    assert len(streams) > 10
    for stream in streams:
        req, resp = folder / f"{stream.name}.req", folder / f"{stream.name}.resp"
        paired = run_cli(
            ["decode", "--json", "--request", f"{req}.bin", "--response", f"{resp}.bin"]
        )
        assert paired.exit_code == 0, paired.stdout
        records = _records(paired.stdout)
        told, *raised = [r for r in records if r["kind"] == "problem"]  # the pair's inference
        assert {p["code"] for p in [told, *raised]} == {"RI115"}
        for side, direction in (
            ("req", Direction.RUNTIME_TO_SDK),
            ("resp", Direction.SDK_TO_RUNTIME),
        ):
            side_frames = [
                r for r in records if r["kind"] == "frame" and r["direction"] == direction.value
            ]
            mine = [*side_frames, told]
            _assert_matches(mine, stream.frames[side], f"{stream.name}.{side}.bin")
            hex_text = (folder / f"{stream.name}.{side}.hex").read_text()
            piped = run_cli(["decode", "--json", "--direction", direction.value], stdin=hex_text)
            assert piped.exit_code == 0, piped.stdout
            _assert_matches(
                _records(piped.stdout), stream.frames[side], f"{stream.name}.{side}.hex"
            )


def test_samples_decode_as_their_expected_files() -> None:
    expected_files = sorted(SAMPLES.glob("*.expected.txt"))
    assert len(expected_files) >= 4
    for path in expected_files:
        name = path.name.removesuffix(".expected.txt")
        (stream,) = expected_streams("", path)
        for side in ("req", "resp"):
            for kind in ("bin", "hex"):
                result = run_cli(["decode", "--json", str(SAMPLES / f"{name}.{side}.{kind}")])
                assert result.exit_code == 0
                records, where = _records(result.stdout), f"{name}.{side}.{kind}"
                _assert_matches(records, stream.frames[side], where, ("RI011", "RI115"))


def _summary_counts(summary: str) -> Counter[tuple[str, int, int]]:
    counts: Counter[tuple[str, int, int]] = Counter()
    for match in re.finditer(
        r"^\s*(req|resp)\s+0x([0-9A-F]{4}) \S+\s+flags=0x([0-9A-F]{4}) count=(\d+)$", summary, re.M
    ):
        side, type_hex, flags, count = match.groups()
        counts[(side, int(type_hex, 16), int(flags, 16))] += int(count)
    return counts


def test_big_capture_streams_match_the_expected_frame_counts() -> None:
    folder = captures_dir() / "big-v2"
    expected = _summary_counts((folder / "summary.txt").read_text())
    assert sum(expected.values()) > 19_000
    got: Counter[tuple[str, int, int]] = Counter()
    problems = []
    with tarfile.open(folder / "big-v2.bin.tar.gz") as archive:
        for member in archive:
            name = Path(member.name).name
            if not name.endswith(".bin") or name.startswith("000_"):  # 000: discovery
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            side = "req" if name.endswith(".req.bin") else "resp"
            decoder = FrameDecoder()
            for event in decoder.feed(handle.read()) + decoder.end_of_stream():
                if isinstance(event, RawFrame):
                    got[(side, event.type, event.flags)] += 1
                else:
                    problems.append((name, event))
    assert problems == []
    assert got == expected
