"""What a V4-V8 frame says, in one line (the journal timeline and the TUI): its key, target,
value preview, result; and short type names. Sans-IO; not yet terminal-safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from restate_inspect.events import Frame
from restate_inspect.protocol.v4.journal import AttemptJournal, Entry
from restate_inspect.protocol.v4.messages import (
    AWAITING_ON,
    CALL,
    COMMAND_ACK,
    COMPLETE_AWAKEABLE,
    END,
    ERROR,
    ONE_WAY_CALL,
    PROPOSE_RUN,
    RUN_ACK,
    SEND_SIGNAL,
    SIGNAL,
    SLEEP,
    START,
    SUSPENSION,
    VERSIONS,
)
from restate_inspect.protocol.v4.notes import (
    awaiting_text,
    completion,
    error_ending,
    named_signal,
    signal,
)
from restate_inspect.values import (
    cause_line,
    epoch_ms_to_iso,
    failure_text,
    named_code,
    parse_awakeable_id,
    preview,
    start_parts,
)

Summary = Callable[[Any, AttemptJournal], str]


def short_name(type_name: str | None) -> str:
    """CallCommandMessage -> Call, CallCompletionNotificationMessage -> CallResult,
    SignalNotificationMessage -> Signal, SuspensionMessage -> Suspension."""
    name = type_name or "?"
    for suffix, instead in _SUFFIXES:
        if name.endswith(suffix) and name != suffix:
            return name[: -len(suffix)] + instead
    return name


_SUFFIXES: Final = (
    ("IdCompletionNotificationMessage", "Id"),  # CallInvocationId
    ("CompletionNotificationMessage", "Result"),
    ("NotificationMessage", ""),
    ("CommandMessage", ""),
    ("Message", ""),
)


def result_text(message: Any) -> str:
    """A command's or notification's result: a value, void, state keys, or a failure."""
    kind = message.WhichOneof("result") if "result" in message.DESCRIPTOR.oneofs_by_name else None
    fields = message.DESCRIPTOR.fields_by_name
    for name in ("void", "value", "state_keys"):  # results outside a oneof
        if kind is None and name in fields and message.HasField(name):
            kind = name
    if kind == "failure":
        return failure_text(message.failure)
    if kind == "void":
        return "(void)"
    if kind is None:
        return ""
    value = getattr(message, kind)
    if isinstance(value, bytes):  # a run proposal's
        return preview(value)
    if value.DESCRIPTOR.name == "StateKeys":
        return "keys " + ", ".join(preview(k, 20) for k in value.keys)
    return preview(value.content)


def summary(frame: Frame, entry: Entry | None, attempt: AttemptJournal) -> str:
    """A frame in one line: what it says, not its every field."""
    message = frame.message
    if message is None or frame.version not in VERSIONS:
        return f"{len(frame.body)} bytes" + (" (body does not parse)" if frame.spec else "")
    describe = _SUMMARIES.get(frame.type, _generic)
    text = describe(message, attempt)
    name = entry.entry_name if entry is not None else ""
    if name:
        text = f"{name!r} {text}".strip()
    if entry is not None and entry.answering is not None:
        text = f"{text} (for #{entry.answering.command_index})".strip()
    return text


def _generic(message: Any, attempt: AttemptJournal) -> str:
    """A command or notification without its own summary: its key, then its result."""
    parts = []
    key = getattr(message, "key", None)
    if key:
        parts.append(preview(key, 24) if isinstance(key, bytes) else repr(key))
    result = result_text(message)
    if result:
        parts.append(("→ " if parts else "") + result)
    return " ".join(parts)


def _start(message: Any, attempt: AttemptJournal) -> str:
    parts = start_parts(message)
    if state := len(message.state_map):
        parts.append(f"{state} state entr{'y' if state == 1 else 'ies'}")
    return " · ".join(parts)


def _error(message: Any, attempt: AttemptJournal) -> str:
    line = cause_line(message.message)
    text = named_code(message.code) + (f": {line}" if line else "")
    related = attempt.related_command(message)
    if related:
        text += f" · at {related}"
    ending = error_ending(message)
    if ending != f"error {message.code}":
        text += f" · {ending}"
    return text


def _set_state(message: Any, attempt: AttemptJournal) -> str:
    value = preview(message.value.content) if message.HasField("value") else ""
    return f"{preview(message.key, 24)} = {value}"


def _call(message: Any, attempt: AttemptJournal) -> str:
    key = f" [{message.key}]" if message.key else ""
    text = f"{message.service_name}/{message.handler_name}{key}({preview(message.parameter, 32)})"
    if message.HasField("idempotency_key"):
        text += f" idempotency key {message.idempotency_key!r}"
    if getattr(message, "invoke_time", 0):
        text += f" at {epoch_ms_to_iso(message.invoke_time)}"
    return text


def _sleep(message: Any, attempt: AttemptJournal) -> str:
    return f"until {epoch_ms_to_iso(message.wake_up_time)}" if message.wake_up_time else ""


def _signal_id(message: Any) -> str:
    kind = message.WhichOneof("signal_id")
    if kind == "idx":
        return signal(message.idx)
    return named_signal(message.name) if kind == "name" else "no signal id"


def _signal(message: Any, attempt: AttemptJournal) -> str:
    return f"{_signal_id(message)} ← {result_text(message)}"


def _send_signal(message: Any, attempt: AttemptJournal) -> str:
    return f"{_signal_id(message)} to {message.target_invocation_id} ← {result_text(message)}"


def _complete_awakeable(message: Any, attempt: AttemptJournal) -> str:
    target = parse_awakeable_id(message.awakeable_id)
    who = message.awakeable_id
    if target is not None and target.invocation_id:
        place = signal(target.entry_index) if target.is_signal else f"#{target.entry_index}"
        who = f"{target.invocation_id} {place}"
    return f"{who} ← {result_text(message)}"


def _propose_run(message: Any, attempt: AttemptJournal) -> str:
    return f"{completion(message.result_completion_id)} ← {result_text(message)}"


def _invocation_id(message: Any, attempt: AttemptJournal) -> str:
    return str(message.invocation_id)


_SUMMARIES: Final[dict[int, Summary]] = {
    START: _start,
    ERROR: _error,
    SUSPENSION: lambda m, a: "waits on " + awaiting_text(m, a.owner),
    AWAITING_ON: lambda m, a: "waits on " + awaiting_text(m, a.owner),
    END: lambda m, a: "",
    COMMAND_ACK: lambda m, a: f"acks #{m.command_index}",
    PROPOSE_RUN: _propose_run,
    RUN_ACK: lambda m, a: f"acks the proposal for {completion(m.completion_id)}",
    0x0403: _set_state,
    CALL: _call,
    ONE_WAY_CALL: _call,
    SLEEP: _sleep,
    SEND_SIGNAL: _send_signal,
    COMPLETE_AWAKEABLE: _complete_awakeable,
    SIGNAL: _signal,
    0x800E: _invocation_id,  # CallInvocationId
}
