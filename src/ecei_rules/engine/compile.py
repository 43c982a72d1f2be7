"""Compile a validated ruleset document into a :class:`Plan`, checking everything that can
be checked before an assessment arrives: names, types, references, cycles, coverage.

Problems are returned as :class:`Problem` (a code, a message, a JSON pointer into the
document and, for conditions, a character offset); the loader turns them into located
diagnostics.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ecei_rules.core.pointers import pointer_join
from ecei_rules.engine.decision import ParameterUse
from ecei_rules.engine.fast import FastPlan
from ecei_rules.engine.text import TextPlan
from ecei_rules.errors import did_you_mean
from ecei_rules.language.cost import Costed, check_costs
from ecei_rules.language.expr import BOOL, DATE, DEC, INT, STR, Compiled, Scope, Ty, compile_expression
from ecei_rules.ruleset.dates import DateBounds
from ecei_rules.ruleset.inputs import AssessmentValidator, Field, InputResolver
from ecei_rules.ruleset.model import (
    NONE_LABEL,
    Criterion,
    Group,
    InputSpec,
    Parameter,
    RulesetDocument,
    Score,
    ValidityRule,
)
from ecei_rules.ruleset.numbers import add_number_problems


@dataclass(frozen=True)
class Problem:
    """A problem found while compiling, located by JSON pointer (and offset in a condition)."""

    code: str
    message: str
    pointer: str
    offset: int | None = None
    suggestion: str | None = None


def parameter_use(name: str, p: Parameter) -> ParameterUse:
    """The record of a parameter as decisions show it (value, unit, provenance)."""
    return ParameterUse.model_construct(
        name=name, value=p.value, unit=p.unit, provenance=p.provenance,
        source=p.source if p.source is not None else (p.assumed or ""),
    )


@dataclass(frozen=True)
class CriterionPlan:
    """A compiled criterion, with what it reads (sorted) and the parameters it uses."""

    id: str
    spec: Criterion
    compiled: Compiled
    reads: tuple[str, ...]
    parameters: tuple[ParameterUse, ...]


@dataclass(frozen=True)
class GroupPlan:
    """A group: met when every member is met."""

    id: str
    spec: Group


@dataclass(frozen=True)
class ScorePlan:
    """A weighted score over criteria with its threshold parameter."""

    id: str
    spec: Score
    threshold: Decimal | int
    total: Decimal | int
    threshold_use: ParameterUse

    @functools.cached_property
    def required(self) -> Fraction:
        """The met weight needed: threshold x total, exactly."""
        return Fraction(self.threshold) * Fraction(self.total)


@dataclass(frozen=True)
class RulePlan:
    """A compiled validity rule."""

    spec: ValidityRule
    when: Compiled | None
    valid_until: Compiled


@dataclass
class Plan:
    """Everything the engine needs to evaluate one ruleset version, compiled once."""

    doc: RulesetDocument
    inputs: Field
    validator: AssessmentValidator
    criteria: list[CriterionPlan]
    composites: list[GroupPlan | ScorePlan]  # in dependency order
    valid_from: Compiled
    rules: list[RulePlan]
    kinds: dict[str, str] = field(default_factory=dict)  # id -> criterion | group | score

    @functools.cached_property
    def fast(self) -> FastPlan:
        """The constants :func:`ecei_rules.evaluate` runs with, worked out on first use."""
        return FastPlan(self)

    @functools.cached_property
    def text(self) -> TextPlan:
        """The constants and memo tables of :func:`ecei_rules.engine.evaluate.decision_text`."""
        return TextPlan(self)


def param_type(p: Parameter) -> Ty:
    """The static type of a parameter's value."""
    v = p.value
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT
    if isinstance(v, Decimal):
        return DEC
    if isinstance(v, dt.date):
        return DATE
    if isinstance(v, tuple):
        return Ty("list", item=STR, size=len(v))
    return STR


def _date_bounds(doc: RulesetDocument, root: Field, add: Any) -> None:
    """Bound every date input that month_end shifts (see :mod:`ecei_rules.ruleset.dates`)."""
    bounds = DateBounds(root, {name: p.value for name, p in doc.parameters.items()}, add)
    for cid, crit in doc.criteria.items():
        bounds.expression(crit.when, pointer_join("/criteria", cid, "when"))
    bounds.expression(doc.validity.valid_from, "/validity/valid_from")
    for i, rule in enumerate(doc.validity.rules):
        base = pointer_join("/validity/rules", i)
        if rule.when is not None:
            bounds.expression(rule.when, pointer_join(base, "when"))
        bounds.expression(rule.valid_until, pointer_join(base, "valid_until"))

    def checks(f: Field, pointer: str) -> None:
        if f.kind == "object":
            for i, check in enumerate(f.spec.checks):
                bounds.expression(check.rule, pointer_join(pointer, "checks", i, "rule"), f.fields)
            for name, sub in f.fields.items():
                checks(sub, pointer_join(pointer, "fields", name))
        elif f.kind == "list" and f.items is not None:
            checks(f.items, pointer_join(pointer, "items"))

    for name, f in root.fields.items():
        checks(f, pointer_join("/inputs", name))
    bounds.apply()


