"""Hypothesis strategies that generate valid assessments for any ruleset version.

Values are drawn from the version's declared inputs, concentrated where decisions change:

* numbers near every numeric parameter (threshold, threshold +- one step) and the bounds;
* dates around one pivot date per assessment, at whole-month offsets +- a few days, so
  that windows such as "18 to 24 months before assessed_on" are hit often;
* optional fields sometimes absent (unknown), lists sometimes empty.

A drawn assessment that fails a consistency check is repaired by dropping what the check
names (a list item, an optional field) and validated again; every example is valid.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from ecei_rules.core.canonical import MAX_SIGNIFICANT_DIGITS, significant_digits
from ecei_rules.core.logic import month_end
from ecei_rules.ruleset.analysis import Relation, _child, _in_range, passes, relations, targets, thresholds
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset

FIRST_PIVOT = dt.date(2010, 1, 1)
LAST_PIVOT = dt.date(2026, 12, 31)
MAX_LIST = 5


class _Builder:
    def __init__(self, ruleset: Ruleset, pivot: st.SearchStrategy[dt.date], optional_absent: float,
                 also: tuple[Ruleset, ...] = ()) -> None:
        self.thresholds = sorted({t for r in (ruleset, *also) for t in thresholds(r)})
        self.relations = [rel for r in (ruleset, *also) for rel in relations(r)]
        self.targets: dict[str, list[tuple[str, Decimal | bool]]] = {}
        for r in (ruleset, *also):
            for pointer, goals in targets(r).items():
                self.targets.setdefault(pointer, []).extend(g for g in goals if g not in self.targets[pointer])
        self.pivot = pivot
        self.absent = optional_absent
        # one quality level per assessment: how often a targeted value lands on the passing side
        self.quality = st.shared(st.sampled_from([0, 3, 6, 8, 9, 10, 10]), key=f"ecei-rules-quality-{ruleset.sha256}")
        # and one completeness: most assessments give every nested field, some leave many out
        self.sparse = st.shared(st.sampled_from([False, False, True]), key=f"ecei-rules-sparse-{ruleset.sha256}")

    def _targeted(self, pointer: str, f: Field, step: Decimal) -> st.SearchStrategy[Any] | None:
        goals = [(op, t) for op, t in self.targets.get(pointer, ()) if isinstance(t, Decimal)]
        if not goals:
            return None
        sides: list[tuple[list[Decimal], list[Decimal]]] = []
        for op, threshold in goals:
            near = [threshold + d for d in (-2 * step, -step, Decimal(0), step, 2 * step)]
            near = [v for v in near if _in_range(f, v)]
            good = [v for v in near if passes(op, v, threshold)]
            bad = [v for v in near if not passes(op, v, threshold)]
            if good and bad:
                sides.append((good, bad))
        if not sides:
            return None
        integer = f.kind == "integer"

        def pick(quality: int, n: int) -> Any:
            # one draw decodes into: a roll against the quality, which threshold, which value near it
            roll, rest = n % 10, n // 10
            good, bad = sides[rest % len(sides)]
            side = good if roll < quality else bad
            v = side[(rest // len(sides)) % len(side)]
            return int(v) if integer else (v.normalize() if v == v.to_integral_value() else v)

        return st.builds(pick, self.quality, st.integers(0, 10 * len(sides) * 5 - 1))

    def numbers(self, f: Field, pointer: str) -> st.SearchStrategy[Any]:
        integer = f.kind == "integer"
        step = Decimal(1) if integer else Decimal("0.01")
        targeted = self._targeted(pointer, f, step)
        near: set[Decimal] = set()
        for t in self.thresholds:
            for delta in (-step, Decimal(0), step, -Decimal(1), Decimal(1)):
                near.add(t + delta)
        for bound in (f.spec.minimum, f.spec.maximum):
            if bound is not None:
                near.add(Decimal(bound))
        candidates = sorted(v for v in near if _in_range(f, v) and (not integer or v == v.to_integral_value()))
        lo = int(f.spec.minimum) if f.spec.minimum is not None else -1000
        hi = int(f.spec.maximum) if f.spec.maximum is not None else lo + 200
        if integer:
            wide: st.SearchStrategy[Any] = st.integers(lo, hi)
            picked = st.sampled_from([int(v) for v in candidates]) if candidates else wide
        else:
            wide = st.decimals(min_value=Decimal(lo), max_value=Decimal(hi), places=2, allow_nan=False,
                               allow_infinity=False).map(lambda d: d.normalize() if d == d.to_integral_value()
                                                         else d)
            picked = st.sampled_from(candidates) if candidates else wide
        if targeted is not None:
            return st.one_of(targeted, picked, wide)
        return st.one_of(picked, wide)

    def dates(self) -> st.SearchStrategy[dt.date]:
        def shift(pivot: dt.date, months: int, days: int, at_end: bool) -> dt.date:
            end = month_end(pivot, months)
            if at_end:
                return end
            day = min(pivot.day, end.day)
            return end.replace(day=day) + dt.timedelta(days=days)

        months = st.one_of(st.just(0), st.integers(-40, 40))
        return st.builds(shift, self.pivot, months, st.sampled_from([0, 0, 0, -1, 1, -3, 3]), st.booleans())

    def value(self, f: Field, pointer: str) -> st.SearchStrategy[Any]:
        kind = f.kind
        if kind == "boolean":
            if ("==", True) in self.targets.get(pointer, ()):
                return st.builds(lambda q, roll: roll < q, self.quality, st.integers(0, 9))
            return st.booleans()
        if kind in ("integer", "decimal"):
            return self.numbers(f, pointer)
        if kind == "date":
            return self.dates().map(lambda d: d.isoformat())
        if kind == "enum":
            return st.sampled_from(list(f.spec.values or ("x",)))
        if kind == "string":
            if f.catalogue_ids:
                return st.sampled_from(list(f.catalogue_ids))
            if f.pattern is not None:
                pattern = f.pattern  # RE2 decides; hypothesis draws from the same text read as Python's re
                return st.from_regex(pattern.text, fullmatch=True).filter(
                    lambda s: len(s) <= 40 and pattern.fullmatch(s))
            return st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
        if kind == "list":
            assert f.items is not None
            return st.lists(self.value(f.items, pointer + "/-"), max_size=MAX_LIST)
        if kind in ("object", "map"):
            members = f.fields if kind == "object" else f.entries
            drawn = self.members(members, pointer, self.absent / 2)
            rels = [r for r in self.relations
                    if r[0].rsplit("/", 1)[0] == pointer and r[3].rsplit("/", 1)[0] == pointer]
            if rels:
                return st.tuples(drawn, self.quality, st.lists(st.integers(0, 9), min_size=len(rels),
                                                               max_size=len(rels))).map(
                    functools.partial(_relate, f=f, rels=rels))
            return drawn
        return st.none()

    def members(self, members: dict[str, Field], pointer: str, absent: float) -> st.SearchStrategy[dict[str, Any]]:
        """An object: required members always, optional ones present except with probability ``absent``."""
        cut = round(absent * 20)
        parts = {}
        for k, sub in members.items():
            child = self.value(sub, pointer + "/" + k.replace("~", "~0").replace("/", "~1"))
            if sub.required or cut == 0:
                parts[k] = child
            elif pointer == "":
                parts[k] = st.tuples(st.integers(0, 19), child, st.just(cut)).map(_maybe)
            else:
                # nested optional fields: all present in a complete assessment, often absent in a sparse one
                parts[k] = st.tuples(self.sparse, st.integers(0, 19), child, st.just(cut * 3)).map(_maybe_sparse)
        return st.fixed_dictionaries(parts).map(_present)


_ABSENT = object()


def _maybe(drawn: tuple[int, Any, int]) -> Any:
    roll, value, cut = drawn
    return value if roll >= cut else _ABSENT


def _maybe_sparse(drawn: tuple[bool, int, Any, int]) -> Any:
    sparse, roll, value, cut = drawn
    return value if not sparse or roll >= cut else _ABSENT


def _present(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not _ABSENT}


def _relate(drawn: tuple[dict[str, Any], int, list[int]], f: Field, rels: list[Relation]) -> dict[str, Any]:
    """Set the first field of each relation so that it holds (or fails) as the quality says,
    keeping the object's own consistency checks true."""
    data, quality, rolls = drawn
    for (a, ka, op, b, kb), roll in zip(rels, rolls, strict=True):
        name_a, name_b = a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]
        sub = f.fields.get(name_a)
        other = data.get(name_b)
        if sub is None or sub.kind != "integer" or name_a not in data or not isinstance(other, int):
            continue
        want = roll < quality
        x = Fraction(kb * other, ka)
        for c in (math.floor(x) - 1, math.floor(x), math.floor(x) + 1, math.ceil(x) + 1, 0, other):
            if not _in_range(sub, Decimal(c)) or passes(op, Decimal(ka * c), Decimal(kb * other)) != want:
                continue
            trial = {**data, name_a: c}
            if all(check.fn(trial) is not False for check, _, _ in f.checks):
                data = trial
                break
    return data


