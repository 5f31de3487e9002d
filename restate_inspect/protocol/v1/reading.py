"""A V1-V3 frame read by its version's table: its message, and what is wrong with it."""

from __future__ import annotations

from typing import Final

from google.protobuf.message import Message

from restate_inspect.events import HEADER_SIZE, Frame, MessageType, RawFrame
from restate_inspect.protocol.reading import (
    fast_path,
    finding,
    frame_of,
    parse_body,
    read_fast,
    unknown_type,
)
from restate_inspect.protocol.v1.messages import (
    COMPLETED,
    CUSTOM_ENTRY_MIN,
    RESERVED_ENTRY_FIELDS,
    V2_TABLE,
    V3_TABLE,
    MessageTable,
)
from restate_inspect.rules import Problem
from restate_inspect.schemaless import MAX_FIELD_BY_FIELD, decode_schemaless

_FAST: Final = {table.version: fast_path(table.types) for table in (V2_TABLE, V3_TABLE)}


class FrameReader:
    """Reads the frames of one stream with one version's table."""

    def __init__(self, table: MessageTable, version: int | None) -> None:
        self.table = table
        self.version = version  # as the stream told it (None: not told)
        self._fast = _FAST[table.version]

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        fast = read_fast(self._fast, raw)
        if fast is not None:
            return frame_of(raw, *fast, self.version), []
        return self._checked(raw)

    def _checked(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        """The slow path: a frame that may have something to report."""
        spec = self.table.lookup(raw.type)
        span = (raw.offset, HEADER_SIZE + raw.length)
        if spec is None:
            return frame_of(raw, None, None, self.version), [unknown_type(raw)]
        problems: list[Problem] = []
        if spec.min_version > self.table.version:
            text = (
                f"{spec.name} ({spec.hex}) needs protocol V{spec.min_version} or later; "
                "V1/V2 peers do not know it"
            )
            problems.append(finding(raw, "RI106", text, *span))
        problems.extend(_flag_problems(raw, spec, span))
        message, body_problem = _parse_body(raw, spec)
        if body_problem is not None:
            problems.append(body_problem)
        return frame_of(raw, message, spec, self.version), problems


def _flag_problems(raw: RawFrame, spec: MessageType, span: tuple[int, int]) -> list[Problem]:
    bad = raw.flags & ~spec.allowed_flags
    problems = []
    if bad & COMPLETED:
        text = f"COMPLETED flag (0x0001) on {spec.name}, which is not completable"
        problems.append(finding(raw, "RI108", text, *span))
    if bad & ~COMPLETED:
        reserved = bad & ~COMPLETED
        text = f"reserved flag bits {reserved:#06x} set on {spec.name} (flags {raw.flags:#06x})"
        problems.append(finding(raw, "RI107", text, *span))
    return problems


def _parse_body(raw: RawFrame, spec: MessageType) -> tuple[Message | None, Problem | None]:
    """As every family parses it; a custom entry must also keep off the result fields."""
    message, problem = parse_body(raw, spec)
    if problem is not None or spec.code < CUSTOM_ENTRY_MIN or raw.length > MAX_FIELD_BY_FIELD:
        return message, problem  # a large custom entry's fields: checked where they are read
    reserved = sorted(
        {f.number for f in decode_schemaless(raw.body) if f.number in RESERVED_ENTRY_FIELDS}
    )
    if reserved:
        text = f"custom entry {spec.hex} uses reserved field(s) {reserved}"
        return None, finding(raw, "RI110", text, raw.offset + HEADER_SIZE, raw.length)
    return None, None
