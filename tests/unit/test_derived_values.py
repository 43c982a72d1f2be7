"""Derived values (issue 22, item 1): named, typed values computed once per decision, read by
name, shown in every decision; and the functions that came with them (round, floor, ceil,
min/max of values, values of a map) and count ranges through abs, * and /.

Every expectation here is worked out by hand from tests/data/derived/1.0.0.yaml (standard
energy = 0.5 x volume; index = round(100 x annual energy / standard energy, 1); points = the
sum of the credit points present) and tests/data/every/1.2.0.yaml, never copied from the
code's output. On main, each test fails: the loader refuses the ``derived:`` key (E101), and
round, floor, ceil, values and min/max of values are unknown functions (E203).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.compare.bump import changed_criteria
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.core.logic import UNKNOWN, Interval
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import RulesetError
from ecei_rules.explanation.build import explain
from ecei_rules.explanation.render import render_markdown, render_text
from ecei_rules.language import interpreter
from ecei_rules.language.expr import DATE, DEC, INT, Scope, Ty, compile_expression
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset, load_ruleset_text

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _load(name: str) -> Ruleset:
    """A test ruleset under tests/data, loaded once (when a test first needs it)."""
    return load_ruleset(ROOT / "tests" / "data" / name)


def _fridge(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"annual_energy": 80, "volume": 200, "credit_points": {"c1": 3, "c2": 2, "c3": 0},
                            "assessed_on": "2021-05-03"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _all_ways(ruleset: Any, data: dict[str, Any]) -> Decision:
    """The decision, checked equal in every mode of the evaluator and in the reference evaluator."""
    decision = evaluate(ruleset, data)
    reference = evaluate_reference(ruleset, data)
    assert decision == reference
    assert decision_text(ruleset, data) == decision.canonical_text() == reference.canonical_text()
    assert decide_label(ruleset, data) == (decision.label, decision.valid_from, decision.valid_until)
    return decision


def _derived(decision: Decision) -> dict[str, Any]:
    return {r.id: r for r in decision.derived}


def _problems(text: str) -> list[tuple[str, str, str | None]]:
    with pytest.raises(RulesetError) as caught:
        load_ruleset_text(text)
    return [(d.code, d.message, d.pointer) for d in caught.value.diagnostics if d.severity == "error"]


def _with_derived(derived: str, *, inputs: str = "  x: {type: decimal}\n  y: {type: decimal}\n",
                  when: str = "x > 0") -> str:
    return f"""
methodology: small
version: 1.0.0
title: Small
status: draft
effective_from: 2021-01-01
inputs:
{inputs}  on: {{type: date, required: true}}
derived:
{derived}
criteria:
  C: {{title: C, when: "{when}"}}
labels: [ok]
tiers:
  ok: {{title: OK, requires: [C]}}
validity:
  valid_from: "on"
  rules:
    - {{id: r, title: R, labels: [ok], valid_until: "month_end(on, 12)"}}
"""


# -- why: the energy index had to be copied into all 17 criteria ------------------------------------

def test_the_energy_index_is_written_once_as_a_derived_value_and_read_by_every_criterion() -> None:
    """The index formula is written once in the ruleset; both band criteria read it by name and
    each shows its value and the inputs it came from. 41 kWh in 130 l: standard 65 kWh, index
    100 x 41 / 65 = 63.0769... -> 63.1; A (<= 50) not met, B (<= 75) met."""
    text = (ROOT / "tests" / "data" / "derived" / "1.0.0.yaml").read_text(encoding="utf-8")
    assert text.count("annual_energy / standard_energy") == 1
    decision = _all_ways(_load("derived/1.0.0.yaml"), _fridge(annual_energy=41, volume=130))
    index = _derived(decision)["energy_index"]
    assert (index.outcome, index.value, index.unit) == ("known", Decimal("63.1"), "%")
    a, b = (next(c for c in decision.criteria if c.id == cid) for cid in ("A", "B"))
    assert (a.outcome, b.outcome) == ("not_met", "met")
    for c in (a, b):
        assert c.derived == {"energy_index": Decimal("63.1")}
        assert c.inputs == {"/annual_energy": 41, "/volume": 130}  # through the derived values it reads
        assert c.missing == ()
    assert decision.label == "b"


def test_a_45_term_points_total_is_one_derived_value_not_E201() -> None:
    """A points total over 45 credits written out term by term is too large a condition (E201);
    as a derived value over the map of credits it is one short expression. Credit i earns
    (i mod 3) + 1 points: 15 x (1 + 2 + 3) = 90."""
    items = "\n".join(f"      c{i}: {{title: Credit {i}, type: points}}" for i in range(1, 46))
    head = f"""
