"""What the app shows, without widgets: the invocations listed, the attempt selected and
its rows under the filter, and the invocations lately read back from the store. No rich or
textual here, as in model: tests drive it without a screen."""

from __future__ import annotations

from typing import Final

from restate_inspect.protocol.attempt import Attempt
from restate_inspect.rules import Problem, Severity
from restate_inspect.tui import model
from restate_inspect.tui.model import EVERYTHING, Filter, Row
from restate_inspect.tui.store import InvocationStore, Opened, OpenedCache, Selected, Summary

OPENED_CACHED: Final = 32  # invocations read back from the store and kept, with their rows


class BrowserState:
    """The invocations pane's list, the selected attempt and its visible rows."""

    def __init__(self, store: InvocationStore) -> None:
        self.opened = OpenedCache(store, OPENED_CACHED)
        self.invocations: list[Summary] = []
        self.attempts: list[Selected] = []  # in the invocations pane's order
        self.capture_problems: list[Problem] = []  # outside any invocation
        self.problem_total = 0  # in the invocations
        self.worst: Severity | None = None  # of those and the capture's
        self.selected: Selected | None = None
        self.rows: list[Row] = []  # of the selected attempt, filtered
        self.active_filter: Filter = EVERYTHING

    def add(self, invocation: Summary) -> list[Selected]:
        """A decoded invocation, and its attempts as the pane lists them."""
        self.invocations.append(invocation)
        self.problem_total += invocation.problems
        self.worst = model.worst_of((self.worst, invocation.worst))
        first = len(self.attempts)
        count = len(invocation.attempts)
        self.attempts += [Selected(invocation, i, first + i) for i in range(count)]
        return self.attempts[first:]

    def listed(self, invocation: Summary) -> bool:
        """Whether the invocations pane lists it: the problems filter leaves some out."""
        return self.active_filter.kind != "problems" or bool(invocation.problems)

    def opened_of(self, selected: Selected) -> Opened:
        """The attempt's invocation, read back from the store unless it was lately. The
        one selected stays: the rows shown point into it."""
        shown = self.selected.invocation.place if self.selected is not None else None
        return self.opened.get(selected.invocation.place, keep=shown)

    def attempt_of(self, selected: Selected) -> Attempt:
        return self.opened_of(selected).attempt(selected.index)

    def rows_of(self, selected: Selected) -> list[Row]:
        return self.opened_of(selected).rows_of(selected.index)

    def select(self, selected: Selected) -> None:
        self.selected = selected
        self.rows = model.visible(self.rows_of(selected), self.active_filter)

    def row_at(self, at: int) -> Row | None:
        return self.rows[at] if 0 <= at < len(self.rows) else None

    def problem_elsewhere(self, forward: bool) -> tuple[Selected, Row] | None:
        """The first problem of the next attempt that has one (forward), or the last
        problem of the previous one."""
        if self.selected is None:
            return None
        start = self.selected.position
        others = self.attempts[start + 1 :] if forward else self.attempts[:start][::-1]
        for selected in others:
            if selected.attempt.problems:
                rows = [r for r in self.rows_of(selected) if r.problems]
                return selected, rows[0] if forward else rows[-1]
        return None

    def first_problem_listed(self) -> tuple[Selected, Row] | None:
        """The first problem of the first attempt listed that has problems."""
        for selected in self.attempts:
            if self.listed(selected.invocation) and selected.attempt.problems:
                return selected, next(r for r in self.rows_of(selected) if r.problems)
        return None

    def set_filter(self, chosen: Filter) -> bool:
        """Whether the invocations pane must list again: the problems filter lists only
        what has problems."""
        kinds = (chosen.kind, self.active_filter.kind)
        relist = "problems" in kinds and chosen != self.active_filter
        self.active_filter = chosen
        return relist

    def filter_choices(self) -> list[Filter]:
        if self.selected is None:
            return []
        choices = model.filter_choices(self.rows_of(self.selected))
        if self.active_filter not in choices:
            choices.append(self.active_filter)
        return choices

    def final_message(self, failure: str | None) -> str:
        if failure:
            return f"stopped: {failure}"
        if not self.invocations:
            return "no Restate invocation in this input"
        found = len(self.capture_problems)
        return "decoded" + (f"; {found} problems outside any invocation" if found else "")
