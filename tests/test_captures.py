"""Synthetic captures, written with tests/capturewriter.py: every link type and container
variant, IPv6, VLANs, fragments, TCP trouble (reordering, retransmissions, overlaps, loss,
wrap-around, a start mid-connection), cut files, and HTTP/1.1 and HTTP/2 variants. Each test
checks the exact frames, gaps and problems that come out."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from restate_inspect.events import DecodedFrame, Frame, Packet, Segment, StreamEnd, StreamInfo
from restate_inspect.location import Direction
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import capture_events
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.pcapfile import read_packets
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.helpers import SAMPLES
from tests.helpers import read_all as decode_all

REQUEST = (SAMPLES / "v1-call-other.req.bin").read_bytes()
RESPONSE = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1, /) -> bytes:
        chunk = self.data[self.pos : self.pos + size if size >= 0 else None]
        self.pos += len(chunk)
        return chunk


def decode(capture: bytes) -> list[Any]:
    return list(decode_events(capture_events(_Bytes(capture), "test")))


def frames_of(items: list[Any], direction: Direction, stream: str | None = None) -> list[Frame]:
    return [
        i.frame
        for i in items
        if isinstance(i, DecodedFrame)
        and i.frame.direction is direction
        and (stream is None or str(i.frame.stream) == stream)
    ]


def problems(items: list[Any]) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem)]


def shape(frames: list[Frame]) -> list[tuple[Any, ...]]:
    return [(f.offset, f.type, f.flags, f.length, f.body) for f in frames]


def expected(body: bytes) -> list[tuple[Any, ...]]:
    return shape([e for e in decode_all(body) if isinstance(e, Frame)])


def assert_whole_exchange(items: list[Any], stream: str = "tcp0/s1") -> None:
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
    assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)


def h2_packets(**options: Any) -> list[cw.Packet]:
    return cw.conversation_packets(cw.h2_exchange(REQUEST, RESPONSE), **options)


# --- containers and link types ---------------------------------------------------------


@pytest.mark.parametrize(
    "linktype", [cw.EN10MB, cw.NULL, cw.LOOP, cw.RAW, cw.RAW_IPV4, cw.LINUX_SLL, cw.LINUX_SLL2]
)
def test_every_link_type(linktype: int) -> None:
    assert_whole_exchange(decode(cw.pcap(h2_packets(linktype=linktype), linktype=linktype)))


@pytest.mark.parametrize(
    ("big_endian", "nanoseconds"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_pcap_byte_orders_and_resolutions(big_endian: bool, nanoseconds: bool) -> None:
    packets = h2_packets()
    items = decode(cw.pcap(packets, big_endian=big_endian, nanoseconds=nanoseconds))
    assert_whole_exchange(items)
    first = frames_of(items, RUNTIME)[0]
    assert first.time == pytest.approx(packets[(first.packet or 0) - 1].time, abs=1e-6)


@pytest.mark.parametrize("nanoseconds", [False, True])
def test_the_same_packets_have_the_same_times_in_pcap_and_pcapng(nanoseconds: bool) -> None:
    """Seconds since the epoch, from ticks, rounded once: a capture saved as pcap and as
    pcapng decodes to the same output, times included (they were one ulp apart)."""
    packets = [cw.Packet(1_764_042_474 + n * 0.000123457, b"\x00" * 60) for n in range(200)]
    resolution = 9 if nanoseconds else None
    in_pcap = cw.pcap(packets, nanoseconds=nanoseconds)
    in_pcapng = cw.pcapng([cw.Section([cw.Interface(cw.EN10MB, resolution)], packets)])
    times = [
        [p.time for p in read_packets(io.BytesIO(data), "x") if isinstance(p, Packet)]
        for data in (in_pcap, in_pcapng)
    ]
    assert len(times[0]) == 200
    assert times[0] == times[1]


def test_pcapng_sections_interfaces_and_block_kinds() -> None:
    """Two sections (the second big-endian would need its own file: one order per file
    here), interfaces with different link types and resolutions, EPB, and unknown blocks."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        talk.segment(side, data)
    packets = talk.packets
    half = len(packets) // 2
    for packet in packets[half:]:  # the second half on interface 1: a raw-IP link
        packet.data, packet.interface = packet.data[14:], 1
    section = cw.Section([cw.Interface(cw.EN10MB), cw.Interface(cw.RAW, resolution=9)], packets)
    items = decode(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], []), section]))
    assert_whole_exchange(items)
    last = frames_of(items, SDK)[-1]
    assert last.time == pytest.approx(packets[(last.packet or 0) - 1].time, abs=1e-6)


@pytest.mark.parametrize("block", ["spb", "pb"])
def test_pcapng_simple_and_obsolete_packet_blocks(block: str) -> None:
    section = cw.Section([cw.Interface(cw.EN10MB, resolution=0x80 | 20)], h2_packets(), block=block)
    items = decode(cw.pcapng([section], big_endian=True))
    assert_whole_exchange(items)
    assert all((f.time is None) == (block == "spb") for f in frames_of(items, SDK))


def test_pcapng_interface_offset_is_added() -> None:
    packets = h2_packets()
    section = cw.Section([cw.Interface(cw.EN10MB, offset=1_000_000)], packets)
    items = decode(cw.pcapng([section]))
    frame = frames_of(items, SDK)[0]
    assert frame.time == pytest.approx(packets[(frame.packet or 0) - 1].time, abs=1e-5)


def test_a_packet_naming_an_unknown_interface_is_reported() -> None:
    packets = h2_packets()
    packets[5].interface = 3
    items = decode(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], packets)]))
    assert next(p.code for p in problems(items)) == "RI304"


def test_truncated_file() -> None:
    packets = h2_packets()
    capture = cw.pcap(packets)
    items = decode(capture[: len(capture) - 30])
    codes = [p.code for p in problems(items)]
    assert codes[0] == "RI301"
    assert f"ends inside packet {len(packets)} " in problems(items)[0].message
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)  # what came before is kept


def test_truncated_pcapng_and_corrupt_block_length() -> None:
    capture = cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], h2_packets())])
    assert problems(decode(capture[:-10]))[0].code == "RI301"
    broken = capture[:32] + struct.pack("<I", 7) + capture[36:]  # the IDB's length
    assert problems(decode(broken))[0].code == "RI303"


@pytest.mark.parametrize(("block", "fields"), [(6, 20), (2, 20), (3, 4)])
def test_pcapng_packet_block_too_short_for_its_fields(block: int, fields: int) -> None:
    """A packet block whose length is well formed but leaves no room for its fields is
    reported, and the blocks after it are read (a fuzz test found it crashing the reader)."""
    capture = cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], h2_packets())])
    short = struct.pack("<II", block, 12 + fields - 4) + b"\x00" * (fields - 4)
    short += struct.pack("<I", 12 + fields - 4)
    first_packet = capture.index(struct.pack("<I", 6), 28 + 20)  # after the SHB and the IDB
    items = decode(capture[:first_packet] + short + capture[first_packet:])
    (problem,) = problems(items)
    assert problem.code == "RI303" and problem.offset == first_packet
    assert_whole_exchange([i for i in items if not isinstance(i, Problem)])


