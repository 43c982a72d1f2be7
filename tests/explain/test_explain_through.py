"""Explanations of rulesets with derived values and bands: what it takes through them, each value shown
once, subject-neutral members, and the absent inputs an outcome needs.

The fridge is examples/methodologies/eu-fridge-label (2.0.0) on its assessment R3 (README 6.2: SAE
243.25 kWh/year, Edaily 0.274 kWh/24h, EEI 41.1: class B); the building is
examples/methodologies/building-points (1.0.0) on P0 (44 other points + 6 Water Efficiency points =
50: Silver). Every expected value is worked out by hand in the docstrings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from explain_helpers import REGISTRY, tier_outcome, with_changes

from ecei_rules.engine.evaluate import evaluate
from ecei_rules.explanation import explain, explain_assessment, render_markdown, render_text
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
METHODOLOGIES = ROOT / "examples" / "methodologies"


@pytest.fixture(scope="module")
def examples() -> Registry:
    return Registry(METHODOLOGIES)


def _assessment(methodology: str, name: str) -> dict[str, Any]:
    path = METHODOLOGIES / methodology / "assessments" / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert isinstance(data, dict)
    return data


def _keys(value: Any) -> set[str]:
    """Every member name of a JSON value, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def test_what_it_takes_through_a_band_names_the_input_and_the_least_value_it_needs(examples: Registry) -> None:
    """R3 to A (EEI <= 41): EEI = round(100 x AE / 243.25, 1) with AE = round(365 x Edaily, 2). Edaily 0.273
    gives AE = round(99.645, 2) = 99.65 (half up) and 100 x 99.65 / 243.25 = 40.966 -> 41.0: A; 0.274 gives
    AE 100.01 and 41.144 -> 41.1: B. A holds for every Edaily < 0.2735753..., so on the thousandths Edaily is
    declared in, 0.273 is the least change. Built-in (Bc 1.02 and 1.05 raise SAE to about 252) also reaches A,
    as a second set; external doors cannot (D counts the lower of doors and compartments: still 2)."""
    ruleset = examples.get("eu-fridge-label", "2.0.0")
    data = _assessment("eu-fridge-label", "r3-fridge-freezer-2021")
    expl = explain(ruleset, data)
    assert expl.label == "B"
    path = expl.path("A")
    assert path.input_sets_total == 2
    first, second = path.input_sets
    assert [(c.pointer, c.current, c.target, c.op) for c in first.inputs] == [
        ("/edaily_kwh_24h", Decimal("0.274"), Decimal("0.273"), "<=")]
    assert first.inputs[0].derived == {"energy_index": 41}
    assert (first.verified, first.conditions, first.criteria) == (True, (), ("energy_class.A",))
    assert [(c.pointer, c.target) for c in second.inputs] == [("/appliance/built_in", True)]
    # the engine confirms both, and the value is the least: one thousandth less of a change is B
    assert tier_outcome(ruleset, with_changes(data, [("/edaily_kwh_24h", Decimal("0.273"))]), "A") == "met"
    assert evaluate(ruleset, with_changes(data, [("/edaily_kwh_24h", Decimal("0.274"))])).label == "B"
    assert tier_outcome(ruleset, with_changes(data, [("/appliance/built_in", True)]), "A") == "met"
    change = next(c for c in path.changes if c.criterion == "energy_class.A")
    assert (change.kind, [a.pointer for a in change.alternatives]) == (
        "input", ["/edaily_kwh_24h", "/appliance/built_in"])
    assert expl.summary[2] == ("To reach A, the fewest changes are: lower edaily_kwh_24h from 0.274 to 0.273 "
                               "(energy_index then 41) (verified by deciding again).")
    assert "now: appliance.built_in" not in render_text(expl)  # no longer "meet ...; now: <every input>"


