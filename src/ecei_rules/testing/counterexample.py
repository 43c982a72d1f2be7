"""The counterexample search of a bump check (a test tool: it needs hypothesis and the strategies).

``find_counterexample`` searches an assessment valid under the old version that the new one
decides differently, the cheapest ways first: the old version's embedded tests, a directed walk
from them towards the thresholds that changed, a bisection along each number input that reaches a
changed criterion through derived values and tables (the other inputs held, each choice of an
enum or boolean input tried), a hypothesis search over assessments drawn at and around both
versions' thresholds, and a walk from what it saw; what it finds is made smaller by dropping what
the difference does not need. Finding nothing never lowers the bump the static analysis requires.
``bump_check`` composes the static part of the check (``ecei_rules.compare.bump``) with this
search. The library reaches this module only from inside a function (the command line's
``bump-check`` and ``lint``), so importing the library never imports hypothesis.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from random import Random
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable
from hypothesis.strategies import SearchStrategy

from ecei_rules.compare.bump import (
    PIN,
    BumpReport,
    Counterexample,
    changed_criteria,
    confirm,
    counterexample_of,
    decision_key,
    outcome,
    required_bump,
)
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.core.logic import UNKNOWN
from ecei_rules.core.pointers import MISSING, pointer_join, set_at, split_pointer
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.engine.evaluator import evaluator, outcome_values
from ecei_rules.ruleset.analysis import criterion_targets, field_at, passes, thresholds, value_for
from ecei_rules.ruleset.inputs import Field, project
from ecei_rules.ruleset.load import Ruleset, test_assessment
from ecei_rules.testing.strategies import assessments

#: The most examples one hypothesis search is asked for. A search keeps the tree of what it explored (some
#: 35 KB per example), so a larger budget is spent in rounds of at most this many, each a fresh search (its
#: memory freed when it ends) with its own seed derived from its number: memory is bounded whatever the budget,
#: and a budget gives the same rounds, so the same result, every time.
SEARCH_ROUND = 500

_T = TypeVar("_T")


def round_seed(number: int) -> int:
    """The seed of a search's round ``number`` (1 and on; the first round is derandomised as before)."""
    return int.from_bytes(hashlib.sha256(f"ecei-rules search round {number}".encode()).digest()[:8], "big")


def find_in_rounds(strategy: SearchStrategy[_T], condition: Callable[[_T], bool], config: settings, *,
                   round_size: int | None = None) -> _T:
    """hypothesis' ``find`` with the budget ``config.max_examples``, spent in rounds of at most ``round_size``
    (`SEARCH_ROUND`) examples: the first derandomised (as one search of a budget within a round is), each later
    one seeded by `round_seed`; the first round that finds an example ends the search (a round with the shrink
    phase shrinks what it found).

    Raises:
        NoSuchExample: no round found one.
        Unsatisfiable: the strategy gives too few valid examples.
    """
    size = SEARCH_ROUND if round_size is None else max(1, round_size)
    total = max(1, config.max_examples)
    done = number = 0
    while done < total:
        n = min(size, total - done)
        try:
            return find(strategy, condition, settings=settings(config, max_examples=n),
                        random=Random(round_seed(number)) if number else None)
        except NoSuchExample:
            done += n
            number += 1
            gc.collect()  # the round's tree is cyclic: freed now, not when a (raised) gc threshold says
    raise NoSuchExample(f"none in {total} examples")


def bump_check(old: Ruleset, new: Ruleset, *, max_examples: int = 500, shrink: int | None = None) -> BumpReport:
    """Work out the bump ``old`` -> ``new`` requires and compare it with the declared one: the static
    analysis of the semantic diff (``ecei_rules.compare.bump.required_bump``), confirmed by a search for
    a counterexample within a budget of ``max_examples`` assessments; a counterexample found is made
    smaller within ``shrink`` more decisions (None: ``SHRINK_BUDGET``; 0: as found)."""
    budget = SHRINK_BUDGET if shrink is None else max(shrink, 0)

    def search(old: Ruleset, new: Ruleset, *, max_examples: int = 500,
               require_valid: bool = True) -> tuple[Counterexample | None, int]:
        return find_counterexample(old, new, max_examples=max_examples, require_valid=require_valid, shrink=budget)

    return confirm(required_bump(old, new), search, max_examples=max_examples)


