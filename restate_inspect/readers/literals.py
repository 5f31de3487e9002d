"""Bytes as SDK code prints them, to bytes (sans-IO: text in, bytes and problems out).

- a list of numbers: Java's Arrays.toString (`[0, 0, 70, -64]`, signed), Rust's and
  Python's `[0, 0, 70, 192]`, Go's `[0 0 70 192]`, JavaScript's `Uint8Array(4) [ 0, 0, 70,
  192 ]`; what comes before the `[` and after the `]` is not read;
- a Python bytes literal: `b'\\x00\\x00\\x00F\\n\\x18'`, as repr() prints it (of a bytearray
  too: `bytearray(b'…')`).

Such prints are small: they are read whole. What is not a byte is reported with its line
and column, and skipped.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Final

from restate_inspect.rules import Problem, RepeatedProblems

_NUMBER_TOKEN: Final = re.compile(
    r"(?P<cut>\.\.\.\s*\d+\s+more\s+\w+)|(?P<number>-?\d+)|(?P<separator>[\s,]+)|(?P<other>.)"
)
LOOKS_LIKE_NUMBERS: Final = re.compile(r"\s*(?:[A-Za-z_][\w.]*(?:\(\d+\))?\s*)?\[\s*-?\d")
LOOKS_LIKE_PYTHON: Final = re.compile(r"\s*(?:bytearray\()?b['\"]")


def _problem(text: str, at: int, line: int, column: int) -> Problem:
    return Problem(
        "RI008", f"line {line}, column {column}: {text}", at, 0, line=line, column=column
    )


def number_list_bytes(text: str) -> tuple[bytes, list[Problem]]:
    """The bytes of a printed list of numbers, -128 to 255 (a negative one is a signed byte)."""
    opening, closing = text.find("["), text.rfind("]")
    start = opening + 1 if opening >= 0 else 0
    end = closing if closing >= start else len(text)
    out, problems = bytearray(), RepeatedProblems()
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line = 0
    for match in _NUMBER_TOKEN.finditer(text, start, end):
        if match.lastgroup == "separator":
            continue
        while line + 1 < len(line_starts) and line_starts[line + 1] <= match.start():
            line += 1
        column = match.start() - line_starts[line] + 1
        number = match.group() if match.lastgroup == "number" else ""
        if number and len(number) <= 4 and -128 <= int(number) <= 255:  # no int() of 10⁵ digits
            out.append(int(match.group()) % 256)
        elif match.lastgroup == "cut":  # JavaScript shows the first 100 only
            note = (
                f"{match.group()!r}: the print leaves bytes out; print them all (in Node: "
                "util.inspect(bytes, {maxArrayLength: null}))"
            )
            problems.add(_problem(note, len(out), line + 1, column))
        elif number:
            shown = number if len(number) <= 12 else f"{number[:12]}… ({len(number)} digits)"
            note = f"{shown} is not a byte (-128 to 255)"
            problems.add(_problem(note, len(out), line + 1, column))
        else:
            note = f"{match.group()!r} is not part of a list of bytes"
            problems.add(_problem(note, len(out), line + 1, column))
    return bytes(out), problems.taken()


def python_bytes(text: str) -> tuple[bytes, list[Problem]]:
    """The bytes of a Python bytes literal (several side by side are one, as in Python)."""
    text = text.strip()
    if text.startswith("bytearray(") and text.endswith(")"):
        text = text[len("bytearray(") : -1]
    try:
        with warnings.catch_warnings():  # an escape Python does not know warns on stderr
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        line = getattr(exc, "lineno", None) or 1
        column = getattr(exc, "offset", None) or 1
        return b"", [_problem(f"not a Python bytes literal ({exc})", 0, line, column)]
    if not isinstance(value, bytes):
        return b"", [_problem(f"a Python {type(value).__name__}, not bytes", 0, 1, 1)]
    return value, []
