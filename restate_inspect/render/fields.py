"""A frame's fields as a tree of labelled values, for any human-facing renderer.

Values here are not yet terminal-safe: each renderer escapes them (values.safe_text) and
never lets markup be parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from restate_inspect.framing import Frame
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


def field_tree(frame: Frame, annotations: dict[str, Any], max_payload: int = 0) -> list[FieldNode]:
    """max_payload: bytes of a payload to show, 0 for all."""
    builder = _Builder(annotations, max_payload)
    if frame.message is not None:
        nodes = builder.message(frame.message, "")
    elif "fields" in annotations:
        nodes = [builder.raw_field(field) for field in annotations["fields"]]
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
                    nodes.append(self.field(field, item, label, f"{prefix}{label}"))
            else:
                nodes.append(self.field(field, value, field.name, prefix + field.name))
        return nodes

    def field(self, field: FieldDescriptor, value: Any, label: str, path: str) -> FieldNode:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            name = field.message_type.name if field.message_type else ""
            if name in _PAIRS:
                return FieldNode(label, f"{_show(value.key)}: {_show(value.value)}", "string")
            children = tuple(self.message(value, path + "."))
            return FieldNode(label, "" if children else "{}", "message", children=children)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return self.payload(label, path, value)
        if field.type == FieldDescriptor.TYPE_STRING:
            return _string_node(label, value)
        if field.type == FieldDescriptor.TYPE_BOOL:
            return FieldNode(label, "true" if value else "false")
        return FieldNode(label, str(value), note=self.scalar_note(path))

    def scalar_note(self, path: str) -> str:
        if path in self.notes.get("times", {}):
            return str(self.notes["times"][path]["iso"] or "not a representable time")
        if path in self.notes.get("durations", {}):
            return str(self.notes["durations"][path])
        if path in self.notes.get("codes", {}):
            return str(self.notes["codes"][path]["name"] or "")
        if path == "related_entry_type":
            return str(self.notes.get("related_entry_type_name") or "unknown type")
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
            where = target["invocation_id"] or target["invocation_id_bytes"]
            out.append(FieldNode("completes", f"{where} entry {target['entry_index']}", "note"))
        if "target" in self.notes:
            out.append(FieldNode("target", self.notes["target"], "note"))
        if "meaning" in self.notes:
            out.append(FieldNode("meaning", self.notes["meaning"], "note"))
        if "entry_name" in self.notes:
            out.append(FieldNode("entry name", self.notes["entry_name"], "note"))
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
