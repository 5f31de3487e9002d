"""The TUI, driven through Textual's pilot on a real shared capture: every key binding, and
what is selected and shown after it. What the runtime itself stored (sys_invocation.json)
is the reference for the invocations pane."""

from __future__ import annotations

import asyncio
import gc
import io
import itertools
import json
import random
import re
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from restate_inspect.invocations import Invocation, Journaled, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.render.fields import field_spans
from restate_inspect.rules import Problem
from restate_inspect.tui import model
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.browser import BrowserScreen
from restate_inspect.tui.looks import HIGHLIGHT_STYLE, KEYS, hex_line_width, key_bar
from restate_inspect.tui.screens import FilterScreen, HelpScreen, SearchScreen
from restate_inspect.tui.state import OPENED_CACHED
from restate_inspect.tui.widgets import DetailPane, DetailView, FieldTree, InvocationTree, Timeline
from tests.helpers import captures_dir
from tests.hostile import ATTACKS, hostile_stream

SIZE = (160, 45)


def loader(path: Path | str) -> Callable[[Callable[[int], None]], Iterator[Journaled]]:
    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        return invocations(decode_events(read_input(str(path), progress=progress)))

    return load


def capture(name: str = "v1-features", kind: str = "pcap") -> Path:
    return captures_dir() / name / f"{name}.{kind}"


async def decoded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, InspectorApp)
    for _ in range(400):
        if app.finished:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    assert app.finished


