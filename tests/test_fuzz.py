"""Fuzzing with hypothesis: random bytes, and real streams with bytes flipped, cut or inserted.

Nothing may raise, and byte accounting must hold. CI runs FUZZ_EXAMPLES examples per test
(2,000 by default); set RESTATE_INSPECT_FUZZ_EXAMPLES, or HYPOTHESIS_PROFILE=fuzz, for more.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
from collections.abc import Iterable
from pathlib import Path

from hyperframe.frame import DataFrame, RstStreamFrame
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from restate_inspect.events import InputEvent, StreamEnd
from restate_inspect.framing import FrameDecoder
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.location import Direction, StreamKey
from restate_inspect.pipeline import decode_events
from restate_inspect.readers import (
    InputError,
    InputFormat,
    capture_events,
    decoded_bytes,
    read_input,
    stream_events,
)
from restate_inspect.readers.base64text import Base64TextDecoder
from restate_inspect.readers.hextext import HexTextDecoder
from restate_inspect.render.journal import JournalRenderer
from restate_inspect.render.jsonl import encode, invocation_records, record
from restate_inspect.render.text import TextRenderer
from restate_inspect.tui import model
from restate_inspect.tui.store import InvocationStore
from tests import capturewriter as cw
from tests.helpers import SAMPLES, fed_text
from tests.test_framing import assert_tiles

FUZZ_EXAMPLES = int(os.environ.get("RESTATE_INSPECT_FUZZ_EXAMPLES", "2000"))
fuzz = (
    settings(max_examples=FUZZ_EXAMPLES) if "HYPOTHESIS_PROFILE" not in os.environ else settings()
)

REAL_STREAMS = [path.read_bytes() for path in sorted(SAMPLES.glob("*.bin"))]
REAL_HEX = [path.read_text() for path in sorted(SAMPLES.glob("*.hex"))]
HEX_DIALECTS = [  # every dialect's real output, from tests/data/hex
    path.read_text()
    for path in sorted((Path(__file__).parent / "data" / "hex").glob("call.*"))
    if path.suffix != ".bin"
]


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[where : where + draw(st.integers(1, 16))]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[where:]
    return bytes(data)


def _feed_in_pieces(data: bytes, cuts: list[int]) -> list[object]:
    decoder = FrameDecoder(max_length=4096)
    events: list[object] = []
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for start, end in itertools.pairwise(bounds):
        events += decoder.feed(data[start:end])
    return events + decoder.end_of_stream()


@fuzz
@given(
    data=st.one_of(st.binary(max_size=2000), mutated(REAL_STREAMS)),
    cuts=st.lists(st.integers(0, 5000), max_size=8),
)
def test_frame_decoder_survives_anything(data: bytes, cuts: list[int]) -> None:
    events = _feed_in_pieces(data, cuts)
    assert_tiles(events, len(data))  # type: ignore[arg-type]


@fuzz
@given(
    text=st.one_of(
        st.text(max_size=500),
        mutated([t.encode() for t in REAL_HEX + HEX_DIALECTS]).map(
            lambda b: b.decode("utf-8", "replace")
        ),
    ),
    cut=st.integers(0, 600),
)
def test_text_readers_survive_anything(text: str, cut: int) -> None:
    for decoder in (HexTextDecoder(), Base64TextDecoder()):
        data, problems = fed_text(decoder, [text[:cut], text[cut:]])
        assert isinstance(data, bytes)
        assert all(p.line is not None for p in problems)


def _render(events: Iterable[InputEvent]) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    renderer = TextRenderer(console, show_bytes=True, max_payload=64)
    for item in decode_events(events):
        renderer.render(item)
        line = record(item)
        if line is not None:
            assert encode(line).isascii()


def _render_everything(raw: bytes) -> None:
    pieces = decoded_bytes(io.BytesIO(raw), "fuzz", InputFormat.AUTO)
    _render(stream_events(pieces, StreamKey("fuzz"), None))


@fuzz
@given(
    raw=st.one_of(
        mutated(REAL_STREAMS),
        mutated([t.encode() for t in REAL_HEX + HEX_DIALECTS]),
        st.binary(max_size=600),
    )
)
def test_whole_pipeline_and_both_renderers_survive_anything(raw: bytes) -> None:
    _render_everything(raw)


def _captures() -> list[bytes]:
    request = (SAMPLES / "v1-call-other.req.bin").read_bytes()
    response = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
    h2 = cw.conversation_packets(cw.h2_exchange(request, response), segment=90)
    h1 = cw.conversation_packets(cw.http1_exchange(request, response), segment=90)
    v5 = cw.conversation_packets(cw.h2_exchange(request, response, version=5), segment=90)
    head = (
        "POST /invoke/Demo/callOther HTTP/1.1\r\nUpgrade: h2c\r\n"
        "Content-Type: application/vnd.restate.invocation.v1\r\n"
        f"Content-Length: {len(request)}\r\n\r\n"
    )
    upgraded = cw.conversation_packets(
        [
            (0, head.encode() + request),
            (1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"),
            *cw.h2_exchange(request, response, stream_id=3),
        ],
        segment=90,
    )
    reset = cw.h2_exchange(request, response, chunk=40)
    reset.insert(-3, (0, cw.h2_frames(RstStreamFrame(1, error_code=8))))  # SDK data under way
    reset.append((1, cw.h2_frames(DataFrame(1, b"late"))))  # after its END_STREAM
    return [
        cw.pcap(h2),
        cw.pcap(cw.conversation_packets(reset, segment=90)),
        cw.pcap(h1, big_endian=True),
        cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], h2)]),
        cw.pcap(v5),
        cw.pcap(upgraded),
    ]


CAPTURES = _captures()


@fuzz
@given(raw=mutated(CAPTURES))
def test_capture_path_survives_broken_captures(raw: bytes) -> None:
    _render(capture_events(io.BytesIO(raw), "fuzz"))
    _journal(capture_events(io.BytesIO(raw), "fuzz"))


def _journal(events: Iterable[InputEvent]) -> None:
    """The journal's view: invocations, their rules, the timeline and its records."""
    text = JournalRenderer(Console(file=io.StringIO(), force_terminal=True, width=100))
    for item in invocations(decode_events(events)):
        if isinstance(item, Invocation):
            text.invocation(item)
            assert all(encode(line).isascii() for line in invocation_records(item))


