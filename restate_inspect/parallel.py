"""A large capture on several cores.

Each worker process reads the whole capture but decodes only every n-th TCP connection
(CaptureDecoder's share), groups and renders its streams; the main process merges what the
workers send by the streams' order keys, so the output is the same whatever the number of
workers. Decoding is what costs, and TCP connections are independent of each other.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from operator import itemgetter
from typing import Any, Final

from restate_inspect.pipeline import decode_events
from restate_inspect.readers import InputError, read_input
from restate_inspect.streams import OrderKey, StreamGroup, group_streams, ordered

Render = Callable[[StreamGroup], tuple[bytes, Any]]  # a group's output, and what to tally
Rendered = tuple[OrderKey, bytes, Any]
_BATCH: Final = 256 * 1024  # bytes of output a worker gathers before it sends them
_PROGRESS_STEP: Final = 1 << 20


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def rendered(
    path: str,
    render: Render,
    *,
    max_length: int,
    share: tuple[int, int] = (0, 1),
    progress: Callable[[int], None] | None = None,
) -> Iterator[Rendered]:
    """One process's part: decode, group, order and render its share of the capture."""
    events = read_input(path, share=share, progress=progress)
    for key, group in ordered(group_streams(decode_events(events, max_length=max_length))):
        output, tally = render(group)
        yield key, output, tally


def sharded(
    path: str,
    render: Render,
    *,
    max_length: int,
    jobs: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[bytes, Any]]:
    """The output of `jobs` worker processes, merged in order."""
    context = multiprocessing.get_context("fork")
    receivers: list[Connection] = []
    workers = []
    for shard in range(jobs):
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(
            target=_work,
            args=(
                sender,
                path,
                render,
                max_length,
                (shard, jobs),
                shard == 0 and progress is not None,
            ),
            daemon=True,
        )
        worker.start()
        sender.close()
        receivers.append(receiver)
        workers.append(worker)
    try:
        streams = [_receive(receiver, progress) for receiver in receivers]
        for _key, output, tally in heapq.merge(*streams, key=itemgetter(0)):
            yield output, tally
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def _work(
    sender: Connection,
    path: str,
    render: Render,
    max_length: int,
    share: tuple[int, int],
    reports_progress: bool,
) -> None:
    batch: list[Rendered] = []
    size = 0
    last = [0]

    def progress(done: int) -> None:
        if done - last[0] >= _PROGRESS_STEP:
            last[0] = done
            sender.send(("progress", done))

    try:
        for item in rendered(
            path,
            render,
            max_length=max_length,
            share=share,
            progress=progress if reports_progress else None,
        ):
            batch.append(item)
            size += len(item[1])
            if size >= _BATCH:
                sender.send(("items", batch))
                batch, size = [], 0
        sender.send(("items", batch))
        sender.send(("done", None))
    except InputError as exc:
        sender.send(("input-error", str(exc)))
    except BaseException:  # everything reaches the main process, which reports it
        sender.send(("internal", traceback.format_exc()))
    finally:
        sender.close()


def _receive(receiver: Connection, progress: Callable[[int], None] | None) -> Iterator[Rendered]:
    while True:
        try:
            kind, value = receiver.recv()
        except EOFError:
            raise RuntimeError("a decoding worker ended without finishing") from None
        if kind == "items":
            yield from value
        elif kind == "progress":
            if progress is not None:
                progress(value)
        elif kind == "done":
            return
        elif kind == "input-error":
            raise InputError(value)
        else:
            raise RuntimeError(f"a decoding worker failed:\n{value}")
