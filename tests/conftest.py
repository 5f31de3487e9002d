"""Shared fixtures and hypothesis profiles.

Profiles: "ci" (the default: thousands of fuzz examples, a few minutes in all) and "fuzz"
(HYPOTHESIS_PROFILE=fuzz: far more, for a long run outside CI).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "fuzz", deadline=None, suppress_health_check=list(HealthCheck), max_examples=200_000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The coverage gate re-runs the riskiest layers' tests under coverage, for most of a
    minute: when it is among the tests, it starts now, beside the others (2 cores)."""
    if any(item.name == "test_riskiest_layers_have_full_branch_coverage" for item in items):
        from tests.test_quality import COVERAGE_RUN, coverage_run

        config.stash[COVERAGE_RUN] = coverage_run()
