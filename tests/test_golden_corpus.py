"""Every shared capture and sample, through decode, journal, check and streams (JSON and
text), prints what the golden files hold (tests/golden_corpus.py made them)."""

from __future__ import annotations

import difflib
import os

import pytest

from tests.golden_corpus import Case, cases, made, stored
from tests.helpers import captures_path

if not captures_path().is_dir() and not os.environ.get("CI"):
    pytest.skip(f"shared captures not found at {captures_path()}", allow_module_level=True)


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_output_is_what_the_golden_file_holds(case: Case) -> None:
    assert case.path.is_file(), f"no golden file for {case.name}: run python -m tests.golden_corpus"
    want, got = stored(case), made(case)
    if got != want:
        diff = difflib.unified_diff(
            want.decode(errors="replace").splitlines(),
            got.decode(errors="replace").splitlines(),
            "golden",
            "now",
            n=1,
            lineterm="",
        )
        pytest.fail(f"{case.name} differs:\n" + "\n".join(list(diff)[:60]))
