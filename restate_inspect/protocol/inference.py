"""Which protocol version a stream speaks, from its bytes, when nothing told it: raw bytes,
hex, a pair of bodies, an HTTP/2 connection captured after its requests' headers.

V1-V3 and V4+ share the framing and reuse type codes for other messages (0x0001 is the
runtime's CompletionMessage in V1-V3, the SDK's SuspensionMessage in V4+; 0x0003 an Error,
then an End). What tells them apart: codes that exist in one family only, which side sends
what, the StartMessage's later fields, the Input's and Output's `Value` wrapper, and the
shape of a body where a code means one thing in each (an empty 0x0003 is an EndMessage).
The first frame that tells decides; the verdict says what it was.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from restate_inspect.events import RawFrame
from restate_inspect.location import Direction
from restate_inspect.schemaless import RawField, decode_schemaless

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
HELD_FRAMES: Final = 64  # frames a stream may wait for its verdict; then it cannot tell
_V1_ENTRIES: Final = range(0x0800, 0x0C0A)  # state and syscall entries (0x0C06+: V3)
_V4_COMMANDS: Final = frozenset(range(0x0402, 0x0415)) - {0x040F}
_V4_NOTIFICATIONS: Final = range(0x8000, 0xFC00)
_START_V6: Final = 9  # StartMessage.random_seed, sent by runtimes speaking V4 and later
_START_V7: Final = frozenset({10, 11, 12})  # scope, limit_key, idempotency_key
_VALUE_FIELD: Final = 14  # Input's and Output's value: raw bytes in V1-V3, a Value in V4+


class Verdict(NamedTuple):
    family: str  # "v1" or "v4"
    version: int  # the version to read it as: the lowest its bytes fit
    because: str  # what told, in words, after "from"
    frame: RawFrame | None = None  # the frame that told


def _fields(body: bytes) -> tuple[RawField, ...] | None:
    try:
        return decode_schemaless(body)
    except Exception:  # untrusted bytes: a body that is not protobuf tells nothing
        return None


def _code(raw: RawFrame) -> str:
    return f"a {raw.type:#06x} at offset {raw.offset:#x}"


def _start(raw: RawFrame) -> Verdict | None:
    numbers = {f.number for f in _fields(raw.body) or ()}
    start = f"the StartMessage at offset {raw.offset:#x}"
    if numbers & _START_V7:
        fields = ", ".join(str(n) for n in sorted(numbers & _START_V7))
        return Verdict("v4", 7, f"{start}, whose field(s) {fields} only V7 has")
    if _START_V6 in numbers:
        return Verdict(
            "v4",
            6,
            f"{start}, whose random_seed (field 9) only V4+ runtimes send (under V5 too: V5 "
            "and V6 look alike)",
        )
    return None


def _value(raw: RawFrame, name: str) -> Verdict | None:
    """An Input or Output: its value is a V4+ `Value{content}`, or V1-V3's raw bytes."""
    value = next((f for f in _fields(raw.body) or () if f.number == _VALUE_FIELD), None)
    if value is None or not isinstance(value.value, bytes) or not value.value:
        return None
    inner = value.as_message
    if inner is not None and [(f.number, f.wire_type) for f in inner] == [(1, 2)]:
        return Verdict("v4", 5, f"the {name} at offset {raw.offset:#x}, whose value is a Value")
    return Verdict("v1", 2, f"the {name} at offset {raw.offset:#x}, whose value is raw bytes")


def _by_code(raw: RawFrame) -> Verdict | None:
    """Codes that exist in one family only, for either side."""
    if raw.type in _V1_ENTRIES:
        version = 3 if raw.type >= 0x0C06 else 2
        return Verdict("v1", version, f"{_code(raw)}, a V1-V3 journal entry")
    if raw.type in _V4_COMMANDS:
        return Verdict("v4", 5, f"{_code(raw)}, a V4+ command")
    return None


def _from_runtime(raw: RawFrame) -> Verdict | None:
    if raw.type == 0x0000:
        return _start(raw)
    if raw.type == 0x0400:
        return _value(raw, "Input")
    if raw.type == 0x0001:
        return Verdict("v1", 2, f"{_code(raw)} from the runtime: a V1-V3 CompletionMessage")
    if raw.type == 0x0007:
        return Verdict("v4", 7, f"{_code(raw)}: a V7 ProposeRunCompletionAckMessage")
    if raw.type in _V4_NOTIFICATIONS:
        return Verdict("v4", 5, f"{_code(raw)}, a V4+ notification")
    return None


def _from_sdk(raw: RawFrame) -> Verdict | None:
    kind, empty = raw.type, not raw.body
    if kind == 0x0401:
        return _value(raw, "Output")
    if kind == 0x0001:
        numbers = {f.number for f in _fields(raw.body) or ()}
        version = 7 if 4 in numbers else 5
        return Verdict("v4", version, f"{_code(raw)} from the SDK: a V4+ SuspensionMessage")
    if kind == 0x0003:
        what = "V4+ EndMessage" if empty else "V1-V3 ErrorMessage"
        return Verdict("v4" if empty else "v1", 5 if empty else 2, f"{_code(raw)}: a {what}")
    if kind == 0x0005:
        if empty:
            return Verdict("v1", 2, f"{_code(raw)}, empty: a V1-V3 EndMessage")
        version = 7 if raw.flags & 0x8000 else 5
        return Verdict("v4", version, f"{_code(raw)}: a V4+ ProposeRunCompletionMessage")
    if kind == 0x0006:
        return Verdict("v4", 7, f"{_code(raw)}: a V7 AwaitingOnMessage")
    if kind == 0x0002:
        return _error_or_suspension(raw)
    return None


def _error_or_suspension(raw: RawFrame) -> Verdict | None:
    """0x0002: a V1-V3 SuspensionMessage (field 1: packed indexes) or a V4+ ErrorMessage
    (field 1: the code, a varint)."""
    first = next((f for f in _fields(raw.body) or () if f.number == 1), None)
    if first is None:
        return None
    if first.wire_type == 2:
        return Verdict("v1", 2, f"{_code(raw)}: a V1-V3 SuspensionMessage")
    return Verdict("v4", 5, f"{_code(raw)}: a V4+ ErrorMessage")


def verdict(raw: RawFrame) -> Verdict | None:
    """What one frame tells of its stream's version, if anything."""
    found = _by_code(raw)
    if found is None and raw.direction is RUNTIME:
        found = _from_runtime(raw)
    elif found is None and raw.direction is SDK:
        found = _from_sdk(raw)
    return None if found is None else found._replace(frame=raw)


def without_later_fields(frames: list[RawFrame]) -> Verdict | None:
    """No frame told: a runtime's StartMessage without random_seed still leans to V1-V3,
    as runtimes from 1.5 on send one under every V4+ version (only a V4/V5 stream of an
    older runtime looks the same)."""
    for raw in frames:
        if raw.type == 0x0000 and raw.direction is RUNTIME:
            fields = _fields(raw.body)
            if fields is not None and all(f.number < _START_V6 for f in fields):
                because = (
                    f"the StartMessage at offset {raw.offset:#x}, which has no random_seed: "
                    "runtimes from 1.5 on send one under V4 and later (a V4/V5 stream of an "
                    "older runtime would look the same)"
                )
                return Verdict("v1", 2, because, raw)
    return None
