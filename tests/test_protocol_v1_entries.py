"""What a V1-V3 entry says to a human: its badges, its annotations (journal --json), and
the view that finds each frame's entry and where it leads."""

from __future__ import annotations

import copy

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.framing import encode_frame
from restate_inspect.location import StreamKey
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.entries import VIEW, badges, entry_annotations
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.numbering import EntryNumbering
from restate_inspect.protocol.v1.summaries import summary
from restate_inspect.values import awakeable_id, invocation_id_text
from tests.helpers import read_all
from tests.v1_conversation import (
    ATTEMPT,
    DECODED,
    ID,
    RUNTIME,
    SDK,
    lone,
)


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


def test_entry_annotations_of_the_plainer_shapes() -> None:
    shapes = (
        (SDK, 0x0C01, pb.CallEntryMessage(service_name="S", handler_name="h"), 0),
        (SDK, 0x0C00, pb.SleepEntryMessage(), 0),
        (SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="not-an-id"), 0),
        (SDK, 0x0C03, pb.AwakeableEntryMessage(), 0),
    )
    attempt = lone((RUNTIME, 0x0000, pb.StartMessage(id=ID), 0), *shapes)
    assert [entry_annotations(e, attempt) for e in attempt.entries.values()] == [
        {"target": "S/h"},
        {},
        {},
        {"awakeable_id": awakeable_id(ID, 3)},
    ]
    alone = lone(*shapes)
    frames = [m.item.frame for m in alone.timeline if isinstance(m.item, DecodedFrame)]
    assert summary(frames[3], None, alone) == ""  # no StartMessage: no index, no id
    start = lone(
        (RUNTIME, 0x0000, pb.StartMessage(id=ID, known_entries=0), 0),
        (SDK, 0x0C00, pb.SleepEntryMessage(wake_up_time=5), 0),
    )
    assert entry_annotations(start.entries[0], start) == {
        "wake_up_time": "1970-01-01T00:00:00.005Z"  # no capture time: no sleep_ms
    }


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
