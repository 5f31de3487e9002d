"""A frame's fields as a tree for the text renderer and the TUI: where each field's bytes
lie (held against protobuf for any message), payloads in their view, readings as notes,
and frames without a schema field by field."""

from __future__ import annotations

from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from restate_inspect.annotations import annotate
from restate_inspect.events import Frame, MessageType
from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.messages import V2_TABLE
from restate_inspect.protocol.v4.messages import TABLES
from restate_inspect.render.fields import FieldNode, field_spans, field_tree
from tests.helpers import read_all
from tests.strategies import messages

TYPED = [(2, s) for s in V2_TABLE.types if s.cls] + [(6, s) for s in TABLES[6].types if s.cls]


def _frame(code: int, body: Message | bytes, version: int = 2) -> Frame:
    (frame,) = [
        f for f in read_all(encode_frame(code, body), version=version) if isinstance(f, Frame)
    ]
    return frame


def _tree(frame: Frame, max_payload: int = 0) -> list[FieldNode]:
    return field_tree(frame, annotate(frame), max_payload)


def _paths(nodes: list[FieldNode] | tuple[FieldNode, ...]) -> list[str]:
    return [p for n in nodes for p in ([n.path] if n.path else []) + _paths(n.children)]


@settings(max_examples=60)
@given(typed=st.sampled_from(TYPED), data=st.data())
def test_every_field_shown_has_its_bytes_and_they_are_the_field(
    typed: tuple[int, MessageType], data: st.DataObject
) -> None:
    version, spec = typed
    assert spec.cls is not None
    message = data.draw(messages(spec))
    frame = _frame(spec.code, message, version)
    spans = field_spans(frame)
    assert set(_paths(_tree(frame))) <= set(spans)
    for field, value in message.ListFields():
        if field.is_repeated:
            continue
        start, end = spans[field.name]
        alone = spec.cls.FromString(frame.body[start:end])  # the field's bytes, tag and all
        assert alone.ListFields() == [(field, value)]


def test_payloads_show_in_their_view_and_values_with_what_they_mean() -> None:
    output = pb.OutputEntryMessage(value=b'{"list": [' + b", ".join([b'"item"'] * 20) + b"]}")
    (json_node,) = _tree(_frame(0x0401, output))
    assert (json_node.kind, json_node.note) == ("json", "json")
    assert json_node.block is not None and json_node.block.startswith('{\n  "list": [')
    failure = pb.OutputEntryMessage(failure=pb.Failure(code=570, message="m"))
    (failure_node,) = _tree(_frame(0x0401, failure))
    code = next(c for c in failure_node.children if c.label == "code")
    assert (code.value, code.note, code.path) == ("570", "JOURNAL_MISMATCH", "failure.code")
    entries = [pb.StartMessage.StateEntry(key=b"k", value=b"v")]
    start = _tree(_frame(0x0000, pb.StartMessage(id=b"\x01" * 24, state_map=entries)))
    assert [(n.label, n.value) for n in start if n.label.startswith("state_map")] == [
        ("state_map[0]", "k: v")
    ]


def test_a_payload_too_long_to_show_says_how_much_is_left_out() -> None:
    (node,) = _tree(_frame(0x0401, pb.OutputEntryMessage(value=b"\x00" * 100)), max_payload=10)
    assert (node.kind, node.value, node.note) == (
        "hex",
        " ".join(["00"] * 10),
        "100 bytes, 90 not shown",
    )


def test_a_frame_without_a_schema_is_shown_field_by_field() -> None:
    frame = _frame(0xFC01, b"\x62\x04step\x08\x2a")
    nodes = _tree(frame)
    assert [n.label for n in nodes][:2] == ["field 12 (len)", "field 1 (varint)"]
    assert nodes[0].children[0].value == '"step"'
    assert nodes[1].value == "42"
    assert field_spans(frame) == {"#0": (0, 6), "#1": (6, 8)}
