"""`proxy`: between the runtime and an SDK endpoint, forward every byte and show the
conversation as it goes, with no root and no capture file."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from restate_inspect.cli.checking import FailOn, run_check, show_journal
from restate_inspect.cli.options import (
    ColorMode,
    ColorOpt,
    Inputs,
    JsonOpt,
    Selection,
    Source,
    fail,
    stdout_is_terminal,
)
from restate_inspect.events import Endpoint, InputEvent
from restate_inspect.framing import DEFAULT_MAX_LENGTH
from restate_inspect.readers import InputFormat
from restate_inspect.readers.formats import InputError

PROXY_HELP = """Forward the runtime's connections to an SDK endpoint, byte for byte, and show
the conversation that passes, as each invocation ends: no root, no capture file.

Register the proxy's address as the deployment instead of the endpoint's. It listens on
loopback unless told otherwise; HTTP/2 (h2c) and HTTP/1.1, every protocol version.
Ctrl-C stops it: what is still open is shown as cut short.

\b
Examples:
  restate-inspect proxy --upstream localhost:9080
  restate deployments register http://localhost:9081
  restate-inspect proxy --upstream localhost:9080 --check --write session.pcapng
  restate-inspect proxy --listen 0.0.0.0:9081 --upstream sdk:9080 --json | jq .ending
"""


def _endpoint(text: str, what: str) -> Endpoint:
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        fail(f"{what} must be HOST:PORT, not {text!r}")
    return (host.strip("[]") or "127.0.0.1"), int(port)


UpstreamOpt = Annotated[
    str, typer.Option("--upstream", metavar="HOST:PORT", help="The SDK endpoint.")
]
ListenOpt = Annotated[
    str,
    typer.Option("--listen", metavar="HOST:PORT", help="Where the runtime connects (loopback)."),
]
CheckOpt = Annotated[
    bool, typer.Option("--check", help="Only the findings, as `check` prints them.")
]
TuiOpt = Annotated[bool, typer.Option("--tui", help="Open the TUI on the live conversation.")]
WriteOpt = Annotated[
    Path | None,
    typer.Option(
        "--write",
        metavar="FILE.pcapng",
        help="Also save what passes as a capture that every command reads back.",
    ),
]


def proxy(
    upstream: UpstreamOpt,
    listen: ListenOpt = "127.0.0.1:9081",
    json_output: JsonOpt = False,
    check: CheckOpt = False,
    tui: TuiOpt = False,
    write: WriteOpt = None,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    # here, not at the top: asyncio (and ssl with it) would add 40 ms to every command's start
    from restate_inspect.readers.proxy import Proxy, proxy_events  # noqa: PLC0415

    server = Proxy(_endpoint(listen, "--listen"), _endpoint(upstream, "--upstream"))
    try:
        handle = write.open("wb") if write is not None else None
    except OSError as exc:
        fail(f"cannot write {write}: {exc.strerror or exc}")
    try:
        bound = server.start()
    except InputError as exc:
        fail(str(exc))
    _say_where(bound, server.upstream, write)
    signal.signal(signal.SIGTERM, _interrupted)  # as Ctrl-C: what is open is shown cut short
    inputs = _inputs(lambda: proxy_events(server, handle))
    if tui:
        _tui(inputs, f"the proxy on {bound[0]}:{bound[1]}")
    elif check:
        run_check(inputs, json_output=json_output, fail_on=FailOn.ERROR, color=color)
    else:
        show_journal(inputs, json_output=json_output, color=color)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _inputs(feed: Callable[[], Iterator[InputEvent]]) -> Inputs:
    source = Source(None, None, None, InputFormat.AUTO, None, feed=feed)
    return Inputs(source, Selection(), DEFAULT_MAX_LENGTH)


def _say_where(bound: Endpoint, upstream: Endpoint, write: Path | None) -> None:
    host, port = bound
    scope = "loopback only" if host in ("127.0.0.1", "::1", "localhost") else "every interface"
    lines = [
        f"restate-inspect: proxy on {host}:{port} ({scope}), forwarding to "
        f"{upstream[0]}:{upstream[1]}",
        f"  register it as the deployment: restate deployments register http://{host}:{port}",
    ]
    if write is not None:
        lines.append(f"  saving what passes to {write}")
    lines.append("  Ctrl-C stops it")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def _tui(inputs: Inputs, name: str) -> None:
    if not stdout_is_terminal():
        fail("the tui needs a terminal; without --tui the proxy prints the journal")
    from restate_inspect.cli.browsing import open_tui  # noqa: PLC0415

    open_tui(inputs, name)
