"""What a V1-V3 frame and entry say to a human: one-line summaries, badges, the annotations
of entries (journal --json) and of frames (decode --json)."""

from __future__ import annotations

import copy

import pytest

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol import message_notes
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.entries import VIEW, badges, entry_annotations
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.numbering import EntryNumbering
from restate_inspect.protocol.v1.summaries import short_name, state_keys, summary
from restate_inspect.values import awakeable_id, invocation_id_text
from tests.helpers import read_all

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
ID = bytes(range(24))
STATE_KEYS = pb.GetStateKeysEntryMessage.StateKeys(keys=[b"a", b"b"]).SerializeToString()
FAILURE = pb.Failure(code=570, message="mismatch")

# (direction, type, message, flags), in the order of the conversation; times 1 s apart
CONVERSATION: list[tuple[Direction, int, object, int]] = [
    (RUNTIME, 0x0000, pb.StartMessage(id=ID, debug_id="inv_1x", known_entries=2, key="k",
                                      retry_count_since_last_stored_entry=2,
                                      duration_since_last_stored_entry=1500), 0),
    (RUNTIME, 0x0400, pb.InputEntryMessage(value=b'{"a":1}'), 0),
    (RUNTIME, 0x0C03, pb.AwakeableEntryMessage(value=b"1"), 0x0001),
    (SDK, 0x0800, pb.GetStateEntryMessage(key=b"k", empty=pb.Empty()), 0x0001),
    (SDK, 0x0801, pb.SetStateEntryMessage(key=b"k", value=b'"v"'), 0),
    (SDK, 0x0802, pb.ClearStateEntryMessage(key=b"k"), 0),
    (SDK, 0x0803, pb.ClearAllStateEntryMessage(), 0),
    (SDK, 0x0804, pb.GetStateKeysEntryMessage(), 0),
    (SDK, 0x0808, pb.GetPromiseEntryMessage(key="p"), 0),
    (SDK, 0x0809, pb.PeekPromiseEntryMessage(key="p", empty=pb.Empty()), 0x0001),
    (SDK, 0x080A, pb.CompletePromiseEntryMessage(key="p", completion_value=b"1"), 0),
    (SDK, 0x080A, pb.CompletePromiseEntryMessage(key="q", completion_failure=FAILURE), 0),
    (SDK, 0x0C00, pb.SleepEntryMessage(wake_up_time=1_000_000, name="nap"), 0),
    (SDK, 0x0C01, pb.CallEntryMessage(service_name="S", handler_name="h", key="o",
                                      parameter=b"1"), 0),
    (SDK, 0x0C02, pb.OneWayCallEntryMessage(service_name="S", handler_name="h", key="o",
                                            parameter=b"2", invoke_time=2_000_000), 0),
    (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id=awakeable_id(ID, 2), value=b"3"), 0),
    (SDK, 0x0C05, pb.RunEntryMessage(name="step", value=b"4"), 0x8000),
    (RUNTIME, 0x0004, pb.EntryAckMessage(entry_index=15), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=6, value=STATE_KEYS), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=7, failure=FAILURE), 0),
    (RUNTIME, 0x0001, pb.CompletionMessage(entry_index=12, value=b"x" * 80), 0),
    (SDK, 0x0401, pb.OutputEntryMessage(value=b"\xff"), 0),
    (SDK, 0x0003, pb.ErrorMessage(code=500, message="a\nboom", related_entry_index=12,
                                  next_retry_delay=200), 0),
]  # fmt: skip


def _attempt() -> tuple[AttemptJournal, list[DecodedFrame]]:
    attempt, numbering, decoded = AttemptJournal(StreamKey("t")), EntryNumbering(), []
    for second, (direction, kind, message, flags) in enumerate(CONVERSATION):
        (frame,) = read_all(encode_frame(kind, message, flags), direction=direction)  # type: ignore[arg-type]
        assert isinstance(frame, Frame)
        item = numbering.number(frame._replace(time=float(second)))
        attempt.add(item)
        decoded.append(item)
    attempt.finish()
    return attempt, decoded


