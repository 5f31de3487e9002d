"""pcap and pcapng containers, read as a stream of packets (written by hand: dpkt's pcapng
reader keeps only the first interface; here every section and interface keeps its own link
type and timestamp resolution).

pcap: both byte orders, microsecond and nanosecond timestamps.
pcapng: several sections (each resets the interfaces), several interfaces, EPB, SPB and the
obsolete PB; other blocks are skipped. A cut-short file ends with a problem, not a crash.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

from restate_inspect.events import Packet
from restate_inspect.rules import Problem

PCAP_MAGICS: Final = {  # byte order, timestamp ticks per second
    b"\xd4\xc3\xb2\xa1": ("<", 10**6),
    b"\xa1\xb2\xc3\xd4": (">", 10**6),
    b"\x4d\x3c\xb2\xa1": ("<", 10**9),
    b"\xa1\xb2\x3c\x4d": (">", 10**9),
}
PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
_BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_IF_TSRESOL, _IF_TSOFFSET = 9, 14
_PACKET_FIELDS: Final = {_EPB: 20, _PB: 20, _SPB: 4}  # bytes before a packet block's data
_MAX_BLOCK: Final = 256 * 1024 * 1024  # a larger block length is corruption, not a packet
_BLOCK: Final = 1 << 20  # bytes read from the handle at a time
# What is kept of a packet: tcpdump's largest snap length. Longer ones (a corrupt or
# hostile file: 200 MiB in 200 KB of gzip) are cut to it as a snap length cuts them, so
# that memory follows what is needed, not what the file claims.
MAX_PACKET: Final = 262_144


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def is_capture(prefix: bytes) -> str | None:
    """ "pcap", "pcapng" or None, from a file's first four bytes."""
    if prefix[:4] in PCAP_MAGICS:
        return "pcap"
    if prefix[:4] == PCAPNG_MAGIC:
        return "pcapng"
    return None


class _Reader:
    """Exact reads from a binary handle, counting the offset for problem reports. It reads
    the handle a block at a time into `buffer`, whose bytes from `pos` on are not taken
    yet: a capture has small reads, two per packet."""

    def __init__(self, handle: Readable, label: str) -> None:
        # read1 takes what a pipe holds now: a live capture (tcpdump -U -w - | ...) is
        # decoded as it comes, not a block later
        self._read_some = getattr(handle, "read1", handle.read)
        self.label = label
        self.offset = 0
        self.buffer = b""
        self.pos = 0

    def read(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.buffer):
            self.fill(size)
            end = min(size, len(self.buffer))
        data = self.buffer[self.pos : end]
        self.pos = end
        self.offset += len(data)
        return data

    def view(self) -> tuple[bytes, int, int, int]:
        """The buffer, the position in it, the file offset of its first byte, its length:
        for a loop that reads in place (_pcap)."""
        return self.buffer, self.pos, self.offset - self.pos, len(self.buffer)

    def refilled(self, pos: int, offset: int, size: int) -> tuple[bytes, int, int, int]:
        """Back at pos of the buffer (file offset `offset`), with at least `size` bytes from
        there unless the handle ends first: the view after."""
        self.pos, self.offset = pos, offset
        self.fill(size)
        return self.view()

    def fill(self, size: int) -> None:
        """Have at least `size` bytes from pos on, unless the handle ends first."""
        pieces = [self.buffer[self.pos :]]
        have = len(pieces[0])
        while have < size:
            piece = self._read_some(max(_BLOCK, size - have))
            if not piece:
                break
            pieces.append(piece)
            have += len(piece)
        self.buffer, self.pos = b"".join(pieces), 0

    def skip(self, size: int) -> int:
        """Pass over `size` bytes without keeping them; how many there were."""
        skipped = min(size, len(self.buffer) - self.pos)
        self.pos += skipped
        while skipped < size:
            piece = self._read_some(min(_BLOCK, size - skipped))
            if not piece:
                break
            skipped += len(piece)
        self.offset += skipped
        return skipped

    def cut_short(self, what: str, wanted: int, got: int, start: int) -> Problem:
        return Problem(
            "RI301",
            f"{self.label} ends inside {what} at file offset {start:#x}: "
            f"{got} of its {wanted} bytes are there",
            start,
            got,
        )


