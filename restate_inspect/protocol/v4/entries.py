"""What a V4-V8 command or notification means in its attempt, as the renderers ask for it:
where it stands, badges, what it leads to (the journal timeline and the TUI), entry and
attempt fields (JSON). Sans-IO; texts are not yet terminal-safe."""

from __future__ import annotations

from typing import Any, Final

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.protocol.timeline import relative
from restate_inspect.protocol.v4.journal import AttemptJournal, Entry
from restate_inspect.protocol.v4.messages import (
    AWAITING_ON,
    COMMAND_ACK,
    PROPOSE_RUN,
    RUN,
    RUN_ACK,
    SIGNAL,
    SLEEP,
    SUSPENSION,
)
from restate_inspect.protocol.v4.notes import (
    COMBINATORS,
    awaiting_text,
    completion,
    error_ending,
    named_signal,
    signal,
    signals_of,
    waited_ids,
)
from restate_inspect.protocol.v4.summaries import short_name, summary
from restate_inspect.values import code_name, epoch_ms_to_iso


def column(decoded: DecodedFrame, entry: Entry | None) -> str:
    """Where a frame stands, in a few characters: a command by its index (#3), a notification
    by the completion id it answers (id2), a signal by its index (sig1)."""
    if entry is None:
        return ""
    if entry.command_index is not None:
        return f"#{entry.command_index}"
    if entry.completion_id is not None:
        return f"id{entry.completion_id}"
    return f"sig{entry.signal}" if isinstance(entry.signal, int) else "sig"


def badges(entry: Entry) -> list[str]:
    """The entry's state in a few words: replayed, how it was completed, awaited, acked."""
    out = ["replayed"] if entry.replayed else []
    if entry.completable:
        if entry.completed:
            # a replayed answer was stored long before: its distance is no latency
            stored = any(a.replayed for a in entry.answers)
            latency = None if stored else _latency(entry, entry.completion)
            how = " by ack" if entry.completed_by == "ack" else ""
            out.append("completed" + how + (f" +{latency:.1f}ms" if latency is not None else ""))
        else:
            out.append("pending")
    if entry.awaited:
        out.append("awaited")
    if entry.requires_ack:
        out.append("acked" if entry.ack is not None else "awaiting ack")
    return out


def _latency(entry: Entry, other: Frame | None) -> float | None:
    if other is None or other.time is None or entry.frame.time is None:
        return None
    return (other.time - entry.frame.time) * 1000


def entry_fields(entry: Entry) -> dict[str, Any]:
    """An entry record's V4+ fields (README, "JSON output")."""
    signal_id = entry.signal
    return {
        "command_index": entry.command_index,
        "completion_id": entry.completion_id,
        "completion_ids": list(entry.completion_ids),
        "signal_index": signal_id if isinstance(signal_id, int) else None,
        "signal_name": signal_id if isinstance(signal_id, str) else None,
        "completable": entry.completable,
        "completed": entry.completed,
        "completed_by": entry.completed_by,
        "awaited": entry.awaited,
        "requires_ack": entry.requires_ack,
        "acked": (entry.ack is not None) if entry.requires_ack else None,
    }


def entry_annotations(entry: Entry, attempt: AttemptJournal) -> dict[str, Any]:
    """Facts about an entry beyond its fields: latencies, what it answers, links."""
    notes: dict[str, Any] = {}
    if entry.answering is not None:
        notes["answers_command"] = entry.answering.command_index
    if entry.proposal is not None:
        notes["proposed"] = True
    for name, other in (("completion_ms", entry.completion), ("ack_ms", entry.ack)):
        latency = _latency(entry, other)
        if latency is not None:
            notes[name] = round(latency, 3)
    message: Any = entry.frame.message
    if entry.frame.type == SLEEP and message is not None and message.wake_up_time:
        notes["wake_up_time"] = epoch_ms_to_iso(message.wake_up_time)
    if entry.links:
        notes["links"] = list(entry.links)
    return notes


