"""How the commands write: consoles, the progress bar, stream groups rendered as their
streams end, NDJSON records, and a quiet stop when the reader goes away."""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec

import typer

from restate_inspect.cli.options import EXIT_CLEAN, ColorMode, Inputs, Selection
from restate_inspect.events import InputEvent
from restate_inspect.readers import input_size
from restate_inspect.render.jsonl import encode, record
from restate_inspect.streams import StreamGroup, Tally, group_streams

if TYPE_CHECKING:  # rich and multiprocessing are imported when a command needs them
    from rich.console import Console
    from rich.progress import Progress

Render = Callable[[StreamGroup], tuple[bytes, Tally]]

PROGRESS_FROM = 4 * 1024 * 1024  # bytes: smaller inputs are read before a bar would help


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console  # noqa: PLC0415 - only text output needs rich

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            """Rich exits 1 here; a closed pipe is for quiet_on_a_closed_pipe: exit 0."""
            raise BrokenPipeError

    return QuietConsole


def console_for(color: ColorMode, *, stderr: bool = False) -> Console:
    force = {ColorMode.ALWAYS: True, ColorMode.NEVER: False}.get(color)
    return _console_class()(
        stderr=stderr,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        force_terminal=force,
        no_color=True if color is ColorMode.NEVER else None,
    )


def mirror(console: Console, file: io.StringIO) -> Console:
    """A console that writes to file, deciding colour and width as console does."""
    from rich.console import Console  # noqa: PLC0415

    return Console(
        file=file,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # type: ignore[arg-type]
        no_color=console.no_color,
        width=console.width,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


def taken(buffer: io.StringIO) -> bytes:
    """What a mirror console wrote, as output bytes; the buffer is emptied for the next."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8", "replace")


@contextmanager
def progress_bar(path: str | None) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr for a large file (large once decompressed), when stderr is a terminal.
    It counts the bytes the file holds, decompressed; a compressed file that does not say
    how much it holds (bzip2, xz), or holds more than it said, gets a count without a bar."""
    on_disk = os.path.getsize(path) if path and path != "-" and os.path.isfile(path) else 0
    if not on_disk or not sys.stderr.isatty():
        yield None
        return
    total = input_size(str(path))
    if total is not None and total < PROGRESS_FROM:
        yield None
        return
    with _bar() as bar:
        task = bar.add_task("reading", total=total)
        step = max((total or 0) // 200, 1 << 16)
        last = [0]

        def advance(done: int) -> None:
            if done - last[0] >= step:
                last[0] = done
                # gzip's size is modulo 4 GiB: what is read beyond grows it
                grown = None if total is None else max(done, total)
                bar.update(task, completed=done, total=grown)

        yield advance


def _bar() -> Progress:
    # imported here: only large inputs need it, and it is slow to import
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}", style="progress.description"),  # no markup here
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console_for(ColorMode.AUTO, stderr=True),
        transient=True,
    )


def rendered_groups(
    inputs: Inputs,
    render: Render,
    *,
    progress: Callable[[int], None] | None,
    through: Callable[[Iterator[InputEvent]], Iterator[InputEvent]] | None = None,
) -> Iterator[tuple[bytes, Tally]]:
    """Rendered stream groups, each as its stream ends. through: what the input events pass
    through first."""
    groups = group_streams(inputs.decoded(progress, through))
    return (render(group) for group in groups)


def write_all(outputs: Iterable[tuple[bytes, Tally]]) -> Tally:
    sys.stdout.flush()
    out = sys.stdout.buffer
    total = Tally()
    for output, tally in outputs:
        out.write(output)
        out.flush()  # each stream as it ends: a live capture piped in shows as it goes
        total.merge(tally)
    return total


def write_records(records: Iterable[dict[str, Any]]) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(b"".join(encode(r) for r in records))
    sys.stdout.buffer.flush()


def json_render(show_bytes: bool, selection: Selection) -> Render:
    def render(group: StreamGroup) -> tuple[bytes, Tally]:
        tally = Tally()
        if not selection.wants(group):
            return b"", tally
        lines = []
        for item in group.items:
            tally.add(item)
            line = record(item, with_bytes=show_bytes)
            if line is not None:
                lines.append(encode(line))
        return b"".join(lines), tally

    return render


def text_render(console: Console, selection: Selection, **options: Any) -> Render:
    """Text through a console that decides colour and width as the real one did."""
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    buffer = io.StringIO()
    renderer = TextRenderer(mirror(console, buffer), **options)

    def render(group: StreamGroup) -> tuple[bytes, Tally]:
        tally = Tally()
        if not selection.wants(group):
            return b"", tally
        for item in group.items:
            tally.add(item)
            renderer.render(item)
        return taken(buffer), tally

    return render


P = ParamSpec("P")


def quiet_on_a_closed_pipe(command: Callable[P, None]) -> Callable[P, None]:
    """The reader went away (| head): the command stops quietly with exit 0, before the
    command-line library would make that exit 1 ("problems found")."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(EXIT_CLEAN) from None

    return run


def silence_stdout() -> None:
    """Whatever is still buffered for the closed pipe goes nowhere, without complaint."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
