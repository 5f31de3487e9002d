"""The journal of a V1-V3 attempt: its ending, its mode, findings decided with what the input
lacks, entries and their keys, stored journals, and runs of alike findings."""

from __future__ import annotations

from restate_inspect.events import DecodedFrame, Frame, FrameContext
from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.journal import AttemptJournal
from restate_inspect.protocol.v1.numbering import EntryNumbering
from restate_inspect.rules import Problem, Severity
from tests.helpers import read_all as decode_all

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def _frames(direction: Direction | None, *wires: bytes) -> list[Frame]:
    events = decode_all(b"".join(wires), direction=direction)
    return [e for e in events if isinstance(e, Frame)]


KEY = StreamKey("tcp0", "s1")


def _timed(direction: Direction | None, wire: bytes, time: float = 1.0) -> list[Frame]:
    """Frames as a capture gives them: with the time of their packet."""
    return [frame._replace(time=time) for frame in _frames(direction, wire)]


def _attempt(*wires: tuple[Direction, bytes], mode: str | None = "HTTP/2") -> AttemptJournal:
    attempt = AttemptJournal(KEY)
    attempt.describe(mode, None, (None, None))
    numbering = EntryNumbering()
    for step, (direction, wire) in enumerate(wires):
        for frame in _timed(direction, wire, 1.0 + step):
            attempt.add(numbering.number(frame))
    return attempt


def _frame_findings(attempt: AttemptJournal) -> list[str]:
    """The codes found about frames, once the attempt is finished (not those of its end)."""
    attempt.finish()
    return [f.code for m in attempt.timeline if m.item is not None for f in m.findings]


START = encode_frame(0x0000, pb.StartMessage(id=b"\x01" * 24, debug_id="inv_x", known_entries=1))
INPUT = encode_frame(0x0400, pb.InputEntryMessage())


def test_ending_text() -> None:
    assert _attempt((RUNTIME, START)).ending_text == "no terminal message"
    assert _attempt((SDK, encode_frame(0x0005))).ending_text == "end"
    suspended = _attempt((SDK, encode_frame(0x0002, pb.SuspensionMessage(entry_indexes=[1, 2]))))
    assert suspended.ending_text == "suspended on #1, #2"
    failed = _attempt((SDK, encode_frame(0x0003, pb.ErrorMessage(code=503))))
    assert (failed.ending_text, failed.outcome) == ("error 503", "error")
    output = pb.OutputEntryMessage(failure=pb.Failure(code=409, message="no"))
    terminal = _attempt((SDK, encode_frame(0x0401, output)), (SDK, encode_frame(0x0005)))
    assert (terminal.ending_text, terminal.ending, terminal.outcome) == (
        "failed 409",
        "end",
        "failed",
    )
    success = pb.OutputEntryMessage(value=b"1")
    done = _attempt((SDK, encode_frame(0x0401, success)), (SDK, encode_frame(0x0005)))
    assert (done.ending_text, done.outcome) == ("end", "end")


def test_an_attempt_without_an_end_says_which_bodies_were_cut_and_how() -> None:
    cut = _attempt((RUNTIME, START))
    cut.end_of(RUNTIME, "capture")
    cut.end_of(SDK, "capture")
    assert cut.ending_text == "no terminal message; request and response cut by the capture's end"
    reset = _attempt((RUNTIME, START))
    reset.end_of(RUNTIME, "end")
    reset.end_of(SDK, "reset")
    assert reset.ending_text == "no terminal message; response reset"


def test_problems_and_frames_without_direction_join_the_timeline_only() -> None:
    attempt = AttemptJournal(KEY)
    attempt.add(Problem("RI101", "cut", 0, 3))
    (frame,) = _frames(None, INPUT)
    attempt.add(DecodedFrame(frame, FrameContext()))
    assert [m.findings for m in attempt.timeline] == [[], []]
    assert attempt.entries == {}
    assert [d.frame for d in attempt.frames()] == [frame]


def test_frames_whose_body_did_not_parse_are_not_judged() -> None:
    broken = encode_frame(0x0005, b"\xff")  # an End whose body does not parse
    attempt = _attempt((RUNTIME, START), (RUNTIME, INPUT), (RUNTIME, broken), (SDK, broken))
    assert _frame_findings(attempt) == []
    assert attempt.ending is None


