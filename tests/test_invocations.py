"""Invocations: the attempts of a capture gathered by invocation, the same however the
capture arrives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import capture_events
from restate_inspect.render.jsonl import invocation_records
from tests import capturewriter as cw
from tests.helpers import SAMPLES, Pieces, assert_split_invariant


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
