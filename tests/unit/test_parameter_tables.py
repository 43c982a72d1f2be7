"""Parameter tables and band bounds from parameters (issue 22, "What remains" 5: "no enum-keyed
parameter tables (M/N per category are chained if/else)"; "band bounds cannot come from
parameters, and have one provenance per band").

``tests/data/tables/1.0.0.yaml`` is the published fridge (examples/methodologies/eu-fridge-label
2.0.0) written with tables (``params.mc[c.type]``) and with its class bounds as parameters; its
32 hand-derived embedded tests are the published version's, and it must decide every assessment
as the published version does. The small rulesets below are written here, each problem by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from ruleset_text import edited

from ecei_rules import RulesetError, evaluate, load_ruleset, load_ruleset_text
from ecei_rules.compare.bump import changed_criteria
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.engine.evaluate import decide_label, decision_text, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.testing.embedded import run_embedded
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).resolve().parents[2]
TABLES = ROOT / "tests" / "data" / "tables" / "1.0.0.yaml"
FRIDGE = ROOT / "examples" / "methodologies" / "eu-fridge-label" / "2.0.0.yaml"

SMALL = (ROOT / "tests" / "data" / "tables-small" / "1.0.0.yaml").read_text(encoding="utf-8")


def problems(text: str) -> list[tuple[str, str, str, int | None, str | None]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    return [(d.code, d.pointer, d.message, d.line, d.suggestion) for d in info.value.diagnostics]


def all_agree(ruleset: Ruleset, data: dict[str, Any]) -> Any:
    """The decision, after checking that the reference evaluator and the text writer give its bytes and
    the label-only modes its label and validity."""
    validated = validate_assessment(ruleset, data)
    decision = evaluate(ruleset, validated)
    text = decision.canonical_text()
    assert evaluate_reference(ruleset, validated).canonical_text() == text
    assert decision_text(ruleset, validated) == text
    expected = (decision.label, decision.valid_from, decision.valid_until)
    assert decide_label(ruleset, validated) == expected
    assert outline(ruleset, dict(validated.data))[:3] == expected
    return decision


# -- tables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "area", "outcome"), [
    ("flat", 90, "met"), ("flat", 90.1, "not_met"),
    ("house", 110.5, "met"), ("house", 110.6, "not_met"),
    ("office", 150, "met"), ("office", 151, "not_met"),
    (None, 10, "unknown"),  # no kind: no entry is read, the criterion is unknown
])
def test_a_table_entry_is_read_by_the_enum_value_of_the_assessment(kind: str | None, area: Any, outcome: str) -> None:
    """``params.max_use[kind]`` is the entry of the kind given, on both sides of each entry; an
    absent kind is an unknown key, so the criterion is unknown (three-valued), in every evaluator."""
    ruleset = load_ruleset_text(SMALL)
    data: dict[str, Any] = {"assessed_on": "2021-01-01", "floor_area": area}
    if kind is not None:
        data["kind"] = kind
    decision = all_agree(ruleset, data)
    assert decision.outcome_of("efficient") == outcome
    assert decision.outcome_of("office_floor") == "met"  # the quoted key: 150 x 2 = 300 <= 500


def test_decisions_show_each_table_entry_read_as_a_parameter_with_its_own_provenance() -> None:
    """A lookup by an assessment value lists every entry it can read (``max_use[flat]`` ...), each with
    its value, the table's unit and the entry's own provenance (else the table's); a lookup by a
    quoted key lists that entry alone."""
    ruleset = load_ruleset_text(SMALL)
    decision = all_agree(ruleset, {"assessed_on": "2021-01-01", "kind": "house", "floor_area": 100})
    (efficient,) = [c for c in decision.criteria if c.id == "efficient"]
    shown = {p.name: (p.value, p.unit, p.provenance, p.source) for p in efficient.parameters}
    assert shown == {
        "max_use[flat]": (90, "kWh/m2", "sourced", "Scheme, Table 2"),
        "max_use[house]": (pytest.approx(110.5), "kWh/m2", "assumed",
                           "Table 2 gives no house figure; the flat's plus the detached margin"),
        "max_use[office]": (150, "kWh/m2", "sourced", "Scheme, Table 2"),
    }
    (office,) = [c for c in decision.criteria if c.id == "office_floor"]
    assert [p.name for p in office.parameters] == ["max_use[office]", "office_floor"]


def test_a_table_without_an_entry_for_a_key_of_its_enum_is_refused_at_the_table() -> None:
    """Every value of the enum the table is keyed by needs an entry (or a default): E102 at the table's
    values, with its line, naming the key; a default covers it."""
    text = edited(SMALL, ("      office: 150\n", ""))
    found = problems(text)
    assert [(c, p) for c, p, *_ in found] == [("E102", "/tables/max_use/values")], found
    _, _, message, line, _ = found[0]
    assert "'office'" in message
    assert "the values of kind" in message
    assert line == text.splitlines().index("    values:") + 2  # the table's values begin on the next line
    load_ruleset_text(edited(text, ("    values:\n", "    default: 200\n    values:\n")))  # a default: valid


def test_an_unknown_key_of_a_table_is_refused_with_a_did_you_mean() -> None:
    """A key that is no value of the enum is E104 at that entry, suggesting the value meant; so is a
    quoted key in a condition."""
    found = problems(edited(SMALL, ("      office: 150\n", "      offices: 150\n")))
    assert ("E104", "/tables/max_use/values/offices") in [(c, p) for c, p, *_ in found], found
    assert [s for c, p, _, _, s in found if p == "/tables/max_use/values/offices"] == ["did you mean 'office'?"]
    found = problems(edited(SMALL, ('params.max_use["office"]', 'params.max_use["ofice"]')))
    assert [(c, p, s) for c, p, _, _, s in found] == [("E104", "/criteria/office_floor/when", "did you mean 'office'?")]


def test_the_entries_of_a_table_must_have_one_type() -> None:
    """A text entry among numbers is E204 at that entry; a lookup by a plain string (not an enum) and a
    table read without a key are E204 in the condition."""
    found = problems(edited(SMALL, ("      flat: 90\n", '      flat: "90"\n')))
    assert [(c, p) for c, p, *_ in found] == [("E204", "/tables/max_use/values/flat")], found
    assert "this one is a string, the others numbers" in found[0][2]
    found = problems(edited(SMALL, ("  kind: {type: enum, values: [flat, house, office]}",
                                    "  kind: {type: enum, values: [flat, house, office]}\n  note: {type: string}"),
                            ("floor_area <= params.max_use[kind]", "floor_area <= params.max_use[note]")))
    assert [(c, p) for c, p, *_ in found] == [("E204", "/criteria/efficient/when")], found
    found = problems(edited(SMALL, ("floor_area <= params.max_use[kind]", "floor_area <= params.max_use")))
    assert [(c, p) for c, p, *_ in found] == [("E204", "/criteria/efficient/when")], found


def test_a_lookup_by_an_enum_with_a_value_the_table_lacks_is_refused() -> None:
    """A table keyed by a list of keys, read by an enum that has a value the list lacks: E104 in the
    condition, naming the value."""
    found = problems(edited(SMALL, ("    keys: kind\n", "    keys: [flat, house, office, shop]\n"),
                            ("      office: 150\n", "      office: 150\n      shop: 120\n"),
                            ("values: [flat, house, office]", "values: [flat, house, office, hall]")))
    assert [(c, p) for c, p, *_ in found] == [("E104", "/criteria/efficient/when")], found
    assert "'hall'" in found[0][2]


def test_a_changed_table_entry_is_a_change_of_that_parameter_in_the_diff_and_the_bump_check() -> None:
    """Changing one entry shows in the diff as that entry (``max_use[house]``) changed, nothing else,
    and the bump check follows it into the criterion that reads the table."""
    old = load_ruleset_text(SMALL)
    new = load_ruleset_text(edited(SMALL, ("version: 1.0.0", "version: 1.0.1"), ("value: 110.5", "value: 112")))
    diff = semantic_diff(old, new)
    assert diff.changed_ids("parameters") == {"max_use[house]"}
    assert changed_criteria(diff) == {"efficient"}


# -- the fridge written with tables -----------------------------------------------------------------


def test_the_fridge_written_with_tables_passes_the_published_versions_embedded_tests() -> None:
    """The 32 hand-derived embedded tests of the published fridge 2.0.0, unchanged, pass on the copy
    written with tables and parameter bounds."""
    ruleset = load_ruleset(TABLES)
    results = run_embedded(ruleset)
    assert len(results) == 32
    assert all(r.passed for r in results), [r for r in results if not r.passed]


@pytest.mark.no_cover
def test_the_fridge_written_with_tables_decides_every_assessment_as_the_published_version() -> None:
    """On 100 generated appliances and on the published version's own embedded test appliances (which
    reach every class): the same label, validity, outcome of every criterion and energy index as the
    published fridge 2.0.0, and the copy's own decision is the same from every evaluator."""
    tables, published = load_ruleset(TABLES), load_ruleset(FRIDGE)
    labels: set[str] = set()

    def check(raw: dict[str, Any]) -> None:
        mine, theirs = all_agree(tables, raw), evaluate(published, raw)
        assert (mine.label, mine.valid_from, mine.valid_until) == (theirs.label, theirs.valid_from, theirs.valid_until)
        assert {c.id: c.outcome for c in mine.criteria} == {c.id: c.outcome for c in theirs.criteria}
        index = {d.id: (d.outcome, d.value) for d in mine.derived}["energy_index"]
        assert index == {d.id: (d.outcome, d.value) for d in theirs.derived}["energy_index"]
        labels.add(mine.label)

    @settings(max_examples=100, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(assessments(published))
    def same(raw: dict[str, Any]) -> None:
        check(raw)

    same()
    for index in range(len(published.document.tests)):
        check(embedded_assessment(published.document, index))
    assert len(labels) >= 7, labels  # not vacuous: every class A to G is awarded


# -- band bounds from parameters ----------------------------------------------------------------------

FRIDGE_TEXT = TABLES.read_text(encoding="utf-8")


def test_band_bounds_from_parameters_are_checked_for_gaps_and_overlaps_with_their_values() -> None:
    """With b_max 50 (below c's lower bound 51, written as b_max too: no gap) the table is sound;
    a class bound written as a number that leaves a gap after b_max = 50 is E103 at the band's
    classes, with the parameters' values; an unknown parameter bound is E105 with a did-you-mean."""
    load_ruleset_text(edited(FRIDGE_TEXT, ("    value: 51\n", "    value: 50\n")))
    text = edited(FRIDGE_TEXT, ("    value: 51\n", "    value: 50\n"), ('C: "(b_max..c_max]"', 'C: "(51..c_max]"'))
    found = problems(text)
    assert [(c, p) for c, p, *_ in found] == [("E103", "/bands/energy_class/classes")], found
    assert "a gap between the classes 'B'" in found[0][2]
    assert "b_max = 50" in found[0][2]
    found = problems(edited(FRIDGE_TEXT, ('D: "(c_max..d_max]"', 'D: "(c_max..dmax]"')))
    assert [(c, p, s) for c, p, _, _, s in found] == [
        ("E105", "/bands/energy_class/classes/D", "did you mean 'd_max'?")]


def test_an_overlap_or_an_empty_class_made_by_parameters_is_refused_when_the_ruleset_loads() -> None:
    """D taking in c_max, which C takes in too, is an overlap at 64; b_max set above c_max leaves C
    empty: each E103 at the band, with the parameters' values, as for bounds written as numbers."""
    found = problems(edited(FRIDGE_TEXT, ('D: "(c_max..d_max]"', 'D: "[c_max..d_max]"')))
    assert [(c, p) for c, p, *_ in found] == [("E103", "/bands/energy_class/classes")], found
    assert "overlap: a value in [64..64] would be in both" in found[0][2]
    assert "c_max = 64" in found[0][2]
    found = problems(edited(FRIDGE_TEXT, ("    value: 51\n", "    value: 70\n")))
    assert [(c, p) for c, p, *_ in found] == [("E103", "/bands/energy_class/classes")], found
    assert "the class 'C' has the bounds '(b_max..c_max]', which no value lies within" in found[0][2]


def test_a_class_may_carry_its_own_clause_and_source_else_the_bands() -> None:
    """Class B's criterion has its own clause and cites its own source; class C's has the band's."""
    doc = load_ruleset(TABLES).document
    b, c = doc.criteria["energy_class.B"], doc.criteria["energy_class.C"]
    assert b.clause == "Annex II, Table 1, class B"
    assert "legislation.gov.uk" in (b.description or "")
    assert c.clause == doc.bands["energy_class"].clause
    assert "source" not in (c.description or "")
    assert doc.bands["energy_class"].provenance("B")[0] != doc.bands["energy_class"].provenance("C")[0]


def test_a_changed_bound_parameter_is_that_parameters_change_in_the_diff() -> None:
    """Moving the A/B bound by its parameter shows as the parameter a_max changed, no criterion's text
    changed, and the bump check names both classes that read it."""
    old = load_ruleset(TABLES)
    new = load_ruleset_text(edited(FRIDGE_TEXT, ("version: 1.0.0", "version: 1.1.0"),
                                   ("    value: 41\n", "    value: 42\n")))
    diff = semantic_diff(old, new)
    assert diff.changed_ids("parameters") == {"a_max"}
    assert diff.changed_ids("criteria") == set()
    assert changed_criteria(diff) == {"energy_class.A", "energy_class.B"}


def test_a_refused_table_is_one_error_and_a_misspelt_table_name_has_a_did_you_mean() -> None:
    """A table the model refuses (two provenances) is one error at the table, not one more for each
    condition that reads it; an entry beyond 15 significant digits is E103 at that entry; a misspelt
    table name in a condition is E105 suggesting the table, a parameter read by a key E204."""
    assert [(c, p) for c, p, *_ in problems(edited(SMALL, ('    source: "Scheme, Table 2"\n',
                                                            '    source: "Scheme, Table 2"\n    assumed: both\n')))] \
        == [("E103", "/tables/max_use")]
    precise = edited(SMALL, ("      flat: 90\n", "      flat: 90.12345678901234567\n"))
    assert [(c, p) for c, p, *_ in problems(precise)] == [("E103", "/tables/max_use/values/flat")]
    assert [(c, s) for c, _, _, _, s in problems(edited(SMALL, ("params.max_use[kind]", "params.max_us[kind]")))] \
        == [("E105", "did you mean 'max_use'?")]
    assert [c for c, *_ in problems(edited(SMALL, ("params.max_use[kind]", "params.office_floor[kind]")))] == ["E204"]


def test_the_interpreter_finds_the_table_entries_the_compiler_says_each_condition_reads() -> None:
    """For every criterion and derived value of the table rulesets, the entries the interpreter finds in
    the condition's tree (a quoted key: that entry; a key from the assessment: every entry) are those
    the compiler lists; a table written nowhere in a condition is no parameter of it."""
    from ecei_rules.language import interpreter

    compared = 0
    for ruleset in (load_ruleset(TABLES), load_ruleset_text(SMALL)):
        plan = ruleset.plan
        tables = {name: dict(t.entries) for name, t in plan.tables.items()}
        conditions = [(c.spec.when, c.compiled) for c in plan.criteria]
        conditions += [(d.spec.value, d.compiled) for d in plan.derived]
        for text, compiled in conditions:
            parsed = interpreter.parse(text)
            named = {p[1:] for p in interpreter.reads(parsed) if p[1:] in plan.doc.derived}
            through = set().union(*(d.compiled.params for d in plan.derived if d.id in named))
            assert interpreter.parameters(parsed, tables) | through == compiled.params, text
            compared += 1
    assert compared > 20, compared


CATALOGUE = """catalogues:
  kinds:
    title: Building kinds
    source: "Scheme, Annex 1"
    items:
      flat: {title: Flat, type: boolean}
      house: {title: House, type: boolean}
      office: {title: Office, type: boolean}
inputs:"""


@pytest.mark.parametrize("form", ["list", "type", "catalogue"])
def test_a_table_is_keyed_by_listed_keys_an_enum_type_or_a_catalogue(form: str) -> None:
    """The keys may be listed, or be the values of a declared enum type, or the items of a catalogue
    (read by a catalogue string input): each decides the house at its own entry."""
    text = {
        "list": edited(SMALL, ("    keys: kind\n", "    keys: [flat, house, office]\n")),
        "type": edited(SMALL, ("inputs:", "types:\n  building_kind: {type: enum, values: [flat, house, office]}\n"
                                          "inputs:"),
                       ("  kind: {type: enum, values: [flat, house, office]}", "  kind: {type: building_kind}"),
                       ("    keys: kind\n", "    keys: building_kind\n")),
        "catalogue": edited(SMALL, ("inputs:", CATALOGUE),
                            ("  kind: {type: enum, values: [flat, house, office]}",
                             "  kind: {type: string, catalogue: kinds}"),
                            ("    keys: kind\n", "    keys: kinds\n")),
    }[form]
    ruleset = load_ruleset_text(text)
    assert all_agree(ruleset, {"assessed_on": "2021-01-01", "kind": "house", "floor_area": 110.5}).label == "pass"
    assert all_agree(ruleset, {"assessed_on": "2021-01-01", "kind": "house", "floor_area": 111}).label == "none"


def test_keys_that_name_nothing_or_no_enum_are_refused_at_the_keys() -> None:
    """Keys naming no enum type, catalogue or input are E104 at the table's keys with a did-you-mean;
    keys naming a number input E204; keys listed twice E108."""
    found = problems(edited(SMALL, ("    keys: kind\n", "    keys: knd\n")))
    assert [(c, p, s) for c, p, _, _, s in found] == [("E104", "/tables/max_use/keys", "did you mean 'kind'?")]
    found = problems(edited(SMALL, ("    keys: kind\n", "    keys: floor_area\n")))
    assert [(c, p) for c, p, *_ in found] == [("E204", "/tables/max_use/keys")]
    found = problems(edited(SMALL, ("    keys: kind\n", "    keys: [flat, flat, house, office]\n")))
    assert [(c, p) for c, p, *_ in found] == [("E108", "/tables/max_use/keys")]


def test_the_docs_pages_list_each_table_entry_as_a_parameter_with_its_provenance() -> None:
    """A version page lists each entry (``mc[chill]``) among the parameters, with its value, unit and
    provenance, and the criteria that read it link to it; the provenance page counts the entries."""
    from ecei_rules.render.docs import provenance_page, version_page

    ruleset = load_ruleset(TABLES)
    page = version_page(ruleset)
    assert '<span id="parameter-mc-chill-"></span><code>mc[chill]</code>' in page
    assert "(#parameter-ac_auto_defrost---) = **1**" in page  # the default entry, read by a criterion
    assert "sourced" in provenance_page([ruleset])


@pytest.mark.no_cover
def test_synth_aims_through_table_entries_at_every_class_of_the_fridge_written_with_tables() -> None:
    """Synth solves the class bounds through the derived values that read tables (``params.mc[c.type]``):
    30 appliances of the copy reach at least five classes (not aiming through the tables: one or two)."""
    import datetime as dt

    from ecei_rules.testing.synth import synthesize

    ruleset = load_ruleset(TABLES)
    labels = {evaluate(ruleset, a).label for a in synthesize(
        30, seed=0, start=dt.date(2021, 6, 1), end=dt.date(2021, 12, 31), versions=[ruleset])}
    assert len(labels - {"none"}) >= 5, labels


def test_a_table_problem_does_not_hide_an_invalid_test_assessment() -> None:
    """A table without an entry for a key leaves the inputs sound: an embedded test's invalid
    assessment is still reported beside it (every problem, whatever else failed)."""
    text = edited(SMALL, ("      office: 150\n", "")) + (
        "tests:\n  - {name: castle, assessment: {assessed_on: 2021-01-01, kind: castle}, expect: {label: none}}\n")
    assert [(c, p) for c, p, *_ in problems(text)] == [("E102", "/tables/max_use/values"),
                                                       ("E302", "/tests/0/assessment/kind")]