ATTEMPT, DECODED = _attempt()


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


def test_badges() -> None:
    entries = ATTEMPT.entries
    assert badges(entries[0]) == ["replayed"]
    assert badges(entries[1]) == ["replayed", "completed"]  # came completed
    assert badges(entries[6]) == ["completed +11000.0ms"]  # by its completion
    assert badges(entries[8]) == ["completed"]
    assert badges(entries[12]) == ["completed +7000.0ms"]
    assert badges(entries[11]) == ["pending"]
    assert badges(entries[15]) == ["acked +1000.0ms"]
    unacked = copy.copy(entries[15])
    unacked.ack = None
    assert badges(unacked) == ["awaiting ack"]
    unacked.ack = unacked.frame._replace(time=None)
    assert badges(unacked) == ["acked"]


def test_entry_annotations() -> None:
    entries = ATTEMPT.entries
    assert entry_annotations(entries[12], ATTEMPT) == {
        "target": "S/h",
        "key": "o",
        "completion_ms": 7000.0,
    }
    assert entry_annotations(entries[13], ATTEMPT) == {
        "target": "S/h",
        "key": "o",
        "invoke_time": "1970-01-01T00:33:20.000Z",
    }
    assert entry_annotations(entries[11], ATTEMPT) == {
        "wake_up_time": "1970-01-01T00:16:40.000Z",
        "sleep_ms": 1_000_000 - 12_000,
    }
    assert entry_annotations(entries[1], ATTEMPT) == {"awakeable_id": awakeable_id(ID, 1)}
    assert entry_annotations(entries[14], ATTEMPT) == {
        "completes": {"invocation_id": invocation_id_text(ID), "entry_index": 2}
    }
    assert entry_annotations(entries[6], ATTEMPT) == {
        "state_keys": ["a", "b"],
        "completion_ms": 11000.0,
    }
    assert entry_annotations(entries[15], ATTEMPT) == {"ack_ms": 1000.0}
    entries[3].links.append("completed by x")
    assert entry_annotations(entries[3], ATTEMPT) == {"links": ["completed by x"]}


def test_annotations_without_start_or_result() -> None:
    alone = AttemptJournal(StreamKey("a"))
    numbering = EntryNumbering()
    for kind, message in (
        (0x0C03, pb.AwakeableEntryMessage()),
        (0x0804, pb.GetStateKeysEntryMessage()),
    ):
        (frame,) = read_all(encode_frame(kind, message), direction=RUNTIME)
        assert isinstance(frame, Frame)
        alone.add(numbering.number(frame))
    alone.finish()
    assert [entry_annotations(e, alone) for e in alone.entries.values()] == [{}, {}]
    assert summary(alone.entries[0].frame, alone.entries[0], alone) == ""
    sleep = pb.SleepEntryMessage()
    (frame,) = read_all(encode_frame(0x0C00, sleep), direction=SDK)
    assert isinstance(frame, Frame)
    assert summary(frame, None, alone) == ""


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


def _notes(
    direction: Direction, kind: int, message: object, context: FrameContext
) -> dict[str, object]:
    (frame,) = read_all(encode_frame(kind, message), direction=direction)  # type: ignore[arg-type]
    assert isinstance(frame, Frame)
    notes: dict[str, object] = {}
    message_notes(frame, context, notes)
    return notes


def test_frame_notes_of_the_messages_that_have_some() -> None:
    known = FrameContext(1, ID)
    assert _notes(RUNTIME, 0x0000, pb.StartMessage(id=ID), FrameContext()) == {
        "invocation_id": invocation_id_text(ID)
    }
    assert _notes(SDK, 0x0C03, pb.AwakeableEntryMessage(), known) == {
        "awakeable_id": awakeable_id(ID, 1)
    }
    assert _notes(SDK, 0x0C03, pb.AwakeableEntryMessage(), FrameContext()) == {}
    completes = _notes(SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id=awakeable_id(ID, 3)), known)
    assert completes["awakeable"] == {
        "invocation_id": invocation_id_text(ID),
        "invocation_id_bytes": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
        "entry_index": 3,
    }
    assert _notes(SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="nope"), known) == {}
    assert _notes(
        SDK, 0x0C02, pb.OneWayCallEntryMessage(service_name="S", handler_name="h"), known
    ) == {"target": "S/h"}
    error = pb.ErrorMessage(code=571, related_entry_type=0x0C01)
    assert _notes(SDK, 0x0003, error, known) == {
        "meaning": "the SDK received a message it did not expect in its state",
        "related_entry_type_name": "CallEntryMessage",
    }
    assert _notes(SDK, 0x0003, pb.ErrorMessage(code=500, related_entry_type=0x7777), known) == {
        "related_entry_type_name": None
    }
    assert _notes(SDK, 0x0005, pb.EndMessage(), known) == {}


