"""What an input's bytes are (sans-IO): its format sniffed from its first bytes, text
formats (hex, base64, bytes printed by code, a Lambda event's JSON) turned into the stream's
bytes, and those bytes as one direction's events."""

from __future__ import annotations

import binascii
import codecs
import itertools
import json
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import replace
from enum import StrEnum
from typing import Final

from restate_inspect.events import Chunk, InputEvent, StreamEnd
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.readers.hextext import NODE_BUFFER, HexTextDecoder
from restate_inspect.readers.literals import (
    LOOKS_LIKE_NUMBERS,
    LOOKS_LIKE_PYTHON,
    number_list_bytes,
    python_bytes,
)
from restate_inspect.rules import Problem

MAX_ENVELOPE: Final = 64 * 1024 * 1024  # a JSON envelope (Lambda event) is read whole
HEX_TYPO_RATE: Final = 64  # a hex dump may have a typo per this many bytes and still be hex
_BASE64_LINE: Final = re.compile(r"[A-Za-z0-9+/_-]+=*")
START_MESSAGE_HEADER: Final = b"\x00\x00"  # type 0x0000: a request body begins with it


class InputFormat(StrEnum):
    AUTO = "auto"
    RAW = "raw"
    HEX = "hex"
    BASE64 = "base64"
    NUMBERS = "numbers"
    PYTHON_BYTES = "python-bytes"
    PCAP = "pcap"
    PCAPNG = "pcapng"
    SYS_JOURNAL = "sys-journal"


class InputError(Exception):
    """The input cannot be opened, read or recognised (exit code 2)."""