def test_not_a_capture() -> None:
    assert [p.code for p in problems(decode(b"\x00\x01\x02\x03 not a capture"))] == ["RI302"]


def test_unsupported_link_type_is_reported_once() -> None:
    items = decode(cw.pcap(h2_packets(), linktype=147))
    assert [p.code for p in problems(items)] == ["RI305"]


# --- network layer -----------------------------------------------------------------------


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


# --- TCP -------------------------------------------------------------------------------


def _talk(segment: int = 100, **options: Any) -> cw.Conversation:
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080), **options)
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        for start in range(0, len(data), segment):
            talk.segment(side, data[start : start + segment])
    return talk


def _runs_from(packets: list[cw.Packet], port: bytes) -> list[int]:
    """Indexes of data packets sent from a port (bytes 34-35: the TCP source port)."""
    return [i for i, p in enumerate(packets) if p.data[34:36] == port and len(p.data) > 54]


def test_out_of_order_segments_are_reordered() -> None:
    talk = _talk(segment=40)
    packets = talk.packets
    client = _runs_from(packets, b"\x9c\x40")
    run = next(
        client[i : i + 3]
        for i in range(len(client))
        if client[i : i + 3] == list(range(client[i], client[i] + 3))
    )
    packets[run[0]], packets[run[2]] = packets[run[2]], packets[run[0]]  # 3, 2, 1 order
    assert_whole_exchange(decode(cw.pcap(packets)))


def test_retransmissions_and_identical_overlaps_are_trimmed() -> None:
    talk = _talk()
    packets = list(talk.packets)
    packets.insert(8, packets[7])  # the same segment twice
    packets.insert(10, packets[6])  # an old one, late
    assert_whole_exchange(decode(cw.pcap(packets)))


def test_overlap_with_different_bytes_is_reported_and_the_first_copy_kept() -> None:
    talk = _talk()
    bad = talk.packets[7]
    ip = bytearray(bad.data)
    ip[-5] ^= 0xFF  # same sequence numbers, one byte different
    talk.packets.insert(8, cw.Packet(bad.time, bytes(ip)))
    items = decode(cw.pcap(talk.packets))
    assert [p.code for p in problems(items)] == ["RI309"]
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)


def _kept_for_comparing(packets: list[cw.Packet]) -> list[int]:
    """Bytes each side of the one connection keeps to compare copies with, at the end."""
    from restate_inspect.readers.tcp import TcpReassembler, _Conversation

    reassembler = TcpReassembler()
    segments = PacketDecoder()
    for packet in read_packets(io.BytesIO(cw.pcap(packets)), "test"):
        assert isinstance(packet, Packet)
        segment = segments.decode(packet)
        assert isinstance(segment, Segment)
        reassembler.feed(segment)
    (conversation,) = reassembler._conversations.values()
    assert isinstance(conversation, _Conversation)
    return [flow.recent_size for flow in conversation.flows]


def test_acknowledged_bytes_are_not_kept_to_compare_copies_with() -> None:
    """What the peer acknowledged is not sent again (short of an ACK lost beyond the capture
    point): an open connection whose bytes were all acknowledged keeps none of them, where it
    kept 64 KiB each way, and a capture of many open connections grew with them."""
    talk = _talk()
    talk.segment(1, flags=cw.ACK)  # the server acknowledges the client's last bytes
    talk.segment(0, flags=cw.ACK)
    assert _kept_for_comparing(talk.packets) == [0, 0]


def test_bytes_not_yet_acknowledged_are_kept_and_a_differing_copy_still_reported() -> None:
    talk = _talk()  # the client acknowledges nothing after the server's last segment
    response = sum(len(data) for side, data in cw.h2_exchange(REQUEST, RESPONSE) if side == 1)
    kept = _kept_for_comparing(talk.packets)
    assert kept[0] == 0
    assert 0 < kept[1] <= response
    last = max(_runs_from(talk.packets, b"\x23\x78"))  # the server's (port 9080)
    copy = bytearray(talk.packets[last].data)
    copy[-1] ^= 0xFF
    talk.packets.append(cw.Packet(talk.packets[-1].time + 0.001, bytes(copy)))
    assert [p.code for p in problems(decode(cw.pcap(talk.packets)))] == ["RI309"]


def test_a_differing_copy_of_acknowledged_bytes_is_not_compared() -> None:
    """The documented cost of keeping memory flat: a copy of bytes that were acknowledged
    is trimmed unseen, even when it differs; the first copy is what the receiver took."""
    talk = _talk()
    first = _runs_from(talk.packets, b"\x9c\x40")[0]
    copy = bytearray(talk.packets[first].data)
    copy[-1] ^= 0xFF
    talk.packets.append(cw.Packet(talk.packets[-1].time + 0.001, bytes(copy)))
    items = decode(cw.pcap(talk.packets))
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)


def test_a_missing_segment_is_a_gap_and_the_restate_decoder_resynchronises() -> None:
    talk = _talk(segment=60)
    request_data = [
        i for i, p in enumerate(talk.packets) if len(p.data) > 100 and p.data[34:36] == b"\x9c\x40"
    ]
    lost = request_data[4]  # in the middle of the request body
    del talk.packets[lost]
    talk.segment(1, flags=cw.ACK)  # the server acknowledges everything: the bytes were sent
    items = decode(cw.pcap(talk.packets))
    codes = [p.code for p in problems(items)]
    assert "RI111" in codes  # the loss, with its exact size
    gap = next(p for p in problems(items) if p.code == "RI111")
    assert gap.length == 60 and gap.undecoded
    got = shape(frames_of(items, RUNTIME))
    want = expected(REQUEST)
    assert got[0] == want[0] and got[-1] == want[-1]  # before and after the loss: intact
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)


def test_a_stream_whose_headers_were_lost_is_told_its_start_may_be_missing() -> None:
    """The segment with the SDK's HEADERS is lost: its DATA is still routed by stream id,
    and the response direction says that an unknown number of bytes may be missing."""
    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    response_head = next(i for i, (side, _) in enumerate(exchange) if side == 1 and i > 1)
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for index, (side, data) in enumerate(exchange):
        talk.segment(side, data)
        if index == response_head:
            del talk.packets[-1]
    items = decode(cw.pcap(talk.packets))
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)
    (start_missing,) = [
        p for p in problems(items) if p.code == "RI111" and p.direction is SDK and p.offset == 0
    ]
    assert start_missing.length == 0 and "an unknown number" in start_missing.message


def test_capture_that_starts_mid_connection() -> None:
    talk = _talk(segment=40)
    # drop the handshake and everything up to the client's first DATA frame
    items = decode(cw.pcap(talk.packets[3 + 6 :]))
    infos = [i for i in items if isinstance(i, StreamInfo)]
    assert infos and infos[-1].kind == "invocation" and infos[-1].request_headers is None
    assert [p.code for p in problems(items)].count("RI312") <= 1
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)  # routed by stream id


def test_sequence_numbers_wrap_around() -> None:
    talk = _talk(isn=(0xFFFFFF00, 0xFFFFFFF0))
    assert_whole_exchange(decode(cw.pcap(talk.packets)))


