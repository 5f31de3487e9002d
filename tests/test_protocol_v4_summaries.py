"""V4-V8 frames in one line, as the journal timeline shows them, and their short names."""

from __future__ import annotations

import pytest

from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v4.journal import AttemptJournal
from restate_inspect.protocol.v4.summaries import result_text, short_name, summary
from restate_inspect.values import SIGNAL_PREFIX, awakeable_id
from tests.attempts import R, S, Step, built
from tests.v4_frames import (
    CLEAN,
    ID,
    INPUT,
    RAN,
    SLEPT,
    attempt,
    error,
    pb,
    pb7,
    propose,
    ran,
    signal,
    start,
    v7,
    value,
)


def lines(*steps: Step) -> list[str]:
    """Each frame's summary, in the order they happened."""
    (invocation,) = built(attempt(*steps))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    return [
        summary(decoded.frame, journal.entry_of(decoded.frame), journal)
        for decoded in journal.frames()
    ]


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("CallCommandMessage", "Call"),
        ("CallCompletionNotificationMessage", "CallResult"),
        ("CallInvocationIdCompletionNotificationMessage", "CallInvocationId"),
        ("SignalNotificationMessage", "Signal"),
        ("SuspensionMessage", "Suspension"),
        ("Message", "Message"),
        (None, "?"),
    ],
)
def test_short_names(name: str | None, short: str) -> None:
    assert short_name(name) == short


def test_a_sleep_and_its_answer() -> None:
    assert lines(*SLEPT) == [
        "inv_test · known_entries 1",
        '"in"',
        "until 1970-01-01T00:00:00.001Z",
        "(void) (for #1)",
        '"out"',
        "",
    ]


def test_a_run_its_proposal_and_its_answer() -> None:
    assert lines(*RAN)[2:5] == ["", "completion #1 ← 1", "1 (for #1)"]
    failed = propose(failure=pb.Failure(code=500, message="no"))
    assert (
        lines(*RAN[:3], (S, failed))[3] == "completion #1 ← failure 500 INTERNAL_SERVER_ERROR: no"
    )


