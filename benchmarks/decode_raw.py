"""Throughput of raw-stream frame decoding against the bare protobuf parse of the same frames.

    python benchmarks/decode_raw.py [--rounds N] [--captures DIR]

The input is every stream body of the big shared capture (../shared/captures/big-v2),
concatenated into one raw stream (about 20 MB, 19,200 frames). In the same run, alternating,
it measures:

  floor     the bare protobuf parse of the same frames: `Class.FromString(body)` for each
            frame, with the bodies already split out and the class already looked up;
  retain    the floor, but the parsed messages are kept in batches of one chunk's worth,
            as any decoder that hands them out must: what keeping them alive costs, and
            nothing else (a list comprehension per batch). It is the ceiling of any decoder
            whose frames carry their parsed message, written in Python or in C: beyond it a
            decoder must still read each header, check it, and make the frame's record and
            body, which take more than the time between retain and 0.75x the floor;
  split     the least a decoder must do: split the stream and parse each body, keeping
            nothing (a reference point between the two);
  decoder   FrameDecoder.feed() in 64 KiB chunks, as the CLI reads a file: framing, checks,
            parse, one Frame record per frame; nothing rendered;
  json      the whole `decode --json` path without the file: decode, annotate, serialise.

Each figure is the median of the rounds; the ratios are of throughputs (higher is better).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from restate_inspect.events import HEADER, Chunk, DecodedFrame, RawFrame, StreamEnd
from restate_inspect.framing import FrameDecoder
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoding
from restate_inspect.protocol import hints_for, reader_for
from restate_inspect.protocol.v1.messages import V2_TABLE
from restate_inspect.render.jsonl import dumps, frame_record

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64 * 1024  # as restate_inspect.readers reads
GOAL = 0.75  # of the floor's throughput: the foundation issue's goal for the decoder


def load_stream(captures: Path) -> bytes:
    parts = []
    with tarfile.open(captures / "big-v2" / "big-v2.bin.tar.gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            name = Path(member.name).name
            if name.endswith(".bin") and not name.startswith("000_"):  # 000: discovery JSON
                handle = archive.extractfile(member)
                assert handle is not None
                parts.append(handle.read())
    return b"".join(parts)


def split_frames(stream: bytes) -> list[tuple[int, bytes]]:
    frames, pos = [], 0
    while pos < len(stream):
        type_code, _flags, length = HEADER.unpack_from(stream, pos)
        frames.append((type_code, stream[pos + 8 : pos + 8 + length]))
        pos += 8 + length
    return frames


def make_runs(stream: bytes) -> dict[str, Callable[[], int]]:
    frames = split_frames(stream)
    parsers = {code: spec.cls.FromString for code, spec in V2_TABLE.by_code.items() if spec.cls}
    prepared = [(parsers[code], body) for code, body in frames]
    chunks = [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]

    def floor() -> int:
        for parse, body in prepared:
            parse(body)
        return len(prepared)

    per_chunk = max(1, len(prepared) * CHUNK // len(stream))
    batches = [prepared[i : i + per_chunk] for i in range(0, len(prepared), per_chunk)]

    def retain() -> int:
        count = 0
        for batch in batches:
            kept = [parse(body) for parse, body in batch]  # held until the next batch
            count += len(kept)
        return count

    def split() -> int:
        unpack, pos, count, size = HEADER.unpack_from, 0, 0, len(stream)
        while pos < size:
            type_code, _flags, length = unpack(stream, pos)
            end = pos + 8 + length
            parsers[type_code](stream[pos + 8 : end])
            pos, count = end, count + 1
        return count

    def decoder() -> int:
        """Framing, and each frame read by its version's table."""
        frame_decoder, reader, count = FrameDecoder(hints=hints_for(2)), reader_for(2), 0
        for chunk in chunks:
            for event in frame_decoder.feed(chunk):
                if isinstance(event, RawFrame):
                    reader.read(event)
                count += 1
        return count + len(frame_decoder.end_of_stream())

    def json_output() -> int:
        decoding, count = Decoding(), 0
        key, side = StreamKey("bench"), Direction.RUNTIME_TO_SDK
        events: list[Chunk | StreamEnd] = [Chunk(key, side, c) for c in chunks]
        for event in [*events, StreamEnd(key, side)]:
            for item in decoding.feed(event):
                if isinstance(item, DecodedFrame):
                    dumps(frame_record(item))
                    count += 1
        return count

    return {
        "floor": floor,
        "retain": retain,
        "split": split,
        "decoder": decoder,
        "json": json_output,
    }


def measure(runs: dict[str, Callable[[], int]], rounds: int) -> dict[str, tuple[float, int]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in runs.items():  # alternate, so drift hits every contender alike
            gc.collect()
            start = time.perf_counter()
            counts[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), counts[name]) for name in runs}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--captures", type=Path, default=ROOT.parent / "shared" / "captures")
    args = parser.parse_args()
    stream = load_stream(args.captures)
    results = measure(make_runs(stream), args.rounds)
    megabytes = len(stream) / 1e6
    print(
        f"input: {megabytes:.1f} MB, {results['floor'][1]} frames; median of {args.rounds} rounds"
    )
    for name, (seconds, frames) in results.items():
        print(f"  {name:8} {megabytes / seconds:8.1f} MB/s  {frames / seconds:10.0f} frames/s")
    floor = results["floor"][0]
    for name in ("retain", "split", "decoder", "json"):
        print(f"  {name} / floor throughput: {floor / results[name][0]:.2f}x")
    print(f"  decoder / split throughput: {results['split'][0] / results['decoder'][0]:.2f}x")
    frames = results["floor"][1]
    budget = (floor / GOAL - results["retain"][0]) / frames * 1e9
    print(
        f"  at {GOAL}x the floor, a decoder has {budget:.0f} ns a frame beyond retain for "
        "reading, checking and recording it"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
