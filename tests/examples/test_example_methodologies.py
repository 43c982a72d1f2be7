"""The two example methodologies under examples/methodologies, tried with the command line as a new
user would try them, on a rulesets directory of their own: validate, lint, test, diff, bump-check,
synth, impact, evaluate, explain, check-properties and docs.

- eu-fridge-label: the EU energy label of refrigerating appliances, a class by bands of a computed
  index (1.0.0 Delegated Regulation (EU) No 1060/2010, 2.0.0 Delegated Regulation (EU) 2019/2016);
- building-points: a points-based building certification (LEED v4 -> v4.1, Water Efficiency subset):
  prerequisites, credits worth points in steps, a band of levels over the total.

Every expected value is derived by hand in the methodology's README.md (the specification), whose
section is named at each test; the arithmetic is written out beside the value.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.errors import RulesetError
from ecei_rules.explanation import explain, render_text
from ecei_rules.ruleset.load import load_ruleset, load_ruleset_text

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "examples" / "methodologies"
FRIDGE = RULESETS / "eu-fridge-label"
BUILDING = RULESETS / "building-points"
PROFILES = ROOT / "examples" / "synth"
METHODOLOGIES = ("eu-fridge-label", "building-points")


def cli(*args: str) -> Any:
    """Run the command line in-process; return the click result."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def decide(methodology: str, data: dict[str, Any], tmp_path: Path, version: str | None = None) -> dict[str, Any]:
    """The JSON decision of one assessment under the version in force (or the one pinned)."""
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    pin = ["--version", version] if version else []
    result = cli("evaluate", "--rulesets", RULESETS, "-m", methodology, *pin, "-f", "json", path)
    assert result.exit_code == 0, result.output
    decision: dict[str, Any] = json.loads(result.output)
    return decision


def derived(decision: dict[str, Any]) -> dict[str, Any]:
    """Each derived value of a decision by id (a number as an exact Decimal)."""
    return {d["id"]: (Decimal(str(d["value"])) if isinstance(d["value"], (int, float)) and not
                      isinstance(d["value"], bool) else d["value"]) for d in decision["derived"]}


def outcome(decision: dict[str, Any], ref: str) -> str:
    """The outcome of a criterion (a band class included) or group of a decision."""
    return next(c["outcome"] for c in [*decision["criteria"], *decision["groups"]] if c["id"] == ref)


# README 6.1 (R2) and 6.2 (R3): the same physical layout; 1.0.0 reads the 1060/2010 fields, 2.0.0 the
# 2019/2016 ones, so one document carries both (the impact projects it onto each version).
R2 = {
    "assessed_on": "2015-03-10",
    "appliance": {"id": "R2-300", "name": "Example R2 fridge-freezer", "chest": False, "climate_class": "N",
                  "built_in": False, "width_cm": 60,
                  "compartments": [{"type": "fresh_food", "volume_l": 200.0, "frost_free": False},
                                   {"type": "freezer_4star", "volume_l": 100.0, "frost_free": True}]},
    "aec_kwh_per_year": 230.00,
}
R3 = {
    "assessed_on": "2021-06-01",
    "appliance": {"id": "R3-300", "name": "Example R3 fridge-freezer", "built_in": False, "external_doors": 2,
                  "compartments": [{"type": "fresh_food", "volume_l": 200.0, "auto_defrost": False},
                                   {"type": "freezer_4star", "volume_l": 100.0, "auto_defrost": True}]},
    "edaily_kwh_24h": 0.274,
}
# README 7: P0, every prerequisite met, WE = 1 + 3 + 1 + 1 = 6, 44 other points: 50, Silver.
P0 = {
    "assessed_on": "2016-05-02",
    "project": {"id": "P0", "name": "Example office building P0"},
    "other_prerequisites_met": True,
    "other_points": 44,
    "water": {"no_irrigation_required": False, "outdoor_reduction_pct": 60, "indoor_reduction_pct": 37,
              "building_water_meter": True, "subsystem_meters": True, "has_cooling_tower": True,
              "cooling_tower": {"cycles_optimized": True, "ten_cycles_with_treatment": False,
                                "recycled_nonpotable_pct": 0}},
}


def both_methods() -> dict[str, Any]:
    """R2's 1.0.0 declaration and R3's 2.0.0 declaration of the same model, in one document."""
    data = json.loads(json.dumps(R2))
    data["assessed_on"] = "2021-06-01"
    data["appliance"]["external_doors"] = 2
    data["appliance"]["compartments"] = [
        {"type": "fresh_food", "volume_l": 200.0, "frost_free": False, "auto_defrost": False},
        {"type": "freezer_4star", "volume_l": 100.0, "frost_free": True, "auto_defrost": True}]
    data["edaily_kwh_24h"] = 0.274
    return data


