"""The command line: parse options, build the pipeline, pick a renderer, set the exit code.

Exit codes: 0 the input is clean, 1 problems were found in it (errors or warnings),
2 usage error or unreadable input, 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from restate_inspect import __version__
from restate_inspect.framing import DEFAULT_MAX_LENGTH
from restate_inspect.location import Direction
from restate_inspect.pipeline import Decoded, decode_events
from restate_inspect.readers import InputError, InputEvent, InputFormat, read_input, read_pair
from restate_inspect.render.jsonl import dumps, frame_record, problem_record
from restate_inspect.render.text import Tally, TextRenderer
from restate_inspect.rules import Problem

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


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
    Console(stderr=True, highlight=False, markup=False).print(f"restate-inspect: error: {message}")
    raise typer.Exit(code)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _events(
    source: str | None,
    request: str | None,
    response: str | None,
    input_format: InputFormat,
    direction: Direction | None,
) -> Iterator[InputEvent]:
    if source is not None and (request or response):
        _fail("give either INPUT or --request/--response, not both")
    if request and response:
        return read_pair(request, response, input_format=input_format)
    if request or response:
        path, side = (
            (request, Direction.RUNTIME_TO_SDK) if request else (response, Direction.SDK_TO_RUNTIME)
        )
        return read_input(str(path), input_format=input_format, direction=side)
    if source is None:
        if stdin_is_terminal():
            _fail("no input: give a file, '-' for stdin, or pipe bytes in (see --help)")
        source = "-"
    return read_input(source, input_format=input_format, direction=direction)


def _console(color: ColorMode) -> Console:
    force = {ColorMode.ALWAYS: True, ColorMode.NEVER: False}.get(color)
    return Console(
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        force_terminal=force,
        no_color=True if color is ColorMode.NEVER else None,
    )


InputArg = Annotated[
    str | None,
    typer.Argument(
        metavar="INPUT",
        help="A file of raw, hex or base64 bytes, or - for stdin. Without it, a pipe on stdin.",
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

DECODE_HELP = """Decode every frame of a stream: header, fields, payloads, annotations.

\b
Examples:
  restate-inspect decode samples/v1-call-other.req.bin
  restate-inspect decode --request attempt.req.bin --response attempt.resp.bin
  xxd -p stream.bin | restate-inspect decode
  restate-inspect decode --json stream.hex | jq 'select(.kind == "problem")'
  restate-inspect decode --bytes --input-format base64 lambda-body.txt
"""


@app.command(help=DECODE_HELP, no_args_is_help=False)
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
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    events = _events(source, request, response, input_format, direction)
    decoded = decode_events(events, max_length=max_length)
    tally = Tally()
    try:
        if json_output:
            _write_json(decoded, tally, show_bytes)
        else:
            _write_text(decoded, tally, _console(color), show_bytes, max_payload)
    except InputError as exc:
        _fail(str(exc))
    raise typer.Exit(EXIT_PROBLEMS if tally.failing else EXIT_CLEAN)


def _write_json(decoded: Iterator[Decoded], tally: Tally, show_bytes: bool) -> None:
    write = sys.stdout.write
    for item in decoded:
        tally.add(item)
        if isinstance(item, Problem):
            write(dumps(problem_record(item)) + "\n")
        else:
            write(dumps(frame_record(item, with_bytes=show_bytes)) + "\n")
    sys.stdout.flush()


def _write_text(
    decoded: Iterator[Decoded], tally: Tally, console: Console, show_bytes: bool, max_payload: int
) -> None:
    renderer = TextRenderer(console, show_bytes=show_bytes, max_payload=max_payload)
    for item in decoded:
        tally.add(item)
        renderer.render(item)
    renderer.summary(tally)


def main() -> None:
    """Console entry point: no traceback reaches the user for anything the input does."""
    try:
        app()
    except BrokenPipeError:
        # the reader went away (| head): stop quietly, and keep Python from complaining
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
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
