"""The browser screen's keys, driven through Textual's pilot on a real shared capture:
moving, entries, completions and acks, problems, time, panes, problems-only, and every key
on an empty input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.widgets import FieldTree, InvocationTree, Timeline
from tests.tui_pilot import (
    EVERY_KEY,
    capture,
    cursor,
    drive,
    info_text,
    open_invocation,
    status_text,
)

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


# --- time and panes ----------------------------------------------------------------------


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


# --- what a first afternoon with it tripped over ----------------------------------------


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
