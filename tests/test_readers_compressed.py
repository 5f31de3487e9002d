"""Compressed inputs: gzip, bzip2 and xz around any input, cut or corrupt, and what
their reading holds in memory."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.events import Chunk, InputEvent
from restate_inspect.location import Direction, StreamKey
from restate_inspect.readers import (
    CHUNK_SIZE,
    InputError,
    InputFormat,
    capture_kind,
    input_size,
    read_input,
)
from restate_inspect.readers.compressed import MAGIC_SIZE, Decompressing, decompressing
from restate_inspect.rules import Problem
from tests.helpers import SAMPLES, chunk_bytes

REQUEST = (SAMPLES / "v1-call-other.req.bin").read_bytes()
CAPTURE = SAMPLES / "v1-features.pcapng"
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


def _events(path: Path, **options: Any) -> list[InputEvent]:
    return list(read_input(str(path), **options))


@pytest.mark.parametrize("codec", COMPRESSORS)
def test_a_compressed_capture_reads_as_the_capture_itself(codec: str, tmp_path: Path) -> None:
    packed = tmp_path / f"capture.pcapng.{codec}"
    packed.write_bytes(COMPRESSORS[codec](CAPTURE.read_bytes()))
    plain = _events(CAPTURE)
    assert any(isinstance(e, Chunk) for e in plain)
    assert _events(packed) == plain
    assert capture_kind(str(packed)) == "pcapng"


@pytest.mark.parametrize("codec", COMPRESSORS)
def test_a_compressed_stream_and_concatenated_members(codec: str, tmp_path: Path) -> None:
    packed = tmp_path / "stream.bin.z"
    compress = COMPRESSORS[codec]
    packed.write_bytes(compress(REQUEST[:100]) + compress(REQUEST[100:]))  # as `cat a.gz b.gz`
    events = _events(packed)
    assert chunk_bytes(events) == REQUEST
    assert [e.code for e in events if isinstance(e, Problem)] == ["RI011"]  # only the guess


def test_a_cut_gzip_keeps_every_byte_before_the_cut_and_says_where(tmp_path: Path) -> None:
    whole = gzip.compress(REQUEST, mtime=0)
    cut = whole[: len(whole) // 2]
    readable = zlib.decompressobj(wbits=31).decompress(cut)  # what the cut data still holds
    assert 0 < len(readable) < len(REQUEST)
    packed = tmp_path / "cut.bin.gz"
    packed.write_bytes(cut)
    events = _events(packed, direction=Direction.RUNTIME_TO_SDK)
    assert chunk_bytes(events) == readable
    (problem,) = [e for e in events if isinstance(e, Problem)]
    assert problem.code == "RI007"
    assert (problem.offset, problem.length) == (len(readable), 0)
    assert problem.stream == StreamKey(str(packed))
    assert "gzip" in problem.message and "cut short" in problem.message


def test_corrupt_compressed_data_and_trailing_garbage_are_reported(tmp_path: Path) -> None:
    data = REQUEST + random.Random(0).randbytes(20_000)  # what it holds is not read here
    whole = gzip.compress(data, mtime=0)
    corrupt = bytearray(whole)
    corrupt[len(whole) // 2] ^= 0xFF  # found by the checksum at the end, as gzip -d finds it
    packed = tmp_path / "bad.gz"
    for broken in (bytes(corrupt), whole + b"not gzip"):
        packed.write_bytes(broken)
        events = _events(packed, direction=Direction.RUNTIME_TO_SDK)
        (problem,) = [e for e in events if isinstance(e, Problem)]
        read = chunk_bytes(events)
        assert (problem.code, problem.offset) == ("RI007", len(read))
        assert len(data) - 4096 <= len(read)  # all but the last piece the checksum failed in
    assert read == data  # the garbage came after the whole of it


def test_nothing_decompressed_is_an_input_error_and_zstd_is_named(tmp_path: Path) -> None:
    packed = tmp_path / "x.bz2"
    packed.write_bytes(bz2.compress(REQUEST)[:30])  # not one whole bzip2 block
    with pytest.raises(InputError, match="bzip2 data cut short"):
        _events(packed)
    zstd = tmp_path / "x.zst"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(20))
    with pytest.raises(InputError, match=r"zstd-compressed; decompress it first"):
        _events(zstd)
    assert capture_kind(str(zstd)) is None


def test_raw_format_takes_compressed_bytes_as_they_are(tmp_path: Path) -> None:
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip.compress(REQUEST))
    events = _events(packed, input_format=InputFormat.RAW)
    assert chunk_bytes(events) == packed.read_bytes()


@pytest.mark.parametrize("codec", COMPRESSORS)
def test_progress_counts_what_a_compressed_file_holds(codec: str, tmp_path: Path) -> None:
    """A small compressed file that expands a lot: progress moves with the decompressed bytes
    (the file's own are read at once), against the size gzip tells; bzip2 and xz tell none."""
    stream = REQUEST * (4_000_000 // len(REQUEST))
    packed = tmp_path / f"stream.bin.{codec}"
    packed.write_bytes(COMPRESSORS[codec](stream))
    assert packed.stat().st_size < len(stream) // 20
    assert input_size(str(packed)) == (len(stream) if codec == "gzip" else None)
    assert input_size(str(CAPTURE)) == CAPTURE.stat().st_size
    told: list[int] = []
    _events(packed, progress=told.append)
    assert told == sorted(told) and len(set(told)) > 30
    assert len(stream) - MAGIC_SIZE <= told[-1] <= len(stream)


def test_decompressing_holds_a_bounded_amount_however_much_data_expands() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024))  # 64 MiB of zeros in ~64 KiB
    reader = decompressing(bomb[:10], io.BytesIO(bomb))
    assert isinstance(reader, Decompressing)
    tracemalloc.start()
    try:
        total = 0
        while data := reader.read(CHUNK_SIZE):
            assert len(data) <= CHUNK_SIZE
            total += len(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 64 * 1024 * 1024
    assert peak < 8 * CHUNK_SIZE
