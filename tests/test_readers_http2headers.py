"""One direction's HPACK decoding: blocks decoded once while the table is as it was, and a
block that does not decode breaking the table for good."""

from __future__ import annotations

import pytest
from hpack import Encoder

from restate_inspect.readers.http2headers import HeaderDecoder, HpackBroken


def test_a_header_block_decoded_on_the_same_table_is_decoded_once() -> None:
    encoder, decoder = Encoder(), HeaderDecoder(known=True)
    first = encoder.encode([(":status", "200"), ("content-type", "application/json")])
    again = encoder.encode([(":status", "200"), ("content-type", "application/json")])
    assert first != again  # the second is indexed: the table has what the first added
    headers = decoder.decode(first)
    assert decoder.decode(again) == headers
    assert decoder.decode(again) is decoder.decode(again)  # reused, the table unchanged
    assert HeaderDecoder(known=False).decode(first) is None  # an unknown table tells nothing


def test_a_block_that_does_not_decode_breaks_the_table_for_good() -> None:
    decoder = HeaderDecoder(known=True)
    with pytest.raises(HpackBroken):
        decoder.decode(b"\xbf")  # an index past the tables
    assert not decoder.known
    assert decoder.decode(Encoder().encode([(":status", "200")])) is None
