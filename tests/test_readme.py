"""The README tells the truth: its test command is CI's, and its examples run as printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
)
INSTALL_COMMAND_START = (
    "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/restate-inspect decode"
)


def _examples() -> list[str]:
    """Every runnable `restate-inspect` command: inline code spans (tables escape `|` as `\\|`)
    and lines of code blocks. Commands that name a file outside samples/ are illustrations."""
    prose = re.sub(r"^```.*?^```", "", README, flags=re.M | re.S)
    spans = re.findall(r"`((?:[^`\\\n]|\\.)+)`", prose)
    candidates = [span.replace("\\|", "|") for span in spans]
    candidates += [line.strip() for line in README.splitlines()]
    commands = {
        c
        for c in candidates
        if re.match(r"(restate-inspect|xxd|hexdump|od|base64|echo|printf|head) ", c)
        and "restate-inspect " in c
    }
    return sorted(c for c in commands if "samples/" in c or c.startswith(("echo ", "printf ")))


def _uses(command: str) -> list[str]:
    return re.findall(r"(?:^|\| )(xxd|hexdump|od|base64|jq|head)\b", command)


def test_the_two_setup_commands_come_first_and_ci_runs_the_test_command() -> None:
    lines = [line.strip() for line in README.splitlines() if line.startswith("    python3 ")]
    assert lines[0].startswith(INSTALL_COMMAND_START)
    assert lines[1] == TEST_COMMAND
    assert README.index(lines[1]) < README.index("## ")  # before the first section
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == TEST_COMMAND


@pytest.mark.parametrize("command", _examples())
def test_readme_examples_run_as_printed(command: str) -> None:
    for tool in _uses(command):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        command, shell=True, cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Traceback" not in result.stderr and result.stdout


def test_no_example_gives_echo_a_backslash() -> None:
    """zsh's echo (macOS's shell) turns \\x00 into a byte: printf '%s\\n' keeps the text."""
    assert [c for c in _examples() if c.startswith("echo ") and "\\" in c.split("|")[0]] == []


def test_examples_were_found() -> None:
    assert len(_examples()) >= 10


def test_the_problem_code_table_lists_every_rule_with_its_severity() -> None:
    from restate_inspect.rules import RULES

    rows = dict(re.findall(r"^\| (RI\d{3}) \| (\w+) \|", README, flags=re.M))
    assert rows == {code: rule.severity.value for code, rule in RULES.items()}
