"""The journal of a V4-V8 invocation attempt (sans-IO): commands and notifications.

The runtime replays the stored journal (known_entries commands and notifications, in
stored order) right after the StartMessage; then, in bidi mode, sends notifications as they
are stored. The SDK sends new commands, each allocating the completion ids its results will
come back under, a Run's proposed result, what it waits on, and one terminal message. This
follows the conversation frame by frame, links every notification to the command that
allocated its id, every signal to what waited on it, a Run to its proposal and the answer to
it; the rules it breaks are checked by protocol/v4/rules.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from restate_inspect.events import DecodedFrame, Frame, MessageType
from restate_inspect.location import Direction
from restate_inspect.protocol.attempt import RUNTIME, SDK, SDK_ENDING, START, Attempt
from restate_inspect.protocol.timeline import Fact, Linkable, Moment, stored_ending
from restate_inspect.protocol.v4.messages import (
    AWAITING_ON,
    COMMAND_ACK,
    COMPLETE_AWAKEABLE,
    END,
    ERROR,
    LATEST,
    OUTPUT,
    PROPOSE_RUN,
    REQUESTED_ACK,
    RUN_ACK,
    SEND_SIGNAL,
    SIGNAL,
    SUSPENSION,
    VERSIONS,
    is_command,
    is_notification,
)
from restate_inspect.protocol.v4.notes import (
    FIRST_AWAKEABLE,
    awaiting_text,
    error_ending,
    named_signal,
    signal,
    waited_ids,
)
from restate_inspect.protocol.v4.rules import check
from restate_inspect.protocol.verdict import unended_text
from restate_inspect.values import invocation_id_text, parse_awakeable_id

ID_FIELDS: Final = ("invocation_id_notification_idx", "result_completion_id")  # in this order


@dataclass
class Entry:
    """A command or a notification as this attempt saw it, and what happened to it."""

    key: int  # its place among the attempt's entries, in the order they came
    index: int | None  # its journal entry index, where the replay tells it
    frame: Frame
    replayed: bool  # sent by the runtime as part of the replay
    spec: MessageType | None
    command_index: int | None = None
    completion_ids: tuple[int, ...] = ()  # a command's: the ids its results come back under
    completion_id: int | None = None  # a completion notification's
    signal: int | str | None = None  # a signal notification's, or a SendSignal's
    answers: list[Entry] = field(default_factory=list)  # a command's notifications
    answering: Entry | None = None  # a notification's command
    proposal: Frame | None = None  # a Run's proposed result (ProposeRunCompletion)
    ack: Frame | None = None  # a Run's ProposeRunCompletionAck, a command's CommandAck
    awaited: bool = False  # an AwaitingOn or the suspension waits on it
    links: list[str] = field(default_factory=list)  # to entries of other invocations
    replay_key: bytes | None = None  # a digest of what a replay of it must carry

    def comparable_key(self) -> bytes:
        """What a later replay of the command must carry, as a digest, made when first asked
        for: its fields, compared as parsed (the runtime re-encodes Call and OneWayCall), as
        sdk-shared-core compares them (RESEARCH-V3-V8.md §4.3)."""
        if self.replay_key is None:
            message = self.frame.message
            body = message.SerializeToString(deterministic=True) if message else self.frame.body
            self.replay_key = hashlib.blake2b(body, digest_size=16).digest()
        return self.replay_key

    @property
    def is_command(self) -> bool:
        return is_command(self.frame.type)

    @property
    def completable(self) -> bool:
        """Does a notification answer it?"""
        return bool(self.completion_ids)

    @property
    def completion(self) -> Frame | None:
        """The notification of its result: the last id's (a Call's first is its invocation
        id); a Run acked instead (V7) has its ack."""
        last = self.completion_ids[-1] if self.completion_ids else None
        found = next((a.frame for a in self.answers if a.completion_id == last), None)
        return found or (self.ack if self.proposal is not None else None)

    @property
    def completed(self) -> bool:
        return self.completion is not None

    @property
    def completed_by(self) -> str | None:
        if not self.completed:
            return None
        return "ack" if self.completion is self.ack else "notification"

    @property
    def requires_ack(self) -> bool:
        return bool(self.frame.flags & REQUESTED_ACK) and self.is_command

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else f"0x{self.frame.type:04x}"

    @property
    def entry_name(self) -> str:
        """The name user code gave the command: field 12 (`name`, or SendSignal's
        `entry_name`, whose `name` is the signal's)."""
        message = self.frame.message
        field = message.DESCRIPTOR.fields_by_number.get(12) if message is not None else None
        return str(getattr(message, field.name)) if field is not None else ""

    @property
    def linkable(self) -> bool:
        """May it be linked to an entry of another invocation (a signal, and the command
        that sends one), when that one's attempt ends?"""
        return self.frame.type in _LINKABLE


_LINKABLE: Final = frozenset({SIGNAL, SEND_SIGNAL, COMPLETE_AWAKEABLE})


def _short(name: str) -> str:
    return name.removesuffix("CommandMessage")


def _command_words(index: int | None, command_type: int | None, name: str) -> str:
    """`#2 Run 'pre'`, with what is known of it."""
    words = [f"#{index}" if index is not None else ""]
    if command_type is not None:
        kind = LATEST.lookup(command_type)
        words.append(_short(kind.name) if kind else f"type {command_type:#06x}")
    words.append(repr(name) if name else "")
    return " ".join(word for word in words if word)


def _said(signal_id: int | str) -> str:
    return signal(signal_id) if isinstance(signal_id, int) else named_signal(signal_id)


class AttemptJournal(Attempt):
    """One V4-V8 attempt."""

    versions: ClassVar[frozenset[int]] = frozenset(VERSIONS)
    position_name: ClassVar[str] = "command"

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.entries: dict[int, Entry] = {}  # by key
        self.commands: list[Entry] = []  # by command index
        self.by_id: dict[int, Entry] = {}  # completion id -> the command that allocated it
        self.signals: dict[int | str, Entry] = {}  # signal -> its notification
        self.awaiting: list[tuple[Frame, Any]] = []  # AwaitingOn / Suspension: what it waits on
        self.output: Entry | None = None  # the OutputCommand, when one came
        self._by_frame: dict[tuple[Direction | None, int], Entry] = {}

    @property
    def ending_text(self) -> str:
        """How the attempt ended, in a few words: end, failed 409, suspended on completion
        #2, signal 1 (CANCEL), error 500 (retry in 200 ms), paused (error 570)..."""
        if self.stored_journal is not None:
            output = self.output.frame.message if self.output is not None else None
            open_ = [c for c in self.commands if c.completable and not c.completed]
            waiting = [f"#{c.command_index} {_short(c.name)}" for c in open_]
            return stored_ending(output, waiting, self.stored_journal)
        if self.ending == "suspension" and self.end_frame is not None:
            return "suspended on " + awaiting_text(self.end_frame.message, self.owner)
        if self.ending == "error" and self.error is not None:
            return error_ending(self.error)
        if self.outcome == "failed":
            return f"failed {self.failure.code}"
        return self.ending or unended_text(self)

    def entry_of(self, frame: Frame) -> Entry | None:
        """The command or notification a frame is."""
        return self._by_frame.get((frame.direction, frame.offset))

    def related_command(self, message: Any) -> str:
        """The command an ErrorMessage blames, in words: `#2 Run 'pre'`. Where the journal
        holds another type at that index than the SDK names (a 570: the code took another
        path), both: `#1 Run 'first' in the journal, Sleep in the code`."""
        index = message.related_command_index if message.HasField("related_command_index") else None
        told = message.related_command_type if message.HasField("related_command_type") else None
        if index is None and told is None:
            return ""
        entry = self.commands[index] if index is not None and index < len(self.commands) else None
        if entry is None or entry.spec is None:
            return _command_words(index, told, message.related_command_name)
        if told is None or told == entry.spec.code:
            name = message.related_command_name or entry.entry_name
            return _command_words(index, entry.spec.code, name)
        journal = _command_words(index, entry.spec.code, entry.entry_name)
        code = _command_words(None, told, message.related_command_name)
        return f"{journal} in the journal, {code} in the code"

    def owner(self, completion_id: int) -> str | None:
        """The command that allocated a completion id, in a few words: `#2 Sleep`."""
        command = self.by_id.get(completion_id)
        if command is None:
            return None
        name = _short(command.name)
        return f"#{command.command_index} {name}" if command.command_index is not None else name

    # --- reading frames -----------------------------------------------------------------------

    def _read(self, decoded: DecodedFrame, moment: Moment) -> None:
        check(self, decoded, moment)
        frame = decoded.frame
        if frame.message is None and frame.type != END:
            return
        if frame.direction is RUNTIME:
            self._from_runtime(decoded)
        else:
            self._from_sdk(decoded)

    def _from_runtime(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        if not self._began:
            self._began = True
        if frame.type == START:
            if self.start is None:
                self._started(frame.message, frame)
            return
        journaled = is_command(frame.type) or is_notification(frame.type)
        replay = journaled and self.replaying
        if replay:
            self.replayed += 1
        if journaled:
            self._entry(decoded, replayed=replay)
        elif frame.type == RUN_ACK:
            self._acked_run(frame)
        elif frame.type == COMMAND_ACK:
            index = frame.message.command_index  # type: ignore[union-attr]
            if 0 <= index < len(self.commands):
                self.commands[index].ack = frame

    def _from_sdk(self, decoded: DecodedFrame) -> None:
        frame = decoded.frame
        if self.end_frame is not None:
            return  # after its terminal message: the rules said so, nothing more counts
        if is_command(frame.type):
            self._entry(decoded, replayed=False)
        elif frame.type == PROPOSE_RUN:
            run = self.by_id.get(frame.message.result_completion_id)  # type: ignore[union-attr]
            if run is not None and run.proposal is None:
                run.proposal = frame
        elif frame.type in (AWAITING_ON, SUSPENSION):
            self._awaits(frame)
        if frame.type in _ENDINGS:
            self.ending, self.end_frame = _ENDINGS[frame.type], frame
            if frame.type == ERROR:
                self.error = frame.message

    def _entry(self, decoded: DecodedFrame, *, replayed: bool) -> Entry:
        frame = decoded.frame
        message: Any = frame.message
        entry = Entry(len(self.entries), decoded.entry_index, frame, replayed, frame.spec,
                      decoded.context.command_index)  # fmt: skip
        self.entries[entry.key] = entry
        self._by_frame[frame.direction, frame.offset] = entry
        if entry.is_command:
            self._command(entry, message)
            if frame.type == OUTPUT:
                self.output = entry
                self.failure = message.failure if message.HasField("failure") else None
        elif frame.type == SIGNAL:
            entry.signal = message.idx if message.WhichOneof("signal_id") == "idx" else message.name
            self.signals.setdefault(entry.signal, entry)
        else:
            entry.completion_id = message.completion_id
            command = self.by_id.get(entry.completion_id)
            if command is not None and frame.type in (
                command.spec.answered_by if command.spec else ()
            ):
                entry.answering = command
                command.answers.append(entry)
        return entry

    def _command(self, entry: Entry, message: Any) -> None:
        if entry.command_index is not None:
            self.commands.append(entry)
        fields = message.DESCRIPTOR.fields_by_name
        entry.completion_ids = tuple(
            getattr(message, name)
            for name in ID_FIELDS
            if name in fields and getattr(message, name)
        )
        for completion_id in entry.completion_ids:
            self.by_id.setdefault(completion_id, entry)
        if entry.frame.type == SEND_SIGNAL:  # the signal it sends
            kind = message.WhichOneof("signal_id")
            entry.signal = message.idx if kind == "idx" else message.name if kind else None

    def _acked_run(self, frame: Frame) -> None:
        run = self.by_id.get(frame.message.completion_id)  # type: ignore[union-attr]
        if run is not None and run.proposal is not None:
            run.ack = frame

    def _awaits(self, frame: Frame) -> None:
        """What an AwaitingOn or the suspension waits on: the commands of those ids."""
        self.awaiting.append((frame, frame.message))
        for completion_id in waited_ids(frame.message):
            command = self.by_id.get(completion_id)
            if command is not None:
                command.awaited = True

    # --- across attempts and invocations ----------------------------------------------------

    def replayable(self) -> Iterator[tuple[Moment, int, Entry]]:
        for moment in self.timeline:
            item = moment.item
            entry = self.entry_of(item.frame) if isinstance(item, DecodedFrame) else None
            if entry is not None and entry.command_index is not None:
                yield moment, entry.command_index, entry

    def linkables(self) -> Iterator[Linkable]:
        """A signal this invocation received, by its index or name; the CompleteAwakeable
        (an awakeable is a signal from 17 on) and SendSignal commands that send one."""
        invocation = invocation_id_text(self.start.id) if self.start is not None else None
        for entry in self.entries.values():
            message: Any = entry.frame.message
            if entry.frame.type == SIGNAL and invocation is not None and entry.signal is not None:
                awakeable = isinstance(entry.signal, int) and entry.signal >= FIRST_AWAKEABLE
                verb = "completed by" if awakeable else "sent by"
                yield Linkable((invocation, entry.signal), False, entry, _said(entry.signal), verb)
            elif entry.frame.type == SEND_SIGNAL and entry.signal is not None:
                token = (message.target_invocation_id, entry.signal)
                label = f"command {entry.command_index}"
                yield Linkable(token, True, entry, label, "signals")
            elif entry.frame.type == COMPLETE_AWAKEABLE:
                target = parse_awakeable_id(message.awakeable_id)
                if target is not None and target.is_signal and target.invocation_id:
                    token = (target.invocation_id, target.entry_index)
                    label = f"command {entry.command_index}"
                    yield Linkable(token, True, entry, label, "completes the awakeable of")

    # --- the end --------------------------------------------------------------------------------

    def _order(self, decoded: DecodedFrame) -> int:
        """Where a frame of an untimed pair falls: the runtime's start and replay, the SDK's
        messages, the runtime's live notifications and acks, then the SDK's ending."""
        frame = decoded.frame
        if frame.direction is RUNTIME:
            return 0 if decoded.entry_index is not None or frame.type == START else 2
        return SDK_ENDING if frame.type in _ENDINGS else 1

    def explained_by_missing(self, fact: Fact, missing: Direction) -> bool:
        """Without the SDK's body, notifications and acks answer commands the input does not
        have; without the runtime's, the SDK's commands name ids and commands allocated in a
        replay it lacks."""
        return fact.code in _EXPLAINED_WITHOUT[missing]


_EXPLAINED_WITHOUT: Final = {
    SDK: frozenset({"RI417", "RI415", "RI416", "RI242"}),
    RUNTIME: frozenset({"RI428", "RI424", "RI433", "RI436"}),
}
_ENDINGS: Final = {END: "end", SUSPENSION: "suspension", ERROR: "error"}
