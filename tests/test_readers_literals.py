"""Bytes as SDK code prints them: lists of numbers (Java, Rust, Python, Go, JavaScript) and
Python bytes literals. tests/data/hex holds what the real runtimes printed (java, rustc,
node, python3), beside the bytes they printed."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from restate_inspect.readers import InputError, InputFormat, decoded_bytes, sniff
from restate_inspect.readers.literals import number_list_bytes, python_bytes
from restate_inspect.rules import Problem
from tests.helpers import run_cli

DATA = Path(__file__).parent / "data" / "hex"
PRINTS = {
    "java": InputFormat.NUMBERS,  # Arrays.toString(byte[]): signed
    "rust": InputFormat.NUMBERS,  # {:?} of a Vec<u8>
    "node": InputFormat.NUMBERS,  # util.inspect of a Uint8Array, whole, over several lines
    "python": InputFormat.PYTHON_BYTES,  # repr(bytes)
}
CASES = [(name, kind) for name in ("call", "zeros", "high") for kind in PRINTS] + [
    ("call", "python-list"),
    ("call", "python-bytearray"),
]


def _read(text: bytes, input_format: InputFormat = InputFormat.AUTO) -> tuple[bytes, list[Problem]]:
    pieces = list(decoded_bytes(io.BytesIO(text), "x", input_format))
    data = b"".join(p for p in pieces if isinstance(p, bytes))
    return data, [p for p in pieces if isinstance(p, Problem)]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_what_a_runtime_printed_reads_back_to_its_bytes(name: str, kind: str) -> None:
    text = (DATA / f"{name}.{kind}").read_bytes()
    kind = kind.removesuffix("-bytearray")  # a bytearray prints as its bytes do
    assert sniff(text, whole=True) == (PRINTS.get(kind, InputFormat.NUMBERS), False)
    assert _read(text) == ((DATA / f"{name}.bin").read_bytes(), [])


def test_a_print_that_leaves_bytes_out_says_so() -> None:
    data, problems = _read((DATA / "high.node-cut").read_bytes())
    assert data == bytes(range(100))  # what node shows: the first hundred
    (problem,) = problems
    assert problem.code == "RI008" and "156 more items" in problem.message
    assert (problem.offset, problem.line) == (100, 11)


def test_what_is_not_a_byte_is_reported_where_it_is() -> None:
    data, problems = number_list_bytes("[0, 5,\n 300, x, -129, 7]")
    assert data == bytes([0, 5, 7])
    # three in a row with no byte read between: one finding, with how many and to where
    assert [(p.code, p.line, p.column, p.repeats, p.last) for p in problems] == [
        ("RI008", 2, 2, 3, (2, 10))
    ]
    assert problems[0].message == (
        "line 2, column 2: 300 is not a byte (-128 to 255); and 2 more like it, to line 2, "
        "column 10"
    )
    _, apart = number_list_bytes("[x, 1, y]")  # a byte read between: two findings
    assert [(p.column, p.repeats) for p in apart] == [(2, 1), (8, 1)]


def test_python_literals_that_are_not_bytes() -> None:
    assert python_bytes("b'\\x00' b'\\x05'") == (b"\x00\x05", [])  # side by side: one
    data, problems = python_bytes("'text, not bytes'")
    assert data == b"" and "a Python str, not bytes" in problems[0].message
    data, problems = python_bytes("b'\\x00\nb'")
    assert data == b"" and problems[0].code == "RI008" and problems[0].line == 1


def test_the_format_can_be_named_and_a_huge_print_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _read(b"1 2 3", InputFormat.NUMBERS) == (b"\x01\x02\x03", [])
    monkeypatch.setattr("restate_inspect.readers.formats.MAX_ENVELOPE", 10)
    with pytest.raises(InputError, match="printed bytes larger than 10 bytes"):
        _read(b"[" + b"1, " * 10 + b"]")


def test_the_cli_decodes_a_java_print() -> None:
    result = run_cli(["decode", "-"], stdin=(DATA / "call.java").read_text())
    plain = run_cli(["decode", str(DATA / "call.bin")])
    assert result.exit_code == 0
    assert result.stdout.replace("<stdin>", "x") == plain.stdout.replace(
        str(DATA / "call.bin"), "x"
    )


def test_an_unknown_escape_is_kept_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would reach the user's terminal
        assert python_bytes("b'\\z\\x00'") == (b"\\z\x00", [])


def test_a_number_of_many_digits_is_not_a_byte_and_is_shown_short() -> None:
    """int() refuses strings of more than 4,300 digits: found by the fuzz campaign."""
    data, problems = number_list_bytes("[" + "9" * 326_078 + ", 1]")
    assert data == b"\x01"
    (problem,) = problems
    assert problem.message == (
        "line 1, column 2: 999999999999… (326078 digits) is not a byte (-128 to 255)"
    )
