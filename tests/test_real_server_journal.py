"""Against a real restate-server (tests/real_server.py): a few handlers are invoked through
its ingress, then `journal --admin` shows their stored journals, decoded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.helpers import run_cli
from tests.real_server import Restate, running_restate

pytestmark = pytest.mark.real_server


@pytest.fixture(scope="module")
def restate() -> Iterator[Restate]:
    for server in running_restate():
        server.register(f"http://127.0.0.1:{server.service_port}")
        yield server


def test_journal_admin_shows_the_invocations_with_their_payloads(restate: Restate) -> None:
    assert restate.invoke("Demo/greet", "bob") == "Hello bob"
    assert restate.invoke("Demo/runTwice", None) == 84
    assert restate.invoke("Demo/callOther", "al") == {"greeting": "Hello al"}
    assert restate.invoke("Demo/longSleep", 1500) == "slept"
    result = run_cli(["journal", "--json", "--admin", restate.admin])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    targets = {r["target"] for r in records if r["kind"] == "invocation"}
    assert {"Demo/greet", "Demo/runTwice", "Demo/callOther", "Demo/longSleep"} <= targets
    attempts = [r for r in records if r["kind"] == "attempt"]
    assert all(a["stored_journal"]["invocation"]["status"] == "completed" for a in attempts)
    assert all(a["protocol_version"] in (5, 6, 7) for a in attempts)  # pinned: told
    entries = [r for r in records if r["kind"] == "entry"]
    runs = [e for e in entries if e["name"] == "RunCommandMessage"]
    assert {e["entry_name"] for e in runs} >= {"pick", "double", "before"}
    assert all(e["completed_by"] == "notification" for e in runs)
    frames = [r for r in records if r["kind"] == "frame"]
    outputs = [f["annotations"]["payloads"]["value.content"]["json"] for f in frames
               if f["name"] == "OutputCommandMessage"]  # fmt: skip
    assert "Hello bob" in outputs and 84 in outputs and "slept" in outputs
    text = run_cli(["journal", "--admin", restate.admin, "--service", "Demo/longSleep"])
    assert "Sleep" in text.stdout and "SleepResult" in text.stdout and '"slept"' in text.stdout
    check = run_cli(["check", "--admin", restate.admin])
    assert check.exit_code == 0, check.stdout


def test_check_admin_reports_a_stored_journal_mismatch(restate: Restate) -> None:
    """Nothing captured: the invocation retries after the SDK's 570, and the runtime's
    journal and sys_invocation row are all there is."""
    restate.invoke("Demo/mismatch/send", None)
    restate.wait_for_failure("Demo/mismatch", 570)
    check = run_cli(["check", "--json", "--admin", restate.admin, "--service", "Demo/mismatch"])
    assert check.exit_code == 1, check.stdout
    (said,) = [json.loads(line) for line in check.stdout.splitlines()]
    assert (said["code"], said["command_index"]) == ("RI230", 1)
    assert "570 JOURNAL_MISMATCH: Found a mismatch" in said["message"]
    journal = run_cli(["journal", "--admin", restate.admin, "--service", "Demo/mismatch"])
    assert re.search(r"#1 +Run +'first'", journal.stdout), journal.stdout
    assert "last failure: [570 Journal mismatch] Found a mismatch" in journal.stdout
