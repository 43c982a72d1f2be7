"""The runtime plan: what the evaluator runs with, worked out once per checked ruleset.

Built from a :class:`~ecei_rules.ruleset.check.CheckedRuleset` and never changing it:

* each criterion keeps its compiled condition, the JSON pointers it reads already split
  into keys, and the constant part of its result (id, title, clause, condition, parameters);
* each score's weights are scaled to whole numbers, so that met, unknown and required
  weight compare as integers (exactly what the fractions of the reference evaluator give);
  :func:`score_outcome` is the one place the threshold rule is written;
* group and tier results hold only immutable values, so one object per outcome (and, for a
  tier, per list of missing inputs) is built once and shared by every decision;
* results are built with :func:`build`, which sets a frozen model's fields directly, as
  ``model_construct`` does, without its per-field bookkeeping.

The plan's attributes are fixed once built; its memo tables (shared results, split pointers,
score numbers) are bounded by :data:`CACHE_LIMIT` and belong to the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from pydantic import BaseModel

from ecei_rules.core.logic import UNKNOWN, Interval
from ecei_rules.core.pointers import MISSING, split_pointer
from ecei_rules.engine.decision import (
    CriterionResult,
    Decision,
    GroupResult,
    ParameterUse,
    PointsResult,
    ScoreResult,
    TierResult,
)
from ecei_rules.engine.derived import DerivedResult, shown, shown_range
from ecei_rules.engine.needed import Reading
from ecei_rules.language.expr import UNDEFINED, Compiled, walk_keys
from ecei_rules.ruleset.check import CheckedRuleset, DerivedPlan, GroupPlan, RulePlan, ScorePlan
from ecei_rules.ruleset.dates import check_validity_span
from ecei_rules.ruleset.model import RulesetDocument
from ecei_rules.ruleset.subject import ResolvedSubject, resolve

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
#: The setters of a model's instance dictionary and of pydantic's own slots (what
#: ``object.__setattr__`` calls, without looking them up by name each time).
SETTERS: tuple[Any, ...] = tuple(
    vars(BaseModel)[name].__set__ for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__",
                                                 "__pydantic_private__"))
_set_dict, _set_fields, _set_extra, _set_private = SETTERS

#: Shared results are cached per plan up to this many (beyond it they are built per decision).
CACHE_LIMIT = 4096


#: The field names of each decision model, as the one set its instances built here share.
_FIELDS: dict[type[BaseModel], set[str]] = {
    cls: set(cls.model_fields) for cls in (CriterionResult, Decision, DerivedResult, GroupResult, PointsResult,
                                           ScoreResult, TierResult)}


def model_fields(cls: type[BaseModel]) -> set[str]:
    """The field names of a decision model, as the set its instances share."""
    return _FIELDS[cls]


def build(cls: type[M], values: dict[str, Any]) -> M:
    """A frozen model from trusted values holding every field (what ``model_construct`` does for
    complete values; the field set is shared, which is safe because the models are frozen)."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields(obj, _FIELDS[cls])
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def score_outcome(met: int, unknown: int, required_num: int, required_den: int) -> Any:
    """The score rule, exactly: met when the met weight reaches threshold x total
    (``met >= required_num / required_den``); not met when even the unknown weight added could
    not reach it; else unknown. Weights are scaled to integers by the plan."""
    if met * required_den >= required_num:
        return True
    if (met + unknown) * required_den < required_num:
        return False
    return UNKNOWN


@dataclass(frozen=True)
class FastCriterion:
    """A criterion ready to run: its condition, reads and the constant part of its result."""

    id: str
    fn: Any
    inputs: Any  # env -> (pointer -> value read, pointers absent)
    title: str
    clause: str | None
    condition: str
    parameters: tuple[ParameterUse, ...]
    derived: tuple[str, ...] = ()  # the derived values its condition reads


@dataclass(frozen=True)
class FastDerived:
    """A derived value ready to run: its expression, its (transitive) reads, the derived values it
    reads, and the constant part of its result."""

    id: str
    fn: Any
    inputs: Any  # env -> (pointer -> value read, pointers absent)
    derived: tuple[str, ...]
    static: dict[str, Any]


