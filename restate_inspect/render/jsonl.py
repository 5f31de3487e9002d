"""NDJSON records (README, "JSON output"): one object per line, `kind` says which.

Output is ASCII-only JSON: every non-ASCII or control character is a \\u escape, so a
payload cannot reach a terminal through `--json` either.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.json_format import MessageToDict

from restate_inspect.annotations import annotate
from restate_inspect.journal import DecodedFrame
from restate_inspect.messages import flag_names
from restate_inspect.rules import Problem


def frame_record(decoded: DecodedFrame, *, with_bytes: bool = False) -> dict[str, Any]:
    frame = decoded.frame
    message = frame.message
    record: dict[str, Any] = {
        "kind": "frame",
        "stream": str(frame.stream),
        "direction": frame.direction and frame.direction.value,
        "offset": frame.offset,
        "time": frame.time,
        "packet": frame.packet,
        "type": frame.type,
        "type_hex": f"0x{frame.type:04x}",
        "name": frame.name,
        "flags": frame.flags,
        "flag_names": flag_names(frame.flags),
        "length": frame.length,
        "entry_index": decoded.entry_index,
        "message": None
        if message is None
        else MessageToDict(message, preserving_proto_field_name=True),
        "annotations": annotate(frame, decoded.context),
    }
    if with_bytes:
        record["bytes"] = frame.to_bytes().hex()
    return record


def problem_record(problem: Problem) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "problem",
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
        "stream": None if problem.stream is None else str(problem.stream),
        "direction": problem.direction and problem.direction.value,
        "offset": problem.offset,
        "length": problem.length,
        "entry_index": problem.entry_index,
        "rule": problem.rule.title,
        "undecoded": problem.undecoded,
    }
    if problem.line is not None:
        record["line"] = problem.line
        record["column"] = problem.column
    return record


def dumps(record: dict[str, Any]) -> str:
    # DEL is the one control character json leaves raw; it can only occur inside a string
    text = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
    return text.replace("\x7f", "\\u007f")