def attempt_fields(attempt: AttemptJournal) -> dict[str, Any]:
    """An attempt record's fields that depend on the family."""
    error = attempt.error
    end = attempt.end_frame
    return {
        "suspended_on": waits(end.message, attempt)
        if attempt.ending == "suspension" and end
        else None,
        "error": None
        if error is None
        else {
            "code": error.code,
            "name": code_name(error.code),
            "message": error.message,
            "related_command": attempt.related_command(error) or None,
            "retry_in_ms": error.next_retry_delay if error.HasField("next_retry_delay") else None,
            "ending": error_ending(error),
        },
    }


def waits(message: Any, attempt: AttemptJournal) -> dict[str, Any]:
    """What a suspension waits on, as data: the completion ids (and the commands that
    allocated them), the signals, and the text."""
    leaves = _leaves(message)
    commands = [attempt.by_id.get(i) for i in leaves["completion_ids"]]
    return {
        "text": awaiting_text(message, attempt.owner),
        **leaves,
        "command_indexes": [c.command_index if c is not None else None for c in commands],
    }


def _leaves(message: Any) -> dict[str, list[Any]]:
    future = message.awaiting_on if "awaiting_on" in message.DESCRIPTOR.fields_by_name else message
    out: dict[str, list[Any]] = {"completion_ids": [], "signal_indexes": [], "signal_names": []}
    todo = [future]
    while todo:
        current = todo.pop()
        out["completion_ids"] += current.waiting_completions
        out["signal_indexes"] += current.waiting_signals
        out["signal_names"] += current.waiting_named_signals
        todo += list(getattr(current, "nested_futures", ()))
    return out