def _derived(d: DerivedPlan) -> FastDerived:
    spec = d.spec
    return FastDerived(d.id, d.compiled.fn, _reader(d.reads), d.derived, {
        "id": d.id, "title": spec.title, "unit": spec.unit, "expression": spec.value, "derived": d.derived,
        "parameters": d.parameters})


def derive_values(plan: Plan, env: dict[str, Any]) -> None:
    """Put each derived value into ``env`` under its name, in dependency order (label mode)."""
    for d in plan.derived:
        env[d.id] = d.fn(env)


def derive(plan: Plan, env: dict[str, Any]) -> tuple[DerivedResult, ...]:
    """Put each derived value into ``env`` under its name, in dependency order, and give their
    results: known, unknown or undefined (see :mod:`ecei_rules.engine.derived`)."""
    out: list[DerivedResult] = []
    seen: dict[str, tuple[str, str | None]] = {}  # id -> (outcome, reason)
    for d in plan.derived:
        sink: list[str] = []
        env[UNDEFINED] = sink
        try:
            value = env[d.id] = d.fn(env)
        finally:
            del env[UNDEFINED]
        read, missing = d.inputs(env)
        reason = between = None
        if value is not UNKNOWN and value.__class__ is not Interval:
            outcome, value = "known", shown(value)
        else:
            reason = _undefined_reason(sink, missing, d.derived, seen)
            if reason is None and value.__class__ is Interval:
                between = shown_range(value.lo, value.hi)
            outcome, value = ("unknown" if reason is None else "undefined"), None
        seen[d.id] = (outcome, reason)
        static = d.static  # the fields in the model's order (a dump of the model keeps it)
        data = {"id": static["id"], "title": static["title"], "unit": static["unit"], "outcome": outcome,
                "value": value, "reason": reason, "range": between, "expression": static["expression"],
                "inputs": read, "missing": missing, "derived": static["derived"], "parameters": static["parameters"]}
        out.append(build(DerivedResult, data))
    return tuple(out)


def _undefined_reason(sink: list[str], missing: tuple[str, ...], reads: tuple[str, ...],
                      seen: dict[str, tuple[str, str | None]]) -> str | None:
    """Why a value without a value is undefined, or None when it is unknown: nothing it reads is
    absent or unknown, and a reason was met (its own first, else the first undefined value it reads)."""
    if missing:
        return None
    reason = sink[0] if sink else None
    for name in reads:
        outcome, why = seen[name]
        if outcome == "unknown":
            return None
        if outcome == "undefined" and reason is None:
            reason = f"{name} is undefined: {why}"
    return reason


def derived_read(names: tuple[str, ...], env: dict[str, Any]) -> dict[str, Any]:
    """{id: value shown, or None unless known} of the derived values ``names`` (a criterion's)."""
    out: dict[str, Any] = {}
    for name in names:
        v = env[name]
        out[name] = None if v is UNKNOWN or v.__class__ is Interval else shown(v)
    return out


@dataclass(frozen=True)
class FastGroup:
    """A group: its members and its three possible results."""

    id: str
    members: tuple[str, ...]
    results: dict[Any, GroupResult]


@dataclass(frozen=True)
class FastPoints:
    """A number a score weighs as it is: its compiled value, its reads, its maximum (exact and
    scaled by the score's scale)."""

    id: str
    fn: Any
    inputs: Any  # env -> (pointer -> value read, pointers absent)
    expression: str
    maximum: Decimal | int
    exact_maximum: Fraction
    scaled_maximum: int


@dataclass(frozen=True)
class FastScore:
    """A score with integer weights: met/scale >= required_num/required_den, exactly."""

    id: str
    weights: tuple[tuple[str, int], ...]
    scale: int
    required_num: int
    required_den: int
    static: dict[str, Any]
    numbers: dict[Any, Decimal | int]  # memo: scaled weight -> its number
    points: tuple[FastPoints, ...] = ()  # numbers weighed as they are (a score's ``points``)


@dataclass(frozen=True)
class FastTier:
    """A tier's requirements and title."""

    label: str
    title: str
    requires: tuple[str, ...]


def _group(comp: GroupPlan) -> FastGroup:
    group = comp.spec
    results = {
        value: build(GroupResult, {"id": comp.id, "title": group.title, "outcome": name, "all_of": group.all_of})
        for value, name in ((True, "met"), (False, "not_met"), (UNKNOWN, "unknown"))
    }
    return FastGroup(comp.id, group.all_of, results)


