"""The command line: parse options, build the pipeline, pick a renderer, set the exit code.

Exit codes: 0 the input is clean, 1 problems were found in it (errors or warnings),
2 usage error or unreadable input, 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import functools
import gc
import io
import itertools
import os
import queue
import stat
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec

import typer

from restate_inspect import __version__
from restate_inspect.export import INDEX, BodyExport
from restate_inspect.framing import DEFAULT_MAX_LENGTH
from restate_inspect.invocations import Invocation, Journaled, invocations, tracked
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import (
    InputError,
    InputFormat,
    capture_kind,
    input_size,
    pair_name,
    read_input,
    read_pair,
)
from restate_inspect.readers.events import InputEvent
from restate_inspect.readers.pcapfile import Readable
from restate_inspect.render.jsonl import (
    encode,
    invocation_records,
    problem_record,
    record,
    stream_summary_record,
)
from restate_inspect.rules import RULES, Problem, Severity
from restate_inspect.streams import (
    StreamGroup,
    StreamSummary,
    Summary,
    Tally,
    group_streams,
    ordered,
    summarize,
)
from restate_inspect.values import safe_text

if TYPE_CHECKING:  # rich and multiprocessing are imported when a command needs them
    from rich.console import Console

Render = Callable[[StreamGroup], tuple[bytes, Tally]]

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
PROGRESS_FROM = 4 * 1024 * 1024  # bytes: smaller inputs are read before a bar would help
PARALLEL_FROM = 8 * 1024 * 1024  # bytes of capture: smaller ones are done before workers start
MAX_JOBS = 4
SAMPLE_CAPTURE = Path(__file__).parent / "data" / "sample.pcapng"  # tui with no input


class ColorMode(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


app = typer.Typer(
    name="restate-inspect",
    help="Decode, check and browse Restate service-protocol traffic (protocol V1 and V2).",
    epilog="Exit codes: 0 clean, 1 problems found in the input, 2 usage error or unreadable "
    "input. Docs: README.md.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"restate-inspect {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    pass


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"restate-inspect: error: {safe_text(message)}", file=sys.stderr)
    raise typer.Exit(code)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


# --- options every command that reads an input shares -------------------------------

_INPUT_HELP = (
    "A capture (pcap, pcapng), or a file of raw, hex or base64 bytes or of bytes printed by "
    "code, or - for stdin{live}; gzip, bzip2 and xz are decompressed. Without it, {without}."
)
InputArg = Annotated[
    str | None,
    typer.Argument(
        metavar="INPUT",
        help=_INPUT_HELP.format(live=" (a live capture too)", without="a pipe on stdin"),
        show_default=False,
    ),
]
RequestOpt = Annotated[
    str | None,
    typer.Option("--request", metavar="FILE", help="Request body (runtime→SDK) of one attempt."),
]
ResponseOpt = Annotated[
    str | None,
    typer.Option("--response", metavar="FILE", help="Response body (SDK→runtime) of the attempt."),
]
FormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--input-format", "-f", help="What the input is; auto sniffs it from the content."
    ),
]
DirectionOpt = Annotated[
    Direction | None,
    typer.Option(
        "--direction",
        help="Direction of a single stream. Default: runtime_to_sdk when it begins with a "
        "StartMessage, else sdk_to_runtime.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="NDJSON records instead of text.")]
ColorOpt = Annotated[ColorMode, typer.Option("--color", help="Colour: auto (on a terminal).")]
MaxLengthOpt = Annotated[
    int,
    typer.Option("--max-length", metavar="BYTES", min=0, help="Largest frame body to accept."),
]
StreamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stream", "-s", metavar="ID", help="Only this stream (tcp1/s3), or connection (tcp1)."
    ),
]
InvocationOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--invocation", "-i", metavar="ID", help="Only this invocation (inv_…, or its start)."
    ),
]
JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        min=0,
        help="Worker processes for a large capture, each decoding a share of its TCP "
        "connections. 0: as many as there are cores (up to 4) for captures over 8 MB.",
    ),
]
ServiceOpt = Annotated[
    list[str] | None,
    typer.Option("--service", metavar="NAME", help="Only this service, or service/handler."),
]


@dataclass(frozen=True)
class Source:
    """The input as the options describe it."""

    path: str | None
    request: str | None
    response: str | None
    input_format: InputFormat
    direction: Direction | None
    piped: bytes | Readable | None = None  # stdin, read already, or a handle in its place

    def events(self, progress: Callable[[int], None] | None = None) -> Iterator[InputEvent]:
        if self.path is not None and (self.request or self.response):
            _fail("give either INPUT or --request/--response, not both")
        if self.request and self.response:
            return read_pair(self.request, self.response, input_format=self.input_format)
        if self.request or self.response:
            side = Direction.RUNTIME_TO_SDK if self.request else Direction.SDK_TO_RUNTIME
            path = str(self.request or self.response)
            return read_input(path, input_format=self.input_format, direction=side)
        if self.path is None and stdin_is_terminal():
            _fail("no input: give a file, '-' for stdin, or pipe bytes in (see --help)")
        return read_input(
            self.path or "-",
            input_format=self.input_format,
            direction=self.direction,
            progress=progress,
            piped=self.piped,
        )


@dataclass(frozen=True)
class Selection:
    """--stream, --invocation, --service: which streams of a capture to show."""

    streams: tuple[str, ...] = ()
    invocations: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, streams: list[str] | None, invocations: list[str] | None, services: list[str] | None
    ) -> Selection:
        """From the options as typer gives them (None when not given)."""
        return cls(tuple(streams or ()), tuple(invocations or ()), tuple(services or ()))

    def __bool__(self) -> bool:
        return bool(self.streams or self.invocations or self.services)

    def tell_if_nothing(self, found: int) -> None:
        """On stderr: a selection that matched nothing is more likely a typo than news."""
        if self and not found:
            options = [f"--stream {s}" for s in self.streams]
            options += [f"--invocation {i}" for i in self.invocations]
            options += [f"--service {s}" for s in self.services]
            sys.stderr.write(f"restate-inspect: nothing in the input matches {' '.join(options)}\n")

    def wants(self, group: StreamGroup) -> bool:
        if not self:
            return True
        if group.stream is None:
            return False  # capture-wide problems: shown when nothing is selected
        return self.wants_row(summarize(group))

    def wants_row(self, row: StreamSummary) -> bool:
        if not self:
            return True
        name = row.stream
        if self.streams and not any(name == s or name.startswith(s + "/") for s in self.streams):
            return False
        if self.invocations and not any(
            (row.invocation_id or "").startswith(i) for i in self.invocations
        ):
            return False
        target = f"{row.service}/{row.handler}"
        return not self.services or any(s in (target, row.service) for s in self.services)

    def wants_invocation(self, invocation: Invocation) -> bool:
        if not self:
            return True
        streams = [str(a.stream) for a in invocation.attempts]
        if self.streams and not any(
            name == s or name.startswith(s + "/") for name in streams for s in self.streams
        ):
            return False
        if self.invocations and not any(
            invocation.invocation_id.startswith(i) for i in self.invocations
        ):
            return False
        target = invocation.target or ""
        return not self.services or any(s in (target, target.split("/")[0]) for s in self.services)


def _console(color: ColorMode, *, stderr: bool = False) -> Console:
    from rich.console import Console  # noqa: PLC0415 - only text output needs rich

    force = {ColorMode.ALWAYS: True, ColorMode.NEVER: False}.get(color)
    return Console(
        stderr=stderr,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        force_terminal=force,
        no_color=True if color is ColorMode.NEVER else None,
    )


@contextmanager
def _progress(path: str | None) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr for a large file (large once decompressed), when stderr is a terminal.
    It counts the bytes read from the file."""
    size = os.path.getsize(path) if path and path != "-" and os.path.isfile(path) else 0
    if not size or not sys.stderr.isatty() or input_size(str(path)) < PROGRESS_FROM:
        yield None
        return
    # imported here: only large inputs need it, and it is slow to import
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}", style="progress.description"),  # no markup here
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=_console(ColorMode.AUTO, stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=size)
        step = max(size // 200, 1 << 16)
        last = [0]

        def advance(done: int) -> None:
            if done - last[0] >= step:
                last[0] = done
                bar.update(task, completed=done)

        yield advance


def _jobs(source: Source, jobs: int) -> int:
    """How many worker processes: one unless a large capture file is given."""
    path = source.path
    if jobs == 1 or path in (None, "-") or not hasattr(os, "fork") or not os.path.isfile(str(path)):
        return 1
    if not capture_kind(str(path)):
        return 1
    if jobs:
        return jobs
    if input_size(str(path)) < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(cores or 1, MAX_JOBS)


def _outputs(
    source: Source,
    render: Render,
    *,
    max_length: int,
    jobs: int,
    progress: Callable[[int], None] | None,
    through: Callable[[Iterator[InputEvent]], Iterator[InputEvent]] | None = None,
) -> Iterator[tuple[bytes, Tally]]:
    """Rendered stream groups in their order, from this process or from workers. through:
    what the input events pass through first, in this process (one job)."""
    if jobs > 1 and source.path is not None and through is None:
        from restate_inspect.parallel import rendering, sharded  # noqa: PLC0415 - forks

        work = rendering(render, max_length=max_length)
        return sharded(source.path, work, jobs=jobs, progress=progress)
    events = source.events(progress)
    if through is not None:
        events = through(events)
    groups = group_streams(decode_events(events, max_length=max_length))
    return (render(group) for _key, group in ordered(groups))


def _write_all(outputs: Iterable[tuple[bytes, Tally]]) -> Tally:
    sys.stdout.flush()
    out = sys.stdout.buffer
    total = Tally()
    for output, tally in outputs:
        out.write(output)
        out.flush()  # each stream as it ends: a live capture piped in shows as it goes
        total.merge(tally)
    return total


def _json_render(show_bytes: bool, selection: Selection) -> Render:
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


def _text_render(console: Console, selection: Selection, **options: Any) -> Render:
    """Text through a console that decides colour and width as the real one did."""
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    buffer = io.StringIO()
    recorder = _mirror(console, buffer)
    renderer = TextRenderer(recorder, **options)

    def render(group: StreamGroup) -> tuple[bytes, Tally]:
        tally = Tally()
        if not selection.wants(group):
            return b"", tally
        for item in group.items:
            tally.add(item)
            renderer.render(item)
        return _taken(buffer), tally

    return render


def _taken(buffer: io.StringIO) -> bytes:
    """What a mirror console wrote, as output bytes; the buffer is emptied for the next."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8", "replace")


def _mirror(console: Console, file: io.StringIO) -> Console:
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


P = ParamSpec("P")


def _quiet_on_a_closed_pipe(command: Callable[P, None]) -> Callable[P, None]:
    """The reader went away (| head): the command stops quietly with exit 0, before the
    command-line library would make that exit 1 ("problems found")."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_CLEAN) from None

    return run


def _silence_stdout() -> None:
    """Whatever is still buffered for the closed pipe goes nowhere, without complaint."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# --- commands -------------------------------------------------------------------------

DECODE_HELP = """Decode every frame of a stream or a capture: header, fields, payloads, annotations.

For a capture, each Restate stream is shown with the frames of both directions interleaved
in capture order; discovery manifests are shown too.

\b
Examples:
  restate-inspect decode samples/v1-call-other.req.bin
  restate-inspect decode --request attempt.req.bin --response attempt.resp.bin
  xxd -p stream.bin | restate-inspect decode
  restate-inspect decode capture.pcapng --service Counter/add
  restate-inspect decode --json capture.pcap | jq 'select(.kind == "problem")'
"""


@app.command(help=DECODE_HELP, no_args_is_help=False)
@_quiet_on_a_closed_pipe
def decode(
    source: InputArg = None,
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    json_output: JsonOpt = False,
    show_bytes: Annotated[
        bool, typer.Option("--bytes", help="Add a hexdump of each frame, header marked.")
    ] = False,
    max_payload: Annotated[
        int,
        typer.Option(
            "--max-payload", metavar="BYTES", min=0, help="Payload bytes shown in text; 0: all."
        ),
    ] = 2048,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    jobs: JobsOpt = 0,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    where = Source(source, request, response, input_format, direction)
    selection = Selection.of(stream, invocation, service)
    console = _console(color)
    if json_output:
        render = _json_render(show_bytes, selection)
    else:
        render = _text_render(console, selection, show_bytes=show_bytes, max_payload=max_payload)
    try:
        with _progress(source) as progress:
            outputs = _outputs(
                where, render, max_length=max_length, jobs=_jobs(where, jobs), progress=progress
            )
            tally = _write_all(outputs)
    except InputError as exc:
        _fail(str(exc))
    if not json_output:
        from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

        TextRenderer(console).summary(tally)
    selection.tell_if_nothing(tally.frames)
    raise typer.Exit(EXIT_PROBLEMS if tally.failing else EXIT_CLEAN)


JOURNAL_HELP = """The journal timeline of every invocation: its attempts, and in each, every
frame in the order it happened with its entry index, a one-line summary, the entry's state
(completed, pending, acked, awaiting ack) and the rule findings where they happen.

Attempts that share a StartMessage id are one invocation; each replay is checked against
what the earlier attempts sent.

\b
Examples:
  restate-inspect journal samples/v1-features.pcapng --service Demo/awakeSuspend
  restate-inspect journal --request attempt.req.bin --response attempt.resp.bin
  restate-inspect journal --json capture.pcap | jq 'select(.kind == "entry" and .completed|not)'
  sudo tcpdump -i lo -U -w - port 9080 | restate-inspect journal -
"""


@app.command(help=JOURNAL_HELP, no_args_is_help=False)
@_quiet_on_a_closed_pipe
def journal(
    source: InputArg = None,
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    json_output: JsonOpt = False,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    from restate_inspect.render.journal import JournalRenderer  # noqa: PLC0415
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    where = Source(source, request, response, input_format, direction)
    selection = Selection.of(stream, invocation, service)
    console = _console(color)
    text, problems = JournalRenderer(console), TextRenderer(console)
    tally = Tally()
    shown = 0
    try:
        with _progress(source) as progress:
            events = decode_events(where.events(progress), max_length=max_length)
            for item in invocations(events):
                if isinstance(item, Invocation):
                    if not selection.wants_invocation(item):
                        continue
                    shown += 1
                    _tally_invocation(tally, item)
                    if json_output:
                        _write_records(invocation_records(item))
                    else:
                        text.invocation(item)
                elif isinstance(item, Problem) and not selection:
                    tally.add(item)
                    if json_output:
                        _write_records([problem_record(item)])
                    else:
                        problems.render(item)
    except InputError as exc:
        _fail(str(exc))
    if not json_output:
        problems.summary(tally)
    selection.tell_if_nothing(shown)
    raise typer.Exit(EXIT_PROBLEMS if tally.failing else EXIT_CLEAN)


def _tally_invocation(tally: Tally, invocation: Invocation) -> None:
    tally.streams += len(invocation.attempts)
    for attempt in invocation.attempts:
        for moment in attempt.timeline:
            if moment.item is not None:
                tally.add(moment.item)
            for finding in moment.findings:
                tally.add(finding)


def _write_records(records: Iterable[dict[str, Any]]) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(b"".join(encode(r) for r in records))
    sys.stdout.buffer.flush()


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


CHECK_HELP = """Check the conversation against the protocol's rules: every finding, with its
code, severity, invocation, attempt, stream, direction, offset and entry index.

Exit code 1 when a finding is an error (or, with --fail-on, a warning or any finding).

\b
Examples:
  restate-inspect check samples/v1-features.pcapng
  restate-inspect check --fail-on warning --request attempt.req.bin --response attempt.resp.bin
  restate-inspect check --json capture.pcapng | jq -r '.code' | sort | uniq -c
  restate-inspect check capture.pcapng --ignore RI233,RI241

Every code is explained by `restate-inspect rules`.
"""


@app.command(help=CHECK_HELP, no_args_is_help=False)
@_quiet_on_a_closed_pipe
def check(
    source: InputArg = None,
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    json_output: JsonOpt = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="The least severe finding that makes exit 1.")
    ] = FailOn.ERROR,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            metavar="CODE",
            help="Leave out the findings with this code, or codes that start so (repeat it, "
            "or list codes with commas); they do not count for the exit code.",
        ),
    ] = None,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    jobs: JobsOpt = 0,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    ignored = _rule_codes(ignore or [])
    where = Source(source, request, response, input_format, direction)
    selection = Selection.of(stream, invocation, service)
    console = _console(color)
    text = TextRenderer(console)
    tally = Tally()
    checked = 0
    try:
        with _progress(source) as progress:
            for item in _checked_invocations(where, max_length, _jobs(where, jobs), progress):
                if isinstance(item, Invocation):
                    if not selection.wants_invocation(item):
                        continue
                    checked += 1
                    findings = _findings(item)
                elif isinstance(item, Problem) and not selection:
                    findings = [item]
                else:
                    continue
                for finding in findings:
                    if finding.code in ignored:
                        continue
                    tally.add(finding)
                    if json_output:
                        _write_records([problem_record(finding)])
                    else:
                        text.finding(finding)
    except InputError as exc:
        _fail(str(exc))
    if not json_output:
        text.check_summary(tally, checked)
    selection.tell_if_nothing(checked)
    failing = any(tally.problems[s] for s in _AT_LEAST[fail_on])
    raise typer.Exit(EXIT_PROBLEMS if failing else EXIT_CLEAN)


def _checked_invocations(
    source: Source, max_length: int, jobs: int, progress: Callable[[int], None] | None
) -> Iterator[Journaled]:
    """The invocations, built in this process or from the attempts of workers."""
    if jobs > 1 and source.path is not None:
        from restate_inspect.parallel import attempts, sharded  # noqa: PLC0415 - forks

        built = sharded(source.path, attempts(max_length=max_length), jobs=jobs, progress=progress)
        return tracked(built)
    return invocations(decode_events(source.events(progress), max_length=max_length))


def _rule_codes(asked: list[str]) -> list[str]:
    """The catalogue's codes that were asked for, listed with commas or not, in any case; a
    start of codes (RI2) asks for every code it starts. One that asks for none is a usage
    error."""
    codes: list[str] = []
    for word in (w.strip().upper() for text in asked for w in text.split(",")):
        if not word:
            continue
        found = [code for code in RULES if code.startswith(word)]
        if not found:
            _fail(f"no rule has the code {word!r}; `restate-inspect rules` lists them")
        codes += [code for code in found if code not in codes]
    return codes


RULES_HELP = """The catalogue of findings: each code, its severity, what it means, and where
the spec (or the capture, the input) says so. Codes are stable: scripts may match on them.

\b
Examples:
  restate-inspect rules
  restate-inspect rules RI210 RI3
  restate-inspect rules --json | jq -r 'select(.severity == "error") | .code'
"""


@app.command(help=RULES_HELP, no_args_is_help=False)
@_quiet_on_a_closed_pipe
def rules(
    codes: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[CODE]...",
            help="Only these codes, or the codes that start so (RI2: the journal's rules).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    from rich.text import Text  # noqa: PLC0415

    from restate_inspect.render.text import SEVERITY_STYLES  # noqa: PLC0415

    chosen = [RULES[code] for code in _rule_codes(codes)] if codes else RULES.values()
    if json_output:
        _write_records(
            {"kind": "rule", "code": r.code, "severity": r.severity.value, "text": r.title,
             "reference": r.reference}
            for r in chosen
        )  # fmt: skip
        return
    console = _console(color)
    for rule in chosen:
        line = Text(f"{rule.code}  ")
        line.append(f"{rule.severity.value:<8}", SEVERITY_STYLES[rule.severity])
        line.append(f"{rule.title}  ").append(f"({rule.reference})", "dim")
        console.print(line)


_AT_LEAST = {
    FailOn.ERROR: (Severity.ERROR,),
    FailOn.WARNING: (Severity.ERROR, Severity.WARNING),
    FailOn.INFO: (Severity.ERROR, Severity.WARNING, Severity.INFO),
}


def _findings(invocation: Invocation) -> list[Problem]:
    """Every problem of an invocation's attempts: the decoder's and the rules'."""
    out: list[Problem] = []
    for attempt in invocation.attempts:
        for moment in attempt.timeline:
            if isinstance(moment.item, Problem):
                out.append(
                    replace(
                        moment.item, invocation_id=attempt.invocation_id, attempt=attempt.number
                    )
                )
            out.extend(moment.findings)
    return out


STREAMS_HELP = """List the HTTP streams of a capture: one row per stream.

Each row: start time and duration, the stream (tcpN/sM for HTTP/2, tcpN/mM for HTTP/1.1),
method and path, protocol version, HTTP version and status, invocation id, Restate frames
and bytes each way, and how it ended: end, suspended on entries, error with its code, no
terminal message, reset.

\b
Examples:
  restate-inspect streams capture.pcapng
  restate-inspect streams capture.pcap.gz
  restate-inspect streams capture.pcap --service Greeter --export bodies/
  restate-inspect streams --json capture.pcap | jq -r 'select(.ending != "end") | .stream'
"""


@app.command(help=STREAMS_HELP, no_args_is_help=False)
@_quiet_on_a_closed_pipe
def streams(
    source: InputArg = None,
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    json_output: JsonOpt = False,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    jobs: JobsOpt = 0,
    color: ColorOpt = ColorMode.AUTO,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="DIR",
            file_okay=False,
            help="Also write the request and response body of each listed Restate stream "
            "to DIR (NNN_tcpT_sS.req.bin, .resp.bin), with an index.ndjson.",
        ),
    ] = None,
) -> None:
    where = Source(source, request, response, input_format, direction)
    selection = Selection.of(stream, invocation, service)
    from restate_inspect.render.text import LinePrinter, StreamTable, counted  # noqa: PLC0415

    bodies = _body_export(export)

    console = _console(color)
    table = StreamTable(console)
    buffer = io.StringIO()
    recorder = LinePrinter(_mirror(console, buffer))

    files: dict[StreamKey, Summary] = {}  # a file's stream comes item by item: one row

    def emit(row: StreamSummary) -> bytes:
        if json_output:
            return encode(stream_summary_record(row))
        recorder(table.row_text(row))
        recorder.flush()
        return _taken(buffer)

    def render(group: StreamGroup) -> tuple[bytes, Tally]:
        tally = Tally()
        for item in group.items:
            tally.add(item)
        if group.stream is None:
            return b"", tally
        if group.info is None:
            summary = files.setdefault(group.stream, Summary(group.stream, None))
            for item in group.items:
                summary.add(item)
            return b"", tally
        row = summarize(group)
        wanted = selection.wants_row(row)
        if bodies is not None:
            (bodies.keep if wanted else bodies.drop)(row)
        if not wanted:
            return b"", tally
        tally.streams += 1
        return emit(row), tally

    def file_rows() -> Iterator[tuple[bytes, Tally]]:
        for summary in files.values():
            row = summary.row()
            if summary.took and selection.wants_row(row):
                yield emit(row), Tally(streams=1)

    if not json_output:
        console.print(table.header_text())
    try:
        with _progress(source) as progress:
            outputs = _outputs(
                where,
                render,
                max_length=max_length,
                jobs=_jobs(where, jobs),
                progress=progress,
                through=None if bodies is None else bodies.tee,
            )
            tally = _write_all(itertools.chain(outputs, file_rows()))
    except InputError as exc:
        _fail(str(exc))
    finally:
        if bodies is not None:
            bodies.close()
    if not json_output:
        console.print(table.footer_text(tally))
    selection.tell_if_nothing(tally.streams)
    if bodies is not None:
        sys.stderr.write(
            f"restate-inspect: {counted(bodies.kept, 'Restate stream')} exported to "
            f"{bodies.directory}"
            + (f" (see {INDEX})\n" if bodies.kept else ": only a capture's are\n")
        )
    raise typer.Exit(EXIT_PROBLEMS if tally.failing else EXIT_CLEAN)


