"""Base64 text: both alphabets, wrapped or not, padding, and mistakes with line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.rules import Problem

DATA = Path(__file__).parent / "data" / "hex"


def decode(text: str, size: int = 0) -> tuple[bytes, list[Problem]]:
    decoder = Base64TextDecoder()
    out, problems = b"", list[Problem]()
    for start in range(0, len(text), size or max(1, len(text))):
        data, found = decoder.feed(text[start : start + (size or len(text))])
        out, problems = out + data, problems + found
    data, found = decoder.end()
    return out + data, problems + found


@pytest.mark.parametrize("name", ["call", "zeros"])
@pytest.mark.parametrize("kind", ["base64", "base64url"])
def test_real_base64_decodes(name: str, kind: str) -> None:
    text = (DATA / f"{name}.{kind}").read_text()
    for size in (0, 5, 1):
        assert decode(text, size) == ((DATA / f"{name}.bin").read_bytes(), [])


def test_no_trailing_newline_missing_padding_and_stray_spaces() -> None:
    assert decode("QUJDRA") == (b"ABCD", [])
    assert decode("QUJD RA\t") == (b"ABCD", [])


def test_character_outside_the_alphabet() -> None:
    data, problems = decode("QUJD\nR$A==\n")
    assert data == b"ABCD"
    assert [(p.code, p.line, p.column) for p in problems] == [("RI004", 2, 2)]
    assert problems[0].message == "line 2, column 2: '$' is not base64"


def test_padding_ends_a_group() -> None:
    assert decode("QQ==QkM=") == (b"ABC", [])


def test_a_lone_last_character_is_half_a_byte() -> None:
    data, problems = decode("QUJDR")
    assert data == b"ABC"
    assert [(p.code, p.offset) for p in problems] == [("RI005", 3)]


@given(st.binary(max_size=200), st.integers(1, 80))
def test_round_trip_wrapped_at_any_width(data: bytes, width: int) -> None:
    import base64

    encoded = base64.b64encode(data).decode()
    wrapped = "\n".join(encoded[i : i + width] for i in range(0, len(encoded), width))
    assert decode(wrapped, size=7) == (data, [])


@given(st.text(max_size=200))
def test_any_text_gives_bytes_and_problems_never_an_exception(text: str) -> None:
    data, _ = decode(text, size=3)
    assert isinstance(data, bytes)
