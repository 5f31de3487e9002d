"""The V4-V8 journal as the renderers ask for it: where a frame stands, its badges, what it
leads to, and its JSON fields."""

from __future__ import annotations

from restate_inspect.events import DecodedFrame
from restate_inspect.framing import encode_frame
from restate_inspect.protocol import view_of
from restate_inspect.protocol.v4.entries import VIEW, attempt_fields, badges, waits
from restate_inspect.protocol.v4.journal import AttemptJournal
from tests.attempts import R, S, built
from tests.v4_frames import (
    CLEAN,
    END,
    INPUT,
    OUTPUT,
    RAN,
    REQUESTED_ACK,
    RUN_ACK,
    SLEPT,
    error,
    journal_of,
    pb,
    pb7,
    ran,
    run,
    signal,
    sleep,
    slept,
    start,
    suspension,
    v7,
    v7_run,
)


def rows(journal: AttemptJournal) -> list[tuple[DecodedFrame, object]]:
    return [(d, VIEW.entry_at(journal, d)) for d in journal.frames()]


def test_the_view_of_a_v4_attempt_is_the_v4_view() -> None:
    assert view_of(journal_of(*CLEAN)) is VIEW


def test_columns_name_the_command_the_completion_id_or_the_signal() -> None:
    named = signal(name="n", void=pb.Void())
    journal = journal_of(*SLEPT[:4], (R, signal(idx=1, void=pb.Void())), (R, named), *SLEPT[4:])
    columns = [VIEW.column(d, e) for d, e in rows(journal)]  # type: ignore[arg-type]
    assert columns == ["", "#0", "#1", "id1", "sig1", "sig", "#2", ""]


def test_badges_say_completed_with_latency_pending_awaited_and_acks() -> None:
    journal = journal_of(*SLEPT)
    assert badges(journal.commands[1]) == ["completed +1.0ms"]
    waiting = journal_of(*SLEPT[:3], (S, suspension(1)))
    assert badges(waiting.commands[1]) == ["pending", "awaited"]
    acking = encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k"), REQUESTED_ACK)
    ack = encode_frame(0x0004, pb.CommandAckMessage(command_index=1))
    assert badges(journal_of(*CLEAN[:2], (S, acking), *CLEAN[2:]).commands[1]) == ["awaiting ack"]
    acked = journal_of(*CLEAN[:2], (S, acking), (R, ack), *CLEAN[2:])
    assert badges(acked.commands[1]) == ["acked"]
    replay = journal_of((R, start(3)), (R, INPUT), (R, sleep()), (R, slept()), *CLEAN[2:])
    assert badges(replay.commands[1]) == ["replayed", "completed"]  # no latency: both stored
    (invocation,) = built(v7(*v7_run(RUN_ACK)))
    first = invocation.attempts[0]
    assert isinstance(first, AttemptJournal)
    assert badges(first.commands[1]) == ["completed by ack +2.0ms"]


def test_a_frame_leads_to_its_command_its_answers_and_its_ack() -> None:
    journal = journal_of(*RAN)
    by_frame = {d.frame.type: (d, e) for d, e in rows(journal)}
    run_row, proposal_row, answer_row = by_frame[0x0411], by_frame[0x0005], by_frame[0x8011]
    assert VIEW.named(journal, *proposal_row) is run_row[0].frame  # type: ignore[arg-type]
    assert VIEW.named(journal, *answer_row) is run_row[0].frame  # type: ignore[arg-type]
    assert VIEW.answer(journal, *run_row) is answer_row[0].frame  # type: ignore[arg-type]
    assert VIEW.answer(journal, *proposal_row) is None  # type: ignore[arg-type]
    assert VIEW.relations(journal, *run_row) == [  # type: ignore[arg-type]
        "answered by RunCompletionNotificationMessage at +2.0 ms",
        "result proposed at +1.0 ms",
    ]
    assert VIEW.relations(journal, *proposal_row) == ["about #1 RunCommandMessage at -1.0 ms"]  # type: ignore[arg-type]
    assert VIEW.relations(journal, *answer_row) == ["answers #1 RunCommandMessage at -2.0 ms"]  # type: ignore[arg-type]
    start_row = rows(journal)[0]
    assert VIEW.named(journal, *start_row) is None  # type: ignore[arg-type]
    assert VIEW.relations(journal, *start_row) == []  # type: ignore[arg-type]


