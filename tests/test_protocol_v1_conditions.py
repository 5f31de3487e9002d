"""Every V1-V3 journal rule's condition: a minimal attempt, built with the encoder, that
breaks exactly that rule and gets exactly its finding; and its clean twin, which gets none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from restate_inspect.events import Chunk, DecodedFrame, StreamInfo
from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.location import StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol import attempt as attempt_module
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.conditions import IN_FLIGHT
from restate_inspect.rules import RULES, Problem
from tests.attempts import (
    V1,
    Attempt,
    R,
    S,
    Step,
    assert_same_for_a_pair,
    built,
    events,
    findings,
)

ID = bytes(range(24))
V2 = "application/vnd.restate.invocation.v2"


def start(known: int = 1, **fields: Any) -> bytes:
    return encode_frame(
        0x0000, pb.StartMessage(id=ID, debug_id="inv_test", known_entries=known, **fields)
    )


INPUT = encode_frame(0x0400, pb.InputEntryMessage(value=b'"in"'))
OUTPUT = encode_frame(0x0401, pb.OutputEntryMessage(value=b'"out"'))
END = encode_frame(0x0005)
SET = encode_frame(0x0801, pb.SetStateEntryMessage(key=b"k", value=b"1"))
SLEEP = encode_frame(0x0C00, pb.SleepEntryMessage(wake_up_time=1_700_000_000_000))
SLEPT = encode_frame(
    0x0C00, pb.SleepEntryMessage(wake_up_time=1_700_000_000_000, empty=pb.Empty()), 0x0001
)
RUN = encode_frame(0x0C05, pb.RunEntryMessage(value=b"1"), 0x8000)
GET = encode_frame(0x0800, pb.GetStateEntryMessage(key=b"k", value=b"1"), 0x0001)


def completion(index: int) -> bytes:
    return encode_frame(0x0001, pb.CompletionMessage(entry_index=index, empty=pb.Empty()))


def ack(index: int) -> bytes:
    return encode_frame(0x0004, pb.EntryAckMessage(entry_index=index))


def suspension(*indexes: int) -> bytes:
    return encode_frame(0x0002, pb.SuspensionMessage(entry_indexes=indexes))


def error(code: int, **fields: Any) -> bytes:
    return encode_frame(0x0003, pb.ErrorMessage(code=code, message="boom", **fields))


CLEAN: list[Step] = [(R, start(1)), (R, INPUT), (S, OUTPUT), (S, END)]


def test_a_clean_attempt_has_no_findings() -> None:
    assert findings(Attempt(CLEAN)) == []
    assert findings(Attempt(CLEAN, http=None)) == []
    assert findings(Attempt(CLEAN, http="HTTP/1.1", request_type=V2, response_type=V2)) == []


def _with(*steps: Step, **options: Any) -> Attempt:
    return Attempt(list(steps), **options)


# (code, the attempt(s) that break the rule, the clean twin(s))
CASES: list[tuple[str, Callable[[], list[Attempt]], Callable[[], list[Attempt]]]] = [
    ("RI201", lambda: [_with((R, INPUT), (S, OUTPUT), (S, END))], lambda: [_with(*CLEAN)]),
    ("RI202", lambda: [_with(*CLEAN[:2], (R, start(1)), *CLEAN[2:])], lambda: [_with(*CLEAN)]),
    ("RI202", lambda: [_with(*CLEAN[:2], (R, END), *CLEAN[2:])], lambda: [_with(*CLEAN)]),
    (
        "RI203",
        lambda: [_with((R, start(2)), (R, INPUT), (S, OUTPUT), (S, END), http=None)],
        lambda: [_with(*CLEAN, http=None)],
    ),
    ("RI203", lambda: [_with(*CLEAN[:2], (R, SET), *CLEAN[2:])], lambda: [_with(*CLEAN)]),
    (
        "RI204",
        lambda: [_with((R, start(2)), (R, INPUT), (S, SET), (R, SET), (S, OUTPUT), (S, END))],
        lambda: [_with((R, start(2)), (R, INPUT), (R, SET), (S, SET), (S, OUTPUT), (S, END))],
    ),
    ("RI205", lambda: [_with(*CLEAN[:3])], lambda: [_with(*CLEAN)]),
    (  # the SDK reset the stream without a terminal message
        "RI205",
        lambda: [_with(*CLEAN[:3], ends=("reset", "reset"), reset_by=S)],
        lambda: [_with(*CLEAN, ends=("reset", "reset"), reset_by=S)],
    ),
    ("RI206", lambda: [_with(*CLEAN, (S, SET))], lambda: [_with(*CLEAN)]),
    ("RI207", lambda: [_with(*CLEAN[:3], ends=("end", "capture"))], lambda: [_with(*CLEAN)]),
    ("RI208", lambda: [_with(*CLEAN, status="500")], lambda: [_with(*CLEAN)]),
    ("RI208", lambda: [_with(*CLEAN, response_type=V2)], lambda: [_with(*CLEAN)]),
    (
        "RI208",
        lambda: [_with(*CLEAN, response_type=V2 + "; charset=utf-8")],
        lambda: [_with(*CLEAN, response_type=V1.upper() + "; charset=utf-8")],
    ),
    (
        "RI208",
        lambda: [_with(*CLEAN, request_type=None, status="500")],
        lambda: [_with(*CLEAN, request_type=None)],  # the request's head was not captured
    ),
    ("RI209", lambda: [_with(*CLEAN[:3], (S, completion(0)), (S, END))], lambda: [_with(*CLEAN)]),
    ("RI210", lambda: [_with(*CLEAN[:2], (R, completion(7)), *CLEAN[2:])], lambda: [_with(*CLEAN)]),
    (
        "RI211",
        lambda: [_with(*CLEAN[:2], (S, SET), (R, completion(1)), *CLEAN[2:])],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (R, completion(1)), *CLEAN[2:])],
    ),
    (
        "RI212",
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (R, completion(1)), (R, completion(1)), *CLEAN[2:])],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (R, completion(1)), *CLEAN[2:])],
    ),
    (
        "RI213",
        lambda: [
            _with((R, start(3)), (R, INPUT), (R, SLEEP), (R, completion(1)), (R, SET), *CLEAN[2:])
        ],
        lambda: [
            _with((R, start(3)), (R, INPUT), (R, SLEEP), (R, SET), (R, completion(1)), *CLEAN[2:])
        ],
    ),
    (
        "RI214",
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), *CLEAN[2:], http="HTTP/1.1")],
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), *CLEAN[2:])],
    ),
    (
        "RI215",
        lambda: [_with(*CLEAN[:2], (S, SET), (R, ack(1)), *CLEAN[2:])],
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), *CLEAN[2:])],
    ),
    (
        "RI215",
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), (R, ack(1)), *CLEAN[2:])],
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), *CLEAN[2:])],
    ),
    (
        "RI216",
        lambda: [
            _with(
                *CLEAN[:2],
                (S, encode_frame(0x0800, pb.GetStateEntryMessage(key=b"k"), 1)),
                *CLEAN[2:],
            )
        ],
        lambda: [_with(*CLEAN[:2], (S, GET), *CLEAN[2:])],
    ),
    (
        "RI216",
        lambda: [
            _with(
                *CLEAN[:2],
                (S, encode_frame(0x0800, pb.GetStateEntryMessage(key=b"k", value=b"1"))),
                *CLEAN[2:],
            )
        ],
        lambda: [_with(*CLEAN[:2], (S, GET), *CLEAN[2:])],
    ),
    (
        "RI220",
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension()))],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension(1)))],
    ),
    (
        "RI221",
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension(5)))],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension(1)))],
    ),
    (
        "RI222",
        lambda: [_with(*CLEAN[:2], (S, SLEPT), (S, suspension(1)))],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension(1)))],
    ),
    (
        "RI223",
        lambda: [_with(*CLEAN[:2], (S, SET), (S, suspension(1)))],
        lambda: [_with(*CLEAN[:2], (S, RUN), (S, suspension(1)))],  # a Run awaiting its ack
    ),
    (  # the completion was captured 1 ms before the suspension: it was on its way
        "RI224",
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (R, completion(1)), (S, suspension(1)))],
        lambda: [_with(*CLEAN[:2], (S, SLEEP), (S, suspension(1)))],
    ),
    (
        "RI224",
        lambda: [_with(*CLEAN[:2], (S, RUN), (R, ack(1)), (S, suspension(1)))],
        lambda: [_with(*CLEAN[:2], (S, RUN), (S, suspension(1)))],
    ),
    (
        "RI230",
        lambda: [_with(*CLEAN[:2], (S, error(570, related_entry_index=0)))],
        lambda: [_with(*CLEAN)],
    ),
    ("RI231", lambda: [_with(*CLEAN[:2], (S, error(571)))], lambda: [_with(*CLEAN)]),
    (
        "RI232",
        lambda: [_with(*CLEAN[:2], (S, error(500, related_entry_index=0xFFFFFFFF)))],
        lambda: [_with(*CLEAN)],
    ),
    (
        "RI233",
        lambda: [
            _with(
                *CLEAN[:2],
                (S, encode_frame(0x0401, pb.OutputEntryMessage(failure=pb.Failure(code=409)))),
                (S, END),
            )
        ],
        lambda: [_with(*CLEAN)],
    ),
    (
        "RI240",
        lambda: [
            _with(*CLEAN[:2], (S, SET), (S, SLEEP), (S, suspension(2))),
            _with(
                (R, start(3)),
                (R, INPUT),
                (R, encode_frame(0x0801, pb.SetStateEntryMessage(key=b"other"))),
                (R, SLEPT),
                *CLEAN[2:],
                stream="s3",
            ),
        ],
        lambda: [
            _with(*CLEAN[:2], (S, SET), (S, SLEEP), (S, suspension(2))),
            _with((R, start(3)), (R, INPUT), (R, SET), (R, SLEPT), *CLEAN[2:], stream="s3"),
        ],
    ),
    (
        "RI240",
        lambda: [
            _with(*CLEAN[:2], (S, SLEEP), (S, suspension(1))),
            _with((R, start(2)), (R, INPUT), (R, SET), *CLEAN[2:], stream="s3"),
        ],
        lambda: [
            _with(*CLEAN[:2], (S, SLEEP), (S, suspension(1))),
            _with(
                (R, start(2)), (R, INPUT), (R, SLEPT), *CLEAN[2:], stream="s3"
            ),  # a Sleep by name
        ],
    ),
    (  # a retry after an End the runtime did not take; the same id begun anew is none
        "RI244",
        lambda: [
            _with(*CLEAN),
            _with((R, start(2)), (R, INPUT), (R, OUTPUT), (S, END), stream="s3"),
        ],
        lambda: [_with(*CLEAN), _with(*CLEAN, stream="s3")],
    ),
    (  # the runtime reset the stream before the SDK ended: an abort (kill, timeout)
        "RI242",
        lambda: [_with(*CLEAN[:3], ends=("reset", "reset"), reset_by=R)],
        lambda: [_with(*CLEAN, ends=("end", "reset"), reset_by=R)],
    ),
    (
        "RI241",
        lambda: [_with((R, start(1, retry_count_since_last_stored_entry=2)), *CLEAN[1:])],
        lambda: [
            _with(
                (R, start(1, retry_count_since_last_stored_entry=2)),
                *CLEAN[1:],
                request_type=V2,
                response_type=V2,
            )
        ],
    ),
]


def test_how_a_runtime_talks_is_said_once_for_its_connection() -> None:
    """RI241 on two attempts of one connection: one finding, on the first; each alone has
    its own."""
    retry = (R, start(1, retry_count_since_last_stored_entry=2))
    other = pb.StartMessage(id=bytes(24), known_entries=1, retry_count_since_last_stored_entry=2)
    first = _with(retry, *CLEAN[1:])
    second = _with((R, encode_frame(0x0000, other)), *CLEAN[1:], stream="s3")  # another invocation
    assert findings(first, second) == ["RI241"]
    assert findings(second) == ["RI241"]


@pytest.mark.parametrize(("code", "broken", "clean"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_finds_exactly_its_breach(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    assert findings(*broken()) == [code]
    assert findings(*clean()) == []


@pytest.mark.parametrize(
    ("entry", "answer", "code"), [(SLEEP, completion(1), "RI222"), (RUN, ack(1), "RI223")]
)
def test_a_suspension_on_what_was_answered_long_before_breaks_the_rule(
    entry: bytes, answer: bytes, code: str
) -> None:
    """An answer captured more than IN_FLIGHT before the suspension had arrived: the SDK
    suspended on an entry it had the completion (or ack) of."""
    items = events(_with(*CLEAN[:2], (S, entry), (R, answer), (S, suspension(1))))
    last = max(i for i, item in enumerate(items) if isinstance(item, Chunk))
    moved = items[last]
    assert isinstance(moved, Chunk) and moved.time is not None
    items[last] = moved._replace(time=moved.time + IN_FLIGHT + 0.001)
    (invocation,) = [i for i in invocations(decode_events(items)) if isinstance(i, Invocation)]
    assert [f.code for f in invocation.attempts[0].all_findings()] == [code]


def test_every_journal_rule_has_a_case() -> None:
    journal_rules = {code for code in RULES if code.startswith("RI2")}
    # RI243 needs a smaller MOST_MOMENTS: its test is the next one; RI225 the time a body
    # ended, which these attempts do not give: its test is in test_protocol_attempt.py
    assert journal_rules == {case[0] for case in CASES} | {"RI243", "RI225"}


def test_an_attempt_longer_than_it_keeps_counts_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames past MOST_MOMENTS are counted, not kept: the attempt is not said unended (its
    end may be among them), and the summary counts every frame."""
    monkeypatch.setattr(attempt_module, "MOST_MOMENTS", len(CLEAN) + 2)
    assert findings(_with(*CLEAN[:3], (S, SET), (S, SET), CLEAN[3])) == []  # just what it keeps
    longer = _with(*CLEAN[:3], (S, SET), (S, SET), (S, SET), CLEAN[3])
    (invocation,) = built(longer)
    (attempt,) = invocation.attempts
    (finding,) = attempt.all_findings()
    assert finding.code == "RI243" and finding.direction is S
    # the first frame not kept is the End, after the SDK's Output and three SetStates
    assert finding.offset == len(OUTPUT + SET * 3)
    assert "1 frame more" in finding.message and "0 problems more" in finding.message
    assert len(list(attempt.frames())) == 6 and attempt.excess.frames == 1
    assert attempt.ending_text == "not read to its end: more than 6 frames (RI243)"
    assert findings(_with(*CLEAN[:3], (S, SET), (S, SET), (S, SET), CLEAN[3], http=None)) == [
        "RI243"
    ]
    (invocation,) = built(_with(*CLEAN[:3], (S, SET), (S, SET), (S, SET), (S, 5), CLEAN[3]))
    (finding,) = invocation.attempts[0].all_findings()
    assert "1 frame more" in finding.message and "1 problem more" in finding.message


