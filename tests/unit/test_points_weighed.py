"""A score can weigh a number (issue 22, "The language, from the examples' workarounds": "a score
cannot weigh a number input").

The scheme is ``tests/data/points/2.0.0.yaml``: criteria worth 1 (water) and 2 (bicycle storage)
when met, and two numbers weighed as they are: ``energy`` (a derived value, one point per 5 %
saved, at most 4) and ``renewables`` (``(share - 10) / 5``, at most 3): 10 in all. Certified,
Silver and Gold need 4, 6 and 8 points, Platinum 0.95 of the total (9.5). Every expected value
below is counted by hand from that file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruleset_text import edited as edited_text

from ecei_rules import RulesetError, evaluate, load_ruleset, load_ruleset_text
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.core.canonical import canonical_json, to_json
from ecei_rules.engine.evaluate import decide_label, decision_text, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.explanation import explain
from ecei_rules.render.docs import version_page
from ecei_rules.testing.embedded import run_embedded
from ecei_rules.testing.properties import recompute

DATA = Path(__file__).resolve().parent.parent / "data" / "points"
WEIGHED = DATA / "2.0.0.yaml"
TEXT = WEIGHED.read_text(encoding="utf-8")
BASE: dict[str, Any] = {"assessed_on": "2022-06-15",
                        "building": {"id": "B-2", "smoking_banned": True, "energy_saving": 0, "water_saving": 0,
                                     "bike_racks": 0, "renewable_share": 0}}


def assessment(**building: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for key, value in building.items():
        if value is None:
            del data["building"][key]
        else:
            data["building"][key] = value
    return data


def edited(*pairs: tuple[str, str]) -> str:
    return edited_text(TEXT, *pairs)


def codes_at(text: str) -> list[tuple[str, str | None]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    return [(d.code, d.pointer) for d in info.value.diagnostics]


def score(ruleset: Any, data: dict[str, Any], sid: str) -> Any:
    return {s.id: s for s in evaluate(ruleset, data).scores}[sid]


def test_a_score_weighs_a_number_input_clipped_to_its_maximum() -> None:
    """Energy 30 % earns floor(30/5) = 6 points and counts its maximum 4; renewables 17.5 % counts
    (17.5 - 10)/5 = 1.5; with the bicycle storage (2) that is 7.5 of 10: Silver (6), not Gold (8).
    The score result shows each number, what it counts and its maximum."""
    ruleset = load_ruleset(WEIGHED)
    gold = score(ruleset, assessment(energy_saving=30, bike_racks=10, renewable_share=17.5), "points.gold")
    assert (gold.outcome, gold.met_weight, gold.unknown_weight, gold.total_weight, gold.required_weight) == (
        "not_met", 7.5, 0, 10, 8)
    shown = {k: (p.value, p.counted, p.maximum) for k, p in gold.points.items()}
    assert shown == {"energy": (6, 4, 4), "renewables": (1.5, 1.5, 3)}
    assert gold.points["renewables"].expression == "(building.renewable_share - params.renewable_floor) / 5"
    below = score(ruleset, assessment(), "points.certified")  # renewables (0 - 10)/5 = -2 counts 0
    assert (below.met_weight, below.points["renewables"].value, below.points["renewables"].counted) == (0, -2, 0)
    assert evaluate(ruleset, assessment(energy_saving=30, bike_racks=10, renewable_share=20)).label == "gold"


def test_an_unknown_number_counts_its_maximum_as_unknown_weight_and_its_inputs_as_missing() -> None:
    """Renewables absent: 6 met, 3 unknown. Silver (6) is met, Gold (8) unknown, Platinum (9.5 > 9)
    not met; the unknown Gold tier names the absent input the number reads, also through a derived value."""
    ruleset = load_ruleset(WEIGHED)
    d = evaluate(ruleset, assessment(energy_saving=20, bike_racks=10, renewable_share=None))
    scores = {s.id: s for s in d.scores}
    assert (scores["points.gold"].outcome, scores["points.gold"].met_weight,
            scores["points.gold"].unknown_weight) == ("unknown", 6, 3)
    assert scores["points.gold"].points["renewables"].value is None
    assert scores["points.gold"].points["renewables"].counted is None
    assert scores["points.platinum"].outcome == "not_met"
    tiers = {t.label: t for t in d.tiers}
    assert (d.label, tiers["gold"].outcome, tiers["gold"].missing) == ("silver", "unknown",
                                                                      ("/building/renewable_share",))
    through = evaluate(ruleset, assessment(energy_saving=None, water_saving=20, bike_racks=10, renewable_share=25))
    assert {t.label: t.missing for t in through.tiers}["platinum"] == ("/building/energy_saving",)


def test_every_embedded_test_of_the_weighed_scheme_passes() -> None:
    """The hand-derived tests of the file: both sides of every level, a number above its maximum and
    below 0, half a point, and each number unknown."""
    results = run_embedded(load_ruleset(WEIGHED))
    assert len(results) == 10
    assert [r.report() for r in results if not r.passed] == []


CASES = [assessment(), assessment(energy_saving=19.99), assessment(energy_saving=50, water_saving=20,
                                                                      renewable_share=15),
         assessment(energy_saving=30, bike_racks=10, renewable_share=17.5),
         assessment(energy_saving=30, bike_racks=10, renewable_share=10.333),
         assessment(energy_saving=100, water_saving=20, bike_racks=10, renewable_share=40),
         assessment(energy_saving=20, bike_racks=10, renewable_share=None),
         assessment(energy_saving=None, water_saving=20, bike_racks=10, renewable_share=25),
         assessment(smoking_banned=None, energy_saving=None, renewable_share=None)]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_every_evaluator_decides_points_alike(data: dict[str, Any]) -> None:
    """The trace, text and label modes, the reference evaluator (which reads the numbers with the
    interpreter) and the model's own dump give the same decision, byte for byte; the label
    recomputed from the decision's trace alone (the sufficiency property) is the decided one."""
    ruleset = load_ruleset(WEIGHED)
    validated = validate_assessment(ruleset, data)
    fast, reference = evaluate(ruleset, validated), evaluate_reference(ruleset, validated)
    assert fast == reference
    text = canonical_json(to_json(reference.model_dump(mode="python"))).decode("utf-8")
    assert fast.canonical_text() == reference.canonical_text() == text == decision_text(ruleset, validated)
    assert canonical_json(fast.to_json()).decode("utf-8") == text
    assert decide_label(ruleset, validated) == (reference.label, reference.valid_from, reference.valid_until)
    label, _, _, undecided, absent = outline(ruleset, dict(validated.data), missing=True)
    assert (label, undecided) == (reference.label, any(t.outcome == "unknown" for t in reference.tiers))
    assert list(absent) == [t.missing for t in reference.tiers if t.outcome == "unknown"]
    assert recompute(ruleset, fast.to_json())[0] == fast.label


