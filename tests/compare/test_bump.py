"""The semver bump check (issue 4): required bump of every shipped pair, counterexamples re-checked by
hand, and the 3.0.2 copy that changes a Gold threshold in a patch release.

Policy (issue 4 and compare/bump.py): PATCH = same schema and same decisions; MINOR = schema only
gains optional fields and old-valid inputs keep their decisions; MAJOR = anything else. The bumps
expected come from the spec's version table (ecei-labels.md section 1). Every counterexample the
search reports is evaluated again here under both versions, and independent witnesses derived
from sections 4 and 5 confirm each verdict without the search.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from compare_helpers import (
    EXAMPLES,
    GOLD_EDIT_3_0_2,
    PAIRS,
    SPEC_VERSIONS,
    M,
    cached_bump_check,
    copy_rulesets,
    decide_both,
    decisions_differ,
    gold_assessment,
    without_shrinking,
    write_version,
)

from ecei_rules import evaluate
from ecei_rules.compare.bump import BumpReport, declared_bump
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.testing.counterexample import bump_check, find_counterexample

SPEC_BUMP = {v: bump for v, _, bump in SPEC_VERSIONS}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [("1.0.0", "1.1.0", "minor"), ("1.2.0", "2.0.0", "major"), ("3.0.0", "3.0.1", "patch"),
     ("3.0.1", "3.0.2", "patch"), ("1.1.0", "1.1.0", "none"), ("2.0.0", "1.2.0", "none"),
     ("1.9.9", "2.0.0", "major"), ("2.0.9", "2.1.0", "minor")],
)
def test_declared_bump_follows_semver(old: str, new: str, expected: str) -> None:
    """The declared bump is the most significant semver part that grows (none when NEW is not greater)."""
    assert declared_bump(old, new) == expected


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_shipped_pair_requires_the_bump_the_spec_declares(shipped_bumps: dict, old: str, new: str) -> None:
    """Each consecutive shipped pair requires exactly the bump of spec section 1 and declares it (ok)."""
    report: BumpReport = shipped_bumps[(old, new)]
    assert report.declared == SPEC_BUMP[new]
    assert report.required == SPEC_BUMP[new]
    assert report.ok


def test_shipped_chain_is_minor_minor_major_major_patch(shipped_bumps: dict) -> None:
    """1.0.0 -> 1.1.0 -> 1.2.0 -> 2.0.0 -> 3.0.0 -> 3.0.1 require minor, minor, major, major, patch (issue 4)."""
    assert [shipped_bumps[p].required for p in PAIRS] == ["minor", "minor", "major", "major", "patch"]


def check_counterexample(old_version: Any, new_version: Any, report: BumpReport) -> tuple[Any, Any]:
    """Re-evaluate a reported counterexample under both versions and assert it is one; return the decisions."""
    example = report.counterexample
    assert example is not None
    old_decision, new_decision = decide_both(old_version, new_version, example.assessment)
    # the assessment is valid under the old version (evaluate would raise otherwise) and decides as reported
    assert old_decision.label == example.old.label
    assert (old_decision.valid_from, old_decision.valid_until) == (example.old.valid_from, example.old.valid_until)
    assert decisions_differ(old_decision, new_decision)
    if example.new is None:
        assert new_decision is None  # the new version really rejects the projected assessment
        assert example.new_problems
    else:
        assert new_decision is not None
        assert new_decision.label == example.new.label
    return old_decision, new_decision


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if SPEC_BUMP[p[1]] == "major"])
def test_every_major_has_a_counterexample_that_re_evaluates(shipped: Registry, shipped_bumps: dict,
                                                             old: str, new: str) -> None:
    """The counterexample of each major pair, evaluated again here, really gets different decisions."""
    report = shipped_bumps[(old, new)]
    check_counterexample(shipped.get(M, old), shipped.get(M, new), report)
    assert any("counterexample" in r for r in report.reasons)


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if SPEC_BUMP[p[1]] != "major"])
def test_minor_and_patch_pairs_have_no_counterexample(shipped_bumps: dict, old: str, new: str) -> None:
    """The search finds no counterexample where the spec promises unchanged decisions."""
    report = shipped_bumps[(old, new)]
    assert report.counterexample is None
    assert report.searched > 0


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if SPEC_BUMP[p[1]] == "major"])
def test_a_major_pairs_counterexample_is_found_before_any_generated_search(shipped_bumps: dict, old: str,
                                                                          new: str) -> None:
    """bump-check in seconds (issue 23): the embedded tests and the walk towards the changed thresholds
    find each shipped major's counterexample, within the third of the budget they may spend, before
    any assessment is generated (the work counted in assessments decided, not in seconds)."""
    report = shipped_bumps[(old, new)]
    assert report.counterexample is not None
    assert report.searched <= EXAMPLES // 3, report.searched


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if SPEC_BUMP[p[1]] == "major"])
def test_a_shrunk_counterexample_still_differs_and_nothing_more_can_be_dropped(shipped: Registry,
                                                                              shipped_bumps: dict,
                                                                              old: str, new: str) -> None:
    """The counterexample is made smaller by dropping members and list items: it still decides
    differently, and dropping any one more member or item makes it decide the same (or invalid)."""
    from ecei_rules.testing.counterexample import _removable, _without

    a, b = shipped.get(M, old), shipped.get(M, new)
    example = shipped_bumps[(old, new)].counterexample
    assert example is not None
    assert decisions_differ(*decide_both(a, b, example.assessment))
    paths = _removable(example.assessment)
    assert paths
    for path in paths:
        smaller = _without(example.assessment, path)
        if a.plan.validator.validate(smaller)[1]:
            continue  # not an assessment of the old version: the shrinker may not keep it
        old_decision, new_decision = decide_both(a, b, smaller)
        assert new_decision is None or not decisions_differ(old_decision, new_decision), path


# -- independent witnesses (no search) ------------------------------------------------------------------


def test_witness_1_2_to_2_bronze_becomes_none(shipped: Registry) -> None:
    """A 1.2.0 Bronze (completed benchmarking) has no eligibility: from 2.0.0 no label (section 5)."""
    data = {"organisation": {"id": "DE-1", "name": "C", "country": "DE"}, "assessed_on": "2015-06-10",
            "benchmarking": {"completed": True}}
    old, new = decide_both(shipped.get(M, "1.2.0"), shipped.get(M, "2.0.0"), data)
    assert old.label == "bronze"
    assert new is not None
    assert new.label == "none"


def test_witness_2_to_3_gold_becomes_bronze(shipped: Registry) -> None:
    """Failing 5 strategy indicators: 26/31 >= 80 % is Gold in 2.0.0; 30 met + 6 unknown of 46 < 80 % in 3.0.0."""
    # Derivation (sections 4, 5): in 2.0.0 every weight is 1, 31 - 5 = 26 met, 2600 >= 80 * 31 = 2480 -> gold.
    # Projected onto 3.0.0 the input loses 1.2, 2.2.4, 5.1 and has no 4.7, 4.8, 4.9 (unknown, weight 2 each):
    # met = 16 (weight-1 indicators) + 2 * 7 (strategy indicators still met) = 30, unknown 6, and even
    # 100 * (30 + 6) = 3600 < 3680 -> gold not_met; Bronze stays met -> bronze.
    failing = ("4.1.1", "4.1.5", "4.3", "4.4", "4.5")
    data = gold_assessment("2.0.0", "2020-03-05", failing)
    old, new = decide_both(shipped.get(M, "2.0.0"), shipped.get(M, "3.0.0"), data)
    assert old.label == "gold"
    assert new is not None
    assert new.label == "bronze"
    (score,) = new.scores
    assert (score.met_weight, score.unknown_weight, score.total_weight) == (30, 6, 46)


def _same_decisions(old_version: Any, new_version: Any, cases: list[dict[str, Any]]) -> None:
    for data in cases:
        old, new = decide_both(old_version, new_version, data)
        assert not decisions_differ(old, new), data


def test_witness_1_0_to_1_1_keeps_decisions(shipped: Registry) -> None:
    """1.0.0 inputs have no indicators, so Gold is unknown under 1.1.0 (section 3) and every label stays."""
    org = {"id": "FR-1", "name": "C", "country": "FR"}
    cases = [
        {"organisation": org, "assessed_on": "2012-05-02", "benchmarking": {"completed": True}},
        {"organisation": org, "assessed_on": "2012-05-02", "benchmarking": {"completed": False}},
        {"organisation": org, "assessed_on": "2012-05-02"},
        {"organisation": org, "assessed_on": "2013-02-28", "benchmarking": {"completed": True},
         "history": [{"label": "bronze", "awarded_on": "2011-03-01", "valid_until": "2013-03-31"}]},
    ]
    _same_decisions(shipped.get(M, "1.0.0"), shipped.get(M, "1.1.0"), cases)


def test_witness_1_1_to_1_2_keeps_decisions(shipped: Registry) -> None:
    """1.1.0 inputs have no improvement_areas, so Silver is unknown under 1.2.0 (section 5) and labels stay."""
    history = [{"label": "bronze", "awarded_on": "2011-06-15", "valid_until": "2013-06-30"}]
    gold = gold_assessment("1.1.0", "2013-01-20")
    short = gold_assessment("1.1.0", "2013-01-20", failing=("1.1.0", "1.2", "2.1", "2.2.1", "2.2.2", "2.2.3", "2.3"))
    cases = [gold, short, {**short, "history": history}, {**gold, "history": history},
             {**short, "indicators": {}}]
    _same_decisions(shipped.get(M, "1.1.0"), shipped.get(M, "1.2.0"), cases)
    old, new = decide_both(shipped.get(M, "1.1.0"), shipped.get(M, "1.2.0"), {**short, "history": history})
    assert old.label == new.label == "bronze"  # 24/31 < 80 %: Gold not_met; Silver unknown in 1.2.0
    assert new.outcome_of("silver") == "unknown"


def test_witness_3_0_0_to_3_0_1_keeps_decisions(shipped: Registry) -> None:
    """3.0.1 decides as 3.0.0 (section 1): the same labels at, above and below the 80 % threshold."""
    at_threshold = ("4.5", "4.7", "4.8", "4.9", "3.2")      # 37 of 46 -> gold
    below = (*at_threshold, "5.3")                          # 36 of 46 -> bronze
    cases = [gold_assessment("3.0.0", "2021-03-16"), gold_assessment("3.0.0", "2021-03-16", at_threshold),
             gold_assessment("3.0.0", "2021-03-16", below)]
    _same_decisions(shipped.get(M, "3.0.0"), shipped.get(M, "3.0.1"), cases)


def test_no_counterexample_between_a_version_and_itself(shipped: Registry) -> None:
    """A version never disagrees with itself: the search over 3.0.1 vs 3.0.1 finds nothing."""
    ruleset = shipped.get(M, "3.0.1")
    example, tried = find_counterexample(ruleset, ruleset, max_examples=30)
    assert example is None
    assert tried >= 30


# -- the 3.0.2: one Gold threshold changed in a patch release ----------------------------------


@pytest.fixture(scope="module")
def gold_edit(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A copy of the rulesets with 3.0.2 = 3.0.1 with the Gold threshold of 1.1.0 raised from 0.75 to 0.80."""
    root = copy_rulesets(tmp_path_factory.mktemp("gold_edit"))
    write_version(root, "3.0.2", GOLD_EDIT_3_0_2)
    return Registry(root)