def _lone(*items: tuple[Direction, int, object, int]) -> AttemptJournal:
    attempt, numbering = AttemptJournal(StreamKey("lone")), EntryNumbering()
    for direction, kind, message, flags in items:
        (frame,) = read_all(encode_frame(kind, message, flags), direction=direction)  # type: ignore[arg-type]
        assert isinstance(frame, Frame)
        attempt.add(numbering.number(frame))
    attempt.finish()
    return attempt


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
    attempt = _lone(
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
    errors = _lone((SDK, 0x0003, pb.ErrorMessage(code=1), 0))
    assert _summaries(errors) == ["1"]
    nothing = _lone((SDK, 0x0002, pb.SuspensionMessage(), 0))
    assert _summaries(nothing) == ["waits on nothing"]


def test_entry_annotations_of_the_plainer_shapes() -> None:
    shapes = (
        (SDK, 0x0C01, pb.CallEntryMessage(service_name="S", handler_name="h"), 0),
        (SDK, 0x0C00, pb.SleepEntryMessage(), 0),
        (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="not-an-id"), 0),
        (SDK, 0x0C03, pb.AwakeableEntryMessage(), 0),
    )
    attempt = _lone((RUNTIME, 0x0000, pb.StartMessage(id=ID), 0), *shapes)
    assert [entry_annotations(e, attempt) for e in attempt.entries.values()] == [
        {"target": "S/h"},
        {},
        {},
        {"awakeable_id": awakeable_id(ID, 3)},
    ]
    alone = _lone(*shapes)
    frames = [m.item.frame for m in alone.timeline if isinstance(m.item, DecodedFrame)]
    assert summary(frames[3], None, alone) == ""  # no StartMessage: no index, no id
    start = _lone(
        (RUNTIME, 0x0000, pb.StartMessage(id=ID, known_entries=0), 0),
        (SDK, 0x0C00, pb.SleepEntryMessage(wake_up_time=5), 0),
    )
    assert entry_annotations(start.entries[0], start) == {
        "wake_up_time": "1970-01-01T00:00:00.005Z"  # no capture time: no sleep_ms
    }


def test_error_notes_without_meaning_or_related_type() -> None:
    assert _notes(SDK, 0x0003, pb.ErrorMessage(code=500), FrameContext()) == {}


def test_the_view_finds_each_frames_entry_and_where_it_leads() -> None:
    from restate_inspect.protocol import view_of

    view = view_of(ATTEMPT)
    assert view is VIEW
    own = [view.entry_at(ATTEMPT, d) for d in DECODED]
    assert own[0] is None and own[1] is ATTEMPT.entries[0]
    completion = DECODED[18]  # completes entry 6, the GetStateKeys
    assert own[18] is None and view.named(ATTEMPT, completion, None) is ATTEMPT.entries[6].frame
    assert view.column(completion, None) == "#6" and view.column(DECODED[0], None) == ""
    relations = [view.relations(ATTEMPT, d, e) for d, e in zip(DECODED, own, strict=True)]
    assert relations[18] == ["completes entry #6 GetStateKeysEntryMessage at -11000.0 ms"]
    assert relations[17] == ["acks entry #15 RunEntryMessage at -1000.0 ms"]
    assert relations[7] == ["completed by CompletionMessage at +11000.0 ms"]
    assert relations[9] == ["came completed (COMPLETED flag): no CompletionMessage to wait for"]
    assert relations[10] == ["not completed in this attempt"]
    assert relations[16] == ["acked by EntryAckMessage at +1000.0 ms"]
    assert [e.index for e in view.entries(ATTEMPT)] == sorted(ATTEMPT.entries)
    assert view.answer(ATTEMPT, DECODED[7], own[7]) is DECODED[18].frame
    assert view.answer(ATTEMPT, completion, None) is None


