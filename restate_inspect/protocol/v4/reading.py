"""A V4-V8 frame read by its version's table: its message, and what is wrong with it.

A stream whose version was told (its content type, or --protocol-version) is read with
that version's schema. One whose version was inferred from its bytes is read with the V7
schema, which has every field any version has (but the SuspensionMessage, whose shape
tells its version), and is labelled with the lowest version whose schema has every field
and type it has shown so far: that version's schema reads it alike. When a frame shows a
later version's field or type, the label goes up from there, and that is said.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from restate_inspect.events import HEADER_SIZE, Frame, MessageType, RawFrame
from restate_inspect.protocol.v4.messages import LATEST, SCHEMAS, SUSPENSION, TABLES, MessageTable
from restate_inspect.rules import Problem, counted
from restate_inspect.schemaless import check_parses

FLOOR: Final = 5  # an inferred stream's lowest label: V4's wire is V5's, and no SDK spoke V4
_FUTURE_FIELD: Final = 4  # the V7 SuspensionMessage's only field


@cache
def field_since(message: str, number: int) -> int:
    """The first version whose schema has this field of this message (its full name
    without the package, `StartMessage.StateEntry`); 99 when none has it."""
    for version in sorted(SCHEMAS):
        descriptor = descriptor_of(message, version)
        if descriptor is not None and number in descriptor.fields_by_number:
            return version
    return 99


def descriptor_of(name: str, version: int) -> Descriptor | None:
    """A message of a version's schema by its name without the package (nested ones as
    `StartMessage.StateEntry`)."""
    head, _, rest = name.partition(".")
    descriptor: Descriptor | None = SCHEMAS[version].DESCRIPTOR.message_types_by_name.get(head)
    for part in rest.split(".") if rest else ():
        descriptor = descriptor.nested_types_by_name.get(part) if descriptor else None
    return descriptor


def short_name(descriptor: Any) -> str:
    name: str = descriptor.full_name
    return name.split(".", 3)[3]  # restate_inspect.proto.vN.<name>


def needs(message: Message) -> int:
    """The lowest version whose schema has every field the message carries."""
    version = 4
    name = short_name(message.DESCRIPTOR)
    for field, value in message.ListFields():
        version = max(version, field_since(name, field.number))
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if field.is_repeated else (value,):
                version = max(version, needs(item))
    return version


class FrameReader:
    """Reads the frames of one stream: with its told version's table, or (version None)
    as a stream whose version was inferred (see the module's docstring)."""

    def __init__(self, version: int | None, *, inferred: int = FLOOR) -> None:
        self.told = version
        self.version = version if version is not None else inferred
        self.table: MessageTable = TABLES[version] if version is not None else LATEST
        self._fast = _fast_path(self.table)

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        fast = self._fast.get(raw.type)
        if fast is not None and not raw.flags & fast[1]:
            try:
                message = fast[0](raw.body)
            except Exception:  # untrusted bytes; the slow path reports why
                pass
            else:
                return self._known(raw, message, fast[2])
        return self._checked(raw)

    def _known(
        self, raw: RawFrame, message: Message, spec: MessageType
    ) -> tuple[Frame, list[Problem]]:
        problems: list[Problem] = []
        if self.told is None:
            message = _shaped(raw, message)
            needed = max(needs(message), spec.min_version, _flags_since(raw.type, raw.flags))
            problems = self._label(raw, needed)
        return self._frame(raw, message, spec), problems

    def _label(self, raw: RawFrame, needed: int) -> list[Problem]:
        """An inferred stream: what this frame needs may raise its label."""
        if needed <= self.version:
            return []
        self.version = needed
        text = (
            f"a frame at offset {raw.offset:#x} has what only V{needed} and later have: the "
            f"stream is read as V{needed} from here"
        )
        return [_problem(raw, "RI115", text, raw.offset, HEADER_SIZE + raw.length)]

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
                f"{spec.name} ({spec.hex}) needs protocol V{spec.min_version} or later; this "
                f"stream speaks V{self.table.version}"
            )
            problems.append(_problem(raw, "RI106", text, *span))
        elif self.told is None:
            problems += self._label(raw, spec.min_version)
        problems.extend(_flag_problems(raw, spec, span))
        message, body_problem = _parse_body(raw, spec)
        if body_problem is not None:
            problems.append(body_problem)
        return self._frame(raw, message, spec), problems


@cache
def _flags_since(code: int, flags: int) -> int:
    """The first version that allows these flags on this type (V7: REQUESTED_ACK on a run
    proposal); asked only of flags the latest version allows."""
    return next(v for v in sorted(TABLES) if not flags & ~TABLES[v].by_code[code].allowed_flags)


def _shaped(raw: RawFrame, message: Message) -> Message:
    """An inferred stream's SuspensionMessage is read in the shape it has: V7's Future tree,
    or the three lists of V4-V6."""
    if raw.type != SUSPENSION or message.HasField("awaiting_on") or not raw.body:
        return message
    try:
        shaped: Message = SCHEMAS[6].SuspensionMessage.FromString(raw.body)
    except Exception:  # untrusted bytes: not the V4-V6 shape either
        return message
    return shaped


_Fast = dict[int, tuple[Callable[[bytes], Message], int, MessageType]]


@cache
def _fast_path(table: MessageTable) -> _Fast:
    """type code -> (parse, flags that are not allowed, row): the frames that need no check."""
    return {
        spec.code: (spec.cls.FromString, 0xFFFF & ~spec.allowed_flags, spec)
        for spec in table.types
        if spec.cls is not None
    }


def _flag_problems(raw: RawFrame, spec: MessageType, span: tuple[int, int]) -> list[Problem]:
    bad = raw.flags & ~spec.allowed_flags
    if not bad:
        return []
    text = f"flag bits {bad:#06x} set on {spec.name} (flags {raw.flags:#06x})"
    if bad & 0x0001:
        text += "; 0x0001 is reserved from V4 on (V1-V3 called it COMPLETED)"
    if bad & 0x8000:
        text += "; REQUESTED_ACK is for commands (and run proposals from V7)"
    return [_problem(raw, "RI107", text, *span)]


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
    return None, None


def _problem(raw: RawFrame, code: str, text: str, offset: int, length: int) -> Problem:
    return Problem(code, text, offset, length, stream=raw.stream, direction=raw.direction)
