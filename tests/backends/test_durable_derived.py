"""durable-rules decides the comparisons on derived values and a band's classes itself.

The interpreter computes each derived value (and a band's value when it is an expression) and posts
it as a fact, in whole numbers at the scale of the constants it is compared with (see the module
docstring of ``ecei_rules.backends.durable``); durable-rules patterns compare it. These tests run on
the versions that have such comparisons: ``tests/data/{derived,bands,points,ranges}`` and the two
example methodologies (every version): the engines decide alike on each embedded test, a synthetic
population, and an unknown and an undefined value; every comparison on a computed value is decided
by durable-rules (``evaluated_by``); and, value by value, each such criterion's outcome from the
durable patterns alone equals the interpreter's reading of its condition on both sides of every
bound (exactly at it, a tenth, a millionth and a third of a unit either side, ranges across it,
beyond every bound, unknown).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.backends import durable
from ecei_rules.backends._durable_runtime import runtime
from ecei_rules.language import interpreter as interp
from ecei_rules.ruleset.load import Ruleset, load_ruleset, load_ruleset_text
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.testing.synth import synthesize

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples" / "methodologies"
VERSIONS = {
    "derived 1.0.0": DATA / "derived" / "1.0.0.yaml",
    "derived 1.1.0": DATA / "derived" / "1.1.0.yaml",
    "bands 1.0.0": DATA / "bands" / "1.0.0.yaml",
    "points 1.0.0": DATA / "points" / "1.0.0.yaml",
    "points 2.0.0": DATA / "points" / "2.0.0.yaml",
    "ranges 1.0.0": DATA / "ranges" / "1.0.0.yaml",
    **{f"{m} {v}": EXAMPLES / m / f"{v}.yaml" for m in ("eu-fridge-label", "building-points")
       for v in ("1.0.0", "2.0.0")},
}
#: the criteria whose conditions compare a computed value (a derived value, a band's value), by version:
#: each must be decided by durable-rules alone
COMPARING = {
    "derived 1.0.0": {"A", "B", "P"},
    "derived 1.1.0": {"A", "B", "P"},
    "bands 1.0.0": {f"eei_class.{c}" for c in ("A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")},
    "points 1.0.0": set(),
    "points 2.0.0": set(),
    "ranges 1.0.0": {*(f"P{i}" for i in range(1, 8)), "level.low", "level.mid", "level.high"},
    "eu-fridge-label 1.0.0": {f"energy_class.{c}" for c in ("A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")},
    "eu-fridge-label 2.0.0": {f"energy_class.{c}" for c in "ABCDEFG"},
    "building-points 1.0.0": {f"level.{c}" for c in ("below_certified", "certified", "silver", "gold", "platinum")},
    "building-points 2.0.0": {f"level.{c}" for c in ("below_certified", "certified", "silver", "gold", "platinum")},
}
SYNTH = 60
#: derived 1.0.0 with decimal bounds (compared at scales 4, 10, 20 and 2), every comparison operator,
#: each side of the value, and a derived date
DECIMAL_BOUNDS = "derived 1.0.0, decimal bounds"
_EDITS = (("a_class_max: {value: 50,", "a_class_max: {value: 50.25,"),
          ("b_class_max: {value: 75,", "b_class_max: {value: 74.9,"),
          ("\ncriteria:", """
  review_due: {title: Review due, type: date, value: "month_end(assessed_on, 3)"}

criteria:"""),
          ("\nlabels: [b, a]", """
  E: {title: Exactly 62.5, when: energy_index == 62.5}
  N: {title: Not 0.1, when: 0.1 != energy_index}
  L: {title: Above 33.3, when: 33.3 < energy_index}
  G: {title: At least 12.05 or below 3, when: energy_index >= 12.05 or energy_index < 3}
  R: {title: Review due by mid 2022, when: 'review_due <= date("2022-06-30")'}

