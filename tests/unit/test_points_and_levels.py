"""Points and levels: a score's threshold as points (``minimum``) as well as a share, and several
levels over one set of weights, written once (issue 22, "Why", second bullet).

The scheme is ``tests/data/points/1.0.0.yaml``: credits earn 1 or 2 points (8 in all), and the
levels Certified, Silver and Gold need 2, 3 and 4 points, Platinum 0.875 of the total (7). Every
expected value below is counted by hand from that file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruleset_text import edited as edited_text

from ecei_rules import RulesetError, evaluate, load_ruleset, load_ruleset_text
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.explanation import explain

POINTS = Path(__file__).resolve().parent.parent / "data" / "points" / "1.0.0.yaml"
TEXT = POINTS.read_text(encoding="utf-8")
BASE: dict[str, Any] = {"assessed_on": "2021-06-15",
                        "building": {"id": "B-1", "smoking_banned": True, "energy_saving": 0, "water_saving": 0,
                                     "bike_racks": 0}}


def assessment(**building: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["building"].update(building)
    return data


def edited(*pairs: tuple[str, str]) -> str:
    return edited_text(TEXT, *pairs)


def codes_at(text: str) -> list[tuple[str, str | None, str]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    return [(d.code, d.pointer, d.message) for d in info.value.diagnostics]


def test_a_score_threshold_can_be_a_number_of_points_not_only_a_share_re_derived_by_hand() -> None:
    """``minimum: gold_points`` (4) is the met weight needed itself: adding a credit (total 8 -> 11)
    leaves it at 4, where a share would have had to be re-derived by hand (4/8 -> 4/11)."""
    ruleset = load_ruleset(POINTS)
    four = assessment(energy_saving=10, water_saving=20, bike_racks=10)  # 1 + 1 + 1 + 2 = 5 points
    gold = {s.id: s for s in evaluate(ruleset, four).scores}["points.gold"]
    assert (gold.outcome, gold.met_weight, gold.total_weight, gold.required_weight) == ("met", 5, 8, 4)
    assert gold.threshold.name == "gold_points"
    more = load_ruleset_text(edited(
        ("  bikes:\n    title: Bicycle storage\n",
         "  solar:\n    title: Solar panels\n    when: building.bike_racks >= 500\n"
         "  bikes:\n    title: Bicycle storage\n"),
        ("bikes: 2}", "bikes: 2, solar: 3}")))
    gold = {s.id: s for s in evaluate(more, four).scores}["points.gold"]
    assert (gold.outcome, gold.met_weight, gold.total_weight, gold.required_weight) == ("met", 5, 11, 4)
    # the share-based level moves with the total: 0.875 x 11 = 9.625
    platinum = {s.id: s for s in evaluate(more, four).scores}["points.platinum"]
    assert platinum.required_weight == pytest.approx(9.625)
    assert str(platinum.required_weight) == "9.625"


def test_explanations_say_the_points_needed_not_a_share_printed_as_a_fraction() -> None:
    """A level with a minimum reads "needs 4 (gold_points)", not "needs 0.5 x 8" nor "needs 18.98"."""
    ruleset = load_ruleset(POINTS)
    expl = explain(ruleset, assessment(energy_saving=10, water_saving=20, bike_racks=3))
    gold = {s.id: s for s in expl.scores}["points.gold"]
    assert gold.sentence == ("Points: gold (points.gold): not met; met weight 3 of 8 (unknown 0), needs 4 "
                             "(gold_points). Short by 1.")
    platinum = {s.id: s for s in expl.scores}["points.platinum"]
    assert "needs 7 = 0.875 x 8" in platinum.sentence


def test_levels_over_one_score_share_one_set_of_weights_so_no_copy_can_drop_one() -> None:
    """Four levels, one ``weights`` mapping: every level's result carries the same six weights, and
    the only way to drop a weight drops it from every level at once."""
    ruleset = load_ruleset(POINTS)
    decision = evaluate(ruleset, assessment(energy_saving=20))
    levels = [s for s in decision.scores if s.id.startswith("points.")]
    assert [s.id for s in levels] == ["points.certified", "points.silver", "points.gold", "points.platinum"]
    expected = {"energy_1": 1, "energy_2": 1, "energy_3": 2, "water_1": 1, "water_2": 1, "bikes": 2}
    assert all(s.weights == expected for s in levels)
    assert [s.required_weight for s in levels] == [2, 3, 4, 7]
    # energy 20: 1 + 1 + 2 = 4 points -> Gold, not Platinum
    assert [s.outcome for s in levels] == ["met", "met", "met", "not_met"]
    assert decision.label == "gold"
    dropped = load_ruleset_text(edited((", bikes: 2}", "}")))
    assert all("bikes" not in s.weights for s in evaluate(dropped, assessment()).scores)


def test_a_minimum_beyond_the_total_weight_is_refused_where_it_is_written() -> None:
    """A level that no assessment can reach (9 points of 8) is a load-time error at the level."""
    found = codes_at(edited(("gold_points: {value: 4,", "gold_points: {value: 9,")))
    assert found == [("E103", "/scores/points/levels/gold/minimum",
                      "the minimum parameter 'gold_points' must lie between 0 and the total weight 8 (points that "
                      "can be reached), not 9")]


def test_a_score_states_exactly_one_of_threshold_minimum_or_levels() -> None:
    """A score with both levels and a minimum (or with none of the three) is refused at the score."""
    both = codes_at(edited(("    assumed: \"test data: 8 points in all\"\n",
                            "    assumed: \"test data: 8 points in all\"\n    minimum: gold_points\n")))
    assert [(c, p) for c, p, _ in both] == [("E103", "/scores/points")]
    assert "exactly one of 'threshold'" in both[0][2]
    level = codes_at(edited(("gold: {minimum: gold_points}", "gold: {title: Gold points}")))
    assert [(c, p) for c, p, _ in level] == [("E103", "/scores/points/levels/gold")]


def test_a_tier_requiring_a_score_with_levels_is_told_its_level_ids() -> None:
    """A score with levels has no outcome of its own: ``requires: [points]`` is an unknown id, with
    the nearest level ids suggested."""
    (diag,) = list(_diagnostics(edited(("requires: [prerequisites, points.gold]",
                                                "requires: [prerequisites, points]"))))
    assert (diag.code, diag.pointer) == ("E106", "/tiers/gold/requires/1")
    assert diag.message == "unknown criterion, group or score 'points'"
    assert diag.suggestion is not None
    assert "points.gold" in diag.suggestion


def test_a_level_id_may_not_be_taken_by_a_criterion() -> None:
    """``points.gold`` names the level; a criterion of that id would make every reference ambiguous."""
    found = codes_at(edited(("  bikes:\n    title: Bicycle storage\n",
                             "  points.gold:\n    title: Clash\n    when: building.bike_racks >= 1\n"
                             "  bikes:\n    title: Bicycle storage\n")))
    assert [(c, p) for c, p, _ in found] == [("E108", "/scores/points.gold")]
    assert found[0][2] == "the id 'points.gold' is used by both criterion and scores"


def test_the_semantic_diff_names_each_level_whose_minimum_changed() -> None:
    """Raising one level's minimum is a change of that level alone, and it may change decisions."""
    old = load_ruleset(POINTS)
    new = load_ruleset_text(edited(("version: 1.0.0", "version: 1.1.0"),
                                   ("gold: {minimum: gold_points}", "gold: {minimum: gold_points_2}"),
                                   ("platinum_share:",
                                    "gold_points_2: {value: 5, unit: points, assumed: \"test data\"}\n"
                                    "  platinum_share:")))
    diff = semantic_diff(old, new)
    changes = [(c.id, c.attribute, c.old, c.new, c.decides) for c in diff.section("scores")]
    assert changes == [("points.gold", "minimum", "gold_points", "gold_points_2", True)]


def _diagnostics(text: str) -> list[Any]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    return list(info.value.diagnostics)
