"""How the TUI's text looks: styles, keys, labels, the timeline's line, the frame header,
problem lines, payload blocks and the hex view. Rich Text only, no widgets; every piece of
text from the input goes in through values.safe_text."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Final

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from restate_inspect.events import HEADER_SIZE, Frame
from restate_inspect.invocations import Invocation
from restate_inspect.location import Direction
from restate_inspect.protocol import flag_names
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.render.fields import FieldNode, Span
from restate_inspect.render.text import (
    DIRECTION_STYLES,
    NAMESPACE_STYLES,
    SEVERITY_STYLES,
    type_style,
)
from restate_inspect.rules import Problem, counted
from restate_inspect.tui import model
from restate_inspect.tui.model import EVERYTHING, PROBLEM, SECTION, Row
from restate_inspect.tui.state import BrowserState
from restate_inspect.tui.store import AttemptSummary, Selected, Summary
from restate_inspect.values import safe_text, time_of_day

HEX_SHOWN: Final = 2048  # bytes of a frame in the hex view
HEX_ROW: Final = 16
STATUS_STYLES = {
    "ended": "green",
    "suspended": "yellow",
    "failed": "bold red",
    "error": "bold red",
    "open": "red",
    "retried": "magenta",
}
BADGE_STYLES = {
    "pending": "yellow",
    "awaiting": "yellow",
    "completed": "green",
    "acked": "green",
}
SECTION_STYLE = "bold blue"
HEADER_STYLE = "bold magenta"
HIGHLIGHT_STYLE = "black on yellow"

KEYS: Final = (
    ("↑ ↓  j k", "move in the focused pane"),
    ("PgUp PgDn", "a page up or down"),
    ("g G", "first or last row"),
    ("enter", "open or close an invocation's attempts (in the invocations pane)"),
    ("← →  h l", "scroll the Fields pane sideways, for a long value"),
    ("n p", "next or previous journal entry"),
    ("c", "jump to the entry's completion"),
    ("a", "jump to the entry's ack"),
    ("e", "back to the entry (from its completion or ack)"),
    ("J K", "next or previous problem"),
    ("tab  shift+tab", "next or previous pane"),
    ("/", "search type names, field values and payload text (enter again: next match)"),
    ("esc", "stop a search under way"),
    ("f", "filter: problems only, one direction, entries, one message type"),
    ("r", "relative or absolute time"),
    ("?", "this help"),
    ("q", "quit"),
)


FOOTER_KEYS: Final = (
    ("q", "quit"), ("?", "help"), ("n/p", "entry"), ("c", "completion"), ("a", "ack"),
    ("e", "back"), ("J/K", "problem"), ("/", "search"), ("f", "filter"), ("r", "time"),
    ("tab", "pane"),
)  # fmt: skip


def key_bar() -> Text:
    """The main keys, as mitmproxy and termshark show them: one line, not a widget each
    (fewer widgets make every redraw cheaper); it fits 120 columns."""
    text = Text()
    for key, what in FOOTER_KEYS:
        text.append(f" {key} ", "bold reverse").append(f" {what} ")
    return text


# The timeline's columns, as widths: one cell a row, composed here, draws far faster than
# six cells (a new attempt's rows are all drawn at once).
COLUMNS: Final = (14, 2, 5, 17, 20)  # time: 03:47:49.123Z


def timeline_line(cells: list[Text]) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for cell, width in zip(cells, COLUMNS, strict=False):
        cell.truncate(width - 1, overflow="ellipsis", pad=True)
        line.append_text(cell).append(" ")
    return line.append_text(cells[-1])


def title_text(name: str, state: BrowserState, finished: bool, dropped: int) -> Text:
    """The title line: the input, what it holds, and the filter."""
    text = Text(" restate-inspect ", "bold reverse").append("  ")
    text.append(safe_text(name), "bold")
    invocations = counted(len(state.invocations), "invocation")
    text.append(f"  {invocations} · {counted(len(state.attempts), 'attempt')}", "dim")
    problems = state.problem_total + len(state.capture_problems)
    if problems and state.worst is not None:  # info alone is no alarm: styled as it is
        text.append(f" · {counted(problems, 'finding')}", SEVERITY_STYLES[state.worst])
    if not finished:
        text.append("  (decoding…)", "italic yellow")
    if dropped:
        more = f"  {dropped} more not kept"
        text.append(f"{more} (--max-invocations, or narrow with --service)", "yellow")
    if state.active_filter is not EVERYTHING:
        text.append(f"  filter: {safe_text(state.active_filter.label)}", "bold yellow")
    return text


def timeline_title(selected: Selected) -> str:
    attempt = selected.attempt
    parts = [selected.invocation.title, f"attempt {attempt.number}", attempt.stream]
    return " · ".join([*parts, attempt.ending_text])


def timeline_cells(row: Row, attempt: Attempt, started: float | None, absolute: bool) -> list[Text]:
    """A timeline row's cells: time, direction, number, type, state, summary."""
    if row.kind == SECTION:
        rule = Text("──", SECTION_STYLE)
        return [rule, Text(""), Text(""), rule, Text(""), Text(row.title, SECTION_STYLE)]
    time_cell = Text(model.time_text(row, started, absolute), "dim")
    summary = Text(safe_text(model.row_summary(row, attempt)))
    frame = row.frame
    if frame is None:
        style = SEVERITY_STYLES[row.worst] if row.worst else ""
        codes = " ".join(dict.fromkeys(p.code for p in row.problems))
        what = "problem" if row.kind == PROBLEM else "at the end"
        return [time_cell, Text("!", style), Text(""), Text(codes, style), Text(what, style),
                summary]  # fmt: skip
    direction = frame.direction or Direction.SDK_TO_RUNTIME
    name_style = type_style(frame) + (" dim" if row.section == "replay" else "")
    state = Text(" ").join(
        Text(badge, BADGE_STYLES.get(badge.split(" ")[0], "bold red"))
        for badge in model.row_badges(row)
    )
    if row.problems and row.worst is not None:
        summary.stylize(SEVERITY_STYLES[row.worst])
    return [
        time_cell,
        Text(direction.arrow, DIRECTION_STYLES[direction]),
        Text(row.column, "bold"),
        Text(model.row_name(row), name_style),
        state,
        summary,
    ]