def build_plan(doc: RulesetDocument) -> tuple[Plan | None, list[Problem]]:
    """Compile ``doc``; return the plan (None if there were errors) and all problems."""
    problems: list[Problem] = []

    def add(code: str, message: str, pointer: str, offset: int | None = None, suggestion: str | None = None) -> None:
        problems.append(Problem(code, message, pointer, offset, suggestion))

    # -- inputs ----------------------------------------------------------------------------
    resolver = InputResolver(doc.types, doc.catalogues)
    root = Field("object", InputSpec(type="object", required=True))
    for name, spec in doc.inputs.items():
        root.fields[name] = resolver.resolve(spec, pointer_join("/inputs", name))
    for code, message, pointer, suggestion in resolver.problems:
        add(code, message, pointer, None, suggestion)
    for name in doc.inputs:
        if name in ("params", "label", "true", "false"):
            add("E108", f"the input name '{name}' is reserved in conditions", pointer_join("/inputs", name))
    for cat_id, cat in doc.catalogues.items():
        for item_id, item in cat.items.items():
            if (item.source is None) == (item.assumed is None) and cat.source is None:
                add("E102", "give 'source' or 'assumed' for this catalogue item (or a 'source' for the catalogue)",
                    pointer_join("/catalogues", cat_id, "items", item_id))

    params = {name: (param_type(p), p.value) for name, p in doc.parameters.items()}
    input_types = {name: f.ty() for name, f in root.fields.items()}
    scope = Scope(inputs=input_types, params=params)

    def compile_at(text: str, pointer: str, want: Ty, sc: Scope = scope) -> Compiled | None:
        compiled, errors = compile_expression(text, sc)
        for e in errors:
            add(e.code, e.message, pointer, e.offset, e.suggestion)
        if compiled is None or compiled.ty.kind in (want.kind, "any"):
            return compiled
        if want.kind == "decimal" and compiled.ty.numeric:
            return compiled
        add("E204", f"this must be a {want.describe()}, but it is a {compiled.ty.describe()}",
            pointer, 0, "compare it, e.g. x >= params.minimum" if want.kind == "boolean" else None)
        return None

    costed: list[Costed] = []  # every compiled condition with how often a decision may run it

    # consistency checks of object inputs, compiled in the object's own scope; a check of an
    # object inside lists runs once per item
    def object_checks(f: Field, pointer: str, runs: int = 1, why: str = "") -> None:
        if f.kind == "object":
            for i, check in enumerate(f.spec.checks):
                sc = Scope(inputs={k: sub.ty() for k, sub in f.fields.items()}, params=params)
                where = pointer_join(pointer, "checks", i, "rule")
                c = compile_at(check.rule, where, BOOL, sc)
                if check.field is not None and check.field not in f.fields:
                    add("E104", f"unknown field '{check.field}'", pointer_join(pointer, "checks", i, "field"),
                        None, did_you_mean(check.field, f.fields))
                if c is not None:
                    f.checks.append((c, check.message, check.field))
                    costed.append(Costed(where, c, runs, why))
            for name, sub in f.fields.items():
                object_checks(sub, pointer_join(pointer, "fields", name), runs, why)
        elif f.kind == "list" and f.items is not None:
            step = f"once per item of {pointer} (up to {f.max_items:,})"
            object_checks(f.items, pointer_join(pointer, "items"), runs * max(f.max_items, 1),
                          f"{why} and {step}" if why else step)

    for name, f in root.fields.items():
        object_checks(f, pointer_join("/inputs", name))

    # -- ids -------------------------------------------------------------------------------
    kinds: dict[str, str] = {}
    for section, ids in (("criteria", doc.criteria), ("groups", doc.groups), ("scores", doc.scores)):
        for item_id in ids:
            if item_id in kinds:
                add("E108", f"the id '{item_id}' is used by both {kinds[item_id]} and {section}",
                    pointer_join("/" + section, item_id))
            kinds.setdefault(item_id, {"criteria": "criterion", "groups": "group", "scores": "score"}[section])

    # -- criteria --------------------------------------------------------------------------
    criteria: list[CriterionPlan] = []
    for cid, crit in doc.criteria.items():
        c = compile_at(crit.when, pointer_join("/criteria", cid, "when"), BOOL)
        if c is not None:
            costed.append(Costed(pointer_join("/criteria", cid, "when"), c))
            uses = tuple(parameter_use(n, doc.parameters[n]) for n in sorted(c.params))
            criteria.append(CriterionPlan(cid, crit, c, tuple(sorted(c.reads)), uses))

    # -- groups and scores -----------------------------------------------------------------
    def check_refs(refs: tuple[str, ...], pointer: str) -> None:
        for i, ref in enumerate(refs):
            if ref not in kinds:
                add("E106", f"unknown criterion, group or score '{ref}'", pointer_join(pointer, i),
                    None, did_you_mean(ref, kinds))

    for gid, group in doc.groups.items():
        check_refs(group.all_of, pointer_join("/groups", gid, "all_of"))
    score_plans: dict[str, ScorePlan] = {}
    for sid, score in doc.scores.items():
        base = pointer_join("/scores", sid)
        for ref in score.weights:
            if kinds.get(ref) != "criterion":
                add("E106", f"'{ref}' is not a criterion", pointer_join(base, "weights", ref), None,
                    did_you_mean(ref, doc.criteria))
        threshold: Any = None
        if score.threshold not in doc.parameters:
            add("E105", f"unknown parameter '{score.threshold}'", pointer_join(base, "threshold"), None,
                did_you_mean(score.threshold, doc.parameters))
        else:
            threshold = doc.parameters[score.threshold].value
            if isinstance(threshold, bool) or not isinstance(threshold, (int, Decimal)):
                add("E204", f"the threshold parameter '{score.threshold}' must be a number between 0 and 1, "
                    f"not {param_type(doc.parameters[score.threshold]).describe()} {threshold!r}",
                    pointer_join("/parameters", score.threshold, "value"), None,
                    'a number is written without quotes: 0.8, not "0.8"' if isinstance(threshold, str) else None)
                threshold = None
            elif not 0 <= threshold <= 1:
                add("E103", f"the threshold parameter '{score.threshold}' must lie between 0 and 1 (a share of "
                    f"the total weight), not {threshold}", pointer_join("/parameters", score.threshold, "value"))
                threshold = None
        if threshold is not None:
            total = sum(score.weights.values(), start=Decimal(0))
            score_plans[sid] = ScorePlan(sid, score, threshold, int(total) if total == int(total) else total,
                                         parameter_use(score.threshold, doc.parameters[score.threshold]))

    # dependency order, cycle detection
    deps: dict[str, tuple[str, ...]] = {gid: g.all_of for gid, g in doc.groups.items()}
    deps.update({sid: tuple(s.weights) for sid, s in doc.scores.items()})
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if state.get(node) == 2 or node not in deps:
            return
        if state.get(node) == 1:
            cycle = " -> ".join((*trail[trail.index(node):], node))
            section = "groups" if node in doc.groups else "scores"
            add("E108", f"groups refer to each other in a cycle: {cycle}", pointer_join("/" + section, node))
            return
        state[node] = 1
        for dep in deps[node]:
            visit(dep, (*trail, node))
        state[node] = 2
        order.append(node)

    for node in deps:
        visit(node, ())
    composites: list[GroupPlan | ScorePlan] = []
    for node in order:
        if node in doc.groups:
            composites.append(GroupPlan(node, doc.groups[node]))
        elif node in score_plans:
            composites.append(score_plans[node])

    # -- labels and tiers ------------------------------------------------------------------
    labels = doc.labels
    if len(set(labels)) != len(labels):
        add("E108", "a label is listed twice", "/labels")
    if NONE_LABEL in labels:
        add("E108", "'none' is implied below every label; do not list it", "/labels")
    for label in labels:
        if label not in doc.tiers:
            add("E102", f"the label '{label}' has no tier under 'tiers'", "/tiers")
    for label, tier in doc.tiers.items():
        if label not in labels:
            add("E106", f"the tier '{label}' is not one of the labels", pointer_join("/tiers", label), None,
                did_you_mean(label, labels))
        check_refs(tier.requires, pointer_join("/tiers", label, "requires"))

    # -- validity --------------------------------------------------------------------------
    label_scope = Scope(inputs=input_types, params=params,
                        variables={"label": Ty("string", values=tuple(labels))})
    valid_from = compile_at(doc.validity.valid_from, "/validity/valid_from", DATE, label_scope)
    rules: list[RulePlan] = []
    covered: set[str] = set()
    for i, rule in enumerate(doc.validity.rules):
        base = pointer_join("/validity/rules", i)
        for j, label in enumerate(rule.labels):
            if label not in labels:
                add("E106", f"unknown label '{label}'", pointer_join(base, "labels", j), None,
                    did_you_mean(label, labels))
        when = compile_at(rule.when, pointer_join(base, "when"), BOOL, label_scope) if rule.when else None
        until = compile_at(rule.valid_until, pointer_join(base, "valid_until"), DATE, label_scope)
        if until is not None and (rule.when is None or when is not None):
            rules.append(RulePlan(rule, when, until))
        costed.extend(Costed(pointer_join(base, key), c) for key, c in (("when", when), ("valid_until", until))
                      if c is not None)
        if rule.when is None:
            covered.update(rule.labels)
    for label in labels:
        if label not in covered:
            add("E301", f"no validity rule without 'when' covers the label '{label}', so its validity could "
                "be undecided", "/validity/rules", None, "end the list with a rule that has no 'when'")

    if valid_from is not None:
        costed.append(Costed("/validity/valid_from", valid_from))
    for cp in check_costs(costed):
        add("E206", cp.message, cp.pointer, cp.offset, cp.suggestion)
    add_number_problems(doc, add)
    _date_bounds(doc, root, add)
    if problems or valid_from is None:
        return None, problems
    plan = Plan(doc, root, AssessmentValidator(root), criteria, composites, valid_from, rules, kinds)
    return plan, problems
