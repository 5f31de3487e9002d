"""The runtime's own journal as an input (sans-IO): rows of `sys_journal`, as the admin API's
`/query` answers (`{"rows": [...]}`), as `restate sql --json` prints them (an array), or
one row per line (`restate sql --jsonl`); with `sys_invocation` rows beside them, when
given, for each invocation's status and pinned protocol version.

Rows are grouped by invocation and put in their stored order; each invocation becomes one
StoredJournal, its StoredRow events, and the ends of its stream. A row that cannot be read
is a finding that names it (RI009), and the others are read.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from restate_inspect.events import InputEvent, StoredJournal, StoredRow, StreamEnd
from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import Problem

Row = dict[str, Any]
# what tells a sys_journal row, and one of sys_invocation, at a glance
JOURNAL_COLUMNS: Final = ('"entry_type"', '"raw"')
SNIFF: Final = 4096


def looks_like_dump(prefix: bytes) -> bool:
    """Is this the start of a sys_journal dump (JSON, with its columns near the start)?"""
    text = prefix[:SNIFF].decode("utf-8", "replace").lstrip()
    return text[:1] in ("{", "[") and all(column in text for column in JOURNAL_COLUMNS)


def parsed_rows(text: str, label: str) -> tuple[list[Row], list[Problem]]:
    """The rows of a dump: a /query answer, a JSON array, or one JSON object per line."""
    stripped = text.lstrip()
    if stripped.startswith("{") and "\n{" in stripped.rstrip():
        return _lines(text, label)  # NDJSON: one row per line
    try:
        value = json.loads(text)
    except ValueError as exc:
        at = getattr(exc, "pos", None)
        problem = _problem(f"{label} is not JSON: {exc}", None, at)
        return [], [problem]
    rows = value.get("rows") if isinstance(value, dict) else value
    if isinstance(value, dict) and rows is None and "entry_type" in value:
        rows = [value]  # a single row
    if not isinstance(rows, list):
        return [], [_problem(f'{label} holds no rows (neither an array nor {{"rows": [...]}})')]
    return rows, []


def _lines(text: str, label: str) -> tuple[list[Row], list[Problem]]:
    rows: list[Row] = []
    problems: list[Problem] = []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                problems.append(_problem(f"line {number} of {label} is not JSON: {exc}", number,
                                         offset))  # fmt: skip
        offset += len(line.encode("utf-8"))
    return rows, problems


def dump_events(rows: list[Row], invocations: dict[str, Row] | None = None) -> Iterator[InputEvent]:
    """Each invocation's journal, in the order invocations first appear in the dump."""
    grouped: dict[str, list[tuple[int, Row]]] = {}
    for number, row in enumerate(rows, 1):
        problem = _unreadable(row)
        if problem is not None:
            yield _problem(f"row {number}: {problem}", number)
            continue
        grouped.setdefault(row["id"], []).append((number, row))
    for invocation_id, entries in grouped.items():
        entries.sort(key=lambda item: item[1]["index"])
        yield from _invocation(invocation_id, entries, (invocations or {}).get(invocation_id))


def _unreadable(row: Any) -> str | None:
    """Why a row is no sys_journal row, if it is not."""
    if not isinstance(row, dict):
        return f"not a row but {type(row).__name__}"
    missing = [c for c in ("id", "index", "entry_type", "raw") if c not in row]
    if missing:
        other = " (a sys_invocation row?)" if "status" in row else ""
        return f"not a sys_journal row: no {', '.join(missing)}{other}"
    if not isinstance(row["index"], int) or not isinstance(row["id"], str):
        return "its id or index is not what sys_journal holds"
    return None


def _invocation(
    invocation_id: str, entries: list[tuple[int, Row]], facts: Row | None
) -> Iterator[InputEvent]:
    stream = StreamKey(invocation_id)
    journal_format = max(_format(row) for _, row in entries)
    yield StoredJournal(stream, invocation_id, len(entries), journal_format, facts)
    for number, row in entries:
        try:
            body = binascii.unhexlify(row["raw"] or "")
        except (binascii.Error, TypeError, ValueError) as exc:
            text = f"row {number} ({invocation_id} entry {row['index']}): raw is not hex: {exc}"
            yield _problem(text, number, stream=stream)
            continue
        completed = bool(row.get("completed"))
        time = _seconds(row.get("appended_at"))
        yield StoredRow(stream, number, row["index"], str(row["entry_type"]), body, completed,
                        time)  # fmt: skip
    for direction in Direction:
        yield StreamEnd(stream, direction)


def _format(row: Row) -> int:
    """The journal format of a row: its `version` column, else what its entry_type reads
    like (`Command: Call` is journal v2's)."""
    told = row.get("version")
    if isinstance(told, int) and told in (1, 2):
        return told
    return 2 if str(row["entry_type"]).startswith(("Command: ", "Notification: ")) else 1


def _seconds(appended_at: Any) -> float | None:
    """appended_at: an ISO-8601 time (the /query JSON), or milliseconds since the epoch."""
    if isinstance(appended_at, int | float):
        return float(appended_at) / 1000
    if isinstance(appended_at, str):
        try:
            return datetime.fromisoformat(appended_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _problem(
    text: str, line: int | None = None, offset: int | None = None, stream: StreamKey | None = None
) -> Problem:
    return Problem("RI009", text, offset, None, stream=stream, line=line)


def invocation_facts(rows: list[Row]) -> dict[str, Row]:
    """sys_invocation rows by invocation id."""
    return {row["id"]: row for row in rows if isinstance(row, dict) and "id" in row}
