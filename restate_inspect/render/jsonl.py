"""NDJSON records (README, "JSON output"): one object per line, `kind` says which.

Output is ASCII-only JSON: every non-ASCII or control character is a \\u escape, so a
payload cannot reach a terminal through `--json` either.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from functools import cache
from types import ModuleType
from typing import Any

from restate_inspect.annotations import annotate
from restate_inspect.events import DecodedFrame, Discovery, StoredJournal, StreamEnd, StreamInfo
from restate_inspect.invocations import Invocation
from restate_inspect.pipeline import Decoded
from restate_inspect.protocol import flag_names, view_of
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.protojson import base64, message_to_dict
from restate_inspect.rules import Problem
from restate_inspect.streams import StreamSummary, discovery_manifest


def record(item: Decoded, *, with_bytes: bool = False) -> dict[str, Any] | None:
    """The NDJSON record of anything the pipeline hands out (None: nothing to say)."""
    if isinstance(item, DecodedFrame):
        return frame_record(item, with_bytes=with_bytes)
    if isinstance(item, Problem):
        return problem_record(item)
    if isinstance(item, StreamInfo):
        return stream_info_record(item)
    if isinstance(item, StoredJournal):
        return {
            "kind": "stored_journal",
            "stream": str(item.stream),
            "invocation_id": item.invocation_id,
            "rows": item.rows,
            "journal_format": item.journal_format,
            "invocation": item.facts,
        }
    if isinstance(item, Discovery):
        return {
            "kind": "discovery",
            "stream": str(item.stream),
            "manifest": discovery_manifest(item),
        }
    assert isinstance(item, StreamEnd)
    return None


def invocation_records(invocation: Invocation) -> Iterator[dict[str, Any]]:
    """An invocation, then per attempt: the attempt, its timeline (frames and findings, in
    the order they happened) and its entries."""
    yield invocation_record(invocation)
    for attempt in invocation.attempts:
        yield attempt_record(attempt, invocation)
        for moment in attempt.timeline:
            if isinstance(moment.item, DecodedFrame):
                yield frame_record(moment.item)
            elif isinstance(moment.item, Problem):
                yield problem_record(moment.item)
            yield from (problem_record(finding) for finding in moment.findings)
        for entry in view_of(attempt).entries(attempt):
            yield entry_record(entry, attempt)


def invocation_record(invocation: Invocation) -> dict[str, Any]:
    problems = Counter(f.severity.value for a in invocation.attempts for f in a.all_findings())
    return {
        "kind": "invocation",
        "invocation_id": invocation.invocation_id,
        "invocation_id_bytes": base64(invocation.key)
        if isinstance(invocation.key, bytes)
        else None,
        "target": invocation.target,
        "key": invocation.object_key,
        "attempts": len(invocation.attempts),
        "ending": invocation.ending,
        "problems": dict(problems),
    }


def attempt_record(attempt: Attempt, invocation: Invocation) -> dict[str, Any]:
    start = attempt.start
    number = attempt.number or 1
    previous = invocation.attempts[number - 2] if number > 1 else None
    times = [m.item.frame.time for m in attempt.timeline if isinstance(m.item, DecodedFrame)]
    known_times = [t for t in times if t is not None]
    return {
        "kind": "attempt",
        "invocation_id": invocation.invocation_id,
        "attempt": number,
        "stream": None if attempt.stream is None else str(attempt.stream),
        "protocol_version": attempt.protocol_version,
        "mode": None
        if attempt.request_response is None
        else ("request_response" if attempt.request_response else "bidi"),
        "known_entries": attempt.known_entries,
        "retry_count_since_last_stored_entry": start.retry_count_since_last_stored_entry
        if start
        else None,
        "duration_since_last_stored_entry": start.duration_since_last_stored_entry
        if start
        else None,
        "start_time": min(known_times) if known_times else None,
        "end_time": max(known_times) if known_times else None,
        "ending": attempt.outcome,
        "ending_text": attempt.ending_text,
        **view_of(attempt).attempt_fields(attempt),
        "stored_journal": None
        if attempt.stored_journal is None
        else {
            "rows": attempt.stored_journal.rows,
            "journal_format": attempt.stored_journal.journal_format,
            "invocation": attempt.stored_journal.facts,
        },
        "resumes": None
        if previous is None
        else {"attempt": number - 1, "stream": str(previous.stream), "after": previous.ending},
    }


def entry_record(entry: Any, attempt: Attempt) -> dict[str, Any]:
    frame = entry.frame
    view = view_of(attempt)
    return {
        "kind": "entry",
        "invocation_id": attempt.invocation_id,
        "attempt": attempt.number or 1,
        "index": entry.index,
        "type": frame.type,
        "type_hex": f"0x{frame.type:04x}",
        "name": entry.name,
        "entry_name": entry.entry_name or None,
        "replayed": entry.replayed,
        "direction": frame.direction and frame.direction.value,
        "offset": frame.offset,
        **view.entry_fields(entry),
        "annotations": view.entry_annotations(entry, attempt),
    }


def stream_info_record(info: StreamInfo) -> dict[str, Any]:
    """What is known of an HTTP stream (sent when its request head, then its response head,
    is seen)."""
    target = info.target
    return {
        "kind": "stream",
        "stream": str(info.stream),
        "stream_kind": info.kind,
        "connection": info.connection,
        "http_version": info.http_version,
        "time": info.time,
        "packet": info.packet,
        "method": info.method,
        "path": info.path,
        "service": target[0] if target else None,
        "handler": target[1] if target else None,
        "protocol_version": info.protocol_version,
        "status": info.status,
        "invocation_id": info.header("x-restate-invocation-id"),
        "sdk": info.header("x-restate-server", response=True),
        "request_headers": None
        if info.request_headers is None
        else [list(h) for h in info.request_headers],
        "response_headers": None
        if info.response_headers is None
        else [list(h) for h in info.response_headers],
    }


def stream_summary_record(row: StreamSummary) -> dict[str, Any]:
    return {
        "kind": "stream_summary",
        "stream": row.stream,
        "stream_kind": row.kind,
        "connection": row.connection,
        "http_version": row.http_version,
        "start": row.start,
        "duration": row.duration,
        "method": row.method,
        "path": row.path,
        "service": row.service,
        "handler": row.handler,
        "protocol_version": row.protocol_version,
        "status": row.status,
        "invocation_id": row.invocation_id,
        "sdk": row.sdk,
        "frames": row.frames,
        "bytes": row.bytes,
        "ending": row.ending,
        "problems": row.problems,
    }


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
        "flag_names": _flag_names(frame.version, frame.flags),
        "length": frame.length,
        "entry_index": decoded.entry_index,
        "protocol_version": frame.version,
        "message": None if message is None else message_to_dict(message),
        "annotations": annotate(frame, decoded.context),
    }
    if frame.row is not None:  # a journal dump's: a row, not bytes of a stream
        record["offset"] = None
        record["row"] = frame.row
    if with_bytes:
        record["bytes"] = frame.to_bytes().hex()
    return record


_flag_names = cache(flag_names)


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
        "invocation_id": problem.invocation_id,
        "attempt": problem.attempt,
    }
    if problem.line is not None:
        record["line"] = problem.line
        record["column"] = problem.column
    if problem.repeats > 1:  # one finding for a run of the same problem
        record["repeats"] = problem.repeats
        if problem.to_packet is not None:
            record["to_packet"] = problem.to_packet
        elif problem.to_offset is not None:
            record["to_offset"] = problem.to_offset
        else:
            record["to_line"], record["to_column"] = problem.last or (None, None)
    if problem.packet is not None:
        record["packet"] = problem.packet
    if problem.after_loss:
        record["after_loss"] = True
    if problem.command_index is not None:
        record["command_index"] = problem.command_index
    if problem.completion_id is not None:
        record["completion_id"] = problem.completion_id
    return record


def _load_orjson() -> ModuleType | None:
    try:
        import orjson  # noqa: PLC0415
    except ImportError:  # a platform without its wheel: the standard library does the work
        return None
    return orjson


_ORJSON = _load_orjson()


def encode(record: dict[str, Any]) -> bytes:
    """One NDJSON line, ASCII only.

    orjson writes it fast when it can; a record it refuses (an integer beyond 64 bits from
    a payload) or whose output is not ASCII goes through the standard library's encoder,
    which escapes every non-ASCII character. DEL is the one control character both leave
    raw; it can only occur inside a string, where \\u007f stands for it.
    """
    if _ORJSON is not None:
        try:
            line: bytes = _ORJSON.dumps(record, option=_ORJSON.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            line = b""
        if line and line.isascii():
            if b"\x7f" in line:
                return line.replace(b"\x7f", b"\\u007f")
            # a copy at its size: orjson's keeps the 4 KB buffer it wrote into, and lines
            # held together (an attempt's records) took 8 KB each: 250 MB for 30,000
            return bytes(memoryview(line))
    text = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
    return (text.replace("\x7f", "\\u007f") + "\n").encode("ascii")


def dumps(record: dict[str, Any]) -> str:
    return encode(record).decode("ascii").rstrip("\n")
