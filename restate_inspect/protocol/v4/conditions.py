"""The conditions of the V4-V8 rules: each a small named function over the attempt so far
(before it takes the frame in) and the frame; it returns the finding's text when the rule
is broken. protocol/v4/rules.py says which frames each looks at; RESEARCH-V3-V8.md §4
where each comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from google.protobuf.unknown_fields import UnknownFieldSet

from restate_inspect.events import Frame
from restate_inspect.protocol.attempt import START
from restate_inspect.protocol.v4.messages import (
    COMMAND_ACK,
    FIRST_CUSTOM,
    INPUT,
    REQUESTED_ACK,
    RUN,
    RUN_ACK,
    SIGNAL,
    SUSPENSION,
    is_command,
    is_notification,
)
from restate_inspect.protocol.v4.notes import (
    CANCEL,
    COMBINATORS,
    FAIL,
    FIRST_AWAKEABLE,
    PAUSE,
    completion,
    later_fields,
    may_hold_later_fields,
    waited_ids,
)
from restate_inspect.values import code_name, error_text

if TYPE_CHECKING:  # the journal calls these rules: at run time it imports them
    from restate_inspect.protocol.v4.journal import AttemptJournal

Condition = Callable[["AttemptJournal", Frame, Any], str | None]  # the finding's text, if broken
NEVER_SENT: Final = {572: "defined but never raised", 598: "SDK-internal", 599: "SDK-internal"}


def _name(frame: Frame) -> str:
    return frame.name or f"type {frame.type:#06x}"


# --- the runtime's side ----------------------------------------------------------------------


def begins_without_start(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt._began or frame.type == START:
        return None
    return f"the request begins with {_name(frame)}"


def second_start(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    return "a second StartMessage" if attempt.start is not None else None


def no_known_entries(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if message.known_entries or attempt.start is not None:
        return None
    return "known_entries is 0: a journal always holds its Input, and the SDK answers 500"


def from_the_sdk_only(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    return f"the runtime sends {_name(frame)}, which only the SDK sends"


def replay_without_input(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if not attempt.replaying or attempt.replayed or frame.type == INPUT:
        return None
    return f"the replay begins with {_name(frame)}, not the InputCommand"


def command_after_replay(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt.replaying or not attempt.known_entries:
        return None  # (known_entries 0 is RI411's)
    return (
        f"the runtime sends {_name(frame)} after replaying the {attempt.known_entries} "
        "entries it announced: commands come only in the replay"
    )


def live_in_request_response(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt.replaying or not attempt.request_response or attempt.start is None:
        return None
    return f"a {_name(frame)} after the replay, in request/response mode"


def unallocated(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    command = attempt.by_id.get(message.completion_id)
    said = f"a {_name(frame)} for {completion(message.completion_id)}"
    if command is None:
        return f"{said}, which no command allocated"
    if command.spec is not None and frame.type not in command.spec.answered_by:
        return f"{said}, which {command.name} allocated: it is not answered so"
    return None


def without_id_or_result(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    missing = []
    if frame.type == SIGNAL:
        if message.WhichOneof("signal_id") is None:
            missing.append("a signal id or name")
    elif not message.completion_id:
        missing.append("a completion id")
    if not _has_result(message):
        missing.append("a result")
    return f"a {_name(frame)} without {' or '.join(missing)}" if missing else None


def _has_result(message: Any) -> bool:
    """A notification's result: its `result` oneof, or the one field that holds it."""
    if "result" in message.DESCRIPTOR.oneofs_by_name:
        return message.WhichOneof("result") is not None
    fields = message.DESCRIPTOR.fields_by_name
    held = [name for name in ("void", "value", "state_keys") if name in fields]
    if held:
        return any(message.HasField(name) for name in held)
    return bool(getattr(message, "invocation_id", True))  # CallInvocationId's


