"""What it takes through a computed value: the single input changes that meet a band class or a
threshold on a derived value, each found by deciding again.

A criterion that places a computed value into a region (a band class ``energy_class.A``: the
band's value in its interval; a threshold on a derived value ``energy_index <= 41``) names no
input directly: the inputs it depends on are those the derived value reads. For each such input
that can change, with every other input as it is, the least change that meets the criterion is
searched:

* a number is searched on the grid of its own precision (an integer by whole numbers; a decimal
  in steps of its last written digit, so 0.274 in thousandths), within its declared bounds:
  steps of doubling length outward from the current value, in both directions, find where the
  computed value first reaches the region's near bound, and an exact bisection between the
  last step short of it and the first beyond it finds the nearest grid value that reaches it.
  When the computed value is monotone in the input (an index in the energy consumed, a total in
  the points of one credit) that value is the least change that reaches the bound;
* a truth value is flipped, a choice tries each other allowed value.

Every value is decided by the engine with the change applied, and a change is kept only when
the criterion is then met: nothing is claimed that deciding again does not confirm. An input
whose change does not move the value into the region (it does not depend on it, or not enough
within its bounds) is not listed. Inputs that hold dates, lists or text are not searched; an absent
number is searched from a declared bound at which the criterion is met. When the value is unknown and no
single change meets the criterion, the absent truth values and choices it needs are given values
first (`Search.completed`), and a number is searched with them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ecei_rules.core.pointers import MISSING, lookup
from ecei_rules.engine.decision import Decision
from ecei_rules.ruleset import analysis
from ecei_rules.ruleset.bands import Interval
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import band_intervals

#: Ordered pairs of numbers `Search.pair` tries before it gives up.
MAX_PAIRS = 12
#: Ways of giving the absent truth values and choices a criterion reads tried by `Search.completed`.
MAX_COMPLETIONS = 8
#: How many times `Search.fine` makes a decimal's grid ten times finer, at most (from 1 to 0.000001).
FINER = 6
#: The most grid steps a number is searched over, outward from its value (2^40: beyond any bound a
#: ruleset declares for a value people write).
MAX_STEPS = 2**40

_BOUND = {"<=": (None, False, "h", True), "<": (None, False, "h", False), ">=": ("l", True, None, False),
          ">": ("l", False, None, False)}


@dataclass(frozen=True)
class Region:
    """Where a criterion needs a computed value: ``source`` (a derived value's name, or an input's JSON
    pointer) within ``interval``."""

    source: str
    interval: Interval


@dataclass(frozen=True)
class Found:
    """One input change that meets the criterion, confirmed by deciding again."""

    pointer: str
    present: bool
    current: Any
    target: Any
    derived: dict[str, Any]  # the criterion's derived values with the change applied
    op: str | None = None  # for an absent number: the side of target its values may lie on (<= or >=)


def regions(ruleset: Ruleset, checks: Mapping[str, tuple[Any, ...]]) -> dict[str, Region]:
    """The criteria that place a derived value (or, for a band, any value) into a region: each class of a
    band whose value is a derived value or an input, and each criterion that is one comparison of a
    derived value with a number (``checks``: the comparisons of `build.criterion_checks`)."""
    doc = ruleset.plan.doc
    out: dict[str, Region] = {}
    for bid, band in doc.bands.items():
        of = band.of.strip()
        source = of if of in doc.derived else "/" + of.replace(".", "/")
        if source.startswith("/") and analysis.field_at(ruleset.plan.inputs, source) is None:
            continue  # a band of an expression: its classes are conditions
        for interval in band_intervals(doc, bid).values():
            out[f"{bid}.{interval.name}"] = Region(source, interval)
    for cid, found in checks.items():
        if cid in out or len(found) != 1:
            continue
        (chk,) = found
        bound = _BOUND.get(chk.op)
        name = chk.pointer[1:]
        if bound is None or name not in doc.derived or chk.other is not None \
                or not isinstance(chk.threshold, (int, Decimal)) or isinstance(chk.threshold, bool):
            continue
        low_side, low_closed, high_side, high_closed = bound
        t = Decimal(chk.threshold)
        out[cid] = Region(name, Interval(cid, t if low_side else None, low_closed, t if high_side else None,
                                         high_closed))
    return out


def _derived(decision: Decision, cid: str) -> dict[str, Any]:
    """The derived values a criterion read in a decision."""
    return dict(next((c.derived for c in decision.criteria if c.id == cid), {}))


def _number(value: Any) -> Fraction | None:
    if value is None or value.__class__ is bool or not isinstance(value, (int, Decimal, Fraction)):
        return None
    return Fraction(value)


def _below(i: Interval, v: Fraction) -> bool:
    """The value lies below the interval (whose bounds are numbers: ``band_intervals`` resolves them)."""
    return isinstance(i.low, Decimal) and (v < i.low or (v == i.low and not i.low_closed))


def _above(i: Interval, v: Fraction) -> bool:
    """The value lies above the interval."""
    return isinstance(i.high, Decimal) and (v > i.high or (v == i.high and not i.high_closed))


def _step(f: Field, value: Any) -> Decimal | None:
    """The grid a number is searched on: whole numbers, or the last digit the value is written with."""
    if f.kind == "integer":
        return Decimal(1)
    exponent = Decimal(value).as_tuple().exponent if isinstance(value, (int, Decimal)) else None
    if not isinstance(exponent, int):
        return None
    return Decimal(1).scaleb(min(exponent, 0))


class Search:
    """The single input changes that meet criteria with a region, for one assessment.

    ``decide(changes)`` is the decision with each (pointer, value) set (None when the values break a
    consistency check of the inputs); its answers are remembered, so criteria of several tiers that
    probe the same values decide each once. ``base`` holds the absent truth values and choices a
    completion (`completed`) gives while it searches.
    """

    def __init__(self, ruleset: Ruleset, data: Mapping[str, Any], decision: Decision,
                 decide: Callable[[Sequence[tuple[str, Any]]], Decision | None],
                 is_fixed: Callable[[str], bool]) -> None:
        self.ruleset = ruleset
        self.data = data
        self.decision = decision
        self._decide = decide
        self.is_fixed = is_fixed
        self.base: tuple[tuple[str, Any], ...] = ()
        self._memo: dict[tuple[Any, ...], Decision | None] = {}

    def decide(self, pointer: str | None, value: Any = None) -> Decision | None:
        """The decision with the base and ``pointer`` set to ``value`` (the base alone when ``pointer`` is None)."""
        changes = (*self.base, *([(pointer, value)] if pointer is not None else []))
        if not changes:
            return self.decision
        key = tuple((p, v.__class__.__name__, v) for p, v in changes)
        if key not in self._memo:
            self._memo[key] = self._decide(changes)
        return self._memo[key]

    def value_of(self, decision: Decision | None, source: str, pointer: str, x: Any) -> Fraction | None:
        """The region's value in a decision made with ``pointer`` set to ``x``."""
        if decision is None:
            return None
        if source.startswith("/"):
            return _number(x if source == pointer else dict(self.base).get(source, lookup(self.data, source)))
        for r in decision.derived:
            if r.id == source:
                return _number(r.value) if r.outcome == "known" else None
        return None

    def met(self, decision: Decision | None, cid: str) -> bool:
        return decision is not None and decision.outcome_of(cid) == "met"

    def changes(self, cid: str, region: Region, pointers: tuple[str, ...]) -> tuple[Found, ...]:
        """The changes of single inputs among ``pointers`` that meet ``cid``: numbers first, then the others,
        each in the order given."""
        return self.singles(cid, pointers, lambda pointer, f, current: self.number(cid, region, pointer, f, current))

    def reaching(self, cid: str, pointers: tuple[str, ...]) -> tuple[Found, ...]:
        """The changes of single inputs among ``pointers`` (with the base) with which ``cid`` (a criterion,
        score or tier) is met, whatever computes it (the points a score weighs as numbers): a number the
        fewest steps of its grid from its value, in either direction, at which deciding again meets it (for
        an outcome that, once met along a direction, stays met further on); an absent number from a
        declared bound; a truth value or choice as `changes` tries them. Numbers first."""
        return self.singles(cid, pointers, lambda pointer, f, current: self.absent(cid, pointer, f)
                            if current is MISSING else self.nearest_met(cid, pointer, f, current))

    def singles(self, cid: str, pointers: tuple[str, ...],
                number: Callable[[str, Field, Any], Found | None]) -> tuple[Found, ...]:
        """The single changes among ``pointers`` that meet ``cid``: each number as ``number`` searches it, each truth
        value or choice as `choice` tries it; numbers first, each in the order given."""
        numbers: list[Found] = []
        others: list[Found] = []
        for pointer in pointers:
            f = analysis.field_at(self.ruleset.plan.inputs, pointer)
            if f is None or self.is_fixed(pointer):
                continue
            current = lookup(self.data, pointer)
            if f.kind in ("integer", "decimal"):
                found = number(pointer, f, current)
                numbers.extend([found] if found is not None else [])
            elif f.kind in ("boolean", "enum"):
                found = self.choice(cid, pointer, f, current)
                others.extend([found] if found is not None else [])
        return (*numbers, *others)

    def pair(self, cid: str, pointers: tuple[str, ...]) -> tuple[Found, ...]:
        """When no single change meets the criterion: two numbers changed together (the first pair found, in
        the order given, at most `MAX_PAIRS` tried). The first is taken as far as its declared bounds allow
        in one direction, the second then moved the fewest steps that meet the criterion, and the first
        brought back the fewest steps from its value at which, with the second's change, it still is; both
        changes confirmed by deciding again (empty when no pair is found); with the search's base applied first."""
        numbers = []
        for pointer in pointers:
            f = analysis.field_at(self.ruleset.plan.inputs, pointer)
            current = lookup(self.data, pointer)
            if f is not None and f.kind in ("integer", "decimal") and not self.is_fixed(pointer) \
                    and current is not MISSING and _number(current) is not None and _step(f, current) is not None:
                numbers.append((pointer, f, current))
        tried = 0
        for (p, fp, cp), (q, fq, cq) in itertools.permutations(numbers, 2):
            if tried >= MAX_PAIRS:
                break
            tried += 1
            step = _step(fp, cp)
            assert step is not None
            for direction in (1, -1):
                room = self.room(fp, cp, step, direction)
                if not room:
                    continue
                found = self.with_base(((p, self.at(fp, cp, step, direction * room)),), cid, q, fq, cq)
                back = self.with_base(((q, found.target),), cid, p, fp, cp) if found is not None else None
                if found is None or back is None:
                    continue
                decision = self._decide((*self.base, (p, back.target), (q, found.target)))
                if self.met(decision, cid):
                    assert decision is not None
                    return (Found(p, True, cp, back.target, {}), Found(q, True, cq, found.target,
                                                                         _derived(decision, cid)))
        return ()

    def with_base(self, base: tuple[tuple[str, Any], ...], cid: str, pointer: str, f: Field,
                  current: Any) -> Found | None:
        """`nearest_met` of one input with ``base`` applied first (after the search's own base)."""
        outer = self.base
        self.base = (*outer, *base)
        try:
            return self.nearest_met(cid, pointer, f, current)
        finally:
            self.base = outer

    def nearest_met(self, cid: str, pointer: str, f: Field, current: Any) -> Found | None:
        """The value fewest grid steps from ``current``, up or down, at which ``cid`` is met (found by
        steps of doubling length and an exact bisection, confirmed by deciding again)."""
        step = _step(f, current) if _number(current) is not None else None
        if step is None:
            return None

        def steps(way: int) -> int | None:
            return _first(lambda k: self.met(self.decide(pointer, self.at(f, current, step, way * k)), cid),
                          self.room(f, current, step, way))

        return self.closest(cid, pointer, f, current, step, steps)

    def closest(self, cid: str, pointer: str, f: Field, current: Any, step: Decimal,
                steps: Callable[[int], int | None]) -> Found | None:
        """Of the fewest steps up and down (``steps`` of a direction, None: none), the fewer at which deciding
        again meets the criterion."""
        best: Found | None = None
        best_steps = 0
        for direction in (1, -1):
            n = steps(direction)
            if n is None or (best is not None and n >= best_steps):
                continue
            found = self.found(cid, pointer, current, self.at(f, current, step, direction * n))
            if found is not None:
                best, best_steps = found, n
        return best

    def completed(self, cid: str, region: Region, pointers: tuple[str, ...]) -> tuple[Found, ...]:
        """When the value is unknown and no single change meets the criterion: the absent truth values and choices
        it reads given values (each way in turn, the first allowed values first, at most `MAX_COMPLETIONS`) with
        which the value is known, and then, if they do not meet it alone, the first single change of a number
        that does; those changes together (empty when no way is found)."""
        if self.value_of(self.decision, region.source, "", None) is not None:
            return ()
        absent: list[tuple[str, list[Any]]] = []
        for pointer in pointers:
            f = analysis.field_at(self.ruleset.plan.inputs, pointer)
            if f is not None and f.kind in ("boolean", "enum") and not self.is_fixed(pointer) \
                    and lookup(self.data, pointer) is MISSING:
                absent.append((pointer, [True, False] if f.kind == "boolean" else list(f.spec.values or ())))
        ways = itertools.islice(itertools.product(*(options for _, options in absent)), MAX_COMPLETIONS)
        for way in ways if absent else ():
            self.base = tuple(zip((p for p, _ in absent), way, strict=True))
            try:
                then = self.decide(None)
                if self.value_of(then, region.source, "", None) is None:
                    continue
                base = [Found(p, False, None, v, {}) for p, v in self.base]
                if then is not None and self.met(then, cid):
                    return (*base[:-1], Found(base[-1].pointer, False, None, base[-1].target, _derived(then, cid)))
                number = next((n for n in self.changes(cid, region, pointers) if n.present), None)
                if number is not None:
                    return (*base, number)
            finally:
                self.base = ()
        return ()

    def found(self, cid: str, pointer: str, current: Any, target: Any, op: str | None = None) -> Found | None:
        decision = self.decide(pointer, target)
        if not self.met(decision, cid):
            return None
        assert decision is not None
        return Found(pointer, current is not MISSING, None if current is MISSING else current, target,
                     _derived(decision, cid), op)

    def choice(self, cid: str, pointer: str, f: Field, current: Any) -> Found | None:
        """A truth value flipped (both tried when absent), or each other allowed value of a choice."""
        options: list[Any] = [True, False] if f.kind == "boolean" else list(f.spec.values or ())
        for option in options:
            if current is MISSING or option != current:
                found = self.found(cid, pointer, current, option)
                if found is not None:
                    return found
        return None

    def number(self, cid: str, region: Region, pointer: str, f: Field, current: Any) -> Found | None:
        """The nearest value on the input's grid, up or down, at which the region's value reaches the near
        bound of the region, when the criterion is then met."""
        if current is MISSING:
            return self.absent(cid, pointer, f, region)
        v = _number(current)
        step = _step(f, current) if v is not None else None
        now = self.value_of(self.decide(None), region.source, pointer, current)
        if v is None or step is None or now is None:
            return None
        interval = region.interval
        if _below(interval, now):
            def reached(x: Fraction) -> bool:
                return not _below(interval, x)
        elif _above(interval, now):
            def reached(x: Fraction) -> bool:
                return not _above(interval, x)
        else:
            return None
        return self.closest(cid, pointer, f, current, step,
                            lambda way: self.nearest(region, pointer, f, current, step, way, reached))

    def absent(self, cid: str, pointer: str, f: Field, region: Region | None = None) -> Found | None:
        """An absent number: from a declared bound at which the criterion is met, the farthest value on a grid
        at which it still is (``at most`` it from the lower bound, ``at least`` from the upper). When neither
        bound meets it and the criterion places a value into a region (a band class between two bounds), the
        first value on a grid, from a bound inward, at which the value enters the region and the criterion is
        met (`entering`). A decimal's grid is made finer until the value found has three significant digits
        (`fine`): the grid of the bound alone (whole numbers from 0) would say "at most 0"."""
        for start, direction, op in _bounds(f):
            if not self.met(self.decide(pointer, start), cid):
                continue

            def farthest(step: Decimal, start: Any = start, direction: int = direction) -> int | None:
                return self.farthest(cid, pointer, f, start, step, direction)

            step, n = self.fine(f, start, direction, farthest)
            return self.found(cid, pointer, MISSING, self.at(f, start, step, direction * (n or 0)), op)
        return self.entering(cid, pointer, f, region) if region is not None else None

    def entering(self, cid: str, pointer: str, f: Field, region: Region) -> Found | None:
        """An absent number whose region lies between its bounds: from a declared bound where the region's value
        lies on one side of it, the first value inward (on the grid `fine` makes) at which the value has reached
        the region's near bound, when the criterion is then met."""
        for start, direction, _ in _bounds(f):
            now = self.value_of(self.decide(pointer, start), region.source, pointer, start)
            if now is None or not (_below(region.interval, now) or _above(region.interval, now)):
                continue
            below = _below(region.interval, now)

            def reached(x: Fraction, below: bool = below) -> bool:
                return not _below(region.interval, x) if below else not _above(region.interval, x)

            def inward(step: Decimal, start: Any = start, direction: int = direction) -> int | None:
                return self.nearest(region, pointer, f, start, step, direction, reached)

            step, n = self.fine(f, start, direction, inward)
            found = self.found(cid, pointer, MISSING, self.at(f, start, step, direction * n)) if n is not None \
                else None
            if found is not None:
                return found
        return None

    @staticmethod
    def fine(f: Field, start: Any, direction: int,
             search: Callable[[Decimal], int | None]) -> tuple[Decimal, int | None]:
        """``search`` (the steps from ``start`` in ``direction``) on the grid of ``start`` (whole numbers for an
        integer), and for a decimal on grids ten times finer, up to `FINER` times, until the value found has three
        significant digits on its grid: that grid and its steps (the last found when none has)."""
        step = _step(f, start) or Decimal(1)
        n = search(step)
        if f.kind == "integer":
            return step, n
        best = (step, n)
        for _ in range(FINER):
            if n is not None and abs(Decimal(start) + direction * n * step) >= 100 * step:
                break
            step = step / 10
            n = search(step)
            if n is not None:
                best = (step, n)
        return best

    def farthest(self, cid: str, pointer: str, f: Field, start: Any, step: Decimal, direction: int) -> int:
        """The most steps from ``start`` (where the criterion is met) that it is still met, as far as the bounds
        allow: steps of doubling length, then an exact bisection."""
        room = self.room(f, start, step, direction)
        first = _first(lambda n: not self.met(self.decide(pointer, self.at(f, start, step, direction * n)), cid), room)
        return room if first is None else first - 1

    def at(self, f: Field, current: Any, step: Decimal, n: int) -> Any:
        """The grid value ``n`` steps from the current value."""
        if f.kind == "integer":
            return int(current) + n
        return Decimal(current) + n * step

    def room(self, f: Field, current: Any, step: Decimal, direction: int) -> int:
        """How many grid steps the declared bounds leave in a direction."""
        bound = f.spec.maximum if direction > 0 else f.spec.minimum
        if bound is None:
            return MAX_STEPS
        return max(0, min(MAX_STEPS, math.floor(Fraction(abs(Decimal(bound) - Decimal(current))) / Fraction(step))))

    def nearest(self, region: Region, pointer: str, f: Field, current: Any, step: Decimal, direction: int,
                reached: Callable[[Fraction], bool]) -> int | None:
        """The fewest steps in a direction at which the value has reached the bound: steps of doubling length,
        then an exact bisection between the last short of it and the first beyond it."""
        room = self.room(f, current, step, direction)

        def ok(n: int) -> bool:
            x = self.at(f, current, step, direction * n)
            value = self.value_of(self.decide(pointer, x), region.source, pointer, x)
            return value is not None and reached(value)

        return _first(ok, room)


def _bounds(f: Field) -> list[tuple[Any, int, str]]:
    """A number's declared bounds as values of its type, each with the direction inward and the side of it an
    absent number's values lie on when the search starts there (at most it from the lower, at least from the
    upper)."""
    ends = ((f.spec.minimum, 1, "<="), (f.spec.maximum, -1, ">="))
    return [(int(bound) if f.kind == "integer" else Decimal(bound), direction, op)
            for bound, direction, op in ends if bound is not None]


def _first(test: Callable[[int], bool], room: int) -> int | None:
    """The fewest steps ``n`` in ``1..room`` with ``test(n)``, for a test false at 0 that stays true once true:
    steps of doubling length, then an exact bisection between the last false and the first true; None when it
    is false as far as ``room``."""
    short, n = 0, 1
    while True:
        n = min(n, room)
        if n <= short:
            return None
        if test(n):
            break
        short, n = n, n * 2
    while n - short > 1:  # test(n), not test(short)
        middle = (short + n) // 2
        if test(middle):
            n = middle
        else:
            short = middle
    return n
