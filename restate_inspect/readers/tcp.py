"""TCP reassembly (sans-IO): segments in, ordered bytes, gaps and closes out.

Per connection and direction: the initial sequence number comes from the SYN, or from the
first segment seen when the capture starts mid-connection; 32-bit wrap-around is unwrapped;
out-of-order segments wait in a bounded buffer; retransmitted and overlapping bytes are
trimmed, and overlapping bytes that disagree are reported. Bytes the capture lacks become
explicit TcpGap events, never zeros: a hole is given up once the peer acknowledges past it
(the receiver has bytes the capture missed), when the buffer is full, or when the
direction ends. An acknowledgement of one more byte than a side sent, with nothing after
it, is taken for its lost FIN. Bytes beyond the end of a side that is over (after its FIN,
or a RST) are reported, as no receiver takes them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from restate_inspect.events import (
    Connection,
    Endpoint,
    Segment,
    TcpClosed,
    TcpData,
    TcpEvent,
    TcpGap,
    show_endpoint,
)
from restate_inspect.readers.netpacket import ACK, FIN, RST, SYN
from restate_inspect.rules import Problem, counted

_WRAP: Final = 1 << 32
_HALF: Final = 1 << 31
MAX_BUFFERED: Final = 8 * 1024 * 1024  # out-of-order bytes held per direction
_WINDOW: Final = 64 * 1024  # delivered bytes kept to compare retransmissions with


class _Piece(NamedTuple):
    data: bytes
    time: float | None
    packet: int


@dataclass
class _Flow:
    """One direction of a connection. Offsets count payload bytes from the first one."""

    base: int | None = None  # sequence number of payload offset 0
    delivered: int = 0  # payload bytes handed on, or given up as a gap
    buffer: dict[int, _Piece] = field(default_factory=dict)  # out of order, by offset
    buffered: int = 0
    # the last pieces handed on, in order, that the peer has not acknowledged
    recent: deque[bytes] = field(default_factory=deque)
    recent_size: int = 0
    fin_at: int | None = None
    acked: int = 0  # the highest offset the peer acknowledged
    closed: bool = False

    def offset(self, seq: int) -> int:
        """The unwrapped offset of a sequence number: the one nearest to what is delivered."""
        assert self.base is not None
        relative = (seq - self.base) % _WRAP
        return self.delivered + ((relative - self.delivered + _HALF) % _WRAP) - _HALF


def _forget_acked(flow: _Flow) -> None:
    """Bytes that the peer acknowledged are not kept to compare copies with: they are sent
    again only when an ACK was lost between the capture point and their sender. Kept, they
    made each open connection hold 128 KiB, and memory grow with the connections open."""
    recent = flow.recent
    start = flow.delivered - flow.recent_size
    while recent and start + len(recent[0]) <= flow.acked:
        size = len(recent.popleft())
        flow.recent_size -= size
        start += size


class _Conversation:
    """Both directions of one connection, and the events they produce."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.flows = (_Flow(), _Flow())
        self.events: list[TcpEvent] = []

    @property
    def closed(self) -> bool:
        return self.flows[0].closed and self.flows[1].closed

    def segment(self, segment: Segment) -> None:
        side = 0 if segment.source == self.connection.first else 1
        flow, peer = self.flows[side], self.flows[1 - side]
        if flow.closed:  # a retransmission after the close, or a RST that ends the other side
            if segment.flags & RST:
                self.finish(1 - side, "rst", segment, by=side)
            self.events += _late_bytes(self.connection, side, self.end_seq(side), segment)
            return
        syn = 1 if segment.flags & SYN else 0
        if syn or flow.base is None:
            flow.base = (segment.seq + syn) % _WRAP
        if segment.flags & ACK and peer.base is not None and not peer.closed:
            acked = peer.offset(segment.ack)
            peer.acked = max(peer.acked, min(acked, peer.fin_at) if peer.fin_at else acked)
            if peer.acked > peer.delivered:
                self._give_up_acked(1 - side, segment)
            else:
                _forget_acked(peer)
        start = flow.offset(segment.seq + syn)
        if segment.payload:
            if start == flow.delivered and not flow.buffer:  # in order, as most are
                self._deliver(side, segment.payload, segment.time, segment.packet)
            else:
                self._insert(side, start, _Piece(segment.payload, segment.time, segment.packet))
        if segment.flags & FIN:
            flow.fin_at = start + len(segment.payload) + segment.missing
        if segment.flags & RST:
            self.finish(0, "rst", segment, by=side)
            self.finish(1, "rst", segment, by=side)
        elif flow.fin_at is not None and flow.delivered >= flow.fin_at:
            self.finish(side, "fin", segment)

    def end_seq(self, side: int) -> int | None:
        """The sequence number after the last byte of a side, once it is over."""
        flow = self.flows[side]
        return None if flow.base is None else (flow.base + flow.delivered) % _WRAP

    def _insert(self, side: int, start: int, piece: _Piece) -> None:
        flow = self.flows[side]
        if start <= flow.delivered:
            self._hand_on(side, start, piece)
            self._drain(side)
            return
        held = flow.buffer.get(start)
        if held is None or len(held.data) < len(piece.data):
            flow.buffered += len(piece.data) - (len(held.data) if held else 0)
            flow.buffer[start] = piece
        while flow.buffered > MAX_BUFFERED:  # too much waits on a hole: give the hole up
            self._skip_to(side, min(flow.buffer), piece.time, piece.packet)
            self._drain(side)

    def _drain(self, side: int) -> None:
        flow = self.flows[side]
        while flow.buffer and (start := min(flow.buffer)) <= flow.delivered:
            piece = flow.buffer.pop(start)
            flow.buffered -= len(piece.data)
            self._hand_on(side, start, piece)

    def _hand_on(self, side: int, start: int, piece: _Piece) -> None:
        """Deliver what is new in a piece that starts at or before the delivered offset."""
        flow = self.flows[side]
        seen = flow.delivered - start
        self._compare(side, start, piece.data[:seen], piece.packet)
        new = piece.data[seen:]
        if new:
            self._deliver(side, new, piece.time, piece.packet)

    def _deliver(self, side: int, new: bytes, time: float | None, packet: int) -> None:
        """Hand on bytes that follow the delivered ones."""
        flow = self.flows[side]
        flow.delivered += len(new)
        flow.recent.append(new)  # pieces, not a byte array: keeping them copies nothing
        flow.recent_size += len(new)
        while flow.recent_size - len(flow.recent[0]) >= _WINDOW:
            flow.recent_size -= len(flow.recent.popleft())
        self.events.append(TcpData(self.connection, side, new, time, packet))

    def _skip_to(self, side: int, offset: int, time: float | None, packet: int) -> None:
        flow = self.flows[side]
        if offset > flow.delivered:
            self.events.append(TcpGap(self.connection, side, offset - flow.delivered, time, packet))
            flow.delivered = offset
            flow.recent.clear()
            flow.recent_size = 0

    def _give_up_acked(self, side: int, segment: Segment) -> None:
        flow = self.flows[side]
        if flow.acked <= flow.delivered:
            return
        if flow.acked == flow.delivered + 1 and not flow.buffer:
            return  # one past all that was sent: a FIN the capture lost, not a lost byte
        next_held = min(flow.buffer) if flow.buffer else flow.acked
        self._skip_to(side, min(next_held, flow.acked), segment.time, segment.packet)
        self._drain(side)

    def _compare(self, side: int, start: int, again: bytes, packet: int) -> None:
        """Bytes sent again must equal what was delivered, where that is still known."""
        flow = self.flows[side]
        window_start = flow.delivered - flow.recent_size
        begin, end = max(start, window_start), start + len(again)
        if begin >= end:
            return
        before = b"".join(flow.recent)[begin - window_start : end - window_start]
        now = again[begin - start :]
        if before != now:
            differing = sum(a != b for a, b in zip(before, now, strict=True))
            self.events.append(
                Problem(
                    "RI309",
                    f"tcp{self.connection.index}: packet {packet} sends bytes {begin}-{end - 1} "
                    f"of the {('first', 'second')[side]} side again, {differing} of them "
                    "different; the bytes seen first are kept",
                    begin,
                    end - begin,
                )
            )

    def finish(
        self, side: int, how: str, segment: Segment | None, *, by: int | None = None
    ) -> None:
        flow = self.flows[side]
        if flow.closed:
            return
        while flow.buffer:  # what waited on a hole: the hole will not be filled now
            first = flow.buffer[min(flow.buffer)]
            self._skip_to(side, min(flow.buffer), first.time, first.packet)
            self._drain(side)
        if how != "rst" and flow.fin_at is not None:
            time, packet = (segment.time, segment.packet) if segment else (None, 0)
            self._skip_to(side, flow.fin_at, time, packet)
        flow.closed = True
        self.events.append(TcpClosed(self.connection, side, how, by))