def test_snap_length_cuts_become_gaps() -> None:
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    for side, data in exchange:
        keep = 14 + 20 + 20 + 50 if side == 1 and len(data) > 100 else None
        talk.segment(side, data, keep=keep)
    talk.segment(0, flags=cw.ACK)
    items = decode(cw.pcap(talk.packets))
    assert any(p.code == "RI111" for p in problems(items))
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)
    # why: said once, at the first packet cut
    (cut,) = [p for p in problems(items) if p.code == "RI317"]
    first = next(p for p in talk.packets if p.original_length is not None)
    assert cut.packet == talk.packets.index(first) + 1
    assert f"with 104 of its {first.original_length} bytes" in cut.message


def test_reset_connection_ends_its_streams() -> None:
    talk = _talk()
    talk.packets = talk.packets[:-2]  # no END_STREAM from the SDK
    talk.segment(1, flags=cw.RST | cw.ACK)
    items = decode(cw.pcap(talk.packets))
    ends = [i for i in items if isinstance(i, StreamEnd)]
    assert {(e.direction, e.how, e.by) for e in ends} == {
        (RUNTIME, "end", None),
        (SDK, "reset", SDK),
    }


def test_a_connection_the_runtime_resets_mid_answer_is_an_abort() -> None:
    """HTTP/1.1: the runtime's TCP RST cuts the SDK's answer short. The response says the
    runtime reset it, and the attempt is an abort (RI242), not an SDK that left it unended."""
    from restate_inspect.invocations import Invocation, invocations

    (request, response) = cw.http1_exchange(REQUEST, RESPONSE, chunked=False)
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    talk.segment(*request)
    talk.segment(1, response[1][: len(response[1]) - 20])  # the End and more still to come
    talk.segment(0, flags=cw.RST | cw.ACK)
    items = decode(cw.pcap(talk.packets))
    ends = {(e.direction, e.how, e.by) for e in items if isinstance(e, StreamEnd)}
    assert ends == {(RUNTIME, "end", None), (SDK, "reset", RUNTIME)}
    (invocation,) = [i for i in invocations(items) if isinstance(i, Invocation)]
    codes = [f.code for f in invocation.attempts[0].all_findings()]
    assert "RI242" in codes and "RI205" not in codes


def test_a_stream_cut_short_says_how_each_body_ended() -> None:
    """streams' ending column: what cut the bodies, per direction, in words."""
    from restate_inspect.streams import group_streams, summarize

    def ending(exchange: list[tuple[int, bytes]], *, reset: bool) -> str:
        talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
        talk.handshake()
        for side, data in exchange:
            talk.segment(side, data)
        if reset:
            talk.segment(1, flags=cw.RST | cw.ACK)
        (group,) = [g for g in group_streams(decode(cw.pcap(talk.packets))) if g.info]
        return summarize(group).ending

    exchange = cw.h2_exchange(REQUEST, b"")  # the SDK sends nothing: no terminal message
    end_stream = b"\x00\x00\x00\x00\x01\x00\x00\x00\x01"  # an empty DATA frame that ends it
    unended = [part for part in exchange if end_stream not in part[1]]
    assert ending(unended, reset=False) == (
        "no terminal message; request and response cut by the capture's end"
    )
    assert ending(exchange[:-1], reset=True) == "no terminal message; response reset by the SDK"


# --- HTTP --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False])
def test_http1_chunked_and_content_length_with_keep_alive(chunked: bool) -> None:
    exchange = cw.http1_exchange(REQUEST, RESPONSE, chunked=chunked)
    two = exchange + cw.http1_exchange(REQUEST, RESPONSE, chunked=not chunked)
    items = decode(cw.pcap(cw.conversation_packets(two, segment=77)))
    assert problems(items) == []
    for exchange_name in ("tcp0/m1", "tcp0/m2"):
        assert shape(frames_of(items, RUNTIME, exchange_name)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, exchange_name)) == expected(RESPONSE)
    info = [i for i in items if isinstance(i, StreamInfo)][-1]
    assert (info.http_version, info.status, info.protocol_version) == ("HTTP/1.1", "200", 2)


@pytest.mark.parametrize("lost", [3, 6, 9])
def test_http1_chunked_body_goes_on_after_lost_bytes(lost: int) -> None:
    """A lost segment takes chunk-size lines with it: the body goes on from the next
    chunk whose size line says where it ends, and the frames after the loss decode."""
    body = RESPONSE * 4
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    (request, response) = cw.http1_exchange(REQUEST, body, chunk=23)
    talk.segment(*request)
    for start in range(0, len(response[1]), 50):
        talk.segment(1, response[1][start : start + 50])
    del talk.packets[-lost]  # a segment of the body, neither its first nor its last
    talk.segment(0, flags=cw.ACK)  # the client has it all: the bytes were sent
    talk.segment(0, flags=cw.FIN | cw.ACK)
    talk.segment(1, flags=cw.FIN | cw.ACK)
    items = decode(cw.pcap(talk.packets))
    codes = [p.code for p in problems(items)]
    assert "RI111" in codes and "RI313" not in codes  # the loss, and no lost HTTP framing
    got, want = shape(frames_of(items, SDK, "tcp0/m1")), expected(body)
    assert got[0] == want[0]  # before the loss
    # after it, offsets count only the bytes seen: how many were lost is not known
    assert got[-1][1:] == want[-1][1:]
    assert len(got) >= len(want) - 3  # what the loss took, and no more
    assert [e.how for e in items if isinstance(e, StreamEnd) and e.direction is SDK] == ["end"]


def test_http1_response_whose_request_was_lost_does_not_shift_the_pairs() -> None:
    """Keep-alive: the first request is lost whole. Its response is an exchange of its own,
    and the second request still pairs with its own response."""
    first = cw.http1_exchange(REQUEST, RESPONSE, chunked=False)
    second = cw.http1_exchange(REQUEST, RESPONSE, chunked=True)
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for side, data in first + second:
        talk.segment(side, data)
    del talk.packets[3]  # the first request
    talk.segment(1, flags=cw.ACK)  # the server had it: the bytes were sent
    items = decode(cw.pcap(talk.packets))
    heads = [(str(i.stream), i.method, i.status) for i in items if isinstance(i, StreamInfo)]
    assert heads[0] == ("tcp0/m1", None, "200")  # the answer to the lost request
    assert ("tcp0/m2", "POST", "200") in heads
    assert shape(frames_of(items, RUNTIME, "tcp0/m2")) == expected(REQUEST)
    assert shape(frames_of(items, SDK, "tcp0/m2")) == expected(RESPONSE)


def test_http1_continue_response_is_skipped() -> None:
    request, response = cw.http1_exchange(REQUEST, RESPONSE)
    exchange = [request, (1, b"HTTP/1.1 100 Continue\r\n\r\n"), response]
    items = decode(cw.pcap(cw.conversation_packets(exchange)))
    assert_whole_exchange(items, "tcp0/m1")


def test_http2_continuation_padding_and_small_segments() -> None:
    exchange = cw.h2_exchange(REQUEST, RESPONSE, continuation=True, padded=True, chunk=50)
    assert_whole_exchange(decode(cw.pcap(cw.conversation_packets(exchange, segment=7))))


