"""Packets made up for bytes that were not captured but forwarded (sans-IO): the proxy's TCP
connections as Ethernet/IPv4/TCP packets, with real times and sequence numbers kept per
side, so that the capture chain reads them as it reads tcpdump's, and a pcapng file of them
reads back with every command (and with Wireshark).

Addresses are the connection's own when they are IPv4; IPv6 peers are given made-up IPv4
addresses (10.x.y.z), as only the connection's identity matters to the reader.
"""

from __future__ import annotations

import ipaddress
import itertools
import struct
from typing import Final

from restate_inspect.events import Endpoint, Packet

EN10MB: Final = 1
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
SEGMENT: Final = 32 * 1024  # payload per packet: an IPv4 datagram holds at most 64 KiB
_ETHERNET: Final = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
_TCP: Final = struct.Struct("!HHIIBBHHH")
_IPV4: Final = struct.Struct("!BBHHHBBH4s4s")


class TcpFlow:
    """One TCP connection's packets: the handshake, each side's bytes as segments, and how
    each side ended. `client` opened it (the runtime, for the proxy)."""

    def __init__(self, client: Endpoint, server: Endpoint, numbers: itertools.count[int]) -> None:
        self._ends = {True: _ipv4_endpoint(client), False: _ipv4_endpoint(server)}
        self._next = {True: 1_000, False: 2_000_000}  # each side's next sequence number
        self._numbers = numbers  # packet numbers, shared by the flows of one capture

    def opened(self, time: float) -> list[Packet]:
        """SYN, SYN-ACK, ACK."""
        syn = self._packet(True, SYN, b"", time)
        self._next[True] += 1
        syn_ack = self._packet(False, SYN | ACK, b"", time)
        self._next[False] += 1
        return [syn, syn_ack, self._packet(True, ACK, b"", time)]

    def sent(self, by_client: bool, data: bytes, time: float) -> list[Packet]:
        """`data`, sent by one side, in segments."""
        packets = []
        for start in range(0, len(data), SEGMENT):
            piece = data[start : start + SEGMENT]
            packets.append(self._packet(by_client, PSH | ACK, piece, time))
            self._next[by_client] += len(piece)
        return packets

    def closed(self, by_client: bool, time: float, *, reset: bool = False) -> list[Packet]:
        """One side's FIN (or RST: the connection is gone for both)."""
        packet = self._packet(by_client, (RST if reset else FIN) | ACK, b"", time)
        if not reset:
            self._next[by_client] += 1
        return [packet]

    def _packet(self, by_client: bool, flags: int, payload: bytes, time: float) -> Packet:
        source, destination = self._ends[by_client], self._ends[not by_client]
        seq, ack = self._next[by_client] & 0xFFFFFFFF, self._next[not by_client] & 0xFFFFFFFF
        tcp = _TCP.pack(source[1], destination[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
        ip = _IPV4.pack(0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0,
                        source[0], destination[0])  # fmt: skip
        data = _ETHERNET + ip + tcp + payload
        return Packet(next(self._numbers), time, EN10MB, data, len(data))


def _ipv4_endpoint(endpoint: Endpoint) -> tuple[bytes, int]:
    host, port = endpoint
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = ipaddress.ip_address("127.0.0.1")
    if address.version == 4:
        return address.packed, port
    return bytes([10]) + address.packed[-3:], port  # an IPv6 peer: a made-up IPv4 address


# --- pcapng -----------------------------------------------------------------------------


def pcapng_header() -> bytes:
    """A Section Header Block and one Ethernet interface (microsecond times)."""
    section = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    interface = struct.pack("<HHI", EN10MB, 0, 262_144)
    return _block(0x0A0D0D0A, section) + _block(1, interface)


def pcapng_packet(packet: Packet) -> bytes:
    """An Enhanced Packet Block."""
    ticks = round((packet.time or 0.0) * 1_000_000)
    head = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(packet.data),
                       packet.original_length)  # fmt: skip
    return _block(6, head + packet.data)


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)
