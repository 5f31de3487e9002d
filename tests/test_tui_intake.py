"""What the decoding thread hands to the UI thread: summaries of stored invocations and
problems, in batches, the first invocation at once, beyond --max-invocations only counted."""

from __future__ import annotations

import time

import pytest

from restate_inspect.invocations import Invocation
from restate_inspect.rules import Problem
from restate_inspect.tui import intake
from restate_inspect.tui.intake import Intake
from restate_inspect.tui.store import InvocationStore, Summary
from tests.helpers import sample_invocations


def _decoded() -> list[Invocation]:
    return sample_invocations()


def test_invocations_are_stored_and_their_summaries_held_in_order() -> None:
    decoded = _decoded()
    store = InvocationStore()
    held = Intake(store, keep=100)
    problem = Problem("RI307", "a malformed packet", None, None)
    for invocation in decoded[:3]:
        held.hold(invocation, 0)
    held.hold(problem, 0)
    batch = held.take()
    assert [type(item) for item in batch] == [Summary, Summary, Summary, Problem]
    summaries = [item for item in batch if isinstance(item, Summary)]
    assert [s.invocation_id for s in summaries] == [i.invocation_id for i in decoded[:3]]
    assert store.load(summaries[1].place).invocation_id == decoded[1].invocation_id
    assert batch[-1] is problem
    assert held.take() == []  # taken once


def test_the_first_invocation_is_due_at_once_and_later_ones_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    decoded = _decoded()
    held = Intake(InvocationStore(), keep=100)
    assert not held.hold(Problem("RI307", "before any invocation", None, None), 0)
    assert held.hold(decoded[0], 0)  # the first invocation: at once
    held.take()
    assert not held.hold(decoded[1], 1)
    now[0] += intake.BATCH_SECONDS + 0.01
    assert held.due(1)
    # the wait grows with what is listed, as Textual's Tree measures every line again
    listed = 100_000
    assert not held.due(listed)
    now[0] += listed * intake.SECONDS_PER_LISTED
    assert held.hold(decoded[2], listed)
    held.take()
    assert not held.due(0)  # nothing held: nothing to take


def test_invocations_beyond_what_is_kept_are_only_counted() -> None:
    decoded = _decoded()
    store = InvocationStore()
    held = Intake(store, keep=2)
    for invocation in decoded[:5]:
        held.hold(invocation, 0)
    assert len(held.take()) == 2
    assert len(store) == 2
    assert held.dropped == 3
