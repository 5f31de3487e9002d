"""`restate-inspect proxy`: a TCP proxy between the runtime and an SDK endpoint that forwards
every byte as it comes, and hands what passed, with its time, to the capture chain as the
packets a capture would hold (synthetic.py). Forwarding never waits on decoding: the
asyncio loop of a thread of its own forwards, and puts what it forwarded on a queue that
the decoding side reads; a decoding problem cannot stop a byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO, Final, NamedTuple

from restate_inspect.events import Endpoint, InputEvent, Packet
from restate_inspect.readers.capture import CaptureDecoder
from restate_inspect.readers.formats import InputError
from restate_inspect.readers.synthetic import TcpFlow, pcapng_header, pcapng_packet
from restate_inspect.rules import Problem

READ_SIZE: Final = 64 * 1024
QUIET: Final = 0.5  # seconds without traffic after which capture time is taken to go on


class Forwarded(NamedTuple):
    """One thing that happened on a forwarded connection: opened, bytes sent by one side,
    one side's end, or the upstream refusing it."""

    flow: int
    kind: str  # "open", "data", "end", "reset", "refused"
    by_client: bool
    data: bytes
    time: float
    client: Endpoint
    server: Endpoint


STOPPED: Final = Forwarded(0, "stopped", False, b"", 0.0, ("", 0), ("", 0))


class Proxy:
    """Listens on `listen`, and forwards each connection to `upstream`, both ways."""

    def __init__(self, listen: Endpoint, upstream: Endpoint) -> None:
        self.listen, self.upstream = listen, upstream
        self.happened: queue.Queue[Forwarded] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._flows = itertools.count(1)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> Endpoint:
        """Bind and start forwarding; the address bound (port 0 picks one)."""
        started = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        self._thread.start()
        try:
            self._server = started.result(timeout=10)
        except OSError as exc:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise InputError(
                f"cannot listen on {_text(self.listen)}: {exc.strerror or exc}"
            ) from None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stop listening and forwarding; what reads `happened` is told, last."""
        if self._thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            with contextlib.suppress(Exception):
                done.result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self.happened.put(STOPPED)

    async def _shutdown(self) -> None:
        """Stop listening; the connections still open are closed (as a Ctrl-C would)."""
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self) -> asyncio.Server:
        return await asyncio.start_server(self._connection, *self.listen)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        flow, client = next(self._flows), _peer(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self._tell(flow, "refused", True, reason.encode(), client)
            writer.close()
            return
        self._tell(flow, "open", True, b"", client)
        try:
            await asyncio.gather(
                self._pump(flow, client, reader, up_writer, by_client=True),
                self._pump(flow, client, up_reader, writer, by_client=False),
            )
        except asyncio.CancelledError:  # the proxy stops: what is open is cut short
            pass
        finally:
            for side in (writer, up_writer):
                side.close()

    async def _pump(
        self,
        flow: int,
        client: Endpoint,
        source: asyncio.StreamReader,
        destination: asyncio.StreamWriter,
        *,
        by_client: bool,
    ) -> None:
        """One direction: each read is written on first, then told."""
        try:
            while data := await source.read(READ_SIZE):
                destination.write(data)
                self._tell(flow, "data", by_client, data, client)
                await destination.drain()
        except (ConnectionError, OSError):
            self._tell(flow, "reset", by_client, b"", client)
            destination.transport.abort()
            return
        self._tell(flow, "end", by_client, b"", client)
        with contextlib.suppress(OSError, RuntimeError):
            if destination.can_write_eof():
                destination.write_eof()

    def _tell(self, flow: int, kind: str, by_client: bool, data: bytes, client: Endpoint) -> None:
        self.happened.put(
            Forwarded(flow, kind, by_client, data, time.time(), client, self.upstream)
        )


def _peer(writer: asyncio.StreamWriter) -> Endpoint:
    peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
    return str(peer[0]), int(peer[1])


def _text(endpoint: Endpoint) -> str:
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_events(proxy: Proxy, write: BinaryIO | None = None) -> Iterator[InputEvent]:
    """What passes through the proxy, as a capture's events, until Ctrl-C (or the reader
    stops asking); then what is still open is ended as a capture cut short."""
    packets = _Packets(write)
    decoder = CaptureDecoder()
    try:
        while True:
            try:
                item = proxy.happened.get(timeout=QUIET)
            except queue.Empty:
                yield from decoder.idle(time.time())
                continue
            if item.kind == "stopped":
                break
            if item.kind == "refused":
                yield _refused(item)
                continue
            for packet in packets.of(item):
                yield from decoder.feed(packet)
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
        packets.close()
    yield from decoder.end_of_stream()


def _refused(item: Forwarded) -> Problem:
    text = (
        f"the upstream {_text(item.server)} refused the connection from {_text(item.client)} "
        f"({item.data.decode('utf-8', 'replace')}): the runtime's side was closed as well"
    )
    return Problem("RI318", text, None, None)


class _Packets:
    """Forwarded happenings made packets, written to a pcapng file as they are made."""

    def __init__(self, write: BinaryIO | None) -> None:
        self._flows: dict[int, TcpFlow] = {}
        self._numbers = itertools.count(1)
        self._write = write
        if write is not None:
            write.write(pcapng_header())

    def of(self, item: Forwarded) -> list[Packet]:
        flow = self._flows.get(item.flow)
        if flow is None:
            flow = self._flows[item.flow] = TcpFlow(item.client, item.server, self._numbers)
        if item.kind == "open":
            made = flow.opened(item.time)
        elif item.kind == "data":
            made = flow.sent(item.by_client, item.data, item.time)
        else:
            made = flow.closed(item.by_client, item.time, reset=item.kind == "reset")
        if self._write is not None:
            self._write.write(b"".join(pcapng_packet(p) for p in made))
            self._write.flush()
        return made

    def close(self) -> None:
        if self._write is not None:
            self._write.close()