def _score(comp: ScorePlan) -> FastScore:
    exact = {ref: Fraction(w) for ref, w in comp.spec.weights.items()}
    maxima = {p.id: Fraction(p.maximum) for p in comp.points}
    scale = math.lcm(1, *(f.denominator for f in (*exact.values(), *maxima.values())))
    required = comp.required
    spec = comp.spec
    static = {
        "id": comp.id, "title": spec.title, "clause": spec.clause,
        "total_weight": comp.total,
        "required_weight": exact_number(Fraction(required)),
        "threshold": comp.threshold_use,
        "weights_provenance": "sourced" if spec.source is not None else "assumed",
        "weights_source": spec.source if spec.source is not None else (spec.assumed or ""),
    }
    points = tuple(FastPoints(p.id, p.compiled.fn, _reader(p.reads), p.value, p.maximum, maxima[p.id],
                              int(maxima[p.id] * scale)) for p in comp.points)
    return FastScore(comp.id, tuple((ref, int(f * scale)) for ref, f in exact.items()), scale,
                     required.numerator * scale, required.denominator, static, {}, points)


class Plan:
    """The per-version constants of the evaluator, built from a checked ruleset."""

    __slots__ = ("by_id", "checked", "composites", "criteria", "derived", "doc", "needs", "never", "pointers",
                 "rules", "scores_weights", "subject", "tier_results", "tiers", "valid_from")

    def __init__(self, checked: CheckedRuleset) -> None:
        doc = checked.doc
        s = object.__setattr__
        s(self, "checked", checked)
        s(self, "doc", doc)
        s(self, "valid_from", checked.valid_from)
        s(self, "rules", checked.rules)
        s(self, "never", frozenset(r.spec.id for r in checked.rules if r.valid_until is None))
        s(self, "subject", resolve(doc))
        s(self, "criteria", tuple(
            FastCriterion(c.id, c.compiled.fn, _reader(c.reads), c.spec.title, c.spec.clause, c.spec.when,
                          c.parameters, c.derived)
            for c in checked.criteria))
        s(self, "derived", tuple(_derived(d) for d in checked.derived))
        s(self, "composites", tuple(_group(comp) if isinstance(comp, GroupPlan) else _score(comp)
                                    for comp in checked.composites))
        s(self, "scores_weights", {comp.id: comp.spec.weights for comp in checked.composites
                                   if isinstance(comp, ScorePlan)})
        s(self, "tiers", tuple(FastTier(label, doc.tiers[label].title, doc.tiers[label].requires)
                               for label in doc.labels))
        s(self, "by_id", {**{c.id: c for c in self.criteria}, **{c.id: c for c in self.composites}})
        s(self, "tier_results", {})
        s(self, "pointers", {})
        s(self, "needs", Reading(checked.scope, {d.id: d.spec.value for d in checked.derived},
                                 {d.id: d.reads for d in checked.derived}))

    checked: CheckedRuleset
    doc: RulesetDocument
    valid_from: Compiled
    rules: tuple[RulePlan, ...]
    never: frozenset[str]  # ids of the validity rules that state valid_until: never
    subject: ResolvedSubject
    criteria: tuple[FastCriterion, ...]
    derived: tuple[FastDerived, ...]
    composites: tuple[FastGroup | FastScore, ...]
    scores_weights: dict[str, dict[str, Decimal | int]]
    tiers: tuple[FastTier, ...]
    by_id: dict[str, FastCriterion | FastGroup | FastScore]
    tier_results: dict[tuple[str, str, tuple[str, ...]], TierResult]  # memo, bounded by CACHE_LIMIT
    pointers: dict[str, tuple[str, ...]]  # memo, bounded by CACHE_LIMIT
    needs: Reading  # the parts of conditions an unknown tier's missing reads (compiled on first use)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a runtime plan is frozen: cannot set {name!r}")

    def number(self, score: FastScore, scaled: int | Fraction) -> Decimal | int:
        """A scaled weight as the decision shows it (an int when whole, else a normalised Decimal)."""
        found = score.numbers.get(scaled)
        if found is None:
            found = exact_number(Fraction(scaled, score.scale))
            if len(score.numbers) < CACHE_LIMIT:
                score.numbers[scaled] = found
        return found

    def tier(self, tier: FastTier, name: str, missing: tuple[str, ...]) -> TierResult:
        """The (shared, immutable) result of a tier with this outcome and these missing inputs."""
        key = (tier.label, name, missing)
        found = self.tier_results.get(key)
        if found is None:
            found = build(TierResult, {"label": tier.label, "title": tier.title, "outcome": name,
                                       "requires": tier.requires, "missing": missing})
            if len(self.tier_results) < CACHE_LIMIT:
                self.tier_results[key] = found
        return found

    def split(self, pointer: str) -> tuple[str, ...]:
        """A pointer's keys, remembered."""
        parts = self.pointers.get(pointer)
        if parts is None:
            parts = split_pointer(pointer)
            if len(self.pointers) < CACHE_LIMIT:
                self.pointers[pointer] = parts
        return parts


