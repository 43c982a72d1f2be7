"""The evaluator's trace mode, generated per version: a decision whose trace is built as it is read.

:meth:`ecei_rules.engine.evaluator.Evaluator.decision` gives the whole
:class:`~ecei_rules.engine.decision.Decision`. What decides it is worked out at once, by one
straight-line function written per version: each input a criterion reads is walked once into a
local variable (its value kept in a flat tuple), each criterion is decided by its compiled
closure (the compiler's meaning, operators included: a mistake in the compiler shows as a
difference from the reference evaluator), then each group, score and tier in local variables;
a group's and a tier's results are the plan's shared objects, an unknown tier's absent inputs
are :func:`ecei_rules.engine.plan.absent_inputs`. The label, its validity, the tiers, groups and
derived values are in the decision when it is returned.

The criteria's and the scores' results (one object each, what most of a decision's cost was)
are made when the decision is first read there (:meth:`TracePlan.rest`), from what the function
kept: each criterion's value, the values of the inputs it read (the flat tuple, so the inputs a
criterion shows are the values it was decided on), each score's met and unknown weights and the
numbers it weighs as they are. The decision keeps the plan and those values (and the derived
values a criterion shows), not the assessment.

Only generated names and whole numbers go into the source (``TracePlan.source``, to read); every
key, id and compiled function is bound in its namespace, so nothing a ruleset holds can become
code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from ecei_rules.core.logic import OUTCOMES, UNKNOWN
from ecei_rules.core.pointers import MISSING, split_pointer
from ecei_rules.engine.decision import CriterionResult, ScoreResult, TierResult
from ecei_rules.engine.label import criterion_function
from ecei_rules.engine.plan import (
    SETTERS,
    FastCriterion,
    FastGroup,
    FastScore,
    FastTier,
    Plan,
    absent_inputs,
    build,
    derived_read,
    model_fields,
    points_results,
    points_weight,
    whole,
)
from ecei_rules.engine.text import Source, conjunction_lines, map_presence, scalar_input
from ecei_rules.ruleset.model import NONE_LABEL

#: env -> (label, tiers highest first, groups, the values of the inputs read, the criteria's
#: values, each score's (value, met weight, unknown weight, its numbers weighed as they are))
Run = Callable[[dict[str, Any]], tuple[str, tuple[TierResult, ...], tuple[Any, ...], tuple[Any, ...],
                                       tuple[Any, ...], tuple[Any, ...]]]

#: Values remembered per table (criteria reading the same inputs share one), and in all per version.
MEMO_LIMIT = 8192
MEMO_ENTRIES = 65536
#: A value read that is a string longer than this is never remembered (it is decided every time).
MEMO_TEXT = 256

#: A score's members in the order of its model (a dump of the model keeps it).
SCORE_ORDER = ("id", "title", "clause", "outcome", "met_weight", "unknown_weight", "total_weight",
               "required_weight", "threshold", "weights", "weights_provenance", "weights_source", "points")


def result_fields(c: FastCriterion) -> dict[Any, dict[str, Any]]:
    """A criterion's result fields (in the model's order) for True, False and UNKNOWN, the inputs
    read, the absent ones and the derived values read left to fill: a decision copies them and fills
    them with objects of its own (a dict is never shared by two decisions, so changing one changes
    no other)."""
    return {value: {"id": c.id, "title": c.title, "clause": c.clause, "outcome": OUTCOMES[value],
                    "condition": c.condition, "inputs": None, "missing": None, "parameters": c.parameters,
                    "derived": None}
            for value in (True, False, UNKNOWN)}


def criterion_result(fields: dict[str, Any], read: dict[str, Any], missing: tuple[str, ...],
                     derived: dict[str, Any] | None) -> CriterionResult:
    """A criterion's result from its fields for its value (:func:`result_fields`), the inputs it
    read, the absent ones and the derived values it read (None: it reads none, an empty dict of its own)."""
    data = fields.copy()
    data["inputs"] = read
    data["missing"] = missing
    data["derived"] = {} if derived is None else derived
    return build(CriterionResult, data)


def score_result(plan: Plan, comp: FastScore, value: Any, met: Any, unknown: int,
                 points: dict[str, Any] | None) -> ScoreResult:
    """A score's result from its value, its met and unknown weights (scaled) and its numbers
    weighed as they are (None: it weighs none)."""
    data = dict(comp.static)
    data["outcome"] = OUTCOMES[value]
    data["met_weight"] = plan.number(comp, met)
    data["unknown_weight"] = plan.number(comp, unknown)
    data["weights"] = dict(plan.scores_weights[comp.id])
    data["points"] = points if points is not None else {}
    return build(ScoreResult, {k: data[k] for k in SCORE_ORDER})


class _UnknownTier:
    """An unknown tier's result: the absent inputs behind it are worked out from every value."""

    __slots__ = ("plan", "tier")

    def __init__(self, plan: Plan, tier: FastTier) -> None:
        self.plan = plan
        self.tier = tier

    def __call__(self, env: dict[str, Any], values: dict[str, Any], memo: dict[str, tuple[str, ...]]) -> TierResult:
        plan, tier = self.plan, self.tier
        return plan.tier(tier, "unknown", absent_inputs(plan, values, env, tier.requires, memo))


