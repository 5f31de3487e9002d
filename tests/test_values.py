"""Readings of values: ids checked against what the real runtime and SDKs produced."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import Frame
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.values import (
    awakeable_id,
    cause_line,
    code_name,
    epoch_ms_to_iso,
    fact_text,
    human_duration,
    invocation_id_text,
    parse_awakeable_id,
    pretty_json,
    preview,
    safe_text,
    stored_failure_parts,
    time_of_day,
    view_payload,
)
from tests.helpers import CAPTURE_NAMES, captures_dir
from tests.helpers import read_all as decode_all


def _all_frames() -> list[Frame]:
    out = []
    for capture in CAPTURE_NAMES:
        for path in sorted((captures_dir() / capture / "streams").glob("*.bin")):
            out += [e for e in decode_all(path.read_bytes()) if isinstance(e, Frame)]
    return out


def test_invocation_id_text_is_the_runtime_debug_id_for_every_real_start_message() -> None:
    starts = [f.message for f in _all_frames() if isinstance(f.message, pb.StartMessage)]
    assert len(starts) > 100
    for start in starts:
        assert invocation_id_text(start.id) == start.debug_id


def test_awakeable_ids_match_the_ones_the_sdks_handed_out() -> None:
    """The SDKs put awakeable ids into payloads: every one must be one we can compute."""
    frames = _all_frames()
    starts = {f.message.id for f in frames if isinstance(f.message, pb.StartMessage)}
    handed_out = set()
    for frame in frames:
        # 24-byte invocation id + 4-byte index = 38 base64 characters
        handed_out.update(re.findall(rb"prom_1[A-Za-z0-9_-]{38}", frame.body))
    assert len(handed_out) >= 5
    for token in handed_out:
        target = parse_awakeable_id(token.decode())
        assert target is not None and target.invocation_raw in starts
        assert awakeable_id(target.invocation_raw, target.entry_index) == token.decode()
        assert target.invocation_id is not None and target.invocation_id.startswith("inv_1")


@pytest.mark.parametrize(
    "text", ["sign_1abc", "prom_1", "prom_1!!!!", "prom_1AAAA", "prom_1A", "prom_1\u00e9", "x"]
)
def test_what_is_not_an_awakeable_id(text: str) -> None:
    assert parse_awakeable_id(text) is None


def test_invocation_id_needs_24_bytes() -> None:
    assert invocation_id_text(b"\x00" * 23) is None


@pytest.mark.parametrize(
    ("data", "kind", "value"),
    [
        (b"", "empty", None),
        (b'{"a": [1, 2]}', "json", {"a": [1, 2]}),
        (b'"hello"', "json", "hello"),
        (b"42", "json", 42),
        (b"NaN", "text", "NaN"),
        (b"plain words\n", "text", "plain words\n"),
        (b"\x1b[31mred", "hex", "1b5b33316d726564"),
        # one bidi control in text is text, shown escaped; a control code is binary
        ("abc \u202e def, ghi".encode(), "text", "abc \u202e def, ghi"),
        (b"line one\r\nline two", "text", "line one\r\nline two"),
        ("\u202e\u200b".encode(), "hex", "e280aee2808b"),
        (b"\n\x03abc", "hex", "0a03616263"),  # a protobuf message, not text
        (b"\xff\xfe", "hex", "fffe"),
    ],
)
def test_payload_views(data: bytes, kind: str, value: object) -> None:
    view = view_payload(data)
    assert (view.kind, view.value) == (kind, value)
    as_json = view.to_json()
    assert as_json["view"] == kind and (kind == "empty" or as_json[kind] == value)


def test_deeply_nested_json_falls_back_instead_of_failing() -> None:
    assert view_payload(b"[" * 100_000).kind == "text"


def test_pretty_json_is_compact_when_short_and_indented_when_long() -> None:
    assert pretty_json({"a": 1}) == '{"a": 1}'
    long = {"k" * 10: "v" * 80}
    assert pretty_json(long) == json.dumps(long, indent=2)
    assert pretty_json("x" * 100) == json.dumps("x" * 100)


@pytest.mark.parametrize(
    ("text", "single", "multi"),
    [
        ("plain", "plain", "plain"),
        ("a\nb\tc", "a\\nb\\tc", "a\nb\tc"),
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07", "\\x1b]0;pwned\\x07"),
        ("over\rwrite", "over\\rwrite", "over\\rwrite"),
        ("c1\x9bcsi", "c1\\x9bcsi", "c1\\x9bcsi"),
        ("bidi\u202eevil", "bidi\\u202eevil", "bidi\\u202eevil"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f", "nul\\x00del\\x7f"),
        ("astral\U000e0001", "astral\\U000e0001", "astral\\U000e0001"),
    ],
)
def test_safe_text_escapes_what_a_terminal_would_act_on(text: str, single: str, multi: str) -> None:
    assert safe_text(text) == single
    assert safe_text(text, multiline=True) == multi


@given(st.text())
def test_safe_text_leaves_only_printable_characters(text: str) -> None:
    assert safe_text(text).isprintable()
    assert all(c.isprintable() or c in "\n\t" for c in safe_text(text, multiline=True))


def test_times_durations_and_codes() -> None:
    assert epoch_ms_to_iso(1795578469060) == "2026-11-25T03:47:49.060Z"
    assert epoch_ms_to_iso(0) == "1970-01-01T00:00:00.000Z"
    assert epoch_ms_to_iso(2**64 - 1) is None
    assert [human_duration(x) for x in (1, 1500, 300_000, 36_000_000)] == [
        "1 ms",
        "1.5 s",
        "5 min",
        "10 h",
    ]
    assert [code_name(c) for c in (570, 571, 500, 404, 0, 599)] == [
        "JOURNAL_MISMATCH",
        "PROTOCOL_VIOLATION",
        "INTERNAL_SERVER_ERROR",
        "NOT_FOUND",
        None,
        None,
    ]


def test_the_cause_line_of_an_error_message() -> None:
    python = 'Traceback (most recent call last):\n  File "app.py", line 9\nValueError: boom'
    assert cause_line(python) == "ValueError: boom"  # the Python SDK's message under V2
    assert cause_line("Error: boom\n    at run (core.js:1:2)") == "Error: boom"
    mismatch = (  # sdk-shared-core's 570: headline first, then its two sides (swapped there)
        "Found a mismatch between the code paths taken during the previous execution and "
        "the paths taken during this execution.\nThis typically happens when some parts of "
        "the code are non-deterministic.\n - The previous execution ran and recorded the "
        "following: 'sleep' (index '1')\n - The current execution attempts to perform the "
        "following: 'run'"
    )
    assert cause_line(mismatch).startswith("Found a mismatch")
    assert cause_line("  \n") == "" and cause_line("one") == "one"
    assert fact_text("last_failure", mismatch).startswith("Found a mismatch")  # one line
    assert fact_text("status", "running") == "running" and fact_text("retry_count", 3) == "3"
    assert stored_failure_parts("[570 Journal mismatch] Found\nmore") == (570, "Found\nmore")
    assert stored_failure_parts("[409] killed") == (409, "killed")
    assert stored_failure_parts("[5700 x] y") == (5700, "y")  # a code is all its digits
    assert [stored_failure_parts(t) for t in ("no code", "[x] y", 570, None)] == [None] * 4


def test_time_of_day_is_utc_and_survives_times_that_are_no_date() -> None:
    """A corrupt pcapng timestamp can lie past the year 9999: such a time is shown as it is
    (once a streams table and the TUI's clock failed on it)."""
    assert time_of_day(1_700_000_000.123456) == "22:13:20.123"
    assert time_of_day(1_700_000_000.123456, 6) == "22:13:20.123456"
    assert time_of_day(3.2e11) == "320000000000.000 s"
    assert time_of_day(-1e12, 1) == "-1000000000000.0 s"
    assert time_of_day(1e20) == "100000000000000000000.000 s"


def test_a_number_beyond_64_bits_is_read_exactly() -> None:
    view = view_payload(b'{"n": 123456789012345678901234567890, "m": -9223372036854775809}')
    assert view.value == {"n": 123456789012345678901234567890, "m": -9223372036854775809}
    assert isinstance(view.value["n"], int)


def test_previews() -> None:
    assert preview(b"") == "(empty)"
    assert preview(b"plain text") == '"plain text"'
    assert preview(b"\x00\x01") == "0x0001"
    assert preview(b"[1,2]", width=4) == "[1,…"
