"""The TUI's looks, without a screen: the hex view of a frame (its header, the selected
field, what is left out), findings kept inert, the key bar and the timeline's columns."""

from __future__ import annotations

import re

import pytest
from rich.text import Text

from restate_inspect.events import Frame
from restate_inspect.framing import encode_frame
from restate_inspect.rules import Problem
from restate_inspect.tui.looks import (
    COLUMNS,
    HEADER_STYLE,
    HEX_SHOWN,
    HIGHLIGHT_STYLE,
    KEYS,
    hex_line_width,
    hex_view_text,
    key_bar,
    problem_text,
    timeline_line,
)
from tests.helpers import read_all


def test_the_help_names_enter_and_the_key_bar_fits_120_columns() -> None:
    assert any(key.startswith("enter") for key, _ in KEYS)
    assert len(key_bar().plain) <= 120


def _frame(body: bytes) -> Frame:
    (frame,) = [f for f in read_all(encode_frame(0xFC01, body)) if isinstance(f, Frame)]
    return frame


def _styled_bytes(text: Text, style: str) -> list[str]:
    """The bytes shown in hex that carry a style (the text column's dots are not)."""
    styled = " ".join(text.plain[s.start : s.end] for s in text.spans if s.style == style)
    return re.findall(r"\b[0-9a-f]{2}\b", styled)


@pytest.mark.parametrize("per_row", [4, 8, 16])
def test_the_hex_view_marks_the_header_and_the_selected_field(per_row: int) -> None:
    frame = _frame(bytes(range(0x18, 0x18 + 24)))
    text = hex_view_text(frame, (2, 5), per_row)
    lines = text.plain.split("\n")[:-1]  # the last is the legend
    assert len(lines) == -(-32 // per_row)
    assert all(len(line) == hex_line_width(per_row) for line in lines[:-1])
    assert lines[0].startswith(f"{frame.offset:08x}  fc 01 00 00")
    assert _styled_bytes(text, HIGHLIGHT_STYLE) == ["1a", "1b", "1c"]  # body bytes 2 to 5
    assert _styled_bytes(text, HEADER_STYLE) == ["fc", "01", "00", "00", "00", "00", "00", "18"]
    assert text.plain.endswith("header · body · selected field")


def test_the_hex_view_shows_a_big_frame_in_part_and_says_what_it_left_out() -> None:
    text = hex_view_text(_frame(b"\x1b" * 5000), None)
    assert f"… {8 + 5000 - HEX_SHOWN} more bytes" in text.plain
    assert "\x1b" not in text.plain  # the text column shows what is not printable as a dot


def test_a_finding_is_inert_and_says_its_rule() -> None:
    problem = Problem("RI109", "body \x1b[2J\x07 gone", 24, 3)
    plain = problem_text(problem).plain
    assert "\x1b" not in plain and "\x07" not in plain
    assert plain.startswith("  ! RI109 error @0x18: body ")
    assert problem.rule.title in plain


def test_the_timeline_columns_keep_their_widths() -> None:
    cells = [Text("x" * 40) for _ in COLUMNS] + [Text("summary, as long as it is")]
    plain = timeline_line(cells).plain
    widths = [len(part) + 1 for part in plain.split(" ", len(COLUMNS))[: len(COLUMNS)]]
    assert widths == list(COLUMNS)
    assert plain.endswith("summary, as long as it is")
