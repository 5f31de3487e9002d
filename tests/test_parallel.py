"""A capture decoded by several worker processes gives the same output as by one.

The capture is built so that sharding has something to get wrong: an invocation whose two
attempts are on different TCP connections (so in different workers) and whose replay does
not match, a custom entry (its type is not in the registry's table, and travels between the
processes all the same), an attempt that the capture cuts short, streams of several connections
interleaved, streams of several connections that capture time ends at one point (reset,
then quiet), problems of the capture as a whole from several workers (at a packet, and at
the capture's end), and a problem of the file as a whole.
"""

from __future__ import annotations

import heapq
import io
import json
import multiprocessing
import pickle
import random
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restate_inspect._proto import protocol_pb2 as pb
from restate_inspect.framing import encode_frame
from restate_inspect.parallel import Results, _merged, _Received
from tests import capturewriter as cw
from tests.helpers import SAMPLES, run_cli

INVOCATION = b"\x01" * 16


def _received(receiver: Any, progress: Any) -> Iterator[tuple[Any, Any]]:
    results = _Received(receiver, progress)
    while (item := results.next()) is not None:
        yield item


PACKETS = 85  # whole ones: then the file ends inside the next
OTHER = b"\x02" * 16


def _start(raw: bytes, known: int) -> bytes:
    start = pb.StartMessage(id=raw, debug_id="inv_test", known_entries=known)
    start.state_map.add(key=b"k", value=b"eager state that stays in the worker")
    return encode_frame(0x0000, start)


INPUT = encode_frame(0x0400, pb.InputEntryMessage(value=b'"hi"'))


def _connection(
    port: int,
    start: float,
    request: bytes,
    response: bytes,
    *,
    cut: bool = False,
    after_fin: bytes = b"",
) -> list[cw.Packet]:
    talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080), start=start)
    talk.handshake()
    exchange = cw.h2_exchange(request, response)
    if cut:  # the capture ends before the SDK's END_STREAM
        exchange = exchange[:-1]
    for side, data in exchange:
        talk.segment(side, data)
    if not cut:
        talk.segment(0, flags=cw.FIN | cw.ACK)
        talk.segment(1, flags=cw.FIN | cw.ACK)
    if after_fin:  # RI310, a problem of the capture as a whole, at this packet
        talk.segment(0, after_fin)
    return talk.packets


def _undecided(port: int, start: float) -> list[cw.Packet]:
    """A connection still open at the capture's end, too short to tell its protocol: RI314,
    a problem of the capture as a whole found at its end (no packet to place it by)."""
    talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080), start=start)
    talk.handshake()
    talk.segment(0, b"\x16\x03")
    return talk.packets


def _reset_then_quiet(port: int, start: float, raw: bytes, *, later: bool) -> list[cw.Packet]:
    """The runtime resets the stream before the SDK's END_STREAM, and the connection goes
    quiet: the SDK's side ends when capture time says its frames under way are in. later:
    a second such stream, that begins after the other connections' did."""
    from hpack import Encoder
    from hyperframe.frame import RstStreamFrame

    talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080), start=start)
    talk.handshake()
    ended = encode_frame(0x0401, pb.OutputEntryMessage(value=b'"ok"')) + encode_frame(0x0005)
    encoders = (Encoder(), Encoder())
    for stream in (1, 3) if later else (1,):
        exchange = cw.h2_exchange(
            _start(raw[:-1] + bytes([stream]), 1) + INPUT,
            ended,
            stream_id=stream,
            encoders=encoders,
            preface=stream == 1,
        )[:-1]
        reset = (0, cw.h2_frames(RstStreamFrame(stream, error_code=8)))
        talk.time += 0.01 if stream == 3 else 0.0
        for side, data in [*exchange, reset]:
            talk.segment(side, data)
    return talk.packets


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stored = encode_frame(0x0800, pb.SetStateEntryMessage(key=b"k", value=b"1"))
    failed = encode_frame(0x0003, pb.ErrorMessage(code=500, message="boom"))
    first = _connection(40000, 0.0, _start(INVOCATION, 1) + INPUT, stored + failed)
    replayed = encode_frame(0x0800, pb.SetStateEntryMessage(key=b"other", value=b"1"))
    custom = encode_frame(0xFC01, b"\x62\x04note")  # field 12, its name
    ended = encode_frame(0x0401, pb.OutputEntryMessage(value=b'"ok"')) + encode_frame(0x0005)
    request = _start(INVOCATION, 2) + INPUT + replayed
    second = _connection(40001, 0.0135, request, custom + ended, after_fin=b"late")
    cut = _connection(40002, 0.0025, _start(OTHER, 1) + INPUT, stored, cut=True)
    quiet = [
        packet
        for port, start in ((40003, 0.008), (40004, 0.004), (40005, 0.006))
        for packet in _reset_then_quiet(port, start, bytes([port % 256]) * 16, later=port == 40004)
    ]
    later = cw.Conversation(("10.0.0.1", 40009), ("10.0.0.2", 9080), start=2.0)
    later.segment(0, flags=cw.SYN)
    undecided = _undecided(40010, 1.5) + _undecided(40011, 1.6)  # on two shards
    everything = first + second + cut + quiet + undecided + later.packets
    packets = sorted(everything, key=lambda packet: packet.time)
    assert len(packets) == PACKETS
    data = cw.pcap([cw.Packet(1_700_000_000 + p.time, p.data) for p in packets])
    data += struct.pack("<IIII", 1_700_000_001, 0, 100, 100) + b"cut"  # the file ends early
    path = tmp_path_factory.mktemp("parallel") / "sharded.pcap"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("jobs", ["2", "3"])
