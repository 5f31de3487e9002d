"""Decoded invocations kept on disk while the TUI runs.

The TUI lists every invocation of its input but shows one attempt at a time. The store
pickles each decoded invocation, compressed, into an anonymous temporary file and gives the
app a Summary, which is what the invocations pane shows: memory then holds a few hundred
bytes an invocation, not its frames and payloads (about 80 KB an invocation on the shared
big capture). An invocation is read back when one of its attempts is opened.

No rich or textual here, as in model: tests drive it without a screen.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from restate_inspect.invocations import Invocation
from restate_inspect.protocol.attempt import Attempt
from restate_inspect.rules import Severity
from restate_inspect.tui import model


@dataclass(frozen=True, slots=True)
class AttemptSummary:
    number: int
    status: str  # ended, suspended, failed or open
    ending_text: str
    stream: str
    entries: int
    problems: int
    worst: Severity | None  # of its problems: how their count is shown
    protocol_version: int | None  # told by the content type, else the version frames were read as


@dataclass(frozen=True, slots=True)
class Summary:
    """An invocation as the invocations pane shows it, and its place in the store."""

    place: int
    invocation_id: str
    target: str | None
    title: str  # service/handler [key], or the invocation id
    badges: tuple[str, ...]
    attempts: tuple[AttemptSummary, ...]
    started: float | None  # capture time of its first frame

    @property
    def problems(self) -> int:
        return sum(a.problems for a in self.attempts)

    @property
    def worst(self) -> Severity | None:
        return model.worst_of(a.worst for a in self.attempts)


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: cheap, and meant
class Selected:
    """An attempt in the invocations pane: its invocation, which attempt of it (0-based),
    and its place in the pane."""

    invocation: Summary
    index: int
    position: int

    @property
    def attempt(self) -> AttemptSummary:
        return self.invocation.attempts[self.index]


def _attempt_summary(attempt: Attempt) -> AttemptSummary:
    return AttemptSummary(
        attempt.number or 0,
        model.attempt_status(attempt),
        attempt.ending_text,
        str(attempt.stream),
        model.entry_count(attempt),
        model.problem_count(attempt),
        model.worst_severity(attempt),
        attempt.version_read,
    )


def summary(place: int, invocation: Invocation) -> Summary:
    return Summary(
        place,
        invocation.invocation_id,
        invocation.target,
        model.invocation_title(invocation),
        tuple(model.invocation_badges(invocation)),
        tuple(_attempt_summary(a) for a in invocation.attempts),
        next((d.frame.time for d in invocation.attempts[0].frames() if d.frame.time), None),
    )


_Links = dict[tuple[int, int], list[str]]  # (attempt position, key in entries) -> its links
# zlib's fastest: a tenth of the pickled size on the big shared capture, 5% of its decoding
_COMPRESSION: Final = 1


def _folder() -> str | None:
    """Where the file goes: where TMPDIR (or TEMP, TMP) says, else /var/tmp, meant for big
    temporary files, where it can be written; /tmp is often in memory (tmpfs)."""
    if any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        return None
    return "/var/tmp" if os.path.isdir("/var/tmp") and os.access("/var/tmp", os.W_OK) else None


class InvocationStore:
    """Invocations on disk: add() from the decoding thread, load() from the UI's."""

    def __init__(self) -> None:
        # open as long as the app runs; deleted when closed, or when the process ends
        self._file = tempfile.TemporaryFile(prefix="restate-inspect-", dir=_folder())  # noqa: SIM115
        self._places: list[tuple[int, int]] = []  # (offset, size) of each invocation
        self._size = 0
        self._lock = threading.Lock()  # the two threads share the file's position
        # An awakeable entry learns its links when the attempt that completes it ends, which
        # may come after its invocation was stored: those lists stay in memory, shared with
        # the tracker that appends to them, and replace the stored copies when loaded.
        self._links: dict[int, _Links] = {}  # by place, for the invocations that have some

    def __len__(self) -> int:
        return len(self._places)

    def add(self, invocation: Invocation) -> Summary:
        data = zlib.compress(pickle.dumps(invocation, pickle.HIGHEST_PROTOCOL), _COMPRESSION)
        links: _Links = {
            (position, key): entry.links
            for position, attempt in enumerate(invocation.attempts)
            for key, entry in attempt.entries.items()
            if entry.linkable and entry.frame.message is not None
        }
        with self._lock:
            place = len(self._places)
            self._file.seek(self._size)
            self._file.write(data)
            self._places.append((self._size, len(data)))
            self._size += len(data)
            if links:
                self._links[place] = links
        return summary(place, invocation)

    def load(self, place: int) -> Invocation:
        """A copy of the invocation stored at `place` (a new one on every call)."""
        with self._lock:
            offset, size = self._places[place]
            self._file.seek(offset)
            data = self._file.read(size)
            links = self._links.get(place, {})
        invocation: Invocation = pickle.loads(zlib.decompress(data))  # written by add()
        for (position, key), live in links.items():
            invocation.attempts[position].entries[key].links = live
        return invocation

    def close(self) -> None:
        self._file.close()


@dataclass(slots=True)
class Opened:
    """An invocation read back from the store, and the timeline rows of its attempts that
    were shown (rows point into this copy of it, and only into it)."""

    invocation: Invocation
    rows: dict[int, list[model.Row]] = field(default_factory=dict)  # by attempt index

    def attempt(self, index: int) -> Attempt:
        return self.invocation.attempts[index]

    def rows_of(self, index: int) -> list[model.Row]:
        rows = self.rows.get(index)
        if rows is None:
            rows = self.rows[index] = model.timeline_rows(self.attempt(index))
        return rows


class OpenedCache:
    """The invocations lately read back, the last `size` of them, by place in the store.
    One thread's: the UI's, or a search's own."""

    def __init__(self, store: InvocationStore, size: int) -> None:
        self.store = store
        self.size = size
        self.opened: OrderedDict[int, Opened] = OrderedDict()

    def get(self, place: int, keep: int | None = None) -> Opened:
        """The invocation at `place`; `keep`, the place of one not to let go (the one
        whose rows are shown: they point into it)."""
        opened = self.opened.get(place)
        if opened is not None:
            self.opened.move_to_end(place)
            return opened
        opened = self.opened[place] = Opened(self.store.load(place))
        for old in list(self.opened)[: max(0, len(self.opened) - self.size)]:
            if old != keep:
                del self.opened[old]
        return opened
