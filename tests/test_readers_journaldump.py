"""A sys_journal dump as an input: its three shapes, rows grouped by invocation in their
stored order, and what cannot be read said with its row, the rest read."""

from __future__ import annotations

import json
from typing import Any

from restate_inspect.events import StoredJournal, StoredRow, StreamEnd
from restate_inspect.readers import journal_events
from restate_inspect.readers.journaldump import (
    dump_events,
    invocation_facts,
    looks_like_dump,
    parsed_rows,
)
from restate_inspect.rules import Problem

ROWS = [
    {"id": "inv_b", "index": 1, "entry_type": "Command: Output", "raw": "", "version": 2},
    {"id": "inv_a", "index": 0, "entry_type": "Input", "raw": "0a00", "version": 1,
     "completed": True, "appended_at": "2026-12-07T11:26:09.948Z"},
    {"id": "inv_b", "index": 0, "entry_type": "Command: Input", "raw": "", "version": 2,
     "appended_at": 1796642769948},
]  # fmt: skip


def test_a_dump_is_told_by_its_columns() -> None:
    assert looks_like_dump(json.dumps({"rows": ROWS}).encode())
    assert looks_like_dump(b"  [" + json.dumps(ROWS[0]).encode() + b"]")
    assert not looks_like_dump(b'{"body": "AAAA"}')
    assert not looks_like_dump(b"0000000000000000")


def test_the_three_shapes_give_the_same_rows() -> None:
    shapes = [
        json.dumps({"rows": ROWS}),
        json.dumps(ROWS),
        "\n".join(json.dumps(row) for row in ROWS) + "\n",
    ]
    for text in shapes:
        assert parsed_rows(text, "dump") == (ROWS, [])
    assert parsed_rows(json.dumps(ROWS[0]), "dump") == ([ROWS[0]], [])


def test_rows_are_grouped_by_invocation_in_their_stored_order() -> None:
    events = list(dump_events(ROWS, {"inv_b": {"id": "inv_b", "status": "running"}}))
    journals = [e for e in events if isinstance(e, StoredJournal)]
    assert [(j.invocation_id, j.rows, j.journal_format) for j in journals] == [
        ("inv_b", 2, 2),
        ("inv_a", 1, 1),
    ]
    assert journals[0].facts == {"id": "inv_b", "status": "running"} and journals[1].facts is None
    rows = [e for e in events if isinstance(e, StoredRow)]
    assert [(r.row, r.entry_index, r.entry_type) for r in rows] == [
        (3, 0, "Command: Input"), (1, 1, "Command: Output"), (2, 0, "Input"),
    ]  # fmt: skip
    assert rows[2].body == b"\n\x00" and rows[2].completed and rows[2].time == 1796642769.948
    assert rows[0].time == 1796642769.948 and rows[1].time is None
    assert sum(isinstance(e, StreamEnd) for e in events) == 4


def test_what_cannot_be_read_is_said_with_its_row_and_the_rest_is_read() -> None:
    bad: list[Any] = [
        "not a row",
        {"id": "inv_x", "status": "running"},
        {"id": "inv_x", "index": "0", "entry_type": "Input", "raw": ""},
        {"id": "inv_x", "index": 0, "entry_type": "Input", "raw": "zz"},
        {"id": "inv_x", "index": 1, "entry_type": "Output", "raw": "", "appended_at": "never"},
    ]
    events = list(dump_events(bad))
    problems = [e for e in events if isinstance(e, Problem)]
    assert [(p.code, p.line) for p in problems] == [("RI009", 1), ("RI009", 2), ("RI009", 3),
                                                     ("RI009", 4)]  # fmt: skip
    assert "a sys_invocation row?" in problems[1].message
    assert "raw is not hex" in problems[3].message
    (row,) = [e for e in events if isinstance(e, StoredRow)]
    assert row.row == 5 and row.time is None


def test_a_dump_that_is_not_json_or_holds_no_rows_is_said_so() -> None:
    rows, problems = parsed_rows('{"rows": [', "dump")
    assert rows == [] and problems[0].code == "RI009" and problems[0].offset == 10
    rows, problems = parsed_rows('{"answer": 42}', "dump")
    assert rows == [] and "holds no rows" in problems[0].message
    text = json.dumps(ROWS[0]) + "\n{oops\n" + json.dumps(ROWS[2]) + "\n"
    rows, problems = parsed_rows(text, "dump")
    assert rows == [ROWS[0], ROWS[2]] and [p.line for p in problems] == [2]


def test_journal_events_read_a_dump_given_as_bytes() -> None:
    events = list(journal_events(b'{"rows": [', "dump"))
    assert [type(e) for e in events] == [Problem]
    junk: list[Any] = [{"id": "a", "status": "x"}, "junk"]
    assert invocation_facts(junk) == {"id" and "a": {"id": "a", "status": "x"}}
