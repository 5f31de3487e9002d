"""Search across every attempt, run in a thread of its own.

It reads each attempt back from the store, which takes seconds on a big capture, while the
keys go on working; it stops when its worker is cancelled (esc, or another search). Its
copies of the invocations are its own: the panes' cache belongs to the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final

from restate_inspect.tui import model
from restate_inspect.tui.store import InvocationStore, OpenedCache, Selected

PROGRESS_SECONDS: Final = 0.25  # how often a search says how far it got


class Stopped(Exception):
    """The worker was cancelled: the search under way stops."""


def search_store(
    store: InvocationStore,
    attempts: Sequence[Selected],
    query: str,
    at: tuple[int, int],
    cancelled: Callable[[], bool],
    tell: Callable[[str], None],
) -> tuple[int, int] | None:
    """The next row holding `query` after row at[1] of attempt at[0] (see model.search),
    telling how far it got now and then; raises Stopped once `cancelled()`."""
    read = OpenedCache(store, 1)  # one invocation at a time: its attempts come together
    searched = 0
    told = time.monotonic()

    def timeline_at(position: int) -> model.Timeline:
        nonlocal searched, told
        if cancelled():
            raise Stopped
        found = attempts[position]
        opened = read.get(found.invocation.place)
        searched += 1
        if time.monotonic() - told >= PROGRESS_SECONDS:
            told = time.monotonic()
            tell(f"searching: {query}, {searched:,} of {len(attempts):,} attempts (esc stops)")
        return opened.attempt(found.index), opened.rows_of(found.index)

    return model.search(len(attempts), timeline_at, query, at)
