"""The reference evaluator: the engine's semantics written plainly, without the runtime plan
of :mod:`ecei_rules.engine.plan` and independent of the production evaluator
(:mod:`ecei_rules.engine.evaluator`): an oracle, like the durable-rules backend.

It reads every condition itself, with the language's interpreter
(:mod:`ecei_rules.language.interpreter`, which walks the condition's syntax tree in exact
fractions) and never with the compiler whose closures the production evaluator runs: each
criterion's condition, ``valid_from``, and each validity rule's ``when`` and ``valid_until``,
and the inputs and parameters each one reads, found in its tree. Of the checked ruleset it
uses only what is not a condition: the document, the order of groups and scores, each score's
threshold and total weight.

:func:`ecei_rules.evaluate` must give exactly the same :class:`Decision` (the same canonical
bytes) for every ruleset and assessment; the property suite and the benchmark check that
against this function, which is kept as simple as possible and is not tuned for speed. A
mistake in the compiler (or in the interpreter) shows there as a difference.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from ecei_rules.core.logic import UNKNOWN, k_and, outcome
from ecei_rules.core.pointers import MISSING, lookup
from ecei_rules.engine.decision import (
    CriterionResult,
    Decision,
    GroupResult,
    ParameterUse,
    PointsResult,
    Resolution,
    ScoreResult,
    TierResult,
    given,
)
from ecei_rules.engine.derived import DerivedOutcome, DerivedResult, shown, shown_range
from ecei_rules.engine.evaluate import Assessment, validated_data
from ecei_rules.language import interpreter
from ecei_rules.ruleset.check import CheckedRuleset, GroupPlan, ScorePlan
from ecei_rules.ruleset.dates import validity_span_error
from ecei_rules.ruleset.inputs import Field, map_keys
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL, RulesetDocument, parameter_entries, parameter_use
from ecei_rules.ruleset.subject import resolve as resolve_subject


@dataclass(frozen=True)
class Condition:
    """A condition as the interpreter parsed it, with the inputs it reads (sorted JSON pointers)."""

    expr: interpreter.Expression
    reads: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, variables: tuple[str, ...] = (), derived: Mapping[str, DerivedReading] | None = None,
              maps: Mapping[str, tuple[str, ...]] | None = None) -> Condition:
        """``text`` parsed; its reads are the inputs it names (each entry of a map it takes the
        ``values`` of, by ``maps``) and, for each derived value (of ``derived``) it names, the
        inputs that value reads."""
        expr = interpreter.parse(text)
        found = set(interpreter.reads(expr, (*variables, *(derived or {})), maps))
        for name in _derived_named(expr, derived):
            found.update(derived[name].condition.reads)  # type: ignore[index]
        return cls(expr, tuple(sorted(found)))


def _derived_named(expr: interpreter.Expression, derived: Mapping[str, DerivedReading] | None) -> tuple[str, ...]:
    """The derived values (of ``derived``) an expression names, sorted."""
    if not derived:
        return ()
    return tuple(sorted(p[1:] for p in interpreter.reads(expr) if p[1:] in derived))


@dataclass(frozen=True)
class DerivedReading:
    """A derived value's expression read by the interpreter, with what it reads transitively
    (inputs in its condition's reads, parameter names) and the derived values it names."""

    id: str
    condition: Condition
    names: tuple[str, ...]
    parameters: frozenset[str]


def _parameters(expr: interpreter.Expression, derived: Mapping[str, DerivedReading],
                tables: Mapping[str, Mapping[str, str]] | None = None) -> frozenset[str]:
    """The parameters an expression uses (a table's entries by ``tables``), through the derived
    values it names too."""
    found = set(interpreter.parameters(expr, tables))
    for name in _derived_named(expr, derived):
        found |= derived[name].parameters
    return frozenset(found)


@dataclass(frozen=True)
class CriterionReading:
    """A criterion's condition, read by the interpreter, and the parameters it uses."""

    id: str
    condition: Condition
    parameters: tuple[ParameterUse, ...]
    derived: tuple[str, ...] = ()  # the derived values it names


class ValidityReading:
    """The validity conditions of a ruleset document, read by the interpreter: ``valid_from`` and
    each rule's ``when`` and ``valid_until`` (which may read the variable ``label``)."""

    def __init__(self, doc: RulesetDocument, machine: interpreter.Interpreter,
                 derived: Mapping[str, DerivedReading] | None = None) -> None:
        self.machine = machine
        maps = machine.maps
        self.valid_from = Condition.parse(doc.validity.valid_from, ("label",), derived, maps)
        self.rules = tuple((rule.id, frozenset(rule.labels),
                            None if rule.when is None else Condition.parse(rule.when, ("label",), derived, maps),
                            Condition.parse(rule.valid_until, ("label",), derived, maps) if rule.expires else None)
                           for rule in doc.validity.rules)

    def decide(self, inputs: dict[str, Any], label: str) -> tuple[dt.date | None, dt.date | None, str | None, set[str]]:
        """(valid_from, valid_until, the rule applied, the inputs read) of an awarded label, for
        root inputs made interpreter values (``Interpreter.inputs``). The first rule for the
        label whose ``when`` is not false decides: when it is true, its ``valid_until`` (none for
        ``valid_until: never``); when unknown, no end date. An end before the start is an error
        of the assessment (A007), never a decision."""
        variables = {"label": label}
        run = self.machine.evaluate_in
        reads = set(self.valid_from.reads)
        start = _date(run(self.valid_from.expr, inputs, variables))
        for rule_id, labels, when, until in self.rules:
            if label not in labels:
                continue
            applies = True if when is None else run(when.expr, inputs, variables)
            if when is not None:
                reads.update(when.reads)
            if applies is True:
                if until is None:
                    return start, None, rule_id, reads
                reads.update(until.reads)
                end = _date(run(until.expr, inputs, variables))
                if start is not None and end is not None and end < start:
                    raise validity_span_error(start, end, rule_id)
                return start, end, rule_id, reads
            if applies is not False:
                break
        return start, None, None, reads


class Reference:
    """The reference evaluator's reading of one checked ruleset: every condition parsed once by
    the interpreter. Kept on the :class:`Ruleset` it reads (see :func:`reference`)."""

    def __init__(self, plan: CheckedRuleset) -> None:
        doc = plan.doc
        maps = map_keys(plan.inputs)  # the entries values(m) reads: the document's catalogues, not a condition
        # a parameter table is read as its value by key (keys resolved when the ruleset loaded: data, not a condition)
        tables = {name: dict(t.entries) for name, t in plan.tables.items()}
        self.machine = interpreter.Interpreter({**{n: p.value for n, p in doc.parameters.items()},
                                                **{name: dict(t.values) for name, t in plan.tables.items()}}, maps,
                                               declared_bounds(plan.inputs), ranges=doc.unknowns is not None)
        entries = parameter_entries(doc)
        # derived values in the dependency order the checks found (an order, not a condition)
        derived: dict[str, DerivedReading] = {}
        for d in plan.derived:
            expr = interpreter.parse(doc.derived[d.id].value)
            named = tuple(sorted(p[1:] for p in interpreter.reads(expr) if p[1:] in doc.derived))
            derived[d.id] = DerivedReading(d.id, Condition.parse(doc.derived[d.id].value, (), derived, maps), named,
                                           _parameters(expr, derived, tables))
        self.derived = derived
        criteria = []
        for cid, crit in doc.criteria.items():
            condition = Condition.parse(crit.when, (), derived, maps)
            names = sorted(_parameters(condition.expr, derived, tables))
            criteria.append(CriterionReading(cid, condition, tuple(parameter_use(n, entries[n]) for n in names),
                                             _derived_named(condition.expr, derived)))
        self.criteria = tuple(criteria)
        self.validity = ValidityReading(doc, self.machine, derived)
        self.entries = entries
        #: the parts of conditions read again for what an unknown tier needs, parsed once (text -> expression)
        self.parsed: dict[str, interpreter.Expression] = {}
        #: the numbers each score (by outcome id) weighs as they are, each read by the interpreter
        self.points = {comp.id: tuple((pid, Condition.parse(spec.value, (), derived, maps), spec)
                                      for pid, spec in comp.spec.points.items())
                       for comp in plan.composites if isinstance(comp, ScorePlan) and comp.spec.points}

    def derive(self, doc: RulesetDocument, inputs: dict[str, Any],
               validated: Mapping[str, Any]) -> tuple[DerivedResult, ...]:
        """Each derived value, in dependency order, added to ``inputs`` (interpreter values) under
        its name; and their results (known, unknown or undefined, as the engine's derived module
        says)."""
        out: list[DerivedResult] = []
        seen: dict[str, tuple[str, str | None]] = {}
        for reading in self.derived.values():
            reasons: list[str] = []
            value = self.machine.evaluate_in(reading.condition.expr, inputs, {interpreter.UNDEFINED: reasons})
            inputs[reading.id] = value
            read, missing = _read(validated, reading.condition.reads)
            outcome: DerivedOutcome = "known"
            reason = between = None
            if value is interpreter.UNKNOWN or isinstance(value, interpreter.Range):
                reason = None if missing else _why(reasons, reading.names, seen)
                outcome = "unknown" if reason is None else "undefined"
                if reason is None and isinstance(value, interpreter.Range):
                    between = shown_range(value.lo, value.hi)
            seen[reading.id] = (outcome, reason)
            spec = doc.derived[reading.id]
            out.append(DerivedResult.model_construct(
                id=reading.id, title=spec.title, unit=spec.unit, outcome=outcome,
                value=shown(value) if outcome == "known" else None, reason=reason, range=between,
                expression=spec.value,
                inputs=read, missing=missing, derived=reading.names,
                parameters=tuple(parameter_use(n, self.entries[n]) for n in sorted(reading.parameters))))
        return tuple(out)


def declared_bounds(root: Field) -> dict[str, tuple[Any, Any, bool]]:
    """(minimum, maximum, whole numbers only) of each number input that declares both, by its JSON
    pointer, through objects and map entries (a list's items are read through a loop's variable,
    never by a pointer): what such an input may be when it is absent."""
    out: dict[str, tuple[Any, Any, bool]] = {}

    def walk(f: Field, pointer: str) -> None:
        spec = f.spec
        if f.kind in ("integer", "decimal") and spec.minimum is not None and spec.maximum is not None:
            out[pointer] = (spec.minimum, spec.maximum, f.kind == "integer")
        for name, sub in {**f.fields, **f.entries}.items() if f.kind in ("object", "map") else ():
            walk(sub, pointer + "/" + name.replace("~", "~0").replace("/", "~1"))

    for name, f in root.fields.items():
        walk(f, "/" + name.replace("~", "~0").replace("/", "~1"))
    return out


def _why(reasons: list[str], names: tuple[str, ...], seen: dict[str, tuple[str, str | None]]) -> str | None:
    """Why a derived value with no value although no input it reads is absent is undefined (its
    own first reason, else the first undefined value it names), or None (unknown) when a value it
    names is unknown or nothing gave a reason."""
    if any(seen[n][0] == "unknown" for n in names):
        return None
    if reasons:
        return reasons[0]
    for n in names:
        if seen[n][0] == "undefined":
            return f"{n} is undefined: {seen[n][1]}"
    return None


def _read(validated: Mapping[str, Any], pointers: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """({pointer: value} of the pointers present, the pointers absent)."""
    read: dict[str, Any] = {}
    missing: list[str] = []
    for pointer in pointers:
        found = lookup(validated, pointer)
        if found is MISSING:
            missing.append(pointer)
        else:
            read[pointer] = found
    return read, tuple(missing)


class _Needs:
    """The reference's reading of what an unknown outcome needs (the engine's rule, written again with the
    interpreter): the absent inputs read by the parts of an expression that are undecided, each part read
    by itself. A part is decided when it has a value (true, false, a number, ...): then none of what it
    reads can change it (unless it calls known(), whose absent reads are all listed). and/or/not: the
    undecided operands; if/else: the test when undecided and the branch taken (both when undecided); any
    other part: what it reads itself that is absent, and what the derived values it names without a value
    need (their expressions, read the same way). Comparisons, arithmetic, signs and calls over values are
    read through their operands like and/or."""

    def __init__(self, ref: Reference, doc: RulesetDocument, inputs: dict[str, Any],
                 validated: Mapping[str, Any]) -> None:
        self.ref, self.doc, self.inputs, self.validated = ref, doc, inputs, validated
        self.derived: dict[str, frozenset[str]] = {}

    def of_text(self, key: str, *, text: bool = False) -> tuple[str, ...]:
        """What a criterion (by id; with ``text``, an expression) that is unknown needs, sorted."""
        source = key if text else self.doc.criteria[key].when
        return tuple(sorted(self.of(self.parse(source).tree)))

    def parse(self, text: str) -> interpreter.Expression:
        """A part read by the interpreter, parsed once per version."""
        found = self.ref.parsed.get(text)
        if found is None:
            found = self.ref.parsed[text] = interpreter.parse(text)
        return found

    def value(self, node: ast.expr) -> Any:
        return self.ref.machine.evaluate_in(self.parse(ast.unparse(node)), self.inputs)

    def absent(self, node: ast.expr, through: bool) -> set[str]:
        """The absent inputs a part reads itself (``through``: and through the derived values it names)."""
        expr = self.parse(ast.unparse(node))
        if through:
            pointers = Condition.parse(expr.text, (), self.ref.derived, self.ref.machine.maps).reads
        else:
            pointers = tuple(interpreter.reads(expr, tuple(self.doc.derived), self.ref.machine.maps))
        return {p for p in pointers if lookup(self.validated, p) is MISSING}

    def of(self, node: ast.expr) -> set[str]:
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "known"
               for n in ast.walk(node)):
            return self.absent(node, True)
        if _has_value(self.value(node)):
            return set()
        if isinstance(node, ast.IfExp):
            test = self.value(node.test)
            taken = [node.body] if test is True else [node.orelse] if test is False else [node.body, node.orelse]
            return self.of(node.test).union(*(self.of(b) for b in taken))
        through = _operands(node)
        if through is not None:
            return set().union(*(self.of(v) for v in through))
        out = self.absent(node, False)
        for name in sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & set(self.doc.derived)):
            if not _has_value(self.inputs.get(name, interpreter.UNKNOWN)):
                if name not in self.derived:
                    self.derived[name] = frozenset()
                    self.derived[name] = frozenset(self.of(self.parse(self.doc.derived[name].value).tree))
                out |= self.derived[name]
        return out


