"""Shared fixtures of the durable-rules backend tests.

durable-rules is an optional extra, but the test command installs it (``pip install -e
'.[test,durable]'``): when it is missing, these tests fail with the install hint instead of
skipping, so they cannot silently stop running in CI. On a machine that cannot build it (no C
compiler, Python 3.13), set ``ECEI_RULES_ALLOW_NO_DURABLE=1`` to skip them.
"""

from __future__ import annotations

import os

import pytest

from ecei_rules.backends._durable_runtime import DurableUnavailableError, Runtime, runtime


@pytest.fixture(scope="session")
def durable_runtime() -> Runtime:
    """The process's durable-rules runtime (fails, or skips when allowed, without the extra)."""
    try:
        return runtime()
    except DurableUnavailableError as exc:
        if os.environ.get("ECEI_RULES_ALLOW_NO_DURABLE") == "1":
            pytest.skip(str(exc))
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(autouse=True)
def _needs_durable(request: pytest.FixtureRequest) -> None:
    if "no_durable_needed" not in request.keywords:
        request.getfixturevalue("durable_runtime")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_durable_needed: the test runs without durable-rules installed")
