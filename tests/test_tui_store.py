"""The TUI's store: invocations on disk, read back whole, and only their summaries in memory."""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
import weakref
from pathlib import Path

import pytest

from restate_inspect.invocations import Invocation, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.tui import model
from restate_inspect.tui.store import InvocationStore
from tests.helpers import SAMPLES

CAPTURE = SAMPLES / "v1-features.pcapng"


def _decoded() -> list[Invocation]:
    items = invocations(decode_events(read_input(str(CAPTURE))))
    return [item for item in items if isinstance(item, Invocation)]


def _shown(invocation: Invocation) -> list[list[str]]:
    """Everything the timeline shows of each attempt, as text."""
    return [
        [model.row_text(row, attempt) for row in model.timeline_rows(attempt)]
        for attempt in invocation.attempts
    ]


@pytest.fixture
def store() -> InvocationStore:
    return InvocationStore()


def test_an_invocation_reads_back_as_it_was_stored(store: InvocationStore) -> None:
    decoded = _decoded()
    summaries = [store.add(invocation) for invocation in decoded]
    assert len(store) == len(decoded) == 32
    for place, (invocation, summary) in enumerate(zip(decoded, summaries, strict=True)):
        assert summary.place == place
        loaded = store.load(place)
        assert loaded is not invocation and loaded is not store.load(place)  # a copy each time
        assert loaded.invocation_id == invocation.invocation_id
        assert loaded.target == invocation.target
        assert _shown(loaded) == _shown(invocation)
        # what a row finds by identity (its entry, in its own attempt) is found in the copy
        for attempt in loaded.attempts:
            rows = model.timeline_rows(attempt)
            entries = [row.entry for row in rows if row.entry is not None]
            assert len(entries) == len(attempt.entries)


def test_the_summary_is_what_the_invocations_pane_shows(store: InvocationStore) -> None:
    for invocation in _decoded():
        summary = store.add(invocation)
        assert summary.invocation_id == invocation.invocation_id
        assert summary.title == model.invocation_title(invocation)
        assert list(summary.badges) == model.invocation_badges(invocation)
        assert summary.problems == sum(model.problem_count(a) for a in invocation.attempts)
        for about, attempt in zip(summary.attempts, invocation.attempts, strict=True):
            assert about.number == attempt.number
            assert about.status == model.attempt_status(attempt)
            assert about.ending_text == attempt.ending_text
            assert about.stream == str(attempt.stream)
            assert about.entries == len(attempt.entries)
            assert about.problems == len(attempt.all_findings())
    flaky = next(s for s in map(store.load, range(len(store))) if s.target == "Demo/flaky")
    assert len(flaky.attempts) > 1


def test_links_found_after_an_invocation_was_stored_are_read_back(
    store: InvocationStore,
) -> None:
    """Demo/awakeSuspend is handed on before the resolver that completes its awakeable
    ends; the link comes after it was stored, and must not be lost on disk."""
    links_when_stored = {}
    for invocation in invocations(decode_events(read_input(str(CAPTURE)))):
        if isinstance(invocation, Invocation):
            place = store.add(invocation).place
            for attempt in invocation.attempts:
                for entry in attempt.entries.values():
                    if entry.linkable:
                        key = (place, attempt.number, entry.index)
                        links_when_stored[key] = list(entry.links)
    late = [key for key, links in links_when_stored.items() if not links]
    resumed = [
        (place, index)
        for place, number, index in late
        if store.load(place).target == "Demo/awakeSuspend" and number == 2
    ]
    assert resumed, "the capture no longer has a link found after its invocation was stored"
    for place, index in resumed:
        links = store.load(place).attempts[1].entries[index].links
        assert len(links) == 1 and links[0].startswith("completed by inv_")


def test_the_store_keeps_no_invocation_in_memory(store: InvocationStore) -> None:
    invocation = _decoded()[0]
    gone = weakref.ref(invocation)
    attempt = weakref.ref(invocation.attempts[0])
    store.add(invocation)
    del invocation
    gc.collect()
    assert gone() is None and attempt() is None
    assert store.load(0).attempts  # all of it is on disk


def test_the_file_goes_when_the_store_is_closed(store: InvocationStore) -> None:
    store.add(_decoded()[0])
    store.close()
    with pytest.raises(ValueError, match="closed file"):
        store.load(0)


def _folder_of(store: InvocationStore) -> str:
    target = os.readlink(f"/proc/self/fd/{store._file.fileno()}")
    return os.path.dirname(target.removesuffix(" (deleted)"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")
def test_the_file_goes_to_var_tmp_unless_tmpdir_says_where(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """/tmp is often in memory (tmpfs): the store would then take what it saves."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    if os.access("/var/tmp", os.W_OK):
        assert _folder_of(InvocationStore()) == "/var/tmp"
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # the module caches what it found
    assert _folder_of(InvocationStore()) == str(tmp_path)


def test_what_is_stored_is_compressed(store: InvocationStore) -> None:
    decoded = _decoded()
    for invocation in decoded:
        store.add(invocation)
    pickled = sum(len(pickle.dumps(i, pickle.HIGHEST_PROTOCOL)) for i in decoded)
    assert store._size < pickled / 2
