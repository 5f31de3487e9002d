"""The scripts under scripts/ say what went wrong, without a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.helpers import ROOT, SAMPLES

REPLAY = str(ROOT / "scripts" / "replay_capture.py")


def test_replay_capture_says_which_port_is_taken_and_how_to_choose_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        capture = str(SAMPLES / "v1-features.pcapng")
        result = subprocess.run(
            [sys.executable, REPLAY, capture, "--port", str(port)],
            capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_capture_says_a_capture_cannot_be_opened() -> None:
    result = subprocess.run(
        [sys.executable, REPLAY, "no/such.pcap"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "cannot open no/such.pcap" in result.stderr
    assert "Traceback" not in result.stderr
