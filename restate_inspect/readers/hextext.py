"""Hex text in the dialects people paste (hexdialects.py), to bytes (sans-IO: text in,
bytes and problems out).

Every character that is not part of the dialect is reported with its line and column,
and skipped; decoding goes on.
"""

from __future__ import annotations

import re
from typing import Final

from restate_inspect.readers.hexdialects import (
    DUMPS,
    NODE_BUFFER,
    OCTAL_DIGITS,
    Dialect,
    DumpLine,
    c_array,
    detect_dialect,
    node_buffer,
    word_base,
    word_dump,
)
from restate_inspect.rules import Problem, RepeatedProblems

__all__ = ["LONG_LINE", "NODE_BUFFER", "Dialect", "HexTextDecoder", "detect_dialect"]


_TOKEN: Final = re.compile(
    r"(?P<hex>(?:0[xX]|\\[xX])?[0-9A-Fa-f]+)|(?P<separator>[\s,:;\-]+)|(?P<other>.)", re.DOTALL
)
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
_LONG_RUN: Final = 16  # digits: a stream of hex, not a list of bytes; may wrap at any column
_RUN_ENDS_HALF_WAY: Final = "a run of hex digits ends with half a byte"
# A line this long is read as it comes, not held whole: a stream copied as one line of hex
# ("copy as hex stream", a C array on one line) may be megabytes long
LONG_LINE: Final = 64 * 1024
_IN_TOKENS: Final = "0123456789abcdefABCDEFxX\\"


