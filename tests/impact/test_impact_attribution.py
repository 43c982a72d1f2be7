"""Impact analysis: transitions and their attribution.

The tiny populations below are derived by hand from ecei-labels.md (sections 4 to 6); the
property tests check, over synthetic populations, that every changed decision is attributed and
names only items the semantic diff reports as changed or new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.compare.impact import ImpactReport, Transition, impact
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.testing.synth import synthesize


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.shipped()


def version(registry: Registry, v: str) -> Any:
    return registry.get("ecei-labels", v)


# Values that pass every Gold threshold of spec section 4 (31 indicators before 3.0.0; 4.7 to 4.9 from 3.0.0).
GOLD_BEFORE_3 = {
    "1.1.0": 0.8, "1.1.1": 4, "1.1.2": 40, "1.2": 0.7, "2.1": 5, "2.2.1": 3, "2.2.2": 3, "2.2.3": True,
    "2.2.4": 3, "2.3": 0.9, "2.4": 4, "2.5": 0.6, "2.6": 3, "2.7": 3, "3.1": 3, "3.2": 0.4, "4.1.1": 3,
    "4.1.2": True, "4.1.3": True, "4.1.4": True, "4.1.5": 12, "4.1.6": 3, "4.2": 3, "4.3": 6, "4.4": 0.8, "4.5": 4,
    "4.6.1": 3, "4.6.2": True, "5.1": 6, "5.2": 4, "5.3": True,
}
NEW_IN_3 = {"4.7": 3, "4.8": True, "4.9": 3}
# Values that fail the Gold threshold of each indicator.
FAILING = {
    "1.2": 0.5, "2.2.4": 1, "5.1": 2, "2.3": 0.7, "3.1": 1, "3.2": 0.2, "5.3": False, "4.1.1": 2, "4.1.6": 2,
    "4.2": 2, "4.5": 2, "4.6.1": 2, "4.3": 4,
}
ELIGIBLE = {"cluster_initiative": True, "management_fte": 2.5, "committed_participants": 85,
            "private_participants": 61, "business_support": True, "activities_last_year": 24, "priority_areas": 4,
            "listed_on_eccp": True}


def org(n: int, **rest: Any) -> dict[str, Any]:
    return {"organisation": {"id": f"T-{n}", "name": f"Test cluster {n}", "country": "DE"},
            "assessed_on": "2020-02-18", **rest}


def by_org(report: ImpactReport) -> dict[str, Transition]:
    return {t.subject or "": t for t in report.transitions}


def test_eligibility_and_success_stories_1_2_0_to_2_0_0(registry: Registry) -> None:
    """Five organisations assessed on 2020-02-18, derived by hand:

    T-1 completed benchmarking, nothing else: 1.2.0 Bronze (B1). 2.0.0: B2 unknown (no success stories),
        EC1..EC6 unknown (no eligibility) -> Bronze unknown -> none. Causes: B2 and EC1..EC6, tier bronze.
    T-2 the same with 3 stories and full eligibility: Bronze under both, first award month_end(2020-02-18,
        24) = 2022-02-28 under both -> unchanged.
    T-3 like T-2 but 16 committed and 8 private (a tie, EC3 not met) and 4 stories: 2.0.0 none; only EC3.
    T-4 like T-2 with a Bronze awarded 2018-02-10, valid until 2020-02-29: 1.2.0 has no renewal (2022-02-28);
        2.0.0 renews: 2018-02-10 <= 2020-02-18 <= month_end(2020-02-29, 12) -> month_end(2020-02-29, 36) =
        2023-02-28. Same label, other validity: the validity rule 'renewal' (new in 2.0.0).
    T-5 all 31 Gold indicators, 5 stories, eligibility but not on the ECCP: 1.2.0 Gold (Bronze met too,
        Silver not: no history); 2.0.0 EC6 not met -> eligibility not met -> none. Gold and Bronze were met
        and are lost, each because of EC6 (through the eligibility group).
    """
    population = [
        org(1, benchmarking={"completed": True}),
        org(2, benchmarking={"completed": True, "success_stories": 3}, eligibility=ELIGIBLE),
        org(3, benchmarking={"completed": True, "success_stories": 4},
            eligibility={**ELIGIBLE, "committed_participants": 16, "private_participants": 8}),
        org(4, benchmarking={"completed": True, "success_stories": 3}, eligibility=ELIGIBLE,
            history=[{"label": "bronze", "awarded_on": "2018-02-10", "valid_until": "2020-02-29"}]),
        org(5, benchmarking={"completed": True, "success_stories": 5}, indicators=GOLD_BEFORE_3,
            eligibility={**ELIGIBLE, "listed_on_eccp": False}),
    ]
    report = impact(version(registry, "1.2.0"), version(registry, "2.0.0"), population)
    assert report.labels == ("none", "bronze", "silver", "gold")
    assert report.matrix["bronze"] == {"none": 2, "bronze": 2, "silver": 0, "gold": 0}
    assert report.matrix["gold"] == {"none": 1, "bronze": 0, "silver": 0, "gold": 0}
    assert report.decided == 5
    assert not report.errors
    assert report.unexplained == 0
    changed = by_org(report)
    assert set(changed) == {"T-1", "T-3", "T-4", "T-5"}
    assert set(changed["T-1"].items) == {"criteria:B2", *(f"criteria:EC{i}" for i in range(1, 7))}
    assert {c.tier for c in changed["T-1"].causes} == {"bronze"}
    assert {(c.old, c.new) for c in changed["T-1"].causes} == {("absent", "unknown")}
    assert changed["T-3"].items == ["criteria:EC3"]
    t4 = changed["T-4"]
    assert (t4.old_label, t4.new_label) == ("bronze", "bronze")
    assert (t4.old_valid_until, t4.new_valid_until) == (dt.date(2022, 2, 28), dt.date(2023, 2, 28))
    assert t4.items == ["validity:renewal"]
    assert (t4.causes[0].old, t4.causes[0].new) == ("first-award", "renewal")
    t5 = changed["T-5"]
    assert (t5.old_label, t5.new_label) == ("gold", "none")
    assert t5.items == ["criteria:EC6"]
    assert {(c.tier, c.via, c.old, c.new) for c in t5.causes} == {("gold", "eligibility", "absent", "not_met"),
                                                                 ("bronze", "eligibility", "absent", "not_met")}
    # the older version ignored what it does not declare
    assert report.ignored[0]["/eligibility"] == 4
    assert report.ignored[0]["/benchmarking/success_stories"] == 4
    assert report.ignored[1] == {}
    # and the new one missed the eligibility of T-1
    assert report.missing[1]["/eligibility/listed_on_eccp"] == 1


def _with(values: dict[str, Any], failing: list[str]) -> dict[str, Any]:
    out = dict(values)
    for key in failing:
        out[key] = FAILING[key]
    return out


CATEGORY_4 = ["4.1.1", "4.1.2", "4.1.3", "4.1.4", "4.1.5", "4.1.6", "4.2", "4.3", "4.4", "4.5", "4.6.1", "4.6.2"]


def test_revised_gold_indicators_2_0_0_to_3_0_0(registry: Registry) -> None:
    """Two eligible organisations with 3 success stories and the indicators of both versions (a union).

    T-1 fails 1.2, 2.2.4, 5.1 (leaving in 3.0.0) and 2.3, 3.1, 3.2, 5.3: 2.0.0 24 of 31 < 25 -> Bronze.
        3.0.0: the 16 weight-1 indicators lose 2.3, 3.1, 3.2, 5.3 (12 met) and every category-4 one is met
        with weight 2 (15 x 2 = 30): 42 of 46, 4200 >= 3680 -> Gold. A gain; the slack of the score rose
        through the removed failing indicators (1.2, 2.2.4, 5.1), the met category-4 indicators that weigh
        double now (12) and the three new met ones (4.7, 4.8, 4.9) - not through 2.3, 3.1, 3.2, 5.3 whose
        weight and outcome did not change.
    T-2 fails 4.1.1, 4.1.6, 4.2, 4.5, 4.6.1, 4.3 (category 4): 2.0.0 25 of 31 -> Gold. 3.0.0: 46 - 6 x 2 =
        34 < 36.8 -> Bronze. A loss, through those six (now weighing 2 while failing) and the removed met
        indicators 1.2, 2.2.4, 5.1; not through the met category-4 indicators nor the new met ones.
    """
    both = {**GOLD_BEFORE_3, **NEW_IN_3}
    common = {"benchmarking": {"completed": True, "success_stories": 3}, "eligibility": ELIGIBLE}
    population = [
        org(1, indicators=_with(both, ["1.2", "2.2.4", "5.1", "2.3", "3.1", "3.2", "5.3"]), **common),
        org(2, indicators=_with(both, ["4.1.1", "4.1.6", "4.2", "4.5", "4.6.1", "4.3"]), **common),
    ]
    report = impact(version(registry, "2.0.0"), version(registry, "3.0.0"), population)
    changed = by_org(report)
    assert (changed["T-1"].old_label, changed["T-1"].new_label) == ("bronze", "gold")
    gained = {"1.2", "2.2.4", "5.1", *CATEGORY_4, "4.7", "4.8", "4.9"}
    assert set(changed["T-1"].items) == {f"criteria:{c}" for c in gained}
    assert {c.via for c in changed["T-1"].causes} == {"gold_score"}
    assert (changed["T-2"].old_label, changed["T-2"].new_label) == ("gold", "bronze")
    lost = {"4.1.1", "4.1.6", "4.2", "4.5", "4.6.1", "4.3", "1.2", "2.2.4", "5.1"}
    assert set(changed["T-2"].items) == {f"criteria:{c}" for c in lost}
    weights = {c.id: c.weight for c in changed["T-2"].causes}
    assert weights["4.1.1"] == ("1", "2")
    assert weights["1.2"] is None  # removed: shown as met -> absent
    assert report.ignored[0]["/indicators/4.7"] == 2
    assert report.ignored[1]["/indicators/1.2"] == 2


def allowed_by_diff(diff: Diff) -> dict[str, set[str]]:
    """What the semantic diff reports, section by section: changed, added or removed items; for criteria
    also those a score re-weights and those reading a changed parameter."""
    out: dict[str, set[str]] = {s: {c.id for c in diff.changes if c.section == s}
                                for s in ("criteria", "groups", "scores", "tiers", "validity")}
    for change in diff.changes:
        if change.section == "scores" and change.attribute and change.attribute.startswith("weight of "):
            out["criteria"].add(change.attribute[len("weight of "):])
    params = {c.id for c in diff.changes if c.section == "parameters"}
    for ruleset in (diff.old, diff.new):
        out["criteria"] |= {c.id for c in ruleset.plan.criteria if c.compiled.params & params}
    return out


# every revision, and one reversed (a what-if back to the old rules: removed criteria and rules)
PAIRS = [("1.0.0", "1.1.0"), ("1.1.0", "1.2.0"), ("1.2.0", "2.0.0"), ("2.0.0", "3.0.0"), ("3.0.0", "3.0.1"),
         ("2.0.0", "1.2.0")]


#: measured for coverage on the largest revision and its reverse; the other pairs run the same code
#: on other changes (repetition at scale, docs/contributing.md)
COVERED = {("1.2.0", "2.0.0"), ("2.0.0", "1.2.0")}


@pytest.mark.parametrize("pair", [pytest.param(p, marks=() if p in COVERED else pytest.mark.no_cover) for p in PAIRS],
                         ids=[f"{a}-{b}" for a, b in PAIRS])
def test_attribution_names_only_what_the_diff_reports(registry: Registry, pair: tuple[str, str]) -> None:
    """On 300 synthetic organisations: every changed decision is attributed, and only to items the semantic
    diff reports; the matrix agrees with evaluating each projected assessment directly."""
    old, new = version(registry, pair[0]), version(registry, pair[1])
    population = list(synthesize(300, seed=21, as_of=dt.date(2021, 6, 30), registry=registry, versions=pair))
    report = impact(old, new, population)
    allowed = allowed_by_diff(semantic_diff(old, new))
    assert report.unexplained == 0
    assert not report.errors
    for t in report.transitions:
        assert t.causes, t
        for cause in t.causes:
            assert cause.id in allowed[cause.section], (t, cause)
    # the matrix and the transitions, recomputed with the engine alone
    expected: dict[tuple[str, str], int] = {}
    changed = 0
    for data in population:
        a = evaluate(old, project(data, old.plan.inputs)[0])
        b = evaluate(new, project(data, new.plan.inputs)[0])
        expected[(a.label, b.label)] = expected.get((a.label, b.label), 0) + 1
        changed += (a.label, a.valid_until) != (b.label, b.valid_until)
    got = {(a, b): n for a, row in report.matrix.items() for b, n in row.items() if n}
    assert got == expected
    assert len(report.transitions) == changed
    if pair == ("3.0.0", "3.0.1"):
        assert changed == 0  # a patch: no decision changes (spec section 1)
    else:
        assert changed > 0


def test_1_2_0_to_2_0_0_losses_come_from_eligibility_and_success_stories(registry: Registry) -> None:
    """Every loss names only the new criteria B2, EC1..EC6; every same-label change the renewal rule."""
    population = synthesize(300, seed=8, as_of=dt.date(2020, 6, 30), registry=registry,
                            versions=["1.2.0", "2.0.0"])
    report = impact(version(registry, "1.2.0"), version(registry, "2.0.0"), population)
    new = {"criteria:B2", *(f"criteria:EC{i}" for i in range(1, 7))}
    order = report.order
    kinds = {t.kind(order) for t in report.transitions}
    assert kinds == {"loss", "validity"}  # nobody gains: 2.0.0 only adds requirements
    for t in report.transitions:
        if t.kind(order) == "loss":
            assert set(t.items) <= new
            assert t.new_label == "none"
        else:
            assert t.items == ["validity:renewal"]
            assert t.new_valid_until > t.old_valid_until


def test_projection_without_eligibility_loses_every_label(registry: Registry) -> None:
    """A population of 1.2.0 assessments (no eligibility data): under 2.0.0 every label is lost, eligibility
    unknown, and each loss names every EC criterion (unknown), never an unchanged one."""
    old, new = version(registry, "1.2.0"), version(registry, "2.0.0")
    population = list(synthesize(150, seed=9, as_of=dt.date(2019, 11, 14), registry=registry, versions=["1.2.0"]))
    report = impact(old, new, population)
    assert report.totals(1) == {"none": 150, "bronze": 0, "silver": 0, "gold": 0}
    labelled = 150 - report.totals(0)["none"]
    # every organisation that had a label now has a tier left unknown by the absent eligibility
    assert labelled <= report.missing[1]["/eligibility/cluster_initiative"] <= 150
    assert report.count("loss") == labelled
    for t in report.transitions:
        assert {f"criteria:EC{i}" for i in range(1, 7)} <= set(t.items) <= \
            {"criteria:B2", *(f"criteria:EC{i}" for i in range(1, 7))}
        assert all(c.new == "unknown" for c in t.causes)
