"""The one shape of every stage (sans-IO): fed an item at a time, it gives what that item
makes, and at the end of the input what it still held. `through` runs one over an input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

In_contra = TypeVar("In_contra", contravariant=True)
Out = TypeVar("Out")
T = TypeVar("T")


class Stage(Protocol[In_contra, Out]):
    def feed(self, item: In_contra, /) -> list[Out]: ...

    def end_of_stream(self) -> list[Out]: ...


def through(stage: Stage[T, Out], items: Iterable[T]) -> Iterator[Out]:
    """What the stage makes of the items, as it makes it; then what it held at their end."""
    for item in items:
        yield from stage.feed(item)
    yield from stage.end_of_stream()
