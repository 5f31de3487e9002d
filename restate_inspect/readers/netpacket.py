"""From a captured packet to a TCP segment (sans-IO): link layers, 802.1Q tags, IPv4 with
options, IPv6 with extension headers, IP fragments reassembled, TCP headers."""

from __future__ import annotations

import functools
import socket
import struct
from dataclasses import dataclass, field
from typing import Final

from restate_inspect.events import Packet, Segment
from restate_inspect.rules import Problem, counted

# link types
EN10MB, NULL, RAW, LOOP, LINUX_SLL, RAW_IPV4, RAW_IPV6, LINUX_SLL2 = (
    1,
    0,
    101,
    108,
    113,
    228,
    229,
    276,
)
RAW_OPENBSD, RAW_BSD = 12, 14  # older numbers for raw IP
_ETHERTYPE_IPV4, _ETHERTYPE_IPV6 = 0x0800, 0x86DD
_VLAN_TAGS: Final = (0x8100, 0x88A8, 0x9100)
_AF_INET6: Final = (10, 24, 28, 30)  # Linux, and the BSDs' values
_TCP = 6
_IPV6_EXTENSIONS: Final = {0, 43, 60, 51, 135, 139, 140}  # hop-by-hop, routing, dest. options...
_IPV6_FRAGMENT = 44
_MAX_FRAGMENTED: Final = 64  # datagrams being reassembled at once; the oldest is given up

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_IPV4: Final = struct.Struct("!BBHHHxB2x8s")
_TCP_HEADER: Final = struct.Struct("!HHIIH")


@dataclass
class _Datagram:
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> bytes
    total: int | None = None  # known once the last fragment arrives
    first_packet: int = 0


