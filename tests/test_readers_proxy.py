"""The proxy without a server: the two sides of a shared capture's connections are played
through it over loopback, each side sending its bytes when the capture says it did; they
arrive unchanged on the other side, and the journal of what the proxy saw is the capture's
own."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from restate_inspect.events import Endpoint, Segment
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.pcapfile import read_packets
from restate_inspect.readers.proxy import Proxy, proxy_events
from restate_inspect.render.jsonl import invocation_records
from restate_inspect.rules import Problem
from tests.helpers import captures_dir, run_cli

Steps = list[tuple[bool, bytes]]  # (sent by the client, bytes), in the capture's order


def connections(path: Path) -> list[Steps]:
    """Each TCP connection of a capture, as its two sides' payloads in the order sent."""
    decoder = PacketDecoder()
    flows: dict[tuple[Endpoint, Endpoint], Steps] = {}
    with path.open("rb") as handle:
        for packet in read_packets(handle, str(path)):
            for segment in decoder.feed(packet):  # type: ignore[arg-type]
                if isinstance(segment, Segment):
                    _follow(flows, segment)
    return [steps for steps in flows.values() if steps]


def _follow(flows: dict[tuple[Endpoint, Endpoint], Steps], segment: Segment) -> None:
    """A segment's payload, to the steps of its connection (a SYN begins one)."""
    if segment.flags & 0x02 and not segment.flags & 0x10:  # SYN: a new connection
        flows[segment.source, segment.destination] = []
    steps = flows.get((segment.source, segment.destination))
    by_client = steps is not None
    if steps is None:
        steps = flows.get((segment.destination, segment.source))
    if steps is not None and segment.payload:
        if steps and steps[-1][0] == by_client:
            steps[-1] = (by_client, steps[-1][1] + segment.payload)
        else:
            steps.append((by_client, segment.payload))


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = sock.recv(size - len(data))
        assert piece, "closed early"
        data += piece
    return data


def play(steps: Steps, proxy_at: tuple[str, int], upstream: socket.socket) -> None:
    """The runtime's side and the SDK's, taking turns as the capture did."""
    runtime = socket.create_connection(proxy_at)
    sdk, _ = upstream.accept()
    for by_client, data in steps:
        sender, receiver = (runtime, sdk) if by_client else (sdk, runtime)
        sender.sendall(data)
        assert _recv(receiver, len(data)) == data  # unchanged, on the other side
    for side in (runtime, sdk):
        side.shutdown(socket.SHUT_WR)
    for side in (runtime, sdk):
        assert side.recv(1) == b""
        side.close()


_CLOCK_AND_PLACE = ("time", "start_time", "end_time", "stream", "packet", "annotations", "resumes")


def _structure(items: list[Invocation]) -> list[str]:
    """An invocation's journal, without what depends on the clock or the connection (the
    play-back keeps no pauses: RI225, a quiet second before the runtime closes, is the
    capture's alone)."""
    out = []
    for invocation in items:
        for attempt in invocation.attempts:
            for moment in attempt.timeline:
                moment.findings[:] = [f for f in moment.findings if f.code != "RI225"]
        for record in invocation_records(invocation):
            kept = {k: v for k, v in record.items() if k not in _CLOCK_AND_PLACE}
            out.append(json.dumps(kept, sort_keys=True))
    return sorted(out)


def test_a_capture_played_through_the_proxy_gives_the_same_bytes_and_journal(
    tmp_path: Path,
) -> None:
    capture = captures_dir() / "v6-ts-lazy-state" / "v6-ts-lazy-state.pcap"
    upstream = socket.create_server(("127.0.0.1", 0))
    proxy = Proxy(("127.0.0.1", 0), upstream.getsockname())
    bound = proxy.start()
    written = tmp_path / "through.pcapng"
    seen: list[object] = []
    reading = threading.Thread(target=lambda: seen.extend(
        invocations(decode_events(proxy_events(proxy, written.open("wb"))))))  # fmt: skip
    reading.start()
    for steps in connections(capture):
        play(steps, bound, upstream)
    proxy.stop()
    reading.join(timeout=30)
    upstream.close()
    through = [i for i in seen if isinstance(i, Invocation)]
    original = [i for i in invocations(decode_events(read_input(str(capture))))
                if isinstance(i, Invocation)]  # fmt: skip
    assert len(through) == len(original) == 13
    assert _structure(through) == _structure(original)
    assert not [p for p in seen if isinstance(p, Problem)]
    read_back = run_cli(["journal", "--oneline", str(written)])
    assert read_back.exit_code == 0 and len(read_back.stdout.splitlines()) == 13 + 1


def test_a_refused_upstream_closes_the_runtimes_connection_and_says_so() -> None:
    free = socket.create_server(("127.0.0.1", 0))
    gone = free.getsockname()
    free.close()  # nothing listens there now
    proxy = Proxy(("127.0.0.1", 0), gone)
    bound = proxy.start()
    runtime = socket.create_connection(bound)
    assert runtime.recv(1) == b""  # closed, as the endpoint's refusal would have
    runtime.close()
    proxy.stop()
    (problem,) = list(proxy_events(proxy))
    assert problem.code == "RI318" and "refused the connection" in problem.message  # type: ignore[union-attr]
