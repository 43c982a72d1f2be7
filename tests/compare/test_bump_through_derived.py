"""bump-check through derived values and tables: a change that feeds a band through a derived value.

The heat-label methodology below (an invented scheme, written for these tests) places an index
``round(100 * adjusted / 4, 1)`` into classes G..A, where ``adjusted = round(scop *
climate_factor[climate], 2)`` and ``scop = heat_output_kwh / power_input_kwh``. Its 1.1.0 changes
one table entry (``climate_factor[warm]`` 1.15 -> 1.16) or the digits of one rounding (2 -> 3).
Either can move an assessment across a class bound, so by the semver policy (compare/bump.py: MINOR
only when every input valid under the old version keeps its decision) each requires MAJOR, and
the static analysis must say so whether or not the search finds a counterexample (issue 23: the
static analysis decides the required bump; the search only confirms it). Every counterexample the
search reports is decided again here under both versions with the public API (``evaluate`` and
``project``), and a hand-derived witness confirms each verdict without the search.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from compare_helpers import decide_both, decisions_differ
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecei_rules import Ruleset, load_ruleset_text
from ecei_rules.cli.app import app
from ecei_rules.compare.bump import Counterexample, confirm, distinct_changes, required_bump
from ecei_rules.compare.diff import Change, semantic_diff
from ecei_rules.testing.counterexample import bump_check, find_counterexample

HEAT_1_0_0 = """\
methodology: heat-label
version: 1.0.0
title: Heat pump energy label
status: draft
effective_from: 2024-01-01
subject: {noun: heat pump, id: unit.id, name: unit.name}
inputs:
  assessed_on: {type: date, required: true}
  unit:
    type: object
    required: true
    fields:
      id: {type: string, required: true, pattern: "HP-[0-9]{4}"}
      name: {type: string}
      heat_output_kwh: {type: decimal, minimum: 0, maximum: 100000}
      power_input_kwh: {type: decimal, minimum: 0, maximum: 100000}
      climate: {type: enum, values: [cold, average, warm]}
  tests_run:
    type: list
    max_items: 20
    items:
      type: object
      fields:
        temp_c: {type: integer, minimum: -30, maximum: 30, required: true}
        cop: {type: decimal, minimum: 0, maximum: 10, required: true}
parameters:
  min_tests: {value: 3, unit: tests, source: "Invented, 1"}
tables:
  climate_factor:
    keys: unit.climate
    unit: factor
    source: "Invented, table 2"
    values: {cold: 0.85, average: 1, warm: 1.15}
derived:
  scop: {title: Seasonal COP, type: decimal, value: unit.heat_output_kwh / unit.power_input_kwh}
  adjusted: {title: Adjusted SCOP, type: decimal, value: "round(scop * params.climate_factor[unit.climate], 2)"}
  worst_cop: {title: Worst tested COP, type: decimal, value: min(t.cop for t in tests_run)}
  index: {title: Index, type: decimal, unit: "%", value: "round(100 * adjusted / 4, 1)"}
criteria:
  tested:
    title: Enough tests
    when: count(t for t in tests_run if t.temp_c <= 7) >= params.min_tests
  robust: {title: No test below COP 1.5, when: worst_cop >= 1.5}
bands:
  cls:
    title: Energy class
    of: index
    unit: "%"
    source: "Invented, table 3"
    classes: {G: "< 50", F: "[50..60)", E: "[60..70)", D: "[70..80)", C: "[80..90)", B: "[90..100)", A: ">= 100"}
labels: [G, F, E, D, C, B, A]
tiers:
  G: {title: G, requires: [tested, cls.G]}
  F: {title: F, requires: [tested, cls.F]}
  E: {title: E, requires: [tested, cls.E]}
  D: {title: D, requires: [tested, robust, cls.D]}
  C: {title: C, requires: [tested, robust, cls.C]}
  B: {title: B, requires: [tested, robust, cls.B]}
  A: {title: A, requires: [tested, robust, cls.A]}
validity:
  valid_from: assessed_on
  rules:
    - {id: ten-years, title: Ten years, labels: [G, F, E, D, C, B, A], valid_until: "month_end(assessed_on, 120)"}
fixtures:
  base:
    assessed_on: 2024-05-10
    unit: {id: HP-0001, heat_output_kwh: 12000, power_input_kwh: 3000, climate: average}
    tests_run: [{temp_c: 7, cop: 3.1}, {temp_c: 2, cop: 2.5}, {temp_c: -7, cop: 1.9}]
tests:
  - name: SCOP 4 average is A
    derivation: "12000/3000 = 4, *1 = 4.00, 100*4/4 = 100.0 -> A; 3 tests <= 7; worst 1.9"
    base: base
    expect: {label: A, valid_until: 2034-05-31}
