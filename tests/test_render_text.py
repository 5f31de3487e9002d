"""LinePrinter: batched lines must come out exactly as rich prints them one by one, a plain
console gets them without rich, and tabs expand by cell width."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from restate_inspect.render.text import LinePrinter

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