def _as_text(prefix: bytes) -> str | None:
    """The prefix as text, if it is text (a partial UTF-8 character at the end is fine)."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(prefix)
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\r\n\t\f\v" for c in text) else None


def _complete_lines(text: str, whole: bool) -> str:
    return text if whole or "\n" not in text else text[: text.rindex("\n")]


def _hex_problems(lines: str) -> tuple[int, int, int]:
    """Bytes, problems, and bad characters (a typo's other problems follow from it)."""
    read = HexTextDecoder().feed(lines + "\n")
    problems = [p for p in read if isinstance(p, Problem)]
    data = sum(len(p) for p in read if isinstance(p, bytes))
    found = sum(p.repeats for p in problems)
    return data, found, sum(p.repeats for p in problems if p.code == "RI001")


def _is_base64(lines: str) -> bool:
    """Strict: base64 lines hold no spaces, and wrapped lines share one width."""
    rows = [row.strip() for row in lines.splitlines() if row.strip()]
    if not rows or not all(_BASE64_LINE.fullmatch(row) for row in rows):
        return False
    return len({len(row) for row in rows[:-1]}) <= 1


def sniff(prefix: bytes, whole: bool) -> tuple[InputFormat, bool]:
    """The format of an input from its first bytes, and whether it is a JSON envelope.

    `whole` says the prefix is the entire input, so its last line is complete. Hex is
    tried before base64 (every hex stream is valid base64 too); a hex dump with a few
    typos is still hex, so that the typos get reported with their line and column.
    """
    text = _as_text(prefix)
    if text is None or not text.strip():
        return InputFormat.RAW, False
    lines = _complete_lines(text, whole)
    if text.lstrip().startswith("{") and '"body"' in text:
        return InputFormat.BASE64, True
    if LOOKS_LIKE_PYTHON.match(text):
        return InputFormat.PYTHON_BYTES, False
    if LOOKS_LIKE_NUMBERS.match(text):
        return InputFormat.NUMBERS, False
    if text.lstrip().startswith(NODE_BUFFER):  # hex, however much of it the print left out
        return InputFormat.HEX, False
    if lines.rstrip().endswith("=") and _is_base64(lines):  # padded: hex has no "="
        return InputFormat.BASE64, False
    decoded, problems, typos = _hex_problems(lines)
    few_typos = typos <= max(1, decoded // HEX_TYPO_RATE) and _mostly_hex_digits(lines)
    if decoded and (not problems or few_typos):
        return InputFormat.HEX, False
    if _is_base64(lines):
        return InputFormat.BASE64, False
    return InputFormat.RAW, False


def _mostly_hex_digits(lines: str) -> bool:
    """Base64 of binary data is about one third hex digits; a hex dump nearly all."""
    symbols = [c for c in lines if not c.isspace()]
    digits = sum(c in string.hexdigits for c in symbols)
    return digits >= 0.9 * len(symbols)


# --- converting ----------------------------------------------------------------------


def _text_chunks(chunks: Iterable[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _converted(
    chunks: Iterable[bytes], converter: HexTextDecoder | Base64TextDecoder
) -> Iterator[bytes | Problem]:
    for text in _text_chunks(chunks):
        yield from converter.feed(text)
    yield from converter.end_of_stream()


def _whole_text(chunks: Iterable[bytes], label: str, what: str) -> str:
    """An input that is read whole (a JSON envelope, bytes printed by code): bounded."""
    raw = bytearray()
    for chunk in chunks:
        raw += chunk
        if len(raw) > MAX_ENVELOPE:
            raise InputError(f"{label}: {what} larger than {MAX_ENVELOPE} bytes")
    return raw.decode("utf-8", "replace")


_PRINTED: Final = {InputFormat.NUMBERS: number_list_bytes, InputFormat.PYTHON_BYTES: python_bytes}


def _envelope_body(chunks: Iterable[bytes], label: str) -> Iterator[bytes | Problem]:
    """A JSON object whose "body" holds the stream, as AWS Lambda events and responses do."""
    try:
        envelope = json.loads(_whole_text(chunks, label, "JSON envelope"))
    except ValueError as exc:
        raise InputError(f"{label}: looks like a JSON envelope but is not JSON: {exc}") from None
    body = envelope.get("body") if isinstance(envelope, dict) else None
    if not isinstance(body, str):
        raise InputError(f'{label}: JSON input without a "body" string')
    plain = envelope.get("isBase64Encoded") is False
    del envelope  # one copy of the body at a time: a 54 KB gzip can hold 64 MB of it
    if plain:
        yield body.encode("utf-8")
        return
    try:  # as Lambda writes it: one line of standard base64, decoded in one go
        data = binascii.a2b_base64(body, strict_mode=True)
    except (binascii.Error, ValueError):
        yield from _converted([body.encode("ascii", errors="replace")], Base64TextDecoder())
        return
    if data:
        yield data


def converted(
    first: bytes, whole: bool, rest: Iterable[bytes], label: str, input_format: InputFormat
) -> Iterator[bytes | Problem]:
    """The stream bytes of an input whose first bytes are `first` (all of it when whole) and
    whose other bytes come in `rest`, converted from hex or base64 where needed."""
    envelope = False
    if input_format is InputFormat.AUTO:
        input_format, envelope = sniff(first, whole)
        if input_format is InputFormat.RAW and _as_text(first) and first.strip():
            yield Problem(
                "RI006",
                f"{label} is text, but neither hex nor base64; reading it as raw bytes "
                "(--input-format chooses)",
                0,
                0,
            )
    chunks = itertools.chain([first] if first else [], rest)
    if envelope:
        yield from _envelope_body(chunks, label)
    elif input_format in _PRINTED:
        data, problems = _PRINTED[input_format](_whole_text(chunks, label, "printed bytes"))
        yield from problems
        yield data
    elif input_format is InputFormat.HEX:
        yield from _converted(chunks, HexTextDecoder())
    elif input_format is InputFormat.BASE64:
        yield from _converted(chunks, Base64TextDecoder())
    else:
        yield from chunks


def stream_events(
    pieces: Iterable[bytes | Problem], stream: StreamKey, direction: Direction | None
) -> Iterator[InputEvent]:
    """Chunk events for one direction. Without a direction given, it is read off the bytes:
    a stream that begins with a StartMessage is runtime→SDK, any other is SDK→runtime."""
    iterator = iter(pieces)
    held: list[bytes | Problem] = []
    if direction is None:
        head = b""
        for piece in iterator:
            held.append(piece)
            if isinstance(piece, bytes):
                head += piece[: len(START_MESSAGE_HEADER)]
                if len(head) >= len(START_MESSAGE_HEADER):
                    break
        direction = _direction_of(head)
        if head:
            yield _direction_inferred(direction, stream)
    for piece in itertools.chain(held, iterator):
        if isinstance(piece, Problem):
            yield replace(piece, stream=stream, direction=direction)
        else:
            yield Chunk(stream, direction, piece)
    yield StreamEnd(stream, direction)


def _direction_of(head: bytes) -> Direction:
    if head.startswith(START_MESSAGE_HEADER):
        return Direction.RUNTIME_TO_SDK
    return Direction.SDK_TO_RUNTIME


def _direction_inferred(direction: Direction, stream: StreamKey) -> Problem:
    """Said once, as a guess must be: a response that was cut before its StartMessage
    would be read the wrong way round."""
    if direction is Direction.RUNTIME_TO_SDK:
        why = "runtime→SDK (a request body), as it begins with a StartMessage (type 0x0000)"
    else:
        why = "SDK→runtime (a response body), as it does not begin with a StartMessage"
    text = f"direction inferred: read as {why}; --direction chooses"
    return Problem("RI011", text, 0, 0, stream=stream, direction=direction)


class TextBytes:
    """An input's bytes once converted from its text (hex, base64...; binary as it is),
    peeked at, then read as a file is read (a capture written out as text: `xxd -p
    dump.pcap`) or handed on as they came. Read as a file, the text's own problems (a line
    that is not hex) are kept for after."""

    def __init__(self, pieces: Iterable[bytes | Problem]) -> None:
        self._pieces = iter(pieces)
        self._peeked: list[bytes | Problem] = []  # in the order they came
        self._held = b""
        self.problems: list[Problem] = []

    def peek(self, size: int) -> bytes:
        """The first `size` bytes (fewer at the end), left to be read."""
        head = b"".join(p for p in self._peeked if isinstance(p, bytes))
        while len(head) < size and (piece := next(self._pieces, None)) is not None:
            self._peeked.append(piece)
            head += piece if isinstance(piece, bytes) else b""
        return head[:size]

    def pieces(self) -> Iterator[bytes | Problem]:
        """Every piece, in the order it came."""
        return itertools.chain(self._peeked, self._pieces)

    def read(self, size: int = -1, /) -> bytes:
        if self._peeked:  # read from the first piece on
            self._pieces, self._peeked = self.pieces(), []
        while size < 0 or len(self._held) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            if isinstance(piece, Problem):
                self.problems.append(piece)
            else:
                self._held += piece
        cut = len(self._held) if size < 0 else size
        data, self._held = self._held[:cut], self._held[cut:]
        return data
