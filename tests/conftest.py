"""Hypothesis profiles: 'dev' (default, quick), 'ci' (derandomised, used by .ci/run), 'deep' (release checks),
'fuzz-deep' (the fuzzers at length).

Choose one with HYPOTHESIS_PROFILE=ci|deep|dev, or fuzz-deep (the fuzzers of tests/fuzz, about an hour).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# ci: 80 examples a property (100 until 2026-12-07: the suite's ten minutes on CI's two cores; most of a
# property's time is hypothesis drawing whole assessments), derandomised; deep: 2,000, for release checks
settings.register_profile("ci", max_examples=80, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# the fuzzers of tests/fuzz under fuzz-deep: each runs its own very large count (about an hour in all)
settings.register_profile("fuzz-deep", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

pytest_plugins = ["pytester"]

# Hypothesis sometimes draws a number or text it found in the source of a local module, from every
# local module imported so far in the process: so the draws of a derandomized test depended on which
# modules the tests before it imported (a rare outcome met alone, missed in a whole-suite run). The
# local constants are pinned to none, so a test draws the same examples in any run
# (tests/property/test_draws.py).
_NO_LOCAL_CONSTANTS = Constants()
providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS


def pytest_configure(config: object) -> None:
    """Compile the package's bytecode once, in the process that starts the run (not in each xdist worker):
    a test that runs the command line in a fresh interpreter then reads it instead of compiling every module
    again, which it does each time where PYTHONDONTWRITEBYTECODE is set (as on CI's machines). Only the
    package's own ``__pycache__`` is written (ignored by git); nothing a test checks depends on it."""
    if hasattr(config, "workerinput"):
        return
    import compileall
    from pathlib import Path

    # quiet=2: a tree that cannot be written (read-only) is only not compiled
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "src" / "ecei_rules"), quiet=2)
