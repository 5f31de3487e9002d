"""The command line as a whole: version, help, `python -m`, exit codes, usage errors, closed
pipes, interrupts, and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from restate_inspect import __version__, cli
from tests.helpers import SAMPLES, run_cli

REQ = str(SAMPLES / "v1-call-other.req.bin")


def test_version() -> None:
    result = run_cli(["--version"])
    assert (result.exit_code, result.stdout) == (0, f"restate-inspect {__version__}\n")


def test_python_dash_m_and_the_console_script() -> None:
    for command in (
        [sys.executable, "-m", "restate_inspect"],
        [str(Path(sys.executable).parent / "restate-inspect")],
    ):
        result = subprocess.run(
            [*command, "decode", REQ], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "StartMessage" in result.stdout and "\x1b" not in result.stdout


def test_help_shows_examples() -> None:
    result = run_cli(["decode", "--help"])
    assert result.exit_code == 0
    assert "xxd -p stream.bin | restate-inspect decode" in result.stdout
    assert "--request" in result.stdout and "--input-format" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", "/nonexistent/x.bin"], "cannot open /nonexistent/x.bin"),
        (["decode", REQ, "--request", REQ], "either INPUT or --request"),
        (["decode", "--input-format", "pcapx", REQ], "Invalid value"),
        (["decode", "--max-length", "-1", REQ], "Invalid value"),
        (["check", "--ignore", "RI9", REQ], "no rule has the code 'RI9'"),
        (["rules", "RI233", "X1"], "no rule has the code 'X1'"),
    ],
)
def test_usage_errors_and_unreadable_input_exit_2(args: list[str], message: str) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert message in result.stderr + result.stdout


@pytest.mark.parametrize(
    "command",
    [
        "decode --response {}",
        "decode --json --response {}",
        "journal --response {}",
        "check --response {}",
        "streams --response {}",
        "rules",  # rich's own handling of a closed pipe exits 1
        "rules --json",
        "--help",
    ],
)
def test_a_closed_pipe_ends_quietly_and_clean(tmp_path: Path, command: str) -> None:
    """| head: no traceback, no complaint, and exit 0, not 1 ("problems found")."""
    path = tmp_path / "many.bin"
    path.write_bytes((SAMPLES / "v1-call-other.resp.bin").read_bytes() * 3000)
    run = f"{sys.executable} -m restate_inspect {command.format(path)}"
    script = f"set -o pipefail; {run} | head -n 1"  # check: 3,000 findings, exit 1 in full
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
    assert result.returncode == 0


def test_an_internal_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("RESTATE_INSPECT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setenv("RESTATE_INSPECT_DEBUG", "1")
    with pytest.raises(SystemExit):
        cli.main()
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 130