class _Over:
    """What is kept of a connection that is over: the fact, to tell its late packets from a
    new connection on the same ports (a SYN), and where each side's bytes ended, to tell
    a late copy of them from bytes sent after the end."""

    __slots__ = ("connection", "ends")
    closed = True

    def __init__(self, conversation: _Conversation) -> None:
        self.connection = conversation.connection
        self.ends = (conversation.end_seq(0), conversation.end_seq(1))

    def late(self, segment: Segment) -> list[TcpEvent]:
        side = 0 if segment.source == self.connection.first else 1
        return _late_bytes(self.connection, side, self.ends[side], segment)


def _late_bytes(
    connection: Connection, side: int, end: int | None, segment: Segment
) -> list[TcpEvent]:
    """Bytes beyond the end of a side that is over (sent after its FIN or a RST): no
    receiver takes them, and they are reported rather than dropped unseen."""
    if not segment.payload or end is None:
        return []
    beyond = (segment.seq + len(segment.payload) - end + _HALF) % _WRAP - _HALF
    new = min(beyond, len(segment.payload))
    if new <= 0:
        return []  # sent again: bytes the side had sent before it closed
    text = (
        f"tcp{connection.index}: packet {segment.packet} carries {counted(new, 'byte')} from "
        f"{show_endpoint(segment.source)} after its side of the connection was over (FIN or "
        "RST); no receiver takes them, and they are not decoded"
    )
    return [Problem("RI310", text, None, None)]


