"""Driving the TUI through Textual's pilot on a real shared capture, for the tests of its
app, screen, panes and looks: the app on an input, decoded to its end, and what it shows."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from restate_inspect.invocations import Journaled, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.tui import model
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.widgets import DetailView, InvocationTree, Timeline
from tests.helpers import captures_dir

SIZE = (160, 45)
# every key the browser binds, some twice: each must be answered whatever is shown
EVERY_KEY = ["j", "k", "down", "up", "pagedown", "pageup", "g", "G", "n", "p", "c", "a", "e",
             "J", "K", "r", "tab", "f", "escape", "slash", "x", "enter", "question_mark",
             "escape"]  # fmt: skip


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
    return plain(app.query_one("#message", Static))


def plain(widget: Static) -> str:
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
