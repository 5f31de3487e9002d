"""TCP reassembly in synthetic captures: reordering, retransmissions and overlaps, loss and
resynchronisation, wrap-around, a start mid-connection, snap lengths, resets and closes."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import Packet, Segment, StreamEnd, StreamInfo
from restate_inspect.readers.netpacket import PacketDecoder
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
    problems,
    sample_talk,
    shape,
)


def _runs_from(packets: list[cw.Packet], port: bytes) -> list[int]:
    """Indexes of data packets sent from a port (bytes 34-35: the TCP source port)."""
    return [i for i, p in enumerate(packets) if p.data[34:36] == port and len(p.data) > 54]


def test_out_of_order_segments_are_reordered() -> None:
    talk = sample_talk(segment=40)
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
    talk = sample_talk()
    packets = list(talk.packets)
    packets.insert(8, packets[7])  # the same segment twice
    packets.insert(10, packets[6])  # an old one, late
    assert_whole_exchange(decode(cw.pcap(packets)))


def test_overlap_with_different_bytes_is_reported_and_the_first_copy_kept() -> None:
    talk = sample_talk()
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
        (segment,) = segments.feed(packet)
        assert isinstance(segment, Segment)
        reassembler.feed(segment)
    (conversation,) = reassembler._conversations.values()
    assert isinstance(conversation, _Conversation)
    return [flow.recent_size for flow in conversation.flows]


def test_acknowledged_bytes_are_not_kept_to_compare_copies_with() -> None:
    """What the peer acknowledged is not sent again (short of an ACK lost beyond the capture
    point): an open connection whose bytes were all acknowledged keeps none of them, where it
    kept 64 KiB each way, and a capture of many open connections grew with them."""
    talk = sample_talk()
    talk.segment(1, flags=cw.ACK)  # the server acknowledges the client's last bytes
    talk.segment(0, flags=cw.ACK)
    assert _kept_for_comparing(talk.packets) == [0, 0]


def test_bytes_not_yet_acknowledged_are_kept_and_a_differing_copy_still_reported() -> None:
    talk = sample_talk()  # the client acknowledges nothing after the server's last segment
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
    talk = sample_talk()
    first = _runs_from(talk.packets, b"\x9c\x40")[0]
    copy = bytearray(talk.packets[first].data)
    copy[-1] ^= 0xFF
    talk.packets.append(cw.Packet(talk.packets[-1].time + 0.001, bytes(copy)))
    items = decode(cw.pcap(talk.packets))
    assert problems(items) == []
    assert shape(frames_of(items, RUNTIME)) == expected(REQUEST)


def test_a_missing_segment_is_a_gap_and_the_restate_decoder_resynchronises() -> None:
    talk = sample_talk(segment=60)
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
    talk = sample_talk(segment=40)
    # drop the handshake and everything up to the client's first DATA frame
    items = decode(cw.pcap(talk.packets[3 + 6 :]))
    infos = [i for i in items if isinstance(i, StreamInfo)]
    assert infos and infos[-1].kind == "invocation" and infos[-1].request_headers is None
    assert [p.code for p in problems(items)].count("RI312") <= 1
    assert shape(frames_of(items, SDK)) == expected(RESPONSE)  # routed by stream id


def test_sequence_numbers_wrap_around() -> None:
    talk = sample_talk(isn=(0xFFFFFF00, 0xFFFFFFF0))
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
    talk = sample_talk()
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


def _closes(packets: list[cw.Packet]) -> list[tuple[int, int, str]]:
    """(connection, side, how) of every TcpClosed, from the reassembler itself."""
    from restate_inspect.events import TcpClosed
    from restate_inspect.readers.netpacket import PacketDecoder
    from restate_inspect.readers.pcapfile import read_packets
    from restate_inspect.readers.tcp import TcpReassembler

    decoder, reassembler = PacketDecoder(), TcpReassembler()
    out = []
    for packet in read_packets(io.BytesIO(cw.pcap(packets)), "x"):
        (segment,) = decoder.feed(packet)  # type: ignore[arg-type]
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
    talk = sample_talk()
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
        (segment,) = decoder.feed(packet)  # type: ignore[arg-type]
        assert isinstance(segment, Segment)
        reassembler.feed(segment)
        sizes.append(len(reassembler._conversations))
    assert max(sizes) == 4  # three over, one open
    assert _closes(packets) == [(n, side, "rst") for n in range(10) for side in (0, 1)]


@given(st.integers(1, 1400), st.booleans())
def test_frames_are_the_same_however_tcp_cut_the_bytes(segment: int, one_one: bool) -> None:
    """A sender's bytes cut into segments of any size (and HTTP/2's DATA across them): the
    same Restate frames, offsets and bodies, and no problem."""
    exchange = (cw.http1_exchange if one_one else cw.h2_exchange)(REQUEST, RESPONSE)
    items = decode(cw.pcap(cw.conversation_packets(exchange, segment=segment)))
    assert_whole_exchange(items, "tcp0/m1" if one_one else "tcp0/s1")  # HTTP/1.1: message 1
