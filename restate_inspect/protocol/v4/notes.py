"""What a V4-V8 message says beyond its fields, for the `annotations` of its frame record:
completion ids and signals by name, what a suspension waits on, awakeable ids, the command
an error blames, and fields that only a later version's schema has."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Final

from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from restate_inspect.events import Frame, FrameContext
from restate_inspect.protocol.v4.messages import (
    AWAITING_ON,
    CALL,
    COMPLETE_AWAKEABLE,
    ERROR,
    LATEST,
    ONE_WAY_CALL,
    SCHEMAS,
    SIGNAL,
    START,
    SUSPENSION,
    TABLES,
)
from restate_inspect.protocol.v4.reading import descriptor_of, field_since, short_name
from restate_inspect.protojson import message_to_dict, scalar_to_json
from restate_inspect.values import (
    RESTATE_CODE_MEANINGS,
    SIGNAL_PREFIX,
    awakeable_id,
    human_duration,
    invocation_id_text,
    parse_awakeable_id,
)

Notes = dict[str, Any]
PAUSE, FAIL = 1, 2  # V7 ErrorBehavior; 0 (RETRY) and unknown values retry
CANCEL: Final = 1  # the built-in signal; 2-16 are reserved, awakeables take 17 and up
FIRST_AWAKEABLE: Final = 17
ID_FIELDS: Final = {  # fields that hold a completion id, by name
    "result_completion_id", "invocation_id_notification_idx", "completion_id",
}  # fmt: skip
COMBINATORS: Final = {  # V7 CombinatorType: how a Future's parts make it resolve
    0: "first of", 1: "first of", 2: "all of", 3: "first success of", 4: "all successes of",
}  # fmt: skip


def completion(number: int) -> str:
    return f"completion #{number}"


def signal(index: int) -> str:
    if index == CANCEL:
        return "signal 1 (CANCEL)"
    if index < FIRST_AWAKEABLE:
        return f"signal {index} (reserved)"
    return f"signal {index}"


def named_signal(name: str) -> str:
    return f"signal {name!r}"


Owner = Callable[[int], str | None]  # the command that allocated a completion id, in words


def _completions(ids: Any, owner: Owner | None) -> list[str]:
    words = []
    for number in ids:
        said = owner(number) if owner is not None else None
        words.append(completion(number) + (f" ({said})" if said else ""))
    return words


def future_text(future: Any, owner: Owner | None = None) -> str:
    """A Future tree (V7) in words: `first of (completion #2, signal 1 (CANCEL))`; with
    `owner`, each completion id says whose it is: `completion #2 (#2 Sleep)`."""
    parts = _completions(future.waiting_completions, owner)
    parts += [signal(i) for i in future.waiting_signals]
    parts += [named_signal(n) for n in future.waiting_named_signals]
    parts += [future_text(nested, owner) for nested in future.nested_futures]
    combinator = COMBINATORS.get(future.combinator_type, f"combinator {future.combinator_type} of")
    return f"{combinator} ({', '.join(parts)})" if parts else "nothing"


def awaiting_text(message: Any, owner: Owner | None = None) -> str:
    """What a SuspensionMessage or AwaitingOnMessage waits on: a V7 Future, or the three
    lists of V4-V6, any of which resumes it."""
    if "awaiting_on" in message.DESCRIPTOR.fields_by_name:
        if not message.HasField("awaiting_on"):
            return "nothing"
        return future_text(message.awaiting_on, owner)
    parts = _completions(message.waiting_completions, owner)
    parts += [signal(i) for i in message.waiting_signals]
    parts += [named_signal(n) for n in message.waiting_named_signals]
    return ", ".join(parts) or "nothing"


def error_ending(message: Any) -> str:
    """error 500, error 500 (retry in 200 ms), paused (error 570), failed (error 500)."""
    behavior = getattr(message, "behavior", 0)
    if behavior == PAUSE:
        return f"paused (error {message.code})"
    if behavior == FAIL:
        return f"failed (error {message.code})"
    text = f"error {message.code}"
    if message.HasField("next_retry_delay"):
        text += f" (retry in {human_duration(message.next_retry_delay)})"
    return text


def _ids(message: Message, notes: Notes) -> None:
    readings = {}
    for field, value in message.ListFields():
        if field.name in ID_FIELDS:
            readings[field.name] = completion(value)
        elif field.name in ("idx", "signal_id"):
            readings[field.name] = signal(value)
        elif field.name in ("name", "signal_name") and field.containing_oneof is not None:
            readings[field.name] = named_signal(value)
    if readings:
        notes["ids"] = readings


def _start(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    notes["invocation_id"] = invocation_id_text(message.id)


def _awaiting(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    notes["awaiting"] = awaiting_text(message)


def _signal(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    index = message.idx if message.WhichOneof("signal_id") == "idx" else None
    if index is not None and index >= FIRST_AWAKEABLE and context.invocation_raw is not None:
        notes["awakeable_id"] = awakeable_id(context.invocation_raw, index, SIGNAL_PREFIX)


def _complete_awakeable(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    target = parse_awakeable_id(message.awakeable_id)
    if target is not None:
        place = "signal_index" if target.is_signal else "entry_index"
        notes["awakeable"] = {"invocation_id": target.invocation_id, place: target.entry_index}


def _call(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    notes["target"] = f"{message.service_name}/{message.handler_name}"


def _error(message: Any, frame: Frame, context: FrameContext, notes: Notes) -> None:
    if message.code in RESTATE_CODE_MEANINGS:
        notes["meaning"] = RESTATE_CODE_MEANINGS[message.code]
    if message.HasField("related_command_type"):
        related = LATEST.lookup(message.related_command_type)
        notes["related_command_type_name"] = related.name if related else None


MESSAGE_NOTES: Final[dict[int, Callable[[Any, Frame, FrameContext, Notes], None]]] = {
    START: _start,
    SUSPENSION: _awaiting,
    AWAITING_ON: _awaiting,
    SIGNAL: _signal,
    COMPLETE_AWAKEABLE: _complete_awakeable,
    CALL: _call,
    ONE_WAY_CALL: _call,
    ERROR: _error,
}


def message_notes(frame: Frame, context: FrameContext, notes: Notes) -> None:
    message = frame.message
    if context.command_index is not None:
        notes["command_index"] = context.command_index
    if message is None:
        return
    _ids(message, notes)
    note = MESSAGE_NOTES.get(frame.type)
    if note is not None:
        note(message, frame, context, notes)
    if frame.version is not None and may_hold_later_fields(frame.version, frame.type):
        later = later_fields(frame)
        if later:
            notes["later_version_fields"] = later


@cache
def may_hold_later_fields(version: int, code: int) -> bool:
    """Does a later version's schema of this type (or of a message inside it) have fields
    that this version's does not? Only those frames are looked into for them."""
    if version >= LATEST.version:  # V8 adds no field to V7's schema
        return False
    return grows(TABLES[version].by_code[code].name, version)