def test_http2_headers_with_padding_and_priority_and_flow_control_frames() -> None:
    """HEADERS with the PADDED and PRIORITY flags (read by hyperframe), between the plain
    ones and WINDOW_UPDATEs of the connection and of the stream (read without it)."""
    from hyperframe.frame import HeadersFrame, WindowUpdateFrame

    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    heading = next(i for i, (side, data) in enumerate(exchange) if side == 0 and data[3] == 1)
    plain = exchange[heading][1]
    fancy = HeadersFrame(1, plain[9:], flags=["END_HEADERS", "PADDED", "PRIORITY"])
    fancy.pad_length, fancy.depends_on, fancy.stream_weight = 4, 0, 15
    updates = cw.h2_frames(WindowUpdateFrame(0, window_increment=65535), WindowUpdateFrame(1, 1))
    exchange[heading] = (0, cw.h2_frames(fancy) + updates)
    assert_whole_exchange(decode(cw.pcap(cw.conversation_packets(exchange, segment=7))))


@pytest.mark.parametrize(
    ("kind", "stream", "payload", "why"),
    [
        (3, 1, b"\x00\x00\x08", "RST_STREAM must have 4 byte body"),
        (3, 0, b"\x00\x00\x00\x08", "Stream ID must be non-zero"),
        (8, 1, b"\x00\x00\x00\x00", "WINDOW_UPDATE increment must be between"),
        (8, 0, b"\x80\x00\x00\x01", "WINDOW_UPDATE increment must be between"),
        (1, 0, b"\x82", "Stream ID must be non-zero"),
    ],
)
def test_http2_malformed_control_frames_are_reported_and_skipped(
    kind: int, stream: int, payload: bytes, why: str
) -> None:
    exchange = cw.h2_exchange(REQUEST, RESPONSE)
    bad = struct.pack("!HBBBL", 0, len(payload), kind, 0x04 if kind == 1 else 0, stream) + payload
    exchange.insert(2, (0, bad))
    items = decode(cw.pcap(cw.conversation_packets(exchange)))
    (problem,) = problems(items)
    assert problem.code == "RI311"
    assert "invalid HTTP/2 frame skipped" in problem.message and why in problem.message
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)


def test_http2_concurrent_streams_on_one_connection() -> None:
    from hpack import Encoder

    encoders = (Encoder(), Encoder())
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, chunk=40, encoders=encoders)
    two = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, chunk=40, encoders=encoders, preface=False)
    mixed = (
        one[:3]
        + [m for pair in zip(one[3:], two, strict=False) for m in pair]
        + one[3 + len(two) :]
    )
    items = decode(cw.pcap(cw.conversation_packets(mixed)))
    for stream in ("tcp0/s1", "tcp0/s3"):
        assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)


def _h2c_upgrade(answer: bytes) -> list[tuple[int, bytes]]:
    """An HTTP/1.1 request that asks for h2c, the server's answer (switching or not) and,
    after a 101, one more exchange in HTTP/2, on stream 3."""
    from hpack import Encoder
    from hyperframe.frame import DataFrame, HeadersFrame, SettingsFrame

    v2 = "application/vnd.restate.invocation.v2"
    head = (
        "POST /invoke/Demo/callOther HTTP/1.1\r\nHost: sdk\r\n"
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n"
        f"Content-Type: {v2}\r\nContent-Length: {len(REQUEST)}\r\n\r\n"
    )
    if not answer.startswith(b"HTTP/1.1 101"):
        return [(0, head.encode() + REQUEST), (1, answer)]
    server = Encoder()
    response = [(":status", "200"), ("content-type", v2)]
    stream_1 = cw.h2_frames(
        SettingsFrame(0),
        HeadersFrame(1, server.encode(response), flags=["END_HEADERS"]),
        DataFrame(1, RESPONSE, flags=["END_STREAM"]),
    )
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + cw.h2_frames(SettingsFrame(0))
    stream_3 = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, preface=False,
                              encoders=(Encoder(), server))  # fmt: skip
    return [(0, head.encode() + REQUEST), (1, answer + stream_1), (0, preface), *stream_3]


def test_http11_upgraded_to_h2c_goes_on_as_http2() -> None:
    """RFC 7540, 3.2: the upgrading request is answered on HTTP/2 stream 1, and keeps its
    HTTP/1.1 exchange's name; later exchanges are HTTP/2 streams."""
    switching = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    items = decode(cw.pcap(cw.conversation_packets(_h2c_upgrade(switching), segment=60)))
    assert problems(items) == []
    for stream in ("tcp0/m1", "tcp0/s3"):
        assert shape(frames_of(items, RUNTIME, stream)) == expected(REQUEST)
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)
    infos = {str(i.stream): i for i in items if isinstance(i, StreamInfo)}
    assert (infos["tcp0/m1"].status, infos["tcp0/m1"].target) == ("200", ("Demo", "callOther"))
    assert infos["tcp0/s3"].http_version == "HTTP/2" and infos["tcp0/s3"].kind == "invocation"


def test_http11_upgrade_declined_stays_http11() -> None:
    v2 = "application/vnd.restate.invocation.v2"
    declined = f"HTTP/1.1 200 OK\r\nContent-Type: {v2}\r\nContent-Length: {len(RESPONSE)}\r\n\r\n"
    items = decode(cw.pcap(cw.conversation_packets(_h2c_upgrade(declined.encode() + RESPONSE))))
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME, "tcp0/m1")) == expected(REQUEST)
    assert shape(frames_of(items, SDK, "tcp0/m1")) == expected(RESPONSE)


def test_http2_goaway_ends_the_streams_the_server_refuses() -> None:
    """GOAWAY with last_stream_id 1: stream 3, already sent, will never be processed."""
    from hpack import Encoder
    from hyperframe.frame import GoAwayFrame

    encoders = (Encoder(), Encoder())
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, encoders=encoders)
    three = cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, encoders=encoders, preface=False)
    refused = three[:2]  # stream 3's request: its HEADERS and DATA, not yet its END_STREAM
    goaway = (1, cw.h2_frames(GoAwayFrame(0, last_stream_id=1)))
    items = decode(cw.pcap(cw.conversation_packets(one[:3] + refused + [goaway] + one[3:])))
    assert shape(frames_of(items, SDK, "tcp0/s1")) == expected(RESPONSE)
    ends = {(str(i.stream), i.direction, i.how) for i in items if isinstance(i, StreamEnd)}
    assert ("tcp0/s3", RUNTIME, "reset") in ends
    assert ("tcp0/s1", SDK, "end") in ends and ("tcp0/s1", RUNTIME, "end") in ends


