"""Property: applying a suggested change set to a generated assessment reaches the tier, and dropping any one
of its changes does not (so no strictly smaller subset does: the requirement is monotone in its criteria)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from explain_helpers import tier_outcome, version, with_changes
from hypothesis import HealthCheck, given, settings

from ecei_rules import load_ruleset
from ecei_rules.explanation import explain
from ecei_rules.testing.strategies import assessments

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"  # every construct of the language


# version, examples, and how many concrete change sets (of them with two criteria or more) must be checked at least
CASES = [("1.2.0", 40, 20, 5), ("2.0.0", 40, 20, 5), ("3.0.1", 40, 20, 5), ("every", 150, 20, 0)]


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize(("v", "examples", "min_sets", "min_multi"), CASES)
def test_change_sets_reach_their_tier_and_are_minimal(v: str, examples: int, min_sets: int, min_multi: int) -> None:
    ruleset = load_ruleset(EVERY) if v == "every" else version(v)
    checked = {"sets": 0, "multi": 0}

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(assessments(ruleset))
    def check(data: dict[str, Any]) -> None:
        expl = explain(ruleset, data, max_change_sets=4)
        for path in expl.what_it_takes:
            by_criterion = {ch.criterion: ch.changes for ch in path.changes}
            for s in path.change_sets:
                if not (s.concrete and s.feasible):
                    continue
                changes = [(c.pointer, c.target) for c in s.changes]
                assert tier_outcome(ruleset, with_changes(data, changes), path.label) == "met", (path.label, s)
                for dropped in s.criteria:
                    rest = [(one.pointer, one.target) for c in s.criteria if c != dropped
                            for one in by_criterion[c]]
                    assert tier_outcome(ruleset, with_changes(data, rest), path.label) != "met", (path.label, dropped)
                assert s.verified is True
                checked["sets"] += 1
                checked["multi"] += s.size > 1

    check()
    # the property was exercised, not vacuously true
    assert checked["sets"] >= min_sets, checked
    assert checked["multi"] >= min_multi, checked