# -- validate, lint, lock, test ------------------------------------------------------------------

def test_validate_accepts_every_example_version() -> None:
    result = cli("validate", RULESETS)
    assert result.exit_code == 0, result.output
    assert "5 file(s) valid" in result.output  # building-points 3.0.0 weighs its credits as points


@pytest.mark.no_cover  # a whole command over a directory: smaller tests cover what it runs (docs/contributing.md)
def test_lint_finds_no_problem_in_the_examples_directory() -> None:
    """Files, lineage, the published locks (each version's content hash) and every declared bump."""
    result = cli("lint", "--rulesets", RULESETS, "--examples", "20")
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output
    assert result.output.count("bump 1.0.0 -> 2.0.0: declared major, required major ok") == 2


def test_the_locks_hold_the_content_hash_of_every_published_version() -> None:
    for methodology in METHODOLOGIES:
        lock = json.loads((RULESETS / methodology / "published.lock.json").read_text(encoding="utf-8"))
        assert lock["hash_scheme"] == 2
        for version in ("1.0.0", "2.0.0"):
            ruleset = load_ruleset(RULESETS / methodology / f"{version}.yaml")
            assert lock["versions"][version]["sha256"] == ruleset.sha256


@pytest.mark.parametrize("methodology", METHODOLOGIES)
def test_embedded_tests_pass_and_each_states_its_derivation(methodology: str) -> None:
    result = cli("test", RULESETS / methodology)
    assert result.exit_code == 0, result.output
    for version in ("1.0.0", "2.0.0"):
        tests = load_ruleset(RULESETS / methodology / f"{version}.yaml").document.tests
        assert len(tests) >= 28
        assert all(t.derivation for t in tests), "every embedded test is derived by hand"


def test_every_parameter_and_band_carries_its_provenance() -> None:
    """A parameter or band bound is sourced with a citation or assumed with a reason; an assumed value
    says why (README, Sources)."""
    for path in sorted(RULESETS.glob("*/[0-9]*.yaml")):
        doc = load_ruleset(path).document
        for name, p in doc.parameters.items():
            why = p.source if p.source is not None else p.assumed
            assert why is not None, f"{path.name}: {name}"
            assert len(why) > 20, f"{path.name}: {name}"
        for name, band in doc.bands.items():
            assert (band.source or band.assumed), f"{path.name}: {name}"


# -- the band checker refuses the "42 < EEI <= 51" copy -------------------------------------------

def test_a_band_table_with_the_uk_copys_gap_is_refused() -> None:
    """README 4.3: legislation.gov.uk's copy of Annex II Table 1 reads B as "42 < EEI <= 51"; since EEI is
    rounded to 0.1, 41.1 .. 42.0 would lie in no class. The band checker refuses that table."""
    text = (FRIDGE / "2.0.0.yaml").read_text(encoding="utf-8")
    assert 'B: "(41..51]"' in text
    with pytest.raises(RulesetError) as caught:
        load_ruleset_text(text.replace('B: "(41..51]"', 'B: "(42..51]"'), "uk-copy.yaml")
    messages = [d.message for d in caught.value.diagnostics]
    where = [(d.code, d.pointer) for d in caught.value.diagnostics]
    assert any(code == "E103" and pointer.startswith("/bands/energy_class") for code, pointer in where), where
    assert any("'A' (x <= 41)" in m and "'B' (42 < x <= 51)" in m and "(41..42]" in m for m in messages), messages


# -- derived values, worked out by hand ----------------------------------------------------------

def test_fridge_1_0_0_derives_veq_saec_and_eei_as_the_readme_works_them_out(tmp_path: Path) -> None:
    """README 6.1, R2: Veq = round(200 x 1.0 + 100 x 2.15 x 1.2) = 458; SAEc = round(458 x 0.777 + 303, 2)
    = round(658.866, 2) = 658.87; EEI = round(100 x 230 / 658.87, 1) = round(34.908, 1) = 34.9 -> A+."""
    decision = decide("eu-fridge-label", R2, tmp_path)
    assert decision["version"] == "1.0.0"
    values = derived(decision)
    assert values["category"] == "refrigerator_freezer"
    assert (values["equivalent_volume"], values["m_factor"], values["n_factor"]) == (458, Decimal("0.777"), 303)
    assert values["chill_allowance"] == 0
    assert values["standard_energy"] == Decimal("658.87")
    assert values["energy_index"] == Decimal("34.9")
    assert decision["label"] == "A+"
    # climate class T: Veq = round(458 x 1.2) = round(549.6) = 550; SAEc = 550 x 0.777 + 303 = 730.35; EEI 31.5
    hot = json.loads(json.dumps(R2))
    hot["appliance"]["climate_class"] = "T"
    values = derived(decide("eu-fridge-label", hot, tmp_path))
    assert (values["climate_factor"], values["equivalent_volume"]) == (Decimal("1.2"), 550)
    assert (values["standard_energy"], values["energy_index"]) == (Decimal("730.35"), Decimal("31.5"))


