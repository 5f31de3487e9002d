"""The Textual app: invocations on the left, the selected attempt's timeline in the centre,
the selected frame's detail below it (fields, links, problems, payload, bytes).

Everything shown comes from tui.model; every piece of text from the input goes in as a
rich Text built from escaped strings (values.safe_text), so markup is never parsed and
payloads cannot move the cursor or change colours.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Final

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static
from textual.widgets.tree import TreeNode
from textual.worker import Worker, get_current_worker

from restate_inspect.events import Discovery
from restate_inspect.invocations import Invocation, Journaled
from restate_inspect.location import Direction
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.render.fields import FieldNode, Span, field_spans
from restate_inspect.render.text import (
    DIRECTION_STYLES,
    SEVERITY_STYLES,
    type_style,
)
from restate_inspect.rules import Problem, counted
from restate_inspect.tui import model
from restate_inspect.tui.looks import (
    BADGE_STYLES,
    HEX_ROW,
    SECTION_STYLE,
    attempt_label,
    frame_header,
    hex_line_width,
    hex_view_text,
    invocation_label,
    key_bar,
    payload_blocks,
    problem_text,
    timeline_line,
)
from restate_inspect.tui.model import EVERYTHING, PROBLEM, SECTION, Filter, Row
from restate_inspect.tui.store import InvocationStore, Summary
from restate_inspect.tui.widgets import (
    DetailView,
    FieldTree,
    FilterScreen,
    HelpScreen,
    InvocationTree,
    SearchScreen,
    Selected,
    Timeline,
    add_fields,
)
from restate_inspect.values import safe_text

Held = Summary | Problem | Discovery  # what the decoding thread hands to the panes
Progress = Callable[[int], None]
Load = Callable[[Progress], Iterator[Journaled]]  # decodes the input, telling bytes read

BATCH_SECONDS: Final = 0.3  # how often the decoding thread hands invocations to the UI...
# ... at least (the first one at once): each batch lays out and draws the screen again,
# which at 0.1 s took a third of a big capture's load time. Textual's Tree also measures all
# its lines again each time nodes are added, so a long list takes them less often, and that
# work stays a small share of the decoding's
SECONDS_PER_LISTED: Final = 30e-6
OPENED_CACHED: Final = 32  # invocations read back from the store and kept, with their rows
SEARCH_PROGRESS_SECONDS: Final = 0.25  # how often a search says how far it got
COLLECTOR_THRESHOLDS: Final = (20_000, 10, 10)  # gc.set_threshold while the app runs


@dataclass(slots=True)
class _Opened:
    """An invocation read back from the store, and the timeline rows of its attempts that
    were shown (rows point into this copy of it, and only into it)."""

    invocation: Invocation
    rows: dict[int, list[Row]] = field(default_factory=dict)  # by attempt index

    def attempt(self, index: int) -> Attempt:
        return self.invocation.attempts[index]

    def rows_of(self, index: int) -> list[Row]:
        rows = self.rows.get(index)
        if rows is None:
            rows = self.rows[index] = model.timeline_rows(self.attempt(index))
        return rows


class InspectorApp(App[None]):
    """restate-inspect tui."""

    TITLE = "restate-inspect"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #title { height: 1; background: $panel; }
    #main { height: 1fr; }
    #invocations { width: 34%; min-width: 24; max-width: 56; border: round $primary-darken-2; }
    #right { width: 1fr; }
    #timeline { height: 1fr; border: round $primary-darken-2;
        overflow-y: scroll; overflow-x: hidden; }
    #detail { height: 1fr; }
    /* scrollbars that come and go lay out the screen again: these keep theirs */
    #fields { width: 1fr; border: round $primary-darken-2; overflow-y: scroll; overflow-x: scroll;
        scrollbar-size-horizontal: 1; }
    #about { width: 1fr; border: round $primary-darken-2; overflow-y: scroll; overflow-x: hidden; }
    #invocations:focus, #timeline:focus, #fields:focus, #about:focus { border: round $accent; }
    #status { height: 1; }
    #keys { height: 1; background: $panel; }
    #message { width: 1fr; }
    #progress { width: 40; }
    HelpScreen, SearchScreen, FilterScreen { align: center middle; }
    #help { width: 100; max-width: 95%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface; }
    #search-box, #filter-box { width: 64; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface; }
    #filter-options { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
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
        self.keep = keep  # invocations listed: their summaries take memory
        self.dropped = 0
        self.load = load
        self.source_name = name
        self.source_size = size
        self.store = InvocationStore()  # the decoded invocations, on disk
        self.invocations: list[Summary] = []
        self.attempts: list[Selected] = []  # in the invocations pane's order
        self.capture_problems: list[Problem] = []
        self.selected: Selected | None = None
        self.rows: list[Row] = []  # of the selected attempt, filtered
        self.active_filter: Filter = EVERYTHING
        self.absolute_time = False
        self.last_query = ""
        self.read = 0
        self.finished = False
        self.failure: str | None = None
        self._opened: OrderedDict[int, _Opened] = OrderedDict()  # by place in the store
        self._attempt_nodes: list[TreeNode[Selected] | None] = []  # by position; None: not listed
        self.problem_total = 0
        self._field_spans: dict[str, Span] = {}
        self._shown: Row | None = None  # the row in the detail panes
        self._filling = False  # the timeline is being filled: its cursor moves mean nothing
        self._relisting = False  # the same, for the invocations pane
        self._thresholds = gc.get_threshold()  # the collector's, restored when the app ends
        self.message = ""  # in the status line
        self._lasting = ""  # what the status line says when no key has said anything
        self._cancel = cancel or threading.Event()
        self._held: list[Held] = []  # decoded, not yet taken into the panes
        self._held_lock = threading.Lock()
        self._taken = time.monotonic()  # when the panes last took what was held
        self._frozen_at = 0  # attempts listed at the collector's last freeze (see _freeze)

    # --- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(id="main"):
            tree: InvocationTree = InvocationTree(
                Text("invocations"), moved=self._attempt_reached, id="invocations"
            )
            tree.show_root = False
            tree.guide_depth = 2
            tree.border_title = "Invocations"
            yield tree
            with Vertical(id="right"):
                timeline = Timeline(moved=self._row_reached, id="timeline")
                timeline.border_title = "Timeline"
                yield timeline
                with Horizontal(id="detail"):
                    fields: FieldTree = FieldTree(
                        Text("frame"), moved=self._field_reached, id="fields"
                    )
                    fields.show_root = False
                    fields.border_title = "Fields"
                    yield fields
                    about = DetailView(id="about")
                    about.border_title = "Links · problems · payload · bytes"
                    yield about
        with Horizontal(id="status"):
            yield Static(id="message")
            yield ProgressBar(total=None, show_eta=False, id="progress")
        yield Static(key_bar(), id="keys")

    def on_mount(self) -> None:
        heading = ("time", "", "#", "type", "state", "summary")
        self.query_one(Timeline).add_column(timeline_line([Text(h, "bold") for h in heading]))
        self._show_title()
        self._set_message("decoding…", lasting=True)
        self.decode()
        self._progress_timer = self.set_interval(0.25, self._show_progress)
        # Drawing a screen allocates tens of thousands of objects; with the default threshold
        # the collector ran hundreds of times per second of keys, and its passes (up to
        # ~70 ms) landed on keystrokes. Rarer passes: a quarter of the time collecting.
        gc.set_threshold(*COLLECTOR_THRESHOLDS)

    # --- decoding in a thread ---------------------------------------------------------

    @work(thread=True, exclusive=True)
    def decode(self) -> None:
        def progress(done: int) -> None:
            self.read = done

        try:
            for item in self.load(progress):
                if self._cancel.is_set():
                    return
                held = self._stored(item)
                if held is None:
                    continue
                with self._held_lock:
                    self._held.append(held)
                first = not self.invocations and isinstance(held, Summary)
                if first or self._take_due():
                    self.call_from_thread(self._take)
        except Exception as exc:  # shown in the UI: a TUI must not crash on input
            self.failure = safe_text(str(exc) or type(exc).__name__)
        self.call_from_thread(self._take, True)

    def _stored(self, item: Journaled) -> Held | None:
        """What the panes get of a decoded item: an invocation goes to the store, and only
        its summary stays in memory; one beyond --max-invocations is only counted."""
        if not isinstance(item, Invocation):
            return item
        if len(self.store) >= self.keep:
            self.dropped += 1
            return None
        return self.store.add(item)

    def on_unmount(self) -> None:
        self._cancel.set()
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()
        self.store.close()

    def _take_due(self) -> bool:
        wait = max(BATCH_SECONDS, len(self.attempts) * SECONDS_PER_LISTED)
        return time.monotonic() - self._taken >= wait

    def _take(self, last: bool = False) -> None:
        """What the decoding thread holds; the progress timer takes it too, so that the
        last invocations of a live capture gone quiet do not wait for more to come."""
        with self._held_lock:
            batch, self._held = self._held, []
            self._taken = time.monotonic()
        tree = self.query_one(InvocationTree)
        for item in batch:
            if isinstance(item, Summary):
                self._add_invocation(tree, item)
            elif isinstance(item, Problem):
                self.capture_problems.append(item)
        if last or len(self.attempts) > 2 * self._frozen_at:  # grown: not 0 >= 2 * 0
            self._freeze()
        if last:
            self.finished = True
            self._progress_timer.stop()
            self.query_one(ProgressBar).display = False
            self._set_message(self._final_message(), lasting=True)
        self._show_title()
        if self.selected is None and self.attempts:
            tree.focus()
            self.select(self.attempts[0])
            self._point_tree_at(self.attempts[0])

    def _add_invocation(self, tree: InvocationTree, invocation: Summary) -> None:
        self.invocations.append(invocation)
        self.problem_total += invocation.problems
        first = len(self.attempts)
        count = len(invocation.attempts)
        self.attempts += [Selected(invocation, i, first + i) for i in range(count)]
        self._attempt_nodes += [None] * count
        self._list(tree, self.attempts[first:])

    def _list(self, tree: InvocationTree, attempts: list[Selected]) -> None:
        """An invocation's line (and its attempts' lines) in the pane, unless the problems
        filter leaves it out."""
        invocation = attempts[0].invocation
        if self.active_filter.kind == "problems" and not invocation.problems:
            return
        label = invocation_label(invocation)
        if len(attempts) == 1:
            self._attempt_nodes[attempts[0].position] = tree.root.add_leaf(label, attempts[0])
            return
        node = tree.root.add(label, attempts[-1], expand=True)  # shows the last attempt
        for selected in attempts:
            leaf = node.add_leaf(attempt_label(selected.attempt), selected)
            self._attempt_nodes[selected.position] = leaf

    def _relist(self) -> None:
        """The pane again, for another filter: problems only lists what has problems."""
        tree = self.query_one(InvocationTree)
        # The tree's cursor moves as it is rebuilt, and its nodes know their lines only
        # once it has been drawn: no attempt is chosen until then.
        self._relisting = True
        tree.clear()
        self._attempt_nodes = [None] * len(self.attempts)
        at = 0
        while at < len(self.attempts):
            count = len(self.attempts[at].invocation.attempts)
            self._list(tree, self.attempts[at : at + count])
            at += count
        self.call_after_refresh(self._relisted)

    def _relisted(self) -> None:
        self._point_tree_at(self.selected)
        self._relisting = False

    def _point_tree_at(self, selected: Selected | None) -> None:
        node = self._attempt_nodes[selected.position] if selected is not None else None
        if node is not None:
            self.query_one(InvocationTree).move_cursor(node)

    def _freeze(self) -> None:
        """Take what is listed out of the collector's sight: on a list of tens of thousands
        of invocations its full passes took up to 0.8 s, and landed on keys. Only when the
        list has doubled, and at the end: what is alive at a freeze and dies later (the
        tree's lines, built again when nodes are added) is never collected, so freezing
        after each batch kept every one of them, gigabytes on a big capture."""
        gc.collect(1)  # the young garbage, not to be frozen with the rest
        gc.freeze()
        self._frozen_at = len(self.attempts)

    def _final_message(self) -> str:
        if self.failure:
            return f"stopped: {self.failure}"
        if not self.invocations:
            return "no Restate invocation in this input"
        found = len(self.capture_problems)
        return "decoded" + (f"; {found} problems outside any invocation" if found else "")

    def _show_progress(self) -> None:
        if self.finished:
            return
        if self._held and self._take_due():  # a list's length is safe to read without the lock
            self._take()
        bar = self.query_one(ProgressBar)
        if self.source_size:
            bar.update(total=self.source_size, progress=min(self.read, self.source_size))

    def _show_title(self) -> None:
        attempts = len(self.attempts)
        problems = self.problem_total
        text = Text(" restate-inspect ", "bold reverse").append("  ")
        text.append(safe_text(self.source_name), "bold")
        invocations = counted(len(self.invocations), "invocation")
        text.append(f"  {invocations} · {counted(attempts, 'attempt')}", "dim")
        if problems or self.capture_problems:
            count = problems + len(self.capture_problems)
            text.append(f" · {counted(count, 'problem')}", "bold red")
        if not self.finished:
            text.append("  (decoding…)", "italic yellow")
        if self.dropped:
            text.append(
                f"  {self.dropped} more not kept (--max-invocations, or narrow with --service)",
                "yellow",
            )
        if self.active_filter is not EVERYTHING:
            text.append(f"  filter: {safe_text(self.active_filter.label)}", "bold yellow")
        self.query_one("#title", Static).update(text)

    def _set_message(self, message: str, *, lasting: bool = False) -> None:
        """The status line; what a key said goes when the cursor moves on, and the
        lasting message (decoding…, decoded) comes back."""
        if lasting:
            self._lasting = message
        if message != self.message:  # an update lays out the screen again: only on a change
            self.message = message
            self.query_one("#message", Static).update(Text(safe_text(message), "dim"))

    def _moved_on(self) -> None:
        self._set_message(self._lasting)

    # --- the attempt and its rows -----------------------------------------------------

    def opened(self, selected: Selected) -> _Opened:
        """The selected attempt's invocation, read back from the store unless it was lately.
        The one selected stays: the rows shown point into it."""
        place = selected.invocation.place
        opened = self._opened.get(place)
        if opened is not None:
            self._opened.move_to_end(place)
            return opened
        opened = self._opened[place] = _Opened(self.store.load(place))
        shown = self.selected.invocation.place if self.selected is not None else None
        for old in list(self._opened)[: max(0, len(self._opened) - OPENED_CACHED)]:
            if old != shown:
                del self._opened[old]
        return opened

    def attempt_of(self, selected: Selected) -> Attempt:
        return self.opened(selected).attempt(selected.index)

    def rows_of(self, selected: Selected) -> list[Row]:
        return self.opened(selected).rows_of(selected.index)

    def _attempt_reached(self, selected: Selected) -> None:
        if selected is not self.selected and not self._relisting:
            self._moved_on()
            self.select(selected)

    def select(self, selected: Selected, row: Row | None = None) -> None:
        self.selected = selected
        self.rows = model.visible(self.rows_of(selected), self.active_filter)
        self._filling = True  # clear() puts the cursor on row 0: not a row to show
        try:
            self._fill_timeline()
        finally:
            self._filling = False
        timeline = self.query_one(Timeline)
        if row is not None and row in self.rows:
            at = self.rows.index(row)
        else:  # the first frame, past the section title
            at = next((i for i, r in enumerate(self.rows) if r.kind != SECTION), 0)
        if self.rows:
            timeline.move_cursor(row=at, animate=False)
        self._row_reached(at)  # if the cursor did not move

    def _fill_timeline(self) -> None:
        assert self.selected is not None
        attempt = self.attempt_of(self.selected)
        started = model.first_time(self.rows)
        timeline = self.query_one(Timeline)
        timeline.clear()
        for position, row in enumerate(self.rows):
            timeline.add_row(timeline_line(self._cells(row, attempt, started)), key=str(position))
        timeline.border_title = Text(safe_text(_timeline_title(self.selected)))

    def _cells(self, row: Row, attempt: Attempt, started: float | None) -> list[Text]:
        if row.kind == SECTION:
            rule = Text("──", SECTION_STYLE)
            return [rule, Text(""), Text(""), rule, Text(""), Text(row.title, SECTION_STYLE)]
        time_cell = Text(model.time_text(row, started, self.absolute_time), "dim")
        frame = row.frame
        if frame is None:
            style = SEVERITY_STYLES[row.worst] if row.worst else ""
            codes = " ".join(dict.fromkeys(p.code for p in row.problems))
            what = "problem" if row.kind == PROBLEM else "at the end"
            words = Text(safe_text(model.row_summary(row, attempt)))
            return [time_cell, Text("!", style), Text(""), Text(codes, style),
                    Text(what, style), words]  # fmt: skip
        direction = frame.direction or Direction.SDK_TO_RUNTIME
        name_style = type_style(frame)
        if row.section == "replay":
            name_style += " dim"
        state = Text(" ").join(
            Text(badge, BADGE_STYLES.get(badge.split(" ")[0], "bold red"))
            for badge in model.row_badges(row)
        )
        summary = Text(safe_text(model.row_summary(row, attempt)))
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

    def _row_reached(self, at: int) -> None:
        """The timeline's cursor is on row `at`: show it, unless it is shown already."""
        if not self._filling and not (0 <= at < len(self.rows) and self.rows[at] is self._shown):
            self._moved_on()
            self.show_detail(at)

    # --- the detail -------------------------------------------------------------------

    def show_detail(self, at: int) -> None:
        fields = self.query_one(FieldTree)
        fields.clear()
        detail = self.query_one(DetailView)
        self._field_spans = {}
        self._shown = None
        if self.selected is None or not 0 <= at < len(self.rows):
            detail.show(Text("nothing selected", "dim"), None)
            return
        row = self._shown = self.rows[at]
        nodes = model.row_fields(row)
        frame = row.frame
        info = self._info(row, self.selected, nodes)
        if frame is None:
            detail.show(info, None)
            return
        add_fields(fields.root, nodes)
        fields.root.expand_all()
        self._field_spans = field_spans(frame)
        detail.show(info, hex_view_text(frame, None, self._hex_per_row()))

    def _info(self, row: Row, selected: Selected, nodes: list[FieldNode]) -> Group:
        parts: list[RenderableType] = []
        frame = row.frame
        if frame is None:
            parts.append(Text(safe_text(row.title or "problem"), "bold"))
        else:
            parts.append(frame_header(frame, row))
            opened = self.opened(selected)
            attempt = opened.attempt(selected.index)
            found = model.links(row, attempt, model.first_time(opened.rows_of(selected.index)))
            if row.entry is not None:
                found += model.replayed_in(attempt, opened.invocation, row.entry)
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

    def _field_reached(self, path: str) -> None:
        frame = self._shown.frame if self._shown is not None else None  # the one shown
        if frame is None:
            return
        span = self._field_spans.get(path)
        self.query_one(DetailView).show_bytes(hex_view_text(frame, span, self._hex_per_row()))

    def _hex_per_row(self) -> int:
        """16 bytes a line where they fit (offset, hex, text: 77 columns), else 8 (44),
        else 4: a line that wraps is hard to read."""
        width = self.query_one(DetailView).scrollable_content_region.width
        return next((n for n in (HEX_ROW, 8) if width >= hex_line_width(n)), 4)

    @property
    def current_row(self) -> Row | None:
        at = self.query_one(Timeline).cursor_row
        return self.rows[at] if 0 <= at < len(self.rows) else None

    # --- keys -------------------------------------------------------------------------

    def _go(self, at: int | None, what: str) -> None:
        if at is None:
            self.bell()
            self._set_message(what)
            return
        self.query_one(Timeline).move_cursor(row=at, animate=False)
        self._row_reached(at)  # if the cursor was there already

    def action_entry(self, forward: bool) -> None:
        at = model.step(self.rows, self._cursor(), forward, model.is_entry_row)
        self._go(at, f"no {'next' if forward else 'previous'} entry in this attempt")

    def action_problem(self, forward: bool) -> None:
        at = model.step(self.rows, self._cursor(), forward, model.has_problems)
        if at is None:
            self._problem_in_other_attempt(forward)
            return
        self._go(at, "")

    def _problem_in_other_attempt(self, forward: bool) -> None:
        """J past the last problem of an attempt goes on to the next attempt with one; K
        before the first, back to the last problem of the previous attempt with one."""
        if self.selected is None:
            return
        start = self.selected.position
        others = self.attempts[start + 1 :] if forward else self.attempts[:start][::-1]
        for selected in others:
            if selected.attempt.problems:
                rows = [r for r in self.rows_of(selected) if r.problems]
                self._open_attempt(selected, rows[0] if forward else rows[-1])
                return
        self._go(None, f"no {'further' if forward else 'earlier'} problem")

    def action_completion(self) -> None:
        answered = model.completion_of(self.rows, self._cursor())
        self._go(answered, "no completion or notification answers this row")

    def action_ack(self) -> None:
        self._go(model.ack_of(self.rows, self._cursor()), "no ack (EntryAck, CommandAck) here")

    def action_back_to_entry(self) -> None:
        self._go(model.entry_of(self.rows, self._cursor()), "this row names no entry or command")

    def _cursor(self) -> int:
        return self.query_one(Timeline).cursor_row if self.rows else -1

    def action_toggle_time(self) -> None:
        self.absolute_time = not self.absolute_time
        if self.selected is not None:
            self.select(self.selected, self.current_row)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_search(self) -> None:
        self.push_screen(SearchScreen(self.last_query), self._search)

    def _search(self, query: str | None) -> None:
        if not query or self.selected is None:
            return
        self.last_query = query
        row = self.current_row
        at = self.rows_of(self.selected).index(row) if row is not None else -1
        self._set_message(f"searching: {query} (esc stops)")
        self.search(query, (self.selected.position, at), len(self.attempts))

    @work(thread=True, exclusive=True, group="search")
    def search(self, query: str, at: tuple[int, int], count: int) -> None:
        """Search in a thread: it reads every attempt back from the store, which takes
        seconds on a big capture, and the keys go on working meanwhile; esc stops it. Its
        copies are its own: the panes' cache is the UI thread's."""
        worker = get_current_worker()
        read: dict[int, _Opened] = {}  # the last invocation read, by place
        searched = 0
        told = time.monotonic()

        def timeline_at(position: int) -> model.Timeline:
            nonlocal searched, told
            if worker.is_cancelled:
                raise _SearchStopped
            selected = self.attempts[position]
            place = selected.invocation.place
            opened = read.get(place)
            if opened is None:
                read.clear()
                opened = read[place] = _Opened(self.store.load(place))
            searched += 1
            if time.monotonic() - told >= SEARCH_PROGRESS_SECONDS:
                told = time.monotonic()
                text = f"searching: {query}, {searched:,} of {count:,} attempts (esc stops)"
                self.call_from_thread(self._searching, worker, text)
            return opened.attempt(selected.index), opened.rows_of(selected.index)

        try:
            found = model.search(count, timeline_at, query, at)
        except _SearchStopped:
            return
        except Exception as exc:  # the store closed under it as the app ended, or a bug
            if not worker.is_cancelled:
                self.call_from_thread(self._searching, worker, f"search failed: {exc}")
            return
        self.call_from_thread(self._found, worker, query, found)

    # What a search tells comes through the UI thread, which is where esc or a new search
    # cancels it: one cancelled meanwhile says nothing more.

    def _searching(self, worker: Worker[None], text: str) -> None:
        if not worker.is_cancelled:
            self._set_message(text)

    def _found(self, worker: Worker[None], query: str, found: tuple[int, int] | None) -> None:
        if worker.is_cancelled:
            return
        if found is None:
            self._go(None, f"not found: {query}")
            return
        selected = self.attempts[found[0]]
        self._open_attempt(selected, self.rows_of(selected)[found[1]])
        self._set_message(f"found: {query}")

    def action_stop_search(self) -> None:
        if self.workers.cancel_group(self, "search"):
            self._set_message("search stopped")

    def _open_attempt(self, selected: Selected, row: Row) -> None:
        """Show a row of any attempt, clearing a filter that would hide it."""
        if not self.active_filter.accepts(row):
            self._set_filter(EVERYTHING)
        self.select(selected, row)  # first: the tree's cursor then finds it open
        self._point_tree_at(selected)

    def action_filter(self) -> None:
        if self.selected is None:
            return
        choices = model.filter_choices(self.rows_of(self.selected))
        if self.active_filter not in choices:
            choices.append(self.active_filter)
        self.push_screen(FilterScreen(choices, self.active_filter), self._filter)

    def _filter(self, chosen: Filter | None) -> None:
        if chosen is None or self.selected is None:
            return
        row = self.current_row
        self._set_filter(chosen)
        if self._attempt_nodes[self.selected.position] is None:  # its invocation is not listed
            listed = [a for a in self.attempts if self._attempt_nodes[a.position] is not None]
            if listed:
                problems = [r for r in self.rows_of(listed[0]) if r.problems]
                self._open_attempt(listed[0], problems[0])
                return
        self.select(self.selected, row)

    def _set_filter(self, chosen: Filter) -> None:
        kinds = (chosen.kind, self.active_filter.kind)
        relist = "problems" in kinds and chosen != self.active_filter
        self.active_filter = chosen
        self._show_title()
        if relist:
            self._relist()


class _SearchStopped(Exception):
    """esc, or another search, stopped the one under way."""


def _timeline_title(selected: Selected) -> str:
    attempt = selected.attempt
    parts = [selected.invocation.title, f"attempt {attempt.number}", attempt.stream]
    return " · ".join([*parts, attempt.ending_text])


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
