"""The message-type registry and body decoding: wire facts as one table.

Check the table against the spec at a glance: code, name, protobuf class, namespace,
completable, fallible, and which side sends it.
"""

from __future__ import annotations

import copyreg
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.unknown_fields import UnknownFieldSet

from restate_inspect._proto import protocol_pb2 as pb

REQUIRES_ACK = 0x8000  # any entry: the SDK wants an EntryAckMessage once it is stored
COMPLETED = 0x0001  # completable entries only: the result is in the entry
FLAG_NAMES = {REQUIRES_ACK: "REQUIRES_ACK", COMPLETED: "COMPLETED"}
CUSTOM_ENTRY_MIN = 0xFC00
RESERVED_ENTRY_FIELDS = (13, 14, 15)  # result fields; a custom entry must not use them
NAME_FIELD = 12  # every entry may carry a name here, custom ones included


class Namespace(StrEnum):
    CORE = "core"
    IO = "io"
    STATE = "state"
    SYSCALL = "syscall"
    CUSTOM = "custom"


class Sender(StrEnum):
    RUNTIME = "runtime"
    SDK = "sdk"
    BOTH = "both"  # journal entries: the runtime replays them, the SDK creates them


@dataclass(frozen=True, slots=True)
class MessageType:
    code: int
    name: str
    cls: type[Message] | None  # None: known by name only, decoded schema-less
    namespace: Namespace
    completable: bool
    fallible: bool
    sender: Sender
    min_version: int = 1

    @property
    def is_entry(self) -> bool:
        return self.namespace is not Namespace.CORE

    @property
    def allowed_flags(self) -> int:
        return (REQUIRES_ACK if self.is_entry else 0) | (COMPLETED if self.completable else 0)

    @property
    def hex(self) -> str:
        return f"0x{self.code:04x}"


def _entry(
    code: int, name: str, namespace: Namespace, completable: bool, fallible: bool, sender: Sender
) -> MessageType:
    """A V1/V2 type: its protobuf class is the generated class of the same name."""
    return MessageType(code, name, getattr(pb, name), namespace, completable, fallible, sender)


def _v3(code: int, name: str, completable: bool, fallible: bool) -> MessageType:
    return MessageType(code, name, None, Namespace.SYSCALL, completable, fallible, Sender.BOTH, 3)


_CORE, _IO, _STATE, _SYS = Namespace.CORE, Namespace.IO, Namespace.STATE, Namespace.SYSCALL
_R, _S, _B = Sender.RUNTIME, Sender.SDK, Sender.BOTH
_T = _entry

# fmt: off
MESSAGE_TYPES: tuple[MessageType, ...] = (
    # code      name                             namespace completable fallible sender
    _T(0x0000, "StartMessage",                  _CORE,  False, False, _R),
    _T(0x0001, "CompletionMessage",             _CORE,  False, False, _R),
    _T(0x0002, "SuspensionMessage",             _CORE,  False, False, _S),
    _T(0x0003, "ErrorMessage",                  _CORE,  False, False, _S),
    _T(0x0004, "EntryAckMessage",               _CORE,  False, False, _R),
    _T(0x0005, "EndMessage",                    _CORE,  False, False, _S),
    _T(0x0400, "InputEntryMessage",             _IO,    False, False, _B),
    _T(0x0401, "OutputEntryMessage",            _IO,    False, False, _B),
    _T(0x0800, "GetStateEntryMessage",          _STATE, True,  False, _B),
    _T(0x0801, "SetStateEntryMessage",          _STATE, False, False, _B),
    _T(0x0802, "ClearStateEntryMessage",        _STATE, False, False, _B),
    _T(0x0803, "ClearAllStateEntryMessage",     _STATE, False, False, _B),
    _T(0x0804, "GetStateKeysEntryMessage",      _STATE, True,  False, _B),
    _T(0x0808, "GetPromiseEntryMessage",        _STATE, True,  False, _B),
    _T(0x0809, "PeekPromiseEntryMessage",       _STATE, True,  False, _B),
    _T(0x080A, "CompletePromiseEntryMessage",   _STATE, True,  False, _B),
    _T(0x0C00, "SleepEntryMessage",             _SYS,   True,  False, _B),
    _T(0x0C01, "CallEntryMessage",              _SYS,   True,  True,  _B),
    _T(0x0C02, "OneWayCallEntryMessage",        _SYS,   False, True,  _B),
    _T(0x0C03, "AwakeableEntryMessage",         _SYS,   True,  False, _B),
    _T(0x0C04, "CompleteAwakeableEntryMessage", _SYS,   False, True,  _B),
    _T(0x0C05, "RunEntryMessage",               _SYS,   False, False, _B),
)

