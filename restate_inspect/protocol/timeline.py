"""The records of an attempt's timeline (sans-IO): its moments, the facts that become
findings, what it links across invocations, and what it counts beyond what it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from restate_inspect.events import HEADER_SIZE, DecodedFrame, Frame, StoredJournal
from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import OF_A_FRAME, Problem, Run
from restate_inspect.values import cause_line, invocation_id_bytes, stored_failure_parts


class Moment(NamedTuple):
    """One step of the timeline: a frame, a reader's problem, or (None) the end of the
    attempt; and what the checks found there."""

    item: DecodedFrame | Problem | None
    findings: list[Problem]


class Fact(NamedTuple):
    """A rule's condition, met: at finish() it becomes a finding, in its moment."""

    moment: Moment
    code: str
    text: str
    frame: Frame | None
    entry_index: int | None = None
    command_index: int | None = None
    completion_id: int | None = None
    repeats: int = 1  # frames in a row that broke the rule alike: one finding says them all
    last: Frame | None = None  # ... the last of them


@dataclass(frozen=True)
class StoredStart:
    """What a StartMessage would say of a stored journal: it is made from the dump (no frame
    holds it), so that a journal reads as the replay the runtime would send."""

    id: bytes
    debug_id: str
    known_entries: int
    key: str = ""
    retry_count_since_last_stored_entry: int = 0
    duration_since_last_stored_entry: int = 0

    @classmethod
    def of(cls, journal: StoredJournal) -> StoredStart:
        facts = journal.facts or {}
        raw = invocation_id_bytes(journal.invocation_id) or b""
        key = facts.get("target_service_key") or ""
        retries = facts.get("retry_count") or 0
        return cls(raw, journal.invocation_id, journal.rows, str(key), int(retries))


class Linkable(NamedTuple):
    """An entry that another invocation's entry may answer: a signal (an awakeable) and what
    sends it. `token` names the signal: (the receiving invocation's id, its index or name)."""

    token: tuple[str, int | str]
    sends: bool
    entry: Any
    label: str  # the entry, as the other side's link names it: `entry 3`, `command 2`
    verb: str  # how its links begin: `completed by`, `completes the awakeable of`


class Excess:
    """The frames and problems of an attempt beyond its limit: counted, not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.frames = self.bytes = self.problems = 0
        self.first: Frame | None = None
        self.last: Frame | None = None

    def count(self, item: DecodedFrame | Problem) -> None:
        if isinstance(item, Problem):
            self.problems += 1
            return
        self.frames += 1
        self.bytes += HEADER_SIZE + item.frame.length
        self.first = self.first or item.frame
        self.last = item.frame

    def text(self) -> str:
        last = f", the last at offset {self.last.offset:#x}" if self.last is not None else ""
        frames = f"{self.frames:,} frame" + "s" * (self.frames != 1)
        problems = f"{self.problems:,} problem" + "s" * (self.problems != 1)
        return (
            f"the attempt goes on past {self.limit:,} frames and problems: {frames} more"
            f"{last}, and {problems} more, are counted, not kept in the journal or checked "
            "(decode shows every frame)"
        )


CUT_BY: Final = {"reset": "reset", "closed": "cut by the connection's close",
                 "capture": "cut by the capture's end"}  # fmt: skip


def unended(cut: dict[str, list[str]]) -> str:
    """No terminal message, and the bodies that explain it, by how they were cut: "no
    terminal message; request and response cut by the capture's end"."""
    how = [f"{' and '.join(bodies)} {CUT_BY.get(by, by)}" for by, bodies in cut.items()]
    return "; ".join(["no terminal message", ", ".join(how)] if how else ["no terminal message"])


def relative(other: Frame, frame: Frame) -> str:
    """Where another frame is, seen from a frame: +3.2 ms, or its offset in a file."""
    if other.time is not None and frame.time is not None:
        return f"{(other.time - frame.time) * 1000:+.1f} ms"
    return f"offset {other.offset:#x}"