def _without_sdk_end_stream(exchange: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """h2_exchange ends each direction with an empty DATA frame carrying END_STREAM."""
    return [item for item in exchange if item != (1, exchange[-1][1])]


def _after_first_response_data(exchange: list[tuple[int, bytes]]) -> int:
    """Where the SDK's response goes on after its HEADERS and first DATA frame."""
    return next(i for i, (side, _) in enumerate(exchange) if side == 1 and i > 1) + 2


def _talk_over(*parts: list[tuple[int, bytes]], pause: float = 2.0) -> cw.Conversation:
    """A connection carrying parts of an exchange, each after a pause (seconds)."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for number, part in enumerate(parts):
        talk.time += pause if number else 0.0
        for side, data in part:
            talk.segment(side, data)
    return talk


def test_http2_frames_under_way_when_the_runtime_resets_belong_to_the_stream() -> None:
    """The runtime resets streams 1 and 3 while the SDK is writing both: the SDK's frames
    sent before the resets reached it, of either stream and of others (a PING), still come
    and are what it sent. The streams are over once that has had time to happen, at the
    time of their last DATA."""
    from hpack import Encoder
    from hyperframe.frame import PingFrame, RstStreamFrame

    encoders = (Encoder(), Encoder())
    one = _without_sdk_end_stream(
        cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, chunk=30, encoders=encoders)
    )
    three = _without_sdk_end_stream(
        cw.h2_exchange(REQUEST, RESPONSE, stream_id=3, chunk=30, encoders=encoders, preface=False)
    )
    cut_one, cut_three = (_after_first_response_data(one), _after_first_response_data(three))
    resets = (0, cw.h2_frames(RstStreamFrame(1, error_code=8), RstStreamFrame(3, error_code=8)))
    ping = (1, cw.h2_frames(PingFrame(0)))
    sdk_rest = [m for pair in zip(one[cut_one:], three[cut_three:], strict=True) for m in pair]
    talk = _talk_over(
        [*one[:cut_one], *three[:cut_three], resets, *sdk_rest[:2], ping, *sdk_rest[2:]], [ping]
    )
    items = decode(cw.pcap(talk.packets))
    assert problems(items) == []
    for stream in ("tcp0/s1", "tcp0/s3"):
        assert shape(frames_of(items, SDK, stream)) == expected(RESPONSE)
        (end,) = [i for i in items if isinstance(i, StreamEnd) and str(i.stream) == stream
                  and i.direction is SDK]  # fmt: skip
        assert end.how == "reset"
        last_data = talk.packets[frames_of(items, SDK, stream)[-1].packet - 1]  # type: ignore[operator]
        assert end.time == pytest.approx(last_data.time)
        assert end.packet == len(talk.packets) - 0.5  # ended by capture time, before the PING


def test_http2_a_response_not_begun_when_reset_is_over_in_time() -> None:
    """A stream the runtime resets before the SDK answers it is over once the SDK's frames
    under way have had time to come, not held open until the capture ends."""
    from hpack import Encoder
    from hyperframe.frame import RstStreamFrame

    client = Encoder()
    one = cw.h2_exchange(REQUEST, RESPONSE, stream_id=1, encoders=(client, Encoder()))
    three = cw.h2_exchange(  # the SDK's encoder has not encoded stream 1's response
        REQUEST, RESPONSE, stream_id=3, encoders=(client, Encoder()), preface=False
    )
    request_only = [item for item in one if item[0] == 0 or item is one[1]]
    reset = (0, cw.h2_frames(RstStreamFrame(1, error_code=8)))
    items = decode(cw.pcap(_talk_over([*request_only, reset], three).packets))
    assert problems(items) == []
    ended = [i for i, item in enumerate(items) if isinstance(item, StreamEnd)
             and str(item.stream) == "tcp0/s1" and item.direction is SDK]  # fmt: skip
    assert len(ended) == 1 and items[ended[0]].how == "reset"
    first_answer = next(i for i, item in enumerate(items) if isinstance(item, DecodedFrame)
                        and item.frame.direction is SDK)  # fmt: skip
    assert ended[0] < first_answer
    assert shape(frames_of(items, SDK, "tcp0/s3")) == expected(RESPONSE)
    # the runtime's RST_STREAM: the runtime aborted the attempt, which is no SDK fault
    assert items[ended[0]].by is RUNTIME
    from restate_inspect.invocations import Invocation, invocations

    found = {
        str(attempt.stream): {f.code for f in attempt.all_findings()}
        for invocation in invocations(items) if isinstance(invocation, Invocation)
        for attempt in invocation.attempts
    }  # fmt: skip
    assert "RI242" in found["tcp0/s1"] and not {"RI242", "RI205"} & found["tcp0/s3"]
    assert "RI205" not in found["tcp0/s1"]


def test_http2_a_reset_says_which_side_sent_it() -> None:
    from hyperframe.frame import RstStreamFrame

    unended = cw.h2_exchange(REQUEST, RESPONSE)[:-1]  # the response has no END_STREAM
    for side, by in ((0, RUNTIME), (1, SDK)):
        reset = (side, cw.h2_frames(RstStreamFrame(1, error_code=8)))
        items = decode(cw.pcap(_talk_over(unended, [reset]).packets))
        ends = {i.direction: (i.how, i.by) for i in items if isinstance(i, StreamEnd)}
        assert ends == {RUNTIME: ("end", None), SDK: ("reset", by)}


def test_http2_data_after_end_stream_is_reported_not_added_to_the_body() -> None:
    from hyperframe.frame import DataFrame

    late = (1, cw.h2_frames(DataFrame(1, b"\x00\x05\x00\x00\x00\x00\x00\x00")))
    items = decode(cw.pcap(cw.conversation_packets([*cw.h2_exchange(REQUEST, RESPONSE), late])))
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)
    (late_data,) = problems(items)
    assert late_data.code == "RI311" and late_data.message.startswith(
        "tcp0/s1: a DATA frame of 8 bytes from the SDK comes after its END_STREAM"
    )


def test_http2_frames_after_a_stream_ended_do_not_start_it_again_within_a_bound() -> None:
    """A late DATA frame for a stream that ended is not a new stream; the ended streams a
    connection remembers are bounded, so that its state does not grow with its streams."""
    from hpack import Encoder
    from hyperframe.frame import DataFrame, HeadersFrame

    from restate_inspect.events import HttpHead
    from restate_inspect.readers.http2 import _ENDED_KEPT, Http2Connection

    connection = Http2Connection(0)
    encoder = Encoder()
    heads = 0

    def feed(*frames: Any) -> None:
        nonlocal heads
        events = connection.feed(0, cw.h2_frames(*frames), None, 1)
        heads += sum(isinstance(e, HttpHead) for e in events)

    connection.feed(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, 1)
    block = encoder.encode([(":method", "POST"), (":path", "/invoke/A/b")])
    count = _ENDED_KEPT + 10
    for stream in range(1, 2 * count, 2):
        feed(HeadersFrame(stream, block, flags=["END_HEADERS", "END_STREAM"]))
    assert heads == count
    feed(DataFrame(2 * count - 1, b"late"))  # the last stream: remembered as ended
    assert heads == count
    feed(DataFrame(1, b"late"))  # the first: forgotten, taken for a stream begun earlier
    assert heads == count + 1


@pytest.mark.parametrize(
    ("method", "path", "content_type", "kind"),
    [
        ("POST", "/invoke/Svc/h", "application/vnd.restate.invocation.v2", "invocation"),
        ("POST", "/x/invoke/Svc/h", "Application/Vnd.Restate.Invocation.V1; a=b", "invocation"),
        ("GET", "/invoke/Svc/h", "application/vnd.restate.invocation.v2", "other"),
        ("POST", "/invoke/Svc/h", "application/json", "other"),
        ("GET", "/discover", None, "discovery"),
        ("POST", "/discovery/", None, "discovery"),
        ("GET", "/health", None, "other"),
    ],
)
def test_restate_exchanges_are_told_by_method_path_and_media_type(
    method: str, path: str, content_type: str | None, kind: str
) -> None:
    from restate_inspect.readers.capture import classify

    assert classify(method, path, content_type) == kind


def test_protocol_version_comes_from_the_media_type_without_its_parameters() -> None:
    from restate_inspect.location import StreamKey

    def version(content_type: str) -> int | None:
        headers = (("content-type", content_type),)
        info = StreamInfo(StreamKey("tcp0", "s1"), "invocation", "a -> b", "HTTP/2", None, 1,
                          request_headers=headers)  # fmt: skip
        return info.protocol_version

    assert version("application/vnd.restate.invocation.v2") == 2
    assert version("application/vnd.restate.invocation.v1; charset=utf-8") == 1
    assert version("application/vnd.restate.invocation.v²") is None
    assert version("application/json") is None


def test_other_http_and_other_tcp_are_listed_or_reported_not_decoded() -> None:
    other = cw.http1_exchange(b"hello", b"world", path="/health")
    items = decode(cw.pcap(cw.conversation_packets(other)))
    (info, *_) = [i for i in items if isinstance(i, StreamInfo)]
    assert info.kind == "other" and not [i for i in items if isinstance(i, DecodedFrame)]
    noise = cw.conversation_packets([(0, b"SSH-2.0-OpenSSH_9.2\r\n"), (1, b"SSH-2.0-x\r\n")])
    assert [p.code for p in problems(decode(cw.pcap(noise)))] == ["RI314"]
    hello = bytes.fromhex("1603010080") + bytes.fromhex("0100007c0303") + bytes(122)
    tls = cw.conversation_packets([(0, hello), (1, bytes.fromhex("1603030005") + bytes(5))])
    (found,) = problems(decode(cw.pcap(tls)))
    assert found.code == "RI314" and "is TLS: encrypted" in found.message


def test_streams_says_why_a_capture_has_no_stream(tmp_path: Path) -> None:
    """What belongs to no stream (here: the traffic is TLS) is told under the table, not
    just counted; a selection and --json (one record per stream) leave it out."""
    from tests.helpers import run_cli

    hello = bytes.fromhex("1603010080") + bytes.fromhex("0100007c0303") + bytes(122)
    path = tmp_path / "tls.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets([(0, hello)])))
    result = run_cli(["streams", str(path)])
    assert result.exit_code == 0
    *_, told, footer = result.stdout.splitlines()
    assert told.startswith("RI314 info") and "is TLS: encrypted" in told
    assert footer == "0 streams, 0 frames; 1 info"
    assert "RI314" not in run_cli(["streams", "--stream", "tcp0", str(path)]).stdout
    assert run_cli(["streams", "--json", str(path)]).stdout == ""


def test_cli_decode_and_streams_on_a_synthetic_capture(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    path = tmp_path / "one.pcapng"
    path.write_bytes(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], h2_packets())]))
    result = run_cli(["streams", str(path)])
    assert (
        result.exit_code == 0
        and "tcp0/s1" in result.stdout
        and "POST /invoke/Demo/callOther" in result.stdout
    )
    result = run_cli(["decode", "--service", "Demo/callOther", str(path)])
    assert result.exit_code == 0 and "CallEntryMessage" in result.stdout
    result = run_cli(["decode", "--service", "Nope", "--json", str(path)])
    assert result.exit_code == 1 and result.stdout == ""  # nothing matched


def test_cli_on_a_capture_of_a_protocol_version_not_interpreted(tmp_path: Path) -> None:
    """A V9 exchange, a version no family reads, is listed and framed, says once that it
    is not interpreted, and breaks no rule; check exits 1, as it could not check it."""
    import json

    from tests.helpers import run_cli

    path = tmp_path / "v9.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets(cw.h2_exchange(REQUEST, RESPONSE, version=9))))
    check = run_cli(["check", "--json", str(path)])
    (finding,) = [json.loads(line) for line in check.stdout.splitlines()]
    assert check.exit_code == 1 and (finding["code"], finding["severity"]) == ("RI114", "info")
    assert finding["invocation_id"] and finding["attempt"] == 1
    assert "protocol V9" in finding["message"]
    streams = run_cli(["streams", str(path)])
    assert "not interpreted (protocol V9)" in streams.stdout
    records = [
        json.loads(line) for line in run_cli(["decode", "--json", str(path)]).stdout.splitlines()
    ]
    frames = [r for r in records if r["kind"] == "frame"]
    assert [f["name"] for f in frames[:2]] == ["StartMessage", None]
    assert all(f["entry_index"] is None for f in frames)
    assert all(f["message"] is None and "body_base64" in f["annotations"] for f in frames[1:])
    journal = run_cli(["journal", str(path)])
    assert journal.exit_code == 0 and "1 attempt · not interpreted (protocol V9)" in journal.stdout


def test_a_lost_fin_is_no_lost_byte() -> None:
    """The SDK's FIN is lost and the runtime acknowledges it: one sequence number past the
    data, with nothing after it, is the FIN, not a byte the capture missed."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for side, data in cw.http1_exchange(REQUEST, RESPONSE):
        talk.segment(side, data)
    talk.segment(1, flags=cw.FIN | cw.ACK)
    del talk.packets[-1]
    talk.segment(0, flags=cw.ACK)  # acknowledges the FIN
    talk.segment(0, flags=cw.FIN | cw.ACK)
    items = decode(cw.pcap(talk.packets))
    assert problems(items) == []
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)


