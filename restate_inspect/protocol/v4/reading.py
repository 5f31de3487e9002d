"""A V4-V8 frame read by its version's table: its message, and what is wrong with it.

A stream whose version was told (its content type, or --protocol-version) is read with
that version's schema. One whose version was inferred from its bytes is read with the V7
schema, which has every field any version has (but the SuspensionMessage, whose shape
tells its version), and is labelled with the lowest version whose schema has every field
and type it has shown so far: that version's schema reads it alike. When a frame shows a
later version's field or type, the label goes up from there, and that is said.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from restate_inspect.events import HEADER_SIZE, Frame, MessageType, RawFrame
from restate_inspect.protocol.reading import (
    FastPath,
    fast_path,
    finding,
    frame_of,
    parse_body,
    read_fast,
    unknown_type,
)
from restate_inspect.protocol.v4.messages import LATEST, SCHEMAS, SUSPENSION, TABLES, MessageTable
from restate_inspect.rules import Problem

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
        fast = read_fast(self._fast, raw)
        if fast is not None:
            return self._known(raw, *fast)
        return self._checked(raw)

    def _known(
        self, raw: RawFrame, message: Message, spec: MessageType
    ) -> tuple[Frame, list[Problem]]:
        problems: list[Problem] = []
        if self.told is None:
            message = _shaped(raw, message)
            needed = max(needs(message), spec.min_version, _flags_since(raw.type, raw.flags))
            problems = self._label(raw, needed)
        return frame_of(raw, message, spec, self.version), problems

    def _label(self, raw: RawFrame, needed: int) -> list[Problem]:
        """An inferred stream: what this frame needs may raise its label."""
        if needed <= self.version:
            return []
        self.version = needed
        text = (
            f"a frame at offset {raw.offset:#x} has what only V{needed} and later have: the "
            f"stream is read as V{needed} from here"
        )
        return [finding(raw, "RI115", text, raw.offset, HEADER_SIZE + raw.length)]

    def _checked(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        """The slow path: a frame that may have something to report."""
        spec = self.table.lookup(raw.type)
        span = (raw.offset, HEADER_SIZE + raw.length)
        if spec is None:
            return frame_of(raw, None, None, self.version), [unknown_type(raw)]
        problems: list[Problem] = []
        if spec.min_version > self.table.version:
            text = (
                f"{spec.name} ({spec.hex}) needs protocol V{spec.min_version} or later; this "
                f"stream speaks V{self.table.version}"
            )
            problems.append(finding(raw, "RI106", text, *span))
        elif self.told is None:
            problems += self._label(raw, spec.min_version)
        problems.extend(_flag_problems(raw, spec, span))
        message, body_problem = parse_body(raw, spec)
        if body_problem is not None:
            problems.append(body_problem)
        return frame_of(raw, message, spec, self.version), problems


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


@cache
def _fast_path(table: MessageTable) -> FastPath:
    return fast_path(table.types)


def _flag_problems(raw: RawFrame, spec: MessageType, span: tuple[int, int]) -> list[Problem]:
    bad = raw.flags & ~spec.allowed_flags
    if not bad:
        return []
    text = f"flag bits {bad:#06x} set on {spec.name} (flags {raw.flags:#06x})"
    if bad & 0x0001:
        text += "; 0x0001 is reserved from V4 on (V1-V3 called it COMPLETED)"
    if bad & 0x8000:
        text += "; REQUESTED_ACK is for commands (and run proposals from V7)"
    return [finding(raw, "RI107", text, *span)]
