"""Every record that passes from one stage to the next, in one leaf module (it imports only
location and rules, the standard library, and protobuf for the type of a decoded message).

Packets -> TCP segments -> TCP bytes -> HTTP heads and bodies -> stream chunks -> raw frames
-> frames (a message decoded by its protocol version's table) -> decoded frames (their
place in the conversation). Each is a NamedTuple, built with its constructor.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, NamedTuple

from google.protobuf.message import Message

from restate_inspect.headers import Headers, find_header, invocation_version
from restate_inspect.location import Direction, StreamKey
from restate_inspect.rules import Problem

# --- captures: packets, TCP ----------------------------------------------------------


class Packet(NamedTuple):
    number: int  # 1-based, as Wireshark counts
    time: float | None  # seconds since the epoch
    linktype: int
    data: bytes  # as captured (maybe cut by the snap length)
    original_length: int  # on the wire: more than data holds when cut by a snap length


class Tick(NamedTuple):
    """No packet has come, and capture time has gone on to `time` (a live capture gone
    quiet): what waits on capture time may be over."""

    time: float


Endpoint = tuple[str, int]


class Segment(NamedTuple):
    """A TCP segment with where it came from."""

    source: Endpoint
    destination: Endpoint
    seq: int
    ack: int
    flags: int
    payload: bytes
    missing: int  # payload bytes the capture cut off (snap length): a gap after the payload
    time: float | None
    packet: int


@dataclass(frozen=True, slots=True)
class Connection:
    index: int  # in order of first packet, as Wireshark's tcp.stream
    first: Endpoint  # the side that sent the SYN, or the first packet seen
    second: Endpoint
    syn_seen: bool

    def label(self) -> str:
        return f"{show_endpoint(self.first)} ↔ {show_endpoint(self.second)}"


def show_endpoint(endpoint: Endpoint) -> str:
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TcpData(NamedTuple):
    connection: Connection
    side: int  # 0: sent by connection.first, 1: by connection.second
    data: bytes
    time: float | None  # of the packet that carried these bytes
    packet: int


class TcpGap(NamedTuple):
    connection: Connection
    side: int
    length: int  # bytes missing from the capture
    time: float | None
    packet: int  # the packet at which the loss became certain


class TcpClosed(NamedTuple):
    connection: Connection
    side: int
    how: str  # "fin", "rst" or "end" (the capture ended first)
    by: int | None = None  # "rst": the side that sent it


TcpEvent = TcpData | TcpGap | TcpClosed | Problem

# --- HTTP ------------------------------------------------------------------------------


class HttpHead(NamedTuple):
    """The start of a request or a response. headers is None when they could not be read
    (an HTTP/2 capture that starts mid-connection lacks the HPACK context)."""

    exchange: str  # "s3" (HTTP/2 stream 3) or "m2" (the second HTTP/1.1 exchange)
    direction: Direction  # request: runtime_to_sdk, response: sdk_to_runtime
    headers: Headers | None
    start_line: str  # "POST /invoke/S/h" or "200"; "" when unknown
    time: float | None
    packet: int

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


class HttpBody(NamedTuple):
    exchange: str
    direction: Direction
    data: bytes
    time: float | None
    packet: int


class HttpGap(NamedTuple):
    exchange: str
    direction: Direction
    length: int  # body bytes the capture lacks
    time: float | None
    packet: int


class HttpEnd(NamedTuple):
    exchange: str
    direction: Direction
    how: str  # "end" (END_STREAM, the last chunk, Content-Length reached), "reset", "closed"
    time: float | None
    packet: int
    by: Direction | None = None  # a reset: the direction whose sender reset the stream


HttpEvent = HttpHead | HttpBody | HttpGap | HttpEnd


# --- Restate streams: what the readers hand to the pipeline ------------------------------


class Chunk(NamedTuple):
    """Bytes of one direction's body, in order."""

    stream: StreamKey
    direction: Direction
    data: bytes
    time: float | None = None
    packet: int | None = None


