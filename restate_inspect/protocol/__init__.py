"""Protocol families: what a stream's frames mean, by the version it speaks.

A family is one module set behind this small interface: V1-V3 (journal entries, completions
by entry index) in `v1`, V4 and later (commands and notifications, completion ids, signals)
in `v4`. Framing (the 8-byte header) is shared; the message table, the flags' meaning,
the numbering, the journal model and its rules belong to the family.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from restate_inspect.events import READ_VERSIONS, DecodedFrame, Frame, FrameContext, RawFrame
from restate_inspect.framing import TypeHints
from restate_inspect.protocol.v1 import FAMILY as V1
from restate_inspect.protocol.v1.messages import START, V2_TABLE
from restate_inspect.protocol.v1.numbering import StartOnly
from restate_inspect.rules import Problem


class Reader(Protocol):
    """Reads one stream's raw frames into frames, with what is wrong with each."""

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]: ...


class Numbering(Protocol):
    """Places one attempt's frames in its conversation (entry indexes and the like)."""

    def number(self, frame: Frame) -> DecodedFrame: ...


class Family(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def versions(self) -> frozenset[int]: ...
    @property
    def hints(self) -> TypeHints: ...

    def reader(self, version: int | None) -> Reader: ...
    def flag_names(self, flags: int) -> list[str]: ...
    def numbering(self) -> Numbering: ...
    def message_notes(self, frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None: ...
    def ending_of(self, frame: Frame) -> str | None: ...


FAMILIES: Final[tuple[Family, ...]] = (V1,)
assert frozenset().union(*(f.versions for f in FAMILIES)) == READ_VERSIONS


def family_of(version: int | None) -> Family | None:
    """The family that reads a version; a version not known (None) is read as V1-V3 is."""
    if version is None:
        return V1
    return next((family for family in FAMILIES if version in family.versions), None)


class HeaderOnly:
    """A version no family reads: frames by their headers. Only the StartMessage, whose
    shape every version shares, is read, for the invocation it names."""

    def __init__(self, version: int) -> None:
        self.version = version

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]:
        message: Any = None
        spec = None
        if raw.type == START:
            spec = V2_TABLE.by_code[START]
            try:
                message = V2_TABLE.schema.StartMessage.FromString(raw.body)
            except Exception:  # untrusted bytes: the header is what there is
                message = None
        frame = Frame(
            raw.stream, raw.direction, raw.offset, raw.type, raw.flags, raw.length, raw.body,
            message, raw.time, raw.packet, spec, self.version,
        )  # fmt: skip
        return frame, []


def reader_for(version: int | None) -> Reader:
    family = family_of(version)
    if family is None:
        assert version is not None
        return HeaderOnly(version)
    return family.reader(version)


def numbering_for(version: int | None) -> Numbering:
    family = family_of(version)
    return StartOnly() if family is None else family.numbering()


def flag_names(version: int | None, flags: int) -> list[str]:
    family = family_of(version)
    return (family or V1).flag_names(flags)


def hints_for(version: int | None) -> TypeHints:
    family = family_of(version)
    return (family or V1).hints


def message_notes(frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None:
    """What a frame's message says beyond its fields, by its family."""
    family = family_of(frame.version) or V1
    family.message_notes(frame, context, notes)


def interpreted(version: int | None) -> bool:
    """Does a family read this version (or is it not known, and read as V1-V3 is)?"""
    return family_of(version) is not None


def not_interpreted(version: int) -> str:
    """How a stream of a version that no family reads ends, in a few words."""
    return f"not interpreted (protocol V{version})"


def ending_of(frame: Frame) -> str | None:
    """How a terminal message ends its attempt, in a few words (None: it is not one)."""
    family = family_of(frame.version)
    return None if family is None else family.ending_of(frame)
