"""Streams of a capture: their events gathered until both bodies are over, what they tally,
and their one-row summaries against the independent expected decoding."""

from __future__ import annotations

from collections import Counter

from restate_inspect.events import HEADER_SIZE, DecodedFrame, StreamEnd, StreamInfo
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import Decoded, decode_bytes, decode_events
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.readers import read_input
from restate_inspect.rules import Problem, Severity
from restate_inspect.streams import Tally, group_streams, summarize
from tests.helpers import captures_dir, expected_streams

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
ONE, TWO = StreamKey("tcp0", "s1"), StreamKey("tcp0", "s3")
SIDES = {"req": RUNTIME.value, "resp": SDK.value}  # the expected decoding's names


def _info(stream: StreamKey) -> StreamInfo:
    return StreamInfo(stream, "invocation", "a:1 -> b:9080", "HTTP/2", 1.0, 1)


def _frame(stream: StreamKey) -> DecodedFrame:
    decoded = decode_bytes(encode_frame(0x0005), direction=SDK, stream=stream)
    (frame,) = [item for item in decoded if isinstance(item, DecodedFrame)]
    return frame


def test_a_streams_events_go_out_together_once_both_its_bodies_are_over() -> None:
    """Interleaved on the wire, one exchange at a time out; the one that ends first first."""
    items: list[Decoded] = [
        _info(ONE),
        _info(TWO),
        _frame(ONE),
        _frame(TWO),
        StreamEnd(TWO, RUNTIME),
        StreamEnd(ONE, RUNTIME),
        StreamEnd(TWO, SDK),
        StreamEnd(ONE, SDK),
    ]
    groups = list(group_streams(items))
    assert [g.stream for g in groups] == [TWO, ONE]
    assert groups[0].items == [items[1], items[3], items[4], items[6]]
    assert groups[1].items == [items[0], items[2], items[5], items[7]]


def test_the_latest_head_is_the_groups_and_open_streams_come_out_at_the_end_in_order() -> None:
    answered = _info(ONE)._replace(status="200")
    groups = list(group_streams([_info(TWO), _info(ONE), answered, StreamEnd(ONE, RUNTIME)]))
    assert [g.stream for g in groups] == [TWO, ONE]  # as they began; neither ended
    assert groups[1].info == answered


def test_a_files_items_and_the_captures_own_problems_pass_straight_on() -> None:
    file_stream = StreamKey("call.bin")
    capture_wide = Problem("RI004", "truncated packet", None, None)
    items: list[Decoded] = [_frame(file_stream), capture_wide, StreamEnd(file_stream, SDK)]
    groups = list(group_streams(items))
    assert [(g.items, g.info) for g in groups] == [([item], None) for item in items]
    assert [g.capture_wide for g in groups] == [False, True, False]


def test_a_tally_counts_frames_their_bytes_and_problems_by_severity() -> None:
    tally, other = Tally(), Tally(streams=1)
    frame = _frame(ONE)
    tally.add(frame)
    tally.add(Problem("RI101", "cut", 0, 3))  # an error
    tally.add(StreamEnd(ONE, SDK))  # nothing to count
    other.add(Problem("RI006", "read raw", None, None))  # a warning
    assert (tally.frames, tally.bytes) == (1, HEADER_SIZE + frame.frame.length)
    assert tally.failing
    tally.merge(other)
    assert (tally.streams, tally.problems) == (1, Counter({Severity.ERROR: 1, Severity.WARNING: 1}))
    informed = Tally()
    informed.add(Problem("RI114", "not interpreted", None, None))
    assert informed.problems == Counter({Severity.INFO: 1}) and not informed.failing


def test_summaries_of_a_capture_agree_with_its_expected_decoding() -> None:
    """Path, protocol version and frames per body, as the independent decoding lists them."""
    path = captures_dir() / "v1-features" / "v1-features.pcap"
    groups = group_streams(decode_events(read_input(str(path))))
    rows = {row.stream: row for row in map(summarize, groups) if row.stream}
    expected = expected_streams("v1-features")
    assert expected and len(rows) == len(expected)
    for stream in expected:
        row = rows["/".join(stream.name.split("_")[1:])]  # 000_tcp0_s1 is tcp0/s1
        assert row.path == stream.path
        if stream.protocol:
            assert row.protocol_version == stream.version
            counted = {SIDES[side]: len(frames) for side, frames in stream.frames.items()}
            assert {k: v for k, v in row.frames.items() if v} == counted, stream.name


def test_a_streams_invocation_id_is_its_start_messages_when_no_header_names_it() -> None:
    """The debug id the runtime sent, or else the id in Restate's printable form."""
    for debug_id, told in (("inv_x", "inv_x"), ("", "inv_1")):
        start = pb.StartMessage(id=b"\x01" * 24, debug_id=debug_id, known_entries=1)
        wire = encode_frame(0x0000, start)
        frames = decode_bytes(wire, direction=RUNTIME, stream=ONE)
        ends = [StreamEnd(ONE, RUNTIME), StreamEnd(ONE, SDK)]
        (group,) = group_streams([_info(ONE), *frames, *ends])
        row = summarize(group)
        assert row.invocation_id is not None and row.invocation_id.startswith(told)
        assert (row.frames[RUNTIME.value], row.bytes[RUNTIME.value]) == (1, len(wire))
