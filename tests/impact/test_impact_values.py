"""Impact attributes a changed label to the band bounds, derived formulas, parameters or rescale that
changed it, not to "a parameter changed" of the band's classes.

Every expectation is derived by hand from the example methodologies' READMEs (sections named) or
from the edits below.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import yaml

from ecei_rules.compare.impact import impact
from ecei_rules.registry import Registry
from ecei_rules.render.impact import describe_causes, impact_markdown
from ecei_rules.ruleset.load import Ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "methodologies"
FRIDGE = EXAMPLES / "eu-fridge-label"
BUILDING = EXAMPLES / "building-points"


def _read(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_a_changed_derived_formula_is_named_not_a_band_class_with_a_parameter_changed() -> None:
    """building-points P1 (README 7.3): under 1.0.0 the process water is not read: WE = 1 + 3 + 0 + 1 =
    5, 53 + 5 = 58, Silver; under 2.0.0 the process option gives 2: WE 7, 60, Gold. The bounds of the
    band are the same; water_points' formula changed (it adds the process credit) and its value went
    5 -> 7; total_points is written the same, so it is not named."""
    report = impact(load_ruleset(BUILDING / "1.0.0.yaml"), load_ruleset(BUILDING / "2.0.0.yaml"),
                    [_read(BUILDING / "assessments" / "p1-laboratory-2020.json")])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("silver", "gold")
    assert t.items == ["derived:water_points"]
    assert [(c.old, c.new) for c in t.causes] == [("5", "7")]
    assert report.diff_kinds["derived:water_points"] == "formula changed"
    assert report.titles["derived:water_points"] == "Water Efficiency points"
    assert describe_causes(t.causes) == "gold: derived water_points (formula changed) 5 → 7"
    assert "| `derived:water_points` | Water Efficiency points | formula changed | 1 | 0 | 1 |" in \
        impact_markdown(report).replace("<code>", "`").replace("</code>", "`").replace("<wbr>", "")
    assert report.unexplained == 0


def test_a_class_moved_by_new_bounds_and_a_new_formula_names_both() -> None:
    """eu-fridge-label R2/R3 (README 6.3), one layout declared under both regulations: A+ under 1.0.0
    (EEI 34.9), B under 2.0.0. The label sets differ (no mapping): the tier B, in both versions, was
    won because the class B moved, by its bounds ([55..75) became (41..51]) and by the index's new
    formula; A+ is a tier 2.0.0 removed."""
    r2, r3 = _read(FRIDGE / "assessments" / "r2-fridge-freezer-2015.json"), \
        _read(FRIDGE / "assessments" / "r3-fridge-freezer-2021.json")
    a2, a3 = r2["appliance"], r3["appliance"]
    assert isinstance(a2, dict)
    assert isinstance(a3, dict)
    compartments = [{**c2, **c3} for c2, c3 in zip(a2["compartments"], a3["compartments"], strict=True)]
    both = {**r2, **r3, "appliance": {**a2, **a3, "compartments": compartments}}
    report = impact(_fridge_1_0_0(), load_ruleset(FRIDGE / "2.0.0.yaml"), [both])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("A+", "B")
    assert set(t.items) == {"bands:energy_class", "derived:energy_index", "tiers:A+"}
    band = next(c for c in t.causes if c.section == "bands")
    assert (band.via, band.old, band.new) == ("B", "55 <= energy_index < 75", "41 < energy_index <= 51")
    index = next(c for c in t.causes if c.section == "derived")
    assert index.old == "34.9"
    assert report.diff_kinds["bands:energy_class"] == "bounds changed"
    assert report.diff_kinds["derived:energy_index"] == "formula changed"
    assert not any(key.startswith("criteria:energy_class") for key, *_ in report.attribution())
    assert "parameter changed" not in impact_markdown(report)


def _revision(tmp_path: Path, patch: dict[str, object]) -> tuple[Ruleset, Ruleset]:
    """eu-fridge-label 1.0.0 and a 1.0.1 that extends it with ``patch``."""
    folder = tmp_path / "eu-fridge-label"
    folder.mkdir()
    (folder / "1.0.0.yaml").write_text((FRIDGE / "1.0.0.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    doc = {"extends": "1.0.0", "version": "1.0.1", "status": "draft", "effective_from": dt.date(2015, 1, 1),
           "tests": [], **patch}
    (folder / "1.0.1.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return _fridge_1_0_0(), load_ruleset(folder / "1.0.1.yaml")


@cache
def _fridge_1_0_0() -> Ruleset:
    return load_ruleset(FRIDGE / "1.0.0.yaml")


def _r1(aec: float) -> dict[str, object]:
    fixture = yaml.safe_load((FRIDGE / "1.0.0.yaml").read_text(encoding="utf-8"))["fixtures"]["r1"]
    return {**fixture, "assessed_on": "2015-03-10", "aec_kwh_per_year": aec}


def test_a_parameter_under_an_unchanged_formula_is_named_as_the_parameter(tmp_path: Path) -> None:
    """R1 (README 6.1: 250.0 l fresh food, SAEc 303.25) at AEc 68.00: EEI round(22.42, 1) = 22.4, A++.
    With M of category 1 raised from 0.233 to 0.3, SAEc = 250 x 0.3 + 245 = 320 and EEI 21.3, A+++.
    The formulas are the same: the parameter is what changed."""
    old, new = _revision(tmp_path, {"parameters": {"m_refrigerator": {"value": 0.3}}})
    report = impact(old, new, [_r1(68.00)])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("A++", "A+++")
    assert t.items == ["parameters:m_refrigerator"]
    assert [(c.old, c.new) for c in t.causes] == [("0.233", "0.3")]
    assert report.diff_kinds["parameters:m_refrigerator"] == "value changed"


def test_a_moved_bound_alone_names_the_band_and_no_derived_value(tmp_path: Path) -> None:
    """R1 at AEc 68.00 (EEI 22.4, A++) with A+++ widened to "< 23" and A++ to "[23..33)": A+++; the index
    is 22.4 under both, so only the band's bounds are named."""
    classes = yaml.safe_load((FRIDGE / "1.0.0.yaml").read_text(encoding="utf-8"))["bands"]["energy_class"]["classes"]
    classes.update({"A+++": "< 23", "A++": "[23..33)"})
    old, new = _revision(tmp_path, {"bands": {"energy_class": {"classes": classes}}})
    report = impact(old, new, [_r1(68.00)])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("A++", "A+++")
    assert t.items == ["bands:energy_class"]
    assert {(c.via, c.old, c.new) for c in t.causes} == {("A+++", "energy_index < 22", "energy_index < 23")}


