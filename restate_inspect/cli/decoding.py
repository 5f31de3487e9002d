"""`decode` and `streams`: the frames of every stream, and one row per stream."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from restate_inspect.cli.options import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    ColorMode,
    ColorOpt,
    Inputs,
    JsonOpt,
    Selection,
    byte_size,
    fail,
    reads_input,
)
from restate_inspect.cli.output import (
    console_for,
    json_render,
    mirror,
    progress_bar,
    quiet_on_a_closed_pipe,
    rendered_groups,
    taken,
    text_render,
    write_all,
)
from restate_inspect.export import INDEX, BodyExport
from restate_inspect.location import StreamKey
from restate_inspect.readers import InputError, capture_kind
from restate_inspect.render.jsonl import encode, stream_summary_record
from restate_inspect.rules import Problem, counted
from restate_inspect.streams import StreamGroup, StreamSummary, Summary, Tally, summarize

if TYPE_CHECKING:  # rich is imported when text is written
    from restate_inspect.render.streamtable import StreamTable

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


@quiet_on_a_closed_pipe
@reads_input()
def decode(
    inputs: Inputs,
    json_output: JsonOpt = False,
    show_bytes: Annotated[
        bool, typer.Option("--bytes", help="Add a hexdump of each frame, header marked.")
    ] = False,
    max_payload: Annotated[
        int,
        typer.Option(
            "--max-payload",
            metavar="BYTES",
            parser=byte_size,
            help="Payload bytes shown in text (2048, 64k...); 0: all.  [default: 2048]",
            show_default=False,
        ),
    ] = 2048,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    where, selection = inputs.source, inputs.selection
    console = None if json_output else console_for(color)  # NDJSON needs no rich
    if console is None:
        render = json_render(show_bytes, selection)
    else:
        render = text_render(console, selection, show_bytes=show_bytes, max_payload=max_payload)
    try:
        with progress_bar(where.path) as progress:
            outputs = rendered_groups(inputs, render, progress=progress)
            tally = write_all(outputs)
    except InputError as exc:
        fail(str(exc))
    if console is not None:
        from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

        TextRenderer(console).summary(tally)
    nothing = inputs.matched_nothing(tally.frames, tally)
    raise typer.Exit(EXIT_PROBLEMS if tally.failing or nothing else EXIT_CLEAN)


STREAMS_HELP = """List the HTTP streams of a capture: one row per stream.

Each row: start time and duration, the stream (tcpN/sM for HTTP/2, tcpN/mM for HTTP/1.1),
method and path, protocol version, HTTP version and status, invocation id, Restate frames
and bytes each way, and how it ended: end, suspended on entries, error with its code, no
terminal message, reset.

\b
Examples:
  restate-inspect streams capture.pcapng
  restate-inspect streams capture.pcap.gz
  restate-inspect streams capture.pcap --service Counter --export bodies/
  restate-inspect streams --json capture.pcap | jq -r 'select(.ending != "end") | .stream'