@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["check", "--json"],
        ["decode", "--json"],
        ["decode"],
        ["streams", "--json"],
        ["journal"],
        ["journal", "--json"],
    ],
)
def test_several_workers_give_what_one_does(capture: Path, command: list[str], jobs: str) -> None:
    one = run_cli([*command, "--jobs", "1", str(capture)])
    several = run_cli([*command, "--jobs", jobs, str(capture)])
    assert (several.exit_code, several.stdout) == (one.exit_code, one.stdout)


def test_a_result_that_cannot_be_read_is_reported_not_waited_for() -> None:
    """If what a worker sends cannot be read, this process says so (a custom entry's type
    once could not be, and the command then waited for ever)."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    sender.send_bytes(b"not a pickle")
    failures: list[str] = []

    def read() -> None:
        try:
            list(_received(receiver, None))
        except RuntimeError as exc:
            failures.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert failures and "a decoding worker failed" in failures[0]


def test_a_worker_that_ends_without_finishing_is_reported() -> None:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    shared = ["what both results hold"]
    items = [((1,), shared), ((2,), (b"two", shared))]
    batch = io.BytesIO()
    pickler = pickle.Pickler(batch)  # one memo for the batch, as a worker sends it
    for item in items:
        pickler.dump(item)
    sender.send(("items", batch.getvalue(), 0))
    sender.send(("items", b"not a pickle", 0))
    sender.close()
    results = _received(receiver, None)
    first, second = next(results), next(results)
    assert [first, second] == items
    assert second[1][1] is first[1]  # the second result refers to the first's object
    with pytest.raises(RuntimeError, match="a decoding worker failed"):
        next(results)
    with pytest.raises(RuntimeError, match="ended without finishing"):
        next(_received(receiver, None))


def test_the_first_workers_progress_reaches_the_bar() -> None:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    for done in (65536, 0, 131072):
        sender.send(("items", b"", done))
    sender.send(("done", None, 262144))
    seen: list[int] = []
    assert list(_received(receiver, seen.append)) == []
    assert seen == [65536, 131072, 262144]  # 0: nothing read since, nothing told


def test_a_ctrl_c_while_waiting_on_a_worker_is_the_users() -> None:
    """A KeyboardInterrupt in recv is not a result that cannot be read: it must reach the
    entry point (exit 130), not be reported as a worker's failure."""

    class Interrupted:
        def recv(self) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        next(_received(Interrupted(), None))


