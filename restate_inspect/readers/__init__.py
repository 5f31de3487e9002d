"""Inputs: open a file or stdin, read it in chunks, yield Chunk / StreamEnd / Problem events.

This is one of the two places that touch files (the cli package is the other). What it
reads goes through sans-IO layers: formats (sniffing, hex and base64 text), compressed,
and pcapfile → capture for captures.
"""

from __future__ import annotations

import io
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO, Final, TypeVar

from restate_inspect.events import InputEvent, Packet
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers.capture import CaptureDecoder
from restate_inspect.readers.compressed import (
    GZIP_MAGIC,
    MAGIC_SIZE,
    Decompressing,
    decompressing,
)
from restate_inspect.readers.formats import (
    InputError,
    InputFormat,
    TextBytes,
    converted,
    sniff,
    stream_events,
)
from restate_inspect.readers.journaldump import (
    dump_events,
    invocation_facts,
    looks_like_dump,
    parsed_rows,
)
from restate_inspect.readers.pcapfile import Readable, is_capture, read_packets
from restate_inspect.rules import Problem, RepeatedProblems

__all__ = [
    "CHUNK_SIZE",
    "InputError",
    "InputFormat",
    "capture_events",
    "capture_kind",
    "decoded_bytes",
    "input_size",
    "journal_events",
    "pair_name",
    "read_input",
    "read_invocations",
    "read_pair",
    "sniff",
    "stream_events",
]

CHUNK_SIZE: Final = 64 * 1024  # small enough for a batch of frames to stay in cache
SNIFF_SIZE: Final = 64 * 1024


# --- reading -----------------------------------------------------------------------


def decoded_bytes(
    handle: Readable, label: str, input_format: InputFormat
) -> Iterator[bytes | Problem]:
    """The stream bytes of one input, converted from hex or base64 where needed."""
    first = handle.read(SNIFF_SIZE)
    rest = iter(lambda: handle.read(CHUNK_SIZE), b"")
    yield from converted(first, len(first) < SNIFF_SIZE, rest, label, input_format)


def _empty(peek: bytes, input_format: InputFormat) -> str:
    """What makes the input empty, if it is: no byte, or, as text, only white space."""
    if len(peek) >= SNIFF_SIZE:
        return ""
    if not peek:
        return "empty"
    return "" if input_format is InputFormat.RAW or peek.strip() else "nothing but white space"


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
        self.progress = progress
        self._count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._from_first(size)
        if size < 0 or len(data) < size:
            data += self._handle.read(size if size < 0 else size - len(data))
        return self._counted(data)

    def read1(self, size: int = -1, /) -> bytes:
        """Up to size bytes, as many as there are now (at least one, unless at the end)."""
        data = self._from_first(size)
        if not data:
            data = getattr(self._handle, "read1", self._handle.read)(size)
        return self._counted(data)

    def _from_first(self, size: int) -> bytes:
        cut = len(self._first) if size < 0 else size
        data, self._first = self._first[:cut], self._first[cut:]
        return data

    def _counted(self, data: bytes) -> bytes:
        self._count += len(data)
        if self.progress is not None:
            self.progress(self._count)
        return data


def _and_then(
    pieces: Iterable[bytes | Problem], problems: Callable[[], list[Problem]]
) -> Iterator[bytes | Problem]:
    """The pieces, then the problems found while they were read."""
    yield from pieces
    yield from problems()


def input_size(path: str) -> int | None:
    """The bytes a file holds once decompressed, as the progress of reading it counts them:
    its size on disk, gzip's trailer (modulo 4 GiB), or None for bzip2 and xz, which do not
    tell it before their end."""
    size = os.path.getsize(path)
    with _open(path) as handle:
        first = handle.read(MAGIC_SIZE)
        if size >= _GZIP_SMALLEST and first.startswith(GZIP_MAGIC):
            handle.seek(-4, os.SEEK_END)
            return int.from_bytes(handle.read(4), "little")
        return None if isinstance(decompressing(first, handle), Decompressing) else size


_GZIP_SMALLEST: Final = 18  # header and trailer


def capture_kind(path: str) -> str | None:
    """ "pcap", "pcapng" or None for a file, compressed or not."""
    with _open(path) as handle:
        first = handle.read(MAGIC_SIZE)
        unpacked = decompressing(first, _Rewound(first, handle, None))
        if isinstance(unpacked, str):
            return None
        return is_capture(first if unpacked is None else unpacked.read(4))


def capture_events(handle: Readable, label: str, *, live: bool = False) -> Iterator[InputEvent]:
    """Every event of a pcap or pcapng capture, packet by packet. live: the packets come as
    they are captured (a pipe); while none comes, capture time is taken to go on as the
    clock does. Problems of packets (none of a stream's bytes) that repeat with nothing
    else between are one finding (RepeatedProblems)."""
    decoder = CaptureDecoder()
    runs = RepeatedProblems()
    number = 0  # of the last packet read
    last: tuple[float, float] | None = None  # its capture time, and the clock's then
    items = read_packets(handle, label)
    for item in _with_pauses(items, _QUIET) if live else items:
        if type(item) is Packet:  # most are: first
            number = item.number
            if live and item.time is not None:
                last = (item.time, time.monotonic())
            for event in decoder.feed(item):  # a loop here, not a generator per packet
                if isinstance(event, Problem) and event.offset is None:
                    runs.add(replace(event, packet=event.packet or number))
                    continue
                if runs.holding:
                    yield from runs.taken()
                yield event if event.__class__ is not Problem else _placed(event, number)
        elif isinstance(item, _Pause):
            if last is not None:
                now = last[0] + time.monotonic() - last[1]
                for event in decoder.idle(now):
                    yield _placed(event, number)
        elif isinstance(item, Problem):
            yield from runs.taken()
            yield replace(item, packet=number + 1)  # the reader's: about the packet after
    yield from runs.taken()
    yield from decoder.end_of_stream()