"""

ROUND_2 = "round(scop * params.climate_factor[unit.climate], 2)"
ROUND_3 = "round(scop * params.climate_factor[unit.climate], 3)"


def version(text: str, number: str, *edits: tuple[str, str]) -> Ruleset:
    """The heat-label text as version ``number`` with each (old, new) replacement made exactly once."""
    text = text.replace("version: 1.0.0", f"version: {number}")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return load_ruleset_text(text)


OLD = load_ruleset_text(HEAT_1_0_0)
TABLE = version(HEAT_1_0_0, "1.1.0", ("warm: 1.15}", "warm: 1.16}"))
ROUNDING = version(HEAT_1_0_0, "1.1.0", (ROUND_2, ROUND_3))
EXAMPLES = 500


def unit(heat: Any, power: Any, climate: str) -> dict[str, Any]:
    """An assessment of the fixture's heat pump (three tests at or below 7 °C, the worst COP 1.9)."""
    return {"assessed_on": "2025-05-10",
            "unit": {"id": "HP-0009", "heat_output_kwh": heat, "power_input_kwh": power, "climate": climate},
            "tests_run": [{"temp_c": 7, "cop": 3.1}, {"temp_c": 2, "cop": 2.5}, {"temp_c": -7, "cop": 1.9}]}


def re_decided(old: Ruleset, new: Ruleset, example: Counterexample | None) -> tuple[str, str]:
    """Decide a reported counterexample again under both versions (public API) and assert that the
    decisions differ and are the ones reported; return both labels."""
    assert example is not None
    old_decision, new_decision = decide_both(old, new, example.assessment)
    assert new_decision is not None  # the same inputs: the assessment stays valid
    assert decisions_differ(old_decision, new_decision)
    assert old_decision.label == example.old.label
    assert example.new is not None
    assert new_decision.label == example.new.label
    return old_decision.label, new_decision.label


# -- the hand-derived witnesses (no search) -------------------------------------------------------------


def test_witness_table_entry_moves_a_warm_unit_from_b_to_a() -> None:
    """The repro's a.json: 3460/1000 = 3.46; x1.15 = 3.979 -> 3.98 -> 100*3.98/4 = 99.5 -> B;
    x1.16 = 4.0136 -> 4.01 -> 100.25 -> 100.2 or 100.3, >= 100 -> A."""
    old, new = decide_both(OLD, TABLE, unit(3460, 1000, "warm"))
    assert (old.label, new is not None and new.label) == ("B", "A")


def test_witness_rounding_digits_move_an_average_unit_from_a_to_b() -> None:
    """11988/3000 = 3.996: to 2 digits 4.00 -> 100.0 -> A; to 3 digits 3.996 -> 99.9 -> B."""
    old, new = decide_both(OLD, ROUNDING, unit(11988, 3000, "average"))
    assert (old.label, new is not None and new.label) == ("A", "B")


# -- the static analysis decides ---------------------------------------------------------------------------


@pytest.mark.parametrize(("new", "what"), [(TABLE, "parameters climate_factor[warm]: value 1.15 -> 1.16"),
                                           (ROUNDING, f"derived adjusted: value {ROUND_2} -> {ROUND_3}")])
def test_the_static_analysis_alone_requires_major_for_a_change_feeding_a_band(new: Ruleset, what: str) -> None:
    """Without any search, a changed table entry or derived expression that the band reads through the
    derived index requires major, and the change is named among the reasons."""
    report = required_bump(OLD, new)
    assert report.declared == "minor"
    assert report.required == "major"
    assert not report.ok
    assert [c.describe() for c in report.altering] == [what]
    assert report.counterexample is None
    assert report.searched == 0


@pytest.mark.parametrize("new", [TABLE, ROUNDING], ids=["table", "rounding"])
def test_a_search_that_finds_nothing_keeps_major_and_says_so(new: Ruleset) -> None:
    """A search that finds no counterexample (a stub that tries 7 assessments and finds none) never
    lowers the bump: it stays major, and the reasons say that nothing was found within the budget."""
    def nothing(old: Ruleset, new: Ruleset, *, max_examples: int = 500,
                require_valid: bool = True) -> tuple[Counterexample | None, int]:
        return None, 7

    report = confirm(required_bump(OLD, new), nothing, max_examples=7)
    assert report.required == "major"
    assert not report.ok
    assert report.counterexample is None
    assert report.reasons[-1] == (f"required major: {report.altering[0].describe()} can change decisions; "
                                  "no counterexample found within 7 examples")


# -- the search confirms, with a counterexample that really decides differently --------------------------


