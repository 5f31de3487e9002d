"""The records every stage hands on: what a stream's heads tell (version, target, kind), a
frame's own bytes and names, and how endpoints are written."""

from __future__ import annotations

import pytest

from restate_inspect.events import Connection, Frame, StreamInfo, show_endpoint
from restate_inspect.framing import encode_frame
from restate_inspect.headers import Headers
from restate_inspect.location import Direction, StreamKey
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from tests.helpers import read_all

KEY = StreamKey("tcp0", "s1")


def _info(
    path: str | None,
    kind: str = "invocation",
    request_headers: Headers | None = None,
    response_headers: Headers | None = None,
) -> StreamInfo:
    return StreamInfo(KEY, kind, "a:1 -> b:9080", "HTTP/2", None, None, "POST", path,
                      request_headers, None, response_headers)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/invoke/Demo/greet", ("Demo", "greet")),
        ("/prefix/invoke/Counter/add?x=1", ("Counter", "add")),  # behind a proxy's prefix
        ("/invoke/invoke/h", ("invoke", "h")),  # a service called invoke: the last one counts
        ("/invoke/Demo/greet/", ("Demo", "greet")),  # the last invoke with two parts after it
        ("/invoke/Demo", None),
        ("/discover", None),
        (None, None),
    ],
)
def test_a_streams_target_is_read_off_its_path(
    path: str | None, target: tuple[str, str] | None
) -> None:
    assert _info(path).target == target


def test_the_version_is_the_request_heads_or_else_the_responses() -> None:
    v5 = (("content-type", "application/vnd.restate.invocation.v5"),)
    v6 = (("Content-Type", "application/vnd.restate.invocation.v6"),)
    assert _info("/", request_headers=v5, response_headers=v6).protocol_version == 5
    assert _info("/", response_headers=v6).protocol_version == 6
    assert (
        _info("/", request_headers=(("content-type", "application/json"),)).protocol_version is None
    )
    assert _info("/", response_headers=v6).header("content-type", response=True) == v6[0][1]


def test_restate_streams_are_invocations_and_streams_whose_kind_is_not_known() -> None:
    kinds = ("invocation", "unknown", "discovery", "other")
    assert [_info("/", kind).restate for kind in kinds] == [True, True, False, False]


def test_a_frame_gives_back_its_bytes_and_names_what_it_knows() -> None:
    wire = encode_frame(0x0C00, pb.SleepEntryMessage(wake_up_time=5), 0x0001)
    (frame,) = [
        f for f in read_all(wire, direction=Direction.SDK_TO_RUNTIME) if isinstance(f, Frame)
    ]
    assert frame.to_bytes() == wire and frame.end == len(wire)
    assert (frame.name, frame.type_label, frame.message_type) == (
        "SleepEntryMessage",
        "SleepEntryMessage",
        frame.spec,
    )
    assert frame._replace(spec=None).type_label == "unknown type"
    assert frame._replace(spec=None, version=9).type_label == "V9 message"


def test_endpoints_are_written_as_urls_write_them() -> None:
    assert show_endpoint(("10.0.0.1", 9080)) == "10.0.0.1:9080"
    assert show_endpoint(("::1", 9080)) == "[::1]:9080"
    connection = Connection(0, ("::1", 40000), ("::1", 9080), syn_seen=True)
    assert connection.label() == "[::1]:40000 ↔ [::1]:9080"
