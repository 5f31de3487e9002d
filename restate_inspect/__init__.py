"""restate-inspect: protocol debugger and journal inspector for the Restate service protocol."""

from __future__ import annotations

from restate_inspect.events import HEADER_SIZE, DecodedFrame, Frame, MessageType, RawFrame
from restate_inspect.framing import DEFAULT_MAX_LENGTH, FrameDecoder, decode_all, encode_frame
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_bytes
from restate_inspect.protocol import family_of
from restate_inspect.rules import RULES, Problem, Severity

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "HEADER_SIZE",
    "RULES",
    "DecodedFrame",
    "Direction",
    "Frame",
    "FrameDecoder",
    "MessageType",
    "Problem",
    "RawFrame",
    "Severity",
    "StreamKey",
    "__version__",
    "decode_all",
    "decode_bytes",
    "encode_frame",
    "family_of",
]
