"""A large capture on several cores.

The capture is read in n shares: each decodes only every n-th TCP connection (CaptureDecoder's
share) and turns it into ordered results: rendered stream groups for `decode` and `streams`,
finished attempts for `journal` and `check`. Worker processes take the shares (for `journal`
and `check`, this process takes the first one itself), and this process merges their results
by the results' order keys, so that the output is the same whatever the number of shares.
Decoding is what costs, and TCP connections are independent of each other; the invocations,
whose attempts may be on different connections, are put together here.
"""

from __future__ import annotations

import contextlib
import fcntl  # sharding forks: only where there is fork, and so fcntl
import heapq
import io
import multiprocessing
import os
import pickle
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, Final, Protocol

from restate_inspect.invocations import Built, Finished, finished_attempts, for_checking
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import InputError, read_input
from restate_inspect.readers.events import InputEvent
from restate_inspect.rules import Problem, capture_order
from restate_inspect.streams import OrderKey, StreamGroup, group_streams, ordered

Work = Callable[[Iterator[InputEvent]], Iterator[tuple[Any, Any]]]  # events -> (key, result)
Render = Callable[[StreamGroup], tuple[bytes, Any]]  # a group's output, and what to tally
_BATCH_BYTES: Final = 256 * 1024  # of pickled results, that a worker gathers before it sends
_BATCH_RESULTS: Final = 64  # ... or this many results, whichever comes first
_PIPE_SIZE: Final = 1 << 20


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
    local: bool = True,
) -> Iterator[Any]:
    """The results of `work` on `jobs` shares of the capture, merged in order. local: this
    process takes the first share itself (journal, check: their results cost more to send
    than to make); else a worker takes every share and this process only merges (decode,
    streams: writing what the workers rendered is enough for one process). travel: what a
    worker's results are turned into before they are sent here."""
    context = multiprocessing.get_context("fork")
    remotes: list[Results] = []
    workers = []
    for shard in range(1 if local else 0, jobs):
        receiver, sender = context.Pipe(duplex=False)
        _widen(receiver)
        reports = progress is not None and shard == 0  # the first share's reader tells
        worker = context.Process(
            target=_work, args=(sender, path, work, (shard, jobs), travel, reports), daemon=True
        )
        worker.start()
        sender.close()
        remotes.append(_Received(receiver, progress if reports else None))
        workers.append(worker)
    try:
        own = work(read_input(path, share=(0, jobs), progress=progress)) if local else None
        for _key, result in _merged(own, remotes):
            yield result
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def _widen(receiver: Connection) -> None:
    """A worker's pipe holds 1 MiB (Linux's default for a user), not 64 KiB: the worker
    goes on while this process merges, without a thread here to read ahead for it (one
    held what it read in memory arenas of its own, and took the GIL from the merge)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if set_size is None:
        return
    with contextlib.suppress(OSError):  # a system that allows less keeps its default
        fcntl.fcntl(receiver.fileno(), set_size, _PIPE_SIZE)


def _work(
    sender: Connection,
    path: str,
    work: Work,
    share: tuple[int, int],
    travel: Callable[[Any], Any] | None,
    reports: bool,
) -> None:
    """A worker: its share's results, sent in batches of about _BATCH_BYTES pickled or
    _BATCH_RESULTS results, with how far its reader has read when it reports progress (0
    when it does not). Bounded by bytes too: a few rendered streams can be megabytes, which
    both processes held twice over (pickled and not); and by count, so that the merging
    process does not wait long for the next (see _merged). One pickler per batch, whose
    memo spans its results: what they share (stream keys, message types) is pickled once,
    which halves a batch of check's attempts and the time to read it."""
    done = 0

    def count(read: int) -> None:
        nonlocal done
        done = read

    batch = io.BytesIO()
    pickler = pickle.Pickler(batch, protocol=pickle.HIGHEST_PROTOCOL)
    results = 0
    try:
        for key, result in work(read_input(path, share=share, progress=count if reports else None)):
            pickler.dump((key, result if travel is None else travel(result)))
            results += 1
            if batch.tell() >= _BATCH_BYTES or results == _BATCH_RESULTS:
                sender.send(("items", batch.getvalue(), done))
                batch, results = io.BytesIO(), 0
                pickler = pickle.Pickler(batch, protocol=pickle.HIGHEST_PROTOCOL)
        sender.send(("items", batch.getvalue(), done))
        sender.send(("done", None, done))
    except InputError as exc:
        sender.send(("input-error", str(exc), 0))
    except BaseException:  # everything reaches the main process, which reports it
        sender.send(("internal", traceback.format_exc(), 0))
    finally:
        sender.close()


