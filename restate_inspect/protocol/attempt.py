"""What every family's attempt journal shares (sans-IO): the stream's HTTP facts, how each
body ended, the bytes lost, the timeline, and the facts the rules state.

A family's journal reads its frames as they come and states the rules they break as facts;
at finish() each fact becomes a finding, once, with all that may explain it known
(verdict.py). Nothing rewrites a finding afterwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Final

from restate_inspect.events import DecodedFrame, Frame, StoredJournal
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.timeline import (
    Excess,
    Fact,
    Linkable,
    Moment,
    ProblemRun,
    Said,
    StoredStart,
    first_on_connection,
    in_protocol_order,
    repeats,
)
from restate_inspect.protocol.verdict import (
    LOSSES,
    as_finding,
    http_answer,
    missing_body,
    runtime_closed,
    whole_attempt,
)
from restate_inspect.rules import Problem
from restate_inspect.values import invocation_id_text

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
START: Final = 0x0000  # the StartMessage's type, in every version
SDK_ENDING: Final = 3  # _order's group of the SDK's terminal message: the last
# What an attempt keeps of its frames and problems: beyond, they are counted (RI243), so that
# memory follows what the tool needs, not what a hostile stream holds (5,000,000 empty frames).
MOST_MOMENTS: Final = 100_000


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
        self.lost: dict[Direction, int] = {}  # offset of the first loss
        self.replayed = 0  # journal frames the runtime replayed
        self.said_once: set[Said] | None = None  # shared by the input's attempts (timeline)
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
                self.lost[where] = min(self.lost.get(where, offset), offset)
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
        return bool(self.lost)

    @property
    def known_entries(self) -> int | None:
        return self.start.known_entries if self.start is not None else None

    @property
    def replaying(self) -> bool:
        known = self.known_entries
        return known is not None and self.replayed < known

    def describe(
        self, http_version: str | None, status: str | None, types: tuple[str | None, str | None]
    ) -> None:
        """What the HTTP layer knows: its version, status, content types."""
        self.http_version = http_version or self.http_version
        self.status = status
        self.content_types = types

    def end_of(self, direction: Direction, how: str, by: Direction | None = None,
               time: float | None = None) -> None:  # fmt: skip
        """direction's body is over (how, at time); a reset's `by` is who reset the stream."""
        self.ends[direction] = how
        self.reset_by_runtime |= how == "reset" and by is RUNTIME
        if direction is RUNTIME and how == "end":
            runtime_closed(self, time)

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
        if not first_on_connection(code, self.stream, self.said_once):
            return
        item = moment.item
        if isinstance(item, DecodedFrame):
            frame = frame or item.frame
            entry_index = item.entry_index if entry_index is None else entry_index
        previous = self._facts[-1] if self._facts else None
        if previous is not None and repeats(previous, code, frame, moment, self.timeline):
            self._facts[-1] = previous._replace(repeats=previous.repeats + 1, last=frame)
            return  # a million frames after the End are one finding, not a million
        fact = Fact(moment, code, text, frame, entry_index, command_index, completion_id)
        self._facts.append(fact)

    def finish(self) -> list[Problem]:
        """The rules that need the whole attempt, and every fact made a finding; the
        findings of the attempt's end (also kept in the timeline)."""
        # an untimed pair's frames, in the order the protocol implies (see in_protocol_order)
        for item in in_protocol_order(self._untimed, [self._order(i) for i in self._untimed]):
            self._take(item)
        self._untimed = []
        self._run.close(self.timeline)
        end = Moment(None, [])
        if self.excess.first is not None:
            self.said(end, "RI243", self.excess.text(), self.excess.first)
        elif self.interpreted:  # (an attempt not read to its end cannot be said unended)
            self._at_the_end(end)
        http_answer(self, end)
        missing = missing_body(self)
        for fact in self._facts:
            fact.moment.findings.append(as_finding(self, fact, missing))
        self._facts = []
        if end.findings:
            self.timeline.append(end)
        self.finished = True
        return end.findings

    @abstractmethod
    def _order(self, decoded: DecodedFrame) -> int:
        """Where a frame of an untimed pair falls: a group (sorted() keeps each group's
        order); SDK_ENDING for the SDK's terminal message, which comes last."""

    def _at_the_end(self, end: Moment) -> None:
        """The rules on the whole attempt (verdict.py); a family may add its own."""
        whole_attempt(self, end)

    def hint(self, fact: Fact) -> str:
        """What the family adds to a fact's text once the whole attempt is known."""
        return ""

    @abstractmethod
    def explained_by_missing(self, fact: Fact, missing: Direction) -> bool:
        """Is a fact one that the body the input does not have may explain?"""

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