def test_fridge_2_0_0_derives_c_d_sae_ae_and_eei_as_the_readme_works_them_out(tmp_path: Path) -> None:
    """README 6.2, R3: V = 300, frzf = 1/3 -> C = 1.87 - 1.0275 / 3 = 1.5275; D = 1.00; fresh food
    (2/3) x 111 = 74; freezer 1.10 x (1/3) x 232.5 = 85.25; SAE = round(1.5275 x 159.25, 2) = 243.25;
    AE = round(365 x 0.274, 2) = 100.01; EEI = round(41.1141, 1) = 41.1 -> B."""
    decision = decide("eu-fridge-label", R3, tmp_path)
    assert decision["version"] == "2.0.0"
    values = derived(decision)
    assert (values["total_volume"], values["combi"], values["combi_parameter"]) == (300, True, Decimal("1.5275"))
    assert (values["door_factor"], values["fresh_food_term"], values["freezer_term"]) == (1, 74, Decimal("85.25"))
    assert (values["standard_energy"], values["annual_energy"]) == (Decimal("243.25"), Decimal("100.01"))
    assert values["energy_index"] == Decimal("41.1")
    assert decision["label"] == "B"


@pytest.mark.parametrize(("fresh", "freezer", "c"), [
    (210.0, 90.0, "1.561"),       # frzf = 0.3, the "<= 0.3" branch: 1.3 + 0.87 x 0.3
    (209.9, 90.1, "1.5614075"),   # frzf = 90.1 / 300 = 0.300333.., the middle branch: 1.87 - 1.0275 x frzf
    (90.1, 209.9, "1.1510925"),   # frzf = 209.9 / 300 = 0.699666.., still the middle branch
    (90.0, 210.0, "1.15"),        # frzf = 0.7: the middle branch is "< 0.7", so C = 1.15
])
def test_fridge_2_0_0_combi_parameter_on_both_sides_of_each_frzf_bound(
        fresh: float, freezer: float, c: str, tmp_path: Path) -> None:
    data = json.loads(json.dumps(R3))
    data["appliance"]["compartments"] = [{"type": "fresh_food", "volume_l": fresh, "auto_defrost": False},
                                         {"type": "freezer_4star", "volume_l": freezer, "auto_defrost": False}]
    assert derived(decide("eu-fridge-label", data, tmp_path))["combi_parameter"] == Decimal(c)


def test_fridge_2_0_0_door_factor_reads_the_lower_of_doors_and_compartments(tmp_path: Path) -> None:
    """README 4.1: D by min(doors, compartments): R3 (two compartments) with three doors keeps D = 1.00;
    a three-compartment combi with three doors has D = 1.02 and with four still 1.02 (min(4, 3) = 3)."""
    three_doors = json.loads(json.dumps(R3))
    three_doors["appliance"]["external_doors"] = 3
    assert derived(decide("eu-fridge-label", three_doors, tmp_path))["door_factor"] == 1
    r5 = json.loads(json.dumps(R3))
    r5["appliance"]["compartments"] = [{"type": "fresh_food", "volume_l": 200.0, "auto_defrost": False},
                                       {"type": "chill", "volume_l": 20.0, "auto_defrost": False},
                                       {"type": "freezer_4star", "volume_l": 80.0, "auto_defrost": True}]
    for doors, d in ((2, Decimal(1)), (3, Decimal("1.02")), (4, Decimal("1.02"))):
        r5["appliance"]["external_doors"] = doors
        assert derived(decide("eu-fridge-label", r5, tmp_path))["door_factor"] == d


def test_building_points_derive_each_credit_and_the_total(tmp_path: Path) -> None:
    """README 7: P0 earns outdoor 1 (60 % >= 50, < 100), indoor 3 (37 % >= 35, < 40), cooling tower 1
    (optimized, 0 % recycled), metering 1: WE 6, total 44 + 6 = 50 -> Silver (50 <= 50 < 60)."""
    decision = decide("building-points", P0, tmp_path)
    values = derived(decision)
    credits = ("outdoor_points", "indoor_points", "cooling_tower_points", "metering_points")
    assert [values[k] for k in credits] == [1, 3, 1, 1]
    assert (values["water_points"], values["total_points"]) == (6, 50)
    assert decision["label"] == "silver"
    assert outcome(decision, "level.silver") == "met"
    assert outcome(decision, "level.certified") == "not_met"


