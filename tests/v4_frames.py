"""V4-V8 frames for tests, built with the encoder and the schemas, and the attempts the
journal tests start from: CLEAN (input, output, end), SLEPT (a sleep answered), RAN (a run
proposed and answered)."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from restate_inspect.events import Frame
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction
from restate_inspect.protocol.v4._proto import v6_pb2, v7_pb2
from restate_inspect.protocol.v4.journal import AttemptJournal
from tests.attempts import Attempt, R, S, Step, built
from tests.helpers import read_all

ID = bytes(range(24))
V5 = "application/vnd.restate.invocation.v5"
V6 = "application/vnd.restate.invocation.v6"
V7 = "application/vnd.restate.invocation.v7"
pb, pb7 = v6_pb2, v7_pb2
REQUESTED_ACK = 0x8000


def one_frame(
    code: int,
    message: Message | bytes,
    version: int = 7,
    direction: Direction = Direction.SDK_TO_RUNTIME,
    flags: int = 0,
) -> Frame:
    """The frame a message makes, read as a stream of `version` reads it."""
    wire = encode_frame(code, message, flags)
    (frame,) = [
        f for f in read_all(wire, direction=direction, version=version) if isinstance(f, Frame)
    ]
    return frame


def start(known: int = 1, schema: Any = pb) -> bytes:
    message = schema.StartMessage(id=ID, debug_id="inv_test", known_entries=known)
    return encode_frame(0x0000, message)


def value(text: str) -> Any:
    return pb.Value(content=text.encode())


INPUT = encode_frame(0x0400, pb.InputCommandMessage(value=value('"in"')))
OUTPUT = encode_frame(0x0401, pb.OutputCommandMessage(value=value('"out"')))
END = encode_frame(0x0003)
SET = encode_frame(0x0403, pb.SetStateCommandMessage(key=b"k", value=value("1")))


def sleep(completion_id: int = 1) -> bytes:
    message = pb.SleepCommandMessage(wake_up_time=1, result_completion_id=completion_id)
    return encode_frame(0x040C, message)


def slept(completion_id: int = 1) -> bytes:
    message = pb.SleepCompletionNotificationMessage(completion_id=completion_id, void=pb.Void())
    return encode_frame(0x800C, message)


def run(completion_id: int = 1) -> bytes:
    return encode_frame(0x0411, pb.RunCommandMessage(result_completion_id=completion_id))


def propose(completion_id: int = 1, flags: int = 0, schema: Any = pb, **result: Any) -> bytes:
    fields = result or {"value": b"1"}
    message = schema.ProposeRunCompletionMessage(result_completion_id=completion_id, **fields)
    return encode_frame(0x0005, message, flags)


def ran(completion_id: int = 1) -> bytes:
    message = pb.RunCompletionNotificationMessage(completion_id=completion_id, value=value("1"))
    return encode_frame(0x8011, message)


def signal(**fields: Any) -> bytes:
    return encode_frame(0xFBFF, pb.SignalNotificationMessage(**fields))


def suspension(*completions: int, signals: tuple[int, ...] = ()) -> bytes:
    message = pb.SuspensionMessage(waiting_completions=completions, waiting_signals=signals)
    return encode_frame(0x0001, message)


def error(code: int = 500, schema: Any = pb, **fields: Any) -> bytes:
    return encode_frame(0x0002, schema.ErrorMessage(code=code, message="boom", **fields))


def attempt(*steps: Step, content_type: str = V6, **options: Any) -> Attempt:
    return Attempt(list(steps), request_type=content_type, response_type=content_type, **options)


CLEAN: list[Step] = [(R, start()), (R, INPUT), (S, OUTPUT), (S, END)]
SLEPT: list[Step] = [(R, start()), (R, INPUT), (S, sleep()), (R, slept()), (S, OUTPUT), (S, END)]
RAN: list[Step] = [
    (R, start()), (R, INPUT), (S, run()), (S, propose()), (R, ran()), (S, OUTPUT), (S, END)
]  # fmt: skip


def v7(*steps: Step) -> Attempt:
    return attempt(*steps, content_type=V7)


def v7_run(ack: bytes, flags: int = REQUESTED_ACK) -> list[Step]:
    return [(R, start(schema=pb7)), (R, INPUT), (S, run()),
            (S, propose(flags=flags, schema=pb7)), (R, ack), (S, OUTPUT), (S, END)]  # fmt: skip


RUN_ACK = encode_frame(0x0007, pb7.ProposeRunCompletionAckMessage(completion_id=1))


def future(depth: int, combinator: int = 1) -> Any:
    """A Future tree `depth` levels deep (the combinator as a number: unknown ones too)."""
    tree = pb7.Future(waiting_completions=[1])
    tree.combinator_type = combinator  # type: ignore[assignment]
    for _ in range(depth - 1):
        tree = pb7.Future(nested_futures=[tree])
    return tree


def v7_suspension(tree: Any) -> list[Step]:
    awaiting = encode_frame(0x0001, pb7.SuspensionMessage(awaiting_on=tree))
    return [(R, start(schema=pb7)), (R, INPUT), (S, sleep()), (S, awaiting)]


def replayed(known: int, *entries: bytes) -> list[Step]:
    return [(R, start(known)), *((R, e) for e in entries)]


def journal_of(*steps: Step, **options: Any) -> AttemptJournal:
    """The V4+ journal of one attempt made of the steps."""
    (invocation,) = built(attempt(*steps, **options))
    first = invocation.attempts[0]
    assert isinstance(first, AttemptJournal)
    return first
