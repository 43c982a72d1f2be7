"""What it takes: the minimal sets of criteria that would make a tier met, computed exactly.

A tier's requirement is a monotone function of its criteria: a Kleene conjunction of
criteria, groups (conjunctions again) and weighted scores (met when the met weight reaches
``threshold x total``). Only a criterion that is ``met`` counts; an ``unknown`` one must be
made ``met`` like a ``not_met`` one. So a *change set* is a set of criteria to turn met, and
it suffices when, with those criteria met and every other criterion as it is, every
requirement is met. This module finds the change sets that are minimal by inclusion.

Exactness. Flatten the tier's requirement (through groups) into the criteria it requires
directly and the scores it requires:

* every directly required criterion that is not met is in *every* sufficient set (the
  *mandatory* part ``M``);
* a score ``s`` with met weight ``m_s`` and required weight ``r_s`` still needs
  ``d_s = r_s - m_s - w_s(M)`` once ``M`` is met; if ``d_s > 0`` a sufficient set must add
  candidates (its not-met criteria outside ``M``) of total weight ``>= d_s``. The minimal such
  subsets are those whose weight reaches ``d_s`` while dropping their lightest member does not.
  Criteria of equal weight are interchangeable, so they are described exactly and compactly
  by *options*: a count per weight class (``any 2 of 4.5, 4.7, 4.8, 4.9``); an option with
  counts ``n_w`` is minimal iff ``sum n_w w >= d_s > sum n_w w - min{w : n_w > 0}``.
* with one such score (every shipped ruleset), or several whose candidates are disjoint, the
  minimal sets are exactly ``M`` united with one minimal subset per score: each member of such
  a union is needed, by ``M``'s definition or by the minimality of the one subset it lies in.
  Their number is the product of the options' binomial counts (exact, never sampled).
* scores whose candidates overlap are enumerated explicitly: every minimal set is such a
  union, so the unions minimal by inclusion are exactly the minimal sets (up to a limit, after
  which the result says it is not exhaustive).

A criterion that no change of the assessment can make met (it reads only fixed inputs, or no
allowed value passes its threshold) is *fixed*: in ``M`` it makes every set infeasible; among
a score's candidates it is left out, and the score may become unreachable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

#: Options (weight-count patterns) listed per score before the list says it is incomplete.
MAX_OPTIONS = 1000
#: Minimal subsets enumerated per score when scores share candidates (rare; never in ecei-labels).
MAX_OVERLAP_ENUMERATION = 5000


@dataclass(frozen=True)
class Pick:
    """Any ``count`` of ``ids``, every one of weight ``weight``."""

    weight: Fraction
    count: int
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Option:
    """One way to reach a score's deficit: a pick from each weight class (minimal by inclusion)."""

    picks: tuple[Pick, ...]

    @property
    def size(self) -> int:
        return sum(p.count for p in self.picks)

    @property
    def weight(self) -> Fraction:
        return sum((p.weight * p.count for p in self.picks), Fraction(0))

    @property
    def combinations(self) -> int:
        return math.prod(math.comb(len(p.ids), p.count) for p in self.picks)

    def sets(self) -> Iterator[tuple[str, ...]]:
        """Every set of this option, lazily (``itertools.product`` would materialise each class's combinations)."""

        def rest(i: int) -> Iterator[tuple[str, ...]]:
            if i == len(self.picks):
                yield ()
                return
            for head in itertools.combinations(self.picks[i].ids, self.picks[i].count):
                for tail in rest(i + 1):
                    yield head + tail

        return rest(0)


@dataclass(frozen=True)
class ScoreNeed:
    """A score that the mandatory criteria alone do not bring to its threshold."""

    score: str
    met_weight: Fraction  # as decided
    required_weight: Fraction
    mandatory_weight: Fraction  # weight the mandatory criteria add to it
    deficit: Fraction  # what the chosen candidates must add (> 0)
    candidates: tuple[str, ...]  # not met, changeable, not mandatory
    excluded: tuple[str, ...]  # not met, not mandatory, fixed
    options: tuple[Option, ...]  # fewest criteria first
    complete: bool  # False when MAX_OPTIONS cut the list

    @property
    def combinations(self) -> int:
        """How many minimal subsets of the candidates reach the deficit."""
        return sum(o.combinations for o in self.options)

    @property
    def reachable(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True)