methodology: points
version: 1.0.0
title: Points
status: draft
effective_from: 2021-01-01
types:
  points: {{type: integer, minimum: 0, maximum: 3}}
catalogues:
  credits:
    title: Credits
    source: test
    items:
{items}
inputs:
  credits: {{type: map, catalogue: credits}}
  on: {{type: date, required: true}}
"""
    tail = """
labels: [gold]
tiers:
  gold: {title: Gold, requires: [G]}
validity:
  valid_from: "on"
  rules:
    - {id: r, title: R, labels: [gold], valid_until: "month_end(on, 12)"}
"""
    written_out = " + ".join(f'credits["c{i}"]' for i in range(1, 46))
    codes = [code for code, _, _ in _problems(head + f"criteria:\n  G: {{title: G, when: '{written_out} >= 80'}}\n"
                                               + tail)]
    assert codes == ["E201"]
    ruleset = load_ruleset_text(head + """derived:
  total: {title: Total, type: integer, unit: points, value: sum(p for p in values(credits))}
criteria:
  G: {title: G, when: total >= 80}
""" + tail)
    data = {"credits": {f"c{i}": i % 3 + 1 for i in range(1, 46)}, "on": "2021-02-01"}
    decision = _all_ways(ruleset, data)
    assert _derived(decision)["total"].value == 90
    assert decision.label == "gold"
    data["credits"] = {f"c{i}": 1 for i in range(1, 46)}  # 45 points
    assert _all_ways(ruleset, data).label == "none"


# -- why: no decision, explanation or near miss ever shows the index or the total -----------------

def test_every_decision_shows_the_derived_index_and_the_points_total() -> None:
    """80 kWh in 200 l: standard 100, index 80.0 (shown 80); points 3 + 2 = 5. The decision's JSON
    (and its canonical bytes, in every mode) lists each derived value with what it read; the
    points total reads each entry of the map of credits."""
    decision = _all_ways(_load("derived/1.0.0.yaml"), _fridge())
    out = json.loads(decision.canonical_text())
    shown = {d["id"]: d for d in out["derived"]}
    assert list(shown) == ["standard_energy", "energy_index", "total_points"]  # dependency order
    assert shown["standard_energy"] == {
        "id": "standard_energy", "title": "Standard annual energy", "unit": "kWh/year", "outcome": "known",
        "value": 100, "reason": None, "expression": "params.per_litre * volume", "inputs": {"/volume": 200},
        "missing": [], "derived": [],
        "parameters": [{"name": "per_litre", "value": 0.5, "unit": "kWh/year/l", "provenance": "assumed",
                        "source": "chosen for the test"}]}
    assert (shown["energy_index"]["value"], shown["energy_index"]["derived"]) == (80, ["standard_energy"])
    assert shown["energy_index"]["inputs"] == {"/annual_energy": 80, "/volume": 200}
    assert (shown["total_points"]["value"], shown["total_points"]["unit"]) == (5, "points")
    assert shown["total_points"]["inputs"] == {"/credit_points/c1": 3, "/credit_points/c2": 2, "/credit_points/c3": 0}
    assert out["criteria"][2]["derived"] == {"total_points": 5}
    assert decision.to_json()["derived"] == out["derived"]


def test_a_near_miss_on_the_index_names_it_and_the_explanation_shows_what_it_read() -> None:
    """52.3 kWh in 200 l: index 52.3, 2.3 above the A bound of 50 (within the 10 % margin)."""
    expl = explain(_load("derived/1.0.0.yaml"), _fridge(annual_energy=Decimal("52.3")))
    (miss,) = expl.near_misses
    assert (miss.criterion, miss.input, miss.value, miss.threshold) == ("A", "energy_index", Decimal("52.3"), 50)
    assert "energy_index is 52.3, needs at most 50" in miss.sentence
    text = render_text(expl)
    assert "Energy efficiency index (energy_index) = 52.3 %; read annual_energy = 52.3, volume = 200 and " \
           "standard_energy = 100." in text
    assert "Derived values" in render_markdown(expl)
    undefined = explain(_load("derived/1.0.0.yaml"), _fridge(volume=0))
    assert "energy_index is undefined, needs at most 50" in render_text(undefined)


def test_shipped_decisions_and_explanations_have_no_derived_key() -> None:
    """A ruleset without derived values keeps its decisions' bytes: no "derived" key anywhere."""
    ruleset = Registry.shipped().get("ecei-labels", Registry.shipped().versions("ecei-labels")[-1])
    doc = ruleset.document
    data = next(iter(doc.fixtures.values()))
    decision = evaluate(ruleset, data)
    assert '"derived"' not in decision.canonical_text()
    assert "derived" not in decision.to_json()
    assert "derived" not in decision.model_dump()
    assert all("derived" not in c for c in decision.model_dump()["criteria"])
    assert "derived" not in explain(ruleset, data).to_json()


