"""How quickly the TUI answers, on the big shared capture, driven through Textual's pilot.

    python benchmarks/tui.py [--capture PATH] [--repeat N] [--size 160x45] [--presses N]

It measures
  - the time to the first screen: from starting the app (with the decoder in its worker
    thread) to the first invocation's timeline and detail drawn (goal < 1 s);
  - the time to decode the whole capture while the UI runs, and the peak memory: with
    --repeat N, on the capture's packets N times over (client ports shifted, as
    benchmarks/pcap.py makes its larger capture), to show that memory does not grow with
    the capture, nor the time per invocation;
  - the time per keystroke for moves (j, k, PgDn, PgUp, g, G, and j in the invocations
    pane) and jumps (n, p, c, e, a, J, K), each pressed on N rows spread over the
    capture where it has somewhere to go (goal < 50 ms; see Painted for what is timed).
    Figures are the median and the 95th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from textual.pilot import Pilot
from textual.screen import Screen

from restate_inspect.invocations import Journaled, invocations
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.tui import model
from restate_inspect.tui.app import InspectorApp
from restate_inspect.tui.store import Selected
from restate_inspect.tui.widgets import InvocationTree, Timeline

ROOT = Path(__file__).resolve().parent.parent
BIG = ROOT.parent / "shared" / "captures" / "big-v2" / "big-v2.pcap"
MOVES = ("j", "k", "pagedown", "pageup", "G", "g")
JUMPS = ("n", "p", "c", "e", "a", "J", "K")


class Painted:
    """When the screen was drawn. Textual draws on a timer after a key is handled, and what
    a key sets off can take a few drawings: a key's times are from sending it to the end of
    the first drawing (the cursor has moved) and to the end of the first drawing after the
    detail panes were filled (the detail is shown). The
    pilot's own round trip also waits for the event loop to go idle, which a person at a
    terminal never waits for; it is given beside."""

    times: ClassVar[list[float]] = []
    detail_set = 0.0  # when the app last filled the detail panes

    @classmethod
    def watch_detail(cls, app: InspectorApp) -> None:
        show_detail = app.browser.show_detail

        def shown(at: int) -> None:
            show_detail(at)
            cls.detail_set = time.perf_counter()

        app.browser.show_detail = shown  # type: ignore[method-assign]

    @classmethod
    def since(cls, moment: float) -> list[float]:
        return [t - moment for t in cls.times if t > moment]

    @classmethod
    def install(cls) -> None:
        for name in ("_refresh_layout", "_compositor_refresh"):
            original = getattr(Screen, name)

            def drawn(
                screen: Screen[object], *args: object, _original: Any = original, **named: Any
            ) -> None:
                _original(screen, *args, **named)
                cls.times.append(time.perf_counter())

            setattr(Screen, name, drawn)


def loader(path: Path) -> Callable[[Callable[[int], None]], Iterator[Journaled]]:
    def load(progress: Callable[[int], None]) -> Iterator[Journaled]:
        return invocations(decode_events(read_input(str(path), progress=progress)))

    return load


Times = dict[str, list[tuple[float, float]]]


async def run(path: Path, size: tuple[int, int], presses: int) -> Times:
    started = time.perf_counter()
    app = InspectorApp(loader(path), path.name, path.stat().st_size)
    Painted.watch_detail(app)
    times: Times = {}
    async with app.run_test(size=size) as pilot:
        while app.state.selected is None:
            await pilot.pause(0.005)
        selected = time.perf_counter()  # then the first drawing of it (a bit late, if at all)
        while not Painted.since(selected):
            await pilot.pause(0.005)
        first = Painted.since(selected)[0] + selected - started
        while not app.finished:
            await pilot.pause(0.05)
        times["startup"] = [(first, time.perf_counter() - started)]
        app.query_one(Timeline).focus()
        for key in (*MOVES, *JUMPS):
            times[key] = await _presses(pilot, app, key, presses)
        app.query_one(InvocationTree).focus()
        times["j (invocations)"] = [await _press(pilot, "j") for _ in range(presses)]
    return times


Where = Callable[[list[model.Row], int], bool]
# for each key, the rows where it has somewhere to go
WHERE: dict[str, Where] = {
    "j": lambda rows, at: at < len(rows) - 1,
    "k": lambda rows, at: at > 0,
    "pagedown": lambda rows, at: at < len(rows) - 1,
    "pageup": lambda rows, at: at > 0,
    "G": lambda rows, at: at < len(rows) - 1,
    "g": lambda rows, at: at > 0,
    "n": lambda rows, at: model.step(rows, at, True, model.is_entry_row) is not None,
    "p": lambda rows, at: model.step(rows, at, False, model.is_entry_row) is not None,
    "c": lambda rows, at: model.completion_of(rows, at) not in (None, at),
    "a": lambda rows, at: model.ack_of(rows, at) not in (None, at),
    "e": lambda rows, at: model.entry_of(rows, at) not in (None, at),
    "J": lambda rows, at: True,  # the next problem, in this attempt or a later one
    "K": lambda rows, at: model.step(rows, at, False, model.has_problems) is not None,
}


def _places(app: InspectorApp, where: Where, count: int) -> list[tuple[Selected, int]]:
    """Up to `count` rows (attempt, row index), spread over the capture's attempts, where a
    key can go. Indexes, not rows: the app rebuilds the rows of attempts it no longer caches."""
    places = []
    step = max(1, len(app.state.attempts) // (4 * count))
    for selected in app.state.attempts[::step]:
        rows = app.state.rows_of(selected)
        places += [(selected, at) for at in range(len(rows)) if where(rows, at)][:1]
        if len(places) == count:
            break
    return places


async def _presses(
    pilot: Pilot[None], app: InspectorApp, key: str, presses: int
) -> list[tuple[float, float]]:
    out = []
    for selected, at in _places(app, WHERE[key], presses):
        row = app.state.rows_of(selected)[at]
        app.browser._open_attempt(selected, row)
        await pilot.pause()
        assert app.browser.current_row is row, "the benchmark could not place the cursor"
        out.append(await _press(pilot, key))
    return out


async def _press(pilot: Pilot[None], key: str) -> tuple[float, float]:
    Painted.times.clear()
    Painted.detail_set = 0.0
    before = time.perf_counter()
    await pilot.press(key)
    ROUND_TRIPS.append(time.perf_counter() - before)
    drawn = Painted.since(before) or [0.0]
    # the detail is on screen with the first drawing after it was set (later drawings only
    # settle scrollbars); a key that moved nothing shows it with the first
    detail = Painted.since(Painted.detail_set) if Painted.detail_set else drawn
    return drawn[0], (detail or [0.0])[0] + max(Painted.detail_set - before, 0.0)


ROUND_TRIPS: list[float] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", type=Path, default=BIG)
    parser.add_argument("--repeat", type=int, default=1, metavar="N")
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--presses", type=int, default=30)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    Painted.install()
    with tempfile.TemporaryDirectory() as scratch:
        capture = args.capture
        if args.repeat > 1:
            sys.path.insert(0, str(ROOT))  # a script has its own folder on the path, not ours
            from benchmarks.pcap import repeat_capture

            capture = Path(scratch) / f"{args.repeat}x-{capture.name}"
            repeat_capture(args.capture, capture, args.repeat)
        times = asyncio.run(run(capture, (width, height), args.presses))
        print(f"capture: {capture.name} ({capture.stat().st_size / 1e6:.1f} MB)")
    first, decoded = times.pop("startup")[0]
    print(f"first screen: {first * 1000:.0f} ms (goal < 1000 ms)")
    print(f"whole capture decoded, UI running: {decoded:.2f} s")
    print("key               cursor drawn (ms)   detail drawn (ms)   goal < 50 ms")
    print(f"{'':<18}{'median':>8}{'p95':>8}{'median':>12}{'p95':>8}")
    for key, values in times.items():
        if not values:
            print(f"{key:<18}{'(no row where it goes in the rows tried)':>36}")
            continue
        columns = []
        for which in (0, 1):
            series = sorted(v[which] for v in values)
            p95 = series[min(len(series) - 1, int(len(series) * 0.95))]
            columns += [statistics.median(series) * 1000, p95 * 1000]
        print(f"{key:<18}{columns[0]:>8.1f}{columns[1]:>8.1f}{columns[2]:>12.1f}{columns[3]:>8.1f}")
    trip = statistics.median(ROUND_TRIPS) * 1000
    print(f"(the pilot's whole round trip per key, idle wait included: median {trip:.0f} ms)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
