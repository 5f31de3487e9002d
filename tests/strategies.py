"""Hypothesis strategies: protocol messages built from their descriptors, and frames."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from restate_inspect.events import MessageType
from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v1.messages import V2_TABLE

# the V1/V2 types, each with its schema class
MESSAGE_TYPES = tuple(t for t in V2_TABLE.types if t.cls is not None)

_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_STRING: st.text(max_size=40),
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=60),
}


_MAX_DEPTH = 3  # a recursive message (the V7 Future tree) stops growing here


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        assert field.message_type is not None
        return _fields(field.message_type, depth + 1)
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        return st.sampled_from(sorted(field.enum_type.values_by_number))
    return _SCALARS[field.type]


def _fields(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field values; at most one field of each oneof is set."""
    plain: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.containing_oneof is not None:
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE and depth >= _MAX_DEPTH:
            continue
        value = _value(field, depth)
        plain[field.name] = st.lists(value, max_size=3) if field.is_repeated else value
    oneofs = [
        st.one_of(st.none(), *(st.tuples(st.just(f.name), _value(f, depth)) for f in oneof.fields))
        for oneof in descriptor.oneofs
    ]
    optional = {name: st.one_of(st.none(), value) for name, value in plain.items()}

    def merge(values: dict[str, Any], chosen: list[tuple[str, Any] | None]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if v is not None}
        out.update(c for c in chosen if c is not None)
        return out

    return st.builds(merge, st.fixed_dictionaries(optional), st.tuples(*oneofs).map(list))


def _build(cls: type[Message], values: dict[str, Any]) -> Message:
    message = cls()
    _fill(message, values)
    return message


def _fill(message: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if field.is_repeated else [value]:
                _fill(target.add() if field.is_repeated else target, item)
            if not field.is_repeated and not item:
                target.SetInParent()  # an empty message that is set, such as `empty {}`
        elif field.is_repeated:
            target.extend(value)
        else:
            setattr(message, name, value)


def messages(spec: MessageType) -> st.SearchStrategy[Message]:
    assert spec.cls is not None
    cls = spec.cls
    descriptor: Descriptor = cls.DESCRIPTOR  # type: ignore[assignment]
    return _fields(descriptor).map(lambda values: _build(cls, values))


def flags_for(spec: MessageType) -> st.SearchStrategy[int]:
    allowed = spec.allowed_flags
    return st.sampled_from(sorted({0, allowed & 0x8000, allowed & 0x0001, allowed}))


@st.composite
def typed_messages(draw: st.DrawFn) -> tuple[MessageType, Message, int]:
    spec = draw(st.sampled_from(MESSAGE_TYPES))
    return spec, draw(messages(spec)), draw(flags_for(spec))


def valid_streams() -> st.SearchStrategy[bytes]:
    return st.lists(typed_messages(), max_size=8).map(
        lambda items: b"".join(encode_frame(spec.code, msg, flags) for spec, msg, flags in items)
    )
