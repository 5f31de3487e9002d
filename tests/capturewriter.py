"""A small writer of synthetic captures, for tests and benchmarks: TCP segments wrapped in
IPv4/IPv6 and every supported link type, written as pcap (either byte order, µs or ns) or
pcapng (several interfaces and sections, EPB/SPB/PB blocks). Checksums are left zero:
nothing here, nor tshark by default, checks them."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hpack import Encoder
from hyperframe.frame import ContinuationFrame, DataFrame, Frame, HeadersFrame, SettingsFrame

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
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


def tcp_header(
    sport: int, dport: int, seq: int, ack: int, flags: int, options: bytes = b""
) -> bytes:
    offset = (20 + len(options)) // 4
    return (
        struct.pack(
            "!HHIIBBHHH",
            sport,
            dport,
            seq & 0xFFFFFFFF,
            ack & 0xFFFFFFFF,
            offset << 4,
            flags,
            65535,
            0,
            0,
        )
        + options
    )


def ipv4(
    source: str,
    destination: str,
    payload: bytes,
    *,
    protocol: int = 6,
    ident: int = 1,
    fragment: int = 0,
    options: bytes = b"",
    total: int | None = None,
) -> bytes:
    header_length = 20 + len(options)
    length = total if total is not None else header_length + len(payload)
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | header_length // 4,
        0,
        length,
        ident,
        fragment,
        64,
        protocol,
        0,
        socket.inet_aton(source),
        socket.inet_aton(destination),
    )
    return header + options + payload


def ipv6(
    source: str, destination: str, payload: bytes, *, next_header: int = 6, extensions: bytes = b""
) -> bytes:
    body = extensions + payload
    return (
        struct.pack(
            "!IHBB16s16s",
            0x60000000,
            len(body),
            next_header,
            64,
            socket.inet_pton(socket.AF_INET6, source),
            socket.inet_pton(socket.AF_INET6, destination),
        )
        + body
    )


def link(linktype: int, ip_packet: bytes, *, vlans: Sequence[int] = ()) -> bytes:
    """Wrap an IP packet in a link layer header."""
    version = ip_packet[0] >> 4
    ethertype = 0x0800 if version == 4 else 0x86DD
    if linktype == EN10MB:
        tags = b"".join(struct.pack("!HH", 0x8100, vlan) for vlan in vlans)
        return b"\x02" * 6 + b"\x04" * 6 + tags + struct.pack("!H", ethertype) + ip_packet
    if linktype == NULL:
        return struct.pack("<I", 2 if version == 4 else 30) + ip_packet  # a little-endian host
    if linktype == LOOP:
        return struct.pack(">I", 2 if version == 4 else 24) + ip_packet
    if linktype in (RAW, RAW_IPV4, RAW_IPV6):
        return ip_packet
    if linktype == LINUX_SLL:
        return struct.pack("!HHH8sH", 0, 772, 6, b"\x00" * 8, ethertype) + ip_packet
    if linktype == LINUX_SLL2:
        return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\x00" * 8) + ip_packet
    raise ValueError(f"no writer for link type {linktype}")


@dataclass
class Packet:
    time: float
    data: bytes
    original_length: int | None = None  # when the capture keeps fewer bytes (snap length)
    interface: int = 0


def _ticks(time: float, per_second: int) -> int:
    """A time as timestamp ticks, the whole seconds apart: at ns, time * per_second alone
    is some hundred ticks out (a float near 1.7e18 is exact to 256)."""
    seconds = int(time)
    return seconds * per_second + round((time - seconds) * per_second)


def pcap(
    packets: Iterable[Packet],
    *,
    linktype: int = EN10MB,
    big_endian: bool = False,
    nanoseconds: bool = False,
    snaplen: int = 262144,
) -> bytes:
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    unit = 1_000_000_000 if nanoseconds else 1_000_000
    for packet in packets:
        seconds, fraction = divmod(_ticks(packet.time, unit), unit)
        original = packet.original_length or len(packet.data)
        out.append(struct.pack(order + "IIII", seconds, fraction, len(packet.data), original))
        out.append(packet.data)
    return b"".join(out)


def _block(order: str, block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


@dataclass
class Interface:
    linktype: int
    resolution: int | None = None  # if_tsresol: 6 (µs, the default), 9 (ns), or 0x80 | n for 2^-n
    offset: int = 0  # if_tsoffset, seconds


@dataclass
class Section:
    interfaces: list[Interface]
    packets: list[Packet] = field(default_factory=list)
    block: str = "epb"  # "epb", "spb" or "pb"


def pcapng(
    sections: Sequence[Section], *, big_endian: bool = False, extra_blocks: bool = True
) -> bytes:
    order = ">" if big_endian else "<"
    out = []
    for section in sections:
        out.append(_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        for interface in section.interfaces:
            options = b""
            if interface.resolution is not None:
                options += (
                    struct.pack(order + "HH", 9, 1) + bytes([interface.resolution]) + b"\x00" * 3
                )
            if interface.offset:
                options += struct.pack(order + "HHq", 14, 8, interface.offset)
            options += struct.pack(order + "HH", 0, 0) if options else b""
            out.append(
                _block(
                    order, 1, struct.pack(order + "HHI", interface.linktype, 0, 262144) + options
                )
            )
        if extra_blocks:  # a Name Resolution Block and a custom block, which readers skip
            out.append(_block(order, 4, struct.pack(order + "HH", 0, 0)))
            out.append(_block(order, 0x00000BAD, b"\x01\x02\x03\x04"))
        for packet in section.packets:
            known = packet.interface < len(section.interfaces)  # a bad id, on purpose
            interface = section.interfaces[packet.interface if known else 0]
            resolution = interface.resolution if interface.resolution is not None else 6
            unit = 2 ** (resolution & 0x7F) if resolution & 0x80 else 10**resolution
            ticks = _ticks(packet.time - interface.offset, unit)
            original = packet.original_length or len(packet.data)
            if section.block == "spb":
                out.append(_block(order, 3, struct.pack(order + "I", original) + packet.data))
            elif section.block == "pb":
                head = struct.pack(
                    order + "HHIIII",
                    packet.interface,
                    0,
                    ticks >> 32,
                    ticks & 0xFFFFFFFF,
                    len(packet.data),
                    original,
                )
                out.append(_block(order, 2, head + packet.data))
            else:
                head = struct.pack(
                    order + "IIIII",
                    packet.interface,
                    ticks >> 32,
                    ticks & 0xFFFFFFFF,
                    len(packet.data),
                    original,
                )
                out.append(_block(order, 6, head + packet.data))
    return b"".join(out)


class Conversation:
    """Segments of one TCP connection, with sequence numbers kept for each side."""

    def __init__(
        self,
        client: tuple[str, int],
        server: tuple[str, int],
        *,
        isn: tuple[int, int] = (1000, 5000),
        linktype: int = EN10MB,
        start: float = 1_700_000_000.0,
    ) -> None:
        self.ends = (client, server)
        self.seq = [isn[0], isn[1]]
        self.linktype = linktype
        self.time = start
        self.packets: list[Packet] = []

    def segment(
        self,
        side: int,
        payload: bytes = b"",
        flags: int = PSH | ACK,
        *,
        seq: int | None = None,
        advance: bool = True,
        keep: int | None = None,
        vlans: Sequence[int] = (),
    ) -> Packet:
        """A segment from side 0 (client) or 1 (server). seq: override (retransmissions...);
        keep: bytes of the frame the capture keeps (a snap length)."""
        (source, sport), (destination, dport) = self.ends[side], self.ends[1 - side]
        number = self.seq[side] if seq is None else seq
        tcp = tcp_header(sport, dport, number, self.seq[1 - side], flags) + payload
        ip = ipv6(source, destination, tcp) if ":" in source else ipv4(source, destination, tcp)
        frame = link(self.linktype, ip, vlans=vlans)
        self.time += 0.001
        packet = Packet(
            self.time,
            frame[:keep] if keep is not None else frame,
            len(frame) if keep is not None else None,
        )
        self.packets.append(packet)
        if advance and seq is None:
            self.seq[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        return packet

    def handshake(self) -> None:
        self.segment(0, flags=SYN)
        self.segment(1, flags=SYN | ACK)
        self.segment(0, flags=ACK)


# --- application bytes ---------------------------------------------------------------------


def h2_frames(*frames: Frame) -> bytes:
    return b"".join(frame.serialize() for frame in frames)


def h2_exchange(
    request: bytes,
    response: bytes,
    *,
    stream_id: int = 1,
    chunk: int = 16384,
    path: str = "/invoke/Demo/callOther",
    version: int = 1,
    continuation: bool = False,
    padded: bool = False,
    preface: bool = True,
    encoders: tuple[Encoder, Encoder] | None = None,
) -> list[tuple[int, bytes]]:
    """(side, bytes) of an h2c exchange: side 0 the runtime (client), 1 the SDK (server)."""

    client, server = encoders or (Encoder(), Encoder())
    content_type = f"application/vnd.restate.invocation.v{version}"
    request_headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "sdk:9080"),
        (":path", path),
        ("content-type", content_type),
    ]
    response_headers = [
        (":status", "200"),
        ("content-type", content_type),
        ("x-restate-server", "test-sdk/1"),
    ]
    out: list[tuple[int, bytes]] = []
    if preface:
        out.append((0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frames(SettingsFrame(0))))
        out.append(
            (1, h2_frames(SettingsFrame(0, settings={SettingsFrame.HEADER_TABLE_SIZE: 4096})))
        )
    block = client.encode(request_headers)
    if continuation:
        first = HeadersFrame(stream_id, block[:5])
        out.append(
            (0, h2_frames(first, ContinuationFrame(stream_id, block[5:], flags=["END_HEADERS"])))
        )
    else:
        out.append((0, h2_frames(HeadersFrame(stream_id, block, flags=["END_HEADERS"]))))
    for side, body in ((0, request), (1, response)):
        if side == 1:
            out.append(
                (
                    1,
                    h2_frames(
                        HeadersFrame(
                            stream_id, server.encode(response_headers), flags=["END_HEADERS"]
                        )
                    ),
                )
            )
        for start in range(0, len(body), chunk):
            data = DataFrame(stream_id, body[start : start + chunk])
            if padded:
                data.flags.add("PADDED")
                data.pad_length = 3
            out.append((side, h2_frames(data)))
        out.append((side, h2_frames(DataFrame(stream_id, b"", flags=["END_STREAM"]))))
    return out


def http1_exchange(
    request: bytes,
    response: bytes,
    *,
    chunked: bool = True,
    chunk: int = 100,
    path: str = "/invoke/Demo/callOther",
) -> list[tuple[int, bytes]]:
    content_type = "application/vnd.restate.invocation.v2"

    def body(data: bytes) -> tuple[bytes, bytes]:
        if not chunked:
            return f"Content-Length: {len(data)}\r\n".encode(), data
        pieces = b"".join(
            f"{len(data[i : i + chunk]):x}\r\n".encode() + data[i : i + chunk] + b"\r\n"
            for i in range(0, len(data), chunk)
        )
        return b"Transfer-Encoding: chunked\r\n", pieces + b"0\r\n\r\n"

    request_framing, request_body = body(request)
    response_framing, response_body = body(response)
    head = f"POST {path} HTTP/1.1\r\nhost: sdk\r\ncontent-type: {content_type}\r\n".encode()
    response_head = f"HTTP/1.1 200 \r\nContent-Type: {content_type}\r\n".encode()
    return [
        (0, head + request_framing + b"\r\n" + request_body),
        (1, response_head + response_framing + b"\r\n" + response_body),
    ]


def conversation_packets(
    exchange: list[tuple[int, bytes]],
    *,
    segment: int = 1400,
    handshake: bool = True,
    close: bool = True,
    **options: object,
) -> list[Packet]:
    """The exchange's bytes as TCP segments of a connection from 10.0.0.1:40000 to :9080."""
    talk = Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080), **options)  # type: ignore[arg-type]
    if handshake:
        talk.handshake()
    for side, data in exchange:
        for start in range(0, len(data), segment):
            talk.segment(side, data[start : start + segment])
    if close:
        talk.segment(0, flags=FIN | ACK)
        talk.segment(1, flags=FIN | ACK)
    return talk.packets
