"""`restate-inspect streams`: the table of streams, a row printed as each stream ends."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console
from rich.text import Text

from restate_inspect.render.text import ENDING_STYLES, severity_counts
from restate_inspect.rules import counted
from restate_inspect.streams import StreamSummary, Tally
from restate_inspect.values import safe_text, time_of_day


class StreamTable:
    """`restate-inspect streams`: fixed columns, so that rows print as streams end. On a
    terminal too narrow for them all, the request and invocation columns give way first
    (an invocation's start still selects it), then the columns least asked for go."""

    COLUMNS = (
        ("start (UTC)", 12), ("dur ms", 8), ("stream", 11), ("request", 34), ("proto", 5),
        ("http", 8), ("status", 6), ("invocation", 38), ("frames →/←", 11), ("bytes →/←", 15),
        ("ending", 0),
    )  # fmt: skip
    NARROWEST: ClassVar[dict[str, int]] = {"request": 16, "invocation": 14}
    DROPPED_FIRST: ClassVar[tuple[str, ...]] = (
        "http", "proto", "dur ms", "frames →/←", "bytes →/←",
    )  # fmt: skip
    ENDING_ROOM: ClassVar[int] = 14  # "suspended on 3"

    def __init__(self, console: Console) -> None:
        self.console = console
        self.columns = dict(self.COLUMNS)  # name: width, in order; 0: the rest of the line
        if console.is_terminal:
            self._fit(console.width)
        self._short_request = self.columns.get("request") != dict(self.COLUMNS)["request"]

    def _fit(self, width: int) -> None:
        columns, natural = self.columns, dict(self.COLUMNS)

        def over() -> int:
            return sum(w + 1 for w in columns.values()) + self.ENDING_ROOM - width

        for name, narrowest in self.NARROWEST.items():
            columns[name] = max(narrowest, columns[name] - max(over(), 0))
        for name in self.DROPPED_FIRST:
            if over() > 0:
                del columns[name]
        for name in ("invocation", "request"):  # what dropping left over goes back to them
            columns[name] = min(natural[name], columns[name] + max(-over(), 0))

    def header_text(self) -> Text:
        header = Text()
        for name, width in self.columns.items():
            header.append(f"{name:<{width}} " if width else name, "bold")
        return header

    def row_text(self, row: StreamSummary) -> Text:
        if row.method and row.service and self._short_request:
            request = f"{row.service}/{row.handler}"  # what `POST …/invoke/` leads to
        elif row.method:
            request = f"{row.method} {row.path or '?'}"
        else:  # a file has no HTTP; a capture joined mid-connection lacks the head
            request = "(a file: no HTTP)" if row.kind == "file" else "(headers unknown)"
        cells = {
            "start (UTC)": "" if row.start is None else time_of_day(row.start),
            "dur ms": f"{row.duration * 1000:.1f}" if row.duration is not None else "",
            "stream": row.stream,
            "request": request,
            "proto": f"V{row.protocol_version}" if row.protocol_version else "",
            "http": row.http_version,
            "status": row.status or "",
            "invocation": row.invocation_id or "",
            "frames →/←": "/".join(str(v) for v in row.frames.values()),
            "bytes →/←": "/".join(str(v) for v in row.bytes.values()),
            "ending": row.ending,
        }
        line = Text()
        for name, width in self.columns.items():
            cell = cells[name]
            text = safe_text(cell)
            if width and len(text) > width:
                text = text[: width - 1] + "…"
            style = ENDING_STYLES.get(cell.split(" ")[0], "") if name == "ending" else ""
            line.append(f"{text:<{width}} " if width else text, style)
        return line

    def footer_text(self, tally: Tally) -> Text:
        counts = severity_counts(tally)
        text = f"{counted(tally.streams, 'stream')}, {counted(tally.frames, 'frame')}; " + (
            counts or "no problems"
        )
        return Text(text, "bold red" if tally.failing else "dim")
