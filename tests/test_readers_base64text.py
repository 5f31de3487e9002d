"""Base64 text: both alphabets, wrapped or not, padding, and mistakes with line and column."""

from __future__ import annotations

import base64
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.readers import base64text
from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.rules import Problem
from tests.helpers import apart, assert_split_invariant, fed_text

DATA = Path(__file__).parent / "data" / "hex"


def decode(text: str, size: int = 0) -> tuple[bytes, list[Problem]]:
    step = size or max(1, len(text))
    return fed_text(Base64TextDecoder(), [text[at : at + step] for at in range(0, len(text), step)])


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


@given(
    st.binary(max_size=300),
    st.integers(min_value=0),
    st.sampled_from(["", "!", "=", " ", "\n", "A", "\r\n"]),
    st.integers(min_value=1, max_value=50),
)
def test_a_long_line_read_as_it_comes_reads_as_one_held_whole(
    data: bytes, where: int, inserted: str, size: int
) -> None:
    """A line longer than LONG_LINE (`base64 -w0` of a big stream) is read in parts as it
    comes: the bytes and the problems, with their lines and columns, are the whole line's."""
    line = base64.b64encode(data).decode()
    where %= len(line) + 1
    text = line[:where] + inserted + line[where:]
    whole = decode(text)
    with mock.patch.object(base64text, "LONG_LINE", 40):
        assert decode(text, size) == whole


def test_a_long_line_holds_little_and_places_its_problems() -> None:
    line = base64.b64encode(bytes(150_000)).decode()
    text = line[:150_000] + "!" + line[150_000:] + "\nA!A\n"
    decoder = Base64TextDecoder()
    held, problems = 0, list[Problem]()
    for start in range(0, len(text), 4096):
        problems += apart(decoder.feed(text[start : start + 4096]))[1]
        held = max(held, len(decoder._partial))
    problems += apart(decoder.end_of_stream())[1]
    assert held <= base64text.LONG_LINE + 4096  # not the whole line
    assert [(p.code, p.line, p.column) for p in problems] == [
        ("RI004", 1, 150_001),
        ("RI004", 2, 2),
    ]


_BASE64ISH = st.lists(st.sampled_from([*"AQgw+/=\n\r\t -_[", "QUJD", "=="]), max_size=120).map(
    "".join
)


@given(st.one_of(_BASE64ISH, st.text(max_size=80)), st.integers(0, 2**32))
def test_base64_text_is_split_invariant(text: str, seed: int) -> None:
    """The same bytes and problems (lines, columns) however the text comes in pieces."""
    assert_split_invariant(lambda pieces: fed_text(Base64TextDecoder(), pieces), text, seed)
