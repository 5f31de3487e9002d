"""The Textual app: the input decoded in a thread, handed to the main screen (tui.browser)
in batches; the invocations kept on disk meanwhile (tui.store)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Final

from textual import work
from textual.app import App
from textual.screen import Screen

from restate_inspect.invocations import Journaled
from restate_inspect.tui.browser import BrowserScreen
from restate_inspect.tui.intake import Intake
from restate_inspect.tui.state import BrowserState
from restate_inspect.tui.store import InvocationStore
from restate_inspect.tui.widgets import StatusLine
from restate_inspect.values import safe_text

Progress = Callable[[int], None]
Load = Callable[[Progress], Iterator[Journaled]]  # decodes the input, telling bytes read

COLLECTOR_THRESHOLDS: Final = (20_000, 10, 10)  # gc.set_threshold while the app runs


class InspectorApp(App[None]):
    """restate-inspect tui: decodes the input in a thread and hands what it decoded to the
    main screen (tui.browser) in batches."""

    TITLE = "restate-inspect"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        load: Load,
        name: str,
        size: int | None = None,
        keep: int = 100_000,
        cancel: threading.Event | None = None,
    ) -> None:
        """cancel: set when the app ends; `load` may watch it too (a live capture's reading
        stops on it)."""
        super().__init__()
        self.load = load
        self.source_size = size
        self.store = InvocationStore()  # the decoded invocations, on disk
        self.intake = Intake(self.store, keep)
        self.browser = BrowserScreen(self.store, name)
        self.finished = False
        self.failure: str | None = None
        self._cancel = cancel or threading.Event()
        self._thresholds = gc.get_threshold()  # the collector's, restored when the app ends
        self._frozen_at = 0  # attempts listed at the collector's last freeze (see _freeze)

    @property
    def state(self) -> BrowserState:
        return self.browser.state

    def get_default_screen(self) -> Screen[None]:
        return self.browser

    def on_ready(self) -> None:
        """The main screen is up (it is composed after the app mounts): decoding starts."""
        self.decode()
        self._progress_timer = self.set_interval(0.25, self._show_progress)
        # Drawing a screen allocates tens of thousands of objects; with the default threshold
        # the collector ran hundreds of times per second of keys, and its passes (up to
        # ~70 ms) landed on keystrokes. Rarer passes: a quarter of the time collecting.
        gc.set_threshold(*COLLECTOR_THRESHOLDS)

    def on_unmount(self) -> None:
        self._cancel.set()
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()
        self.store.close()

    @work(thread=True, exclusive=True)
    def decode(self) -> None:
        def progress(done: int) -> None:
            self.intake.read = done

        try:
            for item in self.load(progress):
                if self._cancel.is_set():
                    return
                if self.intake.hold(item, len(self.state.attempts)):
                    self.call_from_thread(self._take)
        except Exception as exc:  # shown in the UI: a TUI must not crash on input
            self.failure = safe_text(str(exc) or type(exc).__name__)
        self.call_from_thread(self._take, True)

    def _take(self, last: bool = False) -> None:
        """What the decoding thread holds; the progress timer takes it too, so that the
        last invocations of a live capture gone quiet do not wait for more to come."""
        self.browser.take(self.intake.take())
        if last or len(self.state.attempts) > 2 * self._frozen_at:  # grown: not 0 >= 2 * 0
            self._freeze()
        if last:
            self.finished = True
            self._progress_timer.stop()
            self.query_one(StatusLine).finish(self.state.final_message(self.failure))
        self.browser.show_title(self.finished, self.intake.dropped)

    def _freeze(self) -> None:
        """Take what is listed out of the collector's sight: on a list of tens of thousands
        of invocations its full passes took up to 0.8 s, and landed on keys. Only when the
        list has doubled, and at the end: what is alive at a freeze and dies later (the
        tree's lines, built again when nodes are added) is never collected, so freezing
        after each batch kept every one of them, gigabytes on a big capture."""
        gc.collect(1)  # the young garbage, not to be frozen with the rest
        gc.freeze()
        self._frozen_at = len(self.state.attempts)

    def _show_progress(self) -> None:
        if self.finished:
            return
        if self.intake.due(len(self.state.attempts)):
            self._take()
        if self.source_size:
            self.query_one(StatusLine).progress(self.source_size, self.intake.read)


def run(
    load: Load,
    name: str,
    size: int | None = None,
    keep: int = 100_000,
    cancel: threading.Event | None = None,
) -> bool:
    """Run the app; whether the input was decoded to its end before it ended."""
    app = InspectorApp(load, name, size, keep, cancel)
    app.run()
    return app.finished


__all__ = ["InspectorApp", "run"]
