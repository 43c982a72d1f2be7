"""Every evaluator decides derived values as ranges alike: the production evaluator (its decision,
its one-pass text and its label mode), the reference evaluator and the durable-rules backend, on
the building-points example opted into ranges (tests/data/ranges/building-points: credits as step
tables over inputs that may be absent, a points total, levels by a band) and on
tests/data/ranges/1.0.0.yaml (every range operation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ecei_rules.backends import durable
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).parents[2]
RULESETS = {"building-points 1.0.0": ROOT / "tests" / "data" / "ranges" / "building-points" / "1.0.0.yaml",
            "derived-ranges": ROOT / "tests" / "data" / "ranges" / "1.0.0.yaml"}
AGREE = settings(max_examples=50, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by tests/unit/test_derived_ranges.py
@pytest.mark.parametrize("name", list(RULESETS))
def test_every_evaluator_decides_derived_ranges_alike(name: str) -> None:
    """50 generated assessments: the same decision bytes from the production evaluator (and its
    one-pass text), the reference evaluator and the durable backend (label, validity and every
    outcome), the same label from the label mode; and some derived value has a range in them."""
    ruleset = load_ruleset(RULESETS[name])
    plan = durable.compile_ruleset(ruleset)
    ranged = 0

    @AGREE
    @given(assessments(ruleset))
    def agree(raw: dict[str, Any]) -> None:
        nonlocal ranged
        validated = validate_assessment(ruleset, raw)
        fast = evaluate(ruleset, validated)
        text = evaluate_reference(ruleset, validated).canonical_text()
        assert fast.canonical_text() == text
        assert decision_text(ruleset, validated) == text
        assert decide_label(ruleset, validated) == (fast.label, fast.valid_from, fast.valid_until)
        check = durable.cross_check(ruleset, raw, plan=plan)
        assert check.agree, check.differences
        ranged += any(d.range is not None for d in fast.derived)

    agree()
    assert ranged > 0, "no derived value had a range: the agreement says nothing about ranges"
