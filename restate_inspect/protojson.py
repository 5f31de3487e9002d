"""Protobuf's canonical JSON mapping of a message, with the proto field names: what
json_format.MessageToDict(message, preserving_proto_field_name=True) gives for the Restate
schemas, at a fraction of its cost (a property test holds the two equal)."""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any, Final

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_SIXTY_FOUR_BITS: Final = {
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
    FieldDescriptor.TYPE_SINT64,
}
_AS_IS: Final = {
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_BOOL,
    FieldDescriptor.TYPE_STRING,
}


def message_to_dict(message: Message) -> dict[str, Any]:
    converters = _CONVERTERS
    out = {}
    for field, value in message.ListFields():
        convert = converters.get(field)
        if convert is None:
            convert = converters[field] = _converter(field)
        out[field.name] = convert(value)
    return out


def scalar_to_json(field: FieldDescriptor, value: Any) -> Any:
    """One field's value (a repeated field's list) in the canonical mapping."""
    return _converter(field)(value)


def base64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")  # b64encode, one call less


def _as_is(value: Any) -> Any:
    return value


_CONVERTERS: dict[FieldDescriptor, Callable[[Any], Any]] = {}  # filled as fields are met


def _converter(field: FieldDescriptor) -> Callable[[Any], Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        one: Callable[[Any], Any] = message_to_dict
    elif field.type == FieldDescriptor.TYPE_BYTES:
        one = base64
    elif field.type in _SIXTY_FOUR_BITS:
        one = str
    elif field.type in _AS_IS:
        one = _as_is
    elif field.type == FieldDescriptor.TYPE_ENUM:
        one = _enum_name(field)
    else:  # the schemas have no floats; a schema that grows some must add them here
        raise TypeError(f"no JSON mapping for field {field.full_name} of type {field.type}")
    if field.is_repeated:
        return lambda values: [one(v) for v in values]
    return one


def _enum_name(field: FieldDescriptor) -> Callable[[int], str | int]:
    """An enum value by its name; a number the enum does not name, as the number."""
    enum = field.enum_type
    assert enum is not None
    names = {number: value.name for number, value in enum.values_by_number.items()}
    return lambda number: names.get(number, number)
