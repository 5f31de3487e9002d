"""The app on its input: the decoding thread (the first screen before the end, a live
capture, broken and unreadable inputs), what it keeps in memory and on disk, quitting."""

from __future__ import annotations

import asyncio
import gc
import itertools
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from restate_inspect.invocations import Invocation, Journaled
from restate_inspect.rules import Problem
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.state import OPENED_CACHED
from restate_inspect.tui.widgets import Timeline
from tests.hostile import hostile_stream
from tests.tui_pilot import (
    EVERY_KEY,
    SIZE,
    capture,
    cursor,
    decoded,
    drive,
    info_text,
    loader,
    plain,
    status_text,
)

# --- the invocations pane ------------------------------------------------------------


def test_what_was_decoded_stays_on_disk_but_the_invocations_opened_last() -> None:
    """Memory holds what the invocations pane shows; an invocation's frames and payloads
    are read back when one of its attempts is opened, so memory does not grow with the
    capture."""
    handed_out: list[weakref.ref[Invocation]] = []

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for item in loader(capture())(progress):
            if isinstance(item, Invocation):
                handed_out.append(weakref.ref(item))
            yield item

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        for selected in app.state.attempts:  # open every attempt once
            app.browser.select(selected)
        await pilot.pause()
        gc.collect()
        assert len(handed_out) == len(app.state.invocations) == 32
        assert not [ref for ref in handed_out if ref() is not None]
        assert len(app.state.opened.opened) == OPENED_CACHED
        assert (
            app.state.selected is app.state.attempts[-1] and app.state.rows
        )  # the one shown is whole

    app = InspectorApp(load, "v1-features.pcap")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await decoded(pilot)
            await check(app, pilot)

    asyncio.run(main())


def test_the_collector_freezes_what_is_listed_only_as_the_list_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A freeze keeps what is alive then for good, garbage to be included: an input that
    lists nothing (problems only, as they come) is frozen once, at its end."""
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))

    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for number in range(5):
            time.sleep(0.15)  # more than a batch apart
            yield Problem("RI303", f"packet {number} is cut", None, None, packet=number + 1)

    app = InspectorApp(load, "problems only")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await decoded(pilot)
            assert len(app.state.capture_problems) == 5 and not app.state.attempts

    asyncio.run(main())
    assert len(freezes) == 1


def test_q_quits() -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(check)


def test_a_broken_input_shows_its_problems_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.bin"
    path.write_bytes(hostile_stream()[:50] + b"\xff" * 40)

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert app.state.invocations
        await pilot.press("J")
        assert cursor(app).problems
        assert "RI1" in info_text(app)

    drive(check, path)


def test_a_stream_of_a_protocol_version_not_interpreted_is_browsed_raw(tmp_path: Path) -> None:
    """V9, a version no family reads: frames by header, the RI114 note, every key
    answered, nothing checked."""
    from tests import capturewriter as cw
    from tests.helpers import SAMPLES

    request = (SAMPLES / "v1-call-other.req.bin").read_bytes()
    response = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
    path = tmp_path / "v9.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets(cw.h2_exchange(request, response, version=9))))

    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        (selected,) = app.state.attempts
        assert selected.attempt.ending_text == "not interpreted (protocol V9)"
        app.query_one(Timeline).focus()
        await pilot.press("G")
        await pilot.pause()
        assert "V9 message" in info_text(app)  # the last frame: V1's End, a V9 message
        for key in EVERY_KEY:
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running
        problems = [p.code for p in app.state.attempt_of(selected).all_findings()]
        assert problems == []

    drive(check, path)


def test_an_unreadable_input_is_reported_in_the_app(tmp_path: Path) -> None:
    async def check(app: InspectorApp, pilot: Pilot[None]) -> None:
        assert "stopped: cannot open" in status_text(app)
        assert not app.state.invocations

    drive(check, tmp_path / "missing.pcap")


def test_first_screen_comes_before_the_whole_capture_is_decoded() -> None:
    """The first invocation is on screen while the decoder is still busy (slowed here)."""
    shown: list[bool] = []

    def slow(progress: Callable[[int], None]) -> Iterator[Journaled]:
        for item in loader(capture(kind="pcapng"))(progress):
            yield item
            if isinstance(item, Invocation) and item is not None and not shown:
                time.sleep(0.5)

    async def main() -> None:
        app = InspectorApp(slow, "slow")
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(40):
                await pilot.pause(0.02)
                if app.state.selected is not None:
                    break
            shown.append(app.state.selected is not None and not app.finished)
            assert "decoding" in plain(app.query_one("#title", Static))
            await decoded(pilot)

    asyncio.run(main())
    assert shown == [True]


def test_a_live_capture_gone_quiet_still_shows_what_came_and_quits() -> None:
    """The decoder yields some invocations, then waits (a live capture with no traffic):
    they show without more coming, and quitting stops the wait (the app's cancel event)."""
    cancel = threading.Event()
    stopped: list[bool] = []

    def quiet(progress: Callable[[int], None]) -> Iterator[Journaled]:
        yield from itertools.islice(
            (i for i in loader(capture(kind="pcapng"))(progress) if isinstance(i, Invocation)),
            5,
        )
        stopped.append(cancel.wait(timeout=10))  # what a live read does on a quiet pipe

    async def main() -> None:
        app = InspectorApp(quiet, "live", cancel=cancel)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                await pilot.pause(0.02)
                if len(app.state.invocations) == 5:
                    break
            assert len(app.state.invocations) == 5 and not app.finished

    asyncio.run(main())
    for _ in range(100):
        if stopped:
            break
        time.sleep(0.02)
    assert stopped == [True]  # the app's end set the event the wait watched
