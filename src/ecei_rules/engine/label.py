"""The evaluator's label mode, generated per version as one straight-line function.

:meth:`ecei_rules.engine.evaluator.Evaluator.label` gives (label, valid_from, valid_until,
whether a tier is unknown, the absent inputs behind unknown tiers); this module writes, once per
version, a function that decides exactly that in one call: each input read once into a local
variable (nested objects walked once), the derived values, each criterion, each group and score,
each tier and the validity dates of the label awarded, all in local variables.

Conditions are written by :class:`ecei_rules.language.source.Emitter` from the :class:`Code` the
compiler gave each of them (comparisons against constants inline, without looking for a range
when the value read can never be one; Kleene ``and``/``or``/``not`` inline and short-circuit;
aggregates as loops); what it does not write inline is a call of the compiled closure. The score
rule is :func:`ecei_rules.engine.plan.score_outcome`, the absent inputs of an unknown tier
:func:`ecei_rules.engine.plan.absent_inputs`, the check of a validity span
:func:`ecei_rules.ruleset.dates.check_validity_span`: one implementation each.

Only generated names, the language's fixed operators and whole numbers (scaled weights) go into
the source; every key, id, label and value of the ruleset is bound in the function's namespace,
so nothing a ruleset holds can become code. ``LabelPlan.source`` is the generated source, to
read. ``decide`` puts the derived values and the label into the environment it is given (a copy
the caller made, as the evaluator's label mode always has: the caller may read them, as the
batch's validity of an awarded label does); ``quick`` never changes the environment it is given:
it copies it before it puts the first value into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ecei_rules.core.logic import UNKNOWN
from ecei_rules.engine.plan import FastGroup, Plan, absent_inputs, score_outcome, score_value
from ecei_rules.engine.text import conjunction_lines
from ecei_rules.language.expr import Compiled
from ecei_rules.language.source import Code, Emitter, TwoValued, fallback
from ecei_rules.ruleset.dates import check_validity_span
from ecei_rules.ruleset.model import NONE_LABEL

#: env, missing -> (label, valid_from, valid_until, whether a tier is unknown, absent inputs)
Decide = Callable[[Mapping[str, Any], bool], tuple[str, Any, Any, bool, tuple[tuple[str, ...], ...]]]
#: env -> (label, valid_from, valid_until)
Quick = Callable[[Mapping[str, Any]], tuple[str, Any, Any]]


class _Module:
    """The generated function's lines, the namespace its names refer to, and its input reads."""

    def __init__(self, inline: bool) -> None:
        self.ns: dict[str, Any] = {"U": UNKNOWN, "EMPTY": MappingProxyType({})}
        self.emitter = Emitter(self.ns, self.walk)
        self.inline = inline  # False: every condition is a call of its closure
        #: what each condition's code is written as instead of itself (the fast line path's floats)
        self.transform: Callable[[Code], Code] | None = None
        self.begin(lazy=False)

    def begin(self, *, lazy: bool) -> None:
        """Start a function: ``lazy``, an input is read where it is used (the objects holding it
        at the top); else each is read once at the top."""
        self.head: list[str] = []  # the input reads, at the top
        self.lines: list[str] = []
        self.walked: dict[tuple[str, ...], str] = {}
        self.parents: dict[tuple[str, ...], str] = {}
        self.lazy = lazy

    def const(self, value: Any, prefix: str = "K") -> str:
        return self.emitter.bind(value, prefix)

    def walk(self, keys: tuple[str, ...]) -> str:
        """The input at ``keys`` (UNKNOWN when absent): where it is used in a lazy function, else
        a variable read once at the top."""
        if self.lazy:
            parent = "env" if len(keys) == 1 else self.parent(keys[:-1])
            return f"{parent}.get({self.const(keys[-1])}, U)"
        return self.hoist(keys)

    def hoist(self, keys: tuple[str, ...]) -> str:
        """The variable holding the input at ``keys`` (UNKNOWN when absent), read once at the top."""
        name = self.walked.get(keys)
        if name is None:
            parent = "env" if len(keys) == 1 else self.parent(keys[:-1])
            name = self.walked[keys] = f"w{len(self.walked)}"
            self.head.append(f"    {name} = {parent}.get({self.const(keys[-1])}, U)")
        return name

    def parent(self, keys: tuple[str, ...]) -> str:
        """The variable holding the object at ``keys``, or an empty one when it is absent or not
        an object (its members then read as absent)."""
        name = self.parents.get(keys)
        if name is None:
            value = self.hoist(keys)
            name = self.parents[keys] = f"d{value[1:]}"
            self.head.append(f"    {name} = {value} if {value}.__class__ is dict else EMPTY")
        return name

    def expr(self, compiled: Compiled) -> str:
        """A compiled expression as a Python expression (at the top level of the function)."""
        code: Code = compiled.source if self.inline else fallback(compiled.fn)
        return self.emitter.expr(code if self.transform is None else self.transform(code))

    def truth(self, target: str, compiled: Compiled, indent: str = "    ") -> None:
        """``target`` = the expression's value as a criterion's outcome (True, False or UNKNOWN)."""
        self.lines.append(f"{indent}{target} = {self.expr(compiled)}")
        if not self.inline or not Emitter.truth_valued(compiled.source):
            self.lines += [f"{indent}if {target} is not True and {target} is not False:", f"{indent}    {target} = U"]

    def conjunction(self, target: str, refs: list[str]) -> None:
        """``target`` = Kleene conjunction of the variables ``refs``."""
        self.lines += conjunction_lines(target, refs)


