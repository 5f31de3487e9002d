"""The V4-V8 journal model: commands by index, completion ids linked to the notifications
that answer them, signals, a Run's proposal and ack, what the attempt waits on, how it
ended, and what a later replay or another invocation is compared or linked with."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v4.journal import AttemptJournal, Entry
from restate_inspect.values import SIGNAL_PREFIX, awakeable_id
from tests.attempts import R, S, Step, built
from tests.v4_frames import (
    CLEAN,
    END,
    ID,
    INPUT,
    OUTPUT,
    RAN,
    RUN_ACK,
    SET,
    SLEPT,
    attempt,
    error,
    journal_of,
    pb,
    pb7,
    run,
    signal,
    sleep,
    slept,
    start,
    suspension,
    v7,
    v7_run,
    value,
)

journal = journal_of


def test_commands_are_numbered_and_their_ids_linked_to_the_notifications() -> None:
    sleeping = journal(*SLEPT)
    command = sleeping.commands[1]
    (answer,) = command.answers
    assert (command.name, command.completion_ids, command.completable) == (
        "SleepCommandMessage",
        (1,),
        True,
    )
    assert answer.answering is command and command.completed_by == "notification"
    assert [c.command_index for c in sleeping.commands] == [0, 1, 2]
    assert sleeping.by_id == {1: command}


def test_a_run_is_completed_by_its_notification_or_by_the_ack_of_its_proposal() -> None:
    v6 = journal(*RAN).commands[1]
    assert v6.proposal is not None and v6.completed_by == "notification"
    (invocation,) = built(v7(*v7_run(RUN_ACK)))
    acked = invocation.attempts[0].commands[1]  # type: ignore[attr-defined]
    assert acked.completed_by == "ack" and acked.completion is acked.ack


def test_an_ack_for_a_run_that_proposed_nothing_is_kept_by_no_command() -> None:
    steps = [(R, start(schema=pb7)), (R, INPUT), (S, run()), (R, RUN_ACK), (S, OUTPUT), (S, END)]
    (invocation,) = built(v7(*steps))
    assert invocation.attempts[0].commands[1].ack is None  # type: ignore[attr-defined]


def test_a_command_ack_beyond_the_commands_is_kept_by_none() -> None:
    ack = encode_frame(0x0004, pb.CommandAckMessage(command_index=7))
    acked = journal(*CLEAN[:2], (R, ack), *CLEAN[2:])
    assert all(c.ack is None for c in acked.commands)


def test_an_entry_without_a_message_or_ids_has_neither_name_nor_completion() -> None:
    entry = journal(*CLEAN).commands[0]
    assert (entry.completion, entry.completed_by, entry.entry_name) == (None, None, "")
    assert not entry.linkable and not entry.completable
    assert entry.comparable_key() == entry.comparable_key() == entry.replay_key


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        (CLEAN, "end"),
        (CLEAN[:3], "no terminal message"),
        ([*SLEPT[:3], (S, suspension(1, signals=(1,)))], "suspended on completion #1 (#1 Sleep), "
                                                        "signal 1 (CANCEL)"),
        ([*CLEAN[:2], (S, error(500, next_retry_delay=200))], "error 500 (retry in 200 ms)"),
        ([*CLEAN[:2], (S, encode_frame(0x0401, pb.OutputCommandMessage(
            failure=pb.Failure(code=409)))), (S, END)], "failed 409"),
    ],
)  # fmt: skip
def test_how_an_attempt_ended_in_a_few_words(steps: list[Step], text: str) -> None:
    assert journal(*steps).ending_text == text


@pytest.mark.parametrize(
    ("behavior", "text"), [(1, "paused (error 570)"), (2, "failed (error 570)")]
)
def test_a_v7_error_says_whether_it_pauses_or_fails(behavior: int, text: str) -> None:
    failing = encode_frame(0x0002, pb7.ErrorMessage(code=570, behavior=behavior))  # type: ignore[arg-type]
    (invocation,) = built(v7((R, start(schema=pb7)), (R, INPUT), (S, failing)))
    assert invocation.attempts[0].ending_text == text


def test_a_version_no_family_reads_is_not_interpreted() -> None:
    (invocation,) = built(attempt(*CLEAN, content_type="application/vnd.restate.invocation.v9"))
    assert invocation.attempts[0].ending_text == "not interpreted (protocol V9)"


def test_the_related_command_and_the_owner_of_an_id_in_words() -> None:
    sleeping = journal(*SLEPT[:3], (S, error(500, related_command_index=1)))
    assert sleeping.related_command(sleeping.error) == "#1 Sleep"
    assert sleeping.owner(1) == "#1 Sleep" and sleeping.owner(9) is None
    typed = pb.ErrorMessage(code=500, related_command_type=0x0411, related_command_name="r")
    assert sleeping.related_command(typed) == "Run 'r'"
    assert sleeping.related_command(pb.ErrorMessage(related_command_type=0x0FFF)) == "type 0x0fff"
    assert sleeping.related_command(pb.ErrorMessage()) == ""


def test_without_the_replay_the_sdks_commands_have_no_index() -> None:
    alone = journal((S, sleep()), (S, OUTPUT), (S, END), http=None)
    (command,) = [e for e in alone.entries.values() if e.frame.type == 0x040C]
    assert command.command_index is None and alone.owner(1) == "Sleep"


def test_signals_by_index_or_name_and_the_signal_a_send_sends() -> None:
    named = signal(name="approved", value=value("yes"))
    send = encode_frame(0x0410, pb.SendSignalCommandMessage(target_invocation_id="inv_x", idx=1,
                                                            void=pb.Void()))  # fmt: skip
    nameless = encode_frame(0x0410, pb.SendSignalCommandMessage(target_invocation_id="inv_x"))
    signalled = journal(*CLEAN[:2], (R, named), (S, send), (S, nameless), *CLEAN[2:])
    assert list(signalled.signals) == ["approved"]
    assert [c.signal for c in signalled.commands[1:3]] == [1, None]
    received, sent = signalled.linkables()
    assert (received.token[1], received.sends, sent.token, sent.sends) == (
        "approved", False, ("inv_x", 1), True,
    )  # fmt: skip
    assert received.label == "signal 'approved'" and received.verb == "sent by"


def test_a_cancel_sent_to_another_invocation_is_linked_to_the_signal_it_receives() -> None:
    other = bytes(reversed(ID))
    child = encode_frame(0x0000, pb.StartMessage(id=other, debug_id="inv_child", known_entries=1))
    from restate_inspect.values import invocation_id_text

    target = invocation_id_text(other) or ""
    cancel = encode_frame(0x0410, pb.SendSignalCommandMessage(target_invocation_id=target, idx=1,
                                                              void=pb.Void()))  # fmt: skip
    parent = attempt(*CLEAN[:2], (S, cancel), *CLEAN[2:])
    cancelled = attempt((R, child), (R, INPUT), (R, signal(idx=1, void=pb.Void())), *CLEAN[2:],
                        stream="s3")  # fmt: skip
    links = [link for i in built(parent, cancelled) for a in i.attempts
             for e in a.entries.values() for link in e.links]  # fmt: skip
    assert sorted(link.split(" ")[0] for link in links) == ["sent", "signals"]


def _completes(awakeable: str) -> bytes:
    message = pb.CompleteAwakeableCommandMessage(awakeable_id=awakeable, value=value("x"))
    return encode_frame(0x0414, message)


def test_an_awakeable_id_that_is_no_signal_links_nothing() -> None:
    promise_id = awakeable_id(ID, 3)  # prom_1: a V1-V3 awakeable
    assert list(journal(*CLEAN[:2], (S, _completes(promise_id)), *CLEAN[2:]).linkables()) == []
    signal_id = awakeable_id(ID, 17, SIGNAL_PREFIX)
    (link,) = journal(*CLEAN[:2], (S, _completes(signal_id)), *CLEAN[2:]).linkables()
    assert link.sends and link.token[1] == 17


def test_replayable_entries_are_the_commands_by_index() -> None:
    replay = journal((R, start(3)), (R, INPUT), (R, SET), (R, slept()), (S, OUTPUT), (S, END))
    positions = [(position, entry.replayed) for _m, position, entry in replay.replayable()]
    assert positions == [(0, True), (1, True), (2, False)]


def test_an_entry_of_a_frame_is_found_by_its_direction_and_offset() -> None:
    sleeping = journal(*SLEPT)
    for entry in sleeping.entries.values():
        assert sleeping.entry_of(entry.frame) is entry
    assert isinstance(next(iter(sleeping.entries.values())), Entry)


def _stored(
    rows: list[dict[str, object]], facts: Mapping[str, object] | None = None
) -> AttemptJournal:
    from restate_inspect.invocations import Invocation, invocations
    from restate_inspect.pipeline import decode_events
    from restate_inspect.readers.journaldump import dump_events

    events = dump_events(rows, {"inv_test": dict(facts)} if facts else None)
    (invocation,) = [i for i in invocations(decode_events(events)) if isinstance(i, Invocation)]
    attempt = invocation.attempts[0]
    assert isinstance(attempt, AttemptJournal)
    return attempt


def _row(index: int, entry_type: str, frame: bytes) -> dict[str, object]:
    return {"id": "inv_test", "index": index, "entry_type": entry_type, "raw": frame[8:].hex(),
            "version": 2}  # fmt: skip


def test_a_stored_journal_reads_as_the_replay_of_all_its_rows() -> None:
    rows = [
        _row(0, "Command: Input", INPUT),
        _row(1, "Command: Sleep", sleep()),
        _row(2, "Notification: Sleep", slept()),
        _row(3, "Command: Output", OUTPUT),
    ]
    stored = _stored(rows, {"status": "completed", "pinned_service_protocol_version": 6,
                            "target_service_key": "k", "retry_count": 2})  # fmt: skip
    assert stored.stored_journal is not None and stored.protocol_version == 6
    assert stored.all_findings() == [] and stored.ending_text == "completed"
    assert (stored.known_entries, stored.start.key, stored.version_read) == (4, "k", 6)
    assert stored.start.retry_count_since_last_stored_entry == 2
    assert all(e.replayed for e in stored.entries.values())
    waiting = _stored(rows[:2], {"status": "suspended"})
    assert waiting.ending_text == "waiting on #1 Sleep · status suspended"
    assert waiting.protocol_version is None and waiting.version_read == 7
    failed = encode_frame(0x0401, pb.OutputCommandMessage(failure=pb.Failure(code=409)))
    assert _stored([rows[0], _row(1, "Command: Output", failed)]).ending_text == "failed 409"
    assert _stored(rows[:1]).ending_text == "no output stored"


MISMATCH = (
    "[570 Journal mismatch] Found a mismatch between the code paths taken during the previous "
    "execution and the paths taken during this execution.\nThis typically happens when some "
    "parts of the code are non-deterministic."
)


def test_a_stored_570_or_571_is_said_as_the_sdk_s_error_on_the_wire_is() -> None:
    """For the one who has no capture: the runtime keeps the SDK's last error in the
    invocation's sys_invocation row while it retries."""
    rows = [_row(0, "Command: Input", INPUT), _row(1, "Command: Sleep", sleep())]
    facts: dict[str, object] = {"status": "backing-off", "last_failure": MISMATCH,
                                "last_failure_related_command_index": 1}  # fmt: skip
    (said,) = _stored(rows, facts).all_findings()
    assert (said.code, said.command_index, said.entry_index) == ("RI230", 1, None)
    assert said.message.startswith("the invocation's last failure (backing-off): ErrorMessage 570")
    assert said.message.endswith("; at command #1") and "\n" not in said.message
    violation = {
        "last_failure": "[571 Protocol violation] x",
        "last_failure_related_entry_index": 2,
    }
    (said,) = _stored(rows, violation).all_findings()
    assert (said.code, said.entry_index) == ("RI231", 2) and said.message.startswith(
        "the invocation's last failure (stored)"
    )
    assert said.message.endswith("; at entry #2")
    (said,) = _stored(rows, {"last_failure": "[570] y"}).all_findings()  # related to nothing
    assert said.message.endswith(": y (the SDK could not replay the journal: the code took "
                                 "another path than the journal)")  # fmt: skip
    for quiet in ({**facts, "status": "completed"}, {"last_failure": "[500 Internal] abort"},
                  {"last_failure": "no code"}, {"last_failure": 570}):  # fmt: skip
        assert _stored(rows, quiet).all_findings() == []


