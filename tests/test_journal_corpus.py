"""The journal of real traffic: clean by the rules, in agreement with what the runtime
itself stored, suspensions and their resumed attempts where they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.readers import read_input
from restate_inspect.rules import Severity
from tests.helpers import (
    BUNDLED_CAPTURES,
    CAPTURE_NAMES,
    captures_dir,
    captures_of_family,
    expected_streams,
    run_cli,
)


def _invocations(path: str) -> list[Invocation]:
    return [i for i in invocations(decode_events(read_input(path))) if isinstance(i, Invocation)]


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_check_finds_no_error_and_no_warning_in_real_traffic(capture: str, kind: str) -> None:
    result = run_cli(
        [
            "check",
            "--json",
            "--fail-on",
            "warning",
            str(captures_dir() / capture / f"{capture}.{kind}"),
        ]
    )
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    assert [f for f in findings if f["severity"] != "info"] == []
    assert result.exit_code == 0
    if capture in BUNDLED_CAPTURES:  # the documented odd fields, and what explains a suspension
        assert {f["code"] for f in findings} <= {"RI225", "RI232", "RI233", "RI241"}


@pytest.mark.parametrize("capture", captures_of_family(current=False))
def test_journal_agrees_with_the_runtimes_own_journal(capture: str) -> None:
    dump = captures_dir() / capture / "sys_journal.json"
    if not dump.is_file():
        pytest.skip(f"{capture} has no sys_journal.json")
    stored = json.loads(dump.read_text())["rows"]
    result = run_cli(["journal", "--json", str(captures_dir() / capture / f"{capture}.pcapng")])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    attempts: dict[str, int] = {}
    for record in records:
        if record["kind"] == "attempt":
            attempts[record["invocation_id"]] = max(
                attempts.get(record["invocation_id"], 0), record["attempt"]
            )
    ours: dict[str, dict[int, dict[str, Any]]] = {}
    for record in records:  # each invocation's last attempt holds its whole journal
        if record["kind"] == "entry" and record["attempt"] == attempts[record["invocation_id"]]:
            ours.setdefault(record["invocation_id"], {})[record["index"]] = record
    by_invocation: dict[str, dict[int, dict[str, Any]]] = {}
    for row in stored:
        by_invocation.setdefault(row["id"], {})[row["index"]] = row
    assert by_invocation
    if capture in BUNDLED_CAPTURES:
        assert len(by_invocation) == 24
    for invocation_id, rows in by_invocation.items():
        entries = ours[invocation_id]
        assert sorted(entries) == sorted(rows), invocation_id
        for index, row in rows.items():
            entry = entries[index]
            assert entry["name"] == row["entry_type"] + "EntryMessage", (invocation_id, index)
            assert entry["completed"] == bool(row.get("completed")), (invocation_id, index)
            assert entry["completable"] == ("completed" in row), (invocation_id, index)


@pytest.mark.parametrize("capture", captures_of_family(current=False))
def test_suspensions_are_on_the_right_entry_and_resumed_with_the_result(capture: str) -> None:
    suspended = 0
    for invocation in _invocations(str(captures_dir() / capture / f"{capture}.pcap")):
        for attempt, following in zip(invocation.attempts, invocation.attempts[1:], strict=False):
            if attempt.ending != "suspension":
                continue
            assert isinstance(attempt, AttemptJournal) and isinstance(following, AttemptJournal)
            suspended += 1
            for index in attempt.suspended_on:
                waited = attempt.entries[index]
                assert (waited.completable and not waited.completed) or waited.requires_ack
                replayed = following.entries[index]
                assert replayed.replayed and replayed.frame.type == waited.frame.type
                assert replayed.completed or not replayed.completable  # the result, filled in
            assert following.number == attempt.number + 1  # type: ignore[operator]
    if capture in BUNDLED_CAPTURES:
        assert suspended >= (2 if capture.startswith("v1") else 10)


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
def test_the_mode_of_each_attempt_is_the_one_its_traffic_used(capture: str) -> None:
    """HTTP/1.1 is request/response; the HTTP/2 endpoints captured here are bidi (the
    runtime keeps its body open), whatever the SDK's end or a reset looked like."""
    attempts = [
        attempt
        for invocation in _invocations(str(captures_dir() / capture / f"{capture}.pcap"))
        for attempt in invocation.attempts
    ]
    assert all(a.request_response for a in attempts if a.http_version == "HTTP/1.1")
    if capture in BUNDLED_CAPTURES:  # which of them is bidi is known
        assert {a.request_response for a in attempts} == {capture == "py-v2-http11"}


