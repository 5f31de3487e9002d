"""What a V1-V3 entry means in its attempt: annotations (for JSON) and a one-line summary (for
the journal timeline and the TUI). Sans-IO; summaries are not yet terminal-safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.protocol.timeline import relative
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
    code_name,
    epoch_ms_to_iso,
    failure_text,
    human_duration,
    parse_awakeable_id,
    preview,
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


def _latency(entry: Entry, other: Frame | None) -> float | None:
    if other is None or other.time is None or entry.frame.time is None:
        return None
    return (other.time - entry.frame.time) * 1000


def entry_annotations(entry: Entry, attempt: AttemptJournal) -> dict[str, Any]:
    """Facts about an entry beyond its fields, for `journal --json`."""
    notes: dict[str, Any] = {}
    message = entry.frame.message
    describe = _ENTRY_NOTES.get(entry.frame.type) if message is not None else None
    if describe is not None:
        describe(message, entry, attempt, notes)
    for name, other in (("completion_ms", entry.completion), ("ack_ms", entry.ack)):
        latency = _latency(entry, other)
        if latency is not None:
            notes[name] = round(latency, 3)
    if entry.links:
        notes["links"] = list(entry.links)
    return notes


def _call_notes(message: Any, entry: Entry, attempt: AttemptJournal, notes: dict[str, Any]) -> None:
    notes["target"] = f"{message.service_name}/{message.handler_name}"
    if message.key:
        notes["key"] = message.key
    if entry.frame.type == ONE_WAY_CALL and message.invoke_time:
        notes["invoke_time"] = epoch_ms_to_iso(message.invoke_time)


def _sleep_notes(
    message: Any, entry: Entry, attempt: AttemptJournal, notes: dict[str, Any]
) -> None:
    if message.wake_up_time:
        notes["wake_up_time"] = epoch_ms_to_iso(message.wake_up_time)
        if entry.frame.time is not None:
            notes["sleep_ms"] = message.wake_up_time - entry.frame.time * 1000


def _awakeable_notes(
    message: Any, entry: Entry, attempt: AttemptJournal, notes: dict[str, Any]
) -> None:
    if attempt.start is not None:
        notes["awakeable_id"] = awakeable_id(attempt.start.id, entry.index)


def _complete_awakeable_notes(
    message: Any,
    entry: Entry,
    attempt: AttemptJournal,
    notes: dict[str, Any],
) -> None:
    target = parse_awakeable_id(message.id)
    if target is not None:
        notes["completes"] = {
            "invocation_id": target.invocation_id,
            "entry_index": target.entry_index,
        }


def _state_keys_notes(
    message: Any,
    entry: Entry,
    attempt: AttemptJournal,
    notes: dict[str, Any],
) -> None:
    answer = entry.completion
    completion: Any = answer.message if answer is not None and answer.type == COMPLETION else None
    if completion is not None and completion.HasField("value"):
        notes["state_keys"] = state_keys(completion.value)


_ENTRY_NOTES: Final[dict[int, Any]] = {
    CALL: _call_notes,
    ONE_WAY_CALL: _call_notes,
    SLEEP: _sleep_notes,
    AWAKEABLE: _awakeable_notes,
    COMPLETE_AWAKEABLE: _complete_awakeable_notes,
    GET_STATE_KEYS: _state_keys_notes,
}


# --- one line per frame of the timeline ------------------------------------------------------


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
    parts = [message.debug_id, f"known_entries {message.known_entries}"]
    if message.key:
        parts.append(f"key {message.key!r}")
    if message.retry_count_since_last_stored_entry:
        parts.append(f"retry {message.retry_count_since_last_stored_entry}")
    if message.duration_since_last_stored_entry:
        parts.append(
            f"{human_duration(message.duration_since_last_stored_entry)} since last stored"
        )
    return " · ".join(parts)


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
    name = code_name(message.code)
    line = (message.message.strip().splitlines() or [""])[-1]
    text = f"{message.code}" + (f" {name}" if name else "") + (f": {line}" if line else "")
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


def badges(entry: Entry) -> list[str]:
    """The entry's state, in a few words: how it was completed, whether it was acked."""
    out = []
    if entry.replayed:
        out.append("replayed")
    if entry.completable:
        if entry.completed_by == "completion":
            latency = _latency(entry, entry.completion)
            out.append("completed" + (f" +{latency:.1f}ms" if latency is not None else ""))
        elif entry.completed_by == "entry":
            out.append("completed")
        else:
            out.append("pending")
    if entry.requires_ack:
        latency = _latency(entry, entry.ack)
        if entry.ack is not None:
            out.append("acked" + (f" +{latency:.1f}ms" if latency is not None else ""))
        else:
            out.append("awaiting ack")
    return out


