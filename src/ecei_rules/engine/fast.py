"""The compiled form of a plan that :func:`ecei_rules.evaluate` runs: everything that does
not depend on the assessment is worked out once per ruleset version.

* each criterion keeps its compiled condition, the JSON pointers it reads already split
  into keys, and the constant part of its result (id, title, clause, condition, parameters);
* each score's weights are scaled to whole numbers, so that met, unknown and required
  weight compare as integers (exactly what the fractions of the reference evaluator give);
* group and tier results hold only immutable values, so one object per outcome (and, for a
  tier, per list of missing inputs) is built once and shared by every decision;
* results are built with :func:`build`, which sets a frozen model's fields directly, as
  ``model_construct`` does, without its per-field bookkeeping.

The outcome is the same :class:`~ecei_rules.engine.decision.Decision`, byte for byte, as
:func:`ecei_rules.engine.reference.evaluate_reference` gives; the property suite checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from ecei_rules.core.logic import UNKNOWN
from ecei_rules.core.pointers import MISSING, split_pointer
from ecei_rules.engine.decision import CriterionResult, Decision, GroupResult, ScoreResult, TierResult
from ecei_rules.language.expr import walk_keys

if TYPE_CHECKING:
    from ecei_rules.engine.compile import Plan

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__
_FIELDS: dict[type[BaseModel], set[str]] = {}

#: Shared results are cached per plan up to this many (beyond it they are built per decision).
CACHE_LIMIT = 4096


def _fields(cls: type[BaseModel]) -> set[str]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS.setdefault(cls, set(cls.model_fields))
    return fields


def build(cls: type[M], values: dict[str, Any]) -> M:
    """A frozen model from trusted values holding every field (what ``model_construct`` does for
    complete values; the field set is shared, which is safe because the models are frozen)."""
    fields = _fields(cls)
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", fields)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


@dataclass(frozen=True)
class FastCriterion:
    """A criterion ready to run: its condition, reads and the constant part of its result."""

    id: str
    fn: Any
    inputs: Any  # env -> (pointer -> value read, pointers absent)
    title: str
    clause: str | None
    condition: str
    parameters: tuple[Any, ...]


@dataclass(frozen=True)
class FastGroup:
    """A group: its members and its three possible results."""

    id: str
    members: tuple[str, ...]
    results: dict[Any, GroupResult]


@dataclass
class FastScore:
    """A score with integer weights: met/scale >= required_num/required_den, exactly."""

    id: str
    weights: tuple[tuple[str, int], ...]
    scale: int
    required_num: int
    required_den: int
    static: dict[str, Any]
    numbers: dict[int, Decimal | int]


@dataclass(frozen=True)
class FastTier:
    """A tier's requirements and title."""

    label: str
    title: str
    requires: tuple[str, ...]


class FastPlan:
    """The per-version constants of :func:`ecei_rules.evaluate`."""

    def __init__(self, plan: Plan) -> None:
        from ecei_rules.engine.compile import GroupPlan

        doc = plan.doc
        self.criteria = tuple(
            FastCriterion(c.id, c.compiled.fn, _reader(c.reads),
                          c.spec.title, c.spec.clause, c.spec.when, c.parameters)
            for c in plan.criteria
        )
        composites: list[FastGroup | FastScore] = []
        for comp in plan.composites:
            if isinstance(comp, GroupPlan):
                group = comp.spec
                results = {
                    value: build(GroupResult, {"id": comp.id, "title": group.title, "outcome": name,
                                               "all_of": group.all_of})
                    for value, name in ((True, "met"), (False, "not_met"), (UNKNOWN, "unknown"))
                }
                composites.append(FastGroup(comp.id, group.all_of, results))
            else:
                exact = {ref: Fraction(w) for ref, w in comp.spec.weights.items()}
                scale = math.lcm(1, *(f.denominator for f in exact.values()))
                required = comp.required
                spec = comp.spec
                static = {
                    "id": comp.id, "title": spec.title, "clause": spec.clause,
                    "total_weight": comp.total,
                    "required_weight": _num(Fraction(required)),
                    "threshold": comp.threshold_use,
                    "weights_provenance": "sourced" if spec.source is not None else "assumed",
                    "weights_source": spec.source if spec.source is not None else (spec.assumed or ""),
                }
                composites.append(FastScore(
                    comp.id, tuple((ref, int(f * scale)) for ref, f in exact.items()), scale,
                    required.numerator * scale, required.denominator, static, {}))
        self.composites = tuple(composites)
        self.scores_weights = {comp.id: comp.spec.weights for comp in plan.composites
                               if not isinstance(comp, GroupPlan)}
        self.tiers = tuple(FastTier(label, doc.tiers[label].title, doc.tiers[label].requires)
                           for label in doc.labels)
        self.by_id: dict[str, FastCriterion | FastGroup | FastScore] = {
            **{c.id: c for c in self.criteria}, **{c.id: c for c in self.composites}}
        self.tier_results: dict[tuple[str, str, tuple[str, ...]], TierResult] = {}
        self.pointers: dict[str, tuple[str, ...]] = {}

    def number(self, score: FastScore, scaled: int) -> Decimal | int:
        """A scaled weight as the decision shows it (an int when whole, else a normalised Decimal)."""
        found = score.numbers.get(scaled)
        if found is None:
            found = _num(Fraction(scaled, score.scale))
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
            end = rule.valid_until.fn(env)
            reads |= rule.valid_until.reads
            return valid_from, end if end is not UNKNOWN else None, rule.spec.id, reads
        break
    return valid_from, None, None, reads


