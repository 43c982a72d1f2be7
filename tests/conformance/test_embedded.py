"""Checks over the tests embedded in the shipped rulesets.

The embedded tests themselves run as pytest items through the plugin
(``ecei_rules.testing.pytest_plugin``, configured in pyproject.toml); these tests check that
they cover what the methodology needs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from ecei_rules import Ruleset, load_ruleset
from ecei_rules.registry import shipped_rulesets
from ecei_rules.testing import run_embedded

FILES = sorted(shipped_rulesets().glob("*/*.yaml"))


@cache
def _load(path: Path) -> Ruleset:
    return load_ruleset(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}@{p.stem}")
def test_every_tier_is_seen_met_not_met_and_unknown(path: Path) -> None:
    """Each version's embedded tests show every tier met, not met and unknown at least once."""
    ruleset = _load(path)
    seen: dict[str, set[str]] = {label: set() for label in ruleset.document.labels}
    for result in run_embedded(ruleset):
        assert result.decision is not None, result.report()
        for tier in result.decision.tiers:
            seen[tier.label].add(tier.outcome)
    lacking = {label: {"met", "not_met", "unknown"} - outcomes for label, outcomes in seen.items()
               if outcomes != {"met", "not_met", "unknown"}}
    assert not lacking, f"{path}: no embedded test shows {lacking}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}@{p.stem}")
def test_every_embedded_test_says_how_it_was_derived(path: Path) -> None:
    """Every embedded test carries a derivation: the hand computation behind its expectation."""
    missing = [t.name for t in _load(path).document.tests if not (t.derivation or "").strip()]
    assert not missing, f"{path}: tests without a derivation: {missing}"