def invocation_label(invocation: Summary) -> Text:
    label = Text(safe_text(invocation.title), "bold")
    version = invocation.attempts[-1].protocol_version
    if version is not None:
        label.append(f" V{version}", "dim")
    for badge in invocation.badges:
        label.append(" " + badge, STATUS_STYLES[badge])
    label.append(f" {invocation.attempts[-1].entries}e", "dim")
    if invocation.problems and invocation.worst is not None:
        label.append(f" {invocation.problems}!", SEVERITY_STYLES[invocation.worst])
    # what tells apart the invocations of one handler, where the pane is wide enough
    if invocation.started is not None:
        label.append(f"  {time_of_day(invocation.started)}", "dim")
    if invocation.target is not None:  # else the title is the id
        label.append(f" …{invocation.invocation_id[-6:]}", "dim")
    return label


def attempt_label(attempt: AttemptSummary) -> Text:
    label = Text(f"attempt {attempt.number} ", "bold")
    label.append(safe_text(attempt.ending_text), STATUS_STYLES[attempt.status])
    label.append(f" {attempt.entries}e", "dim")
    if attempt.problems and attempt.worst is not None:
        label.append(f" {attempt.problems}!", SEVERITY_STYLES[attempt.worst])
    return label


def frame_header(frame: Frame, row: Row) -> Text:
    spec = frame.message_type
    text = Text(safe_text(frame.type_label), "bold")
    text.append(f"  0x{frame.type:04x}", "dim")
    if spec is not None:
        text.append(f" · {spec.namespace.value}", NAMESPACE_STYLES[spec.namespace])
    flags = ", ".join(flag_names(frame.version, frame.flags)) or "no flags"
    text.append(f"\n{flags} · {frame.length} bytes at {frame.offset:#x}")
    if row.entry_index is not None:
        text.append(f" · entry #{row.entry_index}", "bold")
    if frame.direction is not None:
        direction = frame.direction
        text.append(f"\n{direction.label}", DIRECTION_STYLES[direction])
    text.append(f" · {safe_text(str(frame.stream))}")
    if frame.packet is not None:
        text.append(f" · packet {frame.packet}", "dim")
    if frame.message is None and spec is not None:
        text.append("\nbody not decoded: shown field by field or as bytes", "yellow")
    return text


def problem_text(problem: Problem) -> Text:
    style = SEVERITY_STYLES[problem.severity]
    text = Text("  ! ", style).append(f"{problem.code} {problem.severity.value}", style)
    if problem.offset is not None:
        text.append(f" @{problem.offset:#x}", "dim")
    text.append(": " + safe_text(problem.message))
    rule = problem.rule
    text.append(f"\n    rule: {rule.title} ({rule.reference})", "dim")
    return text


