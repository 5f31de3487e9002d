"""Annotations: what a frame means to a human beside protobuf's mapping of its message,
keyed by field path: payloads in their best view, times, durations, failure codes, and
every byte of a frame without a schema."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message

from restate_inspect.annotations import annotate
from restate_inspect.events import DecodedFrame
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction
from restate_inspect.pipeline import decode_bytes
from restate_inspect.protocol.v1._proto import v2_pb2 as pb


def _notes(type_code: int, body: Message | bytes) -> dict[str, Any]:
    decoded = decode_bytes(
        encode_frame(type_code, body), direction=Direction.SDK_TO_RUNTIME, protocol_version=2
    )
    (frame,) = [item for item in decoded if isinstance(item, DecodedFrame)]
    return annotate(frame.frame, frame.context)


@pytest.mark.parametrize(
    ("payload", "view"),
    [
        (b'{"a": [1, 2.5, null]}', {"view": "json", "json": {"a": [1, 2.5, None]}}),
        (b"hello\tworld\n", {"view": "text", "text": "hello\tworld\n"}),
        (b"\x00\x01\xff", {"view": "hex", "hex": "0001ff"}),
        (b"NaN", {"view": "text", "text": "NaN"}),  # not JSON, which has no NaN
        (b"1e999", {"view": "text", "text": "1e999"}),  # a float JSON could not write back
    ],
)
def test_a_payload_is_shown_in_its_best_view(payload: bytes, view: dict[str, Any]) -> None:
    notes = _notes(0x0401, pb.OutputEntryMessage(value=payload))
    assert notes == {"payloads": {"value": view}}
    json.dumps(notes, allow_nan=False)  # every view can be written as JSON


def test_a_failure_code_is_named_and_its_path_is_the_fields() -> None:
    failure = pb.Failure(code=570, message="mismatch")
    notes = _notes(0x0401, pb.OutputEntryMessage(failure=failure))
    assert notes["codes"] == {"failure.code": {"code": 570, "name": "JOURNAL_MISMATCH"}}
    http = _notes(0x0003, pb.ErrorMessage(code=503, message="down"))
    assert http["codes"] == {"code": {"code": 503, "name": "SERVICE_UNAVAILABLE"}}


def test_times_are_given_in_iso_and_durations_in_words() -> None:
    wake = int(datetime(2026, 12, 7, 22, 30, 5, 250_000, tzinfo=UTC).timestamp() * 1000)
    notes = _notes(0x0C00, pb.SleepEntryMessage(wake_up_time=wake))
    assert notes["times"] == {"wake_up_time": {"epoch_ms": wake, "iso": "2026-12-07T22:30:05.250Z"}}
    start = pb.StartMessage(id=b"\x01" * 24, duration_since_last_stored_entry=1500)
    assert _notes(0x0000, start)["durations"] == {"duration_since_last_stored_entry": "1.5 s"}


def test_repeated_and_nested_fields_are_keyed_by_their_path() -> None:
    entries = [pb.StartMessage.StateEntry(key=b"k", value=b"\x00")] * 2
    notes = _notes(0x0000, pb.StartMessage(id=b"\xab" * 24, state_map=entries))
    assert notes["payloads"]["id"] == {"view": "hex", "hex": "ab" * 24}  # an id, not a payload
    assert notes["payloads"]["state_map[1].key"] == {"view": "text", "text": "k"}
    assert notes["payloads"]["state_map[1].value"] == {"view": "hex", "hex": "00"}
    assert notes["invocation_id"].startswith("inv_1")


def test_a_frame_without_a_schema_keeps_every_byte_and_its_fields() -> None:
    body = b"\x62\x04step\x08\x2a"  # field 12 "step" (a custom entry's name), field 1 = 42
    notes = _notes(0xFC02, body)
    assert base64.b64decode(notes["body_base64"]) == body
    assert notes["entry_name"] == "step"
    assert [(f["number"], f.get("text"), f.get("value")) for f in notes["fields"]] == [
        (12, "step", None),
        (1, None, 42),
    ]
    garbage = _notes(0xFC03, b"\xff\xff")  # not protobuf: the bytes are all there is
    assert garbage == {"body_base64": base64.b64encode(b"\xff\xff").decode()}
