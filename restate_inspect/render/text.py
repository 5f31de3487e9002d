"""Rich text for people. Every piece of text is a rich Text built from escaped strings
(values.safe_text) with explicit styles: markup is never parsed, so payloads stay inert."""

from __future__ import annotations

from collections import Counter
from typing import Final

from rich.console import Console
from rich.text import Text

from restate_inspect.annotations import annotate
from restate_inspect.events import (
    HEADER_SIZE,
    DecodedFrame,
    Discovery,
    Frame,
    Namespace,
    StoredJournal,
    StreamEnd,
    StreamInfo,
)
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol import flag_names, interpreted
from restate_inspect.render.fields import FieldNode, field_tree
from restate_inspect.rules import UNCHECKED, Problem, Severity, counted
from restate_inspect.streams import Tally, discovery_manifest
from restate_inspect.values import fact_text, pretty_json, safe_text

NAMESPACE_STYLES = {
    Namespace.CORE: "bold magenta",
    Namespace.IO: "bold green",
    Namespace.STATE: "bold cyan",
    Namespace.SYSCALL: "bold blue",
    Namespace.COMMAND: "bold blue",
    Namespace.NOTIFICATION: "bold cyan",
    Namespace.CUSTOM: "bold yellow",
}
SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
KIND_STYLES = {"json": "green", "text": "green", "string": "green", "hex": "dim", "note": "italic"}
# by an ending's first word: "end", "failed 409", "suspended on #1", "error 500", "no terminal
# message"
ENDING_STYLES = {
    "end": "green",
    "failed": "bold red",
    "suspended": "yellow",
    "error": "bold red",
    "no": "red",
}
DIRECTION_STYLES = {Direction.RUNTIME_TO_SDK: "cyan", Direction.SDK_TO_RUNTIME: "magenta"}
INDENT = "    "
LABEL_WIDTH = 24
HEX_ROW = 16


def type_style(frame: Frame) -> str:
    """A type's name by its namespace; dim for a type of a protocol version that is not
    interpreted here, which is no error; bold red for an unknown type."""
    spec = frame.message_type
    if spec is not None:
        return NAMESPACE_STYLES[spec.namespace]
    return "bold red" if interpreted(frame.version) else "dim"


class LinePrinter:
    """Prints lines of rich Text in batches. A rich print costs several times what building
    its line does, so the lines wait for flush() and go out in one print; and on a console
    that shows no styles (a pipe, a file) a line's plain text is what rich would write, so
    it is written as it is. (Tabs are left to rich: it expands them by cell width.)"""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lines: list[Text] = []

    def __call__(self, line: Text) -> None:
        self._lines.append(line)

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        plain = "\n".join(line.plain for line in lines)
        if self.console.color_system is None and "\t" not in plain:
            self.console.file.write(plain + "\n")
            self.console.file.flush()
        else:
            self.console.print(Text("\n").join(lines))


# what a sys_invocation row tells, beside a stored journal
_STORED_FACTS: Final = (
    ("target", "{}"),
    ("status", "{}"),
    ("pinned_service_protocol_version", "V{}"),
    ("retry_count", "{} retries"),
    ("last_failure", "last failure: {}"),
)