class Gap(NamedTuple):
    """Bytes of one direction's body that the capture lacks. length 0: an unknown amount."""

    stream: StreamKey
    direction: Direction
    length: int
    time: float | None = None
    packet: int | None = None


class StreamEnd(NamedTuple):
    """One direction's body is over: "end" (complete), "reset", "closed" (the connection
    went away), "capture" (the capture ended first)."""

    stream: StreamKey
    direction: Direction
    how: str = "end"
    time: float | None = None
    # the packet whose reading ended it (n - 0.5: capture time did, before packet n was
    # read; see CaptureDecoder); None: the capture's end
    packet: float | None = None
    body_bytes: int | None = None
    by: Direction | None = None  # a reset: the direction whose sender reset the stream


class StreamInfo(NamedTuple):
    """What a capture tells about an HTTP stream, once a head is seen (sent again when the
    response head arrives). kind: "invocation", "discovery", "other" or "unknown" (no
    headers: a capture that starts mid-connection)."""

    stream: StreamKey
    kind: str
    connection: str  # "10.0.0.1:40000 -> 10.0.0.2:9080", client first
    http_version: str  # "HTTP/2" or "HTTP/1.1"
    time: float | None
    packet: int | None
    method: str | None = None
    path: str | None = None
    request_headers: Headers | None = None
    status: str | None = None
    response_headers: Headers | None = None
    notes: tuple[str, ...] = ()

    def header(self, name: str, *, response: bool = False) -> str | None:
        return find_header(self.response_headers if response else self.request_headers, name)

    @property
    def restate(self) -> bool:
        """Is it a Restate stream, whose frames are read: an invocation, or a stream whose
        kind its headers do not tell?"""
        return self.kind in ("invocation", "unknown")

    @property
    def protocol_version(self) -> int | None:
        """N from `content-type: application/vnd.restate.invocation.vN`."""
        for headers in (self.request_headers, self.response_headers):
            version = invocation_version(find_header(headers, "content-type"))
            if version is not None:
                return version
        return None

    @property
    def target(self) -> tuple[str, str] | None:
        """(service, handler) from `…/invoke/{service}/{handler}`: the last `invoke` that two
        parts follow (a service may be called invoke, and a path prefix may hold one)."""
        parts = (self.path or "").split("?")[0].split("/")
        for index in range(len(parts) - 3, -1, -1):
            if parts[index] == "invoke":
                return parts[index + 1], parts[index + 2]
        return None


@dataclass(frozen=True, slots=True)
class Discovery:
    """A discovery exchange's response body: the endpoint manifest (JSON)."""

    stream: StreamKey
    body: bytes
    time: float | None = None


class StoredJournal(NamedTuple):
    """A journal the runtime stored (a sys_journal dump): one invocation's rows come next, as
    StoredRow events, then its StreamEnds. facts: its sys_invocation row, when one was given
    (status, pinned_service_protocol_version, retry_count, last_failure...)."""

    stream: StreamKey  # named by the invocation id
    invocation_id: str
    rows: int
    journal_format: int  # sys_journal.version: 1 (V1-V3 entries) or 2 (V4+)
    facts: dict[str, Any] | None = None


class StoredRow(NamedTuple):
    """One row of a sys_journal dump: an entry (V1-V3) or a command or notification (V4+),
    named by its entry_type, with its body (`raw`) and no header."""

    stream: StreamKey
    row: int  # its place in the dump, 1-based
    entry_index: int  # the stored index
    entry_type: str  # "Call", or "Command: Call" / "Notification: Call" (journal format 2)
    body: bytes
    completed: bool  # V1-V3: the COMPLETED flag
    time: float | None  # appended_at, seconds since the epoch


InputEvent = Chunk | Gap | StreamEnd | StreamInfo | Discovery | Problem | StoredJournal | StoredRow

