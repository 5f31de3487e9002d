"""What the TUI shows, without a screen, on the bundled sample: the invocation list's words,
an attempt's timeline in its sections, the jumps between an entry, its completion and its
ack, filters, search across attempts, and times."""

from __future__ import annotations

from functools import cache

from restate_inspect.events import DecodedFrame
from restate_inspect.invocations import Invocation
from restate_inspect.location import Direction
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.tui import model
from restate_inspect.tui.model import FRAME, SECTION, Filter
from tests.helpers import sample_invocations


@cache
def _by_title() -> dict[str, Invocation]:
    found: dict[str, Invocation] = {}
    for invocation in sample_invocations():
        found.setdefault(model.invocation_title(invocation), invocation)
    return found


def _attempt(title: str, number: int = 1) -> tuple[Attempt, list[model.Row]]:
    attempt = _by_title()[title].attempts[number - 1]
    return attempt, model.timeline_rows(attempt)


def _rows(title: str, number: int = 1) -> list[model.Row]:
    return _attempt(title, number)[1]


def _row(rows: list[model.Row], name: str) -> int:
    return next(
        i for i, row in enumerate(rows) if row.kind == FRAME and model.row_name(row) == name
    )


def test_the_invocation_list_says_how_each_ended_and_names_keyed_ones() -> None:
    invocations = _by_title()
    assert "Counter/set [k1]" in invocations and "Demo/greet" in invocations
    assert model.invocation_badges(invocations["Demo/flaky"]) == ["ended", "retried"]
    assert model.invocation_badges(invocations["Demo/terminal"]) == ["failed"]
    suspended = invocations["Demo/longSleep"].attempts[0]
    assert model.attempt_status(suspended) == "suspended"


def test_a_resumed_attempt_lists_its_replay_then_what_it_did() -> None:
    attempt, rows = _attempt("Demo/longSleep", 2)
    sections = [(i, row.title) for i, row in enumerate(rows) if row.kind == SECTION]
    assert sections[0] == (0, "replay · StartMessage and 3 stored entries")
    assert sections[1][1] == "processing · what this attempt did"
    replayed = [model.row_name(r) for r in rows[: sections[1][0]] if r.kind == FRAME]
    assert replayed == ["Start", "Input", "Run", "Sleep"]
    frames = [m.item.frame for m in attempt.timeline if isinstance(m.item, DecodedFrame)]
    assert [r.frame for r in rows if r.kind == FRAME] == frames  # each once, in order


def test_keys_jump_between_an_entry_its_completion_and_its_ack() -> None:
    rows = _rows("Demo/sleepy")
    sleep, completion = _row(rows, "Sleep"), _row(rows, "Completion")
    assert model.completion_of(rows, sleep) == completion
    assert model.entry_of(rows, completion) == sleep
    assert model.ack_of(rows, sleep) is None
    rows = _rows("Demo/sideEffect")
    run, ack = _row(rows, "Run"), _row(rows, "EntryAck")
    assert (model.ack_of(rows, run), model.entry_of(rows, ack)) == (ack, run)
    assert model.entry_of(rows, -1) is None and model.completion_of(rows, len(rows)) is None
    entries = [i for i, row in enumerate(rows) if model.is_entry_row(row)]
    assert model.step(rows, entries[0], True, model.is_entry_row) == entries[1]
    assert model.step(rows, entries[-1], True, model.is_entry_row) is None  # no wrapping


def test_filters_offered_and_what_each_keeps() -> None:
    rows = _rows("Demo/sideEffect")
    choices = model.filter_choices(rows)
    assert [f.label for f in choices[:5]] == [
        "everything",
        "problems only",
        "journal entries only",
        "runtime → SDK only",
        "SDK → runtime only",
    ]
    assert [f.value for f in choices[5:]] == [  # each type present, in order
        "EndMessage",
        "EntryAckMessage",
        "InputEntryMessage",
        "OutputEntryMessage",
        "RunEntryMessage",
        "StartMessage",
    ]
    runs = model.visible(rows, choices[-2])
    assert [model.row_name(r) for r in runs] == ["Run", "Run"]
    runtime = model.visible(rows, Filter("direction", Direction.RUNTIME_TO_SDK.value))
    assert runtime and all(
        r.frame and r.frame.direction is Direction.RUNTIME_TO_SDK for r in runtime
    )
    assert all(r.entry is not None for r in model.visible(rows, Filter("entries")))
    assert model.visible(rows, model.EVERYTHING) is rows
    assert model.visible(rows, Filter("problems")) == []


def test_search_goes_on_into_the_next_attempts_and_wraps_around() -> None:
    flaky = _by_title()["Demo/flaky"]
    timelines = [(a, model.timeline_rows(a)) for a in flaky.attempts]

    def found(query: str, at: tuple[int, int], forward: bool = True) -> tuple[int, int] | None:
        return model.search(len(timelines), timelines.__getitem__, query, at, forward)

    end = (2, _row(timelines[2][1], "End"))  # only the last attempt ended
    assert not [r for _a, rows in timelines[:2] for r in rows if model.row_name(r) == "End"]
    assert found("endmessage", (0, 0)) == end  # into the next attempts, any case
    assert found("EndMessage", end) == end  # all the way round to itself
    assert found("endmessage", (0, 0), forward=False) == end  # backwards, wrapping at once
    assert found("", (0, 0)) is None and found("no such text anywhere", (0, 0)) is None


def test_times_are_relative_to_the_first_frame_or_the_clock() -> None:
    rows = _rows("Demo/sleepy")
    started = model.first_time(rows)
    sleep, completion = rows[_row(rows, "Sleep")], rows[_row(rows, "Completion")]
    assert started is not None and sleep.decoded is not None and completion.frame is not None
    assert completion.frame.time is not None
    relative = model.time_text(completion, started, absolute=False)
    assert relative == f"{(completion.frame.time - started) * 1000:+.1f}ms"
    assert relative.startswith("+") and relative != "+0.0ms"
    assert model.time_text(completion, started, absolute=True).endswith("Z")
    frame = sleep.decoded.frame
    untimed = model.Row(FRAME, sleep.decoded._replace(frame=frame._replace(time=None)))
    assert model.time_text(untimed, started, absolute=False) == f"@{frame.offset:#x}"
    assert model.time_text(rows[0], started, absolute=False) == ""  # a section
