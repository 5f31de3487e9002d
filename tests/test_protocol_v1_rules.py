"""The V1-V3 rules as a table: every rule in the catalogue with a case that breaks it
(tests/test_protocol_v1_conditions.py), the frames each looks at, and a finding for each
entry a frame names."""

from __future__ import annotations

from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.protocol.attempt import RUNTIME, SDK
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.messages import COMPLETION, OUTPUT, START, SUSPENSION
from restate_inspect.protocol.v1.rules import AFTER_THE_END, RULES, rules_for
from restate_inspect.rules import RULES as CATALOGUE
from tests.attempts import S, events
from tests.test_protocol_v1_conditions import CASES, CLEAN, SLEEP, _with, suspension


def test_every_rule_of_the_table_is_in_the_catalogue_and_has_a_case() -> None:
    codes = {rule.code for rule in (*RULES, AFTER_THE_END)}
    assert codes <= set(CATALOGUE)
    assert codes <= {case[0] for case in CASES}


def test_each_frame_meets_the_rules_of_its_sender_and_type_in_the_tables_order() -> None:
    output = [rule.code for rule in rules_for(SDK, OUTPUT)]
    assert output == ["RI204", "RI233", "RI216"]  # every entry's, and the Output's own
    custom = [rule.code for rule in rules_for(SDK, 0xFC01)]  # a custom entry: an entry
    assert custom == ["RI204", "RI216"]
    assert [rule.code for rule in rules_for(RUNTIME, 0xFC01)] == ["RI201", "RI203", "RI216"]
    assert "RI209" in [rule.code for rule in rules_for(SDK, START)]
    assert "RI209" not in [rule.code for rule in rules_for(SDK, SUSPENSION)]
    assert "RI213" in [rule.code for rule in rules_for(RUNTIME, COMPLETION)]
    for rule in rules_for(RUNTIME, 0x0099):  # a control type no version has
        assert rule.types is None


def test_a_suspension_gets_a_finding_for_each_entry_it_wrongly_waits_on() -> None:
    sleep_done = encode_frame(0x0C00, pb.SleepEntryMessage(empty=pb.Empty()), 0x0001)
    steps = (*CLEAN[:2], (S, SLEEP), (S, sleep_done), (S, suspension(1, 2, 7, 9)))
    items = invocations(decode_events(events(_with(*steps))))
    (invocation,) = [i for i in items if isinstance(i, Invocation)]
    found = [(f.code, f.entry_index) for f in invocation.attempts[0].all_findings()]
    assert found == [("RI221", 7), ("RI221", 9), ("RI222", 2)]
