"""Snapshots of the TUI at a fixed terminal size: the main screen and the help screen.
`pytest --snapshot-update` rewrites them after a change that was looked at and meant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from restate_inspect.tui.app import InspectorApp
from tests.helpers import SAMPLES
from tests.tui_pilot import decoded, loader

SIZE = (150, 42)
Compare = Callable[..., bool]


def sample_app() -> InspectorApp:
    return InspectorApp(loader(SAMPLES / "v1-features.pcapng"), "samples/v1-features.pcapng")


async def on_a_completed_sleep(pilot: Pilot[Any]) -> None:
    """Demo/sleepy, its Sleep entry: completion badge, link, fields and bytes."""
    await decoded(pilot)
    app = pilot.app
    assert isinstance(app, InspectorApp)
    await pilot.press("slash", *"SleepEntryMessage", "enter", "tab")
    await pilot.pause()


def test_main_screen(snap_compare: Compare) -> None:
    assert snap_compare(sample_app(), terminal_size=SIZE, run_before=on_a_completed_sleep)


def test_help_screen(snap_compare: Compare) -> None:
    assert snap_compare(
        sample_app(), press=["question_mark"], terminal_size=SIZE, run_before=decoded
    )


async def on_a_terminal_failure(pilot: Pilot[Any]) -> None:
    """Demo/terminal's Output: a failure message longer than the narrow panes are wide."""
    await decoded(pilot)
    await pilot.press("slash", *"this is a terminal", "enter", "tab")
    await pilot.pause()


def test_main_screen_at_120_by_36(snap_compare: Compare) -> None:
    """The detail wraps whole lines to its pane; nothing is cut from the middle of one."""
    assert snap_compare(sample_app(), terminal_size=(120, 36), run_before=on_a_terminal_failure)