def test_the_capture_has_what_sharding_could_get_wrong(capture: Path) -> None:
    result = run_cli(["check", "--json", "--fail-on", "info", "--jobs", "2", str(capture)])
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    where = {(f["code"], f.get("attempt"), f.get("stream")) for f in findings}
    assert ("RI240", 2, "tcp5/s1") in where  # the replay of attempt 1, sent on tcp0
    entries = run_cli(["journal", "--json", str(capture)]).stdout.splitlines()
    assert any('"type_hex":"0xfc01"' in line and '"kind":"entry"' in line for line in entries)
    assert ("RI207", 1, "tcp1/s1") in where  # cut short by the capture's end
    # problems of the capture as a whole, from two shards: one found at a packet, ...
    assert [f["packet"] for f in findings if f["code"] == "RI310"] == [72]
    # ... and two found at the capture's end, with none
    ends = [f["message"] for f in findings if f["code"] == "RI314"]
    assert ends == [
        "tcp6 ends before it shows HTTP; skipped",
        "tcp7 ends before it shows HTTP; skipped",
    ]
    (cut_file,) = [f for f in findings if f["code"] == "RI301"]  # the file as a whole
    assert cut_file["stream"] is None and cut_file["packet"] == PACKETS + 1
    assert result.exit_code == 1


def test_streams_that_capture_time_ends_together_come_in_the_order_they_began(
    capture: Path,
) -> None:
    """tcp2-tcp4 (one per worker with 3) are reset, then quiet: the packet two seconds
    later ends them all, and they come in the order they began, tcp2/s3 last, with one
    worker or three."""
    for jobs in ("1", "3"):
        result = run_cli(["streams", "--json", "--jobs", jobs, str(capture)])
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        streams = [row["stream"] for row in rows if row["kind"] == "stream_summary"]
        assert streams[-5:] == ["tcp2/s1", "tcp3/s1", "tcp4/s1", "tcp2/s3", "tcp1/s1"]


def _damaged(seed: int) -> bytes:
    """The bundled sample with bytes changed at random, and perhaps cut short."""
    data = bytearray((SAMPLES / "v1-features.pcapng").read_bytes())
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 20)):
        data[rng.randrange(24, len(data))] = rng.randrange(256)
    if rng.random() < 0.3:
        del data[rng.randrange(24, len(data)) :]
    return bytes(data)


@pytest.mark.parametrize("seed", [12, 13, 17, 24])  # each once gave another order with 2 jobs
def test_a_damaged_capture_gives_what_one_worker_does(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "damaged.pcapng"
    path.write_bytes(_damaged(seed))
    for command in (
        ["decode", "--json"],
        ["decode"],
        ["check", "--json", "--fail-on", "info"],
        ["journal", "--json"],
    ):
        one = run_cli([*command, "--jobs", "1", str(path)])
        two = run_cli([*command, "--jobs", "2", str(path)])
        assert (two.exit_code, two.stdout) == (one.exit_code, one.stdout), command


def test_when_workers_take_every_share_the_first_one_tells_how_far_it_read(capture: Path) -> None:
    from restate_inspect.parallel import rendering, sharded

    seen: list[int] = []
    work = rendering(lambda group: (b"", None), max_length=1 << 20)
    results = list(sharded(str(capture), work, jobs=2, progress=seen.append, local=False))
    assert results
    assert seen and seen[-1] == capture.stat().st_size
    assert seen == sorted(seen)


class _Remote:
    """A worker's results as merging sees them: each ready only after some asking."""

    def __init__(self, items: list[tuple[Any, Any]], waits: int) -> None:
        self.items, self.waits, self.asked = list(items), waits, 0

    def ready(self) -> bool:
        self.asked += 1
        return self.asked % self.waits == 0

    def next(self) -> tuple[Any, Any] | None:
        return self.items.pop(0) if self.items else None


@pytest.mark.parametrize("seed", range(30))
def test_merging_while_making_ahead_gives_what_heapq_merge_does(seed: int) -> None:
    """Results in the order of their keys, ties to this process's share, then the workers'
    in order: the same order however long each worker keeps merging waiting."""
    rng = random.Random(seed)

    def stream(source: int) -> list[tuple[Any, Any]]:
        keys = sorted(rng.randrange(40) for _ in range(rng.randrange(25)))
        return [(key, (source, n)) for n, key in enumerate(keys)]

    own, *others = [stream(source) for source in range(rng.randrange(1, 4))]
    made: list[int] = []

    def own_results() -> Iterator[tuple[Any, Any]]:
        for item in own:
            made.append(item[0])
            yield item

    remotes: list[Results] = [_Remote(items, rng.randrange(1, 5)) for items in others]
    merged = list(_merged(own_results(), remotes))
    assert merged == list(heapq.merge(own, *others, key=lambda item: item[0]))
    assert made == [key for key, _value in own]
    remotes = [_Remote(items, 2) for items in others]
    assert list(_merged(None, remotes)) == list(heapq.merge(*others, key=lambda item: item[0]))
