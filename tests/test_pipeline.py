"""The pipeline's routing: chunks to the framing of their stream and direction, frames to the
family their stream's content type names, and streams an input leaves open, ended."""

from __future__ import annotations

import itertools

from restate_inspect.events import Chunk, DecodedFrame, InputEvent, StreamEnd, StreamInfo
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded, Decoding, decode_events
from restate_inspect.rules import Problem
from tests.helpers import SAMPLES

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
ONE, TWO = StreamKey("tcp0", "s1"), StreamKey("tcp0", "s3")
V6_REQUEST = (SAMPLES / "v6-call-other.req.bin").read_bytes()
V1_REQUEST = (SAMPLES / "v1-call-other.req.bin").read_bytes()


def _info(stream: StreamKey, version: int) -> StreamInfo:
    headers = (("content-type", f"application/vnd.restate.invocation.v{version}"),)
    return StreamInfo(stream, "invocation", "a:1 -> b:9080", "HTTP/2", None, None,
                      "POST", "/invoke/S/h", headers)  # fmt: skip


def _frames(decoded: list[Decoded], stream: StreamKey) -> list[tuple[int, int | None, str | None]]:
    return [
        (d.frame.offset, d.frame.version, d.frame.name)
        for d in decoded
        if isinstance(d, DecodedFrame) and d.frame.stream == stream
    ]


def _alone(stream: StreamKey, data: bytes, version: int) -> list[Decoded]:
    return list(decode_events([_info(stream, version), Chunk(stream, RUNTIME, data)]))


def test_streams_interleaved_byte_by_byte_are_framed_apart() -> None:
    one = [Chunk(ONE, RUNTIME, V6_REQUEST[i : i + 1]) for i in range(len(V6_REQUEST))]
    two = [Chunk(TWO, RUNTIME, V1_REQUEST[i : i + 1]) for i in range(len(V1_REQUEST))]
    woven = [c for pair in itertools.zip_longest(one, two) for c in pair if c is not None]
    decoded = list(decode_events([_info(ONE, 6), _info(TWO, 1), *woven]))
    assert _frames(decoded, ONE) == _frames(_alone(ONE, V6_REQUEST, 6), ONE)
    assert _frames(decoded, TWO) == _frames(_alone(TWO, V1_REQUEST, 1), TWO)
    assert {version for _offset, version, _name in _frames(decoded, ONE)} == {6}
    assert {version for _offset, version, _name in _frames(decoded, TWO)} == {1}


def test_the_content_type_names_the_version_before_any_option_does() -> None:
    events: list[InputEvent] = [_info(ONE, 6), Chunk(ONE, RUNTIME, V6_REQUEST)]
    decoded = list(decode_events(events, protocol_version=2))  # for streams that do not tell
    assert {version for _offset, version, _name in _frames(decoded, ONE)} == {6}
    assert not [d for d in decoded if isinstance(d, Problem)]


def test_a_version_no_family_reads_is_said_once_and_its_frames_are_kept() -> None:
    answered = _info(ONE, 9)._replace(status="200")  # the response's head tells it again
    decoded = list(decode_events([_info(ONE, 9), answered, Chunk(ONE, RUNTIME, V6_REQUEST)]))
    assert [d.code for d in decoded if isinstance(d, Problem)] == ["RI114"]
    frames = _frames(decoded, ONE)  # by their headers; the StartMessage every version shares
    assert len(frames) > 1 and [name for *_, name in frames] == ["StartMessage"] + [None] * (
        len(frames) - 1
    )


def test_an_input_cut_short_ends_each_direction_still_open_at_the_capture() -> None:
    decoding = Decoding()
    decoding.feed(_info(ONE, 6))
    decoding.feed(Chunk(ONE, RUNTIME, V6_REQUEST[:10]))  # a frame cut inside its body
    decoding.feed(Chunk(ONE, SDK, b""))
    decoding.feed(StreamEnd(ONE, SDK))
    ended = decoding.end_of_stream()
    assert [(e.direction, e.how) for e in ended if isinstance(e, StreamEnd)] == [
        (RUNTIME, "capture")
    ]
    (cut,) = [e for e in ended if isinstance(e, Problem)]
    assert (cut.stream, cut.direction, cut.offset) == (ONE, RUNTIME, 0)
    assert decoding.end_of_stream() == []  # nothing is left open twice
