"""What an attempt's end decides: which body the input lacks, how an attempt that did not
end ended, and a fact made a finding with what may explain it."""

from __future__ import annotations

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.timeline import Fact, Moment
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.verdict import (
    AFTER_LOSS,
    WITHOUT_BODY,
    as_finding,
    missing_body,
    unended_text,
)

R, S = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def _attempt(http: str | None = "HTTP/2") -> AttemptJournal:
    attempt = AttemptJournal(StreamKey("tcp1", "s1"))
    attempt.http_version = http
    return attempt


def _fact(code: str, direction: Direction, offset: int) -> Fact:
    frame = Frame(StreamKey("tcp1", "s1"), direction, offset, 0x0400, 0, 4, b"", None, None, None)
    return Fact(Moment(DecodedFrame(frame, FrameContext()), []), code, "what broke", frame)


def test_the_body_the_input_lacks_is_the_one_with_no_head_and_no_frame() -> None:
    capture = _attempt()
    capture.content_types = ("application/vnd.restate.invocation.v1", None)
    assert missing_body(capture) is S  # no response head, nothing from the SDK
    capture.status = "200"
    assert missing_body(capture) is None
    request_alone = _attempt(http=None)
    request_alone.ends[R] = "end"
    assert missing_body(request_alone) is S  # a file of the request, no response file
    request_alone.seen.add(S)
    assert missing_body(request_alone) is None


def test_an_attempt_without_a_terminal_message_says_which_bodies_were_cut() -> None:
    attempt = _attempt()
    attempt.ends.update({R: "end", S: "reset"})
    assert unended_text(attempt) == "no terminal message; response reset"
    attempt.excess.frames = 3
    assert unended_text(attempt).startswith("not read to its end: more than")


def test_a_finding_after_lost_bytes_says_they_may_explain_it() -> None:
    attempt = _attempt()
    attempt.lost[S] = 100
    before, after = _fact("RI209", S, 50), _fact("RI209", S, 150)
    assert as_finding(attempt, before, None).message == "what broke"  # its side lost later
    lost = as_finding(attempt, after, None)
    assert lost.message == "what broke" + AFTER_LOSS and lost.after_loss
    other_side = as_finding(attempt, _fact("RI210", R, 10), None)
    assert other_side.after_loss  # sent before the loss could be told
    sure = as_finding(attempt, _fact("RI233", S, 150), None)
    assert not sure.after_loss  # what the SDK itself reports holds whatever was lost


def test_a_finding_a_missing_body_may_explain_says_so() -> None:
    attempt = _attempt()
    attempt.start = None
    fact = _fact("RI221", S, 8)  # suspended on an entry: without the request, none exists
    finding = as_finding(attempt, fact, R)
    assert finding.message == "what broke" + WITHOUT_BODY[R] and finding.after_loss
    assert not as_finding(attempt, _fact("RI209", S, 8), R).after_loss
