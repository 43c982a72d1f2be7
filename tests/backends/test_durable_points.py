"""The durable backend on scores that weigh numbers as they are (``tests/data/points/2.0.0.yaml``):
the interpreter reads what each number counts and posts what the criteria must still reach;
durable-rules folds the criteria's weights and compares (see the module docstring of
``ecei_rules.backends.durable``). And the missing inputs of its unknown tiers, where the evaluation
went (``tests/data/needed/1.0.0.yaml``)."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ecei_rules.backends import durable
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.testing.strategies import assessments

WEIGHED = Path(__file__).parents[1] / "data" / "points" / "2.0.0.yaml"
NEEDED = Path(__file__).parents[1] / "data" / "needed" / "1.0.0.yaml"


def _cases() -> list[dict[str, Any]]:
    ruleset = load_ruleset(WEIGHED)
    nothing = {"assessed_on": "2022-06-15", "building": {"id": "B-2", "smoking_banned": True}}  # all unknown
    return [*(embedded_assessment(ruleset.document, i) for i in range(len(ruleset.document.tests))), nothing]


def test_the_engines_agree_on_every_embedded_test_of_points_weighed_as_numbers() -> None:
    """Both sides of every level, a number clipped at its maximum and at 0, half a point, each number
    unknown: the same label, every outcome and every score's met, unknown, total and required weight;
    each level is met, not met and unknown among them."""
    ruleset = load_ruleset(WEIGHED)
    plan = durable.compile_ruleset(ruleset)
    seen: dict[str, set[str]] = {}
    for data in _cases():
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, check.differences
        for sid, s in check.durable.scores.items():
            seen.setdefault(sid, set()).add(s.outcome)
    assert seen == {level: {"met", "not_met", "unknown"} for level in
                    ("points.certified", "points.silver", "points.gold", "points.platinum")}


def test_durable_rules_compares_the_weights_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Posting a need one scaled point too high (as a wrong reading of the numbers would) makes the engines
    disagree on exactly-Gold: the comparison is durable-rules', not a copy of the core's outcome."""
    ruleset = load_ruleset(WEIGHED)
    gold = next(d for d, t in zip(_cases(), ruleset.document.tests, strict=False) if t.name.startswith("exactly Gold"))
    assert durable.cross_check(ruleset, gold).agree
    right = durable._points_facts

    def wrong(plan: durable.DurablePlan, data: Any) -> list[Any]:
        return [{**f, "met": f["met"] + 1} for f in right(plan, data)]

    monkeypatch.setattr(durable, "_points_facts", wrong)
    check = durable.cross_check(ruleset, copy.deepcopy(gold))
    assert (check.core.label, check.durable.label) == ("gold", "silver")
    assert check.durable.scores["points.gold"].met_weight == Fraction(8)  # the weights are the interpreter's


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the tests above (docs/contributing.md)
def test_engines_agree_on_generated_assessments_of_points_weighed_as_numbers() -> None:
    """50 generated assessments (numbers of any precision the inputs allow, absent or not): both
    engines agree on everything they decide."""
    ruleset = load_ruleset(WEIGHED)
    plan = durable.compile_ruleset(ruleset)

    @settings(max_examples=50, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(assessments(ruleset))
    def agree(data: dict[str, Any]) -> None:
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, (data, check.differences)

    agree()


def test_the_engines_agree_on_the_missing_inputs_where_the_evaluation_went() -> None:
    """Branches not taken, operands after another decided, derived values with a value: durable's unknown
    tiers list what the core's do (they differ from every absent input read, in some of these)."""
    ruleset = load_ruleset(NEEDED)
    plan = durable.compile_ruleset(ruleset)
    narrower = 0
    for site in ({"x": 10}, {"flag": True}, {"flag": False, "z": 2}, {"x": 60}, {}):
        check = durable.cross_check(ruleset, {"assessed_on": "2021-01-15", "site": {"id": "S-1", **site}}, plan=plan)
        assert check.agree, check.differences
        reads = {c.id: set(c.missing) for c in check.core.criteria}
        narrower += sum(1 for t in check.durable.tiers if t.outcome == "unknown"
                        and set(t.missing) < set().union(*(reads[r] for r in ruleset.document.tiers[t.label].requires)))
    assert narrower >= 4