def reference_needs(ruleset: Ruleset, data: Mapping[str, Any]) -> Callable[[str, bool], tuple[str, ...]]:
    """What an unknown criterion (by id), or expression (``True``: the text itself), needs on validated
    ``data`` with its derived values by name (interpreter values, as ``reference_derived`` gives them),
    as the reference evaluator reads it: for a backend that decides the tiers itself."""
    ref = reference(ruleset)
    needs = _Needs(ref, ruleset.plan.doc, ref.machine.inputs(data), data)
    return lambda key, text: needs.of_text(key, text=text)


def _operands(node: ast.expr) -> list[ast.expr] | None:
    """The operands a part is read through (None: read whole): and/or, not and signs, comparisons,
    arithmetic, and calls of functions over values (not known, not an aggregate over a generator)."""
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id != "known" and not any(
            isinstance(a, ast.GeneratorExp) for a in node.args):
        return list(node.args)
    return None


def _has_value(value: Any) -> bool:
    """An interpreter value no absent input can change: not unknown, not a range."""
    return value is not interpreter.UNKNOWN and value is not None and not isinstance(value, interpreter.Range)


def reference(ruleset: Ruleset) -> Reference:
    """The reference evaluator's reading of ``ruleset``, made on first use and kept on that
    ruleset object (made once when threads share the ruleset)."""
    result: Reference = ruleset.reference.built(lambda: Reference(ruleset.plan))
    return result