class TierSolution:
    """The minimal change sets of one tier."""

    mandatory: tuple[str, ...]  # not met, in every set
    fixed: tuple[str, ...]  # the mandatory ones that no change can make met
    needs: tuple[ScoreNeed, ...]
    total: int  # the number of minimal change sets (exact when exhaustive)
    exhaustive: bool
    sets: tuple[tuple[str, ...], ...]  # ranked: fewest criteria, then least weight; at most the cap

    @property
    def feasible(self) -> bool:
        """Some minimal change set can be made by changing the assessment."""
        return not self.fixed and self.total > 0


@dataclass(frozen=True)
class Structure:
    """What the solver needs of a ruleset version: groups, scores and the criteria order."""

    groups: Mapping[str, tuple[str, ...]]
    weights: Mapping[str, Mapping[str, Fraction]]  # score -> criterion -> weight
    required: Mapping[str, Fraction]  # score -> threshold x total weight
    order: Mapping[str, int]  # criterion -> position in the ruleset


def flatten(structure: Structure, refs: Sequence[str]) -> tuple[list[str], list[str]]:
    """The criteria a requirement lists directly (through groups) and the scores it needs."""
    criteria: list[str] = []
    scores: list[str] = []

    def walk(ref: str, trail: frozenset[str]) -> None:
        if ref in trail:  # the compiler rejects cycles; guard anyway
            return
        if ref in structure.groups:
            for member in structure.groups[ref]:
                walk(member, trail | {ref})
        elif ref in structure.weights:
            if ref not in scores:
                scores.append(ref)
        elif ref not in criteria:
            criteria.append(ref)

    for ref in refs:
        walk(ref, frozenset())
    return criteria, scores


def score_options(candidates: Sequence[tuple[str, Fraction]], deficit: Fraction,
                  limit: int = MAX_OPTIONS) -> tuple[tuple[Option, ...], bool]:
    """All minimal ways (as weight-class counts) for ``candidates`` to add at least ``deficit``.

    Returns the options, fewest criteria then least weight first, and whether the list is complete.
    """
    if deficit <= 0:
        return (Option(()),), True
    classes: dict[Fraction, list[str]] = {}
    for cid, weight in candidates:
        classes.setdefault(weight, []).append(cid)
    weights = sorted(classes, reverse=True)  # heaviest first: the last class used is the lightest
    rest = [sum((w * len(classes[w]) for w in weights[i:]), Fraction(0)) for i in range(len(weights) + 1)]
    found: list[Option] = []
    complete = True

    def dfs(i: int, picks: tuple[Pick, ...], total: Fraction) -> None:
        nonlocal complete
        if len(found) >= limit:
            complete = False
            return
        if i == len(weights) or total + rest[i] < deficit:
            return
        w = weights[i]
        ids = tuple(classes[w])
        for n in range(len(ids) + 1):
            now = total + n * w
            chosen = (*picks, Pick(w, n, ids)) if n else picks
            if now >= deficit:
                # minimal iff dropping one of the lightest chosen (this class, n > 0) falls short
                if n and now - w < deficit:
                    found.append(Option(chosen))
                return  # more of this class, or any lighter one, would not be minimal
            dfs(i + 1, chosen, now)

    dfs(0, (), Fraction(0))
    found.sort(key=lambda o: (o.size, o.weight))
    return tuple(found), complete


def _top_sets(need: ScoreNeed, cap: int, key: Callable[[tuple[str, ...]], tuple[object, ...]]) -> list[tuple[str, ...]]:
    pool: list[tuple[str, ...]] = []
    for option in need.options:
        pool.extend(itertools.islice(option.sets(), cap))
    pool.sort(key=key)
    return pool[:cap]