def test_what_it_takes_through_a_points_total_finds_the_single_input_that_reaches_gold(examples: Registry) -> None:
    """P0 to Gold ([60..80) points): the total is other_points + 6, so other_points 54 gives 60 (53 gives 59,
    Silver). No Water Efficiency figure alone adds 10 points (indoor at most 6 - 3 = 3 more), so it is the
    only minimal set; Platinum (>= 80) takes other_points 74."""
    data = _assessment("building-points", "p0-office-2016")
    expl = explain_assessment(data, registry=examples, methodology="building-points")
    gold = expl.path("gold")
    assert gold.input_sets_total == 1
    (only,) = gold.input_sets
    assert [(c.pointer, c.current, c.target) for c in only.inputs] == [("/other_points", 44, 54)]
    assert only.inputs[0].derived == {"total_points": 60}
    assert only.verified is True
    ruleset = examples.get("building-points", expl.version)
    assert evaluate(ruleset, with_changes(data, [("/other_points", 53)])).label == "silver"
    assert [(c.pointer, c.target) for c in expl.path("platinum").input_sets[0].inputs] == [("/other_points", 74)]


def test_explain_shows_a_derived_value_once_not_every_parameter_it_reads(examples: Registry) -> None:
    """Each band class shows the value it placed (energy_index = 41.1 %) and its interval, not the 26
    parameters the index reads; each parameter is listed once, under the derived value that reads it
    (c_mid_slope under combi_parameter), in the text, the Markdown and the JSON."""
    expl = explain(examples.get("eu-fridge-label", "2.0.0"), _assessment("eu-fridge-label", "r3-fridge-freezer-2021"))
    text = render_text(expl)
    assert "    threshold: " not in text  # was 26 lines under each of the 6 classes not met
    assert text.count("c_mid_slope = 1.0275") == 1
    assert "        value: energy_index = 41.1 %\n        band: Energy efficiency class C is 51 < energy_index " \
           "<= 64 %\n" in text
    derived = text[text.index("\nDerived values\n"):]
    assert "Combi parameter C (combi_parameter) = 1.5275; " in derived
    assert "      parameter: c_mid_slope = 1.0275 (sourced: Delegated Regulation (EU) 2019/2016, Annex IV, " in derived
    markdown = render_markdown(expl)
    assert markdown.count("c_mid_slope = 1.0275") == 1
    assert "| energy_index = 41.1 %; energy_index <= 41 |" in markdown
    doc = expl.to_json()
    a = next(c for c in doc["criteria"] if c["id"] == "energy_class.A")
    assert a["band"] == {"band": "energy_class", "title": "Energy efficiency class", "name": "A", "of": "energy_index",
                         "value": 41.1, "interval": "energy_index <= 41", "unit": "%", "provenance": "sourced",
                         "source": a["band"]["source"]}
    assert "own_parameters" not in a  # a band class reads no parameter of its own
    shown = {d["id"]: d for d in doc["derived"]}
    assert "c_mid_slope" in shown["combi_parameter"]["own_parameters"]
    assert shown["energy_index"]["own_parameters"] == []
    assert len(shown["energy_index"]["parameters"]) == 26  # what it reads through the others stays listed


def test_the_explanation_of_a_ruleset_that_declares_its_subject_has_no_organisation_members() -> None:
    """tests/data/subject/1.0.0.yaml declares a building: its explanation JSON names it by subject,
    subject_name and subject_noun only; an ECEI explanation keeps its organisation members."""
    ruleset = load_ruleset(ROOT / "tests" / "data" / "subject" / "1.0.0.yaml")
    doc = explain(ruleset, {"building": {"id": "B-1", "name": "Town hall"}, "assessed_on": "2022-01-10",
                            "energy_use": 80, "certified": False}).to_json()
    assert (doc["subject"], doc["subject_name"], doc["subject_noun"]) == ("B-1", "Town hall", "building")
    assert not {"organisation", "organisation_name"} & set(doc)
    gold = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"), parse_float=Decimal)
    first = explain_assessment(gold, registry=REGISTRY).to_json()  # Gold: nothing above it to search
    assert first["organisation"] == first["subject"] == gold["organisation"]["id"]
    assert first["organisation_name"] == first["subject_name"] == gold["organisation"]["name"]
    assert not {"alternatives", "band", "own_parameters"} & _keys(first)  # ECEI's members as they were


