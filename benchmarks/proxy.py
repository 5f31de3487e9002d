"""What the proxy costs: replayed traffic through it against the same sent directly.

    python benchmarks/proxy.py [--capture NAME] [--rounds N]

The connections of a shared capture (v6-ts-features: 52 invocations) are played N times
(default 20: about 1,000 invocations) over loopback, each side sending its bytes when the
capture says it did and waiting for the other side's: once straight from the runtime's
socket to the SDK's, once through `Proxy` with the decoding beside it (proxy_events, then
the journal), as `restate-inspect proxy` runs. It prints the wall time of each, and the
latency per request (a step of the conversation: sent by one side, all of it received by
the other), median and 99th percentile, with the proxy's added latency beside.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from restate_inspect.invocations import Invocation, invocations  # noqa: E402
from restate_inspect.pipeline import decode_events  # noqa: E402
from restate_inspect.readers.proxy import Proxy, proxy_events  # noqa: E402
from tests.test_readers_proxy import Steps, connections  # noqa: E402


def _recv(sock: socket.socket, size: int) -> None:
    got = 0
    while got < size:
        piece = sock.recv(min(size - got, 1 << 20))
        if not piece:
            raise ConnectionError("closed early")
        got += len(piece)


def replay(
    all_steps: list[Steps], connect_to: tuple[str, int], upstream: socket.socket
) -> list[float]:
    """Every connection played in turn; the latency of each step, in seconds."""
    latencies = []
    for steps in all_steps:
        runtime = socket.create_connection(connect_to)
        runtime.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sdk, _ = upstream.accept()
        sdk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for by_client, data in steps:
            sender, receiver = (runtime, sdk) if by_client else (sdk, runtime)
            began = time.perf_counter()
            sender.sendall(data)
            _recv(receiver, len(data))
            latencies.append(time.perf_counter() - began)
        for side in (runtime, sdk):
            side.close()
    return latencies


def _figures(name: str, wall: float, latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    median = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99)] * 1000
    print(f"  {name:<8} {wall:7.2f} s   per request: median {median:6.3f} ms   p99 {p99:6.3f} ms")
    return median, p99


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--captures", type=Path, default=ROOT.parent / "shared" / "captures")
    parser.add_argument("--capture", default="v6-ts-features")
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    steps = connections(options.captures / options.capture / f"{options.capture}.pcap")
    played = steps * options.rounds
    upstream = socket.create_server(("127.0.0.1", 0))
    began = time.perf_counter()
    direct = replay(played, upstream.getsockname(), upstream)
    direct_wall = time.perf_counter() - began

    proxy = Proxy(("127.0.0.1", 0), upstream.getsockname())
    bound = proxy.start()
    seen: list[object] = []
    reader = threading.Thread(
        target=lambda: seen.extend(invocations(decode_events(proxy_events(proxy))))
    )
    reader.start()
    began = time.perf_counter()
    through = replay(played, bound, upstream)
    proxy_wall = time.perf_counter() - began
    proxy.stop()
    reader.join()
    ended = sum(isinstance(i, Invocation) for i in seen)
    print(
        f"{options.capture} x {options.rounds}: {len(played)} connections, {len(direct)} requests, "
        f"{ended} invocations decoded through the proxy"
    )
    direct_median, direct_p99 = _figures("direct", direct_wall, direct)
    proxy_median, proxy_p99 = _figures("proxy", proxy_wall, through)
    print(
        f"  added by the proxy: median {proxy_median - direct_median:.3f} ms, "
        f"p99 {proxy_p99 - direct_p99:.3f} ms; wall time x{proxy_wall / direct_wall:.2f}"
    )


if __name__ == "__main__":
    main()