class TextRenderer:
    """decode's frames, problems and stream headers; check's findings; the summaries. Each
    public method's lines go out when it returns."""

    def __init__(self, console: Console, *, show_bytes: bool = False, max_payload: int = 0) -> None:
        self.print = LinePrinter(console)
        self.show_bytes = show_bytes
        self.max_payload = max_payload
        self._section: tuple[StreamKey | None, Direction | None] | None = None
        self._described: StreamKey | None = None  # the capture stream whose header is out
        self._started: float | None = None  # its first packet's time

    def render(self, item: Decoded) -> None:
        if isinstance(item, Problem):
            self._problem(item)
        elif isinstance(item, DecodedFrame):
            self._frame(item)
        elif isinstance(item, StreamInfo):
            self._stream_info(item)
        elif isinstance(item, Discovery):
            self._discovery(item)
        elif isinstance(item, StoredJournal):
            self._stored_journal(item)
        else:
            self._stream_end(item)
        self.print.flush()

    def _stream_info(self, info: StreamInfo) -> None:
        """A capture stream's header line; its response line once the response head is in."""
        if self._described != info.stream:
            self._described = info.stream
            self._started = info.time
            self._section = (info.stream, None)
            line = Text("══ ", "bold").append(safe_text(str(info.stream)), "bold")
            request = (
                f"{info.method or '?'} {info.path or '?'}" if info.method else "headers unknown"
            )
            line.append("  " + safe_text(request), "bold cyan")
            version = info.protocol_version
            extra = [info.http_version, f"protocol V{version}" if version else "", info.connection]
            invocation = info.header("x-restate-invocation-id")
            if invocation:
                extra.append(invocation)
            line.append("  " + safe_text(" · ".join(e for e in extra if e)), "dim")
            self.print(line)
        elif info.status is not None:
            sdk = info.header("x-restate-server", response=True)
            content_type = info.header("content-type", response=True)
            text = " · ".join(x for x in (f"status {info.status}", content_type, sdk) if x)
            self.print(Text("   ← " + safe_text(text), "dim"))

    def _discovery(self, item: Discovery) -> None:
        manifest = discovery_manifest(item)
        self.print(Text("    discovery manifest", "bold"))
        text = pretty_json(manifest, width=0) if not isinstance(manifest, str) else manifest
        if self.max_payload and len(text) > self.max_payload:
            text = text[: self.max_payload] + f"\n… {len(text) - self.max_payload} more characters"
        for line in text.split("\n"):
            self.print(Text(INDENT * 2 + safe_text(line, multiline=True), "green"))

    def _stored_journal(self, journal: StoredJournal) -> None:
        """A stored journal's header line: the invocation, its rows, what sys_invocation says."""
        self._described = journal.stream
        facts = journal.facts or {}
        line = Text("── stored journal · ", "dim").append(safe_text(journal.invocation_id), "bold")
        words = [f"{journal.rows} row{'s' if journal.rows != 1 else ''}"]
        words += [said.format(fact_text(k, facts[k])) for k, said in _STORED_FACTS if facts.get(k)]
        line.append(" · " + safe_text(" · ".join(words)), "dim")
        self.print(line)

    def _stream_end(self, item: StreamEnd) -> None:
        if item.how != "end":
            text = f"   ✕ {item.direction.body} body {item.how}"
            self.print(Text(text, "dim"))

    def _enter(self, stream: StreamKey | None, direction: Direction | None) -> None:
        if self._described is not None and stream == self._described:
            return  # a capture stream: its header says it all, arrows tell the directions
        if self._section == (stream, direction):
            return
        self._section = (stream, direction)
        line = Text("── ", style="dim")
        if direction is not None:
            line.append(f"{direction.value} ({direction.body} body)", DIRECTION_STYLES[direction])
        if stream is not None:
            if direction is not None:
                line.append(" · ", "dim")
            line.append(safe_text(str(stream)), "bold")
        elif direction is None:
            line.append("the input as a whole", "bold")  # what no stream has: TCP, IP, the file
        self.print(line)

    def _frame(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        self._enter(frame.stream, frame.direction)
        self.print(self._frame_line(decoded))
        self._nodes(field_tree(frame, annotate(frame, decoded.context), self.max_payload), 1)
        if self.show_bytes:
            self._hexdump(frame)

    def _frame_line(self, decoded: DecodedFrame) -> Text:
        frame = decoded.frame
        line = Text()
        if frame.direction is not None:
            line.append(frame.direction.arrow + " ", DIRECTION_STYLES[frame.direction])
        place = f"@{frame.offset}" if frame.row is None else f"row {frame.row}"
        line.append(f"{place:<8}", "dim")
        index = decoded.entry_index
        line.append(f"{'' if index is None else f'#{index}':<5}", "bold")
        line.append(f"0x{frame.type:04x} ", "dim")
        line.append(frame.type_label, type_style(frame))
        if decoded.context.command_index is not None:
            line.append(f"  command {decoded.context.command_index}", "dim")
        names = flag_names(frame.version, frame.flags)
        if names:
            line.append(f"  [{' '.join(names)}]", "yellow")
        line.append(f"  len {frame.length}", "dim")
        if frame.time is not None:
            since = frame.time - self._started if self._started is not None else 0.0
            packet = f" pkt {frame.packet}" if frame.packet is not None else ""
            line.append(f"  +{since * 1000:.1f}ms{packet}", "dim")
        return line

    def _nodes(self, nodes: list[FieldNode] | tuple[FieldNode, ...], depth: int) -> None:
        width = min(max((len(n.label) for n in nodes), default=0), LABEL_WIDTH)
        for node in nodes:
            self._node(node, depth, width)

    def _node(self, node: FieldNode, depth: int, width: int) -> None:
        line = Text(INDENT * depth)
        label = safe_text(node.label)
        if node.value or node.note:
            label = label.ljust(width)
        line.append(label, "bold" if node.kind != "note" else "italic dim")
        if node.value:
            line.append("  ").append(safe_text(node.value), KIND_STYLES.get(node.kind, ""))
        if node.note:
            line.append(f"  ({safe_text(node.note)})", "dim")
        self.print(line)
        if node.block is not None:
            style = KIND_STYLES.get(node.kind, "")
            for block_line in node.block.rstrip("\n").split("\n"):  # only \n: \r stays visible
                text = safe_text(block_line, multiline=True).expandtabs(4)
                self.print(Text(INDENT * (depth + 1) + text, style))
        self._nodes(node.children, depth + 1)

    def _hexdump(self, frame: Frame) -> None:
        header = frame.to_bytes()[:HEADER_SIZE]
        self.print(self._hex_row("header", frame.offset, header, "bold yellow"))
        body_start = frame.offset + HEADER_SIZE
        for start in range(0, len(frame.body), HEX_ROW):
            row = frame.body[start : start + HEX_ROW]
            self.print(self._hex_row("body", body_start + start, row, ""))

    @staticmethod
    def _hex_row(label: str, offset: int, row: bytes, style: str) -> Text:
        ascii_column = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        line = Text(INDENT + f"{label:<7}", "dim")
        line.append(f"{offset:08x}  ", "dim")
        line.append(f"{row.hex(' '):<{HEX_ROW * 3}} ", style)
        line.append(ascii_column, "dim")
        return line

    def _problem(self, problem: Problem) -> None:
        self._enter(problem.stream, problem.direction)
        style = SEVERITY_STYLES[problem.severity]
        line = Text("  ! ", style).append(f"{problem.code} {problem.severity.value}", style)
        if problem.offset is not None:
            where = f" @{problem.offset:#x}"
            if problem.length:
                where += f" (+{problem.length})"
            line.append(where, "dim")
        if problem.entry_index is not None:
            line.append(f" #{problem.entry_index}", "bold")
        line.append(": ").append(safe_text(problem.message))
        self.print(line)

    def finding(self, problem: Problem) -> None:
        """A check finding on one line: code, severity, where (invocation, attempt, stream,
        direction, offset, entry), what."""
        style = SEVERITY_STYLES[problem.severity]
        line = Text(f"{problem.code} {problem.severity.value:<7} ", style)
        where = []
        if problem.invocation_id:
            where.append(
                problem.invocation_id + (f" attempt {problem.attempt}" if problem.attempt else "")
            )
        if problem.stream is not None:
            arrow = f" {problem.direction.arrow}" if problem.direction is not None else ""
            where.append(f"{problem.stream}{arrow}")
        if problem.offset is not None:
            where.append(f"@{problem.offset:#x}")
        if problem.entry_index is not None:
            where.append(f"#{problem.entry_index}")
        line.append(safe_text(" ".join(where)), "dim").append("  " + safe_text(problem.message))
        self.print(line)
        self.print.flush()

    def check_summary(
        self, tally: Tally, invocations: int, codes: Counter[str], unchecked: int = 0
    ) -> None:
        """The totals, and the findings by code, most frequent first (what `--ignore` takes);
        what could not be checked at all comes first, so that it is not taken for clean."""
        counts = severity_counts(tally)
        text = f"{counted(invocations, 'invocation')} checked; " + (counts or "no findings")
        if unchecked:
            codes_unchecked = ", ".join(sorted(UNCHECKED))
            not_read = f"{counted(unchecked, 'part')} not read ({codes_unchecked})"
            text = f"not all checked: {not_read}; {text}"
        style = "bold red" if tally.problems[Severity.ERROR] or unchecked else "dim"
        self.print(Text(text, style))
        if codes:
            by_code = ", ".join(f"{code}: {count}" for code, count in codes.most_common())
            self.print(Text(f"by code: {by_code}", "dim"))
        self.print.flush()

    def summary(self, tally: Tally) -> None:
        counts = severity_counts(tally)
        text = f"{counted(tally.frames, 'frame')}, {counted(tally.bytes, 'byte')}; " + (
            counts or "no problems"
        )
        self.print(Text(text, "bold red" if tally.failing else "dim"))
        self.print.flush()


def severity_counts(tally: Tally) -> str:
    """1 error, 2 warnings, 3 info."""
    words = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
    parts = []
    for severity, word in words.items():
        count = tally.problems[severity]
        if count:
            parts.append(counted(count, word, "info" if severity is Severity.INFO else ""))
    return ", ".join(parts)
