"""Derived values of unknown but bounded inputs are ranges (issue 22, "What remains" 5: one
unknown credit made every level unknown). Every expectation is worked out by hand in its
docstring; the rulesets opt into ranges (``unknowns: {derived: ranges}``): ``tests/data/ranges/
building-points`` (the published ``examples/methodologies/building-points`` with the opt-in added:
credits as step tables, a points total, levels by a band) and ``tests/data/ranges/1.0.0.yaml``
(every range operation). The published versions, without the opt-in, decide as before."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.compare.bump import required_bump
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.engine.evaluate import decision_text, evaluate
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import RulesetError
from ecei_rules.explanation.build import explain
from ecei_rules.ruleset.load import content_hash, load_ruleset, load_ruleset_text
from ecei_rules.ruleset.load import test_assessment as _test_assessment
from ecei_rules.testing.embedded import run_embedded

ROOT = Path(__file__).parents[2]
POINTS = ROOT / "examples" / "methodologies" / "building-points"
PUBLISHED = load_ruleset(POINTS / "1.0.0.yaml")
#: the published 1.0.0 with ``unknowns: {derived: ranges}`` added (and its embedded tests following it)
BUILDING = load_ruleset(ROOT / "tests" / "data" / "ranges" / "building-points" / "1.0.0.yaml")
RANGES = load_ruleset(ROOT / "tests" / "data" / "ranges" / "1.0.0.yaml")

#: P0 of the building-points README (section 7), the fixture of its embedded test "50 points:
#: Silver": outdoor 60 % (1 point), indoor 37 % (3), an optimized cooling tower (1), subsystem
#: meters (1): WE 6; 44 other points; every prerequisite met.
P0: dict[str, Any] = _test_assessment(
    BUILDING.plan.doc, [t.name for t in BUILDING.plan.doc.tests].index("50 points: Silver"))


def _without_meters(other_points: int) -> dict[str, Any]:
    return {**P0, "other_points": other_points,
            "water": {k: v for k, v in P0["water"].items() if k != "subsystem_meters"}}


def _derived(decision: Any) -> dict[str, tuple[str, Any, Any]]:
    return {d.id: (d.outcome, d.value, d.range) for d in decision.derived}


def _tiers(decision: Any) -> dict[str, str]:
    return {t.label: t.outcome for t in decision.tiers}


def test_one_unknown_credit_no_longer_makes_every_level_unknown() -> None:
    """P2 (assessments/p2-meters-unknown-2016.json): 43 other points, outdoor 60 % (1), indoor
    34 % (2), no cooling tower (0), subsystem meters unknown (0 or 1): WE 3 or 4, total 46 or 47,
    Certified either way (40 <= total < 50); every prerequisite is met. Before ranges the total
    was unknown and so was every level: no label."""
    data = json.loads((POINTS / "assessments" / "p2-meters-unknown-2016.json").read_text())
    decision = evaluate(BUILDING, data)
    derived = _derived(decision)
    assert derived["metering_points"] == ("unknown", None, (0, 1))
    assert derived["water_points"] == ("unknown", None, (3, 4))
    assert derived["total_points"] == ("unknown", None, (46, 47))
    assert decision.label == "certified"
    assert _tiers(decision) == {"platinum": "not_met", "gold": "not_met", "silver": "not_met", "certified": "met"}


def test_known_credits_already_reaching_gold_decide_gold_with_a_credit_unknown() -> None:
    """P0 with 60 other points and subsystem meters unknown: 60 + 5 or 6 = 65 or 66, Gold either
    way (60 <= total < 80); Platinum (>= 80) and Silver (< 60) are out of the range: not met."""
    decision = evaluate(BUILDING, _without_meters(60))
    assert _derived(decision)["total_points"] == ("unknown", None, (65, 66))
    assert decision.label == "gold"
    assert decision.outcome_of("level.gold") == "met"
    assert decision.outcome_of("level.platinum") == decision.outcome_of("level.silver") == "not_met"


def test_a_level_the_range_straddles_stays_unknown() -> None:
    """P0 with 44 other points and subsystem meters unknown: 49 or 50, Certified or Silver: both
    classes and both tiers are unknown, the others not met (README 7.4's case)."""
    decision = evaluate(BUILDING, _without_meters(44))
    assert _derived(decision)["total_points"] == ("unknown", None, (49, 50))
    assert decision.label == "none"
    assert _tiers(decision) == {"platinum": "not_met", "gold": "not_met", "silver": "unknown", "certified": "unknown"}


def test_a_derived_entry_stays_unknown_and_shows_its_range_only_when_it_has_one() -> None:
    """The decision's entry of a value with a range keeps outcome unknown and value null and gains
    "range": [lo, hi] (between "parameters" and "reason" in canonical order); a known value and an
    unknown one without a range (a division by z, which may be zero) have no such key. The bytes
    are the reference evaluator's."""
    decision = evaluate(RANGES, {"assessed_on": "2022-01-01"})
    entries = {d["id"]: d for d in decision.to_json()["derived"]}
    assert entries["product"]["outcome"] == "unknown"
    assert entries["product"]["value"] is None
    assert entries["product"]["range"] == [-8, 12]
    assert "range" not in entries["over_z"]
    assert "range" not in entries["unbounded"]
    assert decision.canonical_text() == evaluate_reference(RANGES, {"assessed_on": "2022-01-01"}).canonical_text()
    assert '"parameters":[],"range":[-8,12],"reason":null' in decision.canonical_text()
    known = evaluate(BUILDING, P0).to_json()["derived"]
    assert all("range" not in d for d in known)


def test_every_range_operation_gives_the_range_worked_out_by_hand() -> None:
    """Everything absent but the date: a in [-2, 3], b in [1, 4], n in 0..5, z in -1..2.
    product a*b: ends -2, -8, 3, 12 -> [-8, 12]; quotient n/b: 0, 0, 5, 5/4 -> [0, 5]; n/z: z may
    be 0 -> unknown, no range; free + 1 (free has no maximum) -> unknown, no range; shaped =
    round(a) [-2, 3] + floor(b) [1, 4] - ceil(a) [-2, 3] + abs(a - 1) [0, 3] + min(a, b) [-2, 3]
    - max(n, 2) [2, 5] = [-11, 13]; choice (3 if flag else 1) + (2 if kind == "large" else 0) =
    [1, 3] + [0, 2] = [1, 5]; the credits map absent: each credit 0..3, the sum [0, 6] (an absent
    map and an empty one alike); total = [0, 6] + [1, 5] + [0, 5] - [-8, 12] / 2 = [1, 16] - [-4, 6]
    = [-5, 20]."""
    derived = _derived(evaluate(RANGES, {"assessed_on": "2022-01-01"}))
    assert derived == {
        "product": ("unknown", None, (-8, 12)), "quotient": ("unknown", None, (0, 5)),
        "over_z": ("unknown", None, None), "unbounded": ("unknown", None, None),
        "shaped": ("unknown", None, (-11, 13)), "choice": ("unknown", None, (1, 5)),
        "credit_total": ("unknown", None, (0, 6)), "total": ("unknown", None, (-5, 20))}


def test_a_total_over_a_range_decides_its_band_and_its_tier() -> None:
    """credits {c1: 3} (c2 absent, 0..3), flag true, kind large, n 5, b 1, a absent: product
    a*1 in [-2, 3]; credit_total 3 + [0, 3] = [3, 6]; choice 3 + 2 = 5; total = [3, 6] + 5 + 5 -
    [-2, 3]/2 = [13, 16] - [-1, 1.5] = [11.5, 17] >= 10: P6 and level.high met, high awarded.
    P1 (product >= 4) is not met: 3 is the most it can be. P8 (known(total)) is false: a range
    is no value."""
    data = {"assessed_on": "2022-01-01", "credits": {"c1": 3}, "flag": True, "kind": "large", "n": 5, "b": 1}
    decision = evaluate(RANGES, data)
    derived = _derived(decision)
    assert derived["credit_total"] == ("unknown", None, (3, 6))
    assert derived["total"] == ("unknown", None, (Decimal("11.5"), 17))
    assert [decision.outcome_of(c) for c in ("P1", "P6", "P8", "level.high", "level.mid")] == \
        ["not_met", "met", "not_met", "met", "not_met"]
    assert decision.label == "high"
    assert decision == evaluate_reference(RANGES, data)


def test_a_division_by_a_range_holding_zero_is_unknown_never_a_value() -> None:
    """n 4, z absent (-1..2, so possibly 0): n / z has no range and P3 (over_z > 0) is unknown,
    though every non-zero z but -1 would make it positive; with z 2 it is known, 2."""
    decision = evaluate(RANGES, {"assessed_on": "2022-01-01", "n": 4})
    assert _derived(decision)["over_z"] == ("unknown", None, None)
    assert decision.outcome_of("P3") == "unknown"
    assert _derived(evaluate(RANGES, {"assessed_on": "2022-01-01", "n": 4, "z": 2}))["over_z"] == ("known", 2, None)


def test_explanations_say_a_derived_value_lies_between_its_ends() -> None:
    """The explanation of P2 says the total is unknown, between 46 and 47 points, and that it
    read the water points between 3 and 4."""
    data = json.loads((POINTS / "assessments" / "p2-meters-unknown-2016.json").read_text())
    sentences = {d.id: d.sentence for d in explain(BUILDING, data).derived}
    assert "is unknown, between 46 and 47 points" in sentences["total_points"]
    assert "water_points between 3 and 4" in sentences["total_points"]


def test_an_absent_map_and_an_empty_one_give_a_derived_sum_the_same_range() -> None:
    """values(credits) reads the entries /credits/c1 and /credits/c2 only, so the one-pass writer,
    which remembers a criterion's text by the values it reads, cannot tell an absent map from an
    empty one: a derived value must not either. Each entry 0..3: the sum is [0, 6] both ways, and
    the text written in one pass after the other is the reference evaluator's."""
    base = {"assessed_on": "2022-01-01", "n": 1}
    for data in ({**base, "credits": {}}, base, {**base, "credits": {}}):
        assert _derived(evaluate(RANGES, data))["credit_total"] == ("unknown", None, (0, 6))
        assert decision_text(RANGES, data) == evaluate_reference(RANGES, data).canonical_text()


def test_a_published_version_without_the_opt_in_decides_as_before() -> None:
    """The published building-points versions do not opt into ranges, so they decide as they were
    published: every embedded test passes (five of them expect levels unknown that the opt-in
    decides), and P2 (subsystem meters unknown, 46 or 47 points) gets no label, every level
    unknown, and its total unknown with no "range" key (the bytes of before)."""
    second = load_ruleset(POINTS / "2.0.0.yaml")
    for ruleset in (PUBLISHED, second):
        assert ruleset.document.unknowns is None
        failed = [r.report() for r in run_embedded(ruleset) if not r.passed]
        assert failed == []
    data = json.loads((POINTS / "assessments" / "p2-meters-unknown-2016.json").read_text())
    decision = evaluate(PUBLISHED, data)
    assert _derived(decision)["total_points"] == ("unknown", None, None)
    assert decision.label == "none"
    assert set(_tiers(decision).values()) == {"unknown"}
    text = decision.canonical_text()
    assert '"range"' not in text
    assert text == evaluate_reference(PUBLISHED, data).canonical_text() == decision_text(PUBLISHED, data)


def test_without_the_opt_in_the_same_ruleset_has_no_ranges() -> None:
    """tests/data/ranges without its opt-in line: every derived value whose inputs are absent is
    unknown with no range (a product of ranges, a sum over absent map entries, a choice alike), and
    the production, one-pass and reference evaluators write the same bytes."""
    text = (ROOT / "tests" / "data" / "ranges" / "1.0.0.yaml").read_text()
    plain = load_ruleset_text(text.replace("unknowns: {derived: ranges}", ""))
    assert plain.document.unknowns is None
    for data in ({"assessed_on": "2022-01-01"}, {"assessed_on": "2022-01-01", "credits": {"c1": 3}, "flag": True,
                                                  "kind": "large", "n": 5, "b": 1}):
        decision = evaluate(plain, data)
        assert {r for _, _, r in _derived(decision).values()} == {None}
        assert decision.canonical_text() == evaluate_reference(plain, data).canonical_text() == \
            decision_text(plain, data)
    assert evaluate(plain, data).label != evaluate(RANGES, data).label  # high only with ranges


def test_the_opt_in_changes_the_content_hash_and_requires_a_major_version() -> None:
    """The opted-in copy of building-points 1.0.0 differs from the published version only by
    ``unknowns`` (and its embedded tests, which are not hashed): its hash differs, and without the
    opt-in its document hashes as the published one. The diff calls the change deciding, and it
    changes how every derived value is worked out from absent inputs: the shipped example p2 (its
    subsystem meters unknown) gets no label from the published version and one from the opted-in
    copy, so the bump the change requires is major, whatever a search finds (a search of 500
    assessments found no such case, and the check said minor)."""
    assert BUILDING.sha256 != PUBLISHED.sha256
    assert content_hash(BUILDING.document.model_copy(update={"unknowns": None})) == PUBLISHED.sha256
    changes = semantic_diff(PUBLISHED, BUILDING).decision_changes
    assert [(c.section, c.id, c.decides) for c in changes] == [("metadata", "unknowns", True)]
    p2 = json.loads((POINTS / "assessments" / "p2-meters-unknown-2016.json").read_text(encoding="utf-8"))
    assert evaluate(PUBLISHED, p2).label == "none"
    assert evaluate(BUILDING, p2).label != "none"
    report = required_bump(PUBLISHED, BUILDING)
    assert report.required == "major"
    assert [c.id for c in report.altering] == ["unknowns"]


def test_the_opt_in_of_a_version_without_derived_values_changes_no_decision() -> None:
    """Ranges are of derived values only: a version without any (tests/data/minimal.yaml) decides alike
    with the opt-in, so the change alters nothing the old version's decisions are worked out from."""
    text = (ROOT / "tests" / "data" / "minimal.yaml").read_text(encoding="utf-8")
    plain = load_ruleset_text(text)
    opted = load_ruleset_text(text.replace("version: 1.0.0\n", "version: 1.1.0\n").replace(
        "effective_from: 2020-01-01\n", "effective_from: 2020-01-01\nunknowns: {derived: ranges}\n"))
    assert not plain.plan.derived
    assert opted.document.unknowns is not None
    report = required_bump(plain, opted)
    assert report.altering == []
    assert report.required == "minor"


def test_the_opt_in_is_inherited_through_extends_and_misspelt_is_an_error() -> None:
    """tests/data/ranges/building-points/2.0.0.yaml extends the opted-in 1.0.0 and does not say
    ``unknowns`` itself: it inherits it. A misspelt key is E101 with a did-you-mean, and a value
    other than ranges is E103."""
    assert load_ruleset(ROOT / "tests" / "data" / "ranges" / "building-points" / "2.0.0.yaml").document.unknowns \
        == BUILDING.document.unknowns is not None
    text = (ROOT / "tests" / "data" / "ranges" / "1.0.0.yaml").read_text()
    for wrong, code, suggestion in (("unknowns: {derivd: ranges}", "E101", "did you mean 'derived'?"),
                                    ("unknown: {derived: ranges}", "E101", "did you mean 'unknowns'?"),
                                    ("unknowns: {derived: range}", "E103", None)):
        with pytest.raises(RulesetError) as caught:
            load_ruleset_text(text.replace("unknowns: {derived: ranges}", wrong))
        assert (code, suggestion) in [(d.code, d.suggestion) for d in caught.value.diagnostics]
