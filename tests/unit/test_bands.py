"""Bands: a value placed into ordered classes by a table of bounds, each end open or closed, with
gaps and overlaps refused when the ruleset loads, as DMN analysers refuse them (issue 22, "What
to build" 2; "Why": bounds shifted by hand, e.g. 32.95 for "rounded below 33").

The scheme is ``tests/data/bands/1.0.0.yaml``: an index EEI = 100 x E / (0.233 x V + 245) placed
into A+++ .. G, each class taking in its lower bound. With V = 300 the standard energy is
314.9 kWh, so E = 314.9 x EEI / 100: every value below is worked out from that by hand.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruleset_text import edited as edited_text

from ecei_rules import RulesetError, evaluate, load_ruleset, load_ruleset_text
from ecei_rules.engine.evaluate import validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.ruleset.bands import class_condition, parse_interval

BANDS = Path(__file__).resolve().parent.parent / "data" / "bands" / "1.0.0.yaml"
TEXT = BANDS.read_text(encoding="utf-8")


def fridge(energy: str) -> dict[str, Any]:
    return {"measured_on": "2015-03-10", "appliance": {"model": "F-300", "annual_energy": energy, "volume": 300}}


def edited(*pairs: tuple[str, str]) -> str:
    return edited_text(TEXT, *pairs)


def problems(text: str) -> list[tuple[str, str | None, str]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    return [(d.code, d.pointer, d.message) for d in info.value.diagnostics]


@pytest.mark.parametrize(("energy", "label"), [
    # each bound from both sides: EEI = energy / 3.149
    ("69.27", "A+++"), ("69.278", "A++"),      # 21.997.. | 22
    ("103.9169", "A++"), ("103.917", "A+"),  # 32.99997.. | 33 exactly: no 32.95 shifted by hand
    ("132.258", "A"), ("173.194", "A"), ("173.195", "B"),  # 42 | 54.9997 | 55
    ("472.34", "F"), ("472.35", "G"), ("9999", "G"),
])
def test_bands_place_the_index_into_the_class_its_bounds_say(energy: str, label: str) -> None:
    """The label is the class whose interval holds the index, at and on both sides of each bound;
    the reference evaluator, which reads every condition independently, agrees."""
    ruleset = load_ruleset(BANDS)
    data = fridge(energy)
    data["appliance"]["annual_energy"] = float(energy) if "." in energy else int(energy)
    decision = evaluate(ruleset, data)
    assert decision.label == label
    met = [c.id for c in decision.criteria if c.id.startswith("eei_class.") and c.outcome == "met"]
    assert met == [f"eei_class.{label}"]  # exactly one class: no gap, no overlap
    validated = validate_assessment(ruleset, data)
    assert evaluate_reference(ruleset, validated).canonical_text() == decision.canonical_text()


def test_a_gap_in_a_table_of_bounds_is_refused_when_the_ruleset_loads() -> None:
    """The copy of the 2019 refrigerator label on legislation.gov.uk reads A "EEI <= 41", B
    "42 < EEI <= 51": an index of 41.5 would have no class. That table is refused, naming the gap."""
    found = problems(edited(('      A+++: "< 22"\n      A++: "[22..33)"',
                             '      A+++: "<= 41"\n      A++: "(42..51]"'),
                            ('      A+: "[33..42)"\n      A: "[42..55)"\n      B: "[55..75)"',
                             '      A+: "(51..52)"\n      A: "[52..55)"\n      B: "[55..75)"')))
    assert found == [("E103", "/bands/eei_class/classes",
                      "a gap between the classes 'A+++' (x <= 41) and 'A++' (42 < x <= 51): a value in (41..42] "
                      "would be in none")]


def test_an_overlap_in_a_table_of_bounds_is_refused_when_the_ruleset_loads() -> None:
    """Two classes that both take in 33 would both be met by an index of 33."""
    found = problems(edited(('A++: "[22..33)"', 'A++: "[22..33]"')))
    assert found == [("E103", "/bands/eei_class/classes",
                      "the classes 'A++' (22 <= x <= 33) and 'A+' (33 <= x < 42) overlap: a value in [33..33] "
                      "would be in both")]


def test_a_single_point_left_out_between_two_open_ends_is_a_gap() -> None:
    """``[22..33)`` then ``(33..42)``: 33 itself is in neither class."""
    found = problems(edited(('A+: "[33..42)"', 'A+: "(33..42)"')))
    assert [m for _, _, m in found] == [
        "a gap between the classes 'A++' (22 <= x < 33) and 'A+' (33 < x < 42): a value in [33..33] would be in none"]


@pytest.mark.parametrize(("bounds", "why"), [
    ('"33-42"', "which is not an interval"),
    ('"[42..33)"', "which no value lies within"),
    ('"(33..33]"', "which no value lies within"),
])
def test_a_malformed_or_empty_interval_is_refused_with_the_forms_to_write(bounds: str, why: str) -> None:
    """Each end is open or closed in writing; a range that holds no value is refused."""
    found = problems(edited(('A+: "[33..42)"', f"A+: {bounds}")))
    (code, pointer, message) = found[0]
    assert (code, pointer) == ("E103", "/bands/eei_class/classes")
    assert message.startswith(f"the class 'A+' has the bounds {bounds.replace(chr(34), chr(39))}, {why}")


def test_a_band_of_a_value_that_is_not_a_number_is_one_error_at_the_band_not_one_per_class() -> None:
    """``of: appliance.model`` (a string) is reported once, where it is written, not as ten broken criteria."""
    found = problems(edited(("of: 100 * appliance.annual_energy / (appliance.volume * params.m + params.n)",
                             "of: appliance.model")))
    assert [(c, p) for c, p, _ in found] == [("E204", "/bands/eei_class/of")]


def test_a_class_id_already_taken_by_a_criterion_is_refused() -> None:
    """``eei_class.A`` written under 'criteria' as well would make every reference to it ambiguous."""
    found = problems(edited(("criteria:\n", "criteria:\n  eei_class.A:\n    title: Clash\n"
                             "    when: known(appliance.volume)\n")))
    assert found == [("E108", "/bands/eei_class/classes/A",
                      "the id 'eei_class.A' is used by both a criterion and the band 'eei_class'")]


def test_an_unknown_index_leaves_every_class_unknown_and_names_the_missing_input() -> None:
    """Kleene: with the energy absent the index is unknown, so is every class, and no label is awarded."""
    ruleset = load_ruleset(BANDS)
    data = fridge("0")
    del data["appliance"]["annual_energy"]
    decision = evaluate(ruleset, data)
    assert decision.label == "none"
    classes = [c for c in decision.criteria if c.id.startswith("eei_class.")]
    assert {c.outcome for c in classes} == {"unknown"}
    assert all(c.missing == ("/appliance/annual_energy",) for c in classes)


def test_a_class_condition_is_written_in_the_condition_language() -> None:
    """What the decision shows as each class's condition, for a name and for an expression."""
    assert class_condition("eei", parse_interval("B", "(41..51]")) == "41 < eei <= 51"
    assert class_condition("a / b", parse_interval("G", ">= 150")) == "(a / b) >= 150"
    assert class_condition("eei", parse_interval("A", "<= 41")) == "eei <= 41"
    assert class_condition("x.y", parse_interval("C", "[-5..0.5)")) == "-5 <= x.y < 0.5"


def test_the_classes_of_a_band_are_criteria_in_the_order_written() -> None:
    """A band adds one criterion per class, named ``<band>.<class>``, in the order the classes are
    written, and the document with them stays a plain value (a deep copy is equal to it)."""
    doc = load_ruleset(BANDS).document
    assert [c for c in doc.criteria if c.startswith("eei_class.")] == [
        f"eei_class.{c}" for c in ("A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")]
    assert copy.deepcopy(doc) == doc