labels: [b, a]"""))
COMPARING[DECIMAL_BOUNDS] = {"A", "B", "P", "E", "N", "L", "G", "R"}
_LOADED: dict[str, Ruleset] = {}


def _ruleset(name: str) -> Ruleset:
    if name not in _LOADED:
        if name == DECIMAL_BOUNDS:
            text = VERSIONS["derived 1.0.0"].read_text(encoding="utf-8")
            for old, new in _EDITS:
                assert old in text
                text = text.replace(old, new)
            _LOADED[name] = load_ruleset_text(text)
        else:
            _LOADED[name] = load_ruleset(VERSIONS[name])
    return _LOADED[name]


def _population(ruleset: Ruleset) -> Iterator[dict[str, Any]]:
    """Every embedded test (hand-derived: both sides of every level and band) and a synthetic population."""
    doc = ruleset.document
    for i in range(len(doc.tests)):
        yield embedded_assessment(doc, i)
    yield from synthesize(SYNTH, seed=5, start=dt.date(2010, 1, 1), end=dt.date(2030, 12, 31), versions=[ruleset])


@pytest.mark.parametrize("name", [*VERSIONS, DECIMAL_BOUNDS])
def test_durable_rules_decides_every_comparison_on_a_derived_value_or_a_band(name: str) -> None:
    """Each criterion comparing a derived value or a band's value is decided by durable-rules alone
    (``evaluated_by`` is ``durable``, in the plan and in every decision); before, the interpreter
    decided them."""
    ruleset = _ruleset(name)
    plan = durable.compile_ruleset(ruleset)
    assert {cid for cid in COMPARING[name] if plan.evaluated_by[cid] == "durable"} == COMPARING[name]
    assert (len(plan.views) > 0) == bool(COMPARING[name])


@pytest.mark.no_cover  # repetition at scale: the smaller tests below reach the same code
@pytest.mark.parametrize("name", list(VERSIONS))
def test_the_engines_agree_on_derived_values_bands_and_points(name: str) -> None:
    """Every embedded test and 60 synthetic assessments of the version: the same label, validity,
    every outcome, every tier's missing inputs and every derived value (outcome, value, reason) from
    both engines; each comparison on a computed value is met and not met among them."""
    ruleset = _ruleset(name)
    plan = durable.compile_ruleset(ruleset)
    seen: dict[str, set[str]] = {cid: set() for cid in COMPARING[name]}
    for data in _population(ruleset):
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, (data, check.differences)
        for cid in seen:
            assert check.durable.evaluated_by[cid] == "durable"
            seen[cid].add(check.durable.criteria[cid])
    assert all({"met", "not_met"} <= outcomes for outcomes in seen.values()), seen


def test_an_unknown_and_an_undefined_derived_value_leave_its_comparisons_unknown() -> None:
    """An absent annual energy (the index unknown) and a volume of 0 (the standard energy 0, so the
    index is undefined: a division by zero) leave A and B unknown in durable's own rules, with the
    core engine's tier outcomes, missing inputs and the derived values' outcomes and reasons."""
    ruleset = _ruleset("derived 1.0.0")
    plan = durable.compile_ruleset(ruleset)
    base = {"assessed_on": "2022-05-01", "annual_energy": 100, "volume": 400,
            "credit_points": {"c1": 3, "c2": 3, "c3": 0}}
    unknown = copy.deepcopy(base)
    del unknown["annual_energy"]
    undefined = {**copy.deepcopy(base), "volume": 0}
    outcomes = {}
    for case, data in (("unknown", unknown), ("undefined", undefined)):
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, check.differences
        index = next(d for d in check.durable.derived if d.id == "energy_index")
        assert index.outcome == case
        assert (index.reason or "").startswith("division by zero") == (case == "undefined")
        assert check.durable.criteria["A"] == check.durable.criteria["B"] == "unknown"
        assert "A -> unknown" in check.durable.trace
        assert "B -> unknown" in check.durable.trace
        assert check.durable.criteria["P"] == "met"
        outcomes[case] = {t.label: (t.outcome, t.missing) for t in check.durable.tiers}
    assert outcomes["unknown"]["b"] == ("unknown", ("/annual_energy",))
    assert outcomes["undefined"]["b"] == ("unknown", ())  # nothing absent: an input cannot help


# -- value by value: each comparison through durable's patterns alone against the interpreter ------------

def _numbers(ruleset: Ruleset, tree: ast.AST) -> set[Fraction]:
    """The numbers a condition names (literals and number parameters)."""
    params = ruleset.document.parameters
    found: set[Fraction] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            found.add(Fraction(Decimal(repr(node.value))))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
            value = params[node.attr].value
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                found.add(Fraction(value))
    return found


def _around(c: Fraction) -> list[Any]:
    """Values at and on both sides of ``c``: a tenth, a millionth and a third of a unit, and ranges."""
    steps = (Fraction(1, 10), Fraction(1, 10**6), Fraction(1, 3), Fraction(1))
    values: list[Any] = [c, *(c + s for s in steps), *(c - s for s in steps)]
    third = Fraction(1, 3)
    values += [interp.Range(c - 1, c, False), interp.Range(c, c + 1, False), interp.Range(c - third, c, False),
               interp.Range(c - third, c + third, False), interp.Range(c + Fraction(1, 10**6), c + 1, False)]
    return values


#: values beyond every bound, and none
_FAR: list[Any] = [Fraction(10**30), Fraction(-(10**30)), Fraction(10**30) / 3, interp.Range(-(10**30), 10**30, False),
                   interp.UNKNOWN]
_PLACE = "value_in_test"


def _substituted(tree: ast.AST, source: ast.AST) -> str:
    """The condition with the computed value's expression read as one name (``value_in_test``)."""
    target = ast.dump(source)

    class Put(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> Any:
            if ast.dump(node) == target:
                return ast.copy_location(ast.Name(id=_PLACE, ctx=ast.Load()), node)
            return super().visit(node)

    return ast.unparse(Put().visit(copy.deepcopy(tree)))


def _sources(ruleset: Ruleset) -> dict[str, tuple[ast.AST, str]]:
    """Each computed value a condition may compare, by the name its view carries, with its kind: the
    derived values by name, and each band's expression."""
    doc = ruleset.document
    found = {name: (ast.parse(name, mode="eval").body, d.type) for name, d in doc.derived.items()}
    for bid, band in doc.bands.items():
        of = ast.parse(band.of, mode="eval").body
        if not isinstance(of, ast.Name):
            found[f"bands.{bid}"] = (of, "decimal")
    return found


def _values(ruleset: Ruleset, kind: str, conditions: list[ast.AST]) -> list[Any]:
    """The values to post for a computed value of ``kind`` compared in ``conditions``: around every
    number they name and far beyond; or each text they name, another, one with a quote; and unknown."""
    if kind == "boolean":
        return [True, False, interp.UNKNOWN]
    if kind == "date":
        days = {dt.date.fromisoformat(n.args[0].value) for t in conditions for n in ast.walk(t)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "date"
                and isinstance(n.args[0], ast.Constant)}
        return [d + dt.timedelta(days=k) for d in sorted(days) for k in (-1, 0, 1)] + [interp.UNKNOWN]
    if kind == "string":
        texts = {n.value for t in conditions for n in ast.walk(t) if isinstance(n, ast.Constant)
                 and isinstance(n.value, str)}
        return [*sorted(texts), "another", 'with "a quote"', interp.UNKNOWN]
    bounds = set().union(*(_numbers(ruleset, t) for t in conditions))
    return [v for c in sorted(bounds) for v in _around(c)] + _FAR


@pytest.mark.parametrize("name", [*(n for n in VERSIONS if COMPARING[n]), DECIMAL_BOUNDS])
def test_durable_patterns_decide_each_computed_value_as_the_interpreter_does_on_both_sides_of_every_bound(
        name: str) -> None:
    """For each computed number, at and around every bound its conditions name (exactly, a tenth, a
    millionth and a third of a unit either side, ranges across and beside it), far beyond every bound
    and unknown (a text: each one named, another, one with a quote, unknown): posting only its facts,
    each criterion comparing it gets from durable's patterns the outcome the interpreter reads from its
    condition with that value. Every comparing criterion is checked."""
    ruleset = _ruleset(name)
    plan = durable.compile_ruleset(ruleset)
    doc = ruleset.document
    checked: set[str] = set()
    conditions = {cid: ast.parse(c.when, mode="eval").body for cid, c in doc.criteria.items()}
    for source, (tree, kind) in _sources(ruleset).items():
        views = [v for v in plan.views if v.source == source]
        if not views:
            continue
        reading = {cid: interp.parse(_substituted(t, tree)) for cid, t in conditions.items()
                   if any(ast.dump(n) == ast.dump(tree) for n in ast.walk(t))}
        for value in _values(ruleset, kind, [conditions[cid] for cid in reading]):
            facts = [durable._view_fact(v, value) for v in views]
            derived = runtime().run(plan.name, facts).facts
            outcome = {int(f["n"]): f["o"] for f in derived if f.get("t") == "o"}
            for cid, expr in reading.items():
                if plan.criteria[cid] not in outcome:  # the condition reads more than this value
                    continue
                expected = plan.interpreter.evaluate(expr, {_PLACE: value})
                assert outcome[plan.criteria[cid]] == durable._truth(expected), (cid, value)
                checked.add(cid)
    assert COMPARING[name] <= checked


def test_a_value_compared_with_many_bounds_is_split_over_facts_within_durables_limits() -> None:
    """A band of 40 classes over the index (39 bounds): its comparisons are spread over views of at
    most 12 bounds each (durable-rules fails beyond 128 comparisons after one test), every class is
    decided by durable-rules, and the engines agree on values in, between and beyond the classes."""
    classes = "\n".join(f'      c{i:02}: "[{i}..{i + 1})"' for i in range(1, 39))
    text = VERSIONS["derived 1.0.0"].read_text(encoding="utf-8").replace("\nlabels: [b, a]", f"""
bands:
  fine:
    title: Fine classes
    of: energy_index
    source: "made up for the test"
    classes:
      c00: "< 1"
{classes}
      c39: ">= 39"

labels: [b, a]""")
    ruleset = load_ruleset_text(text)
    plan = durable.compile_ruleset(ruleset)
    fine = [v for v in plan.views if v.source == "energy_index" and v.scale == 1]
    assert len(fine) == 4
    assert {plan.evaluated_by[f"fine.c{i:02}"] for i in range(40)} == {"durable"}
    for energy in (0, 3, 7.5, 50, 77.7, 77.8, 100, 300):
        data = {"assessed_on": "2022-05-01", "annual_energy": energy, "volume": 400}
        check = durable.cross_check(ruleset, data, plan=plan)
        assert check.agree, check.differences