def test_a_single_lost_byte_with_more_after_it_is_a_gap() -> None:
    from restate_inspect.events import TcpData, TcpEvent, TcpGap
    from restate_inspect.readers.netpacket import ACK
    from restate_inspect.readers.tcp import TcpReassembler

    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 9080)
    reassembler, events = TcpReassembler(), list[TcpEvent]()

    def send(source: tuple[str, int], seq: int, ack: int, payload: bytes = b"") -> None:
        destination = server if source == client else client
        segment = Segment(source, destination, seq, ack, ACK, payload, 0, None, 1)
        events.extend(reassembler.feed(segment))

    send(client, 1, 100, b"hi")
    send(server, 100, 3, b"ab")  # then byte 102 is lost, and 103-104 arrive
    send(server, 103, 3, b"yz")
    send(client, 3, 105)  # the client has it all
    assert all(isinstance(e, TcpData | TcpGap) for e in events)
    from_server = [e for e in events if isinstance(e, TcpData | TcpGap) and e.side == 1]
    assert [(type(e).__name__, getattr(e, "length", None)) for e in from_server] == [
        ("TcpData", None),
        ("TcpGap", 1),
        ("TcpData", None),
    ]


def test_http1_declined_h2c_does_not_switch_on_a_later_101() -> None:
    from restate_inspect.readers.http1 import Http1Connection

    http1 = Http1Connection(0)
    asks = b"GET /a HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"
    websocket = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"
    http1.feed(0, asks, None, 1)
    http1.feed(1, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", None, 2)  # declined
    http1.feed(0, websocket, None, 3)
    http1.feed(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", None, 4)
    assert http1.upgraded is None


def test_http1_chunk_resync_does_not_wait_on_an_implausible_size() -> None:
    """After a loss, a size line found by chance that announces megabytes is passed over:
    the next real chunk is found without holding the bytes in between."""
    from restate_inspect.events import HttpBody, HttpEnd
    from restate_inspect.readers.http1 import Http1Connection

    http1 = Http1Connection(0)
    http1.feed(0, b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", None, 1)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"
    http1.feed(1, head, None, 2)
    http1.gap(1, 10, None, 3)
    events = http1.feed(1, b"zz\r\nfffffff\r\nyy\r\n5\r\nhello\r\n0\r\n\r\n", None, 4)
    body = b"".join(e.data for e in events if isinstance(e, HttpBody))
    assert body == b"zz\r\nfffffff\r\nyy" + b"hello"
    assert [e.how for e in events if isinstance(e, HttpEnd)] == ["end"]


def _closes(packets: list[cw.Packet]) -> list[tuple[int, int, str]]:
    """(connection, side, how) of every TcpClosed, from the reassembler itself."""
    from restate_inspect.events import TcpClosed
    from restate_inspect.readers.netpacket import PacketDecoder
    from restate_inspect.readers.pcapfile import read_packets
    from restate_inspect.readers.tcp import TcpReassembler

    decoder, reassembler = PacketDecoder(), TcpReassembler()
    out = []
    for packet in read_packets(io.BytesIO(cw.pcap(packets)), "x"):
        segment = decoder.decode(packet)  # type: ignore[arg-type]
        assert isinstance(segment, Segment)
        events = reassembler.feed(segment)
        out += [(e.connection.index, e.side, e.how) for e in events if isinstance(e, TcpClosed)]
    return out


def test_a_rst_after_a_fin_ends_the_other_side_too() -> None:
    """hypercorn's way: the client sends FIN, the server's last bytes come after it, and the
    client answers them with RST. Both sides are over, so the connection is let go."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.handshake()
    for side, data in cw.http1_exchange(REQUEST, RESPONSE):
        talk.segment(side, data)
    talk.segment(0, flags=cw.FIN | cw.ACK)
    talk.segment(1, b"0\r\n\r\n")
    talk.segment(0, flags=cw.RST)
    assert _closes(talk.packets) == [(0, 0, "fin"), (0, 1, "rst")]


@pytest.mark.parametrize("closing", ["fin", "rst"])
def test_bytes_after_a_side_is_over_are_reported_and_a_retransmission_is_not(
    closing: str,
) -> None:
    """The SDK closes its side (FIN: the runtime's side stays open; RST: the connection is
    over), sends one segment again (nothing new) and then 7 bytes no receiver takes."""
    talk = _talk()
    talk.segment(0, flags=cw.FIN | cw.ACK)
    last = talk.packets[-2]
    talk.segment(1, flags=(cw.FIN if closing == "fin" else cw.RST) | cw.ACK)
    talk.packets.append(last)  # sent again: bytes from before the close
    talk.segment(1, b"garbage", seq=talk.seq[1] + 1)
    items = decode(cw.pcap(talk.packets))
    assert_whole_exchange([i for i in items if not isinstance(i, Problem)])
    (late,) = problems(items)
    assert late.code == "RI310" and late.packet == len(talk.packets)
    assert late.message.startswith(f"tcp0: packet {len(talk.packets)} carries 7 bytes from ")


def test_connections_that_are_over_are_remembered_only_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays flat over a capture of many short connections: of those that are over,
    only the last OVER_KEPT are remembered (their late packets are dropped, not taken for
    new connections)."""
    from restate_inspect.readers import tcp

    monkeypatch.setattr(tcp, "OVER_KEPT", 3)
    packets: list[cw.Packet] = []
    for port in range(40000, 40010):
        talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080))
        talk.handshake()
        talk.segment(0, b"x")
        late = talk.segment(0, b"y")
        talk.segment(0, flags=cw.RST)
        packets += [*talk.packets, late]  # a retransmission after the RST
    reassembler = tcp.TcpReassembler()
    from restate_inspect.readers.netpacket import PacketDecoder
    from restate_inspect.readers.pcapfile import read_packets

    decoder, sizes = PacketDecoder(), []
    for packet in read_packets(io.BytesIO(cw.pcap(packets)), "x"):
        segment = decoder.decode(packet)  # type: ignore[arg-type]
        assert isinstance(segment, Segment)
        reassembler.feed(segment)
        sizes.append(len(reassembler._conversations))
    assert max(sizes) == 4  # three over, one open
    assert _closes(packets) == [(n, side, "rst") for n in range(10) for side in (0, 1)]


def test_a_header_block_seen_before_decodes_by_the_table_it_meets() -> None:
    """The same bytes of a header block mean other headers once the HPACK table has
    changed: an indexed field names whatever entry is at its index now."""
    from hpack import Encoder
    from hyperframe.frame import HeadersFrame

    from restate_inspect.events import HttpHead
    from restate_inspect.readers.http2 import Http2Connection

    encoder = Encoder()
    first = encoder.encode([("x-a", "1")])  # inserts x-a: 1 at index 62
    again = encoder.encode([("x-a", "1")])  # one byte: index 62
    inserting = b"\x40\x03x-b\x012"  # a literal that inserts x-b: 2 at index 62
    connection = Http2Connection(0)
    heads = connection.feed(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, 1)
    for number, block in enumerate([first, again, again, inserting, again]):
        frame = HeadersFrame(2 * number + 1, block, flags=["END_HEADERS"])
        heads += connection.feed(0, frame.serialize(), None, number)
    found = [dict(h.headers or ()) for h in heads if isinstance(h, HttpHead)]
    assert found == [{"x-a": "1"}] * 3 + [{"x-b": "2"}] * 2


# --- the same traffic seen twice -------------------------------------------------------------


def _attempt_on(port: int, start: float) -> list[cw.Packet]:
    """One attempt (REQUEST, RESPONSE) on its own connection from client port `port`."""
    talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080), start=start)
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        talk.segment(side, data)
    return talk.packets