class _Walk:
    """A directed search: from a seed where a changed criterion decides differently, pass the tier's
    other requirements and move its score towards the threshold until the two versions disagree."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: set[str]) -> None:
        self.old, self.new, self.changed = old, new, changed
        self.targets = {**criterion_targets(new), **criterion_targets(old)}
        self.steps = 0

    def decide(self, data: dict[str, Any]) -> tuple[Decision, Decision | None]:
        projected, _ = project(data, self.new.plan.inputs)
        normal, problems = self.new.plan.validator.validate(projected)
        new = None if problems else evaluate(self.new, normal, resolution=PIN)
        return evaluate(self.old, data, resolution=PIN), new

    def flip(self, data: dict[str, Any], cid: str, passing: bool) -> bool:
        target = self.targets.get(cid)
        if target is None or cid in self.changed:
            return False
        pointer, op, threshold = target
        f = field_at(self.old.plan.inputs, pointer)
        if f is None:
            return False
        value = value_for(f, op, threshold, passing)
        if value is None:
            return False
        trial = copy.deepcopy(data)
        set_at(trial, pointer, value)
        if self.old.plan.validator.validate(trial)[1]:
            return False
        data.clear()
        data.update(trial)
        return True

    def aim(self, data: dict[str, Any]) -> None:
        """Put each changed criterion's input where the two versions' thresholds disagree."""
        old_targets, new_targets = criterion_targets(self.old), criterion_targets(self.new)
        for cid in sorted(self.changed):
            a, b = old_targets.get(cid), new_targets.get(cid)
            if a is None or b is None or a[0] != b[0] or isinstance(a[2], bool) or isinstance(b[2], bool):
                continue
            f = field_at(self.old.plan.inputs, a[0])
            if f is None:
                continue
            for threshold in (a[2], b[2]):
                for passing in (True, False):
                    value = value_for(f, a[1], threshold, passing)
                    if value is None:
                        continue
                    v = Decimal(value)
                    if passes(a[1], v, a[2]) != passes(b[1], v, b[2]):
                        trial = copy.deepcopy(data)
                        set_at(trial, a[0], value)
                        if not self.old.plan.validator.validate(trial)[1]:
                            data.clear()
                            data.update(trial)
                            break
                else:
                    continue
                break

    def run(self, seed: dict[str, Any], steps: int = 80) -> dict[str, Any] | None:
        """Walk from ``seed`` for at most ``steps`` decisions (``self.steps`` says how many it took)."""
        data = copy.deepcopy(seed)
        self.aim(data)
        self.steps = 0
        for _ in range(steps):
            self.steps += 1
            old, new = self.decide(data)
            if new is None:
                return None
            if decision_key(old) != decision_key(new):
                return data
            if not self.step(data, old, new):
                return None
        return None

    def step(self, data: dict[str, Any], old: Decision, new: Decision) -> bool:
        """One move towards a disagreement, from the highest label down; False when none is left."""
        for label in reversed(self.new.document.labels):
            scores, others = self._requirements(label)
            if not any(self.changed & set(self._weights(s)) for s in scores) and not self.changed & set(others):
                continue
            if self._meet_others(data, others, old, new) or any(self._move_score(data, sid, old, new)
                                                               for sid in scores):
                return True
        return False

    def _requirements(self, label: str) -> tuple[list[str], list[str]]:
        """The scores and the other requirements (groups expanded) of a tier, in both versions."""
        scores: list[str] = []
        others: list[str] = []
        for ruleset in (self.old, self.new):
            tier = ruleset.document.tiers.get(label)
            if tier is None:
                continue
            for ref in self._expand(ruleset, tier.requires):
                (scores if ref in ruleset.document.scores else others).append(ref)
        return scores, others

    def _meet_others(self, data: dict[str, Any], others: list[str], old: Decision, new: Decision) -> bool:
        """Meet, in both versions, one unchanged requirement of the tier that is not met in either."""
        return any(cid not in self.changed and (outcome(old, cid) != "met" or outcome(new, cid) != "met")
                   and self.flip(data, cid, True) for cid in others)

    def _move_score(self, data: dict[str, Any], sid: str, old: Decision, new: Decision) -> bool:
        """Move a score towards its threshold: met in both, fail a criterion met in both (lightest
        first); met in neither, meet a criterion not met in one of them."""
        a, b = outcome(old, sid), outcome(new, sid)
        weights = self._weights(sid)
        lightest = sorted(weights, key=lambda c: weights[c])
        if a == b == "met":
            return any(outcome(old, cid) == outcome(new, cid) == "met" and self.flip(data, cid, False)
                       for cid in lightest)
        if a != "met" and b != "met":
            return any((outcome(old, cid) != "met" or outcome(new, cid) != "met") and self.flip(data, cid, True)
                       for cid in lightest)
        return False

    def _expand(self, ruleset: Ruleset, refs: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for ref in refs:
            group = ruleset.document.groups.get(ref)
            out.extend(self._expand(ruleset, group.all_of) if group else [ref])
        return out

    def _weights(self, sid: str) -> dict[str, Any]:
        weights: dict[str, Any] = {}
        for ruleset in (self.old, self.new):
            score = ruleset.document.scores.get(sid)
            if score is not None:
                weights.update(score.weights)
        return weights


#: assessments the shrinker may decide, at most, to make a counterexample smaller
SHRINK_BUDGET = 300
#: seeds the generated phase keeps for the directed walk (where a changed criterion decided differently)
MORE_SEEDS = 40
#: equal steps of the first pass of a bisection along one input (then each change seen is bisected)
GRID = 8
#: assessments a seed's choices may make for the bisection (one enum or boolean input changed each)
MAX_VARIANTS = 24
#: rounder values tried for the input of a counterexample the bisection found
ROUNDER = 12


@dataclass(frozen=True)
class _Pass:
    """One line of a bisection: an assessment and the input moved along ``line`` (the others held)."""

    base: dict[str, Any]
    pointer: str
    line: _Line

    def at(self, value: Any) -> dict[str, Any]:
        """The assessment with the input at ``value``."""
        data = copy.deepcopy(self.base)
        _put(data, self.pointer, value)
        return data


@dataclass(frozen=True)
class _Seen:
    """What a probe saw of an assessment: each version's decision key and the outcomes of the changed
    criteria (``old``, ``new``), whether the decisions differ (a counterexample), and whether something
    inside differs (a changed criterion's outcome or a derived value) while the decisions do not."""

    old: tuple[Any, ...]
    new: tuple[Any, ...]
    differs: bool
    inside: bool


def _scalar_inputs(old: Ruleset, new: Ruleset, changed: set[str],
                   seed: dict[str, Any]) -> tuple[list[tuple[str, Field]], list[tuple[str, list[Any]]]]:
    """The inputs of ``seed`` the changed criteria read (through derived values and tables), as the old
    version declares them: the integer and decimal ones, to bisect along, and the enum and boolean ones
    with their values, to choose; in a list they read, those of each item the seed has."""
    reads = sorted({p for ruleset in (old, new) for c in ruleset.plan.criteria if c.id in changed
                    for p in c.reads})
    pointers: list[tuple[str, Field]] = []
    for pointer in reads:
        f = field_at(old.plan.inputs, pointer)
        if f is None or "/-" in pointer:
            continue
        items = _get(seed, pointer) if f.kind == "list" and f.items is not None else None
        if f.items is not None and isinstance(items, list):
            members = f.items.fields.items() if f.items.kind == "object" else [("", f.items)]
            pointers += [(pointer_join(pointer, i, name) if name else pointer_join(pointer, i), sub)
                         for i in range(len(items)) for name, sub in members]
        else:
            pointers.append((pointer, f))
    numbers: list[tuple[str, Field]] = []
    choices: list[tuple[str, list[Any]]] = []
    for pointer, f in pointers:
        if f.kind in ("integer", "decimal"):
            numbers.append((pointer, f))
        elif f.kind == "enum" and f.spec.values:
            choices.append((pointer, list(f.spec.values)))
        elif f.kind == "boolean":
            choices.append((pointer, [True, False]))
    return numbers, choices


def _get(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer through objects and lists (an item by its index), or ``MISSING``."""
    node = data
    for part in split_pointer(pointer):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def _put(data: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value at a JSON pointer through objects and lists (an item by its index, which exists),
    creating objects on the way."""
    parts = split_pointer(pointer)
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
            continue
        child = node.get(part)
        if not isinstance(child, (dict, list)):
            child = {}
            node[part] = child
        node = child
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


class _Line:
    """The values one number input takes in a bisection: its range (declared, or around the seed's value
    and the versions' thresholds where unbounded), the first pass's points, midpoints and rounder values
    (decimals at twelve significant digits of the range, so that each stays a valid input)."""

    def __init__(self, f: Field, current: Any, scale: Decimal) -> None:
        self.integer = f.kind == "integer"
        known = isinstance(current, (int, float, Decimal)) and not isinstance(current, bool)
        here = Decimal(repr(current) if isinstance(current, float) else current) if known else Decimal(0)
        wide = 10 * max(abs(here), scale, Decimal(1))
        lo = Decimal(f.spec.minimum) if f.spec.minimum is not None else min(here, Decimal(0)) - wide
        hi = Decimal(f.spec.maximum) if f.spec.maximum is not None else max(here, Decimal(0)) + wide
        self.lo, self.hi = lo, hi
        self.width = max(hi - lo, Decimal(1))
        top = max(abs(lo), abs(hi), Decimal(1))
        self.quantum = Decimal(1) if self.integer else Decimal(1).scaleb(top.adjusted() - 11)
        points = {self.value(lo + (hi - lo) * i / GRID) for i in range(GRID + 1)}
        if known:
            points.add(self.value(min(max(here, lo), hi)))
        self.points = sorted(p for p in points if lo <= p <= hi)

    def value(self, v: Decimal) -> Any:
        """``v`` on this line: an integer, or a decimal at the line's precision (trailing zeros dropped)."""
        if self.integer:
            return int(v.to_integral_value(rounding=ROUND_HALF_UP))
        q = v.quantize(self.quantum, rounding=ROUND_HALF_UP)
        return q.to_integral_value() if q == q.to_integral_value() else q.normalize()

    def mid(self, a: Any, b: Any) -> Any | None:
        """A value strictly between ``a`` and ``b`` (None when they are neighbours on the line)."""
        m = self.value((Decimal(a) + Decimal(b)) / 2)
        return m if a < m < b else None

    def rounder(self, v: Any) -> list[Any]:
        """Values near ``v`` with fewer significant digits, the roundest first."""
        d = Decimal(v)
        out: list[Any] = []
        for exponent in range(max(d.adjusted(), 0) + 1, self.quantum.adjusted() - 1, -1):
            step = Decimal(1).scaleb(exponent)
            r = self.value((d / step).to_integral_value(rounding=ROUND_HALF_UP) * step)
            if r != v and r not in out and self.lo <= r <= self.hi:
                out.append(r)
        return out[:ROUNDER]


class _Search:
    """Both versions' decisions of an assessment, by the label path (no trace), within a budget.

    ``differs`` is the test of a counterexample; while seeds are wanted, it also keeps assessments
    where a changed criterion decided differently, for the directed walk."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: set[str], budget: int, require_valid: bool) -> None:
        self.old, self.new, self.changed = old, new, changed
        self.budget, self.require_valid = budget, require_valid
        self.old_eval, self.new_eval = evaluator(old), evaluator(new)
        self.tried = 0
        self.seeds: list[dict[str, Any]] = []
        self.wanted = 0  # seeds still kept by ``differs``

    @property
    def spent(self) -> bool:
        return self.tried >= self.budget

    def differs(self, data: dict[str, Any], *, count: bool = True) -> bool:
        if count:
            self.tried += 1
        normal_old, problems = self.old.plan.validator.validate(data)
        if problems:
            return False  # not an input of the old version (the shrinker may make such ones)
        projected, _ = project(data, self.new.plan.inputs)
        normal_new, problems = self.new.plan.validator.validate(projected)
        if problems:
            return not self.require_valid
        a, b = self.old_eval.label(dict(normal_old)), self.new_eval.label(dict(normal_new))
        if a[:3] != b[:3]:
            return True
        if self.wanted and self.changed:
            va = outcome_values(self.old_eval.plan, dict(normal_old))
            vb = outcome_values(self.new_eval.plan, dict(normal_new))
            if any(va.get(c, UNKNOWN) != vb.get(c, UNKNOWN) for c in self.changed):
                self.seeds.append(copy.deepcopy(data))
                self.wanted -= 1
        return False

    def walk(self, seeds: list[dict[str, Any]], until: int) -> dict[str, Any] | None:
        """The directed walk from each seed, each step counted in the budget, until ``until``
        assessments have been tried in all."""
        walk = _Walk(self.old, self.new, self.changed)
        for seed in seeds:
            if self.tried >= min(until, self.budget):
                return None
            found = walk.run(seed, steps=min(80, min(until, self.budget) - self.tried))
            self.tried += walk.steps
            if found is not None:
                return found
        return None

    def probe(self, data: dict[str, Any]) -> _Seen | None:
        """Decide ``data`` under both versions, counted in the budget (None where the old version rejects
        it); keeps it as a seed of the walk where something inside differs while the decisions do not."""
        self.tried += 1
        normal_old, problems = self.old.plan.validator.validate(data)
        if problems:
            return None
        changed = sorted(self.changed)
        env_old = dict(normal_old)
        values_old = outcome_values(self.old_eval.plan, env_old)
        old = (self.old_eval.label(dict(normal_old))[:3], tuple(values_old.get(c, UNKNOWN) for c in changed))
        projected, _ = project(data, self.new.plan.inputs)
        normal_new, problems = self.new.plan.validator.validate(projected)
        if problems:
            return _Seen(old, ("rejected",), not self.require_valid, False)
        env_new = dict(normal_new)
        values_new = outcome_values(self.new_eval.plan, env_new)
        new = (self.new_eval.label(dict(normal_new))[:3], tuple(values_new.get(c, UNKNOWN) for c in changed))
        if old[0] != new[0]:
            return _Seen(old, new, True, False)
        derived = {d.id for d in self.old_eval.plan.derived} & {d.id for d in self.new_eval.plan.derived}
        inside = old[1] != new[1] or any(env_old.get(d) != env_new.get(d) for d in derived)
        if inside and old[1] != new[1] and len(self.seeds) < MORE_SEEDS:
            self.seeds.append(copy.deepcopy(data))
        return _Seen(old, new, False, inside)

    def bisect(self, seeds: list[dict[str, Any]], until: int) -> dict[str, Any] | None:
        """A search through derived values and tables, until ``until`` assessments have been tried in all.

        From each seed, and from each copy of it with one enum or boolean input the changed criteria
        read set to another value, along each number input they read, the others held: a first pass in
        equal steps over the input's range, then every change of either version's decision or changed
        criteria between two neighbouring steps is bisected, both versions decided at each midpoint, the
        widest interval first over all the lines of the seed (those next to a step where something
        inside differs, a derived value or a changed criterion, before the others). Where a threshold
        moved, the values between its old and its new place decide differently, so the bisection meets
        them once its interval there is narrower than the gap. A counterexample found is given a
        rounder value of that input where one still decides differently."""
        limit = min(until, self.budget)
        scale = max((abs(t) for r in (self.old, self.new) for t in thresholds(r)), default=Decimal(1))
        order = itertools.count()
        heap: list[tuple[bool, Decimal, int, _Pass, Any, _Seen, Any, _Seen]] = []

        def push(line: _Pass, a: Any, sa: _Seen, b: Any, sb: _Seen) -> None:
            """Keep an interval to bisect where the two ends differ (the widest first, see ``bisect``)."""
            if (sa.old, sa.new) != (sb.old, sb.new):
                heapq.heappush(heap, (not (sa.inside or sb.inside), (Decimal(a) - Decimal(b)) / line.line.width,
                                      next(order), line, a, sa, b, sb))

        for seed in seeds:
            heap.clear()
            numbers, choices = _scalar_inputs(self.old, self.new, self.changed, seed)
            if not numbers:
                continue
            for data in _choices(seed, choices):
                for pointer, f in numbers:
                    line = _Pass(data, pointer, _Line(f, _get(data, pointer), scale))
                    seen: list[tuple[Any, _Seen]] = []
                    for v in line.line.points:
                        if self.tried >= limit:
                            return None
                        s = self.probe(line.at(v))
                        if s is not None and s.differs:
                            return self._rounder(line, v, limit)
                        if s is not None:
                            seen.append((v, s))
                    for (a, sa), (b, sb) in itertools.pairwise(seen):
                        push(line, a, sa, b, sb)
            while heap:
                _, _, _, line, a, sa, b, sb = heapq.heappop(heap)
                m = line.line.mid(a, b)
                if m is None:
                    continue  # neighbours: a threshold of one version lies here, the other's too
                if self.tried >= limit:
                    return None
                s = self.probe(line.at(m))
                if s is None:
                    continue  # the old version rejects it (a check across inputs): leave this interval
                if s.differs:
                    return self._rounder(line, m, limit)
                push(line, a, sa, m, s)
                push(line, m, s, b, sb)
        return None

    def _rounder(self, line: _Pass, v: Any, limit: int) -> dict[str, Any]:
        """The counterexample at ``v`` on the line, or at the roundest value near ``v`` that still decides
        differently (within the budget)."""
        for r in line.line.rounder(v):
            if self.tried >= limit:
                break
            s = self.probe(line.at(r))
            if s is not None and s.differs:
                return line.at(r)
        return line.at(v)

    def generated(self, max_examples: int) -> dict[str, Any] | None:
        """A search over generated assessments at and around both versions' thresholds, not shrunk
        (``shrink`` makes what it finds smaller, within its own budget)."""
        if max_examples <= 0:
            return None
        config = settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                          phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                          verbosity=Verbosity.quiet)
        try:
            return find_in_rounds(assessments(self.old, also=(self.new,)), self.differs, config)
        except (NoSuchExample, Unsatisfiable):
            return None

    def shrink(self, found: dict[str, Any], budget: int = SHRINK_BUDGET) -> dict[str, Any]:
        """A smaller counterexample: greedily drop optional members and list items (deepest first)
        while the two versions still decide it differently, deciding at most ``budget`` assessments."""
        best = copy.deepcopy(found)
        progress = True
        while progress and budget > 0:
            progress = False
            for path in _removable(best):
                if budget <= 0:
                    break
                trial = _without(best, path)
                budget -= 1
                if self.differs(trial, count=False):
                    best, progress = trial, True
                    break
        return best


def _choices(seed: dict[str, Any], choices: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """``seed`` and, at most ``MAX_VARIANTS`` in all, copies of it with one enum or boolean input set to
    another of its values."""
    out = [seed]
    for pointer, values in choices:
        current = _get(seed, pointer)
        for value in values:
            if len(out) >= MAX_VARIANTS:
                return out
            if value != current:
                data = copy.deepcopy(seed)
                _put(data, pointer, value)
                out.append(data)
    return out


def _removable(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the members and list items of ``data``, deepest first (the validator says which
    may go: removing a required one makes the assessment invalid, which ``differs`` refuses)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.extend(_removable(value, (*path, key)))
            out.append((*path, key))
    elif isinstance(data, list):
        for index in reversed(range(len(data))):
            out.extend(_removable(data[index], (*path, index)))
            out.append((*path, index))
    return out


def _without(data: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def find_counterexample(old: Ruleset, new: Ruleset, *, max_examples: int = 500, require_valid: bool = True,
                        shrink: int = SHRINK_BUDGET) -> tuple[Counterexample | None, int]:
    """Search an assessment valid under ``old`` that ``new`` decides differently.

    The cheapest ways first, all within a budget of ``max_examples`` assessments decided: the old
    version's embedded tests (authored cases of every tier); a directed walk from each of them,
    aimed first at the thresholds that changed (a third of the budget at most); a bisection from
    each of them along the number inputs the changed criteria read through derived values and
    tables (up to two thirds of the budget); generated assessments straddling both versions'
    thresholds (three quarters of what is left); a walk from the assessments where a changed
    criterion decided differently (the rest). What is found is
    made smaller by dropping what it does not need (at most ``shrink`` more decisions), and
    still decides differently. With ``require_valid`` False, an assessment the new version rejects
    also counts. Returns the
    counterexample (or None) and the number of assessments tried.
    """
    changed = changed_criteria(semantic_diff(old, new))
    search = _Search(old, new, changed, max(max_examples, 1), require_valid)
    authored: list[dict[str, Any]] = []
    for index in range(len(old.document.tests)):
        example = test_assessment(old.document, index)
        if not old.plan.validator.validate(example)[1]:
            authored.append(example)
    found = next((a for a in authored if not search.spent and search.differs(a)), None)
    walking = require_valid and bool(changed)  # a walk moves towards the criteria that changed
    if found is None and walking:  # aimed at the thresholds that changed, any authored case may do
        found = search.walk(authored, until=search.budget // 3)
    if found is None and walking:  # thresholds reached through derived values and tables
        found = search.bisect(authored, until=search.budget * 2 // 3)
    if found is None:
        search.wanted = MORE_SEEDS if walking else 0
        rest = search.budget - search.tried
        found = search.generated(rest * 3 // 4 if walking else rest)
    if found is None and walking:
        found = search.walk(search.seeds, until=search.budget)
    if found is None:
        return None, search.tried
    return counterexample_of(old, new, search.shrink(found, shrink)), search.tried