BRANCHES = """\
methodology: branches
version: 1.0.0
title: A derived value that chooses between two inputs
status: published
effective_from: 2021-01-01
approval: {body: Test board, date: 2020-12-01, reference: TB-B1}
inputs:
  assessed_on: {type: date, required: true}
  metered: {type: boolean}
  measured: {type: decimal, minimum: 0, maximum: 100}
  estimated: {type: decimal, minimum: 0, maximum: 100}
derived:
  use: {title: The use that counts, type: decimal, value: measured if metered else estimated}
criteria:
  low: {title: Low use, when: use <= 10}
labels: [low]
tiers:
  low: {title: Low, requires: [low]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [low], valid_until: never}
"""


@pytest.fixture(scope="module")
def branches(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    path = tmp_path_factory.mktemp("branches") / "1.0.0.yaml"
    path.write_text(BRANCHES, encoding="utf-8")
    return load_ruleset(path)


def test_missing_lists_only_inputs_read_in_the_branch_taken(branches: Ruleset, examples: Registry) -> None:
    """use = measured if metered else estimated, metered true, neither figure given: the decision's derived
    value lists both as missing (read from the text), its unknown tier only measured (the branch taken); the
    explanation lists only measured for the value, the criterion and the tier; what it takes asks for
    measured at most 10 (0 <= measured <= 10 is low).
    P2 has no cooling tower, so cooling_tower_points is 0 whatever the tower's absent figures: only the
    absent subsystem_meters is missing."""
    data = {"assessed_on": "2021-05-01", "metered": True}
    decision = evaluate(branches, data)
    assert decision.derived[0].missing == ("/estimated", "/measured")
    assert decision.tiers[0].missing == ("/measured",)
    expl = explain(branches, data)
    assert (expl.derived[0].missing, expl.criteria[0].missing, expl.tier("low").missing) == (
        ("/measured",), ("/measured",), ("/measured",))
    assert "estimated" not in render_text(expl)
    (only,) = expl.path("low").input_sets
    assert [(c.pointer, c.present, c.op, c.target) for c in only.inputs] == [("/measured", False, "<=", 10)]
    assert only.verified is True
    p2 = explain_assessment(_assessment("building-points", "p2-meters-unknown-2016"), registry=examples,
                            methodology="building-points")
    tower = next(d for d in p2.derived if d.id == "cooling_tower_points")
    assert (tower.outcome, tower.missing) == ("known", ())
    assert p2.tier("gold").missing == ("/water/subsystem_meters",)


def test_what_it_takes_gives_an_absent_truth_value_then_the_number_when_no_single_input_does(
        examples: Registry) -> None:
    """P2 (1.0.0) has 43 other points and no subsystem_meters: the total is unknown. Subsystem meters alone
    decide it (4 WE points with them: 47, Certified); Silver ([50..60)) takes them and other_points 46 together
    (43 + 3 = 46, 46 + 4 = 50), and that set is said to be one of possibly several (the meters could be no)."""
    data = _assessment("building-points", "p2-meters-unknown-2016")
    expl = explain_assessment(data, registry=examples, methodology="building-points")
    certified = expl.path("certified")
    assert [(c.pointer, c.present, c.target) for c in certified.input_sets[0].inputs] == [
        ("/water/subsystem_meters", False, True)]
    silver = expl.path("silver")
    (only,) = silver.input_sets
    assert [(c.pointer, c.target) for c in only.inputs] == [("/water/subsystem_meters", True), ("/other_points", 46)]
    assert (only.verified, only.conditions) == (True, ())
    assert silver.input_sets_exhaustive is False
    assert "other values may do as well" in silver.input_sentence
    ruleset = examples.get("building-points", expl.version)
    changes = [("/water/subsystem_meters", True), ("/other_points", 45)]
    assert evaluate(ruleset, with_changes(data, changes)).label == "certified"  # 46 is the least
