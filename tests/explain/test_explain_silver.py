"""Silver refusals: each missing condition is named with its clause, and what it takes is stated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from explain_helpers import fixture_data, tier_outcome, version, with_changes

from ecei_rules.explanation import explain, render_markdown, render_text
from ecei_rules.ruleset.load import Ruleset

S1_CLAUSE = "cluster-analysis.org/silver-label: a second Bronze benchmarking 1.5 to 2 years after the first"
S3_CLAUSE = "cluster-analysis.org/silver-label: three improvement areas tied to the quality indicators"
SB_CLAUSE = "European Cluster Excellence Baseline - Minimum Requirements (cluster-analysis.org/silver-label), indicator"


@pytest.fixture
def refused(v301: Ruleset) -> dict[str, Any]:
    """The 3.0.1 Silver fixture, assessed 2021-03-10, failing three conditions.

    S1: months_between(2019-09-11, 2021-03-10) = 12*2 + (3 - 9) = 18, minus 1 (day 10 < 11) = 17 < 18.
    S3: validated in-scope areas 2.5 and 4.1.6 only: 2 < 3.
    SB-2.5: 0.29 < 0.30. Bronze (B1, B2, eligibility) stays met.
    """
    data = fixture_data(v301, "silver")
    data["assessed_on"] = "2021-03-10"
    data["history"] = [{"label": "bronze", "awarded_on": "2019-09-11", "valid_until": "2021-09-30"}]
    data["improvement_areas"] = [{"indicator": "2.5", "validated": True}, {"indicator": "4.1.6", "validated": True}]
    data["indicators"]["2.5"] = Decimal("0.29")
    return data


def test_silver_refusal_names_each_condition_with_its_clause(v301: Ruleset, refused: dict[str, Any]) -> None:
    expl = explain(v301, refused)
    assert expl.label == "bronze"
    silver = expl.tier("silver")
    assert silver.outcome == "not_met"
    assert silver.not_met == ("S1", "S3", "SB-2.5")
    assert silver.sentence == (
        "Silver: Dedicated to Cluster Excellence: not met, because of A previous Bronze 18 to 24 months before "
        "(S1), Three validated improvement areas in the Silver scope (S3) and Silver baseline: 2.5 direct contacts "
        "(SB-2.5).")
    assert S1_CLAUSE in (expl.criterion("S1").clause or "")
    text = render_text(expl)
    silver_part = text.split("  Silver: Dedicated")[1].split("  Bronze: Striving")[0]
    for needle in (S1_CLAUSE, S3_CLAUSE, SB_CLAUSE + " 2.5",
                   "2.5 (Direct contacts: share of participants met in the last year) is 0.29, needs at least 0.30",
                   "silver_2_5 = 0.30 share of participants (assumed:",
                   "min_improvement_areas = 3 improvement areas (sourced:"):
        assert needle in silver_part
    md = render_markdown(expl)
    assert "### Silver: Dedicated to Cluster Excellence" in md
    assert S3_CLAUSE in md


def test_silver_refused_by_history_is_out_of_reach(v301: Ruleset, refused: dict[str, Any]) -> None:
    path = explain(v301, refused).path("silver")
    assert not path.reachable
    assert path.mandatory == ("S1", "S3", "SB-2.5")
    assert path.fixed == ("S1",)
    kinds = {ch.criterion: ch.kind for ch in path.changes}
    assert kinds == {"S1": "fixed", "S3": "condition", "SB-2.5": "input"}
    assert "cannot be reached by changing this assessment" in path.sentence
    assert "assessed_on and history, facts that cannot change" in path.sentence
    assert "raise 2.5 (Direct contacts: share of participants met in the last year) from 0.29 to 0.30" in path.sentence


def test_silver_within_reach_when_the_history_fits(v301: Ruleset, refused: dict[str, Any]) -> None:
    """A Bronze of 2019-09-10: months_between = 18, day 10 = 10 -> S1 met. Left: S3 (a condition) and SB-2.5."""
    refused["history"][0]["awarded_on"] = "2019-09-10"
    path = explain(v301, refused).path("silver")
    assert path.reachable
    assert path.mandatory == ("S3", "SB-2.5")
    (only,) = path.change_sets
    assert only.criteria == ("S3", "SB-2.5")
    assert not only.concrete
    assert only.verified is None
    s3 = next(ch for ch in path.changes if ch.criterion == "S3")
    assert s3.sentence == ("meet Three validated improvement areas in the Silver scope (S3); now: improvement_areas = "
                           "[2 items]")
    # doing what it says: a third validated in-scope area and 2.5 at its minimum give Silver
    done = with_changes(refused, [("/indicators/2.5", Decimal("0.30"))])
    done["improvement_areas"].append({"indicator": "4.6.1", "validated": True})
    assert tier_outcome(v301, done, "silver") == "met"


def test_a_baseline_refusal_is_one_verified_change(v301: Ruleset) -> None:
    """The 3.0.1 Silver fixture moved to 2021-01-10 (S1: 2019-01-15 -> 23 months) with 4.4 = 0.49 < 0.50."""
    data = fixture_data(v301, "silver")
    data["assessed_on"] = "2021-01-10"
    data["indicators"]["4.4"] = Decimal("0.49")
    path = explain(v301, data).path("silver")
    (only,) = path.change_sets
    assert only.criteria == ("SB-4.4",)
    assert only.verified is True
    assert only.sentence.startswith("raise 4.4 (Effectiveness: share of satisfied participants) from 0.49 to 0.50")
    assert tier_outcome(v301, with_changes(data, [("/indicators/4.4", Decimal("0.50"))]), "silver") == "met"


def test_silver_under_1_2_0_with_an_empty_list_of_improvement_areas() -> None:
    """1.2.0 Silver fixture (Bronze 2012-11-20, assessed 2014-09-10: 21 months) with improvement_areas = []."""
    v120 = version("1.2.0")
    data = fixture_data(v120, "silver")
    data["improvement_areas"] = []
    expl = explain(v120, data)
    assert expl.tier("silver").not_met == ("S3",)
    assert expl.path("silver").mandatory == ("S3",)
    assert "improvement_areas = [0 items]" in expl.criterion("S3").sentence