def read_packets(handle: Readable, label: str) -> Iterator[Packet | Problem]:
    reader = _Reader(handle, label)
    magic = reader.read(4)
    if magic in PCAP_MAGICS:
        yield from _pcap(reader, *PCAP_MAGICS[magic])
    elif magic == PCAPNG_MAGIC:
        yield from _pcapng(reader, magic)
    else:
        yield Problem("RI302", f"{label} is neither pcap nor pcapng", 0, len(magic))


def _seconds(ticks: int, per_second: int) -> float:
    """A timestamp in seconds, rounded once (int / int is exact, then rounded): the same
    instant gives the same float from a pcap and a pcapng file."""
    return ticks / per_second


def _pcap(reader: _Reader, order: str, per_second: int) -> Iterator[Packet | Problem]:
    header = reader.read(20)
    if len(header) < 20:
        yield reader.cut_short("the pcap file header", 24, 4 + len(header), 0)
        return
    linktype = struct.unpack(order + "I", header[16:20])[0] & 0x0FFFFFFF
    yield from _pcap_records(reader, order, per_second, linktype)


def _pcap_records(
    reader: _Reader, order: str, per_second: int, linktype: int
) -> Iterator[Packet | Problem]:
    unpack = struct.Struct(order + "IIII").unpack_from
    number = 0
    # The records are read from the reader's buffer in place, its position kept here and
    # given back when it refills: two reads per packet were a tenth of a capture's decoding.
    buffer, pos, base, size = reader.view()
    while True:
        if size - pos < 16:
            buffer, pos, base, size = reader.refilled(pos, base + pos, 16)
        start, have = base + pos, size - pos
        if not have:
            return
        number += 1
        if have < 16:
            yield reader.cut_short(f"the header of packet {number}", 16, have, start)
            return
        seconds, fraction, captured, original = unpack(buffer, pos)
        if captured > _MAX_BLOCK:
            yield _impossible(f"packet {number}", start, f"claims {captured} captured bytes", 16)
            return
        time = (seconds * per_second + fraction) / per_second  # as _seconds: rounded once
        if captured > MAX_PACKET:
            reader.pos, reader.offset = pos + 16, start + 16
            packet = Packet(number, time, linktype, b"", max(original, captured))
            yield from _cut_to_max(reader, packet, captured, start)
            buffer, pos, base, size = reader.view()
            continue
        end = pos + 16 + captured
        if end > size:
            buffer, pos, base, size = reader.refilled(pos, start, 16 + captured)
            end = pos + 16 + captured
            if end > size:
                yield reader.cut_short(f"packet {number}", captured + 16, size - pos, start)
                return
        yield Packet(number, time, linktype, buffer[pos + 16 : end], original)
        pos = end


def _impossible(what: str, start: int, claim: str, length: int) -> Problem:
    """RI303: a length no capture has, after which nothing can be read."""
    text = f"{what} at file offset {start:#x} {claim}; the rest of the file cannot be read"
    return Problem("RI303", text, start, length)


def _cut_to_max(
    reader: _Reader, packet: Packet, captured: int, start: int
) -> Iterator[Packet | Problem]:
    """A packet whose captured bytes are more than MAX_PACKET: the first of them, and the
    rest passed over; said, as what the capture holds is not all read."""
    data = reader.read(MAX_PACKET)
    skipped = reader.skip(captured - len(data)) if len(data) == MAX_PACKET else 0
    if len(data) + skipped < captured:
        yield reader.cut_short(
            f"packet {packet.number}", captured + 16, 16 + len(data) + skipped, start
        )
        return
    yield Problem(
        "RI319",
        f"packet {packet.number} at file offset {start:#x} holds {captured} captured bytes; "
        f"only the first {MAX_PACKET} are read, as a snap length would cut it",
        start,
        16 + captured,
    )
    yield packet._replace(data=data)


@dataclass(slots=True)
class _Interface:
    linktype: int
    per_second: int  # timestamp ticks
    offset: int  # seconds added to every timestamp


