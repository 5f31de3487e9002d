"""Regenerate restate_inspect/_proto from proto/protocol.proto.

Run from anywhere, with the test extra installed (it brings grpcio-tools):

    python scripts/regen_proto.py

The generated modules are committed; tests/test_proto_current.py fails when they no
longer match the schema.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "restate_inspect" / "_proto"


def main() -> int:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={OUT_DIR}",
        f"--pyi_out={OUT_DIR}",
        "protocol.proto",
    ]
    status: int = protoc.main(args)
    if status == 0:
        print(f"generated {OUT_DIR / 'protocol_pb2.py'} and .pyi")
    return status


if __name__ == "__main__":
    sys.exit(main())