def test_a_ruleset_without_points_writes_no_points_key() -> None:
    """The construct is an addition: a score without points has no 'points' member in any form of
    its decision (a decision's JSON gains the key only when the ruleset uses the construct)."""
    ruleset = load_ruleset(DATA / "1.0.0.yaml")
    d = evaluate(ruleset, {"assessed_on": "2021-06-15", "building": {"id": "B-1", "energy_saving": 10}})
    assert all("points" not in s for s in d.to_json()["scores"])
    assert all("points" not in s for s in d.model_dump(mode="json")["scores"])
    assert '"points":' not in d.canonical_text()
    weighed = evaluate(load_ruleset(WEIGHED), assessment())
    assert all("points" in s for s in weighed.to_json()["scores"])


def test_points_are_checked_when_the_ruleset_loads() -> None:
    """A maximum of 0, a value that is not a number, an unknown name, a name that is a weighted
    criterion, and a minimum beyond the total (weights and maxima: 10) are each refused where they are."""
    pointer = "/scores/points/points/energy"
    assert ("E103", pointer) in codes_at(edited(("maximum: 4}", "maximum: 0}")))
    assert codes_at(edited(("value: energy_points, maximum", "value: building.smoking_banned, maximum"))) == [
        ("E204", pointer + "/value")]
    assert codes_at(edited(("value: energy_points, maximum", "value: energy_pionts, maximum"))) == [
        ("E104", pointer + "/value")]
    assert codes_at(edited(("      energy: {value", "      water_1: {value"))) == [
        ("E108", "/scores/points/points/water_1")]
    assert codes_at(edited(("gold_points: {value: 8,", "gold_points: {value: 10.5,"))) == [
        ("E103", "/scores/points/levels/gold/minimum")]
    assert load_ruleset_text(edited(("gold_points: {value: 8,", "gold_points: {value: 10,"))).version == "2.0.0"
    only = load_ruleset_text(edited(("    weights: {water_1: 1, bikes: 2}\n", ""),  # points alone: 7 in all
                                    ("gold_points: {value: 8,", "gold_points: {value: 7,")))
    assert score(only, assessment(energy_saving=20), "points.certified").total_weight == 7
    assert ("E103", "/scores/points") in codes_at(edited(("    weights: {water_1: 1, bikes: 2}\n", ""), (
        "    points:\n      energy: {value: energy_points, maximum: 4}\n"
        "      renewables: {value: (building.renewable_share - params.renewable_floor) / 5, maximum: 3}\n", "")))


