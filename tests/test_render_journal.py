"""The journal timeline in text, against what the runtime stored: each invocation's heading,
its attempts and how each resumes the one before, every entry of the last attempt in the
runtime's order, the findings inline, and one line per invocation with --oneline."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from functools import cache

import pytest
from rich.console import Console

from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.render.journal import JournalRenderer
from restate_inspect.streams import Tally
from tests.helpers import captures_dir

CAPTURE = captures_dir() / "v1-features"
ENTRY_LINE = re.compile(r" [→←] #(\d+) +(\w+) ")


@cache
def _invocations() -> dict[str, Invocation]:
    items = invocations(decode_events(read_input(str(CAPTURE / "v1-features.pcap"))))
    return {i.invocation_id: i for i in items if isinstance(i, Invocation)}


def _stored() -> dict[str, list[str]]:
    """The entry types the runtime stored for each invocation, in its order."""
    rows = json.loads((CAPTURE / "sys_journal.json").read_text())["rows"]
    stored: dict[str, list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["id"], r["index"])):
        stored[row["id"]].append(row["entry_type"])
    return stored


def _text(invocation: Invocation) -> list[str]:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    JournalRenderer(console).invocation(invocation)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue().splitlines()


@pytest.mark.parametrize("invocation_id", ["inv_10bw4QLbsXE46GOiRvicestLZMcGz4HXoZ",
                                           "inv_10A4Gt5ZZD3d1B8FKgXCS9JZeQdEV9Vqmt"])  # fmt: skip
def test_the_last_attempt_shows_the_entries_the_runtime_stored(invocation_id: str) -> None:
    """Demo/flaky (retried twice) and Demo/longSleep (suspended, then resumed)."""
    invocation = _invocations()[invocation_id]
    lines = _text(invocation)
    attempts = len(invocation.attempts)
    assert lines[0].startswith(f"━━ {invocation_id}  {invocation.target}  {attempts} attempts")
    headers = [i for i, line in enumerate(lines) if line.startswith("  ── attempt ")]
    assert len(headers) == attempts
    for number, at in enumerate(headers[1:], start=1):
        assert f"resumes attempt {number} after " in lines[at]
    last = [ENTRY_LINE.search(line) for line in lines[headers[-1] :]]
    shown = {int(m.group(1)): m.group(2) for m in last if m is not None}
    assert list(shown.values()) == _stored()[invocation_id]
    assert sorted(shown) == list(range(len(shown)))


def test_findings_are_inline_under_the_frame_they_are_about() -> None:
    flaky = _text(_invocations()["inv_10bw4QLbsXE46GOiRvicestLZMcGz4HXoZ"])
    error = next(i for i, line in enumerate(flaky) if " Error " in line)
    assert flaky[error + 1].lstrip().startswith("! RI232 info @0x")


def test_oneline_is_the_heading_with_the_problems_counted() -> None:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    invocation = _invocations()["inv_10bw4QLbsXE46GOiRvicestLZMcGz4HXoZ"]
    tally = Tally()
    for attempt in invocation.attempts:
        for finding in attempt.all_findings():
            tally.add(finding)
    JournalRenderer(console).invocation_line(invocation, tally)
    output = console.file
    assert isinstance(output, io.StringIO)
    (line,) = output.getvalue().splitlines()
    # RI241 once for the connection, RI232 for each of the two errors: all info
    assert line == f"{invocation.invocation_id}  Demo/flaky  3 attempts · end · 3 info"