def test_a_stored_ending_without_an_output_is_what_sys_invocation_tells() -> None:
    """A killed invocation stores no Output: its row says how it completed."""
    rows = [_row(0, "Command: Input", INPUT)]
    tail = " · no output stored, as sys_invocation tells"
    for facts, ending in [
        (
            {"completion_result": "failure", "completion_failure": "[409] killed"},
            "failed 409 (killed)",
        ),
        ({"completion_result": "failure", "completion_failure": "[409]"}, "failed 409"),
        ({"completion_result": "failure"}, "failed"),
        ({"completion_result": "success", "status": "completed"}, "completed"),
    ]:
        assert _stored(rows, facts).ending_text == ending + tail


def test_a_stored_journal_missing_rows_is_no_replay_cut_short() -> None:
    rows = [_row(0, "Command: Input", INPUT), _row(1, "Command: Nope", b"\0" * 8)]
    stored = _stored(rows)
    assert [f.code for f in stored.all_findings()] == []  # RI009 says it, not RI203


def test_a_stored_rows_entry_type_names_its_message() -> None:
    from restate_inspect.protocol.v4 import FAMILY

    assert FAMILY.stored_type("Command: Call") == 0x040D
    assert FAMILY.stored_type("Notification: Call") == 0x800D
    assert FAMILY.stored_type("Notification: CallInvocationId") == 0x800E
    assert FAMILY.stored_type("Notification: Signal") == 0xFBFF
    assert FAMILY.stored_type("Event: Nope") is None and FAMILY.stored_type("Command: x") is None
    assert FAMILY.stored_flags(completed=True) == 0