class Results(Protocol):
    """What merging asks of a worker's results."""

    def ready(self) -> bool: ...
    def next(self) -> tuple[Any, Any] | None: ...


class _Received:
    """A worker's results, read from its pipe and unpickled as they are asked for."""

    def __init__(self, receiver: Connection, progress: Callable[[int], None] | None) -> None:
        self._receiver = receiver
        self._progress = progress
        self._batch = io.BytesIO()
        self._size = 0  # of the batch
        self._unpickler: pickle.Unpickler | None = None  # one per batch: its memo spans it
        self._ended = False

    def ready(self) -> bool:
        """Would next() answer without waiting for the worker?"""
        return self._ended or self._unread() or self._receiver.poll()

    def next(self) -> tuple[Any, Any] | None:
        """The next result (key, value), waiting for it if need be; None after the last."""
        while not self._unread():
            if self._ended or not self._receive():
                self._ended = True
                return None
        assert self._unpickler is not None
        try:
            item: tuple[Any, Any] = self._unpickler.load()
        except Exception:  # a result that cannot be read
            raise RuntimeError(f"a decoding worker failed:\n{traceback.format_exc()}") from None
        return item

    def _unread(self) -> bool:
        return self._batch.tell() < self._size

    def _receive(self) -> bool:
        """Take the worker's next message; False when it says it is done."""
        try:
            kind, value, done = self._receiver.recv()
        except EOFError:
            raise RuntimeError("a decoding worker ended without finishing") from None
        except Exception:  # what cannot be read (not a Ctrl-C: that is the user's)
            raise RuntimeError(f"a decoding worker failed:\n{traceback.format_exc()}") from None
        if self._progress is not None and done:
            self._progress(done)
        if kind == "items":
            self._batch, self._size = io.BytesIO(value), len(value)
            self._unpickler = pickle.Unpickler(self._batch)
            return True
        if kind == "done":
            return False
        if kind == "input-error":
            raise InputError(value)
        raise RuntimeError(f"a decoding worker failed:\n{value}")


_AHEAD: Final = 1024  # results of this process's share made while a worker's are awaited


def _merged(
    own: Iterator[tuple[Any, Any]] | None, remotes: list[Results]
) -> Iterator[tuple[Any, Any]]:
    """The results of this process's share (own, if it takes one) and of the workers', in
    the order of their keys (ties: own first, then by worker), as heapq.merge would give
    them. But where merging must wait for a worker's next result, this process makes its
    own share's results ahead meanwhile (up to _AHEAD of them), rather than wait idle."""
    mine = iter(()) if own is None else own
    ahead: deque[tuple[Any, Any]] = deque()  # made, not merged yet
    heads: list[tuple[Any, int, Any]] = []  # (key, source, value): source 0 is own
    made_all = False  # this process's share has made its last result

    def make() -> tuple[Any, Any] | None:
        nonlocal made_all
        item = None if made_all else next(mine, None)
        made_all = item is None
        return item

    def take_own() -> None:
        item = ahead.popleft() if ahead else make()
        if item is not None:
            heapq.heappush(heads, (item[0], 0, item[1]))

    def take(index: int) -> None:
        remote = remotes[index - 1]
        while not made_all and len(ahead) < _AHEAD and not remote.ready():
            item = make()
            if item is not None:
                ahead.append(item)
        item = remote.next()
        if item is not None:
            heapq.heappush(heads, (item[0], index, item[1]))

    for index in range(1, len(remotes) + 1):
        take(index)
    take_own()
    while heads:
        key, source, value = heapq.heappop(heads)
        yield key, value
        if source == 0:
            take_own()
        else:
            take(source)