def _truth(value: Any) -> Any:
    """An interpreter value as a truth value of the decision: true, false or UNKNOWN."""
    return value if value is True or value is False else UNKNOWN


def _date(value: Any) -> dt.date | None:
    """An interpreter value as a date of the decision (its unknown: no date)."""
    return value if isinstance(value, dt.date) else None


def evaluate_reference(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment, *,
                       resolution: Resolution | None = None) -> Decision:
    """The straightforward evaluator (one model per result, exact fractions, every condition
    read by the interpreter): what :func:`~ecei_rules.engine.evaluate.evaluate` must equal,
    with the same arguments."""
    validated = validated_data(ruleset, assessment)
    plan = ruleset.plan
    doc: RulesetDocument = plan.doc
    ref = reference(ruleset)
    inputs = ref.machine.inputs(validated)
    derived = ref.derive(doc, inputs, validated)
    values: dict[str, Any] = {}
    missing_of: dict[str, tuple[str, ...]] = {}
    needs = _Needs(ref, doc, inputs, validated)

    criteria: list[CriterionResult] = []
    for reading in ref.criteria:
        value = _truth(ref.machine.evaluate_in(reading.condition.expr, inputs))
        values[reading.id] = value
        read: dict[str, Any] = {}
        missing: list[str] = []
        for pointer in reading.condition.reads:
            found = lookup(validated, pointer)
            if found is MISSING:
                missing.append(pointer)
            else:
                read[pointer] = found
        missing_of[reading.id] = tuple(missing)
        spec = doc.criteria[reading.id]
        criteria.append(CriterionResult.model_construct(
            id=reading.id, title=spec.title, clause=spec.clause, outcome=outcome(value), condition=spec.when,
            inputs=read, missing=tuple(missing), parameters=reading.parameters,
            derived={n: _shown(inputs[n]) for n in reading.derived},
        ))

    def missing_for(refs: tuple[str, ...]) -> tuple[str, ...]:
        out: set[str] = set()
        for ref_id in refs:
            if values.get(ref_id) is not UNKNOWN:
                continue
            if ref_id in missing_of:
                out.update(missing_of[ref_id])
        return tuple(sorted(out))

    weighed: dict[str, tuple[Weighed, ...]] = {}
    memo: dict[str, frozenset[str]] = {}
    score_weights = {c.id: c.spec.weights for c in plan.composites if isinstance(c, ScorePlan)}

    def needed_for(refs: tuple[str, ...]) -> tuple[str, ...]:
        """An unknown tier's missing: what its unknown requirements need, the absent inputs where the
        evaluation went (a criterion's own reading, a group's or score's unknown members', a score's numbers
        without a value); worked out only for the tiers that are unknown."""
        out: set[str] = set()
        for ref_id in refs:
            if values.get(ref_id) is UNKNOWN:
                out |= needed(ref_id)
        return tuple(sorted(out))

    def needed(ref_id: str) -> frozenset[str]:
        if ref_id not in memo:
            if ref_id in doc.criteria:
                memo[ref_id] = frozenset(needs.of_text(ref_id))
            elif ref_id in doc.groups:
                memo[ref_id] = frozenset(needed_for(doc.groups[ref_id].all_of))
            else:
                own = {p for _, spec, _, counted, _ in weighed.get(ref_id, ()) if counted is None
                       for p in needs.of_text(spec.value, text=True)}
                memo[ref_id] = frozenset(own.union(needed_for(tuple(score_weights[ref_id]))))
        return memo[ref_id]

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
            weighed[comp.id] = _weighed(ref, comp.id, inputs)
            scores.append(_score(comp, values, missing_of, weighed[comp.id]))

    tiers: list[TierResult] = []
    label = NONE_LABEL
    for tier_label in doc.labels:
        tier = doc.tiers[tier_label]
        value = k_and([values[r] for r in tier.requires])
        if value is True:
            label = tier_label
        tiers.append(TierResult.model_construct(
            label=tier_label, title=tier.title, outcome=outcome(value), requires=tier.requires,
            missing=needed_for(tier.requires) if value is UNKNOWN else (),
        ))

    valid_from = valid_until = rule_id = None
    validity_reads: set[str] = set()
    if label != NONE_LABEL:
        valid_from, valid_until, rule_id, validity_reads = ref.validity.decide(inputs, label)
    validity_inputs = {}
    for pointer in sorted(validity_reads):
        found = lookup(validated, pointer)
        if found is not MISSING:
            validity_inputs[pointer] = found

    subject = resolve_subject(doc)
    return Decision.model_construct(
        methodology=doc.methodology, version=doc.version, ruleset_sha256=ruleset.sha256,
        resolution=resolution or given(ruleset.published),
        subject=subject.id_of(validated), subject_key=subject.key,
        label=label, valid_from=valid_from, valid_until=valid_until, validity_rule=rule_id,
        validity_expires=_expires(doc, rule_id), validity_inputs=validity_inputs,
        tiers=tuple(reversed(tiers)), criteria=tuple(criteria), groups=tuple(groups), scores=tuple(scores),
        derived=derived,
    )


