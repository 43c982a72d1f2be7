"""The production evaluator: one per ruleset version, with a label-only mode and a trace mode.

:func:`evaluator` is the one entry point: it gives the :class:`Evaluator` of a ruleset, built
on first use from the checked ruleset and kept on that ruleset object (never in a global
table). Its modes share one way of deciding: the runtime plan's compiled conditions, Kleene
conjunction and the score rule (:func:`ecei_rules.engine.plan.score_outcome`), with the trace
built in the same pass in trace mode:

* ``label``: the label, its validity, whether a tier is unknown and (on request) the absent
  inputs behind unknown tiers, without the trace, decided by one function generated per version
  (:mod:`ecei_rules.engine.label`; :func:`label_by_closures` is the same mode run closure by
  closure, which the tests compare it with);
* ``decision``: the whole :class:`~ecei_rules.engine.decision.Decision` with its trace, decided
  by one function generated per version (:mod:`ecei_rules.engine.trace`) that calls each
  criterion's closure; the criteria's and scores' results are made when the decision is first
  read there (:func:`decision_by_closures` makes every result at once, the slow way);
* ``text``: the decision's canonical text, written directly by code generated per version
  (:mod:`ecei_rules.engine.text`), which remembers the texts of values it has seen.

Each evaluator owns a :class:`~ecei_rules.engine.serialise.Serialiser`: its text mode writes with
it, and the decisions its trace mode builds keep it, so that their ``canonical_text`` finds the
texts their version's decisions share (no table of the process holds them).

All three agree with :func:`ecei_rules.engine.reference.evaluate_reference`, the independent
oracle, byte for byte; the property and fast-path suites check it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ecei_rules.core.logic import UNKNOWN
from ecei_rules.engine.decision import CriterionResult, Decision, GroupResult, Resolution, ScoreResult, TierResult
from ecei_rules.engine.label import LabelPlan
from ecei_rules.engine.plan import (
    FastGroup,
    Plan,
    absent_inputs,
    awarded,
    build,
    conjunction,
    derive,
    derive_values,
    derived_read,
    never_expires,
    points_results,
    score_value,
    subject_id,
)
from ecei_rules.engine.serialise import Serialiser
from ecei_rules.engine.text import TextPlan
from ecei_rules.engine.trace import TracePlan, criterion_result, result_fields, score_result
from ecei_rules.ruleset.dates import check_validity_span
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL

#: What the label-only mode gives: (label, valid_from, valid_until, whether a tier is unknown,
#: with missing=True each unknown tier's absent inputs, highest first).
Outline = tuple[str, Any, Any, bool, tuple[tuple[str, ...], ...]]


def criterion_values(plan: Plan, env: dict[str, Any]) -> dict[str, Any]:
    """Each criterion's value (True, False or UNKNOWN) on validated data, by id."""
    values: dict[str, Any] = {}
    for c in plan.criteria:
        v = c.fn(env)
        values[c.id] = v if v is True or v is False else UNKNOWN
    return values


def composite_values(plan: Plan, values: dict[str, Any], env: dict[str, Any] | None = None) -> None:
    """Add each group's and score's value to ``values``, in dependency order (``env``: the validated
    data with the derived values, which a score's ``points`` read)."""
    for comp in plan.composites:
        if isinstance(comp, FastGroup):
            values[comp.id] = conjunction(values, comp.members)
        else:
            values[comp.id] = score_value(comp, values, env)[0]


def outcome_values(plan: Plan, env: dict[str, Any]) -> dict[str, Any]:
    """Each criterion's, group's and score's value (True, False or UNKNOWN) on validated data, by id;
    ``env`` is a copy this may extend with the derived values."""
    if plan.derived:
        derive_values(plan, env)
    values = criterion_values(plan, env)
    composite_values(plan, values, env)
    return values