def _body_export(directory: Path | None) -> BodyExport | None:
    if directory is None:
        return None
    try:
        return BodyExport(directory)
    except OSError as exc:
        _fail(f"cannot export to {directory}: {exc.strerror or exc}")


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
  restate-inspect tui capture.pcapng --service Greeter
  xxd -p attempt.bin | restate-inspect tui -
  sudo tcpdump -i lo -U -w - port 9080 | restate-inspect tui -
"""
MaxInvocationsOpt = Annotated[
    int,
    typer.Option(
        "--max-invocations",
        metavar="N",
        min=1,
        help="Invocations kept in memory; narrow a bigger capture with --service or --stream.",
    ),
]


TuiInputArg = Annotated[
    str | None,
    typer.Argument(
        metavar="INPUT",
        help=_INPUT_HELP.format(
            live=" (a live capture too)", without="a pipe on stdin, or else the bundled sample"
        ),
        show_default=False,
    ),
]


@app.command(help=TUI_HELP, no_args_is_help=False)
def tui(
    source: TuiInputArg = None,
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    max_invocations: MaxInvocationsOpt = 100_000,
) -> None:
    if not stdout_is_terminal():
        _fail("the tui needs a terminal; for a pipe use decode, journal or check")
    piped = source is None and not (request or response) and not stdin_is_terminal()
    size: int | None
    stop = threading.Event()  # set when the app ends
    data: bytes | Readable | None = None
    if source == "-" or piped:
        pipe = _stdin_pipe()  # a pipe goes on being read while the app runs: a live capture
        data = sys.stdin.buffer.read() if pipe is None else _StoppablePipe(pipe, stop)
        _keys_from_terminal()
        source, name = "-", "<stdin>"
        size = len(data) if isinstance(data, bytes) else None
    elif source is None and not (request or response):
        source, name = str(SAMPLE_CAPTURE), "the bundled sample (samples/v1-features.pcapng)"
        size = SAMPLE_CAPTURE.stat().st_size
    else:
        name = source or pair_name(str(request or "-"), str(response or "-"))
        for path in (source, request, response):
            if path is not None and not os.access(path, os.R_OK):
                _fail(f"cannot open {path}")
        size = os.path.getsize(source) if source and os.path.isfile(source) else None
    where = Source(source, request, response, input_format, direction, data)
    where.events()  # usage errors now, before the screen changes (events are read lazily)
    selection = Selection.of(stream, invocation, service)

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        events = decode_events(where.events(progress), max_length=max_length)
        for item in invocations(events):
            if isinstance(item, Invocation):
                if selection.wants_invocation(item):
                    yield item
            elif not (selection and isinstance(item, Problem)):
                yield item

    from restate_inspect.tui.app import run  # noqa: PLC0415 - Textual only for this command

    run(load, name, size, max_invocations, stop)


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
        _fail("no terminal to take keys from; for a pipe use decode, journal or check")
    os.dup2(terminal, 0)  # Textual reads keys from file descriptor 0
    os.close(terminal)


def main() -> None:
    """Console entry point: no traceback reaches the user for anything the input does."""
    # A decoding run makes millions of short-lived, acyclic objects: collecting them for
    # cycles every 700 allocations is wasted work. What lives long is frozen out of sight.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(EXIT_CLEAN)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug in restate-inspect, not in the input
        if os.environ.get("RESTATE_INSPECT_DEBUG"):
            traceback.print_exc()
        print(
            f"restate-inspect: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug; please report it with the input. "
            "RESTATE_INSPECT_DEBUG=1 shows the traceback.",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
