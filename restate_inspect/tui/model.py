"""What the TUI shows, without the UI: the invocation list, an attempt's timeline rows, and
how keys move between them (next entry, the completion, the ack, the next problem, search,
filters). The Textual app only draws this; tests and benchmarks drive it directly too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from restate_inspect.annotations import annotate
from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.invocations import Invocation
from restate_inspect.location import Direction
from restate_inspect.protocol import JournalView, view_of
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.render.fields import FieldNode, field_tree
from restate_inspect.rules import Problem, Severity
from restate_inspect.values import time_of_day

SECTION, FRAME, PROBLEM, END = "section", "frame", "problem", "end"


@dataclass(slots=True, eq=False)  # compared by identity: a row is its place in a timeline
class Row:
    """One line of the timeline: a frame, a reader's problem, the end of the attempt (when
    the checks found something there), or a section title (replay, processing)."""

    kind: str
    decoded: DecodedFrame | None = None
    entry: Any = None  # the family's entry this frame is (not one it completes or acks)
    problems: list[Problem] = field(default_factory=list)
    section: str = ""  # "replay" or "processing"
    title: str = ""  # a section's or an end's words
    view: JournalView | None = None  # the attempt's family's
    named: Frame | None = None  # the frame it is about: its own, its entry's, what it waits on
    answer: Frame | None = None  # what answers it: a completion, a notification, a signal
    column: str = ""  # where it stands: #3, id2, sig1

    @property
    def frame(self) -> Frame | None:
        return self.decoded.frame if self.decoded is not None else None

    @property
    def entry_index(self) -> int | None:
        """The entry the row is about: the entry itself, or the one a completion or an
        ack names."""
        return self.decoded.entry_index if self.decoded is not None else None

    @property
    def type_name(self) -> str:
        frame = self.frame
        if frame is not None:
            return frame.name or f"0x{frame.type:04x}"
        return self.title

    @property
    def worst(self) -> Severity | None:
        return worst_of(p.severity for p in self.problems)


_BY_WEIGHT: Final = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def worst_of(severities: Iterable[Severity | None]) -> Severity | None:
    """The gravest of them (None: none)."""
    found = set(severities)
    return next((s for s in _BY_WEIGHT if s in found), None)


# --- the invocations pane --------------------------------------------------------------


def attempt_status(attempt: Attempt) -> str:
    """ended, failed (a terminal failure), suspended, error (to be retried), or open (no
    terminal message)."""
    statuses = {"end": "ended", "failed": "failed", "suspension": "suspended", "error": "error"}
    return statuses.get(attempt.outcome or "", "open")


def invocation_badges(invocation: Invocation) -> list[str]:
    """Its outcome (the last attempt's), and "retried" when an attempt failed before."""
    out = [attempt_status(invocation.attempts[-1])]
    if any(a.ending == "error" for a in invocation.attempts[:-1]):
        out.append("retried")
    return out


def entry_count(attempt: Attempt) -> int:
    return len(attempt.entries)


def problem_count(attempt: Attempt) -> int:
    """What the timeline lists: the readers' problems and the rules' findings."""
    return sum(len(m.findings) + isinstance(m.item, Problem) for m in attempt.timeline)


def worst_severity(attempt: Attempt) -> Severity | None:
    """The gravest of the attempt's problems and findings: how its count is shown."""
    return worst_of(
        p.severity
        for m in attempt.timeline
        for p in (*m.findings, *([m.item] if isinstance(m.item, Problem) else []))
    )


def invocation_title(invocation: Invocation) -> str:
    """service/handler and the key, or the invocation id when the target is unknown."""
    title = invocation.target or invocation.invocation_id
    return title + (f" [{invocation.object_key}]" if invocation.object_key else "")


# --- an attempt's timeline -------------------------------------------------------------


def _is_replay(decoded: DecodedFrame, entry: Any, attempt: Attempt) -> bool:
    if decoded.frame is attempt.start_frame:
        return True
    return entry is not None and entry.replayed


def timeline_rows(attempt: Attempt) -> list[Row]:
    """The attempt's frames in the order they happened, replay first and then processing,
    each with the findings of the checks made there."""
    rows: list[Row] = []
    section = ""
    view = view_of(attempt)
    for moment in attempt.timeline:
        item = moment.item
        if isinstance(item, DecodedFrame):
            entry = view.entry_at(attempt, item)
            replay = section in ("", "replay") and _is_replay(item, entry, attempt)
            wanted = "replay" if replay else "processing"
            if wanted != section:
                section = wanted
                rows.append(Row(SECTION, section=section, title=_section_title(section, attempt)))
            row = Row(FRAME, item, entry, list(moment.findings), section, "", view)
            row.named = view.named(attempt, item, entry)
            row.answer = view.answer(attempt, item, entry)
            row.column = view.column(item, entry)
            rows.append(row)
        elif isinstance(item, Problem):
            rows.append(Row(PROBLEM, problems=[item, *moment.findings], section=section))
        elif moment.findings:
            rows.append(Row(END, problems=list(moment.findings), section=section, title="end"))
    return rows


def _section_title(section: str, attempt: Attempt) -> str:
    if section == "replay":
        known = attempt.known_entries
        return f"replay · StartMessage and {known} stored entr{'y' if known == 1 else 'ies'}"
    return "processing · what this attempt did"


def first_time(rows: Iterable[Row]) -> float | None:
    return next((r.frame.time for r in rows if r.frame and r.frame.time is not None), None)


def time_text(row: Row, started: float | None, absolute: bool) -> str:
    """+12.3ms from the attempt's first frame, or the wall-clock time; the byte offset when
    the input has no times (files)."""
    frame = row.frame
    if frame is None:
        return ""
    if frame.time is None:
        return f"@{frame.offset:#x}"
    if absolute:  # as server logs print it, to line the two up
        return time_of_day(frame.time) + "Z"
    return f"{(frame.time - (started or frame.time)) * 1000:+.1f}ms"


def row_summary(row: Row, attempt: Attempt) -> str:
    if row.decoded is None or row.view is None:
        return "; ".join(p.message for p in row.problems) if row.problems else row.title
    return row.view.summary(row.decoded.frame, row.entry, attempt)


def row_name(row: Row) -> str:
    """The row's type, short: Call, CallResult, Completion."""
    if row.view is None:
        return row.type_name
    return row.view.short_name(row.type_name)


def row_badges(row: Row) -> list[str]:
    out = row.view.badges(row.entry) if row.entry is not None and row.view else []
    out = [b for b in out if b != "replayed"]  # the section says so
    if row.problems:
        out.append(f"{len(row.problems)} problem{'s' if len(row.problems) > 1 else ''}")
    return out


def row_fields(row: Row) -> list[FieldNode]:
    if row.decoded is None:
        return []
    return field_tree(row.decoded.frame, annotate(row.decoded.frame, row.decoded.context))


def row_text(row: Row, attempt: Attempt) -> str:
    """Everything search looks at: the type name, the summary, every field's value and
    payload text, the problems."""
    parts = [row.type_name, row_summary(row, attempt)]
    parts.extend(p.message for p in row.problems)
    stack = row_fields(row)
    while stack:
        node = stack.pop()
        parts.extend((node.label, node.value, node.note, node.block or ""))
        stack.extend(node.children)
    return "\n".join(parts).casefold()


def links(row: Row, attempt: Attempt, started: float | None) -> list[str]:
    """Where this row leads: its completion and ack, the entry it completes or acks, and
    signals (awakeables) across invocations."""
    if row.decoded is None or row.view is None:
        return []
    return row.view.relations(attempt, row.decoded, row.entry)


def wait_tree(row: Row, attempt: Attempt) -> list[str]:
    """What a suspension (or a V7 AwaitingOn) waits on, as an indented tree."""
    if row.decoded is None or row.view is None:
        return []
    return row.view.wait_tree(attempt, row.decoded)


def replayed_in(attempt: Attempt, invocation: Invocation, entry: Any) -> list[str]:
    """The later attempts of the invocation that replay an entry."""
    position = next((p for _m, p, e in attempt.replayable() if e is entry), None)
    if position is None:
        return []
    later = invocation.attempts[(attempt.number or 0) :]
    return [
        f"replayed in attempt {a.number}"
        for a in later
        if any(p == position and e.replayed for _m, p, e in a.replayable())
    ]


# --- moving around ----------------------------------------------------------------------

Predicate = Callable[[Row], bool]


def step(rows: list[Row], start: int, forward: bool, wanted: Predicate) -> int | None:
    """The next (or previous) row after `start` that is wanted, without wrapping."""
    indexes = range(start + 1, len(rows)) if forward else range(start - 1, -1, -1)
    return next((i for i in indexes if wanted(rows[i])), None)


def is_entry_row(row: Row) -> bool:
    return row.entry is not None


def has_problems(row: Row) -> bool:
    return bool(row.problems)


def row_of_frame(rows: list[Row], frame: Frame | None) -> int | None:
    if frame is None:
        return None
    return next((i for i, r in enumerate(rows) if r.frame is frame), None)


def completion_of(rows: list[Row], at: int) -> int | None:
    """The row of what answers this row's entry (or what this row waits on)."""
    if not 0 <= at < len(rows):
        return None
    entry = _entry_of(rows, at)
    answer = entry.completion if entry is not None else rows[at].answer
    return row_of_frame(rows, answer)


def ack_of(rows: list[Row], at: int) -> int | None:
    entry = _entry_of(rows, at)
    return row_of_frame(rows, entry.ack) if entry is not None else None


def entry_of(rows: list[Row], at: int) -> int | None:
    """The row that this row is about: the entry a completion or an ack names (or the entry
    itself), the wait a signal answers."""
    if not 0 <= at < len(rows):
        return None  # no row selected: an attempt with no rows, or nothing open
    return row_of_frame(rows, rows[at].named)


def _entry_of(rows: list[Row], at: int) -> Any:
    found = entry_of(rows, at)
    return rows[found].entry if found is not None else None


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filter:
    """Which rows the timeline shows: everything, problems only, one direction, entries
    only, or one message type."""

    kind: str = "all"
    value: str = ""

    @property
    def label(self) -> str:
        if self.kind == "direction":
            return f"{Direction(self.value).label} only"
        if self.kind == "type":
            return f"{self.value} only"
        return {"all": "everything", "problems": "problems only"}.get(
            self.kind, "journal entries only"
        )

    def accepts(self, row: Row) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "problems":
            return bool(row.problems)
        if row.kind == SECTION:
            return False
        if self.kind == "entries":
            return row.entry is not None
        if self.kind == "direction":
            frame = row.frame
            return (
                frame is not None
                and frame.direction is not None
                and (frame.direction.value == self.value)
            )
        return row.type_name == self.value


EVERYTHING: Final = Filter()


def filter_choices(rows: Iterable[Row]) -> list[Filter]:
    """The filters that make sense for these rows: the fixed ones, then each type present."""
    names = sorted({r.type_name for r in rows if r.frame is not None})
    fixed = [
        EVERYTHING,
        Filter("problems"),
        Filter("entries"),
        *(Filter("direction", d.value) for d in Direction),
    ]
    return fixed + [Filter("type", name) for name in names]


def visible(rows: list[Row], active: Filter) -> list[Row]:
    return rows if active is EVERYTHING else [r for r in rows if active.accepts(r)]


# --- search across attempts --------------------------------------------------------------


Timeline = tuple[Attempt, list[Row]]  # an attempt and its rows


def search(
    count: int,
    timeline_at: Callable[[int], Timeline],
    query: str,
    at: tuple[int, int],
    forward: bool = True,
) -> tuple[int, int] | None:
    """The next row (attempt, row) after `at` whose text holds `query` (case-insensitive),
    going on into the following attempts (of `count`, each given by `timeline_at`) and
    wrapping around once."""
    needle = query.casefold()
    if not needle or not count:
        return None
    for attempt_at, (attempt, rows), indexes in _positions(count, timeline_at, at, forward):
        for row_at in indexes:
            if needle in row_text(rows[row_at], attempt):
                return attempt_at, row_at
    return None


def _positions(
    count: int, timeline_at: Callable[[int], Timeline], at: tuple[int, int], forward: bool
) -> Iterator[tuple[int, Timeline, range]]:
    """Each attempt in turn from `at`, with the indexes of its rows to look at."""
    first, row = at
    for turn in range(count + 1):
        attempt_at = (first + turn if forward else first - turn) % count
        timeline = timeline_at(attempt_at)
        size = len(timeline[1])
        if turn == 0:
            indexes = range(row + 1, size) if forward else range(row - 1, -1, -1)
        elif turn == count:  # back where it began: the rows before (or after) the start
            indexes = range(min(row + 1, size)) if forward else range(size - 1, row - 1, -1)
        else:
            indexes = range(size) if forward else range(size - 1, -1, -1)
        yield attempt_at, timeline, indexes
