"""Invocations: the attempts of a capture gathered by invocation, the same however the
capture arrives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import capture_events
from restate_inspect.render.jsonl import invocation_records
from tests import capturewriter as cw
from tests.attempts import R, built, findings
from tests.helpers import SAMPLES, Pieces, assert_split_invariant
from tests.v4_frames import CLEAN, ID, attempt, pb


def _journal_records(pieces: list[bytes]) -> list[dict[str, Any]]:
    built = invocations(decode_events(capture_events(Pieces(pieces), "t")))
    return [r for i in built if isinstance(i, Invocation) for r in invocation_records(i)]


@pytest.mark.parametrize(("sample", "version"), [("v1-call-other", 1), ("v6-call-other", 6)])
@given(seed=st.integers(0, 2**32))
def test_the_journal_is_the_same_however_the_capture_arrives(
    sample: str, version: int, seed: int
) -> None:
    """An attempt's journal, findings and all, from a capture that comes in pieces of any
    size: the same records, in both families."""
    request = (SAMPLES / f"{sample}.req.bin").read_bytes()
    response = (SAMPLES / f"{sample}.resp.bin").read_bytes()
    packets = cw.conversation_packets(cw.h2_exchange(request, response, version=version))
    whole = assert_split_invariant(_journal_records, cw.pcap(packets), seed)
    assert [r["kind"] for r in whole[:2]] == ["invocation", "attempt"]
    assert whole[1]["protocol_version"] == version


def test_a_retry_after_an_end_says_the_runtime_did_not_take_that_end() -> None:
    """The runtime gave up on an attempt (its abort timeout) before the SDK's End came, and
    retries it: the later attempt says so. The same id begun anew (a workflow's, an
    idempotency key's) is no retry: it starts with its input alone."""
    retried = pb.StartMessage(id=ID, debug_id="inv_test", known_entries=1,
                              retry_count_since_last_stored_entry=1)  # fmt: skip
    again = attempt((R, encode_frame(0x0000, retried)), *CLEAN[1:], stream="s3")
    assert findings(attempt(*CLEAN), again) == ["RI244"]
    (first, second) = built(attempt(*CLEAN), again)
    (said,) = second.attempts[0].all_findings()
    assert "whose attempt 1 in tcp0/s1 ended it with End" in said.message
    assert (said.invocation_id, said.attempt) == (first.invocation_id, 1)
    anew = attempt(*CLEAN, stream="s3")
    assert findings(attempt(*CLEAN), anew) == [] and findings(again) == []
