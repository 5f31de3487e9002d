"""An HTTP reader fed a connection's TCP items reads them as its own calls would: bytes,
a gap, the close in HTTP's words."""

from __future__ import annotations

import pytest

from restate_inspect.events import Connection, HttpEnd, TcpClosed, TcpData, TcpGap
from restate_inspect.readers.http1 import Http1Connection
from restate_inspect.readers.httpconnection import CLOSE_HOW, TcpItem

CONNECTION = Connection(1, ("10.0.0.1", 40000), ("10.0.0.2", 9080), True)
REQUEST = b"POST /invoke/S/h HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"


@pytest.mark.parametrize(("tcp", "http"), sorted(CLOSE_HOW.items()))
def test_items_read_as_the_readers_own_calls(tcp: str, http: str) -> None:
    by_items, by_calls = Http1Connection(0), Http1Connection(0)
    items: list[TcpItem] = [
        TcpData(CONNECTION, 0, REQUEST, 1.0, 1),
        TcpGap(CONNECTION, 0, 4, 1.1, 2),
        TcpClosed(CONNECTION, 0, tcp, 1 if tcp == "rst" else None),
    ]
    read = [event for item in items for event in by_items.feed(item)]
    called = by_calls.data(0, REQUEST, 1.0, 1) + by_calls.gap(0, 4, 1.1, 2)
    called += by_calls.close(0, http, 1 if tcp == "rst" else None)
    assert read == called
    assert isinstance(read[-1], HttpEnd) and read[-1].how == http  # cut short: not "end"
