"""The sans-IO frame codec: round trips, split invariance, every framing problem, accounting."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import HEADER, Frame, MessageType, RawFrame
from restate_inspect.framing import FrameDecoder, encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol import hints_for, reader_for
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.rules import Problem
from restate_inspect.schemaless import MAX_FIELD_BY_FIELD
from tests.helpers import SAMPLES, assert_split_invariant
from tests.helpers import read_all as decode_all
from tests.strategies import MESSAGE_TYPES, flags_for, messages, typed_messages, valid_streams

Event = Frame | RawFrame | Problem
V1_HINTS = hints_for(2)


def frames(events: Sequence[Event]) -> list[Any]:
    """The frames: read (Frame) from decode_all, as framed (RawFrame) from a FrameDecoder."""
    return [e for e in events if isinstance(e, Frame | RawFrame)]


def problems(events: Sequence[Event]) -> list[Problem]:
    return [e for e in events if isinstance(e, Problem)]


def assert_tiles(events: Sequence[Event], total: int) -> None:
    """Frames and undecoded ranges cover [0, total) exactly, in order, without overlap."""
    ranges = [p for p in problems(events) if p.undecoded]
    assert all(p.offset is not None and p.length is not None for p in ranges)
    spans = sorted(
        [(f.offset, f.end) for f in frames(events)]
        + [(p.offset or 0, (p.offset or 0) + (p.length or 0)) for p in ranges]
    )
    position = 0
    for start, end in spans:
        assert start == position, f"gap or overlap at {position}: next span starts at {start}"
        position = end
    assert position == total


def feed_pieces(pieces: list[bytes], **options: object) -> list[Event]:
    """Framed piece by piece, and read as V1-V3 is."""
    decoder = FrameDecoder(hints=V1_HINTS, **options)  # type: ignore[arg-type]
    reader = reader_for(None)
    raw: list[RawFrame | Problem] = []
    for piece in pieces:
        raw += decoder.feed(piece)
    events: list[Event] = []
    for event in raw + decoder.end_of_stream():
        if isinstance(event, RawFrame):
            frame, found = reader.read(event)
            events += [frame, *found]
        else:
            events.append(event)
    return events


# --- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", MESSAGE_TYPES, ids=lambda s: s.name)
@given(data=st.data())
def test_every_message_type_round_trips(spec: MessageType, data: st.DataObject) -> None:
    message: Message = data.draw(messages(spec))
    flags = data.draw(flags_for(spec))
    wire = encode_frame(spec.code, message, flags)
    events = decode_all(wire)
    assert problems(events) == []
    (frame,) = frames(events)
    assert (frame.type, frame.flags, frame.length, frame.offset) == (
        spec.code,
        flags,
        len(wire) - 8,
        0,
    )
    assert frame.message == message
    assert frame.to_bytes() == wire
    assert frame.name == spec.name and frame.message_type == spec


@given(stream=valid_streams(), seed=st.integers(0, 2**16))
def test_same_frames_whole_byte_by_byte_or_split_at_random(stream: bytes, seed: int) -> None:
    events = assert_split_invariant(feed_pieces, stream, seed)
    assert problems(events) == []
    assert_tiles(events, len(stream))


def test_real_streams_are_split_invariant() -> None:
    for path in sorted(SAMPLES.glob("*.bin")):
        data = path.read_bytes()
        events = assert_split_invariant(feed_pieces, data, seed=len(data))
        assert problems(events) == [] and len(frames(events)) >= 1
        assert_tiles(events, len(data))


def test_encode_frame_takes_bytes_or_a_message() -> None:
    end = pb.EndMessage()
    assert encode_frame(0x0005, end) == encode_frame(0x0005, b"") == b"\x00\x05" + bytes(6)
    assert (
        encode_frame(0x0C05, b"\x72\x01x", 0x8000)
        == bytes.fromhex("0c05800000000003") + b"\x72\x01x"
    )


# --- where frames come from ------------------------------------------------------------


def test_frames_carry_stream_direction_and_the_time_of_the_chunk_that_completed_them() -> None:
    wire = encode_frame(0x0004, pb.EntryAckMessage(entry_index=3))
    key = StreamKey("tcp3", "s7")
    decoder = FrameDecoder(stream=key, direction=Direction.RUNTIME_TO_SDK)
    assert decoder.feed(wire[:5], time=1.0, packet=1) == []
    (frame,) = decoder.feed(wire[5:] + wire[:3], time=2.5, packet=2)
    assert isinstance(frame, RawFrame)
    assert (frame.stream, frame.direction, frame.time, frame.packet) == (
        key,
        Direction.RUNTIME_TO_SDK,
        2.5,
        2,
    )
    (frame,) = decoder.feed(wire[3:], time=3.0, packet=3)
    assert isinstance(frame, RawFrame) and frame.offset == len(wire) and frame.packet == 3
    assert decoder.bytes_fed == 2 * len(wire)
    assert decoder.end_of_stream() == []


def test_empty_feeds_change_nothing() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    assert decoder.feed(b"") == []
    assert decoder.feed(memoryview(encode_frame(0x0005))) != []


def test_feed_after_end_of_stream_is_a_programming_error() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    decoder.end_of_stream()
    with pytest.raises(ValueError, match="after end_of_stream"):
        decoder.feed(b"x")


# --- framing problems ----------------------------------------------------------------


def test_stream_ending_inside_a_header() -> None:
    wire = encode_frame(0x0005) + b"\x04\x00\x00"
    events = assert_split_invariant(feed_pieces, wire)
    (problem,) = problems(events)
    assert (problem.code, problem.offset, problem.length, problem.undecoded) == (
        "RI101",
        8,
        3,
        True,
    )
    assert "3 bytes into a frame header at offset 0x8" in problem.message
    assert_tiles(events, len(wire))
    (one,) = problems(feed_pieces([b"\x00"]))
    assert "ends 1 byte into a frame header" in one.message


def test_stream_ending_inside_a_body() -> None:
    call = encode_frame(0x0C01, pb.CallEntryMessage(service_name="svc", handler_name="h"))
    wire = encode_frame(0x0005) + call[:-2]
    events = assert_split_invariant(feed_pieces, wire)
    (problem,) = problems(events)
    assert (problem.code, problem.offset, problem.length) == ("RI102", 8, len(call) - 2)
    assert problem.message == (
        "CallEntryMessage (0x0c01) frame at offset 0x8 declares 8 body bytes, "
        "but the stream ends after 6 of them"
    )
    assert_tiles(events, len(wire))


def test_truncated_frame_of_unknown_type() -> None:
    (problem,) = problems(decode_all(HEADER.pack(0x1234, 0, 10) + b"abc"))
    assert problem.code == "RI102" and "type 0x1234" in problem.message


def test_declared_length_above_the_limit_loses_framing_for_the_rest() -> None:
    good = encode_frame(0x0004, pb.EntryAckMessage(entry_index=1))
    wire = good + HEADER.pack(0x0C01, 0, 0xFFFFFFFF) + b"junk" + good
    events = assert_split_invariant(feed_pieces, wire)
    assert len(frames(events)) == 1
    lost, rest = problems(events)
    assert (lost.code, lost.offset, lost.length, lost.undecoded) == ("RI103", len(good), 8, False)
    assert lost.message == (
        f"CallEntryMessage (0x0c01) frame at offset {len(good):#x} declares 4294967295 body "
        "bytes, above the 67108864-byte limit; framing is lost from here"
    )
    assert (rest.code, rest.offset, rest.length, rest.undecoded) == (
        "RI104",
        len(good),
        len(wire) - len(good),
        True,
    )
    assert_tiles(events, len(wire))


def test_the_limit_is_configurable_and_applies_to_complete_frames_too() -> None:
    wire = encode_frame(0x0001, pb.CompletionMessage(entry_index=1, value=b"x" * 100))
    assert problems(decode_all(wire, max_length=200)) == []
    events = decode_all(wire, max_length=50)
    assert [p.code for p in problems(events)] == ["RI103", "RI104"]
    assert "type 0x0001" not in problems(events)[0].message  # it is named
    assert_tiles(events, len(wire))


def test_oversize_header_of_unknown_type_names_the_code() -> None:
    (lost, _) = problems(decode_all(HEADER.pack(0x7777, 0, 2**31)))
    assert "type 0x7777" in lost.message


def test_unknown_type_is_kept_with_its_bytes() -> None:
    wire = HEADER.pack(0x0006, 0, 3) + b"\x01\x02\x03" + encode_frame(0x0005)
    events = decode_all(wire)
    unknown, end = frames(events)
    assert (unknown.type, unknown.body, unknown.message, unknown.name) == (
        6,
        b"\x01\x02\x03",
        None,
        None,
    )
    (problem,) = problems(events)
    assert (problem.code, problem.offset, problem.length) == ("RI105", 0, 11)
    assert end.type == 5
    assert_tiles(events, len(wire))


def test_v3_entries_are_named_and_flagged() -> None:
    body = b"\x0a\x05inv_1" + b"\x62\x04stop"
    events = decode_all(encode_frame(0x0C06, body))
    (frame,) = frames(events)
    assert frame.name == "CancelInvocationEntryMessage" and frame.message is None
    (problem,) = problems(events)
    assert problem.code == "RI106" and "needs protocol V3 or later" in problem.message


def test_v3_entry_whose_body_is_not_protobuf() -> None:
    events = decode_all(encode_frame(0x0C07, b"\x0a\x09x"))
    assert [p.code for p in problems(events)] == ["RI106", "RI109"]


def test_reserved_flag_bits() -> None:
    wire = encode_frame(0x0801, pb.SetStateEntryMessage(key=b"k"), 0x8010)
    (problem,) = problems(decode_all(wire))
    assert problem.code == "RI107" and "0x0010" in problem.message and "0x8010" in problem.message
    (problem,) = problems(decode_all(encode_frame(0x0005, b"", 0x8000)))
    assert problem.code == "RI107"  # REQUIRES_ACK is for entries only


def test_completed_flag_on_a_type_that_is_not_completable() -> None:
    wire = encode_frame(0x0C05, pb.RunEntryMessage(value=b"1"), 0x8001)
    events = decode_all(wire)
    (problem,) = problems(events)
    assert problem.code == "RI108" and "RunEntryMessage" in problem.message
    assert frames(events)[0].message == pb.RunEntryMessage(value=b"1")  # still decoded
    events = decode_all(encode_frame(0x0C05, b"", 0x0011))
    assert [p.code for p in problems(events)] == ["RI108", "RI107"]


def test_body_that_does_not_parse() -> None:
    wire = encode_frame(0x0801, b"\x0a\x09ab") + encode_frame(0x0005)
    events = decode_all(wire)
    bad, end = frames(events)
    assert bad.message is None and end.message == pb.EndMessage()
    (problem,) = problems(events)
    assert (problem.code, problem.offset, problem.length) == ("RI109", 8, 4)
    assert "body of SetStateEntryMessage (4 bytes) does not parse" in problem.message
    assert_tiles(events, len(wire))


def test_invalid_utf8_in_a_string_field_does_not_parse() -> None:
    (problem,) = problems(decode_all(encode_frame(0x0000, b"\x12\x02\xff\xfe")))
    assert problem.code == "RI109"


def test_custom_entries_decode_without_schema() -> None:
    events = decode_all(encode_frame(0xFC01, b"\x0a\x03abc\x62\x04name", 0x8000))
    (frame,) = frames(events)
    assert frame.name == "CustomEntryMessage" and frame.message is None
    assert problems(events) == []


def test_custom_entry_using_reserved_fields() -> None:
    events = decode_all(encode_frame(0xFC00, b"\x72\x01x\x7a\x00\x72\x01y"))
    (problem,) = problems(events)
    assert problem.code == "RI110" and "[14, 15]" in problem.message


def test_a_custom_entry_too_large_to_read_field_by_field_is_checked_as_protobuf_only() -> None:
    """Over MAX_FIELD_BY_FIELD its fields are not read (each would be an object): no
    reserved-field check, but a body that is no protobuf is still RI109."""
    large = b"\x72\x01x" * (MAX_FIELD_BY_FIELD // 3 + 1)  # field 14 over and over
    assert problems(decode_all(encode_frame(0xFC00, large))) == []
    (problem,) = problems(decode_all(encode_frame(0xFC00, large + b"\xff")))
    assert problem.code == "RI109"


def test_custom_entry_with_completed_flag_and_garbage_body() -> None:
    events = decode_all(encode_frame(0xFC00, b"\xff", 0x0001))
    assert [p.code for p in problems(events)] == ["RI108", "RI109"]


# --- hostile and huge ----------------------------------------------------------------


def test_a_4_gib_declared_length_allocates_nothing() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    tracemalloc.start()
    try:
        decoder.feed(HEADER.pack(0x0C01, 0, 0xFFFFFFFF))
        chunk = bytes(64 * 1024)
        for _ in range(160):  # 10 MiB after the header
            decoder.feed(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    (rest,) = decoder.end_of_stream()
    assert rest.length == 8 + 160 * len(chunk)


def test_a_large_declared_length_under_the_limit_is_not_allocated_up_front() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    tracemalloc.start()
    try:
        decoder.feed(HEADER.pack(0x0001, 0, 60 * 1024 * 1024) + b"\x08\x01")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    (problem,) = decoder.end_of_stream()
    assert isinstance(problem, Problem) and problem.code == "RI102"


def test_a_big_frame_in_small_chunks_is_joined_once() -> None:
    body = pb.CompletionMessage(entry_index=2, value=bytes(3 * 1024 * 1024)).SerializeToString()
    wire = encode_frame(0x0001, body)
    decoder = FrameDecoder(hints=V1_HINTS)
    events: list[RawFrame | Problem] = []
    for start in range(0, len(wire), 4096):
        events += decoder.feed(wire[start : start + 4096])
    (frame,) = frames(events + decoder.end_of_stream())
    assert frame.length == len(body)


@given(data=st.binary(max_size=300), seed=st.integers(0, 1000))
def test_any_bytes_are_accounted_for_and_split_invariant(data: bytes, seed: int) -> None:
    events = assert_split_invariant(feed_pieces, data, seed)
    assert_tiles(events, len(data))


@given(item=typed_messages())
def test_problems_of_a_frame_follow_it(item: tuple[MessageType, Message, int]) -> None:
    spec, message, _ = item
    events = decode_all(encode_frame(spec.code, message, 0x0F00))
    assert isinstance(events[0], Frame)
    assert all(isinstance(e, Problem) for e in events[1:])


# --- gaps: bytes the capture lacks --------------------------------------------------------

CALL = encode_frame(
    0x0C01, pb.CallEntryMessage(service_name="svc", handler_name="h", parameter=b"1")
)
ACK = encode_frame(0x0004, pb.EntryAckMessage(entry_index=2))
END = encode_frame(0x0005)


def test_a_gap_between_frames_is_reported_and_decoding_goes_on() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = (
        decoder.feed(ACK) + decoder.gap(20) + decoder.feed(CALL + END) + decoder.end_of_stream()
    )
    (gap,) = problems(events)
    assert (gap.code, gap.offset, gap.length, gap.undecoded) == ("RI111", len(ACK), 20, True)
    assert "20 bytes missing from the capture at offset 0xa" in gap.message
    assert [f.offset for f in frames(events)] == [0, len(ACK) + 20, len(ACK) + 20 + len(CALL)]
    assert_tiles(events, len(ACK) + 20 + len(CALL) + len(END))


def test_a_gap_inside_a_frame_loses_it_and_skips_to_the_next_plausible_one() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.feed(ACK + CALL[:6]) + decoder.gap(5)
    cut, gap = problems(events)
    assert (gap.code, gap.offset, gap.length) == ("RI111", len(ACK) + 6, 5)
    assert (cut.code, cut.offset, cut.length) == ("RI113", len(ACK), 6)
    assert "bytes go missing 6 bytes into a frame header" in cut.message
    rest = CALL[11:] + ACK + END  # the call's last bytes, then whole frames
    events += decoder.feed(rest) + decoder.end_of_stream()
    skipped = problems(events)[2]
    assert (skipped.code, skipped.offset, skipped.length) == (
        "RI112",
        len(ACK) + 11,
        len(CALL) - 11,
    )
    assert [f.type for f in frames(events)] == [4, 4, 5]
    assert_tiles(events, len(ACK) + 11 + len(rest))


def test_a_gap_after_a_whole_header_reports_the_frame_it_cut() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.feed(CALL[:10]) + decoder.gap(3)
    cut = problems(events)[0]
    assert cut.code == "RI113" and "CallEntryMessage (0x0c01)" in cut.message


def test_resynchronisation_waits_for_a_body_and_for_what_follows_it() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(0)
    assert problems(events)[0].message.startswith("an unknown number of bytes may be missing")
    for piece in (
        b"\xff\xfe",
        ACK[:4],
        ACK[4:],
        CALL[:12],
        CALL[12:],
        END,
    ):  # byte soup, then frames
        events += decoder.feed(piece)
    events += decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [4, 0x0C01, 5]
    assert [(p.code, p.offset, p.length) for p in problems(events)] == [
        ("RI111", 0, 0),
        ("RI112", 0, 2),
    ]


def test_a_candidate_whose_body_does_not_parse_is_passed_over() -> None:
    bogus = HEADER.pack(0x0801, 0, 2) + b"\x0a\x09"  # SetState whose body is cut protobuf
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(4) + decoder.feed(bogus + ACK) + decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [4]
    assert problems(events)[1].length == len(bogus)


def test_a_candidate_needs_a_plausible_frame_after_it() -> None:
    soup = HEADER.pack(0x0005, 0, 0) + b"\xff" * 9  # an End header followed by garbage
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(1) + decoder.feed(soup + ACK) + decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [4]


def test_nothing_plausible_before_the_end_is_one_skipped_range() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(2) + decoder.feed(b"\xff" * 30) + decoder.end_of_stream()
    assert [(p.code, p.offset, p.length) for p in problems(events)] == [
        ("RI111", 0, 2),
        ("RI112", 2, 30),
    ]
    assert_tiles(events, 32)


def test_a_gap_right_after_another_reports_no_empty_skip() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(1) + decoder.gap(1) + decoder.end_of_stream()
    assert [p.code for p in problems(events)] == ["RI111", "RI111"]


def test_a_gap_after_a_framing_error_closes_the_lost_range_and_resynchronises() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.feed(HEADER.pack(0x0C01, 0, 0xFFFFFFFF) + b"xx") + decoder.gap(7)
    events += decoder.feed(ACK) + decoder.end_of_stream()
    assert [p.code for p in problems(events)] == ["RI103", "RI104", "RI111"]
    assert [f.type for f in frames(events)] == [4]
    assert_tiles(events, 10 + 7 + len(ACK))


def test_gap_after_end_of_stream_is_a_programming_error() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    decoder.end_of_stream()
    with pytest.raises(ValueError, match="after end_of_stream"):
        decoder.gap(1)


def test_resynchronisation_waits_for_a_candidate_whose_body_is_still_coming() -> None:
    decoder = FrameDecoder(hints=V1_HINTS)
    events = decoder.gap(3) + decoder.feed(b"\xee" + CALL[:12])
    assert frames(events) == []  # the call's body has not all arrived: wait
    events += decoder.feed(CALL[12:] + END) + decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [0x0C01, 5]
    assert [(p.code, p.offset, p.length) for p in problems(events)] == [
        ("RI111", 0, 3),
        ("RI112", 3, 1),
    ]
    assert_tiles(events, 4 + len(CALL) + len(END))


def test_a_candidate_that_fails_once_its_body_came_is_passed_over_and_not_looked_at_again() -> None:
    """After a gap: a header claiming 20 bytes, whose body (when it has come) is no
    protobuf, then the call and the end. The call is found; the candidate before it was
    looked at twice, once as a header and once when its body was there."""
    decoder = FrameDecoder(hints=V1_HINTS)
    candidate = (0x0C01).to_bytes(2, "big") + bytes(2) + (20).to_bytes(4, "big")
    events = decoder.gap(3) + decoder.feed(candidate + b"\xff" * 6)
    assert frames(events) == []  # waiting for the candidate's body
    events += decoder.feed(b"\xff" * 14 + b"\xee")  # its body is there; not what follows it
    assert frames(events) == []  # not taken unchecked
    events += decoder.feed(b"\xee" * 8)  # now it can be judged, and is no frame
    assert frames(events) == []
    events += decoder.feed(CALL + END) + decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [0x0C01, 5]
    skipped = len(candidate) + 29
    assert [(p.code, p.offset, p.length) for p in problems(events)] == [
        ("RI111", 0, 3),
        ("RI112", 3, skipped),
    ]
    assert_tiles(events, 3 + skipped + len(CALL) + len(END))


# --- protocol versions ---------------------------------------------------------------------


def _decode(wire: bytes, protocol: int | None) -> list[Frame | Problem]:
    return decode_all(wire, version=protocol)


def test_a_v3_stream_knows_the_v3_entry_types() -> None:
    cancel = encode_frame(0x0C06, b"")
    assert [p.code for p in problems(_decode(cancel, 2))] == ["RI106"]
    assert problems(_decode(cancel, 3)) == []


def test_a_stream_of_a_later_version_is_framed_but_not_interpreted() -> None:
    """V4 and later: frames keep their headers and bytes; only the StartMessage, the one
    message every version shares, is decoded; nothing that V2 would reject is reported."""
    start = pb.StartMessage(id=bytes(24), debug_id="inv_x", known_entries=2)
    wire = (
        encode_frame(0x0000, start)
        + encode_frame(0x0003, b"")  # V2's ErrorMessage: another message in V5
        + encode_frame(0x0C01, b"\xff\xff", 0x8001)  # no Call entry, flags V2 would refuse
        + encode_frame(0x7777, b"\x01")  # no type V2 knows
    )
    events = _decode(wire, 9)
    assert problems(events) == []
    first, *others = frames(events)
    assert first.message == start and first.name == "StartMessage"
    assert first.type_label == "StartMessage" and first.version == 9
    assert [(f.type, f.message, f.name, f.type_label) for f in others] == [
        (0x0003, None, None, "V9 message"),
        (0x0C01, None, None, "V9 message"),
        (0x7777, None, None, "V9 message"),
    ]
    assert [f.to_bytes() for f in [first, *others]] == [
        wire[f.offset : f.end] for f in [first, *others]
    ]


def test_a_later_versions_start_message_that_does_not_parse_is_not_reported() -> None:
    (frame,) = _decode(encode_frame(0x0000, b"\xff"), 9)
    assert isinstance(frame, Frame) and frame.message is None and frame.version == 9


def test_type_labels() -> None:
    known, unknown = frames(decode_all(encode_frame(0x0005) + encode_frame(0x7777)))
    assert (known.type_label, unknown.type_label) == ("EndMessage", "unknown type")


def test_framing_alone_names_types_by_code_and_resynchronises_on_any_type() -> None:
    decoder = FrameDecoder()  # no hints: framing knows no protocol version
    events = decoder.gap(2) + decoder.feed(b"\x01" + encode_frame(0x7777, b"\x08\x01"))
    events += decoder.feed(encode_frame(0x0000, b"") + b"\x00") + decoder.end_of_stream()
    assert [f.type for f in frames(events)] == [0x7777, 0x0000]
    assert [p.code for p in problems(events)] == ["RI111", "RI112", "RI101"]
    (cut,) = problems(decode_all(encode_frame(0x1234, b"xx")[:9], version=None))
    assert "type 0x1234" in cut.message
    lost = FrameDecoder(max_length=1).feed(encode_frame(0x0C01, b"xx"))
    assert "type 0x0c01 frame" in lost[0].message  # type: ignore[union-attr]
