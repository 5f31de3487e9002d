"""Rich text for people. Every piece of text is a rich Text built from escaped strings
(values.safe_text) with explicit styles: markup is never parsed, so payloads stay inert."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from restate_inspect.annotations import annotate
from restate_inspect.framing import HEADER_SIZE, Frame
from restate_inspect.journal import DecodedFrame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.messages import Namespace, flag_names, lookup
from restate_inspect.render.fields import FieldNode, field_tree
from restate_inspect.rules import Problem, Severity
from restate_inspect.values import safe_text

NAMESPACE_STYLES = {
    Namespace.CORE: "bold magenta",
    Namespace.IO: "bold green",
    Namespace.STATE: "bold cyan",
    Namespace.SYSCALL: "bold blue",
    Namespace.CUSTOM: "bold yellow",
}
SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
KIND_STYLES = {"json": "green", "text": "green", "string": "green", "hex": "dim", "note": "italic"}
DIRECTION_STYLES = {Direction.RUNTIME_TO_SDK: "cyan", Direction.SDK_TO_RUNTIME: "magenta"}
INDENT = "    "
LABEL_WIDTH = 24
HEX_ROW = 16


@dataclass
class Tally:
    frames: int = 0
    bytes: int = 0
    problems: Counter[Severity] = field(default_factory=Counter)

    def add(self, item: DecodedFrame | Problem) -> None:
        if isinstance(item, Problem):
            self.problems[item.severity] += 1
        else:
            self.frames += 1
            self.bytes += HEADER_SIZE + item.frame.length

    @property
    def failing(self) -> bool:
        return bool(self.problems[Severity.ERROR] or self.problems[Severity.WARNING])


class TextRenderer:
    def __init__(self, console: Console, *, show_bytes: bool = False, max_payload: int = 0) -> None:
        self.console = console
        self.show_bytes = show_bytes
        self.max_payload = max_payload
        self._section: tuple[StreamKey | None, Direction | None] | None = None

    def render(self, item: DecodedFrame | Problem) -> None:
        if isinstance(item, Problem):
            self.problem(item)
        else:
            self.frame(item)

    def _enter(self, stream: StreamKey | None, direction: Direction | None) -> None:
        if self._section == (stream, direction):
            return
        self._section = (stream, direction)
        line = Text("── ", style="dim")
        if direction is not None:
            line.append(f"{direction.value} ({direction.body} body)", DIRECTION_STYLES[direction])
        if stream is not None:
            line.append(" · ", "dim").append(safe_text(str(stream)), "bold")
        self.console.print(line)

    def frame(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        self._enter(frame.stream, frame.direction)
        self.console.print(self._frame_line(decoded))
        self._nodes(field_tree(frame, annotate(frame, decoded.context), self.max_payload), 1)
        if self.show_bytes:
            self._hexdump(frame)

    def _frame_line(self, decoded: DecodedFrame) -> Text:
        frame = decoded.frame
        spec = lookup(frame.type)
        line = Text()
        if frame.direction is not None:
            line.append(frame.direction.arrow + " ", DIRECTION_STYLES[frame.direction])
        line.append(f"@{frame.offset:<7}", "dim")
        index = decoded.entry_index
        line.append(f"{'' if index is None else f'#{index}':<5}", "bold")
        line.append(f"0x{frame.type:04x} ", "dim")
        if spec is None:
            line.append("unknown type", "bold red")
        else:
            line.append(spec.name, NAMESPACE_STYLES[spec.namespace])
        names = flag_names(frame.flags)
        if names:
            line.append(f"  [{' '.join(names)}]", "yellow")
        line.append(f"  len {frame.length}", "dim")
        if frame.time is not None:
            line.append(f"  t={frame.time:.6f}", "dim")
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
        self.console.print(line)
        if node.block is not None:
            style = KIND_STYLES.get(node.kind, "")
            for block_line in node.block.rstrip("\n").split("\n"):  # only \n: \r stays visible
                text = safe_text(block_line, multiline=True).expandtabs(4)
                self.console.print(Text(INDENT * (depth + 1) + text, style))
        self._nodes(node.children, depth + 1)

    def _hexdump(self, frame: Frame) -> None:
        header = frame.to_bytes()[:HEADER_SIZE]
        self.console.print(self._hex_row("header", frame.offset, header, "bold yellow"))
        body_start = frame.offset + HEADER_SIZE
        for start in range(0, len(frame.body), HEX_ROW):
            row = frame.body[start : start + HEX_ROW]
            self.console.print(self._hex_row("body", body_start + start, row, ""))

    @staticmethod
    def _hex_row(label: str, offset: int, row: bytes, style: str) -> Text:
        ascii_column = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        line = Text(INDENT + f"{label:<7}", "dim")
        line.append(f"{offset:08x}  ", "dim")
        line.append(f"{row.hex(' '):<{HEX_ROW * 3}} ", style)
        line.append(ascii_column, "dim")
        return line

    def problem(self, problem: Problem) -> None:
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
        self.console.print(line)

    def summary(self, tally: Tally) -> None:
        counts = ", ".join(f"{tally.problems[s]} {s.value}s" for s in Severity if tally.problems[s])
        text = f"{tally.frames} frames, {tally.bytes} bytes; " + (counts or "no problems")
        self.console.print(Text(text, "bold red" if tally.failing else "dim"))
