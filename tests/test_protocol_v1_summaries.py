"""What a V1-V3 frame says in one line (the journal timeline and the TUI), for every type
and the plainer shapes, and the short names of types."""

from __future__ import annotations

import pytest

from restate_inspect.events import DecodedFrame, Frame
from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.summaries import short_name, state_keys, summary
from restate_inspect.values import awakeable_id, invocation_id_text
from tests.helpers import read_all
from tests.v1_conversation import (
    ATTEMPT,
    CONVERSATION,
    DECODED,
    FAILURE,
    ID,
    RUNTIME,
    SDK,
    STATE_KEYS,
    lone,
)


def _summary(position: int) -> str:
    decoded = DECODED[position]
    index = decoded.entry_index
    entry = ATTEMPT.entries.get(index) if index is not None else None
    if entry is not None and entry.frame is not decoded.frame:
        entry = None
    return summary(decoded.frame, entry, ATTEMPT)


def test_summaries_of_every_type() -> None:
    expected = [
        "inv_1x · known_entries 2 · key 'k' · retry 2 · 1.5 s since last stored",
        '{"a":1}',
        f"{awakeable_id(ID, 1)} 1",
        '"k" → (empty)',
        '"k" = "v"',
        '"k"',
        "",
        "",
        "'p'",
        "'p' → (empty)",
        "'p' ← 1",
        "'q' ← failure 570 JOURNAL_MISMATCH: mismatch",
        "'nap' until 1970-01-01T00:16:40.000Z",
        "S/h [o](1)",
        "S/h [o](2) at 1970-01-01T00:33:20.000Z",
        f"{invocation_id_text(ID)} #2 ← 3",
        "'step' → 4",
        "acks #15",
        "completes #6 with keys a, b",
        "completes #7 with failure 570 JOURNAL_MISMATCH: mismatch",
        "completes #12 with " + '"' + "x" * 46 + "…",
        "0xff",
        "500 INTERNAL_SERVER_ERROR: boom · at #12 CallEntryMessage · retry in 200 ms",
    ]
    assert [_summary(i) for i in range(len(CONVERSATION))] == expected


def test_a_frame_without_a_message_is_summarised_by_its_size() -> None:
    (bad,) = [f for f in read_all(encode_frame(0x0005, b"\xff")) if isinstance(f, Frame)]
    assert summary(bad, None, ATTEMPT) == "1 bytes (body does not parse)"
    (custom,) = [f for f in read_all(encode_frame(0xFC01, b"")) if isinstance(f, Frame)]
    assert summary(custom._replace(spec=None), None, ATTEMPT) == "0 bytes"


def test_state_keys_of_a_value_that_is_not_state_keys() -> None:
    assert state_keys(b"\xff") is None
    assert state_keys(STATE_KEYS) == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "short"),
    [("CallEntryMessage", "Call"), ("CompletionMessage", "Completion"), (None, "?"),
     ("Message", "Message"), ("Odd", "Odd")],
)  # fmt: skip
def test_short_names(name: str | None, short: str) -> None:
    assert short_name(name) == short


def _summaries(attempt: AttemptJournal) -> list[str]:
    out = []
    for moment in attempt.timeline:
        if isinstance(moment.item, DecodedFrame):
            index = moment.item.entry_index
            entry = attempt.entries.get(index) if index is not None else None
            own = entry if entry is not None and entry.frame is moment.item.frame else None
            out.append(summary(moment.item.frame, own, attempt))
    return out


def test_summaries_of_the_plainer_shapes() -> None:
    keys = pb.GetStateKeysEntryMessage.StateKeys(keys=[b"x"])
    attempt = lone(
        (RUNTIME, 0x0000, pb.StartMessage(id=ID, debug_id="inv_2", known_entries=1), 0),
        (RUNTIME, 0x0400, pb.InputEntryMessage(), 0),
        (SDK, 0x0804, pb.GetStateKeysEntryMessage(value=keys), 0x0001),
        (SDK, 0x0C01, pb.CallEntryMessage(service_name="S", handler_name="h"), 0),
        (SDK, 0x0C00, pb.SleepEntryMessage(failure=FAILURE), 0x0001),
        (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="not-an-id", failure=FAILURE), 0),
        (SDK, 0x0002, pb.SuspensionMessage(entry_indexes=[3]), 0),
    )
    assert _summaries(attempt) == [
        "inv_2 · known_entries 1",
        "(empty)",
        'keys "x"',
        "S/h((empty))",
        " → failure 570 JOURNAL_MISMATCH: mismatch",  # a sleep without a time
        "not-an-id ← failure 570 JOURNAL_MISMATCH: mismatch",
        "waits on #3",
    ]
    errors = lone((SDK, 0x0003, pb.ErrorMessage(code=1), 0))
    assert _summaries(errors) == ["1"]
    nothing = lone((SDK, 0x0002, pb.SuspensionMessage(), 0))
    assert _summaries(nothing) == ["waits on nothing"]
