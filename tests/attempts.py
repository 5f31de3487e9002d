"""Attempts built from encoded frames, as a capture would give them: StreamInfo with the
content types and status, the bodies' chunks (or gaps), how each body ended. The journal
rule tests of each family build their breaches with them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from restate_inspect.events import Chunk, Gap, InputEvent, StreamEnd, StreamInfo
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.rules import Problem

R, S = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
V1 = "application/vnd.restate.invocation.v1"
Step = tuple[Direction, bytes | int]  # a frame's bytes, or so many bytes missing


@dataclass
class Attempt:
    steps: Sequence[Step]
    http: str | None = "HTTP/2"  # None: a pair of files, no HTTP facts
    status: str = "200"
    response_type: str = V1
    request_type: str | None = V1  # None: the request head is not in the capture
    ends: tuple[str | None, str | None] = ("end", "end")  # None: that body is not given
    reset_by: Direction | None = None  # which side's RST_STREAM reset the stream
    stream: str = "s1"
    extra: dict[str, Any] = field(default_factory=dict)


def events(*attempts: Attempt) -> list[InputEvent]:
    out: list[InputEvent] = []
    packet = 0
    for attempt in attempts:
        key = StreamKey("tcp0", attempt.stream)
        if attempt.http is not None:
            headers = (
                None if attempt.request_type is None else (("content-type", attempt.request_type),)
            )
            response = (("content-type", attempt.response_type),)
            path = "/invoke/Svc/handler"
            out.append(
                StreamInfo(key, "invocation", "a -> b", attempt.http, 1.0, 1, "POST", path, headers)
            )
            out.append(
                StreamInfo(
                    key,
                    "invocation",
                    "a -> b",
                    attempt.http,
                    1.0,
                    1,
                    "POST",
                    path,
                    headers,
                    attempt.status,
                    response,
                )
            )
        for direction, frame in attempt.steps:
            packet += 1
            time = 1.0 + packet / 1000 if attempt.http else None
            number = packet if attempt.http else None
            if isinstance(frame, int):
                out.append(Gap(key, direction, frame, time, number))
            else:
                out.append(Chunk(key, direction, frame, time, number))
        for direction, how in zip((R, S), attempt.ends, strict=True):
            if how is None:
                continue
            by = attempt.reset_by if how == "reset" else None
            out.append(StreamEnd(key, direction, how, None, packet, by=by))
    return out


def findings(*attempts: Attempt) -> list[str]:
    codes = []
    for item in invocations(decode_events(events(*attempts))):
        if isinstance(item, Invocation):
            codes += [f.code for a in item.attempts for f in a.all_findings()]
        elif isinstance(item, Problem):
            codes.append(item.code)
    return codes


def built(*attempts: Attempt) -> list[Invocation]:
    """The invocations the attempts make, in the order they end."""
    return [i for i in invocations(decode_events(events(*attempts))) if isinstance(i, Invocation)]


# What only a capture can show: a pair of bodies has no times, no content types, no
# HTTP version. Every other rule must fire the same for a pair as for a capture.
CAPTURE_ONLY = {
    "RI204": "when the SDK sent an entry against the runtime's replay: times",
    "RI208": "the response's content type",
    "RI214": "request/response mode: HTTP/1.1, or a request body that ended first",
    "RI241": "a V1 content type",
    "RI442": "the stream's version, from its content type",
}


def as_pair(attempt: Attempt) -> Attempt | None:
    """The attempt as `--request`/`--response` files give it: the two bodies, no HTTP;
    None when the attempt is made of what only a capture has (a status, a reset, a body
    cut by the capture's end)."""
    if attempt.http is None:
        return attempt
    if attempt.status != "200" or attempt.reset_by or attempt.extra:
        return None
    if any(how not in ("end", None) for how in attempt.ends):
        return None
    return replace(attempt, http=None)


def same_for_a_pair(attempts: Sequence[Attempt]) -> tuple[list[str], list[str]] | None:
    """The findings of a capture's attempts and of the same as pairs, each sorted (a pair's
    frames are put in the protocol's order: findings may come in another), leaving out
    what only a capture can show; None when the attempts cannot be given as pairs."""
    pairs = [as_pair(attempt) for attempt in attempts]
    if any(pair is None for pair in pairs):
        return None
    captured = sorted(c for c in findings(*attempts) if c not in CAPTURE_ONLY)
    paired = sorted(c for c in findings(*(p for p in pairs if p is not None)))
    return captured, paired


def assert_same_for_a_pair(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    """A rule case's attempts find the same as pairs as in a capture, except what only a
    capture can show, which a pair never finds."""
    for attempts in (broken(), clean()):
        both = same_for_a_pair(attempts)
        if both is None:
            continue  # made of what only a capture has
        captured, paired = both
        assert paired == captured
    if code in CAPTURE_ONLY:
        pair = same_for_a_pair(broken())
        assert pair is None or code not in pair[1]
