"""What a V1-V3 message says beyond its fields, for the `annotations` of its frame record."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Final

from restate_inspect.events import FrameContext
from restate_inspect.protocol.v1.messages import (
    AWAKEABLE,
    CALL,
    COMPLETE_AWAKEABLE,
    ERROR,
    ONE_WAY_CALL,
    START,
    V3_TABLE,
)
from restate_inspect.values import (
    RESTATE_CODE_MEANINGS,
    awakeable_id,
    invocation_id_text,
    parse_awakeable_id,
)

Notes = dict[str, Any]


def _start(message: Any, context: FrameContext, notes: Notes) -> None:
    notes["invocation_id"] = invocation_id_text(message.id)


def _awakeable(message: Any, context: FrameContext, notes: Notes) -> None:
    if context.invocation_raw is not None and context.entry_index is not None:
        notes["awakeable_id"] = awakeable_id(context.invocation_raw, context.entry_index)


def _complete_awakeable(message: Any, context: FrameContext, notes: Notes) -> None:
    target = parse_awakeable_id(message.id)
    if target is not None:
        notes["awakeable"] = {
            "invocation_id": target.invocation_id,
            "invocation_id_bytes": base64.b64encode(target.invocation_raw).decode("ascii"),
            "entry_index": target.entry_index,
        }


def _call(message: Any, context: FrameContext, notes: Notes) -> None:
    notes["target"] = f"{message.service_name}/{message.handler_name}"


def _error(message: Any, context: FrameContext, notes: Notes) -> None:
    if message.code in RESTATE_CODE_MEANINGS:
        notes["meaning"] = RESTATE_CODE_MEANINGS[message.code]
    if message.HasField("related_entry_type"):
        related = V3_TABLE.lookup(message.related_entry_type)
        notes["related_entry_type_name"] = related.name if related else None


# What a whole message says beyond its fields, by its type code.
MESSAGE_NOTES: Final[dict[int, Callable[[Any, FrameContext, Notes], None]]] = {
    START: _start,
    AWAKEABLE: _awakeable,
    COMPLETE_AWAKEABLE: _complete_awakeable,
    CALL: _call,
    ONE_WAY_CALL: _call,
    ERROR: _error,
}