def relations(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> list[str]:
    """Where a frame leads: an entry's completion and ack, the entry a completion or an ack
    names, awakeables across invocations."""
    frame = decoded.frame
    out = []
    if entry is not None:
        if entry.completion is not None:
            out.append(f"completed by CompletionMessage at {relative(entry.completion, frame)}")
        elif entry.completed_by == "entry":
            out.append("came completed (COMPLETED flag): no CompletionMessage to wait for")
        elif entry.completable:
            out.append("not completed in this attempt")
        if entry.ack is not None:
            out.append(f"acked by EntryAckMessage at {relative(entry.ack, frame)}")
        elif entry.requires_ack:
            out.append("REQUIRES_ACK, and no EntryAckMessage came")
        out.extend(entry.links)
    elif decoded.entry_index is not None:
        target = attempt.entries.get(decoded.entry_index)
        if target is not None:
            verb = "acks" if frame.type == ENTRY_ACK else "completes"
            where = relative(target.frame, frame)
            out.append(f"{verb} entry #{target.index} {target.name} at {where}")
        else:
            out.append(f"names entry #{decoded.entry_index}, which this attempt does not have")
    return out


class View:
    """The V1-V3 journal as the renderers ask for it (protocol.JournalView)."""

    short_name = staticmethod(short_name)
    summary = staticmethod(summary)
    badges = staticmethod(badges)
    entry_annotations = staticmethod(entry_annotations)

    @staticmethod
    def entry_at(attempt: AttemptJournal, decoded: DecodedFrame) -> Entry | None:
        """The entry a frame is (a completion or an ack names one; it is not that entry)."""
        index = decoded.entry_index
        entry = attempt.entries.get(index) if index is not None else None
        return entry if entry is not None and entry.frame is decoded.frame else None

    @staticmethod
    def entries(attempt: AttemptJournal) -> list[Entry]:
        return [attempt.entries[index] for index in sorted(attempt.entries)]

    @staticmethod
    def named(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> Frame | None:
        """The entry a frame is about: itself, or the one a completion or an ack names."""
        index = decoded.entry_index
        target = attempt.entries.get(index) if index is not None else None
        return target.frame if target is not None else None

    @staticmethod
    def answer(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> Frame | None:
        return entry.completion if entry is not None else None

    relations = staticmethod(relations)

    @staticmethod
    def wait_tree(attempt: AttemptJournal, decoded: DecodedFrame) -> list[str]:
        """The entries a SuspensionMessage waits on, any of which resumes it."""
        message: Any = decoded.frame.message
        if decoded.frame.type != SUSPENSION or message is None:
            return []
        lines = ["any of"]
        for index in message.entry_indexes:
            entry = attempt.entries.get(index)
            if entry is None:
                lines.append(f"  entry #{index} · not in this attempt")
            else:
                state = ", ".join(badges(entry)) or "no completion or ack to wait for"
                lines.append(f"  entry #{index} {entry.name} · {state}")
        return lines

    @staticmethod
    def column(decoded: DecodedFrame, entry: Entry | None) -> str:
        return "" if decoded.entry_index is None else f"#{decoded.entry_index}"

    @staticmethod
    def entry_fields(entry: Entry) -> dict[str, Any]:
        return {
            "completable": entry.completable,
            "completed": entry.completed,
            "completed_by": entry.completed_by,
            "requires_ack": entry.requires_ack,
            "acked": (entry.ack is not None) if entry.requires_ack else None,
        }

    @staticmethod
    def attempt_fields(attempt: AttemptJournal) -> dict[str, Any]:
        error = attempt.error
        return {
            "suspended_on": list(attempt.suspended_on),
            "error": None
            if error is None
            else {
                "code": error.code,
                "name": code_name(error.code),
                "message": error.message,
                "related_entry": attempt.related_entry(error) or None,
            },
        }


VIEW: Final = View()