def _expires(doc: RulesetDocument, rule_id: str | None) -> Literal[False] | None:
    """False when the validity rule applied states ``valid_until: never``; else None (no member)."""
    for rule in doc.validity.rules:
        if rule.id == rule_id and not rule.expires:
            return False
    return None


def _shown(value: Any) -> Any:
    """An interpreter value of a derived value as a criterion's result shows it (null unless known)."""
    return None if value is interpreter.UNKNOWN or isinstance(value, interpreter.Range) else shown(value)


def reference_derived(ruleset: Ruleset, data: Mapping[str, Any]) -> tuple[tuple[DerivedResult, ...], dict[str, Any]]:
    """The derived values of validated ``data`` as the reference evaluator decides them, and their
    interpreter values by name (for a backend that hands conditions to the interpreter)."""
    ref = reference(ruleset)
    inputs = ref.machine.inputs(data)
    results = ref.derive(ruleset.plan.doc, inputs, data)
    return results, {name: inputs[name] for name in ref.derived}


#: A number a score weighs as it is, read: (name, its spec, its value or None, what it counts or None,
#: the absent inputs it needs, when known).
Weighed = tuple[str, Any, Any, Fraction | None, tuple[str, ...]]


def _weighed(ref: Reference, sid: str, inputs: dict[str, Any]) -> tuple[Weighed, ...]:
    """The numbers the score ``sid`` weighs as they are (its ``points``), each read by the
    interpreter and clipped to [0, maximum]: no value (unknown, a range) counts nothing."""
    out: list[Weighed] = []
    for pid, condition, spec in ref.points.get(sid, ()):
        value = ref.machine.evaluate_in(condition.expr, inputs)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction)):
            value = None
        counted = None if value is None else min(max(Fraction(value), Fraction(0)), Fraction(spec.maximum))
        out.append((pid, spec, value, counted, ()))
    return tuple(out)