def test_a_replayed_entry_without_an_index_is_counted_not_kept() -> None:
    attempt = AttemptJournal(KEY)
    (frame,) = _timed(RUNTIME, INPUT)
    attempt.add(DecodedFrame(frame, FrameContext(None, None)))
    assert (attempt.replayed, attempt.entries) == (1, {})


def test_completion_in_request_response_mode_and_ack_for_nothing() -> None:
    sleep = encode_frame(0x0C00, pb.SleepEntryMessage(wake_up_time=1))
    attempt = _attempt(
        (RUNTIME, START),
        (RUNTIME, INPUT),
        (SDK, sleep),
        (RUNTIME, encode_frame(0x0001, pb.CompletionMessage(entry_index=1, empty=pb.Empty()))),
        (RUNTIME, encode_frame(0x0004, pb.EntryAckMessage(entry_index=9))),
        mode="HTTP/1.1",
    )
    assert _frame_findings(attempt) == ["RI214", "RI214", "RI210"]
    assert attempt.entries[1].completed_by == "completion"


def test_the_mode_is_request_response_on_http1_or_when_the_request_ends_first() -> None:
    """On HTTP/2, an endpoint that declared REQUEST_RESPONSE gets the runtime's whole body
    (END_STREAM) before it answers; in bidi mode the runtime keeps its body open."""
    assert AttemptJournal(KEY).request_response is None  # a file: not known
    assert _attempt((RUNTIME, START), mode="HTTP/1.1").request_response is True
    end = encode_frame(0x0005)
    bidi = _attempt((RUNTIME, START), (RUNTIME, INPUT), (SDK, end))
    bidi.end_of(SDK, "end")
    bidi.end_of(RUNTIME, "end")
    assert bidi.request_response is False
    answered_first = _attempt((RUNTIME, START))  # a 404 without a body, before the request ends
    answered_first.end_of(SDK, "end")
    answered_first.end_of(RUNTIME, "end")
    assert answered_first.request_response is False
    whole_request_first = _attempt((RUNTIME, START), (RUNTIME, INPUT))
    whole_request_first.end_of(RUNTIME, "end")
    whole_request_first.add(EntryNumbering().number(_timed(SDK, end, 3.0)[0]))
    assert whole_request_first.request_response is True
    reset = _attempt((RUNTIME, START))  # the runtime aborting is not a mode
    reset.end_of(RUNTIME, "reset", RUNTIME)
    assert reset.request_response is False


def _file_attempt(*wires: tuple[Direction, bytes]) -> AttemptJournal:
    """An attempt read from files: no capture times, no HTTP; each body given ends."""
    attempt, numbering = AttemptJournal(KEY), EntryNumbering()
    for direction, wire in wires:
        for frame in _frames(direction, wire):
            attempt.add(numbering.number(frame))
    for direction in dict.fromkeys(direction for direction, _wire in wires):
        attempt.end_of(direction, "end")
    attempt.finish()
    return attempt


def test_a_request_given_alone_does_not_blame_the_runtime_for_the_sdks_entries() -> None:
    """Its completions name the entries the SDK sent, in the body the input lacks: info."""
    start = encode_frame(0x0000, pb.StartMessage(id=b"\x01" * 24, known_entries=2))
    done = pb.CompletionMessage(entry_index=2, value=b"1")
    replayed = pb.CompletionMessage(entry_index=1, value=b"1")
    request = start + INPUT + encode_frame(0x0001, replayed) + encode_frame(0x0001, done)
    (missing, past) = [
        f for f in _file_attempt((RUNTIME, request)).all_findings() if f.code == "RI210"
    ]
    assert (missing.entry_index, missing.severity) == (1, Severity.ERROR)  # a replayed one
    assert (past.entry_index, past.severity) == (2, Severity.INFO)
    assert past.message.endswith(
        "the SDK's body is not in the input (only the request is), which may explain it"
    )
    both = _file_attempt((RUNTIME, request), (SDK, encode_frame(0x0005)))
    assert [f.severity for f in both.all_findings() if f.code == "RI210"] == [Severity.ERROR] * 2
    lossy, numbering = AttemptJournal(KEY), EntryNumbering()  # bytes lost before: said once
    lossy.add(Problem("RI111", "lost", 0, 0, direction=RUNTIME))
    for frame in _frames(RUNTIME, request):
        lossy.add(numbering.number(frame))
    lossy.end_of(RUNTIME, "end")
    lossy.finish()
    explained = [f.message for f in lossy.all_findings() if f.code == "RI210"]
    assert len(explained) == 2 and all(m.count("may explain it") == 1 for m in explained)


