"""Which family a stream speaks, from its bytes when nothing told it: each kind of evidence,
what is said of it, and the pipeline's waiting, deciding and overriding."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from restate_inspect.events import Chunk, DecodedFrame, RawFrame, StreamEnd, StreamInfo
from restate_inspect.framing import decode_all, encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded, decode_events
from restate_inspect.protocol.inference import HELD_FRAMES, verdict, without_later_fields
from restate_inspect.protocol.v1._proto import v2_pb2 as v2
from restate_inspect.protocol.v4._proto import v6_pb2 as v6
from restate_inspect.protocol.v4._proto import v7_pb2 as v7
from restate_inspect.rules import Problem

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
KEY = StreamKey("s")


def _raw(code: int, message: Message | bytes, direction: Direction, flags: int = 0) -> RawFrame:
    (raw,) = decode_all(encode_frame(code, message, flags), direction=direction)
    assert isinstance(raw, RawFrame)
    return raw


@pytest.mark.parametrize(
    ("code", "message", "direction", "flags", "family", "version"),
    [
        (0x0000, v6.StartMessage(random_seed=1), RUNTIME, 0, "v4", 6),
        (0x0000, v7.StartMessage(idempotency_key="k"), RUNTIME, 0, "v4", 7),
        (0x0400, v6.InputCommandMessage(value=v6.Value(content=b"{}")), RUNTIME, 0, "v4", 5),
        (0x0400, v2.InputEntryMessage(value=b"{}"), RUNTIME, 0, "v1", 2),
        (0x0401, v6.OutputCommandMessage(value=v6.Value(content=b"1")), SDK, 0, "v4", 5),
        (0x0401, v2.OutputEntryMessage(value=b"1"), SDK, 0, "v1", 2),
        (0x0C01, v2.CallEntryMessage(), SDK, 0, "v1", 2),
        (0x0C06, b"", RUNTIME, 0, "v1", 3),  # a V3 entry, replayed
        (0x0403, v6.SetStateCommandMessage(), SDK, 0, "v4", 5),
        (0x0001, v2.CompletionMessage(entry_index=1), RUNTIME, 0, "v1", 2),
        (0x0007, v7.ProposeRunCompletionAckMessage(completion_id=1), RUNTIME, 0, "v4", 7),
        (0x800C, v6.SleepCompletionNotificationMessage(completion_id=1), RUNTIME, 0, "v4", 5),
        (0x0001, v6.SuspensionMessage(waiting_completions=[1]), SDK, 0, "v4", 5),
        (0x0001, v7.SuspensionMessage(awaiting_on=v7.Future()), SDK, 0, "v4", 7),
        (0x0002, v2.SuspensionMessage(entry_indexes=[1]), SDK, 0, "v1", 2),
        (0x0002, v6.ErrorMessage(code=500), SDK, 0, "v4", 5),
        (0x0003, b"", SDK, 0, "v4", 5),  # an empty End: V4+
        (0x0003, v2.ErrorMessage(code=500), SDK, 0, "v1", 2),
        (0x0005, b"", SDK, 0, "v1", 2),  # an empty End: V1-V3
        (0x0005, v6.ProposeRunCompletionMessage(result_completion_id=1), SDK, 0, "v4", 5),
        (0x0005, v7.ProposeRunCompletionMessage(result_completion_id=1), SDK, 0x8000, "v4", 7),
        (0x0006, v7.AwaitingOnMessage(), SDK, 0, "v4", 7),
    ],
)
def test_what_one_frame_tells(
    code: int, message: Message | bytes, direction: Direction, flags: int, family: str, version: int
) -> None:
    raw = _raw(code, message, direction, flags)
    found = verdict(raw)
    assert found is not None and (found.family, found.version, found.frame) == (
        family,
        version,
        raw,
    )
    assert f"offset {raw.offset:#x}" in found.because


@pytest.mark.parametrize(
    ("code", "message", "direction"),
    [
        (0x0000, v2.StartMessage(id=b"x", known_entries=1), RUNTIME),  # shared by both
        (0x0000, b"\x0a\x05ab", RUNTIME),  # not protobuf: tells nothing
        (0x0400, v2.InputEntryMessage(), RUNTIME),  # no value
        (0x0004, v2.EntryAckMessage(entry_index=1), RUNTIME),  # EntryAck and CommandAck alike
        (0x0002, b"", SDK),  # neither a suspension's indexes nor an error's code
        (0x0003, b"", RUNTIME),  # only the SDK's 0x0003 tells
        (0x0401, b"", SDK),
        (0xFC01, b"", SDK),  # custom in both
    ],
)
def test_frames_that_tell_nothing(
    code: int, message: Message | bytes, direction: Direction
) -> None:
    assert verdict(_raw(code, message, direction)) is None


def test_a_start_without_random_seed_leans_to_v1() -> None:
    start = _raw(0x0000, v2.StartMessage(id=b"x", known_entries=1), RUNTIME)
    found = without_later_fields([_raw(0x0400, v2.InputEntryMessage(), RUNTIME), start])
    assert found is not None and (found.family, found.version, found.frame) == ("v1", 2, start)
    assert without_later_fields([_raw(0x0000, v6.StartMessage(random_seed=1), RUNTIME)]) is None
    assert without_later_fields([_raw(0x0000, b"\x0a\x05ab", RUNTIME)]) is None
    assert without_later_fields([_raw(0x0000, v2.StartMessage(), SDK)]) is None


def _decode(*events: Chunk | StreamEnd | StreamInfo, version: int | None = None) -> list[Decoded]:
    return list(decode_events(events, protocol_version=version))


def _chunk(direction: Direction, *frames: bytes) -> Chunk:
    return Chunk(KEY, direction, b"".join(frames))


START_V6 = encode_frame(0x0000, v6.StartMessage(id=b"x", known_entries=1, random_seed=9))
INPUT_V6 = encode_frame(0x0400, v6.InputCommandMessage())
END_V6 = encode_frame(0x0003)


def test_frames_wait_for_the_verdict_and_come_after_it_in_order() -> None:
    out = _decode(
        _chunk(SDK, encode_frame(0x0401, b""), END_V6),  # the End decides: V4+
        StreamEnd(KEY, SDK),
    )
    told, output, end, stream_end = out
    assert isinstance(told, Problem) and told.code == "RI115" and told.offset == 8
    assert "read as V5" in told.message and "an empty 0x0003" not in told.message
    assert isinstance(output, DecodedFrame) and output.frame.name == "OutputCommandMessage"
    assert isinstance(end, DecodedFrame) and end.frame.name == "EndMessage"
    assert isinstance(stream_end, StreamEnd)


def test_a_stream_that_cannot_be_told_is_shown_by_its_headers() -> None:
    out = _decode(_chunk(SDK, encode_frame(0xFC01, b"")), StreamEnd(KEY, SDK))
    first, frame = out[0], out[1]
    assert isinstance(first, Problem) and first.code == "RI116"
    assert isinstance(frame, DecodedFrame) and frame.frame.version is None
    assert frame.frame.type_label == "unknown type" and frame.frame.message is None
    # an input that ends with a stream still open says the same
    cut = list(decode_events([_chunk(SDK, encode_frame(0xFC01, b""))]))
    assert [type(i).__name__ for i in cut] == ["Problem", "DecodedFrame", "StreamEnd"]
    empty = _decode(StreamEnd(KEY, SDK), StreamEnd(KEY, RUNTIME))  # no frame: nothing to say
    assert [type(i).__name__ for i in empty] == ["StreamEnd", "StreamEnd"]


def test_a_bounded_number_of_frames_waits() -> None:
    customs = [encode_frame(0xFC01, b"")] * (HELD_FRAMES + 2)
    out = list(decode_events([_chunk(SDK, *customs)]))
    assert isinstance(out[0], Problem) and out[0].code == "RI116"
    assert f"none of its {HELD_FRAMES} frames" in out[0].message
    assert sum(isinstance(i, DecodedFrame) for i in out) == HELD_FRAMES + 2


def test_a_told_version_is_not_inferred_and_overrides_nothing_it_does_not_need_to() -> None:
    out = _decode(_chunk(RUNTIME, START_V6, INPUT_V6), version=6)
    assert not [i for i in out if isinstance(i, Problem)]
    assert {i.frame.version for i in out if isinstance(i, DecodedFrame)} == {6}
    forced = _decode(_chunk(RUNTIME, START_V6, INPUT_V6), version=2)  # read as the user says
    assert {i.frame.version for i in forced if isinstance(i, DecodedFrame)} == {2}
    info = StreamInfo(KEY, "invocation", "a -> b", "HTTP/2", None, 1, "POST", "/invoke/S/h",
                      (("content-type", "application/vnd.restate.invocation.v7"),))  # fmt: skip
    told = _decode(info, _chunk(RUNTIME, START_V6), version=2)  # the content type wins
    assert {i.frame.version for i in told if isinstance(i, DecodedFrame)} == {7}


AMBIGUOUS = encode_frame(0x0401, b"") + encode_frame(0xFC01, b"")  # both families have these
TELLING = {
    5: encode_frame(0x0003),  # an empty End: V4 and later
    6: encode_frame(
        0x0401, v6.OutputCommandMessage(failure=v6.Failure(metadata=[v6.FailureMetadata(key="k")]))
    ),
    7: encode_frame(0x0006, v7.AwaitingOnMessage(awaiting_on=v7.Future(waiting_signals=[1]))),
}


@pytest.mark.parametrize("version", [5, 6, 7])
def test_an_ambiguous_start_is_said_and_the_option_overrides_it(version: int) -> None:
    import json

    from tests.helpers import run_cli

    wire = AMBIGUOUS + encode_frame(0x0003) + TELLING[version]
    hex_text = wire.hex()
    inferred = [
        json.loads(line)
        for line in run_cli(
            ["decode", "--json", "--direction", "sdk_to_runtime"], stdin=hex_text
        ).stdout.splitlines()
    ]
    said = [r for r in inferred if r["kind"] == "problem"]
    assert said and {r["code"] for r in said} == {"RI115"}  # inferred, and maybe raised
    frames = [r for r in inferred if r["kind"] == "frame"]
    assert [f["name"] for f in frames[:2]] == ["OutputCommandMessage", "CustomMessage"]
    assert all(f["protocol_version"] >= 5 for f in frames)  # never read with V1's table
    assert frames[-1]["protocol_version"] == version
    told = [
        json.loads(line)
        for line in run_cli(
            [
                "decode",
                "--json",
                "--direction",
                "sdk_to_runtime",
                "--protocol-version",
                str(version),
            ],
            stdin=hex_text,
        ).stdout.splitlines()
    ]
    assert [r for r in told if r["kind"] == "problem"] == []
    assert {r["protocol_version"] for r in told} == {version}
