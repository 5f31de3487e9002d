"""The committed generated code of every family matches the schemas in proto/, which are
the shared ones with their license headers."""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2

from tests.helpers import ROOT, captures_path

sys.path.insert(0, str(ROOT / "scripts"))
from regen_proto import SCHEMAS, Schema, compile_schemas

SHARED = captures_path().parent / "protocol"


def _compiled() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        assert compile_schemas(Path(tmp), f"--descriptor_set_out={out}") == 0
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    for file_descriptor in descriptors.file:
        for message in file_descriptor.message_type:
            _drop_json_names(message)
    return {f.name: f for f in descriptors.file}


def _drop_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    """protoc adds json_name to a descriptor set, never to the generated module."""
    for field in message.field:
        field.ClearField("json_name")
    for nested in message.nested_type:
        _drop_json_names(nested)


def _module(schema: Schema) -> ModuleType:
    return importlib.import_module(schema.path.removesuffix(".proto").replace("/", ".") + "_pb2")


COMPILED = _compiled()


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.module)
def test_committed_code_matches_the_schema(schema: Schema) -> None:
    committed = descriptor_pb2.FileDescriptorProto.FromString(
        _module(schema).DESCRIPTOR.serialized_pb
    )
    assert committed == COMPILED[schema.path], "run: python scripts/regen_proto.py"
    assert committed.package == schema.package


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.module)
def test_stubs_for_type_checking_are_committed(schema: Schema) -> None:
    stub = (ROOT / schema.path.replace(".proto", "_pb2.pyi")).read_text()
    for message in _module(schema).DESCRIPTOR.message_types_by_name:
        assert f"class {message}(" in stub


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.module)
def test_schema_keeps_its_license_header_and_is_the_shared_one(schema: Schema) -> None:
    text = (ROOT / "proto" / schema.source).read_text()
    lines = text.splitlines()
    assert lines[0].startswith("// Copyright (c) 20")
    assert lines[0].endswith("Restate Software, Inc., Restate GmbH")
    assert any("MIT license" in line for line in lines[:8])
    if SHARED.is_dir():
        assert text == (SHARED / schema.source).read_text()


def test_the_license_the_schemas_name_is_beside_them() -> None:
    assert "MIT License" in (ROOT / "proto" / "LICENSE-service-protocol").read_text()
