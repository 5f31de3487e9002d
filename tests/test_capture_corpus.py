"""Every Restate stream in every shared capture (pcap and pcapng) decodes exactly as the
independent expected decoding says, each direction on its own; the HTTP facts of every
stream agree with index.json (which the capture's maker wrote with other tools)."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict

from restate_inspect.events import DecodedFrame, Discovery, StreamInfo
from restate_inspect.location import StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import capture_events, read_input
from restate_inspect.rules import Problem
from tests.helpers import (
    BUNDLED_CAPTURES,
    CAPTURE_NAMES,
    captures_dir,
    expected_streams,
    run_cli,
)

FORMATS = ("pcap", "pcapng")


def _decode(path: str) -> tuple[dict[str, dict[str, list[Any]]], dict[str, StreamInfo], list[Any]]:
    frames: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    infos: dict[str, StreamInfo] = {}
    others: list[Any] = []
    for item in decode_events(read_input(path)):
        if isinstance(item, DecodedFrame):
            frame = item.frame
            assert frame.direction is not None
            frames[str(frame.stream)][frame.direction.value].append(frame)
        elif isinstance(item, StreamInfo):
            infos[str(item.stream)] = item
        elif isinstance(item, Problem | Discovery):
            others.append(item)
    return frames, infos, others


def _stream_key(name: str) -> str:
    """index.json's `001_tcp1_s3` is our `tcp1/s3`."""
    return name.split("_", 1)[1].replace("_", "/")


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.parametrize("kind", FORMATS)
def test_every_restate_stream_matches_the_expected_decoding(capture: str, kind: str) -> None:
    frames, infos, others = _decode(str(captures_dir() / capture / f"{capture}.{kind}"))
    assert [o for o in others if isinstance(o, Problem)] == []
    streams = [s for s in expected_streams(capture) if s.protocol]
    for stream in streams:
        key = _stream_key(stream.name)
        assert infos[key].kind == "invocation", key
        for side, direction in (("req", "runtime_to_sdk"), ("resp", "sdk_to_runtime")):
            got, want = frames[key][direction], stream.frames[side]
            assert len(got) == len(want), (key, side)
            for frame, expected in zip(got, want, strict=True):
                assert frame.version == stream.version, (key, side)  # as its content type says
                assert (frame.offset, frame.type, frame.flags, frame.length) == (
                    expected.offset,
                    expected.type,
                    expected.flags,
                    expected.length,
                ), (key, side)
                assert (
                    MessageToDict(frame.message, preserving_proto_field_name=True)
                    == expected.message_dict()
                )
    assert set(frames) == {_stream_key(s.name) for s in streams}


REPLAYED = Path(__file__).parent / "data" / "replayed" / "v1-lazy-state.any-ipv6-nagle.pcap"


def test_a_replay_with_resets_racing_the_sdk_decodes_as_the_original() -> None:
    """v1-lazy-state sent again by scripts/replay_capture.py (IPv6, Nagle on) and captured
    with tcpdump -i any: the runtime's RST_STREAM often comes before the SDK's last DATA
    (13 responses lost their end before that was handled). Every stream's frames must
    still be those of the original's expected decoding."""
    frames, infos, _ = _decode(str(REPLAYED))
    streams = [s for s in expected_streams("v1-lazy-state") if s.protocol]
    assert {_stream_key(s.name) for s in streams} == set(frames)
    for stream in streams:
        key = _stream_key(stream.name)
        assert infos[key].http_version == "HTTP/2"
        for side, direction in (("req", "runtime_to_sdk"), ("resp", "sdk_to_runtime")):
            got = [(f.offset, f.type, f.flags, f.length) for f in frames[key][direction]]
            want = [(f.offset, f.type, f.flags, f.length) for f in stream.frames[side]]
            assert got == want, (key, side)


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
def test_http_facts_agree_with_the_capture_index(capture: str) -> None:
    index = json.loads((captures_dir() / capture / "streams" / "index.json").read_text())
    _, infos, others = _decode(str(captures_dir() / capture / f"{capture}.pcapng"))
    assert len(infos) == len(index)
    for entry in index:
        info = infos[_stream_key(entry["name"])]
        assert (info.method, info.path, info.status) == (
            entry["method"],
            entry["path"],
            entry["response_status"],
        )
        assert info.http_version == entry.get("http_version", "HTTP/2")
        assert info.packet == entry["first_packet"]
        assert [list(h) for h in info.request_headers or ()] == entry["req_headers"]
        assert [list(h) for h in info.response_headers or ()] == entry["resp_headers"]
        assert info.header("content-type") == entry["request_content_type"]
        assert info.header("content-type", response=True) == entry["response_content_type"]
        expected_kind = "discovery" if entry["path"].startswith("/discover") else "invocation"
        assert info.kind == expected_kind
    manifests = [o for o in others if isinstance(o, Discovery)]
    assert len(manifests) == sum(entry["path"].startswith("/discover") for entry in index)
    assert all(json.loads(manifest.body)["services"] for manifest in manifests)
    assert manifests or capture not in BUNDLED_CAPTURES


