"""The catalogue of findings, and problems found again and again made one finding: every
rule's words, and runs of alike problems with nothing read between."""

from __future__ import annotations

import re

from restate_inspect.rules import (
    OF_A_FRAME,
    RULES,
    UNCHECKED,
    Problem,
    RepeatedProblems,
    Severity,
    counted,
)


def _at(code: str, offset: int, column: int) -> Problem:
    return Problem(code, f"column {column}: {code}", offset, 0, line=1, column=column)


def test_problems_repeated_with_no_byte_read_between_are_one_finding() -> None:
    runs = RepeatedProblems()
    for column in range(1, 6):
        runs.add(_at("RI001", 0, column))
        runs.add(_at("RI002", 0, column))
    assert runs.taken(0) == []  # still at offset 0: the runs may go on in the next chunk
    runs.add(_at("RI001", 0, 6))
    runs.add(_at("RI001", 2, 9))  # two bytes read since: the runs before are over
    first, second, third = runs.taken(2) + runs.taken()
    assert (first.code, first.repeats, first.last, first.column) == ("RI001", 6, (1, 6), 1)
    assert first.message == "column 1: RI001; and 5 more like it, to line 1, column 6"
    assert (second.code, second.repeats, second.last) == ("RI002", 5, (1, 5))
    assert (third.code, third.repeats, third.last, third.message) == (
        "RI001", 1, None, "column 9: RI001"
    )  # fmt: skip
    assert runs.taken() == []


def test_every_rule_has_its_words_a_severity_and_a_reference() -> None:
    assert RULES and all(re.fullmatch(r"RI\d{3}", code) for code in RULES)
    for code, rule in RULES.items():
        assert rule.code == code and rule.title and isinstance(rule.severity, Severity)
        assert rule.reference, code  # a part of the spec, an RFC, or the layer that saw it
        if ".md" in rule.reference:
            assert "#" in rule.reference, code  # the section, not the whole document
    assert set(RULES) >= UNCHECKED and set(RULES) >= OF_A_FRAME
    problem = Problem("RI210", "x", None, None)
    assert problem.severity is RULES["RI210"].severity is Severity.ERROR
    assert Problem("RI210", "x", None, None, after_loss=True).severity is Severity.INFO


def test_counts_are_written_with_their_noun() -> None:
    assert (counted(1, "stream"), counted(2, "stream")) == ("1 stream", "2 streams")
    assert counted(3, "entry", "entries") == "3 entries"
