"""What the decoding thread hands to the UI thread, and when.

The decoding thread stores each invocation and holds its summary; the UI takes what is
held in batches. Each batch lays out and draws the screen again, so batches are rare: at
most one every BATCH_SECONDS, and rarer as the list grows (Textual's Tree measures all its
lines again each time nodes are added), with the first invocation taken at once.
"""

from __future__ import annotations

import threading
import time
from typing import Final

from restate_inspect.events import Discovery
from restate_inspect.invocations import Invocation, Journaled
from restate_inspect.rules import Problem
from restate_inspect.tui.store import InvocationStore, Summary

Held = Summary | Problem | Discovery  # what the decoding thread hands to the panes

# At 0.1 s, drawing took a third of a big capture's load time.
BATCH_SECONDS: Final = 0.3
SECONDS_PER_LISTED: Final = 30e-6  # ... and the wait grows with the attempts listed


class Intake:
    """Decoded items on their way from the decoding thread to the panes."""

    def __init__(self, store: InvocationStore, keep: int) -> None:
        self.store = store  # the decoded invocations, on disk
        self.keep = keep  # invocations listed: their summaries take memory
        self.dropped = 0  # invocations beyond `keep`, only counted
        self.read = 0  # bytes of input read, as the decoding tells
        self._held: list[Held] = []  # decoded, not yet taken into the panes
        self._lock = threading.Lock()
        self._taken = time.monotonic()  # when the panes last took what was held
        self._first = True  # no invocation held yet: the first one is taken at once

    def hold(self, item: Journaled, listed: int) -> bool:
        """Keep what the panes get of a decoded item (an invocation goes to the store, and
        only its summary stays in memory); whether the panes should take what is held,
        with `listed` attempts in their list. From the decoding thread."""
        held: Held
        if isinstance(item, Invocation):
            if len(self.store) >= self.keep:
                self.dropped += 1
                return False
            held = self.store.add(item)
        else:
            held = item
        with self._lock:
            self._held.append(held)
        first = self._first and isinstance(held, Summary)
        self._first = self._first and not first
        return first or self.due(listed)

    def due(self, listed: int) -> bool:
        wait = max(BATCH_SECONDS, listed * SECONDS_PER_LISTED)
        return bool(self._held) and time.monotonic() - self._taken >= wait

    def take(self) -> list[Held]:
        """What is held, for the UI thread."""
        with self._lock:
            batch, self._held = self._held, []
            self._taken = time.monotonic()
        return batch
