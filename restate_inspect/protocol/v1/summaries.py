"""What a V1-V3 frame says, in one line (the journal timeline and the TUI): its key, target,
value preview, result; and short type names. Sans-IO; not yet terminal-safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from restate_inspect.events import Frame
from restate_inspect.protocol.v1._proto.v2_pb2 import GetStateKeysEntryMessage
from restate_inspect.protocol.v1.journal import AttemptJournal, Entry
from restate_inspect.protocol.v1.messages import (
    AWAKEABLE,
    CALL,
    COMPLETE_AWAKEABLE,
    COMPLETION,
    END,
    ENTRY_ACK,
    ERROR,
    GET_STATE_KEYS,
    INPUT,
    ONE_WAY_CALL,
    OUTPUT,
    RUN,
    SLEEP,
    START,
    SUSPENSION,
    VERSIONS,
)
from restate_inspect.values import (
    awakeable_id,
    cause_line,
    epoch_ms_to_iso,
    failure_text,
    human_duration,
    named_code,
    parse_awakeable_id,
    preview,
    start_parts,
)


def short_name(type_name: str | None) -> str:
    """CallEntryMessage -> Call, CompletionMessage -> Completion."""
    name = type_name or "?"
    for suffix in ("EntryMessage", "Message"):
        if name.endswith(suffix) and name != suffix:
            return name[: -len(suffix)]
    return name


def result_text(message: Any) -> str:
    """An entry's or completion's result: a value, empty, or a failure."""
    kind = message.WhichOneof("result") if "result" in message.DESCRIPTOR.oneofs_by_name else None
    if kind == "value":
        value = message.value
        if not isinstance(value, bytes):  # a GetStateKeys entry's: a StateKeys message
            return "keys " + ", ".join(preview(k, 20) for k in value.keys)
        return preview(value)
    if kind == "failure":
        return failure_text(message.failure)
    if kind == "empty":
        return "(empty)"
    return ""


def state_keys(data: bytes) -> list[str] | None:
    """A completion's value for a GetStateKeys entry: a serialized StateKeys."""
    try:
        keys = GetStateKeysEntryMessage.StateKeys.FromString(data)
    except Exception:  # untrusted bytes: not a StateKeys, then
        return None
    return [k.decode("utf-8", "replace") for k in keys.keys]


def frame_index(frame: Frame, attempt: AttemptJournal) -> int | None:
    """The index of the entry a frame carries, in its attempt."""
    for index, entry in attempt.entries.items():
        if entry.frame is frame:
            return index
    return None


def summary(frame: Frame, entry: Entry | None, attempt: AttemptJournal) -> str:
    """A frame in one line: what it says, not its every field."""
    message = frame.message
    if message is None or frame.version not in VERSIONS:  # another family's frame: its size
        return f"{len(frame.body)} bytes" + (" (body does not parse)" if frame.message_type else "")
    describe = _SUMMARIES.get(frame.type)
    text = describe(message, attempt) if describe is not None else ""
    if frame.type == AWAKEABLE:
        text = f"{_awakeable_line(frame, attempt)} {text}".strip()
    if entry is not None and entry.entry_name and frame.type != RUN:
        text = f"{entry.entry_name!r} {text}".strip()
    return text


def _start(message: Any, attempt: AttemptJournal) -> str:
    return " · ".join(start_parts(message))


def _completion(message: Any, attempt: AttemptJournal) -> str:
    entry = attempt.entries.get(message.entry_index)
    result = result_text(message)
    if entry is not None and entry.frame.type == GET_STATE_KEYS and entry.frame.message:
        keys = state_keys(message.value) if message.HasField("value") else None
        result = "keys " + ", ".join(keys) if keys is not None else result
    return f"completes #{message.entry_index} with {result}"


def _suspension(message: Any, attempt: AttemptJournal) -> str:
    waits = ", ".join(f"#{i}" for i in message.entry_indexes) or "nothing"
    return f"waits on {waits}"