def named(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> Frame | None:
    """The frame a frame is about: its command (itself, the one a notification answers, the
    one an ack or a run proposal names), or the wait a signal answers."""
    command = _command_of(attempt, decoded, entry)
    if command is not None:
        return command.frame
    if entry is not None:  # a signal: the last wait on it before it came
        waits = [
            frame for frame, message in attempt.awaiting if entry.signal in signals_of(message)
        ]
        return waits[-1] if waits else entry.frame
    return None


def _command_of(
    attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None
) -> Entry | None:
    if entry is not None:
        return entry.answering or (entry if entry.frame.type != SIGNAL else None)
    message: Any = decoded.frame.message
    if message is None:
        return None
    kind = decoded.frame.type
    index: int = message.command_index if kind == COMMAND_ACK else len(attempt.commands)
    if index < len(attempt.commands):
        return attempt.commands[index]
    if kind == PROPOSE_RUN:
        return attempt.by_id.get(message.result_completion_id)
    if kind == RUN_ACK:
        return attempt.by_id.get(message.completion_id)
    return None


def answer(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> Frame | None:
    """What answers a frame: a command's notification (or ack), or, for what the attempt
    waits on (AwaitingOn, a suspension), the first notification or signal that answers it."""
    if entry is not None:
        return entry.completion
    message: Any = decoded.frame.message
    if decoded.frame.type not in (SUSPENSION, AWAITING_ON) or message is None:
        return None
    ids, signals = set(waited_ids(message)), set(signals_of(message))
    after = False
    for later in attempt.frames():
        after = after or later.frame is decoded.frame
        found = attempt.entry_of(later.frame) if after else None
        if found is None or found.is_command:
            continue
        if found.completion_id in ids or found.signal in signals:
            return found.frame
    return None


def relations(attempt: AttemptJournal, decoded: DecodedFrame, entry: Entry | None) -> list[str]:
    """Where a frame leads: a command's notifications, proposal and acks; the command a
    notification answers; signals across invocations."""
    frame = decoded.frame
    if entry is None:
        target = _command_of(attempt, decoded, None)
        if target is None:
            return []
        return [f"about #{target.command_index} {target.name} at {relative(target.frame, frame)}"]
    out = []
    for answer in entry.answers:
        out.append(f"answered by {answer.name} at {relative(answer.frame, frame)}")
    if entry.completable and not entry.completed:
        out.append("not completed in this attempt")
    if entry.proposal is not None:
        out.append(f"result proposed at {relative(entry.proposal, frame)}")
    if entry.ack is not None:
        out.append(f"acked by {entry.ack.name} at {relative(entry.ack, frame)}")
    elif entry.requires_ack:
        out.append("REQUESTED_ACK, and no CommandAck came")
    if entry.answering is not None:
        command = entry.answering
        where = relative(command.frame, frame)
        out.append(f"answers #{command.command_index} {command.name} at {where}")
    if entry.replayed and entry.frame.type == RUN:
        stored = any(a.replayed for a in entry.answers)
        out.append("replayed with its result: it does not run again" if stored
                   else "replayed without its result: it runs again in this attempt")  # fmt: skip
    if entry.awaited:
        out.append("awaited: the attempt waits on it")
    out.extend(entry.links)
    return out


def wait_tree(attempt: AttemptJournal, decoded: DecodedFrame) -> list[str]:
    """What a Suspension or AwaitingOn waits on, as an indented tree: V7's Future (its
    combinators), V4-V6's lists (any of which resumes it); each completion id with the
    command that owns it and whether it was answered in the attempt."""
    message: Any = decoded.frame.message
    if decoded.frame.type not in (SUSPENSION, AWAITING_ON) or message is None:
        return []
    if "awaiting_on" in message.DESCRIPTOR.fields_by_name:
        return (
            _future_lines(attempt, message.awaiting_on, 0)
            if message.HasField("awaiting_on")
            else []
        )
    return ["any of", *_leaf_lines(attempt, message, 1)]


def _future_lines(attempt: AttemptJournal, future: Any, depth: int) -> list[str]:
    combinator = COMBINATORS.get(future.combinator_type, f"combinator {future.combinator_type} of")
    lines = ["  " * depth + combinator, *_leaf_lines(attempt, future, depth + 1)]
    for nested in future.nested_futures:
        lines += _future_lines(attempt, nested, depth + 1)
    return lines


def _leaf_lines(attempt: AttemptJournal, wait: Any, depth: int) -> list[str]:
    indent = "  " * depth
    lines = []
    for completion_id in wait.waiting_completions:
        command = attempt.by_id.get(completion_id)
        owner = attempt.owner(completion_id) or "allocated by no command seen"
        answered = command is not None and any(
            a.completion_id == completion_id for a in command.answers
        )
        lines.append(
            f"{indent}{completion(completion_id)} · {owner} · {'answered' if answered else 'open'}"
        )
    for index in wait.waiting_signals:
        lines.append(
            f"{indent}{signal(index)} · {'received' if index in attempt.signals else 'open'}"
        )
    for name in wait.waiting_named_signals:
        lines.append(
            f"{indent}{named_signal(name)} · {'received' if name in attempt.signals else 'open'}"
        )
    return lines


class View:
    """The V4-V8 journal as the renderers ask for it (protocol.JournalView)."""

    short_name = staticmethod(short_name)
    summary = staticmethod(summary)
    badges = staticmethod(badges)
    column = staticmethod(column)
    entry_fields = staticmethod(entry_fields)
    entry_annotations = staticmethod(entry_annotations)
    attempt_fields = staticmethod(attempt_fields)
    named = staticmethod(named)
    answer = staticmethod(answer)
    wait_tree = staticmethod(wait_tree)
    relations = staticmethod(relations)

    @staticmethod
    def entry_at(attempt: AttemptJournal, decoded: DecodedFrame) -> Entry | None:
        return attempt.entry_of(decoded.frame)

    @staticmethod
    def entries(attempt: AttemptJournal) -> list[Entry]:
        """Commands by their index, then notifications in the order they came."""
        commands = [e for e in attempt.entries.values() if e.command_index is not None]
        others = [e for e in attempt.entries.values() if e.command_index is None]
        return sorted(commands, key=lambda e: e.command_index or 0) + others


VIEW: Final = View()
