"""Derived values as ranges are sound: what is decided from a range is what every completion of
the absent inputs would decide.

An assessment with some bounded inputs absent is decided once; then each sampled completion
(every absent input given a value within its declaration: its minimum, its maximum, a
parameter's value or one step either side of it, or any value between; a boolean true or false;
an enum any of its values) is decided too. Every criterion, group and tier that the first
decision decided (met or not met) must have that outcome in each completion, and each derived
value must be, in each completion, the value decided (when known) or a value within the range
decided (when it has one). Criteria that call ``known(...)`` are left out: a completion gives
every input a value, so they are not about completions.

Rulesets (each opts into ranges: ``unknowns: {derived: ranges}``): ``tests/data/ranges/building-points``
1.0.0 and 2.0.0, the published building-points example with the opt-in (credits as step tables, a
points total, levels by a band) and ``tests/data/ranges/1.0.0.yaml`` (every range operation).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.ruleset.load import test_assessment as _test_assessment

ROOT = Path(__file__).parents[2]
POINTS = ROOT / "tests" / "data" / "ranges" / "building-points"  # the example, opted into ranges


def _p0(ruleset: Ruleset) -> tuple[Ruleset, dict[str, Any]]:
    """A building-points version with its P0 (the fixture of its embedded test "50 points: Silver")."""
    names = [t.name for t in ruleset.plan.doc.tests]
    return ruleset, _test_assessment(ruleset.plan.doc, names.index("50 points: Silver"))


#: name -> (ruleset, the base assessment whose scalar inputs are drawn and some of them dropped)
CASES: dict[str, tuple[Ruleset, dict[str, Any]]] = {
    "building-points 1.0.0": _p0(load_ruleset(POINTS / "1.0.0.yaml")),
    "building-points 2.0.0": _p0(load_ruleset(POINTS / "2.0.0.yaml")),
    "derived-ranges": (load_ruleset(ROOT / "tests" / "data" / "ranges" / "1.0.0.yaml"),
                       {"assessed_on": "2022-01-01", "credits": {}}),
}
SOUND = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
COMPLETIONS = 4  # sampled completions per assessment, besides all-minimum and all-maximum


def _slots(root: Field, base: dict[str, Any]) -> list[tuple[tuple[str, ...], Field]]:
    """(path, field) of each scalar input the base's objects hold or could hold (booleans, enums,
    numbers with both bounds), through present objects and maps."""
    out: list[tuple[tuple[str, ...], Field]] = []

    def walk(f: Field, node: Any, path: tuple[str, ...]) -> None:
        for name, sub in {**f.fields, **f.entries}.items():
            here = (*path, name)
            if sub.kind in ("object", "map"):
                if isinstance(node, dict) and isinstance(node.get(name), dict):
                    walk(sub, node[name], here)
            elif sub.kind in ("boolean", "enum") or (
                    sub.kind in ("integer", "decimal") and sub.spec.minimum is not None
                    and sub.spec.maximum is not None):
                out.append((here, sub))

    walk(root, base, ())
    return out


def _choices(f: Field, params: list[Any]) -> st.SearchStrategy[Any]:
    """A value of the field: the ends, a parameter's value or a step either side, or any."""
    if f.kind == "boolean":
        return st.booleans()
    if f.kind == "enum":
        return st.sampled_from(list(f.spec.values or ()))
    lo, hi = Decimal(f.spec.minimum), Decimal(f.spec.maximum)  # type: ignore[arg-type]
    step = Decimal(1) if f.kind == "integer" else Decimal("0.1")
    near = sorted({v + d for v in params for d in (-step, 0, step) if lo <= v + d <= hi} | {lo, hi})
    if f.kind == "integer":
        return st.sampled_from([int(v) for v in near if v % 1 == 0]) | st.integers(int(lo), int(hi))
    return st.sampled_from(near) | st.decimals(lo, hi, places=1)


def _put(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _drop(doc: dict[str, Any], path: tuple[str, ...]) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1], None)


def _optional(f: Field) -> bool:
    return not f.required


def _outcomes(decision: Decision, skip: set[str]) -> dict[str, str]:
    out = {c.id: c.outcome for c in decision.criteria if c.id not in skip}
    out.update({g.id: g.outcome for g in decision.groups})
    out.update({f"tier {t.label}": t.outcome for t in decision.tiers})
    return out


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by tests/unit/test_derived_ranges.py
@pytest.mark.parametrize("name", list(CASES))
def test_every_outcome_decided_from_a_range_is_what_every_completion_of_the_absent_inputs_decides(
        name: str) -> None:
    """Property: for generated assessments with bounded inputs absent, every criterion, group and
    tier outcome decided (met or not met) equals its outcome in each sampled completion of the
    absent inputs within their declarations (all at their minimum, all at their maximum, and
    drawn from ends, thresholds and any value), and each derived value of a completion is the
    known value or lies in the range decided. And not vacuously: some outcomes are decided from
    ranges (a derived value with a range decides a criterion)."""
    ruleset, base = CASES[name]
    slots = _slots(ruleset.plan.inputs, base)
    params = [Decimal(str(p.value)) for p in ruleset.plan.doc.parameters.values()
              if isinstance(p.value, (int, Decimal)) and not isinstance(p.value, bool)]
    skip = {cid for cid, c in ruleset.plan.doc.criteria.items() if "known(" in c.when}
    optional = [i for i, (_, f) in enumerate(slots) if _optional(f)]
    decided_from_ranges = 0

    @SOUND
    @given(st.tuples(*(_choices(f, params) for _, f in slots)), st.sets(st.sampled_from(optional), min_size=1),
           st.data())
    def sound(values: tuple[Any, ...], dropped: set[int], data: st.DataObject) -> None:
        nonlocal decided_from_ranges
        full = copy.deepcopy(base)
        for (path, _), value in zip(slots, values, strict=True):
            _put(full, path, value)
        partial = copy.deepcopy(full)
        for i in dropped:
            _drop(partial, slots[i][0])
        decision = evaluate(ruleset, partial)
        decided = {k: v for k, v in _outcomes(decision, skip).items() if v != "unknown"}
        ranges = {d.id: d.range for d in decision.derived if d.range is not None}
        known = {d.id: d.value for d in decision.derived if d.outcome == "known"}
        if ranges and any(c.outcome != "unknown" and any(n in ranges for n in c.derived) for c in decision.criteria):
            decided_from_ranges += 1
        extremes = [{i: slots[i][1].spec.minimum for i in dropped}, {i: slots[i][1].spec.maximum for i in dropped}]
        drawn = [{i: data.draw(_choices(slots[i][1], params)) for i in sorted(dropped)} for _ in range(COMPLETIONS)]
        for filling in extremes + drawn:
            complete = copy.deepcopy(partial)
            for i, value in filling.items():
                path, f = slots[i]
                _put(complete, path, value if f.kind in ("integer", "decimal") else
                     data.draw(_choices(f, params)))
            other = evaluate(ruleset, complete)
            outcomes = _outcomes(other, skip)
            assert {k: outcomes[k] for k in decided} == decided, (partial, complete)
            for d in other.derived:
                if d.id in known:
                    assert d.value == known[d.id], (d.id, partial, complete)
                elif d.id in ranges:
                    lo, hi = ranges[d.id]
                    assert d.value is not None, (d.id, ranges[d.id], complete)
                    assert lo <= d.value <= hi, (d.id, ranges[d.id], d.value, complete)

    sound()
    assert decided_from_ranges > 0, "no outcome was decided from a range: the property checked nothing new"
