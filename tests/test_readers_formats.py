"""Input formats: sniffing what an input is, and the direction its first bytes tell."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from restate_inspect.events import Chunk, StreamEnd
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.formats import InputFormat, TextBytes, sniff, stream_events
from restate_inspect.rules import Problem

HEX_DATA = Path(__file__).parent / "data" / "hex"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("call.bin", InputFormat.RAW),
        ("call.xxd", InputFormat.HEX),
        ("call.hexdump-C", InputFormat.HEX),
        ("call.hexdump", InputFormat.HEX),
        ("call.od-x", InputFormat.HEX),
        ("call.node-buffer", InputFormat.HEX),
        ("call.node-buffer-cut", InputFormat.HEX),
        ("call.xxd-i", InputFormat.HEX),
        ("call.stream", InputFormat.HEX),
        ("call.0x", InputFormat.HEX),
        ("call.base64", InputFormat.BASE64),
        ("call.base64url", InputFormat.BASE64),
    ],
)
def test_sniffing_recognises_each_kind(fixture: str, expected: InputFormat) -> None:
    assert sniff((HEX_DATA / fixture).read_bytes(), whole=True) == (expected, False)


def test_sniffing_prose_empty_and_envelopes() -> None:
    assert sniff(b"hello world, not hex\n", whole=True) == (InputFormat.RAW, False)
    assert sniff(b"", whole=True) == (InputFormat.RAW, False)
    assert sniff(b'{"body": "AAAA"}', whole=True) == (InputFormat.BASE64, True)


def test_sniffing_a_cut_prefix_uses_whole_lines_only() -> None:
    text = (HEX_DATA / "call.xxd").read_bytes()
    assert sniff(text[:100], whole=False) == (InputFormat.HEX, False)


def test_padded_base64_of_hex_letters_is_base64() -> None:
    """Base64 of a frame of zeros is all "A"s, hex digits: its padding tells it apart."""
    padded = base64.b64encode(bytes(8)) + b"\n"  # AAAAAAAAAAA=
    assert sniff(padded, whole=True) == (InputFormat.BASE64, False)
    assert sniff(b"0000000000000000\n", whole=True) == (InputFormat.HEX, False)  # no padding


def test_a_hex_dump_with_a_typo_is_still_hex() -> None:
    text = (HEX_DATA / "call.xxd-p").read_text().replace("0c", "0g", 1).encode()
    assert sniff(text, whole=True)[0] is InputFormat.HEX


def test_direction_is_read_off_the_first_bytes_even_when_split_and_said() -> None:
    pieces: list[bytes | Problem] = [b"", b"\x00", b"\x00\x00\x00"]
    told, *events = stream_events(pieces, StreamKey("x"), None)
    assert isinstance(told, Problem) and (told.code, told.offset) == ("RI011", 0)
    assert told.direction is Direction.RUNTIME_TO_SDK and "request body" in told.message
    assert {e.direction for e in events if isinstance(e, Chunk)} == {Direction.RUNTIME_TO_SDK}
    told, *events = stream_events([b"\x0c\x01"], StreamKey("x"), None)
    assert isinstance(told, Problem) and told.direction is Direction.SDK_TO_RUNTIME
    assert "response body" in told.message and told.stream == StreamKey("x")
    assert events[0] == Chunk(StreamKey("x"), Direction.SDK_TO_RUNTIME, b"\x0c\x01")
    assert list(stream_events([], StreamKey("x"), None)) == [  # no byte: nothing guessed
        StreamEnd(StreamKey("x"), Direction.SDK_TO_RUNTIME)
    ]


def test_a_direction_given_is_not_guessed() -> None:
    events = list(stream_events([b"\x0c\x01"], StreamKey("x"), Direction.RUNTIME_TO_SDK))
    assert not [e for e in events if isinstance(e, Problem)]


def test_text_bytes_peeked_are_still_read_and_handed_on_in_order() -> None:
    cut = Problem("RI001", "not hex", None, None, line=2, column=1)
    pieces: list[bytes | Problem] = [b"ab", cut, b"cd", b"ef"]
    text = TextBytes(pieces)
    assert text.peek(3) == b"abc" and text.peek(1) == b"a"
    assert list(text.pieces()) == pieces  # the peeked ones first, as they came
    read = TextBytes(pieces)
    assert read.peek(3) == b"abc"
    assert (read.read(1), read.read(4), read.read(), read.read(2)) == (b"a", b"bcde", b"f", b"")
    assert read.problems == [cut]  # kept for after
    assert TextBytes([]).peek(4) == b""
