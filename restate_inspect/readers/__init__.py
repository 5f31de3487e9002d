"""Inputs: sniff the format, read in chunks, yield Chunk / StreamEnd / Problem events.

This is one of the two places that touch files (the cli package is the other). The
converters it uses (hex text, base64) are sans-IO.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import os
import queue
import re
import string
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from enum import StrEnum
from typing import BinaryIO, Final, TypeVar

from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.readers.capture import CaptureDecoder, Share
from restate_inspect.readers.compressed import GZIP_MAGIC, MAGIC_SIZE, decompressing
from restate_inspect.readers.events import Chunk, InputEvent, StreamEnd
from restate_inspect.readers.hextext import NODE_BUFFER, HexTextDecoder
from restate_inspect.readers.literals import (
    LOOKS_LIKE_NUMBERS,
    LOOKS_LIKE_PYTHON,
    number_list_bytes,
    python_bytes,
)
from restate_inspect.readers.pcapfile import Readable, is_capture, read_packets
from restate_inspect.rules import Problem

CHUNK_SIZE: Final = 64 * 1024  # small enough for a batch of frames to stay in cache
SNIFF_SIZE: Final = 64 * 1024
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


class InputError(Exception):
    """The input cannot be opened, read or recognised (exit code 2)."""


# --- sniffing ----------------------------------------------------------------------


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
    decoder = HexTextDecoder()
    data, problems = decoder.feed(lines + "\n")
    return len(data), len(problems), sum(p.code == "RI001" for p in problems)


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


# --- reading -----------------------------------------------------------------------


def _read_chunks(handle: Readable, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def _text_chunks(chunks: Iterable[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _converted(
    chunks: Iterable[bytes], converter: HexTextDecoder | Base64TextDecoder
) -> Iterator[bytes | Problem]:
    for text in _text_chunks(chunks):
        data, problems = converter.feed(text)
        yield from problems
        if data:
            yield data
    data, problems = converter.end()
    yield from problems
    if data:
        yield data


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
    if envelope.get("isBase64Encoded") is False:
        yield body.encode("utf-8")
        return
    yield from _converted([body.encode("ascii", errors="replace")], Base64TextDecoder())


def decoded_bytes(
    handle: Readable, label: str, input_format: InputFormat
) -> Iterator[bytes | Problem]:
    """The stream bytes of one input, converted from hex or base64 where needed."""
    first = handle.read(SNIFF_SIZE)
    whole = len(first) < SNIFF_SIZE
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
    chunks = _read_chunks(handle, first)
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
        is_request = head.startswith(START_MESSAGE_HEADER)
        direction = Direction.RUNTIME_TO_SDK if is_request else Direction.SDK_TO_RUNTIME
    for piece in itertools.chain(held, iterator):
        if isinstance(piece, Problem):
            yield replace(piece, stream=stream, direction=direction)
        else:
            yield Chunk(stream, direction, piece)
    yield StreamEnd(stream, direction)


def _seekable(handle: Readable) -> bool:
    try:
        return bool(handle.seekable())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # closed by read_input
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror or exc}") from None


Progress = Callable[[int], None]  # told the bytes read so far


class _Rewound:
    """A handle whose first bytes were already read for sniffing, and that counts."""

    def __init__(self, first: bytes, handle: Readable, progress: Progress | None) -> None:
        self._first = first
        self._handle = handle
        self._progress = progress
        self._count = 0

    def read(self, size: int = -1, /) -> bytes:
        if self._first:
            data, self._first = self._first[:size], self._first[size:]
            if len(data) < size:
                data += self._handle.read(size - len(data))
        else:
            data = self._handle.read(size)
        return self._counted(data)

    def read1(self, size: int = -1, /) -> bytes:
        """Up to size bytes, as many as there are now (at least one, unless at the end)."""
        if self._first:
            data, self._first = self._first[:size], self._first[size:]
        else:
            data = getattr(self._handle, "read1", self._handle.read)(size)
        return self._counted(data)

    def _counted(self, data: bytes) -> bytes:
        self._count += len(data)
        if self._progress is not None:
            self._progress(self._count)
        return data


def _and_then(
    pieces: Iterable[bytes | Problem], problems: Callable[[], list[Problem]]
) -> Iterator[bytes | Problem]:
    """The pieces, then the problems found while they were read."""
    yield from pieces
    yield from problems()


def input_size(path: str) -> int:
    """The bytes a file holds, decompressed where its format tells that cheaply (gzip's
    trailer, modulo 4 GiB); its size on disk otherwise."""
    size = os.path.getsize(path)
    with _open(path) as handle:
        if size >= _GZIP_SMALLEST and handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
            handle.seek(-4, os.SEEK_END)
            return max(size, int.from_bytes(handle.read(4), "little"))
    return size


_GZIP_SMALLEST: Final = 18  # header and trailer


def capture_kind(path: str) -> str | None:
    """ "pcap", "pcapng" or None for a file, compressed or not."""
    with _open(path) as handle:
        first = handle.read(MAGIC_SIZE)
        unpacked = decompressing(first, _Rewound(first, handle, None))
        if isinstance(unpacked, str):
            return None
        return is_capture(first if unpacked is None else unpacked.read(4))


def capture_events(
    handle: Readable, label: str, share: Share = (0, 1), *, live: bool = False
) -> Iterator[InputEvent]:
    """Every event of a pcap or pcapng capture, packet by packet (of a share of its
    connections: see CaptureDecoder). live: the packets come as they are captured (a
    pipe); while none comes, capture time is taken to go on as the clock does."""
    decoder = CaptureDecoder(share)
    number = 0  # of the last packet read
    last: tuple[float, float] | None = None  # its capture time, and the clock's then
    items = read_packets(handle, label)
    for item in _with_pauses(items, _QUIET) if live else items:
        if isinstance(item, _Pause):
            if last is not None:
                now = last[0] + time.monotonic() - last[1]
                yield from _placed(decoder.idle(now), number)
            continue
        if isinstance(item, Problem):
            if decoder.reports_capture:  # the reader's: about the packet after the last one
                yield replace(item, packet=number + 1)
            continue
        number = item.number
        if live and item.time is not None:
            last = (item.time, time.monotonic())
        yield from _placed(decoder.packet(item), number)
    yield from decoder.end_of_capture()


def _placed(events: list[InputEvent], number: int) -> Iterator[InputEvent]:
    """Problems found while reading packet `number` (or after it) name it."""
    for event in events:
        if isinstance(event, Problem) and event.packet is None:
            yield replace(event, packet=number)
        else:
            yield event


class _Pause:
    """No packet came for a while."""


_PAUSE: Final = _Pause()
_T = TypeVar("_T")
_QUIET: Final = 0.5  # seconds without a packet that make a pause


def _with_pauses(items: Iterator[_T], seconds: float) -> Iterator[_T | _Pause]:
    """The items, read by a thread, with a _PAUSE each time none comes for `seconds`."""
    waiting: queue.Queue[tuple[bool, _T | BaseException | None]] = queue.Queue(maxsize=256)

    def pump() -> None:
        try:
            for item in items:
                waiting.put((True, item))
            waiting.put((False, None))
        except BaseException as exc:  # raised again by the reading side
            waiting.put((False, exc))

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            is_item, value = waiting.get(timeout=seconds)
        except queue.Empty:
            yield _PAUSE
            continue
        if is_item:
            yield value  # type: ignore[misc]
        elif isinstance(value, BaseException):
            raise value
        else:
            return


def read_input(
    path: str,
    *,
    input_format: InputFormat = InputFormat.AUTO,
    direction: Direction | None = None,
    stream: StreamKey | None = None,
    progress: Progress | None = None,
    share: Share = (0, 1),
    piped: bytes | Readable | None = None,
) -> Iterator[InputEvent]:
    """Every event of one input file ("-" is stdin), read in chunks. share: for a capture,
    which of its connections to decode (see CaptureDecoder). piped: stdin's bytes, when
    they were read already, or a handle to read in its place."""
    label = "<stdin>" if path == "-" else path
    opened: BinaryIO | None = None  # what this opens, it closes
    handle: Readable
    if piped is not None and path == "-":
        handle = io.BytesIO(piped) if isinstance(piped, bytes) else piped
    else:
        handle = opened = _open(path)
    try:
        first = handle.read(MAGIC_SIZE)
        reader: Readable = _Rewound(first, handle, progress)
        unpacked = None if input_format is InputFormat.RAW else decompressing(first, reader)
        if isinstance(unpacked, str):
            name = "FILE" if label == "<stdin>" else label
            raise InputError(
                f"{label} is {unpacked}-compressed; decompress it first, for example: "
                f"{unpacked} -dc {name} | restate-inspect decode -"
            )
        late: Callable[[], list[Problem]] = list  # what is found once the bytes are read
        if unpacked is not None:
            first = unpacked.read(MAGIC_SIZE)
            if not first and unpacked.error is not None:
                raise InputError(f"cannot read {label}: {unpacked.error}")
            reader = _Rewound(first, unpacked, None)  # progress counts the file's bytes
            late = unpacked.problems
        if input_format in (InputFormat.PCAP, InputFormat.PCAPNG) or (
            input_format is InputFormat.AUTO and is_capture(first)
        ):
            yield from capture_events(reader, label, share, live=not _seekable(handle))
            if share[0] == 0:  # the first share reports what concerns the whole capture
                yield from late()
            return
        pieces = _and_then(decoded_bytes(reader, label, input_format), late)
        yield from stream_events(pieces, stream or StreamKey(label), direction)
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None
    finally:
        if opened is not None and opened is not sys.stdin.buffer:
            opened.close()


def pair_name(request: str, response: str) -> str:
    """One name for the two bodies of an attempt: x.req.bin + x.resp.bin -> x."""
    common = os.path.commonprefix([request, response])  # noqa: RUF071 - by character on purpose
    common = re.sub(r"[^./_-]*$", "", common).rstrip("._-")  # back to a whole name part
    return common or f"{request}+{response}"


def read_pair(
    request: str, response: str, *, input_format: InputFormat = InputFormat.AUTO
) -> Iterator[InputEvent]:
    """The request body, then the response body, of one attempt: one stream, two directions."""
    stream = StreamKey(pair_name(request, response))
    yield from read_input(
        request, input_format=input_format, direction=Direction.RUNTIME_TO_SDK, stream=stream
    )
    yield from read_input(
        response, input_format=input_format, direction=Direction.SDK_TO_RUNTIME, stream=stream
    )
