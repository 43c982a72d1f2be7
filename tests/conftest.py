"""Hypothesis profiles: 'dev' (default, quick), 'ci' (derandomised, used by .ci/run), 'deep' (release checks),
'fuzz-deep' (the fuzzers at length).

Choose one with HYPOTHESIS_PROFILE=ci|deep|dev, or fuzz-deep (the fuzzers of tests/fuzz, about an hour).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# the fuzzers of tests/fuzz under fuzz-deep: each runs its own very large count (about an hour in all)
settings.register_profile("fuzz-deep", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

pytest_plugins = ["pytester"]
