"""Shared fixtures and hypothesis profiles.

Profiles: "ci" (the default: thousands of fuzz examples, a few minutes in all) and "fuzz"
(HYPOTHESIS_PROFILE=fuzz: far more, for a long run outside CI).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "fuzz", deadline=None, suppress_health_check=list(HealthCheck), max_examples=200_000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
