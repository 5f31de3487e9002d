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
from restate_inspect.location import StreamKey
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.protocol.inference import Verdict
from restate_inspect.protocol.v1 import FAMILY as V1
from restate_inspect.protocol.v1.messages import START, V2_TABLE
from restate_inspect.protocol.v1.numbering import StartOnly
from restate_inspect.protocol.v4 import FAMILY as V4
from restate_inspect.rules import Problem
from restate_inspect.values import invocation_id_text


class Reader(Protocol):
    """Reads one stream's raw frames into frames, with what is wrong with each."""

    def read(self, raw: RawFrame) -> tuple[Frame, list[Problem]]: ...


class Numbering(Protocol):
    """Places one attempt's frames in its conversation (entry indexes and the like)."""

    def number(self, frame: Frame) -> DecodedFrame: ...


class JournalView(Protocol):
    """A family's journal as the renderers show it: the entry a frame is, in a line, in
    badges and as JSON fields. Entries are the family's own records."""

    def entry_at(self, attempt: Any, decoded: DecodedFrame) -> Any | None: ...
    def entries(self, attempt: Any) -> list[Any]: ...
    def column(self, decoded: DecodedFrame, entry: Any | None) -> str: ...
    def short_name(self, type_name: str | None) -> str: ...
    def summary(self, frame: Frame, entry: Any | None, attempt: Any) -> str: ...
    def badges(self, entry: Any) -> list[str]: ...
    def entry_fields(self, entry: Any) -> dict[str, Any]: ...
    def entry_annotations(self, entry: Any, attempt: Any) -> dict[str, Any]: ...
    def attempt_fields(self, attempt: Any) -> dict[str, Any]: ...
    def named(self, attempt: Any, decoded: DecodedFrame, entry: Any | None) -> Frame | None: ...
    def answer(self, attempt: Any, decoded: DecodedFrame, entry: Any | None) -> Frame | None: ...
    def wait_tree(self, attempt: Any, decoded: DecodedFrame) -> list[str]: ...
    def relations(self, attempt: Any, decoded: DecodedFrame, entry: Any | None) -> list[str]: ...


class Family(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def versions(self) -> frozenset[int]: ...
    @property
    def hints(self) -> TypeHints: ...

    def reader(self, version: int | None, *, told: bool = True) -> Reader: ...
    def flag_names(self, flags: int) -> list[str]: ...
    def numbering(self) -> Numbering: ...
    def message_notes(self, frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None: ...
    def ending_of(self, frame: Frame) -> str | None: ...
    def journal(self, stream: StreamKey | None) -> Attempt: ...
    def stored_type(self, entry_type: str) -> int | None: ...
    def stored_flags(self, completed: bool) -> int: ...
    @property
    def journal_type(self) -> type[Attempt]: ...
    @property
    def view(self) -> JournalView: ...


FAMILIES: Final[tuple[Family, ...]] = (V1, V4)
assert frozenset().union(*(f.versions for f in FAMILIES)) == READ_VERSIONS


_BY_VERSION: Final = {version: family for family in FAMILIES for version in family.versions}


def family_of(version: int | None) -> Family | None:
    """The family that reads a version (None: none does, or the version is not known)."""
    return _BY_VERSION.get(version)  # type: ignore[arg-type]


class HeaderOnly:
    """A version no family reads, or one not known: frames by their headers. Only the
    StartMessage, whose shape every version shares, is read, for the invocation it names."""

    def __init__(self, version: int | None) -> None:
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
            message, raw.time, raw.packet, spec, self.version, raw.row,
        )  # fmt: skip
        return frame, []


class AnyFamily:
    """Framing of a stream whose family is not known yet: a type any family has is
    plausible after a gap, and types are named by their code."""

    def plausible(self, type_code: int, flags: int) -> bool:
        return any(family.hints.plausible(type_code, flags) for family in FAMILIES)

    def describe(self, type_code: int) -> str:
        return f"type {type_code:#06x}"


def reader_for(version: int | None) -> Reader:
    """The reader of a stream of a told version (None: one that cannot be told)."""
    family = family_of(version)
    return HeaderOnly(version) if family is None else family.reader(version)


def reader_inferred(found: Verdict) -> Reader:
    """The reader of a stream whose version was inferred from its bytes."""
    family = next(family for family in FAMILIES if family.name == found.family)
    return family.reader(found.version, told=False)


def numbering_for(version: int | None) -> Numbering:
    family = family_of(version)
    return StartOnly() if family is None else family.numbering()


def flag_names(version: int | None, flags: int) -> list[str]:
    """The flags by the names of the version's family; by their bits when it is not known."""
    family = family_of(version)
    if family is not None:
        return family.flag_names(flags)
    return [f"0x{1 << bit:04x}" for bit in range(15, -1, -1) if flags & (1 << bit)]


def hints_for(version: int | None) -> TypeHints:
    family = family_of(version)
    return AnyFamily() if family is None else family.hints


def message_notes(frame: Frame, context: FrameContext, notes: dict[str, Any]) -> None:
    """What a frame's message says beyond its fields, by its family."""
    family = family_of(frame.version)
    if family is not None:
        family.message_notes(frame, context, notes)
    elif frame.type == START and frame.message is not None:  # HeaderOnly reads it
        notes["invocation_id"] = invocation_id_text(frame.message.id)  # type: ignore[attr-defined]


def interpreted(version: int | None) -> bool:
    """Does a family read this version?"""
    return family_of(version) is not None


def not_interpreted(version: int) -> str:
    """How a stream of a version that no family reads ends, in a few words."""
    return f"not interpreted (protocol V{version})"


def ending_of(frame: Frame) -> str | None:
    """How a terminal message ends its attempt, in a few words (None: it is not one)."""
    family = family_of(frame.version)
    return None if family is None else family.ending_of(frame)


def journal_for(stream: StreamKey | None, version: int | None) -> Attempt:
    """The journal of an attempt of a version; one whose version is not known, or that no
    family reads, is the V1 family's (it reads only a StartMessage of another version)."""
    return (family_of(version) or V1).journal(stream)


def view_of(attempt: Attempt) -> JournalView:
    """How the renderers show an attempt's journal: by its family."""
    return next(f.view for f in FAMILIES if isinstance(attempt, f.journal_type))
