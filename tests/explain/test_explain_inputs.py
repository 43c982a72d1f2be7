"""What it takes, counted in inputs: one input that feeds several criteria is one change.

The methodology is ``tests/data/methodologies/green-points`` (1.0.0): a prerequisite P1 and eight
one-point criteria in steps over four inputs (energy_saving >= 0.10 / 0.20 / 0.30: E1, E2, E3;
water_saving >= 0.10 / 0.20: W1, W2; daylight >= 50 / 75: D1, D2; certified_materials >= 5: M1);
Certified, Silver and Gold need P1 and 2, 4 and 7 of the 8 points (shares 0.25, 0.5, 0.875).
Every expected value below is worked out by hand from that file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from explain_helpers import REGISTRY, tier_outcome, with_changes

from ecei_rules.explanation import explain, render_text
from ecei_rules.ruleset.load import Ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
POINTS = ROOT / "tests" / "data" / "methodologies" / "green-points" / "1.0.0.yaml"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def points() -> Ruleset:
    return load_ruleset(POINTS)


def _silver() -> dict[str, Any]:
    """W1, W2, D1, D2 and M1 met: 5 points, Silver (4 <= 5 < 7)."""
    return {"assessed_on": "2021-05-10", "building": {"id": "B-7", "name": "Harbour Office"},
            "commissioning": True, "energy_saving": Decimal("0.05"), "water_saving": Decimal("0.20"),
            "daylight": 80, "certified_materials": 7}


def test_what_it_takes_counts_inputs_not_criteria(points: Ruleset) -> None:
    """Gold needs 2 more points. By criteria that is "any 2 of E1, E2, E3": three sets of two criteria, each
    naming energy_saving twice. By inputs it is one change: energy_saving to 0.20 (E1 and E2 met, 7 points)."""
    path = explain(points, _silver()).path("gold")
    # the criterion view, as it was: three sets of two criteria over one input
    assert path.total_sets == 3
    assert {s.criteria for s in path.change_sets} == {("E1", "E2"), ("E1", "E3"), ("E2", "E3")}
    # the input view: one set, one input, the value it needs
    assert path.input_sets_total == 1
    (only,) = path.input_sets
    assert only.size == 1
    assert [(c.pointer, c.target) for c in only.inputs] == [("/energy_saving", Decimal("0.20"))]
    assert only.criteria == ("E1", "E2")
    assert only.verified is True
    text = render_text(explain(points, _silver()))
    assert "1. raise energy_saving from 0.05 to 0.20 (verified by deciding again)" in text
    assert "To reach Gold, the fewest changes are: raise energy_saving from 0.05 to 0.20" in text


def test_a_single_input_change_that_reaches_the_next_label_is_found(points: Ruleset) -> None:
    """From Certified (2 points: D1, D2), Silver needs 2 more. One input does it: energy_saving to 0.20 (E1, E2) or
    water_saving to 0.20 (W1, W2); materials alone adds only 1, and with another input it is not minimal (that
    input alone suffices). So exactly two sets, each of one input at the value it needs."""
    data = _silver() | {"water_saving": Decimal("0"), "certified_materials": 0}
    assert tier_outcome(points, data, "certified") == "met"
    assert tier_outcome(points, data, "silver") == "not_met"
    path = explain(points, data).path("silver")
    assert path.input_sets_total == 2
    assert [s.size for s in path.input_sets] == [1, 1]
    assert {(s.inputs[0].pointer, s.inputs[0].target) for s in path.input_sets} == {
        ("/energy_saving", Decimal("0.20")), ("/water_saving", Decimal("0.20"))}
    for s in path.input_sets:
        assert s.verified
        assert tier_outcome(points, with_changes(data, [(c.pointer, c.target) for c in s.inputs]), "silver") == "met"
    # the criterion view never finds a single change: its smallest sets are two criteria
    assert min(s.size for s in path.change_sets) == 2


def test_minimal_change_sets_are_few_and_distinct(points: Ruleset) -> None:
    """From 2 points (D1, D2), Gold needs 5 more of E (3), W (2) and M (1): only energy and water together (5);
    by criteria, "any 5 of E1, E2, E3, W1, W2, M1" are six sets. An exponential count is never printed."""
    data = _silver() | {"water_saving": Decimal("0"), "certified_materials": 0}
    path = explain(points, data).path("gold")
    assert path.total_sets == 6  # the criterion view
    assert path.input_sets_total == 1
    (only,) = path.input_sets
    assert {(c.pointer, c.target) for c in only.inputs} == {("/energy_saving", Decimal("0.30")),
                                                            ("/water_saving", Decimal("0.20"))}
    keys = [tuple(sorted((c.pointer, str(c.target)) for c in s.inputs)) for s in path.input_sets]
    assert len(keys) == len(set(keys))
    # minimal: the set reaches Gold, and without either of its inputs it does not
    changes = [(c.pointer, c.target) for c in only.inputs]
    assert tier_outcome(points, with_changes(data, changes), "gold") == "met"
    for dropped in changes:
        assert tier_outcome(points, with_changes(data, [c for c in changes if c != dropped]), "gold") == "not_met"
    # ecei-labels 2.0.0 on examples/silver-2016.json: Gold needs any 9 of 15 indicators, 5005 ways
    import json

    silver = json.loads((EXAMPLES / "silver-2016.json").read_text(encoding="utf-8"), parse_float=Decimal)
    expl = explain(REGISTRY.get("ecei-labels", "2.0.0"), silver)
    gold = expl.path("gold")
    assert gold.input_sets_total == 5005
    assert len(gold.input_sets) == 10
    assert len({tuple(c.pointer for c in s.inputs) for s in gold.input_sets}) == 10
    text = render_text(expl)
    assert "5005" not in text
    assert "Many minimal change sets (every choice the options above allow); the first 10" in text
