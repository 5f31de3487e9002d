"""The TUI's screens over the main one: the help, the search box and the filter's choices.
Each owns its look."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from restate_inspect.location import Direction
from restate_inspect.render.text import DIRECTION_STYLES
from restate_inspect.tui.looks import KEYS, SECTION_STYLE, STATUS_STYLES
from restate_inspect.tui.model import Filter
from restate_inspect.tui.widgets import VIM_KEYS
from restate_inspect.values import safe_text


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 100; max-width: 95%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface; }
    """
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
    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    #search-box { width: 64; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface; }
    """
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
    DEFAULT_CSS = """
    FilterScreen { align: center middle; }
    #filter-box { width: 64; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface; }
    #filter-options { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f", "dismiss", "Cancel"),
        *VIM_KEYS,
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