def test_rules_say_what_they_saw() -> None:
    (invocation,) = [
        i
        for i in invocations(
            decode_events(
                events(
                    _with(
                        *CLEAN[:2], (S, error(570, related_entry_index=0, related_entry_name="x"))
                    )
                )
            )
        )
        if isinstance(i, Invocation)
    ]
    (finding,) = invocation.attempts[0].all_findings()
    assert finding.message.startswith("ErrorMessage 570 JOURNAL_MISMATCH: boom")
    assert (
        "could not replay the journal" in finding.message
        and "#0 InputEntryMessage 'x'" in finding.message
    )
    assert (finding.invocation_id, finding.attempt, finding.entry_index, finding.direction) == (
        "inv_test",
        1,
        0,
        S,
    )
    assert finding.severity.value == "error"


# --- protocol versions ---------------------------------------------------------------------

V3 = "application/vnd.restate.invocation.v3"
V9 = "application/vnd.restate.invocation.v9"  # a version no family reads
# V2 frames that break RI210 and RI203, and carry a V3-only entry type (RI106 in V2)
BREACHES = [*CLEAN[:2], (R, completion(7)), (R, SET), (S, encode_frame(0x0C06)), *CLEAN[2:]]


def reported(*attempts: Attempt) -> list[str]:
    """The codes of everything said about the attempts: the readers' and the decoder's
    problems in their timelines, and the rules' findings."""
    codes = []
    for item in invocations(decode_events(events(*attempts))):
        assert isinstance(item, Invocation)
        for attempt in item.attempts:
            for moment in attempt.timeline:
                if isinstance(moment.item, Problem):
                    codes.append(moment.item.code)
                codes += [finding.code for finding in moment.findings]
    return codes


