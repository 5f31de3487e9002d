"""Readings of values: payload views, terminal-safe text, ids, times and code names.

Payloads are untrusted. Everything that reaches a terminal goes through safe_text(), and
the renderers never let rich parse markup, so a payload can neither move the cursor, set
a title, ring a bell, reorder text, nor style itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Final

RESTATE_CODES: Final = {
    570: "JOURNAL_MISMATCH",
    571: "PROTOCOL_VIOLATION",
    573: "UNSUPPORTED_FEATURE",
}
RESTATE_CODE_MEANINGS: Final = {
    570: "the SDK could not replay the journal: the code took another path than the journal",
    571: "the SDK received a message it did not expect in its state",
    573: "the code uses a feature the negotiated protocol version does not have",
}


# --- terminal safety ---------------------------------------------------------------

_NAMED_ESCAPES: Final = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def safe_text(text: str, *, multiline: bool = False) -> str:
    """Escape every character that is not plainly printable (C0, DEL, C1, bidi, format...).

    With multiline, newlines and tabs stay as they are; a carriage return never does, as
    it would let a payload overwrite what is already on the line.
    """
    if text.isprintable():
        return text
    kept = "\n\t" if multiline else ""
    return "".join(c if c.isprintable() or c in kept else _escape(c) for c in text)


# --- payload views -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayloadView:
    """One reading of a payload. `value` is parsed JSON, text, or lowercase hex."""

    kind: str  # "json", "text", "hex" or "empty"
    value: Any

    def to_json(self) -> dict[str, Any]:
        return (
            {"view": self.kind, self.kind: self.value}
            if self.kind != "empty"
            else {"view": "empty"}
        )


def _reject(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: it could not be written back as JSON
        raise ValueError(f"{text} is out of range")
    return value


# one decoder for all payloads: json.loads with options would build a new one each call
_JSON: Final = json.JSONDecoder(parse_constant=_reject, parse_float=_finite)


def _json_view(data: bytes) -> PayloadView | None:
    try:
        return PayloadView("json", _JSON.decode(data.decode("utf-8")))
    except (ValueError, RecursionError):
        return None


def _text_view(data: bytes) -> PayloadView | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isprintable() or _mostly_printable(text):
        return PayloadView("text", text)
    return None


def _mostly_printable(text: str) -> bool:
    """Text with line breaks and tabs, or with a few invisible characters (a bidi control,
    a zero-width space: shown escaped); not with control codes, which binary data has."""
    odd = [c for c in text if not c.isprintable() and c not in "\n\r\t"]
    return len(odd) * 10 <= len(text) and all(unicodedata.category(c) != "Cc" for c in odd)


# In priority order; hex is the fallback that never fails, so no view can hide the bytes.
PAYLOAD_VIEWS: Final[tuple[Callable[[bytes], PayloadView | None], ...]] = (_json_view, _text_view)


def view_payload(data: bytes) -> PayloadView:
    if not data:
        return PayloadView("empty", None)
    for view in PAYLOAD_VIEWS:
        found = view(data)
        if found is not None:
            return found
    return PayloadView("hex", data.hex())


def pretty_json(value: Any, *, width: int = 72) -> str:
    """Compact when it fits on a line, indented when it does not."""
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(compact) <= width or not isinstance(value, dict | list):
        return compact
    return json.dumps(value, ensure_ascii=False, indent=2)


# --- ids ---------------------------------------------------------------------------

_BASE62: Final = string.digits + string.ascii_lowercase + string.ascii_uppercase
_INVOCATION_ID_BYTES: Final = 24  # u64 partition key + 128-bit invocation uuid


_BASE62_PAIRS: Final = tuple(high + low for high in _BASE62 for low in _BASE62)


def _base62(number: int, width: int) -> str:
    """width base-62 digits, two at a time (a StartMessage of each attempt asks)."""
    digits = []
    for _ in range(width // 2):
        number, pair = divmod(number, 62 * 62)
        digits.append(_BASE62_PAIRS[pair])
    if width % 2:
        digits.append(_BASE62[number % 62])
    return "".join(reversed(digits))


@lru_cache(maxsize=1024)  # each attempt's frames ask again
def invocation_id_text(raw: bytes) -> str | None:
    """The printable `inv_…` form of StartMessage.id, as Restate shows it (its debug_id)."""
    if len(raw) != _INVOCATION_ID_BYTES:
        return None
    key = int.from_bytes(raw[:8], "little")
    uuid = int.from_bytes(raw[8:], "little")
    return "inv_1" + _base62(key, 11) + _base62(uuid, 22)


def invocation_id_bytes(text: str) -> bytes | None:
    """StartMessage.id of a printable `inv_1…` id (invocation_id_text undone); None when the
    text is not one."""
    digits = text.removeprefix("inv_1")
    if len(digits) != len(text) - 5 or len(digits) != 33:
        return None
    try:
        key, uuid = (_from_base62(part) for part in (digits[:11], digits[11:]))
    except ValueError:
        return None
    if key >= 1 << 64 or uuid >= 1 << 128:
        return None
    return key.to_bytes(8, "little") + uuid.to_bytes(16, "little")


def _from_base62(digits: str) -> int:
    number = 0
    for digit in digits:
        number = number * 62 + _BASE62.index(digit)  # ValueError: not a base-62 digit
    return number


AWAKEABLE_PREFIX: Final = "prom_1"  # V1-V3: an Awakeable entry, by its index
SIGNAL_PREFIX: Final = "sign_1"  # V4+: a signal, by its index (awakeables from 17)


def awakeable_id(invocation_raw: bytes, index: int, prefix: str = AWAKEABLE_PREFIX) -> str:
    """`prom_1` (or `sign_1`) + unpadded base64url of the invocation id and the entry (or
    signal) index, a u32, big-endian."""
    token = base64.urlsafe_b64encode(invocation_raw + index.to_bytes(4, "big"))
    return prefix + token.rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class AwakeableTarget:
    invocation_raw: bytes
    entry_index: int  # for a `sign_1` id, the signal index
    prefix: str = AWAKEABLE_PREFIX

    @property
    def invocation_id(self) -> str | None:
        return invocation_id_text(self.invocation_raw)

    @property
    def is_signal(self) -> bool:
        return self.prefix == SIGNAL_PREFIX


def parse_awakeable_id(text: str) -> AwakeableTarget | None:
    """The invocation and entry (or signal) an awakeable id points at, or None if it is
    not one."""
    prefix = text[: len(AWAKEABLE_PREFIX)]
    if prefix not in (AWAKEABLE_PREFIX, SIGNAL_PREFIX):
        return None
    token = text[len(AWAKEABLE_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= 4:
        return None
    return AwakeableTarget(raw[:-4], int.from_bytes(raw[-4:], "big"), prefix)


# --- times, durations, codes -------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms_to_iso(ms: int) -> str | None:
    """ISO-8601 UTC with milliseconds, or None when the value is not a representable time."""
    try:
        moment = _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def time_of_day(epoch: float, digits: int = 3) -> str:
    """UTC time of day with `digits` decimals, as captures show it; a capture time that is
    no date Python can hold (a corrupt pcapng timestamp, years past 9999) as seconds."""
    try:
        moment = datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, ValueError, OSError):
        return f"{epoch:.{digits}f} s"
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond:06d}"[:digits]


def start_parts(message: Any) -> list[str]:
    """What every version's StartMessage says, as parts of its one-line summary: the
    invocation, the entries to replay, the key, the retry so far."""
    parts = [message.debug_id, f"known_entries {message.known_entries}"]
    if message.key:
        parts.append(f"key {message.key!r}")
    if message.retry_count_since_last_stored_entry:
        parts.append(f"retry {message.retry_count_since_last_stored_entry}")
    if message.duration_since_last_stored_entry:
        since = human_duration(message.duration_since_last_stored_entry)
        parts.append(f"{since} since last stored")
    return parts


def human_duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:g} ms"
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.3g} s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.3g} min"
    return f"{minutes / 60:.3g} h"


def code_name(code: int) -> str | None:
    """570/571/573 by their Restate names, HTTP statuses by theirs; None for anything else."""
    if code in RESTATE_CODES:
        return RESTATE_CODES[code]
    try:
        return HTTPStatus(code).name
    except ValueError:
        return None


def named_code(code: int) -> str:
    """570 JOURNAL_MISMATCH, 500 INTERNAL_SERVER_ERROR, 599."""
    name = code_name(code)
    return f"{code}" + (f" {name}" if name else "")


_STORED_FAILURE: Final = re.compile(r"\[(\d+)[^\]]*\]\s*(.*)", re.S)


def stored_failure_parts(text: object) -> tuple[int, str] | None:
    """A failure as sys_invocation writes it (last_failure, completion_failure): its code
    and message, from `[570 Journal mismatch] Found...` or `[409] killed`."""
    found = _STORED_FAILURE.match(text) if isinstance(text, str) else None
    return (int(found[1]), found[2]) if found else None


def cause_line(text: str) -> str:
    """The line of an error's message that says what happened: the last of a Python
    traceback (the Python SDK put one in the message under V2), else the first (a JS
    stack's `Error: ...`; sdk-shared-core's 570 and 571 explain over lines, headline first)."""
    lines = text.strip().splitlines() or [""]
    return lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]


def fact_text(column: str, value: object) -> str:
    """A sys_invocation value as one line shows it: a failure by its headline."""
    return cause_line(value) if column == "last_failure" and isinstance(value, str) else str(value)


def error_text(code: int, message: str) -> str:
    """An ErrorMessage as its finding says it: the code by name, the cause, and what the
    code means to Restate."""
    text = f"ErrorMessage {named_code(code)}: {cause_line(message)[:200]}"
    if code in RESTATE_CODE_MEANINGS:
        text += f" ({RESTATE_CODE_MEANINGS[code]})"
    return text


# --- one-line previews ---------------------------------------------------------------

PREVIEW: Final = 48  # characters of a payload in a one-line summary


def preview(data: bytes, width: int = PREVIEW) -> str:
    view = view_payload(data)
    if view.kind == "json":
        text = json.dumps(view.value, ensure_ascii=False, separators=(",", ":"))
    elif view.kind == "text":
        text = json.dumps(view.value, ensure_ascii=False)
    elif view.kind == "empty":
        return "(empty)"
    else:
        text = f"0x{view.value}"
    return text if len(text) <= width else text[: width - 1] + "…"


def failure_text(failure: Any) -> str:
    label = named_code(failure.code)
    return f"failure {label}" + (f": {failure.message}" if failure.message else "")
