"""What a frame means to a human: annotations (for JSON) and a field tree (for text, TUI).

`message` in the JSON output is protobuf's canonical mapping and nothing else; everything
friendlier is here, keyed by field path ("value", "failure.code", "state_map[0].value").
"""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from restate_inspect.events import Frame, FrameContext
from restate_inspect.protocol import message_notes
from restate_inspect.schemaless import (
    WIRE_TYPE_NAMES,
    RawField,
    custom_entry_name,
    decode_schemaless,
)
from restate_inspect.values import code_name, epoch_ms_to_iso, human_duration, view_payload

TIME_FIELDS = frozenset({"wake_up_time", "invoke_time"})  # ms since the Unix epoch
DURATION_FIELDS = frozenset({"duration_since_last_stored_entry", "next_retry_delay"})  # ms
CODE_MESSAGES = frozenset({"ErrorMessage", "Failure"})  # whose `code` is a failure code


def annotate(frame: Frame, context: FrameContext | None = None) -> dict[str, Any]:
    context = context or FrameContext()
    notes: dict[str, Any] = {}
    if frame.message is None:
        _annotate_raw(frame, notes)
    else:
        _annotate_fields(frame.message, "", notes)
        message_notes(frame, context, notes)
    return notes


_ROLES: dict[FieldDescriptor, str] = {}  # filled as fields are met: a dict is the fast cache


def _role(field: FieldDescriptor) -> str:
    role = _ROLES.get(field)
    if role is None:
        role = _ROLES[field] = _classify(field)
    return role


def _classify(field: FieldDescriptor) -> str:
    """What a field's values are to a human: a payload, a time, a duration, a failure code,
    a message to look into, or nothing to add."""
    owner = field.containing_type.name if field.containing_type else ""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return "message"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return "id" if field.name == "id" and owner == "StartMessage" else "payload"
    if field.name in TIME_FIELDS:
        return "time"
    if field.name in DURATION_FIELDS:
        return "duration"
    if field.name == "code" and owner in CODE_MESSAGES:
        return "code"
    return ""


def _annotate_fields(message: Message, prefix: str, notes: dict[str, Any]) -> None:
    for field, value in message.ListFields():
        role = _role(field)
        if not role:
            continue
        path = prefix + field.name
        if field.is_repeated:
            for index, item in enumerate(value):
                _annotate_value(role, f"{path}[{index}]", item, notes)
        else:
            _annotate_value(role, path, value, notes)


def _annotate_value(role: str, path: str, value: Any, notes: dict[str, Any]) -> None:
    if role == "message":
        _annotate_fields(value, path + ".", notes)
    elif role == "payload":
        notes.setdefault("payloads", {})[path] = view_payload(value).to_json()
    elif role == "id":
        notes.setdefault("payloads", {})[path] = {"view": "hex", "hex": value.hex()}
    elif role == "time":
        if value:
            notes.setdefault("times", {})[path] = {"epoch_ms": value, "iso": epoch_ms_to_iso(value)}
    elif role == "duration":
        notes.setdefault("durations", {})[path] = human_duration(value)
    else:
        notes.setdefault("codes", {})[path] = {"code": value, "name": code_name(value)}


def _annotate_raw(frame: Frame, notes: dict[str, Any]) -> None:
    """Frames without a schema, or whose body did not parse: keep every byte."""
    notes["body_base64"] = base64.b64encode(frame.body).decode("ascii")
    try:
        fields = decode_schemaless(frame.body)
    except Exception:  # not protobuf at all: the raw bytes above are all there is
        return
    notes["fields"] = [raw_field_json(f) for f in fields]
    name = custom_entry_name(fields)
    if name is not None:
        notes["entry_name"] = name


def raw_field_json(field: RawField) -> dict[str, Any]:
    out: dict[str, Any] = {"number": field.number, "wire_type": WIRE_TYPE_NAMES[field.wire_type]}
    if isinstance(field.value, int):
        out["value"] = field.value
    elif isinstance(field.value, bytes):
        out["bytes_base64"] = base64.b64encode(field.value).decode("ascii")
        if field.as_text is not None:
            out["text"] = field.as_text
        if field.as_message is not None:
            out["message"] = [raw_field_json(f) for f in field.as_message]
        if field.ambiguous:
            out["ambiguous"] = ["string", "message"]
    else:
        out["group"] = [raw_field_json(f) for f in field.value]
    return out
