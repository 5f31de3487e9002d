"""What the TUI lists and selects, without a screen: attempts in the pane's order, the
problems filter's list, the selected attempt's visible rows, problems in other attempts."""

from __future__ import annotations

import pytest

from restate_inspect.rules import Severity
from restate_inspect.tui.model import EVERYTHING, Filter, worst_of
from restate_inspect.tui.state import OPENED_CACHED, BrowserState
from restate_inspect.tui.store import InvocationStore
from tests.helpers import sample_invocations, sample_state


@pytest.fixture(scope="module")
def state() -> BrowserState:
    return sample_state()


def test_attempts_are_listed_in_order_with_their_place_in_the_pane(state: BrowserState) -> None:
    assert len(state.invocations) == 32
    assert len(state.attempts) == sum(len(i.attempts) for i in state.invocations) > 32
    for position, selected in enumerate(state.attempts):
        assert selected.position == position
        assert selected.attempt is selected.invocation.attempts[selected.index]
    assert state.problem_total == sum(i.problems for i in state.invocations)


def test_the_gravest_severity_is_kept_for_each_count(state: BrowserState) -> None:
    """How a count of findings is shown: info alone is no alarm (the sample: info only)."""
    for invocation in state.invocations:
        severities = {a.worst for a in invocation.attempts} - {None}
        assert invocation.worst == worst_of(severities)
        assert (invocation.worst is None) == (invocation.problems == 0)
    assert state.worst is Severity.INFO
    assert worst_of([None, Severity.INFO, Severity.ERROR, Severity.WARNING]) is Severity.ERROR
    assert worst_of([Severity.INFO, Severity.WARNING]) is Severity.WARNING
    assert worst_of([None]) is None and worst_of([]) is None


def test_the_problems_filter_lists_only_invocations_with_problems() -> None:
    state = BrowserState(InvocationStore())
    assert state.set_filter(Filter("problems"))  # the pane lists again
    assert not state.set_filter(Filter("problems"))  # the same filter: nothing to do
    assert state.set_filter(Filter("entries"))  # back to listing all
    assert not state.set_filter(EVERYTHING)  # neither lists by problems
    with_problems = Filter("problems")
    state.set_filter(with_problems)
    store = InvocationStore()
    for invocation in sample_invocations():
        summary = store.add(invocation)
        assert state.listed(summary) == bool(summary.problems)


def test_selecting_an_attempt_shows_the_rows_the_filter_accepts(state: BrowserState) -> None:
    selected = next(s for s in state.attempts if s.attempt.problems)
    state.select(selected)
    everything = state.rows
    assert state.selected is selected and everything == state.rows_of(selected)
    state.active_filter = Filter("problems")
    state.select(selected)
    assert state.rows and state.rows == [r for r in everything if r.problems]
    assert state.row_at(0) is state.rows[0] and state.row_at(len(state.rows)) is None
    assert state.row_at(-1) is None
    assert Filter("problems") in state.filter_choices()
    state.active_filter = Filter("type", "NoSuchMessage")  # chosen in another attempt
    assert state.filter_choices()[-1] == state.active_filter  # offered, to keep or leave
    state.active_filter = EVERYTHING


def test_a_problem_in_another_attempt_is_found_going_either_way(state: BrowserState) -> None:
    with_problems = [s for s in state.attempts if s.attempt.problems]
    assert len(with_problems) >= 2
    first, last = with_problems[0], with_problems[-1]
    state.select(first)
    found = state.problem_elsewhere(forward=True)
    assert found is not None and found[0] is with_problems[1]
    assert found[1] is next(r for r in state.rows_of(found[0]) if r.problems)
    assert state.problem_elsewhere(forward=False) is None  # none before the first
    state.select(last)
    assert state.problem_elsewhere(forward=True) is None
    back = state.problem_elsewhere(forward=False)
    assert back is not None and back[0] is with_problems[-2]
    assert back[1] is [r for r in state.rows_of(back[0]) if r.problems][-1]


def test_under_the_problems_filter_the_first_problem_listed_is_found(
    state: BrowserState,
) -> None:
    state.active_filter = Filter("problems")
    found = state.first_problem_listed()
    state.active_filter = EVERYTHING
    first = next(s for s in state.attempts if s.attempt.problems)
    assert found is not None and found[0] is first
    assert found[1] is next(r for r in state.rows_of(first) if r.problems)


def test_the_invocation_shown_stays_read_back_while_others_come_and_go(
    state: BrowserState,
) -> None:
    state.select(state.attempts[0])
    shown = state.opened_of(state.attempts[0])
    for selected in state.attempts[1:]:
        state.opened_of(selected)
    assert len(state.opened.opened) == OPENED_CACHED
    assert state.opened_of(state.attempts[0]) is shown  # its rows point into this copy


def test_the_final_message_says_what_was_found() -> None:
    empty = BrowserState(InvocationStore())
    assert empty.final_message(None) == "no Restate invocation in this input"
    assert empty.final_message("boom") == "stopped: boom"
