"""The TUI's widgets and screens: the panes, which tell the app what their cursor reached
within the key press that moved it, and the help, search and filter screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Self, TypeVar

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, RichLog, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode

from restate_inspect.location import Direction
from restate_inspect.render.fields import FieldNode
from restate_inspect.render.text import DIRECTION_STYLES
from restate_inspect.tui.looks import KEYS, KIND_STYLES, SECTION_STYLE, STATUS_STYLES
from restate_inspect.tui.model import Filter
from restate_inspect.tui.store import AttemptSummary, Summary
from restate_inspect.values import safe_text


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: cheap, and meant
class Selected:
    """An attempt in the invocations pane: its invocation, which attempt of it (0-based),
    and its place in the pane."""

    invocation: Summary
    index: int
    position: int

    @property
    def attempt(self) -> AttemptSummary:
        return self.invocation.attempts[self.index]


_VIM_KEYS: list[BindingType] = [
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
        *_VIM_KEYS,
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

    BINDINGS: ClassVar[list[BindingType]] = [
        *_VIM_KEYS,
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, moved: Callable[[int], None], id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._moved = moved

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old != new:
            self._moved(new.row)


class DetailView(RichLog, FixedPane):
    """The selected frame's header, links, problems, payload and bytes. One line-based
    view rather than widgets of their own: a new frame then redraws this pane alone, where
    resizing widgets would lay out the whole screen again on every key."""

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


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        text = Text("restate-inspect · keys\n\n", "bold")
        for key, what in KEYS:
            text.append(f"  {key:<16}", "bold cyan").append(what + "\n")
        text.append("\nBadges: ", "bold").append("completed", "green").append(", ")
        text.append("pending", "yellow").append(", ").append("acked", "green").append(", ")
        text.append("awaiting ack", "yellow").append(", ").append("problems", "bold red")
        text.append("\nArrows: ").append(
            "→ runtime to SDK", DIRECTION_STYLES[Direction.RUNTIME_TO_SDK]
        )
        text.append(", ").append("← SDK to runtime", DIRECTION_STYLES[Direction.SDK_TO_RUNTIME])
        text.append("\nInvocations: ", "bold")
        for position, status in enumerate(STATUS_STYLES):
            text.append(", " if position else "").append(status, STATUS_STYLES[status])
        text.append("; Ne: entries in the journal; N!: problems found")
        text.append("\nTimeline: ", "bold").append("replay", SECTION_STYLE)
        text.append(" (what the runtime sent from the stored journal), then ")
        text.append("processing", SECTION_STYLE).append(" (what this attempt did)")
        text.append("\n\nescape, q or ? closes this help.", "dim")
        yield Static(text, id="help")


class SearchScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query_text = query

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(Text("Search type names, field values and payload text", "bold"))
            yield Input(self.query_text, placeholder="text to find", id="search-input")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class FilterScreen(ModalScreen[Filter | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f", "dismiss", "Cancel"),
        *_VIM_KEYS,
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]

    def __init__(self, choices: list[Filter], active: Filter) -> None:
        super().__init__()
        self.choices = choices
        self.active = active

    def compose(self) -> ComposeResult:
        options = [
            Option(Text(("● " if c == self.active else "  ") + safe_text(c.label)))
            for c in self.choices
        ]
        with Vertical(id="filter-box"):
            yield Static(Text("Show in the timeline", "bold"))
            yield OptionList(*options, id="filter-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.choices.index(self.active)

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_first(self) -> None:
        self.query_one(OptionList).action_first()

    def action_last(self) -> None:
        self.query_one(OptionList).action_last()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])


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
