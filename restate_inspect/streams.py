"""Per HTTP stream of a capture: its events gathered in capture order, and a one-row summary.

Streams of a capture are interleaved on the wire; a stream's events are handed on together
once both its bodies are over, so that a reader sees one exchange at a time while memory
holds only the streams still open. Streams from files (no StreamInfo) pass straight on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from restate_inspect.events import HEADER_SIZE, DecodedFrame, Discovery, StreamEnd, StreamInfo
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol import ending_of, interpreted, not_interpreted
from restate_inspect.protocol.timeline import unended
from restate_inspect.rules import Problem, Severity
from restate_inspect.values import invocation_id_text

START_TYPE: Final = 0x0000  # the StartMessage's, in every protocol version


@dataclass
class StreamGroup:
    stream: StreamKey | None
    info: StreamInfo | None
    items: list[Decoded] = field(default_factory=list)

    @property
    def capture_wide(self) -> bool:
        """A problem of the capture as a whole: TCP, IP, the file."""
        return self.stream is None and self.info is None


def group_streams(items: Iterable[Decoded]) -> Iterator[StreamGroup]:
    open_groups: dict[StreamKey, StreamGroup] = {}
    ended: dict[StreamKey, set[Direction]] = {}
    for item in items:
        stream = item.frame.stream if isinstance(item, DecodedFrame) else item.stream
        group = open_groups.get(stream) if stream is not None else None
        if group is None and isinstance(item, StreamInfo):
            group = open_groups[item.stream] = StreamGroup(item.stream, item)
            ended[item.stream] = set()
        if group is None:
            yield StreamGroup(stream, None, [item])  # a file's stream, or a capture problem
            continue
        if isinstance(item, StreamInfo):
            group.info = item
        group.items.append(item)
        if isinstance(item, StreamEnd):
            ended[item.stream].add(item.direction)
            if len(ended[item.stream]) == len(Direction):
                del open_groups[item.stream], ended[item.stream]
                yield group
    yield from open_groups.values()  # the capture ended with these still open


@dataclass
class Tally:
    frames: int = 0
    bytes: int = 0
    streams: int = 0
    problems: Counter[Severity] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        self.frames += other.frames
        self.bytes += other.bytes
        self.streams += other.streams
        self.problems.update(other.problems)

    def add(self, item: Decoded) -> None:
        if isinstance(item, DecodedFrame):
            self.frames += 1
            self.bytes += HEADER_SIZE + item.frame.length
        elif isinstance(item, Problem):
            self.problems[item.severity] += 1

    @property
    def failing(self) -> bool:
        return bool(self.problems[Severity.ERROR] or self.problems[Severity.WARNING])


@dataclass
class StreamSummary:
    """One row of `restate-inspect streams`."""

    stream: str
    kind: str
    connection: str
    http_version: str
    start: float | None
    end: float | None
    method: str | None
    path: str | None
    service: str | None
    handler: str | None
    protocol_version: int | None
    status: str | None
    invocation_id: str | None
    sdk: str | None
    frames: dict[str, int]
    bytes: dict[str, int]
    ending: str
    problems: int

    @property
    def duration(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start


def summarize(group: StreamGroup) -> StreamSummary:
    summary = Summary(group.stream, group.info)
    for item in group.items:
        summary.add(item)
    return summary.row()


class Summary:
    """A stream's row, from its items as they come (a file's stream comes item by item)."""

    def __init__(self, stream: StreamKey | None, info: StreamInfo | None) -> None:
        self.stream, self.info = stream, info
        self.frames = dict.fromkeys((d.value for d in Direction), 0)
        self.sizes = dict.fromkeys((d.value for d in Direction), 0)
        self.terminal: str | None = None
        self.invocation_id = info.header("x-restate-invocation-id") if info else None
        self.start: float | None = None
        self.end: float | None = None
        if info is not None and info.time is not None:
            self._saw(info.time)
        self.cut: dict[str, list[str]] = {}  # how a body ended early: its direction's bodies
        self.problems = 0
        self.took = False  # a frame or a problem: an empty file is no stream
        self.version: int | None = None  # as its frames were read (inferred, for a file)

    def add(self, item: Decoded) -> None:
        info = self.info
        self.took = self.took or isinstance(item, DecodedFrame | Problem)
        if isinstance(item, DecodedFrame):
            frame = item.frame
            direction = frame.direction.value if frame.direction else ""
            self.frames[direction] = self.frames.get(direction, 0) + 1
            self.sizes[direction] = self.sizes.get(direction, 0) + 8 + frame.length
            self.terminal = ending_of(frame) or self.terminal
            if frame.version is not None:
                self.version = max(self.version or 0, frame.version)
            start: Any = frame.message if frame.type == START_TYPE else None
            if start is not None:
                self.invocation_id = (
                    self.invocation_id or start.debug_id or invocation_id_text(start.id)
                )
            if frame.time is not None:
                self._saw(frame.time)
        elif isinstance(item, StreamEnd):
            if item.how != "end":
                how = item.how if item.by is None else f"{item.how} by {item.by.sender}"
                self.cut.setdefault(how, []).append(item.direction.body)
            if item.time is not None:
                self._saw(item.time)
            if item.body_bytes is not None and info is not None and info.kind != "invocation":
                self.sizes[item.direction.value] = item.body_bytes
        elif isinstance(item, Problem) and item.severity is not Severity.INFO:
            self.problems += 1

    def _saw(self, time: float) -> None:
        self.start = time if self.start is None else min(self.start, time)
        self.end = time if self.end is None else max(self.end, time)

    def row(self) -> StreamSummary:
        info = self.info
        target = info.target if info else None
        return StreamSummary(
            stream=str(self.stream),
            kind=info.kind if info else "file",
            connection=info.connection if info else "",
            http_version=info.http_version if info else "",
            start=self.start,
            end=self.end,
            method=info.method if info else None,
            path=info.path if info else None,
            service=target[0] if target else None,
            handler=target[1] if target else None,
            protocol_version=(info.protocol_version if info else None) or self.version,
            status=info.status if info else None,
            invocation_id=self.invocation_id,
            sdk=info.header("x-restate-server", response=True) if info else None,
            frames=self.frames,
            bytes=self.sizes,
            ending=_ending(info, self.terminal, self.cut),
            problems=self.problems,
        )


def _ending(info: StreamInfo | None, terminal: str | None, cut: dict[str, list[str]]) -> str:
    if info is not None and not info.restate:
        return info.kind
    version = info.protocol_version if info is not None else None
    if version is not None and not interpreted(version):
        return not_interpreted(version)
    if terminal is not None:
        return terminal
    return unended(cut)


def discovery_manifest(item: Discovery) -> object:
    """The manifest as parsed JSON, or its text when it is not JSON."""
    try:
        return json.loads(item.body)
    except ValueError:
        return item.body.decode("utf-8", "replace")