class TracePlan:
    """The generated trace mode of one version: ``run(env)`` decides, :meth:`rest` makes the
    results left for when they are read; ``source`` is the generated function's."""

    __slots__ = ("budget", "criteria", "plan", "run", "source")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.budget = [MEMO_ENTRIES]  # entries this version's tables may still take
        self.source = ""  # the generated function's source, for reading and for the tests
        #: each criterion, its result fields by value and (pointer, place among the values read) of its reads
        self.criteria: tuple[tuple[FastCriterion, dict[Any, dict[str, Any]], tuple[tuple[str, int], ...]], ...] = ()
        self.run: Run | None = None  # None: too large to compile, the closures decide (see the evaluator)
        with suppress(SyntaxError, RecursionError, MemoryError, ValueError):
            self.run = _generate(self)

    @property
    def namespace(self) -> dict[str, Any]:
        """What the generated function's names refer to (for reading and for the tests)."""
        return self.run.__globals__ if self.run is not None else {}

    def rest(self, reads: tuple[Any, ...], values: tuple[Any, ...], scores: tuple[Any, ...],
             derived: dict[str, Any] | None) -> dict[str, Any]:
        """The criteria's and the scores' results of a decision, from what ``run`` gave and the
        derived values (by id; None for a version without) that a criterion may show."""
        out: list[CriterionResult] = []
        append = out.append
        missing, new, cls = MISSING, object.__new__, CriterionResult
        set_dict, set_fields, set_extra, set_private = SETTERS
        every = model_fields(cls)
        for (c, fields, where), value in zip(self.criteria, values, strict=True):
            read: dict[str, Any] = {}
            gone: tuple[str, ...] = ()
            for pointer, at in where:
                v = reads[at]
                if v is missing:
                    gone += (pointer,)
                else:
                    read[pointer] = v
            data = fields[value].copy()
            data["inputs"] = read
            data["missing"] = gone
            data["derived"] = derived_read(c.derived, derived or {}) if c.derived else {}  # its own
            obj = new(cls)  # as plan.build makes it, inline
            set_dict(obj, data)
            set_fields(obj, every)
            set_extra(obj, None)
            set_private(obj, None)
            append(obj)
        plan = self.plan
        return {"criteria": tuple(out), "scores": tuple(score_result(plan, *found) for found in scores)}


