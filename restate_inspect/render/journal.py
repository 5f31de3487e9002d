"""The journal timeline in rich text: per invocation, its attempts; per attempt, every frame
in the order it happened, one line each, with its entry's state and the findings inline."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from restate_inspect.events import DecodedFrame
from restate_inspect.invocations import Invocation
from restate_inspect.location import Direction
from restate_inspect.protocol import view_of
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.render.text import (
    DIRECTION_STYLES,
    ENDING_STYLES,
    SEVERITY_STYLES,
    LinePrinter,
    severity_counts,
    type_style,
)
from restate_inspect.rules import Problem, Severity
from restate_inspect.streams import Tally
from restate_inspect.values import fact_text, human_duration, safe_text

_BADGE_STYLES = {
    "pending": "yellow",
    "awaiting": "yellow",
    "completed": "green",
    "acked": "green",
    "awaited": "cyan",
    "replayed": "dim",
}


# An invocation handed on without an End was waiting for an attempt the input does not have.
_NEXT_NOT_SEEN = {
    "suspension": "not resumed in the input",
    "error": "not retried in the input",
}


class JournalRenderer:
    def __init__(self, console: Console) -> None:
        self.print = LinePrinter(console)

    def invocation(self, invocation: Invocation) -> None:
        self.print(Text("━━ ", "bold").append(_heading(invocation)))
        for attempt in invocation.attempts:
            self._attempt(attempt, invocation)
        self.print.flush()

    def invocation_line(self, invocation: Invocation, tally: Tally) -> None:
        """journal --oneline: the invocation's heading, and its problems counted (in the
        colour of the most severe)."""
        line = _heading(invocation)
        worst = next((s for s in Severity if tally.problems[s]), None)
        if worst is not None:
            line.append(f" · {severity_counts(tally)}", SEVERITY_STYLES[worst])
        self.print(line)
        self.print.flush()  # each as its invocation ends: a live capture shows them as they do

    def _attempt(self, attempt: Attempt, invocation: Invocation) -> None:
        self.print(self._attempt_line(attempt, invocation))
        started = _first_time(attempt)
        for moment in attempt.timeline:
            if isinstance(moment.item, DecodedFrame):
                self.print(self._frame_line(moment.item, attempt, started))
            elif isinstance(moment.item, Problem):
                self._problem(moment.item)
            for finding in moment.findings:
                self._problem(finding)

    def _attempt_line(self, attempt: Attempt, invocation: Invocation) -> Text:
        if attempt.stored_journal is not None:
            return _stored_line(attempt)
        parts = [str(attempt.stream)]
        if attempt.http_version:
            mode = "request/response" if attempt.request_response else "bidi"
            parts.append(f"{attempt.http_version} {mode}")
        if attempt.protocol_version:
            parts.append(f"V{attempt.protocol_version}")
        number = attempt.number or 1
        if number > 1:
            previous = invocation.attempts[number - 2]
            why = {"suspension": "after a suspension", "error": "after an error"}.get(
                previous.ending or "", "after an attempt that did not end"
            )
            parts.append(f"resumes attempt {number - 1} {why}")
        start = attempt.start
        if start is not None:
            parts.append(f"replays {start.known_entries}")
            if start.retry_count_since_last_stored_entry:
                parts.append(f"retry {start.retry_count_since_last_stored_entry}")
            if start.duration_since_last_stored_entry:
                since = human_duration(start.duration_since_last_stored_entry)
                parts.append(f"{since} since the last stored entry")
        line = Text(f"  ── attempt {number} · ", "bold")
        line.append(safe_text(" · ".join(parts)), "dim")
        ending = attempt.ending_text
        line.append(" · ").append(safe_text(ending), ENDING_STYLES.get(ending.split(" ")[0], ""))
        return line

    def _frame_line(self, decoded: DecodedFrame, attempt: Attempt, started: float | None) -> Text:
        frame = decoded.frame
        line = Text("     ")
        if frame.time is not None and started is not None:
            line.append(f"{(frame.time - started) * 1000:+9.1f}ms ", "dim")
        direction = frame.direction or Direction.SDK_TO_RUNTIME
        line.append(direction.arrow + " ", DIRECTION_STYLES[direction])
        view = view_of(attempt)
        entry = view.entry_at(attempt, decoded)
        line.append(f"{view.column(decoded, entry):<4} ", "bold")
        name = view.short_name(frame.name or f"0x{frame.type:04x}")
        line.append(f"{name:<17} ", type_style(frame))
        line.append(safe_text(view.summary(frame, entry, attempt)))
        if entry is not None:
            stored = attempt.stored_journal is not None  # every row is: no badge says it
            for badge in view.badges(entry):
                if stored and badge == "replayed":
                    continue
                line.append(f"  [{badge}]", _BADGE_STYLES.get(badge.split(" ")[0], ""))
            for link in entry.links:
                line.append(f"  ↪ {safe_text(link)}", "italic dim")
        return line

    def _problem(self, problem: Problem) -> None:
        style = SEVERITY_STYLES[problem.severity]
        line = Text("          ! ", style).append(f"{problem.code} {problem.severity.value}", style)
        if problem.offset is not None:
            line.append(f" @{problem.offset:#x}", "dim")
        line.append(": " + safe_text(problem.message))
        self.print(line)


def _stored_line(attempt: Attempt) -> Text:
    """A stored journal's line: its rows, version, and what sys_invocation says of it."""
    journal = attempt.stored_journal
    assert journal is not None
    facts = journal.facts or {}
    parts = [f"{journal.rows} stored entr{'y' if journal.rows == 1 else 'ies'}"]
    version = attempt.version_read
    if version:
        parts.append(f"V{version}" + ("" if facts.get("pinned_service_protocol_version") else
                                      " (not told: read as the latest)"))  # fmt: skip
    for key, said in _STORED_FACTS:
        if facts.get(key) not in (None, "", 0):
            parts.append(said.format(fact_text(key, facts[key])))
    line = Text("  ── stored journal · ", "bold").append(safe_text(" · ".join(parts)), "dim")
    ending = attempt.ending_text
    line.append(" · ").append(safe_text(ending), ENDING_STYLES.get(ending.split(" ")[0], ""))
    return line


# sys_invocation's columns worth a word beside a stored journal
_STORED_FACTS = (
    ("retry_count", "{} retries"),
    ("last_failure", "last failure: {}"),
    ("last_failure_related_command_index", "at command #{}"),
    ("last_failure_related_entry_index", "at entry #{}"),
    ("suspended_waiting_future_json", "suspended on {}"),
    ("next_retry_at", "next retry at {}"),
)


def _first_time(attempt: Attempt) -> float | None:
    for moment in attempt.timeline:
        if isinstance(moment.item, DecodedFrame) and moment.item.frame.time is not None:
            return moment.item.frame.time
    return None


def _heading(invocation: Invocation) -> Text:
    """inv_…  Service/handler [key]  2 attempts · suspended on #2 · not resumed in the input"""
    line = Text(safe_text(invocation.invocation_id), "bold")
    if invocation.target:
        target = invocation.target + (
            f" [{invocation.object_key}]" if invocation.object_key else ""
        )
        line.append("  " + safe_text(target), "bold cyan")
    count = len(invocation.attempts)
    line.append(f"  {count} attempt{'s' if count > 1 else ''} · ", "dim")
    ending = invocation.ending
    line.append(safe_text(ending), ENDING_STYLES.get(ending.split(" ")[0], ""))
    waiting = _NEXT_NOT_SEEN.get(invocation.attempts[-1].ending or "")
    if waiting:
        line.append(f" · {waiting}", "dim")
    return line
