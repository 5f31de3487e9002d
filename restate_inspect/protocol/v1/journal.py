"""The journal of a V1-V3 invocation attempt (sans-IO).

Entries are numbered from 0 in the order they were stored (numbering.py); completions and
acks name their entry by index. AttemptJournal follows one attempt's conversation, frame by
frame in the order it happened, and checks it against the protocol's rules as it goes
(rules.py, RI2xx). Messages are of the schema of the attempt's version, so they are told
apart by their type code and read by their fields' names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

from restate_inspect.events import DecodedFrame, Frame, MessageType, media_type
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.v1.messages import (
    COMPLETED,
    COMPLETION,
    END,
    ENTRY_ACK,
    ERROR,
    LINKABLE,
    OUTPUT,
    REQUIRES_ACK,
    START,
    SUSPENSION,
    V3_TABLE,
    VERSIONS,
)
from restate_inspect.protocol.v1.replay import comparable
from restate_inspect.rules import Problem
from restate_inspect.values import RESTATE_CODE_MEANINGS, code_name, invocation_id_text

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
BEFORE_FIRST_ENTRY: Final = 0xFFFFFFFF  # ErrorMessage.related_entry_index: no entry yet
# Bytes of a stream that no frame holds: missing from the capture, skipped, cut off, or
# unframable. Entries numbered after them may be numbered wrong, and a frame may be gone.
LOSSES: Final = frozenset({"RI101", "RI102", "RI104", "RI111", "RI112", "RI113"})
# What holds whatever was lost: HTTP facts, what the SDK itself reports, the StartMessage.
_SURE: Final = frozenset({"RI208", "RI230", "RI231", "RI232", "RI233", "RI241"})
AFTER_LOSS: Final = "; bytes of this attempt are missing before it, which may explain it"
SWAPPED: Final = "; the response begins with a StartMessage: are --request and --response swapped?"
WITHOUT_BODY: Final = {  # by the direction whose body the input does not have
    SDK: "; the SDK's body is not in the input (only the request is), which may explain it",
    RUNTIME: "; the runtime's body is not in the input (only the response is), which may "
    "explain it",
}
# A completion or ack the runtime sent this shortly (capture time) before the SDK suspended
# on its entry was on its way: the SDK could not have read it when it decided to suspend.
IN_FLIGHT: Final = 0.02


# --- the attempt --------------------------------------------------------------------------


@dataclass
class Entry:
    """A journal entry as this attempt saw it, and what happened to it."""

    index: int
    frame: Frame
    replayed: bool  # sent by the runtime (stored earlier), or created by the SDK now
    spec: MessageType | None
    completed_by: str | None = None  # "entry" (it came completed) or "completion"
    completion: Frame | None = None
    ack: Frame | None = None
    links: list[str] = field(default_factory=list)  # to entries of other invocations
    # a digest of what a replay of it must carry (comparable()), made when first asked for
    replay_key: bytes | None = None

    def comparable_key(self) -> bytes:
        """replay_key, made now if it was not: most entries are never compared (an
        invocation that ends in its first attempt replays nothing of it again)."""
        if self.replay_key is None:
            self.replay_key = hashlib.blake2b(comparable(self.frame), digest_size=16).digest()
        return self.replay_key

    @property
    def linkable(self) -> bool:
        """May it be linked to an entry of another invocation (an awakeable and the entry
        that completes it), when that one's attempt ends?"""
        return self.frame.type in LINKABLE

    @property
    def completable(self) -> bool:
        return bool(self.spec and self.spec.completable)

    @property
    def completed(self) -> bool:
        return self.completed_by is not None

    @property
    def requires_ack(self) -> bool:
        return bool(self.frame.flags & REQUIRES_ACK)

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else f"0x{self.frame.type:04x}"

    @property
    def entry_name(self) -> str:
        """The name user code gave the entry (field 12), if any."""
        message = self.frame.message
        return str(getattr(message, "name", "") or "") if message is not None else ""


class Moment(NamedTuple):
    """One step of the timeline: a frame, a reader's problem, or (None) the end of the
    attempt; and what the checks found there."""

    item: DecodedFrame | Problem | None
    findings: list[Problem]