def _error(message: Any, attempt: AttemptJournal) -> str:
    line = cause_line(message.message)
    text = named_code(message.code) + (f": {line}" if line else "")
    related = attempt.related_entry(message)
    if related:
        text += f" · at {related}"
    if message.HasField("next_retry_delay"):
        text += f" · retry in {human_duration(message.next_retry_delay)}"
    return text


def _state(message: Any, attempt: AttemptJournal) -> str:
    key = preview(message.key, 24) if isinstance(message.key, bytes) else repr(message.key)
    result = result_text(message)
    return f"{key}" + (f" → {result}" if result else "")


def _set_state(message: Any, attempt: AttemptJournal) -> str:
    return f"{preview(message.key, 24)} = {preview(message.value)}"


def _call(message: Any, attempt: AttemptJournal) -> str:
    key = f" [{message.key}]" if message.key else ""
    text = f"{message.service_name}/{message.handler_name}{key}({preview(message.parameter, 32)})"
    result = result_text(message)
    return text + (f" → {result}" if result else "")


def _one_way(message: Any, attempt: AttemptJournal) -> str:
    key = f" [{message.key}]" if message.key else ""
    when = f" at {epoch_ms_to_iso(message.invoke_time)}" if message.invoke_time else ""
    call = f"{message.service_name}/{message.handler_name}{key}"
    return f"{call}({preview(message.parameter, 32)}){when}"


def _sleep(message: Any, attempt: AttemptJournal) -> str:
    text = f"until {epoch_ms_to_iso(message.wake_up_time)}" if message.wake_up_time else ""
    result = result_text(message)
    return text + (f" → {result}" if result and result != "(empty)" else "")


def _awakeable(message: Any, attempt: AttemptJournal) -> str:
    return result_text(message)


def _awakeable_line(frame: Frame, attempt: AttemptJournal) -> str:
    """An Awakeable entry by the id user code hands out, then its result."""
    index = frame_index(frame, attempt)
    if attempt.start is None or index is None:
        return ""
    return awakeable_id(attempt.start.id, index)


def _complete_awakeable(message: Any, attempt: AttemptJournal) -> str:
    target = parse_awakeable_id(message.id)
    who = (
        f"{target.invocation_id} #{target.entry_index}"
        if target and target.invocation_id
        else message.id
    )
    return f"{who} ← {result_text(message)}"


def _run(message: Any, attempt: AttemptJournal) -> str:
    name = f"{message.name!r} " if message.name else ""
    return f"{name}→ {result_text(message)}"


def _promise(message: Any, attempt: AttemptJournal) -> str:
    result = result_text(message)
    return f"{message.key!r}" + (f" → {result}" if result else "")


def _complete_promise(message: Any, attempt: AttemptJournal) -> str:
    kind = message.WhichOneof("completion")
    value = (
        preview(message.completion_value)
        if kind == "completion_value"
        else failure_text(message.completion_failure)
        if kind == "completion_failure"
        else ""
    )
    result = result_text(message)
    return f"{message.key!r} ← {value}" + (f" → {result}" if result else "")


def _value(message: Any, attempt: AttemptJournal) -> str:
    return result_text(message) or (
        preview(message.value) if getattr(message, "value", b"") else ""
    )


_SUMMARIES: Final[dict[int, Callable[[Any, AttemptJournal], str]]] = {
    START: _start,
    COMPLETION: _completion,
    SUSPENSION: _suspension,
    ERROR: _error,
    ENTRY_ACK: lambda m, a: f"acks #{m.entry_index}",
    END: lambda m, a: "",
    INPUT: lambda m, a: preview(m.value),
    OUTPUT: _value,
    0x0800: _state,  # GetState
    0x0801: _set_state,
    0x0802: lambda m, a: preview(m.key, 24),  # ClearState
    0x0803: lambda m, a: "",  # ClearAllState
    GET_STATE_KEYS: lambda m, a: result_text(m),
    0x0808: _promise,  # GetPromise
    0x0809: _promise,  # PeekPromise
    0x080A: _complete_promise,
    SLEEP: _sleep,
    CALL: _call,
    ONE_WAY_CALL: _one_way,
    AWAKEABLE: _awakeable,
    COMPLETE_AWAKEABLE: _complete_awakeable,
    RUN: _run,
}
