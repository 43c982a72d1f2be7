"""The reference evaluator: the engine's semantics written plainly, without the runtime plan
of :mod:`ecei_rules.engine.plan` and independent of the production evaluator
(:mod:`ecei_rules.engine.evaluator`): an oracle, like the durable-rules backend.

:func:`ecei_rules.evaluate` must give exactly the same :class:`Decision` (the same canonical
bytes) for every ruleset and assessment; the property suite and the benchmark check that
against this function, which is kept as simple as possible and is not tuned for speed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ecei_rules.core.logic import UNKNOWN, k_and, outcome
from ecei_rules.core.pointers import MISSING, lookup
from ecei_rules.engine.decision import (
    CriterionResult,
    Decision,
    GroupResult,
    Resolution,
    ScoreResult,
    TierResult,
    given,
)
from ecei_rules.engine.evaluate import Assessment, validated_data
from ecei_rules.ruleset.check import CheckedRuleset, GroupPlan, ScorePlan
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL, RulesetDocument


def evaluate_reference(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment, *,
                       resolution: Resolution | None = None) -> Decision:
    """The straightforward evaluator (one model per result, exact fractions): what
    :func:`~ecei_rules.engine.evaluate.evaluate` must equal, with the same arguments."""
    validated = validated_data(ruleset, assessment)
    plan = ruleset.plan
    doc: RulesetDocument = plan.doc
    env: dict[str, Any] = dict(validated)
    values: dict[str, Any] = {}
    missing_of: dict[str, tuple[str, ...]] = {}

    criteria: list[CriterionResult] = []
    for c in plan.criteria:
        value = c.compiled.fn(env)
        value = value if value is True or value is False else UNKNOWN
        values[c.id] = value
        read: dict[str, Any] = {}
        missing: list[str] = []
        for pointer in c.reads:
            found = lookup(env, pointer)
            if found is MISSING:
                missing.append(pointer)
            else:
                read[pointer] = found
        missing_of[c.id] = tuple(missing)
        criteria.append(CriterionResult.model_construct(
            id=c.id, title=c.spec.title, clause=c.spec.clause, outcome=outcome(value), condition=c.spec.when,
            inputs=read, missing=tuple(missing),
            parameters=c.parameters,
        ))

    def missing_for(refs: tuple[str, ...]) -> tuple[str, ...]:
        out: set[str] = set()
        for ref in refs:
            if values.get(ref) is not UNKNOWN:
                continue
            if ref in missing_of:
                out.update(missing_of[ref])
        return tuple(sorted(out))

    groups: list[GroupResult] = []
    scores: list[ScoreResult] = []
    for comp in plan.composites:
        if isinstance(comp, GroupPlan):
            value = k_and([values[m] for m in comp.spec.all_of])
            values[comp.id] = value
            missing_of[comp.id] = missing_for(comp.spec.all_of)
            groups.append(GroupResult.model_construct(id=comp.id, title=comp.spec.title, outcome=outcome(value),
                                                      all_of=comp.spec.all_of))
        else:
            scores.append(_score(comp, values, missing_of))

    tiers: list[TierResult] = []
    label = NONE_LABEL
    for tier_label in doc.labels:
        tier = doc.tiers[tier_label]
        value = k_and([values[r] for r in tier.requires])
        if value is True:
            label = tier_label
        tiers.append(TierResult.model_construct(
            label=tier_label, title=tier.title, outcome=outcome(value), requires=tier.requires,
            missing=missing_for(tier.requires) if value is UNKNOWN else (),
        ))

    valid_from = valid_until = rule_id = None
    validity_reads: set[str] = set()
    if label != NONE_LABEL:
        env["label"] = label
        valid_from, valid_until, rule_id, validity_reads = reference_validity(plan, env, label)
    validity_inputs = {}
    for pointer in sorted(validity_reads):
        found = lookup(validated, pointer)
        if found is not MISSING:
            validity_inputs[pointer] = found

    org = validated.get("organisation")
    org_id = org.get("id") if isinstance(org, dict) else None
    return Decision.model_construct(
        methodology=doc.methodology, version=doc.version, ruleset_sha256=ruleset.sha256,
        resolution=resolution or given(ruleset.published),
        organisation=org_id if isinstance(org_id, str) else None,
        label=label, valid_from=valid_from, valid_until=valid_until, validity_rule=rule_id,
        validity_inputs=validity_inputs,
        tiers=tuple(reversed(tiers)), criteria=tuple(criteria), groups=tuple(groups), scores=tuple(scores),
    )


def _score_value(comp: ScorePlan, values: dict[str, Any]) -> tuple[Any, Decimal, Decimal, Fraction]:
    """(value, met weight, unknown weight, required weight) of a score, in exact fractions."""
    met = unknown = Decimal(0)
    for ref, weight in comp.spec.weights.items():
        v = values[ref]
        if v is True:
            met += weight
        elif v is UNKNOWN:
            unknown += weight
    required = Fraction(comp.threshold) * Fraction(comp.total)
    if Fraction(met) >= required:
        value: Any = True
    elif Fraction(met + unknown) < required:
        value = False
    else:
        value = UNKNOWN
    return value, met, unknown, required


def reference_label(ruleset: Ruleset, criteria: dict[str, Any]) -> str:
    """The label that criterion values (True, False or UNKNOWN by id) give, worked out plainly:
    groups and scores in dependency order, then the highest tier met."""
    plan = ruleset.plan
    values = dict(criteria)
    for comp in plan.composites:
        if isinstance(comp, GroupPlan):
            values[comp.id] = k_and([values[m] for m in comp.spec.all_of])
        else:
            values[comp.id] = _score_value(comp, values)[0]
    label = NONE_LABEL
    for tier_label in plan.doc.labels:
        if k_and([values[r] for r in plan.doc.tiers[tier_label].requires]) is True:
            label = tier_label
    return label


def reference_validity(plan: CheckedRuleset, env: dict[str, Any],
                       label: str) -> tuple[Any, Any, str | None, set[str]]:
    """(valid_from, valid_until, the rule applied, the inputs read) of an awarded label; ``env``
    holds the validated data and ``label``. The first rule for the label whose ``when`` is not
    false decides: when it is true, its ``valid_until``; when unknown, no end date."""
    reads: set[str] = set(plan.valid_from.reads)
    start = plan.valid_from.fn(env)
    for rule in plan.rules:
        if label not in rule.spec.labels:
            continue
        applies = True if rule.when is None else rule.when.fn(env)
        if rule.when is not None:
            reads |= rule.when.reads
        if applies is True:
            end = rule.valid_until.fn(env)
            reads |= rule.valid_until.reads
            return (None if start is UNKNOWN else start, None if end is UNKNOWN else end, rule.spec.id, reads)
        if applies is not False:
            break
    return None if start is UNKNOWN else start, None, None, reads


def _score(comp: ScorePlan, values: dict[str, Any], missing_of: dict[str, tuple[str, ...]]) -> ScoreResult:
    value, met, unknown, required = _score_value(comp, values)
    missing: set[str] = set()
    for ref in comp.spec.weights:
        if values[ref] is UNKNOWN:
            missing.update(missing_of.get(ref, ()))
    total = comp.total
    values[comp.id] = value
    missing_of[comp.id] = tuple(sorted(missing))
    spec = comp.spec
    return ScoreResult.model_construct(
        id=comp.id, title=spec.title, clause=spec.clause, outcome=outcome(value),
        met_weight=_num(met), unknown_weight=_num(unknown), total_weight=total,
        required_weight=_num(Decimal(required.numerator) / Decimal(required.denominator)),
        threshold=comp.threshold_use, weights=dict(spec.weights),
        weights_provenance="sourced" if spec.source is not None else "assumed",
        weights_source=spec.source if spec.source is not None else (spec.assumed or ""),
    )


def _num(value: Decimal) -> Decimal | int:
    return int(value) if value == value.to_integral_value() else value.normalize()
