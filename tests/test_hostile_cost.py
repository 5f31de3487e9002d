"""Hostile input costs little: a small input takes little memory and time, whatever the
bytes, and never in proportion to the number of problems in it. The inputs are rebuilt
here in the shapes a fuzz campaign found; the tests count findings and read the peak
memory of the command that reads them, and time nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT_BYTES = 300 * 1024 * 1024  # peak RSS of one command, the bound

# (the text, the format forced on it, the code each bad character breaks, how many break it)
TEXT_FLOODS = {
    "hex": ("g" * 369_090, "hex", "RI001", 369_090),
    "numbers": ("[" + "x" * 40_000 + "]", "numbers", "RI008", 40_000),
    "base64": ("[" * 369_000, "base64", "RI004", 369_000),
}


# The command in a child that tells its own peak (VmHWM) as it exits: the peak that wait4
# reports counts the test process too, forked before the exec.
_MEASURED = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("peak: " + re.search(r"VmHWM:\\s*(\\d+) kB", status).group(1) + "\\n")
atexit.register(peak)
sys.argv = ["restate-inspect", *sys.argv[1:]]
from restate_inspect.cli import main
main()
"""


def peak_rss(args: list[str]) -> tuple[int, str]:
    """A command's peak resident memory in bytes, and its stdout."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("no /proc to read a process's peak memory from")
    run = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, check=False
    )
    peak = re.search(r"peak: (\d+)", run.stderr)
    assert peak is not None, run.stderr
    return int(peak[1]) * 1024, run.stdout


@pytest.mark.parametrize("flood", TEXT_FLOODS)
@pytest.mark.parametrize("command", ["decode", "journal", "check"])
def test_a_forced_text_format_on_other_text_is_one_finding_in_little_memory(
    flood: str, command: str, tmp_path: Path
) -> None:
    text, input_format, code, count = TEXT_FLOODS[flood]
    path = tmp_path / "flood.txt"
    path.write_text(text + "\n")
    peak, out = peak_rss([command, "--json", "-f", input_format, str(path)])
    found = [json.loads(line) for line in out.splitlines()]
    runs = [r for r in found if r.get("code") == code]
    assert len(runs) == 1 and runs[0]["repeats"] == count
    assert peak < LIMIT_BYTES
