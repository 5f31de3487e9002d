"""Replays: an entry as the next attempt must replay it, for comparing the two."""

from __future__ import annotations

from typing import Final

from google.protobuf.message import Message

from restate_inspect.events import Frame
from restate_inspect.protocol.v1.messages import ONE_WAY_CALL, SLEEP

RESULT_FIELDS: Final = ("empty", "value", "failure")  # a completable entry's result oneof


def comparable(frame: Frame) -> bytes:
    """An entry as the SDKs compare it on replay: without its result (a replay carries the
    result filled in), a Sleep by its name only, a OneWayCall without invoke_time."""
    message = frame.message
    if message is None:
        return frame.body
    if frame.type == SLEEP:
        only_name: Message = type(message)()
        only_name.name = getattr(message, "name", "")  # type: ignore[attr-defined]
        return only_name.SerializeToString(deterministic=True)
    spec = frame.message_type
    completable = spec is not None and spec.completable
    if not completable and frame.type != ONE_WAY_CALL:
        return message.SerializeToString(deterministic=True)  # nothing to leave out
    copy: Message = type(message)()
    copy.CopyFrom(message)
    if frame.type == ONE_WAY_CALL:
        copy.ClearField("invoke_time")
    if completable:
        for name in RESULT_FIELDS:
            if name in copy.DESCRIPTOR.fields_by_name:
                copy.ClearField(name)
    return copy.SerializeToString(deterministic=True)