# --- frames -------------------------------------------------------------------------------

HEADER: Final = struct.Struct(">HHI")  # type, flags, body length
HEADER_SIZE: Final = HEADER.size
# The protocol versions whose messages a protocol family reads (restate_inspect.protocol);
# a frame of another version is shown by its header.
READ_VERSIONS: Final = frozenset(range(1, 9))


class Namespace(StrEnum):
    """What kind of message a type is, in its protocol family."""

    CORE = "core"  # control messages: V1-V3 core, V4+ control
    IO = "io"  # V1-V3 entries ...
    STATE = "state"
    SYSCALL = "syscall"
    COMMAND = "command"  # V4+
    NOTIFICATION = "notification"  # V4+
    CUSTOM = "custom"


class Sender(StrEnum):
    RUNTIME = "runtime"
    SDK = "sdk"
    BOTH = "both"  # journal entries: the runtime replays them, the SDK creates them


@dataclass(frozen=True, slots=True)
class MessageType:
    """One row of a protocol version's message table."""

    code: int
    name: str
    cls: type[Message] | None  # None: known by name only, decoded schema-less
    namespace: Namespace
    completable: bool  # V1-V3: a result may complete it; V4+: a notification answers it
    fallible: bool
    sender: Sender
    allowed_flags: int
    min_version: int = 1
    answered_by: tuple[int, ...] = ()  # V4+: the notifications that complete a command

    @property
    def is_entry(self) -> bool:
        """Is it journaled (an entry, a command, a notification, a custom type)?"""
        return self.namespace is not Namespace.CORE

    @property
    def hex(self) -> str:
        return f"0x{self.code:04x}"


class RawFrame(NamedTuple):
    """A frame as framing splits it: its header and its body, not yet decoded."""

    stream: StreamKey
    direction: Direction | None
    offset: int  # of the header, within this direction's body
    type: int
    flags: int
    length: int  # of the body, header excluded
    body: bytes
    time: float | None  # capture time of the packet that completed the frame
    packet: int | None  # number of that packet (1-based, as in Wireshark)
    row: int | None = None  # a journal dump's row (1-based): its header is rebuilt

    @property
    def end(self) -> int:
        return self.offset + HEADER_SIZE + self.length


class Frame(NamedTuple):
    """A frame read by its protocol version's message table."""

    stream: StreamKey
    direction: Direction | None
    offset: int
    type: int
    flags: int
    length: int
    body: bytes
    message: Message | None  # None: unknown type or version, or a body that does not parse
    time: float | None
    packet: int | None
    spec: MessageType | None = None  # its row in the version's table; None: not known
    version: int | None = None  # the version it was read as; None: not known
    row: int | None = None  # a journal dump's row: offset is then its place in the rebuilt journal

    @property
    def end(self) -> int:
        return self.offset + HEADER_SIZE + self.length

    @property
    def message_type(self) -> MessageType | None:
        return self.spec

    @property
    def name(self) -> str | None:
        return None if self.spec is None else self.spec.name

    @property
    def type_label(self) -> str:
        """The type's name, or what is known of a type without one."""
        if self.spec is not None:
            return self.spec.name
        if self.version is not None and self.version not in READ_VERSIONS:
            return f"V{self.version} message"
        return "unknown type"

    def to_bytes(self) -> bytes:
        return HEADER.pack(self.type, self.flags, self.length) + self.body


class FrameContext(NamedTuple):
    """What the conversation around a frame tells about it."""

    entry_index: int | None = None  # its place in the stored journal, where known
    invocation_raw: bytes | None = None  # StartMessage.id of the attempt, when seen
    command_index: int | None = None  # V4+: a command's place among the commands


class DecodedFrame(NamedTuple):
    """A frame with what its place in the conversation tells about it."""

    frame: Frame
    context: FrameContext

    @property
    def entry_index(self) -> int | None:
        return self.context.entry_index