@dataclass
class AttemptJournal:
    """One attempt: feed it the stream's decoded frames in order, then finish() it."""

    stream: StreamKey | None
    http_version: str | None = None  # None: the input was not a capture
    request_ended_first: bool = False  # the runtime's body ended before the SDK sent a frame
    protocol_version: int | None = None
    start: Any = None  # the StartMessage
    start_frame: Frame | None = None
    entries: dict[int, Entry] = field(default_factory=dict)
    timeline: list[Moment] = field(default_factory=list)
    ending: str | None = None  # "end", "suspension" or "error"
    end_frame: Frame | None = None
    suspended_on: tuple[int, ...] = ()
    error: Any = None  # the ErrorMessage that ended it
    replayed: int = 0
    ends: dict[Direction, str] = field(default_factory=dict)  # how each body ended
    reset_by_runtime: bool = False  # the runtime reset the stream: it aborted the attempt
    status: str | None = None
    content_types: tuple[str | None, str | None] = (None, None)
    seen: set[Direction] = field(default_factory=set)
    invocation_id: str | None = None
    number: int | None = None  # its place among the invocation's attempts, once known
    finished: bool = False
    _began: bool = False  # the first frame from the runtime has been seen
    _untimed: list[DecodedFrame] = field(default_factory=list)
    _lost: dict[Direction, int] = field(default_factory=dict)  # offset of the first loss

    @property
    def lossy(self) -> bool:
        """Did the attempt lose bytes (see LOSSES)?"""
        return bool(self._lost)

    # --- feeding ----------------------------------------------------------------------

    def add(self, item: DecodedFrame | Problem) -> None:
        """The next frame (or reader's problem) of the attempt. Frames without a capture
        time (a pair of files: all the request, then all the response) wait for finish(),
        which puts them in the order the protocol implies."""
        if isinstance(item, DecodedFrame) and item.frame.time is None and item.frame.direction:
            self._untimed.append(item)
        else:
            self._take(item)

    def _take(self, item: DecodedFrame | Problem) -> None:
        findings: list[Problem] = []
        self.timeline.append(Moment(item, findings))
        if isinstance(item, Problem):
            if item.code in LOSSES:
                where, offset = item.direction or RUNTIME, item.offset or 0  # a file: one body
                self._lost[where] = min(self._lost.get(where, offset), offset)
            return
        frame = item.frame
        if frame.version is not None and frame.version not in VERSIONS:
            self.protocol_version = self.protocol_version or frame.version  # as inferred
            self._foreign(item)
        elif frame.direction is not None:
            self.seen.add(frame.direction)
            if frame.direction is RUNTIME:
                self._from_runtime(item, findings)
            else:
                self._from_sdk(item, findings)

    @property
    def interpreted(self) -> bool:
        """Is the attempt's protocol version one that the rules know (or is it unknown)?"""
        return self.protocol_version is None or self.protocol_version in VERSIONS

    def _foreign(self, decoded: DecodedFrame) -> None:
        """A frame of a version not interpreted here: only its StartMessage is read, for
        the invocation it belongs to; nothing is checked."""
        frame = decoded.frame
        if frame.type == START and frame.message is not None and self.start is None:
            self._started(frame.message, frame)

    def _started(self, message: Any, frame: Frame) -> None:
        """The attempt's StartMessage: which invocation it is."""
        self.start, self.start_frame = message, frame
        self.invocation_id = message.debug_id or invocation_id_text(message.id)

    def describe(
        self, http_version: str | None, status: str | None, types: tuple[str | None, str | None]
    ) -> None:
        """What the HTTP layer knows: its version, status, content types."""
        self.http_version = http_version or self.http_version
        self.status = status
        self.content_types = types

    def end_of(self, direction: Direction, how: str, by: Direction | None = None) -> None:
        """direction's body is over: how; for a reset, `by` is the direction whose sender
        reset the stream."""
        self.ends[direction] = how
        self.reset_by_runtime |= how == "reset" and by is RUNTIME
        if direction is RUNTIME and how == "end" and SDK not in self.seen | set(self.ends):
            self.request_ended_first = True

    @property
    def request_response(self) -> bool | None:
        """Request/response mode: the runtime sends its whole body before the SDK answers,
        so no completion or ack comes mid-stream. Always on HTTP/1.1; on HTTP/2 when the
        runtime's body ended before the SDK sent anything (an endpoint that declared
        REQUEST_RESPONSE: in bidi mode the runtime keeps its body open to send completions).
        None: not known (not a capture)."""
        if not self.http_version:
            return None
        return self.http_version == "HTTP/1.1" or self.request_ended_first

    @property
    def ending_text(self) -> str:
        """How the attempt ended, in a few words: end, suspended on #1, error 500, ..."""
        if self.ending == "suspension":
            return "suspended on " + ", ".join(f"#{i}" for i in self.suspended_on)
        if self.ending == "error" and self.error is not None:
            return f"error {self.error.code}"
        if self.protocol_version is not None and not self.interpreted:
            return f"not interpreted (protocol V{self.protocol_version})"
        return self.ending or "no terminal message"

    @property
    def known_entries(self) -> int | None:
        return self.start.known_entries if self.start is not None else None

    @property
    def replaying(self) -> bool:
        known = self.known_entries
        return known is not None and self.replayed < known

    # --- the runtime's side -----------------------------------------------------------

    def _from_runtime(self, decoded: DecodedFrame, findings: list[Problem]) -> None:
        frame, message = decoded.frame, decoded.frame.message
        kind = frame.type if message is not None else None
        if not self._began and kind != START:
            findings.append(
                self._finding("RI201", f"the request begins with {_name(frame)}", decoded)
            )
        self._began = True
        if kind == START:
            self._start(decoded, message, findings)
        elif V3_TABLE.is_entry(frame.type):
            self._replayed_entry(decoded, findings)
        elif kind == COMPLETION:
            self._completion(decoded, message, findings)
        elif kind == ENTRY_ACK:
            self._ack(decoded, message, findings)
        elif message is not None:
            text = f"the runtime sends {_name(frame)}, which only the SDK sends"
            findings.append(self._finding("RI202", text, decoded))

    def _start(self, decoded: DecodedFrame, message: Any, findings: list[Problem]) -> None:
        if self.start is not None:
            findings.append(self._finding("RI202", "a second StartMessage", decoded))
            return
        self._started(message, decoded.frame)
        retry = (
            message.retry_count_since_last_stored_entry or message.duration_since_last_stored_entry
        )
        if retry and self.protocol_version == 1:
            text = (
                "StartMessage carries the V2 retry fields (retry count "
                f"{message.retry_count_since_last_stored_entry}, "
                f"{message.duration_since_last_stored_entry} ms since the last stored entry) "
                "under a V1 content type; newer runtimes do"
            )
            findings.append(self._finding("RI241", text, decoded))

    def _replayed_entry(self, decoded: DecodedFrame, findings: list[Problem]) -> None:
        index, known = decoded.entry_index, self.known_entries
        self.replayed += 1
        if index is None:
            return
        if known is not None and index >= known:
            text = f"the runtime sends entry {index} after replaying the {known} it announced"
            findings.append(self._finding("RI203", text, decoded))
        self._record(_entry(index, decoded.frame, replayed=True), decoded, findings)

    def _completion(self, decoded: DecodedFrame, message: Any, findings: list[Problem]) -> None:
        index = message.entry_index
        if self.request_response:
            text = f"a CompletionMessage for entry {index} in request/response mode"
            findings.append(self._finding("RI214", text, decoded))
        if self.replaying:
            text = f"a CompletionMessage for entry {index} before the replay is over"
            findings.append(self._finding("RI213", text, decoded))
        entry = self.entries.get(index)
        if entry is None:
            text = f"a CompletionMessage for entry {index}, which does not exist"
            findings.append(self._finding("RI210", text, decoded))
        elif not entry.completable:
            text = (
                f"a CompletionMessage for entry {index}, a {entry.name}, which is not completable"
            )
            findings.append(self._finding("RI211", text, decoded))
        elif entry.completed:
            how = (
                "it came completed" if entry.completed_by == "entry" else "a completion came before"
            )
            text = f"a CompletionMessage for entry {index}, which is already completed ({how})"
            findings.append(self._finding("RI212", text, decoded))
        else:
            entry.completed_by, entry.completion = "completion", decoded.frame

    def _ack(self, decoded: DecodedFrame, message: Any, findings: list[Problem]) -> None:
        index = message.entry_index
        if self.request_response:
            text = f"an EntryAckMessage for entry {index} in request/response mode"
            findings.append(self._finding("RI214", text, decoded))
        entry = self.entries.get(index)
        if entry is None:
            text = f"an EntryAckMessage for entry {index}, which does not exist"
            findings.append(self._finding("RI210", text, decoded))
        elif not entry.requires_ack or entry.ack is not None:
            why = "was sent without REQUIRES_ACK" if not entry.requires_ack else "is acked already"
            findings.append(
                self._finding(
                    "RI215", f"an EntryAckMessage for entry {index}, which {why}", decoded
                )
            )
        else:
            entry.ack = decoded.frame

    # --- the SDK's side ---------------------------------------------------------------

    def _from_sdk(self, decoded: DecodedFrame, findings: list[Problem]) -> None:
        frame, message = decoded.frame, decoded.frame.message
        if self.end_frame is not None:
            where = f"offset {self.end_frame.offset:#x}"
            text = f"{_name(frame)} after the {self.ending} message at {where}"
            findings.append(self._finding("RI206", text, decoded))
            return
        kind = frame.type if message is not None else None
        if V3_TABLE.is_entry(frame.type):
            self._created_entry(decoded, findings)
        elif kind == SUSPENSION:
            self._suspension(decoded, message, findings)
        elif kind == ERROR:
            self._error(decoded, message, findings)
        elif kind == END:
            self.ending, self.end_frame = "end", frame
        elif message is not None:
            text = f"the SDK sends {_name(frame)}, which only the runtime sends"
            findings.append(self._finding("RI209", text, decoded))

    def _created_entry(self, decoded: DecodedFrame, findings: list[Problem]) -> None:
        if self.replaying and decoded.frame.time is not None:
            text = (
                f"the SDK sends {_name(decoded.frame)} while the runtime has replayed "
                f"{self.replayed} of {self.known_entries} entries"
            )
            findings.append(self._finding("RI204", text, decoded))
        message: Any = decoded.frame.message
        if decoded.frame.type == OUTPUT and message is not None and message.HasField("failure"):
            text = f"the invocation ends with a terminal failure: {_failure(message.failure)}"
            findings.append(self._finding("RI233", text, decoded))
        if decoded.entry_index is not None:
            entry = _entry(decoded.entry_index, decoded.frame, replayed=False)
            self._record(entry, decoded, findings)

    def _record(self, entry: Entry, decoded: DecodedFrame, findings: list[Problem]) -> None:
        """Keep the entry; a completable one says by its COMPLETED flag whether it has its
        result, and the two must agree."""
        self.entries[entry.index] = entry
        message = entry.frame.message
        if not entry.completable or message is None:
            return
        flagged = bool(entry.frame.flags & COMPLETED)
        has_result = message.WhichOneof("result") is not None
        if flagged and has_result:
            entry.completed_by = "entry"
        elif flagged != has_result:
            state = "COMPLETED but no result" if flagged else "a result but no COMPLETED flag"
            findings.append(
                self._finding("RI216", f"entry {entry.index}, a {entry.name}, has {state}", decoded)
            )

    def _suspension(self, decoded: DecodedFrame, message: Any, findings: list[Problem]) -> None:
        self.ending, self.end_frame = "suspension", decoded.frame
        self.suspended_on = tuple(message.entry_indexes)
        if not self.suspended_on:
            findings.append(
                self._finding("RI220", "a SuspensionMessage that waits on no entry", decoded)
            )
        for index in self.suspended_on:
            entry = self.entries.get(index)
            if entry is None:
                text = f"suspended on entry {index}, which does not exist"
                findings.append(self._finding("RI221", text, decoded, index))
                continue
            answer = entry.completion if entry.completable else entry.ack
            ahead = _ahead(answer, decoded.frame)
            if ahead is not None:
                text = (
                    f"suspended on entry {index}, a {entry.name}, whose "
                    f"{'completion' if entry.completable else 'ack'} the runtime had sent "
                    f"{ahead * 1000:.1f} ms before: it was still on its way"
                )
                findings.append(self._finding("RI224", text, decoded, index))
            elif entry.completable and entry.completed:
                text = f"suspended on entry {index}, a {entry.name}, which is already completed"
                findings.append(self._finding("RI222", text, decoded, index))
            elif not entry.completable and not (entry.requires_ack and entry.ack is None):
                text = (
                    f"suspended on entry {index}, a {entry.name}, which is not completable and "
                    "awaits no ack"
                )
                findings.append(self._finding("RI223", text, decoded, index))

    def _error(self, decoded: DecodedFrame, message: Any, findings: list[Problem]) -> None:
        self.ending, self.end_frame, self.error = "error", decoded.frame, message
        related = self.related_entry(message)
        first_line = message.message.strip().splitlines()[-1:] or [""]
        code = {570: "RI230", 571: "RI231"}.get(message.code, "RI232")
        name = code_name(message.code)
        what = f"{message.code}" + (f" {name}" if name else "")
        text = f"ErrorMessage {what}: {first_line[0][:200]}"
        if message.code in RESTATE_CODE_MEANINGS:
            text += f" ({RESTATE_CODE_MEANINGS[message.code]})"
        if related:
            text += f"; related entry: {related}"
        index = message.related_entry_index if message.HasField("related_entry_index") else None
        findings.append(
            self._finding(code, text, decoded, index if index != BEFORE_FIRST_ENTRY else None)
        )

    def related_entry(self, message: Any) -> str:
        """The entry an ErrorMessage blames, in words."""
        if not message.HasField("related_entry_index"):
            return ""
        index = message.related_entry_index
        if index == BEFORE_FIRST_ENTRY:
            return "before the first entry"
        entry = self.entries.get(index)
        kind = entry.name if entry else None
        if kind is None and message.HasField("related_entry_type"):
            spec = V3_TABLE.lookup(message.related_entry_type)
            kind = spec.name if spec else f"type {message.related_entry_type:#06x}"
        name = message.related_entry_name or (entry.entry_name if entry else "")
        return f"#{index}" + (f" {kind}" if kind else "") + (f" {name!r}" if name else "")

    # --- the end ----------------------------------------------------------------------

    def finish(self) -> list[Problem]:
        """Checks that need the whole attempt; their findings (also kept in the timeline)."""
        for item in sorted(self._untimed, key=_protocol_order):
            self._take(item)
        self._untimed = []
        self._tell_if_swapped()
        findings: list[Problem] = []
        if not self.interpreted:
            return self._closed(self._http_findings())
        known = self.known_entries
        complete_request = self.ends.get(RUNTIME) in ("end", None) and RUNTIME in self.seen
        if known is not None and self.replayed < known and complete_request:
            text = f"the runtime announced {known} entries to replay and sent {self.replayed}"
            findings.append(self._finding("RI203", text, None))
        if self.ending is None and SDK in self.seen | set(self.ends):
            if "capture" in self.ends.values():
                findings.append(
                    self._finding("RI207", "the capture ends before the attempt does", None)
                )
            elif self.reset_by_runtime:
                text = (
                    "the runtime reset the stream before the SDK ended the attempt: it aborted "
                    "it (a kill, a timeout, a shutdown)"
                )
                findings.append(self._finding("RI242", text, None))
            else:
                how = ", ".join(f"{d.body} {h}" for d, h in self.ends.items() if h != "end")
                text = "the attempt ends without End, Suspension or Error" + (
                    f" ({how})" if how else ""
                )
                findings.append(self._finding("RI205", text, None))
        findings += self._http_findings()
        return self._closed(findings)

    def _tell_if_swapped(self) -> None:
        """A request without a StartMessage and a response that begins with one: the two
        bodies were likely given the wrong way round (--request and --response)."""
        if self.start is not None:
            return
        first = next(
            (
                moment.item.frame
                for moment in self.timeline
                if isinstance(moment.item, DecodedFrame) and moment.item.frame.direction is SDK
            ),
            None,
        )
        if first is None or first.type != START or first.message is None:
            return
        for moment in self.timeline:
            moment.findings[:] = [
                replace(f, message=f.message + SWAPPED) if f.code == "RI201" else f
                for f in moment.findings
            ]

    def _closed(self, findings: list[Problem]) -> list[Problem]:
        if findings:
            self.timeline.append(Moment(None, findings))
        if self._lost:
            for moment in self.timeline:
                moment.findings[:] = [self._after_loss(f) for f in moment.findings]
        missing = self._missing_body()
        if missing is not None:
            for moment in self.timeline:
                moment.findings[:] = [self._without_body(missing, f) for f in moment.findings]
        self.finished = True
        return findings

    def _http_findings(self) -> list[Problem]:
        request_type, response_type = self.content_types
        # a request whose type the capture does not show (its head was lost) has no type to
        # compare the response's with
        same_type = request_type is None or media_type(response_type) == media_type(request_type)
        if self.status is None or (self.status == "200" and same_type):
            return []
        text = f"the SDK answers {self.status} with content type {response_type!r}"
        if self.status == "200":
            text += f", not the request's {request_type!r}"
        return [self._finding("RI208", text, None)]

    def _finding(
        self, code: str, text: str, decoded: DecodedFrame | None, index: int | None = None
    ) -> Problem:
        frame = decoded.frame if decoded is not None else None
        return Problem(
            code,
            text,
            frame.offset if frame else None,
            (8 + frame.length) if frame else None,
            stream=self.stream,
            direction=frame.direction if frame else None,
            entry_index=index if index is not None else (decoded.entry_index if decoded else None),
            invocation_id=self.invocation_id,
            attempt=self.number,
        )

    def _missing_body(self) -> Direction | None:
        """The direction whose body is not in the input at all: one body given alone (a
        file), or a capture that has neither that body's head nor any frame of it (one that
        saw only one side of the connection: RI316)."""
        for direction, head in ((SDK, self.status), (RUNTIME, self.content_types[0])):
            if direction in self.seen:
                continue
            if (direction not in self.ends) if self.http_version is None else head is None:
                return direction
        return None

    def _without_body(self, missing: Direction, finding: Problem) -> Problem:
        """What the body that the input does not have may explain. Without the SDK's: a
        completion or ack for an entry past the replay (one the SDK sent), and a runtime's
        reset that seems to come before the SDK ended the attempt (its End may be in that
        body). Without the runtime's: a suspension on an entry that does not exist (without
        the StartMessage, no entry has an index)."""
        if finding.after_loss:
            return finding
        if missing is RUNTIME:
            if finding.code != "RI221":
                return finding
        elif finding.code == "RI210":
            index, known = finding.entry_index, self.known_entries
            if known is None or index is None or index < known:
                return finding  # a replayed entry: the request itself should have it
        elif finding.code != "RI242":
            return finding
        return replace(finding, message=finding.message + WITHOUT_BODY[missing], after_loss=True)

    def _after_loss(self, finding: Problem) -> Problem:
        """A finding that the attempt's lost bytes may explain: one about a frame after
        the loss in the same direction, about any frame of the other direction (the bytes
        were sent before the capture could tell they were lost), or about the attempt."""
        if finding.code in _SURE or finding.after_loss:
            return finding
        where, offset = finding.direction, finding.offset
        if (
            where is not None
            and offset is not None
            and not any(d is not where or lost < offset for d, lost in self._lost.items())
        ):
            return finding
        return replace(finding, message=finding.message + AFTER_LOSS, after_loss=True)

    def stamp(self, invocation_id: str, number: int) -> None:
        """Once the attempt's invocation and place in it are known, its findings say so."""
        self.invocation_id, self.number = invocation_id, number
        for moment in self.timeline:
            if moment.findings:
                moment.findings[:] = [
                    replace(f, invocation_id=invocation_id, attempt=number) for f in moment.findings
                ]

    def all_findings(self) -> list[Problem]:
        """Every finding of the attempt, in timeline order."""
        return [finding for moment in self.timeline for finding in moment.findings]


