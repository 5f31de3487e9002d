"""Every V4+ journal rule: a minimal attempt, built with the encoder, that breaks exactly that
rule and gets exactly its finding; and its clean twin, which gets none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol.v4._proto import v5_pb2
from restate_inspect.protocol.v4.journal import AttemptJournal
from restate_inspect.protocol.v4.rules import RULES
from restate_inspect.rules import RULES as CATALOGUE
from tests.attempts import (
    Attempt,
    R,
    S,
    Step,
    assert_same_for_a_pair,
    events,
    findings,
)
from tests.v4_frames import (
    CLEAN,
    END,
    ID,
    INPUT,
    OUTPUT,
    RAN,
    REQUESTED_ACK,
    RUN_ACK,
    SET,
    SLEPT,
    V5,
    attempt,
    error,
    future,
    pb,
    pb7,
    propose,
    replayed,
    run,
    signal,
    sleep,
    slept,
    start,
    suspension,
    v7,
    v7_run,
    v7_suspension,
    value,
)

Case = tuple[str, Callable[[], list[Attempt]], Callable[[], list[Attempt]]]
CASES: list[Case] = [
    ("RI201", lambda: [attempt((R, INPUT), (S, OUTPUT), (S, END))], lambda: [attempt(*CLEAN)]),
    ("RI202", lambda: [attempt(*CLEAN[:2], (R, start()), *CLEAN[2:])], lambda: [attempt(*CLEAN)]),
    ("RI202", lambda: [attempt(*CLEAN[:2], (R, END), *CLEAN[2:])], lambda: [attempt(*CLEAN)]),
    (
        "RI203",
        lambda: [attempt((R, start(2)), (R, INPUT), (S, OUTPUT), (S, END), http=None)],
        lambda: [attempt(*CLEAN, http=None)],
    ),
    (
        "RI204",
        lambda: [attempt(*replayed(2, INPUT), (S, SET), (R, SET), (S, OUTPUT), (S, END))],
        lambda: [attempt(*replayed(2, INPUT, SET), (S, SET), (S, OUTPUT), (S, END))],
    ),
    ("RI205", lambda: [attempt(*CLEAN[:3])], lambda: [attempt(*CLEAN)]),
    ("RI206", lambda: [attempt(*CLEAN, (S, SET))], lambda: [attempt(*CLEAN)]),
    ("RI207", lambda: [attempt(*CLEAN[:3], ends=("end", "capture"))], lambda: [attempt(*CLEAN)]),
    ("RI208", lambda: [attempt(*CLEAN, status="500")], lambda: [attempt(*CLEAN)]),
    ("RI209", lambda: [attempt(*CLEAN[:2], (S, slept()), *CLEAN[2:])], lambda: [attempt(*CLEAN)]),
    (
        "RI214",
        lambda: [attempt(*SLEPT, http="HTTP/1.1")],
        lambda: [attempt(*replayed(3, INPUT, sleep(), slept()), *SLEPT[4:], http="HTTP/1.1")],
    ),
    ("RI230", lambda: [attempt(*CLEAN[:2], (S, error(570)))], lambda: [attempt(*CLEAN)]),
    ("RI231", lambda: [attempt(*CLEAN[:2], (S, error(571)))], lambda: [attempt(*CLEAN)]),
    ("RI232", lambda: [attempt(*CLEAN[:2], (S, error(500)))], lambda: [attempt(*CLEAN)]),
    (
        "RI233",
        lambda: [
            attempt(
                *CLEAN[:2],
                (S, encode_frame(0x0401, pb.OutputCommandMessage(failure=pb.Failure(code=409)))),
                (S, END),
            )
        ],
        lambda: [attempt(*CLEAN)],
    ),
    (
        "RI242",
        lambda: [attempt(*CLEAN[:3], ends=("reset", "reset"), reset_by=R)],
        lambda: [attempt(*CLEAN, ends=("reset", "reset"), reset_by=R)],
    ),
    (
        "RI411",
        lambda: [attempt((R, start(0)), (R, INPUT), *CLEAN[2:])],
        lambda: [attempt(*CLEAN)],
    ),
    (
        "RI413",
        lambda: [attempt(*replayed(2, SET, INPUT), *CLEAN[2:])],
        lambda: [attempt(*replayed(2, INPUT, SET), *CLEAN[2:])],
    ),
    ("RI414", lambda: [attempt(*CLEAN[:2], (R, SET), *CLEAN[2:])], lambda: [attempt(*CLEAN)]),
    (
        "RI415",
        lambda: [
            attempt(
                *CLEAN[:2],
                (S, SET),
                (R, encode_frame(0x0004, pb.CommandAckMessage(command_index=1))),
                *CLEAN[2:],
            )
        ],
        lambda: [
            attempt(
                *CLEAN[:2],
                (S, encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k"), REQUESTED_ACK)),
                (R, encode_frame(0x0004, pb.CommandAckMessage(command_index=1))),
                *CLEAN[2:],
            )
        ],
    ),
    ("RI416", lambda: [v7(*v7_run(RUN_ACK, flags=0))], lambda: [v7(*v7_run(RUN_ACK))]),
    ("RI417", lambda: [attempt(*CLEAN[:2], (R, slept(3)), *CLEAN[2:])], lambda: [attempt(*SLEPT)]),
    (
        "RI417",  # the id is a run's, answered as a sleep's
        lambda: [attempt(*CLEAN[:2], (S, run()), (R, slept()), *CLEAN[2:])],
        lambda: [attempt(*RAN)],
    ),
    (
        "RI418",
        lambda: [
            attempt(
                *SLEPT[:3],
                (R, encode_frame(0x800C, pb.SleepCompletionNotificationMessage(completion_id=1))),
                *SLEPT[4:],
            )
        ],
        lambda: [attempt(*SLEPT)],
    ),
    ("RI419", lambda: [attempt(*SLEPT[:4], (R, slept()), *SLEPT[4:])], lambda: [attempt(*SLEPT)]),
    (
        "RI420",
        lambda: [attempt(*CLEAN[:2], (R, signal(idx=5, void=pb.Void())), *CLEAN[2:])],
        lambda: [attempt(*CLEAN[:2], (R, signal(idx=17, void=pb.Void())), *CLEAN[2:])],
    ),
    (
        "RI420",
        lambda: [attempt(*CLEAN[:2], (R, signal(idx=1, value=value("x"))), *CLEAN[2:])],
        lambda: [attempt(*CLEAN[:2], (R, signal(idx=1, void=pb.Void())), *CLEAN[2:])],
    ),
    (
        "RI423",
        lambda: [attempt(*CLEAN[:2], (S, encode_frame(0xFC01, b"")), *CLEAN[2:])],
        lambda: [attempt(*CLEAN)],
    ),
    (
        "RI424",
        lambda: [attempt(*RAN[:3], (S, propose(failure=None)), *RAN[4:])],
        lambda: [attempt(*RAN)],
    ),
    ("RI424", lambda: [attempt(*RAN[:2], RAN[3], *RAN[5:])], lambda: [attempt(*RAN)]),
    ("RI424", lambda: [attempt(*RAN[:4], (S, propose()), *RAN[4:])], lambda: [attempt(*RAN)]),
    (
        "RI426",
        lambda: [attempt(*SLEPT[:3], (S, suspension()))],
        lambda: [attempt(*SLEPT[:3], (S, suspension(1)))],
    ),
    (
        "RI427",
        lambda: [v7(*v7_suspension(future(1, combinator=9)))],
        lambda: [v7(*v7_suspension(future(1, combinator=2)))],
    ),
    (
        "RI428",
        lambda: [attempt(*SLEPT[:3], (S, suspension(2)))],
        lambda: [attempt(*SLEPT[:3], (S, suspension(1)))],
    ),
    (
        "RI429",
        lambda: [attempt(*SLEPT[:4], (S, suspension(1)))],
        lambda: [attempt(*SLEPT[:3], (S, suspension(1)))],
    ),
    ("RI432", lambda: [attempt(*CLEAN[:2], (S, END))], lambda: [attempt(*CLEAN)]),
    (
        "RI433",
        lambda: [
            attempt(
                *CLEAN[:2],
                (S, encode_frame(0x0002, pb.ErrorMessage(code=500, related_command_type=0x8011))),
            )
        ],
        lambda: [
            attempt(
                *CLEAN[:2],
                (S, encode_frame(0x0002, pb.ErrorMessage(code=500, related_command_type=0x0411))),
            )
        ],
    ),
    (
        "RI433",
        lambda: [attempt(*CLEAN[:2], (S, error(related_command_index=5)))],
        lambda: [attempt(*CLEAN[:2], (S, error(related_command_index=1)))],
    ),
    (
        "RI433",
        lambda: [
            v7(
                (R, start(schema=pb7)),
                (R, INPUT),
                (S, error(schema=pb7, behavior=1, next_retry_delay=5)),
            )
        ],
        lambda: [
            v7(
                (R, start(schema=pb7)),
                (R, INPUT),
                (S, error(schema=pb7, behavior=0, next_retry_delay=5)),
            )
        ],
    ),
    ("RI434", lambda: [attempt(*CLEAN[:2], (S, error(599)))], lambda: [attempt(*CLEAN)]),
    (
        "RI436",
        lambda: [attempt(*CLEAN[:2], (S, sleep(0)), *CLEAN[2:])],
        lambda: [attempt(*CLEAN[:2], (S, sleep(1)), *CLEAN[2:])],
    ),
    (
        "RI436",
        lambda: [attempt(*CLEAN[:2], (S, sleep(1)), (S, run(1)), *CLEAN[2:])],
        lambda: [attempt(*CLEAN[:2], (S, sleep(1)), (S, run(2)), *CLEAN[2:])],
    ),
    (
        "RI442",
        lambda: [
            attempt(
                (R, start(schema=v5_pb2)),
                (R, INPUT),
                (
                    S,
                    encode_frame(
                        0x0401,
                        pb.OutputCommandMessage(
                            failure=pb.Failure(
                                code=409, metadata=[pb.FailureMetadata(key="k", value="v")]
                            )
                        ),
                    ),
                ),
                (S, END),
                content_type=V5,
            )
        ],
        lambda: [attempt((R, start(schema=v5_pb2)), (R, INPUT), *CLEAN[2:], content_type=V5)],
    ),
]


def _exactly(code: str, found: list[str]) -> list[str]:
    """RI233 comes with any Output that fails, RI232 with any ErrorMessage: the finding that
    it failed is not the rule's concern."""
    return [c for c in found if c not in ("RI232", "RI233") or c == code]