def _remove(data: Any, pointer: str, root: Field) -> bool:
    """Drop the nearest removable thing at or above ``pointer``: a list item or an optional field."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    while parts:
        node: Any = data
        field: Field | None = root
        trail: list[tuple[Any, Field | None]] = []
        for part in parts[:-1]:
            trail.append((node, field))
            node = node[int(part)] if isinstance(node, list) else node[part]
            field = _child(field, part)
        last = parts[-1]
        if isinstance(node, list):
            del node[int(last)]
            return True
        child = _child(field, last)
        if isinstance(node, dict) and last in node and (child is None or not child.required):
            del node[last]
            return True
        parts = parts[:-1]
    return False


def _repair(ruleset: Ruleset, data: dict[str, Any]) -> dict[str, Any]:
    validator = ruleset.plan.validator
    for _ in range(20):
        _, problems = validator.validate(data)
        if not problems:
            return data
        if not _remove(data, problems[0].pointer, ruleset.plan.inputs):
            break
    assume(False)
    return data  # pragma: no cover - assume(False) stops the example


def _fits_json(data: Any) -> bool:
    if isinstance(data, Decimal):
        return significant_digits(data) <= MAX_SIGNIFICANT_DIGITS
    if isinstance(data, dict):
        return all(_fits_json(v) for v in data.values())
    if isinstance(data, list):
        return all(_fits_json(v) for v in data)
    return True


def assessments(ruleset: Ruleset, *, pivot: st.SearchStrategy[dt.date] | None = None,
                optional_absent: float = 0.2, also: tuple[Ruleset, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """Valid raw assessments for ``ruleset`` (dates as ISO strings, numbers as int or Decimal).

    Args:
        ruleset: the version whose declared inputs the assessments follow.
        pivot: the date around which each assessment's dates cluster (default 2010 to 2026).
        optional_absent: how often optional inputs are left out (0 to 1; nested ones half as often).
        also: other versions whose thresholds the values should also straddle (for comparisons).
    """
    pivots = pivot if pivot is not None else st.dates(FIRST_PIVOT, LAST_PIVOT)
    shared = st.shared(pivots, key=f"ecei-rules-pivot-{ruleset.sha256}")
    builder = _Builder(ruleset, shared, optional_absent, also)
    drawn = builder.members(ruleset.plan.inputs.fields, "", optional_absent)
    return drawn.map(lambda d: _repair(ruleset, d)).filter(_fits_json)
