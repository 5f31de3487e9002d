"""The TUI's panes: the invocations, the timeline, the detail (fields, and what is said of
the frame above its bytes). Each owns its look; each tells the app what its cursor reached
within the key press that moved it (a Textual message would be handled, and the pane drawn,
a frame later: the keys' 50 ms would not hold)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar, Self, TypeVar

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import DataTable, ProgressBar, RichLog, Static, Tree
from textual.widgets.tree import TreeNode

from restate_inspect.render.fields import FieldNode, Span, field_spans
from restate_inspect.tui.looks import (
    HEX_ROW,
    KIND_STYLES,
    attempt_label,
    hex_line_width,
    hex_view_text,
    invocation_label,
    timeline_line,
)
from restate_inspect.tui.model import Row
from restate_inspect.tui.store import Selected, Summary
from restate_inspect.values import safe_text

VIM_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]


class FixedPane(Widget):
    """A pane whose size the layout fixes (1fr) and whose vertical scrollbar is always
    shown: when its content changes size, nothing else on the screen moves. Textual lays
    out and repaints the whole screen on any content size change; for these panes that
    is wasted work, and it made switching attempts miss 50 ms."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        bar = self.vertical_scrollbar  # kept in step with the content, as a layout would
        bar.window_virtual_size = size.height
        bar.refresh()
        if self.show_horizontal_scrollbar:
            across = self.horizontal_scrollbar
            across.window_virtual_size = size.width
            across.refresh()
            self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)
        self.refresh()  # all of the pane: what a layout would have repainted

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        return super().refresh(*regions, repaint=repaint, recompose=recompose)


NodeData = TypeVar("NodeData")


