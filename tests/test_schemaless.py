"""Bodies decoded without a schema: every wire type, text and message readings, bounds."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError

from restate_inspect.schemaless import (
    MAX_FIELD_BY_FIELD,
    TooLarge,
    custom_entry_name,
    decode_schemaless,
    parses,
)


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


def test_parses_tells_protobuf_from_other_bytes() -> None:
    assert parses(b"") and parses(b"\x08\x01") and not parses(b"\x0a\x05ab")


def test_a_body_larger_than_the_limit_is_not_read_field_by_field() -> None:
    assert len(decode_schemaless(bytes(2) * (MAX_FIELD_BY_FIELD // 2))) == MAX_FIELD_BY_FIELD // 2
    with pytest.raises(TooLarge, match="shown as bytes"):
        decode_schemaless(bytes(MAX_FIELD_BY_FIELD + 1))