def test_building_points_2_0_0_takes_the_better_option_not_the_sum(tmp_path: Path) -> None:
    """README 7.3: cooling option 1 and process option 2 (30 % recycled alternative water) give the new
    credit max(1, 2) = 2; 53 + (1 + 3 + 2 + 1) = 60 -> Gold under 2.0.0. The same project under 1.0.0
    (pinned) has cooling 1 and no process credit: 53 + 6 = 59 -> Silver."""
    data = json.loads(json.dumps(P0))
    data.update(assessed_on="2020-05-04", other_points=53)
    data["water"]["process_water"] = {"eligible": True, "recycled_alternative_pct": 30}
    decision = decide("building-points", data, tmp_path)
    values = derived(decision)
    assert decision["version"] == "2.0.0"
    options = (values["cooling_tower_points"], values["process_water_points"], values["process_credit_points"])
    assert options == (1, 2, 2)
    assert (values["total_points"], decision["label"]) == (60, "gold")
    del data["water"]["process_water"]
    old = decide("building-points", data, tmp_path, version="1.0.0")
    assert (derived(old)["total_points"], old["label"]) == (59, "silver")


def test_an_unknown_credit_input_leaves_the_total_and_every_level_unknown(tmp_path: Path) -> None:
    """README 7.4: a derived total has no interval, so an unknown credit leaves the total unknown and every
    level class unknown (the prerequisites are still decided: met)."""
    data = json.loads(json.dumps(P0))
    del data["water"]["subsystem_meters"]
    decision = decide("building-points", data, tmp_path)
    total = next(d for d in decision["derived"] if d["id"] == "total_points")
    assert total["outcome"] == "unknown"
    assert "/water/subsystem_meters" in total["missing"]
    assert decision["label"] == "none"
    assert {t["label"]: t["outcome"] for t in decision["tiers"]} == dict.fromkeys(
        ("certified", "silver", "gold", "platinum"), "unknown")
    assert outcome(decision, "prerequisites") == "met"


def test_building_points_3_0_0_weighs_each_credit_as_points_and_decides_what_an_unknown_credit_cannot_move(
        tmp_path: Path) -> None:
    """README 5.3 and 7.5: under 3.0.0 the levels are minima over one score that weighs the other categories'
    points (up to 99) and each WE credit (outdoor 2, indoor 6, process 2, metering 1) as numbers: 110 in all.
    P0 with its subsystem meters absent counts 44 + 1 + 3 + 1 = 49 with 1 unknown: Certified met (49 >= 40),
    Silver unknown (49 + 1 = 50), Gold not met; 2.0.0 leaves the total, and so every level, unknown. The
    indoor credit is floor((x - 20) / 5) clipped to [0, 6]: 100 % counts 6 (16 before clipping)."""
    data = json.loads(json.dumps(P0))
    data["assessed_on"] = "2026-12-07"
    data["water"]["process_water"] = {"eligible": False, "recycled_alternative_pct": 0}
    del data["water"]["subsystem_meters"]
    decision = decide("building-points", data, tmp_path)
    assert decision["version"] == "3.0.0"
    assert decision["label"] == "certified"
    assert {t["label"]: t["outcome"] for t in decision["tiers"]} == {
        "platinum": "not_met", "gold": "not_met", "silver": "unknown", "certified": "met"}
    silver = next(s for s in decision["scores"] if s["id"] == "points.silver")
    assert (silver["met_weight"], silver["unknown_weight"], silver["total_weight"]) == (49, 1, 110)
    assert {k: (p["counted"], p["maximum"]) for k, p in silver["points"].items()} == {
        "other_categories": (44, 99), "outdoor": (1, 2), "indoor": (3, 6), "process": (1, 2),
        "metering": (None, 1)}
    old = decide("building-points", data, tmp_path, version="2.0.0")
    assert old["label"] == "none"
    assert {t["outcome"] for t in old["tiers"]} == {"unknown"}
    data["water"].update(subsystem_meters=True, indoor_reduction_pct=100)
    data["other_points"] = 41
    clipped = decide("building-points", data, tmp_path)
    indoor = next(s for s in clipped["scores"] if s["id"] == "points.silver")["points"]["indoor"]
    assert (indoor["value"], indoor["counted"], clipped["label"]) == (16, 6, "silver")