class LabelPlan:
    """The generated label mode of one version: ``decide(env, missing)`` (the outline),
    ``quick(env)`` (the label and its validity alone) and their ``source``."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.source = ""  # the generated module's source, for reading and for the tests
        # too deeply nested to compile (groups of groups within a tier, conditions): the label
        # alone from the outline, the conditions as calls of their closures, or both
        for inline, lazy in ((True, True), (True, False), (False, True), (False, False)):
            try:
                self.decide, self.quick = _generate(self, inline=inline, lazy=lazy)
                #: whether conditions are written inline (else calls of their closures), and
                #: whether ``quick`` decides the tiers lazily (else from the outline)
                self.inline, self.lazy = inline, lazy
                break
            except (SyntaxError, RecursionError, MemoryError, ValueError):
                continue


def _generate(label_plan: LabelPlan, *, inline: bool, lazy: bool = True) -> tuple[Decide, Quick]:
    """The functions deciding a version's label, validity and unknown tiers (``decide``) and its
    label alone (``quick``: lazily, else from ``decide``), compiled."""
    plan = label_plan.plan
    m = _Module(inline)
    m.ns.update({"SCORE": score_outcome, "SCORED": score_value, "ABSENT": absent_inputs, "SPAN": check_validity_span,
                 "PLAN": plan})
    var: dict[str, str] = {}  # criterion, group or score id -> its variable
    _derived(m, plan, copy=False)
    for i, c in enumerate(plan.checked.criteria):
        var[c.id] = f"c{i}"
        m.truth(f"c{i}", c.compiled)
    _composites(m, plan, var)
    _tiers(m, plan, var)
    _validity(m, plan, True, "undecided, gone")
    decide = ["def decide(env, missing):", *m.head, *m.lines]
    m.begin(lazy=True)
    if lazy:
        _quick(m, plan)
    else:
        m.lines.append("    return decide(env, False)[:3]")
    quick = ["def quick(env):", *m.head, *m.lines]
    source = "\n\n".join([*m.emitter.helpers, "\n".join(decide), "\n".join(quick)]) + "\n"
    label_plan.source = source
    exec(compile(source, "<ecei-rules: label>", "exec"), m.ns)  # generated names only, see the module
    return m.ns["decide"], m.ns["quick"]


def _derived(m: _Module, plan: Plan, *, copy: bool = True) -> bool:
    """The lines that put each derived value into env (with ``copy``, into a copy of it), in
    dependency order; whether there are any."""
    if not plan.checked.derived:
        return False
    if copy:
        m.lines.append("    env = dict(env)")  # the caller's data is never changed
    for d in plan.checked.derived:
        m.lines.append(f"    env[{m.const(d.id)}] = {m.expr(d.compiled)}")
    return True


def _members(comp: Any) -> list[str]:
    """The members of a group, or the weighted members of a score."""
    return list(comp.members) if isinstance(comp, FastGroup) else [ref for ref, _ in comp.weights]


def _quick(m: _Module, plan: Plan, *, owned: bool = False) -> None:
    """The lines of ``quick``: the tiers from the highest down, each a Kleene conjunction that
    stops at its first false member, its members worked out where they are needed (see
    :class:`_Lazy`); then the validity of the label awarded. Every condition has no effects, so
    what is not needed is not worked out (derived values are, first). ``owned``: env is the
    caller's to give (the fast line path's, decoded from the line), written to as it is."""
    copied = _derived(m, plan) or owned
    lazy = _Lazy(m, plan)
    m.lines.append("    k = -1")
    for j in reversed(range(len(plan.tiers))):
        test = lazy.junction(plan.tiers[j].requires)
        m.lines += [f"    {'if' if j == len(plan.tiers) - 1 else 'elif'} {test} is True:", f"        k = {j}"]
    _validity(m, plan, copied, "")


class _Lazy:
    """Expressions of the values of criteria, groups and scores worked out where they are needed:
    one that more than one place needs is kept in a variable (None until worked out)."""

    def __init__(self, m: _Module, plan: Plan) -> None:
        self.m = m
        self.criteria = {c.id: c.compiled for c in plan.checked.criteria}
        self.composites = {comp.id: comp for comp in plan.composites}
        uses: dict[str, int] = {}
        for refs in [tier.requires for tier in plan.tiers] + [_members(comp) for comp in plan.composites]:
            for ref in refs:
                uses[ref] = uses.get(ref, 0) + 1
        self.kept = {ref: f"v{i}" for i, ref in enumerate(ref for ref, n in uses.items() if n > 1)}
        if self.kept:
            m.lines.append(f"    {' = '.join(self.kept.values())} = None")
        self.costs: dict[str, int] = {ref: c.cost for ref, c in self.criteria.items()}
        for comp in plan.composites:  # in dependency order
            self.costs[comp.id] = sum(self.costs[r] for r in _members(comp))

    def value(self, ref: str) -> str:
        """An expression of the value (True, False or UNKNOWN) of a criterion, group or score."""
        m = self.m
        if ref in self.criteria:
            compiled = self.criteria[ref]
            expr = m.expr(compiled)
            if not m.inline or not Emitter.truth_valued(compiled.source):
                held, t = m.emitter.hold(expr)
                expr = f"({t} if {held} is True or {t} is False else U)"
        else:
            comp = self.composites[ref]
            expr = self.junction(comp.members) if isinstance(comp, FastGroup) else self.score(comp)
        name = self.kept.get(ref)
        return expr if name is None else f"({name} if {name} is not None else ({name} := {expr}))"

    def junction(self, refs: tuple[str, ...]) -> str:
        """Kleene conjunction, stopping at the first false member, the cheapest to work out first
        (what it gives does not depend on the order)."""
        if not refs:
            return "True"
        held = [self.m.emitter.hold(self.value(ref)) for ref in sorted(refs, key=lambda ref: self.costs[ref])]
        first = " or ".join(f"{h} is False" for h, _ in held)
        rest = " and ".join(f"{t} is True" for _, t in held)
        return f"(False if {first} else True if {rest} else U)"

    def score(self, comp: Any) -> str:
        """The score rule of the met and unknown weights (each weight times how many members of
        that weight are true, or unknown)."""
        if comp.points:  # numbers weighed as they are: the plan's score rule, reading env
            read = ", ".join(f"{self.m.const(ref, 'I')}: {self.value(ref)}" for ref, _ in comp.weights)
            return f"SCORED({self.m.const(comp, 'S')}, {{{read}}}, env)[0]"
        by_weight: dict[int, list[str]] = {}
        for ref, weight in comp.weights:
            by_weight.setdefault(int(weight), []).append(ref)
        rule = f"{int(comp.required_num)}, {int(comp.required_den)}"
        if not by_weight:
            return f"SCORE(0, 0, {rule})"
        t = self.m.emitter.temp()
        values = [self.value(ref) for refs in by_weight.values() for ref in refs]
        met, unknown, at = [], [], 0
        for weight, refs in by_weight.items():
            met.append(f"{weight} * {t}[{at}:{at + len(refs)}].count(True)")
            unknown.append(f"{weight} * {t}[{at}:{at + len(refs)}].count(U)")
            at += len(refs)
        return f"(({t} := ({', '.join(values)},)), SCORE({' + '.join(met)}, {' + '.join(unknown)}, {rule}))[1]"


def _composites(m: _Module, plan: Plan, var: dict[str, str]) -> None:
    """The lines that work out groups and scores, in dependency order."""
    for j, comp in enumerate(plan.composites):
        if isinstance(comp, FastGroup):
            target = var[comp.id] = f"g{j}"
            m.conjunction(target, [var[ref] for ref in comp.members])
            continue
        target = var[comp.id] = f"s{j}"
        if comp.points:  # numbers weighed as they are: the plan's score rule, reading env
            values = ", ".join(f"{m.const(ref, 'I')}: {var[ref]}" for ref, _ in comp.weights)
            m.lines.append(f"    {target} = SCORED({m.const(comp, 'S')}, {{{values}}}, env)[0]")
            continue
        # the met (unknown) weight: each weight times how many of the members of that weight are
        # true (unknown); every value is True, False or UNKNOWN, which compare by identity
        by_weight: dict[int, list[str]] = {}
        for ref, weight in comp.weights:
            by_weight.setdefault(int(weight), []).append(var[ref])
        for total, value in (("met", "True"), ("unknown", "U")):
            terms = [f"{weight} * ({', '.join(refs)},).count({value})" for weight, refs in by_weight.items()]
            m.lines.append(f"    {total} = {' + '.join(terms) or '0'}")
        m.lines.append(f"    {target} = SCORE(met, unknown, {int(comp.required_num)}, {int(comp.required_den)})")


def _tiers(m: _Module, plan: Plan, var: dict[str, str]) -> None:
    """The lines that work out each tier, the highest met one (``k``, -1 for none), whether one is
    unknown and, when asked, the absent inputs behind the unknown ones (highest first)."""
    m.lines.append("    k = -1")
    for j, tier in enumerate(plan.tiers):
        m.conjunction(f"r{j}", [var[ref] for ref in tier.requires])
        m.lines += [f"    if r{j} is True:", f"        k = {j}"]
    unknown = " or ".join(f"r{j} is U" for j in range(len(plan.tiers))) or "False"
    m.lines += [f"    undecided = {unknown}", "    gone = ()", "    if missing and undecided:"]
    values = ", ".join(f"{m.const(ref, 'I')}: {name}" for ref, name in var.items())
    m.lines += [f"        values = {{{values}}}", "        memo = {}", "        absent = []"]
    for j, tier in enumerate(plan.tiers):
        m.lines += [f"        if r{j} is U:",
                    f"            absent.append(ABSENT(PLAN, values, env, {m.const(tier.requires, 'R')}, memo))"]
    m.lines.append("        gone = tuple(reversed(absent))")


def _validity(m: _Module, plan: Plan, copied: bool, rest: str) -> None:
    """The lines that give the outline: none, or the label awarded with its validity dates (the
    first rule for the label whose ``when`` is not false decides, as the evaluator's closures do);
    ``copied``: env may be written to as it is."""
    none = m.const(NONE_LABEL, "L")
    tail = f", {rest}" if rest else ""
    m.lines += ["    if k == -1:", f"        return ({none}, None, None{tail})"]
    if not copied:
        m.lines.append("    env = dict(env)")  # the caller's data is never changed
    labels = m.const(tuple(tier.label for tier in plan.tiers), "L")
    m.lines += [f"    label = {labels}[k]", f"    env[{m.const('label')}] = label"]
    m.lines.append(f"    start = {m.expr(plan.valid_from)}")
    m.lines += ["    if start is U:", "        start = None", "    end = None"]
    for j, tier in enumerate(plan.tiers):
        rules = [rule for rule in plan.rules if tier.label in rule.spec.labels]
        if not rules:
            continue
        m.lines += [f"    if k == {j}:", "        while True:"]  # one pass: break at the deciding rule
        for rule in rules:
            indent = "            "
            if rule.when is not None:
                m.lines += [f"{indent}applies = {m.expr(rule.when)}", f"{indent}if applies is not False:"]
                indent += "    "
                until = f"{m.expr(rule.valid_until)} if applies is True else U" if rule.valid_until is not None \
                    else "U"
            else:
                until = m.expr(rule.valid_until) if rule.valid_until is not None else "U"
            m.lines += [f"{indent}end = {until}", f"{indent}if end is U:", f"{indent}    end = None",
                        f"{indent}SPAN(start, end, {m.const(rule.spec.id)})", f"{indent}break"]
        m.lines.append("            break")
    m.lines.append(f"    return (label, start, end{tail})")


# --- the fast line path's label functions (see ecei_rules.engine.lines) ----------------------------

def float_quick(plan: Plan, transform: Callable[[Code], Code]) -> Quick:
    """``quick`` with each condition's code as ``transform`` writes it (the fast line path's
    comparisons of decimal inputs read as floats against float constants), three-valued. Unlike
    ``quick``, it writes into the env it is given (the label awarded, under the reserved name ``label``,
    for the validity rules): the line path's env is decoded from the line for it.

    Raises:
        ValueError (or what ``transform`` raises): the version cannot be written so.
    """
    _floats_allowed(plan)
    m = _Module(inline=True)
    m.transform = transform
    m.ns.update({"SCORE": score_outcome, "SCORED": score_value, "SPAN": check_validity_span, "PLAN": plan})
    m.begin(lazy=True)
    _quick(m, plan, owned=True)  # the line path's env is decoded from the line for this call alone
    return _compiled(m, "quick")


def _floats_allowed(plan: Plan) -> None:
    """Raises ValueError for a version whose decisions compute with the numbers read (derived values,
    scores that weigh numbers): those are decided from Decimals only."""
    if plan.checked.derived or any(not isinstance(comp, FastGroup) and comp.points for comp in plan.composites):
        raise ValueError("derived values and weighed numbers are decided from Decimals only")


class _Strict(_Module):
    """A module whose top-level input reads are strict: ``parent[key]``, KeyError when absent."""

    def __init__(self) -> None:
        super().__init__(inline=True)
        self.emitter = self.two = TwoValued(self.ns, self.walk, strict=True, maybe=self.maybe)
        self.begin(lazy=True)

    def walk(self, keys: tuple[str, ...]) -> str:
        parent = "env" if len(keys) == 1 else self.parent(keys[:-1])
        return f"{parent}[{self.const(keys[-1])}]"

    def maybe(self, keys: tuple[str, ...]) -> str:
        """The input at ``keys``, or None when it is absent (a line read never holds a null)."""
        parent = "env" if len(keys) == 1 else self.parent(keys[:-1])
        return f"{parent}.get({self.const(keys[-1])})"


def two_valued(plan: Plan, transform: Callable[[Code], Code]) -> Quick:
    """``quick`` written two-valued (`ecei_rules.language.source.TwoValued`): the tiers as plain
    Python over True and False, each criterion, group and score worked out where it is needed, then
    the validity of the label awarded, as ``quick`` writes it but two-valued too. A criterion is written as
    whether it is true (`TwoValued.definitely`): the label is the highest tier that is true, which is what a
    tier's members being true says, so a comparison with an absent input is simply not true. It raises
    `ecei_rules.language.source.UnknownValueError` or KeyError where a value it needs is unknown otherwise or
    an input absent elsewhere (arithmetic, the validity rules): the caller then decides three-valued
    (`float_quick`). Each condition's code is as ``transform`` writes it. Like `float_quick`, it writes the
    label awarded into the env it is given.

    Raises:
        ValueError (or what ``transform`` raises): the version cannot be written so (derived values,
        a score that weighs numbers).
    """
    _floats_allowed(plan)
    m = _Strict()
    m.transform = transform
    m.ns.update({"SPAN": check_validity_span, "PLAN": plan})
    shared = _Lazy(m, plan)  # what is kept in a variable (v0 ...), and what each part costs
    criteria, composites, kept, costs = shared.criteria, shared.composites, shared.kept, shared.costs

    def value(ref: str) -> str:
        if ref in criteria:  # true, or not (false or unknown): an absent input read in a comparison is not true
            expr = m.two.definitely(transform(criteria[ref].source))
        else:
            comp = composites[ref]
            if isinstance(comp, FastGroup):
                expr = junction(comp.members)
            else:  # the met weight against the threshold; no weight is unknown here
                expr = score_reaches([(value(member), int(weight)) for member, weight in comp.weights],
                                int(comp.required_num), int(comp.required_den), m.emitter.temp())
        name = kept.get(ref)
        return expr if name is None else f"({name} if {name} is not None else ({name} := {expr}))"

    def junction(refs: tuple[str, ...]) -> str:
        if not refs:
            return "True"
        return "(" + " and ".join(value(ref) for ref in sorted(refs, key=lambda ref: costs[ref])) + ")"

    m.lines.append("    k = -1")
    for j in reversed(range(len(plan.tiers))):
        test = junction(plan.tiers[j].requires)
        m.lines += [f"    {'if' if j == len(plan.tiers) - 1 else 'elif'} {test}:", f"        k = {j}"]
    _validity(m, plan, True, "")  # the line path's env is its own: the label awarded is written into it
    return _compiled(m, "quick")


#: How many members of a score `score_reaches` adds up between two looks at whether its threshold can still be met.
SCORE_STRIDE = 6


def score_reaches(members: list[tuple[str, int]], required_num: int, required_den: int, t: str) -> str:
    """An expression of whether a score is met, two-valued: whether the weight of its ``members`` that
    are true (each an expression of True or False, and its weight), times ``required_den``, reaches
    ``required_num``; ``t`` is a local variable's name for the weight met so far. The members are added
    `SCORE_STRIDE` at a time, the heaviest first, and after each stride the weight met so far plus the
    weight of the members not yet worked out is compared with the threshold: once the score cannot be
    met whatever they are, they are not worked out (a population mostly below a label's score costs a
    few strides, not every member). The answer is the sum's: the members are true or false, and none
    is worked out for what it does besides (a member kept in a variable is worked out where it is
    next needed)."""
    ordered = sorted(members, key=lambda member: -member[1])  # (stable: as written, within a weight)
    if not ordered or any(weight < 0 for _, weight in ordered):  # (weights are above 0: see the model)
        met = " + ".join(expr if weight == 1 else f"{weight} * {expr}" for expr, weight in ordered) or "0"
        return f"(({met}) * {required_den} >= {required_num})"
    strides = [ordered[at:at + SCORE_STRIDE] for at in range(0, len(ordered), SCORE_STRIDE)]
    left = sum(weight for _, weight in ordered)
    tests = []
    for n, stride in enumerate(strides):
        left -= sum(weight for _, weight in stride)
        added = " + ".join(expr if weight == 1 else f"{weight} * {expr}" for expr, weight in stride)
        so_far = f"({t} := {added})" if n == 0 else f"({t} := {t} + {added})"
        if n == len(strides) - 1:
            so_far = f"({added})" if n == 0 else f"({t} + {added})"
        tests.append(f"({so_far} + {left}) * {required_den} >= {required_num}" if left else
                     f"{so_far} * {required_den} >= {required_num}")
    return "(" + " and ".join(tests) + ")"


def criterion_function(compiled: Compiled) -> Callable[[Mapping[str, Any]], Any] | None:
    """A criterion's condition as one generated function of the environment giving True, False or
    UNKNOWN, written as the label mode writes it (aggregates as loops, inputs read where they are
    used), for the trace of a criterion that reads lists; None when it cannot be written so."""
    m = _Module(inline=True)
    m.begin(lazy=True)
    try:
        m.truth("c", compiled)
        m.lines.append("    return c")
        return _compiled(m, "criterion")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None


def _compiled(m: _Module, name: str) -> Quick:
    """The module's function ``name`` (its lines so far, with the aggregates' functions), compiled, each
    function taking the module's names it uses as defaults (read as locals, not globals)."""
    functions = [*m.emitter.helpers, "\n".join([f"def {name}(env):", *m.head, *m.lines])]
    source = "\n\n".join(_localised(function, m.ns) for function in functions) + "\n"
    exec(compile(source, f"<ecei-rules: {name}>", "exec"), m.ns)  # generated names only, see the module
    function: Quick = m.ns[name]
    function.source = source  # type: ignore[attr-defined]
    return function


_NAME = re.compile(r"\b[A-Z][A-Z_]*[0-9]*\b")


def _localised(function: str, ns: dict[str, Any]) -> str:
    """A generated function whose first line ``def f(args):`` takes, after its arguments, each name of
    ``ns`` its body uses as a default bound to itself (positional defaults are copied into the frame
    at each call, where a global is looked up at each use; no caller passes more arguments)."""
    head, _, body = function.partition("\n")
    used = sorted({name for name in _NAME.findall(body) if name in ns})
    if not used or not head.endswith("):"):
        return function
    defaults = ", ".join(f"{name}={name}" for name in used)
    return f"{head[:-2]}, {defaults}):\n{body}"
