"""Each dialect of hex text told from its first line, and where its lines hold bytes."""

from __future__ import annotations

import pytest

from restate_inspect.readers.hexdialects import (
    DUMPS,
    Dialect,
    c_array,
    detect_dialect,
    node_buffer,
    word_base,
    word_dump,
)

XXD = "00000010: 0000 0048 0a18 548a  ...H..T."
HEXDUMP_C = "00000010  00 00 00 48 0a 18 54 8a  |...H..T.|"
OFFSET_DUMP = "0010   00 00 00 48 0a 18 54 8a   ...H..T."


@pytest.mark.parametrize(
    ("line", "dialect"),
    [
        (XXD, Dialect.XXD),
        (HEXDUMP_C, Dialect.HEXDUMP_C),
        (OFFSET_DUMP, Dialect.OFFSET_DUMP),
        ("0000020 0000 4800 180a", Dialect.WORD_DUMP),
        ("unsigned char s[] = { 0x00, 0x01 };", Dialect.C_ARRAY),
        ("<Buffer 0c 01 00>", Dialect.NODE_BUFFER),
        ("0000000000000048", Dialect.PLAIN),
        ("00000000: 0c01 0000  ....", Dialect.XXD),
        ("00000000  0c 01 00 00  |....|", Dialect.HEXDUMP_C),
        ("0000   0c 01 00 00   ....", Dialect.OFFSET_DUMP),
        ("000000 0c 01", Dialect.OFFSET_DUMP),
        ("unsigned char x[] = {", Dialect.C_ARRAY),
        ("0c0100000000", Dialect.PLAIN),
        ("0c 01 00", Dialect.PLAIN),
        ("0c01 0000 0000", Dialect.PLAIN),
        ("0c:01:00", Dialect.PLAIN),
    ],
)
def test_a_dialect_is_told_by_its_line(line: str, dialect: Dialect) -> None:
    assert detect_dialect(line) is dialect


@pytest.mark.parametrize("line", [XXD, HEXDUMP_C, OFFSET_DUMP])
def test_a_dumps_line_holds_its_offset_and_its_bytes_without_the_text_column(line: str) -> None:
    dump = DUMPS[detect_dialect(line)](line)
    assert dump is not None and int(dump.offset, 16) == 0x10
    assert bytes.fromhex(line[dump.start : dump.end]) == bytes.fromhex("00000048 0a18548a")
    assert DUMPS[detect_dialect(line)]("not a dump line at all!") is None


def test_a_word_dumps_offsets_tell_their_base_where_the_bytes_are() -> None:
    line = word_dump("0000020 0000 4800")
    assert line is not None and line.offset == "0000020" and line.words == ["0000", "4800"]
    assert word_base("0000020", 16, None) == 8  # octal 20 is 16 bytes on: od
    assert word_base("0000010", 16, None) == 16  # hex 10: hexdump
    assert word_base("0000040", 16, 16) == 16  # after `*`: a whole line further, in hex
    assert word_base("0000005", 16, None) is None  # before the bytes read: tells nothing


def test_a_c_arrays_bytes_are_inside_its_braces_over_lines() -> None:
    assert c_array("static unsigned char s[] = {", False) == (28, 28, True)
    assert c_array("  0x00, 0x01,", True) == (0, 13, True)
    assert c_array("  0x02 };", True) == (0, 7, False)
    assert c_array("unsigned int s_len = 3;", False) is None


def test_a_node_buffer_says_how_many_bytes_it_left_out() -> None:
    line = "<Buffer 0c 01 00 ... 58 more bytes>"
    node = node_buffer(line)
    assert line[node.start : node.end].split() == ["0c", "01", "00"]
    assert node.left_out == ("58", line.index("...") + 1)
    assert node_buffer("<Buffer 0c>").left_out is None