def _placed(event: InputEvent, number: int) -> InputEvent:
    """A problem found while reading packet `number` (or after it) names it."""
    if isinstance(event, Problem) and event.packet is None:
        return replace(event, packet=number)
    return event


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
    piped: bytes | Readable | None = None,
    invocations: dict[str, dict[str, Any]] | None = None,
) -> Iterator[InputEvent]:
    """Every event of one input file ("-" is stdin), read in chunks. piped: stdin's bytes,
    when they were read already, or a handle to read in its place. invocations: the
    sys_invocation rows that go with a sys_journal dump, by invocation id."""
    label = "<stdin>" if path == "-" else path
    opened: BinaryIO | None = None  # what this opens, it closes
    handle: Readable
    if piped is not None and path == "-":
        handle = io.BytesIO(piped) if isinstance(piped, bytes) else piped
    else:
        handle = opened = _open(path)
    try:
        reader, first, late = _unpacked(handle, label, input_format, progress)
        if input_format in (InputFormat.PCAP, InputFormat.PCAPNG) or (
            input_format is InputFormat.AUTO and is_capture(first)
        ):
            yield from capture_events(reader, label, live=not _seekable(handle))
            yield from late()
        else:
            where = (stream or StreamKey(label), direction)
            yield from _non_capture(reader, label, input_format, where, invocations, late)
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None
    finally:
        if opened is not None and opened is not sys.stdin.buffer:
            opened.close()


def _unpacked(
    handle: Readable, label: str, input_format: InputFormat, progress: Progress | None
) -> tuple[Readable, bytes, Callable[[], list[Problem]]]:
    """The input decompressed if it is compressed: a reader from its start, its first bytes,
    and what tells the problems found once all is read."""
    first = handle.read(MAGIC_SIZE)
    file_reader = _Rewound(first, handle, progress)
    unpacked = None if input_format is InputFormat.RAW else decompressing(first, file_reader)
    if unpacked is None:
        return file_reader, first, list
    if isinstance(unpacked, str):
        name = "FILE" if label == "<stdin>" else label
        raise InputError(
            f"{label} is {unpacked}-compressed; decompress it first, for example: "
            f"{unpacked} -dc {name} | restate-inspect decode -"
        )
    first = unpacked.read(MAGIC_SIZE)
    if not first and unpacked.error is not None:
        raise InputError(f"cannot read {label}: {unpacked.error}")
    file_reader.progress = None  # progress counts what the file holds, decompressed
    return _Rewound(first, unpacked, progress), first, unpacked.problems


def _non_capture(
    reader: Readable,
    label: str,
    input_format: InputFormat,
    where: tuple[StreamKey, Direction | None],
    invocations: dict[str, dict[str, Any]] | None,
    late: Callable[[], list[Problem]],
) -> Iterator[InputEvent]:
    """A Restate stream (binary or text) or a journal dump; then the problems found once
    all is read (a stream's, in it)."""
    peek = reader.read(SNIFF_SIZE)
    emptiness = _empty(peek, input_format)
    if emptiness:
        yield Problem("RI010", f"{label} is {emptiness}: there is nothing to decode", 0, 0)
        yield from late()
        return
    reader = _Rewound(peek, reader, None)
    if input_format is InputFormat.SYS_JOURNAL or (
        input_format is InputFormat.AUTO and looks_like_dump(peek)
    ):
        yield from journal_events(reader.read(), label, invocations)
        yield from late()
        return
    text = TextBytes(_and_then(decoded_bytes(reader, label, input_format), late))
    if input_format is not InputFormat.RAW and is_capture(text.peek(4)):  # `xxd -p x.pcap`
        yield from capture_events(text, label)
        yield from text.problems
        return
    yield from stream_events(text.pieces(), *where)


def journal_events(
    data: bytes, label: str, invocations: dict[str, dict[str, Any]] | None = None
) -> Iterator[InputEvent]:
    """A sys_journal dump's events: each invocation's stored journal."""
    rows, problems = parsed_rows(data.decode("utf-8", "replace"), label)
    yield from problems
    yield from dump_events(rows, invocations)


def read_invocations(path: str) -> dict[str, dict[str, Any]]:
    """sys_invocation rows (a /query answer, a JSON array or NDJSON), by invocation id."""
    with _open(path) as handle:
        first = handle.read(MAGIC_SIZE)
        unpacked = decompressing(first, _Rewound(first, handle, None))
        if isinstance(unpacked, str):
            raise InputError(f"{path} is {unpacked}-compressed; decompress it first")
        data = (first + handle.read()) if unpacked is None else unpacked.read()
    rows, problems = parsed_rows(data.decode("utf-8", "replace"), path)
    if problems:
        raise InputError(problems[0].message)
    return invocation_facts(rows)


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
