"""A frame's fields as a tree of labelled values, for any human-facing renderer.

Values here are not yet terminal-safe: each renderer escapes them (values.safe_text) and
never lets markup be parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from restate_inspect.events import Frame
from restate_inspect.values import pretty_json

# Small messages that read best on one line: `key: value`.
_PAIRS = frozenset({"Header", "StateEntry"})
_INLINE_WIDTH = 72


@dataclass(frozen=True, slots=True)
class FieldNode:
    label: str
    value: str = ""  # one line
    kind: str = "scalar"  # scalar, string, json, text, hex, empty, message, note
    note: str = ""  # a reading of the value: a time, a code name, an id
    block: str | None = None  # content that needs lines of its own (pretty JSON, long text)
    children: tuple[FieldNode, ...] = ()
    path: str = ""  # where the field is: a key of field_spans()


def field_tree(frame: Frame, annotations: dict[str, Any], max_payload: int = 0) -> list[FieldNode]:
    """max_payload: bytes of a payload to show, 0 for all."""
    builder = _Builder(annotations, max_payload)
    if frame.message is not None:
        nodes = builder.message(frame.message, "")
    elif "fields" in annotations:
        raw = annotations["fields"]
        nodes = [replace(builder.raw_field(f), path=f"#{i}") for i, f in enumerate(raw)]
    else:
        nodes = [builder.hex("body", frame.body)]
    return nodes + builder.message_notes()


class _Builder:
    def __init__(self, annotations: dict[str, Any], max_payload: int) -> None:
        self.notes = annotations
        self.max_payload = max_payload

    def message(self, message: Message, prefix: str) -> list[FieldNode]:
        nodes = []
        for field, value in message.ListFields():
            if field.is_repeated:
                for index, item in enumerate(value):
                    label = f"{field.name}[{index}]"
                    path = prefix + label
                    nodes.append(replace(self.field(field, item, label, path), path=path))
            else:
                path = prefix + field.name
                nodes.append(replace(self.field(field, value, field.name, path), path=path))
        return nodes

    def field(self, field: FieldDescriptor, value: Any, label: str, path: str) -> FieldNode:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            name = field.message_type.name if field.message_type else ""
            if name in _PAIRS:
                return FieldNode(label, f"{_show(value.key)}: {_show(value.value)}", "string")
            if name == "Value":  # V4+: a payload in its wrapper, shown as the payload
                return self.payload(label, path + ".content", value.content)
            children = tuple(self.message(value, path + "."))
            return FieldNode(label, "" if children else "{}", "message", children=children)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return self.payload(label, path, value)
        if field.type == FieldDescriptor.TYPE_STRING:
            return _string_node(label, value)
        if field.type == FieldDescriptor.TYPE_BOOL:
            return FieldNode(label, "true" if value else "false")
        if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
            named = field.enum_type.values_by_number.get(value)
            return FieldNode(label, named.name if named else str(value))
        return FieldNode(label, str(value), note=self.scalar_note(path))

    def scalar_note(self, path: str) -> str:
        if path in self.notes.get("times", {}):
            return str(self.notes["times"][path]["iso"] or "not a representable time")
        if path in self.notes.get("durations", {}):
            return str(self.notes["durations"][path])
        if path in self.notes.get("codes", {}):
            return str(self.notes["codes"][path]["name"] or "")
        if path in self.notes.get("ids", {}):
            return str(self.notes["ids"][path])
        if path in ("related_entry_type", "related_command_type"):
            name = self.notes.get(f"{path}_name")
            return str(name or "unknown type")
        return ""

    def payload(self, label: str, path: str, data: bytes) -> FieldNode:
        view = self.notes.get("payloads", {}).get(path, {"view": "hex"})
        kind = view["view"]
        if kind == "json":
            text = pretty_json(view["json"], width=_INLINE_WIDTH)
            if "\n" in text:
                return FieldNode(label, "", "json", note="json", block=self._cut(text))
            return FieldNode(label, text, "json", note="json")
        if kind == "text":
            node = _string_node(label, view["text"])
            return FieldNode(node.label, node.value, "text", "text", node.block)
        if kind == "empty":
            return FieldNode(label, "(empty)", "empty")
        node = self.hex(label, data)
        note = str(self.notes.get("invocation_id") or "") if path == "id" else node.note
        return FieldNode(node.label, node.value, node.kind, note)

    def hex(self, label: str, data: bytes) -> FieldNode:
        shown = data if not self.max_payload else data[: self.max_payload]
        rest = len(data) - len(shown)
        note = f"{len(data)} bytes" + (f", {rest} not shown" if rest else "")
        return FieldNode(label, shown.hex(" ") if len(shown) <= 32 else shown.hex(), "hex", note)

    def _cut(self, text: str) -> str:
        if not self.max_payload or len(text) <= self.max_payload:
            return text
        return text[: self.max_payload] + f"\n… {len(text) - self.max_payload} more characters"

    def raw_field(self, raw: dict[str, Any]) -> FieldNode:
        label = f"field {raw['number']} ({raw['wire_type']})"
        if "value" in raw:
            return FieldNode(label, str(raw["value"]))
        if "group" in raw:
            return FieldNode(
                label, "", "message", children=tuple(map(self.raw_field, raw["group"]))
            )
        readings = []
        if "text" in raw:
            readings.append(_string_node("as text", raw["text"]))
        if "message" in raw:
            nested = tuple(self.raw_field(f) for f in raw["message"])
            readings.append(FieldNode("as message", "", "message", children=nested))
        note = "ambiguous: a string or a message" if raw.get("ambiguous") else ""
        value = json.dumps(raw["bytes_base64"]) if not readings else ""
        return FieldNode(label, value, "message", note, children=tuple(readings))

    def message_notes(self) -> list[FieldNode]:
        out = []
        if "awakeable_id" in self.notes:
            out.append(FieldNode("awakeable id", self.notes["awakeable_id"], "note"))
        if "awakeable" in self.notes:
            target = self.notes["awakeable"]
            where = target["invocation_id"] or target.get("invocation_id_bytes", "")
            place = (
                f"signal {target['signal_index']}"
                if "signal_index" in target
                else f"entry {target['entry_index']}"
            )
            out.append(FieldNode("completes", f"{where} {place}", "note"))
        if "awaiting" in self.notes:
            out.append(FieldNode("awaits", self.notes["awaiting"], "note"))
        if "target" in self.notes:
            out.append(FieldNode("target", self.notes["target"], "note"))
        if "meaning" in self.notes:
            out.append(FieldNode("meaning", self.notes["meaning"], "note"))
        if "entry_name" in self.notes:
            out.append(FieldNode("entry name", self.notes["entry_name"], "note"))
        for path, later in self.notes.get("later_version_fields", {}).items():
            value = json.dumps(later["value"])
            text = f"{path} = {value}, a field only {later['since']} and later have"
            out.append(FieldNode("later field", text, "note"))
        return out


def _show(value: str | bytes) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return value


def _string_node(label: str, text: str) -> FieldNode:
    if "\n" in text.rstrip("\n") or len(text) > 2 * _INLINE_WIDTH:
        return FieldNode(label, "", "string", block=text)
    return FieldNode(label, f'"{text}"', "string")  # the renderer escapes what needs it


# --- where each field's bytes are ---------------------------------------------------------

Span = tuple[int, int]  # start and end offsets in a frame's body
_PACKED_WIDTHS = {1: 8, 5: 4}  # fixed-width wire types; 0 (varint) is read element by element


def field_spans(frame: Frame) -> dict[str, Span]:
    """Where each field that field_tree shows lies in the frame's body, by FieldNode.path:
    the whole field, tag and length included; each element of a packed repeated field on
    its own. Bytes the scan cannot follow are simply left without a span."""
    spans: dict[str, Span] = {}
    body = frame.body
    try:
        if frame.message is not None:
            _message_spans(body, 0, len(body), frame.message.DESCRIPTOR, "", spans)
        else:
            for position, (start, _, end, _, _) in enumerate(_wire_fields(body, 0, len(body))):
                spans[f"#{position}"] = (start, end)
    except ValueError:
        pass  # a body that only parsed in part: keep the spans found before it
    return spans


def _message_spans(
    body: bytes, start: int, end: int, descriptor: Any, prefix: str, spans: dict[str, Span]
) -> None:
    counts: dict[int, int] = {}
    for field_start, value_start, field_end, number, wire_type in _wire_fields(body, start, end):
        field = descriptor.fields_by_number.get(number)
        if field is None:
            continue  # unknown to the schema: field_tree does not show it either
        if not field.is_repeated:
            path = prefix + field.name
            spans[path] = (field_start, field_end)
        elif wire_type == 2 and field.type not in _LENGTH_DELIMITED:
            for element in _packed(body, value_start, field_end, field.type):
                path = f"{prefix}{field.name}[{counts.get(number, 0)}]"
                counts[number] = counts.get(number, 0) + 1
                spans[path] = element
            continue
        else:
            path = f"{prefix}{field.name}[{counts.get(number, 0)}]"
            counts[number] = counts.get(number, 0) + 1
            spans[path] = (field_start, field_end)
        if field.type == FieldDescriptor.TYPE_MESSAGE and wire_type == 2:
            _message_spans(body, value_start, field_end, field.message_type, path + ".", spans)


_LENGTH_DELIMITED = frozenset(
    {FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_STRING}
)
_FIXED_TYPES = {
    FieldDescriptor.TYPE_FIXED64: 8,
    FieldDescriptor.TYPE_SFIXED64: 8,
    FieldDescriptor.TYPE_DOUBLE: 8,
    FieldDescriptor.TYPE_FIXED32: 4,
    FieldDescriptor.TYPE_SFIXED32: 4,
    FieldDescriptor.TYPE_FLOAT: 4,
}


def _packed(body: bytes, start: int, end: int, field_type: int) -> list[Span]:
    width = _FIXED_TYPES.get(field_type)
    out = []
    position = start
    while position < end:
        after = position + width if width else _varint(body, position, end)[1]
        out.append((position, min(after, end)))
        position = after
    return out


def _wire_fields(body: bytes, start: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """(field start, value start, field end, number, wire type) of each field in a range."""
    out = []
    position = start
    while position < end:
        field = _field(body, position, end)
        out.append(field)
        position = field[2]
    return out


def _field(body: bytes, position: int, end: int) -> tuple[int, int, int, int, int]:
    tag, value_start = _varint(body, position, end)
    number, wire_type = tag >> 3, tag & 7
    if wire_type == 0:
        field_end = _varint(body, value_start, end)[1]
    elif wire_type == 2:
        length, value_start = _varint(body, value_start, end)
        field_end = value_start + length
    elif wire_type in _PACKED_WIDTHS:
        field_end = value_start + _PACKED_WIDTHS[wire_type]
    elif wire_type == 3:  # a group: its fields, up to its END_GROUP tag
        field_end = value_start
        while (end_tag := _varint(body, field_end, end))[0] != (number << 3) | 4:
            field_end = _field(body, field_end, end)[2]
        field_end = end_tag[1]
    else:
        raise ValueError("not a field start")
    if field_end > end:
        raise ValueError("field runs past its message")
    return position, value_start, field_end, number, wire_type


def _varint(body: bytes, position: int, end: int) -> tuple[int, int]:
    """A varint's value and the offset just past it."""
    result = shift = 0
    while position < end and shift < 64:
        byte = body[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
    raise ValueError("truncated varint")