def test_the_diff_names_each_change_of_the_numbers_weighed_and_the_hash_covers_them() -> None:
    """A maximum changed, a value rewritten and a number removed are deciding changes of the score
    (one per level); each changes the content hash; the same value written otherwise is no change."""
    old = load_ruleset(WEIGHED)
    new = load_ruleset_text(edited(("maximum: 3}", "maximum: 2}"), ("value: energy_points,",
                                                                      "value: energy_points + 0,")))
    found = {(c.id, c.attribute, c.old, c.new, c.decides) for c in semantic_diff(old, new).section("scores")}
    assert ("points.gold", "points renewables maximum", 3, 2, True) in found
    assert ("points.gold", "points energy value", "energy_points", "energy_points + 0", True) in found
    assert old.sha256 != new.sha256
    gone = load_ruleset_text(edited(("      energy: {value: energy_points, maximum: 4}\n", ""),
                                    ("gold_points: {value: 8,", "gold_points: {value: 6,")))
    removed = {(c.id, c.attribute) for c in semantic_diff(old, gone).section("scores")}
    assert ("points.silver", "points energy") in removed
    spaced = load_ruleset_text(edited(("value: energy_points,", "value: (energy_points),")))
    assert not [c for c in semantic_diff(old, spaced).section("scores") if c.attribute and "points" in c.attribute]


def test_the_explanation_says_what_each_number_counts_and_what_it_takes_through_them() -> None:
    """7.5 points: Gold is one change away, either the water criterion or renewables 17.5 -> 20 (found by
    deciding again); Platinum (9.5) needs the water criterion and then renewables at 22.5, never "cannot be
    reached" while a number weighed can still rise."""
    ruleset = load_ruleset(WEIGHED)
    expl = explain(ruleset, assessment(energy_saving=30, bike_racks=10, renewable_share=17.5))
    gold = {s.id: s for s in expl.scores}["points.gold"]
    assert ("Points weighed as numbers: energy = 6, counts 4 of at most 4 and renewables = 1.5, counts 1.5 of "
            "at most 3.") in gold.sentence
    paths = {p.label: p for p in expl.what_it_takes}
    assert paths["gold"].reachable
    assert paths["platinum"].reachable
    firsts = [[(c.pointer, c.current, c.target) for c in s.inputs] for s in paths["gold"].input_sets]
    assert firsts == [[("/building/renewable_share", 17.5, 20)], [("/building/water_saving", 0, 20)]]
    assert [[(c.pointer, c.target) for c in s.inputs] for s in paths["platinum"].input_sets] == [
        [("/building/water_saving", 20), ("/building/renewable_share", 22.5)]]
    assert paths["platinum"].input_sets_exhaustive  # the one minimal set (renewables alone adds at most 1.5)
    unknown = explain(ruleset, assessment(energy_saving=20, bike_racks=10, renewable_share=None))
    gold_tier = {t.label: t for t in unknown.tiers}["gold"]
    assert "missing: building.renewable_share" in gold_tier.sentence


def test_the_docs_page_lists_the_numbers_weighed_with_their_maxima() -> None:
    """The score's section counts them in the total weight and lists each value and maximum."""
    page = version_page(load_ruleset(WEIGHED))
    scores = page.split("\n## Scores\n", 1)[1].split("\n## ", 1)[0]
    assert "2 criteria and 2 numbers weighed as they are, total weight **10**" in scores
    assert "| <code>energy</code> | <code>energy_<wbr>points</code> | **4** |" in scores


def test_the_sql_engine_refuses_a_number_it_cannot_weigh_exactly_naming_each() -> None:
    """The SQL form weighs numbers that are decimals (a constant divisor is a product), and refuses one
    that is a quotient by an input (its met weight would be a fraction): one Q001 at that entry's value,
    never a silent decision without it."""
    pytest.importorskip("sqlglot")
    from ecei_rules.backends import sql

    sql.compile_ruleset(load_ruleset(WEIGHED))  # floor(x / 5) and (x - 10) / 5: decimals
    quotient = load_ruleset_text(edited(("value: (building.renewable_share - params.renewable_floor) / 5,",
                                         "value: building.renewable_share / building.energy_saving,")))
    with pytest.raises(sql.SqlRefused) as info:
        sql.compile_ruleset(quotient)
    assert [(d.code, d.pointer) for d in info.value.diagnostics] == [
        (sql.REFUSED, "/scores/points/points/renewables/value")]