@pytest.mark.parametrize(("code", "broken", "clean"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_finds_exactly_its_breach(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    assert _exactly(code, findings(*broken())) == [code]
    assert _exactly(code, findings(*clean())) == []


def test_a_clean_attempt_has_no_findings() -> None:
    for steps in (CLEAN, SLEPT, RAN):
        assert findings(attempt(*steps)) == []
        assert findings(attempt(*steps, http=None)) == []


def test_every_v4_rule_has_a_case() -> None:
    assert {rule.code for rule in RULES} <= {case[0] for case in CASES}
    v4_codes = {code for code in CATALOGUE if code.startswith("RI4")}
    assert v4_codes <= {case[0] for case in CASES}


def test_a_replay_that_differs_from_what_the_sdk_sent_is_a_likely_mismatch() -> None:
    """RI240 across attempts: attempt 2 replays command 1 with another key than attempt 1
    sent; the runtime re-encodes Call and OneWayCall, so fields are compared, not bytes."""
    first = attempt(*CLEAN[:2], (S, SET), (S, error(500)), stream="s1")
    other = encode_frame(0x0403, pb.SetStateCommandMessage(key=b"other", value=value("1")))
    second = attempt(*replayed(2, INPUT, other), *CLEAN[2:], stream="s3")
    same = attempt(*replayed(2, INPUT, SET), *CLEAN[2:], stream="s3")
    assert findings(first, second) == ["RI232", "RI240"]
    assert findings(first, same) == ["RI232"]


@pytest.mark.parametrize(
    ("steps", "where"),
    [
        ([*SLEPT[:4], (R, slept()), *SLEPT[4:]], ("RI419", None, 1)),
        ([*CLEAN[:2], (S, sleep(0)), *CLEAN[2:]], ("RI436", 1, None)),
    ],
)
def test_findings_name_the_command_and_the_completion_id(
    steps: list[Step], where: tuple[str, int | None, int | None]
) -> None:
    (invocation,) = [
        i for i in invocations(decode_events(events(attempt(*steps)))) if isinstance(i, Invocation)
    ]
    (finding,) = invocation.attempts[0].all_findings()
    assert (finding.code, finding.command_index, finding.completion_id) == where


def test_an_awakeable_links_the_signal_to_the_command_that_completed_it() -> None:
    from restate_inspect.values import SIGNAL_PREFIX, awakeable_id

    token = awakeable_id(ID, 17, SIGNAL_PREFIX)
    completing = encode_frame(0x0414, pb.CompleteAwakeableCommandMessage(
        awakeable_id=token, value=value("x")))  # fmt: skip
    other = bytes(reversed(ID))
    sender = [(R, encode_frame(0x0000, pb.StartMessage(id=other, debug_id="inv_other",
                                                       known_entries=1))),
              (R, INPUT), (S, completing), *CLEAN[2:]]  # fmt: skip
    receiver = [*CLEAN[:2], (R, signal(idx=17, value=value("x"))), *CLEAN[2:]]
    built = invocations(decode_events(events(attempt(*sender), attempt(*receiver, stream="s3"))))
    attempts = [i.attempts[0] for i in built if isinstance(i, Invocation)]
    links = [link for a in attempts for e in a.entries.values() for link in e.links]
    assert len(links) == 2
    assert any(link.startswith("completes the awakeable of") for link in links)
    assert any(link.startswith("completed by inv_other command 1") for link in links)
    assert all(isinstance(a, AttemptJournal) for a in attempts)


ACKING = encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k"), REQUESTED_ACK)


def command_ack(index: int) -> bytes:
    return encode_frame(0x0004, pb.CommandAckMessage(command_index=index))


EXTRA_CASES: list[Case] = [
    (
        "RI418",
        lambda: [attempt(*CLEAN[:2], (R, signal(void=pb.Void())), *CLEAN[2:])],
        lambda: [attempt(*CLEAN[:2], (R, signal(idx=17, void=pb.Void())), *CLEAN[2:])],
    ),
    (
        "RI418",  # completion id 0: none (and so allocated by no command either)
        lambda: [attempt(*CLEAN[:2], (R, slept(0)), *CLEAN[2:])],
        lambda: [attempt(*SLEPT)],
    ),
    (
        "RI415",
        lambda: [
            attempt(*CLEAN[:2], (S, ACKING), (R, command_ack(1)), (R, command_ack(1)), *CLEAN[2:])
        ],
        lambda: [attempt(*CLEAN[:2], (S, ACKING), (R, command_ack(1)), *CLEAN[2:])],
    ),
    (
        "RI416",
        lambda: [v7((R, start(2, schema=pb7)), (R, INPUT), (R, RUN_ACK), (R, SET), *CLEAN[2:])],
        lambda: [v7((R, start(2, schema=pb7)), (R, INPUT), (R, SET), *CLEAN[2:])],
    ),
    (
        "RI426",
        lambda: [v7(*v7_suspension(pb7.Future()))],
        lambda: [v7(*v7_suspension(future(1)))],
    ),
]


@pytest.mark.parametrize(("code", "broken", "clean"), EXTRA_CASES, ids=[c[0] for c in EXTRA_CASES])
def test_each_way_to_break_a_rule_finds_exactly_it(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    found = [c for c in _exactly(code, findings(*broken())) if c != "RI417"]  # id 0: both
    assert found == [code]
    assert _exactly(code, findings(*clean())) == []


def test_without_the_replay_a_wait_on_an_unknown_id_is_not_judged() -> None:
    assert findings(attempt((S, sleep()), (S, suspension(5)), http=None)) == []


def test_a_request_given_alone_explains_notifications_for_commands_it_lacks() -> None:
    (invocation,) = [
        i
        for i in invocations(
            decode_events(events(attempt(*CLEAN[:2], (R, slept(1)), http=None, ends=("end", None))))
        )
        if isinstance(i, Invocation)
    ]
    (finding,) = invocation.attempts[0].all_findings()
    assert (finding.code, finding.after_loss) == ("RI417", True)
    assert finding.message.endswith("which may explain it")


@pytest.mark.parametrize(("code", "broken", "clean"), [*CASES, *EXTRA_CASES])
def test_each_rule_fires_the_same_for_a_pair_as_for_a_capture(
    code: str, broken: Callable[[], list[Attempt]], clean: Callable[[], list[Attempt]]
) -> None:
    """--request/--response files give the attempt's two bodies without times or HTTP;
    the rules find what they find in a capture, except what only a capture shows."""
    assert_same_for_a_pair(code, broken, clean)