@pytest.fixture(scope="module")
def gold_edit_report(gold_edit: Registry) -> BumpReport:
    """bump_check 3.0.1 -> 3.0.2 (memoised for the lint tests)."""
    return cached_bump_check(gold_edit.get(M, "3.0.1"), gold_edit.get(M, "3.0.2"), max_examples=EXAMPLES)


def test_gold_threshold_patch_needs_a_major(gold_edit_report: BumpReport) -> None:
    """Changing a Gold threshold in 3.0.2 declares patch but requires major: the check fails."""
    assert gold_edit_report.declared == "patch"
    assert gold_edit_report.required == "major"
    assert not gold_edit_report.ok
    assert any("gold_1_1_0" in r for r in gold_edit_report.reasons)


def test_gold_threshold_counterexample_lies_between_the_thresholds(gold_edit: Registry,
                                                                   gold_edit_report: BumpReport) -> None:
    """The counterexample's indicator 1.1.0 is in [0.75, 0.80): met under 3.0.1, not under 3.0.2; labels differ."""
    example = gold_edit_report.counterexample
    assert example is not None
    value = Decimal(str(example.assessment["indicators"]["1.1.0"]))
    assert Decimal("0.75") <= value < Decimal("0.80")
    old, new = check_counterexample(gold_edit.get(M, "3.0.1"), gold_edit.get(M, "3.0.2"), gold_edit_report)
    assert new is not None  # same schema: the projected input stays valid
    assert old.outcome_of("1.1.0") == "met"
    assert new.outcome_of("1.1.0") == "not_met"
    assert old.version == "3.0.1"
    assert new.version == "3.0.2"


