"""The V4+ journal of real traffic (V5, V6, V7 captures) against what the runtime itself
stored (sys_journal.json), and the suspensions, cancellations and retries the captures
README describes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol.v4.journal import AttemptJournal
from restate_inspect.protocol.v4.notes import signals_of, waited_ids
from restate_inspect.readers import read_input
from tests.helpers import captures_dir, captures_of_family, run_cli

CURRENT = captures_of_family(current=True)


def _journal_records(capture: str) -> list[dict[str, Any]]:
    result = run_cli(["journal", "--json", str(captures_dir() / capture / f"{capture}.pcapng")])
    assert result.exit_code == 0
    return [json.loads(line) for line in result.stdout.splitlines()]


def _stored(capture: str) -> dict[str, list[dict[str, Any]]]:
    rows = json.loads((captures_dir() / capture / "sys_journal.json").read_text())["rows"]
    by_invocation: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["id"], r["index"])):
        by_invocation.setdefault(row["id"], []).append(row)
    return by_invocation


def _kind(type_name: str) -> str:
    """CallCommandMessage -> Call, CallInvocationIdCompletionNotificationMessage ->
    CallInvocationId, SignalNotificationMessage -> Signal: the runtime's names."""
    for suffix in ("CommandMessage", "CompletionNotificationMessage", "NotificationMessage"):
        type_name = type_name.removesuffix(suffix)
    return type_name


def _stored_notification(row: dict[str, Any]) -> tuple[str, Any]:
    lite = json.loads(row["entry_lite_json"])["Notification"]
    kind = lite["ty"] if isinstance(lite["ty"], str) else lite["ty"]["Completion"]
    (place,) = lite["id"].values()
    return kind, place


@pytest.mark.parametrize("capture", CURRENT)
def test_commands_are_the_runtimes_in_its_order(capture: str) -> None:
    """Per invocation, the commands of its last attempt (the replayed ones and the new ones,
    by command index) are the runtime's stored commands, type for type."""
    records = _journal_records(capture)
    last: dict[str, int] = {}
    for record in records:
        if record["kind"] == "attempt":
            last[record["invocation_id"]] = record["attempt"]
    ours: dict[str, dict[int, str]] = {}
    for record in records:
        if record["kind"] != "entry" or record["command_index"] is None:
            continue
        if record["attempt"] == last[record["invocation_id"]]:
            by_index = ours.setdefault(record["invocation_id"], {})
            by_index[record["command_index"]] = _kind(record["name"])
    stored = _stored(capture)
    assert len(stored) >= 13
    for invocation_id, rows in stored.items():
        commands = [r["entry_type"].removeprefix("Command: ") for r in rows
                    if r["entry_type"].startswith("Command: ")]  # fmt: skip
        mine = ours[invocation_id]
        assert sorted(mine) == list(range(len(mine))), invocation_id
        assert [mine[i] for i in sorted(mine)] == commands, invocation_id


@pytest.mark.parametrize("capture", CURRENT)
def test_every_notification_shown_is_one_the_runtime_stored(capture: str) -> None:
    """Type and completion id (or signal) of every notification on the wire are among the
    invocation's stored ones; those stored and never sent are the two kinds the captures'
    README explains."""
    records = _journal_records(capture)
    seen: dict[str, set[tuple[str, Any]]] = {}
    for record in records:
        if record["kind"] == "entry" and record["command_index"] is None:
            place = record["completion_id"]
            if place is None:
                place = (
                    record["signal_index"]
                    if record["signal_index"] is not None
                    else record["signal_name"]
                )
            seen.setdefault(record["invocation_id"], set()).add((_kind(record["name"]), place))
    stored = _stored(capture)
    for invocation_id, notifications in seen.items():
        rows = [r for r in stored[invocation_id] if r["entry_type"].startswith("Notification")]
        kept = {_stored_notification(r) for r in rows}
        assert notifications <= kept, invocation_id
        never_sent = {kind for kind, _ in kept - notifications}
        assert never_sent <= {"CallInvocationId", "Run"}, invocation_id
        if "Run" in never_sent:
            assert capture.startswith("v7")  # answered by ProposeRunCompletionAck instead


def _invocations(capture: str) -> list[Invocation]:
    path = str(captures_dir() / capture / f"{capture}.pcap")
    return [i for i in invocations(decode_events(read_input(path))) if isinstance(i, Invocation)]


@pytest.mark.parametrize("capture", CURRENT)
def test_suspensions_wait_on_open_ids_and_the_next_attempt_replays_their_answers(
    capture: str,
) -> None:
    suspended = 0
    for invocation in _invocations(capture):
        for attempt, following in zip(invocation.attempts, invocation.attempts[1:], strict=False):
            if attempt.ending != "suspension":
                continue
            assert isinstance(attempt, AttemptJournal) and isinstance(following, AttemptJournal)
            suspended += 1
            assert attempt.end_frame is not None
            waited = waited_ids(attempt.end_frame.message)
            for completion_id in waited:
                command = attempt.by_id[completion_id]  # allocated by a command it sent
                assert not any(a.completion_id == completion_id for a in command.answers)
            answered = {e.completion_id for e in following.entries.values() if e.replayed}
            signals = {e.signal for e in following.entries.values() if e.replayed}
            message: Any = attempt.end_frame.message
            resumed_by_signal = any(s in signals for s in signals_of(message))
            assert resumed_by_signal or answered & set(waited), invocation.invocation_id
            assert attempt.ending_text.startswith("suspended on ")
            assert following.number == (attempt.number or 0) + 1
    assert suspended >= {"v6-py-http11": 10, "v6-ts-lazy-state": 1}.get(capture, 2)


@pytest.mark.parametrize("capture", [c for c in CURRENT if c.endswith("features")])
def test_cancelled_invocations_show_the_cancel_signal_and_how_they_ended(capture: str) -> None:
    cancelled = [
        invocation
        for invocation in _invocations(capture)
        for attempt in invocation.attempts
        for entry in attempt.entries.values()
        if entry.frame.type == 0xFBFF and entry.signal == 1
    ]
    assert len(cancelled) >= 2
    for invocation in cancelled:
        assert invocation.ending == "failed 409"  # the TS SDK ends a cancelled one so


@pytest.mark.parametrize("capture", [c for c in CURRENT if c.endswith("features")])
def test_retried_handlers_show_their_attempts_and_retry_delays(capture: str) -> None:
    records = _journal_records(capture)
    by_target = {r["invocation_id"]: r["target"] for r in records if r["kind"] == "invocation"}
    attempts = [r for r in records if r["kind"] == "attempt"]
    flaky = [a for a in attempts if by_target[a["invocation_id"]] == "Demo/flaky"]
    assert [a["ending_text"] for a in flaky][-1] == "end"
    assert len(flaky) == 3 and [a["ending"] for a in flaky[:2]] == ["error", "error"]
    retry = [a for a in attempts if by_target[a["invocation_id"]] == "Demo/runRetry"]
    delays = [a["error"]["retry_in_ms"] for a in retry if a["error"]]
    assert len(retry) == 3 and len(delays) == 2 and all(d > 0 for d in delays)
    assert all(a["error"]["related_command"] == "#1 Run 'always-fails'" for a in retry[:2])