# Protocol V3 entries: recognised by name so that the report can say what they are.
V3_TYPES: tuple[MessageType, ...] = (
    #    code    name                               completable fallible
    _v3(0x0C06, "CancelInvocationEntryMessage",    False, True),
    _v3(0x0C07, "GetCallInvocationIdEntryMessage", True,  True),
    _v3(0x0C08, "AttachInvocationEntryMessage",    True,  True),
    _v3(0x0C09, "GetInvocationOutputEntryMessage", True,  True),
)
# fmt: on

CUSTOM_ENTRY = MessageType(
    CUSTOM_ENTRY_MIN, "CustomEntryMessage", None, Namespace.CUSTOM, False, False, Sender.BOTH
)

# V3 adds the V3_TYPES entries to V2 and changes nothing else. V4 replaced journal entries,
# completions and acks with commands and notifications: the same frame header around other
# messages, of which only the StartMessage kept its shape.
LAST_INTERPRETED_VERSION: Final = 3


def interpreted(version: int | None) -> bool:
    """Are a stream's frames read by this schema (V1 to V3, or a version not known)?"""
    return version is None or version <= LAST_INTERPRETED_VERSION


def not_interpreted(version: int) -> str:
    """How a stream of a version that is not interpreted ends, in a few words."""
    return f"not interpreted (protocol V{version})"


BY_CODE: dict[int, MessageType] = {t.code: t for t in (*MESSAGE_TYPES, *V3_TYPES)}
BY_NAME: dict[str, MessageType] = {t.name: t for t in (*MESSAGE_TYPES, *V3_TYPES)}


def lookup(code: int) -> MessageType | None:
    """The registry entry for a type code; custom entries share one description."""
    known = BY_CODE.get(code)
    if known is None and code >= CUSTOM_ENTRY_MIN:
        return replace(CUSTOM_ENTRY, code=code)
    return known


# entries whose messages link invocations: an awakeable, and the entry that completes one
LINKABLE: Final = (pb.AwakeableEntryMessage, pb.CompleteAwakeableEntryMessage)


def flag_names(flags: int) -> list[str]:
    """Named flags first, then any other set bit in hex."""
    names = [name for bit, name in FLAG_NAMES.items() if flags & bit]
    unknown = flags & ~(REQUIRES_ACK | COMPLETED)
    names.extend(f"0x{1 << bit:04x}" for bit in range(16) if unknown & (1 << bit))
    return names


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


WIRE_TYPE_NAMES = {0: "varint", 1: "i64", 2: "len", 3: "group", 5: "i32"}
_MAX_NESTING = 16


def decode_schemaless(body: bytes) -> tuple[RawField, ...]:
    """Decode any protobuf body field by field. Raises DecodeError when it is not protobuf."""
    return _raw_fields(UnknownFieldSet(pb.Empty.FromString(body)), _MAX_NESTING)


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
        parsed = pb.Empty.FromString(raw)
    except Exception:  # untrusted bytes: any failure means "not a message"
        return None
    return _raw_fields(UnknownFieldSet(parsed), depth)


def custom_entry_name(fields: tuple[RawField, ...]) -> str | None:
    """The observability name a custom entry carries in field 12, if it is text."""
    for field in fields:
        if field.number == NAME_FIELD and field.as_text is not None:
            return field.as_text
    return None


# --- pickling ----------------------------------------------------------------------------
# Decoded records are pickled to go to disk (the TUI's store). The generated classes name a
# module, "protocol_pb2", that cannot be imported by that name: their messages are pickled
# as their type's name and their bytes, and message types as their codes.


def _descriptors(descriptors: Iterable[Descriptor]) -> Iterator[Descriptor]:
    for descriptor in descriptors:
        yield descriptor
        yield from _descriptors(descriptor.nested_types)


_CLASSES: Final = {
    d.full_name: GetMessageClass(d)
    for d in _descriptors(pb.DESCRIPTOR.message_types_by_name.values())
}


def _message(full_name: str, body: bytes) -> Message:
    return _CLASSES[full_name].FromString(body)


def _reduce_message(message: Message) -> tuple[Callable[[str, bytes], Message], tuple[str, bytes]]:
    return _message, (message.DESCRIPTOR.full_name, message.SerializeToString())


def _reduce_message_type(spec: MessageType) -> tuple[Callable[[int], Any], tuple[int]]:
    return lookup, (spec.code,)  # custom entries too, which BY_CODE does not hold


for _cls in _CLASSES.values():
    copyreg.pickle(_cls, _reduce_message)
copyreg.pickle(MessageType, _reduce_message_type)