def test_a_version_that_is_not_interpreted_is_said_once_and_nothing_is_checked() -> None:
    interpreted = reported(_with(*BREACHES, request_type=V2, response_type=V2))
    assert sorted(interpreted) == ["RI106", "RI203", "RI210"]
    assert reported(_with(*BREACHES, (R, start(1)), request_type=V9, response_type=V9)) == ["RI114"]
    assert reported(_with(*CLEAN, request_type=V9, response_type=V9)) == ["RI114"]


def test_a_version_that_is_not_interpreted_keeps_its_start_and_says_how_it_ended() -> None:
    twice = _with(*CLEAN, (R, start(5)), request_type=V9, response_type=V9, status="500")
    (invocation,) = invocations(decode_events(events(twice)))
    assert isinstance(invocation, Invocation)
    (attempt,) = invocation.attempts
    assert invocation.invocation_id == "inv_test" and not attempt.interpreted
    assert attempt.known_entries == 1  # the first StartMessage
    assert attempt.ending_text == "not interpreted (protocol V9)"
    assert [m.item.entry_index for m in attempt.timeline if isinstance(m.item, DecodedFrame)] == [
        None
    ] * 5
    # what HTTP says still holds: the SDK answered 500
    assert [f.code for f in attempt.all_findings()] == ["RI208"]