def test_building_points_3_0_0_is_decided_alike_by_every_evaluator() -> None:
    """Each embedded test's assessment of 3.0.0: the engine's decision equals the reference evaluator's
    (which reads the numbers with the interpreter), byte for byte, and the durable backend agrees."""
    from ecei_rules.backends import durable
    from ecei_rules.engine.evaluate import evaluate
    from ecei_rules.engine.reference import evaluate_reference
    from ecei_rules.ruleset.load import test_assessment
    from ecei_rules.testing.embedded import run_embedded

    ruleset = load_ruleset(BUILDING / "3.0.0.yaml")
    lock = json.loads((BUILDING / "published.lock.json").read_text(encoding="utf-8"))
    assert lock["versions"]["3.0.0"]["sha256"] == ruleset.sha256
    results = run_embedded(ruleset)
    assert len(results) >= 28
    assert [r.report() for r in results if not r.passed] == []
    assert all(t.derivation for t in ruleset.document.tests)
    plan = durable.compile_ruleset(ruleset)
    for index in range(0, len(results), 3):
        data = test_assessment(ruleset.document, index)
        assert evaluate(ruleset, data).canonical_text() == evaluate_reference(ruleset, data).canonical_text()
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, check.differences


# -- subject and validity ------------------------------------------------------------------------

@pytest.mark.parametrize(("methodology", "data", "subject", "valid_from"), [
    ("eu-fridge-label", R2, "R2-300", "2015-03-10"), ("eu-fridge-label", R3, "R3-300", "2021-06-01"),
    ("building-points", P0, "P0", "2016-05-02")])
def test_decisions_name_their_subject_and_have_no_expiry(
        methodology: str, data: dict[str, Any], subject: str, valid_from: str, tmp_path: Path) -> None:
    """README 5 (fridge) and 5.2 (building): a class or level is valid from the declaration or review with
    no end date; the decision names the subject by its declared id (no 'organisation' member)."""
    decision = decide(methodology, data, tmp_path)
    assert decision["subject"] == subject
    assert "organisation" not in decision
    assert (decision["valid_from"], decision["valid_until"], decision["validity_expires"]) == (valid_from, None, False)


def test_the_subject_gives_the_nouns_of_the_impact_report(tmp_path: Path) -> None:
    path = tmp_path / "both.json"
    path.write_text(json.dumps(both_methods()), encoding="utf-8")
    result = cli("impact", "--rulesets", RULESETS, "-m", "eu-fridge-label", "--from", "1.0.0", "--to", "2.0.0",
                 path, "-j", "1")
    assert result.exit_code == 0, result.output
    assert "Changed appliance models" in result.output
    assert "organisation" not in result.output


# -- evaluate and explain the example assessments ------------------------------------------------

@pytest.mark.parametrize(("methodology", "name", "version", "label", "index"), [
    ("eu-fridge-label", "r2-fridge-freezer-2015", "1.0.0", "A+", "34.9"),  # README 6.1
    ("eu-fridge-label", "r3-fridge-freezer-2021", "2.0.0", "B", "41.1"),  # README 6.2
    ("eu-fridge-label", "f1-unmeasured-2021", "2.0.0", "none", None),  # no Edaily: every class unknown
    ("building-points", "p0-office-2016", "1.0.0", "silver", "50"),  # README 7.1
    ("building-points", "p1-laboratory-2020", "2.0.0", "gold", "60"),  # README 7.3
    ("building-points", "p2-meters-unknown-2016", "1.0.0", "none", None),  # README 7.4
])
def test_each_example_assessment_gets_its_hand_derived_label(
        methodology: str, name: str, version: str, label: str, index: str | None) -> None:
    path = RULESETS / methodology / "assessments" / f"{name}.json"
    result = cli("evaluate", "--rulesets", RULESETS, "-m", methodology, "-f", "json", path)
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert (decision["version"], decision["label"]) == (version, label)
    key = "energy_index" if methodology == "eu-fridge-label" else "total_points"
    value = derived(decision)[key]
    assert value == (None if index is None else Decimal(index))


def test_explain_shows_the_version_the_index_and_the_near_miss() -> None:
    """R3 under 2.0.0: EEI 41.1 is B, 0.1 short of A (A is EEI <= 41)."""
    path = FRIDGE / "assessments" / "r3-fridge-freezer-2021.json"
    result = cli("explain", "--rulesets", RULESETS, "-m", "eu-fridge-label", path)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.startswith("Under eu-fridge-label 2.0.0, Example R3 fridge-freezer (R3-300) is awarded the label B, "
                           "valid from 2021-06-01, with no expiry.")
    assert "Version 2.0.0 applies because it is the version in force on the assessment date 2021-06-01" in text
    assert "energy_index is 41.1, needs at most 41" in text
    assert "short by 0.1" in text
    assert "Standard annual energy consumption SAE (standard_energy) = 243.25 kWh/year" in text


