"""Send a capture's TCP conversations again over real loopback sockets, to capture them anew.

    python scripts/replay_capture.py CAPTURE [--ipv6] [--nodelay] [--port 9080]

Each TCP connection of CAPTURE is opened again to a listener on localhost, and each side's
bytes (as restate-inspect reassembles them: retransmissions once, losses left out) are sent
on it in capture order. Capture the replay with tcpdump or dumpcap in another shell, e.g.

    sudo tcpdump -i any -U -w replayed.pcap tcp port 9080 &
    python scripts/replay_capture.py ../shared/captures/v1-features/v1-features.pcap

and compare what restate-inspect makes of it with the original (`streams --export` writes
every body). The kernel cuts the bytes into its own segments, and other link types (`-i
any`), IPv6 and snap lengths are a flag away. Without --nodelay, Nagle's algorithm holds
small writes back, so the capture shows one side's packets shifted against the other's:
the races a busy system has (a stream reset while the other side is still writing). The
runtime's messages are sent without waiting for the SDK's, so a replay can also show a
completion before the entry it completes, which real traffic cannot; `check` reports that.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

from restate_inspect.events import Segment, TcpData
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.pcapfile import read_packets
from restate_inspect.readers.tcp import TcpReassembler
from restate_inspect.rules import Problem


def conversations(path: str) -> list[tuple[int, int, bytes]]:
    """(connection, side, bytes) in capture order; side 0 opened the connection."""
    packets, tcp = PacketDecoder(), TcpReassembler()
    events = []
    with open(path, "rb") as handle:
        for item in read_packets(handle, path):
            for segment in [] if isinstance(item, Problem) else packets.feed(item):
                if isinstance(segment, Segment):
                    events += tcp.feed(segment)
    events += tcp.end_of_stream()
    return [(e.connection.index, e.side, e.data) for e in events if isinstance(e, TcpData)]


def replay(path: str, *, ipv6: bool, nodelay: bool, port: int, pause: float) -> int:
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    host = "::1" if ipv6 else "127.0.0.1"
    listener = socket.socket(family)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        print(f"replay_capture: cannot listen on {host} port {port}: {exc.strerror or exc}; "
              "choose another with --port", file=sys.stderr)  # fmt: skip
        return 2
    listener.listen(64)
    ends: dict[int, tuple[socket.socket, socket.socket]] = {}
    sent = 0
    for connection, side, data in conversations(path):
        if connection not in ends:
            client = socket.create_connection((host, port))
            server, _ = listener.accept()
            for end in (client, server):
                if nodelay:
                    end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(target=_drain, args=(end,), daemon=True).start()
            ends[connection] = (client, server)
        ends[connection][side].sendall(data)
        sent += len(data)
        time.sleep(pause)
    time.sleep(0.3)
    for client, server in ends.values():
        client.close()
        server.close()
    listener.close()
    print(f"{len(ends)} connections, {sent} bytes sent again", file=sys.stderr)
    return 0


def _drain(end: socket.socket) -> None:
    try:
        while end.recv(65536):
            pass
    except OSError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture")
    parser.add_argument("--ipv6", action="store_true", help="over ::1 instead of 127.0.0.1")
    parser.add_argument("--nodelay", action="store_true", help="no Nagle: packets as written")
    parser.add_argument("--port", type=int, default=9080, help="the listener's port")
    parser.add_argument("--pause", type=float, default=0.0005, help="seconds between writes")
    args = parser.parse_args()
    try:
        open(args.capture, "rb").close()
    except OSError as exc:
        print(f"replay_capture: cannot open {args.capture}: {exc.strerror}", file=sys.stderr)
        return 2
    return replay(
        args.capture, ipv6=args.ipv6, nodelay=args.nodelay, port=args.port, pause=args.pause
    )


if __name__ == "__main__":
    sys.exit(main())