def _score_need(structure: Structure, sid: str, outcomes: Mapping[str, str], in_mandatory: set[str],
                changeable: Callable[[str], bool]) -> ScoreNeed | None:
    """What a score still needs once the mandatory criteria are met, or None when it needs nothing."""
    weights = structure.weights[sid]
    met = sum((w for c, w in weights.items() if outcomes.get(c) == "met"), Fraction(0))
    added = sum((w for c, w in weights.items() if c in in_mandatory), Fraction(0))
    deficit = structure.required[sid] - met - added
    if deficit <= 0:
        return None
    open_ = sorted((c for c in weights if outcomes.get(c) != "met" and c not in in_mandatory),
                   key=lambda c: structure.order.get(c, 0))
    candidates = tuple(c for c in open_ if changeable(c))
    excluded = tuple(c for c in open_ if not changeable(c))
    options, complete = score_options([(c, weights[c]) for c in candidates], deficit)
    return ScoreNeed(sid, met, structure.required[sid], added, deficit, candidates, excluded, options, complete)


class _Ranking:
    """How change sets are completed with the mandatory criteria and ordered: fewest criteria, then least
    weight, then the criteria's order in the ruleset."""

    def __init__(self, structure: Structure, scores: Sequence[str], mandatory: Sequence[str]) -> None:
        self.structure = structure
        self.scores = scores
        self.mandatory = mandatory

    def ordered(self, members: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(members, key=lambda c: self.structure.order.get(c, 0)))

    def weight_of(self, s: Sequence[str]) -> Fraction:
        weights = self.structure.weights
        return sum((weights[sid].get(c, Fraction(0)) for sid in self.scores for c in s), Fraction(0))

    def key(self, s: tuple[str, ...]) -> tuple[object, ...]:
        return (len(s), self.weight_of(s), tuple(sorted(self.structure.order.get(c, 0) for c in s)))

    def with_mandatory(self, parts: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
        return self.ordered(set(self.mandatory).union(*parts))


def _disjoint(needs: Sequence[ScoreNeed]) -> bool:
    """Whether no two scores share a candidate."""
    seen: set[str] = set()
    for n in needs:
        if seen & set(n.candidates):
            return False
        seen |= set(n.candidates)
    return True


def _overlapping_sets(needs: Sequence[ScoreNeed], rank: _Ranking) -> tuple[list[tuple[str, ...]], bool]:
    """Scores that share candidates: the unions of one minimal subset each that are minimal, ranked, and
    whether the enumeration was exhaustive."""
    exhaustive = True
    per_need: list[list[tuple[str, ...]]] = []
    for n in needs:
        subsets = list(itertools.islice((s for o in n.options for s in o.sets()), MAX_OVERLAP_ENUMERATION + 1))
        if len(subsets) > MAX_OVERLAP_ENUMERATION:
            exhaustive = False
            subsets = subsets[:MAX_OVERLAP_ENUMERATION]
        per_need.append(subsets)
    if math.prod(len(s) for s in per_need) > MAX_OVERLAP_ENUMERATION:
        exhaustive = False
    unions = {frozenset(rank.with_mandatory(parts))
              for parts in itertools.islice(itertools.product(*per_need), MAX_OVERLAP_ENUMERATION)}
    minimal = [u for u in unions if not any(v < u for v in unions)]
    return sorted((rank.ordered(u) for u in minimal), key=rank.key), exhaustive


#: The most combinations of one set per score `solve` ranks for a tier whose scores share no candidate: beyond
#: it, the first sets of each score are combined (the longest list halved until within), so that a large cap
#: with several scores (1,000 sets of each of two: 10^6) stays bounded; the count stays exact.
MAX_COMBINED = 10_000


def solve(structure: Structure, requires: Sequence[str], outcomes: Mapping[str, str],
          changeable: Callable[[str], bool], *, cap: int = 10) -> TierSolution:
    """The minimal change sets for a tier that requires ``requires`` (see the module docstring).

    Args:
        structure: the ruleset's groups, scores and criteria order.
        requires: the tier's requirement (criterion, group and score ids).
        outcomes: every criterion's outcome (``met``, ``not_met``, ``unknown``).
        changeable: whether some change of the assessment can make a criterion met.
        cap: how many change sets to list (the count and the options stay exact).
    """
    direct, scores = flatten(structure, requires)
    mandatory = tuple(c for c in direct if outcomes.get(c) != "met")
    in_mandatory = set(mandatory)
    fixed = tuple(c for c in mandatory if not changeable(c))
    found = (_score_need(structure, sid, outcomes, in_mandatory, changeable) for sid in scores)
    needs = tuple(n for n in found if n is not None)
    exhaustive = all(n.complete for n in needs)
    if any(not n.reachable for n in needs):
        return TierSolution(mandatory, fixed, needs, 0, exhaustive, ())
    rank = _Ranking(structure, scores, mandatory)
    if _disjoint(needs):
        total = math.prod(n.combinations for n in needs)
        tops = [_top_sets(n, cap, rank.key) for n in needs]
        while math.prod(len(t) for t in tops) > MAX_COMBINED:  # the first of each score's sets only
            longest = max(range(len(tops)), key=lambda i: len(tops[i]))
            tops[longest] = tops[longest][:max(1, len(tops[longest]) // 2)]
        sets = sorted({rank.with_mandatory(parts) for parts in itertools.product(*tops)}, key=rank.key)[:cap]
        return TierSolution(mandatory, fixed, needs, total, exhaustive, tuple(sets))
    ranked, complete = _overlapping_sets(needs, rank)
    return TierSolution(mandatory, fixed, needs, len(ranked), exhaustive and complete, tuple(ranked[:cap]))


# -- counted in inputs --------------------------------------------------------------------------
#
# A change of the assessment is a change of an *input*, and one input may feed several criteria (a
# Gold threshold and a Silver baseline on one indicator; the steps of a credit worth 1 to 3 points;
# one computed index read by every band). So what it takes is counted in inputs: each criterion to
# turn met names the *units* it needs (an input set to a value, or a condition to meet when its
# condition is described rather than given as values); a unit turns every criterion met whose
# units it completes. The tier's requirement over units has the shape of the requirement over
# criteria: a criterion required directly makes its units mandatory; a score gets, per unit, the
# weight of the criteria that unit completes on its own (beside the mandatory units), and the
# criteria the mandatory units complete count as met. `solve` on that structure gives the
# minimal sets of units, exactly as it gives them for criteria.

#: The pseudo criterion of a unit structure that holds a score's weight already met.
MET = "\x00met"
#: The pseudo criterion of a score that holds what the numbers it weighs as they are count (met).
POINTS = "\x00points"
#: Joins the units of a criterion that needs several of them beside the mandatory ones.
JOIN = "\x00"


def unit_structure(structure: Structure, requires: Sequence[str], outcomes: Mapping[str, str],
                   units_of: Mapping[str, tuple[str, ...] | None]
                   ) -> tuple[Structure, tuple[str, ...], tuple[str, ...]]:
    """The tier's requirement over units: (the structure, the mandatory units, the fixed mandatory criteria).

    ``units_of`` gives, for each criterion not met, the units it needs (None: no change can make it met).
    """
    direct, scores = flatten(structure, requires)
    mandatory_criteria = [c for c in direct if outcomes.get(c) != "met"]
    fixed = tuple(c for c in mandatory_criteria if units_of.get(c) is None)
    mandatory = tuple(dict.fromkeys(u for c in mandatory_criteria for u in (units_of.get(c) or ())))
    in_mandatory = set(mandatory)
    order: dict[str, int] = {u: i for i, u in enumerate(mandatory)}
    weights: dict[str, dict[str, Fraction]] = {}
    for sid in scores:
        met = Fraction(0)
        per_unit: dict[str, Fraction] = {}
        for cid in sorted(structure.weights[sid], key=lambda c: structure.order.get(c, 0)):
            weight = structure.weights[sid][cid]
            units = units_of.get(cid, ()) if outcomes.get(cid) != "met" else ()
            if units is None:  # cannot change: left out
                continue
            rest = [u for u in units if u not in in_mandatory]
            if not rest:  # met already, or met by the mandatory units
                met += weight
                continue
            key = JOIN.join(rest)
            per_unit[key] = per_unit.get(key, Fraction(0)) + weight
            order.setdefault(key, len(order))
        weights[sid] = {MET: met, **per_unit}
    required = {sid: structure.required[sid] for sid in scores}
    return Structure({}, weights, required, order), mandatory, fixed


def solve_units(structure: Structure, requires: Sequence[str], outcomes: Mapping[str, str],
                units_of: Mapping[str, tuple[str, ...] | None], *, cap: int = 10) -> tuple[TierSolution, Structure]:
    """The minimal sets of units (fewest first) that make a tier met: `solve` over
    `unit_structure`, and that structure. The sets list units (a unit that stands for several is split);
    ``mandatory`` lists the mandatory units, ``fixed`` the mandatory criteria that no change can make met."""
    units, mandatory, fixed = unit_structure(structure, requires, outcomes, units_of)
    _, scores = flatten(structure, requires)
    if fixed:
        return TierSolution(mandatory, fixed, (), 0, True, ()), units
    sol = solve(units, [*mandatory, *scores], {MET: "met"}, lambda unit: True, cap=cap)
    sets = tuple(tuple(dict.fromkeys(u for key in s for u in key.split(JOIN))) for s in sol.sets)
    return TierSolution(mandatory, (), sol.needs, sol.total, sol.exhaustive, sets), units


#: Choices among the units of criteria met by any one of several (`solve_choices`) tried before the result says
#: it is not exhaustive.
MAX_CHOICES = 64


def solve_choices(structure: Structure, requires: Sequence[str], outcomes: Mapping[str, str],
                  units_of: Mapping[str, tuple[str, ...] | None], either: Mapping[str, tuple[str, ...]], *,
                  cap: int = 10) -> TierSolution:
    """The minimal sets of units when some criteria are met by any one of several units (``either``: a band
    class that one of several inputs can move the value into).

    Exact: every minimal set meets each such criterion by one of its units, so it is a minimal set of
    `solve_units` for that choice; the sets of every choice that are minimal by inclusion among all of them
    are therefore exactly the minimal sets. Each choice is enumerated up to `MAX_OVERLAP_ENUMERATION` sets and
    at most `MAX_CHOICES` choices are tried (beyond either, the result says it is not exhaustive). ``needs``
    are the score needs of the first choice (the others may differ); ``mandatory`` the units every set has.
    """
    ids = list(either)
    combos = itertools.product(*(either[c] for c in ids))
    chosen = list(itertools.islice(combos, MAX_CHOICES + 1))
    exhaustive = len(chosen) <= MAX_CHOICES
    order: dict[str, int] = {}
    found: set[frozenset[str]] = set()
    first: TierSolution | None = None
    for choice in chosen[:MAX_CHOICES]:
        picked = {c: (u,) for c, u in zip(ids, choice, strict=True)}
        sol, _ = solve_units(structure, requires, outcomes, {**units_of, **picked}, cap=MAX_OVERLAP_ENUMERATION)
        if sol.fixed:
            return sol
        first = first or sol
        exhaustive = exhaustive and sol.exhaustive and sol.total <= len(sol.sets)
        for s in sol.sets:
            for u in s:
                order.setdefault(u, len(order))
            found.add(frozenset(s))
    minimal = [s for s in found if not any(t < s for t in found)]
    ranked = sorted((tuple(sorted(s, key=order.__getitem__)) for s in minimal),
                    key=lambda s: (len(s), [order[u] for u in s]))
    common = tuple(u for u in order if all(u in s for s in minimal)) if minimal else ()
    needs = first.needs if first is not None else ()
    return TierSolution(common, (), needs, len(ranked), exhaustive, tuple(ranked[:cap]))
