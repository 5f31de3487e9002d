"""`tui`: what the command hands the app (the app itself: test_tui*.py): its input, its
selection, stdin and the terminal."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.cli import browsing, options
from restate_inspect.events import DecodedFrame
from restate_inspect.invocations import Invocation
from tests.helpers import SAMPLES, captures_dir, expected_streams, run_cli


@dataclass
class _Opened:
    load: Callable[[Callable[[int], None]], Iterator[Any]]
    name: str
    size: int | None
    keep: int
    cancel: threading.Event  # set when the app ends: a live capture's reading stops

    def invocations(self) -> list[Invocation]:
        return [i for i in self.load(lambda done: None) if isinstance(i, Invocation)]


@pytest.fixture
def tui_app(monkeypatch: pytest.MonkeyPatch) -> list[_Opened]:
    """The tui command on a (pretend) terminal, with the app's run() recorded, not run."""
    import restate_inspect.tui.app as tui_app_module

    opened: list[_Opened] = []
    monkeypatch.setattr(options, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(options, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(tui_app_module, "run", lambda *args: opened.append(_Opened(*args)))
    return opened


def test_tui_needs_a_terminal() -> None:
    result = run_cli(["tui", str(SAMPLES / "v1-features.pcapng")])
    assert result.exit_code == 2
    assert "needs a terminal" in result.stderr


def test_tui_without_input_opens_the_bundled_sample(tui_app: list[_Opened]) -> None:
    result = run_cli(["tui"])
    assert result.exit_code == 0, result.stderr
    (opened,) = tui_app
    assert "bundled sample" in opened.name and opened.size == browsing.SAMPLE_CAPTURE.stat().st_size
    assert browsing.SAMPLE_CAPTURE.read_bytes() == (SAMPLES / "v1-features.pcapng").read_bytes()
    stored = json.loads((captures_dir() / "v1-features" / "sys_invocation.json").read_text())
    assert {i.invocation_id for i in opened.invocations()} == {r["id"] for r in stored["rows"]}


def test_tui_selects_invocations_and_keeps_a_bounded_number(tui_app: list[_Opened]) -> None:
    capture = str(SAMPLES / "v1-features.pcapng")
    assert (
        run_cli(["tui", capture, "--service", "Counter", "--max-invocations", "5"]).exit_code == 0
    )
    (opened,) = tui_app
    assert opened.keep == 5
    targets = {i.target for i in opened.invocations()}
    assert targets and all(t is not None and t.startswith("Counter/") for t in targets)


def test_tui_reports_a_missing_input_before_the_screen_changes(tui_app: list[_Opened]) -> None:
    result = run_cli(["tui", "no/such/capture.pcap"])
    assert result.exit_code == 2
    assert "cannot open no/such/capture.pcap: No such file or directory" in result.stderr
    assert not tui_app
    result = run_cli(["tui", "x.bin", "--request", "y.bin"])
    assert result.exit_code == 2 and not tui_app


def test_tui_reads_stdin_then_takes_keys_from_the_terminal(
    tui_app: list[_Opened], monkeypatch: pytest.MonkeyPatch
) -> None:
    duplicated: list[tuple[int, int]] = []
    terminal = os.open(os.devnull, os.O_RDONLY)
    monkeypatch.setattr(os, "open", lambda path, flags: terminal)
    monkeypatch.setattr(os, "dup2", lambda a, b: duplicated.append((a, b)))
    hex_text = (SAMPLES / "v1-side-effect.req.hex").read_text()
    result = run_cli(["tui", "-"], stdin=hex_text)
    assert result.exit_code == 0, result.stderr
    assert duplicated == [(terminal, 0)]  # the terminal took stdin's place for keys
    (opened,) = tui_app
    assert opened.name == "<stdin>" and opened.size == len(hex_text)
    (invocation,) = opened.invocations()  # the bytes read before are what is decoded
    expected = expected_streams("", SAMPLES / "v1-side-effect.expected.txt")
    timeline = invocation.attempts[0].timeline
    frames = [m.item.frame for m in timeline if isinstance(m.item, DecodedFrame)]
    assert [f.type for f in frames] == [e.type for e in expected[0].frames["req"]]


def test_tui_without_a_terminal_for_keys_says_so(
    tui_app: list[_Opened], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_terminal(path: str, flags: int) -> int:
        raise OSError("no tty")

    monkeypatch.setattr(os, "open", no_terminal)
    result = run_cli(["tui", "-"], stdin=b"\x00\x00")
    assert result.exit_code == 2
    assert "no terminal to take keys from" in result.stderr
    assert not tui_app


def test_tui_follows_a_pipe_on_stdin_and_reads_a_file_to_its_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A pipe (tcpdump -U -w - | restate-inspect tui -) keeps being read on a descriptor of
    its own, as fd 0 becomes the terminal's; a file given as stdin is read first."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"live bytes")
    os.close(write_end)
    with open(read_end, "rb") as pipe:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe))
        handle = browsing._stdin_pipe()
        assert handle is not None and handle.fileno() != read_end
        assert handle.read() == b"live bytes"
        handle.close()
    path = tmp_path / "stdin.bin"
    path.write_bytes(b"x")
    with path.open("rb") as file:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(file))
        assert browsing._stdin_pipe() is None
    monkeypatch.setattr(sys, "stdin", io.StringIO("a test's stdin has no descriptor"))
    assert browsing._stdin_pipe() is None


def test_the_tuis_pipe_reads_what_comes_and_gives_up_when_told() -> None:
    """The TUI's decoding thread must end for the app to: a quiet pipe reads as ended
    once the app's stop event is set, instead of blocking for ever."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"0123456789")
    stop = threading.Event()
    pipe = browsing._StoppablePipe(os.fdopen(read_end, "rb"), stop)
    assert pipe.read(4) == b"0123" and pipe.read1(100) == b"456789"
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert pipe.read() == b""  # nothing more came, and the writer is still open
    assert 0.25 < time.monotonic() - started < 5
    os.close(write_end)
    read_end, write_end = os.pipe()
    os.write(write_end, b"all of it")
    os.close(write_end)
    assert (
        browsing._StoppablePipe(os.fdopen(read_end, "rb"), threading.Event()).read() == b"all of it"
    )
