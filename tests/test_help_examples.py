"""Every example in every command's --help runs, as the README's do: on the bundled
samples in place of the names it shows, and a filter in it keeps some records, not all."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from restate_inspect.cli import app
from tests.helpers import ROOT, SAMPLES, run_cli

# what an example names, and the bundled file that stands for it
STAND_INS = {
    "capture.pcapng": str(SAMPLES / "v1-features.pcapng"),
    "capture.pcap.gz": "{tmp}/capture.pcap.gz",
    "capture.pcap": "{tmp}/capture.pcap",  # cut short: a capture with problems to select
    "attempt.req.bin": str(SAMPLES / "v6-call-other.req.bin"),
    "attempt.resp.bin": str(SAMPLES / "v6-call-other.resp.bin"),
    "stream.bin": str(SAMPLES / "v1-call-other.req.bin"),
    "attempt.bin": str(SAMPLES / "v1-call-other.req.bin"),
    "bodies/": "{tmp}/bodies/",
}
# what cannot run here, and what holds it instead
ELSEWHERE = {
    "sudo tcpdump": "needs root and live traffic; a pipe of a capture is tested in test_cli",
    "restate deployments": "the Restate CLI; tests/test_real_server_proxy.py registers one",
    "restate-inspect proxy": "needs an SDK endpoint; test_readers_proxy, test_real_server_proxy",
    "restate-inspect tui": "needs a terminal; test_tui runs the app headless",
}


def _examples() -> list[tuple[str, str]]:
    """(command, example) for every line under "Examples:" in every command's help, with
    the lines that continue it (indented further) joined to it."""
    click_app = typer.main.get_command(app)
    found: list[tuple[str, str]] = []
    for name, command in click_app.commands.items():  # type: ignore[attr-defined]
        text = command.help or ""
        block = text.split("Examples:\n", 1)[1] if "Examples:\n" in text else ""
        for line in block.split("\n\n", 1)[0].splitlines():
            if line.startswith("    ") and found:
                found[-1] = (name, found[-1][1] + " " + line.strip())
            elif line.strip():
                found.append((name, line.strip()))
    return found


def _values(text: str) -> list[dict[str, object]]:
    """The JSON values that jq printed, compact or pretty."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def test_every_command_has_examples() -> None:
    names = {name for name, _ in _examples()}
    assert names == set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "example"), _examples(), ids=lambda v: v[:60])
def test_help_examples_run(name: str, example: str, tmp_path: Path) -> None:
    reason = next((why for part, why in ELSEWHERE.items() if part in example), None)
    if reason is not None:
        assert name in ("journal", "tui", "proxy")  # only these watch live traffic
        pytest.skip(reason)
    capture = (SAMPLES / "py-v2-http11.pcap").read_bytes()
    (tmp_path / "capture.pcap.gz").write_bytes(gzip.compress(capture))
    (tmp_path / "capture.pcap").write_bytes(capture[: len(capture) * 3 // 5])
    command = example
    for shown, stand_in in STAND_INS.items():
        command = re.sub(rf"(?<![\w/.-]){re.escape(shown)}", stand_in.format(tmp=tmp_path), command)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # 1: problems found in the input
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stdout.strip(), result.stderr
    if "select(" in command:  # the filter keeps some records and leaves out others
        unfiltered = run_cli(command.split(" | ")[0].split()[1:])
        assert len(result.stdout.splitlines()) < len(unfiltered.stdout.splitlines())
    kind = re.search(r'select\(\.kind == "(\w+)"', command)
    if kind and " | [" not in command:  # records of that kind and no other (jq precedence)
        assert {record["kind"] for record in _values(result.stdout)} == {kind[1]}
