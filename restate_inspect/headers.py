"""HTTP headers as the readers give them, and the content type that names a protocol version.
A leaf: the readers and the journal both ask these."""

from __future__ import annotations

import functools
from typing import Final

Headers = tuple[tuple[str, str], ...]
INVOCATION_CONTENT_TYPE: Final = "application/vnd.restate.invocation.v"  # then N


def media_type(content_type: str | None) -> str:
    """A content type as compared: without its parameters, in lowercase."""
    return (content_type or "").split(";")[0].strip().lower()


@functools.lru_cache(maxsize=64)  # a capture holds a few content types, asked for often
def invocation_version(content_type: str | None) -> int | None:
    """N from `application/vnd.restate.invocation.vN`; None for any other content type."""
    kind = media_type(content_type)
    number = kind[len(INVOCATION_CONTENT_TYPE) :]
    if kind.startswith(INVOCATION_CONTENT_TYPE) and number.isascii() and number.isdigit():
        return int(number)  # isdigit() alone takes "²", which int() refuses
    return None


def find_header(headers: Headers | None, name: str) -> str | None:
    """The value of the first header called name (given in lowercase), in any case."""
    for key, value in headers or ():
        if len(key) == len(name) and key.lower() == name:
            return value
    return None