def row_info(
    row: Row, attempt: Attempt, invocation: Invocation, started: float | None,
    nodes: list[FieldNode],
) -> Group:  # fmt: skip
    """What the detail pane says of a row above its bytes: the frame's header, its links
    and what it waits on, its problems, and its payloads."""
    parts: list[RenderableType] = []
    frame = row.frame
    if frame is None:
        parts.append(Text(safe_text(row.title or "problem"), "bold"))
    else:
        parts.append(frame_header(frame, row))
        found = model.links(row, attempt, started)
        if row.entry is not None:
            found += model.replayed_in(attempt, invocation, row.entry)
        if found:
            parts.append(Text("\nLinks", "bold"))
            parts.extend(Text("  ↪ " + safe_text(link), "italic") for link in found)
        tree = model.wait_tree(row, attempt)
        if tree:
            parts.append(Text("\nWaits on", "bold"))
            parts.extend(Text("  " + safe_text(line)) for line in tree)
    if row.problems:
        parts.append(Text("\nProblems", "bold"))
        parts.extend(problem_text(p) for p in row.problems)
    for node in nodes:
        parts.extend(payload_blocks(node))
    return Group(*parts)


def payload_blocks(node: FieldNode) -> Iterator[RenderableType]:
    """Blocks (pretty JSON, long text) of a field and its children, under a heading."""
    if node.block is not None:
        yield Text(f"\n{safe_text(node.path or node.label)}", "bold")
        block = safe_text(node.block, multiline=True)
        if node.kind == "json":
            yield Syntax(
                block, "json", theme="ansi_dark", word_wrap=True, background_color="default"
            )
        else:
            yield Text(block)
    for child in node.children:
        yield from payload_blocks(child)


KIND_STYLES = {"json": "green", "text": "green", "string": "green", "hex": "dim"}


def _hex_width(per_row: int) -> int:
    """The hex part of a line: 3 columns a byte, and one more after each eight."""
    return 3 * per_row + (per_row // 8 or 1)


def hex_line_width(per_row: int) -> int:
    """A line of the hex view: offset, hex, a space, text."""
    return 10 + _hex_width(per_row) + 1 + per_row


def hex_view_text(frame: Frame, highlight: Span | None, per_row: int = HEX_ROW) -> Text:
    """The frame's bytes, per_row (4, 8 or 16) a line: the header marked, the highlighted
    field's bytes (an offset range of the body) shown reversed."""
    data = frame.to_bytes()
    shown = data[:HEX_SHOWN]
    low, high = (HEADER_SIZE + highlight[0], HEADER_SIZE + highlight[1]) if highlight else (0, 0)
    cuts = sorted({0, HEADER_SIZE, low, high, len(shown)})  # where the style changes
    text = Text()
    width = _hex_width(per_row)
    for start in range(0, len(shown), per_row):
        end = min(start + per_row, len(shown))
        text.append(f"{frame.offset + start:08x}  ", "dim")
        pieces = _styled_pieces(start, end, cuts, low, high)
        column = 0
        for piece_start, piece_end, style in pieces:
            hex_part = "".join(
                f"{shown[i]:02x}" + ("  " if i % 8 == 7 else " ")
                for i in range(piece_start, piece_end)
            )
            text.append(hex_part, style)
            column += len(hex_part)
        text.append(" " * (width - column + 1))
        for piece_start, piece_end, style in pieces:
            printable = "".join(
                chr(b) if 0x20 <= b < 0x7F else "." for b in shown[piece_start:piece_end]
            )
            text.append(printable, style or "dim")
        text.append("\n")
    if len(data) > len(shown):
        text.append(f"… {len(data) - len(shown)} more bytes\n", "dim")
    text.append("header", HEADER_STYLE).append(" · body")
    if highlight:
        text.append(" · ").append("selected field", HIGHLIGHT_STYLE)
    return text


def _styled_pieces(
    start: int, end: int, cuts: list[int], low: int, high: int
) -> list[tuple[int, int, str]]:
    """The runs of one line's bytes that share a style: header, body, highlighted field."""
    bounds = [start, *(c for c in cuts if start < c < end), end]
    out = []
    for piece_start, piece_end in itertools.pairwise(bounds):
        if low <= piece_start < high:
            style = HIGHLIGHT_STYLE
        else:
            style = HEADER_STYLE if piece_start < HEADER_SIZE else ""
        out.append((piece_start, piece_end, style))
    return out