def _pcapng(reader: _Reader, magic: bytes) -> Iterator[Packet | Problem]:
    order = "<"
    interfaces: list[_Interface] = []
    number = 0
    head = magic + reader.read(8)
    while True:
        start = reader.offset - len(head)
        if not head:
            return
        if len(head) < 12:
            yield reader.cut_short("a block header", 12, len(head), start)
            return
        if head[:4] == PCAPNG_MAGIC:  # a section begins: its own byte order, no interfaces
            order = "<" if struct.unpack("<I", head[8:12])[0] == _BYTE_ORDER_MAGIC else ">"
            interfaces = []
        block_type, length = struct.unpack(order + "II", head[:8])
        if length < 12 or length % 4 or length > _MAX_BLOCK:
            yield _impossible("pcapng block", start, f"has a length of {length}", 8)
            return
        kept = length - 12
        if block_type in _PACKET_FIELDS and kept > MAX_PACKET + _PACKET_FIELDS[block_type]:
            kept = MAX_PACKET + _PACKET_FIELDS[block_type]  # the rest is passed over
        rest = reader.read(kept)
        passed = reader.skip(length - 12 - kept) if len(rest) == kept else 0
        if len(rest) + passed < length - 12:
            yield reader.cut_short(
                f"a pcapng block (type {block_type:#x})", length, 12 + len(rest) + passed, start
            )
            return
        if kept < length - 12:
            yield _cut_block(start, length)
            body = head[8:] + rest  # its data runs on past what is kept
        else:
            body = (head[8:] + rest)[:-4]  # without type, length and the trailing length
        if block_type == _IDB:
            interfaces.append(_interface(body, order))
        elif block_type in (_EPB, _SPB, _PB):
            number += 1
            yield _packet(block_type, body, order, interfaces, number, start)
        head = reader.read(12)


def _cut_block(start: int, length: int) -> Problem:
    text = (
        f"pcapng block at file offset {start:#x} holds a packet of {length} bytes; only "
        f"the first {MAX_PACKET} bytes of its data are read, as a snap length would cut it"
    )
    return Problem("RI319", text, start, length)


def _interface(body: bytes, order: str) -> _Interface:
    linktype = struct.unpack_from(order + "H", body, 0)[0]
    interface = _Interface(linktype, 10**6, 0)
    for code, value in _options(body[8:], order):
        if code == _IF_TSRESOL and value:
            resolution = value[0]
            interface.per_second = 2 ** (resolution & 0x7F) if resolution & 0x80 else 10**resolution
        elif code == _IF_TSOFFSET and len(value) >= 8:
            interface.offset = struct.unpack_from(order + "q", value)[0]
    return interface


def _options(data: bytes, order: str) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos + 4 <= len(data):
        code, length = struct.unpack_from(order + "HH", data, pos)
        if code == 0:
            return
        yield code, data[pos + 4 : pos + 4 + length]
        pos += 4 + length + (-length % 4)


def _packet(
    block_type: int, body: bytes, order: str, interfaces: list[_Interface], number: int, start: int
) -> Packet | Problem:
    if len(body) < _PACKET_FIELDS[block_type]:
        return Problem(
            "RI303",
            f"pcapng block at file offset {start:#x} (type {block_type}) is {len(body) + 12} "
            "bytes long, too short for a packet's fields; skipped",
            start,
            len(body) + 12,
        )
    if block_type == _SPB:  # no interface id, no timestamp: interface 0
        original = struct.unpack_from(order + "I", body)[0]
        interface_id, time, data = 0, None, body[4 : 4 + original]
    else:
        if block_type == _EPB:
            interface_id, high, low, captured, original = struct.unpack_from(order + "IIIII", body)
        else:  # the obsolete Packet Block: a 16-bit interface id and a drops count
            interface_id, _drops, high, low, captured, original = struct.unpack_from(
                order + "HHIIII", body
            )
        data = body[20 : 20 + captured]
        time = None
        if interface_id < len(interfaces):
            unit = interfaces[interface_id]
            time = _seconds((high << 32) | low, unit.per_second) + unit.offset
    if interface_id >= len(interfaces):
        return Problem(
            "RI304",
            f"packet {number} at file offset {start:#x} names interface {interface_id}, "
            f"but the section describes {len(interfaces)}",
            start,
            len(body) + 12,
        )
    return Packet(number, time, interfaces[interface_id].linktype, data, original)
