"""What every family's attempt journal shares (sans-IO): the stream's HTTP facts, how each
body ended, the bytes lost, the timeline, and findings decided once, at the end.

A family's journal reads its frames as they come and states the rules they break as facts;
at finish() each fact becomes a finding, once, with all that may explain it known: bytes
lost before it, a body the input does not have. Nothing rewrites a finding afterwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Final

from restate_inspect.events import HEADER_SIZE, DecodedFrame, Frame, StoredJournal
from restate_inspect.headers import media_type
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.timeline import (
    Excess,
    Fact,
    Linkable,
    Moment,
    ProblemRun,
    StoredStart,
    in_protocol_order,
    unended,
)
from restate_inspect.rules import Problem
from restate_inspect.values import invocation_id_text

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
START: Final = 0x0000  # the StartMessage's type, in every version
SDK_ENDING: Final = 3  # _order's group of the SDK's terminal message: the last
# What an attempt keeps of its frames and problems: beyond, they are counted (RI243), so that
# memory follows what the tool needs, not what a hostile stream holds (5,000,000 empty frames).
MOST_MOMENTS: Final = 100_000
# Bytes of a stream that no frame holds: missing from the capture, skipped, cut off, or
# unframable. Entries numbered after them may be numbered wrong, and a frame may be gone.
LOSSES: Final = frozenset({"RI101", "RI102", "RI104", "RI111", "RI112", "RI113"})
# What holds whatever was lost: HTTP facts, what the SDK itself reports, the StartMessage.
SURE: Final = frozenset({"RI208", "RI230", "RI231", "RI232", "RI233", "RI241"})
AFTER_LOSS: Final = "; bytes of this attempt are missing before it, which may explain it"
WITHOUT_BODY: Final = {  # by the direction whose body the input does not have
    SDK: "; the SDK's body is not in the input (only the request is), which may explain it",
    RUNTIME: "; the runtime's body is not in the input (only the response is), which may "
    "explain it",
}


class Attempt(ABC):
    """One attempt: feed it the stream's decoded frames and problems in order (add), then
    finish() it. A family's journal is a subclass: `_read` reads a frame of its family."""

    versions: ClassVar[frozenset[int]] = frozenset()  # the family's
    position_name: ClassVar[str] = "entry"  # what a replay is compared by
    entries: dict[int, Any]  # the family's entries, by its key for them

    def __init__(self, stream: StreamKey | None) -> None:
        self.stream = stream
        self.http_version: str | None = None  # None: the input was not a capture
        self.request_ended_first = False  # the runtime's body ended before the SDK's began
        self.protocol_version: int | None = None
        self.start: Any = None  # the StartMessage
        self.start_frame: Frame | None = None
        self.timeline: list[Moment] = []
        self.ending: str | None = None  # "end", "suspension" or "error"
        self.end_frame: Frame | None = None
        self.error: Any = None  # the ErrorMessage that ended it
        self.failure: Any = None  # the terminal failure its Output carries
        self.ends: dict[Direction, str] = {}  # how each body ended
        self.reset_by_runtime = False  # the runtime reset the stream: it aborted the attempt
        self.status: str | None = None
        self.content_types: tuple[str | None, str | None] = (None, None)
        self.seen: set[Direction] = set()
        self.invocation_id: str | None = None
        self.number: int | None = None  # its place among the invocation's attempts
        self.finished = False
        self.stored_journal: StoredJournal | None = None  # a dump's, not a conversation
        self._began = False  # the runtime's first frame, or the StartMessage, was seen
        self._facts: list[Fact] = []
        self._untimed: list[DecodedFrame] = []
        self._lost: dict[Direction, int] = {}  # offset of the first loss
        self.excess = Excess(MOST_MOMENTS)  # what it holds beyond
        self._run = ProblemRun()  # a reader's problem repeated frame after frame

    # --- feeding ---------------------------------------------------------------------------

    def add(self, item: DecodedFrame | Problem) -> None:
        """The next frame (or reader's problem) of the attempt. Frames without a capture
        time (a pair of files: all the request, then all the response) wait for finish(),
        which puts them in the order the protocol implies."""
        if len(self.timeline) + len(self._untimed) >= self.excess.limit:
            self.excess.count(item)
        elif isinstance(item, DecodedFrame) and item.frame.time is None and item.frame.direction:
            self._untimed.append(item)
        else:
            self._take(item)

    def _take(self, item: DecodedFrame | Problem) -> None:
        if isinstance(item, Problem):
            if self._run.joins(item):
                return
            self._run.close(self.timeline)
            self._run.begin(len(self.timeline), item)
        moment = Moment(item, [])
        self.timeline.append(moment)
        if isinstance(item, Problem):
            if item.code in LOSSES:
                where, offset = item.direction or RUNTIME, item.offset or 0  # a file: one body
                self._lost[where] = min(self._lost.get(where, offset), offset)
            return
        frame = item.frame
        if frame.version not in self.versions:  # another family's, or not read (None)
            self.protocol_version = self.protocol_version or frame.version
            if frame.type == START and frame.message is not None and self.start is None:
                self._started(frame.message, frame)  # its id is all that is read
        elif frame.direction is not None:
            self.seen.add(frame.direction)
            self._read(item, moment)

    @abstractmethod
    def _read(self, decoded: DecodedFrame, moment: Moment) -> None:
        """Read a frame of the family: state what it changes and the rules it breaks."""

    def _started(self, message: Any, frame: Frame | None) -> None:
        """The attempt's StartMessage: which invocation it is."""
        self.start, self.start_frame = message, frame
        self.invocation_id = message.debug_id or invocation_id_text(message.id)
        self._began = True

    def stored(self, journal: StoredJournal) -> None:
        """The attempt is a journal the runtime stored (a sys_journal dump): its rows are
        what the runtime would replay, as if a StartMessage had announced them all."""
        self.stored_journal = journal
        pinned = (journal.facts or {}).get("pinned_service_protocol_version")
        self.protocol_version = pinned if isinstance(pinned, int) else None  # else: not told
        self._started(StoredStart.of(journal), None)

    def unended_text(self) -> str:
        """No terminal message, and the bodies cut short that explain it; or none read, in
        the frames beyond what the attempt keeps."""
        if self.excess.frames:
            return f"not read to its end: more than {self.excess.limit:,} frames (RI243)"
        cut: dict[str, list[str]] = {}
        for direction in (RUNTIME, SDK):
            how = self.ends.get(direction, "end")
            if how != "end":
                cut.setdefault(how, []).append(direction.body)
        return unended(cut)

    @property
    def outcome(self) -> str | None:
        """How it ended: "end", "suspension", "error", or "failed": an end whose Output
        is a terminal failure, which people must not read as a success."""
        if self.ending == "end" and self.failure is not None:
            return "failed"
        return self.ending

    @property
    @abstractmethod
    def ending_text(self) -> str:
        """How the attempt ended, in a few words."""

    @property
    def interpreted(self) -> bool:
        """Is the attempt's version the family's (or not known)?"""
        return self.protocol_version is None or self.protocol_version in self.versions

    @property
    def version_read(self) -> int | None:
        """The version told by the content type, else the one its StartMessage was read as
        (inferred: RI115 says so)."""
        first = self.start_frame or next((d.frame for d in self.frames()), None)
        return self.protocol_version or (first.version if first is not None else None)

    @property
    def lossy(self) -> bool:
        """Did the attempt lose bytes (see LOSSES)?"""
        return bool(self._lost)

    @property
    def known_entries(self) -> int | None:
        return self.start.known_entries if self.start is not None else None

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
        so nothing comes mid-stream. Always on HTTP/1.1; on HTTP/2 when the runtime's body
        ended before the SDK sent anything (an endpoint that declared REQUEST_RESPONSE).
        None: not known (not a capture)."""
        if not self.http_version:
            return None
        return self.http_version == "HTTP/1.1" or self.request_ended_first

    # --- facts and findings ------------------------------------------------------------------

    def said(
        self,
        moment: Moment,
        code: str,
        text: str,
        frame: Frame | None = None,
        *,
        entry_index: int | None = None,
        command_index: int | None = None,
        completion_id: int | None = None,
    ) -> None:
        """A rule broken at a moment: about its frame and that frame's entry, unless others
        are named."""
        item = moment.item
        if isinstance(item, DecodedFrame):
            frame = frame or item.frame
            entry_index = item.entry_index if entry_index is None else entry_index
        previous = self._facts[-1] if self._facts else None
        if previous is not None and self._repeats(previous, code, frame, moment):
            self._facts[-1] = previous._replace(repeats=previous.repeats + 1, last=frame)
            return  # a million frames after the End are one finding, not a million
        fact = Fact(moment, code, text, frame, entry_index, command_index, completion_id)
        self._facts.append(fact)

    def _repeats(self, previous: Fact, code: str, frame: Frame | None, moment: Moment) -> bool:
        """The same rule broken by a frame of the same type as the previous fact's (last)
        frame, which came right before it."""
        first = previous.frame
        if first is None or frame is None or previous.code != code or first.type != frame.type:
            return False
        timeline = self.timeline
        if len(timeline) < 2 or timeline[-1] is not moment:
            return False
        before = timeline[-2].item
        return isinstance(before, DecodedFrame) and before.frame is (
            previous.last or previous.frame
        )

    def finish(self) -> list[Problem]:
        """The rules that need the whole attempt, and every fact made a finding; the
        findings of the attempt's end (also kept in the timeline)."""
        for item in self._in_protocol_order():
            self._take(item)
        self._untimed = []
        self._run.close(self.timeline)
        end = Moment(None, [])
        if self.excess.first is not None:
            self.said(end, "RI243", self.excess.text(), self.excess.first)
        elif self.interpreted:  # (an attempt not read to its end cannot be said unended)
            self._at_the_end(end)
        self._http(end)
        missing = self._missing_body()
        for fact in self._facts:
            fact.moment.findings.append(self._finding(fact, missing))
        self._facts = []
        if end.findings:
            self.timeline.append(end)
        self.finished = True
        return end.findings

    @abstractmethod
    def _order(self, decoded: DecodedFrame) -> int:
        """Where a frame of an untimed pair falls: a group (sorted() keeps each group's
        order); SDK_ENDING for the SDK's terminal message, which comes last."""

    def _in_protocol_order(self) -> list[DecodedFrame]:
        """An untimed pair's frames in the order the protocol implies, each body's own order
        kept: a frame the runtime sent before a replayed entry was sent during the replay
        (RI213), and what the SDK sent after its terminal message came after it (RI206)."""
        return in_protocol_order(self._untimed, [self._order(item) for item in self._untimed])

    def _at_the_end(self, end: Moment) -> None:
        """The family's rules on the whole attempt; then how it ended, if it did not (a
        stored journal ends with no terminal message: the SDK sends that, not the runtime)."""
        if self.ending is not None or self.stored_journal is not None:
            return
        if SDK not in self.seen | set(self.ends):
            return
        if "capture" in self.ends.values():
            self.said(end, "RI207", "the capture ends before the attempt does")
        elif self.reset_by_runtime:
            text = (
                "the runtime reset the stream before the SDK ended the attempt: it aborted it "
                "(a kill, a timeout, a shutdown)"
            )
            self.said(end, "RI242", text)
        else:
            how = ", ".join(f"{d.body} {h}" for d, h in self.ends.items() if h != "end")
            text = "the attempt ends without End, Suspension or Error" + (
                f" ({how})" if how else ""
            )
            self.said(end, "RI205", text)

    def _http(self, end: Moment) -> None:
        request_type, response_type = self.content_types
        # a request whose type the capture does not show (its head was lost) has no type to
        # compare the response's with
        same_type = request_type is None or media_type(response_type) == media_type(request_type)
        if self.status is None or (self.status == "200" and same_type):
            return
        text = f"the SDK answers {self.status} with content type {response_type!r}"
        if self.status == "200":
            text += f", not the request's {request_type!r}"
        self.said(end, "RI208", text)

    def _finding(self, fact: Fact, missing: Direction | None) -> Problem:
        frame = fact.frame
        suffix = self._explained(fact, missing)
        more = ""
        if fact.repeats > 1 and fact.last is not None:
            more = f"; and {fact.repeats - 1:,} more like it, to offset {fact.last.offset:#x}"
        return Problem(
            fact.code,
            fact.text + self._hint(fact) + more + (suffix or ""),
            frame.offset if frame else None,
            (HEADER_SIZE + frame.length) if frame else None,
            stream=self.stream,
            direction=frame.direction if frame else None,
            entry_index=fact.entry_index,
            invocation_id=self.invocation_id,
            attempt=self.number,
            after_loss=suffix is not None and suffix in (AFTER_LOSS, *WITHOUT_BODY.values()),
            command_index=fact.command_index,
            completion_id=fact.completion_id,
            repeats=fact.repeats,
        )

    def _hint(self, fact: Fact) -> str:
        """What the family adds to a fact's text once the whole attempt is known."""
        return ""

    def _explained(self, fact: Fact, missing: Direction | None) -> str | None:
        """What may explain a fact, said after it: bytes lost before it (in its direction,
        or any of the other direction's, which were sent before the loss could be told),
        or a body the input does not have (the family says which facts that explains)."""
        if fact.code in SURE:
            return None
        where, frame = fact.frame.direction if fact.frame else None, fact.frame
        if self._lost and (
            where is None
            or frame is None
            or any(d is not where or lost < frame.offset for d, lost in self._lost.items())
        ):
            return AFTER_LOSS
        if missing is not None and self._explained_by_missing(fact, missing):
            return WITHOUT_BODY[missing]
        return None

    @abstractmethod
    def _explained_by_missing(self, fact: Fact, missing: Direction) -> bool:
        """Is a fact one that the body the input does not have may explain?"""

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

    def stamp(self, invocation_id: str, number: int) -> None:
        """Once the attempt's invocation and place in it are known, its findings say so
        (made before, when the attempt ended)."""
        self.invocation_id, self.number = invocation_id, number
        for moment in self.timeline:
            for index, finding in enumerate(moment.findings):
                moment.findings[index] = finding.placed(invocation_id, number)

    def all_findings(self) -> list[Problem]:
        """Every finding of the attempt, in timeline order."""
        return [finding for moment in self.timeline for finding in moment.findings]

    @abstractmethod
    def replayable(self) -> Iterator[tuple[Moment, int, Any]]:
        """The entries a later attempt's replay must repeat, at their moments, by position
        (position_name): each with .frame, .replayed, .name and .comparable_key()."""

    @abstractmethod
    def linkables(self) -> Iterator[Linkable]:
        """The entries that may be linked to entries of other invocations."""

    def frames(self) -> Iterator[DecodedFrame]:
        for moment in self.timeline:
            if isinstance(moment.item, DecodedFrame):
                yield moment.item