@pytest.mark.parametrize(("new", "edits"), [
    (TABLE, "warm 1.15 -> 1.16"),
    (version(HEAT_1_0_0, "1.1.0", ("warm: 1.15}", "warm: 1.14}")), "warm 1.15 -> 1.14"),
    (version(HEAT_1_0_0, "1.1.0", ("cold: 0.85,", "cold: 0.86,")), "cold 0.85 -> 0.86"),
    (ROUNDING, "round 2 -> 3 digits"),
    (version(HEAT_1_0_0, "1.1.0", ("round(100 * adjusted / 4, 1)", "round(100 * adjusted / 4, 0)")),
     "index round 1 -> 0 digits"),
    (version(HEAT_1_0_0, "1.1.0", ('B: "[90..100)", A: ">= 100"', 'B: "[90..99.5)", A: ">= 99.5"')),
     "class A from 99.5"),
    (version(HEAT_1_0_0, "1.1.0", ("worst_cop >= 1.5}", "worst_cop >= 1.6}")), "robust: worst COP 1.5 -> 1.6"),
])
def test_bump_check_reports_major_with_a_counterexample_that_re_decides_differently(new: Ruleset,
                                                                                    edits: str) -> None:
    """For each change that reaches a tier only through derived values and a table (a table entry, a
    rounding, a band's bound, a threshold on the worst COP of the list of tests), bump_check requires
    major and shows a counterexample that, decided again under both versions, gets different labels."""
    report = bump_check(OLD, new, max_examples=EXAMPLES)
    assert (report.declared, report.required, report.ok) == ("minor", "major", False), report.reasons
    a, b = re_decided(OLD, new, report.counterexample)
    assert a != b
    assert report.reasons[-1] == f"counterexample: 1.0.0 decides {a}, 1.1.0 {b}"
    assert report.searched <= EXAMPLES


@pytest.mark.parametrize("new", [TABLE, ROUNDING], ids=["table", "rounding"])
def test_the_bisection_through_derived_values_finds_it_before_any_generated_search(new: Ruleset) -> None:
    """The counterexample is found from the embedded test by holding every input but one and bisecting
    that one (the climate set to each of its values): within two thirds of the budget, the part the
    search spends before generating any assessment (the work counted in assessments decided)."""
    example, tried = find_counterexample(OLD, new, max_examples=300, shrink=0)
    re_decided(OLD, new, example)
    assert tried <= 300 * 2 // 3, tried


@settings(max_examples=8, deadline=None, database=None, derandomize=True)
@given(factor=st.decimals(min_value=Decimal("1.050"), max_value=Decimal("1.250"), places=3)
       .filter(lambda f: f != Decimal("1.150")))
def test_property_any_other_warm_factor_requires_major_with_a_counterexample_that_re_decides(factor: Decimal) -> None:
    """Property: for every warm climate factor other than 1.15 (three decimals in [1.05, 1.25]), bump_check
    1.0.0 -> 1.1.0 requires major, and its counterexample, decided again under both versions, gets
    different labels (some scop then rounds to another adjusted value across a class bound)."""
    new = version(HEAT_1_0_0, "1.1.0", ("warm: 1.15}", f"warm: {factor}}}"))
    report = bump_check(OLD, new, max_examples=300, shrink=0)
    assert report.required == "major"
    re_decided(OLD, new, report.counterexample)


def test_a_change_no_assessment_can_show_stays_major_and_says_nothing_was_found() -> None:
    """The index rounded to 2 digits instead of 1 decides as before: 100 * adjusted / 4 is a multiple of
    0.25 (adjusted has 2 decimals), whose rounding to 1 digit (.0, .2 or .3, .5, .8) never crosses a whole bound
    of the classes. The static analysis cannot show that, so the bump stays major, and the report says
    plainly that the search found no counterexample within its budget."""
    new = version(HEAT_1_0_0, "1.1.0", ("round(100 * adjusted / 4, 1)", "round(100 * adjusted / 4, 2)"))
    for heat in range(11900, 12100, 7):  # around the A bound (scop 3.97 to 4.03), every class decided alike
        old_decision, new_decision = decide_both(OLD, new, unit(heat, 3000, "average"))
        assert not decisions_differ(old_decision, new_decision), heat
    report = bump_check(OLD, new, max_examples=120)
    assert (report.required, report.ok, report.counterexample) == ("major", False, None)
    assert report.reasons[-1] == (f"required major: derived index: value round(100 * adjusted / 4, 1) -> "
                                  f"round(100 * adjusted / 4, 2) can change decisions; no counterexample found "
                                  f"within {report.searched} examples")
    assert 0 < report.searched <= 120


# -- what cannot alter a decision stays as before -----------------------------------------------------------