def test_v3_entry_types_are_at_home_in_a_v3_stream() -> None:
    cancel = [*CLEAN[:2], (S, encode_frame(0x0C06)), *CLEAN[2:]]
    assert reported(_with(*cancel, request_type=V2, response_type=V2)) == ["RI106"]
    assert reported(_with(*cancel, request_type=V3, response_type=V3)) == []


# --- bytes the capture lost -----------------------------------------------------------------


def said(*attempts: Attempt) -> list[tuple[str, str, bool]]:
    """(code, severity, after_loss) of everything said about the attempts, in order."""
    out = []
    for item in invocations(decode_events(events(*attempts))):
        assert isinstance(item, Invocation)
        for attempt in item.attempts:
            for moment in attempt.timeline:
                things = [moment.item] if isinstance(moment.item, Problem) else []
                for thing in things + moment.findings:
                    out.append((thing.code, thing.severity.value, thing.after_loss))
    return out


def test_findings_that_lost_bytes_may_explain_count_as_info() -> None:
    """The SDK's Sleep (entry 1) is lost: its completion names an entry never seen."""
    lost_entry = [*CLEAN[:2], (S, 30), (R, completion(1)), *CLEAN[2:]]
    assert said(_with(*lost_entry)) == [
        ("RI111", "error", False),  # the loss itself stays an error
        ("RI210", "info", True),
    ]
    (invocation,) = invocations(decode_events(events(_with(*lost_entry))))
    assert isinstance(invocation, Invocation)
    (finding,) = invocation.attempts[0].all_findings()
    assert finding.message.endswith("which may explain it")