def _generate(trace_plan: TracePlan) -> Run:
    """One straight-line function deciding a version's criteria (by their closures), groups,
    scores and tiers, and keeping the values of the inputs the criteria read, compiled.

    Only names made here and whole numbers go into the source: every key, id and function is
    bound in the function's namespace, so nothing a ruleset holds can become code.
    """
    plan = trace_plan.plan
    src = Source()
    src.lines.append("def run(env):")
    index: dict[str, int] = {}  # pointer -> its place among the values read
    walked: list[str] = []
    criteria = []
    for c, checked in zip(plan.criteria, plan.checked.criteria, strict=True):
        for pointer in checked.reads:
            if pointer not in index:
                index[pointer] = len(walked)
                walked.append(src.walk(split_pointer(pointer)))
        criteria.append((c, result_fields(c), tuple((p, index[p]) for p in checked.reads)))
    trace_plan.criteria = tuple(criteria)
    var = _criteria(trace_plan, src)
    groups, scores = _composites(src, plan, var)
    label, tiers = _tiers(src, plan, var)
    src.lines.append(f"    return ({label}, {_tuple(tiers)}, {_tuple(groups)}, {_tuple(walked)}, "
                     f"{_tuple([var[c.id] for c in plan.criteria])}, {_tuple(scores)})")
    trace_plan.source = "\n".join(src.lines) + "\n"
    exec(compile(trace_plan.source, "<ecei-rules: trace>", "exec"), src.ns)  # generated names only, see above
    run: Run = src.ns["run"]
    return run


def _criteria(trace_plan: TracePlan, src: Source) -> dict[str, str]:
    """The lines that decide each criterion by its closure, or find its value in its table (see
    :func:`_decider`); the variable of each criterion by id."""
    plan, lines = trace_plan.plan, src.lines
    root = plan.checked.inputs
    # criteria that read the same inputs (a criterion and its variant for another tier) share one
    # look-up, made where the first of them stands
    sharing: dict[tuple[str, ...], list[int]] = {}
    for i, checked in enumerate(plan.checked.criteria):
        sharing.setdefault(checked.reads, []).append(i)
    var: dict[str, str] = {}  # criterion, group or score id -> its variable
    for i, (c, checked) in enumerate(zip(plan.criteria, plan.checked.criteria, strict=True)):
        name = var[c.id] = f"c{i}"
        same = sharing[checked.reads]
        if not checked.reads or not all(scalar_input(root, split_pointer(p)) for p in checked.reads):
            # a criterion over lists: its condition generated as the label mode writes it (loops, not closures)
            fn = criterion_function(checked.compiled) if checked.reads else None
            lines += [f"    {name} = {src.const('F', fn or c.fn)}(env)",
                      f"    if {name} is not True and {name} is not False:", f"        {name} = U"]
            continue
        entry = f"e{same[0]}" if len(same) > 1 else name
        if i == same[0]:
            _lookup(trace_plan, src, [plan.criteria[m] for m in same], checked.reads, entry)
        if len(same) > 1:
            lines.append(f"    {name} = {entry}[{same.index(i)}]")
    return var


def _lookup(trace_plan: TracePlan, src: Source, same: list[FastCriterion], reads: tuple[str, ...],
            entry: str) -> None:
    """The lines that set ``entry`` for criteria reading the declared scalars at ``reads``: the
    value(s) found in their table under the values read, else decided by their closures."""
    walked = [src.walk(split_pointer(p)) for p in reads]
    walked += [f"({test})" for test in map_presence(src, trace_plan.plan.checked.inputs, reads)]
    key = walked[0] if len(walked) == 1 else f"({', '.join(walked)})"
    table: dict[Any, Any] = {}
    decide = _decider([c.fn for c in same], table, trace_plan.budget)
    src.lines += [f"    {entry} = {src.const('T', table)}.get({key})", f"    if {entry} is None:",
                  f"        {entry} = {src.const('D', decide)}(env, {key})"]