def in_protocol_order(untimed: list[DecodedFrame], groups: list[int]) -> list[DecodedFrame]:
    """An untimed pair's frames sorted by their groups (Attempt._order), each body's own
    order kept: an SDK frame is in no earlier group than the SDK's frames before it, and a
    runtime frame in no later group than the runtime's frames after it."""
    groups = list(groups)
    sides = [item.frame.direction for item in untimed]
    latest = 0  # the SDK's: the highest group so far
    for at, group in enumerate(groups):
        if sides[at] is Direction.SDK_TO_RUNTIME:
            latest = groups[at] = max(latest, group)
    earliest = max(groups, default=0)  # the runtime's: the lowest group of what follows
    for at in reversed(range(len(groups))):
        if sides[at] is not Direction.SDK_TO_RUNTIME:
            earliest = groups[at] = min(earliest, groups[at])
    order = sorted(range(len(groups)), key=groups.__getitem__)  # stable: bodies' own order
    return [untimed[at] for at in order]


def stored_ending(output: Any, waiting: list[str], journal: StoredJournal) -> str:
    """How a stored journal stands: by its Output (completed, failed 409), else what it
    waits on; with sys_invocation's status beside, when a row of it was given."""
    facts = journal.facts or {}
    if output is not None:
        text = f"failed {output.failure.code}" if output.HasField("failure") else "completed"
    elif facts.get("completion_result") in ("success", "failure"):  # killed: no Output stored
        parts = stored_failure_parts(facts.get("completion_failure"))
        text = "completed" if facts["completion_result"] == "success" else "failed"
        if parts:
            code, message = parts
            text = f"failed {code}" + (f" ({cause_line(message)})" if message else "")
        return text + " · no output stored, as sys_invocation tells"
    else:
        text = ("waiting on " + ", ".join(waiting)) if waiting else "no output stored"
    status = facts.get("status")
    said = status and not (status == "completed" and output is not None)  # else: no news
    return f"{text} · status {status}" if said else text


class ProblemRun:
    """A frame's problem (OF_A_FRAME) that the frames after it repeat with no other problem
    between (an unknown type on each of 50,000 frames): one finding that counts them, in the
    first one's moment, made when the run is over (close)."""

    def __init__(self) -> None:
        self.at = -1  # the first one's place in the timeline
        self.run: Run | None = None

    def joins(self, problem: Problem) -> bool:
        run = self.run
        if run is None or problem.code not in OF_A_FRAME:
            return False
        if (run.first.code, run.first.direction) != (problem.code, problem.direction):
            return False
        run.add(problem)
        return True

    def begin(self, at: int, problem: Problem) -> None:
        self.at, self.run = at, Run(problem, 1, problem)

    def close(self, timeline: list[Moment]) -> None:
        if self.run is not None and self.run.count > 1:
            timeline[self.at] = timeline[self.at]._replace(item=self.run.finding())
        self.at, self.run = -1, None


def repeats(
    previous: Fact, code: str, frame: Frame | None, moment: Moment, timeline: list[Moment]
) -> bool:
    """Is a fact the previous one again: the same rule broken by a frame of the same type
    as the previous fact's (last) frame, which came right before it?"""
    first = previous.frame
    if first is None or frame is None or previous.code != code or first.type != frame.type:
        return False
    if len(timeline) < 2 or timeline[-1] is not moment:
        return False
    before = timeline[-2].item
    return isinstance(before, DecodedFrame) and before.frame is (previous.last or previous.frame)


# Findings about how a runtime talks, the same for every attempt it sends on a connection:
# one per connection says it; one per attempt would bury the rest (8 of 12 on the sample).
ONCE_PER_CONNECTION: Final = frozenset({"RI241"})
Said = tuple[str, str]  # a connection (its stream key's source), and a code said once on it


def first_on_connection(code: str, stream: StreamKey | None, said: set[Said] | None) -> bool:
    """Is a fact the first of its code on its stream's connection, for the codes said once
    per connection? `said`: what the input's attempts said so (None: every fact counts)."""
    if code not in ONCE_PER_CONNECTION or said is None or stream is None:
        return True
    if (stream.source, code) in said:
        return False
    said.add((stream.source, code))
    return True