class Evaluator:
    """The evaluator of one ruleset version: its runtime plan, its serialiser and, built on first
    use, the generated writer of canonical text."""

    __slots__ = ("_label", "_lock", "_text", "_trace", "plan", "serialiser")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        #: the writer of this version's decisions and its memo tables (owned here, not by the process)
        self.serialiser = Serialiser()
        self._text: TextPlan | None = None
        self._label: LabelPlan | None = None
        self._trace: TracePlan | None = None
        self._lock = threading.Lock()

    def _built(self, slot: str, make: Callable[[], Any]) -> Any:
        """What ``slot`` holds, made on first use (once when threads share the evaluator)."""
        found = getattr(self, slot)
        if found is None:
            with self._lock:
                found = getattr(self, slot)
                if found is None:
                    found = make()
                    setattr(self, slot, found)
        return found

    @property
    def label_plan(self) -> LabelPlan:
        """The generated label mode: its function and its source (built on first use)."""
        found: LabelPlan = self._label or self._built("_label", lambda: LabelPlan(self.plan))
        return found

    @property
    def trace_plan(self) -> TracePlan:
        """The generated trace mode: its function and its source (built on first use)."""
        found: TracePlan = self._trace or self._built("_trace", lambda: TracePlan(self.plan))
        return found

    @property
    def text_plan(self) -> TextPlan:
        """The generated writer's constants, memo tables and source (built on first use)."""
        found: TextPlan = self._text or self._built("_text", lambda: TextPlan(self.plan, self.serialiser))
        return found

    def label(self, env: dict[str, Any], *, missing: bool = False) -> Outline:
        """The label-only mode on validated data (``env``, a copy this may extend: the derived
        values and the label are put into it, as :func:`label_by_closures` puts them), decided by
        the version's generated function (:mod:`ecei_rules.engine.label`)."""
        found = self._label
        if found is None:
            found = self.label_plan
        return found.decide(env, missing)

    def label_only(self, env: Mapping[str, Any]) -> tuple[str, Any, Any]:
        """(label, valid_from, valid_until) of validated data (``env``, which this never changes):
        the label mode without what it says of unknown tiers, so that only the conditions the
        label needs are worked out (the highest tier first)."""
        found = self._label
        if found is None:
            found = self.label_plan
        return found.quick(env)

    def decision(self, env: dict[str, Any], ruleset_sha256: str, resolution: Resolution) -> Decision:
        """The trace mode on validated data (``env``, a copy this may extend): decided by the
        version's generated function (:mod:`ecei_rules.engine.trace`), the criteria's and scores'
        results made when they are first read."""
        found = self._trace
        if found is None:
            found = self.trace_plan
        run = found.run
        if run is None:  # a version too large to compile: every result made at once
            return decision_by_closures(self, env, ruleset_sha256, resolution)
        plan = self.plan
        derived = derive(plan, env) if plan.derived else ()
        label, tiers, groups, reads, values, scores = run(env)
        decision = _decision(self, env, ruleset_sha256, resolution, label,
                             {"tiers": tiers, "groups": groups, "derived": derived})
        # what the criteria and scores are made from when read: the values run kept and the derived
        # values (not the assessment, which the decision does not hold)
        shown = {d.id: env[d.id] for d in plan.derived} if derived else None
        object.__setattr__(decision, "_rest", partial(found.rest, reads, values, scores, shown))
        return decision

    def text(self, env: dict[str, Any], ruleset_sha256: str, resolution: Resolution) -> str:
        """The trace mode as canonical text (``decision(...).canonical_text()``, byte for byte),
        decided and written by the generated code without building the models; this evaluator's
        serialiser writes what follows the groups."""
        derived = self.serialiser.derived_results(derive(self.plan, env)) if self.plan.derived else ""
        criteria, label, groups, scores, tiers = self.text_plan.decide(env)
        valid_from = valid_until = rule_id = None
        validity_inputs: dict[str, Any] = {}
        if label != NONE_LABEL:
            valid_from, valid_until, rule_id, validity_inputs = awarded(self.plan, env, label)
        plan = self.plan
        doc = plan.doc
        return "".join((criteria, derived + ',"groups":[' if derived else "", groups, self.serialiser.tail(
            label, doc.methodology, subject_id(plan, env), resolution, ruleset_sha256, scores, tiers, valid_from,
            valid_until, validity_inputs, rule_id, doc.version, plan.subject.key,
            False if never_expires(plan, rule_id) else None)))


def decision_by_closures(ev: Evaluator, env: dict[str, Any], ruleset_sha256: str, resolution: Resolution) -> Decision:
    """The trace mode on validated data (``env``, a copy this may extend), run closure by closure
    with every result made at once: what :meth:`Evaluator.decision` gives, the slow way."""
    plan = ev.plan
    values: dict[str, Any] = {}
    missing_of: dict[str, tuple[str, ...]] = {}
    derived = derive(plan, env) if plan.derived else ()
    criteria = _criterion_results(plan, env, values, missing_of)
    groups, scores = _composite_results(plan, values, env)
    tiers: list[TierResult] = []
    label = NONE_LABEL
    for tier in plan.tiers:
        result = conjunction(values, tier.requires)
        if result is True:
            label = tier.label
            tiers.append(plan.tier(tier, "met", ()))
        elif result is False:
            tiers.append(plan.tier(tier, "not_met", ()))
        else:  # the criteria's absent reads are known: groups and scores follow from them
            tiers.append(plan.tier(tier, "unknown", absent_inputs(plan, values, env, tier.requires, missing_of)))
    tiers.reverse()
    return _decision(ev, env, ruleset_sha256, resolution, label, {
        "tiers": tuple(tiers), "criteria": criteria, "groups": groups, "scores": scores, "derived": derived})