def test_acks_lead_to_what_they_ack() -> None:
    acking = encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k"), REQUESTED_ACK)
    ack = encode_frame(0x0004, pb.CommandAckMessage(command_index=1))
    journal = journal_of(*CLEAN[:2], (S, acking), (R, ack), *CLEAN[2:])
    (set_row, ack_row) = [(d, e) for d, e in rows(journal) if d.frame.type in (0x0403, 0x0004)]
    assert VIEW.named(journal, *ack_row) is set_row[0].frame  # type: ignore[arg-type]
    assert VIEW.relations(journal, *set_row) == ["acked by CommandAckMessage at +1.0 ms"]  # type: ignore[arg-type]
    unacked = journal_of(*CLEAN[:2], (S, acking), *CLEAN[2:])
    (row,) = [(d, e) for d, e in rows(unacked) if d.frame.type == 0x0403]
    assert VIEW.relations(unacked, *row) == ["REQUESTED_ACK, and no CommandAck came"]  # type: ignore[arg-type]
    (invocation,) = built(v7(*v7_run(RUN_ACK)))
    first = invocation.attempts[0]
    assert isinstance(first, AttemptJournal)
    (ack_row,) = [(d, e) for d, e in rows(first) if d.frame.type == 0x0007]
    assert VIEW.named(first, *ack_row) is first.commands[1].frame  # type: ignore[arg-type]
    broken = journal_of(*CLEAN[:2], (R, encode_frame(0x0004, b"\xff")), *CLEAN[2:])
    (broken_row,) = [(d, e) for d, e in rows(broken) if d.frame.type == 0x0004]
    assert VIEW.named(broken, *broken_row) is None  # type: ignore[arg-type]


def test_a_pending_awaited_command_and_a_replayed_run() -> None:
    waiting = journal_of(*SLEPT[:3], (S, suspension(1)))
    (row,) = [(d, e) for d, e in rows(waiting) if d.frame.type == 0x040C]
    assert VIEW.relations(waiting, *row) == [  # type: ignore[arg-type]
        "not completed in this attempt",
        "awaited: the attempt waits on it",
    ]
    again = journal_of((R, start(2)), (R, INPUT), (R, run()), *RAN[3:])
    (row,) = [(d, e) for d, e in rows(again) if d.frame.type == 0x0411]
    assert VIEW.relations(again, *row)[-1] == (  # type: ignore[arg-type]
        "replayed without its result: it runs again in this attempt"
    )
    stored = journal_of((R, start(3)), (R, INPUT), (R, run()), (R, ran()), *CLEAN[2:])
    (row,) = [(d, e) for d, e in rows(stored) if d.frame.type == 0x0411]
    assert VIEW.relations(stored, *row)[-1] == "replayed with its result: it does not run again"  # type: ignore[arg-type]


def test_entry_records_carry_ids_signals_and_annotations() -> None:
    named = signal(name="n", void=pb.Void())
    journal = journal_of(*SLEPT[:4], (R, named), *SLEPT[4:])
    entries = VIEW.entries(journal)
    assert [e.command_index for e in entries] == [0, 1, 2, None, None]
    sleep_fields = VIEW.entry_fields(entries[1])
    assert sleep_fields["completion_ids"] == [1] and sleep_fields["completed_by"] == "notification"
    assert VIEW.entry_fields(entries[3])["completion_id"] == 1
    assert VIEW.entry_fields(entries[4])["signal_name"] == "n"
    assert VIEW.entry_annotations(entries[1], journal) == {
        "completion_ms": 1.0,
        "wake_up_time": "1970-01-01T00:00:00.001Z",
    }
    assert VIEW.entry_annotations(entries[3], journal) == {"answers_command": 1}
    ran_journal = journal_of(*RAN)
    assert VIEW.entry_annotations(ran_journal.commands[1], ran_journal)["proposed"] is True


def test_attempt_fields_say_what_it_waits_on_and_how_it_failed() -> None:
    waiting = journal_of(*SLEPT[:3], (S, suspension(1, 7, signals=(1,))))
    assert attempt_fields(waiting)["suspended_on"] == {
        "text": "completion #1 (#1 Sleep), completion #7, signal 1 (CANCEL)",
        "completion_ids": [1, 7],
        "signal_indexes": [1],
        "signal_names": [],
        "command_indexes": [1, None],
    }
    failing = journal_of(*CLEAN[:2], (S, error(500, related_command_index=0, next_retry_delay=9)))
    fields = attempt_fields(failing)
    assert fields["suspended_on"] is None
    assert fields["error"]["related_command"] == "#0 Input"
    assert (fields["error"]["retry_in_ms"], fields["error"]["ending"]) == (
        9,
        "error 500 (retry in 9 ms)",
    )
    assert attempt_fields(journal_of(*CLEAN)) == {"suspended_on": None, "error": None}


def test_a_v7_wait_tree_is_flattened_to_its_leaves() -> None:
    tree = pb7.Future(
        waiting_signals=[1],
        nested_futures=[pb7.Future(waiting_completions=[1], waiting_named_signals=["x"])],
    )
    suspended = encode_frame(0x0001, pb7.SuspensionMessage(awaiting_on=tree))
    (invocation,) = built(v7((R, start(schema=pb7)), (R, INPUT), (S, sleep()), (S, suspended)))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal) and journal.end_frame is not None
    leaves = waits(journal.end_frame.message, journal)
    assert (leaves["completion_ids"], leaves["signal_indexes"], leaves["signal_names"]) == (
        [1], [1], ["x"],
    )  # fmt: skip
    assert journal.ending_text.startswith("suspended on ")


