"""The runtime's stored journals (sys_journal.json of every shared capture) read as an input:
one frame per row, decoded as the row's own schema decodes its `raw`; one invocation per
invocation of the dump; and the same commands (V4+) or entries (V1-V3), in the same order,
as the journal of the capture itself."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict

from restate_inspect.protocol.v1._proto import v3_pb2
from restate_inspect.protocol.v4._proto import v5_pb2, v6_pb2, v7_pb2
from tests.helpers import CAPTURE_NAMES, captures_dir, run_cli

SCHEMAS = {5: v5_pb2, 6: v6_pb2, 7: v7_pb2}


def _dumps() -> list[str]:
    return [n for n in CAPTURE_NAMES if (captures_path(n) / "sys_journal.json").is_file()]


def captures_path(name: str) -> Path:
    return captures_dir() / name


def _rows(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((captures_path(name) / "sys_journal.json").read_text())[
        "rows"
    ]
    return rows


def _expected(row: dict[str, Any], version: int) -> tuple[str, dict[str, Any]]:
    """The message name and body of a row, by the test's own reading of its entry_type."""
    kind = row["entry_type"]
    if row["version"] == 1:
        name, schema = kind + "EntryMessage", v3_pb2
    else:
        family, _, short = kind.partition(": ")
        suffix = "CommandMessage" if family == "Command" else "CompletionNotificationMessage"
        name = "SignalNotificationMessage" if short == "Signal" else short + suffix
        schema = SCHEMAS[version]
    message = getattr(schema, name).FromString(bytes.fromhex(row["raw"]))
    return name, MessageToDict(message, preserving_proto_field_name=True)


def _pinned(name: str) -> dict[str, int]:
    path = captures_path(name) / "sys_invocation.json"
    if not path.is_file():
        return {}
    rows = json.loads(path.read_text())["rows"]
    return {r["id"]: r["pinned_service_protocol_version"] for r in rows
            if r.get("pinned_service_protocol_version")}  # fmt: skip


@pytest.mark.parametrize("name", _dumps())
def test_each_row_is_one_frame_decoded_by_its_own_schema(name: str) -> None:
    dump = captures_path(name) / "sys_journal.json"
    args = ["decode", "--json", str(dump)]
    invocations = captures_path(name) / "sys_invocation.json"
    if invocations.is_file():
        args += ["--invocations", str(invocations)]
    result = run_cli(args)
    assert result.exit_code == 0, result.stdout[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    frames = [r for r in records if r["kind"] == "frame"]
    rows = _rows(name)
    assert len(frames) == len(rows)
    pinned = _pinned(name)
    by_place = {(f["stream"], f["entry_index"]): f for f in frames}
    for row in rows:
        frame = by_place[row["id"], row["index"]]
        version = pinned.get(row["id"], 7 if row["version"] == 2 else 3)
        name_, message = _expected(row, version)
        assert (frame["name"], frame["message"], frame["offset"]) == (name_, message, None)
        assert frame["protocol_version"] == version
    assert not [r for r in records if r["kind"] == "problem" and r["severity"] != "info"]


@pytest.mark.parametrize("name", _dumps())
def test_the_journal_of_a_dump_agrees_with_the_journal_of_its_capture(name: str) -> None:
    """Per invocation, the commands (V4+) or the entries (V1-V3), by type and order."""
    dumped = _journal(["journal", "--json", str(captures_path(name) / "sys_journal.json")])
    captured = _journal(["journal", "--json", str(captures_path(name) / f"{name}.pcapng")])
    ids = {row["id"] for row in _rows(name)}
    assert set(dumped) == ids
    for invocation_id, kinds in dumped.items():
        assert captured[invocation_id] == kinds, invocation_id


def _journal(args: list[str]) -> dict[str, list[str]]:
    """Per invocation, its last attempt's commands (V4+) or entries (V1-V3), in order."""
    result = run_cli(args)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    last = {r["invocation_id"]: r["attempt"] for r in records if r["kind"] == "attempt"}
    out: dict[str, dict[int, str]] = {}
    for record in records:
        if record["kind"] != "entry" or record["attempt"] != last[record["invocation_id"]]:
            continue
        place = record.get("command_index", record["index"])
        if place is not None:
            out.setdefault(record["invocation_id"], {})[place] = record["name"]
    return {i: [kinds[p] for p in sorted(kinds)] for i, kinds in out.items()}


def test_a_gzipped_dump_is_read_too(tmp_path: Path) -> None:
    dump = tmp_path / "journal.json.gz"
    dump.write_bytes(
        gzip.compress((captures_path("v6-py-http11") / "sys_journal.json").read_bytes())
    )
    result = run_cli(["journal", "--json", "--oneline", str(dump)])
    assert result.exit_code == 0
    assert (
        sum(json.loads(line)["kind"] == "invocation" for line in result.stdout.splitlines()) == 20
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '{"rows": [{"id": "inv_x", "index": 0, "entry_type": "Command: Input", "raw": "7',
            "is not JSON",
        ),
        (
            '[{"id": "inv_x", "index": 0, "entry_type": "Command: Nope", "raw": ""}]',
            "is no v4 message",
        ),
        (
            '[{"id": "inv_x", "index": 0, "entry_type": "Command: Input", "raw": "zz"}]',
            "raw is not hex",
        ),
        (
            '[{"id": "inv_x", "index": 0, "entry_type": "Command: Input", "raw": "ff"}]',
            "does not parse",
        ),
        (
            '[{"id": "inv_x", "status": "running", "entry_type": "x", "raw": ""}]',
            "not a sys_journal row",
        ),
    ],
)
def test_a_malformed_dump_gives_findings_never_a_traceback(
    tmp_path: Path, text: str, said: str
) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(text)
    for command in ("decode", "journal", "check"):
        result = run_cli([command, "--json", "--input-format", "sys-journal", str(dump)])
        assert result.exit_code in (0, 1), result.stdout
        assert "Traceback" not in result.stdout
        problems = [json.loads(line) for line in result.stdout.splitlines()
                    if json.loads(line)["kind"] == "problem"]  # fmt: skip
        assert any(said in p["message"] for p in problems), (command, problems)
