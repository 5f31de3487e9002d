"""HTTP headers: finding one by name in any case, and the protocol version a content type
names."""

from __future__ import annotations

import pytest

from restate_inspect.headers import find_header, invocation_version, media_type


@pytest.mark.parametrize(
    ("content_type", "version"),
    [
        ("application/vnd.restate.invocation.v6", 6),
        ("Application/VND.Restate.Invocation.V2; charset=utf-8", 2),  # as compared: lowercase
        (" application/vnd.restate.invocation.v12 ", 12),
        ("application/vnd.restate.invocation.v", None),
        ("application/vnd.restate.invocation.v²", None),  # a digit to isdigit(), not to int()
        ("application/vnd.restate.invocation.v1x", None),
        ("application/json", None),
        (None, None),
    ],
)
def test_the_version_a_content_type_names(content_type: str | None, version: int | None) -> None:
    assert invocation_version(content_type) == version


def test_a_media_type_is_compared_without_parameters_in_lowercase() -> None:
    assert media_type("Application/JSON ; charset=UTF-8") == "application/json"
    assert media_type(None) == media_type("") == ""


def test_the_first_header_of_a_name_in_any_case() -> None:
    headers = (("Content-Type", "a"), ("content-type", "b"), ("x-restate-id", "c"))
    assert find_header(headers, "content-type") == "a"
    assert find_header(headers, "x-restate-id") == "c"
    assert find_header(headers, "x-restate") is None  # a prefix is not the name
    assert find_header(None, "content-type") is None