def validity(plan: Plan, env: dict[str, Any], label: str) -> tuple[Any, Any, str | None, set[str]]:
    """(valid_from, valid_until, the rule applied, the inputs read) for an awarded label; ``env``
    holds the validated data and ``label``. The first rule for the label whose ``when`` is not
    false decides: when it is true, its ``valid_until``; when unknown, no end date."""
    reads: set[str] = set(plan.valid_from.reads)
    start = plan.valid_from.fn(env)
    valid_from = start if start is not UNKNOWN else None
    for rule in plan.rules:
        if label not in rule.spec.labels:
            continue
        applies = rule.when.fn(env) if rule.when is not None else True
        if rule.when is not None:
            reads |= rule.when.reads
        if applies is False:
            continue
        if applies is True:
            until = rule.valid_until
            if until is None:  # valid_until: never
                return valid_from, None, rule.spec.id, reads
            end = until.fn(env)
            reads |= until.reads
            end = end if end is not UNKNOWN else None
            check_validity_span(valid_from, end, rule.spec.id)
            return valid_from, end, rule.spec.id, reads
        break
    return valid_from, None, None, reads


def never_expires(plan: Plan, rule_id: str | None) -> bool:
    """Whether the validity rule applied (by id) states ``valid_until: never``."""
    return rule_id is not None and rule_id in plan.never


def subject_id(plan: Plan, env: dict[str, Any]) -> str | None:
    """The subject's id in validated data (the input the ruleset's subject names), when a string."""
    return plan.subject.id_of(env)


def awarded(plan: Plan, env: dict[str, Any], label: str) -> tuple[Any, Any, str | None, dict[str, Any]]:
    """(valid_from, valid_until, the rule applied, {pointer: value} of the inputs read that have
    a value, in pointer order) for an awarded label; sets ``env["label"]``."""
    env["label"] = label
    valid_from, valid_until, rule_id, reads = validity(plan, env, label)
    inputs: dict[str, Any] = {}
    for pointer in sorted(reads):
        node: Any = env
        for part in plan.split(pointer):
            node = node.get(part, MISSING) if node.__class__ is dict else MISSING
        if node is not MISSING:
            inputs[pointer] = node
    return valid_from, valid_until, rule_id, inputs


def conjunction(values: dict[str, Any], refs: tuple[str, ...]) -> Any:
    """Kleene conjunction of the values of ``refs``: false wins, then unknown, else true."""
    result: Any = True
    for ref in refs:
        v = values[ref]
        if v is False:
            return False
        if v is not True:
            result = UNKNOWN
    return result


def score_value(score: FastScore, values: dict[str, Any],
                env: dict[str, Any] | None = None) -> tuple[Any, Any, int]:
    """(met, not met or unknown; met weight; unknown weight), the weights scaled to integers (the
    met weight a Fraction when a number weighed as it is has no whole scaled value); ``env``, the
    validated data with the derived values, is read only by a score with ``points``."""
    met: Any = 0
    unknown = 0
    for ref, weight in score.weights:
        v = values[ref]
        if v is True:
            met += weight
        elif v is UNKNOWN:
            unknown += weight
    if score.points:
        assert env is not None, "a score with points reads the assessment"
        more, unsure = points_weight(score, env)
        met, unknown = whole(met + more), unknown + unsure
    return score_outcome(met, unknown, score.required_num, score.required_den), met, unknown


