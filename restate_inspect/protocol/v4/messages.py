"""The V4-V8 message tables: commands and notifications, as data.

Check them against RESEARCH-V3-V8.md §2.4 at a glance: code, name, kind, who sends it,
which notification answers it, and the version it came with. V4 and V5 share a wire; V6
adds StartMessage.random_seed and Failure.metadata; V7 the Future tree, AwaitingOn and the
run ack; V8 (no restate-server speaks it) ephemeral state reads, known here by name only.
Each version's frames are read with the classes of its own schema (V8 with V7's).
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Final

from restate_inspect.events import MessageType, Namespace, Sender
from restate_inspect.protocol.v4._proto import v4_pb2, v5_pb2, v6_pb2, v7_pb2

REQUESTED_ACK: Final = 0x8000  # a command (or, from V7, a run proposal) the runtime must ack
FLAG_NAMES: Final = {REQUESTED_ACK: "REQUESTED_ACK"}  # bit 0x0001 is reserved from V4 on
FIRST_COMMAND: Final = 0x0400
FIRST_NOTIFICATION: Final = 0x8000
FIRST_CUSTOM: Final = 0xFC00
VERSIONS: Final = (4, 5, 6, 7, 8)

# the type codes the journal follows
START, SUSPENSION, ERROR, END, COMMAND_ACK, PROPOSE_RUN = range(6)
AWAITING_ON, RUN_ACK = 0x0006, 0x0007
INPUT, OUTPUT = 0x0400, 0x0401
GET_EAGER_STATE, GET_EAGER_STATE_KEYS = 0x0407, 0x0408
SLEEP, CALL, ONE_WAY_CALL = 0x040C, 0x040D, 0x040E
SEND_SIGNAL, RUN, COMPLETE_AWAKEABLE = 0x0410, 0x0411, 0x0414
CALL_INVOCATION_ID, RUN_COMPLETION, SIGNAL = 0x800E, 0x8011, 0xFBFF

_C, _X, _N = Namespace.CORE, Namespace.COMMAND, Namespace.NOTIFICATION
_R, _S, _B = Sender.RUNTIME, Sender.SDK, Sender.BOTH

# fmt: off
_ROWS: Final = (
    # code    name                                               kind sender answered by  since
    (0x0000, "StartMessage",                                    _C, _R, (),               4),
    (0x0001, "SuspensionMessage",                               _C, _S, (),               4),
    (0x0002, "ErrorMessage",                                    _C, _S, (),               4),
    (0x0003, "EndMessage",                                      _C, _S, (),               4),
    (0x0004, "CommandAckMessage",                               _C, _R, (),               4),
    (0x0005, "ProposeRunCompletionMessage",                     _C, _S, (),               4),
    (0x0006, "AwaitingOnMessage",                               _C, _S, (),               7),
    (0x0007, "ProposeRunCompletionAckMessage",                  _C, _R, (),               7),
    (0x0200, "GetStateEphemeralCommandMessage",                 _C, _S, (0x0300,),        8),
    (0x0300, "GetStateEphemeralNotificationMessage",            _C, _R, (),               8),
    (0x0400, "InputCommandMessage",                             _X, _B, (),               4),
    (0x0401, "OutputCommandMessage",                            _X, _B, (),               4),
    (0x0402, "GetLazyStateCommandMessage",                      _X, _B, (0x8002,),        4),
    (0x0403, "SetStateCommandMessage",                          _X, _B, (),               4),
    (0x0404, "ClearStateCommandMessage",                        _X, _B, (),               4),
    (0x0405, "ClearAllStateCommandMessage",                     _X, _B, (),               4),
    (0x0406, "GetLazyStateKeysCommandMessage",                  _X, _B, (0x8006,),        4),
    (0x0407, "GetEagerStateCommandMessage",                     _X, _B, (),               4),
    (0x0408, "GetEagerStateKeysCommandMessage",                 _X, _B, (),               4),
    (0x0409, "GetPromiseCommandMessage",                        _X, _B, (0x8009,),        4),
    (0x040A, "PeekPromiseCommandMessage",                       _X, _B, (0x800A,),        4),
    (0x040B, "CompletePromiseCommandMessage",                   _X, _B, (0x800B,),        4),
    (0x040C, "SleepCommandMessage",                             _X, _B, (0x800C,),        4),
    (0x040D, "CallCommandMessage",                              _X, _B, (0x800E, 0x800D), 4),
    (0x040E, "OneWayCallCommandMessage",                        _X, _B, (0x800E,),        4),
    (0x0410, "SendSignalCommandMessage",                        _X, _B, (),               4),
    (0x0411, "RunCommandMessage",                               _X, _B, (0x8011,),        4),
    (0x0412, "AttachInvocationCommandMessage",                  _X, _B, (0x8012,),        4),
    (0x0413, "GetInvocationOutputCommandMessage",               _X, _B, (0x8013,),        4),
    (0x0414, "CompleteAwakeableCommandMessage",                 _X, _B, (),               4),
    (0x8002, "GetLazyStateCompletionNotificationMessage",       _N, _R, (),               4),
    (0x8006, "GetLazyStateKeysCompletionNotificationMessage",   _N, _R, (),               4),
    (0x8009, "GetPromiseCompletionNotificationMessage",         _N, _R, (),               4),
    (0x800A, "PeekPromiseCompletionNotificationMessage",        _N, _R, (),               4),
    (0x800B, "CompletePromiseCompletionNotificationMessage",    _N, _R, (),               4),
    (0x800C, "SleepCompletionNotificationMessage",              _N, _R, (),               4),
    (0x800D, "CallCompletionNotificationMessage",               _N, _R, (),               4),
    (0x800E, "CallInvocationIdCompletionNotificationMessage",   _N, _R, (),               4),
    (0x8011, "RunCompletionNotificationMessage",                _N, _R, (),               4),
    (0x8012, "AttachInvocationCompletionNotificationMessage",   _N, _R, (),               4),
    (0x8013, "GetInvocationOutputCompletionNotificationMessage", _N, _R, (),              4),
    (0xFBFF, "SignalNotificationMessage",                       _N, _R, (),               4),
)
# fmt: on

SCHEMAS: Final[dict[int, ModuleType]] = {4: v4_pb2, 5: v5_pb2, 6: v6_pb2, 7: v7_pb2, 8: v7_pb2}

CUSTOM: Final = MessageType(
    FIRST_CUSTOM, "CustomMessage", None, Namespace.CUSTOM, False, False, Sender.BOTH, REQUESTED_ACK
)


def _allowed_flags(code: int, namespace: Namespace, version: int) -> int:
    """REQUESTED_ACK on commands; on run proposals from V7, where the runtime answers it."""
    if namespace is Namespace.COMMAND or (code == PROPOSE_RUN and version >= 7):
        return REQUESTED_ACK
    return 0


class MessageTable:
    """One version's types. A type of a later version is known by name, without a class."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.schema = SCHEMAS[version]
        self.types: tuple[MessageType, ...] = tuple(
            MessageType(
                code,
                name,
                getattr(self.schema, name, None) if since <= version else None,
                namespace,
                bool(answers),
                False,
                sender,
                _allowed_flags(code, namespace, version),
                since,
                answers,
            )
            for code, name, namespace, sender, answers, since in _ROWS
        )
        self.by_code: dict[int, MessageType] = {t.code: t for t in self.types}

    def lookup(self, code: int) -> MessageType | None:
        """The row of a type code; custom types (0xFC00 and up) share one description."""
        known = self.by_code.get(code)
        if known is None and code >= FIRST_CUSTOM:
            return replace(CUSTOM, code=code)
        return known


TABLES: Final = {version: MessageTable(version) for version in VERSIONS}
LATEST: Final = TABLES[7]  # the newest schema: names every field any version has


def is_command(code: int) -> bool:
    return FIRST_COMMAND <= code < FIRST_NOTIFICATION


def is_notification(code: int) -> bool:
    return FIRST_NOTIFICATION <= code < FIRST_CUSTOM


def flag_names(flags: int) -> list[str]:
    """Named flags first, then any other set bit in hex."""
    names = [name for bit, name in FLAG_NAMES.items() if flags & bit]
    unknown = flags & ~REQUESTED_ACK
    names.extend(f"0x{1 << bit:04x}" for bit in range(16) if unknown & (1 << bit))
    return names
