"""The dialects of hex text people paste, and where each line of one holds its bytes.

Dialects, chosen from the first line that holds anything:
- xxd:        `00000000: 0000 0000 0000 0048 0a18 548a e3cb a540  .......H..T....@`
- hexdump -C: `00000000  00 00 00 00 00 00 00 48  0a 18 54 8a e3 cb a5 40  |.......H..T....@|`
              (with `*` for repeated lines and a last line holding only the length)
- offset dump (Wireshark "Copy as Hex Dump", `od -Ax -tx1`): `0000   00 00 00 48 0a 18   ...H..`
- word dump (`hexdump` and `od -x` without options): `0000000 0000 0000 4800 180a`, 16-bit
  words in the byte order of the machine that wrote them, taken to be little-endian (as x86
  and ARM are); offsets in hex (hexdump) or octal (od), told apart by the second line; the
  last line, the length, drops the zero byte that pads an odd length to a whole word
- C array (xxd -i): `unsigned char s[] = { 0x00, 0x01, ... };` (text outside the braces is ignored)
- Node's Buffer, as console.log prints it: `<Buffer 0c 01 00 ... 58 more bytes>` (what it
  leaves out is reported)
- plain: `xxd -p`, Wireshark's "copy as hex stream", bytes separated by spaces, colons,
  commas or dashes, `0x`- or `\\x`-prefixed bytes. A long run of digits may wrap anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Final, NamedTuple


class Dialect(StrEnum):
    XXD = "xxd"
    HEXDUMP_C = "hexdump -C"
    OFFSET_DUMP = "offset dump"
    WORD_DUMP = "word dump"
    C_ARRAY = "C array"
    NODE_BUFFER = "Node Buffer"
    PLAIN = "plain"


# offsets: up to 64 bits (a longer run of digits is hex, not an offset)
_XXD: Final = re.compile(r"\s*([0-9A-Fa-f]{1,16}):(\s.*|)$")
_HEXDUMP_C: Final = re.compile(r"([0-9A-Fa-f]{4,16})(?:(\s\s[^|]*)\|.*)?\s*$")
_OFFSET_DUMP: Final = re.compile(r"\s*([0-9A-Fa-f]{4,16})(\s+.*|\s*)$")
_WORD_DUMP: Final = re.compile(r"\s*([0-9A-Fa-f]{6,7})((?:\s+[0-9A-Fa-f]{4})*)\s*$")
OCTAL_DIGITS: Final = frozenset("01234567")
_BYTE: Final = re.compile(r"[0-9A-Fa-f]{2}")
_ASCII_COLUMN: Final = re.compile(r"\s{2,}")
_WORD: Final = re.compile(r"\S+")
NODE_BUFFER: Final = "<Buffer"
_LEFT_OUT: Final = re.compile(r"\.\.\.\s*(\d+)\s+more\s+bytes?")


def detect_dialect(line: str) -> Dialect:
    if _XXD.match(line):
        return Dialect.XXD
    match = _WORD_DUMP.match(line)
    if match and match.group(2):
        return Dialect.WORD_DUMP
    if "|" in line and _HEXDUMP_C.match(line):
        return Dialect.HEXDUMP_C
    words = line.split()
    if _OFFSET_DUMP.match(line) and len(words) > 1 and _BYTE.fullmatch(words[1]):
        return Dialect.OFFSET_DUMP
    if "{" in line:
        return Dialect.C_ARRAY
    if line.lstrip().startswith(NODE_BUFFER):
        return Dialect.NODE_BUFFER
    return Dialect.PLAIN


class DumpLine(NamedTuple):
    """A line of a dump with an offset column: where the offset is, and the bytes."""

    offset_column: int
    offset: str  # its hex digits
    start: int  # the bytes' text: line[start:end]
    end: int


def _xxd(line: str) -> DumpLine | None:
    match = _XXD.match(line)
    if match is None:
        return None
    start = match.start(2)
    gap = _ASCII_COLUMN.search(line, start + 1)  # the ASCII column follows two spaces
    return DumpLine(match.start(1), match.group(1), start, gap.start() if gap else len(line))


def _hexdump_c(line: str) -> DumpLine | None:
    match = _HEXDUMP_C.match(line)
    if match is None:
        return None
    start, end = (match.start(2), match.end(2)) if match.group(2) else (len(line), len(line))
    return DumpLine(0, match.group(1), start, end)


def _offset_dump(line: str) -> DumpLine | None:
    match = _OFFSET_DUMP.match(line)
    if match is None:
        return None
    # two digits a byte; an ASCII column begins at a wide gap or at the first non-byte
    start = end = match.start(2)
    for word in _WORD.finditer(line, start):
        wide_gap = end > start and word.start() - end >= 3
        if wide_gap or not _BYTE.fullmatch(word.group()):
            break
        end = word.end()
    return DumpLine(match.start(1), match.group(1), start, end)


DUMPS: Final[dict[Dialect, Callable[[str], DumpLine | None]]] = {
    Dialect.XXD: _xxd,
    Dialect.HEXDUMP_C: _hexdump_c,
    Dialect.OFFSET_DUMP: _offset_dump,
}


class WordLine(NamedTuple):
    offset_column: int
    offset: str  # its digits, hex or octal
    words: list[str]  # four digits each, the bytes of a word in little-endian order


def word_dump(line: str) -> WordLine | None:
    match = _WORD_DUMP.match(line)
    if match is None:
        return None
    return WordLine(match.start(1), match.group(1), match.group(2).split())


def word_base(digits: str, expected: int, repeated_width: int | None) -> int | None:
    """The base of a word dump's offsets, hex (hexdump) or octal (od), when this offset
    tells: the one that puts it where the bytes read are (`expected`), or a byte before
    (the padding of an odd length), or, after `*` (a line of `repeated_width` bytes
    repeated), a whole number of lines further. None: it does not tell."""
    octal = int(digits, 8) if OCTAL_DIGITS.issuperset(digits) else None
    for base, value in ((16, int(digits, 16)), (8, octal)):
        if value is None or value < expected:
            continue
        if value in (expected, expected - 1) or (
            repeated_width is not None and (value - expected) % repeated_width == 0
        ):
            return base
    return None


def c_array(line: str, in_braces: bool) -> tuple[int, int, bool] | None:
    """The bytes' text of a C array's line, line[start:end], and whether the array goes
    on past it; None: a line of the declarations around it."""
    start, end = 0, len(line)
    if not in_braces:
        brace = line.find("{")
        if brace < 0:
            return None
        start = brace + 1
    close = line.find("}", start)
    return (start, close, False) if close >= 0 else (start, end, True)


class NodeLine(NamedTuple):
    start: int  # the bytes' text: line[start:end]
    end: int
    left_out: tuple[str, int] | None  # `... 58 more bytes`: the count, and its column


def node_buffer(line: str) -> NodeLine:
    opening = line.find(NODE_BUFFER)
    start = opening + len(NODE_BUFFER) if opening >= 0 else 0
    closing = line.rfind(">")
    end = closing if closing >= start else len(line)
    left_out = _LEFT_OUT.search(line, start, end)
    if left_out is None:
        return NodeLine(start, end, None)
    return NodeLine(start, left_out.start(), (left_out.group(1), left_out.start() + 1))
