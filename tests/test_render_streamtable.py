"""The streams table: it fits a narrow terminal, and keeps every column whole in a pipe."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from restate_inspect.pipeline import decode_events
from restate_inspect.readers import read_input
from restate_inspect.render.streamtable import StreamTable
from restate_inspect.streams import StreamSummary, group_streams, summarize
from tests.helpers import SAMPLES


def _rows() -> list[StreamSummary]:
    groups = group_streams(decode_events(read_input(str(SAMPLES / "v1-features.pcapng"))))
    return [summarize(group) for group in groups if group.info is not None]


@pytest.mark.parametrize("width", [80, 100, 120, 140])
def test_the_streams_table_fits_a_narrow_terminal(width: int) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=width)
    table = StreamTable(console)
    lines = [table.header_text()] + [table.row_text(row) for row in _rows()]
    assert max(line.cell_len for line in lines) <= width
    assert {"start (UTC)", "stream", "request", "status", "invocation", "ending"} <= set(
        table.columns
    )
    rows = [line.plain for line in lines[1:]]
    assert any("Demo/callOther" in row for row in rows)  # the target, without /invoke/
    assert all(" inv_" in row or "/discover" in row for row in rows)


def test_the_streams_table_in_a_pipe_keeps_every_column_whole() -> None:
    table = StreamTable(Console(file=io.StringIO(), force_terminal=False, width=80))
    assert table.columns == dict(StreamTable.COLUMNS)
    row = next(row for row in _rows() if row.invocation_id)
    assert f" {row.invocation_id} " in table.row_text(row).plain