def points_weight(score: FastScore, env: dict[str, Any]) -> tuple[Fraction, int]:
    """(met, unknown) weight the numbers a score weighs as they are add, scaled: what each counts,
    or its maximum as unknown weight when it has no value."""
    met = Fraction(0)
    unknown = 0
    for p in score.points:
        counted = points_counted(p, env)
        if counted is None:
            unknown += p.scaled_maximum
        else:
            met += counted * score.scale
    return met, unknown


def whole(value: Any) -> Any:
    """A scaled weight as an int when it is whole (a Fraction otherwise)."""
    return int(value) if value.__class__ is Fraction and value.denominator == 1 else value


def points_counted(p: FastPoints, env: dict[str, Any]) -> Fraction | None:
    """What a number weighed as it is adds to its score, exactly: its value clipped to [0, maximum];
    None when it has no value (unknown, a range, a division by zero)."""
    v = p.fn(env)
    if v is UNKNOWN or v is None or v.__class__ is Interval or v.__class__ is bool:
        return None
    return min(max(Fraction(v), Fraction(0)), p.exact_maximum)


def points_results(score: FastScore, env: dict[str, Any]) -> dict[str, PointsResult]:
    """{name: result} of the numbers a score weighs as they are (empty for a score without points)."""
    out: dict[str, PointsResult] = {}
    for p in score.points:
        counted = points_counted(p, env)
        v = p.fn(env) if counted is not None else None
        out[p.id] = build(PointsResult, {"expression": p.expression, "value": None if v is None else shown(v),
                                         "maximum": p.maximum, "counted": None if counted is None else shown(counted)})
    return out


def absent_inputs(plan: Plan, values: dict[str, Any], env: dict[str, Any], refs: tuple[str, ...],
                  memo: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The absent inputs behind the unknown ones of ``refs`` (sorted), as an unknown tier lists
    them: a criterion's absent reads where its evaluation went (see :mod:`ecei_rules.engine.needed`),
    a group's or score's unknown members'. ``memo`` may hold a criterion's absent reads under its id
    (as the trace mode has them); what it needs is remembered beside them."""
    out: set[str] = set()
    for ref in refs:
        if values[ref] is not UNKNOWN:
            continue
        item = plan.by_id[ref]
        key = ref if not isinstance(item, FastCriterion) else NEEDED + ref
        found = memo.get(key)
        if found is None:
            if isinstance(item, FastCriterion):  # the absent inputs where its evaluation went
                static = memo.get(ref)
                found = plan.needs.needed(item.id, item.condition, env,
                                          static if static is not None else item.inputs(env)[1])
            elif isinstance(item, FastGroup):
                found = absent_inputs(plan, values, env, item.members, memo)
            else:
                found = absent_inputs(plan, values, env, tuple(r for r, _ in item.weights), memo)
                if item.points:  # what the numbers it weighs that have no value need
                    found = tuple(sorted({*found, *(m for p in item.points if points_counted(p, env) is None
                                                    for m in plan.needs.needed(f"points:{item.id}:{p.id}",
                                                                               p.expression, env,
                                                                               p.inputs(env)[1]))}))
            memo[key] = found
        out.update(found)
    return tuple(sorted(out))


#: Where ``absent_inputs`` remembers what a criterion needs (beside its absent reads, under its id).
NEEDED = "\x00needed:"


def _reader(pointers: tuple[str, ...]) -> Any:
    """env -> ({pointer: value} of the pointers present, the pointers absent), pointers in order."""
    missing = MISSING
    if not pointers:
        empty: tuple[str, ...] = ()
        return lambda env: ({}, empty)
    if len(pointers) == 1:
        pointer = pointers[0]
        get = walk_keys(split_pointer(pointer), MISSING)
        absent = (pointer,)

        def read_one(env: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
            v = get(env)
            if v is missing:
                return {}, absent
            return {pointer: v}, ()

        return read_one
    walkers = tuple((p, walk_keys(split_pointer(p), MISSING)) for p in pointers)

    def read_many(env: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        found: dict[str, Any] = {}
        gone: tuple[str, ...] = ()
        for p, get in walkers:
            v = get(env)
            if v is missing:
                gone += (p,)
            else:
                found[p] = v
        return found, gone

    return read_many


def exact_number(value: Fraction) -> Decimal | int:
    """An exact weight as a decision shows it: int when whole, else normalised."""
    if value.denominator == 1:
        return int(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).normalize()
