"""Capture containers, written with tests/capturewriter.py: every link type, pcap byte orders and
time resolutions, pcapng sections, interfaces and block kinds, cut and corrupt files."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import Packet
from restate_inspect.readers.pcapfile import read_packets
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.captures import (
    REQUEST,
    RESPONSE,
    RUNTIME,
    SDK,
    assert_whole_exchange,
    decode,
    expected,
    frames_of,
    h2_packets,
    problems,
    shape,
)
from tests.helpers import Pieces, assert_split_invariant


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


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
@given(seed=st.integers(0, 2**32))
def test_packets_are_the_same_however_the_file_arrives(kind: str, seed: int) -> None:
    """A capture read from a pipe arrives in pieces of any size: the same packets."""
    packets = h2_packets()[:12]
    if kind == "pcap":
        capture = cw.pcap(packets)
    else:
        capture = cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], packets)])
    whole = assert_split_invariant(
        lambda pieces: list(read_packets(Pieces(pieces), "t")), capture, seed
    )
    assert [type(item) for item in whole] == [Packet] * 12
