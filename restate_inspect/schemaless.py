"""Protobuf bodies read without a schema: custom entries, types no table knows, and bodies
whose schema is not known, shown field by field rather than as opaque bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.empty_pb2 import Empty
from google.protobuf.unknown_fields import UnknownFieldSet

NAME_FIELD: Final = 12  # every entry and command may carry its name here, custom ones too
WIRE_TYPE_NAMES: Final = {0: "varint", 1: "i64", 2: "len", 3: "group", 5: "i32"}
_MAX_NESTING: Final = 16
# Read field by field up to this size; a larger body is shown as bytes. Each field is a
# Python object: 45 MB of zeros are 22 million fields, which took 21 GB to show.
MAX_FIELD_BY_FIELD: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class RawField:
    """One field of a body decoded without a schema.

    A length-delimited field keeps its bytes and every reading that fits them: as text
    when it is UTF-8, as a message when it parses as one. When both fit, it is ambiguous
    and both are shown; nothing is guessed.
    """

    number: int
    wire_type: int
    value: int | bytes | tuple[RawField, ...]
    as_text: str | None = None
    as_message: tuple[RawField, ...] | None = None

    @property
    def ambiguous(self) -> bool:
        return self.as_text is not None and self.as_message is not None


class TooLarge(ValueError):
    """A body larger than MAX_FIELD_BY_FIELD: not read field by field."""


def decode_schemaless(body: bytes) -> tuple[RawField, ...]:
    """Decode any protobuf body field by field. Raises DecodeError when it is not protobuf,
    TooLarge when it is larger than MAX_FIELD_BY_FIELD."""
    if len(body) > MAX_FIELD_BY_FIELD:
        raise TooLarge(f"{len(body)} bytes: larger than {MAX_FIELD_BY_FIELD} are shown as bytes")
    return _raw_fields(UnknownFieldSet(Empty.FromString(body)), _MAX_NESTING)


def check_parses(body: bytes) -> None:
    """Raises DecodeError when the body is no protobuf message of any schema."""
    Empty.FromString(body)


def parses(body: bytes) -> bool:
    """Is it a protobuf message of some schema?"""
    try:
        check_parses(body)
    except Exception:  # untrusted bytes: any failure means "not protobuf"
        return False
    return True


def _raw_fields(fields: UnknownFieldSet, depth: int) -> tuple[RawField, ...]:
    items = (fields[i] for i in range(len(fields)))
    return tuple(_raw_field(f.field_number, f.wire_type, f.data, depth) for f in items)


def _raw_field(number: int, wire_type: int, data: Any, depth: int) -> RawField:
    if wire_type == 3:  # group: protobuf hands over its fields already parsed
        return RawField(number, wire_type, _raw_fields(data, depth - 1))
    if wire_type != 2:
        return RawField(number, wire_type, int(data))
    raw = bytes(data)
    return RawField(number, wire_type, raw, _as_text(raw), _as_message(raw, depth - 1))


def _as_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\t\n\r" for c in text) else None


def _as_message(raw: bytes, depth: int) -> tuple[RawField, ...] | None:
    if not raw or depth <= 0:
        return None
    try:
        parsed = Empty.FromString(raw)
    except Exception:  # untrusted bytes: any failure means "not a message"
        return None
    return _raw_fields(UnknownFieldSet(parsed), depth)


def custom_entry_name(fields: tuple[RawField, ...]) -> str | None:
    """The observability name a custom entry carries in field 12, if it is text."""
    for field in fields:
        if field.number == NAME_FIELD and field.as_text is not None:
            return field.as_text
    return None