def test_gold_threshold_witness(gold_edit: Registry) -> None:
    """By hand: 37 of 46 met with 1.1.0 = 0.77 is Gold under 3.0.1 but 36 of 46 (bronze) under 3.0.2 (section 5)."""
    data = gold_assessment("3.0.1", "2021-03-16", ("4.5", "4.7", "4.8", "4.9", "3.2"))
    data["indicators"]["1.1.0"] = 0.77
    old, new = decide_both(gold_edit.get(M, "3.0.1"), gold_edit.get(M, "3.0.2"), data)
    assert old.label == "gold"
    assert new is not None
    assert new.label == "bronze"


def test_bump_report_json(gold_edit_report: BumpReport) -> None:
    """BumpReport.to_json is plain JSON with both versions, the verdict and the counterexample's decisions."""
    data = json.loads(json.dumps(gold_edit_report.to_json()))
    assert (data["old"], data["new"], data["declared"], data["required"], data["ok"]) == (
        "3.0.1", "3.0.2", "patch", "major", False)
    example = data["counterexample"]
    assert example["old"]["version"] == "3.0.1"
    assert example["new"]["version"] == "3.0.2"
    assert example["old"]["label"] != example["new"]["label"]


def test_projection_drops_what_the_new_version_does_not_declare(shipped: Registry) -> None:
    """project() onto 3.0.0 drops indicators 1.2, 2.2.4, 5.1 of a 2.0.0 input and reports their pointers."""
    data = gold_assessment("2.0.0", "2020-03-05")
    projected, ignored = project(data, shipped.get(M, "3.0.0").plan.inputs)
    assert sorted(ignored) == ["/indicators/1.2", "/indicators/2.2.4", "/indicators/5.1"]
    assert set(projected["indicators"]) == set(data["indicators"]) - {"1.2", "2.2.4", "5.1"}
    assert evaluate(shipped.get(M, "3.0.0"), projected).version == "3.0.0"


