"""A V1-V3 frame read by its version's table: its message, and what is wrong with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from google.protobuf.message import Message

from restate_inspect.events import HEADER_SIZE, Frame, MessageType, RawFrame
from restate_inspect.protocol.v1.messages import (
    COMPLETED,
    CUSTOM_ENTRY_MIN,
    RESERVED_ENTRY_FIELDS,
    V2_TABLE,
    V3_TABLE,
    MessageTable,
)
from restate_inspect.rules import Problem, counted
from restate_inspect.schemaless import MAX_FIELD_BY_FIELD, check_parses, decode_schemaless

_Fast = dict[int, tuple[Callable[[bytes], Message], int, MessageType]]


def _fast_path(table: MessageTable) -> _Fast:
    """type code -> (parse, flags that are not allowed, row): the frames that need no check."""
    return {
        spec.code: (spec.cls.FromString, 0xFFFF & ~spec.allowed_flags, spec)
        for spec in table.types
        if spec.cls is not None
    }


_FAST: Final = {V2_TABLE.version: _fast_path(V2_TABLE), V3_TABLE.version: _fast_path(V3_TABLE)}


class FrameReader:
    """Reads the frames of one stream with one version's table."""

    def __init__(self, table: MessageTable, version: int | None) -> None:
        self.table = table
        self.version = version  # as the stream told it (None: not told)
        self._fast = _FAST[table.version]

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        fast = self._fast.get(raw.type)
        if fast is not None and not raw.flags & fast[1]:
            try:
                message = fast[0](raw.body)
            except Exception:  # untrusted bytes; the slow path reports why
                pass
            else:
                return self._frame(raw, message, fast[2]), []
        return self._checked(raw)

    def _frame(self, raw: RawFrame, message: Message | None, spec: MessageType | None) -> Frame:
        return Frame(
            raw.stream, raw.direction, raw.offset, raw.type, raw.flags, raw.length, raw.body,
            message, raw.time, raw.packet, spec, self.version, raw.row,
        )  # fmt: skip

    def _checked(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        """The slow path: a frame that may have something to report."""
        spec = self.table.lookup(raw.type)
        span = (raw.offset, HEADER_SIZE + raw.length)
        if spec is None:
            problem = _problem(raw, "RI105", f"unknown message type {raw.type:#06x}", *span)
            return self._frame(raw, None, None), [problem]
        problems: list[Problem] = []
        if spec.min_version > self.table.version:
            text = (
                f"{spec.name} ({spec.hex}) needs protocol V{spec.min_version} or later; "
                "V1/V2 peers do not know it"
            )
            problems.append(_problem(raw, "RI106", text, *span))
        problems.extend(_flag_problems(raw, spec, span))
        message, body_problem = _parse_body(raw, spec)
        if body_problem is not None:
            problems.append(body_problem)
        return self._frame(raw, message, spec), problems


def _flag_problems(raw: RawFrame, spec: MessageType, span: tuple[int, int]) -> list[Problem]:
    bad = raw.flags & ~spec.allowed_flags
    problems = []
    if bad & COMPLETED:
        text = f"COMPLETED flag (0x0001) on {spec.name}, which is not completable"
        problems.append(_problem(raw, "RI108", text, *span))
    if bad & ~COMPLETED:
        reserved = bad & ~COMPLETED
        text = f"reserved flag bits {reserved:#06x} set on {spec.name} (flags {raw.flags:#06x})"
        problems.append(_problem(raw, "RI107", text, *span))
    return problems


def _parse_body(raw: RawFrame, spec: MessageType) -> tuple[Message | None, Problem | None]:
    where = (raw.offset + HEADER_SIZE, raw.length)
    try:
        if spec.cls is not None:
            return spec.cls.FromString(raw.body), None
        check_parses(raw.body)
    except Exception as exc:  # untrusted bytes: every parse failure is a finding
        reason = str(exc).rsplit(": ", 1)[-1] or type(exc).__name__
        text = f"body of {spec.name} ({counted(raw.length, 'byte')}) does not parse: {reason}"
        return None, _problem(raw, "RI109", text, *where)
    if spec.code < CUSTOM_ENTRY_MIN or raw.length > MAX_FIELD_BY_FIELD:
        return None, None  # a custom entry's fields are checked where they can be read
    reserved = sorted(
        {f.number for f in decode_schemaless(raw.body) if f.number in RESERVED_ENTRY_FIELDS}
    )
    if reserved:
        text = f"custom entry {spec.hex} uses reserved field(s) {reserved}"
        return None, _problem(raw, "RI110", text, *where)
    return None, None


def _problem(raw: RawFrame, code: str, text: str, offset: int, length: int) -> Problem:
    return Problem(code, text, offset, length, stream=raw.stream, direction=raw.direction)