def test_the_view_of_an_entry_named_but_not_there() -> None:
    fields = VIEW.entry_fields(ATTEMPT.entries[9])
    assert (fields["completable"], fields["completed"], fields["acked"]) == (True, False, None)
    error = VIEW.attempt_fields(ATTEMPT)["error"]
    assert error["related_entry"] == "#12 CallEntryMessage"
    missing = pb.CompletionMessage(entry_index=99, value=b"1")
    (frame,) = read_all(encode_frame(0x0001, missing), direction=RUNTIME)
    assert isinstance(frame, Frame)
    decoded = DecodedFrame(frame, FrameContext(99))
    assert VIEW.relations(ATTEMPT, decoded, None) == [
        "names entry #99, which this attempt does not have"
    ]


def test_an_entry_awaiting_its_ack_says_so() -> None:
    attempt, numbering = AttemptJournal(StreamKey("t")), EntryNumbering()
    start = pb.StartMessage(id=ID, debug_id="inv_1x", known_entries=1)
    run = pb.RunEntryMessage(value=b"1")
    for direction, kind, message, flags in (
        (RUNTIME, 0x0000, start, 0), (RUNTIME, 0x0400, pb.InputEntryMessage(), 0),
        (SDK, 0x0C05, run, 0x8000),
    ):  # fmt: skip
        (frame,) = read_all(encode_frame(kind, message, flags), direction=direction)
        assert isinstance(frame, Frame)
        attempt.add(numbering.number(frame._replace(time=1.0)))
    entry = attempt.entries[1]
    assert VIEW.relations(attempt, DecodedFrame(entry.frame, FrameContext(1)), entry) == [
        "REQUIRES_ACK, and no EntryAckMessage came"
    ]


def test_awakeables_that_cannot_be_linked_yield_nothing() -> None:
    attempt, numbering = AttemptJournal(StreamKey("t")), EntryNumbering()
    start = pb.StartMessage(id=ID, debug_id="inv_1x", known_entries=1).SerializeToString()
    for direction, kind, body in (
        (RUNTIME, 0x0000, start),
        (SDK, 0x0C03, b"\xff"),  # an Awakeable whose body does not parse
        (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="not-an-id").SerializeToString()),
    ):
        frame = next(f for f in read_all(encode_frame(kind, body), direction=direction)
                     if isinstance(f, Frame))  # fmt: skip
        attempt.add(numbering.number(frame._replace(time=1.0)))
    assert list(attempt.linkables()) == []


def test_an_awakeable_and_a_completion_of_one_may_be_linked() -> None:
    awakeable, completer = ATTEMPT.linkables()
    assert (awakeable.token, awakeable.sends, awakeable.label) == (
        (invocation_id_text(ID), 1), False, "entry 1",
    )  # fmt: skip
    assert (completer.token, completer.sends) == ((invocation_id_text(ID), 2), True)


def test_the_wait_tree_of_a_suspension() -> None:
    suspension = pb.SuspensionMessage(entry_indexes=[7, 12, 15, 40])
    (frame,) = read_all(encode_frame(0x0002, suspension), direction=SDK)
    assert isinstance(frame, Frame)
    decoded = DecodedFrame(frame, FrameContext())
    assert VIEW.wait_tree(ATTEMPT, decoded) == [
        "any of",
        "  entry #7 GetPromiseEntryMessage · completed +11000.0ms",
        "  entry #12 CallEntryMessage · completed +7000.0ms",
        "  entry #15 RunEntryMessage · acked +1000.0ms",
        "  entry #40 · not in this attempt",
    ]
    assert VIEW.wait_tree(ATTEMPT, DECODED[0]) == []
