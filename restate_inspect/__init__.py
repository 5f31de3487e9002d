"""restate-inspect: protocol debugger and journal inspector for the Restate service protocol."""

from __future__ import annotations

from restate_inspect.framing import (
    DEFAULT_MAX_LENGTH,
    HEADER_SIZE,
    Frame,
    FrameDecoder,
    decode_all,
    encode_frame,
)
from restate_inspect.location import Direction, StreamKey
from restate_inspect.messages import (
    COMPLETED,
    MESSAGE_TYPES,
    REQUIRES_ACK,
    MessageType,
    lookup,
)
from restate_inspect.rules import RULES, Problem, Severity

__version__ = "0.1.0"

__all__ = [
    "COMPLETED",
    "DEFAULT_MAX_LENGTH",
    "HEADER_SIZE",
    "MESSAGE_TYPES",
    "REQUIRES_ACK",
    "RULES",
    "Direction",
    "Frame",
    "FrameDecoder",
    "MessageType",
    "Problem",
    "Severity",
    "StreamKey",
    "__version__",
    "decode_all",
    "encode_frame",
    "lookup",
]
