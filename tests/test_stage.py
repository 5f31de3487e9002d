"""The one stage shape: a stage run through an input, and every stage of the chain having
the shape (mypy checks the list below against the Protocol, in CI)."""

from __future__ import annotations

from typing import Any

from restate_inspect.attempts import AttemptBuilder
from restate_inspect.framing import FrameDecoder
from restate_inspect.invocations import InvocationTracker
from restate_inspect.pipeline import Decoding
from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.readers.capture import CaptureDecoder
from restate_inspect.readers.hextext import HexTextDecoder
from restate_inspect.readers.netpacket import PacketDecoder
from restate_inspect.readers.tcp import TcpReassembler
from restate_inspect.stage import Stage, through


class _Pairs:
    """Items two by two; the odd one out at the end."""

    def __init__(self) -> None:
        self.held: list[int] = []

    def feed(self, item: int) -> list[tuple[int, ...]]:
        self.held.append(item)
        if len(self.held) < 2:
            return []
        pair, self.held = tuple(self.held), []
        return [pair]

    def end_of_stream(self) -> list[tuple[int, ...]]:
        return [tuple(self.held)] if self.held else []


def test_a_stage_gives_what_each_item_makes_as_it_comes_then_what_it_held() -> None:
    assert list(through(_Pairs(), [1, 2, 3])) == [(1, 2), (3,)]
    assert list(through(_Pairs(), [])) == []
    made = through(_Pairs(), iter([1, 2, 3, 4]))
    assert next(made) == (1, 2)  # before the input is over


def test_every_stage_of_the_chain_has_the_shape_and_holds_nothing_unfed() -> None:
    stages: list[Stage[Any, Any]] = [
        HexTextDecoder(),
        Base64TextDecoder(),
        PacketDecoder(),
        TcpReassembler(),
        CaptureDecoder(),
        FrameDecoder(),
        Decoding(),
        AttemptBuilder(),
        InvocationTracker(),
    ]
    assert [stage.end_of_stream() for stage in stages] == [[]] * len(stages)
