"""The V4-V8 tables agree with the schemas' own comments and with each other."""

from __future__ import annotations

import re

import pytest

from restate_inspect.events import Namespace, Sender
from restate_inspect.protocol.v4.messages import (
    CUSTOM,
    LATEST,
    REQUESTED_ACK,
    SCHEMAS,
    TABLES,
    VERSIONS,
    flag_names,
    is_command,
    is_notification,
)
from tests.helpers import ROOT

# The schema says `0x04000 + 10` of SendSignalCommandMessage: an erratum, the code is 0x0410
# (RESEARCH-V3-V8.md §7).
ERRATA = {"SendSignalCommandMessage": "0x0400 + 10"}


def _schema_types(version: int) -> dict[str, int]:
    """`// Type: 0x0400 + A` above each message of protocol-vN.proto, as name -> code."""
    found: dict[str, int] = {}
    pending: str | None = None
    for line in (ROOT / "proto" / f"protocol-v{version}.proto").read_text().splitlines():
        if match := re.match(r"\s*// Type: (.+)$", line):
            pending = match.group(1).strip()
        elif (match := re.match(r"message (\w+) \{", line)) and pending is not None:
            comment = ERRATA.get(match.group(1), pending)
            base, _, plus = comment.partition(" + ")  # `0xFBFF` has no `+`
            found[match.group(1)] = int(base, 16) + int(plus or "0", 16)
            pending = None
    return found


@pytest.mark.parametrize("version", [4, 5, 6, 7])
def test_each_table_agrees_with_its_schema(version: int) -> None:
    table = TABLES[version]
    typed = {t.name: t.code for t in table.types if t.cls is not None}
    assert typed == _schema_types(version)
    for spec in table.types:
        if spec.cls is not None:
            assert spec.cls.DESCRIPTOR.name == spec.name
            assert spec.cls.__module__ == SCHEMAS[version].__name__


def test_v7_adds_awaiting_on_and_the_run_ack_and_v8_the_ephemeral_reads() -> None:
    later = {t.name: t.min_version for t in LATEST.types if t.min_version > 4}
    assert later == {
        "AwaitingOnMessage": 7,
        "ProposeRunCompletionAckMessage": 7,
        "GetStateEphemeralCommandMessage": 8,
        "GetStateEphemeralNotificationMessage": 8,
    }
    assert TABLES[6].by_code[0x0006].cls is None and TABLES[7].by_code[0x0006].cls is not None
    assert TABLES[8].by_code[0x0200].cls is None  # no schema was published: read schema-less
    assert set(TABLES) == set(VERSIONS)


def test_kinds_senders_and_what_answers_each_command() -> None:
    for spec in LATEST.types:
        code = spec.code
        if code < 0x0400:
            assert spec.namespace is Namespace.CORE
        elif is_command(code):
            assert spec.namespace is Namespace.COMMAND and spec.sender is Sender.BOTH
        else:
            assert is_notification(code) and spec.namespace is Namespace.NOTIFICATION
            assert spec.sender is Sender.RUNTIME
        for answer in spec.answered_by:
            if answer == 0x0300:  # V8's ephemeral read, in the control range
                continue
            answering = LATEST.by_code[answer]
            assert is_notification(answer)
            assert answering.name.removesuffix("CompletionNotificationMessage") in spec.name or (
                answer == 0x800E  # the invocation id of a call and of a one-way call
            )
    completable = {t.name for t in LATEST.types if t.completable}
    assert "CallCommandMessage" in completable and "SetStateCommandMessage" not in completable
    assert LATEST.by_code[0x040D].answered_by == (0x800E, 0x800D)


def test_requested_ack_is_for_commands_and_from_v7_for_run_proposals() -> None:
    for version in VERSIONS:
        for spec in TABLES[version].types:
            proposal = spec.code == 0x0005 and version >= 7
            expected = REQUESTED_ACK if spec.namespace is Namespace.COMMAND or proposal else 0
            assert spec.allowed_flags == expected, (version, spec.name)


@pytest.mark.parametrize("code", [0xFC00, 0xFC01, 0xFFFF])
def test_custom_types_share_one_description(code: int) -> None:
    spec = LATEST.lookup(code)
    assert spec is not None and (spec.code, spec.name, spec.namespace) == (
        code,
        CUSTOM.name,
        Namespace.CUSTOM,
    )


@pytest.mark.parametrize("code", [0x0008, 0x040F, 0x0800, 0x0C01, 0x8000, 0x8003, 0xFBFE])
def test_other_codes_are_unknown(code: int) -> None:
    assert LATEST.lookup(code) is None


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (0, []),
        (0x8000, ["REQUESTED_ACK"]),
        (0x0001, ["0x0001"]),
        (0x8011, ["REQUESTED_ACK", "0x0001", "0x0010"]),
    ],
)  # fmt: skip
def test_flag_names(flags: int, names: list[str]) -> None:
    assert flag_names(flags) == names
