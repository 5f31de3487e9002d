"""The panes, driven through the app: the invocations list against what the runtime stored,
the detail (its hex marking, hostile payloads kept inert, nothing lost to a narrow pane),
the header's counts."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from restate_inspect.render.fields import field_spans
from restate_inspect.rules import Severity
from restate_inspect.tui import model
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.looks import HIGHLIGHT_STYLE, hex_line_width
from restate_inspect.tui.widgets import DetailPane, DetailView, FieldTree, InvocationTree, Timeline
from tests.hostile import ATTACKS, hostile_stream
from tests.tui_pilot import (
    capture,
    cursor,
    decoded,
    drive,
    info_text,
    loader,
    open_invocation,
    plain,
    runtime_rows,
)

# --- the invocations pane ------------------------------------------------------------


def test_invocations_pane_lists_what_the_runtime_stored() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        stored = {str(r["id"]): r for r in runtime_rows()}
        shown = {i.invocation_id: i for i in app.state.invocations}
        assert set(shown) == set(stored)
        tree = app.query_one(InvocationTree)
        labels = {}
        for node in tree.root.children:
            assert node.data is not None
            labels[node.data.invocation.invocation_id] = str(node.label)
        for invocation_id, row in stored.items():
            label = labels[invocation_id]
            # the journal the runtime kept has as many entries as the last attempt saw
            # (it keeps none for invocations that other invocations started)
            if row["invoked_by"] == "ingress":
                assert f" {row['journal_size']}e" in label, (label, row)
            assert str(row["target_handler_name"]) in label
            # every one of them completed: as the runtime says, failed or not
            assert (" failed" if row["completion_result"] == "failure" else " ended") in label
        flaky = next(i for i in app.state.invocations if i.target == "Demo/flaky")
        assert "retried" in labels[flaky.invocation_id]
        assert len(tree.root.children) == len(stored)
        # the first attempt is selected at once, on its first frame
        assert app.state.selected == app.state.attempts[0]
        assert cursor(app).type_name == "StartMessage"
        assert "36 attempts" in plain(app.query_one("#title", Static))

    drive(check)


def test_attempts_of_a_retried_invocation_are_listed_with_their_outcome() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/longSleep", 1)
        node = (
            app.query_one(InvocationTree).nodes[app.state.selected.position]
            if app.state.selected
            else None
        )
        assert node is not None and "suspended on #2" in str(node.label)
        assert "attempt 1" in str(app.query_one(Timeline).border_title)
        await open_invocation(app, pilot, "Demo/longSleep", 2)
        rows = app.state.rows
        # attempt 2 replays what attempt 1 stored, and the section says so
        assert rows[0].kind == model.SECTION and rows[0].section == "replay"
        replayed = [r for r in rows if r.entry is not None and r.entry.replayed]
        assert replayed and all(r.section == "replay" for r in replayed)
        assert any(r.kind == model.SECTION and r.section == "processing" for r in rows)

    drive(check)


def test_the_list_measures_its_labels_as_textual_does() -> None:
    """InvocationTree measures a label without rendering it (a big capture's list took
    O(n²) rendering them all); the widths must stay Textual's own."""

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        tree = app.query_one(InvocationTree)
        parents = [node for node in tree.root.children if node.children]
        assert parents and parents[0].is_expanded
        parents[0].collapse()
        await pilot.pause()
        nodes = [*tree.root.children, *(leaf for node in parents for leaf in node.children)]
        for node in nodes:
            assert tree.get_label_width(node) == Tree.get_label_width(tree, node)

    drive(check)


def test_selected_field_bytes_are_highlighted_in_the_hex_view() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Counter/set", 1)
        while cursor(app).type_name != "SetStateEntryMessage":
            await pilot.press("j")
        frame = cursor(app).frame
        assert frame is not None
        await pilot.press("tab")
        fields = app.query_one(FieldTree)
        assert isinstance(app.focused, FieldTree)
        for label in ("key", "value"):
            node = fields.cursor_node
            assert node is not None and str(node.label).startswith(label), node
            start, end = field_spans(frame)[label]
            hex_text = app.query_one(DetailView).hex
            assert isinstance(hex_text, Text)
            dump = hex_text.plain
            marked = _highlighted_hex(hex_text, app.query_one(DetailPane).hex_per_row())
            assert bytes.fromhex(marked) == frame.body[start:end]
            # the field's own bytes are in it: the value as sent
            message = frame.message
            assert getattr(message, label) in frame.body[start:end]
            await pilot.press("j")
        assert "header" in dump
        assert dump.startswith(f"{frame.offset:08x}  {frame.type >> 8:02x}")

    drive(check)


