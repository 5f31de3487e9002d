"""What an attempt's end decides (sans-IO): the rules that need the whole attempt (it did
not end; the SDK's HTTP answer; the replay it announced), and each fact made a finding,
once, with what may explain it known: bytes lost before it, a body the input does not have.
Nothing rewrites a finding afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from restate_inspect.events import HEADER_SIZE, DecodedFrame
from restate_inspect.headers import media_type
from restate_inspect.location import Direction
from restate_inspect.protocol.timeline import Fact, Moment, unended
from restate_inspect.rules import Problem
from restate_inspect.values import error_text, human_duration, stored_failure_parts

if TYPE_CHECKING:  # the attempt calls these at its end: at run time it imports them
    from restate_inspect.protocol.attempt import Attempt

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
# Bytes of a stream that no frame holds: missing from the capture, skipped, cut off, or
# unframable. Entries numbered after them may be numbered wrong, and a frame may be gone.
LOSSES: Final = frozenset({"RI101", "RI102", "RI104", "RI111", "RI112", "RI113"})
# What holds whatever was lost: HTTP facts, what the SDK itself reports, the StartMessage.
SURE: Final = frozenset({"RI208", "RI230", "RI231", "RI232", "RI233", "RI241"})
# A runtime body that ends this long after the last frame was closed for inactivity (the
# SDK is to suspend), not sent whole as in request/response mode, which ends it at once.
IDLE_CLOSE: Final = 0.5  # seconds; Restate's inactivity timeout is 1 min unless set lower
AFTER_LOSS: Final = "; bytes of this attempt are missing before it, which may explain it"
WITHOUT_BODY: Final = {  # by the direction whose body the input does not have
    SDK: "; the SDK's body is not in the input (only the request is), which may explain it",
    RUNTIME: "; the runtime's body is not in the input (only the response is), which may "
    "explain it",
}


def runtime_closed(attempt: Attempt, time: float | None) -> None:
    """The runtime's body ends. Before the SDK sent anything, at once: request/response
    mode. After IDLE_CLOSE or more of silence, with the SDK not done: its inactivity
    timeout, which is why an SDK suspends (or is aborted, if it neither suspends nor ends)."""
    last = next(((m, m.item.frame.time) for m in reversed(attempt.timeline)
                 if isinstance(m.item, DecodedFrame)), None)  # fmt: skip
    moment, since = last if last is not None else (None, None)
    quiet = time - since if time is not None and since is not None else 0.0
    if SDK not in attempt.seen | set(attempt.ends):
        attempt.request_ended_first = quiet < IDLE_CLOSE
    if quiet >= IDLE_CLOSE and attempt.ending is None and moment is not None:
        text = (
            f"nothing flowed for {human_duration(round(quiet * 1000))} after this frame, and "
            "the runtime closed its side: its inactivity timeout; the SDK is to suspend, or "
            "end, before the abort timeout"
        )
        attempt.said(moment, "RI225", text)


def whole_attempt(attempt: Attempt, end: Moment) -> None:
    """The rules on the whole attempt."""
    replay_cut_short(attempt, end)
    unended_attempt(attempt, end)
    stored_failure(attempt, end)


def replay_cut_short(attempt: Attempt, end: Moment) -> None:
    """The runtime announced more entries to replay than it sent, in a request it ended."""
    known = attempt.known_entries
    complete_request = attempt.ends.get(RUNTIME) in ("end", None) and RUNTIME in attempt.seen
    stored = attempt.stored_journal is not None  # a dump's unreadable rows are said (RI009)
    if known is not None and attempt.replayed < known and complete_request and not stored:
        text = f"the runtime announced {known} entries to replay and sent {attempt.replayed}"
        attempt.said(end, "RI203", text)


def unended_text(attempt: Attempt) -> str:
    """How an attempt without a terminal message ended: the bodies cut short that explain
    it; or none read, in the frames beyond what the attempt keeps."""
    if attempt.excess.frames:
        return f"not read to its end: more than {attempt.excess.limit:,} frames (RI243)"
    cut: dict[str, list[str]] = {}
    for direction in (RUNTIME, SDK):
        how = attempt.ends.get(direction, "end")
        if how != "end":
            cut.setdefault(how, []).append(direction.body)
    return unended(cut)


def unended_attempt(attempt: Attempt, end: Moment) -> None:
    """How an attempt ended that did not end (a stored journal ends with no terminal
    message: the SDK sends that, not the runtime)."""
    if attempt.ending is not None or attempt.stored_journal is not None:
        return
    if SDK not in attempt.seen | set(attempt.ends):
        return
    if "capture" in attempt.ends.values():
        attempt.said(end, "RI207", "the capture ends before the attempt does")
    elif attempt.reset_by_runtime:
        text = (
            "the runtime reset the stream before the SDK ended the attempt: it aborted it "
            "(a kill, a timeout, a shutdown)"
        )
        attempt.said(end, "RI242", text)
    else:
        how = ", ".join(f"{d.body} {h}" for d, h in attempt.ends.items() if h != "end")
        text = "the attempt ends without End, Suspension or Error" + (f" ({how})" if how else "")
        attempt.said(end, "RI205", text)


def stored_failure(attempt: Attempt, end: Moment) -> None:
    """A stored journal whose invocation's last attempt failed with 570 or 571 (its
    sys_invocation row's last_failure): said as the SDK's ErrorMessage is said on the wire,
    for the one who has no capture. Other failures are told on the attempt's line."""
    facts = (attempt.stored_journal.facts if attempt.stored_journal else None) or {}
    failure, status = facts.get("last_failure"), facts.get("status")
    parts = stored_failure_parts(failure)
    if parts is None or status == "completed" or parts[0] not in _SDK_ERRORS:
        return
    code, message = parts
    text = f"the invocation's last failure ({status or 'stored'}): {error_text(code, message)}"
    command = facts.get("last_failure_related_command_index")
    entry = facts.get("last_failure_related_entry_index")
    command_index = command if isinstance(command, int) else None
    entry_index = entry if isinstance(entry, int) else None
    if command_index is not None:
        text += f"; at command #{command_index}"
    elif entry_index is not None:
        text += f"; at entry #{entry_index}"
    attempt.said(end, _SDK_ERRORS[code], text, command_index=command_index, entry_index=entry_index)


