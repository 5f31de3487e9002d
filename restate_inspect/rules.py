"""The catalogue of everything restate-inspect reports, and the Problem record.

Codes are stable: scripts match on them. RI0xx are about reading the input, RI1xx about
framing and message bodies, RI2xx about the conversation (the journal rules).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
_SHAPE = f"{SPEC}#state-machine-and-journal"
_TRANSPORT = f"{SPEC}#transport"
_CORRELATION = f"{SPEC}#completable-journal-entries-and-completionmessage"
_SUSPENSION = f"{SPEC}#suspension"
_ERRORS = f"{SPEC}#failures"
_REPLAY = f"{SPEC}#replaying-and-processing"
# V4+: the current specification (RESEARCH-V3-V8.md §4.4 says where each rule comes from)
V4_SPEC = "protocol/service-invocation-protocol.md"
_LIFECYCLE = f"{V4_SPEC}#stream-lifecycle"
_JOURNAL = f"{V4_SPEC}#journal-model"
_COMPLETIONS = f"{V4_SPEC}#completions"
_SIGNALS = f"{V4_SPEC}#signals"
_RUN = f"{V4_SPEC}#run-mechanics"
_AWAIT = f"{V4_SPEC}#suspension-and-await-tracking"
_FAILURES = f"{V4_SPEC}#errormessage"
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
    Rule("RI007", _E, "compressed input is cut short or corrupt", "input"),
    Rule("RI008", _E, "bytes printed by code hold something that is not a byte", "input"),
    Rule("RI009", _E, "a row of a journal dump (sys_journal) cannot be read", "input"),
    Rule("RI010", _E, "the input is empty: there is nothing to decode", "input"),
    Rule("RI011", _I, "direction of a single stream inferred from its first bytes", "input"),
    # Framing: byte ranges that belong to no frame.
    Rule("RI101", _E, "stream ends inside a frame header", _HEADER),
    Rule("RI102", _E, "stream ends inside a frame body", _HEADER),
    Rule("RI103", _E, "declared frame length exceeds the limit", _HEADER),
    Rule("RI104", _E, "bytes after a framing error cannot be framed", "framing"),
    # Frames that were framed but are wrong.
    Rule("RI105", _E, "unknown message type", _MESSAGES),
    Rule("RI106", _W, "message type needs a later protocol version than the stream's",
         _MESSAGES),
    Rule("RI107", _W, "reserved flag bits set", _HEADER),
    Rule("RI108", _E, "COMPLETED flag on a type that is not completable", _HEADER),
    Rule("RI109", _E, "message body does not parse", _MESSAGES),
    Rule("RI110", _W, "custom entry uses reserved fields 13-15", _CUSTOM),
    # Bytes the capture lacks.
    Rule("RI111", _E, "bytes missing from the capture", "capture"),
    Rule("RI112", _W, "bytes skipped to resynchronise on a frame after missing bytes", "capture"),
    Rule("RI113", _E, "frame cut short by bytes missing from the capture", "capture"),
    Rule("RI114", _I, "protocol version not interpreted: frames shown by header, not checked",
         _TRANSPORT),
    Rule("RI115", _I, "protocol version inferred from the bytes (no content type told it)",
         _TRANSPORT),
    Rule("RI116", _W, "protocol version cannot be told from the bytes: frames shown by header",
         _TRANSPORT),
    # Captures: containers, packets, TCP, HTTP.
    Rule("RI301", _E, "capture file ends in the middle of a block or packet", "capture"),
    Rule("RI302", _E, "file is neither pcap nor pcapng", "capture"),
    Rule("RI303", _E, "capture block or packet length is impossible", "capture"),
    Rule("RI304", _E, "packet names an interface the section does not describe", "capture"),
    Rule("RI305", _W, "link type not supported; its packets are skipped", "capture"),
    Rule("RI306", _W, "IP datagram whose fragments never all arrived", "capture"),
    Rule("RI307", _W, "malformed or cut-short packet header; packet skipped", "capture"),
    Rule("RI309", _W, "TCP bytes sent again differ from the first copy", "capture"),
    Rule("RI310", _W, "TCP bytes sent after their side of the connection was over", "capture"),
    Rule("RI311", _E, "HTTP/2 framing problem", "RFC 9113"),
    Rule("RI312", _W, "HTTP/2 headers unknown: HPACK context missing or broken", "RFC 7541"),
    Rule("RI313", _E, "HTTP/1.1 message cannot be parsed", "RFC 9112"),
    Rule("RI314", _I, "capture has no Restate traffic on this connection", "capture"),
    Rule("RI315", _I, "the same attempt on two TCP connections at once (a proxy, NAT); shown once",
         "capture"),
    Rule("RI316", _W, "the capture has only one side of a TCP connection", "capture"),
    Rule("RI317", _W, "the capture cuts packets to a snap length: their cut bytes are missing",
         "capture"),
    Rule("RI318", _W, "the proxy's upstream refused a connection: the runtime's was closed too",
         "proxy"),
    Rule("RI319", _W, "a packet longer than any snap length: only its first 256 KiB are read",
         "capture"),
    # The conversation of an attempt: stream shape.
    Rule("RI201", _E, "the request does not begin with a StartMessage", _SHAPE),
    Rule("RI202", _E, "the runtime sends an SDK message, or a second StartMessage", _SHAPE),
    Rule("RI203", _E, "the runtime replays more or fewer entries than known_entries", _SHAPE),
    Rule("RI204", _E, "the SDK sends a new entry before the replay is over", _SHAPE),
    Rule("RI205", _W, "the attempt ends without End, Suspension or Error", _SHAPE),
    Rule("RI206", _E, "the SDK sends something after its terminal message", _SHAPE),
    Rule("RI207", _I, "the capture ends before the attempt does", "capture"),
    Rule("RI208", _E, "the response is not 200 with the invocation's content type", _TRANSPORT),
    Rule("RI209", _E, "the SDK sends a message only the runtime sends", _SHAPE),
    # Correlation of completions and acks with entries.
    Rule("RI210", _E, "completion or ack for an entry that does not exist", _CORRELATION),
    Rule("RI211", _E, "completion for an entry that is not completable", _CORRELATION),
    Rule("RI212", _E, "completion for an entry that is already completed", _CORRELATION),
    Rule("RI213", _E, "completion during the replay", _CORRELATION),
    Rule("RI214", _W, "completion or ack in request/response mode", _CORRELATION),
    Rule("RI215", _E, "ack for an entry sent without REQUIRES_ACK, or a second ack", _CORRELATION),
    Rule("RI216", _E, "COMPLETED flag and result disagree on a completable entry", _CORRELATION),
    # Suspension.
    Rule("RI220", _E, "SuspensionMessage with no entry index", _SUSPENSION),
    Rule("RI221", _E, "suspension on an entry that does not exist", _SUSPENSION),
    Rule("RI222", _W, "suspension on an entry that is already completed", _SUSPENSION),
    Rule("RI223", _W, "suspension on an entry that waits for no completion or ack", _SUSPENSION),
    Rule("RI224", _I, "suspension on an entry whose completion or ack was on its way (sent "
         "up to 20 ms before)", _SUSPENSION),
    Rule("RI225", _I, "the runtime closed its side for inactivity: the SDK is to suspend or end",
         _SUSPENSION),
    # Failures the SDK reports.
    Rule("RI230", _E, "the SDK reports a journal mismatch (570)", _ERRORS),
    Rule("RI231", _E, "the SDK reports a protocol violation (571)", _ERRORS),
    Rule("RI232", _I, "the SDK reports a failure of user code; the runtime retries", _ERRORS),
    Rule("RI233", _I, "the invocation ends with a terminal failure", _ERRORS),
    # Across attempts.
    Rule("RI240", _E, "the replay disagrees with what an earlier attempt sent", _REPLAY),
    Rule("RI241", _I, "V2 retry fields under a V1 content type", _SHAPE),
    Rule("RI242", _I, "the runtime aborted the attempt (reset its stream) before the SDK ended it",
         _SHAPE),
    Rule("RI243", _W, "an attempt of more than 100,000 frames: the rest are counted, not checked",
         "journal"),
    Rule("RI244", _W, "another attempt after one that ended the invocation: the runtime did not "
         "take that End", _SHAPE),
    # V4+: commands and notifications.
    Rule("RI411", _E, "StartMessage with known_entries 0 (the journal always holds its input)",
         _LIFECYCLE),
    Rule("RI413", _E, "the replay does not begin with the InputCommand", _JOURNAL),
    Rule("RI414", _E, "the runtime sends a command after the replay", _JOURNAL),
    Rule("RI415", _E, "CommandAck for a command that does not exist, was sent without "
         "REQUESTED_ACK, or was acked before", _COMPLETIONS),
    Rule("RI416", _E, "ProposeRunCompletionAck during the replay, or for a run the SDK did not "
         "propose with REQUESTED_ACK", _RUN),
    Rule("RI417", _E, "notification for a completion id no command allocated, or of the wrong "
         "kind for it", _COMPLETIONS),
    Rule("RI418", _E, "notification without its id or its result", _COMPLETIONS),
    Rule("RI419", _W, "the same completion id or signal notified twice", _COMPLETIONS),
    Rule("RI420", _W, "a reserved signal (2-16), or CANCEL with a value", _SIGNALS),
    Rule("RI423", _E, "the SDK sends a custom message type", _JOURNAL),
    Rule("RI424", _E, "ProposeRunCompletion without a result, for no RunCommand, or twice", _RUN),
    Rule("RI426", _E, "suspension or AwaitingOn that waits on nothing", _AWAIT),
    Rule("RI427", _E, "a Future of an unknown combinator", _AWAIT),
    Rule("RI428", _W, "the SDK waits on a completion id no command allocated", _AWAIT),
    Rule("RI429", _I, "the SDK suspends on a completion id answered already: it resumes at once",
         _AWAIT),
    Rule("RI432", _W, "EndMessage without an OutputCommand", _LIFECYCLE),
    Rule("RI433", _W, "ErrorMessage naming a command that cannot be, or a retry with no retry",
         _FAILURES),
    Rule("RI434", _W, "an error code an SDK never sends (572, 598, 599)", _FAILURES),
    Rule("RI436", _W, "a command allocates completion id 0, or an id another command took",
         _COMPLETIONS),
    Rule("RI442", _W, "the SDK sends a field of a later protocol version than the stream's",
         _MESSAGES),
)
# fmt: on

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}
# Findings that say some of the input was not checked at all: bytes that could not be framed,
# a version no family reads, one that could not be told, frames beyond what an attempt keeps.
# `check` never calls that clean.
UNCHECKED: frozenset[str] = frozenset({"RI104", "RI114", "RI116", "RI243"})
# A frame's own problems (its type, flags, body): frames in a row that break one alike are
# one finding in a journal (protocol.timeline.ProblemRun).
OF_A_FRAME: frozenset[str] = frozenset({"RI105", "RI106", "RI107", "RI108", "RI109", "RI110"})


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
    invocation_id: str | None = None  # journal findings: which invocation
    attempt: int | None = None  # ... and which of its attempts (1-based)
    packet: int | None = None  # in a capture: the packet being read when it was found
    # a journal finding that bytes missing from the input may explain (lost before it, or
    # the SDK's body not given with a request body): it counts as info
    after_loss: bool = False
    command_index: int | None = None  # V4+ journal findings: the command it is about
    completion_id: int | None = None  # ... or the completion id
    repeats: int = 1  # a reader's problem, found so often in a row (RepeatedProblems)
    last: tuple[int | None, int | None] | None = None  # ... the line and column of the last
    to_packet: int | None = None  # ... or its packet
    to_offset: int | None = None  # ... or its offset (a problem repeated frame after frame)

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    def placed(self, invocation_id: str, attempt: int) -> Problem:
        """The same finding, saying which invocation and attempt it is about."""
        return replace(self, invocation_id=invocation_id, attempt=attempt)

    @property
    def severity(self) -> Severity:
        return Severity.INFO if self.after_loss else RULES[self.code].severity


def counted(number: int, noun: str, plural: str = "") -> str:
    """ "1 stream", "2 streams"; plural for a noun that does not just take an s."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


