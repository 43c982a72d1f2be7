"""The must-show case: a Bronze organisation under 3.0.1 with 33 of 46 Gold weight met.

Hand derivation (spec section 5; 3.0.1 weights: 2 for every 4.* indicator, 1 otherwise, total 46):
the Gold fixture (all 31 indicators pass) with nine failures --
  weight 1: 2.2.3 false, 2.3 0.79 < 0.80, 3.2 0.22 < 0.30, 5.2 2 < 3, 5.3 false    (5)
  weight 2: 4.5 2 < 3, 4.7 2 < 3, 4.8 false, 4.9 1 < 2                             (8)
met weight 46 - 13 = 33; Gold needs 0.80 x 46 = 36.8, so 3.8 more weight. The minimal sets by
inclusion: any two of the weight-2 four (4; C(4,2) = 6), or one weight-2 and two weight-1
(4; 4 x C(5,2) = 40), or four weight-1 (4; C(5,4) = 5): 51 sets. One weight-2 and one weight-1
(3) or three weight-1 (3) fall short; one weight-2 and three weight-1 (5) is not minimal.
Eligibility and B1, B2 are met, so the label is Bronze (first award, month_end(2021-03-16, 24)).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from explain_helpers import fixture_data, tier_outcome, with_changes

from ecei_rules.explanation import explain, render_markdown, render_text
from ecei_rules.explanation.model import Explanation
from ecei_rules.ruleset.load import Ruleset

W1 = ("2.2.3", "2.3", "3.2", "5.2", "5.3")
W2 = ("4.5", "4.7", "4.8", "4.9")
FAILURES: dict[str, Any] = {"2.2.3": False, "2.3": Decimal("0.79"), "3.2": Decimal("0.22"), "5.2": 2, "5.3": False,
                            "4.5": 2, "4.7": 2, "4.8": False, "4.9": 1}
# the value each criterion needs at least (or exactly), from the 1.1.0 and 3.0.0 parameters
TARGETS: dict[str, Any] = {"2.2.3": True, "2.3": Decimal("0.80"), "3.2": Decimal("0.30"), "5.2": 3, "5.3": True,
                           "4.5": 3, "4.7": 3, "4.8": True, "4.9": 2}


@pytest.fixture(scope="module")
def bronze33(v301: Ruleset) -> dict[str, Any]:
    data = fixture_data(v301, "gold")
    data["assessed_on"] = "2021-03-16"
    data["indicators"].update(FAILURES)
    return data


@pytest.fixture(scope="module")
def expl(v301: Ruleset, bronze33: dict[str, Any]) -> Explanation:
    return explain(v301, bronze33, max_change_sets=100)


def _hand_sets() -> set[frozenset[str]]:
    pairs = {frozenset(p) for p in itertools.combinations(W2, 2)}
    mixed = {frozenset((a, *b)) for a in W2 for b in itertools.combinations(W1, 2)}
    fours = {frozenset(q) for q in itertools.combinations(W1, 4)}
    return pairs | mixed | fours


def test_decision_is_bronze_with_33_of_46(expl: Explanation) -> None:
    assert expl.label == "bronze"
    assert str(expl.valid_until) == "2023-03-31"
    score = next(s for s in expl.scores if s.id == "gold_score")
    assert (score.met_weight, score.total_weight, score.required_weight, score.shortfall) == (
        33, 46, Decimal("36.8"), Decimal("3.8"))
    assert set(score.not_met) == set(W1) | set(W2)
    gold = expl.tier("gold")
    assert gold.outcome == "not_met"
    assert gold.not_met == ("gold_score",)


def test_gold_options_are_the_hand_derived_three(expl: Explanation) -> None:
    path = expl.path("gold")
    assert path.reachable
    assert path.mandatory == ()
    (need,) = path.needs
    assert need.deficit == Decimal("3.8")
    shapes = [[(p.count, p.weight, p.criteria) for p in o.picks] for o in need.options]
    assert shapes == [[(2, 2, W2)], [(1, 2, W2), (2, 1, W1)], [(4, 1, W1)]]
    assert [o.combinations for o in need.options] == [6, 40, 5]
    assert "any 2 of 4.5, 4.7, 4.8, 4.9 (weight 2 each)" in need.sentence
    assert "any 4 of 2.2.3, 2.3, 3.2, 5.2, 5.3 (weight 1 each)" in need.sentence


def test_gold_change_sets_are_exactly_the_51_minimal_sets(expl: Explanation) -> None:
    path = expl.path("gold")
    assert path.total_sets == 51
    assert not path.truncated
    assert {frozenset(s.criteria) for s in path.change_sets} == _hand_sets()
    sizes = [s.size for s in path.change_sets]
    assert sizes == sorted(sizes)
    # the six pairs of weight-2 indicators come first, in ruleset order
    assert [s.criteria for s in path.change_sets[:6]] == [tuple(p) for p in itertools.combinations(W2, 2)]


def test_each_change_set_reaches_gold_and_no_smaller_one_does(v301: Ruleset, bronze33: dict[str, Any],
                                                               expl: Explanation) -> None:
    """Apply every suggested set to the assessment and decide again; then drop each member in turn."""
    path = expl.path("gold")
    changes = {ch.criterion: ch.changes for ch in path.changes}
    for s in path.change_sets:
        assert s.concrete
        assert s.feasible
        assert s.verified
        assert {(c.pointer, c.target) for c in s.changes} == {(f"/indicators/{c}", TARGETS[c]) for c in s.criteria}
        assert tier_outcome(v301, with_changes(bronze33, [(c.pointer, c.target) for c in s.changes]), "gold") == "met"
        for dropped in s.criteria:
            rest = [(one.pointer, one.target) for c in s.criteria if c != dropped for one in changes[c]]
            assert tier_outcome(v301, with_changes(bronze33, rest), "gold") == "not_met"


def test_concrete_changes_name_the_values(expl: Explanation) -> None:
    by_id = {ch.criterion: ch for ch in expl.path("gold").changes}
    assert by_id["3.2"].sentence == "raise 3.2 (Share of private funds in the financing) from 0.22 to 0.30"
    assert by_id["2.2.3"].sentence == "change 2.2.3 (Long-term upskilling plan for the team) from no to yes"
    assert [(c.pointer, c.target) for c in by_id["4.9"].changes] == [("/indicators/4.9", 2)]


def test_cap_keeps_the_count_exact(v301: Ruleset, bronze33: dict[str, Any]) -> None:
    path = explain(v301, bronze33).path("gold")  # default: 10 listed
    assert path.total_sets == 51
    assert len(path.change_sets) == 10
    assert path.truncated
    # the first ten: the six weight-2 pairs, then one weight-2 (4.5) with two weight-1
    assert [s.size for s in path.change_sets] == [2] * 6 + [3] * 4


def test_near_misses_and_narrow_passes(expl: Explanation) -> None:
    """Within 10 %: 2.3 is 0.01 short of 0.80; 2.4, 2.7, 4.1.6 sit at 3 of 3; 1.1.0 is 0.82 for 0.75 (0.07 <= 0.075)."""
    assert [n.criterion for n in expl.near_misses] == ["2.3"]
    assert expl.near_misses[0].distance == Decimal("0.01")
    assert {n.criterion for n in expl.narrow_passes} == {"2.4", "2.7", "4.1.6", "1.1.0"}


def test_silver_is_out_of_reach_because_of_history(expl: Explanation) -> None:
    """No history: S1 (a Bronze 18 to 24 months before) depends only on assessed_on and history."""
    path = expl.path("silver")
    assert not path.reachable
    assert path.fixed == ("S1",)
    s1 = next(ch for ch in path.changes if ch.criterion == "S1")
    assert s1.kind == "fixed"
    assert s1.fixed_inputs == ("/assessed_on", "/history")


def test_text_and_markdown(expl: Explanation, v301: Ruleset, bronze33: dict[str, Any]) -> None:
    text = render_text(explain(v301, bronze33))
    assert text.startswith("Under ecei-labels 3.0.1, Nordic Subsea Technology Cluster (NO-0031) is awarded the label "
                           "Bronze: Striving for Cluster Excellence, valid from 2021-03-16 to 2023-03-31.")
    assert "51 minimal change sets; the first 10, fewest changes first:" in text
    assert "1. raise 4.5 (Working groups) from 2 to 3 and raise 4.7 (Internationalisation strategy) from 2 to 3" in text
    assert "3.2 (Share of private funds in the financing) is 0.22, needs at least 0.30." in text
    assert "gold_3_2 = 0.30 share of the financing (assumed: no Gold threshold is published" in text
    assert "clause: ECEI criteria (2013), indicator 3.2" in text
    md = render_markdown(expl)
    assert md.startswith("# ecei-labels 3.0.1: Nordic Subsea Technology Cluster\n")
    assert "## What it takes" in md
    assert "### Gold: Proven for Cluster Excellence (now not met)" in md
    assert "| 3.2 | Gold: 3.2 private funds | not met | /indicators/3.2 = 0.22 |" in md