# -- bugs ----------------------------------------------------------------------------------------------------

#: a minor release over 3.0.1 that raises the Silver baseline minimum of 1.1.0 from 0.50 to 0.55
SILVER_EDIT_3_1_0 = """\
extends: 3.0.1
version: 3.1.0
supersedes: 3.0.1
status: published
effective_from: 2022-01-01
approval: {body: EUCLES board, date: 2021-12-01, reference: test copy}
parameters:
  silver_1_1_0: {value: 0.55}
"""

def silver_witness() -> dict[str, Any]:
    """A 3.0.1 Silver that sits between the old and the new Silver baseline of 1.1.0 (spec section 5).

    History: Bronze awarded 2019-08-20, assessed 2021-06-08: months_between = 24 + (6 - 8) = 22, minus 1
    (day 8 < 20) = 21, within [18, 24]. Benchmarking completed, 3 success stories, eligible, three
    validated Silver-scope improvement areas (2.5, 4.1.6, 4.6.1), every Silver baseline met with
    1.1.0 = 0.52 >= 0.50. Gold fails: 1.1.0 (1), 3.2 (1), 5.3 (1), 4.5, 4.7, 4.8, 4.9 (2 each) ->
    met 46 - 11 = 35, 3500 < 3680. So 3.0.1 decides silver; with the baseline at 0.55, SB-1.1.0 fails
    and the label falls to bronze.
    """
    data = gold_assessment("3.0.1", "2021-06-08", ("3.2", "5.3", "4.5", "4.7", "4.8", "4.9"))
    data["indicators"]["1.1.0"] = 0.52
    data["history"] = [{"label": "bronze", "awarded_on": "2019-08-20", "valid_until": "2021-08-31"}]
    data["improvement_areas"] = [{"indicator": i, "validated": True} for i in ("2.5", "4.1.6", "4.6.1")]
    return data


def test_bug_bump_check_misses_silver_baseline_change(tmp_path: Any) -> None:
    """A minor release that raises a Silver baseline changes decisions, so bump-check must require major."""
    # The witness (derived by hand, no search) is Silver under 3.0.1 and Bronze under 3.1.0: an input
    # valid under the old version whose decision changes, so by the semver policy the bump is MAJOR.
    # A random search missed it (at 200, 500 and 2000 generated assessments, checked by hand); the
    # directed walk from the embedded tests towards the changed threshold finds it.
    root = copy_rulesets(tmp_path)
    write_version(root, "3.1.0", SILVER_EDIT_3_1_0)
    registry = Registry(root)
    old_version, new_version = registry.get(M, "3.0.1"), registry.get(M, "3.1.0")
    old, new = decide_both(old_version, new_version, silver_witness())
    assert old.label == "silver"
    assert new is not None
    assert new.label == "bronze"
    with without_shrinking():  # keeps the test fast once the search does find a counterexample
        report = bump_check(old_version, new_version, max_examples=EXAMPLES)
    assert report.required == "major", report.reasons
    assert not report.ok
