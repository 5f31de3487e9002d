"""What every family's attempt journal does alike (protocol/attempt.py), held for both
families on their bundled samples: frames in order, the StartMessage's facts, how it ended,
the mode the HTTP layer tells, losses, and findings stamped with their invocation."""

from __future__ import annotations

import pytest

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_bytes
from restate_inspect.protocol import journal_for
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.protocol.verdict import IDLE_CLOSE
from restate_inspect.rules import Problem
from tests.helpers import SAMPLES

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
KEY = StreamKey("tcp0", "s1")
SAMPLE_VERSIONS = {"v1-call-other": 1, "v6-call-other": 6}


def _decoded(sample: str, direction: Direction) -> list[DecodedFrame]:
    """A body's frames, timed as a capture times them: the request first, then the answer."""
    suffix, time = ("req", 1.0) if direction is RUNTIME else ("resp", 2.0)
    data = (SAMPLES / f"{sample}.{suffix}.bin").read_bytes()
    version = SAMPLE_VERSIONS[sample]
    decoded = decode_bytes(data, direction=direction, stream=KEY, protocol_version=version)
    return [
        d._replace(frame=d.frame._replace(time=time))
        for d in decoded
        if isinstance(d, DecodedFrame)
    ]


def _attempt(sample: str, http_version: str = "HTTP/2", *first: Problem) -> Attempt:
    attempt = journal_for(KEY, SAMPLE_VERSIONS[sample])
    attempt.describe(http_version, "200", (None, None))
    items: list[DecodedFrame | Problem] = [*first, *_decoded(sample, RUNTIME)]
    for item in [*items, *_decoded(sample, SDK)]:
        attempt.add(item)
    attempt.end_of(RUNTIME, "end")  # after the SDK's frames: not request/response on HTTP/2
    attempt.end_of(SDK, "end")
    attempt.finish()
    return attempt


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_a_whole_attempt_keeps_every_frame_and_its_starts_facts(sample: str) -> None:
    attempt = _attempt(sample)
    sent = [d.frame for d in _decoded(sample, RUNTIME) + _decoded(sample, SDK)]
    assert [d.frame for d in attempt.frames()] == sent
    start = sent[0].message
    assert start is not None and attempt.start_frame == sent[0]
    assert attempt.known_entries == start.known_entries  # type: ignore[attr-defined]
    assert (attempt.outcome, attempt.version_read) == ("end", SAMPLE_VERSIONS[sample])
    assert not attempt.replaying and attempt.replayed == attempt.known_entries
    assert attempt.interpreted and not attempt.lossy


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_the_mode_is_request_response_on_http1_and_not_known_for_a_file(sample: str) -> None:
    assert _attempt(sample, "HTTP/1.1").request_response is True
    assert _attempt(sample, "").request_response is None
    assert _attempt(sample).request_response is False  # the SDK answered mid-stream


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_a_request_closed_for_inactivity_is_not_request_response(sample: str) -> None:
    """The runtime closes its body when nothing flowed for its inactivity timeout (the SDK
    should suspend); in request/response mode it closes it right after its last frame."""
    modes = []
    for after in (0.0, IDLE_CLOSE - 0.01, IDLE_CLOSE, 60.0):
        attempt = journal_for(KEY, SAMPLE_VERSIONS[sample])
        attempt.describe("HTTP/2", "200", (None, None))
        for item in _decoded(sample, RUNTIME):  # sent at 1.0 s
            attempt.add(item)
        attempt.end_of(RUNTIME, "end", None, 1.0 + after)
        modes.append(attempt.request_response)
    assert modes == [True, True, False, False]


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_an_inactivity_close_before_the_sdk_is_done_is_said_after_the_last_frame(
    sample: str,
) -> None:
    """Why an SDK suspends: the runtime closed its side when nothing flowed for its
    inactivity timeout. Said on the last frame before it; not when the SDK had ended, nor
    when the close came at once."""
    sdk = _decoded(sample, SDK)  # sent at 2.0 s, the terminal message last
    said = []
    for sent, closed in ((sdk[:-1], 3.0), (sdk, 3.0), (sdk[:-1], 2.1), ([], 1.0 + IDLE_CLOSE)):
        attempt = journal_for(KEY, SAMPLE_VERSIONS[sample])
        attempt.describe("HTTP/2", "200", (None, None))
        for item in [*_decoded(sample, RUNTIME), *sent]:
            attempt.add(item)
        attempt.end_of(RUNTIME, "end", None, closed)
        attempt.end_of(SDK, "end")
        attempt.finish()
        found = [(m.item, f) for m in attempt.timeline for f in m.findings if f.code == "RI225"]
        said.append([(item == sent[-1] if sent else True, "for 1 s" in f.message)
                     for item, f in found])  # fmt: skip
    assert said == [[(True, True)], [], [], [(True, False)]]


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_a_loss_is_remembered_and_findings_are_stamped_with_their_invocation(
    sample: str,
) -> None:
    lost = Problem("RI111", "bytes lost", 0, 10, stream=KEY, direction=RUNTIME)
    attempt = _attempt(sample, "HTTP/2", lost)
    assert attempt.lossy
    attempt.stamp("inv_x", 2)
    assert (attempt.invocation_id, attempt.number) == ("inv_x", 2)
    findings = attempt.all_findings()
    assert all((f.invocation_id, f.attempt) == ("inv_x", 2) for f in findings)


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS)
def test_an_attempt_without_its_end_says_so_once_finished(sample: str) -> None:
    attempt = journal_for(KEY, SAMPLE_VERSIONS[sample])
    attempt.describe("HTTP/2", "200", (None, None))
    for decoded in _decoded(sample, RUNTIME):
        attempt.add(decoded)
    attempt.end_of(RUNTIME, "end")
    attempt.end_of(SDK, "reset", RUNTIME)
    ended = attempt.finish()
    assert ended and attempt.outcome is None
    assert attempt.all_findings()[-len(ended) :] == ended  # also kept in the timeline
    assert all(isinstance(d.frame, Frame) for d in attempt.frames())