def _decision(ev: Evaluator, env: dict[str, Any], ruleset_sha256: str, resolution: Resolution, label: str,
              trace: dict[str, Any]) -> Decision:
    """The decision of ``label`` with its validity and ``trace`` (its tiers, groups and derived
    values, and its criteria and scores when they are made at once, in the fields' order)."""
    plan = ev.plan
    valid_from = valid_until = rule_id = None
    validity_inputs: dict[str, Any] = {}
    if label != NONE_LABEL:
        valid_from, valid_until, rule_id, validity_inputs = awarded(plan, env, label)
    doc = plan.doc
    decision = build(Decision, {
        "methodology": doc.methodology, "version": doc.version, "ruleset_sha256": ruleset_sha256,
        "resolution": resolution, "subject": subject_id(plan, env), "subject_key": plan.subject.key,
        "label": label, "valid_from": valid_from, "valid_until": valid_until, "validity_rule": rule_id,
        "validity_expires": False if never_expires(plan, rule_id) else None,
        "validity_inputs": validity_inputs, **trace,
    })
    object.__setattr__(decision, "_writer", ev.serialiser)  # canonical_text writes with it
    return decision


def label_by_closures(plan: Plan, env: dict[str, Any], *, missing: bool = False) -> Outline:
    """The label-only mode on validated data (``env``, a copy this may extend), run closure by
    closure: what the generated function of :mod:`ecei_rules.engine.label` gives, the slow way."""
    values = outcome_values(plan, env)
    label = NONE_LABEL
    undecided = False
    absent: list[tuple[str, ...]] = []
    memo: dict[str, tuple[str, ...]] = {}
    for tier in plan.tiers:
        result = conjunction(values, tier.requires)
        if result is True:
            label = tier.label
        elif result is UNKNOWN:
            undecided = True
            if missing:
                absent.append(absent_inputs(plan, values, env, tier.requires, memo))
    gone = tuple(reversed(absent))
    if label == NONE_LABEL:
        return label, None, None, undecided, gone
    start, end = _validity_dates(plan, env, label)
    return label, start, end, undecided, gone


def _validity_dates(plan: Plan, env: dict[str, Any], label: str) -> tuple[Any, Any]:
    """valid_from and valid_until of an awarded label, without the inputs read."""
    env["label"] = label
    start = plan.valid_from.fn(env)
    start = None if start is UNKNOWN else start
    for rule in plan.rules:
        if label not in rule.spec.labels:
            continue
        applies = rule.when.fn(env) if rule.when is not None else True
        if applies is False:
            continue
        until = rule.valid_until
        end = until.fn(env) if applies is True and until is not None else UNKNOWN
        end = None if end is UNKNOWN else end
        check_validity_span(start, end, rule.spec.id)
        return start, end
    return start, None


def _criterion_results(plan: Plan, env: dict[str, Any], values: dict[str, Any],
                       missing_of: dict[str, tuple[str, ...]]) -> tuple[CriterionResult, ...]:
    """Each criterion's result: its value (added to ``values``, as :func:`criterion_values`
    gives it, in the same pass), the inputs it read and the absent ones."""
    out: list[CriterionResult] = []
    for c in plan.criteria:
        value = c.fn(env)
        if value is not True and value is not False:
            value = UNKNOWN
        values[c.id] = value
        read, missing = c.inputs(env)
        missing_of[c.id] = missing
        out.append(criterion_result(result_fields(c)[value], read, missing,
                                    derived_read(c.derived, env) if c.derived else None))
    return tuple(out)


def _composite_results(plan: Plan, values: dict[str, Any],
                       env: dict[str, Any]) -> tuple[tuple[GroupResult, ...], tuple[ScoreResult, ...]]:
    """Each group's and score's value (added to ``values``, as :func:`composite_values` gives
    it) and result."""
    groups: list[GroupResult] = []
    scores: list[ScoreResult] = []
    for comp in plan.composites:
        if isinstance(comp, FastGroup):
            result = values[comp.id] = conjunction(values, comp.members)
            groups.append(comp.results[result])
        else:
            value, met, unknown = score_value(comp, values, env)
            values[comp.id] = value
            points = points_results(comp, env) if comp.points else None
            scores.append(score_result(plan, comp, value, met, unknown, points))
    return tuple(groups), tuple(scores)


def evaluator(ruleset: Ruleset) -> Evaluator:
    """The evaluator of ``ruleset``, built on first use and kept on the ruleset object itself
    (built once when threads share the ruleset)."""
    result: Evaluator = ruleset.engine.built(lambda: Evaluator(Plan(ruleset.plan)))
    return result