# -- exact, three-valued ---------------------------------------------------------------------------

def test_a_division_by_zero_is_an_undefined_value_with_its_reason_and_its_criteria_are_unknown() -> None:
    """A volume of 0: standard energy 0 (known), the index divides by it: undefined, with the
    division and the divisor named; both band criteria reading it are unknown."""
    decision = _all_ways(_load("derived/1.0.0.yaml"), _fridge(volume=0))
    d = _derived(decision)
    assert (d["standard_energy"].outcome, d["standard_energy"].value) == ("known", 0)
    index = d["energy_index"]
    assert (index.outcome, index.value) == ("undefined", None)
    assert index.reason == "division by zero: 100 * annual_energy / standard_energy with standard_energy = 0"
    assert index.missing == ()
    outcomes = {c.id: c.outcome for c in decision.criteria}
    assert (outcomes["A"], outcomes["B"]) == ("unknown", "unknown")
    assert next(c for c in decision.criteria if c.id == "A").derived == {"energy_index": None}


def test_a_value_reading_an_undefined_one_is_undefined_and_says_which() -> None:
    """every-construct 1.2.0: ratio = round(balance / managers, 1), doubled = 2 x ratio; no managers."""
    data = {"org": {"id": "o", "country": "NO"}, "assessed_on": "2022-03-01", "ledger": {"balance": 1},
            "staff": {"total": 3, "managers": 0}}
    d = _derived(_all_ways(_load("every/1.2.0.yaml"), data))
    assert d["ratio"].reason == "division by zero: ledger.balance / staff.managers with staff.managers = 0"
    assert (d["doubled"].outcome, d["doubled"].reason) == (
        "undefined", "ratio is undefined: division by zero: ledger.balance / staff.managers with staff.managers = 0")
    data["staff"] = {"total": 4, "managers": 4}  # 1 / 4 = 0.25 -> 0.3 (half up), doubled 0.6
    d = _derived(_all_ways(_load("every/1.2.0.yaml"), data))
    assert (d["ratio"].value, d["doubled"].value) == (Decimal("0.3"), Decimal("0.6"))


def test_min_over_no_items_is_undefined_and_over_an_absent_list_unknown() -> None:
    """earliest = min of the dates of the entries that have one: none has -> undefined."""
    base = {"org": {"id": "o", "country": "NO"}, "assessed_on": "2022-03-01"}
    d = _derived(_all_ways(_load("every/1.2.0.yaml"), {**base, "entries": [{"amount": -1}]}))
    assert (d["earliest"].outcome, d["earliest"].reason) == (
        "undefined", 'min() over no items: min(e["on"] for e in entries if known(e["on"]))')
    d = _derived(_all_ways(_load("every/1.2.0.yaml"), base))
    assert (d["earliest"].outcome, d["earliest"].reason, d["earliest"].missing) == ("unknown", None, ("/entries",))
    entries = [{"amount": 2, "on": "2021-02-05"}, {"amount": -1, "on": "2021-01-05"}, {"amount": 1}]
    d = _derived(_all_ways(_load("every/1.2.0.yaml"), {**base, "entries": entries}))
    assert d["earliest"].value == dt.date(2021, 1, 5)