def drive(
    scenario: Callable[[InspectorApp, Pilot[None]], Awaitable[None]],
    path: Path | str | None = None,
) -> InspectorApp:
    app = InspectorApp(loader(path or capture()), "v1-features.pcap")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await decoded(pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    return app


async def search_for(pilot: Pilot[None], *keys: str) -> None:
    """Type a search and wait for it: it runs in a thread."""
    await pilot.press("slash", *keys, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cursor(app: InspectorApp) -> model.Row:
    row = app.browser.current_row
    assert row is not None
    return row


def info_text(app: InspectorApp) -> str:
    """The detail's text (links, problems, payload) as a terminal would show it."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    console.print(app.query_one(DetailView).info)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def status_text(app: InspectorApp) -> str:
    return _plain(app.query_one("#message", Static))


def _plain(widget: Static) -> str:
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    return str(widget.render())


async def open_invocation(app: InspectorApp, pilot: Pilot[None], target: str, number: int) -> None:
    """Select attempt `number` of the first invocation of `target` in the invocations pane."""
    tree = app.query_one(InvocationTree)
    for selected in app.state.attempts:
        if selected.invocation.target == target and selected.attempt.number == number:
            tree.move_cursor(app.query_one(InvocationTree).nodes[selected.position])
            await pilot.pause()
            assert app.state.selected == selected
            app.query_one(Timeline).focus()
            await pilot.pause()
            return
    raise AssertionError(f"no {target} attempt {number}")


def runtime_rows() -> list[dict[str, object]]:
    path = captures_dir() / "v1-features" / "sys_invocation.json"
    rows: list[dict[str, object]] = json.loads(path.read_text())["rows"]
    return rows


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
        assert "36 attempts" in _plain(app.query_one("#title", Static))

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


def test_what_was_decoded_stays_on_disk_but_the_invocations_opened_last() -> None:
    """Memory holds what the invocations pane shows; an invocation's frames and payloads
    are read back when one of its attempts is opened, so memory does not grow with the
    capture."""
    handed_out: list[weakref.ref[Invocation]] = []

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for item in loader(capture())(progress):
            if isinstance(item, Invocation):
                handed_out.append(weakref.ref(item))
            yield item

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        for selected in app.state.attempts:  # open every attempt once
            app.browser.select(selected)
        await pilot.pause()
        gc.collect()
        assert len(handed_out) == len(app.state.invocations) == 32
        assert not [ref for ref in handed_out if ref() is not None]
        assert len(app.state.opened.opened) == OPENED_CACHED
        assert (
            app.state.selected is app.state.attempts[-1] and app.state.rows
        )  # the one shown is whole

    app = InspectorApp(load, "v1-features.pcap")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await decoded(pilot)
            await check(app, pilot)

    asyncio.run(main())


def test_the_collector_freezes_what_is_listed_only_as_the_list_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A freeze keeps what is alive then for good, garbage to be included: an input that
    lists nothing (problems only, as they come) is frozen once, at its end."""
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for number in range(5):
            time.sleep(0.15)  # more than a batch apart
            yield Problem("RI303", f"packet {number} is cut", None, None, packet=number + 1)

    app = InspectorApp(load, "problems only")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await decoded(pilot)
            assert len(app.state.capture_problems) == 5 and not app.state.attempts

    asyncio.run(main())
    assert len(freezes) == 1


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


# --- moving ---------------------------------------------------------------------------


def test_moves_j_k_arrows_pages_first_last() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Counter/all", 1)
        table = app.query_one(Timeline)
        last = len(app.state.rows) - 1
        start = table.cursor_row
        await pilot.press("j")
        assert table.cursor_row == start + 1
        await pilot.press("down", "down")
        assert table.cursor_row == start + 3
        await pilot.press("k", "up")
        assert table.cursor_row == start + 1
        await pilot.press("G")
        assert table.cursor_row == last
        assert cursor(app).type_name == "EndMessage"
        assert info_text(app).startswith("EndMessage")
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("pagedown")
        assert table.cursor_row > 1
        await pilot.press("pageup")
        assert table.cursor_row == 0
        # the tree moves with the same keys when it has the focus
        tree = app.query_one(InvocationTree)
        tree.focus()
        await pilot.press("g")
        assert app.state.selected == app.state.attempts[0]
        await pilot.press("j", "j")
        assert app.state.selected == app.state.attempts[2]
        await pilot.press("k")
        assert app.state.selected == app.state.attempts[1]
        await pilot.press("G")
        assert app.state.selected == app.state.attempts[-1]

    drive(check)


def test_n_and_p_step_through_entries_only() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/sleepy", 1)
        seen = []
        for _ in range(6):
            await pilot.press("n")
            seen.append(cursor(app).entry_index)
            assert cursor(app).entry is not None
        assert seen[:3] == [0, 1, 2]
        assert seen[3:] == [2, 2, 2]  # no further entry: the cursor stays
        assert "no next entry" in status_text(app)
        await pilot.press("p")
        assert cursor(app).entry_index == 1
        assert cursor(app).type_name == "SleepEntryMessage"

    drive(check)


def test_completion_and_back_to_the_entry() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/sleepy", 1)
        await pilot.press("n", "n")
        sleep = cursor(app)
        assert sleep.type_name == "SleepEntryMessage"
        assert "completed by CompletionMessage at +" in info_text(app)
        await pilot.press("c")
        completion = cursor(app)
        assert completion.type_name == "CompletionMessage"
        assert completion.entry_index == sleep.entry_index
        assert completion.frame is not None and sleep.frame is not None
        assert completion.frame.direction != sleep.frame.direction
        assert f"completes entry #{sleep.entry_index} SleepEntryMessage" in info_text(app)
        await pilot.press("e")
        assert cursor(app) is sleep
        await pilot.press("a")  # a Sleep needs no ack
        assert cursor(app) is sleep
        assert "no ack (EntryAck, CommandAck) here" in status_text(app)

    drive(check)


def test_ack_and_back_to_the_entry() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/sideEffect", 1)
        while cursor(app).type_name != "RunEntryMessage":
            await pilot.press("n")
        run = cursor(app)
        assert "acked by EntryAckMessage at +" in info_text(app)
        await pilot.press("a")
        ack = cursor(app)
        assert ack.type_name == "EntryAckMessage"
        assert ack.entry_index == run.entry_index
        await pilot.press("e")
        assert cursor(app) is run
        await pilot.press("c")  # a Run entry is not completable here
        assert cursor(app) is run
        assert "no completion or notification" in status_text(app)
        await pilot.press("g", "e")  # the StartMessage names no entry
        assert "names no entry" in status_text(app)

    drive(check)


def test_problems_next_and_previous_across_attempts() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        visited = []
        for _ in range(4):
            await pilot.press("J")
            row = cursor(app)
            assert row.problems
            assert app.state.selected is not None
            visited.append(
                (app.state.attempts.index(app.state.selected), app.state.rows.index(row))
            )
            for problem in row.problems:
                assert problem.code in info_text(app)
                assert "rule: " in info_text(app)
        assert visited == sorted(visited) and len(set(visited)) == 4
        back = []
        for _ in range(3):  # K goes back as J went on, across attempts too
            await pilot.press("K")
            assert app.state.selected is not None and cursor(app).problems
            back.append(
                (app.state.attempts.index(app.state.selected), app.state.rows.index(cursor(app)))
            )
        assert back == visited[-2::-1]
        assert "problem" not in status_text(app)

    drive(check)


def test_k_before_the_first_problem_of_an_attempt_goes_to_the_previous_ones_last() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        with_problems = [s for s in app.state.attempts if s.attempt.problems]
        earlier, later = with_problems[0], with_problems[1]
        await open_invocation(app, pilot, str(later.invocation.target), later.attempt.number)
        if app.state.selected is not later:  # the first attempt of that target is another one
            app.browser._open_attempt(
                later, next(r for r in app.state.rows_of(later) if r.problems)
            )
        await pilot.press("g")
        await pilot.press("J")  # its first problem
        first = cursor(app)
        assert app.state.selected is later and first.problems
        await pilot.press("K")
        assert app.state.selected is earlier
        assert cursor(app) is [r for r in app.state.rows_of(earlier) if r.problems][-1]
        for _ in range(len(with_problems)):
            await pilot.press("g", "K")
        assert "no earlier problem" in status_text(app)
        await pilot.press("j")  # the cursor moved on: what K said goes
        assert "no earlier problem" not in status_text(app)

    drive(check)


# --- search, filter, time, panes, help ------------------------------------------------------


def test_search_finds_payload_text_and_field_values_in_other_attempts() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"woke", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)
        assert (
            app.state.selected is not None and app.state.selected.invocation.target == "Demo/sleepy"
        )
        assert cursor(app).type_name == "OutputEntryMessage"
        assert "found: woke" in status_text(app)
        # a field value: the handler a call or send targets
        await search_for(pilot, *"Counter/add")
        assert "counter" in model.row_text(cursor(app), app.state.attempt_of(app.state.selected))
        first = (app.state.selected, cursor(app))
        # again with the same text: the next match, in another invocation
        await search_for(pilot)
        assert (app.state.selected, cursor(app)) != first
        assert "counter" in model.row_text(cursor(app), app.state.attempt_of(app.state.selected))
        await search_for(pilot, *"no such thing anywhere")
        assert "not found" in status_text(app)
        await pilot.press("slash", "escape")
        assert not isinstance(app.screen, SearchScreen)

    drive(check)


def test_a_search_under_way_leaves_the_keys_working_and_esc_stops_it() -> None:
    """On a big capture a search reads back thousands of invocations: it runs in a thread
    (slowed here), says how far it got, and stops on esc without jumping anywhere."""

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        load = app.store.load

        def slow_load(place: int) -> Invocation:
            time.sleep(0.05)
            return load(place)

        app.store.load = slow_load  # type: ignore[method-assign]
        app.query_one(Timeline).focus()
        before = (app.state.selected, app.query_one(Timeline).cursor_row)
        await pilot.press("slash", *"no such thing anywhere", "enter")
        await pilot.pause(0.4)
        assert "searching: no such thing anywhere" in status_text(app)
        assert "of 36 attempts" in status_text(app)  # how far it got
        await pilot.press("j")  # keys are taken meanwhile
        assert app.query_one(Timeline).cursor_row == before[1] + 1
        (search,) = [worker for worker in app.workers if worker.group == "search"]
        await pilot.press("escape")
        assert status_text(app) == "search stopped"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert status_text(app) == "search stopped"  # and no "not found" after it
        # what it had sent before it saw that it was stopped comes to nothing
        app.browser._searching(search, "searching: no such thing anywhere, 9 of 36 attempts")
        app.browser._found(search, "no such thing anywhere", (len(app.state.attempts) - 1, 0))
        assert status_text(app) == "search stopped"
        assert app.state.selected is before[0]

    drive(check)


def test_filters_problems_direction_type_and_back() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/flaky", 1)
        everything = len(app.state.rows)
        await pilot.press("f")
        assert isinstance(app.screen, FilterScreen)
        choices = app.screen.choices
        await pilot.press("j", "enter")  # problems only
        assert app.state.active_filter == choices[1]
        assert app.state.rows and all(r.problems for r in app.state.rows)
        assert "filter: problems only" in _plain(app.query_one("#title", Static))
        await pilot.press("f", "j", "j", "enter")  # runtime → SDK only
        assert app.state.rows and all(
            r.frame is not None and r.frame.direction is not None and r.frame.direction.value
            == "runtime_to_sdk" for r in app.state.rows
        )  # fmt: skip
        await pilot.press("f")
        assert isinstance(app.screen, FilterScreen)
        error = next(c for c in app.screen.choices if c.value == "ErrorMessage")
        await pilot.press("g", *"j" * app.screen.choices.index(error), "enter")
        assert [r.type_name for r in app.state.rows] == ["ErrorMessage"]
        await pilot.press("f", "g", "enter")  # everything again
        assert len(app.state.rows) == everything
        await pilot.press("f", "escape")
        assert len(app.state.rows) == everything

    drive(check)


def test_r_toggles_relative_and_absolute_time() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/sleepy", 1)
        table = app.query_one(Timeline)
        at = table.cursor_row
        relative = str(table.get_row_at(at)[0]).split()[0]
        assert relative == "+0.0ms"
        await pilot.press("r")
        absolute = str(table.get_row_at(at)[0]).split()[0]
        frame = cursor(app).frame
        assert frame is not None and frame.time is not None
        # as server logs print it: milliseconds and the zone
        moment = datetime.fromtimestamp(frame.time, UTC)
        assert absolute == moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        assert table.cursor_row == at
        await pilot.press("r")
        assert str(table.get_row_at(at)[0]).split()[0] == relative

    drive(check)


def test_tab_switches_panes() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert isinstance(app.focused, InvocationTree)
        await pilot.press("tab")
        assert isinstance(app.focused, Timeline)
        await pilot.press("tab")
        assert isinstance(app.focused, FieldTree)
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "about"
        await pilot.press("tab")
        assert isinstance(app.focused, InvocationTree)
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == "about"

    drive(check)


def test_help_lists_every_key_and_closes() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = _plain(app.screen.query_one("#help", Static))
        for key, what in KEYS:
            assert key in text and what in text
        for binding in BrowserScreen.BINDINGS:
            assert not isinstance(binding, tuple)
            shown = {"question_mark": "?", "slash": "/", "escape": "esc"}
            key = shown.get(binding.key, binding.key)
            assert any(key in k.split() for k, _ in KEYS), binding.key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark", "question_mark")
        assert not isinstance(app.screen, HelpScreen)

    drive(check)


def test_q_quits() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(check)


# --- the detail -----------------------------------------------------------------------------


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
        for at in range(len(app.state.rows)):
            await pilot.press("g", *"j" * at)
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


def test_a_broken_input_shows_its_problems_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.bin"
    path.write_bytes(hostile_stream()[:50] + b"\xff" * 40)

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert app.state.invocations
        await pilot.press("J")
        assert cursor(app).problems
        assert "RI1" in info_text(app)

    drive(check, path)


EVERY_KEY = ["j", "k", "down", "up", "pagedown", "pageup", "g", "G", "n", "p", "c", "a", "e",
             "J", "K", "r", "tab", "f", "escape", "slash", "x", "enter", "question_mark",
             "escape"]  # fmt: skip


@pytest.mark.parametrize("focus", [InvocationTree, Timeline])
def test_every_key_on_an_empty_input_is_answered_without_a_traceback(
    tmp_path: Path, focus: type[InvocationTree | Timeline]
) -> None:
    """Nothing to show is a state of its own: no invocation, no attempt, no row."""
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert not app.state.invocations and app.browser.current_row is None
        app.query_one(focus).focus()
        for key in EVERY_KEY:
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running and app.state.selected is None

    drive(check, path)


def test_a_stream_of_a_protocol_version_not_interpreted_is_browsed_raw(tmp_path: Path) -> None:
    """V9, a version no family reads: frames by header, the RI114 note, every key
    answered, nothing checked."""
    from tests import capturewriter as cw
    from tests.helpers import SAMPLES

    request = (SAMPLES / "v1-call-other.req.bin").read_bytes()
    response = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
    path = tmp_path / "v9.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets(cw.h2_exchange(request, response, version=9))))

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        (selected,) = app.state.attempts
        assert selected.attempt.ending_text == "not interpreted (protocol V9)"
        app.query_one(Timeline).focus()
        await pilot.press("G")
        await pilot.pause()
        assert "V9 message" in info_text(app)  # the last frame: V1's End, a V9 message
        for key in EVERY_KEY:
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running
        problems = [p.code for p in app.state.attempt_of(selected).all_findings()]
        assert problems == []

    drive(check, path)


def test_an_unreadable_input_is_reported_in_the_app(tmp_path: Path) -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert "stopped: cannot open" in status_text(app)
        assert not app.state.invocations

    drive(check, tmp_path / "missing.pcap")


def test_first_screen_comes_before_the_whole_capture_is_decoded() -> None:
    """The first invocation is on screen while the decoder is still busy (slowed here)."""
    shown: list[bool] = []

    def slow(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for item in loader(capture(kind="pcapng"))(progress):
            yield item
            if isinstance(item, Invocation) and item is not None and not shown:
                time.sleep(0.5)

    async def main() -> None:
        app = InspectorApp(slow, "slow")
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(40):
                await pilot.pause(0.02)
                if app.state.selected is not None:
                    break
            shown.append(app.state.selected is not None and not app.finished)
            assert "decoding" in _plain(app.query_one("#title", Static))
            await decoded(pilot)

    asyncio.run(main())
    assert shown == [True]


def test_a_live_capture_gone_quiet_still_shows_what_came_and_quits() -> None:
    """The decoder yields some invocations, then waits (a live capture with no traffic):
    they show without more coming, and quitting stops the wait (the app's cancel event)."""
    cancel = threading.Event()
    stopped: list[bool] = []

    def quiet(progress: Callable[[int], None]) -> Iterator[Journaled]:
        yield from itertools.islice(
            (i for i in loader(capture(kind="pcapng"))(progress) if isinstance(i, Invocation)),
            5,
        )
        stopped.append(cancel.wait(timeout=10))  # what a live read does on a quiet pipe

    async def main() -> None:
        app = InspectorApp(quiet, "live", cancel=cancel)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                await pilot.pause(0.02)
                if len(app.state.invocations) == 5:
                    break
            assert len(app.state.invocations) == 5 and not app.finished

    asyncio.run(main())
    for _ in range(100):
        if stopped:
            break
        time.sleep(0.02)
    assert stopped == [True]  # the app's end set the event the wait watched


def test_a_v6_capture_jumps_between_commands_notifications_and_waits() -> None:
    """Demo/longSleep under V6: the Sleep and its notification (c, e), the suspension's
    wait tree, and the resumed attempt's replay."""

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await open_invocation(app, pilot, "Demo/longSleep", 1)
        rows = app.state.rows
        sleep_at = next(i for i, r in enumerate(rows) if r.type_name == "SleepCommandMessage")
        app.query_one(Timeline).move_cursor(row=sleep_at)
        await pilot.pause()
        assert cursor(app).column == "#2"
        assert "not completed in this attempt" in info_text(app)
        suspension_at = next(i for i, r in enumerate(rows) if r.type_name == "SuspensionMessage")
        app.query_one(Timeline).move_cursor(row=suspension_at)
        await pilot.pause()
        text = info_text(app)
        assert "Waits on" in text and "completion #2 · #2 Sleep · open" in text
        await open_invocation(app, pilot, "Demo/sleepy", 1)
        sleep_at = next(
            i for i, r in enumerate(app.state.rows) if r.type_name == "SleepCommandMessage"
        )
        app.query_one(Timeline).move_cursor(row=sleep_at)
        await pilot.pause()
        sleep = cursor(app)
        await pilot.press("c")
        answer = cursor(app)
        assert answer.type_name == "SleepCompletionNotificationMessage" and answer.column == "id1"
        assert "answers #1 SleepCommandMessage" in info_text(app)
        await pilot.press("e")
        assert cursor(app) is sleep

    drive(check, capture("v6-ts-features"))


def test_a_v6_invocation_says_its_protocol_version_in_the_list() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        labels = [str(node.label) for node in app.query_one(InvocationTree).root.children]
        assert labels and all(" V6 " in label for label in labels)

    drive(check, capture("v6-ts-features"))


# --- what a first afternoon with it tripped over ----------------------------------------


def test_the_header_counts_the_problems_the_timeline_lists(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(random.Random(7).randbytes(3000))

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        listed = sum(len(r.problems) for s in app.state.attempts for r in app.state.rows_of(s))
        assert listed > 1
        assert f"{listed} problems" in _plain(app.query_one("#title", Static))

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


def test_problems_only_lists_only_the_invocations_with_problems_and_back() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        tree = app.query_one(InvocationTree)
        everything = len(tree.root.children)
        await pilot.press("f", "j", "enter")  # problems only
        await pilot.pause()
        listed = [node.data for node in tree.root.children]
        assert listed and all(s is not None and s.invocation.problems for s in listed)
        assert len(listed) == sum(1 for i in app.state.invocations if i.problems) < everything
        assert app.state.selected is not None and app.state.selected.invocation.problems
        assert tree.cursor_node is not None and tree.cursor_node.data is app.state.selected
        await pilot.press("f", "g", "enter")  # everything again
        await pilot.pause()
        assert len(tree.root.children) == everything
        assert tree.cursor_node is not None and tree.cursor_node.data is app.state.selected

    drive(check)


def test_the_help_names_enter_and_the_key_bar_fits_120_columns() -> None:
    assert any(key.startswith("enter") for key, _ in KEYS)
    assert len(key_bar().plain) <= 120


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