def awarded(plan: Plan, fast: FastPlan, env: dict[str, Any],
            label: str) -> tuple[Any, Any, str | None, dict[str, Any]]:
    """(valid_from, valid_until, the rule applied, {pointer: value} of the inputs read that have
    a value, in pointer order) for an awarded label; sets ``env["label"]``."""
    env["label"] = label
    valid_from, valid_until, rule_id, reads = validity(plan, env, label)
    inputs: dict[str, Any] = {}
    for pointer in sorted(reads):
        node: Any = env
        for part in fast.split(pointer):
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


def score_value(score: FastScore, values: dict[str, Any]) -> tuple[Any, int, int]:
    """(met, not met or unknown; met weight; unknown weight), the weights scaled to integers."""
    met = unknown = 0
    for ref, weight in score.weights:
        v = values[ref]
        if v is True:
            met += weight
        elif v is UNKNOWN:
            unknown += weight
    need, den = score.required_num, score.required_den
    if met * den >= need:
        return True, met, unknown
    if (met + unknown) * den < need:
        return False, met, unknown
    return UNKNOWN, met, unknown


def absent_inputs(fast: FastPlan, values: dict[str, Any], env: dict[str, Any], refs: tuple[str, ...],
                  memo: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The absent inputs behind the unknown ones of ``refs`` (sorted), as :func:`run` finds them
    for an unknown tier: a criterion's absent reads, a group's or score's unknown members'."""
    out: set[str] = set()
    for ref in refs:
        if values[ref] is not UNKNOWN:
            continue
        found = memo.get(ref)
        if found is None:
            item = fast.by_id[ref]
            if isinstance(item, FastCriterion):
                found = item.inputs(env)[1]
            elif isinstance(item, FastGroup):
                found = absent_inputs(fast, values, env, item.members, memo)
            else:
                found = absent_inputs(fast, values, env, tuple(r for r, _ in item.weights), memo)
            memo[ref] = found
        out.update(found)
    return tuple(sorted(out))


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


def _num(value: Fraction) -> Decimal | int:
    """An exact weight as the reference evaluator shows it: int when whole, else normalised."""
    if value.denominator == 1:
        return int(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).normalize()


def run(plan: Plan, fast: FastPlan, env: dict[str, Any], ruleset_sha256: str, resolution: Any) -> Decision:
    """Evaluate a validated assessment (``env`` is a copy of it the engine may extend)."""
    values: dict[str, Any] = {}
    missing_of: dict[str, tuple[str, ...]] = {}
    criteria: list[CriterionResult] = []
    append = criteria.append
    result_cls = CriterionResult
    fields = _fields(CriterionResult)
    for c in fast.criteria:
        value = c.fn(env)
        if value is True:
            name = "met"
        elif value is False:
            name = "not_met"
        else:
            value = UNKNOWN
            name = "unknown"
        values[c.id] = value
        read, missing = c.inputs(env)
        missing_of[c.id] = missing
        obj = _new(result_cls)
        _set(obj, "__dict__", {
            "id": c.id, "title": c.title, "clause": c.clause, "outcome": name, "condition": c.condition,
            "inputs": read, "missing": missing, "parameters": c.parameters,
        })
        _set(obj, "__pydantic_fields_set__", fields)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        append(obj)

    groups: list[GroupResult] = []
    scores: list[ScoreResult] = []
    for comp in fast.composites:
        if isinstance(comp, FastGroup):
            result = values[comp.id] = conjunction(values, comp.members)
            groups.append(comp.results[result])
        else:
            value, met, unknown = score_value(comp, values)
            values[comp.id] = value
            data = dict(comp.static)
            data["outcome"] = "met" if value is True else ("not_met" if value is False else "unknown")
            data["met_weight"] = fast.number(comp, met)
            data["unknown_weight"] = fast.number(comp, unknown)
            data["weights"] = dict(fast.scores_weights[comp.id])
            scores.append(build(ScoreResult, {k: data[k] for k in _SCORE_ORDER}))

    tiers: list[TierResult] = []
    label = "none"
    for tier in fast.tiers:
        result = conjunction(values, tier.requires)
        if result is True:
            label = tier.label
            tiers.append(fast.tier(tier, "met", ()))
        elif result is False:
            tiers.append(fast.tier(tier, "not_met", ()))
        else:  # the criteria's absent reads are known: groups and scores are worked out from them
            tiers.append(fast.tier(tier, "unknown", absent_inputs(fast, values, env, tier.requires, missing_of)))
    tiers.reverse()

    valid_from = valid_until = rule_id = None
    validity_inputs: dict[str, Any] = {}
    if label != "none":
        valid_from, valid_until, rule_id, validity_inputs = awarded(plan, fast, env, label)

    org = env.get("organisation")
    org_id = org.get("id") if org.__class__ is dict else None
    doc = plan.doc
    return build(Decision, {
        "methodology": doc.methodology, "version": doc.version, "ruleset_sha256": ruleset_sha256,
        "resolution": resolution, "organisation": org_id if org_id.__class__ is str else None,
        "label": label, "valid_from": valid_from, "valid_until": valid_until, "validity_rule": rule_id,
        "validity_inputs": validity_inputs, "tiers": tuple(tiers), "criteria": tuple(criteria),
        "groups": tuple(groups), "scores": tuple(scores),
    })


_SCORE_ORDER = ("id", "title", "clause", "outcome", "met_weight", "unknown_weight", "total_weight",
                "required_weight", "threshold", "weights", "weights_provenance", "weights_source")


