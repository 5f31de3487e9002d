"""The bodies of a capture's Restate streams, written to files (`streams --export DIR`).

For each stream, NNN_tcpT_sS.req.bin holds the request body (runtime→SDK) and .resp.bin
the response body (SDK→runtime), byte for byte as the capture holds them: `decode
--request … --response …` reads them back, and an SDK's tests can replay them. NNN numbers
the capture's HTTP streams (of any kind) in the order they began. Bytes the capture lacks
are not made up: the file holds what is there, and index.ndjson says where the missing
bytes were (`gaps`), beside what `streams --json` tells of the stream.

It writes as the events go by, so memory holds no body; files of the streams that the
selection does not want are removed once their rows are known.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

from restate_inspect.events import Chunk, Gap, InputEvent, StreamEnd, StreamInfo
from restate_inspect.location import Direction, StreamKey
from restate_inspect.render.jsonl import encode, stream_summary_record
from restate_inspect.streams import StreamSummary

SUFFIXES: Final = {Direction.RUNTIME_TO_SDK: ".req.bin", Direction.SDK_TO_RUNTIME: ".resp.bin"}
INDEX: Final = "index.ndjson"
_OPEN_AT_ONCE: Final = 64  # files held open; a capture may have thousands of streams in flight


class BodyExport:
    """Writes the bodies of the Restate streams that the events pass through `tee`."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.kept = 0
        self._names: dict[StreamKey, str] = {}  # streams being written: their file prefix
        self._sizes: dict[tuple[StreamKey, Direction], int] = {}
        self._gaps: dict[StreamKey, list[dict[str, Any]]] = {}
        self._open: OrderedDict[tuple[StreamKey, Direction], BinaryIO] = OrderedDict()
        self._count = 0
        self._numbered: dict[str, StreamKey] = {}  # every stream with a number, until its row
        self._index = (directory / INDEX).open("wb")

    def tee(self, events: Iterable[InputEvent]) -> Iterator[InputEvent]:
        for event in events:
            self._take(event)
            yield event

    def _take(self, event: InputEvent) -> None:
        if isinstance(event, StreamInfo):
            text = str(event.stream)
            if text in self._numbered:
                return  # told again with the response head
            self._numbered[text] = event.stream
            number, self._count = self._count, self._count + 1  # every HTTP stream counts
            if event.restate:
                self._names[event.stream] = f"{number:03d}_{text.replace('/', '_')}"
                self._gaps[event.stream] = []
                for direction in Direction:  # both, so that a pair is always there
                    self._path(event.stream, direction).write_bytes(b"")
                    self._sizes[event.stream, direction] = 0
        elif isinstance(event, Chunk | Gap | StreamEnd) and event.stream in self._names:
            key = (event.stream, event.direction)
            if isinstance(event, Chunk):
                self._file(key).write(event.data)
                self._sizes[key] += len(event.data)
            elif isinstance(event, Gap):
                gap = {"direction": event.direction.value, "offset": self._sizes[key]}
                self._gaps[event.stream].append({**gap, "length": event.length or None})
            else:
                self._close(*key)

    def keep(self, row: StreamSummary) -> None:
        """The stream is wanted: its record goes into the index."""
        stream = self._stream(row)
        if stream is None:
            return
        name = self._names.pop(stream)
        record = {
            "kind": "exported_stream",
            "name": name,
            "request_file": name + SUFFIXES[Direction.RUNTIME_TO_SDK],
            "response_file": name + SUFFIXES[Direction.SDK_TO_RUNTIME],
            "request_bytes": self._sizes.pop((stream, Direction.RUNTIME_TO_SDK)),
            "response_bytes": self._sizes.pop((stream, Direction.SDK_TO_RUNTIME)),
            "gaps": self._gaps.pop(stream),
            **{k: v for k, v in stream_summary_record(row).items() if k != "kind"},
        }
        self._index.write(encode(record))
        self.kept += 1

    def drop(self, row: StreamSummary) -> None:
        """The stream is not wanted: its files go."""
        stream = self._stream(row)
        if stream is None:
            return
        for direction in Direction:
            self._path(stream, direction).unlink(missing_ok=True)
            self._sizes.pop((stream, direction), None)
        del self._names[stream]
        del self._gaps[stream]

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()
        self._index.close()

    def _stream(self, row: StreamSummary) -> StreamKey | None:
        """The stream of a row, its files closed; None if none were written for it."""
        stream = self._numbered.pop(row.stream, None)
        if stream is None or stream not in self._names:
            return None
        for direction in Direction:
            self._close(stream, direction)
        return stream

    def _file(self, key: tuple[StreamKey, Direction]) -> BinaryIO:
        handle = self._open.get(key)
        if handle is None:
            if len(self._open) >= _OPEN_AT_ONCE:
                self._open.popitem(last=False)[1].close()
            handle = self._open[key] = self._path(*key).open("ab")
        else:
            self._open.move_to_end(key)
        return handle

    def _close(self, stream: StreamKey, direction: Direction) -> None:
        handle = self._open.pop((stream, direction), None)
        if handle is not None:
            handle.close()

    def _path(self, stream: StreamKey, direction: Direction) -> Path:
        return self.directory / (self._names[stream] + SUFFIXES[direction])
