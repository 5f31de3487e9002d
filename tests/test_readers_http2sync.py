"""Finding HTTP/2 frames in bytes from the middle of a connection."""

from __future__ import annotations

from hyperframe.frame import DataFrame, HeadersFrame, PingFrame, SettingsFrame

from restate_inspect.readers.http2sync import find_boundary, looks_like_http2, plausible_header

FRAMES = (
    SettingsFrame(0).serialize()
    + HeadersFrame(1, data=b"\x88", flags=["END_HEADERS"]).serialize()
    + DataFrame(1, data=b"x" * 30).serialize()
)


def test_a_frame_header_is_plausible_by_its_type_flags_stream_and_length() -> None:
    assert plausible_header(FRAMES, 0) == 0  # SETTINGS, empty
    assert plausible_header(PingFrame(0, opaque_data=b"12345678").serialize(), 0) == 8
    assert plausible_header(b"\x00\x00\x04\x03\x00\x00\x00\x00\x00", 0) is None  # stream 0
    assert plausible_header(b"\x00\x00\x00\x0b\x00\x00\x00\x00\x01", 0) is None  # type 11
    assert plausible_header(b"\x00\x00\x05\x04\x00\x00\x00\x00\x00", 0) is None  # SETTINGS: 6s
    assert plausible_header(b"\x7f\xff\xff\x00\x00\x00\x00\x00\x01", 0) is None  # too long


def test_framing_resumes_where_a_plausible_frame_is_followed_by_another() -> None:
    junk = b"\x17\x03\x03garbage!"
    found, _ = find_boundary(junk + FRAMES, 0)
    assert found == len(junk)
    waiting, resume = find_boundary(junk + FRAMES[:12], 0)  # its follower not here yet
    assert waiting is None and resume == len(junk)
    assert looks_like_http2(FRAMES[9:])  # from the HEADERS on
    assert not looks_like_http2(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
