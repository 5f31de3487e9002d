"""The V1-V3 rules, as data: which frames each looks at, and its condition (conditions.py).
The catalogue (code, severity, title) is restate_inspect.rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from restate_inspect.events import DecodedFrame
from restate_inspect.location import Direction
from restate_inspect.protocol.attempt import RUNTIME, SDK
from restate_inspect.protocol.timeline import Moment
from restate_inspect.protocol.v1.conditions import (
    Condition,
    EachCondition,
    after_the_end,
    begins_without_start,
    completed_flag_disagrees,
    completed_twice,
    completion_during_replay,
    entry_during_replay,
    from_the_runtime_only,
    from_the_sdk_only,
    live_in_request_response,
    no_such_entry,
    not_completable,
    past_the_replay,
    related_index,
    retry_fields_under_v1,
    sdk_error,
    second_start,
    terminal_failure,
    waits_on_answered,
    waits_on_completed,
    waits_on_missing,
    waits_on_no_answer,
    waits_on_nothing,
    wrong_ack,
)
from restate_inspect.protocol.v1.messages import (
    COMPLETION,
    END,
    ENTRY_ACK,
    ERROR,
    OUTPUT,
    START,
    SUSPENSION,
    V3_TABLE,
)

if TYPE_CHECKING:  # the journal calls these rules: at run time it imports them
    from restate_inspect.protocol.v1.journal import AttemptJournal


class Rule(NamedTuple):
    code: str
    sender: Direction  # whose frames it looks at
    types: frozenset[int] | None  # which (ENTRY: every journal entry); None: every type
    condition: Condition  # given the parsed message: never None when it reads the message
    reads_message: bool = True  # False: it judges the header (a body that does not parse too)


class EachRule(NamedTuple):
    """A rule judged for each entry a frame names: a finding about each entry that breaks it."""

    code: str
    sender: Direction
    types: frozenset[int]
    condition: EachCondition
    entries: Callable[[Any], Iterable[int | None]]  # the entries the message names
    reads_message: bool = True


ANY: Final = None
ENTRY: Final = -1  # in a rule's types: every journal entry, custom ones too
_HEADER: Final = False  # the rule judges the header: a body that does not parse too
_ANSWERS: Final = frozenset({COMPLETION, ENTRY_ACK})


def _waited(message: Any) -> Iterable[int]:
    return message.entry_indexes  # type: ignore[no-any-return]


# fmt: off
RULES: Final[tuple[Rule | EachRule, ...]] = (
    Rule("RI201", RUNTIME, ANY, begins_without_start, _HEADER),
    Rule("RI202", RUNTIME, frozenset({START}), second_start),
    Rule("RI241", RUNTIME, frozenset({START}), retry_fields_under_v1),
    Rule("RI203", RUNTIME, frozenset({ENTRY}), past_the_replay, _HEADER),
    Rule("RI216", RUNTIME, frozenset({ENTRY}), completed_flag_disagrees),
    Rule("RI214", RUNTIME, _ANSWERS, live_in_request_response),
    Rule("RI213", RUNTIME, frozenset({COMPLETION}), completion_during_replay),
    Rule("RI210", RUNTIME, _ANSWERS, no_such_entry),
    Rule("RI211", RUNTIME, frozenset({COMPLETION}), not_completable),
    Rule("RI212", RUNTIME, frozenset({COMPLETION}), completed_twice),
    Rule("RI215", RUNTIME, frozenset({ENTRY_ACK}), wrong_ack),
    Rule("RI202", RUNTIME, frozenset({SUSPENSION, ERROR, END}), from_the_sdk_only),
    Rule("RI204", SDK, frozenset({ENTRY}), entry_during_replay, _HEADER),
    Rule("RI233", SDK, frozenset({OUTPUT}), terminal_failure),
    Rule("RI216", SDK, frozenset({ENTRY}), completed_flag_disagrees),
    Rule("RI220", SDK, frozenset({SUSPENSION}), waits_on_nothing),
    EachRule("RI221", SDK, frozenset({SUSPENSION}), waits_on_missing, _waited),
    EachRule("RI224", SDK, frozenset({SUSPENSION}), waits_on_answered, _waited),
    EachRule("RI222", SDK, frozenset({SUSPENSION}), waits_on_completed, _waited),
    EachRule("RI223", SDK, frozenset({SUSPENSION}), waits_on_no_answer, _waited),
    EachRule("RI230", SDK, frozenset({ERROR}), sdk_error("RI230"), related_index),
    EachRule("RI231", SDK, frozenset({ERROR}), sdk_error("RI231"), related_index),
    EachRule("RI232", SDK, frozenset({ERROR}), sdk_error("RI232"), related_index),
    Rule("RI209", SDK, frozenset({START, COMPLETION, ENTRY_ACK}), from_the_runtime_only),
)
# fmt: on
AFTER_THE_END: Final = Rule("RI206", SDK, ANY, after_the_end, _HEADER)


@cache
def rules_for(sender: Direction, code: int) -> tuple[Rule | EachRule, ...]:
    """The rules that look at a frame of this type from this sender, in the table's order."""
    entry = V3_TABLE.is_entry(code)
    return tuple(
        rule
        for rule in RULES
        if rule.sender is sender
        and (rule.types is None or code in rule.types or (entry and ENTRY in rule.types))
    )


def check(attempt: AttemptJournal, decoded: DecodedFrame, moment: Moment) -> None:
    """Every rule that looks at this frame, on the attempt before it takes the frame in."""
    frame = decoded.frame
    direction = frame.direction
    assert direction is not None
    rules = rules_for(direction, frame.type)
    if direction is SDK and attempt.end_frame is not None:
        rules = (AFTER_THE_END,)  # nothing else the SDK sends then counts
    message = frame.message
    for rule in rules:
        if message is None and rule.reads_message:
            continue  # its body does not parse (RI109): only the header is judged
        if isinstance(rule, EachRule):
            for index in rule.entries(message):
                found = rule.condition(attempt, decoded, message, index)
                if found is not None:
                    attempt.said(moment, rule.code, found, entry_index=index)
            continue
        text = rule.condition(attempt, decoded, message)
        if text is not None:
            attempt.said(moment, rule.code, text)