def test_an_absent_input_makes_the_values_that_need_it_unknown_and_the_criteria_list_it_missing() -> None:
    decision = _all_ways(_load("derived/1.0.0.yaml"), _fridge(annual_energy=None, credit_points=None))
    d = _derived(decision)
    assert (d["standard_energy"].outcome, d["standard_energy"].value) == ("known", 100)
    assert (d["energy_index"].outcome, d["energy_index"].reason, d["energy_index"].missing) == (
        "unknown", None, ("/annual_energy",))
    entries = ("/credit_points/c1", "/credit_points/c2", "/credit_points/c3")
    assert (d["total_points"].outcome, d["total_points"].missing) == ("unknown", entries)
    a = next(c for c in decision.criteria if c.id == "A")
    assert (a.outcome, a.missing, a.inputs) == ("unknown", ("/annual_energy",), {"/volume": 200})
    assert {t.label: t.missing for t in decision.tiers} == {"a": ("/annual_energy", *entries),
                                                            "b": ("/annual_energy",)}


def test_the_label_mode_and_validity_rules_read_derived_values() -> None:
    """40 kWh in 200 l: index 40 -> A and B met; points 5 -> P met: label a for two years.
    75 kWh: index 75 -> only B, and the validity rule for an index above 70 gives one year."""
    label = decide_label(_load("derived/1.0.0.yaml"), _fridge(annual_energy=40))
    assert label == ("a", dt.date(2021, 5, 3), dt.date(2023, 5, 31))
    decision = _all_ways(_load("derived/1.0.0.yaml"), _fridge(annual_energy=75))
    assert (decision.label, decision.validity_rule, decision.valid_until) == ("b", "short", dt.date(2022, 5, 31))
    assert decision.validity_inputs == {"/annual_energy": 75, "/assessed_on": dt.date(2021, 5, 3), "/volume": 200}


def test_a_decision_with_derived_values_round_trips_through_json() -> None:
    for data in (_fridge(), _fridge(volume=0), _fridge(annual_energy=None), _fridge(annual_energy=Decimal("41.7"))):
        decision = evaluate(_load("derived/1.0.0.yaml"), data)
        back = Decision.model_validate_json(decision.model_dump_json())
        assert back == decision
        assert back.canonical_text() == decision.canonical_text()


# -- load-time checks ---------------------------------------------------------------------------------

def test_a_cycle_of_derived_values_is_one_error_naming_it() -> None:
    problems = _problems(_with_derived("  a: {title: A, type: decimal, value: b + 1}\n"
                                       "  b: {title: B, type: decimal, value: a * 2}\n", when="a > 0"))
    assert problems == [("E108", "derived values refer to each other in a cycle: a -> b -> a", "/derived/a/value")]
    problems = _problems(_with_derived("  a: {title: A, type: decimal, value: a + x}\n"))
    assert problems == [("E108", "derived values refer to each other in a cycle: a -> a", "/derived/a/value")]


def test_a_derived_value_of_another_type_than_declared_is_an_error_at_its_type() -> None:
    problems = _problems(_with_derived("  a: {title: A, type: integer, value: x / y}\n"))
    assert problems == [("E204", "the derived value 'a' is declared integer, but its value is a number",
                         "/derived/a/type")]
    problems = _problems(_with_derived("  a: {title: A, type: date, value: x > y}\n"))
    assert [(code, pointer) for code, _, pointer in problems] == [("E204", "/derived/a/type")]
    # a criterion comparing a boolean derived value with a number is a type error in the criterion
    problems = _problems(_with_derived("  a: {title: A, type: boolean, value: x > y}\n", when="a > 1"))
    assert [(code, pointer) for code, _, pointer in problems] == [("E204", "/criteria/C/when")]


def test_a_derived_value_may_not_take_the_name_of_an_input_a_reserved_name_or_a_function() -> None:
    for name, what in (("x", "an input"), ("label", "a reserved name"), ("params", "a reserved name"),
                       ("round", "a function")):
        problems = _problems(_with_derived(f"  {name}: {{title: A, type: decimal, value: y + 1}}\n"))
        assert (f"the derived value '{name}' has the name of {what}; choose another" in [m for _, m, _ in problems])
        assert ("E108", f"/derived/{name}") in [(c, p) for c, _, p in problems]
    problems = _problems(_with_derived("  a: {title: A, type: decimal, value: x + 1}\n",
                                       inputs="  x: {type: decimal}\n  xs: {type: list, items: {type: decimal}}\n",
                                       when="any(a > 1 for a in xs)"))
    assert [(c, p) for c, _, p in problems] == [("E108", "/criteria/C/when")]