_SDK_ERRORS: Final = {570: "RI230", 571: "RI231"}


def http_answer(attempt: Attempt, end: Moment) -> None:
    """The SDK answers 200 with the request's content type."""
    request_type, response_type = attempt.content_types
    # a request whose type the capture does not show (its head was lost) has no type to
    # compare the response's with
    same_type = request_type is None or media_type(response_type) == media_type(request_type)
    if attempt.status is None or (attempt.status == "200" and same_type):
        return
    text = f"the SDK answers {attempt.status} with content type {response_type!r}"
    if attempt.status == "200":
        text += f", not the request's {request_type!r}"
    attempt.said(end, "RI208", text)


def as_finding(attempt: Attempt, fact: Fact, missing: Direction | None) -> Problem:
    """A fact made a finding: its text, the family's hint, its repeats, what may explain it."""
    frame = fact.frame
    suffix = _explained(attempt, fact, missing)
    more = ""
    if fact.repeats > 1 and fact.last is not None:
        more = f"; and {fact.repeats - 1:,} more like it, to offset {fact.last.offset:#x}"
    return Problem(
        fact.code,
        fact.text + attempt.hint(fact) + more + (suffix or ""),
        frame.offset if frame else None,
        (HEADER_SIZE + frame.length) if frame else None,
        stream=attempt.stream,
        direction=frame.direction if frame else None,
        entry_index=fact.entry_index,
        invocation_id=attempt.invocation_id,
        attempt=attempt.number,
        after_loss=suffix is not None and suffix in (AFTER_LOSS, *WITHOUT_BODY.values()),
        command_index=fact.command_index,
        completion_id=fact.completion_id,
        repeats=fact.repeats,
    )


def _explained(attempt: Attempt, fact: Fact, missing: Direction | None) -> str | None:
    """What may explain a fact, said after it: bytes lost before it (in its direction,
    or any of the other direction's, which were sent before the loss could be told),
    or a body the input does not have (the family says which facts that explains)."""
    if fact.code in SURE:
        return None
    where, frame = fact.frame.direction if fact.frame else None, fact.frame
    lost = attempt.lost
    if lost and (
        where is None
        or frame is None
        or any(d is not where or at < frame.offset for d, at in lost.items())
    ):
        return AFTER_LOSS
    if missing is not None and attempt.explained_by_missing(fact, missing):
        return WITHOUT_BODY[missing]
    return None


def missing_body(attempt: Attempt) -> Direction | None:
    """The direction whose body is not in the input at all: one body given alone (a
    file), or a capture that has neither that body's head nor any frame of it (one that
    saw only one side of the connection: RI316)."""
    for direction, head in ((SDK, attempt.status), (RUNTIME, attempt.content_types[0])):
        if direction in attempt.seen:
            continue
        if (direction not in attempt.ends) if attempt.http_version is None else head is None:
            return direction
    return None