def grows(name: str, version: int) -> bool:
    """Has the latest schema's message `name`, or one inside it, a field that the
    version's has not?"""
    todo, seen = [name], {name}
    while todo:
        current = todo.pop()
        newest = descriptor_of(current, max(SCHEMAS))
        assert newest is not None, current
        if any(field_since(current, number) > version for number in newest.fields_by_number):
            return True
        for field in newest.fields:
            inner = short_name(field.message_type) if field.message_type else None
            if inner is not None and inner not in seen:
                seen.add(inner)
                todo.append(inner)
    return False


def later_fields(frame: Frame) -> dict[str, Any]:
    """The fields of a frame that its version's schema does not have, read with the latest
    schema: {path: {"since": "V6", "value": ...}} (random_seed, which runtimes from 1.5 send
    under V5 too)."""
    spec = LATEST.by_code.get(frame.type)
    if spec is None or spec.cls is None or frame.message is None:
        return {}
    if not _has_unknown(frame.message):
        return {}
    try:
        newest = spec.cls.FromString(frame.body)
    except DecodeError:  # the later schema reads those bytes otherwise (bad UTF-8): not its
        return {}
    out: dict[str, Any] = {}
    _collect(newest, "", frame.version or 0, out)
    return out


def _has_unknown(message: Message) -> bool:
    if len(UnknownFieldSet(message)):
        return True
    for field, value in message.ListFields():
        if field.message_type is not None:
            items = value if field.is_repeated else (value,)
            if any(_has_unknown(item) for item in items):
                return True
    return False


def _collect(message: Message, prefix: str, version: int, out: dict[str, Any]) -> None:
    name = short_name(message.DESCRIPTOR)
    for field, value in message.ListFields():
        since = field_since(name, field.number)
        path = prefix + field.name
        if since > version:
            out[path] = {"since": f"V{since}", "value": _plain(field, value)}
        elif field.message_type is not None:
            items = list(value) if field.is_repeated else [value]
            for index, item in enumerate(items):
                where = f"{path}[{index}]." if field.is_repeated else f"{path}."
                _collect(item, where, version, out)


def _plain(field: Any, value: Any) -> Any:
    if field.message_type is not None:
        items = value if field.is_repeated else [value]
        converted = [message_to_dict(item) for item in items]
        return converted if field.is_repeated else converted[0]
    return scalar_to_json(field, value)


def waited_ids(message: Any) -> list[int]:
    """The completion ids a Suspension or AwaitingOn waits on (a V7 Future, or V4-V6's list)."""
    if "waiting_completions" in message.DESCRIPTOR.fields_by_name:
        return list(message.waiting_completions)
    return _leaves(message.awaiting_on) if message.HasField("awaiting_on") else []


def _leaves(future: Any) -> list[int]:
    ids = list(future.waiting_completions)
    for nested in future.nested_futures:
        ids += _leaves(nested)
    return ids


def signals_of(message: Any) -> list[int | str]:
    """The signals (by index or name) a Suspension or AwaitingOn waits on."""
    if "waiting_signals" in message.DESCRIPTOR.fields_by_name:
        return [*message.waiting_signals, *message.waiting_named_signals]
    if not message.HasField("awaiting_on"):
        return []
    todo, found = [message.awaiting_on], []
    while todo:
        future = todo.pop()
        found += [*future.waiting_signals, *future.waiting_named_signals]
        todo += future.nested_futures
    return found
