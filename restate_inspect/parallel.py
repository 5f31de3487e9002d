"""A large capture on several cores.

The capture is read in n shares: each decodes only every n-th TCP connection (CaptureDecoder's
share) and turns it into ordered results: rendered stream groups for `decode` and `streams`,
finished attempts for `journal` and `check`. This process takes the first share and merges
its results with those the worker processes send, by the results' order keys, so that the
output is the same whatever the number of shares. Decoding is what costs, and TCP
connections are independent of each other; the invocations, whose attempts may be on
different connections, are put together here.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from operator import itemgetter
from typing import Any, Final

from restate_inspect.invocations import Built, Finished, finished_attempts, for_checking
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import InputError, read_input
from restate_inspect.readers.events import InputEvent
from restate_inspect.rules import Problem, capture_order
from restate_inspect.streams import OrderKey, StreamGroup, group_streams, ordered

Work = Callable[[Iterator[InputEvent]], Iterator[tuple[Any, Any]]]  # events -> (key, result)
Render = Callable[[StreamGroup], tuple[bytes, Any]]  # a group's output, and what to tally
_BATCH: Final = 64  # results a worker gathers before it sends them
_AHEAD: Final = 16  # batches of a worker's results held while this process merges


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def rendering(render: Render, *, max_length: int) -> Work:
    """decode and streams: each stream group rendered, in the order of `ordered`; but the
    problems of the capture as a whole are left to the process that merges, which renders
    them in their merged order (see rendered): a stream group begins with its own heading,
    and they share one."""

    def work(
        events: Iterator[InputEvent],
    ) -> Iterator[tuple[OrderKey, tuple[bytes, Any] | StreamGroup]]:
        for key, group in ordered(group_streams(decode_events(events, max_length=max_length))):
            yield key, group if group.capture_wide else render(group)

    return work


def rendered(results: Iterator[Any], render: Render) -> Iterator[tuple[bytes, Any]]:
    """The merged results of `rendering`, with the groups it left rendered here, in order."""
    for result in results:
        yield render(result) if isinstance(result, StreamGroup) else result


def attempts(*, max_length: int) -> Work:
    """journal and check: each finished attempt, and the problems of the capture as a whole,
    in the order of `finished_attempts`: the merged attempts then make the same invocations
    as one process would. A problem is placed by the packet it was found in; those found at
    the capture's end, by their text (rules.capture_order), before the attempts that the end
    cut short."""

    def work(events: Iterator[InputEvent]) -> Iterator[tuple[AttemptKey, Built]]:
        built = finished_attempts(decode_events(events, max_length=max_length))
        for sequence, item in enumerate(built):
            if isinstance(item, Finished):
                yield (item.ended_by, item.began, "", sequence), item
            elif isinstance(item, Problem):
                at, text = capture_order(item)
                yield (at, 0.0, text, sequence), item

    return work


AttemptKey = tuple[float, float, str, int]  # ended (found) at, began, text, arrival


def for_checking_only(item: Any) -> Any:
    """check's `travel`: a finished attempt goes to this process cut down to what check
    reads (invocations.for_checking), a tenth of its pickle. This process, which takes a
    share itself, keeps its own attempts whole rather than copy them for nothing."""
    return for_checking(item) if isinstance(item, Finished) else item


def sharded(
    path: str,
    work: Work,
    *,
    jobs: int,
    progress: Callable[[int], None] | None = None,
    travel: Callable[[Any], Any] | None = None,
) -> Iterator[Any]:
    """The results of `work` on `jobs` shares of the capture, merged in order: this
    process takes the first share, and a worker process each other one. travel: what a
    worker's results are turned into before they are sent here."""
    context = multiprocessing.get_context("fork")
    receivers: list[Connection] = []
    workers = []
    for shard in range(1, jobs):
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(
            target=_work, args=(sender, path, work, (shard, jobs), travel), daemon=True
        )
        worker.start()
        sender.close()
        receivers.append(receiver)
        workers.append(worker)
    try:  # threads only now: forking a process that has threads is unsafe
        streams = [_receive(_drained(receiver)) for receiver in receivers]
        local = work(read_input(path, share=(0, jobs), progress=progress))
        for _key, result in heapq.merge(local, *streams, key=itemgetter(0)):
            yield result
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def _work(
    sender: Connection,
    path: str,
    work: Work,
    share: tuple[int, int],
    travel: Callable[[Any], Any] | None,
) -> None:
    batch: list[tuple[Any, Any]] = []
    try:
        for key, result in work(read_input(path, share=share)):
            batch.append((key, result if travel is None else travel(result)))
            if len(batch) >= _BATCH:
                sender.send(("items", batch))
                batch = []
        sender.send(("items", batch))
        sender.send(("done", None))
    except InputError as exc:
        sender.send(("input-error", str(exc)))
    except BaseException:  # everything reaches the main process, which reports it
        sender.send(("internal", traceback.format_exc()))
    finally:
        sender.close()


Note = tuple[str, Any]  # what a worker sends: ("items", [...]), ("done", None)...


def _drained(receiver: Connection) -> Callable[[], Note]:
    """A worker's messages, read by a thread as they come, so that the worker does not
    wait on this process while it merges; up to _AHEAD batches are held."""
    messages: queue.Queue[Note] = queue.Queue(maxsize=_AHEAD)

    def drain() -> None:
        while True:
            try:
                message: Note = receiver.recv()
            except EOFError:
                message = ("ended", None)
            except BaseException:  # a result that cannot be read: this process reports it
                message = ("internal", traceback.format_exc())
            messages.put(message)
            if message[0] != "items":
                return

    threading.Thread(target=drain, daemon=True).start()
    return messages.get


def _receive(next_message: Callable[[], Note]) -> Iterator[tuple[Any, Any]]:
    while True:
        kind, value = next_message()
        if kind == "items":
            yield from value
        elif kind == "done":
            return
        elif kind == "input-error":
            raise InputError(value)
        elif kind == "ended":
            raise RuntimeError("a decoding worker ended without finishing")
        else:
            raise RuntimeError(f"a decoding worker failed:\n{value}")