class HexTextDecoder:
    """Feed text in pieces; get the bytes and the problems of every complete line."""

    def __init__(self, dialect: Dialect | None = None) -> None:
        self.dialect = dialect
        self._partial = ""  # an incomplete last line
        self._runs = HexRuns()
        self._previous_line = b""  # hexdump -C repeats it where `*` stands
        self._repeat_pending = False
        self._offset_skew = 0  # offset column minus bytes read, once they disagree
        self._in_braces = False  # C array: inside `{ … }`
        self._base: int | None = None  # of a word dump's offsets, once a line tells

    def feed(self, text: str) -> list[bytes | Problem]:
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
        if self.dialect is not Dialect.PLAIN or self._runs.nibble is not None or self._runs.column:
            return False
        try:  # digits in pairs, and white space between them: xxd -p, a hex stream
            data = bytes.fromhex(text[:end])
        except ValueError:
            return False
        self._runs.emit(data)
        self._runs.line_number += text.count("\n", 0, end)
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
        if self._runs.column == 0:
            self._runs.line_number += 1
        self._plain_or_array(text, cut)
        self._runs.run_goes_on = goes_on
        self._partial = text[cut:]
        self._runs.column += cut

    def _plain_or_array(self, text: str, end: int) -> None:
        if self.dialect is Dialect.C_ARRAY:
            self._c_array_line(text[:end])
        else:
            self._runs.read(text, 0, end)

    def end_of_stream(self) -> list[bytes | Problem]:
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        self._runs.break_run()
        return self._take(final=True)

    def _take(self, *, final: bool = False) -> list[bytes | Problem]:
        """The problems found, then the bytes read (when there are some)."""
        # a word dump's last byte may be the padding of an odd length, which only the
        # length line after it tells: it waits for that line
        keep = 1 if self.dialect is Dialect.WORD_DUMP and not final and self._runs.out else 0
        out = bytes(self._runs.out[: len(self._runs.out) - keep])
        del self._runs.out[: len(self._runs.out) - keep]
        problems = self._runs.problems.taken(None if final else self._runs.count)
        return [*problems, out] if out else [*problems]

    def _line(self, raw_line: str) -> None:
        if self._runs.column:  # the rest of a long line (_long_line)
            line = raw_line.rstrip("\r")
            self._plain_or_array(line, len(line))
            self._runs.column = 0
            return
        self._runs.line_number += 1
        line = raw_line.rstrip("\r")
        if not line.strip():
            return
        if line.strip() == "*":  # hexdump, od and xxd -a: the previous line repeats
            self._repeat_pending = True
            return
        if self.dialect is None:
            self.dialect = detect_dialect(line)
        reads = DUMPS.get(self.dialect)
        if reads is not None:
            self._dump_line(line, reads(line))
        elif self.dialect is Dialect.WORD_DUMP:
            self._word_dump_line(line)
        elif self.dialect is Dialect.C_ARRAY:
            self._c_array_line(line)
        elif self.dialect is Dialect.NODE_BUFFER:
            self._node_buffer_line(line)
        else:
            self._runs.read(line, 0, len(line))

    # --- dialects ------------------------------------------------------------------

    def _dump_line(self, line: str, dump: DumpLine | None) -> None:
        """A line of a dump with an offset column: check it, fill `*` repeats, read bytes."""
        if dump is None:
            self._runs.read(line, 0, len(line))  # a stray line: its bad characters get reported
            return
        offset = int(dump.offset, 16)
        self._fill_repeats(offset)
        self._check_offset(offset, dump.offset_column + 1)
        before = self._runs.count
        self._runs.read(line, dump.start, dump.end)
        if self._runs.count > before:
            self._previous_line = self._runs.last(self._runs.count - before)

    def _word_dump_line(self, line: str) -> None:
        words = word_dump(line)
        if words is None:
            self._runs.read(line, 0, len(line))
            return
        offset = self._word_offset(words.offset)
        self._fill_repeats(offset)
        if not words.words and offset == self._runs.count - 1 and self._runs.last(1) == b"\0":
            self._runs.drop_last()  # the last line, the length, says it pads an odd length
        self._check_offset(offset, words.offset_column + 1)
        if words.words:
            data = b"".join(bytes.fromhex(word)[::-1] for word in words.words)
            self._runs.emit(data)
            self._previous_line = data

    def _word_offset(self, digits: str) -> int:
        """A word dump's offset, in the base its first telling line showed (see
        word_base); hex while nothing tells."""
        if self._base is None and self._runs.count:
            expected = self._runs.count + self._offset_skew
            width = len(self._previous_line) or 1
            self._base = word_base(digits, expected, width if self._repeat_pending else None)
        octal = self._base == 8 and OCTAL_DIGITS.issuperset(digits)
        return int(digits, 8 if octal else 16)  # a digit od never writes: the line is wrong

    def _fill_repeats(self, offset: int) -> None:
        """`*` stands for the previous line, repeated up to the next offset."""
        if not self._repeat_pending:
            return
        self._repeat_pending = False
        missing = offset - self._offset_skew - self._runs.count
        width = len(self._previous_line)
        if width and missing > 0 and missing % width == 0:
            self._runs.emit(self._previous_line * (missing // width))

    def _c_array_line(self, line: str) -> None:
        inside = c_array(line, self._in_braces)
        if inside is not None:
            start, end, self._in_braces = inside
            self._runs.read(line, start, end)

    def _node_buffer_line(self, line: str) -> None:
        node = node_buffer(line)
        self._runs.read(line, node.start, node.end)
        if node.left_out is not None:
            count, column = node.left_out
            text = (
                f"the print leaves {count} bytes out; print them all (in Node: "
                "require('buffer').INSPECT_MAX_BYTES = Infinity, or buffer.toString('hex'))"
            )
            self._runs.report("RI008", text, self._runs.line_number, column)

    def _check_offset(self, offset: int, column: int) -> None:
        """Report where the offset column and the bytes read part, once per parting."""
        if offset - self._runs.count == self._offset_skew:
            return
        self._offset_skew = offset - self._runs.count
        self._runs.report(
            "RI003",
            f"the offset column says {offset:#x}, but {self._runs.count:#x} bytes came before",
            self._runs.line_number,
            column,
        )


class HexRuns:
    """Runs of hex digits to bytes: all of a plain text's, and the bytes' part of every
    dump's line. What is not a digit is reported where it stands, and skipped."""

    def __init__(self) -> None:
        self.line_number = 0
        self.column = 0  # of the line being read, before the part in hand (see _long_line)
        self.count = 0  # bytes decoded so far
        self.out = bytearray()
        self.problems = RepeatedProblems()
        self.nibble: str | None = None  # a digit left over from a run that wraps lines
        self.nibble_at: tuple[int, int] = (0, 0)
        self.run_goes_on = False  # a long line's part ended in a run of digits

    def emit(self, data: bytes) -> None:
        self.out += data
        self.count += len(data)

    def last(self, count: int) -> bytes:
        """The last bytes read, of those not yet taken."""
        return bytes(self.out[max(0, len(self.out) - count) :])

    def drop_last(self) -> None:
        del self.out[-1]
        self.count -= 1

    def report(self, code: str, text: str, line: int, column: int) -> None:
        problem = Problem(
            code, f"line {line}, column {column}: {text}", self.count, 0, line=line, column=column
        )
        self.problems.add(problem)

    def read(self, line: str, start: int, end: int) -> None:
        goes_on, self.run_goes_on = self.run_goes_on, False
        if self.nibble is None and self._clean_bytes(line, start, end):
            return
        for match in _TOKEN.finditer(line, start, end):
            column = self.column + match.start() + 1
            if match.lastgroup == "hex":
                at_line_end = match.end() == len(line.rstrip())
                self._hex_token(match.group(), column, at_line_end, goes_on and not match.start())
                continue
            self.break_run()
            if match.lastgroup == "other":
                text = f"{match.group()!r} is not a hex digit"
                self.report("RI001", text, self.line_number, column)

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
        self.emit(data)
        return True

    def break_run(self) -> None:
        if self.nibble is not None:
            line, column = self.nibble_at
            self.report("RI002", _RUN_ENDS_HALF_WAY, line, column)
            self.nibble = None

    def _hex_token(self, token: str, column: int, at_line_end: bool, goes_on: bool) -> None:
        """goes_on: the token goes on with the run of digits that the line's part before
        ended in (_long_line)."""
        prefixed = token[:2] in _PREFIXES
        digits = token[2:] if prefixed else token
        if prefixed and len(digits) == 1:
            digits = "0" + digits  # 0x1 is a byte too
        if self.nibble is not None:
            digits = self.nibble + digits
            self.nibble = None
        if len(digits) % 2:
            last_digit = (self.line_number, column + len(token) - 1)
            if len(digits) >= _LONG_RUN or goes_on:
                # a long run that reaches the end of the line may continue on the next one;
                # one that ends here is told at its last digit, after its bytes
                self.nibble, self.nibble_at = digits[-1], last_digit
            else:
                self.report(
                    "RI002",
                    f"{token!r} has an odd number of hex digits: half a byte",
                    self.line_number,
                    column,
                )
            digits = digits[:-1]
        self.emit(bytes.fromhex(digits))
        if not at_line_end:
            self.break_run()
