"""The committed generated code matches proto/protocol.proto, which matches the seed schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

from restate_inspect._proto import protocol_pb2
from tests.helpers import ROOT

PROTO = ROOT / "proto" / "protocol.proto"


def _compiled_descriptor() -> descriptor_pb2.FileDescriptorProto:
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        status = protoc.main(
            ["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name]
        )
        assert status == 0
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    (file_descriptor,) = descriptors.file
    for message in file_descriptor.message_type:
        _drop_json_names(message)
    return file_descriptor


def _drop_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    """protoc adds json_name to a descriptor set, never to the generated module."""
    for field in message.field:
        field.ClearField("json_name")
    for nested in message.nested_type:
        _drop_json_names(nested)


def test_committed_code_matches_the_schema() -> None:
    committed = descriptor_pb2.FileDescriptorProto.FromString(protocol_pb2.DESCRIPTOR.serialized_pb)
    assert committed == _compiled_descriptor(), "run: python scripts/regen_proto.py"


def test_stubs_for_type_checking_are_committed() -> None:
    stub = (ROOT / "restate_inspect" / "_proto" / "protocol_pb2.pyi").read_text()
    for message in protocol_pb2.DESCRIPTOR.message_types_by_name:
        assert f"class {message}(" in stub


def test_schema_keeps_its_license_header() -> None:
    lines = PROTO.read_text().splitlines()
    assert lines[0].startswith("// Copyright (c) 2023 - Restate Software, Inc., Restate GmbH")
    assert any("MIT license" in line for line in lines[:8])
