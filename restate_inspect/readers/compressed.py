"""Compressed inputs (gzip, bzip2, xz), decompressed as they are read, as Wireshark does.

It reads from a handle but opens nothing: the readers' entry point gives it the input.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Callable
from typing import Final, Protocol

from restate_inspect.readers.pcapfile import Readable
from restate_inspect.rules import Problem

_CHUNK: Final = 64 * 1024  # read from the source, and held beyond what is asked, at most

MAGIC_SIZE: Final = 10  # bytes that tell every compression below
_STEP: Final = 1024  # compressed bytes decompressed at a time


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes: ...


# What Wireshark opens compressed, where Python can decompress it. Each has its own way of
# holding back input when max_length stops it: zlib hands it back, bz2 and lzma keep it.
GZIP_MAGIC: Final = b"\x1f\x8b\x08"  # deflate, the one method gzip has
_COMPRESSED: Final[tuple[tuple[re.Pattern[bytes], str, Callable[[], _Decompressor]], ...]] = (
    (re.compile(re.escape(GZIP_MAGIC)), "gzip", lambda: zlib.decompressobj(wbits=31)),
    (re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)", re.DOTALL), "bzip2", bz2.BZ2Decompressor),
    (re.compile(rb"\xfd7zXZ\x00"), "xz", lzma.LZMADecompressor),
)
_CANNOT_DECOMPRESS: Final = {b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4"}


def decompressing(first: bytes, source: Readable) -> Decompressing | str | None:
    """For an input that begins with `first`: a reader of what it decompresses to (gzip,
    bzip2, xz), the name of a compression that cannot be read here (zstd, lz4), or None."""
    for magic, name, new in _COMPRESSED:
        if magic.match(first):
            return Decompressing(source, new, name)
    return _CANNOT_DECOMPRESS.get(first[:4])


class Decompressing:
    """The decompressed bytes of a compressed input, as far as they go. Data cut short or
    corrupt ends them there, and is reported (problems()) after them: what could be
    decompressed before it is still decoded (all of it when the data is cut short). Each
    read holds at most _CHUNK more than asked, however much the data expands."""

    def __init__(self, source: Readable, new: Callable[[], _Decompressor], name: str) -> None:
        self._source = source
        self._new = new
        self._name = name
        self._decompressor = new()
        self._input = b""  # read from the source, not yet taken by the decompressor
        self._output = bytearray()
        self._count = 0  # decompressed bytes handed out
        self._over = False
        self._failed_at = 0
        self.error: str | None = None  # what ended the data early, if anything did

    def read(self, size: int = -1, /) -> bytes:
        wanted = _CHUNK if size < 0 else size  # -1: a chunk, not all of it
        while len(self._output) < wanted and not self._over:
            self._step()
        data = bytes(self._output[:wanted])
        del self._output[:wanted]
        self._count += len(data)
        return data

    def _step(self) -> None:
        decompressor = self._decompressor
        if decompressor.eof:  # one member is over: another may follow (gzip, bz2 and xz do)
            self._input = getattr(decompressor, "unused_data", b"") + self._input
            if not self._input:
                self._input = self._source.read(_CHUNK)
                if not self._input:
                    self._over = True
                    return
            decompressor = self._decompressor = self._new()
        if not getattr(decompressor, "needs_input", True):
            step = b""  # bz2 and lzma still hold input back from the last call
        else:
            if not self._input:
                self._input = self._source.read(_CHUNK)
                if not self._input:
                    self._fail("the data ends before its end-of-stream marker")
                    return
            # a little at a time: when the data turns out corrupt, what came before is out
            step, self._input = self._input[:_STEP], self._input[_STEP:]
        try:
            self._output += decompressor.decompress(step, _CHUNK)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self._fail(str(exc) or type(exc).__name__)
            return
        self._input = getattr(decompressor, "unconsumed_tail", b"") + self._input  # zlib's

    def _fail(self, why: str) -> None:
        self._over = True
        self._failed_at = self._count + len(self._output)
        self.error = (
            f"{self._name} data cut short or corrupt after {self._failed_at} decompressed "
            f"bytes ({why})"
        )

    def problems(self) -> list[Problem]:
        if self.error is None:
            return []
        text = f"{self.error}; what came before is decoded"
        return [Problem("RI007", text, self._failed_at, 0)]
