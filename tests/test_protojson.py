"""The canonical JSON mapping of restate_inspect.protojson is json_format.MessageToDict's,
for every message type of every schema: a fast path held equal to the library's."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from restate_inspect.events import MessageType
from restate_inspect.protocol.v1.messages import V3_TABLE
from restate_inspect.protocol.v4.messages import TABLES
from restate_inspect.protojson import message_to_dict, scalar_to_json
from tests.strategies import messages

TYPES = [
    spec
    for table in (V3_TABLE, TABLES[4], TABLES[5], TABLES[6], TABLES[7])
    for spec in table.types
    if spec.cls is not None
]


@pytest.mark.parametrize("spec", TYPES, ids=lambda s: f"{s.cls.__module__[-6:]}.{s.name}")
@settings(max_examples=10)
@given(data=st.data())
def test_the_mapping_is_message_to_dicts(spec: MessageType, data: st.DataObject) -> None:
    message: Message = data.draw(messages(spec))
    assert message_to_dict(message) == MessageToDict(message, preserving_proto_field_name=True)


def test_an_enum_value_no_name_is_given_stays_a_number() -> None:
    from restate_inspect.protocol.v4._proto import v7_pb2

    future = v7_pb2.Future(combinator_type=9)  # type: ignore[arg-type]
    assert message_to_dict(future) == {"combinator_type": 9}
    assert MessageToDict(future, preserving_proto_field_name=True) == {"combinator_type": 9}
    field: Any = v7_pb2.Future.DESCRIPTOR.fields_by_name["waiting_completions"]
    assert scalar_to_json(field, [1, 2]) == [1, 2]


def test_a_float_field_has_no_mapping_here() -> None:
    from google.protobuf import struct_pb2

    with pytest.raises(TypeError, match="no JSON mapping"):
        message_to_dict(struct_pb2.Value(number_value=1.5))