def _decider(fns: list[Any], table: dict[Any, Any], budget: list[int]) -> Callable[[dict[str, Any], Any], Any]:
    """Decide criteria that read the same declared booleans, numbers, dates or strings by their
    closures: the value (one criterion) or the values (more), remembered in ``table`` under the
    values read (``key``) while the table and the version's budget have room. Equal values of
    one such input decide alike (see :mod:`ecei_rules.engine.text`), and a closure's value
    depends only on the inputs it reads: what is found is what the closures give."""
    one = len(fns) == 1

    def decide(env: dict[str, Any], key: Any) -> Any:
        out = []
        for fn in fns:
            value = fn(env)
            out.append(value if value is True or value is False else UNKNOWN)
        entry = out[0] if one else tuple(out)
        if len(table) < MEMO_LIMIT and budget[0] > 0 and _small(key):
            table[key] = entry
            budget[0] -= 1
        return entry

    return decide


def _small(key: Any) -> bool:
    """Whether a key is worth remembering: no string in it longer than :data:`MEMO_TEXT`."""
    if key.__class__ is tuple:
        return all(v.__class__ is not str or len(v) <= MEMO_TEXT for v in key)
    return key.__class__ is not str or len(key) <= MEMO_TEXT


def _tuple(names: list[str]) -> str:
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


def _composites(src: Source, plan: Plan, var: dict[str, str]) -> tuple[list[str], list[str]]:
    """The lines that work out groups and scores, in dependency order; the expressions of the
    groups' results and of what each score's result is made from."""
    lines = src.lines
    groups: list[str] = []
    scores: list[str] = []
    for j, comp in enumerate(plan.composites):
        if isinstance(comp, FastGroup):
            target = var[comp.id] = f"g{j}"
            lines += conjunction_lines(target, [var[m] for m in comp.members])
            groups.append(f"{src.const('G', comp.results)}[{target}]")
            continue
        target = var[comp.id] = f"s{j}"
        lines.append("    met = unknown = 0")
        for ref, weight in comp.weights:
            lines += [f"    if {var[ref]} is True:", f"        met += {int(weight)}",
                      f"    elif {var[ref]} is U:", f"        unknown += {int(weight)}"]
        points = "None"
        if comp.points:  # numbers weighed as they are: added from the assessment, their results kept
            score, points = src.const("S", comp), f"p{j}"
            lines += [f"    more, unsure = {src.const('PW', points_weight)}({score}, env)",
                      f"    met, unknown = {src.const('WHOLE', whole)}(met + more), unknown + unsure",
                      f"    {points} = {src.const('PR', points_results)}({score}, env)"]
        lines += [f"    {target} = SCORE(met, unknown, {int(comp.required_num)}, {int(comp.required_den)})",
                  f"    m{j}, u{j} = met, unknown"]
        scores.append(f"({src.const('S', comp)}, {target}, m{j}, u{j}, {points})")
    return groups, scores


def _tiers(src: Source, plan: Plan, var: dict[str, str]) -> tuple[str, list[str]]:
    """The lines that work out the tiers and the label; the label's variable and the expressions
    of the tiers' results, highest first."""
    lines = src.lines
    lines.append(f"    label = {src.const('L', NONE_LABEL)}")
    tiers: list[str] = []
    for j, tier in enumerate(plan.tiers):
        target = f"r{j}"
        lines += conjunction_lines(target, [var[r] for r in tier.requires])
        lines += [f"    if {target} is True:", f"        label = {src.const('L', tier.label)}"]
        known = src.const("R", {True: plan.tier(tier, "met", ()), False: plan.tier(tier, "not_met", ())})
        unknown = src.const("Q", _UnknownTier(plan, tier))
        tiers.append(f"({known}[{target}] if {target} is not U else {unknown}(env, values, absent))")
    values = ", ".join(f"{src.const('I', ref)}: {name}" for ref, name in var.items())
    any_unknown = " or ".join(f"r{j} is U" for j in range(len(plan.tiers))) or "False"
    lines += [f"    if {any_unknown}:",  # the absent inputs behind an unknown tier need every value
              f"        values = {{{values}}}",
              "        absent = {}",
              "    else:",
              "        values = absent = None"]
    tiers.reverse()
    return "label", tiers