class PacketDecoder:
    """Packets in, TCP segments and problems out; holds IP fragments until they are whole."""

    def __init__(self) -> None:
        self._datagrams: dict[tuple[object, ...], _Datagram] = {}
        self._unknown_links: set[int] = set()

    def feed(self, packet: Packet) -> list[Segment | Problem]:
        """The packet's TCP segment, or what is wrong with the packet; nothing for one of
        another protocol, or a fragment that waits for the rest of its datagram."""
        decoded = self._decoded(packet)
        return [] if decoded is None else [decoded]

    def _decoded(self, packet: Packet) -> Segment | Problem | None:
        """Positions are passed down the layers, so a payload is copied once, at the end."""
        if packet.linktype == EN10MB and packet.data[12:14] == b"\x08\x00":  # IPv4, as most
            try:
                return self._ipv4(packet, packet.data, 14)
            except (struct.error, ValueError, IndexError):
                return self._malformed(packet, "IPv4 or TCP header")
        try:
            network = self._link(packet)
        except (struct.error, ValueError, IndexError):
            return self._malformed(packet, "link-layer header")
        if network is None:
            return self._unsupported(packet)
        version, start = network
        if version is None:
            return None  # not IP (ARP, ...): nothing of ours
        try:
            if version == 4:
                return self._ipv4(packet, packet.data, start)
            return self._ipv6(packet, packet.data, start)
        except (struct.error, ValueError, IndexError):
            return self._malformed(packet, f"IPv{version} or TCP header")

    # --- link layers -------------------------------------------------------------

    def _link(self, packet: Packet) -> tuple[int | None, int] | None:
        """(IP version, or None when not IP; where the IP header starts), or None for an
        unknown link type."""
        data, link = packet.data, packet.linktype
        if link == EN10MB:
            return _ethertype(data, 12)
        if link in (NULL, LOOP):
            # LOOP is big-endian; NULL has the byte order of the capturing machine. Address
            # families are small numbers, so the order that gives one is the right one.
            family = struct.unpack_from("<I", data)[0]
            if family > 0xFFFF:
                family = struct.unpack_from(">I", data)[0]
            return (4 if family == 2 else 6 if family in _AF_INET6 else None), 4
        if link in (RAW, RAW_OPENBSD, RAW_BSD, RAW_IPV4, RAW_IPV6):
            version = data[0] >> 4
            return (version if version in (4, 6) else None), 0
        if link == LINUX_SLL:
            return _ethertype(data, 14)
        if link == LINUX_SLL2:
            return _ethertype(data, 0, header=20)
        return None

    # --- IP --------------------------------------------------------------------------

    def _ipv4(self, packet: Packet, data: bytes, start: int) -> Segment | Problem | None:
        first, _tos, total, ident, fragment, protocol, addresses = _IPV4.unpack_from(data, start)
        header = (first & 0x0F) * 4
        source, destination = _ipv4_texts(addresses)
        if header < 20 or total < header:
            return self._malformed(packet, f"IPv4 header (header length {header}, total {total})")
        end = min(start + total, len(data))
        cut = start + total - end
        more, offset = fragment & 0x2000, (fragment & 0x1FFF) * 8
        if more or offset:
            key = (4, source, destination, ident, protocol)
            whole = self._reassemble(packet, key, offset, data[start + header : end], not more)
            if whole is None or protocol != _TCP:
                return None
            return _tcp(packet, source, destination, whole, 0, len(whole), 0)
        if protocol != _TCP:
            return None
        return _tcp(packet, source, destination, data, start + header, end, cut)

    def _ipv6(self, packet: Packet, data: bytes, start: int) -> Segment | Problem | None:
        length = struct.unpack_from("!H", data, start + 4)[0]
        next_header = data[start + 6]
        source = socket.inet_ntop(socket.AF_INET6, data[start + 8 : start + 24])
        destination = socket.inet_ntop(socket.AF_INET6, data[start + 24 : start + 40])
        end = min(start + 40 + length, len(data))
        cut = start + 40 + length - end
        pos = start + 40
        while next_header in _IPV6_EXTENSIONS or next_header == _IPV6_FRAGMENT:
            if next_header == _IPV6_FRAGMENT:
                header_after = data[pos]
                offset_flags, ident = struct.unpack_from("!HI", data, pos + 2)
                key = (6, source, destination, ident)
                whole = self._reassemble(
                    packet, key, offset_flags & 0xFFF8, data[pos + 8 : end], not offset_flags & 1
                )
                if whole is None:
                    return None
                data, pos, end, cut, next_header = whole, 0, len(whole), 0, header_after
                continue
            size = (data[pos + 1] + 2) * 4 if next_header == 51 else (data[pos + 1] + 1) * 8
            next_header, pos = data[pos], pos + size
        if next_header != _TCP:
            return None
        return _tcp(packet, source, destination, data, pos, end, cut)

    def _reassemble(
        self, packet: Packet, key: tuple[object, ...], offset: int, piece: bytes, last: bool
    ) -> bytes | None:
        datagram = self._datagrams.setdefault(key, _Datagram(first_packet=packet.number))
        datagram.pieces[offset] = piece
        if last:
            datagram.total = offset + len(piece)
        if datagram.total is None:
            self._forget_oldest()
            return None
        whole, pos = bytearray(), 0
        for start in sorted(datagram.pieces):
            if start > pos:
                return None  # a hole: wait for it
            whole += datagram.pieces[start][pos - start :]
            pos = max(pos, start + len(datagram.pieces[start]))
        del self._datagrams[key]
        return bytes(whole[: datagram.total])

    def _forget_oldest(self) -> None:
        if len(self._datagrams) > _MAX_FRAGMENTED:
            del self._datagrams[next(iter(self._datagrams))]

    def end_of_stream(self) -> list[Problem]:
        """At the end of the capture: datagrams whose fragments never all arrived."""
        problems = [
            Problem(
                "RI306",
                f"IP datagram whose first fragment is packet {d.first_packet} never became "
                f"whole ({sum(map(len, d.pieces.values()))} bytes in {len(d.pieces)} fragments)",
                None,
                None,
            )
            for d in self._datagrams.values()
        ]
        self._datagrams.clear()
        return problems

    # --- problems ----------------------------------------------------------------

    def _unsupported(self, packet: Packet) -> Problem | None:
        if packet.linktype in self._unknown_links:
            return None  # said once per link type
        self._unknown_links.add(packet.linktype)
        return Problem(
            "RI305",
            f"packet {packet.number}: link type {packet.linktype} is not supported; "
            "its packets are skipped",
            None,
            None,
        )

    @staticmethod
    def _malformed(packet: Packet, what: str) -> Problem:
        return Problem(
            "RI307",
            f"packet {packet.number}: malformed or cut-short {what} "
            f"({counted(len(packet.data), 'byte')} captured); skipped",
            None,
            None,
        )


@functools.lru_cache(maxsize=4096)  # a capture has few addresses and many packets
def _ipv4_texts(raw: bytes) -> tuple[str, str]:
    """The source and destination of an IPv4 header's 8 address bytes, as text."""
    return socket.inet_ntop(socket.AF_INET, raw[:4]), socket.inet_ntop(socket.AF_INET, raw[4:])


def _ethertype(data: bytes, pos: int, header: int = 0) -> tuple[int | None, int]:
    """The IP version after an EtherType at pos, skipping 802.1Q tags; where IP starts
    (header: the link header's length when the EtherType is not at its end)."""
    kind = struct.unpack_from("!H", data, pos)[0]
    start = header or pos + 2
    while kind in _VLAN_TAGS:
        kind = struct.unpack_from("!H", data, start + 2)[0]
        start += 4
    if kind == _ETHERTYPE_IPV4:
        return 4, start
    if kind == _ETHERTYPE_IPV6:
        return 6, start
    return None, start


def _tcp(
    packet: Packet, source: str, destination: str, data: bytes, start: int, end: int, cut: int
) -> Segment:
    sport, dport, seq, ack, offset_flags = _TCP_HEADER.unpack_from(data, start)
    header = (offset_flags >> 12) * 4
    if header < 20 or start + header > end:
        raise ValueError("TCP header length")
    return Segment(
        (source, sport),
        (destination, dport),
        seq,
        ack,
        offset_flags & 0x3F,
        data[start + header : end],
        cut,
        packet.time,
        packet.number,
    )
