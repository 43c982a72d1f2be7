"""Decisions of tests/data/every/1.0.0.yaml on hand-computed assessments.

The ruleset, restated for the derivations below:

* C1: staff.fte >= 0.5                      C2: 2 * staff.managers < staff.total
* K1: kpi.k1 >= 0.75 (weight 1)             K2: kpi.k2 >= 3 (weight 2)      K3: kpi.k3 (weight 2)
* A:  at least 2 distinct kpis among validated areas
* H:  some 'basic' history entry awarded 12..24 whole months before assessed_on
* group staffing = C1 and C2; score S met when met weight >= 0.6 * 5 = 3, not met when
  met + unknown weight < 3, else unknown
* tiers: basic requires staffing; premium requires S, A, H; the label is the highest tier met
* validity from assessed_on; for basic, 'renewal' applies when some basic entry has
  awarded_on <= assessed_on <= month_end(valid_until, 12) and then gives
  month_end(latest such valid_until, 36); otherwise 'first' gives month_end(assessed_on, 24)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import AssessmentError, Decision, Ruleset, evaluate, load_ruleset
from ecei_rules.engine.decision import ParameterUse
from ecei_rules.testing.embedded import run_embedded

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"
D = dt.date


@pytest.fixture(scope="module")
def ruleset() -> Ruleset:
    return load_ruleset(EVERY)


def assessment(**extra: Any) -> dict[str, Any]:
    """Organisation T1 assessed on 2021-03-15 with staffing that meets C1 and C2, plus ``extra``."""
    data: dict[str, Any] = {
        "org": {"id": "T1", "country": "DE"},
        "assessed_on": "2021-03-15",
        "staff": {"total": 10, "managers": 2, "fte": Decimal("0.5")},
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


ALL_KPIS = {"k1": Decimal("0.75"), "k2": 3, "k3": True}
TWO_AREAS = [{"kpi": "k1", "validated": True}, {"kpi": "k2", "validated": True}]
# a basic label awarded exactly 12 months before 2021-03-15: months_between = 12 -> H met
BASIC_2020 = [{"label": "basic", "awarded_on": "2020-03-15", "valid_until": "2022-03-31"}]


def outcomes(decision: Decision, *refs: str) -> dict[str, str]:
    return {ref: decision.outcome_of(ref) for ref in refs}


def tier(decision: Decision, label: str) -> Any:
    return next(t for t in decision.tiers if t.label == label)


def score(decision: Decision) -> Any:
    (s,) = decision.scores
    return s


# --------------------------------------------------------------------------------------------
# tiers: met, not met, unknown
# --------------------------------------------------------------------------------------------


def test_basic_only_for_two_years(ruleset: Ruleset) -> None:
    """Staffing met, nothing else known: basic, valid two years by the 'first' rule."""
    d = evaluate(ruleset, assessment())
    # C1: 0.5 >= 0.5; C2: 4 < 10. No kpi -> K1..K3 unknown; S: met 0, unknown 5 -> 0 < 3 <= 5 -> unknown.
    # No areas -> A unknown. history defaults to [] -> H is any() over nothing -> not met.
    assert outcomes(d, "C1", "C2", "staffing", "K1", "K2", "K3", "S", "A", "H") == {
        "C1": "met", "C2": "met", "staffing": "met", "K1": "unknown", "K2": "unknown", "K3": "unknown",
        "S": "unknown", "A": "unknown", "H": "not_met",
    }
    # premium = S and A and H = unknown and unknown and false = false
    assert outcomes(d, "basic", "premium") == {"basic": "met", "premium": "not_met"}
    # no history, so 'renewal' does not apply; 'first': month_end(2021-03, 24) = 2023-03-31
    assert (d.label, d.valid_from, d.valid_until, d.validity_rule) == ("basic", D(2021, 3, 15), D(2023, 3, 31),
                                                                       "first")
    assert tier(d, "premium").missing == ()  # only unknown tiers list missing inputs


def test_premium(ruleset: Ruleset) -> None:
    """Every premium requirement met: premium, whose validity comes from the 'first' rule."""
    d = evaluate(ruleset, assessment(kpi=ALL_KPIS, areas=TWO_AREAS, history=BASIC_2020))
    # K1 0.75 >= 0.75, K2 3 >= 3, K3 true -> met weight 5 >= 3; A: {k1, k2} = 2 >= 2;
    # H: months_between(2020-03-15, 2021-03-15) = 12, and 12 <= 12 <= 24
    assert outcomes(d, "S", "A", "H", "basic", "premium") == {
        "S": "met", "A": "met", "H": "met", "basic": "met", "premium": "met",
    }
    # 'renewal' lists only basic; 'first' covers premium: month_end(2021-03-15, 24) = 2023-03-31
    assert (d.label, d.valid_until, d.validity_rule) == ("premium", D(2023, 3, 31), "first")
    assert [t.label for t in d.tiers] == ["premium", "basic"]  # highest first


def test_score_exactly_at_threshold_is_met(ruleset: Ruleset) -> None:
    """Met weight exactly 3 of 5 (threshold 0.6) meets the score."""
    kpi = {"k1": Decimal("0.75"), "k2": 3, "k3": False}
    d = evaluate(ruleset, assessment(kpi=kpi, areas=TWO_AREAS, history=BASIC_2020))
    # K1 (1) + K2 (2) = 3 met, K3 not met, nothing unknown; 3 >= 0.6 * 5 = 3
    s = score(d)
    assert (s.outcome, s.met_weight, s.unknown_weight, s.total_weight, s.required_weight) == ("met", 3, 0, 5, 3)
    assert d.label == "premium"


def test_score_unknown_when_unknown_weight_could_reach_threshold(ruleset: Ruleset) -> None:
    """2 met + 2 unknown of a required 3 leaves the score and premium unknown, naming the missing kpi."""
    kpi = {"k1": Decimal("0.74"), "k2": 3}
    d = evaluate(ruleset, assessment(kpi=kpi, areas=TWO_AREAS, history=BASIC_2020))
    # K1 0.74 < 0.75 not met; K2 met (2); K3 absent -> unknown (2): 2 < 3 <= 2 + 2
    s = score(d)
    assert (s.outcome, s.met_weight, s.unknown_weight) == ("unknown", 2, 2)
    # premium = unknown and met and met = unknown; its missing input is the kpi K3 reads
    assert tier(d, "premium").outcome == "unknown"
    assert tier(d, "premium").missing == ("/kpi/k3",)
    # basic is met and the basic awarded 2020-03-15 is renewable: 2020-03-15 <= 2021-03-15 <=
    # month_end(2022-03-31, 12) = 2023-03-31, so month_end(2022-03-31, 36) = 2025-03-31
    assert (d.label, d.valid_until, d.validity_rule) == ("basic", D(2025, 3, 31), "renewal")


def test_score_unknown_when_met_plus_unknown_equals_threshold(ruleset: Ruleset) -> None:
    """1 met + 2 unknown = exactly the required 3 is still unknown, not not_met."""
    kpi = {"k1": Decimal("0.8"), "k3": False}
    d = evaluate(ruleset, assessment(kpi=kpi, areas=TWO_AREAS, history=BASIC_2020))
    # K1 met (1), K2 absent (2 unknown), K3 false: 1 < 3, and 1 + 2 = 3 is not < 3
    s = score(d)
    assert (s.outcome, s.met_weight, s.unknown_weight) == ("unknown", 1, 2)
    assert tier(d, "premium").missing == ("/kpi/k2",)


def test_score_not_met(ruleset: Ruleset) -> None:
    """1 met and nothing unknown is below 3: the score and premium are not met."""
    kpi = {"k1": Decimal("0.8"), "k2": 2, "k3": False}
    d = evaluate(ruleset, assessment(kpi=kpi, areas=TWO_AREAS, history=BASIC_2020))
    # K1 met (1), K2 2 < 3, K3 false: 1 + 0 < 3
    assert (score(d).outcome, score(d).met_weight, score(d).unknown_weight) == ("not_met", 1, 0)
    assert outcomes(d, "premium", "basic") == {"premium": "not_met", "basic": "met"}
    assert tier(d, "premium").missing == ()


def test_basic_unknown_names_missing_input(ruleset: Ruleset) -> None:
    """fte absent: C1, staffing and basic are unknown, the tier names /staff/fte, and no label is given."""
    d = evaluate(ruleset, assessment(staff={"total": 10, "managers": 2}))
    # C1 unknown, C2 4 < 10 met -> staffing unknown; premium: H not met (no history)
    assert outcomes(d, "C1", "C2", "staffing", "basic", "premium") == {
        "C1": "unknown", "C2": "met", "staffing": "unknown", "basic": "unknown", "premium": "not_met",
    }
    assert tier(d, "basic").missing == ("/staff/fte",)
    assert (d.label, d.valid_from, d.valid_until, d.validity_rule) == ("none", None, None, None)


def test_basic_not_met(ruleset: Ruleset) -> None:
    """Half the staff are managers: C2 (2 * 5 < 10) fails, so no label."""
    d = evaluate(ruleset, assessment(staff={"total": 10, "managers": 5, "fte": 1}))
    assert outcomes(d, "C1", "C2", "staffing", "basic") == {
        "C1": "met", "C2": "not_met", "staffing": "not_met", "basic": "not_met",
    }
    assert d.label == "none"


def test_everything_unknown_lists_all_missing_inputs(ruleset: Ruleset) -> None:
    """No staff, kpi or areas: both tiers unknown, each listing exactly the absent inputs it depends on."""
    history = [{"label": "basic", "awarded_on": "2019-06-01", "valid_until": "2021-06-30"}]
    d = evaluate(ruleset, {"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15", "history": history})
    # H: months_between(2019-06-01, 2021-03-15) = 24 + (3 - 6) = 21 (15 >= 1) -> met
    assert d.outcome_of("H") == "met"
    # basic <- staffing <- C1 (fte), C2 (managers, total)
    assert tier(d, "basic").missing == ("/staff/fte", "/staff/managers", "/staff/total")
    # premium <- S (k1, k2, k3) and A (areas); H is met so adds nothing
    assert tier(d, "premium").missing == ("/areas", "/kpi/k1", "/kpi/k2", "/kpi/k3")
    assert d.label == "none"


def test_premium_without_basic_awards_the_highest_tier_met(ruleset: Ruleset) -> None:
    """premium does not require staffing, so it is awarded even when basic is not met."""
    d = evaluate(ruleset, assessment(staff={"total": 10, "managers": 5, "fte": 1}, kpi=ALL_KPIS, areas=TWO_AREAS,
                                     history=BASIC_2020))
    assert outcomes(d, "basic", "premium") == {"basic": "not_met", "premium": "met"}
    assert d.label == "premium"


# --------------------------------------------------------------------------------------------
# areas and history criteria
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("areas", "expected"),
    [
        ([{"kpi": "k1", "validated": True}, {"kpi": "k1", "validated": True}], "not_met"),  # 1 distinct
        ([{"kpi": "k1", "validated": True}, {"kpi": "k2", "validated": False}], "not_met"),  # k2 not validated
        ([{"kpi": "k3", "validated": True}, {"kpi": "k1", "validated": True}, {"kpi": "k3", "validated": True}],
         "met"),  # {k1, k3}
        ([], "not_met"),  # 0 distinct
    ],
)
def test_distinct_validated_areas(ruleset: Ruleset, areas: list[dict[str, Any]], expected: str) -> None:
    """A counts distinct kpis of validated areas only."""
    assert evaluate(ruleset, assessment(areas=areas)).outcome_of("A") == expected


@pytest.mark.parametrize(
    ("label", "awarded_on", "expected"),
    [
        ("basic", "2019-02-16", "met"),  # 24 + 1 = 25, 15 < 16 -> 24: the upper edge
        ("basic", "2019-02-15", "not_met"),  # 25
        ("basic", "2020-03-15", "met"),  # 12: the lower edge
        ("basic", "2020-03-16", "not_met"),  # 12, 15 < 16 -> 11
        ("premium", "2020-03-15", "not_met"),  # 12 months, but not a basic label
    ],
)
def test_history_window(ruleset: Ruleset, label: str, awarded_on: str, expected: str) -> None:
    """H holds for a basic label awarded 12 to 24 whole months before the assessment, edges included."""
    history = [{"label": label, "awarded_on": awarded_on, "valid_until": "2023-12-31"}]
    assert evaluate(ruleset, assessment(history=history)).outcome_of("H") == expected


# --------------------------------------------------------------------------------------------
# validity
# --------------------------------------------------------------------------------------------

# a basic label valid until 2021-01-31: renewable up to month_end(2021-01-31, 12) = 2022-01-31
OLD_BASIC = [{"label": "basic", "awarded_on": "2019-01-10", "valid_until": "2021-01-31"}]


def test_renewal_on_the_last_renewable_day(ruleset: Ruleset) -> None:
    """Assessed on month_end(V, 12) exactly, 'renewal' applies: month_end(V, 36)."""
    d = evaluate(ruleset, assessment(assessed_on="2022-01-31", history=OLD_BASIC))
    # 2019-01-10 <= 2022-01-31 <= 2022-01-31 -> renewal; month_end(2021-01-31, 36) = 2024-01-31
    # (H: months_between(2019-01-10, 2022-01-31) = 36, outside 12..24, so premium is not met)
    assert (d.label, d.valid_from, d.valid_until, d.validity_rule) == ("basic", D(2022, 1, 31), D(2024, 1, 31),
                                                                       "renewal")


def test_no_renewal_one_day_later(ruleset: Ruleset) -> None:
    """One day after month_end(V, 12), 'first' applies: month_end(assessed_on, 24), a leap February."""
    d = evaluate(ruleset, assessment(assessed_on="2022-02-01", history=OLD_BASIC))
    # 2022-02-01 > 2022-01-31 -> not renewable; month_end(2022-02-01, 24) = 2024-02-29 (2024 is leap)
    assert (d.label, d.valid_from, d.valid_until, d.validity_rule) == ("basic", D(2022, 2, 1), D(2024, 2, 29),
                                                                       "first")


def test_renewal_uses_the_latest_eligible_basic_entry(ruleset: Ruleset) -> None:
    """Renewal extends the latest valid_until among basic entries awarded by the assessment date."""
    history = [
        {"label": "basic", "awarded_on": "2018-01-01", "valid_until": "2020-12-31"},  # renewable to 2021-12-31
        {"label": "basic", "awarded_on": "2019-06-01", "valid_until": "2021-06-30"},  # renewable to 2022-06-30
        {"label": "premium", "awarded_on": "2020-01-01", "valid_until": "2023-01-31"},  # another label
        {"label": "basic", "awarded_on": "2021-06-01", "valid_until": "2025-12-31"},  # awarded after 2021-03-15
    ]
    d = evaluate(ruleset, assessment(history=history))
    # eligible: the first two; max valid_until = 2021-06-30; month_end(2021-06-30, 36) = 2024-06-30.
    # (Counting the premium entry would give 2026-01-31, the future one 2028-12-31.)
    assert (d.label, d.valid_until, d.validity_rule) == ("basic", D(2024, 6, 30), "renewal")


# --------------------------------------------------------------------------------------------
# the decision trace
# --------------------------------------------------------------------------------------------


def test_trace_records_inputs_and_parameters_with_provenance(ruleset: Ruleset) -> None:
    """Each criterion lists the inputs it read with their values and the parameters with provenance."""
    d = evaluate(ruleset, assessment(kpi=ALL_KPIS, areas=TWO_AREAS, history=BASIC_2020))
    c = {r.id: r for r in d.criteria}
    assert c["C1"].inputs == {"/staff/fte": Decimal("0.5")}
    assert c["C1"].condition == "staff.fte >= params.min_fte"
    assert c["C1"].clause == "Handbook 2.1"
    assert c["C1"].parameters == (
        ParameterUse(name="min_fte", value=Decimal("0.5"), unit="FTE", provenance="sourced",
                     source="Test handbook, section 2"),
    )
    assert c["C2"].inputs == {"/staff/managers": 2, "/staff/total": 10}
    assert c["C2"].parameters == ()
    assert c["K1"].inputs == {"/kpi/k1": Decimal("0.75")}
    assert c["K1"].parameters == (
        ParameterUse(name="k1_min", value=Decimal("0.75"), unit="share", provenance="assumed",
                     source="no threshold published"),
    )
    assert c["K3"].inputs == {"/kpi/k3": True}
    assert c["H"].inputs == {
        "/assessed_on": D(2021, 3, 15),
        "/history": [{"label": "basic", "awarded_on": D(2020, 3, 15), "valid_until": D(2022, 3, 31)}],
    }
    assert all(r.missing == () for r in d.criteria)


def test_trace_records_missing_inputs(ruleset: Ruleset) -> None:
    """A criterion whose input is absent lists it as missing and reads nothing else."""
    d = evaluate(ruleset, assessment())
    k1 = next(r for r in d.criteria if r.id == "K1")
    assert (k1.inputs, k1.missing, k1.outcome) == ({}, ("/kpi/k1",), "unknown")


def test_trace_of_score_and_group(ruleset: Ruleset) -> None:
    """The score shows its weights, threshold and their provenance; the group its members."""
    d = evaluate(ruleset, assessment(kpi=ALL_KPIS))
    s = score(d)
    assert s.weights == {"K1": 1, "K2": 2, "K3": 2}
    assert (s.weights_provenance, s.weights_source) == ("assumed", "weights chosen for the test")
    assert s.threshold == ParameterUse(name="score_min", value=Decimal("0.6"), unit="share of weight",
                                       provenance="sourced", source="Test handbook, section 3")
    (g,) = d.groups
    assert (g.id, g.all_of, g.outcome) == ("staffing", ("C1", "C2"), "met")


def test_decision_identifies_the_ruleset(ruleset: Ruleset) -> None:
    """The decision names the methodology, version and content hash it was made under."""
    d = evaluate(ruleset, assessment())
    assert (d.methodology, d.version, d.ruleset_sha256) == ("every-construct", "1.0.0", ruleset.sha256)
    assert d.resolution.method == "given"


def test_decision_json_is_deterministic(ruleset: Ruleset) -> None:
    """The same inputs give the same JSON decision, with dates as ISO text."""
    data = assessment(kpi=ALL_KPIS, areas=TWO_AREAS, history=BASIC_2020)
    first, second = evaluate(ruleset, data).to_json(), evaluate(ruleset, data).to_json()
    assert first == second
    assert (first["valid_from"], first["valid_until"]) == ("2021-03-15", "2023-03-31")


def test_invalid_assessment_is_refused(ruleset: Ruleset) -> None:
    """evaluate validates first: a wrong type raises AssessmentError instead of deciding."""
    with pytest.raises(AssessmentError):
        evaluate(ruleset, assessment(staff={"fte": "0.5"}))


def test_embedded_tests_pass(ruleset: Ruleset) -> None:
    """The ruleset's own embedded tests pass."""
    results = run_embedded(ruleset)
    assert results
    assert [r.report() for r in results if not r.passed] == []
