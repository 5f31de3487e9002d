"""What a frame means to a human: annotations (for JSON) and a field tree (for text, TUI).

`message` in the JSON output is protobuf's canonical mapping and nothing else; everything
friendlier is here, keyed by field path ("value", "failure.code", "state_map[0].value").
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from restate_inspect._proto import protocol_pb2 as pb
from restate_inspect.framing import Frame
from restate_inspect.messages import (
    WIRE_TYPE_NAMES,
    RawField,
    custom_entry_name,
    decode_schemaless,
    lookup,
)
from restate_inspect.values import (
    RESTATE_CODE_MEANINGS,
    awakeable_id,
    code_name,
    epoch_ms_to_iso,
    human_duration,
    invocation_id_text,
    parse_awakeable_id,
    view_payload,
)

TIME_FIELDS = frozenset({"wake_up_time", "invoke_time"})  # ms since the Unix epoch
DURATION_FIELDS = frozenset({"duration_since_last_stored_entry", "next_retry_delay"})  # ms
CODE_MESSAGES = frozenset({"ErrorMessage", "Failure"})  # whose `code` is a failure code


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What the conversation around a frame tells about it."""

    entry_index: int | None = None
    invocation_raw: bytes | None = None  # StartMessage.id of the attempt, when seen


def _walk(message: Message, prefix: str = "") -> Iterator[tuple[str, FieldDescriptor, Any]]:
    """Every set scalar field, depth first, with its path."""
    for field, value in message.ListFields():
        path = prefix + field.name
        items = list(enumerate(value)) if _is_repeated(field) else [(None, value)]
        for index, item in items:
            item_path = path if index is None else f"{path}[{index}]"
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                yield item_path, field, item
                yield from _walk(item, item_path + ".")
            else:
                yield item_path, field, item


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def annotate(frame: Frame, context: FrameContext | None = None) -> dict[str, Any]:
    context = context or FrameContext()
    notes: dict[str, Any] = {}
    if frame.message is None:
        _annotate_raw(frame, notes)
    else:
        _annotate_fields(frame.message, notes)
        _annotate_message(frame, frame.message, context, notes)
    return notes


def _annotate_fields(message: Message, notes: dict[str, Any]) -> None:
    for path, field, value in _walk(message):
        name = field.name
        owner = field.containing_type.name if field.containing_type else ""
        if field.type == FieldDescriptor.TYPE_BYTES:
            view = {"view": "hex", "hex": value.hex()} if path == "id" else None
            notes.setdefault("payloads", {})[path] = view or view_payload(value).to_json()
        elif name in TIME_FIELDS and value:
            notes.setdefault("times", {})[path] = {"epoch_ms": value, "iso": epoch_ms_to_iso(value)}
        elif name in DURATION_FIELDS:
            notes.setdefault("durations", {})[path] = human_duration(value)
        elif name == "code" and owner in CODE_MESSAGES:
            notes.setdefault("codes", {})[path] = {"code": value, "name": code_name(value)}


def _annotate_message(
    frame: Frame, message: Message, context: FrameContext, notes: dict[str, Any]
) -> None:
    if isinstance(message, pb.StartMessage):
        notes["invocation_id"] = invocation_id_text(message.id)
    elif isinstance(message, pb.AwakeableEntryMessage):
        if context.invocation_raw is not None and context.entry_index is not None:
            notes["awakeable_id"] = awakeable_id(context.invocation_raw, context.entry_index)
    elif isinstance(message, pb.CompleteAwakeableEntryMessage):
        target = parse_awakeable_id(message.id)
        if target is not None:
            notes["awakeable"] = {
                "invocation_id": target.invocation_id,
                "invocation_id_bytes": base64.b64encode(target.invocation_raw).decode("ascii"),
                "entry_index": target.entry_index,
            }
    elif isinstance(message, pb.CallEntryMessage | pb.OneWayCallEntryMessage):
        notes["target"] = f"{message.service_name}/{message.handler_name}"
    elif isinstance(message, pb.ErrorMessage):
        if message.code in RESTATE_CODE_MEANINGS:
            notes["meaning"] = RESTATE_CODE_MEANINGS[message.code]
        if message.HasField("related_entry_type"):
            related = lookup(message.related_entry_type)
            notes["related_entry_type_name"] = related.name if related else None


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