def test_state_calls_and_results() -> None:
    steps: list[Step] = [
        (S, encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k", value=value("1")))),
        (S, encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k"))),
        (S, encode_frame(0x0407, pb.GetEagerStateCommandMessage(key=b"k", void=pb.Void()))),
        (S, encode_frame(0x0408, pb.GetEagerStateKeysCommandMessage(
            value=pb.StateKeys(keys=[b"a", b"b"])))),
        (S, encode_frame(0x0409, pb.GetPromiseCommandMessage(key="p", result_completion_id=1))),
        (S, encode_frame(0x040D, pb.CallCommandMessage(
            service_name="S", handler_name="h", key="k", parameter=b"1", idempotency_key="i",
            invocation_id_notification_idx=2, result_completion_id=3))),
        (S, encode_frame(0x040E, pb.OneWayCallCommandMessage(
            service_name="S", handler_name="h", invoke_time=1, invocation_id_notification_idx=4))),
        (S, encode_frame(0x0410, pb.SendSignalCommandMessage(target_invocation_id="inv_x",
                                                             name="go", void=pb.Void()))),
        (S, encode_frame(0x0410, pb.SendSignalCommandMessage(target_invocation_id="inv_x"))),
        (R, encode_frame(0x800E, pb.CallInvocationIdCompletionNotificationMessage(
            completion_id=2, invocation_id="inv_y"))),
    ]  # fmt: skip
    assert lines(*CLEAN[:2], *steps, *CLEAN[2:])[2:12] == [
        '"k" = 1',
        '"k" = ',
        '"k" → (void)',
        'keys "a", "b"',
        "'p'",
        "S/h [k](1) idempotency key 'i'",
        "S/h((empty)) at 1970-01-01T00:00:00.001Z",
        "signal 'go' to inv_x ← (void)",
        "no signal id to inv_x ← ",
        "inv_y (for #6)",
    ]


def test_signals_awakeables_acks_and_waits() -> None:
    to_signal = awakeable_id(ID, 17, SIGNAL_PREFIX)
    to_entry = awakeable_id(ID, 4)
    steps: list[Step] = [
        (R, signal(idx=1, void=pb.Void())),
        (S, encode_frame(0x0414, pb.CompleteAwakeableCommandMessage(awakeable_id=to_signal,
                                                                    value=value("x")))),
        (S, encode_frame(0x0414, pb.CompleteAwakeableCommandMessage(awakeable_id=to_entry))),
        (S, encode_frame(0x0414, pb.CompleteAwakeableCommandMessage(awakeable_id="nope"))),
        (R, encode_frame(0x0004, pb.CommandAckMessage(command_index=1))),
        (S, encode_frame(0x0001, pb.SuspensionMessage(waiting_completions=[9]))),
    ]  # fmt: skip
    said = lines(*CLEAN[:2], *steps)[2:]
    assert said[0] == "signal 1 (CANCEL) ← (void)"
    assert said[1].endswith(" signal 17 ← 1") is False and said[1].endswith('signal 17 ← "x"')
    assert said[2].endswith(" #4 ← ") and said[3] == "nope ← "
    assert said[4:] == ["acks #1", "waits on completion #9"]


def test_a_start_with_its_retry_and_state() -> None:
    message = pb.StartMessage(
        id=ID, debug_id="inv_test", known_entries=1, key="k",
        retry_count_since_last_stored_entry=2, duration_since_last_stored_entry=1500,
        state_map=[pb.StartMessage.StateEntry(key=b"a", value=b"1")] * 2,
    )  # fmt: skip
    (line,) = lines((R, encode_frame(0x0000, message)))
    words = "inv_test · known_entries 1 · key 'k' · retry 2 · 1.5 s since last stored"
    assert line == words + " · 2 state entries"


def test_errors_say_what_they_relate_to_and_what_comes_next() -> None:
    related = error(500, related_command_index=0, next_retry_delay=50)
    assert lines(*CLEAN[:2], (S, related))[2] == (
        "500 INTERNAL_SERVER_ERROR: boom · at #0 Input · error 500 (retry in 50 ms)"
    )
    bare = encode_frame(0x0002, pb.ErrorMessage(code=599))
    assert lines(*CLEAN[:2], (S, bare))[2] == "599"
    paused = encode_frame(0x0002, pb7.ErrorMessage(code=570, message="x", behavior=1))  # type: ignore[arg-type]
    (invocation,) = built(v7((R, start(schema=pb7)), (R, INPUT), (S, paused)))
    journal = invocation.attempts[0]
    assert isinstance(journal, AttemptJournal)
    frame = list(journal.frames())[2].frame
    assert summary(frame, None, journal).endswith("· paused (error 570)")


def test_a_mismatch_names_the_journal_s_command_and_the_code_s() -> None:
    """sdk-shared-core's 570: related_command_type is what the code does at that index now;
    the journal there holds what an earlier attempt did."""
    named = encode_frame(0x0411, pb.RunCommandMessage(result_completion_id=1, name="first"))
    replayed = [(R, start(known=3)), (R, INPUT), (R, named), (R, ran())]
    mismatch = error(570, related_command_index=1, related_command_type=0x040C)
    assert lines(*replayed, (S, mismatch))[4] == (
        "570 JOURNAL_MISMATCH: boom · at #1 Run 'first' in the journal, Sleep in the code"
    )
    same = error(570, related_command_index=1, related_command_type=0x0411)
    assert lines(*replayed, (S, same))[4].endswith("· at #1 Run 'first'")
    beyond = error(570, related_command_index=2, related_command_type=0x040C)
    assert lines(*replayed, (S, beyond))[4].endswith("· at #2 Sleep")


def test_a_frame_whose_body_does_not_parse_is_its_size() -> None:
    broken = encode_frame(0x0403, b"\xff")
    assert lines(*CLEAN[:2], (S, broken))[2] == "1 bytes (body does not parse)"


def test_results_outside_a_oneof_and_none_at_all() -> None:
    assert result_text(pb.SleepCompletionNotificationMessage(void=pb.Void())) == "(void)"
    assert result_text(pb.SleepCompletionNotificationMessage()) == ""
    assert result_text(pb.GetLazyStateKeysCompletionNotificationMessage(
        state_keys=pb.StateKeys(keys=[b"k"]))) == 'keys "k"'  # fmt: skip


def test_a_named_command_says_its_name_first() -> None:
    named = encode_frame(0x0411, pb.RunCommandMessage(result_completion_id=1, name="pick"))
    assert lines(*CLEAN[:2], (S, named))[2] == "'pick'"