def _one_sided(conversation: _Conversation) -> list[Problem]:
    """A side that sent bytes, over a connection whose other side has no packet in the
    capture (one that is over has both: each side's FIN or a RST): the capture missed a
    direction, and what that side sent is not in the input."""
    flows, connection = conversation.flows, conversation.connection
    ends = (connection.first, connection.second)
    for side in (0, 1):
        if flows[side].delivered and flows[1 - side].base is None:
            text = (
                f"tcp{connection.index} ({connection.label()}): the capture has only the "
                f"packets from {show_endpoint(ends[side])}, none from "
                f"{show_endpoint(ends[1 - side])}: it missed one direction (a capture filter "
                "on one address or port, or asymmetric routing), and what that side sent is "
                "not in it"
            )
            return [Problem("RI316", text, None, None)]
    return []


OVER_KEPT: Final = 1 << 14  # connections remembered as over: memory stays flat however many


def _connection_key(segment: Segment) -> tuple[Endpoint, Endpoint]:
    """Both directions of a connection: its endpoints in order."""
    source, destination = segment.source, segment.destination
    return (source, destination) if source < destination else (destination, source)


class TcpReassembler:
    def __init__(self) -> None:
        self._conversations: dict[tuple[Endpoint, Endpoint], _Conversation | _Over] = {}
        self._over: deque[tuple[Endpoint, Endpoint]] = deque()  # oldest first
        self._count = 0

    def feed(self, segment: Segment) -> list[TcpEvent]:
        key = _connection_key(segment)
        conversation = self._conversations.get(key)
        opening = bool(segment.flags & SYN) and not segment.flags & ACK
        if conversation is None or (conversation.closed and opening):
            conversation = self._open(key, segment, opening)
        if isinstance(conversation, _Over):
            return conversation.late(segment)
        conversation.segment(segment)
        events, conversation.events = conversation.events, []
        if conversation.closed:
            events += _one_sided(conversation)  # a RST from the one side captured
            self._forget(key, conversation)
        return events

    def _forget(self, key: tuple[Endpoint, Endpoint], over: _Conversation) -> None:
        self._conversations[key] = _Over(over)
        self._over.append(key)
        if len(self._over) > OVER_KEPT:
            oldest = self._over.popleft()
            if isinstance(self._conversations.get(oldest), _Over):  # not opened again since
                del self._conversations[oldest]

    def end_of_stream(self) -> list[TcpEvent]:
        events: list[TcpEvent] = []
        for conversation in self._conversations.values():
            if isinstance(conversation, _Over):
                continue
            events += _one_sided(conversation)
            conversation.finish(0, "end", None)
            conversation.finish(1, "end", None)
            events += conversation.events
        self._conversations.clear()
        return events

    def _open(
        self, key: tuple[Endpoint, Endpoint], segment: Segment, opening: bool
    ) -> _Conversation:
        first, second = segment.source, segment.destination
        if segment.flags & SYN and segment.flags & ACK:  # the SYN-ACK came first: swap
            first, second = second, first
        connection = Connection(self._count, first, second, bool(segment.flags & SYN))
        self._count += 1
        conversation = self._conversations[key] = _Conversation(connection)
        return conversation