def test_explain_gives_an_absent_measurement_the_value_that_places_it_in_each_class_even_between_two_bounds() -> None:
    """R3 under 2.0.0 without its measured energy: every class is unknown. For each class the explanation names
    one value of edaily_kwh_24h (not "meet the class" for the classes between two bounds, nor "at most 0" for A on
    a grid of whole kWh). Each value, decided again, gives that class; one thousandth closer to where the search
    came from (0 for the classes reached from below, above 0.273 for A) does not: the least on its grid."""
    data = json.loads((FRIDGE / "assessments" / "r3-fridge-freezer-2021.json").read_text(encoding="utf-8"))
    del data["edaily_kwh_24h"]
    version = load_ruleset(FRIDGE / "2.0.0.yaml")
    paths = {p["label"]: p for p in explain(version, data).model_dump(mode="json")["what_it_takes"]}
    assert set(paths) == {"A", "B", "C", "D", "E", "F", "G"}

    def label_with(value: Decimal) -> str:
        return evaluate(version, {**data, "edaily_kwh_24h": value}).label

    for label, p in paths.items():
        (first,) = p["input_sets"][:1]
        (change,) = first["inputs"]
        assert change["pointer"] == "/edaily_kwh_24h"
        assert first["verified"] is True
        target = Decimal(str(change["target"]))
        assert label_with(target) == label
        closer = target + Decimal("0.001") if label == "A" else target - Decimal("0.001")
        assert label_with(closer) != label
        assert target.as_tuple().exponent == -3  # three significant digits, not a whole number


def test_explain_of_a_building_names_the_missing_input_of_an_unknown_total() -> None:
    path = BUILDING / "assessments" / "p2-meters-unknown-2016.json"
    result = cli("explain", "--rulesets", RULESETS, "-m", "building-points", "-f", "json", path)
    assert result.exit_code == 0, result.output
    explanation = json.loads(result.output)
    assert explanation["label"] == "none"
    assert "water.subsystem_meters" in json.dumps(explanation)


# -- diff and bump-check -------------------------------------------------------------------------

def _diff(methodology: str) -> list[dict[str, Any]]:
    result = cli("diff", "--rulesets", RULESETS, f"{methodology}@1.0.0", f"{methodology}@2.0.0", "-f", "json")
    assert result.exit_code == 0, result.output
    changes: list[dict[str, Any]] = json.loads(result.output)["changes"]
    return changes


def test_the_fridge_diff_lists_the_changed_formula_and_classes() -> None:
    changes = {(c["section"], c["kind"], c["id"], c["attribute"]): c for c in _diff("eu-fridge-label")}
    index = changes[("derived", "changed", "energy_index", "value")]
    assert (index["old"], index["new"]) == ("round(100 * aec_kwh_per_year / standard_energy, 1)",
                                            "round(100 * annual_energy / standard_energy, 1)")
    assert index["decides"] is True
    assert ("derived", "changed", "standard_energy", "value") in changes
    assert ("derived", "added", "combi_parameter", None) in changes
    assert ("derived", "removed", "equivalent_volume", None) in changes
    b = changes[("criteria", "changed", "energy_class.B", "when")]
    assert (b["old"], b["new"]) == ("55 <= energy_index < 75", "41 < energy_index <= 51")
    for gone in ("A+", "A++", "A+++"):
        assert ("tiers", "removed", gone, None) in changes
        assert ("criteria", "removed", f"energy_class.{gone}", None) in changes
    labels = changes[("labels", "changed", "labels", "order")]
    assert labels["new"] == ["G", "F", "E", "D", "C", "B", "A"]
    assert ("inputs", "removed", "/aec_kwh_per_year", None) in changes
    assert ("inputs", "added", "/edaily_kwh_24h", None) in changes


def test_the_building_diff_lists_the_replaced_credit() -> None:
    changes = {(c["section"], c["kind"], c["id"], c["attribute"]): c for c in _diff("building-points")}
    water = changes[("derived", "changed", "water_points", "value")]
    assert "cooling_tower_points" in water["old"]
    assert "process_credit_points" in water["new"]
    assert ("derived", "added", "process_credit_points", None) in changes
    assert ("derived", "added", "process_water_points", None) in changes
    assert ("inputs", "added", "/water/process_water", None) in changes
    assert ("parameters", "added", "process_step_1", None) in changes
    assert not any(section == "criteria" and kind != "changed" for section, kind, *_ in changes)  # bounds unchanged