def test_direction_of_fuzz_input_is_always_decided() -> None:
    events = list(stream_events([b"\x00"], StreamKey("x"), None))
    assert isinstance(events[-1], StreamEnd)
    assert events[-1].direction is Direction.SDK_TO_RUNTIME


COMPRESSED = [
    compress(data)
    for compress in (gzip.compress, bz2.compress, lzma.compress)
    for data in (CAPTURES[0], REAL_STREAMS[0])
]


@fuzz
@given(raw=mutated(COMPRESSED))
def test_broken_compressed_inputs_end_in_a_report(raw: bytes) -> None:
    """Decompressed as far as it goes, then RI007; an input error (exit 2) when nothing is."""
    message = ""
    try:
        _render(read_input("-", piped=raw))
    except InputError as exc:
        message = str(exc)
    assert not message or "cut short or corrupt" in message or "decompress it first" in message


@fuzz
@given(raw=st.one_of(mutated(CAPTURES), mutated(REAL_STREAMS)))
def test_the_tui_views_survive_broken_input(raw: bytes) -> None:
    """What the TUI shows of each attempt, after a trip through its store: rows, summaries,
    links, fields (searched), filters, and a search that visits every row."""
    store = InvocationStore()
    try:
        try:
            built = list(invocations(decode_events(read_input("-", piped=raw))))
        except InputError:  # a magic number mutated into another format's: exit 2
            return
        places = [store.add(item).place for item in built if isinstance(item, Invocation)]
        timelines = []
        for place in places:
            invocation = store.load(place)
            for attempt in invocation.attempts:
                rows = model.timeline_rows(attempt)
                started = model.first_time(rows)
                for row in rows:
                    model.time_text(row, started, absolute=True)
                    model.row_badges(row)
                    model.links(row, attempt, started)
                    if row.entry is not None:
                        model.replayed_in(attempt, invocation, row.entry)
                for choice in model.filter_choices(rows):
                    model.visible(rows, choice)
                timelines.append((attempt, rows))
        if timelines:
            found = model.search(len(timelines), timelines.__getitem__, "\x00absent", (0, -1))
            assert found is None
    finally:
        store.close()
