"""The conditions of the V1-V3 rules: each a small named function over the attempt so far
(before it takes the frame in) and the frame; it returns the finding's text when the rule
is broken. protocol/v1/rules.py says which frames each looks at; PROTOCOL.md where each
comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.protocol.v1.messages import COMPLETED, ENTRY_ACK, OUTPUT, START
from restate_inspect.values import error_text, named_code

if TYPE_CHECKING:  # the journal calls these rules: at run time it imports them
    from restate_inspect.protocol.v1.journal import AttemptJournal, Entry

Condition = Callable[["AttemptJournal", DecodedFrame, Any], str | None]
# one finding for each entry a frame names (the entries a suspension waits on)
EachCondition = Callable[["AttemptJournal", DecodedFrame, Any, int | None], str | None]

BEFORE_FIRST_ENTRY: Final = 0xFFFFFFFF  # ErrorMessage.related_entry_index: no entry yet
# A completion or ack the runtime sent this shortly (capture time) before the SDK suspended
# on its entry was on its way: the SDK could not have read it when it decided to suspend.
IN_FLIGHT: Final = 0.02


def _name(frame: Frame) -> str:
    return frame.name or f"type {frame.type:#06x}"


# --- the runtime's side ----------------------------------------------------------------------


def begins_without_start(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    frame = decoded.frame
    if attempt._began or (frame.type == START and message is not None):
        return None
    return f"the request begins with {_name(frame)}"


def second_start(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    return "a second StartMessage" if attempt.start is not None else None


def retry_fields_under_v1(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    count = message.retry_count_since_last_stored_entry
    duration = message.duration_since_last_stored_entry
    if attempt.start is not None or attempt.protocol_version != 1 or not (count or duration):
        return None
    return (
        f"StartMessage carries the V2 retry fields (retry count {count}, {duration} ms since "
        "the last stored entry) under a V1 content type; newer runtimes do (said once for "
        "each connection)"
    )


def past_the_replay(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    index, known = decoded.entry_index, attempt.known_entries
    if index is None or known is None or index < known:
        return None
    return f"the runtime sends entry {index} after replaying the {known} it announced"


def live_in_request_response(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    if not attempt.request_response:
        return None
    return f"{_article(decoded.frame)} for entry {message.entry_index} in request/response mode"


def completion_during_replay(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    if not attempt.replaying:
        return None
    return f"a CompletionMessage for entry {message.entry_index} before the replay is over"


def no_such_entry(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    index = message.entry_index
    if index in attempt.entries:
        return None
    return f"{_article(decoded.frame)} for entry {index}, which does not exist"


def not_completable(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    entry = attempt.entries.get(message.entry_index)
    if entry is None or entry.completable:
        return None
    return f"a CompletionMessage for entry {entry.index}, a {entry.name}, which is not completable"


def completed_twice(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    entry = attempt.entries.get(message.entry_index)
    if entry is None or not entry.completable or not entry.completed:
        return None
    how = "it came completed" if entry.completed_by == "entry" else "a completion came before"
    return f"a CompletionMessage for entry {entry.index}, which is already completed ({how})"


def wrong_ack(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    entry = attempt.entries.get(message.entry_index)
    if entry is None or (entry.requires_ack and entry.ack is None):
        return None
    why = "was sent without REQUIRES_ACK" if not entry.requires_ack else "is acked already"
    return f"an EntryAckMessage for entry {entry.index}, which {why}"


def from_the_sdk_only(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    return f"the runtime sends {_name(decoded.frame)}, which only the SDK sends"


def _article(frame: Frame) -> str:
    return "an EntryAckMessage" if frame.type == ENTRY_ACK else "a CompletionMessage"


# --- both sides: entries ---------------------------------------------------------------------


def completed_flag_disagrees(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    """A completable entry says by its COMPLETED flag whether it has its result; the two
    must agree."""
    spec, index = decoded.frame.message_type, decoded.entry_index
    if index is None or spec is None or not spec.completable:
        return None
    flagged = bool(decoded.frame.flags & COMPLETED)
    if flagged == (message.WhichOneof("result") is not None):
        return None
    state = "COMPLETED but no result" if flagged else "a result but no COMPLETED flag"
    return f"entry {index}, a {spec.name}, has {state}"


# --- the SDK's side --------------------------------------------------------------------------


def after_the_end(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    end = attempt.end_frame
    assert end is not None  # asked only then (rules.check)
    return f"{_name(decoded.frame)} after the {attempt.ending} message at offset {end.offset:#x}"


def entry_during_replay(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    if not attempt.replaying or decoded.frame.time is None:
        return None
    return (
        f"the SDK sends {_name(decoded.frame)} while the runtime has replayed "
        f"{attempt.replayed} of {attempt.known_entries} entries"
    )


def terminal_failure(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    if decoded.frame.type != OUTPUT or not message.HasField("failure"):
        return None
    failure = message.failure
    said = named_code(failure.code) + (f" {failure.message!r}" if failure.message else "")
    return f"the invocation ends with a terminal failure: {said}"


def waits_on_nothing(attempt: AttemptJournal, decoded: DecodedFrame, message: Any) -> str | None:
    return None if message.entry_indexes else "a SuspensionMessage that waits on no entry"


def waits_on_missing(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any, index: int | None
) -> str | None:
    if index in attempt.entries:
        return None
    return f"suspended on entry {index}, which does not exist"


def waits_on_answered(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any, index: int | None
) -> str | None:
    """Its completion (or ack) was sent so shortly before that it was on its way."""
    entry = attempt.entries.get(index) if index is not None else None
    if entry is None:
        return None
    sent = _on_its_way(_answer(entry), decoded.frame)
    if sent is None:
        return None
    answer = "completion" if entry.completable else "ack"
    return f"suspended on entry {index}, a {entry.name}, whose {answer} {sent}"


def waits_on_completed(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any, index: int | None
) -> str | None:
    entry = attempt.entries.get(index) if index is not None else None
    if entry is None or not entry.completable or not entry.completed:
        return None
    if _on_its_way(_answer(entry), decoded.frame) is not None:
        return None  # said by waits_on_answered
    return f"suspended on entry {index}, a {entry.name}, which is already completed"


def waits_on_no_answer(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any, index: int | None
) -> str | None:
    """Neither completable nor waiting for an ack: nothing will come for it."""
    entry = attempt.entries.get(index) if index is not None else None
    if entry is None or entry.completable or (entry.requires_ack and entry.ack is None):
        return None
    if _on_its_way(_answer(entry), decoded.frame) is not None:
        return None  # said by waits_on_answered
    return f"suspended on entry {index}, a {entry.name}, which is not completable and awaits no ack"


def _answer(entry: Entry) -> Frame | None:
    return entry.completion if entry.completable else entry.ack


def _on_its_way(answer: Frame | None, suspension: Frame) -> str | None:
    """Why the runtime's answer (completion, ack) may not have reached the SDK when it
    suspended: it was captured only so long before (IN_FLIGHT), or a pair of bodies has
    no times to tell."""
    if answer is None:
        return None
    if answer.time is None or suspension.time is None:
        return "is in the other body: with no times to tell, it may have been on its way"
    ahead = suspension.time - answer.time
    if not 0 <= ahead <= IN_FLIGHT:
        return None
    return f"the runtime had sent {ahead * 1000:.1f} ms before: it was still on its way"


def sdk_error(code: str) -> EachCondition:
    """RI230 (570), RI231 (571) or RI232 (any other code): the error, and the entry it
    relates to."""

    def condition(
        attempt: AttemptJournal, decoded: DecodedFrame, message: Any, index: int | None
    ) -> str | None:
        if {570: "RI230", 571: "RI231"}.get(message.code, "RI232") != code:
            return None
        text = error_text(message.code, message.message)
        related = attempt.related_entry(message)
        return text + (f"; related entry: {related}" if related else "")

    return condition


def related_index(message: Any) -> list[int | None]:
    """The entry an ErrorMessage names, if any (never the one before the first)."""
    index = message.related_entry_index if message.HasField("related_entry_index") else None
    return [index if index != BEFORE_FIRST_ENTRY else None]


def from_the_runtime_only(
    attempt: AttemptJournal, decoded: DecodedFrame, message: Any
) -> str | None:
    return f"the SDK sends {_name(decoded.frame)}, which only the runtime sends"