def test_in_a_pair_of_files_a_frame_is_placed_by_its_offset() -> None:
    journal = journal_of(*RAN, http=None)
    (row,) = [(d, e) for d, e in rows(journal) if d.frame.type == 0x8011]
    assert VIEW.relations(journal, *row) == ["answers #1 RunCommandMessage at offset 0x0"]  # type: ignore[arg-type]


def test_links_to_other_invocations_are_annotations_too() -> None:
    journal = journal_of(*CLEAN)
    journal.commands[0].links.append("completed by inv_x command 1")
    assert VIEW.entry_annotations(journal.commands[0], journal) == {
        "links": ["completed by inv_x command 1"]
    }


def test_a_wait_leads_to_what_answered_it_and_a_signal_back_to_the_wait() -> None:
    waiting = encode_frame(0x0006, pb7.AwaitingOnMessage(
        awaiting_on=pb7.Future(waiting_signals=[17], waiting_completions=[1])))  # fmt: skip
    steps = [(R, start(schema=pb7)), (R, INPUT), (S, sleep()), (S, waiting),
             (R, signal(idx=17, void=pb.Void())), (R, slept()), (S, OUTPUT), (S, END)]  # fmt: skip
    (invocation,) = built(v7(*steps))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    by_type = {d.frame.type: (d, e) for d, e in rows(journal)}
    wait, answered = by_type[0x0006], by_type[0xFBFF]
    assert VIEW.answer(journal, *wait) is answered[0].frame  # type: ignore[arg-type]
    assert VIEW.named(journal, *answered) is wait[0].frame  # type: ignore[arg-type]
    assert VIEW.named(journal, *wait) is None  # type: ignore[arg-type]
    lonely = journal_of(*CLEAN[:2], (R, signal(idx=17, void=pb.Void())), *CLEAN[2:])
    (row,) = [(d, e) for d, e in rows(lonely) if d.frame.type == 0xFBFF]
    assert VIEW.named(lonely, *row) is row[0].frame  # type: ignore[arg-type]
    unanswered = journal_of(*SLEPT[:3], (S, suspension(1)))
    (row,) = [(d, e) for d, e in rows(unanswered) if d.frame.type == 0x0001]
    assert VIEW.answer(unanswered, *row) is None  # type: ignore[arg-type]


def test_a_wait_is_answered_by_what_it_waits_on_not_by_what_comes_first() -> None:
    waiting = encode_frame(0x0006, pb7.AwaitingOnMessage(awaiting_on=pb7.Future(
        waiting_completions=[2])))  # fmt: skip
    steps = [(R, start(schema=pb7)), (R, INPUT), (S, sleep(1)), (S, sleep(2)), (S, waiting),
             (R, slept(1)), (R, slept(2)), (S, OUTPUT), (S, END)]  # fmt: skip
    (invocation,) = built(v7(*steps))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    wait = next((d, e) for d, e in rows(journal) if d.frame.type == 0x0006)
    answer = VIEW.answer(journal, *wait)  # type: ignore[arg-type]
    assert answer is not None and answer.message.completion_id == 2  # type: ignore[union-attr]


def test_the_wait_tree_shows_each_id_with_its_command_and_state() -> None:
    from restate_inspect.protocol.v4.entries import wait_tree

    tree = pb7.Future(combinator_type=2, waiting_signals=[1], nested_futures=[  # type: ignore[arg-type]
        pb7.Future(waiting_completions=[1, 5], waiting_named_signals=["go"])])  # fmt: skip
    suspended = encode_frame(0x0001, pb7.SuspensionMessage(awaiting_on=tree))
    steps = [(R, start(schema=pb7)), (R, INPUT), (S, sleep()), (R, slept()), (S, suspended)]
    (invocation,) = built(v7(*steps))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    wait = next(d for d in journal.frames() if d.frame.type == 0x0001)
    assert wait_tree(journal, wait) == [
        "all of",
        "  signal 1 (CANCEL) · open",
        "  first of",
        "    completion #1 · #1 Sleep · answered",
        "    completion #5 · allocated by no command seen · open",
        "    signal 'go' · open",
    ]
    flat = journal_of(*SLEPT[:3], (R, signal(idx=1, void=pb.Void())),
                      (S, suspension(1, signals=(1,))))  # fmt: skip
    wait = next(d for d in flat.frames() if d.frame.type == 0x0001)
    assert wait_tree(flat, wait) == [
        "any of", "  completion #1 · #1 Sleep · open", "  signal 1 (CANCEL) · received",
    ]  # fmt: skip
    assert wait_tree(flat, next(flat.frames())) == []
    empty = journal_of(*SLEPT[:3], (S, encode_frame(0x0001, pb.SuspensionMessage())))
    (invocation,) = built(v7((R, start(schema=pb7)), (R, INPUT),
                             (S, encode_frame(0x0001, pb7.SuspensionMessage()))))  # fmt: skip
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    assert wait_tree(journal, list(journal.frames())[-1]) == []
    assert wait_tree(empty, list(empty.frames())[-1]) == ["any of"]
