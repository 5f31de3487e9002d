"""Hex text in the dialects people paste, to bytes (sans-IO: text in, bytes and problems out).

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

Every character that is not part of the dialect is reported with its line and column,
and skipped; decoding goes on.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from restate_inspect.rules import Problem, RepeatedProblems


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
_OCTAL: Final = frozenset("01234567")
_TOKEN: Final = re.compile(
    r"(?P<hex>(?:0[xX]|\\[xX])?[0-9A-Fa-f]+)|(?P<separator>[\s,:;\-]+)|(?P<other>.)", re.DOTALL
)
_BYTE: Final = re.compile(r"[0-9A-Fa-f]{2}")
# What most text is: runs of whole bytes, each perhaps prefixed, between separators (a
# 0x prefix only after one: 000x00 is a run of three digits and an x), read at once.
# Possessive: nothing to try again, several times faster. ASCII: the white space that
# bytes.fromhex skips.
_SEPARATORS: Final = r"[\s,:;\-]"
_ESCAPED_RUN: Final = r"\\[xX](?:[0-9A-Fa-f]{2})++"  # \x may follow digits: \x00\x01
_RUN: Final = rf"(?:0[xX])?+(?:[0-9A-Fa-f]{{2}})++|{_ESCAPED_RUN}"
_CLEAN_BYTES: Final = re.compile(
    rf"{_SEPARATORS}*+(?:(?:{_RUN})(?:{_SEPARATORS}++(?:{_RUN})|{_ESCAPED_RUN})*+{_SEPARATORS}*+)?",
    re.ASCII,
)
_PREFIXES: Final = ("0x", "0X", "\\x", "\\X")
_ASCII_COLUMN: Final = re.compile(r"\s{2,}")
_WIDE_GAP: Final = re.compile(r"\s{3,}")
_WORD: Final = re.compile(r"\S+")
_LONG_RUN: Final = 16  # digits: a stream of hex, not a list of bytes; may wrap at any column
_RUN_ENDS_HALF_WAY: Final = "a run of hex digits ends with half a byte"
# A line this long is read as it comes, not held whole: a stream copied as one line of hex
# ("copy as hex stream", a C array on one line) may be megabytes long
LONG_LINE: Final = 64 * 1024
_IN_TOKENS: Final = "0123456789abcdefABCDEFxX\\"
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


class HexTextDecoder:
    """Feed text in pieces; get the bytes and the problems of every complete line."""

    def __init__(self, dialect: Dialect | None = None) -> None:
        self.dialect = dialect
        self._partial = ""  # an incomplete last line
        self._line_number = 0
        self._column = 0  # of the line being read, before the part in hand (see _long_line)
        self._count = 0  # bytes decoded so far
        self._nibble: str | None = None  # a digit left over from a run that wraps lines
        self._nibble_at: tuple[int, int] = (0, 0)
        self._run_goes_on = False  # a long line's part ended in a run of digits
        self._previous_line = b""  # hexdump -C repeats it where `*` stands
        self._repeat_pending = False
        self._offset_skew = 0  # offset column minus bytes read, once they disagree
        self._in_braces = False  # C array: inside `{ … }`
        self._base: int | None = None  # of a word dump's offsets, once a line tells
        self._out = bytearray()
        self._problems = RepeatedProblems()

    def feed(self, text: str) -> tuple[bytes, list[Problem]]:
        text = self._partial + text
        complete = text.rfind("\n") + 1
        self._partial = text[complete:]
        if not self._clean_lines(text, complete):
            for line in text[:complete].split("\n")[:-1]:
                self._line(line)
        if len(self._partial) > LONG_LINE:
            self._long_line()
        return self._take()

    def _clean_lines(self, text: str, end: int) -> bool:
        """Plain hex of whole bytes, as most is: its lines are read all at once."""
        if self.dialect is not Dialect.PLAIN or self._nibble is not None or self._column:
            return False
        try:  # digits in pairs, and white space between them: xxd -p, a hex stream
            data = bytes.fromhex(text[:end])
        except ValueError:
            return False
        self._emit(data)
        self._line_number += text.count("\n", 0, end)
        return True

    def _long_line(self) -> None:
        """Read the part of a long incomplete line that ends with a whole token, when the
        line is plain hex or a C array. A run of digits is cut anywhere, and carries its odd
        digit on; so is a line of some other garbage, which may then read a little
        differently."""
        text = self._partial
        dialect = self.dialect or detect_dialect(text)
        if dialect not in (Dialect.PLAIN, Dialect.C_ARRAY):
            return  # a dump's line (an offset, bytes and characters), or not told yet
        self.dialect = dialect
        # no token goes on past a character that is neither a digit nor in a prefix, nor
        # begins before a backslash
        cut = max(len(text.rstrip(_IN_TOKENS)), text.rfind("\\"))
        goes_on = cut <= 0  # one run of digits: it goes on where the line does
        cut = len(text) if goes_on else cut
        if self._column == 0:
            self._line_number += 1
        self._plain_or_array(text, cut)
        self._run_goes_on = goes_on
        self._partial = text[cut:]
        self._column += cut

    def _plain_or_array(self, text: str, end: int) -> None:
        if self.dialect is Dialect.C_ARRAY:
            self._c_array_line(text[:end])
        else:
            self._tokens(text, 0, end)

    def end(self) -> tuple[bytes, list[Problem]]:
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        self._break_run()
        return self._take(final=True)

    def _take(self, *, final: bool = False) -> tuple[bytes, list[Problem]]:
        # a word dump's last byte may be the padding of an odd length, which only the
        # length line after it tells: it waits for that line
        keep = 1 if self.dialect is Dialect.WORD_DUMP and not final and self._out else 0
        out = bytes(self._out[: len(self._out) - keep])
        del self._out[: len(self._out) - keep]
        return out, self._problems.taken(None if final else self._count)

    def _emit(self, data: bytes) -> None:
        self._out += data
        self._count += len(data)

    def _report(self, code: str, text: str, line: int, column: int) -> None:
        self._problems.add(
            Problem(
                code,
                f"line {line}, column {column}: {text}",
                self._count,
                0,
                line=line,
                column=column,
            )
        )

    def _line(self, raw_line: str) -> None:
        if self._column:  # the rest of a long line (_long_line)
            line = raw_line.rstrip("\r")
            self._plain_or_array(line, len(line))
            self._column = 0
            return
        self._line_number += 1
        line = raw_line.rstrip("\r")
        if not line.strip():
            return
        if line.strip() == "*":  # hexdump, od and xxd -a: the previous line repeats
            self._repeat_pending = True
            return
        if self.dialect is None:
            self.dialect = detect_dialect(line)
        if self.dialect is Dialect.XXD:
            self._xxd_line(line)
        elif self.dialect is Dialect.HEXDUMP_C:
            self._hexdump_line(line)
        elif self.dialect is Dialect.OFFSET_DUMP:
            self._offset_dump_line(line)
        elif self.dialect is Dialect.WORD_DUMP:
            self._word_dump_line(line)
        elif self.dialect is Dialect.C_ARRAY:
            self._c_array_line(line)
        elif self.dialect is Dialect.NODE_BUFFER:
            self._node_buffer_line(line)
        else:
            self._tokens(line, 0, len(line))

    # --- dialects ------------------------------------------------------------------

    def _xxd_line(self, line: str) -> None:
        match = _XXD.match(line)
        if match is None:
            self._tokens(line, 0, len(line))  # a stray line: its bad characters get reported
            return
        start = match.start(2)
        gap = _ASCII_COLUMN.search(line, start + 1)  # the ASCII column follows two spaces
        self._offset_line(
            line, match.start(1), match.group(1), start, gap.start() if gap else len(line)
        )

    def _hexdump_line(self, line: str) -> None:
        match = _HEXDUMP_C.match(line)
        if match is None:
            self._tokens(line, 0, len(line))
            return
        start, end = (match.start(2), match.end(2)) if match.group(2) else (len(line), len(line))
        self._offset_line(line, 0, match.group(1), start, end)

    def _offset_dump_line(self, line: str) -> None:
        match = _OFFSET_DUMP.match(line)
        if match is None:
            self._tokens(line, 0, len(line))
            return
        # two digits a byte; an ASCII column begins at a wide gap or at the first non-byte
        start = end = match.start(2)
        for word in _WORD.finditer(line, start):
            wide_gap = end > start and word.start() - end >= 3
            if wide_gap or not _BYTE.fullmatch(word.group()):
                break
            end = word.end()
        self._offset_line(line, match.start(1), match.group(1), start, end)

    def _word_dump_line(self, line: str) -> None:
        match = _WORD_DUMP.match(line)
        if match is None:
            self._tokens(line, 0, len(line))
            return
        offset, words = self._word_offset(match.group(1)), match.group(2)
        self._fill_repeats(offset)
        if not words and offset == self._count - 1 and self._out and self._out[-1] == 0:
            del self._out[-1]  # the last line, the length, says this byte pads an odd length
            self._count -= 1
        self._check_offset(offset, match.start(1) + 1)
        if words:
            data = b"".join(bytes.fromhex(word)[::-1] for word in words.split())
            self._emit(data)
            self._previous_line = data

    def _word_offset(self, digits: str) -> int:
        """A word dump's offset: hex (hexdump) or octal (od), known by the first offset
        that one of them puts where the bytes read are (or, after `*`, a whole number of
        lines further); hex while nothing tells."""
        if self._base is None and self._count:
            expected = self._count + self._offset_skew
            octal = int(digits, 8) if _OCTAL.issuperset(digits) else None
            width = len(self._previous_line) or 1
            for base, value in ((16, int(digits, 16)), (8, octal)):
                if value is None or value < expected:
                    continue
                if value in (expected, expected - 1) or (
                    self._repeat_pending and (value - expected) % width == 0
                ):
                    self._base = base
                    break
        octal = self._base == 8 and _OCTAL.issuperset(digits)
        return int(digits, 8 if octal else 16)  # a digit od never writes: the line is wrong

    def _offset_line(self, line: str, column: int, offset: str, start: int, end: int) -> None:
        """A line of a dump with an offset column: check it, fill `*` repeats, read bytes."""
        self._fill_repeats(int(offset, 16))
        self._check_offset(int(offset, 16), column + 1)
        before = self._count
        self._tokens(line, start, end)
        if self._count > before:
            self._previous_line = bytes(self._out[len(self._out) - (self._count - before) :])

    def _fill_repeats(self, offset: int) -> None:
        """`*` stands for the previous line, repeated up to the next offset."""
        if not self._repeat_pending:
            return
        self._repeat_pending = False
        missing = offset - self._offset_skew - self._count
        width = len(self._previous_line)
        if width and missing > 0 and missing % width == 0:
            self._emit(self._previous_line * (missing // width))

    def _c_array_line(self, line: str) -> None:
        start, end = 0, len(line)
        if not self._in_braces:
            brace = line.find("{")
            if brace < 0:
                return  # declarations around the array
            self._in_braces, start = True, brace + 1
        close = line.find("}", start)
        if close >= 0:
            self._in_braces, end = False, close
        self._tokens(line, start, end)

    def _node_buffer_line(self, line: str) -> None:
        opening = line.find(NODE_BUFFER)
        start = opening + len(NODE_BUFFER) if opening >= 0 else 0
        closing = line.rfind(">")
        end = closing if closing >= start else len(line)
        left_out = _LEFT_OUT.search(line, start, end)
        if left_out is not None:
            end = left_out.start()
        self._tokens(line, start, end)
        if left_out is not None:
            text = (
                f"the print leaves {left_out.group(1)} bytes out; print them all (in Node: "
                "require('buffer').INSPECT_MAX_BYTES = Infinity, or buffer.toString('hex'))"
            )
            self._report("RI008", text, self._line_number, left_out.start() + 1)

    def _check_offset(self, offset: int, column: int) -> None:
        """Report where the offset column and the bytes read part, once per parting."""
        if offset - self._count == self._offset_skew:
            return
        self._offset_skew = offset - self._count
        self._report(
            "RI003",
            f"the offset column says {offset:#x}, but {self._count:#x} bytes came before",
            self._line_number,
            column,
        )

    # --- plain tokens --------------------------------------------------------------

    def _tokens(self, line: str, start: int, end: int) -> None:
        goes_on, self._run_goes_on = self._run_goes_on, False
        if self._nibble is None and self._clean_bytes(line, start, end):
            return
        for match in _TOKEN.finditer(line, start, end):
            column = self._column + match.start() + 1
            if match.lastgroup == "hex":
                at_line_end = match.end() == len(line.rstrip())
                self._hex_token(match.group(), column, at_line_end, goes_on and not match.start())
                continue
            self._break_run()
            if match.lastgroup == "other":
                text = f"{match.group()!r} is not a hex digit"
                self._report("RI001", text, self._line_number, column)

    def _clean_bytes(self, line: str, start: int, end: int) -> bool:
        """Whole bytes, perhaps prefixed, between separators, as most lines are: read at
        once, with no token to report on."""
        try:
            data = bytes.fromhex(line[start:end])
        except ValueError:
            if not _CLEAN_BYTES.fullmatch(line, start, end):
                return False
            digits = line[start:end]
            for prefix in _PREFIXES:  # where the match saw an x: each is a prefix
                digits = digits.replace(prefix, "")
            for separator in ",:;-":
                digits = digits.replace(separator, " ")
            data = bytes.fromhex(digits)
        self._emit(data)
        return True

    def _break_run(self) -> None:
        if self._nibble is not None:
            line, column = self._nibble_at
            self._report("RI002", _RUN_ENDS_HALF_WAY, line, column)
            self._nibble = None

    def _hex_token(self, token: str, column: int, at_line_end: bool, goes_on: bool) -> None:
        """goes_on: the token goes on with the run of digits that the line's part before
        ended in (_long_line)."""
        prefixed = token[:2] in _PREFIXES
        digits = token[2:] if prefixed else token
        if prefixed and len(digits) == 1:
            digits = "0" + digits  # 0x1 is a byte too
        if self._nibble is not None:
            digits = self._nibble + digits
            self._nibble = None
        if len(digits) % 2:
            last_digit = (self._line_number, column + len(token) - 1)
            if len(digits) >= _LONG_RUN or goes_on:
                # a long run that reaches the end of the line may continue on the next one;
                # one that ends here is told at its last digit, after its bytes
                self._nibble, self._nibble_at = digits[-1], last_digit
            else:
                self._report(
                    "RI002",
                    f"{token!r} has an odd number of hex digits: half a byte",
                    self._line_number,
                    column,
                )
            digits = digits[:-1]
        self._emit(bytes.fromhex(digits))
        if not at_line_end:
            self._break_run()
