"""NDJSON records: one line each, ASCII only whatever a payload holds, and a problem record
that says only what is known of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from restate_inspect.events import StreamEnd
from restate_inspect.location import Direction, StreamKey
from restate_inspect.render.jsonl import dumps, encode, problem_record, record
from restate_inspect.rules import Problem

ALWAYS = ["kind", "code", "severity", "message", "stream", "direction", "offset", "length",
          "entry_index", "rule", "undecoded", "invocation_id", "attempt"]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "é, 日本, 🙂",  # not ASCII: escaped
        "\x1b[31mred\x1b[0m\x07",  # control characters: escaped, never raw
        "a\x7fb",  # DEL, which orjson and json both leave raw
        "line\nbreak\u2028",
        2**64 + 1,  # beyond 64 bits, which orjson refuses
        -(2**70),
        [1.5, None, True, {"nested": "\x7f"}],
    ],
)
def test_every_line_is_ascii_one_line_and_reads_back_the_same(value: Any) -> None:
    line = encode({"kind": "x", "value": value})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert line.isascii() and not any(b < 0x20 or b == 0x7F for b in line[:-1])
    assert json.loads(line) == {"kind": "x", "value": value}
    assert dumps({"kind": "x", "value": value}) == line.decode("ascii").rstrip("\n")


def test_a_stream_end_has_no_record() -> None:
    assert record(StreamEnd(StreamKey("s"), Direction.SDK_TO_RUNTIME)) is None


def test_a_problem_record_has_its_fixed_keys_and_only_the_optional_ones_it_knows() -> None:
    plain = problem_record(Problem("RI101", "cut", 8, 3, stream=StreamKey("tcp0", "s1")))
    assert list(plain) == ALWAYS
    assert (plain["stream"], plain["severity"], plain["rule"]) == (
        "tcp0/s1",
        "error",
        Problem("RI101", "", 0, 0).rule.title,
    )
    hex_text = problem_record(Problem("RI001", "not hex", 4, 1, line=2, column=5))
    assert (hex_text["line"], hex_text["column"]) == (2, 5)
    lost = problem_record(Problem("RI210", "no entry", None, None, packet=7, after_loss=True))
    assert (lost["packet"], lost["after_loss"], lost["severity"]) == (7, True, "info")
    current = problem_record(Problem("RI301", "x", None, None, command_index=2, completion_id=4))
    assert (current["command_index"], current["completion_id"]) == (2, 4)


def test_a_repeated_problem_says_how_often_and_where_the_run_ended() -> None:
    def repeated(**where: Any) -> dict[str, Any]:
        return problem_record(Problem("RI105", "x", 0, 8, repeats=3, **where))

    assert repeated(to_packet=9)["to_packet"] == 9
    assert repeated(to_offset=16)["to_offset"] == 16
    by_line = repeated(last=(4, 2))
    assert (by_line["repeats"], by_line["to_line"], by_line["to_column"]) == (3, 4, 2)
    assert "repeats" not in problem_record(Problem("RI105", "x", 0, 8))