def _highlighted_hex(text: Text, per_row: int) -> str:
    """The hex digits drawn in the highlight style (the text column is left out)."""
    plain = text.plain
    hex_end = 10 + 3 * per_row + per_row // 8  # the offset column, then the hex column
    out = []
    for span in text.spans:
        line_start = plain.rfind("\n", 0, span.start) + 1
        column = span.start - line_start
        a_hex_row = re.match(r"[0-9a-f]{8}  ", plain[line_start:])
        if span.style == HIGHLIGHT_STYLE and a_hex_row and 10 <= column < hex_end:
            out.append(plain[span.start : span.end])
    return "".join(out)


def test_hostile_payloads_are_shown_inert(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(hostile_stream())

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        table = app.query_one(Timeline)
        shown = []
        table.focus()  # the timeline's keys: each row in turn, its detail with it
        await pilot.press("g")
        for at in range(len(app.state.rows)):
            if at:
                await pilot.press("j")
            assert table.cursor_row == at
            shown.append(" ".join(str(c) for c in table.get_row_at(at)))
            shown.append(info_text(app))
            shown.extend(str(n.label) for n in _tree_nodes(app.query_one(FieldTree)))
        everything = "\n".join(shown)
        for control in ("\x1b", "\x9b", "\x07", "\x00", "\r", "\u202e", "\x7f"):
            assert control not in everything
        assert "[bold red]markup[/bold red]" in everything  # shown as it is, not applied
        assert ATTACKS

    drive(check, path)


def _tree_nodes(tree: FieldTree) -> list[TreeNode[str]]:
    out = []
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def test_a_v6_invocation_says_its_protocol_version_in_the_list() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        labels = [str(node.label) for node in app.query_one(InvocationTree).root.children]
        assert labels and all(" V6 " in label for label in labels)

    drive(check, capture("v6-ts-features"))


def test_the_header_counts_the_problems_the_timeline_lists(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(random.Random(7).randbytes(3000))

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        listed = sum(len(r.problems) for s in app.state.attempts for r in app.state.rows_of(s))
        assert listed > 1
        assert f"{listed} findings" in plain(app.query_one("#title", Static))
        assert app.state.worst is Severity.ERROR  # random bytes: shown as errors are

    drive(check, path)


def test_invocations_of_one_handler_are_told_apart_by_start_time_and_id() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        tree = app.query_one(InvocationTree)
        labels = [str(node.label) for node in tree.root.children]
        greets = [label for label in labels if label.startswith("Demo/greet ")]
        assert len(greets) > 1 and len(set(greets)) == len(greets)
        for node in tree.root.children:
            assert node.data is not None
            summary = node.data.invocation
            assert summary.started is not None
            moment = datetime.fromtimestamp(summary.started, UTC).strftime("%H:%M:%S.")
            assert moment in str(node.label)
            assert str(node.label).endswith("…" + summary.invocation_id[-6:])

    drive(check)


@pytest.mark.parametrize("size", [(120, 36), (160, 45)])
def test_no_character_of_the_detail_is_lost_to_a_narrow_pane(size: tuple[int, int]) -> None:
    """Wrapped to the pane, not wrapped wider and then clipped; a field value wider than
    its pane scrolls sideways."""

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/terminal", 1)
        detail, fields = app.query_one(DetailView), app.query_one(FieldTree)
        for _ in range(len(app.state.rows)):
            width = detail.scrollable_content_region.width
            assert max(line.cell_length for line in detail.lines) <= width  # none clipped
            per_row = app.query_one(DetailPane).hex_per_row()
            assert hex_line_width(per_row) <= width  # the bytes' lines do not wrap
            widest = max((fields.get_label_width(n) for n in _tree_nodes(fields)), default=0)
            assert fields.max_scroll_x + fields.scrollable_content_region.width >= widest
            await pilot.press("j")

    app = InspectorApp(loader(capture()), "v1-features.pcap")

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await decoded(pilot)
            await check(app, pilot)

    asyncio.run(main())
