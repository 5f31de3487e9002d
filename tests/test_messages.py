"""The registry agrees with the schema's own comments; schema-less decoding of bodies."""

from __future__ import annotations

import io
import pickle
import re

import pytest
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from restate_inspect._proto import protocol_pb2 as pb
from restate_inspect.messages import (
    BY_CODE,
    BY_NAME,
    COMPLETED,
    MESSAGE_TYPES,
    REQUIRES_ACK,
    V3_TYPES,
    MessageType,
    Namespace,
    Sender,
    custom_entry_name,
    decode_schemaless,
    flag_names,
    lookup,
)
from tests.helpers import ROOT

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
    for line in (ROOT / "proto" / "protocol.proto").read_text().splitlines():
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
        assert BY_CODE[spec.code] is spec and BY_NAME[spec.name] is spec


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


def test_v3_types_are_known_by_name_only() -> None:
    names = [lookup(code).name for code in range(0x0C06, 0x0C0A)]  # type: ignore[union-attr]
    assert names == [
        "CancelInvocationEntryMessage",
        "GetCallInvocationIdEntryMessage",
        "AttachInvocationEntryMessage",
        "GetInvocationOutputEntryMessage",
    ]
    assert all(t.cls is None and t.min_version == 3 for t in V3_TYPES)


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


def test_schemaless_decoding_of_every_wire_type() -> None:
    body = (
        b"\x08\x96\x01"  # 1: varint 150
        b"\x11" + (7).to_bytes(8, "little")  # 2: i64
        + b"\x1d" + (9).to_bytes(4, "little")  # 3: i32
        + b"\x23\x08\x05\x24"  # 4: group holding 1: varint 5
        + b"\x62\x04name"  # 12: "name"
    )  # fmt: skip
    fields = decode_schemaless(body)
    assert [(f.number, f.wire_type) for f in fields] == [(1, 0), (2, 1), (3, 5), (4, 3), (12, 2)]
    assert [f.value for f in fields[:3]] == [150, 7, 9]
    group = fields[3].value
    assert isinstance(group, tuple) and group[0].value == 5
    assert custom_entry_name(fields) == "name"


def test_a_string_that_is_also_a_message_is_reported_ambiguous() -> None:
    (field,) = decode_schemaless(b"\x0a\x02hi")  # "hi" = 0x68 0x69: field 13 varint 105
    assert field.as_text == "hi"
    assert field.as_message is not None and field.as_message[0].number == 13
    assert field.ambiguous


def test_text_only_message_only_and_plain_bytes() -> None:
    text_only, message_only, plain_bytes, empty = decode_schemaless(
        b"\x0a\x03{x}" + b"\x12\x02\x08\x01" + b"\x1a\x02\xff\xfe" + b"\x22\x00"
    )
    assert (text_only.as_text, text_only.as_message, text_only.ambiguous) == ("{x}", None, False)
    assert message_only.as_text is None and message_only.as_message is not None
    assert (plain_bytes.as_text, plain_bytes.as_message) == (None, None)
    assert (empty.value, empty.as_message) == (b"", None)


def test_unprintable_utf8_is_not_text() -> None:
    (field,) = decode_schemaless(b"\x0a\x02\x1b[")
    assert field.as_text is None


def test_nesting_is_followed_to_a_bounded_depth() -> None:
    body = b""
    for _ in range(40):
        body = b"\x0a" + bytes([len(body)]) + body if len(body) < 128 else body
    (field,) = decode_schemaless(body)
    depth = 0
    while field.as_message:
        (field,) = field.as_message
        depth += 1
    assert 10 <= depth <= 16


def test_a_body_that_is_not_protobuf_raises() -> None:
    with pytest.raises(DecodeError):
        decode_schemaless(b"\x0a\x05ab")


def test_custom_entry_name_needs_text_in_field_12() -> None:
    assert custom_entry_name(decode_schemaless(b"\x62\x02\xff\xfe")) is None
    assert custom_entry_name(decode_schemaless(b"\x08\x01")) is None


def test_generated_classes_are_the_registry_classes() -> None:
    assert BY_NAME["StartMessage"].cls is pb.StartMessage


# --- pickling --------------------------------------------------------------------------


def _every_message_class() -> list[type[Message]]:
    found, todo = [], list(pb.DESCRIPTOR.message_types_by_name.values())
    while todo:
        descriptor = todo.pop()
        todo.extend(descriptor.nested_types)
        found.append(GetMessageClass(descriptor))
    return found


def test_every_message_of_the_schema_pickles_as_its_bytes() -> None:
    """Records go to other processes and to disk pickled; the generated classes name a
    module that cannot be imported by that name, so their messages travel as bytes."""
    classes = _every_message_class()
    assert pb.GetStateKeysEntryMessage.StateKeys in classes and pb.Failure in classes
    for cls in classes:
        with pytest.raises(pickle.PicklingError):  # what the registration is there for
            pickle.Pickler(io.BytesIO()).dump(cls)
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