def _journaled(packets: list[cw.Packet]) -> tuple[list[Any], list[Problem]]:
    from restate_inspect.invocations import Invocation, invocations

    packets = sorted(packets, key=lambda packet: packet.time)
    items = list(invocations(decode(cw.pcap(packets))))
    return [i for i in items if isinstance(i, Invocation)], problems(items)


def test_an_attempt_seen_on_two_connections_at_once_is_shown_once() -> None:
    """Through a proxy or NAT, `tcpdump -i any` sees each attempt on two connections at the
    same time: it is one attempt, and the copy is told, not journaled again."""
    copied = _attempt_on(40000, 1_700_000_000.0) + _attempt_on(40100, 1_700_000_000.0004)
    (invocation,), (found,) = _journaled(copied)
    assert [str(a.stream) for a in invocation.attempts] == ["tcp0/s1"]
    assert (found.code, str(found.stream), found.attempt) == ("RI315", "tcp1/s1", 1)
    assert found.invocation_id == invocation.invocation_id
    assert "same frames as tcp0/s1" in found.message


def test_the_same_attempt_again_after_the_first_ended_is_not_a_copy() -> None:
    """A retry that sends what the last attempt sent comes after it: both are journaled."""
    again = _attempt_on(40000, 1_700_000_000.0) + _attempt_on(40100, 1_700_000_001.0)
    journaled, found = _journaled(again)
    assert [str(i.attempts[0].stream) for i in journaled] == ["tcp0/s1", "tcp1/s1"]
    assert found == []


