"""The help, search and filter screens: every key listed, a search under way, filters."""

from __future__ import annotations

import time

from textual.pilot import Pilot
from textual.widgets import Static

from restate_inspect.invocations import Invocation
from restate_inspect.tui import model
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.browser import BrowserScreen
from restate_inspect.tui.looks import KEYS
from restate_inspect.tui.screens import FilterScreen, HelpScreen, SearchScreen
from restate_inspect.tui.widgets import Timeline
from tests.tui_pilot import (
    cursor,
    drive,
    open_invocation,
    plain,
    search_for,
    status_text,
)

# --- the invocations pane ------------------------------------------------------------


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
        assert "filter: problems only" in plain(app.query_one("#title", Static))
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


def test_help_lists_every_key_and_closes() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help", Static))
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
