"""Test helpers: where the shared captures are, their independent expected decoding, the CLI
runner, and the split-invariance check that every sans-IO decoder's tests use."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from google.protobuf import text_format
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from typer.testing import CliRunner

from restate_inspect.cli import app
from restate_inspect.events import Chunk, Frame, HttpBody, InputEvent, RawFrame
from restate_inspect.framing import DEFAULT_MAX_LENGTH, DEFAULT_STREAM, decode_all
from restate_inspect.headers import invocation_version
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol import hints_for, reader_for
from restate_inspect.protocol.v1.messages import V2_TABLE, V3_TABLE
from restate_inspect.protocol.v4.messages import TABLES
from restate_inspect.readers import read_input
from restate_inspect.rules import Problem
from restate_inspect.tui.state import BrowserState
from restate_inspect.tui.store import InvocationStore

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


def captures_of_family(current: bool) -> list[str]:
    """CAPTURE_NAMES of the V4+ family (current) or of the V1-V3 one: the corpus tests that
    compare with the runtime's own journal read each family's model."""
    return [name for name in CAPTURE_NAMES if speaks_current_protocol(name) == current]


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


def stored_entry_types(current: bool) -> set[str]:
    """Every entry_type the runtime stored in the shared captures' sys_journal.json, of the
    V4+ journal (`Command: Call`) or of the V1-V3 one (`Call`)."""
    found: set[str] = set()
    for path in sorted(captures_dir().glob("*/sys_journal.json")):
        rows = json.loads(path.read_text())["rows"]
        found.update(r["entry_type"] for r in rows if (": " in r["entry_type"]) == current)
    return found


def schema_class(version: int | None, type_code: int) -> type[Message]:
    """The class the version's own schema has for a type (V1/V2's when not known)."""
    if version is not None and version >= 4:
        spec = TABLES[min(version, 8)].lookup(type_code)
    else:
        spec = (V3_TABLE if version == 3 else V2_TABLE).lookup(type_code)
    assert spec is not None and spec.cls is not None, f"no schema for {type_code:#x}"
    return spec.cls


_NUMBERED = re.compile(r"^(\s*)(\d+)(: | \{)(.*)$")


def _named(lines: list[str], cls: type[Message]) -> list[str]:
    """protoc prints a field its schema lacks by number (`9: 123`): by the class's name for
    that number, when it has one at the top level; else the field is left out (a schema
    without it does not read it)."""
    out: list[str] = []
    depth_skipped = 0
    base = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    for line in lines:
        stripped = line.strip()
        if depth_skipped:
            depth_skipped += stripped.endswith("{") - (stripped == "}")
            continue
        match = _NUMBERED.match(line)
        if match is None:
            out.append(line)
            continue
        indent, number, sep, rest = match.groups()
        field_ = cls.DESCRIPTOR.fields_by_number.get(int(number)) if len(indent) == base else None
        if field_ is not None and sep == ": ":
            out.append(f"{indent}{field_.name}: {rest}")
        elif sep == " {":
            depth_skipped = 1
    return out


@dataclass
class ExpectedFrame:
    offset: int
    type: int
    name: str
    flags: int
    length: int
    version: int | None = None  # of the stream, as its content type told it
    body_lines: list[str] = field(default_factory=list)

    def message_dict(self, version: int | None = None) -> dict[str, Any]:
        """The body, parsed from protoc's text format by the schema of the version given
        (its stream's when None), in protobuf's canonical JSON mapping."""
        cls = schema_class(version or self.version, self.type)
        lines = [line for line in self.body_lines if line.strip() != "(empty message)"]
        message = text_format.Parse("\n".join(_named(lines, cls)), cls())
        return MessageToDict(message, preserving_proto_field_name=True)


@dataclass
class ExpectedStream:
    name: str
    path: str
    protocol: bool = True  # False: discovery and other non-protocol bodies
    frames: dict[str, list[ExpectedFrame]] = field(default_factory=dict)  # by "req"/"resp"
    version: int | None = None


# Two layouts: the V1/V2 captures' (`stream NAME ... METHOD PATH`, `  offset=0 type=...`)
# and the V5-V7 captures' (`=== NAME METHOD PATH status=`, `    @0 type=... NAME`).
_STREAM_LINE = re.compile(r"(?:stream (\S+) .* (\S+) (/\S*)|=== (\S+) (\S+) (/\S*) .*)$")
_FRAME_LINE = re.compile(
    r"  offset=(\d+) type=0x([0-9A-Fa-f]{4}) (\S+) flags=0x([0-9A-Fa-f]{4}) length=(\d+)$"
)
_NEW_FRAME_LINE = re.compile(
    r"    @(\d+)\s+type=0x([0-9A-Fa-f]{4}) flags=0x([0-9A-Fa-f]{4}) len=(\d+)\s+(\S+)$"
)
_CONTENT_TYPE = re.compile(r"\s+request content-type: (\S+)")
_SIDES = {
    "[runtime->sdk": "req", "[sdk->runtime": "resp",
    "  --- request (runtime->SDK)": "req", "  --- response (SDK->runtime)": "resp",
}  # fmt: skip


def _frame_of(line: str) -> ExpectedFrame | None:
    if match := _FRAME_LINE.match(line):
        offset, type_hex, name, flags, length = match.groups()
    elif match := _NEW_FRAME_LINE.match(line):
        offset, type_hex, flags, length, name = match.groups()
    else:
        return None
    return ExpectedFrame(int(offset), int(type_hex, 16), name, int(flags, 16), int(length))


def expected_streams(capture: str, path: Path | None = None) -> list[ExpectedStream]:
    text = (path or captures_dir() / capture / "expected.txt").read_text()
    streams: list[ExpectedStream] = []
    current: list[ExpectedFrame] | None = None
    for line in text.splitlines():
        if match := _STREAM_LINE.match(line):
            name, _method, where = [g for g in match.groups() if g is not None]
            streams.append(ExpectedStream(name, where))
            current = None
        elif match := _CONTENT_TYPE.match(line):
            streams[-1].version = invocation_version(match.group(1))
            streams[-1].protocol = streams[-1].version is not None
        elif side := next((s for start, s in _SIDES.items() if line.startswith(start)), None):
            current = streams[-1].frames.setdefault(side, [])
        elif (frame := _frame_of(line)) is not None:
            assert current is not None
            frame.version = streams[-1].version
            current.append(frame)
        elif line.startswith("    ") and current:
            current[-1].body_lines.append(line)
        elif line.startswith(("service-protocol frames", "# service-protocol")):
            break  # the summary at the end
    return streams


# --- framing and reading a whole body at once ---------------------------------------------


def read_all(
    data: bytes,
    *,
    stream: StreamKey = DEFAULT_STREAM,
    direction: Direction | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    version: int | None = 2,
) -> list[Frame | Problem]:
    """A body framed and read by its version's family (None: a version not known),
    without numbering: each frame, then its problems."""
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

Piece = TypeVar("Piece", bytes, str)


def splits(data: Piece, seed: int) -> Iterator[list[Piece]]:
    """The same bytes (or text) whole, one by one, and cut at random places."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(seed)
    for _ in range(3):
        count = min(len(data) - 1, rng.randint(1, 12))
        cuts: list[int] = sorted(rng.sample(range(1, len(data)), count))
        bounds = [0, *cuts, len(data)]
        yield [data[a:b] for a, b in itertools.pairwise(bounds)]


def assert_split_invariant(decode: Callable[[list[Piece]], Any], data: Piece, seed: int = 0) -> Any:
    """decode(pieces) must give the same events however the bytes (or text) are cut."""
    whole = decode([data])
    if len(data) > 1:
        for pieces in splits(data, seed):
            assert decode(pieces) == whole, f"differs when cut into {len(pieces)} pieces"
    return whole


class Pieces:
    """A handle that gives its bytes in the pieces it was given, as a pipe does: read1 (and
    read) return at most what is left of the current piece."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = [piece for piece in pieces if piece]

    def read1(self, size: int = -1, /) -> bytes:
        if not self._pieces:
            return b""
        piece = self._pieces[0]
        taken = piece if size < 0 else piece[:size]
        if len(taken) == len(piece):
            self._pieces.pop(0)
        else:
            self._pieces[0] = piece[len(taken) :]
        return taken

    read = read1


def chunk_bytes(events: Sequence[InputEvent]) -> bytes:
    """Every byte the events carry of any stream, in order."""
    return b"".join(e.data for e in events if isinstance(e, Chunk))


def joined_bodies(events: list[Any]) -> list[Any]:
    """HTTP events with each run of one exchange's body as one: how a body is cut into
    HttpBody events follows how its bytes came, and nothing else."""
    out: list[Any] = []
    for event in events:
        previous = out[-1] if out else None
        if (
            isinstance(event, HttpBody)
            and isinstance(previous, HttpBody)
            and previous[:2] == event[:2]
        ):
            out[-1] = previous._replace(data=previous.data + event.data)
        else:
            out.append(event)
    return out


class TextDecoder(Protocol):
    def feed(self, text: str) -> list[bytes | Problem]: ...
    def end_of_stream(self) -> list[bytes | Problem]: ...


def apart(pieces: list[bytes | Problem]) -> tuple[bytes, list[Problem]]:
    """A text decoder's pieces: the bytes joined, and the problems."""
    data = b"".join(p for p in pieces if isinstance(p, bytes))
    return data, [p for p in pieces if isinstance(p, Problem)]


def fed_text(decoder: TextDecoder, pieces: list[str]) -> tuple[bytes, list[Problem]]:
    """The bytes and problems a text decoder makes of text fed in pieces, then ended."""
    out: list[bytes | Problem] = []
    for piece in pieces:
        out += decoder.feed(piece)
    return apart(out + decoder.end_of_stream())


def sample_invocations(name: str = "v1-features.pcapng") -> list[Invocation]:
    """The invocations decoded from a bundled sample."""
    items = invocations(decode_events(read_input(str(SAMPLES / name))))
    return [item for item in items if isinstance(item, Invocation)]


def sample_state() -> BrowserState:
    """Every invocation of the bundled sample capture listed, as the TUI lists them, and
    stored in the state's store; nothing selected."""
    store = InvocationStore()
    state = BrowserState(store)
    for invocation in sample_invocations():
        state.add(store.add(invocation))
    return state
