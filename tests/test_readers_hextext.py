"""Hex text in every dialect, as the real tools write it (tests/data/hex was made with xxd,
hexdump, od and base64 on a little-endian machine), and every reportable mistake with its
line and column."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from restate_inspect.readers import hextext
from restate_inspect.readers.hextext import Dialect, HexRuns, HexTextDecoder
from restate_inspect.rules import Problem
from tests.helpers import apart, assert_split_invariant, fed_text

DATA = Path(__file__).parent / "data" / "hex"
DIALECTS = {
    "xxd": Dialect.XXD,
    "xxd-g1": Dialect.XXD,
    "hexdump-C": Dialect.HEXDUMP_C,
    "od": Dialect.OFFSET_DUMP,
    "od-z": Dialect.OFFSET_DUMP,
    "hexdump": Dialect.WORD_DUMP,
    "hexdump-x": Dialect.WORD_DUMP,
    "od-x": Dialect.WORD_DUMP,
    "od-Ax-tx2": Dialect.WORD_DUMP,
    "node-buffer": Dialect.NODE_BUFFER,
    "wireshark": Dialect.OFFSET_DUMP,
    "xxd-i": Dialect.C_ARRAY,
    "xxd-p": Dialect.PLAIN,
    "stream": Dialect.PLAIN,
    "folded": Dialect.PLAIN,
    "spaced": Dialect.PLAIN,
    "colon": Dialect.PLAIN,
    "0x": Dialect.PLAIN,
}
FIXTURES = [(name, kind) for name in ("call", "zeros") for kind in DIALECTS]


def decode(text: str, pieces: int = 1) -> tuple[bytes, list[Problem], HexTextDecoder]:
    decoder = HexTextDecoder()
    size = max(1, len(text) // pieces)
    data, problems = fed_text(decoder, [text[at : at + size] for at in range(0, len(text), size)])
    return data, problems, decoder


@pytest.mark.parametrize(("name", "kind"), FIXTURES)
def test_real_tool_output_decodes_to_the_original_bytes(name: str, kind: str) -> None:
    text = (DATA / f"{name}.{kind}").read_text()
    expected = (DATA / f"{name}.bin").read_bytes()
    for pieces in (1, 7, len(text)):  # whole, in chunks, character by character
        data, problems, decoder = decode(text, pieces)
        assert (data, problems) == (expected, []), pieces
        assert decoder.dialect is DIALECTS[kind]


def test_windows_line_endings() -> None:
    text = (DATA / "call.xxd").read_text().replace("\n", "\r\n")
    assert decode(text)[:2] == ((DATA / "call.bin").read_bytes(), [])


def test_bad_character_reported_with_line_and_column_and_skipped() -> None:
    data, problems, _ = decode("0c01\n00zz00\n")
    assert data == bytes.fromhex("0c010000")
    assert [(p.code, p.line, p.column, p.offset, p.repeats) for p in problems] == [
        ("RI001", 2, 3, 3, 2)
    ]
    assert problems[0].message == (
        "line 2, column 3: 'z' is not a hex digit; and 1 more like it, to line 2, column 4"
    )


def test_bad_character_in_an_xxd_dump() -> None:
    lines = (DATA / "call.xxd").read_text().splitlines()
    lines[1] = lines[1][:14] + "g" + lines[1][15:]
    _, problems, _ = decode("\n".join(lines))
    codes = [(p.code, p.line, p.column) for p in problems]
    assert ("RI001", 2, 15) in codes


def test_odd_number_of_digits() -> None:
    data, problems, _ = decode("0c 1 00\n")
    assert data == bytes.fromhex("0c00")
    assert [(p.code, p.line, p.column) for p in problems] == [("RI002", 1, 4)]


def test_any_white_space_separates_bytes() -> None:
    for text in ("00\u00a011\u2003 22\n", "0x00,\u00a00x11\u3000\\x22", "00\u202f11\t22"):
        assert decode(text)[:2] == (bytes.fromhex("001122"), []), text


def test_prefixed_single_digits_are_bytes() -> None:
    assert decode("0x1, 0x0a, \\x0b\\xFF")[:2] == (bytes.fromhex("010a0bff"), [])


def test_long_run_may_wrap_at_an_odd_column_but_not_end_half_way() -> None:
    digits = "0c01000000000016" * 3
    folded = "\n".join(digits[i : i + 17] for i in range(0, len(digits), 17))
    assert decode(folded)[:2] == (bytes.fromhex(digits), [])
    data, problems, _ = decode(digits + "a\n")
    assert data == bytes.fromhex(digits)
    assert [(p.code, p.line, p.column) for p in problems] == [("RI002", 1, len(digits) + 1)]


def test_half_byte_before_a_separator() -> None:
    _, problems, _ = decode("0c0100000000001600a\n 00\n")
    assert [(p.code, p.line) for p in problems] == [("RI002", 1)]


def test_offset_column_that_skips_a_line_is_reported() -> None:
    lines = (DATA / "call.xxd").read_text().splitlines()
    del lines[2]
    data, problems, _ = decode("\n".join(lines))
    assert len(data) == 108 - 16
    (problem,) = problems
    assert (problem.code, problem.line, problem.column) == ("RI003", 3, 1)
    assert "offset column says 0x30, but 0x20 bytes came before" in problem.message


def test_offsets_after_a_missing_line_follow_the_offset_column() -> None:
    lines = (DATA / "zeros.hexdump-C").read_text().splitlines()
    del lines[0]  # the first line is lost: every later offset is 0x10 ahead
    data, problems, _ = decode("\n".join(lines))
    assert data == (DATA / "zeros.bin").read_bytes()[16:]  # `*` still repeats correctly
    assert [(p.code, p.line) for p in problems] == [("RI003", 1)]


def test_repeat_mark_that_does_not_fit_the_next_offset() -> None:
    text = "00000000  00 00 00  |...|\n*\n00000010  01  |.|\n"
    data, problems, _ = decode(text)
    assert data == b"\x00\x00\x00\x01"
    assert [p.code for p in problems] == ["RI003"]


def test_repeat_mark_before_any_bytes_is_harmless() -> None:
    assert decode("*\n0c01\n")[:2] == (b"\x0c\x01", [])


def test_hexdump_final_offset_line_checks_the_length() -> None:
    text = "00000000  0c 01  |..|\n00000003\n"
    data, problems, _ = decode(text)
    assert data == b"\x0c\x01" and [p.code for p in problems] == ["RI003"]


def test_stray_lines_in_offset_dialects_are_read_as_plain_hex() -> None:
    assert decode("00000000: 0c01  ..\nzz\n")[1][0].code == "RI001"
    assert decode("00000000  0c 01  |..|\nq\n")[1][0].code == "RI001"
    assert decode("0000   0c 01   ..\nq\n")[1][0].code == "RI001"


def test_c_array_ignores_declarations_and_reports_junk_inside() -> None:
    text = "unsigned char x[] = {\n  0x0c, 0x01, oops\n};\nunsigned int x_len = 2;\n"
    data, problems, _ = decode(text)
    assert data == b"\x0c\x01"
    assert [(p.code, p.line, p.column, p.repeats, p.last) for p in problems] == [
        ("RI001", 2, 15, 4, (2, 18))
    ]
    assert decode("char a[] = { 0x01 }; int n = 1;\nchar b[] = {0x02};")[:2] == (b"\x01\x02", [])


def _one_line(data: bytes, form: str) -> str:
    if form == "stream":
        return data.hex()
    if form == "C array":
        return "char s[] = {" + ", ".join(f"0x{b:02x}" for b in data) + "};"
    return form.join(f"{b:02x}" for b in data)


@given(
    st.binary(max_size=300),
    st.sampled_from(["stream", "C array", " ", ":", "\\x"]),
    st.integers(min_value=0),
    st.sampled_from(["", "z", "0", " ", "\n", "0x", "}", "x", "\\"]),
    st.integers(min_value=1, max_value=50),
)
def test_a_long_line_read_as_it_comes_reads_as_one_held_whole(
    data: bytes, form: str, where: int, inserted: str, pieces: int
) -> None:
    """A line longer than LONG_LINE is read in parts as it comes, not held whole (a hex
    stream of megabytes is one line): the bytes and the problems, with their columns, are
    those of the whole line, typos and all. (A run of digits with an x in it, which is
    garbage, is the one thing that may read differently.)"""
    line = _one_line(data, form)
    assume(form != "stream" or inserted not in ("0x", "x"))
    where %= len(line) + 1
    text = line[:where] + inserted + line[where:]
    whole = decode(text)
    with mock.patch.object(hextext, "LONG_LINE", 40):
        in_parts = decode(text, pieces)
    assert in_parts[:2] == whole[:2]


def test_a_long_line_holds_little_and_places_its_problems() -> None:
    line = "00" * 100_000
    text = line[:150_000] + "z" + line[150_000:] + "\n0g\n"
    decoder = HexTextDecoder()
    pieces: list[bytes | Problem] = []
    for start in range(0, len(text), 4096):
        pieces += decoder.feed(text[start : start + 4096])
        assert len(decoder._partial) <= hextext.LONG_LINE + 4096  # not the whole line
    data, found = apart(pieces + decoder.end_of_stream())
    assert data == bytes(100_000)
    assert [(p.code, p.line, p.column) for p in found] == [
        ("RI001", 1, 150_001),
        ("RI002", 2, 1),
        ("RI001", 2, 2),
    ]


_HEXISH = st.lists(
    st.sampled_from(
        [*"0123456789abcdefABCDEFxX\\ ,:;-\t\n\r{}z*|", "\u00a0", "\u3000", "0x", "00"]
    ),
    max_size=120,
).map("".join)


@given(st.one_of(_HEXISH, st.text(max_size=60)), st.integers(min_value=1, max_value=8))
def test_whole_bytes_read_at_once_read_as_token_by_token(text: str, pieces: int) -> None:
    """Lines of whole bytes are converted at once (bytes.fromhex), for speed: the bytes
    and the problems are those of reading them token by token."""
    fast = decode(text, pieces)[:2]
    with (
        mock.patch.object(HexTextDecoder, "_clean_lines", return_value=False),
        mock.patch.object(HexRuns, "_clean_bytes", return_value=False),
    ):
        assert decode(text, pieces)[:2] == fast


@given(st.text(max_size=200))
def test_any_text_gives_bytes_and_problems_never_an_exception(text: str) -> None:
    data, problems, _ = decode(text, pieces=3)
    assert isinstance(data, bytes)
    assert all(p.line is not None for p in problems)


def test_blank_lines_and_comment_free_whitespace_are_skipped() -> None:
    assert decode("\n0c01\n\n   \n00\n")[:2] == (b"\x0c\x01\x00", [])


@pytest.mark.parametrize("kind", ["hexdump", "od-x"])
def test_a_word_dump_of_an_odd_length_drops_the_padding_byte(kind: str) -> None:
    text = (DATA / f"odd.{kind}").read_text()
    expected = (DATA / "odd.bin").read_bytes()
    assert len(expected) % 2 == 1
    for pieces in (1, 5, len(text)):  # the length line may come in a later piece
        data, problems, _ = decode(text, pieces)
        assert (data, problems) == (expected, [])


def test_a_word_dump_with_a_length_that_disagrees_and_a_stray_line() -> None:
    text = "0000000 6261 6463\nnot hex at all\n0000010\n"
    data, problems, decoder = decode(text)
    assert decoder.dialect is Dialect.WORD_DUMP
    assert data.startswith(b"abcd")
    codes = [(p.code, p.line) for p in problems]
    assert ("RI001", 2) in codes  # the stray line's characters
    assert codes[-1] == ("RI003", 3)  # 0x10 bytes said, fewer read


def test_word_dump_offsets_are_told_hex_or_octal_by_the_second_line() -> None:
    words = " 0100 0302 0504 0706 0908 0b0a 0d0c 0f0e\n"
    for second, last in (("0000010", "0000040"), ("0000020", "0000100")):  # hexdump, od
        data, problems, _ = decode(f"0000000{words}{second}{words}*\n{last}\n")
        assert (data, problems) == (bytes(range(16)) * 4, [])
    data, problems, _ = decode(f"0000000{words}*\n0000040\n")  # hex 64 and octal 32 fit:
    assert (len(data), problems) == (64, [])  # hexdump's, the more common, is taken


def test_an_od_offset_with_a_digit_od_never_writes_is_reported() -> None:
    words = " 0100 0302 0504 0706 0908 0b0a 0d0c 0f0e\n"
    text = f"0000000{words}0000020{words}0000089{words}"  # octal, then 8 and 9
    data, problems, _ = decode(text)
    assert data == bytes(range(16)) * 3
    assert [(p.code, p.line) for p in problems] == [("RI003", 3)]


def test_a_node_buffer_print_that_leaves_bytes_out_says_so() -> None:
    text = (DATA / "call.node-buffer-cut").read_text()
    data, problems, decoder = decode(text)
    assert decoder.dialect is Dialect.NODE_BUFFER
    assert data == (DATA / "call.bin").read_bytes()[:50]  # what node shows of a Buffer
    (problem,) = problems
    assert problem.code == "RI008" and "leaves 58 bytes out" in problem.message
    assert (problem.line, problem.offset) == (1, 50)


@given(st.one_of(_HEXISH, st.text(max_size=80)), st.integers(0, 2**32))
def test_hex_text_is_split_invariant(text: str, seed: int) -> None:
    """The same bytes and problems (lines, columns) however the text comes in pieces."""
    assert_split_invariant(lambda pieces: fed_text(HexTextDecoder(), pieces), text, seed)