def test_a_change_of_label_across_a_rescale_names_the_declared_mapping() -> None:
    """energy-class 1.0.0 -> 2.0.0 (tests/data/methodologies/energy-class, labels_from maps A++ -> A): an
    index of 25 is A++ under 1.0.0 and A under 2.0.0, the same label by the mapping; the rescale is
    named, with the mapped label."""
    registry = Registry(ROOT / "tests" / "data" / "methodologies")
    report = impact(registry.get("energy-class", "1.0.0"), registry.get("energy-class", "2.0.0"),
                    [{"assessed_on": "2021-06-01", "model": "F-1", "index": 25}])
    [t] = report.transitions
    assert report.kind_of(t) == "same"
    rescale = next(c for c in t.causes if c.section == "labels")
    assert (rescale.id, rescale.old, rescale.new) == ("labels_from", "A++", "A")
    assert report.diff_kinds["labels:labels_from"] == "rescaled (labels_from)"
    assert "rescale A++ → A (labels_from)" in describe_causes(t.causes)


def test_a_criterion_written_the_same_is_attributed_to_the_derived_value_it_reads() -> None:
    """tests/data/derived 1.0.0 -> 1.1.0 rounds the index to whole per cent: annual energy 37.7 over
    0.5 x 100 = 50 is 75.4 (not B, 75.4 > 75) under 1.0.0 and 75 (B) under 1.1.0. Criterion B is written
    the same; the index's formula is what changed."""
    data = ROOT / "tests" / "data" / "derived"
    report = impact(load_ruleset(data / "1.0.0.yaml"), load_ruleset(data / "1.1.0.yaml"),
                    [{"assessed_on": "2022-06-01", "annual_energy": 37.7, "volume": 100}])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("none", "b")
    assert t.items == ["derived:energy_index"]
    assert [(c.old, c.new) for c in t.causes] == [("75.4", "75")]


def test_every_item_named_is_listed_among_the_items_the_diff_lets_an_attribution_name() -> None:
    """The JSON report's diff_items lists the bands, derived values and parameters that changed, so every
    item a transition names is one of them (building-points P1: water_points)."""
    report = impact(load_ruleset(BUILDING / "1.0.0.yaml"), load_ruleset(BUILDING / "2.0.0.yaml"),
                    [_read(BUILDING / "assessments" / "p1-laboratory-2020.json")])
    items = report.to_json()["diff_items"]
    assert items["derived"] == ["process_credit_points", "process_water_points", "water_points"]
    assert items["bands"] == []
    assert items["parameters"] == ["process_step_1", "process_step_2"]
    for t in report.transitions:
        for key in t.items:
            section, ident = key.split(":", 1)
            assert ident in items[section], key


def test_a_band_and_a_derived_value_a_revision_removed_are_named_removed() -> None:
    """building-points 2.0.0 -> 3.0.0 (README 5.3): 3.0.0 places the levels by a score and removes the band
    ``level`` and the derived values. P2 (49 points, the metering credit unknown) is left unknown by
    2.0.0's band (total_points unknown) and Certified under 3.0.0: the causes are the band's class, now
    absent, and total_points, now absent; the diff reports both as removed, and so do the report and the
    causes' text (not "bounds changed" nor "formula changed")."""
    report = impact(load_ruleset(BUILDING / "2.0.0.yaml"), load_ruleset(BUILDING / "3.0.0.yaml"),
                    [_read(BUILDING / "assessments" / "p2-meters-unknown-2016.json")])
    [t] = report.transitions
    assert (t.old_label, t.new_label) == ("none", "certified")
    assert t.items == ["bands:level", "derived:total_points"]
    assert report.diff_kinds["bands:level"] == report.diff_kinds["derived:total_points"] == "removed"
    assert describe_causes(t.causes) == ("certified: band level class certified: bounds 40 <= total_points < 50 → "
                                         "absent, derived total_points (removed) unknown → absent")
