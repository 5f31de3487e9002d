"""Regenerate each protocol family's protobuf code from the schemas in proto/.

Run from anywhere, with the test extra installed (it brings grpcio-tools):

    python scripts/regen_proto.py

Every schema declares the same protobuf package, so that two of them cannot be loaded side
by side; the wire format does not carry the package, so each is compiled under a package of
its own (restate_inspect.proto.vN), placed where its family imports it. The generated modules
are committed; tests/test_proto_current.py fails when they no longer match the schemas.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
SOURCE_PACKAGES = ("dev.restate.service.protocol", "dev.restate.service.legacy")


class Schema(NamedTuple):
    source: str  # in proto/
    family: str  # the protocol family package that uses it
    module: str  # the generated module's name, without _pb2

    @property
    def package(self) -> str:
        return f"restate_inspect.proto.{self.module}"

    @property
    def path(self) -> str:
        """The .proto's path as protoc sees it: it names the generated Python module."""
        return f"restate_inspect/protocol/{self.family}/_proto/{self.module}.proto"


SCHEMAS = (
    Schema("protocol-v2.proto", "v1", "v2"),  # V1 and V2
    Schema("protocol-v3.proto", "v1", "v3"),
    Schema("protocol-v4.proto", "v4", "v4"),
    Schema("protocol-v5.proto", "v4", "v5"),
    Schema("protocol-v6.proto", "v4", "v6"),
    Schema("protocol-v7.proto", "v4", "v7"),
    Schema("legacy-v7.proto", "v4", "legacy"),  # the V4-V6 SuspensionMessage, as R 1.7 reads it
)


def renamed(schema: Schema) -> str:
    """The schema's text under its own package."""
    text = (PROTO_DIR / schema.source).read_text()
    for package in SOURCE_PACKAGES:
        text = text.replace(f"package {package};", f"package {schema.package};")
        text = text.replace(f"{package}.", f"{schema.package}.")
    return text


def compile_schemas(out: Path, *extra: str) -> int:
    """protoc over every schema, renamed, with these output options (paths under out)."""
    with tempfile.TemporaryDirectory() as tmp:
        for schema in SCHEMAS:
            target = Path(tmp) / schema.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(renamed(schema))
        args = ["protoc", f"-I{tmp}", *extra, *(schema.path for schema in SCHEMAS)]
        status: int = protoc.main(args)
    return status


def main() -> int:
    status = compile_schemas(ROOT, f"--python_out={ROOT}", f"--pyi_out={ROOT}")
    if status == 0:
        for schema in SCHEMAS:
            print(f"generated {schema.path.removesuffix('.proto')}_pb2.py and .pyi")
    return status


if __name__ == "__main__":
    sys.exit(main())
