"""The proxy between a real restate-server and a real SDK (tests/real_server.py): invocations
of different kinds are answered through it as without it, its --json output holds them,
ended, and the capture it wrote reads back as the same journal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.real_server import free_port, running_restate

pytestmark = pytest.mark.real_server


def test_the_proxy_shows_a_real_conversation_and_saves_it(tmp_path: Path) -> None:
    written = tmp_path / "session.pcapng"
    for restate in running_restate():
        port = free_port()
        command = [sys.executable, "-m", "restate_inspect", "proxy", "--json", "--write",
                   str(written), "--listen", f"127.0.0.1:{port}",
                   "--upstream", f"127.0.0.1:{restate.service_port}"]  # fmt: skip
        proxy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)  # it binds
            restate.register(f"http://127.0.0.1:{port}")
            assert restate.invoke("Demo/greet", "bob") == "Hello bob"
            assert restate.invoke("Demo/runTwice", None) == 84
            assert restate.invoke("Demo/callOther", "al") == {"greeting": "Hello al"}
            assert restate.invoke("Demo/longSleep", 1200) == "slept"  # suspends, resumes
            restate.invoke("Demo/mismatch/send", None)  # fails, then its retry fails with 570
            restate.wait_for_failure("Demo/mismatch", 570)
            time.sleep(0.5)
        finally:
            proxy.send_signal(signal.SIGINT)
            stdout, stderr = proxy.communicate(timeout=30)
        assert "proxy on 127.0.0.1" in stderr and "Traceback" not in stderr
        records = [json.loads(line) for line in stdout.splitlines()]
        ended = {r["target"]: r["ending"] for r in records if r["kind"] == "invocation"}
        for target in ("Demo/greet", "Demo/runTwice", "Demo/callOther", "Demo/longSleep"):
            assert ended[target] == "end", (target, ended)
        attempts = [r for r in records if r["kind"] == "attempt"]
        assert any(a["ending"] == "suspension" for a in attempts)
        _assert_the_mismatch_is_told(records)
        read_back = run_cli(["journal", "--json", str(written)])
        again = [json.loads(line) for line in read_back.stdout.splitlines()]
        assert _journal(again) == _journal(records)


def _assert_the_mismatch_is_told(records: list[dict[str, Any]]) -> None:
    """A retry whose code took another path: the SDK's 570 is the only error, and it names
    the journal's command at that index and what the code did there instead."""
    (mismatch,) = [
        r for r in records if r["kind"] == "invocation" and r["target"] == "Demo/mismatch"
    ]
    assert mismatch["ending"] == "error 570"
    errors = [r for r in records if r["kind"] == "problem" and r["severity"] != "info"]
    assert errors and {(e["code"], e["invocation_id"]) for e in errors} == {
        ("RI230", mismatch["invocation_id"])
    }
    assert all(e["command_index"] == 1 for e in errors)
    assert all("#1 Run 'first' in the journal, Sleep in the code" in e["message"] for e in errors)


def _journal(records: list[dict[str, object]]) -> list[str]:
    kept = ("kind", "invocation_id", "attempt", "name", "command_index", "ending", "code")
    return sorted(json.dumps({k: r.get(k) for k in kept}) for r in records)
