"""LinePrinter: batched lines must come out exactly as rich prints them one by one; the
streams table: whole in a pipe, fitted on a narrow terminal."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.render.streamtable import StreamTable
from restate_inspect.render.text import LinePrinter
from restate_inspect.streams import StreamSummary, group_streams, summarize
from tests.helpers import SAMPLES

STYLES = ("", "bold", "dim", "bold red", "green", "italic dim")


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=terminal,
        color_system="truecolor" if terminal else None,
        width=40,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )
    return console, out


def _line(pieces: list[tuple[str, str]]) -> Text:
    line = Text()
    for text, style in pieces:
        line.append(text, style)
    return line


pieces = st.lists(
    st.tuples(st.text(st.characters(codec="utf-8"), max_size=30), st.sampled_from(STYLES)),
    max_size=4,
)


@pytest.mark.parametrize("terminal", [False, True])
@given(lines=st.lists(pieces, max_size=6))
def test_batched_lines_print_as_rich_prints_each(
    terminal: bool, lines: list[list[tuple[str, str]]]
) -> None:
    """Tabs, wide characters, control codes rich strips, lines longer than the width."""
    one_by_one, expected = _console(terminal)
    for pieces_of_line in lines:
        one_by_one.print(_line(pieces_of_line))
    console, out = _console(terminal)
    printer = LinePrinter(console)
    for pieces_of_line in lines:
        printer(_line(pieces_of_line))
    assert out.getvalue() == ""  # nothing before flush()
    printer.flush()
    assert out.getvalue() == expected.getvalue()


def test_plain_console_gets_the_lines_without_rich() -> None:
    console, out = _console(False)
    printer = LinePrinter(console)
    printer(Text("a\u00e9 [bold]not markup[/bold]", "bold"))
    printer(Text("second", "red"))
    printer.flush()
    printer.flush()  # nothing waits: nothing more is written
    assert out.getvalue() == "a\u00e9 [bold]not markup[/bold]\nsecond\n"


def test_a_tab_is_expanded_by_cell_width_as_rich_does() -> None:
    console, out = _console(False)
    printer = LinePrinter(console)
    printer(Text("\u6f22\tx"))  # a wide character: two cells before the tab
    printer.flush()
    assert out.getvalue() == "\u6f22      x\n"


def _rows() -> list[StreamSummary]:
    groups = group_streams(decode_events(read_input(str(SAMPLES / "v1-features.pcapng"))))
    return [summarize(group) for group in groups if group.info is not None]


@pytest.mark.parametrize("width", [80, 100, 120, 140])
def test_the_streams_table_fits_a_narrow_terminal(width: int) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=width)
    table = StreamTable(console)
    lines = [table.header_text()] + [table.row_text(row) for row in _rows()]
    assert max(line.cell_len for line in lines) <= width
    assert {"start (UTC)", "stream", "request", "status", "invocation", "ending"} <= set(
        table.columns
    )
    rows = [line.plain for line in lines[1:]]
    assert any("Demo/callOther" in row for row in rows)  # the target, without /invoke/
    assert all(" inv_" in row or "/discover" in row for row in rows)


def test_the_streams_table_in_a_pipe_keeps_every_column_whole() -> None:
    table = StreamTable(Console(file=io.StringIO(), force_terminal=False, width=80))
    assert table.columns == dict(StreamTable.COLUMNS)
    row = next(row for row in _rows() if row.invocation_id)
    assert f" {row.invocation_id} " in table.row_text(row).plain
