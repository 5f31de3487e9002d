"""What both families' frame readers share: the frames a table reads without a check (most
of them), a body parsed with its findings, a frame built from the raw one, and what framing
asks of a family's type codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from google.protobuf.message import Message

from restate_inspect.events import HEADER_SIZE, Frame, MessageType, RawFrame
from restate_inspect.rules import Problem, counted
from restate_inspect.schemaless import check_parses

# type code -> (parse, the flags it must not have, its row)
FastPath = dict[int, tuple[Callable[[bytes], Message], int, MessageType]]


def fast_path(types: Iterable[MessageType]) -> FastPath:
    """The types whose frames need no check when their flags are allowed and their body
    parses: those with a schema."""
    return {
        spec.code: (spec.cls.FromString, 0xFFFF & ~spec.allowed_flags, spec)
        for spec in types
        if spec.cls is not None
    }


def read_fast(fast: FastPath, raw: RawFrame) -> tuple[Message, MessageType] | None:
    """The frame's message and row, read straight; None when it needs the checked path (no
    schema, a flag not allowed, a body that does not parse), which says what is wrong."""
    known = fast.get(raw.type)
    if known is None or raw.flags & known[1]:
        return None
    try:
        return known[0](raw.body), known[2]
    except Exception:  # untrusted bytes; the checked path reports why
        return None


def frame_of(
    raw: RawFrame, message: Message | None, spec: MessageType | None, version: int | None
) -> Frame:
    return Frame(
        raw.stream, raw.direction, raw.offset, raw.type, raw.flags, raw.length, raw.body,
        message, raw.time, raw.packet, spec, version, raw.row,
    )  # fmt: skip


def parse_body(raw: RawFrame, spec: MessageType) -> tuple[Message | None, Problem | None]:
    """The body by its schema, or checked to be protobuf when it has none (RI109 if not)."""
    try:
        if spec.cls is not None:
            return spec.cls.FromString(raw.body), None
        check_parses(raw.body)
    except Exception as exc:  # untrusted bytes: every parse failure is a finding
        reason = str(exc).rsplit(": ", 1)[-1] or type(exc).__name__
        text = f"body of {spec.name} ({counted(raw.length, 'byte')}) does not parse: {reason}"
        return None, finding(raw, "RI109", text, raw.offset + HEADER_SIZE, raw.length)
    return None, None


def unknown_type(raw: RawFrame) -> Problem:
    text = f"unknown message type {raw.type:#06x}"
    return finding(raw, "RI105", text, raw.offset, HEADER_SIZE + raw.length)


def finding(raw: RawFrame, code: str, text: str, offset: int, length: int) -> Problem:
    """A finding about a frame, in its stream and direction."""
    return Problem(code, text, offset, length, stream=raw.stream, direction=raw.direction)


class TableHints:
    """What framing asks of a family's type codes (framing.TypeHints): a frame may begin
    with a type that has a schema (not the StartMessage, which only begins a stream) and
    flags it allows; a type is described by its name where the family knows it."""

    def __init__(
        self,
        with_schema: dict[int, MessageType],
        lookup: Callable[[int], MessageType | None],
    ) -> None:
        self._with_schema = with_schema
        self._lookup = lookup

    def plausible(self, type_code: int, flags: int) -> bool:
        spec = self._with_schema.get(type_code)
        return (
            spec is not None
            and spec.cls is not None
            and type_code != 0
            and not flags & ~spec.allowed_flags
        )

    def describe(self, type_code: int) -> str:
        spec = self._lookup(type_code)
        return f"{spec.name} ({type_code:#06x})" if spec else f"type {type_code:#06x}"