class CursorTree(Tree[NodeData]):
    """A tree that tells the app what its cursor reached within the key press that moved
    it: through a NodeHighlighted message it would be drawn a frame later."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_KEYS,
        Binding("g", "scroll_home", "First", show=False),
        Binding("G", "scroll_end", "Last", show=False),
    ]

    def __init__(self, label: Text, *, moved: Callable[[NodeData], None], id: str) -> None:
        super().__init__(label, id=id)
        self._moved = moved

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        node = self.cursor_node
        if node is not None and node.data is not None and previous_line != line:
            self._moved(node.data)


class InvocationTree(CursorTree[Selected]):
    """The invocations and their attempts; an attempt opens as the cursor reaches it."""

    DEFAULT_CSS = """
    InvocationTree { width: 34%; min-width: 24; max-width: 56; border: round $primary-darken-2; }
    InvocationTree:focus { border: round $accent; }
    """

    def __init__(self, *, moved: Callable[[Selected], None], id: str) -> None:
        super().__init__(Text("invocations"), moved=self._reached, id=id)
        self.show_root = False
        self.guide_depth = 2
        self.border_title = "Invocations"
        self.nodes: list[TreeNode[Selected] | None] = []  # by position; None: not listed
        self.chosen: Selected | None = None  # where the cursor is, or is to be once drawn
        self._tell = moved
        self._relisting = False

    def _reached(self, selected: Selected) -> None:
        # While the list is built again the cursor moves, and the nodes know their lines
        # only once drawn: no attempt is chosen until then.
        if not self._relisting:
            self.chosen = selected
            self._tell(selected)

    def add_invocation(self, attempts: list[Selected], listed: bool) -> None:
        """An invocation's attempts, in the pane's order; `listed`: shown in the pane."""
        self.nodes += [None] * len(attempts)
        if listed:
            self._list(attempts)

    def _list(self, attempts: list[Selected]) -> None:
        label = invocation_label(attempts[0].invocation)
        if len(attempts) == 1:
            self.nodes[attempts[0].position] = self.root.add_leaf(label, attempts[0])
            return
        node = self.root.add(label, attempts[-1], expand=True)  # shows the last attempt
        for selected in attempts:
            self.nodes[selected.position] = node.add_leaf(attempt_label(selected.attempt), selected)

    def relist(self, attempts: list[Selected], listed: Callable[[Summary], bool]) -> None:
        """The pane again, with the invocations `listed` accepts (of every one's attempts)."""
        self._relisting = True
        self.clear()
        self.nodes = []
        at = 0
        while at < len(attempts):
            count = len(attempts[at].invocation.attempts)
            self.add_invocation(attempts[at : at + count], listed(attempts[at].invocation))
            at += count
        self.call_after_refresh(self._relisted)

    def _relisted(self) -> None:
        self._relisting = False
        self.point_at(self.chosen)

    def point_at(self, selected: Selected | None) -> None:
        self.chosen = selected
        node = self.nodes[selected.position] if selected is not None else None
        if node is not None and not self._relisting:
            self.move_cursor(node)

    def get_label_width(self, node: TreeNode[Selected]) -> int:
        """What Tree's own does, without rendering the label: Tree measures every line each
        time a node is added, and rendering them all made a big capture's list O(n²)."""
        label = node.label
        width = label.cell_len if isinstance(label, Text) else cell_len(label)
        if not node.allow_expand:
            return width
        return cell_len(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) + width


class FieldTree(CursorTree[str], FixedPane):
    """The selected frame's fields; the one under the cursor is marked in the hex view.
    A value wider than the pane scrolls sideways: cut, it would lose characters."""

    # scrollbars that come and go lay out the screen again: these keep theirs
    DEFAULT_CSS = """
    FieldTree { width: 1fr; border: round $primary-darken-2; overflow-y: scroll;
        overflow-x: scroll; scrollbar-size-horizontal: 1; }
    FieldTree:focus { border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "scroll_left", "Scroll left", show=False),
        Binding("right,l", "scroll_right", "Scroll right", show=False),
    ]

    def on_focus(self) -> None:
        if self.cursor_line < 0 and self.root.children:
            self.cursor_line = 0


class Timeline(DataTable[Text], FixedPane):
    """The attempt's rows. The row under the cursor is shown within the key press that
    moved it there: through a RowHighlighted message it would be drawn a frame later."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; border: round $primary-darken-2; overflow-y: scroll;
        overflow-x: hidden; }
    Timeline:focus { border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_KEYS,
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]
    HEADING: ClassVar = ("time", "", "#", "type", "state", "summary")

    def __init__(self, *, moved: Callable[[int], None], id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._moved = moved
        self.border_title = "Timeline"
        self._filling = False

    def on_mount(self) -> None:
        self.add_column(timeline_line([Text(h, "bold") for h in self.HEADING]))

    def fill(self, lines: Iterable[list[Text]], title: str) -> None:
        """The rows of an attempt, each given as its cells; the cursor stays on row 0."""
        self._filling = True  # clear() puts the cursor on row 0: not a row to show
        try:
            self.clear()
            for position, cells in enumerate(lines):
                self.add_row(timeline_line(cells), key=str(position))
        finally:
            self._filling = False
        self.border_title = Text(safe_text(title))

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old != new and not self._filling:
            self._moved(new.row)


class DetailView(RichLog, FixedPane):
    """The selected frame's header, links, problems, payload and bytes. One line-based
    view rather than widgets of their own: a new frame then redraws this pane alone, where
    resizing widgets would lay out the whole screen again on every key."""

    DEFAULT_CSS = """
    DetailView { width: 1fr; border: round $primary-darken-2; overflow-y: scroll;
        overflow-x: hidden; }
    DetailView:focus { border: round $accent; }
    """

    def __init__(self, *, id: str) -> None:
        # min_width: RichLog renders at least 78 columns wide, and a narrower pane then
        # clipped the wrapped lines, characters lost mid-line; wrapped to the pane instead
        super().__init__(
            id=id, wrap=True, auto_scroll=False, markup=False, highlight=False, min_width=1
        )
        self.info: RenderableType = Text("")
        self.hex: Text | None = None

    def show(self, info: RenderableType, hex_view: Text | None) -> None:
        self.info = info
        self.show_bytes(hex_view)
        self.scroll_home(animate=False)

    def show_bytes(self, hex_view: Text | None) -> None:
        self.hex = hex_view
        self.clear()
        self.write(self.info)
        if hex_view is not None:
            self.write(Text(""))
            self.write(hex_view)


class DetailPane(Horizontal):
    """The selected row in detail: its fields, and beside them what is said of it and its
    bytes, the field under the cursor marked."""

    DEFAULT_CSS = "DetailPane { height: 1fr; }"

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.shown: Row | None = None  # the row shown
        self._spans: dict[str, Span] = {}

    def compose(self) -> ComposeResult:
        fields: FieldTree = FieldTree(Text("frame"), moved=self._field_reached, id="fields")
        fields.show_root = False
        fields.border_title = "Fields"
        yield fields
        about = DetailView(id="about")
        about.border_title = "Links · problems · payload · bytes"
        yield about

    def show(self, row: Row | None, info: RenderableType, nodes: list[FieldNode]) -> None:
        fields = self.query_one(FieldTree)
        fields.clear()
        self.shown = row
        frame = row.frame if row is not None else None
        if frame is None:
            self._spans = {}
            self.query_one(DetailView).show(info, None)
            return
        add_fields(fields.root, nodes)
        fields.root.expand_all()
        self._spans = field_spans(frame)
        self.query_one(DetailView).show(info, hex_view_text(frame, None, self.hex_per_row()))

    def _field_reached(self, path: str) -> None:
        frame = self.shown.frame if self.shown is not None else None
        if frame is not None:
            hex_view = hex_view_text(frame, self._spans.get(path), self.hex_per_row())
            self.query_one(DetailView).show_bytes(hex_view)

    def hex_per_row(self) -> int:
        """16 bytes a line where they fit (offset, hex, text: 77 columns), else 8 (44),
        else 4: a line that wraps is hard to read."""
        width = self.query_one(DetailView).scrollable_content_region.width
        return next((n for n in (HEX_ROW, 8) if width >= hex_line_width(n)), 4)


class StatusLine(Horizontal):
    """What a key said, or else what lasts (decoding…, decoded), and the reading's
    progress."""

    DEFAULT_CSS = """
    StatusLine { height: 1; }
    StatusLine #message { width: 1fr; }
    StatusLine #progress { width: 40; }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.message = ""
        self._lasting = ""

    def compose(self) -> ComposeResult:
        yield Static(id="message")
        yield ProgressBar(total=None, show_eta=False, id="progress")

    def say(self, message: str, *, lasting: bool = False) -> None:
        """What a key said goes when the cursor moves on, and the lasting message comes
        back."""
        if lasting:
            self._lasting = message
        if message != self.message:  # an update lays out the screen again: only on a change
            self.message = message
            self.query_one("#message", Static).update(Text(safe_text(message), "dim"))

    def moved_on(self) -> None:
        self.say(self._lasting)

    def progress(self, total: int, done: int) -> None:
        self.query_one(ProgressBar).update(total=total, progress=min(done, total))

    def finish(self, message: str) -> None:
        self.query_one(ProgressBar).display = False
        self.say(message, lasting=True)


def add_fields(parent: TreeNode[str], nodes: Iterable[FieldNode]) -> None:
    for node in nodes:
        label = Text(safe_text(node.label), "bold")
        if node.value:
            label.append(": ").append(safe_text(node.value), KIND_STYLES.get(node.kind, ""))
        elif node.block is not None:
            label.append(": ").append(f"({node.kind}, below)", "dim")
        if node.note:
            label.append(f"  {safe_text(node.note)}", "italic dim")
        if node.children:
            add_fields(parent.add(label, node.path, expand=True), node.children)
        else:
            parent.add_leaf(label, node.path)
