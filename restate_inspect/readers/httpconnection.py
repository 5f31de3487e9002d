"""What every HTTP reader of a TCP connection is (sans-IO): fed the connection's TCP events
(feed), it gives HTTP events; HTTP/2 and HTTP/1.1 each read their own way (data, gap,
close). The connection's items end with its sides' TcpClosed (the capture's end closes
every side, as "end")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Final

from restate_inspect.events import HttpEvent, TcpClosed, TcpData, TcpGap
from restate_inspect.rules import Problem

# TCP's ends in HTTP's words: a FIN closes, a RST resets, the capture's end cuts short
CLOSE_HOW: Final = {"fin": "closed", "rst": "reset", "end": "capture"}
TcpItem = TcpData | TcpGap | TcpClosed  # what a connection's HTTP is fed


class HttpConnection(ABC):
    """One TCP connection's HTTP: `client_side` is the side (0 or 1) that sends requests."""

    client_side: int

    def feed(self, event: TcpItem) -> list[HttpEvent | Problem]:
        if isinstance(event, TcpData):
            return self.data(event.side, event.data, event.time, event.packet)
        if isinstance(event, TcpGap):
            return self.gap(event.side, event.length, event.time, event.packet)
        return self.close(event.side, CLOSE_HOW[event.how], event.by)

    @abstractmethod
    def data(
        self, side: int, data: bytes, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        """Bytes a side sent, in order."""

    @abstractmethod
    def gap(
        self, side: int, length: int, time: float | None, packet: int
    ) -> list[HttpEvent | Problem]:
        """Bytes a side sent that the capture lacks."""

    @abstractmethod
    def close(self, side: int, how: str, by: int | None = None) -> list[HttpEvent | Problem]:
        """The side is over; how: "closed", "reset" or "capture" (its end); by: for a
        reset, the side that sent it."""