"""
ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export",
        metavar="DIR",
        file_okay=False,
        help="Also write the request and response body of each listed Restate stream "
        "to DIR (NNN_tcpT_sS.req.bin, .resp.bin), with an index.ndjson.",
    ),
]


@quiet_on_a_closed_pipe
@reads_input()
def streams(
    inputs: Inputs,
    json_output: JsonOpt = False,
    color: ColorOpt = ColorMode.AUTO,
    export: ExportOpt = None,
) -> None:
    from restate_inspect.render.streamtable import StreamTable  # noqa: PLC0415

    where, selection = inputs.source, inputs.selection
    if export is not None and where.path not in (None, "-") and not _is_capture(where.path):
        fail(f"--export writes the bodies of a capture's streams; {where.path} is not a capture")
    bodies = _body_export(export)
    console = console_for(color)
    table = StreamTable(console)
    rows = _StreamRows(selection, table, bodies, json_output=json_output)
    through = None if bodies is None else bodies.tee
    try:
        with progress_bar(where.path) as progress:
            groups = rendered_groups(inputs, rows.render, progress=progress, through=through)
            tally = Tally()
            for _, counts in groups:
                tally.merge(counts)
            rows.add_file_rows(tally)
    except InputError as exc:
        fail(str(exc))
    finally:
        if bodies is not None:
            bodies.close()
    if not json_output:
        console.print(table.header_text())
    write_all((row, Tally()) for row in rows.in_order())
    if not json_output:
        console.print(table.footer_text(tally))
    nothing = selection.matched_nothing(tally.streams)
    if bodies is not None:
        nothing = _said_exported(bodies) or nothing
    raise typer.Exit(EXIT_PROBLEMS if tally.failing or nothing else EXIT_CLEAN)


def _said_exported(bodies: BodyExport) -> bool:
    """Say on stderr what --export wrote; True when it wrote nothing."""
    sys.stderr.write(
        f"restate-inspect: {counted(bodies.kept, 'Restate stream')} exported to "
        f"{bodies.directory}" + (f" (see {INDEX})\n" if bodies.kept else ": only a capture's are\n")
    )
    return not bodies.kept


def _is_capture(path: str) -> bool:
    try:
        return capture_kind(path) is not None
    except InputError:
        return True  # reading it says why it cannot be read


class _StreamRows:
    """Stream groups as table rows or NDJSON records. A capture's stream is one group; a
    file's stream comes item by item, so its one row is written after the last item."""

    def __init__(
        self,
        selection: Selection,
        table: StreamTable,
        bodies: BodyExport | None,
        *,
        json_output: bool,
    ) -> None:
        from restate_inspect.render.text import LinePrinter, TextRenderer  # noqa: PLC0415

        self.selection = selection
        self._table = table
        self._bodies = bodies
        self._json_output = json_output
        self._buffer = io.StringIO()
        recorder = mirror(table.console, self._buffer)
        self._printer = LinePrinter(recorder)
        self._findings = TextRenderer(recorder)
        self._files: dict[StreamKey, tuple[Summary, Tally]] = {}
        self._rows: list[tuple[float | None, int, bytes]] = []  # start, arrival, the row
        self._below: list[bytes] = []

    def render(self, group: StreamGroup) -> tuple[bytes, Tally]:
        """Keeps the group's row (the table is in order of start, and streams end in
        another order: a row is a few hundred bytes, held to the end); the tally of what
        is shown."""
        tally = Tally()
        if group.stream is None:  # what no stream has (TLS, TCP trouble): below the rows
            if self.selection.wants(group):
                self._tally(tally, group)
                self._below.append(self._capture_wide(group))
            return b"", tally
        if group.info is None:
            summary, counts = self._files.setdefault(
                group.stream, (Summary(group.stream, None), Tally())
            )
            for item in group.items:
                summary.add(item)
            self._tally(counts, group)
            return b"", tally
        row = summarize(group)
        wanted = self.selection.wants_row(row)
        if self._bodies is not None:
            (self._bodies.keep if wanted else self._bodies.drop)(row)
        if wanted:
            self._tally(tally, group)
            tally.streams += 1
            self._keep(row)
        return b"", tally

    def add_file_rows(self, tally: Tally) -> None:
        """A file's stream, whose items came one by one: its row, now that it is whole."""
        for summary, counts in self._files.values():
            row = summary.row()
            if summary.took and self.selection.wants_row(row):
                tally.merge(counts)
                tally.streams += 1
                self._keep(row)

    def in_order(self) -> Iterator[bytes]:
        """The rows by start time (untimed last, in the order they came), then what no
        stream has."""
        self._rows.sort(key=lambda kept: (kept[0] is None, kept[0] or 0.0, kept[1]))
        yield from (text for _, _, text in self._rows)
        yield from self._below

    @staticmethod
    def _tally(tally: Tally, group: StreamGroup) -> None:
        for item in group.items:
            tally.add(item)

    def _keep(self, row: StreamSummary) -> None:
        self._rows.append((row.start, len(self._rows), self._emit(row)))

    def _capture_wide(self, group: StreamGroup) -> bytes:
        if self._json_output:
            return b""  # one record per stream; `check --json` has these problems
        for item in group.items:
            if isinstance(item, Problem):
                self._findings.finding(item)
        return taken(self._buffer)

    def _emit(self, row: StreamSummary) -> bytes:
        if self._json_output:
            return encode(stream_summary_record(row))
        self._printer(self._table.row_text(row))
        self._printer.flush()
        return taken(self._buffer)


def _body_export(directory: Path | None) -> BodyExport | None:
    if directory is None:
        return None
    try:
        return BodyExport(directory)
    except OSError as exc:
        fail(f"cannot export to {directory}: {exc.strerror or exc}")
