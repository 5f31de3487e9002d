"""The V1-V3 tables agree with the schema's own comments; messages and types pickle."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from restate_inspect.events import MessageType, Namespace, Sender
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1._proto import v3_pb2
from restate_inspect.protocol.v1.messages import (
    COMPLETED,
    REQUIRES_ACK,
    V2_TABLE,
    V3_TABLE,
    flag_names,
)
from tests.helpers import ROOT

MESSAGE_TYPES = tuple(t for t in V2_TABLE.types if t.min_version < 3)
V3_TYPES = tuple(t for t in V3_TABLE.types if t.min_version == 3)
lookup = V2_TABLE.lookup

NAMESPACE_OF_BITS = {
    0x0000: Namespace.CORE,
    0x0400: Namespace.IO,
    0x0800: Namespace.STATE,
    0x0C00: Namespace.SYSCALL,
}


def _schema_comments() -> dict[str, dict[str, str]]:
    """`// Type: 0x0C00 + 1`, `// Completable: Yes`, ... above each message of the schema."""
    found: dict[str, dict[str, str]] = {}
    comments: dict[str, str] = {}
    for line in (ROOT / "proto" / "protocol-v2.proto").read_text().splitlines():
        if match := re.match(r"// (Type|Completable|Fallible): (.+)$", line.strip()):
            comments[match.group(1)] = match.group(2).strip()
        elif match := re.match(r"message (\w+) \{", line):
            if "Type" in comments:
                found[match.group(1)] = comments
            comments = {}
        elif not line.strip().startswith("//"):
            comments = {} if line.strip() else comments
    return found


def test_registry_has_the_22_v1_v2_types_each_with_its_generated_class() -> None:
    assert len(MESSAGE_TYPES) == 22
    assert len({t.code for t in MESSAGE_TYPES}) == 22
    for spec in MESSAGE_TYPES:
        assert spec.cls is not None and spec.cls.DESCRIPTOR.name == spec.name
        assert V2_TABLE.by_code[spec.code] is spec


def test_registry_agrees_with_the_schema_comments() -> None:
    comments = _schema_comments()
    assert set(comments) == {t.name for t in MESSAGE_TYPES}
    for spec in MESSAGE_TYPES:
        base, plus = re.fullmatch(
            r"(0x[0-9A-Fa-f]+) \+ ([0-9A-Fa-f]+)", comments[spec.name]["Type"]
        ).groups()  # type: ignore[union-attr]
        assert spec.code == int(base, 16) + int(plus, 16), spec.name
        if spec.is_entry:
            assert spec.completable == (comments[spec.name]["Completable"] == "Yes"), spec.name
            assert spec.fallible == (comments[spec.name]["Fallible"] == "Yes"), spec.name


def test_namespace_is_the_top_six_bits_and_entries_are_sent_by_both_sides() -> None:
    for spec in (*MESSAGE_TYPES, *V3_TYPES):
        assert spec.namespace is NAMESPACE_OF_BITS[spec.code & 0xFC00]
        assert spec.is_entry == (spec.namespace is not Namespace.CORE)
        if spec.is_entry:
            assert spec.sender is Sender.BOTH
    senders = {t.name: t.sender for t in MESSAGE_TYPES if not t.is_entry}
    assert senders == {
        "StartMessage": Sender.RUNTIME,
        "CompletionMessage": Sender.RUNTIME,
        "EntryAckMessage": Sender.RUNTIME,
        "SuspensionMessage": Sender.SDK,
        "ErrorMessage": Sender.SDK,
        "EndMessage": Sender.SDK,
    }


def test_completable_entries_are_those_with_a_result_and_allow_completed() -> None:
    for spec in MESSAGE_TYPES:
        assert spec.cls is not None
        oneofs = {o.name for o in spec.cls.DESCRIPTOR.oneofs}
        has_result = "result" in oneofs and spec.name not in (
            "OutputEntryMessage",  # its result is the handler's, not a completion
            "CompleteAwakeableEntryMessage",  # the value it sends
            "RunEntryMessage",  # stored with its result, acked
        )
        if spec.is_entry:
            assert spec.completable == has_result, spec.name
        assert spec.allowed_flags == (REQUIRES_ACK if spec.is_entry else 0) | (
            COMPLETED if spec.completable else 0
        )


def test_v3_types_are_known_by_name_to_v2_and_by_their_class_to_v3() -> None:
    names = [lookup(code).name for code in range(0x0C06, 0x0C0A)]  # type: ignore[union-attr]
    assert names == [
        "CancelInvocationEntryMessage",
        "GetCallInvocationIdEntryMessage",
        "AttachInvocationEntryMessage",
        "GetInvocationOutputEntryMessage",
    ]
    assert all(V2_TABLE.by_code[t.code].cls is None for t in V3_TYPES)
    assert all(t.cls is getattr(v3_pb2, t.name) for t in V3_TYPES)
    assert all(t.cls is not None and t.cls.__module__ == v3_pb2.__name__ for t in V3_TABLE.types)


@pytest.mark.parametrize("code", [0xFC00, 0xFC01, 0xFFFF])
def test_custom_entries_share_one_description_with_their_own_code(code: int) -> None:
    spec = lookup(code)
    assert isinstance(spec, MessageType)
    assert (spec.code, spec.name, spec.namespace, spec.cls) == (
        code,
        "CustomEntryMessage",
        Namespace.CUSTOM,
        None,
    )
    assert spec.hex == f"0x{code:04x}"
    assert spec.allowed_flags == REQUIRES_ACK


@pytest.mark.parametrize("code", [0x0006, 0x03FF, 0x0402, 0x0805, 0x0C0A, 0x1000, 0xFBFF])
def test_other_codes_are_unknown(code: int) -> None:
    assert lookup(code) is None


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (0, []),
        (0x8000, ["REQUIRES_ACK"]),
        (0x0001, ["COMPLETED"]),
        (0x8001, ["REQUIRES_ACK", "COMPLETED"]),
        (0x0010, ["0x0010"]),
        (0xC003, ["REQUIRES_ACK", "COMPLETED", "0x0002", "0x4000"]),
    ],
)
def test_flag_names(flags: int, names: list[str]) -> None:
    assert flag_names(flags) == names


def test_generated_classes_are_the_registry_classes() -> None:
    assert V2_TABLE.by_code[0].cls is pb.StartMessage


# --- pickling --------------------------------------------------------------------------


def _every_message_class(schema: Any) -> list[type[Message]]:
    found, todo = [], list(schema.DESCRIPTOR.message_types_by_name.values())
    while todo:
        descriptor = todo.pop()
        todo.extend(descriptor.nested_types)
        found.append(GetMessageClass(descriptor))
    return found


def test_every_message_of_the_schemas_pickles() -> None:
    """Records go to disk pickled (the TUI's store): each family's generated module is
    imported by its own name, so its classes and messages pickle as they are."""
    for schema in (pb, v3_pb2):
        classes = _every_message_class(schema)
        assert schema.GetStateKeysEntryMessage.StateKeys in classes
        for cls in classes:
            assert pickle.loads(pickle.dumps(cls)) is cls
    failure = pb.CallEntryMessage(service_name="S", failure=pb.Failure(code=570, message="x"))
    keys = pb.GetStateKeysEntryMessage.StateKeys(keys=[b"a", b"b"])
    for message in (failure, keys, pb.Empty()):
        copy = pickle.loads(pickle.dumps(message))
        assert type(copy) is type(message) and copy == message


@pytest.mark.parametrize("code", [0x0000, 0x0C01, 0x0C06, 0xFC01])
def test_message_types_pickle_as_their_code_custom_entries_too(code: int) -> None:
    spec = lookup(code)
    assert spec is not None
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_which_types_are_entries() -> None:
    """Entries by namespace: 0x04xx and up, custom ones too, and an unknown type in an entry
    namespace; core messages are not."""
    codes = (0x0000, 0x0005, 0x0006, 0x0400, 0x0C09, 0x0C0A, 0xFC00)
    assert [V3_TABLE.is_entry(c) for c in codes] == [False] * 3 + [True] * 4
