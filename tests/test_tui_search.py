"""The search thread's reading of the store: it finds a row in another attempt, tells how
far it got, and stops when cancelled."""

from __future__ import annotations

import pytest

from restate_inspect.tui import model, search
from restate_inspect.tui.search import Stopped, search_store
from restate_inspect.tui.state import BrowserState
from tests.helpers import sample_state


@pytest.fixture(scope="module")
def listed() -> BrowserState:
    return sample_state()


def test_a_search_finds_the_next_row_holding_the_text(listed: BrowserState) -> None:
    store = listed.opened.store
    target = next(s for s in listed.attempts if s.invocation.target == "Demo/sleepy")
    found = search_store(store, listed.attempts, "Demo/sleepy", (0, -1), lambda: False, print)
    assert found is not None
    attempt_at, row_at = found
    assert listed.attempts[attempt_at] is target  # the first attempt that holds it
    rows = listed.rows_of(target)
    assert "demo/sleepy" in model.row_text(rows[row_at], listed.attempt_of(target))
    assert (
        search_store(store, listed.attempts, "no such text", (0, -1), lambda: False, print) is None
    )


def test_a_search_tells_how_far_it_got_and_stops_when_cancelled(
    listed: BrowserState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "PROGRESS_SECONDS", 0.0)  # tell on every attempt
    told: list[str] = []
    read = 0

    def cancelled() -> bool:
        nonlocal read
        read += 1
        return read > 3

    store = listed.opened.store
    with pytest.raises(Stopped):
        search_store(store, listed.attempts, "no such text", (0, -1), cancelled, told.append)
    count = len(listed.attempts)
    assert told == [
        f"searching: no such text, {n:,} of {count:,} attempts (esc stops)" for n in (1, 2, 3)
    ]
