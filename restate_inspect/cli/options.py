"""What every command that reads an input shares: its options, where the input comes from
(Source), which streams and invocations to show (Selection), and how a usage error ends."""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, NoReturn

import typer

from restate_inspect.events import InputEvent
from restate_inspect.framing import DEFAULT_MAX_LENGTH
from restate_inspect.invocations import Invocation, Journaled
from restate_inspect.location import Direction
from restate_inspect.pipeline import Decoded, decode_events
from restate_inspect.readers import (
    InputFormat,
    capture_kind,
    read_input,
    read_invocations,
    read_pair,
)
from restate_inspect.readers.admin import admin_events
from restate_inspect.readers.pcapfile import Readable
from restate_inspect.rules import Problem
from restate_inspect.streams import StreamGroup, StreamSummary, Tally, summarize
from restate_inspect.values import safe_text

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"restate-inspect: error: {safe_text(message)}", file=sys.stderr)
    raise typer.Exit(code)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


class ColorMode(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


INPUT_HELP = (
    "A capture (pcap, pcapng), or a file of raw, hex or base64 bytes or of bytes printed by "
    "code, or - for stdin (a live capture too); gzip, bzip2 and xz are decompressed. "
    "Without it, {without}."
)
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
ProtocolVersionOpt = Annotated[
    int | None,
    typer.Option(
        "--protocol-version",
        metavar="N",
        min=1,
        help="Read streams whose content type does not tell their version (raw bytes, hex, "
        "--request/--response, a capture joined mid-connection) as version N. Default: "
        "inferred from their bytes, and said so (RI115).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="NDJSON records instead of text.")]
ColorOpt = Annotated[ColorMode, typer.Option("--color", help="Colour: auto (on a terminal).")]
_NO_LIMIT = 0xFFFF_FFFF  # a frame header's u32 length can say no more
_SIZE = re.compile(r"(\d+)\s*(?:([kmg])(?:i?b)?|b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(text: str | int) -> int:
    """A size as people write it: 4096, 64k, 64M, 1GiB (powers of 1024); a default as is."""
    if isinstance(text, int):
        return text
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a size: write 4096, 64k, 64M or 1G")
    return int(match[1]) * _UNITS[(match[2] or "").lower()]


MaxLengthOpt = Annotated[
    int,
    typer.Option(
        "--max-length",
        metavar="BYTES",
        parser=byte_size,
        help="Largest frame body to accept (64M, 1G...); 0: no limit. Default: 64M.",
        show_default=False,
    ),
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
InvocationsOpt = Annotated[
    str | None,
    typer.Option(
        "--invocations",
        metavar="FILE",
        help="sys_invocation rows for a sys_journal dump (restate sql --json 'select * from "
        "sys_invocation'): each invocation's pinned protocol version, status, last failure.",
    ),
]
AdminOpt = Annotated[
    str | None,
    typer.Option(
        "--admin",
        metavar="URL",
        help="Read the runtime's stored journals from its admin API (http://localhost:9070), "
        "those of --invocation and --service (all when none is given), instead of INPUT.",
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        metavar="TOKEN",
        envvar="RESTATE_AUTH_TOKEN",
        help="Bearer token for --admin (default: $RESTATE_AUTH_TOKEN, as Restate's CLI).",
        show_default=False,
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
    admin: Admin | None = None  # the admin API to ask instead, and what to ask it for
    invocations: str | None = None  # sys_invocation rows beside a sys_journal dump
    feed: Callable[[], Iterator[InputEvent]] | None = None  # events from elsewhere: a proxy

    def events(self, progress: Callable[[int], None] | None = None) -> Iterator[InputEvent]:
        if self.feed is not None:
            return self.feed()
        if self.admin is not None:
            if self.path is not None or self.request or self.response:
                fail("give either INPUT (or --request/--response) or --admin, not both")
            return admin_events(*self.admin)
        if self.path is not None and (self.request or self.response):
            fail("give either INPUT or --request/--response, not both")
        if self.request and self.response:
            return read_pair(self.request, self.response, input_format=self.input_format)
        if self.request or self.response:
            side = Direction.RUNTIME_TO_SDK if self.request else Direction.SDK_TO_RUNTIME
            path = str(self.request or self.response)
            return read_input(path, input_format=self.input_format, direction=side)
        if self.path is None and stdin_is_terminal():
            fail("no input: give a file, '-' for stdin, or pipe bytes in (see --help)")
        return read_input(
            self.path or "-",
            input_format=self.input_format,
            direction=self.direction,
            progress=progress,
            piped=self.piped,
            invocations=read_invocations(self.invocations) if self.invocations else None,
        )


class Admin(NamedTuple):
    """--admin: the admin API's URL, the invocations and services chosen, the token."""

    url: str
    invocations: tuple[str, ...]
    services: tuple[str, ...]
    token: str | None


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

    def matched_nothing(self, found: int) -> bool:
        """A selection that matched nothing, said on stderr: more likely a typo than news,
        and not a clean result (exit 1)."""
        if not self or found:
            return False
        options = [f"--stream {s}" for s in self.streams]
        options += [f"--invocation {i}" for i in self.invocations]
        options += [f"--service {s}" for s in self.services]
        sys.stderr.write(f"restate-inspect: nothing in the input matches {' '.join(options)}\n")
        return True

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

    def chosen(self, items: Iterable[Journaled]) -> Iterator[Journaled]:
        """The selected invocations; problems outside any invocation (of no stream that
        could be selected) only when nothing is selected; discovery always."""
        for item in items:
            if isinstance(item, Invocation):
                if self.wants_invocation(item):
                    yield item
            elif not (self and isinstance(item, Problem)):
                yield item

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


@dataclass(frozen=True)
class Inputs:
    """The options of a command that reads an input, gathered: where from, what to show."""

    source: Source
    selection: Selection
    max_length: int
    protocol_version: int | None = None

    def decoded(
        self,
        progress: Callable[[int], None] | None = None,
        through: Callable[[Iterator[InputEvent]], Iterator[InputEvent]] | None = None,
        source: Source | None = None,
    ) -> Iterator[Decoded]:
        """The input's frames, read by their streams' protocol versions. through: what the
        input events pass through first; source: another place to read them from."""
        events = (source or self.source).events(progress)
        if through is not None:
            events = through(events)
        return decode_events(
            events, max_length=self.max_length, protocol_version=self.protocol_version
        )

    def matched_nothing(self, found: int, tally: Tally) -> bool:
        """Whether a selection matched nothing (exit 1), said on stderr; and, for a capture
        without any Restate traffic, how the traffic is recognised (likely a capture taken
        in the wrong place; not said when errors or warnings about the capture are reason
        enough: cut short, corrupt, one side of its connections missing...)."""
        if self.selection:
            return self.selection.matched_nothing(found)
        path = self.source.path
        if found or tally.failing or path in (None, "-") or not capture_kind(str(path)):
            return False
        sys.stderr.write(
            f"restate-inspect: no Restate invocation in {safe_text(str(path))}.\n"
            "  Its traffic is recognised on any port by its requests (POST .../invoke/SERVICE/"
            "HANDLER,\n  content-type application/vnd.restate.invocation.vN), in cleartext "
            "HTTP/2 (h2c) or HTTP/1.1:\n  capture where the runtime reaches the SDK endpoint. "
            "`restate-inspect streams` lists\n  the HTTP that the capture holds.\n"
        )
        return False


def _input_options(
    source: str | None = None,  # reads_input gives it its help
    request: RequestOpt = None,
    response: ResponseOpt = None,
    input_format: FormatOpt = InputFormat.AUTO,
    direction: DirectionOpt = None,
    protocol_version: ProtocolVersionOpt = None,
    max_length: MaxLengthOpt = DEFAULT_MAX_LENGTH,
    stream: StreamOpt = None,
    invocation: InvocationOpt = None,
    service: ServiceOpt = None,
    invocations: InvocationsOpt = None,
    admin: AdminOpt = None,
    token: TokenOpt = None,
) -> Inputs:
    selection = Selection.of(stream, invocation, service)
    asked = Admin(admin, selection.invocations, selection.services, token) if admin else None
    return Inputs(
        Source(source, request, response, input_format, direction, None, asked, invocations),
        selection,
        max_length or _NO_LIMIT,  # 0 means no limit, as for --max-payload
        protocol_version,
    )


_INPUT_FIRST = 6  # of the input options, the ones --help lists before a command's own


def reads_input(
    without_input: str = "a pipe on stdin",
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Makes command(inputs, **its own options) a command that reads an input. Its command
    line has the input options, then its own, then the input's limits and filters; they
    reach it gathered into one Inputs. without_input: what is read when INPUT is not given."""
    shared = list(inspect.signature(_input_options, eval_str=True).parameters.values())
    names = [p.name for p in shared]
    argument = typer.Argument(
        metavar="INPUT", help=INPUT_HELP.format(without=without_input), show_default=False
    )
    shared[0] = shared[0].replace(annotation=Annotated[str | None, argument])

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]

        @functools.wraps(command)
        def run(**options: Any) -> None:
            inputs = _input_options(**{name: options.pop(name) for name in names})
            command(inputs, **options)

        parameters = shared[:_INPUT_FIRST] + own + shared[_INPUT_FIRST:]
        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate
