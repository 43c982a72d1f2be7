"""Fixtures of the comparison tests (issue 4); the helpers and spec tables are in compare_helpers."""

from __future__ import annotations

import pytest
from compare_helpers import EXAMPLES, PAIRS, SHIPPED, M, cached_bump_check

from ecei_rules.compare.bump import BumpReport
from ecei_rules.registry import Registry


@pytest.fixture
def memo_bumps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make lint (and the lint command) use the memoised bump check."""
    import ecei_rules.testing.lint as lint_module

    monkeypatch.setattr(lint_module, "bump_check", cached_bump_check)


@pytest.fixture(scope="session")
def shipped() -> Registry:
    """The registry over the repository's rulesets directory."""
    return Registry(SHIPPED)


@pytest.fixture(scope="session")
def shipped_bumps(shipped: Registry) -> dict[tuple[str, str], BumpReport]:
    """The bump check of every consecutive shipped pair, run once per session."""
    return {(a, b): cached_bump_check(shipped.get(M, a), shipped.get(M, b), max_examples=EXAMPLES)
            for a, b in PAIRS}
