"""The V4-V8 rules, as data: which frames each looks at, and its condition (conditions.py).
The catalogue (code, severity, title) is restate_inspect.rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NamedTuple

from restate_inspect.events import DecodedFrame
from restate_inspect.location import Direction
from restate_inspect.protocol.attempt import RUNTIME, SDK, START
from restate_inspect.protocol.timeline import Moment
from restate_inspect.protocol.v4.conditions import (
    Condition,
    after_the_end,
    answered_twice,
    awaits_nothing,
    bad_completion_ids,
    bad_future,
    bad_proposal,
    begins_without_start,
    command_after_replay,
    command_during_replay,
    custom_from_the_sdk,
    end_without_output,
    from_the_runtime_only,
    from_the_sdk_only,
    inconsistent_error,
    later_version_field,
    live_in_request_response,
    never_sent_code,
    no_known_entries,
    replay_without_input,
    reserved_signal,
    sdk_error,
    second_start,
    terminal_failure,
    unallocated,
    waits_on_completed,
    waits_on_unallocated,
    without_id_or_result,
    wrong_command_ack,
    wrong_run_ack,
)
from restate_inspect.protocol.v4.messages import (
    AWAITING_ON,
    COMMAND_ACK,
    END,
    ERROR,
    LATEST,
    OUTPUT,
    PROPOSE_RUN,
    RUN_ACK,
    SIGNAL,
    SUSPENSION,
    is_command,
    is_notification,
)

if TYPE_CHECKING:  # the journal calls these rules: at run time it imports them
    from restate_inspect.protocol.v4.journal import AttemptJournal


class Rule(NamedTuple):
    code: str
    sender: Direction  # whose frames it looks at
    types: frozenset[int] | None  # which; None: every type
    condition: Condition  # given the parsed message: never None when it reads the message
    reads_message: bool = True  # False: it judges the header (a body that does not parse too)


ANY: Final = None
_SDK_ONLY_CONTROL: Final = frozenset({SUSPENSION, ERROR, END, PROPOSE_RUN, AWAITING_ON})
_NOTIFICATIONS: Final = frozenset(t.code for t in LATEST.types if is_notification(t.code))
_COMPLETIONS: Final = _NOTIFICATIONS - {SIGNAL}
_JOURNALED: Final = frozenset(t.code for t in LATEST.types if is_command(t.code)) | _NOTIFICATIONS
_COMMANDS: Final = frozenset(t.code for t in LATEST.types if is_command(t.code))
_WAITS: Final = frozenset({SUSPENSION, AWAITING_ON})

AFTER_THE_END: Final = Rule("RI206", SDK, ANY, after_the_end, reads_message=False)
_HEADER: Final = False  # the rule judges the header: a body that does not parse too
# fmt: off
RULES: Final = (
    Rule("RI201", RUNTIME, ANY, begins_without_start, _HEADER),
    Rule("RI202", RUNTIME, frozenset({START}), second_start, _HEADER),
    Rule("RI411", RUNTIME, frozenset({START}), no_known_entries),
    Rule("RI202", RUNTIME, _SDK_ONLY_CONTROL, from_the_sdk_only, _HEADER),
    Rule("RI413", RUNTIME, _JOURNALED, replay_without_input, _HEADER),
    Rule("RI414", RUNTIME, _COMMANDS, command_after_replay, _HEADER),
    Rule("RI214", RUNTIME, _NOTIFICATIONS, live_in_request_response, _HEADER),
    Rule("RI417", RUNTIME, _COMPLETIONS, unallocated),
    Rule("RI418", RUNTIME, _NOTIFICATIONS, without_id_or_result),
    Rule("RI419", RUNTIME, _NOTIFICATIONS, answered_twice),
    Rule("RI420", RUNTIME, frozenset({SIGNAL}), reserved_signal),
    Rule("RI415", RUNTIME, frozenset({COMMAND_ACK}), wrong_command_ack),
    Rule("RI416", RUNTIME, frozenset({RUN_ACK}), wrong_run_ack),
    Rule("RI209", SDK, ANY, from_the_runtime_only, _HEADER),
    Rule("RI423", SDK, ANY, custom_from_the_sdk, _HEADER),
    Rule("RI204", SDK, _COMMANDS, command_during_replay, _HEADER),
    Rule("RI436", SDK, _COMMANDS, bad_completion_ids),
    Rule("RI442", SDK, ANY, later_version_field),
    Rule("RI424", SDK, frozenset({PROPOSE_RUN}), bad_proposal),
    Rule("RI426", SDK, _WAITS, awaits_nothing),
    Rule("RI427", SDK, _WAITS, bad_future),
    Rule("RI428", SDK, frozenset({SUSPENSION}), waits_on_unallocated),
    Rule("RI429", SDK, frozenset({SUSPENSION}), waits_on_completed),
    Rule("RI230", SDK, frozenset({ERROR}), sdk_error("RI230")),
    Rule("RI231", SDK, frozenset({ERROR}), sdk_error("RI231")),
    Rule("RI232", SDK, frozenset({ERROR}), sdk_error("RI232")),
    Rule("RI433", SDK, frozenset({ERROR}), inconsistent_error),
    Rule("RI434", SDK, frozenset({ERROR}), never_sent_code),
    Rule("RI233", SDK, frozenset({OUTPUT}), terminal_failure),
    Rule("RI432", SDK, frozenset({END}), end_without_output, _HEADER),
)
# fmt: on

# by (sender, type): the rules that look at such a frame, in the table's order
_BY_FRAME: Final[dict[tuple[Direction, int], tuple[Rule, ...]]] = {
    (sender, code): tuple(
        rule
        for rule in RULES
        if rule.sender is sender and (rule.types is None or code in rule.types)
    )
    for sender in (RUNTIME, SDK)
    for code in {c for rule in RULES if rule.types for c in rule.types}
    | {t.code for t in LATEST.types}
}
_ANY_TYPE: Final = {
    sender: tuple(r for r in RULES if r.sender is sender and r.types is None)
    for sender in (RUNTIME, SDK)
}


def check(attempt: AttemptJournal, decoded: DecodedFrame, moment: Moment) -> None:
    """Every rule that looks at this frame, on the attempt before it takes the frame in."""
    frame = decoded.frame
    direction = frame.direction
    assert direction is not None
    rules = _BY_FRAME.get((direction, frame.type)) or _ANY_TYPE[direction]
    message = frame.message
    if direction is SDK and attempt.end_frame is not None:
        rules = (AFTER_THE_END,)  # nothing else the SDK sends then counts
    for rule in rules:
        if message is None and rule.reads_message:
            continue  # its body does not parse (RI109): only the header is judged
        text = rule.condition(attempt, frame, message)
        if text is not None:
            attempt.said(
                moment,
                rule.code,
                text,
                command_index=_command_index(decoded, message),
                completion_id=_completion_id(message),
            )


def _command_index(decoded: DecodedFrame, message: Any) -> int | None:
    """The command a frame is about: its own, or the one an ErrorMessage relates to."""
    own = decoded.context.command_index
    if own is None and decoded.frame.type == ERROR and message is not None:
        return message.related_command_index if message.HasField("related_command_index") else None
    return own


def _completion_id(message: Any) -> int | None:
    """The completion id a frame is about: a notification's, a proposal's, an ack's."""
    found = getattr(message, "completion_id", 0) or getattr(message, "result_completion_id", 0)
    return found or None