# -- the functions ------------------------------------------------------------------------------------

def _both(text: str, **inputs: Any) -> tuple[Any, Any]:
    """(compiled value, interpreter value) of ``text`` over decimal inputs."""
    scope = Scope(inputs={k: DEC if not isinstance(v, (list, tuple)) else Ty("list", item=DEC, size=10)
                          for k, v in inputs.items()}, params={})
    compiled, errors = compile_expression(text, scope)
    assert compiled is not None, errors
    env = {k: (Decimal(str(v)) if isinstance(v, (int, float, str)) else v) for k, v in inputs.items()
           if v is not None}  # None: declared, absent
    return compiled.fn(env), interpreter.Interpreter({}).evaluate(interpreter.parse(text), env)


@pytest.mark.parametrize(("text", "expected"), [
    ("round(x)", {"2.5": 3, "-2.5": -3, "2.49": 2, "-2.49": -2, "0.5": 1, "-0.5": -1, "7": 7}),
    ("round(x, 1)", {"2.45": Decimal("2.5"), "-2.45": Decimal("-2.5"), "0.05": Decimal("0.1"),
                     "-0.05": Decimal("-0.1"), "2.449": Decimal("2.4"), "52.25": Decimal("52.3")}),
    ("round(x, 2)", {"1.005": Decimal("1.01"), "-1.005": Decimal("-1.01"), "1.004999": Decimal("1.00")}),
])
def test_round_is_a_function_half_up(text: str, expected: dict[str, Any]) -> None:
    """Half up, a half away from zero (Decimal's ROUND_HALF_UP), exactly: 1.005 is 1.01, not the
    1.00 a binary float gives."""
    for x, want in expected.items():
        compiled, interpreted = _both(text, x=x)
        assert compiled == want, (x, compiled)
        assert type(compiled) is type(want), (x, compiled)
        assert interpreted == Fraction(want), (x, interpreted)


def test_round_one_third_to_fifteen_places_and_its_limits() -> None:
    compiled, interpreted = _both("round(x / 3, 15)", x=1)
    assert compiled == Decimal("0.333333333333333")
    assert interpreted == Fraction(333333333333333, 10**15)
    scope = Scope(inputs={"x": DEC, "n": INT}, params={})
    for bad in ("round(x, 16)", "round(x, n)", "round(x, -1)", "round(x, 1.5)", "round(x, 1, 2)"):
        compiled, errors = compile_expression(bad, scope)
        assert compiled is None, bad
        assert [e.code for e in errors] == ["E203"], bad
    assert compile_expression("round(x, 1)", scope)[0].ty == DEC  # type: ignore[union-attr]
    assert compile_expression("round(x)", scope)[0].ty == INT  # type: ignore[union-attr]


@pytest.mark.parametrize(("x", "floor", "ceil"), [
    ("-2.5", -3, -2), ("2.5", 2, 3), ("-3", -3, -3), ("2.0001", 2, 3), ("-0.0001", -1, 0), ("0", 0, 0)])
def test_floor_and_ceil_of_negatives(x: str, floor: int, ceil: int) -> None:
    assert _both("floor(x)", x=x) == (floor, floor)
    assert _both("ceil(x)", x=x) == (ceil, ceil)


def test_min_and_max_of_two_or_more_values() -> None:
    assert _both("min(x, y, 2)", x="3", y="-1.5") == (Decimal("-1.5"), Fraction(-3, 2))
    assert _both("max(x, y, 2)", x="3", y="-1.5") == (3, 3)
    compiled, interpreted = _both("max(x, y)", x="3", y=None)
    assert compiled is UNKNOWN
    assert interpreted is interpreter.UNKNOWN
    scope = Scope(inputs={"d": DATE, "x": DEC}, params={})
    assert compile_expression("max(d, date(\"2020-01-01\"))", scope)[0].ty == DATE  # type: ignore[union-attr]
    compiled, errors = compile_expression("min(d, x)", scope)
    assert compiled is None
    assert [e.code for e in errors] == ["E204"]