def test_the_journal_text_shows_the_resumed_attempt() -> None:
    path = captures_dir() / "v1-features" / "v1-features.pcapng"
    result = run_cli(["journal", str(path), "--service", "Demo/longSleep"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "2 attempts · end" in lines[0]
    assert any("attempt 1" in line and "suspended on #2" in line for line in lines)
    assert any("resumes attempt 1 after a suspension" in line for line in lines)
    assert any("Sleep" in line and "[replayed]" in line and "[completed]" in line for line in lines)


def test_an_invocation_the_input_leaves_waiting_says_so(tmp_path: Path) -> None:
    """A suspended attempt, or one that failed to be retried, with no next attempt in the
    input: its invocation's line says that none came ("why is it stuck?")."""
    from tests.helpers import SAMPLES

    capture = str(captures_dir() / "v1-features" / "v1-features.pcapng")
    whole = run_cli(["journal", capture]).stdout.splitlines()
    assert not [line for line in whole if "in the input" in line]  # every one was resumed
    stream = next(
        line.split()[2] for line in run_cli(["streams", capture]).stdout.splitlines()
        if "Demo/longSleep" in line and "suspended" in line
    )  # fmt: skip
    run_cli(["streams", capture, "--stream", stream, "--export", str(tmp_path)])
    (request,) = tmp_path.glob("*.req.bin")
    response = request.with_name(request.name.replace(".req.", ".resp."))
    suspended = run_cli(["journal", "--request", str(request), "--response", str(response)])
    head = suspended.stdout.splitlines()[0]
    assert head.endswith("1 attempt · suspended on #2 · not resumed in the input")
    flaky = ["--request", str(SAMPLES / "v2-py-flaky-error.req.bin")]
    flaky += ["--response", str(SAMPLES / "v2-py-flaky-error.resp.bin")]
    head = run_cli(["journal", *flaky]).stdout.splitlines()[0]
    assert head.endswith("1 attempt · error 500 · not retried in the input")


def test_severity_of_real_findings_is_info() -> None:
    invocations_ = _invocations(str(captures_dir() / "py-v2-http11" / "py-v2-http11.pcap"))
    findings = [f for i in invocations_ for a in i.attempts for f in a.all_findings()]
    assert findings and {f.severity for f in findings} == {Severity.INFO}


def test_every_bundled_pair_checks_clean() -> None:
    """A pair of files has no capture times: the journal orders it as the protocol implies
    (acks after the entries they answer), so a correct pair has no finding."""
    from tests.helpers import SAMPLES

    names = sorted({p.name.split(".")[0] for p in SAMPLES.glob("*.req.bin")})
    assert len(names) >= 4
    for name in names:
        args = ["check", "--json", "--fail-on", "warning"]
        args += [
            "--request",
            str(SAMPLES / f"{name}.req.bin"),
            "--response",
            str(SAMPLES / f"{name}.resp.bin"),
        ]
        result = run_cli(args)
        findings = [json.loads(line) for line in result.stdout.splitlines()]
        assert result.exit_code == 0, findings
        assert {f["code"] for f in findings} <= {"RI115", "RI232", "RI241"}


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
def test_a_terminal_failure_ends_failed_with_the_code_the_runtime_stored(capture: str) -> None:
    """sys_invocation's completion_result and completion_failure ("[409] ...") are the
    runtime's word on how each invocation completed; the journal must agree, in its JSON
    ending and its headline, and never read a failure as a plain end."""
    table = captures_dir() / capture / "sys_invocation.json"
    if not table.is_file():
        pytest.skip(f"{capture} has no sys_invocation.json")
    completed = {
        row["id"]: row
        for row in json.loads(table.read_text())["rows"]
        if row.get("completion_result") in ("success", "failure")
    }
    result = run_cli(["journal", "--json", str(captures_dir() / capture / f"{capture}.pcapng")])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    last: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["kind"] == "attempt" and record["invocation_id"] in completed:
            last[record["invocation_id"]] = record  # attempts come in order
    ended = {i: a for i, a in last.items() if a["ending"] in ("end", "failed")}
    assert ended, "the capture holds completed invocations"
    for invocation_id, attempt in ended.items():
        row = completed[invocation_id]
        if row["completion_result"] == "failure":
            code = row["completion_failure"].split("]")[0].lstrip("[")
            assert (attempt["ending"], attempt["ending_text"]) == ("failed", f"failed {code}")
        else:
            assert (attempt["ending"], attempt["ending_text"]) == ("end", "end")
    failed = {i for i, a in ended.items() if a["ending"] == "failed"}
    oneline = run_cli(["journal", "--oneline", str(captures_dir() / capture / f"{capture}.pcapng")])
    for line in oneline.stdout.splitlines():
        if line.split(" ")[0] in failed:
            assert " · failed " in line


@pytest.mark.parametrize("capture", captures_of_family(current=False))
def test_v2_retry_fields_under_v1_are_said_once_for_each_connection(capture: str) -> None:
    """RI241: where the expected decoding has a V1 StartMessage with the V2 retry fields,
    its connection gets one finding, and no connection gets two."""
    expected = set()
    for stream in expected_streams(capture):
        connection = "tcp" + stream.name.split("_tcp")[1].split("_")[0]
        for frame in stream.frames.get("req", []):
            fields = "\n".join(frame.body_lines)
            if stream.version == 1 and frame.type == 0 and "_since_last_stored_entry" in fields:
                expected.add(connection)
    result = run_cli(["check", "--json", str(captures_dir() / capture / f"{capture}.pcapng")])
    said = [
        json.loads(line)["stream"].split("/")[0]
        for line in result.stdout.splitlines()
        if json.loads(line)["code"] == "RI241"
    ]
    assert sorted(said) == sorted(expected)
