"""How the commands write: plain text in a pipe, colour on request or not at all, and a
progress bar for a large input."""

from __future__ import annotations

import gzip
import io
import re
import sys
from pathlib import Path

import pytest

from restate_inspect.cli import output
from tests.helpers import SAMPLES, run_cli

REQ = str(SAMPLES / "v1-call-other.req.bin")
SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_text_output_in_a_pipe_is_plain_and_colour_is_on_request() -> None:
    plain = run_cli(["decode", REQ])
    assert plain.exit_code == 0 and "\x1b" not in plain.stdout
    assert "CallEntryMessage" not in plain.stdout and "InputEntryMessage" in plain.stdout
    coloured = run_cli(["decode", "--color", "always", REQ])
    assert SGR.search(coloured.stdout)
    assert SGR.sub("", coloured.stdout) == plain.stdout


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_cli(["decode", "--color", "always", REQ])
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]", result.stdout)  # no foreground colours


def test_a_progress_bar_for_a_large_input_even_compressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = (SAMPLES / "v1-features.pcapng").read_bytes()
    packed = tmp_path / "big.pcapng.gz"
    packed.write_bytes(gzip.compress(capture * 2))
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(output, "PROGRESS_FROM", packed.stat().st_size + 1)
    with output.progress_bar(str(packed)) as progress:
        assert progress is not None  # what the file holds is large, not the file
        progress(packed.stat().st_size)
    assert "reading" in terminal.getvalue()
    assert "[progress" not in terminal.getvalue()  # a style, not markup shown as text
    monkeypatch.setattr(output, "PROGRESS_FROM", 2 * len(capture) + 1)
    with output.progress_bar(str(packed)) as progress:
        assert progress is None