def test_big_capture_streams_and_frames_match_its_summary() -> None:
    result = run_cli(["streams", "--json", str(captures_dir() / "big-v2" / "big-v2.pcap")])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3601  # 1 discovery + 3600 invocation attempts
    assert len({r["stream"].split("/")[0] for r in rows}) == 5  # TCP connections
    invocations = [r for r in rows if r["stream_kind"] == "invocation"]
    assert sum(r["bytes"]["runtime_to_sdk"] for r in invocations) == 10973145
    assert sum(r["bytes"]["sdk_to_runtime"] for r in invocations) == 9798138
    assert {r["ending"] for r in invocations} == {"end"}


def test_a_v6_capture_joined_mid_connection_still_names_its_frames() -> None:
    """The usual case: runtime-SDK connections stay open, so a capture starts after their
    preface and their requests' headers (no content type, no HPACK context). Each stream is
    found by its bytes, its version is inferred and said (RI115), and its frames are the
    V4+ family's, as the expected decoding has them; none is read with V1's table."""
    from restate_inspect.events import Packet
    from restate_inspect.readers.pcapfile import read_packets
    from tests import capturewriter as cw

    capture = captures_dir() / "v6-ts-features" / "v6-ts-features.pcap"
    with capture.open("rb") as handle:
        packets = [p for p in read_packets(handle, "v6") if isinstance(p, Packet)]
    cut = cw.pcap(cw.Packet(p.time or 0.0, p.data) for p in packets[len(packets) // 3 :])
    items = list(decode_events(capture_events(io.BytesIO(cut), "cut")))
    expected = {s.name: s for s in expected_streams("v6-ts-features") if s.protocol}
    told = {p.stream for p in items if isinstance(p, Problem) and p.code == "RI115"}
    frames: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        if isinstance(item, DecodedFrame):
            frames[str(item.frame.stream)].append(item.frame)
    whole = 0
    for key, got in frames.items():
        assert all(f.version is not None and f.version >= 4 for f in got), key
        assert all(f.name is not None for f in got), key
        assert StreamKey(*key.split("/")) in told, key
        responses = [f for f in got if f.direction.value == "sdk_to_runtime"]
        firsts = [f for f in got if f.direction.value == "runtime_to_sdk"][:1]
        if not firsts or firsts[0].type != 0:
            continue  # the capture began inside this stream: its head was cut
        start = MessageToDict(firsts[0].message, preserving_proto_field_name=True)
        same = [s for s in expected.values() if s.frames["req"][0].message_dict(6) == start]
        assert len(same) == 1, key
        want = same[0].frames["resp"]
        assert [(f.offset, f.type, f.length) for f in responses] == [
            (w.offset, w.type, w.length) for w in want
        ], key
        whole += 1
    assert whole >= 10
