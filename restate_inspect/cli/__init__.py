"""The command line: parse options, build the pipeline, pick a renderer, set the exit code.

Exit codes: 0 the input is clean, 1 problems were found in it (errors or warnings),
2 usage error or unreadable input, 3 an internal error (a bug: please report it).

One module per group of commands: `decoding` (decode, streams), `checking` (journal,
check, rules), `browsing` (tui); `options` and `output` are what they share.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from typing import Annotated

import typer

from restate_inspect import __version__
from restate_inspect.cli.browsing import TUI_HELP, tui
from restate_inspect.cli.checking import CHECK_HELP, JOURNAL_HELP, RULES_HELP, check, journal, rules
from restate_inspect.cli.decoding import DECODE_HELP, STREAMS_HELP, decode, streams
from restate_inspect.cli.options import EXIT_CLEAN, EXIT_INTERNAL
from restate_inspect.cli.output import quiet_on_a_closed_pipe, silence_stdout
from restate_inspect.cli.proxying import PROXY_HELP, proxy

app = typer.Typer(
    name="restate-inspect",
    help="Decode, check and browse Restate service-protocol traffic (protocol V1 to V8): "
    "captured streams, pcap/pcapng captures, the runtime's stored journal, or live, through "
    "a proxy.",
    epilog="Each command's --help has examples; `restate-inspect rules` explains every "
    "finding. Exit codes: 0 clean, 1 problems found in the input (or nothing found), 2 usage "
    "error or unreadable input, 3 internal error (a bug: please report it).",
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


for _command, _help in (
    (decode, DECODE_HELP),
    (journal, JOURNAL_HELP),
    (check, CHECK_HELP),
    (rules, RULES_HELP),
    (streams, STREAMS_HELP),
    (proxy, PROXY_HELP),
):
    app.command(help=_help, no_args_is_help=False)(quiet_on_a_closed_pipe(_command))
app.command(help=TUI_HELP, no_args_is_help=False)(tui)  # the app owns the terminal's output


def main() -> None:
    """Console entry point: no traceback reaches the user for anything the input does."""
    # A decoding run makes millions of short-lived, acyclic objects: collecting them for
    # cycles every 700 allocations is wasted work. What lives long is frozen out of sight.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        app()
    except BrokenPipeError:
        silence_stdout()
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
