"""`proxy` as users start it: endpoints and files checked before anything listens, a port
already taken said plainly, where it listens said on stderr, and --tui only on a terminal."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "nonsense"], "--upstream must be HOST:PORT, not 'nonsense'"),
        (["--upstream", "localhost:99999"], "--upstream must be HOST:PORT, not 'localhost:99999'"),
        (["--upstream", "a:1", "--listen", "b:x"], "--listen must be HOST:PORT, not 'b:x'"),
    ],
)
def test_an_endpoint_that_is_not_host_and_port_is_a_usage_error(
    args: list[str], message: str
) -> None:
    result = run_cli(["proxy", *args])
    assert (result.exit_code, result.stderr.strip()) == (2, f"restate-inspect: error: {message}")


def test_a_capture_file_that_cannot_be_written_is_said_before_listening(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.pcapng"
    result = run_cli(["proxy", "--upstream", "127.0.0.1:1", "--write", str(target)])
    assert result.exit_code == 2
    assert f"cannot write {target}" in result.stderr and "proxy on" not in result.stderr


def test_a_port_already_taken_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["proxy", "--upstream", "127.0.0.1:1", "--listen", f"127.0.0.1:{port}"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"restate-inspect: error: cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_tui_needs_a_terminal_and_where_it_listened_is_said_first() -> None:
    result = run_cli(["proxy", "--upstream", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--tui"])
    assert result.exit_code == 2
    said = result.stderr.splitlines()
    assert said[0].startswith("restate-inspect: proxy on 127.0.0.1:")
    assert "(loopback only), forwarding to 127.0.0.1:1" in said[0]
    assert said[1].strip().startswith("register it as the deployment: restate deployments register")
    assert said[-1].endswith("the tui needs a terminal; without --tui the proxy prints the journal")