def test_what_came_before_the_loss_in_its_own_direction_keeps_its_severity() -> None:
    before = [*CLEAN[:3], (S, completion(0)), (S, 30), (S, END)]
    assert said(_with(*before)) == [("RI209", "error", False), ("RI111", "error", False)]


def test_a_loss_in_the_other_direction_may_explain_what_came_before_it() -> None:
    """The runtime completes entry 1: the SDK sent it, in bytes the capture lost, but
    the capture can tell that only later."""
    late = [*CLEAN[:2], (R, completion(1)), (S, 30), *CLEAN[2:]]
    assert said(_with(*late)) == [("RI210", "info", True), ("RI111", "error", False)]


def test_an_attempt_that_lost_bytes_and_has_no_end_may_have_lost_it() -> None:
    assert said(_with(*CLEAN[:3], (S, 10))) == [
        ("RI111", "error", False),
        ("RI205", "info", True),
    ]


def test_what_the_sdk_itself_reports_holds_whatever_was_lost() -> None:
    mismatch = [*CLEAN[:2], (S, 10), (S, error(570, related_entry_index=0))]
    assert said(_with(*mismatch)) == [("RI111", "error", False), ("RI230", "error", False)]


def test_a_replay_mismatch_after_a_loss_counts_as_info() -> None:
    first = _with(*CLEAN[:2], (S, SLEEP), (S, suspension(1)))
    second = _with((R, start(2)), (R, INPUT), (R, SET), *CLEAN[2:], (S, 5), stream="s3")
    assert ("RI240", "info", True) in said(first, second)
    clean_second = _with((R, start(2)), (R, INPUT), (R, SET), *CLEAN[2:], stream="s3")
    assert ("RI240", "error", False) in said(first, clean_second)


def test_other_http_with_a_restate_media_type_is_not_read_as_a_stream() -> None:
    """A GET that carries a Restate media type is no invocation: nothing to say about it;
    an invocation of a version no family reads is said so."""
    from restate_inspect.pipeline import Decoding

    key = StreamKey("tcp0", "s1")
    headers = (("content-type", V9),)
    info = StreamInfo(key, "other", "a -> b", "HTTP/2", 1.0, 1, "GET", "/x", headers)
    assert Decoding().feed(info) == [info]
    invocation = StreamInfo(key, "invocation", "a -> b", "HTTP/2", 1.0, 1, "POST", "/x", headers)
    assert [type(i).__name__ for i in Decoding().feed(invocation)] == ["StreamInfo", "Problem"]


@pytest.mark.parametrize(("code", "broken", "clean"), CASES)
def test_each_rule_fires_the_same_for_a_pair_as_for_a_capture(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    """--request/--response files give the attempt's two bodies without times or HTTP;
    the rules find what they find in a capture, except what only a capture shows."""
    assert_same_for_a_pair(code, broken, clean)
