"""The V1-V3 message tables: wire facts as data.

Check them against the spec at a glance: code, name, namespace, completable, fallible, and
which side sends it. V1 and V2 share one schema (protocol-v2.proto); V3 adds four syscall
entries and two fields (protocol-v3.proto), and each version's frames are read with the
classes of its own schema.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Final

from restate_inspect.events import MessageType, Namespace, Sender
from restate_inspect.protocol.v1._proto import v2_pb2, v3_pb2

REQUIRES_ACK: Final = 0x8000  # any entry: the SDK wants an EntryAckMessage once it is stored
COMPLETED: Final = 0x0001  # completable entries only: the result is in the entry
FLAG_NAMES: Final = {REQUIRES_ACK: "REQUIRES_ACK", COMPLETED: "COMPLETED"}
CUSTOM_ENTRY_MIN: Final = 0xFC00
RESERVED_ENTRY_FIELDS: Final = (13, 14, 15)  # result fields; a custom entry must not use them
VERSIONS: Final = (1, 2, 3)
FIRST_ENTRY_TYPE: Final = 0x0400  # every type from the I/O namespace up is a journal entry

# the type codes the journal follows
START, COMPLETION, SUSPENSION, ERROR, ENTRY_ACK, END = range(6)
INPUT, OUTPUT = 0x0400, 0x0401
GET_STATE_KEYS = 0x0804
SLEEP, CALL, ONE_WAY_CALL, AWAKEABLE, COMPLETE_AWAKEABLE, RUN = range(0x0C00, 0x0C06)
# entries whose messages link invocations: an awakeable, and the entry that completes one
LINKABLE: Final = frozenset({AWAKEABLE, COMPLETE_AWAKEABLE})

_CORE, _IO, _STATE, _SYS = Namespace.CORE, Namespace.IO, Namespace.STATE, Namespace.SYSCALL
_R, _S, _B = Sender.RUNTIME, Sender.SDK, Sender.BOTH

# fmt: off
_ROWS: Final = (
    # code    name                             namespace completable fallible sender version
    (0x0000, "StartMessage",                  _CORE,  False, False, _R, 1),
    (0x0001, "CompletionMessage",             _CORE,  False, False, _R, 1),
    (0x0002, "SuspensionMessage",             _CORE,  False, False, _S, 1),
    (0x0003, "ErrorMessage",                  _CORE,  False, False, _S, 1),
    (0x0004, "EntryAckMessage",               _CORE,  False, False, _R, 1),
    (0x0005, "EndMessage",                    _CORE,  False, False, _S, 1),
    (0x0400, "InputEntryMessage",             _IO,    False, False, _B, 1),
    (0x0401, "OutputEntryMessage",            _IO,    False, False, _B, 1),
    (0x0800, "GetStateEntryMessage",          _STATE, True,  False, _B, 1),
    (0x0801, "SetStateEntryMessage",          _STATE, False, False, _B, 1),
    (0x0802, "ClearStateEntryMessage",        _STATE, False, False, _B, 1),
    (0x0803, "ClearAllStateEntryMessage",     _STATE, False, False, _B, 1),
    (0x0804, "GetStateKeysEntryMessage",      _STATE, True,  False, _B, 1),
    (0x0808, "GetPromiseEntryMessage",        _STATE, True,  False, _B, 1),
    (0x0809, "PeekPromiseEntryMessage",       _STATE, True,  False, _B, 1),
    (0x080A, "CompletePromiseEntryMessage",   _STATE, True,  False, _B, 1),
    (0x0C00, "SleepEntryMessage",             _SYS,   True,  False, _B, 1),
    (0x0C01, "CallEntryMessage",              _SYS,   True,  True,  _B, 1),
    (0x0C02, "OneWayCallEntryMessage",        _SYS,   False, True,  _B, 1),
    (0x0C03, "AwakeableEntryMessage",         _SYS,   True,  False, _B, 1),
    (0x0C04, "CompleteAwakeableEntryMessage", _SYS,   False, True,  _B, 1),
    (0x0C05, "RunEntryMessage",               _SYS,   False, False, _B, 1),
    (0x0C06, "CancelInvocationEntryMessage",    _SYS, False, True,  _B, 3),
    (0x0C07, "GetCallInvocationIdEntryMessage", _SYS, True,  True,  _B, 3),
    (0x0C08, "AttachInvocationEntryMessage",    _SYS, True,  True,  _B, 3),
    (0x0C09, "GetInvocationOutputEntryMessage", _SYS, True,  True,  _B, 3),
)
# fmt: on


def _allowed_flags(namespace: Namespace, completable: bool) -> int:
    entry = namespace is not Namespace.CORE
    return (REQUIRES_ACK if entry else 0) | (COMPLETED if completable else 0)


CUSTOM_ENTRY: Final = MessageType(
    CUSTOM_ENTRY_MIN, "CustomEntryMessage", None, Namespace.CUSTOM, False, False, Sender.BOTH,
    REQUIRES_ACK,
)  # fmt: skip


class MessageTable:
    """One version's types, each read with its schema's class (a type that needs a later
    version is known by name only, and read without a schema)."""

    def __init__(self, version: int, schema: ModuleType) -> None:
        self.version = version
        self.types: tuple[MessageType, ...] = tuple(
            MessageType(
                code,
                name,
                getattr(schema, name) if since <= version else None,
                namespace,
                completable,
                fallible,
                sender,
                _allowed_flags(namespace, completable),
                since,
            )
            for code, name, namespace, completable, fallible, sender, since in _ROWS
        )
        self.by_code: dict[int, MessageType] = {t.code: t for t in self.types}
        self.schema = schema

    def lookup(self, code: int) -> MessageType | None:
        """The row of a type code; custom entries share one description."""
        known = self.by_code.get(code)
        if known is None and code >= CUSTOM_ENTRY_MIN:
            return replace(CUSTOM_ENTRY, code=code)
        return known

    def is_entry(self, code: int) -> bool:
        """By the table; a type it does not know (custom ones too) by its namespace."""
        known = self.by_code.get(code)
        return known.is_entry if known is not None else code >= FIRST_ENTRY_TYPE


V2_TABLE: Final = MessageTable(2, v2_pb2)  # V1 and V2
V3_TABLE: Final = MessageTable(3, v3_pb2)


def table(version: int | None) -> MessageTable:
    """The table of a V1-V3 version (of V2 when it is not known)."""
    return V3_TABLE if version == 3 else V2_TABLE


def flag_names(flags: int) -> list[str]:
    """Named flags first, then any other set bit in hex."""
    names = [name for bit, name in FLAG_NAMES.items() if flags & bit]
    unknown = flags & ~(REQUIRES_ACK | COMPLETED)
    names.extend(f"0x{1 << bit:04x}" for bit in range(16) if unknown & (1 << bit))
    return names
