"""The main screen: invocations on the left, the selected attempt's timeline in the centre,
the selected row's detail below it (fields, links, problems, payload, bytes), and the keys
that move between them. What is listed and selected is in a BrowserState; the app feeds it.

Every piece of text from the input goes in as a rich Text built from escaped strings
(values.safe_text), so markup is never parsed and payloads cannot move the cursor or
change colours.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from restate_inspect.rules import Problem
from restate_inspect.tui import model
from restate_inspect.tui.intake import Held
from restate_inspect.tui.looks import (
    key_bar,
    row_info,
    timeline_cells,
    timeline_title,
    title_text,
)
from restate_inspect.tui.model import EVERYTHING, SECTION, Filter, Row
from restate_inspect.tui.screens import FilterScreen, HelpScreen, SearchScreen
from restate_inspect.tui.search import Stopped, search_store
from restate_inspect.tui.state import BrowserState
from restate_inspect.tui.store import InvocationStore, Selected, Summary
from restate_inspect.tui.widgets import DetailPane, InvocationTree, StatusLine, Timeline


class BrowserScreen(Screen[None]):
    """The panes, and the keys that move in them."""

    DEFAULT_CSS = """
    #title { height: 1; background: $panel; }
    #main { height: 1fr; }
    #right { width: 1fr; }
    #keys { height: 1; background: $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("n", "entry(True)", "Next entry"),
        Binding("p", "entry(False)", "Prev entry", show=False),
        Binding("c", "completion", "Completion"),
        Binding("a", "ack", "Ack"),
        Binding("e", "back_to_entry", "Entry"),
        Binding("J", "problem(True)", "Next problem"),
        Binding("K", "problem(False)", "Prev problem", show=False),
        Binding("slash", "search", "Search"),
        Binding("f", "filter", "Filter"),
        Binding("r", "toggle_time", "Time"),
        Binding("escape", "stop_search", "Stop search", show=False),
    ]

    def __init__(self, store: InvocationStore, source_name: str) -> None:
        super().__init__()
        self.store = store  # read back by the search
        self.source_name = source_name
        self.state = BrowserState(store)
        self.absolute_time = False
        self.last_query = ""
        self._decoded = (False, 0)  # whether decoded to the end, invocations not kept

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(id="main"):
            yield InvocationTree(moved=self._attempt_reached, id="invocations")
            with Vertical(id="right"):
                yield Timeline(moved=self._row_reached, id="timeline")
                yield DetailPane(id="detail")
        yield StatusLine(id="status")
        yield Static(key_bar(), id="keys")

    def on_mount(self) -> None:
        self.show_title(*self._decoded)
        self._say("decoding…", lasting=True)

    def take(self, batch: list[Held]) -> None:
        """Decoded invocations, and problems outside any; the first one is shown."""
        tree = self.query_one(InvocationTree)
        state = self.state
        for item in batch:
            if isinstance(item, Summary):
                tree.add_invocation(state.add(item), state.listed(item))
            elif isinstance(item, Problem):
                state.capture_problems.append(item)
                state.worst = model.worst_of((state.worst, item.severity))
        if state.selected is None and state.attempts:
            tree.focus()
            self.select(state.attempts[0])
            tree.point_at(state.attempts[0])

    def show_title(self, finished: bool, dropped: int) -> None:
        """The title line, with how far the decoding got."""
        self._decoded = (finished, dropped)
        text = title_text(self.source_name, self.state, finished, dropped)
        self.query_one("#title", Static).update(text)

    def _say(self, message: str, *, lasting: bool = False) -> None:
        self.query_one(StatusLine).say(message, lasting=lasting)

    # --- the attempt and its rows -----------------------------------------------------

    def _attempt_reached(self, selected: Selected) -> None:
        if selected is not self.state.selected:
            self.query_one(StatusLine).moved_on()
            self.select(selected)

    def select(self, selected: Selected, row: Row | None = None) -> None:
        """Show an attempt in the timeline, at `row` if it is visible, else at its first
        frame."""
        state = self.state
        state.select(selected)
        attempt = state.attempt_of(selected)
        started = model.first_time(state.rows)
        lines = (timeline_cells(r, attempt, started, self.absolute_time) for r in state.rows)
        timeline = self.query_one(Timeline)
        timeline.fill(lines, timeline_title(selected))
        if row is not None and row in state.rows:
            at = state.rows.index(row)
        else:  # the first frame, past the section title
            at = next((i for i, r in enumerate(state.rows) if r.kind != SECTION), 0)
        if state.rows:
            timeline.move_cursor(row=at, animate=False)
        self._row_reached(at)  # if the cursor did not move

    def _row_reached(self, at: int) -> None:
        """The timeline's cursor is on row `at`: show it, unless it is shown already."""
        row = self.state.row_at(at)
        if row is None or row is not self.query_one(DetailPane).shown:
            self.query_one(StatusLine).moved_on()
            self.show_detail(at)

    def show_detail(self, at: int) -> None:
        state = self.state
        detail = self.query_one(DetailPane)
        row = state.row_at(at)
        if state.selected is None or row is None:
            detail.show(None, Text("nothing selected", "dim"), [])
            return
        opened = state.opened_of(state.selected)
        attempt = opened.attempt(state.selected.index)
        started = model.first_time(opened.rows_of(state.selected.index))
        nodes = model.row_fields(row)
        detail.show(row, row_info(row, attempt, opened.invocation, started, nodes), nodes)

    @property
    def current_row(self) -> Row | None:
        return self.state.row_at(self.query_one(Timeline).cursor_row)

    # --- keys -------------------------------------------------------------------------

    def _go(self, at: int | None, what: str) -> None:
        if at is None:
            self.app.bell()
            self._say(what)
            return
        self.query_one(Timeline).move_cursor(row=at, animate=False)
        self._row_reached(at)  # if the cursor was there already

    def _cursor(self) -> int:
        return self.query_one(Timeline).cursor_row if self.state.rows else -1

    def action_entry(self, forward: bool) -> None:
        at = model.step(self.state.rows, self._cursor(), forward, model.is_entry_row)
        self._go(at, f"no {'next' if forward else 'previous'} entry in this attempt")

    def action_problem(self, forward: bool) -> None:
        """J past the last problem of an attempt goes on to the next attempt with one; K
        before the first, back to the last problem of the previous attempt with one."""
        at = model.step(self.state.rows, self._cursor(), forward, model.has_problems)
        if at is not None:
            self._go(at, "")
        elif (found := self.state.problem_elsewhere(forward)) is not None:
            self._open_attempt(*found)
        elif self.state.selected is not None:
            self._go(None, f"no {'further' if forward else 'earlier'} problem")

    def action_completion(self) -> None:
        answered = model.completion_of(self.state.rows, self._cursor())
        self._go(answered, "no completion or notification answers this row")

    def action_ack(self) -> None:
        acked = model.ack_of(self.state.rows, self._cursor())
        self._go(acked, "no ack (EntryAck, CommandAck) here")

    def action_back_to_entry(self) -> None:
        entry = model.entry_of(self.state.rows, self._cursor())
        self._go(entry, "this row names no entry or command")

    def action_toggle_time(self) -> None:
        self.absolute_time = not self.absolute_time
        if self.state.selected is not None:
            self.select(self.state.selected, self.current_row)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_search(self) -> None:
        self.app.push_screen(SearchScreen(self.last_query), self._search)

    def _search(self, query: str | None) -> None:
        selected = self.state.selected
        if not query or selected is None:
            return
        self.last_query = query
        row = self.current_row
        at = self.state.rows_of(selected).index(row) if row is not None else -1
        self._say(f"searching: {query} (esc stops)")
        self.search(query, (selected.position, at))

    @work(thread=True, exclusive=True, group="search")
    def search(self, query: str, at: tuple[int, int]) -> None:
        """Search in a thread (see tui.search); esc stops it."""
        worker = get_current_worker()

        def tell(text: str) -> None:
            self.app.call_from_thread(self._searching, worker, text)

        attempts = self.state.attempts
        try:
            found = search_store(self.store, attempts, query, at, lambda: worker.is_cancelled, tell)
        except Stopped:
            return
        except Exception as exc:  # the store closed under it as the app ended, or a bug
            if not worker.is_cancelled:
                tell(f"search failed: {exc}")
            return
        self.app.call_from_thread(self._found, worker, query, found)

    def _searching(self, worker: Worker[None], text: str) -> None:
        """What a search tells comes through the UI thread, where esc or a new search
        cancels it: one cancelled meanwhile says nothing more (nor does _found)."""
        if not worker.is_cancelled:
            self._say(text)

    def _found(self, worker: Worker[None], query: str, found: tuple[int, int] | None) -> None:
        if worker.is_cancelled:
            return
        if found is None:
            self._go(None, f"not found: {query}")
            return
        selected = self.state.attempts[found[0]]
        self._open_attempt(selected, self.state.rows_of(selected)[found[1]])
        self._say(f"found: {query}")

    def action_stop_search(self) -> None:
        if self.workers.cancel_group(self, "search"):
            self._say("search stopped")

    def _open_attempt(self, selected: Selected, row: Row) -> None:
        """Show a row of any attempt, clearing a filter that would hide it."""
        if not self.state.active_filter.accepts(row):
            self._set_filter(EVERYTHING)
        self.select(selected, row)  # first: the tree's cursor then finds it open
        self.query_one(InvocationTree).point_at(selected)

    def action_filter(self) -> None:
        if self.state.selected is not None:
            screen = FilterScreen(self.state.filter_choices(), self.state.active_filter)
            self.app.push_screen(screen, self._filter)

    def _filter(self, chosen: Filter | None) -> None:
        selected = self.state.selected
        if chosen is None or selected is None:
            return
        row = self.current_row
        self._set_filter(chosen)
        listed = self.state.listed(selected.invocation)
        if listed or (shown := self.state.first_problem_listed()) is None:
            self.select(selected, row)
        else:  # its invocation is not listed: the first one that is
            self._open_attempt(*shown)

    def _set_filter(self, chosen: Filter) -> None:
        relist = self.state.set_filter(chosen)
        self.show_title(*self._decoded)
        if relist:
            self.query_one(InvocationTree).relist(self.state.attempts, self.state.listed)