@pytest.mark.no_cover  # a whole command over a directory: smaller tests cover what it runs (docs/contributing.md)
@pytest.mark.parametrize(("methodology", "reason"), [
    ("eu-fridge-label", "the input schema changes incompatibly ("),
    ("building-points", "the input schema gains optional fields"),
])
def test_bump_check_requires_the_major_bump_each_methodology_declares(methodology: str, reason: str) -> None:
    """The fridge's inputs change incompatibly (AEc out, Edaily in). The building's 2.0.0 only adds an optional
    input, but a project without it gets no level: the new credit reads it, so a 1.0.0 label can be lost."""
    result = cli("bump-check", "--rulesets", RULESETS, f"{methodology}@1.0.0", f"{methodology}@2.0.0",
                 "--examples", "60", "-f", "json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert (verdict["declared"], verdict["required"], verdict["ok"]) == ("major", "major", True)
    assert verdict["reasons"][0].startswith(reason)
    assert verdict["counterexample"] is not None


# -- synth and impact ----------------------------------------------------------------------------

@pytest.mark.no_cover  # a whole command over a directory: smaller tests cover what it runs (docs/contributing.md)
@pytest.mark.parametrize(("methodology", "as_of"),
                         [("eu-fridge-label", "2021-06-30"), ("building-points", "2020-06-30")])
def test_synth_and_impact_run_on_a_population_of_each_methodology(methodology: str, as_of: str, tmp_path: Path) -> None:
    population = tmp_path / "population.jsonl"
    drawn = cli("synth", "--rulesets", RULESETS, "-m", methodology, "-v", "1.0.0", "-v", "2.0.0", "--as-of", as_of,
                "-n", "40", "--profile", PROFILES / f"{methodology}.yaml", "-o", population)
    assert drawn.exit_code == 0, drawn.output
    lines = population.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    result = cli("impact", "--rulesets", RULESETS, "-m", methodology, "--from", "1.0.0", "--to", "2.0.0",
                 population, "-f", "json", "-j", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["assessments"], report["decided"], report["errors"]) == (40, 40, 0)
    if methodology == "eu-fridge-label":
        # a rescale without a declared mapping: no change is a gain or a loss (README 4.4)
        assert report["scale"]["comparable"] is False
        assert (report["changed"]["gain"], report["changed"]["loss"]) == (0, 0)
        assert report["changed"]["total"] > 0
    else:
        assert report["scale"]["comparable"] is True


def test_impact_across_the_rescale_does_not_call_a_plus_to_b_a_loss(tmp_path: Path) -> None:
    """README 5.3/4.4: the same model is A+ under 1.0.0 (EEI 34.9) and B under 2.0.0 (EEI 41.1): two
    measurements on two scales with no published correspondence, so the change is neither gain nor loss."""
    path = tmp_path / "both.json"
    path.write_text(json.dumps(both_methods()), encoding="utf-8")
    result = cli("impact", "--rulesets", RULESETS, "-m", "eu-fridge-label", "--from", "1.0.0", "--to", "2.0.0",
                 path, "-f", "json", "-j", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["matrix"]["A+"]["B"] == 1
    assert (report["changed"]["gain"], report["changed"]["loss"], report["changed"]["label"]) == (0, 0, 1)
    assert report["changed"]["not_comparable"] == 1
    assert report["transitions"][0]["kind"] == "not comparable"
    assert report["transitions"][0]["subject"] == "R2-300"
    assert report["projection"]["old"]["ignored"]["/edaily_kwh_24h"] == 1
    assert report["projection"]["new"]["ignored"]["/aec_kwh_per_year"] == 1


def test_impact_of_the_revised_credit_is_a_gain_from_silver_to_gold() -> None:
    """README 7.3: P1 (53 other points, no cooling tower, 30 % recycled process water) is Silver under
    1.0.0 (53 + 5 = 58) and Gold under 2.0.0 (53 + 7 = 60); 1.0.0 ignores the process water input."""
    path = BUILDING / "assessments" / "p1-laboratory-2020.json"
    result = cli("impact", "--rulesets", RULESETS, "-m", "building-points", "--from", "1.0.0", "--to", "2.0.0",
                 path, "-f", "json", "-j", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["matrix"]["silver"]["gold"] == 1
    assert (report["changed"]["gain"], report["changed"]["loss"]) == (1, 0)
    cause = report["transitions"][0]["causes"][0]  # the total's formula changed, not the level band's bounds
    assert (cause["section"], cause["id"], cause["old"], cause["new"]) == ("derived", "water_points", "5", "7")
    assert report["projection"]["old"]["ignored"] == {"/water/process_water": 1}


# -- check-properties and docs -------------------------------------------------------------------

@pytest.mark.no_cover  # a whole command over a directory: smaller tests cover what it runs (docs/contributing.md)
def test_check_properties_hold_on_the_examples() -> None:
    """Determinism, replay, content hash (a class named A+++ included), sufficiency and information
    monotonicity hold on every version; the checks that cannot apply say they are vacuous."""
    result = cli("check-properties", RULESETS, "--examples", "8", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]
    assert all(r["ok"] and r["counterexample"] is None for r in rows), [r for r in rows if not r["ok"]]
    for methodology in METHODOLOGIES:
        for version in ("1.0.0", "2.0.0"):
            held = {r["property"] for r in rows if (r["methodology"], r["target"]) == (methodology, version)
                    and not r["vacuous"]}
            assert {"determinism", "replay", "content hash", "sufficiency",
                    "information monotonicity"} <= held, (methodology, version, held)


def test_docs_builds_a_site_for_the_examples(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = cli("docs", "--rulesets", RULESETS, "--out", site, "--title", "Example methodologies")
    assert result.exit_code == 0, result.output
    docs = site / "docs" / "methodologies"
    for methodology in METHODOLOGIES:
        for page in ("1.0.0.md", "2.0.0.md", "changes/1.0.0-2.0.0.md", "provenance.md"):
            assert (docs / methodology / page).is_file(), (methodology, page)
    fridge = (docs / "eu-fridge-label" / "2.0.0.md").read_text(encoding="utf-8")
    assert "41 &lt; energy_<wbr>index &lt;= 51" in fridge
    assert "02019R2016-20230930" in fridge
    assert "organisation" not in fridge
    assert "appliance model" in fridge
    if shutil.which("mkdocs") or (Path(sys.executable).parent / "mkdocs").exists():
        mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
        built = subprocess.run([mkdocs, "build", "--strict", "--quiet"], cwd=site, capture_output=True, text=True,
                               check=False)
        assert built.returncode == 0, built.stderr


# -- no methodology in src/ ----------------------------------------------------------------------

def test_src_names_neither_example_methodology() -> None:
    """The examples are decided by the language alone: no module of the library names them."""
    pattern = re.compile(r"eu-fridge-label|building-points|1060/2010|2019/2016|LEED", re.IGNORECASE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_readmes_specify_every_version_bound_and_level() -> None:
    """Each README is the specification: every version is described there, each band's table of bounds
    is written out (the UK copy's "42" included), and every parameter value of the fridge appears."""
    fridge = (FRIDGE / "README.md").read_text(encoding="utf-8")
    building = (BUILDING / "README.md").read_text(encoding="utf-8")
    for text in (fridge, building):
        assert "1.0.0" in text
        assert "2.0.0" in text
    for bound in ("EEI < 22", "41 < EEI <= 51", "42 < EEI <= 51", "EEI > 125"):
        assert bound in fridge
    for level in ("Certified", "Silver", "Gold", "Platinum"):
        assert level in building
    for version in ("1.0.0", "2.0.0"):
        for name, p in load_ruleset(FRIDGE / f"{version}.yaml").document.parameters.items():
            assert f"{p.value}" in fridge or f"{p.value:.2f}" in fridge, (version, name, p.value)
    assert yaml.safe_load((PROFILES / "eu-fridge-label.yaml").read_text(encoding="utf-8"))["choices"]


def test_the_flattened_copy_of_a_band_with_plus_classes_loads_with_the_same_hash() -> None:
    """check-properties' content-hash check reloads a flattened copy of each version: the criteria a band
    generates (energy_class.A+++, not a criterion id) are left to the band, so the copy loads and hashes
    alike (before, the copy was refused with E103 at /criteria/energy_class.A+++)."""
    from ecei_rules.testing.properties import flatten

    ruleset = load_ruleset(FRIDGE / "1.0.0.yaml")
    copy = load_ruleset_text(flatten(ruleset), "flat.yaml")
    assert copy.sha256 == ruleset.sha256


def test_a_points_score_short_by_its_criteria_is_not_called_unreachable_and_no_heading_stands_alone() -> None:
    """P2 under building-points 3.0.0: Gold needs 60 points and no criterion can change, but raising other_points
    to 57 reaches it (verified). The explanation must not say the score "cannot reach 60", and the heading of the
    changes criterion by criterion is not printed over nothing when every set is made of numbers."""
    data = json.loads((BUILDING / "assessments" / "p2-meters-unknown-2016.json").read_text(encoding="utf-8"))
    version = load_ruleset(BUILDING / "3.0.0.yaml")
    expl = explain(version, data)
    gold = next(p for p in expl.what_it_takes if p.label == "gold")
    assert any(s.verified for s in gold.input_sets)
    text = render_text(expl)
    assert "cannot reach 60" not in text
    assert "needs 60: even meeting every criterion that can change (none) leaves it 14 short, which the numbers it " \
           "weighs must make up." in " ".join(text.split())
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "The changes, criterion by criterion:":
            assert lines[i + 1].startswith("      "), lines[i:i + 2]  # an item under it, not the next heading
