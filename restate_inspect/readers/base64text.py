"""Base64 text to bytes (sans-IO): standard and URL-safe alphabets, padded or not, wrapped
or not. A character outside the alphabet is reported with its line and column, and skipped.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from restate_inspect.rules import Problem, RepeatedProblems

_CLEAN_LINE: Final = re.compile(r"[A-Za-z0-9+/_\-]*=*")
_PADDING: Final = re.compile(r"=+")
_TO_STANDARD: Final = str.maketrans("-_", "+/")
_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
LONG_LINE: Final = 64 * 1024  # a longer line is read as it comes: `base64 -w0` writes one


class Base64TextDecoder:
    def __init__(self) -> None:
        self._partial = ""  # an incomplete last line
        self._line_number = 0
        self._column = 0  # of the line being read, before the part in hand
        self._symbols = ""  # alphabet characters not yet decoded (fewer than 4)
        self._count = 0  # bytes decoded so far
        self._problems = RepeatedProblems()

    def feed(self, text: str) -> list[bytes | Problem]:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        out = b"".join(self._line(line) for line in lines)
        if len(self._partial) > LONG_LINE:
            out += self._read(self._partial)
            self._column += len(self._partial)
            self._partial = ""
        # a run of problems goes on while no byte is read: the bytes of the symbols in hand
        # count, as they place the next problem (_drop_strangers)
        problems = self._problems.taken(self._count + len(self._symbols) * 3 // 4)
        return [*problems, out] if out else [*problems]

    def end_of_stream(self) -> list[bytes | Problem]:
        out = self._line(self._partial) if self._partial else b""
        self._partial = ""
        out += self._close_group(self._symbols)
        self._symbols = ""
        problems = self._problems.taken()
        return [*problems, out] if out else [*problems]

    def _line(self, raw_line: str) -> bytes:
        out = self._read(raw_line)
        self._column = 0
        return out

    def _read(self, raw_line: str) -> bytes:
        """A line, or the part of a long one that came (its symbols are read alike)."""
        if self._column == 0:
            self._line_number += 1
        line = raw_line.strip()
        if not _CLEAN_LINE.fullmatch(line):
            line = self._drop_strangers(raw_line)
        *closed, symbols = _PADDING.split(self._symbols + line)
        out = b"".join(self._close_group(group) for group in closed)  # padding ends a group
        whole = len(symbols) - len(symbols) % 4
        self._symbols = symbols[whole:]
        return out + self._decode(symbols[:whole])

    def _close_group(self, symbols: str) -> bytes:
        if len(symbols) % 4 != 1:
            return self._decode(symbols + "=" * (-len(symbols) % 4))
        data = self._decode(symbols[:-1])  # the lone character comes after these bytes
        self._problems.add(
            Problem(
                "RI005",
                f"line {self._line_number}: a base64 group ends with one lone character "
                f"after byte {self._count}: 6 bits, not a whole byte",
                self._count,
                0,
                line=self._line_number,
            )
        )
        return data

    def _drop_strangers(self, raw_line: str) -> str:
        kept: list[str] = []
        symbols = len(self._symbols)  # of the open group(s), before the character at hand
        closed = 0  # bytes of the groups that padding closed before it
        for column, char in enumerate(raw_line, start=self._column + 1):
            if char in _ALPHABET:
                kept.append(char)
                if char != "=":
                    symbols += 1
                elif symbols:  # padding ends a group (_read)
                    closed, symbols = closed + symbols * 3 // 4, 0
            elif not char.isspace():
                self._problems.add(
                    Problem(
                        "RI004",
                        f"line {self._line_number}, column {column}: {char!r} is not base64",
                        self._count + closed + symbols * 3 // 4,  # after the bytes before
                        0,
                        line=self._line_number,
                        column=column,
                    )
                )
        return "".join(kept)

    def _decode(self, symbols: str) -> bytes:
        if not symbols:
            return b""
        data = binascii.a2b_base64(symbols.translate(_TO_STANDARD))
        self._count += len(data)
        return data