def _ahead(answer: Frame | None, suspension: Frame) -> float | None:
    """How long before the suspension the runtime's answer (completion, ack) was captured,
    when that is short enough for it to have been on its way (IN_FLIGHT)."""
    if answer is None or answer.time is None or suspension.time is None:
        return None
    ahead = suspension.time - answer.time
    return ahead if 0 <= ahead <= IN_FLIGHT else None


def _entry(index: int, frame: Frame, *, replayed: bool) -> Entry:
    return Entry(index, frame, replayed, frame.message_type)


def _protocol_order(decoded: DecodedFrame) -> int:
    """Where a frame of an untimed pair falls: the runtime's start and replay, the SDK's
    entries, the runtime's completions and acks, then the SDK's ending. sorted() keeps
    each group in its own order."""
    frame = decoded.frame
    entry_or_start = V3_TABLE.is_entry(frame.type) or frame.type == START
    if frame.direction is RUNTIME:
        return 0 if entry_or_start else 2
    return 1 if entry_or_start else 3


def _name(frame: Frame) -> str:
    return frame.name or f"type {frame.type:#06x}"


def _failure(failure: Any) -> str:
    name = code_name(failure.code)
    return (
        f"{failure.code}"
        + (f" {name}" if name else "")
        + (f" {failure.message!r}" if failure.message else "")
    )
