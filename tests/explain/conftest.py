"""Fixtures of the explanation tests."""

from __future__ import annotations

import pytest
from explain_helpers import version

from ecei_rules.ruleset.load import Ruleset


@pytest.fixture(scope="session")
def v301() -> Ruleset:
    return version("3.0.1")
