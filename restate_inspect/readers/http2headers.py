"""One direction's HPACK decoding on an HTTP/2 connection, and the header blocks it has
decoded already: a response's head (`:status 200`, its content type, indexed) is the same
few bytes in every stream, and decodes to the same headers while the table is as it was."""

from __future__ import annotations

from typing import Final

from hpack import Decoder
from hpack.exceptions import HPACKError

from restate_inspect.headers import Headers


class HpackBroken(Exception):
    """The table is not the sender's (its start was before the capture, or bytes were
    lost): no header of this direction can be known from here on."""


class HeaderDecoder:
    def __init__(self, known: bool) -> None:
        """known: the table is known from its start (the connection's preface was seen)."""
        self.decoder = Decoder()
        self.known = known
        # header blocks that left the table as it was, with what they decoded to and the
        # table they did it on
        self.known_blocks: dict[bytes, tuple[Headers, _TableState]] = {}

    def decode(self, block: bytes) -> Headers | None:
        """The block's headers; None when the table is not known. Raises HpackBroken the
        first time a block does not decode."""
        if not self.known:
            return None
        table = _table_state(self.decoder)
        known = self.known_blocks.get(block)
        if known is not None and _same_table(known[1], table):
            return known[0]
        try:
            decoded = self.decoder.decode(block, raw=True)  # raw: a header may not be UTF-8
        except (HPACKError, ValueError, IndexError) as exc:
            self.known = False
            raise HpackBroken(str(exc)) from exc
        headers = tuple((k.decode("latin-1"), v.decode("utf-8", "replace")) for k, v in decoded)
        if _same_table(table, _table_state(self.decoder)):
            if len(self.known_blocks) >= _KNOWN_BLOCKS:
                self.known_blocks.clear()
            self.known_blocks[block] = (headers, table)
        return headers


_KNOWN_BLOCKS: Final = 64
_TableState = tuple[object, int, int, int]  # first entry, entries, size limit, allowed limit


def _table_state(decoder: Decoder) -> _TableState:
    """What tells an HPACK table from the one it was: every insertion puts a new entry
    first (held here, so that no other object can take its id), and only an insertion or
    a new size limit evicts."""
    table = decoder.header_table
    entries = table.dynamic_entries
    first = entries[0] if entries else None
    return (first, len(entries), table.maxsize, decoder.max_allowed_table_size)


def _same_table(one: _TableState, other: _TableState) -> bool:
    return one[0] is other[0] and one[1:] == other[1:]
