"""Unknown tiers: which criteria could not be decided and which inputs were missing; what providing them takes."""

from __future__ import annotations

from decimal import Decimal

from explain_helpers import fixture_data, tier_outcome, with_changes

from ecei_rules.explanation import explain, render_text
from ecei_rules.ruleset.load import Ruleset

ELIGIBILITY = ["/eligibility/activities_last_year", "/eligibility/business_support", "/eligibility/cluster_initiative",
               "/eligibility/committed_participants", "/eligibility/listed_on_eccp", "/eligibility/management_fte",
               "/eligibility/priority_areas", "/eligibility/private_participants"]


def test_absent_eligibility_lists_the_missing_inputs(v301: Ruleset) -> None:
    """3.0.1 Bronze fixture without eligibility: EC1-EC6 unknown -> bronze unknown, label none (embedded test)."""
    data = fixture_data(v301, "bronze")
    del data["eligibility"]
    expl = explain(v301, data)
    assert expl.label == "none"
    bronze = expl.tier("bronze")
    assert bronze.outcome == "unknown"
    assert bronze.unknown == ("EC1", "EC2", "EC3", "EC4", "EC5", "EC6")
    assert list(bronze.missing) == ELIGIBILITY
    assert "missing: eligibility.activities_last_year, eligibility.business_support" in bronze.sentence
    assert "Bronze: Striving for Cluster Excellence: unknown" in render_text(expl)


def test_providing_the_eligibility_values_it_names_gives_bronze(v301: Ruleset) -> None:
    """What it takes for Bronze without eligibility: each EC at its threshold.

    EC1, EC4, EC6 true; EC2 management_fte 0.5; EC5 activities 5 and priority areas 2 (an 'and' of two
    comparisons); EC3 committed 15 and then 2 * private > 15, i.e. private > 7.5: 8 (said "at least 8": a
    whole number of participants, once said "more than 7.5"). With B1 and B2 of the fixture, Bronze is met.
    """
    data = fixture_data(v301, "bronze")
    del data["eligibility"]
    path = explain(v301, data).path("bronze")
    assert path.mandatory == ("EC1", "EC2", "EC3", "EC4", "EC5", "EC6")
    (only,) = path.change_sets
    expected = {"/eligibility/cluster_initiative": True, "/eligibility/management_fte": Decimal("0.5"),
                "/eligibility/committed_participants": 15, "/eligibility/private_participants": 8,
                "/eligibility/business_support": True, "/eligibility/activities_last_year": 5,
                "/eligibility/priority_areas": 2, "/eligibility/listed_on_eccp": True}
    assert {c.pointer: c.target for c in only.changes} == expected
    assert only.concrete
    assert only.verified is True
    assert tier_outcome(v301, with_changes(data, expected.items()), "bronze") == "met"
    ec3 = next(ch for ch in path.changes if ch.criterion == "EC3")
    assert ec3.sentence == ("provide eligibility.committed_participants (missing now): at least 15 and provide "
                            "eligibility.private_participants (missing now): at least 8")
    private = ec3.changes[1]
    assert private.relative_to == "/eligibility/committed_participants"


def test_a_private_minority_names_the_majority_needed(v301: Ruleset) -> None:
    """EC3 with 40 committed and 20 private: 2 * 20 = 40 > 40 is false; more than 40 / 2 = 20 private: 21."""
    data = fixture_data(v301, "bronze")
    data["eligibility"].update({"committed_participants": 40, "private_participants": 20})
    expl = explain(v301, data)
    assert expl.criterion("EC3").sentence == (
        "At least 15 committed participants, a strict majority from the private sector (EC3): not met; "
        "eligibility.committed_participants is 40, needs at least 15 and eligibility.private_participants is 20, "
        "needs more than 20 (from eligibility.committed_participants = 40).")
    (only,) = expl.path("bronze").change_sets
    assert only.sentence == "raise eligibility.private_participants from 20 to 21 (verified by deciding again)"


def test_one_unknown_indicator_leaves_gold_open(v301: Ruleset) -> None:
    """3.0.1 embedded test: fail 4.5, 4.7, 4.8, 4.9 (8) and 3.2 (1), 5.3 absent: met 36, unknown 1 -> gold unknown.

    36.8 - 36 = 0.8 more weight: any single open criterion does it, weight 1 first (3.2, then 5.3),
    then the weight-2 ones: six sets of one criterion.
    """
    data = fixture_data(v301, "gold")
    data["indicators"].update({"4.5": 2, "4.7": 2, "4.8": False, "4.9": 1, "3.2": Decimal("0.25")})
    del data["indicators"]["5.3"]
    expl = explain(v301, data)
    gold = expl.tier("gold")
    assert gold.outcome == "unknown"
    assert gold.unknown == ("gold_score",)
    assert gold.missing == ("/indicators/5.3",)
    path = expl.path("gold")
    assert [s.criteria for s in path.change_sets] == [("3.2",), ("5.3",), ("4.5",), ("4.7",), ("4.8",), ("4.9",)]
    provide = path.change_sets[1]
    assert provide.sentence.startswith("provide 5.3 (Participant satisfaction survey conducted) (missing now): yes")
    assert provide.verified is True
    assert tier_outcome(v301, with_changes(data, [("/indicators/5.3", True)]), "gold") == "met"


def test_values_that_would_break_a_consistency_check_are_not_suggested(v301: Ruleset) -> None:
    """Regression (found by the property test): committed absent, private 16. EC3's thresholds alone give
    committed 15, but private 16 > committed 15 breaks the check private <= committed: EC3 is a condition."""
    data = fixture_data(v301, "bronze")
    data["eligibility"] = {"private_participants": 16}
    ec3 = next(ch for ch in explain(v301, data).path("bronze").changes if ch.criterion == "EC3")
    assert ec3.kind == "condition"
    assert ec3.changes == ()
    assert "private_participants cannot exceed committed_participants" in ec3.sentence