def test_a_response_given_alone_does_not_blame_the_sdk_for_the_runtimes_entries() -> None:
    """Without the StartMessage no entry has an index: a suspension names one the runtime
    sent, in the body the input lacks."""
    suspension = encode_frame(0x0002, pb.SuspensionMessage(entry_indexes=[1]))
    runtimes = encode_frame(0x0004, pb.EntryAckMessage(entry_index=1))  # the SDK must not
    (wrong_sender, alone) = _file_attempt((SDK, runtimes + suspension)).all_findings()
    assert (wrong_sender.code, wrong_sender.severity) == ("RI209", Severity.ERROR)
    assert (alone.code, alone.severity) == ("RI221", Severity.INFO)
    assert alone.message.endswith(
        "the runtime's body is not in the input (only the response is), which may explain it"
    )
    with_request = _file_attempt((RUNTIME, START + INPUT), (SDK, suspension)).all_findings()
    assert [(f.code, f.severity) for f in with_request] == [("RI221", Severity.ERROR)]


def test_bodies_given_the_wrong_way_round_are_told_so() -> None:
    end = encode_frame(0x0005)
    swapped = _file_attempt((RUNTIME, end), (SDK, START + INPUT))
    (no_start,) = [f for f in swapped.all_findings() if f.code == "RI201"]
    assert no_start.message.endswith("are --request and --response swapped?")
    late_start = _file_attempt((RUNTIME, INPUT + START), (SDK, START + INPUT))  # it has one
    for other in (
        _file_attempt((RUNTIME, end), (SDK, end)),
        _file_attempt((RUNTIME, end)),
        late_start,
    ):
        (no_start,) = [f for f in other.all_findings() if f.code == "RI201"]
        assert "swapped" not in no_start.message


def test_a_reset_without_any_of_the_sdks_side_in_the_capture_may_not_be_an_abort() -> None:
    """The SDK's End may be in the side the capture missed; with the response's head
    captured, the runtime did reset before the SDK ended."""
    findings = {}
    for status in (None, "200"):
        attempt = _attempt((RUNTIME, START), (RUNTIME, INPUT))
        attempt.describe("HTTP/2", status, (None, None))
        attempt.end_of(RUNTIME, "reset", RUNTIME)
        attempt.end_of(SDK, "reset", RUNTIME)
        (finding,) = attempt.finish()
        findings[status] = finding
    assert findings[None].code == findings["200"].code == "RI242"
    assert findings[None].message.endswith("which may explain it")
    assert not findings["200"].message.endswith("which may explain it")


def test_related_entry_in_words() -> None:
    attempt = _attempt((RUNTIME, START), (RUNTIME, INPUT))
    read = attempt.related_entry
    assert read(pb.ErrorMessage()) == ""
    assert read(pb.ErrorMessage(related_entry_index=0xFFFFFFFF)) == "before the first entry"
    assert read(pb.ErrorMessage(related_entry_index=0)) == "#0 InputEntryMessage"
    assert (
        read(pb.ErrorMessage(related_entry_index=4, related_entry_type=0x0C05))
        == "#4 RunEntryMessage"
    )
    assert (
        read(pb.ErrorMessage(related_entry_index=4, related_entry_type=0x0C77)) == "#4 type 0x0c77"
    )
    assert read(pb.ErrorMessage(related_entry_index=4, related_entry_name="x")) == "#4 'x'"


def test_an_entry_key_is_made_when_first_asked_for_and_kept() -> None:
    sent = _attempt((RUNTIME, START), (RUNTIME, INPUT)).entries[0]
    assert sent.replay_key is None  # an invocation that ends at once never needs it
    key = sent.comparable_key()
    assert key == sent.replay_key and len(key) == 16
    assert sent.comparable_key() is key
    other = _attempt(
        (RUNTIME, START), (RUNTIME, encode_frame(0x0400, pb.InputEntryMessage(value=b"x")))
    )
    assert other.entries[0].comparable_key() != key


def test_awakeables_and_the_entries_that_complete_them_are_linkable() -> None:
    awakeable = encode_frame(0x0C03, pb.AwakeableEntryMessage())
    complete = encode_frame(0x0C04, pb.CompleteAwakeableEntryMessage(id="x"))
    attempt = _attempt((RUNTIME, START), (RUNTIME, INPUT), (SDK, awakeable + complete))
    assert [e.linkable for e in attempt.entries.values()] == [False, True, True]