def _score_value(comp: ScorePlan, values: dict[str, Any],
                 weighed: tuple[Weighed, ...] = ()) -> tuple[Any, Fraction, Fraction, Fraction]:
    """(value, met weight, unknown weight, required weight) of a score, in exact fractions."""
    met = unknown = Fraction(0)
    for ref, weight in comp.spec.weights.items():
        v = values[ref]
        if v is True:
            met += Fraction(weight)
        elif v is UNKNOWN:
            unknown += Fraction(weight)
    for _, spec, _, counted, _ in weighed:
        if counted is None:
            unknown += Fraction(spec.maximum)
        else:
            met += counted
    # a share of the total weight, or (a minimum) the met weight itself
    required = Fraction(comp.threshold) if comp.absolute else Fraction(comp.threshold) * Fraction(comp.total)
    if met >= required:
        value: Any = True
    elif met + unknown < required:
        value = False
    else:
        value = UNKNOWN
    return value, met, unknown, required


def reference_label(ruleset: Ruleset, criteria: dict[str, Any],
                    points: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The label that criterion values (True, False or UNKNOWN by id) give, worked out plainly:
    groups and scores in dependency order, then the highest tier met. ``points``: by score id,
    what each number a score weighs as it is counts (None: no value), as its decision shows it."""
    plan = ruleset.plan
    values = dict(criteria)
    for comp in plan.composites:
        if isinstance(comp, GroupPlan):
            values[comp.id] = k_and([values[m] for m in comp.spec.all_of])
        else:
            counts = (points or {}).get(comp.id, {})
            weighed = tuple((pid, spec, None, None if counts.get(pid) is None else Fraction(str(counts[pid])), ())
                            for pid, spec in comp.spec.points.items())
            values[comp.id] = _score_value(comp, values, weighed)[0]
    label = NONE_LABEL
    for tier_label in plan.doc.labels:
        if k_and([values[r] for r in plan.doc.tiers[tier_label].requires]) is True:
            label = tier_label
    return label


def reference_validity(ruleset: Ruleset, env: Mapping[str, Any],
                       label: str) -> tuple[dt.date | None, dt.date | None, str | None, set[str]]:
    """(valid_from, valid_until, the rule applied, the inputs read) of an awarded label; ``env``
    holds the validated data (a ``label`` in it is ignored: the label given is the variable).
    The first rule for the label whose ``when`` is not false decides: when it is true, its
    ``valid_until``; when unknown, no end date. The validity conditions are those the reference
    evaluator's reading of ``ruleset`` keeps (:func:`reference`)."""
    ref = reference(ruleset)
    inputs = ref.machine.inputs(env)
    if ref.derived:  # the validity rules may read derived values
        ref.derive(ruleset.plan.doc, inputs, env)
    return ref.validity.decide(inputs, label)


def _score(comp: ScorePlan, values: dict[str, Any], missing_of: dict[str, tuple[str, ...]],
           weighed: tuple[Weighed, ...] = ()) -> ScoreResult:
    value, met, unknown, required = _score_value(comp, values, weighed)
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
        required_weight=_num(required),
        threshold=comp.threshold_use, weights=dict(spec.weights),
        weights_provenance="sourced" if spec.source is not None else "assumed",
        weights_source=spec.source if spec.source is not None else (spec.assumed or ""),
        points={pid: PointsResult.model_construct(
            expression=p.value, value=None if v is None else shown(v), maximum=p.maximum,
            counted=None if counted is None else shown(counted)) for pid, p, v, counted, _ in weighed},
    )


def _num(value: Fraction) -> Decimal | int:
    if value.denominator == 1:
        return int(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).normalize()