def test_a_new_title_and_citation_stay_a_patch() -> None:
    """A corrected title and a table's new citation alter no decision: required patch, declared patch, ok,
    and nothing is said to change what decisions are worked out from."""
    new = version(HEAT_1_0_0, "1.0.1", ("title: Heat pump energy label\n", "title: Heat pump energy label (2025)\n"),
                  ('source: "Invented, table 2"', 'source: "Invented, table 2 (2025 print)"'))
    report = bump_check(OLD, new, max_examples=60)
    assert (report.declared, report.required, report.ok) == ("patch", "patch", True), report.reasons
    assert report.altering == []
    assert report.counterexample is None
    assert report.reasons[0] == "no change can alter a decision (metadata and explanations only)"


def test_a_new_label_for_a_new_optional_input_stays_a_minor() -> None:
    """A new optional input, a criterion reading only it and a new top label A+ requiring it only add:
    an old assessment has no such input, A+ is never met, every decision stays (required minor, ok)."""
    new = version(HEAT_1_0_0, "1.1.0",
                  ("      climate: {type: enum, values: [cold, average, warm]}\n",
                   "      climate: {type: enum, values: [cold, average, warm]}\n      certified: {type: boolean}\n"),
                  ("  robust: {title: No test below COP 1.5, when: worst_cop >= 1.5}\n",
                   "  robust: {title: No test below COP 1.5, when: worst_cop >= 1.5}\n"
                   "  certified: {title: Certified, when: unit.certified}\n"),
                  ("\nlabels: [G, F, E, D, C, B, A]\n", "\nlabels: [G, F, E, D, C, B, A, A+]\n"),
                  ("  A: {title: A, requires: [tested, robust, cls.A]}\n",
                   "  A: {title: A, requires: [tested, robust, cls.A]}\n"
                   "  A+: {title: A+, requires: [tested, robust, cls.A, certified]}\n"),
                  ("labels: [G, F, E, D, C, B, A], valid_until", "labels: [G, F, E, D, C, B, A, A+], valid_until"))
    report = bump_check(OLD, new, max_examples=120)
    assert (report.declared, report.required, report.ok) == ("minor", "minor", True), report.reasons
    assert report.altering == []
    assert report.counterexample is None


# -- what the report prints ------------------------------------------------------------------------------------


def test_a_changed_table_entry_is_counted_once_and_printed_as_its_value() -> None:
    """One edited table entry is one change that can alter decisions (the table key that reads it repeats
    the parameter), printed with its values, never as a Python dict."""
    report = required_bump(OLD, TABLE)
    sections = [c.section for c in semantic_diff(OLD, TABLE).decision_changes]
    assert sections == ["parameters", "tables"]  # the diff shows both views of the one edit
    assert [c.section for c in distinct_changes(report.diff.decision_changes)] == ["parameters"]
    assert report.reasons[0] == ("1 change(s) can alter decisions, e.g. parameters climate_factor[warm]: "
                                 "value 1.15 -> 1.16")
    assert not any("{'" in reason for reason in report.reasons)


def test_a_change_of_a_mapping_is_described_as_json() -> None:
    """A change whose values are mappings (a table key reading another entry) describes them as JSON."""
    change = Change("tables", "changed", "f[warm]", "value", {"value": Decimal("1"), "entry": "f[*]"},
                    {"value": Decimal("1.16"), "entry": "f[warm]"}, True)
    assert change.describe() == ('tables f[warm]: value {"value": 1, "entry": "f[*]"} -> '
                                 '{"value": 1.16, "entry": "f[warm]"}')


def test_the_bump_check_command_on_the_table_edit_exits_1_and_shows_a_counterexample(tmp_path: Path) -> None:
    """bump-check 1.0.0 -> 1.1.0 (files) exits 1: declared minor, required major; the change is named
    once, as values; the JSON counterexample, decided again, gets different labels."""
    old_file, new_file = tmp_path / "1.0.0.yaml", tmp_path / "1.1.0.yaml"
    old_file.write_text(HEAT_1_0_0, encoding="utf-8")
    new_file.write_text(HEAT_1_0_0.replace("version: 1.0.0", "version: 1.1.0").replace("warm: 1.15}", "warm: 1.16}"),
                        encoding="utf-8")
    text = CliRunner().invoke(app, ["bump-check", str(old_file), str(new_file)], catch_exceptions=False)
    assert text.exit_code == 1, text.output
    assert "declared minor, required major" in text.output
    flat = " ".join(text.output.split())
    assert "1 change(s) can alter decisions, e.g. parameters climate_factor[warm]: value 1.15 -> 1.16" in flat
    assert "{'value'" not in flat
    assert "counterexample assessment:" in text.output
    result = CliRunner().invoke(app, ["bump-check", str(old_file), str(new_file), "-f", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert (data["declared"], data["required"], data["ok"]) == ("minor", "major", False)
    old, new = decide_both(OLD, TABLE, data["counterexample"]["assessment"])
    assert new is not None
    assert decisions_differ(old, new)
    assert (old.label, new.label) == (data["counterexample"]["old"]["label"], data["counterexample"]["new"]["label"])