@dataclass(slots=True)
class Run:
    """A problem found `count` times in a row: one finding that says how often, and where
    the last one was (its line and column, its packet, or its offset)."""

    first: Problem
    count: int
    last: Problem

    def add(self, problem: Problem) -> None:
        self.count, self.last = self.count + 1, problem

    def finding(self) -> Problem:
        if self.count == 1:
            return self.first
        last = self.last
        moved = last.offset is not None and last.offset != self.first.offset
        if last.line:
            where = f"line {last.line}, column {last.column}"
        elif last.packet:
            where = f"packet {last.packet}"
        elif moved:
            where = f"offset {last.offset:#x}"
        else:
            where = "the same offset" if last.offset is not None else "the same place"
        return replace(
            self.first,
            message=f"{self.first.message}; and {self.count - 1:,} more like it, to {where}",
            repeats=self.count,
            last=(last.line, last.column) if last.line else None,
            to_packet=last.packet,
            to_offset=last.offset if moved and not (last.line or last.packet) else None,
        )


class RepeatedProblems:
    """A reader's problems, one finding for each kind that repeats over a stretch of input
    in which no byte was read: `-f hex` on 369,090 'g's is one RI001 that says how many and
    where they end, not 369,090 findings that all must be kept and printed; so are 300,000
    malformed packets with nothing read between them."""

    def __init__(self) -> None:
        self._done: list[Problem] = []
        self._runs: dict[str, Run] = {}  # by code, in the order they began
        self._at: int | None = None  # the offset (bytes read) of the open runs

    def add(self, problem: Problem) -> None:
        if problem.offset != self._at:  # bytes were read since: those runs are over
            self._close()
            self._at = problem.offset
        run = self._runs.get(problem.code)
        if run is None:
            self._runs[problem.code] = Run(problem, 1, problem)
        else:
            run.add(problem)

    @property
    def holding(self) -> bool:
        """Are runs open (problems not yet taken)?"""
        return bool(self._runs)

    def taken(self, read: int | None = None) -> list[Problem]:
        """The findings of the runs that are over: all, or those before `read` bytes (a run
        at that offset may go on)."""
        if read is None or read != self._at:
            self._close()
        done, self._done = self._done, []
        return done

    def _close(self) -> None:
        self._done += [run.finding() for run in self._runs.values()]
        self._runs = {}
