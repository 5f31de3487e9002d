"""`tui`: the Textual browser, fed a file, the bundled sample, or stdin as it comes (a live
capture), with keys then taken from the terminal."""

from __future__ import annotations

import io
import os
import queue
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from restate_inspect.cli import options
from restate_inspect.cli.options import Inputs, fail, reads_input
from restate_inspect.invocations import Journaled, invocations
from restate_inspect.readers import pair_name
from restate_inspect.readers.pcapfile import Readable

SAMPLE_CAPTURE = Path(__file__).parent.parent / "data" / "sample.pcapng"  # tui with no input

TUI_HELP = """Step through invocations, entries, completions and acks in the terminal.

Left: invocations and their attempts. Centre: the selected attempt's timeline, replay then
processing. Below: the selected frame's fields, links, problems, payload and bytes.
Keys: j/k move, n/p entries, c/a/e completion/ack/entry, J/K problems, / search,
f filter, r time, tab panes, ? help, q quit.

Without INPUT (and nothing piped in) it opens a bundled sample capture. With - (or a pipe),
it reads stdin, a live capture as it comes, and takes keys from the terminal.

\b
Examples:
  restate-inspect tui
  restate-inspect tui capture.pcapng --service Counter
  xxd -p attempt.bin | restate-inspect tui -
  sudo tcpdump -i lo -U -w - port 9080 | restate-inspect tui -
"""
MaxInvocationsOpt = Annotated[
    int,
    typer.Option(
        "--max-invocations",
        metavar="N",
        min=1,
        help="Invocations listed (each kept on disk while the app runs); narrow a bigger "
        "capture with --service or --stream.",
    ),
]


@reads_input(without_input="a pipe on stdin, or else the bundled sample")
def tui(inputs: Inputs, max_invocations: MaxInvocationsOpt = 100_000) -> None:
    if not options.stdout_is_terminal():
        fail("the tui needs a terminal; for a pipe use decode, journal or check")
    source, request, response = inputs.source.path, inputs.source.request, inputs.source.response
    given = source is not None or request or response or inputs.source.admin
    piped = not given and not options.stdin_is_terminal()
    size: int | None
    stop = threading.Event()  # set when the app ends
    data: bytes | Readable | None = None
    if inputs.source.admin is not None:
        name, size = f"the journals of {inputs.source.admin.url}", None
    elif source == "-" or piped:
        pipe = _stdin_pipe()  # a pipe goes on being read while the app runs: a live capture
        data = sys.stdin.buffer.read() if pipe is None else _StoppablePipe(pipe, stop)
        _keys_from_terminal()
        source, name = "-", "<stdin>"
        size = len(data) if isinstance(data, bytes) else None
    elif not given:
        source, name = str(SAMPLE_CAPTURE), "the bundled sample (samples/v1-features.pcapng)"
        size = SAMPLE_CAPTURE.stat().st_size
    else:
        name = source or pair_name(str(request or "-"), str(response or "-"))
        for path in (source, request, response):
            if path is not None and path != "-":
                _readable(path)
        size = os.path.getsize(source) if source and os.path.isfile(source) else None
    where = replace(inputs.source, path=source, piped=data)
    where.events()  # usage errors now, before the screen changes (events are read lazily)
    open_tui(replace(inputs, source=where), name, size, max_invocations, stop)


def open_tui(
    inputs: Inputs,
    name: str,
    size: int | None = None,
    max_invocations: int = 100_000,
    stop: threading.Event | None = None,
) -> None:
    """The TUI on an input (the proxy's too), decoded while it runs."""

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        return inputs.selection.chosen(invocations(inputs.decoded(progress)))

    from restate_inspect.tui.app import run  # noqa: PLC0415 - Textual only for this command

    run(load, name, size, max_invocations, stop or threading.Event())


def _readable(path: str) -> None:
    """Before the screen changes: a file that cannot be read, and why."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        fail(f"cannot open {path}: {exc.strerror or exc}")


def _stdin_pipe() -> io.BufferedReader | None:
    """stdin on a file descriptor of its own, when it is a pipe (a live capture can come
    through one): fd 0 is about to become the terminal's, for keys."""
    try:
        descriptor = sys.stdin.fileno()
        if not stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            return None
        return os.fdopen(os.dup(descriptor), "rb")
    except (OSError, ValueError, io.UnsupportedOperation):
        return None  # not a real file descriptor (a test's stdin), or one that is gone


class _StoppablePipe:
    """A pipe read by a thread of its own, so that whoever waits on it can give up: once
    `stop` is set it reads as ended. The TUI decodes in a thread that its app waits for
    when it ends, and a pipe may stay quiet for ever (a live capture, `sleep | ...`)."""

    def __init__(self, pipe: io.BufferedReader, stop: threading.Event) -> None:
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=64)
        self._stop = stop
        self._rest = b""
        self._ended = False
        threading.Thread(target=self._pump, args=(pipe,), daemon=True).start()

    def _pump(self, pipe: io.BufferedReader) -> None:
        try:
            while chunk := pipe.read1(1 << 16):
                self._chunks.put(chunk)
        except (OSError, ValueError):
            pass  # read as the end
        self._chunks.put(b"")

    def read1(self, size: int = -1, /) -> bytes:
        """Up to size bytes, as many as have come (at least one, unless at the end)."""
        while not self._rest and not self._ended:
            if self._stop.is_set():
                self._ended = True
                break
            try:
                self._rest = self._chunks.get(timeout=0.2)
            except queue.Empty:
                continue
            self._ended = not self._rest
        cut = len(self._rest) if size < 0 else size
        data, self._rest = self._rest[:cut], self._rest[cut:]
        return data

    def read(self, size: int = -1, /) -> bytes:
        pieces = []
        while size < 0 or size > 0:
            piece = self.read1(size)
            if not piece:
                break
            pieces.append(piece)
            size -= len(piece) if size > 0 else 0
        return b"".join(pieces)

    def seekable(self) -> bool:
        return False


def _keys_from_terminal() -> None:
    """stdin was the input, read to its end: the terminal takes its place, for keys."""
    try:
        terminal = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        fail("no terminal to take keys from; for a pipe use decode, journal or check")
    os.dup2(terminal, 0)  # Textual reads keys from file descriptor 0
    os.close(terminal)