def test_an_attempt_with_other_frames_at_the_same_time_is_not_a_copy() -> None:
    other = _attempt_on(40000, 1_700_000_000.0)
    talk = cw.Conversation(("10.0.0.1", 40100), ("10.0.0.2", 9080), start=1_700_000_000.0004)
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE[:-8]):  # without its EndMessage
        talk.segment(side, data)
    journaled, found = _journaled(other + talk.packets)
    assert sum(len(i.attempts) for i in journaled) == 2
    assert [p.code for p in found if p.code == "RI315"] == []


def test_an_http2_endpoint_in_request_response_mode_is_shown_so(tmp_path: Path) -> None:
    """An endpoint that declared REQUEST_RESPONSE gets the runtime's whole body, END_STREAM
    and all, before it answers (h2_exchange sends it so); the journal names the mode."""
    from tests.helpers import run_cli

    request = (SAMPLES / "v2-py-flaky-error.req.bin").read_bytes()
    response = (SAMPLES / "v2-py-flaky-error.resp.bin").read_bytes()
    path = tmp_path / "request-response.pcap"
    exchange = cw.h2_exchange(request, response, path="/invoke/Demo/flaky", version=2)
    path.write_bytes(cw.pcap(cw.conversation_packets(exchange)))
    text = run_cli(["journal", str(path)]).stdout
    assert "tcp0/s1 · HTTP/2 request/response · V2" in text
    records = [
        json.loads(line) for line in run_cli(["journal", "--json", str(path)]).stdout.splitlines()
    ]
    (attempt,) = [r for r in records if r["kind"] == "attempt"]
    assert attempt["mode"] == "request_response"


def test_a_capture_of_one_side_says_so_and_does_not_blame_the_runtime() -> None:
    """A capture filter on one address or port keeps only the runtime's packets: the
    connection says so, and its completions, for the SDK's entries that the capture lacks,
    are not errors."""
    from restate_inspect.rules import Severity

    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    runtime_side = [talk.segment(0, flags=cw.SYN)]
    talk.segment(1, flags=cw.SYN | cw.ACK)
    runtime_side.append(talk.segment(0, flags=cw.ACK))
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        packet = talk.segment(side, data)
        if side == 0:
            runtime_side.append(packet)
    (invocation,), found = _journaled(runtime_side)
    (one_sided,) = [p for p in found if p.code == "RI316"]
    assert one_sided.severity is Severity.WARNING
    assert "only the packets from 10.0.0.1:40000, none from 10.0.0.2:9080" in one_sided.message
    (attempt,) = invocation.attempts
    completions = [f for f in attempt.all_findings() if f.code == "RI210"]
    assert completions and all(f.severity is Severity.INFO for f in completions)
    assert all(f.severity is not Severity.ERROR for f in attempt.all_findings())
    both_sides = _attempt_on(40000, 1_700_000_000.0)
    assert [p.code for p in _journaled(both_sides)[1] if p.code == "RI316"] == []
    reset = talk.segment(0, flags=cw.RST | cw.ACK)  # said when the one side ends it, too
    (at_reset,) = [
        p for p in problems(decode(cw.pcap([*runtime_side, reset]))) if p.code == "RI316"
    ]
    assert at_reset.packet == len(runtime_side) + 1


def test_a_capture_of_the_sdks_side_alone_is_read_from_its_start() -> None:
    """Without its client's preface, an HTTP/2 server's side is still read whole: its
    SETTINGS, then answers to requests that the capture does not have."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.segment(0, flags=cw.SYN)
    sdk_side = [talk.segment(1, flags=cw.SYN | cw.ACK)]
    talk.segment(0, flags=cw.ACK)
    request = (SAMPLES / "v2-py-flaky-error.req.bin").read_bytes()
    response = (SAMPLES / "v2-py-flaky-error.resp.bin").read_bytes()  # 831 bytes: told apart
    for side, data in cw.h2_exchange(request, response, chunk=40, version=2):
        packet = talk.segment(side, data)
        if side == 1:
            sdk_side.append(packet)
    items = decode(cw.pcap(sdk_side))
    assert shape(frames_of(items, SDK)) == expected(response)
    assert frames_of(items, RUNTIME) == []
    assert [p.code for p in problems(items)] == ["RI316"]
    garbage = cw.Conversation(("10.0.0.1", 40001), ("10.0.0.2", 9080))
    garbage.segment(0, flags=cw.SYN)
    server_side = [garbage.segment(1, flags=cw.SYN | cw.ACK), garbage.segment(1, b"\xff" * 300)]
    found = problems(decode(cw.pcap(server_side)))
    assert [p.code for p in found] == ["RI314", "RI316"]  # not held on to: skipped at once
    assert "is neither HTTP/2 nor HTTP/1.1" in found[0].message


def test_a_short_exchange_of_the_sdks_side_alone_is_read_when_its_connection_ends() -> None:
    """An HTTP/2 server's side too short to tell apart while it lasts (a quick call on a
    connection of its own): once it ends, what it sent is all it will send, and is read."""
    for ending in ("fin", "end of capture"):
        talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
        talk.segment(0, flags=cw.SYN)
        sdk_side = [talk.segment(1, flags=cw.SYN | cw.ACK)]
        talk.segment(0, flags=cw.ACK)
        exchange = cw.h2_exchange(REQUEST, RESPONSE)
        for side, data in exchange:
            packet = talk.segment(side, data)
            if side == 1:
                sdk_side.append(packet)
        assert sum(len(data) for side, data in exchange if side) < 256  # too few to tell
        if ending == "fin":
            sdk_side.append(talk.segment(1, flags=cw.FIN | cw.ACK))
        items = decode(cw.pcap(sdk_side))
        assert shape(frames_of(items, SDK)) == expected(RESPONSE), ending
        assert [p.code for p in problems(items)] == ["RI316"], ending
    short_garbage = cw.Conversation(("10.0.0.1", 40001), ("10.0.0.2", 9080))
    short_garbage.segment(0, flags=cw.SYN)
    server_side = [short_garbage.segment(1, flags=cw.SYN | cw.ACK)]
    server_side.append(short_garbage.segment(1, b"\xff" * 100))
    one_sided, skipped = problems(decode(cw.pcap(server_side)))
    assert (one_sided.code, skipped.code) == ("RI316", "RI314")
    assert "is neither HTTP/2 nor HTTP/1.1" in skipped.message