def test_the_version_read_is_told_or_the_start_messages() -> None:
    told = _attempt((RUNTIME, START))
    told.protocol_version = 1
    assert told.version_read == 1
    inferred = _attempt((RUNTIME, START))
    assert inferred.version_read == inferred.start_frame.version  # type: ignore[union-attr]
    assert AttemptJournal(KEY).version_read is None


def test_a_stored_v1_journal_reads_as_the_replay_of_all_its_rows() -> None:
    from restate_inspect.protocol.v1 import FAMILY
    from restate_inspect.readers.journaldump import dump_events

    sleep = pb.SleepEntryMessage(wake_up_time=5, empty=pb.Empty()).SerializeToString()
    rows: list[dict[str, object]] = [
        {"id": "inv_x", "index": 0, "entry_type": "Input", "raw": "", "version": 1},
        {"id": "inv_x", "index": 1, "entry_type": "Sleep", "raw": sleep.hex(), "completed": True},
        {"id": "inv_x", "index": 2, "entry_type": "Call", "raw": "0a0153"},
    ]
    (invocation,) = [
        i for i in invocations(decode_events(dump_events(rows))) if isinstance(i, Invocation)
    ]
    stored = invocation.attempts[0]
    assert isinstance(stored, AttemptJournal)
    assert stored.all_findings() == [] and stored.entries[1].completed_by == "entry"
    assert stored.ending_text == "waiting on #2 Call"
    output = pb.OutputEntryMessage(value=b"1").SerializeToString().hex()
    rows.append({"id": "inv_x", "index": 3, "entry_type": "Output", "raw": output})
    (invocation,) = [
        i for i in invocations(decode_events(dump_events(rows))) if isinstance(i, Invocation)
    ]
    assert invocation.attempts[0].ending_text == "completed"
    assert (FAMILY.stored_type("GetState"), FAMILY.stored_type("Nope")) == (0x0800, None)
    assert FAMILY.stored_flags(completed=True) == 0x0001 and FAMILY.stored_flags(False) == 0


def test_frames_in_a_row_that_break_a_rule_alike_are_one_finding() -> None:
    """A million EndMessages after the End were a million findings, all kept."""
    end = encode_frame(0x0005)
    attempt = _attempt((RUNTIME, START), (SDK, end), *[(SDK, end)] * 4)
    attempt.finish()
    (finding,) = [f for f in attempt.all_findings() if f.code == "RI206"]
    assert finding.repeats == 4
    assert "EndMessage after the end message at offset 0x0; and 3 more like it" in finding.message
    output = encode_frame(0x0401, pb.OutputEntryMessage(value=b"1"))
    apart = _attempt((RUNTIME, START), (SDK, end), (SDK, end), (SDK, output), (SDK, end))
    apart.finish()  # another type between: findings of their own
    assert [f.repeats for f in apart.all_findings() if f.code == "RI206"] == [1, 1, 1]


def test_a_frames_problem_repeated_frame_after_frame_is_one_finding() -> None:
    """50,000 frames of an unknown type are one RI105 that counts them, where it began;
    another problem between ends a run, and problems of other kinds are never joined."""
    attempt = AttemptJournal(KEY)

    def problem(code: str, offset: int | None) -> Problem:
        return Problem(code, f"{code} at {offset}", offset, 8, direction=SDK)

    (sleep,) = _timed(SDK, encode_frame(0x0C00, pb.SleepEntryMessage()))
    items: list[DecodedFrame | Problem] = [
        problem("RI105", 0),
        DecodedFrame(sleep, FrameContext()),  # a frame between: the run goes on
        problem("RI105", 8),
        problem("RI105", 16),
        problem("RI107", 24),
        problem("RI105", None),
        problem("RI105", None),
        problem("RI115", 40),
        problem("RI115", 48),
    ]
    for item in items:
        attempt.add(item)
    attempt.finish()
    found = [m.item for m in attempt.timeline if isinstance(m.item, Problem)]
    assert [(p.code, p.repeats, p.to_offset) for p in found] == [
        ("RI105", 3, 16),
        ("RI107", 1, None),
        ("RI105", 2, None),
        ("RI115", 1, None),
        ("RI115", 1, None),
    ]
    assert found[0].message == "RI105 at 0; and 2 more like it, to offset 0x10"
    assert found[2].message.endswith("; and 1 more like it, to the same place")
