"""Test helpers: where the shared captures are, their independent expected decoding, the CLI
runner, and the split-invariance check that every sans-IO decoder's tests use."""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format
from google.protobuf.json_format import MessageToDict
from typer.testing import CliRunner

from restate_inspect.cli import app
from restate_inspect.events import Frame, RawFrame
from restate_inspect.framing import DEFAULT_MAX_LENGTH, DEFAULT_STREAM, decode_all
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol import hints_for, reader_for
from restate_inspect.protocol.v1.messages import V2_TABLE
from restate_inspect.rules import Problem

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BUNDLED_CAPTURES = ("v1-features", "v1-lazy-state", "py-v2-http11")  # facts of these are known


def captures_path() -> Path:
    return Path(os.environ.get("RESTATE_INSPECT_CAPTURES", ROOT.parent / "shared" / "captures"))


def _capture_names() -> tuple[str, ...]:
    """The bundled captures, and every other capture folder laid out as they are (NAME.pcap,
    NAME.pcapng, streams/, expected.txt): more real traffic put beside them, or in
    $RESTATE_INSPECT_CAPTURES, is checked by the same corpus tests."""
    path = captures_path()
    found = (
        {
            folder.name
            for folder in path.iterdir()
            if (folder / "expected.txt").is_file()
            and (folder / "streams").is_dir()
            and all((folder / f"{folder.name}.{kind}").is_file() for kind in ("pcap", "pcapng"))
        }
        if path.is_dir()
        else set()
    )
    return BUNDLED_CAPTURES + tuple(sorted(found - set(BUNDLED_CAPTURES)))


CAPTURE_NAMES = _capture_names()

_CONTENT_VERSION = re.compile(rb"application/vnd\.restate\.invocation\.v(\d+)")


def speaks_current_protocol(capture: str) -> bool:
    """True when the capture's expected decoding names a V4+ content type (commands and
    notifications), which the `v4` protocol family will read."""
    expected = captures_path() / capture / "expected.txt"
    versions = {int(v) for v in _CONTENT_VERSION.findall(expected.read_bytes())}
    return any(version >= 4 for version in versions)


def captures_expecting_v1_reading() -> list[Any]:
    """CAPTURE_NAMES for the corpus tests that read a capture as V1/V2 does today: the V4+
    ones are strict expected failures until the `v4` family reads them, so each fails CI
    the moment it starts passing and its mark must go."""
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True, reason="V4+ capture: the v4 protocol family does not read it yet"
            ),
        )
        if speaks_current_protocol(name)
        else name
        for name in CAPTURE_NAMES
    ]


def captures_dir() -> Path:
    """../shared/captures beside the repository, or $RESTATE_INSPECT_CAPTURES.

    Outside CI a missing folder skips the tests that need it; in CI it fails them.
    """
    path = captures_path()
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared captures not found at {path}")
        pytest.skip(f"shared captures not found at {path}")
    return path


# --- the expected decoding (expected.txt, made with protoc --decode) -----------------


@dataclass
class ExpectedFrame:
    offset: int
    type: int
    name: str
    flags: int
    length: int
    body_lines: list[str] = field(default_factory=list)

    def message_dict(self) -> dict[str, Any]:
        """The body, parsed from protoc's text format, in protobuf's canonical JSON mapping."""
        spec = V2_TABLE.lookup(self.type)
        assert spec is not None and spec.cls is not None, f"no schema for {self.type:#x}"
        message = text_format.Parse("\n".join(self.body_lines), spec.cls())
        return MessageToDict(message, preserving_proto_field_name=True)


@dataclass
class ExpectedStream:
    name: str
    path: str
    protocol: bool = True  # False: discovery and other non-protocol bodies
    frames: dict[str, list[ExpectedFrame]] = field(default_factory=dict)  # by "req"/"resp"


_FRAME_LINE = re.compile(
    r"  offset=(\d+) type=0x([0-9A-Fa-f]{4}) (\S+) flags=0x([0-9A-Fa-f]{4}) length=(\d+)$"
)
_STREAM_LINE = re.compile(r"stream (\S+) .* (\S+) (/\S*)$")


def expected_streams(capture: str, path: Path | None = None) -> list[ExpectedStream]:
    text = (path or captures_dir() / capture / "expected.txt").read_text()
    streams: list[ExpectedStream] = []
    current: list[ExpectedFrame] | None = None
    for line in text.splitlines():
        if match := _STREAM_LINE.match(line):
            streams.append(ExpectedStream(match.group(1), match.group(3)))
            current = None
        elif line.startswith("[runtime->sdk"):
            current = streams[-1].frames.setdefault("req", [])
        elif line.startswith("[sdk->runtime"):
            current = streams[-1].frames.setdefault("resp", [])
        elif line.startswith("  (not a service-protocol stream"):
            streams[-1].protocol = False
        elif match := _FRAME_LINE.match(line):
            assert current is not None
            offset, type_hex, name, flags, length = match.groups()
            current.append(
                ExpectedFrame(int(offset), int(type_hex, 16), name, int(flags, 16), int(length))
            )
        elif line.startswith("    ") and current:
            current[-1].body_lines.append(line)
        elif line.startswith("service-protocol frames"):
            break  # the summary at the end
    return streams


# --- framing and reading a whole body at once ---------------------------------------------


def read_all(
    data: bytes,
    *,
    stream: StreamKey = DEFAULT_STREAM,
    direction: Direction | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    version: int | None = None,
) -> list[Frame | Problem]:
    """A body framed and read by its version's family, without numbering: each frame, then
    its problems."""
    reader = reader_for(version)
    out: list[Frame | Problem] = []
    raw = decode_all(
        data, stream=stream, direction=direction, max_length=max_length, hints=hints_for(version)
    )
    for event in raw:
        if isinstance(event, RawFrame):
            frame, problems = reader.read(event)
            out += [frame, *problems]
        else:
            out.append(event)
    return out


# --- the CLI -----------------------------------------------------------------------


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], stdin: str | bytes | None = None) -> CliResult:
    runner = CliRunner()
    result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


# --- split invariance ----------------------------------------------------------------


def splits(data: bytes, seed: int) -> Iterator[list[bytes]]:
    """The same bytes whole, byte by byte, and cut at random places."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(seed)
    for _ in range(3):
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 12))))
        bounds = [0, *cuts, len(data)]
        yield [data[a:b] for a, b in itertools.pairwise(bounds)]


def assert_split_invariant(
    decode: Callable[[list[bytes]], list[Any]], data: bytes, seed: int = 0
) -> list[Any]:
    """decode(pieces) must give the same events however the bytes are cut."""
    whole = decode([data])
    if len(data) > 1:
        for pieces in splits(data, seed):
            assert decode(pieces) == whole, f"differs when cut into {len(pieces)} pieces"
    return whole
