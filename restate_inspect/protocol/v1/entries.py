"""What a V1-V3 entry means in its attempt: annotations (for JSON), badges and relations, and
the view the renderers and the TUI ask (its one-line summaries are summaries.py's)."""

from __future__ import annotations

from typing import Any, Final

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.protocol.timeline import relative
from restate_inspect.protocol.v1.journal import AttemptJournal, Entry
from restate_inspect.protocol.v1.messages import (
    AWAKEABLE,
    CALL,
    COMPLETE_AWAKEABLE,
    COMPLETION,
    ENTRY_ACK,
    GET_STATE_KEYS,
    ONE_WAY_CALL,
    SLEEP,
    SUSPENSION,
)
from restate_inspect.protocol.v1.summaries import (
    short_name,
    state_keys,
    summary,
)
from restate_inspect.values import (
    awakeable_id,
    code_name,
    epoch_ms_to_iso,
    parse_awakeable_id,
)


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
