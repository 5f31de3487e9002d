"""The catalogue of everything restate-inspect reports, and the Problem record.

Codes are stable: scripts match on them. RI0xx are about reading the input, RI1xx about
framing and message bodies, RI2xx about the conversation (the journal rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from restate_inspect.location import Direction, StreamKey


class Severity(StrEnum):
    ERROR = "error"  # the runtime or the SDK would reject this, or the bytes are lost
    WARNING = "warning"  # breaks a MUST of the spec that peers tolerate, or doubtful input
    INFO = "info"  # worth knowing, not wrong


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    title: str
    reference: str


SPEC = "service-invocation-protocol.md"
_HEADER = f"{SPEC}#message-header"
_MESSAGES = f"{SPEC}#messages"
_CUSTOM = f"{SPEC}#custom-entry-message"
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

# fmt: off
_CATALOGUE = (
    # Reading the input.
    Rule("RI001", _E, "hex text holds a character that is not a hex digit", "input"),
    Rule("RI002", _E, "hex text holds an odd number of hex digits", "input"),
    Rule("RI003", _W, "hex dump offset column disagrees with the bytes read", "input"),
    Rule("RI004", _E, "base64 text holds a character outside the alphabet", "input"),
    Rule("RI005", _E, "base64 text ends in the middle of a byte", "input"),
    Rule("RI006", _W, "text input is neither hex nor base64; read as raw bytes", "input"),
    # Framing: byte ranges that belong to no frame.
    Rule("RI101", _E, "stream ends inside a frame header", _HEADER),
    Rule("RI102", _E, "stream ends inside a frame body", _HEADER),
    Rule("RI103", _E, "declared frame length exceeds the limit", _HEADER),
    Rule("RI104", _E, "bytes after a framing error cannot be framed", "framing"),
    # Frames that were framed but are wrong.
    Rule("RI105", _E, "unknown message type", _MESSAGES),
    Rule("RI106", _W, "entry type needs protocol V3 or later", _MESSAGES),
    Rule("RI107", _W, "reserved flag bits set", _HEADER),
    Rule("RI108", _E, "COMPLETED flag on a type that is not completable", _HEADER),
    Rule("RI109", _E, "message body does not parse", _MESSAGES),
    Rule("RI110", _W, "custom entry uses reserved fields 13-15", _CUSTOM),
    # Bytes the capture lacks.
    Rule("RI111", _E, "bytes missing from the capture", "capture"),
    Rule("RI112", _W, "bytes skipped to resynchronise on a frame after missing bytes", "capture"),
    Rule("RI113", _E, "frame cut short by bytes missing from the capture", "capture"),
    # Captures: containers, packets, TCP, HTTP.
    Rule("RI301", _E, "capture file ends in the middle of a block or packet", "capture"),
    Rule("RI302", _E, "file is neither pcap nor pcapng", "capture"),
    Rule("RI303", _E, "capture block or packet length is impossible", "capture"),
    Rule("RI304", _E, "packet names an interface the section does not describe", "capture"),
    Rule("RI305", _W, "link type not supported; its packets are skipped", "capture"),
    Rule("RI306", _W, "IP datagram whose fragments never all arrived", "capture"),
    Rule("RI307", _W, "malformed or cut-short packet header; packet skipped", "capture"),
    Rule("RI309", _W, "TCP bytes sent again differ from the first copy", "capture"),
    Rule("RI311", _E, "HTTP/2 framing problem", "RFC 9113"),
    Rule("RI312", _W, "HTTP/2 headers unknown: HPACK context missing or broken", "RFC 7541"),
    Rule("RI313", _E, "HTTP/1.1 message cannot be parsed", "RFC 9112"),
    Rule("RI314", _I, "capture has no Restate traffic on this connection", "capture"),
)
# fmt: on

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding about the input, with the bytes it is about.

    `undecoded` marks a byte range that belongs to no frame: frames and undecoded ranges
    tile each direction's bytes exactly (byte accounting). Other problems point at bytes
    that a frame already covers, or at nothing (`offset` None).
    """

    code: str
    message: str
    offset: int | None
    length: int | None
    stream: StreamKey | None = None
    direction: Direction | None = None
    undecoded: bool = False
    entry_index: int | None = None
    line: int | None = None
    column: int | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def severity(self) -> Severity:
        return RULES[self.code].severity
