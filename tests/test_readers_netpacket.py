"""The network layer of synthetic captures: IPv6 extension headers and VLANs, IPv4 options
and fragments, malformed headers."""

from __future__ import annotations

from tests import capturewriter as cw
from tests.captures import (
    REQUEST,
    RESPONSE,
    SDK,
    assert_whole_exchange,
    decode,
    expected,
    frames_of,
    h2_packets,
    problems,
    shape,
)


def test_ipv6_with_extension_headers_and_vlans() -> None:
    talk = cw.Conversation(("fd00::1", 40000), ("fd00::2", 9080))
    for side, flags in ((0, cw.SYN), (1, cw.SYN | cw.ACK), (0, cw.ACK)):
        talk.segment(side, flags=flags, vlans=(10, 20))
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        talk.segment(side, data, vlans=(10, 20))
    assert_whole_exchange(decode(cw.pcap(talk.packets)))
    # hop-by-hop options and a destination-options header before TCP
    hop_by_hop = bytes([60, 0]) + b"\x01\x04\x00\x00\x00\x00"
    destination_options = bytes([6, 0]) + b"\x01\x04\x00\x00\x00\x00"
    for packet in talk.packets:
        ip = packet.data[22:]  # after Ethernet and two tags
        tcp = ip[40:]
        rebuilt = cw.ipv6(
            "fd00::1", "fd00::2", tcp, next_header=0, extensions=hop_by_hop + destination_options
        )
        if ip[8:24] != rebuilt[8:24]:  # keep the addresses of the segment's direction
            rebuilt = rebuilt[:8] + ip[8:40] + rebuilt[40:]
        packet.data = packet.data[:22] + rebuilt
    assert_whole_exchange(decode(cw.pcap(talk.packets)))


def test_ipv4_options_and_fragments() -> None:
    packets = h2_packets()
    out = []
    for packet in packets:
        ip = packet.data[14:]
        header = (ip[0] & 0x0F) * 4
        source, destination = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
        tcp = ip[header:]
        if len(tcp) > 200:  # fragment: two pieces, the second sent first
            first, second = tcp[:96], tcp[96:]
            piece2 = cw.ipv4(source, destination, second, ident=7, fragment=96 // 8)
            piece1 = cw.ipv4(
                source, destination, first, ident=7, fragment=0x2000, options=b"\x01" * 4
            )
            out += [
                cw.Packet(packet.time, packet.data[:14] + piece2),
                cw.Packet(packet.time, packet.data[:14] + piece1),
            ]
        else:
            out.append(
                cw.Packet(
                    packet.time,
                    packet.data[:14] + cw.ipv4(source, destination, tcp, options=b"\x01" * 8),
                )
            )
    assert_whole_exchange(decode(cw.pcap(out)))


def test_fragments_that_never_become_whole_are_reported() -> None:
    packets = h2_packets()
    ip = packets[5].data[14:]
    lone = cw.ipv4("10.0.0.1", "10.0.0.2", ip[20:60], ident=9, fragment=0x2000)
    packets.insert(5, cw.Packet(packets[5].time, packets[5].data[:14] + lone))
    items = decode(cw.pcap(packets))
    assert [p.code for p in problems(items)] == ["RI306"]
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)


def test_a_malformed_header_is_reported_and_skipped() -> None:
    packets = h2_packets()
    packets.append(cw.Packet(packets[-1].time + 1, packets[0].data[:20]))  # cut in the IP header
    items = decode(cw.pcap(packets))
    assert [p.code for p in problems(items)] == ["RI307"]
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)