def answered_twice(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if frame.type == SIGNAL:
        signal = message.idx if message.WhichOneof("signal_id") == "idx" else message.name
        return f"signal {signal!r} a second time" if signal in attempt.signals else None
    command = attempt.by_id.get(message.completion_id)
    if command is not None and any(a.frame.type == frame.type and
                                   a.completion_id == message.completion_id
                                   for a in command.answers):  # fmt: skip
        return f"a second {_name(frame)} for {completion(message.completion_id)}"
    return None


def reserved_signal(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if message.WhichOneof("signal_id") != "idx":
        return None
    if CANCEL < message.idx < FIRST_AWAKEABLE:
        return f"signal {message.idx}, one of the reserved 2-16"
    if message.idx == CANCEL and message.WhichOneof("result") != "void":
        return "the CANCEL signal (1) with a value or a failure, where it carries none"
    return None


def wrong_command_ack(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    index = message.command_index
    if index >= len(attempt.commands):
        return f"a CommandAck for command {index}, which does not exist"
    command = attempt.commands[index]
    if not command.requires_ack:
        return f"a CommandAck for command {index}, a {command.name} sent without REQUESTED_ACK"
    if command.ack is not None:
        return f"a second CommandAck for command {index}"
    return None


def wrong_run_ack(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt.replaying:
        return "a ProposeRunCompletionAck before the replay is over"
    run = attempt.by_id.get(message.completion_id)
    proposal = run.proposal if run is not None else None
    if proposal is None or not proposal.flags & REQUESTED_ACK:
        return (
            f"a ProposeRunCompletionAck for {completion(message.completion_id)}, which the SDK "
            "did not propose asking for an ack in this attempt"
        )
    return None


# --- the SDK's side ----------------------------------------------------------------------------


def after_the_end(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    """(Asked only once the attempt has ended.)"""
    end = attempt.end_frame
    assert end is not None
    return f"{_name(frame)} after the {attempt.ending} message at offset {end.offset:#x}"


def from_the_runtime_only(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if frame.type in (START, COMMAND_ACK, RUN_ACK) or is_notification(frame.type):
        return f"the SDK sends {_name(frame)}, which only the runtime sends"
    return None


def custom_from_the_sdk(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if frame.type < FIRST_CUSTOM:
        return None
    return (
        f"the SDK sends the custom type {frame.type:#06x}: a V4+ runtime cannot handle one "
        "(restate-server stops the attempt)"
    )


def command_during_replay(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if not attempt.replaying or frame.time is None:  # an untimed pair has no "while"
        return None
    return (
        f"the SDK sends {_name(frame)} while the runtime has replayed {attempt.replayed} of "
        f"{attempt.known_entries} entries"
    )


def bad_completion_ids(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    fields = message.DESCRIPTOR.fields_by_name
    if "result_completion_id" in fields and not message.result_completion_id:
        return f"{_name(frame)} allocates completion id 0, which stands for none"
    for name in ("invocation_id_notification_idx", "result_completion_id"):
        allocated = getattr(message, name, 0)
        taken = attempt.by_id.get(allocated)
        if taken is not None:
            return f"{_name(frame)} allocates {completion(allocated)}, which {taken.name} did"
    return None


def bad_proposal(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    said = f"a ProposeRunCompletion for {completion(message.result_completion_id)}"
    if message.WhichOneof("result") is None:
        return f"{said} without a result (the runtime fails the attempt)"
    run = attempt.by_id.get(message.result_completion_id)
    if run is None or run.frame.type != RUN:
        return f"{said}, which no RunCommand allocated"
    if run.proposal is not None:
        return f"{said}, proposed before"
    return None


def awaits_nothing(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    what = "a SuspensionMessage" if frame.type == SUSPENSION else "an AwaitingOnMessage"
    if "waiting_completions" in message.DESCRIPTOR.fields_by_name:
        if not (
            message.waiting_completions or message.waiting_signals or message.waiting_named_signals
        ):
            return f"{what} that waits on nothing (the runtime fails the attempt)"
        return None
    if not message.HasField("awaiting_on") or not _has_leaves(message.awaiting_on):
        shape = " (in the V4-V6 shape)" if len(UnknownFieldSet(message)) else ""
        return f"{what} whose Future waits on nothing{shape} (the runtime fails the attempt)"
    return None


def _has_leaves(future: Any) -> bool:
    leaves = future.waiting_completions or future.waiting_signals or future.waiting_named_signals
    return bool(leaves) or any(_has_leaves(n) for n in future.nested_futures)


def bad_future(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    """(A tree deeper than the runtime's 1000 does not parse here either: protobuf stops at
    100 levels, RI109.)"""
    if "awaiting_on" not in message.DESCRIPTOR.fields_by_name:
        return None
    stack = [message.awaiting_on]
    while stack:
        future = stack.pop()
        if future.combinator_type not in COMBINATORS:
            return f"a Future with the combinator {future.combinator_type}, which no version has"
        stack += future.nested_futures
    return None


def waits_on_unallocated(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt.start is None:
        return None
    missing = [i for i in waited_ids(message) if i not in attempt.by_id]
    if not missing:
        return None
    ids = ", ".join(completion(i) for i in missing)
    return f"the SDK waits on {ids}, which no command allocated: it would wait for ever"


def waits_on_completed(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    done = [i for i in waited_ids(message) if _answered(attempt, i)]
    if not done:
        return None
    return (
        f"the SDK suspends waiting on {', '.join(completion(i) for i in done)}, already "
        "answered in this attempt: the runtime resumes it at once"
    )


def _answered(attempt: AttemptJournal, completion_id: int) -> bool:
    command = attempt.by_id.get(completion_id)
    return command is not None and any(a.completion_id == completion_id for a in command.answers)


def sdk_error(code: str) -> Condition:
    def condition(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
        if {570: "RI230", 571: "RI231"}.get(message.code, "RI232") != code:
            return None
        text = error_text(message.code, message.message)
        related = attempt.related_command(message)
        return text + (f"; related command: {related}" if related else "")

    condition.__name__ = f"sdk_error_{code}"
    return condition


def inconsistent_error(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if message.HasField("related_command_type") and not is_command(message.related_command_type):
        return f"related_command_type {message.related_command_type:#06x} is no command type"
    if (
        attempt.start is not None
        and message.HasField("related_command_index")
        and message.related_command_index > len(attempt.commands)
    ):
        return (
            f"related_command_index {message.related_command_index}, past the "
            f"{len(attempt.commands)} commands of the attempt and the one being made"
        )
    behavior = getattr(message, "behavior", 0)  # V7's; on V4-V6 a field RI442 tells
    if behavior in (PAUSE, FAIL) and message.HasField("next_retry_delay"):
        return "a next_retry_delay with an error that pauses or fails: there is no retry"
    return None


def never_sent_code(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if message.code not in NEVER_SENT:
        return None
    return f"error code {message.code} ({NEVER_SENT[message.code]}): an SDK never sends it"


def terminal_failure(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if not message.HasField("failure"):
        return None
    failure = message.failure
    name = code_name(failure.code)
    what = f"{failure.code}" + (f" {name}" if name else "")
    return f"the invocation ends with a terminal failure: {what}" + (
        f" {failure.message!r}" if failure.message else ""
    )


def end_without_output(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if attempt.output is not None:
        return None
    return "an EndMessage without an OutputCommand before it: the invocation has no result"


def later_version_field(attempt: AttemptJournal, frame: Frame, message: Any) -> str | None:
    if frame.version is None or not may_hold_later_fields(frame.version, frame.type):
        return None
    later = later_fields(frame)
    if not later:
        return None
    fields = ", ".join(f"{path} ({field['since']})" for path, field in later.items())
    return (
        f"{_name(frame)} under V{frame.version} carries {fields}: an SDK of this version "
        "refuses it (573)"
    )