def test_values_of_a_map_are_one_per_catalogue_item_and_an_absent_entry_is_unknown() -> None:
    """The total over the credits is known when every credit's entry is there (0 + 0 + 1 = 1);
    an absent entry makes it unknown and is listed missing (so supplying it cannot flip a decided
    outcome: information monotonicity)."""
    ruleset = _load("derived/1.0.0.yaml")
    total = _derived(_all_ways(ruleset, _fridge(credit_points={"c1": 0, "c2": 0, "c3": 1})))["total_points"]
    assert (total.outcome, total.value) == ("known", 1)
    decision = _all_ways(ruleset, _fridge(credit_points={"c3": 1}))
    total = _derived(decision)["total_points"]
    assert (total.outcome, total.missing, total.inputs) == (
        "unknown", ("/credit_points/c1", "/credit_points/c2"), {"/credit_points/c3": 1})
    assert next(c for c in decision.criteria if c.id == "P").outcome == "unknown"
    scope = Scope(inputs={"n": DEC, "xs": Ty("list", item=DEC, size=3)}, params={})
    for bad in ("sum(v for v in values(n))", "sum(v for v in values(xs))"):
        compiled, errors = compile_expression(bad, scope)
        assert compiled is None, bad
        assert [e.code for e in errors] == ["E204"], bad


def test_a_count_range_goes_through_abs_times_and_division() -> None:
    """Items 1, 2, 3 with filters true, unknown, unknown: the count lies in [1, 3]. Then
    count * 2 in [2, 6] (>= 2 is met), count / 2 in [0.5, 1.5] (> 2 not met, == 0.5 possible),
    abs(count - 5) in [2, 4] (>= 2 met), floor(count / 2) in [0, 1] (<= 1 met); main gave unknown."""
    rows = [{"f": True}, {}, {}]
    scope = Scope(inputs={"items": Ty("list", item=Ty("object", fields={"f": Ty("boolean")}), size=10)}, params={})
    cases = {"count(i for i in items if i.f) * 2 >= 2": True,
             "count(i for i in items if i.f) / 2 > 2": False,
             "abs(count(i for i in items if i.f) - 5) >= 2": True,
             "floor(count(i for i in items if i.f) / 2) <= 1": True,
             "count(i for i in items if i.f) / 2 in [0.5]": UNKNOWN,
             "count(i for i in items if i.f) / 2 in [2, 3]": False,
             "count(i for i in items if i.f) + 0.5 in [1]": False,
             "count(i for i in items if i.f) + 0.5 in [1.5]": UNKNOWN,
             "max(count(i for i in items if i.f), 2) >= 2": True,
             "count(i for i in items if i.f) * -1 <= -1": True}
    machine = interpreter.Interpreter({})
    for text, want in cases.items():
        compiled, errors = compile_expression(text, scope)
        assert compiled is not None, errors
        assert compiled.fn({"items": rows}) is want, text
        got = machine.evaluate(interpreter.parse(text), {"items": rows})
        assert got is (interpreter.UNKNOWN if want is UNKNOWN else want), text
    compiled, _ = compile_expression("abs(count(i for i in items if i.f) - 5)", scope)
    assert compiled is not None
    assert compiled.fn({"items": rows}) == Interval(2, 4)


# -- diff and bump ------------------------------------------------------------------------------------

def test_the_diff_reports_derived_values_and_the_bump_check_follows_them_into_criteria() -> None:
    """1.0.0 -> 1.1.0: the index rounded to whole per cent (decides), its unit renamed (explains),
    a band added (decides); criterion A now reads the band, B still reads the changed index."""
    diff = semantic_diff(_load("derived/1.0.0.yaml"), _load("derived/1.1.0.yaml"))
    found = {(c.id, c.kind, c.attribute, c.decides) for c in diff.section("derived")}
    assert found == {("energy_index", "changed", "unit", False), ("energy_index", "changed", "value", True),
                     ("band", "added", None, True)}
    assert changed_criteria(diff) == {"A", "B"}
    same = semantic_diff(_load("derived/1.0.0.yaml"), _load("derived/1.0.0.yaml"))
    assert not same.changes
    assert not changed_criteria(same)
