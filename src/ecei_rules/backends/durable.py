"""A second, independent engine: the same rulesets decided by durable-rules, and cross-checked.

:func:`compile_ruleset` turns a ruleset version into a durable-rules ruleset; :func:`evaluate`
decides one assessment with it; :func:`cross_check` decides with both engines and lists every
disagreement; :func:`cross_check_log` does that for every record of a decision log.

What durable-rules decides, and what it does not
-------------------------------------------------

* **Criteria.** Every condition is compiled to durable-rules patterns where it can be:
  a comparison of one input with a constant or parameter (``indicators["4.1.5"] <= 24``),
  a boolean input (``eligibility.listed_on_eccp``), ``known(x)``, ``x in [...]``, and a
  comparison of two whole-number inputs with a whole factor (``2 * eligibility.private_participants
  > eligibility.committed_participants``, with durable's own arithmetic). ``and``, ``or``,
  ``not`` and chained comparisons combine such parts with three-valued (Kleene) rules over
  asserted outcome facts. Each part has three rules, ``met``, ``not_met`` and ``unknown``
  (an absent input: the pattern ``$nex``); exactly one fires.
* **Everything else in a condition** (aggregates over lists such as ``any(... for h in history)``
  and ``count_distinct(...)``, calendar functions, other arithmetic) is evaluated by the
  interpreter of the language (:mod:`ecei_rules.language.interpreter`, written apart from the
  compiler; the reference evaluator runs it too) and posted as an outcome fact.
  :attr:`DurablePlan.evaluated_by` says which criterion is decided how; for the shipped
  ``ecei-labels`` versions only S1 (a previous Bronze 18 to 24 months before) and S3 (distinct
  validated improvement areas) are interpreted; every other criterion is decided by
  durable-rules patterns.
* **Derived values are computed by the interpreter; durable-rules compares them.** Each derived
  value is computed with the reference evaluator's reading
  (:func:`ecei_rules.engine.reference.reference_derived`), and so is a band's value when its ``of``
  is an expression (neither an input nor a derived value). A comparison of such a value with a
  constant or parameter (``total <= params.total_5``, a band class ``22 <= energy_index < 33``, a
  level by a points total, ``band == "A"``, a truth value alone) is compiled to durable patterns
  over a fact posted per decision (:class:`ValueView`): a number (a date: its day number) as whole
  numbers at the scale of the constants it is compared with (``c`` = ``C / scale``), the floor and
  the ceiling of its value times the scale (of each end, for a value known only to lie in a range),
  so that ``x >= C`` exactly when ``floor(x) >= C`` and ``x <= C`` exactly when ``ceil(x) <= C``:
  exact for every rational value, a third as well as a tenth, where a double is not. Each member is
  clipped just beyond the largest constant compared (any whole number there compares alike), so
  every member is a whole number durable-rules compares exactly (at most 2**53). A range decides a
  comparison when every value in it agrees, as the interpreter's ``relate`` does. An unknown value
  and an undefined one (a division by zero, ``min`` over no items; its reason is the reference
  evaluator's, in ``derived``) are posted without members, so only the comparison's ``unknown``
  rule matches, and the tier's ``missing`` is the reference evaluator's reading (an undefined value
  needs no input). A text is posted as it is (one durable-rules cannot carry exactly, with a quote
  or a control character, as a text equal to no constant compared); a truth value as it is. A value
  compared with more than 12 constants is spread over several facts (each fact's comparisons stay
  within durable-rules' limit of 128 after one test). What stays with the interpreter: a
  comparison of a computed value with an input or another computed value, ``known()`` and ``in``
  on a computed value, arithmetic on one inside a condition, a constant with no exact double, and
  anything inside an aggregate. durable-rules cannot compute derived values itself: its only
  arithmetic is on the right-hand side of a comparison (``$add``, ``$sub``, ``$mul``, ``$div``
  over members of matched facts), done in C, and it is not the language's. Whole numbers are
  64-bit integers, so ``7 / 2`` is 3 and a whole-number division by zero ends the process
  (SIGFPE) where the language has the named outcome "division by zero"; other numbers are
  doubles, so ``0.1 + 0.2 > 0.3`` holds (``tests/backends/test_durable_arithmetic.py``). It has
  no ``round``, ``floor``, ``ceil``, ``min``, ``max``, ``abs``, conditional choice, sums or counts
  over a list, and no way to put a computed value into a fact but a Python action. A derived value
  asserted by an action would be computed by Python in any case, so the backend takes the
  interpreter's, which is written apart from the compiler whose closures compute the core engine's
  (:mod:`ecei_rules.engine.derived`). What the cross-check then proves for such a ruleset: the
  core engine's derived values equal the interpreter's (each value, outcome and reason is
  compared), durable-rules' comparisons of them give the core engine's band, level and criterion
  outcomes, and its groups, scores, levels, tiers and label follow from those. It does not check
  the derived values by a third implementation: a misreading of the language reference made by
  both the interpreter and the compiler would pass (the embedded tests, derived by hand, are the
  check against that). ``tests/backends/test_durable_derived.py`` compares each compiled
  comparison with the interpreter's reading, value by value, on both sides of every bound.
* **Groups, scores, tiers and the label** are durable rules over the asserted outcome facts:
  a group or tier is a Kleene fold over its members, a score folds the met and the
  still-possible weight (whole numbers, scaled exactly) and compares them with the required
  weight in a pattern, and the label is the highest tier that is met and every tier above
  it is not. No label rule firing (a post that matches no label rule) means no label.
* **Points weighed as numbers** (a score's ``points``) are read by the interpreter: it computes
  what each counts (its value clipped to [0, maximum], exactly) and posts, per decision and score,
  the least whole scaled met weight the criteria must reach with them (``need``:
  ``ceil(required - counted)`` at the score's scale, and the same with the numbers without a value at
  their maximum); durable-rules folds the criteria's weights and compares its sums with that fact
  (a comparison across two facts, exact for whole numbers). A score without points is decided
  by the same rules as before, with its required weight a constant of the patterns.
* **Validity dates** are computed by the interpreter for the label durable decided.
* **Shared with the core engine, on purpose:** the assessment is validated and normalised
  by the version's own validator (both engines must read the same inputs), and the static
  metadata of a decision (titles, which inputs a criterion reads) comes from the loaded
  ruleset. No compiled condition of the core engine is ever called.
* **Written again here, on purpose:** reading a condition (the input paths it names), the
  Kleene folds and the mapping of truth values to outcomes repeat what
  :mod:`ecei_rules.core.logic` and :mod:`ecei_rules.ruleset.analysis` do (a duplicate finder
  pairs them); this repetition is the independent check, and must not be factored into the core.

Inputs reach durable-rules as IEEE doubles. Inputs carry at most 15 significant digits, so
every decimal maps to a distinct double in the same order; each value and each threshold is
checked to round-trip exactly, and a condition whose threshold would not is interpreted
instead. Computed values reach it as scaled whole numbers (above). Dates are compared as day
numbers.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import itertools
import json
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from ecei_rules.backends._durable_runtime import (
    DURABLE_RULES_VERSION,
    DurableError,
    DurableUnavailableError,
    Fact,
    Frames,
    Rule,
    runtime,
)
from ecei_rules.engine.decision import Decision, Resolution, given
from ecei_rules.engine.derived import DerivedResult, derived_json
from ecei_rules.engine.evaluate import evaluate as core_evaluate
from ecei_rules.engine.evaluate import validate_assessment
from ecei_rules.engine.reference import reference_derived, reference_needs
from ecei_rules.errors import AssessmentError, EceiRulesError, ResolutionError, RulesetError
from ecei_rules.language import interpreter as interp
from ecei_rules.ruleset.analysis import input_pointer
from ecei_rules.ruleset.dates import check_validity_span
from ecei_rules.ruleset.inputs import Field, map_keys
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL, score_outcomes
from ecei_rules.ruleset.subject import IMPLIED
from ecei_rules.ruleset.subject import resolve as resolve_subject

if TYPE_CHECKING:
    from ecei_rules.audit.log import StoredRecord
    from ecei_rules.audit.replay import AuditReport
    from ecei_rules.registry import Registry

__all__ = [
    "DURABLE_RULES_VERSION",
    "CrossCheck",
    "DurableDecision",
    "DurableError",
    "DurableLimitError",
    "DurableOutcome",
    "DurablePlan",
    "DurableUnavailableError",
    "ScoreOutcome",
    "TierOutcome",
    "available",
    "compile_ruleset",
    "cross_check",
    "cross_check_log",
    "decide_many",
    "disagreements",
    "durable_number",
    "evaluate",
]

Outcome = Literal["met", "not_met", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("met", "not_met", "unknown")
_NEGATE: dict[Outcome, Outcome] = {"met": "not_met", "not_met": "met", "unknown": "unknown"}
_OPS = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt", "!=": "$neq"}
_NEGATED_OP = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
_FLIPPED_OP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
_AST_OPS = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<", ast.Eq: "==", ast.NotEq: "!="}
#: At most this many inputs are read by durable-rules patterns (one property each of the input
#: fact); a condition on a further input is decided by the interpreter. durable-rules 2.0.28
#: fails to take a fact with about 65 such properties (error 303) and fails to create a
#: ruleset testing some 200 (error 107).
_MAX_FIELDS = 48
#: The limits of what durable-rules 2.0.28 builds in bounded time, checked on the compiled rules
#: before durable-rules sees them (:func:`check_limits`). Its alpha network keeps the equality
#: tests under one test in a table of 512 buckets and loops forever when the table fills (a
#: ruleset of 26 criteria with ten-way ``and`` needs 519 outcome nodes: it never returns), and
#: the other tests under one test in a list of 128 (beyond it: error 107).
MAX_EQUALITY_BRANCHES = 480
MAX_OTHER_BRANCHES = 100
MAX_RULES = 20_000


def available() -> bool:
    """True when durable-rules can be used in this process."""
    try:
        runtime()
    except DurableUnavailableError:
        return False
    return True


# -- the compiled form ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """Something that gets an outcome fact: a criterion, group, score, tier, or a part of a condition."""

    id: int
    kind: Literal["criterion", "group", "score", "tier", "part"]
    name: str


@dataclass(frozen=True)
class InputField:
    """An input a durable pattern reads: its JSON pointer, its property in the input fact, its kind."""

    pointer: str
    name: str
    kind: str


@dataclass(frozen=True)
class ScoreScale:
    """A score in whole numbers: every weight and the required weight times ``scale``."""

    node: int
    members: tuple[tuple[str, int], ...]  # criterion id, scaled weight
    scale: int
    required: int  # threshold x total weight x scale (a whole number)
    total: Fraction
    #: the numbers it weighs as they are (``points``): name, value read by the interpreter, maximum;
    #: what they count is posted per decision as the met weight the criteria must still reach
    points: tuple[tuple[str, interp.Expression, Fraction], ...] = ()


@dataclass(frozen=True)
class ValueView:
    """A value the interpreter computes and durable-rules patterns compare: a derived value, or the value
    a band places into its classes when that is an expression. Posted once per decision as the fact
    ``{"t": "v", "n": id, ...}``, without its members when the value is unknown or undefined.

    A number (a date: its day number) is posted as whole numbers at ``scale`` (every constant it is
    compared with is a whole number at this scale): ``l``/``L`` the floor/ceiling of its least value
    times ``scale``, ``h``/``H`` those of its greatest (the same value, but for a range), each clipped to
    [-bound, bound], beyond every constant compared. A truth value or a text is the member ``x`` (a text
    the patterns cannot carry exactly is ``other``, equal to no constant compared)."""

    id: int
    source: str  # the derived value's name, or "bands.<band>" for a band's expression
    kind: Literal["number", "date", "string", "boolean"]
    scale: int = 1
    bound: int = 0
    other: str = ""
    of: interp.Expression | None = None  # a band's expression; None: the derived value by its name


@dataclass(frozen=True)
class _ValidityRule:
    id: str
    labels: tuple[str, ...]
    when: interp.Expression | None
    valid_until: interp.Expression | None  # None: valid_until: never


@dataclass(frozen=True)
class DurablePlan:
    """A ruleset version compiled for durable-rules (registered once per process under ``name``)."""

    ruleset: Ruleset
    name: str
    digest: str
    rules: tuple[Rule, ...]
    notes: Mapping[str, str]  # rule name -> what it decides, for the trace
    nodes: tuple[Node, ...]
    criteria: Mapping[str, int]
    groups: Mapping[str, int]
    scores: Mapping[str, ScoreScale]
    tiers: Mapping[str, int]
    fields: tuple[InputField, ...]
    interpreted: tuple[tuple[int, interp.Expression], ...]  # parts whose outcome the interpreter posts
    constants: tuple[tuple[int, Outcome], ...]
    evaluated_by: Mapping[str, str]  # criterion id -> durable | interpreter | durable+interpreter
    valid_from: interp.Expression
    validity: tuple[_ValidityRule, ...]
    interpreter: interp.Interpreter
    overrides: Mapping[str, str]
    views: tuple[ValueView, ...] = ()  # the computed values durable patterns compare, posted per decision


def _validity_rules(doc: Any) -> tuple[_ValidityRule, ...]:
    """The validity rules, their conditions read by the interpreter (no end: valid_until: never)."""
    return tuple(_ValidityRule(r.id, tuple(r.labels), interp.parse(r.when) if r.when else None,
                               interp.parse(r.valid_until) if r.expires else None) for r in doc.validity.rules)


def _o(node: int, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The pattern of an outcome fact of ``node`` with one of ``outcomes``."""
    which: dict[str, Any] = {"o": outcomes[0]} if len(outcomes) == 1 else {"$or": [{"o": o} for o in outcomes]}
    return {"$and": [{"t": "o"}, {"n": node}, which]}


def _emit_outcome(node: int, outcome: Outcome) -> Callable[[Frames], list[Fact]]:
    fact: Fact = {"t": "o", "n": node, "o": outcome}

    def emit(frames: Frames) -> list[Fact]:
        return [dict(fact)]

    return emit


def _emit_step(score: int, step: int, met: int, possible: int) -> Callable[[Frames], list[Fact]]:
    def emit(frames: Frames) -> list[Fact]:
        acc = frames["a"]
        return [{"t": "acc", "n": score, "i": step + 1, "met": int(acc["met"]) + met,
                 "hi": int(acc["hi"]) + possible}]

    return emit


def _chained(tree: ast.AST) -> bool:
    """A comparison of more than two operands (``a < b <= c``)."""
    return isinstance(tree, ast.Compare) and len(tree.ops) > 1


def _pairs(tree: ast.Compare) -> list[ast.Compare]:
    """A chained comparison as its comparisons of two operands (``a < b``, ``b <= c``)."""
    operands = [tree.left, *tree.comparators]
    pairs = [ast.Compare(left=operands[i], ops=[op], comparators=[operands[i + 1]])
             for i, op in enumerate(tree.ops)]
    for p in pairs:
        ast.copy_location(p, tree)
    return pairs


class _UnsupportedError(Exception):
    """This part of a condition is not a durable pattern (the interpreter decides it)."""


#: ``value op c`` over a value known to lie in [lo, hi] (one value: lo = hi), as tests of the members
#: of its fact (:class:`ValueView`: l, L = floor, ceil of lo x scale; h, H = those of hi) against the
#: whole number C = c x scale: (met, not met, unknown), each a list of alternatives that exclude each
#: other, each alternative a conjunction of (member, op). Exact: for a whole number C and any x,
#: x >= C iff floor(x) >= C, and x <= C iff ceil(x) <= C. A range decides a comparison when every
#: value in it agrees (the interpreter's ``relate``).
_BETWEEN: dict[str, tuple[list[list[tuple[str, str]]], ...]] = {
    "<=": ([[("H", "<=")]], [[("L", ">")]], [[("H", ">"), ("L", "<=")]]),
    "<": ([[("h", "<")]], [[("l", ">=")]], [[("h", ">="), ("l", "<")]]),
    ">=": ([[("l", ">=")]], [[("h", "<")]], [[("l", "<"), ("h", ">=")]]),
    ">": ([[("L", ">")]], [[("H", "<=")]], [[("L", "<="), ("H", ">")]]),
    "==": ([[("l", ">="), ("H", "<=")]], [[("h", "<")], [("L", ">")]],
           [[("h", ">="), ("L", "<="), ("l", "<")], [("h", ">="), ("L", "<="), ("l", ">="), ("H", ">")]]),
}
_BETWEEN["!="] = (_BETWEEN["=="][1], _BETWEEN["=="][0], _BETWEEN["=="][2])
#: the greatest whole number a view's member may be (durable compares numbers exactly up to 2**53)
_MAX_WHOLE = 2**53
#: At most this many constants are compared with one view: its patterns test each of its four members
#: against a constant in at most two ways, so a view's fact makes at most 8 x 12 = 96 branches after its
#: presence test, within :data:`MAX_OTHER_BRANCHES`; a value compared with more constants gets more
#: views (one fact each)
_VIEW_CONSTANTS = 12


@dataclass
class _ViewDraft:
    """A :class:`ValueView` being compiled: the constants compared with it so far."""

    id: int
    source: str
    kind: Literal["number", "date", "string", "boolean"]
    scale: int
    of: interp.Expression | None
    constants: set[Any] = field(default_factory=set)

    def view(self) -> ValueView:
        if self.kind in ("number", "date"):
            return ValueView(self.id, self.source, self.kind, self.scale,
                             bound=max(abs(c) for c in self.constants) + 1, of=self.of)
        other = next(f"~{i}" for i in itertools.count() if f"~{i}" not in self.constants)
        return ValueView(self.id, self.source, self.kind, other=other, of=self.of)


class _Compiler:
    def __init__(self, ruleset: Ruleset, overrides: Mapping[str, str]) -> None:
        self.ruleset = ruleset
        self.doc = ruleset.document
        self.overrides = overrides
        self.rules: list[Rule] = []
        self.notes: dict[str, str] = {}
        self.nodes: list[Node] = []
        self.fields: dict[str, InputField] = {}
        self.interpreted: list[tuple[int, interp.Expression]] = []
        self.constants: list[tuple[int, Outcome]] = []
        self.params = {name: p.value for name, p in self.doc.parameters.items()}
        # a parameter table is read by the interpreter, as its value by key (keys resolved at load)
        self.tables = {name: dict(t.values) for name, t in ruleset.plan.tables.items()}
        self.interpreter = interp.Interpreter({**self.params, **self.tables}, map_keys(ruleset.plan.inputs),
                                              ranges=self.doc.unknowns is not None)
        self.used_interpreter = False
        self.used_durable = False
        # the values the interpreter computes that patterns may compare: derived values by name, and
        # each band's value when it is an expression (neither an input nor a derived value)
        kinds = {"integer": "number", "decimal": "number", "date": "date", "string": "string", "boolean": "boolean"}
        self.computed: dict[str, tuple[str, str, interp.Expression | None]] = {
            ast.dump(ast.Name(id=name, ctx=ast.Load())): (name, kinds[d.type], None)
            for name, d in self.doc.derived.items()}
        for bid, band in self.doc.bands.items():
            of = interp.parse(band.of)
            if self.path(of.tree) is None:
                self.computed.setdefault(ast.dump(of.tree), (f"bands.{bid}", "number", of))
        self.views: list[_ViewDraft] = []

    # -- bookkeeping ------------------------------------------------------------------------------
    def node(self, kind: Literal["criterion", "group", "score", "tier", "part"], name: str) -> int:
        n = Node(len(self.nodes), kind, name)
        self.nodes.append(n)
        return n.id

    def rule(self, note: str, frames: Sequence[tuple[str, dict[str, Any]]],
             emit: Callable[[Frames], list[Fact]]) -> None:
        name = f"r{len(self.rules)}"
        self.rules.append(Rule(name, tuple(frames), emit))
        self.notes[name] = note

    def outcome_rules(self, node: int, label: str,
                      patterns: Mapping[Outcome, dict[str, Any] | list[dict[str, Any]]]) -> None:
        """One rule per pattern. The patterns must exclude each other: durable-rules fires a rule
        once per matching alternative of an ``$or``, so overlapping alternatives would fire twice."""
        for outcome in OUTCOMES:
            alternatives = patterns[outcome]
            for pattern in alternatives if isinstance(alternatives, list) else [alternatives]:
                self.rule(f"{label} -> {outcome}", [("m", pattern)], _emit_outcome(node, outcome))

    # -- inputs and constants ---------------------------------------------------------------------
    def path(self, node: ast.AST) -> str | None:
        """The JSON pointer of a pure input path, as the one analysis of conditions reads it."""
        return input_pointer(node)

    def input_field(self, pointer: str) -> InputField | None:
        f: Field | None = self.ruleset.plan.inputs
        for raw in pointer.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if f is None:
                return None
            if f.kind == "object":
                f = f.fields.get(part)
            elif f.kind == "map":
                f = f.entries.get(part)
            else:
                return None
        if f is None or f.kind not in ("boolean", "integer", "decimal", "date", "string", "enum"):
            return None
        if pointer not in self.fields:
            if len(self.fields) >= _MAX_FIELDS:
                return None
            self.fields[pointer] = InputField(pointer, f"f{len(self.fields)}", f.kind)
        return self.fields[pointer]

    def constant(self, node: ast.AST, expr: interp.Expression) -> tuple[str, Any]:
        """A constant operand as (kind, durable value); raises _UnsupportedError."""
        if isinstance(node, ast.Name) and node.id in ("true", "false"):
            return "boolean", node.id == "true"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
            return self.value(self.params[node.attr])
        entry = self.table_entry(node)
        if entry is not None:  # a table's entry by a quoted key
            return self.value(entry[0])
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, float):
                text = ast.get_source_segment(expr.wrapped, node) or repr(v)
                return self.value(Decimal(text.replace("_", "")))
            return self.value(v)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            kind, v = self.constant(node.operand, expr)
            if kind != "number":
                raise _UnsupportedError
            return kind, -v
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "date" \
                and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            return self.value(dt.date.fromisoformat(str(node.args[0].value)))
        raise _UnsupportedError

    def table_entry(self, node: ast.AST) -> tuple[Any] | None:
        """(the value,) of ``params.table["key"]``, a parameter table's entry by a quoted key; else None."""
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "params"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return None
        table = self.tables.get(node.value.attr)
        return None if table is None or node.slice.value not in table else (table[node.slice.value],)

    @staticmethod
    def value(v: Any) -> tuple[str, Any]:
        if isinstance(v, bool):
            return "boolean", v
        if isinstance(v, (int, Decimal)):
            try:
                number = durable_number(v)
            except DurableError:
                raise _UnsupportedError from None  # no exact double: the interpreter decides
            if isinstance(number, float) and "e" in repr(number) and "." not in repr(number).split("e")[0]:
                raise _UnsupportedError  # durable would write it as 1e-05, which its reader rejects
            return "number", number
        if isinstance(v, dt.date):
            return "date", v.toordinal()
        if isinstance(v, str) and not any(c in v for c in '"\\') and all(ord(c) >= 32 for c in v):
            return "string", v
        raise _UnsupportedError

    # -- conditions ---------------------------------------------------------------------------------
    def condition(self, tree: ast.AST, expr: interp.Expression, target: int, label: str) -> None:
        """Compile a boolean expression whose outcome is asserted for node ``target``."""
        try:
            self.pattern(tree, expr, target, label)
            self.used_durable = True
            return
        except _UnsupportedError:
            pass
        if isinstance(tree, (ast.BoolOp, ast.UnaryOp)) or _chained(tree):
            self.used_durable = True  # the three-valued combination is durable rules
        if not self.combination(tree, expr, target, label):
            self.leaf(tree, expr, target)

    def combination(self, tree: ast.AST, expr: interp.Expression, target: int, label: str) -> bool:
        """``and``, ``or``, ``not`` or a chained comparison as durable rules over its parts' outcomes;
        False for anything else."""
        if isinstance(tree, ast.BoolOp):
            parts = [self.part(v, expr, label, i) for i, v in enumerate(tree.values)]
            self.fold("and" if isinstance(tree.op, ast.And) else "or", parts, target, label)
        elif isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            inner = self.part(tree.operand, expr, label, 0)
            for outcome in OUTCOMES:
                self.rule(f"{label}: not -> {_NEGATE[outcome]}", [("a", _o(inner, [outcome]))],
                          _emit_outcome(target, _NEGATE[outcome]))
        elif isinstance(tree, ast.Compare) and _chained(tree):
            parts = [self.part(p, expr, label, i) for i, p in enumerate(_pairs(tree))]
            self.fold("and", parts, target, label)
        else:
            return False
        return True

    def leaf(self, tree: ast.AST, expr: interp.Expression, target: int) -> None:
        """A condition durable patterns do not decide: a constant outcome, or one the interpreter posts."""
        self.used_interpreter = True
        if isinstance(tree, ast.Constant) and isinstance(tree.value, bool):
            self.constants.append((target, "met" if tree.value else "not_met"))
        elif isinstance(tree, ast.Name) and tree.id in ("true", "false"):
            self.constants.append((target, "met" if tree.id == "true" else "not_met"))
        else:
            self.interpreted.append((target, interp.Expression(expr.text, expr.wrapped, tree)))  # type: ignore[arg-type]

    def part(self, tree: ast.AST, expr: interp.Expression, label: str, index: int) -> int:
        node = self.node("part", f"{label}#{index}")
        self.condition(tree, expr, node, f"{label}#{index}")
        return node

    def pattern(self, tree: ast.AST, expr: interp.Expression, target: int, label: str) -> None:
        """Three rules over the input fact for a simple condition; raises _UnsupportedError otherwise."""
        if self.compare_computed(target, label, tree, expr):
            return
        pointer = self.path(tree)
        if pointer is not None:  # a boolean input
            f = self.input_field(pointer)
            if f is None or f.kind != "boolean":
                raise _UnsupportedError
            self.atom(target, label, f, "==", True)
            return
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "known" \
                and len(tree.args) == 1 and (pointer := self.path(tree.args[0])) is not None:
            f = self.input_field(pointer)
            if f is None:
                raise _UnsupportedError
            base: dict[str, Any] = {"t": "in"}
            self.outcome_rules(target, label, {
                "met": {"$and": [base, {"$ex": {f.name: 1}}]},
                "not_met": {"$and": [base, {"$nex": {f.name: 1}}]},
                "unknown": [],  # known(x) is never unknown
            })
            return
        if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1):
            raise _UnsupportedError
        op_node, left, right = tree.ops[0], tree.left, tree.comparators[0]
        if isinstance(op_node, (ast.In, ast.NotIn)):
            self.membership(tree, expr, target, label)
            return
        op = _AST_OPS.get(type(op_node))
        if op is None:
            raise _UnsupportedError
        lp, rp = self.path(left), self.path(right)
        try:
            if lp is not None and rp is None:
                self.compare_constant(target, label, lp, op, right, expr)
                return
            if rp is not None and lp is None:
                self.compare_constant(target, label, rp, _FLIPPED_OP[op], left, expr)
                return
        except _UnsupportedError:
            pass
        self.compare_linear(target, label, left, op, right, expr)

    def compare_constant(self, target: int, label: str, pointer: str, op: str, other: ast.AST,
                         expr: interp.Expression) -> None:
        f = self.input_field(pointer)
        if f is None:
            raise _UnsupportedError
        kind, value = self.constant(other, expr)
        numeric = f.kind in ("integer", "decimal")
        if (kind == "number" and numeric) or (kind == "date" and f.kind == "date"):
            pass
        elif (kind == "boolean" and f.kind == "boolean") or (kind == "string" and f.kind in ("string", "enum")):
            if op not in ("==", "!="):
                raise _UnsupportedError
        else:
            raise _UnsupportedError
        self.atom(target, label, f, op, value)

    def atom(self, target: int, label: str, f: InputField, op: str, value: Any,
             where: Sequence[dict[str, Any]] = ({"t": "in"},)) -> None:
        present = {"$ex": {f.name: 1}}
        self.outcome_rules(target, label, {
            "met": {"$and": [*where, present, _test(f.name, op, value)]},
            "not_met": {"$and": [*where, present, _test(f.name, _NEGATED_OP[op], value)]},
            "unknown": {"$and": [*where, {"$nex": {f.name: 1}}]},
        })

    # -- computed values: derived values and a band's expression ----------------------------------------
    def computed_value(self, node: ast.AST) -> tuple[str, str, interp.Expression | None] | None:
        """(source, kind, band expression or None) of a derived value's name or a band's expression."""
        return self.computed.get(ast.dump(node))

    def view(self, source: tuple[str, str, interp.Expression | None], scale: int, constant: Any) -> _ViewDraft:
        """The view of a computed value at ``scale``, with ``constant`` noted as compared with it."""
        name, kind, of = source
        drafts = [d for d in self.views if d.source == name and d.scale == scale]
        draft = next((d for d in drafts if constant in d.constants), None)
        if draft is None and (not drafts or len(drafts[-1].constants) >= _VIEW_CONSTANTS):
            draft = _ViewDraft(len(self.views), name, kind, scale, of)  # type: ignore[arg-type]
            self.views.append(draft)
        draft = draft or drafts[-1]
        draft.constants.add(constant)
        return draft

    def compare_computed(self, target: int, label: str, tree: ast.AST, expr: interp.Expression) -> bool:
        """A computed value compared with a constant (or a truth value alone) as patterns over its fact
        (:class:`ValueView`); False when ``tree`` reads no computed value at the top."""
        source = self.computed_value(tree)
        if source is not None:  # a truth value alone
            if source[1] != "boolean":
                raise _UnsupportedError
            self.atom(target, label, InputField(source[0], "x", "boolean"), "==", True,
                      [{"t": "v"}, {"n": self.view(source, 1, True).id}])
            return True
        if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in _AST_OPS):
            return False
        op = _AST_OPS[type(tree.ops[0])]
        left, right = tree.left, tree.comparators[0]
        source, other = self.computed_value(left), right
        if source is None:
            source, other, op = self.computed_value(right), left, _FLIPPED_OP[op]
        if source is None:
            return False
        kind, value = self.constant(other, expr)
        if source[1] in ("string", "boolean"):
            if kind != source[1] or op not in ("==", "!="):
                raise _UnsupportedError
            self.atom(target, label, InputField(source[0], "x", kind), op, value,
                      [{"t": "v"}, {"n": self.view(source, 1, value).id}])
            return True
        if kind != ("date" if source[1] == "date" else "number"):
            raise _UnsupportedError
        self.compare_scaled(target, label, source, op, value)
        return True

    def compare_scaled(self, target: int, label: str, source: tuple[str, str, interp.Expression | None],
                       op: str, value: int | float) -> None:
        """``source op value`` for a computed number or date: the rules of :data:`_BETWEEN` over the members
        of its view at the scale of ``value``'s denominator."""
        # a decimal constant is the double durable_number checked to stand for it exactly
        exact = Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)
        whole = exact.numerator  # at the scale of the constant's denominator
        if abs(whole) >= _MAX_WHOLE:
            raise _UnsupportedError
        view = self.view(source, exact.denominator, whole)
        where: list[dict[str, Any]] = [{"t": "v"}, {"n": view.id}]
        met, not_met, unknown = _BETWEEN[op]

        def alternatives(tests: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
            return [{"$and": [*where, {"$ex": {"l": 1}}, *(_test(m, o, whole) for m, o in conj)]} for conj in tests]

        self.outcome_rules(target, label, {
            "met": alternatives(met), "not_met": alternatives(not_met),
            "unknown": [{"$and": [*where, {"$nex": {"l": 1}}]}, *alternatives(unknown)],
        })

    def linear(self, node: ast.AST, expr: interp.Expression) -> tuple[InputField, int]:
        """``path`` or ``k * path`` (k a whole number) over a whole-number input."""
        factor, operand = 1, node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for k, other in ((node.left, node.right), (node.right, node.left)):
                if self.path(other) is not None:
                    kind, value = self.constant(k, expr)
                    if kind != "number" or not isinstance(value, int) or abs(value) > 2**10:
                        raise _UnsupportedError
                    factor, operand = value, other
                    break
            else:
                raise _UnsupportedError
        pointer = self.path(operand)
        if pointer is None:
            raise _UnsupportedError
        f = self.input_field(pointer)
        if f is None or f.kind != "integer":  # exact arithmetic: whole numbers only
            raise _UnsupportedError
        return f, factor

    def compare_linear(self, target: int, label: str, left: ast.AST, op: str, right: ast.AST,
                       expr: interp.Expression) -> None:
        (a, ka), (b, kb) = self.linear(left, expr), self.linear(right, expr)
        if ka != 1 and kb != 1:
            raise _UnsupportedError
        if ka != 1:  # k * a op b  ->  b (flipped op) k * a
            (a, ka), (b, kb), op = (b, kb), (a, ka), _FLIPPED_OP[op]
        other: Any = {"$m": b.name} if kb == 1 else {"$mul": {"$l": {"$m": b.name}, "$r": kb}}
        base: dict[str, Any] = {"t": "in"}
        present = [{"$ex": {a.name: 1}}, {"$ex": {b.name: 1}}]
        self.outcome_rules(target, label, {
            "met": {"$and": [base, *present, _test(a.name, op, other)]},
            "not_met": {"$and": [base, *present, _test(a.name, _NEGATED_OP[op], other)]},
            "unknown": [{"$and": [base, {"$nex": {a.name: 1}}]},  # two rules that exclude each other
                        {"$and": [base, {"$ex": {a.name: 1}}, {"$nex": {b.name: 1}}]}],
        })

    def membership(self, tree: ast.Compare, expr: interp.Expression, target: int, label: str) -> None:
        pointer = self.path(tree.left)
        f = self.input_field(pointer) if pointer is not None else None
        if f is None:
            raise _UnsupportedError
        right = tree.comparators[0]
        if isinstance(right, (ast.List, ast.Tuple)):
            values = [self.constant(e, expr) for e in right.elts]
        elif isinstance(right, ast.Attribute) and isinstance(right.value, ast.Name) and right.value.id == "params":
            raw = self.params[right.attr]
            if not isinstance(raw, tuple):
                raise _UnsupportedError
            values = [self.value(v) for v in raw]
        else:
            raise _UnsupportedError
        want = "string" if f.kind in ("string", "enum") else "number" if f.kind in ("integer", "decimal") else f.kind
        if not values or any(kind != want for kind, _ in values):
            raise _UnsupportedError
        values = list(dict.fromkeys(values))  # a repeated value would fire the $or twice
        base: dict[str, Any] = {"t": "in"}
        present = {"$ex": {f.name: 1}}
        inside = {"$or": [_test(f.name, "==", v) for _, v in values]}
        outside = {"$and": [_test(f.name, "!=", v) for _, v in values]}
        met, not_met = (inside, outside) if isinstance(tree.ops[0], ast.In) else (outside, inside)
        self.outcome_rules(target, label, {
            "met": {"$and": [base, present, met]},
            "not_met": {"$and": [base, present, not_met]},
            "unknown": {"$and": [base, {"$nex": {f.name: 1}}]},
        })

    # -- Kleene folds, scores, tiers, the label --------------------------------------------------------
    def fold(self, how: Literal["and", "or"], members: Sequence[int], target: int, label: str) -> None:
        """``target`` = members[0] and/or members[1] and/or ...: one fact per step, one rule fires per step."""
        if not members:
            self.constants.append((target, "met" if how == "and" else "not_met"))
            return
        if len(members) == 1:
            for outcome in OUTCOMES:
                self.rule(f"{label}: {outcome}", [("a", _o(members[0], [outcome]))], _emit_outcome(target, outcome))
            return
        acc = members[0]
        absorbing: Outcome = "not_met" if how == "and" else "met"  # false and x = false; true or x = true
        neutral: Outcome = "met" if how == "and" else "not_met"
        for i, member in enumerate(members[1:], 1):
            step = target if i == len(members) - 1 else self.node("part", f"{label}/{how}{i}")
            note = f"{label}: {how} step {i}"
            self.rule(f"{note} -> {absorbing}", [("a", _o(acc, [absorbing]))], _emit_outcome(step, absorbing))
            for outcome in OUTCOMES:
                self.rule(f"{note} -> {outcome}", [("a", _o(acc, [neutral])), ("b", _o(member, [outcome]))],
                          _emit_outcome(step, outcome))
            self.rule(f"{note} -> {absorbing}", [("a", _o(acc, ["unknown"])), ("b", _o(member, [absorbing]))],
                      _emit_outcome(step, absorbing))
            self.rule(f"{note} -> unknown", [("a", _o(acc, ["unknown"])), ("b", _o(member, [neutral, "unknown"]))],
                      _emit_outcome(step, "unknown"))
            acc = step

    def score(self, sid: str, node: int, members: Mapping[str, int]) -> ScoreScale:
        spec, _ = score_outcomes(self.doc)[sid]
        name = spec.threshold if spec.threshold is not None else spec.minimum
        threshold = Fraction(self.doc.parameters[name].value)  # type: ignore[arg-type,index]
        weights = {cid: Fraction(w) for cid, w in spec.weights.items()}
        maxima = {pid: Fraction(p.maximum) for pid, p in spec.points.items()}
        total = sum((*weights.values(), *maxima.values()), Fraction(0))
        required = threshold * total if spec.threshold is not None else threshold
        scale = math.lcm(*(w.denominator for w in weights.values()), required.denominator)
        scaled = tuple((cid, int(w * scale)) for cid, w in weights.items())
        need = int(required * scale)
        acc = {"$and": [{"t": "acc"}, {"n": node}, {"i": len(scaled)}]}
        for i, (cid, w) in enumerate(scaled):
            here = {"$and": [{"t": "acc"}, {"n": node}, {"i": i}]}
            steps: tuple[tuple[Outcome, int, int], ...] = (("met", w, w), ("unknown", 0, w), ("not_met", 0, 0))
            for outcome, met, possible in steps:
                self.rule(f"{sid}: {cid} {outcome} (+{met} met, +{possible} possible; {need} needed, x{scale})",
                          [("a", here), ("b", _o(members[cid], [outcome]))], _emit_step(node, i, met, possible))
        points = tuple((pid, interp.parse(p.value), maxima[pid]) for pid, p in spec.points.items())
        if points:  # the weight the criteria must reach comes from what the numbers count (posted per decision)
            self.points_rules(sid, node, acc, scale)
            return ScoreScale(node, scaled, scale, need, total, points)
        self.rule(f"{sid}: met weight reaches {need} -> met",
                  [("a", {"$and": [acc, {"$gte": {"met": need}}]})], _emit_outcome(node, "met"))
        self.rule(f"{sid}: even every unknown met stays below {need} -> not_met",
                  [("a", {"$and": [acc, {"$lt": {"hi": need}}]})], _emit_outcome(node, "not_met"))
        self.rule(f"{sid}: {need} reachable only with unknowns -> unknown",
                  [("a", {"$and": [acc, {"$lt": {"met": need}}, {"$gte": {"hi": need}}]})],
                  _emit_outcome(node, "unknown"))
        return ScoreScale(node, scaled, scale, need, total)

    def points_rules(self, sid: str, node: int, acc: dict[str, Any], scale: int) -> None:
        """The comparison of a score that weighs numbers as they are: the criteria's met and possible
        weight (``acc``) against the fact ``need`` the interpreter posts (:func:`_points_facts`): ``met``,
        the least whole scaled met weight of the criteria that reaches the required weight with what the
        numbers count; ``hi``, the least one that could with the numbers without a value at their
        maximum too. Exact: for a whole number x and any y, x >= y exactly when x >= ceil(y)."""
        need = {"t": "need"}
        self.rule(f"{sid}: met weight with the points reaches the need -> met (x{scale})",
                  [("a", acc), ("b", {"$and": [need, {"n": node}, {"$lte": {"met": {"a": "met"}}}]})],
                  _emit_outcome(node, "met"))
        self.rule(f"{sid}: even every unknown met stays below the need -> not_met (x{scale})",
                  [("a", acc), ("b", {"$and": [need, {"n": node}, {"$gt": {"hi": {"a": "hi"}}}]})],
                  _emit_outcome(node, "not_met"))
        self.rule(f"{sid}: the need reachable only with unknowns -> unknown (x{scale})",
                  [("a", acc), ("b", {"$and": [need, {"n": node}, {"$gt": {"met": {"a": "met"}}},
                                               {"$lte": {"hi": {"a": "hi"}}}]})],
                  _emit_outcome(node, "unknown"))

    def compile(self) -> DurablePlan:
        doc = self.doc
        criteria = {cid: self.node("criterion", cid) for cid in doc.criteria}
        groups = {gid: self.node("group", gid) for gid in doc.groups}
        score_nodes = {sid: self.node("score", sid) for sid in score_outcomes(doc)}
        tiers = {label: self.node("tier", label) for label in doc.labels}
        refs = {**criteria, **groups, **score_nodes}
        evaluated_by: dict[str, str] = {}
        for cid, crit in doc.criteria.items():
            text = self.overrides.get(cid, crit.when)
            expr = interp.parse(text)
            self.used_durable = self.used_interpreter = False
            self.condition(expr.tree, expr, criteria[cid], cid)
            evaluated_by[cid] = "+".join(name for name, used in (("durable", self.used_durable),
                                                                ("interpreter", self.used_interpreter)) if used) \
                or "durable"
        for gid, group in doc.groups.items():
            self.fold("and", [refs[r] for r in group.all_of], groups[gid], gid)
        scores = {sid: self.score(sid, score_nodes[sid], criteria) for sid in score_nodes}
        for label in doc.labels:
            self.fold("and", [refs[r] for r in doc.tiers[label].requires], tiers[label], f"tier {label}")
        for j, label in enumerate(doc.labels):
            frames = [("t0", _o(tiers[label], ["met"]))]
            frames += [(f"t{k}", _o(tiers[higher], ["not_met", "unknown"]))
                       for k, higher in enumerate(doc.labels[j + 1:], 1)]
            label_fact: Fact = {"t": "label", "v": j}
            self.rule(f"label {label}: tier {label} met and no higher tier met", frames,
                      _constant_facts(label_fact))
        rules = tuple(self.rules)
        views = tuple(draft.view() for draft in self.views)
        digest = _digest(self.ruleset.sha256, self.overrides, rules, self.notes, self.constants,
                         [(n, e.wrapped, ast.dump(e.tree)) for n, e in self.interpreted], self.fields, views)
        name = f"{doc.methodology}-{doc.version}-{digest[:20]}"
        validity = _validity_rules(doc)
        return DurablePlan(
            ruleset=self.ruleset, name=name, digest=digest, rules=rules, notes=dict(self.notes),
            nodes=tuple(self.nodes), criteria=criteria, groups=groups, scores=scores, tiers=tiers,
            fields=tuple(self.fields.values()), interpreted=tuple(self.interpreted),
            constants=tuple(self.constants), evaluated_by=evaluated_by,
            valid_from=interp.parse(doc.validity.valid_from), validity=validity, interpreter=self.interpreter,
            overrides=dict(self.overrides), views=views,
        )


class DurableLimitError(DurableError):
    """A ruleset is beyond what durable-rules can build in bounded time (see :func:`check_limits`);
    raised before durable-rules is touched."""


def _tests(pattern: Any) -> list[list[str]]:
    """The alternatives of a pattern, each the list of its tests in order (``$and`` flattened,
    ``$or`` one alternative per branch), every test as canonical JSON text."""
    if isinstance(pattern, dict) and len(pattern) == 1:
        (key, value), = pattern.items()
        if key == "$and":
            paths: list[list[str]] = [[]]
            for part in value:
                paths = [p + q for p in paths for q in _tests(part)]
                if len(paths) > MAX_EQUALITY_BRANCHES:
                    raise DurableLimitError(f"a durable-rules pattern has more than {MAX_EQUALITY_BRANCHES} "
                                            "alternatives (an 'in' over more values, or 'or' inside 'and')")
            return paths
        if key == "$or":
            return [p for part in value for p in _tests(part)]
    return [[json.dumps(pattern, sort_keys=True, default=str)]]


def _is_equality(test: str) -> bool:
    value = json.loads(test)
    return isinstance(value, dict) and len(value) == 1 and not next(iter(value)).startswith("$")


def check_limits(plan: DurablePlan) -> None:
    """Refuse (:class:`DurableLimitError`, naming what exceeded which limit) a compiled ruleset that
    durable-rules 2.0.28 could not build or run in bounded time: more than :data:`MAX_RULES` rules,
    or, in the network its patterns make (one branch per test, alternatives of an ``$or``
    apart), a test followed by more than :data:`MAX_EQUALITY_BRANCHES` distinct equality tests or
    :data:`MAX_OTHER_BRANCHES` other tests. Pure Python over the compiled rules: durable-rules
    is not touched, and the work is linear in the size of the rules."""
    name = f"{plan.ruleset.methodology} {plan.ruleset.version}"
    if len(plan.rules) > MAX_RULES:
        raise DurableLimitError(f"{name} compiles to {len(plan.rules):,} durable rules; the durable backend "
                                f"builds at most {MAX_RULES:,}")
    children: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for rule in plan.rules:
        for _, pattern in rule.frames:
            try:
                paths = _tests(pattern)
            except DurableLimitError as exc:
                raise DurableLimitError(f"{name}: {plan.notes.get(rule.name, rule.name)}: {exc}; the durable "
                                        f"backend allows at most {MAX_EQUALITY_BRANCHES}") from None
            for path in paths:
                for depth, test in enumerate(path):
                    equal, other = children.setdefault(tuple(path[:depth]), (set(), set()))
                    (equal if _is_equality(test) else other).add(test)
    for prefix, (equal, other) in children.items():
        after = " and ".join(prefix) or "the start"
        if len(equal) > MAX_EQUALITY_BRANCHES:
            key = next(iter(json.loads(next(iter(equal)))))
            what = ("outcome nodes (criteria, groups, scores, tiers and the parts of their conditions: each "
                    "'and'/'or' operand and step is one)" if key == "n" else f"distinct values of '{key}'")
            raise DurableLimitError(
                f"{name} needs {len(equal):,} {what} tested after {after}; durable-rules 2.0.28 hangs beyond "
                f"512, so the durable backend allows at most {MAX_EQUALITY_BRANCHES} (the core engine decides "
                "this ruleset; split long 'and'/'or' chains into groups, or use fewer criteria)")
        if len(other) > MAX_OTHER_BRANCHES:
            raise DurableLimitError(
                f"{name} needs {len(other):,} different comparisons or presence tests after {after}; "
                f"durable-rules 2.0.28 fails beyond 128, so the durable backend allows at most {MAX_OTHER_BRANCHES}")


def _constant_facts(fact: Fact) -> Callable[[Frames], list[Fact]]:
    def emit(frames: Frames) -> list[Fact]:
        return [dict(fact)]

    return emit


def _test(name: str, op: str, value: Any) -> dict[str, Any]:
    if op == "==":
        return {name: value}
    return {_OPS[op]: {name: value}}


def durable_number(v: int | Decimal | Fraction) -> int | float:
    """A number as durable-rules compares it: a whole number as an int, else a float that stands
    for exactly this decimal. Raises :class:`DurableError` for a number it cannot carry exactly."""
    if isinstance(v, bool):
        raise DurableError("a boolean is not a number")
    exact = Fraction(v)
    if exact.denominator == 1:
        if abs(exact.numerator) > 2**53:
            raise DurableError(f"durable-rules compares numbers as doubles; {v} is too large to compare exactly")
        return int(exact)
    as_float = float(exact)
    if not math.isfinite(as_float) or Fraction(Decimal(repr(as_float))) != exact:
        raise DurableError(f"durable-rules compares numbers as doubles; {v} has no exact double form")
    return as_float


def _digest(*parts: Any) -> str:
    sha, overrides, rules, notes, constants, interpreted, fields, views = parts
    body: dict[str, Any] = {
        "ruleset": sha,
        "overrides": dict(sorted(overrides.items())),
        "rules": [[r.name, notes[r.name], r.frames] for r in rules],
        "constants": constants,
        "interpreted": interpreted,
        "fields": [[f.pointer, f.name, f.kind] for f in fields.values()],
    }
    if views:  # only then: a version without computed values keeps its name
        body["views"] = [[v.id, v.source, v.kind, v.scale, v.bound, v.other] for v in views]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()


_PLANS: dict[tuple[str, tuple[tuple[str, str], ...]], DurablePlan] = {}
_PLANS_LOCK = threading.Lock()


def compile_ruleset(ruleset: Ruleset, *, overrides: Mapping[str, str] | None = None) -> DurablePlan:
    """Compile a ruleset version for durable-rules and register it (once per process).

    Args:
        ruleset: the loaded version.
        overrides: criterion id -> another condition to compile in its place (only to show
            that the cross-check catches a wrong compilation); the plan gets another name.

    Raises:
        DurableUnavailableError: durable-rules is not installed.
        DurableLimitError: the ruleset is beyond what durable-rules builds in bounded time
            (:func:`check_limits`); checked before durable-rules is touched.
    """
    key = (ruleset.sha256, tuple(sorted((overrides or {}).items())))
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is None:
            plan = _Compiler(ruleset, dict(overrides or {})).compile()
            check_limits(plan)  # before durable-rules sees the rules: what it cannot build is refused
            runtime().register(plan.name, plan.digest, plan.rules)
            _PLANS[key] = plan
    return plan


# -- decisions ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierOutcome:
    """A tier's outcome as durable-rules derived it, with the absent inputs that left it unknown."""

    label: str
    outcome: Outcome
    missing: tuple[str, ...]


@dataclass(frozen=True)
class ScoreOutcome:
    """A score's outcome and weights as durable-rules summed them."""

    outcome: Outcome
    met_weight: Fraction
    unknown_weight: Fraction
    total_weight: Fraction
    required_weight: Fraction


@dataclass(frozen=True)
class DurableDecision:
    """The decision durable-rules reached (with the interpreter's validity dates)."""

    methodology: str
    version: str
    ruleset_sha256: str
    durable_ruleset: str
    resolution: Resolution
    subject: str | None  # the subject's id, named by subject_key in the JSON
    label: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    validity_rule: str | None
    tiers: tuple[TierOutcome, ...]  # highest first
    criteria: Mapping[str, Outcome]
    groups: Mapping[str, Outcome]
    scores: Mapping[str, ScoreOutcome]
    evaluated_by: Mapping[str, str]
    trace: tuple[str, ...]  # what each fired rule decided, in firing order
    subject_key: str = IMPLIED.key
    validity_expires: bool | None = None  # False: the rule applied states valid_until: never
    derived: tuple[DerivedResult, ...] = ()  # the derived values (by the interpreter), when the ruleset has them

    def outcome_of(self, ref: str) -> Outcome:
        """The outcome of a criterion, group, score or tier."""
        if ref in self.criteria:
            return self.criteria[ref]
        if ref in self.groups:
            return self.groups[ref]
        if ref in self.scores:
            return self.scores[ref].outcome
        for tier in self.tiers:
            if tier.label == ref:
                return tier.outcome
        raise KeyError(ref)

    def to_json(self) -> dict[str, Any]:
        """The decision as JSON values (numbers exact: whole numbers as ints, others as decimal floats)."""
        return {
            "engine": f"durable-rules {DURABLE_RULES_VERSION}",
            "durable_ruleset": self.durable_ruleset,
            "methodology": self.methodology,
            "version": self.version,
            "ruleset_sha256": self.ruleset_sha256,
            "resolution": {"method": self.resolution.method, "reason": self.resolution.reason},
            self.subject_key: self.subject,
            "label": self.label,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            **({} if self.validity_expires is None else {"validity_expires": self.validity_expires}),
            "validity_rule": self.validity_rule,
            "tiers": [{"label": t.label, "outcome": t.outcome, "missing": list(t.missing)} for t in self.tiers],
            "criteria": [{"id": cid, "outcome": o, "evaluated_by": self.evaluated_by.get(cid)}
                         for cid, o in self.criteria.items()],
            "groups": [{"id": gid, "outcome": o} for gid, o in self.groups.items()],
            "scores": [{"id": sid, "outcome": s.outcome, "met_weight": _json_number(s.met_weight),
                        "unknown_weight": _json_number(s.unknown_weight),
                        "total_weight": _json_number(s.total_weight),
                        "required_weight": _json_number(s.required_weight)} for sid, s in self.scores.items()],
            "trace": list(self.trace),
            **({"derived": [derived_json(r) for r in self.derived]} if self.derived else {}),
        }


def _json_number(value: Fraction) -> int | float | str:
    if value.denominator == 1:
        return int(value)
    text = repr(float(value))
    return float(text) if Fraction(Decimal(text)) == value else f"{value.numerator}/{value.denominator}"


_MISSING = object()


def _lookup(data: Mapping[str, Any], pointer: str) -> Any:
    node: Any = data
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _input_value(f: InputField, value: Any) -> Any:
    if f.kind == "boolean":
        if not isinstance(value, bool):
            raise DurableError(f"{f.pointer}: expected a boolean, got {value!r}")
        return value
    if f.kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise DurableError(f"{f.pointer}: expected a number, got {value!r}")
        return durable_number(value)
    if f.kind == "date":
        if not isinstance(value, dt.date):
            raise DurableError(f"{f.pointer}: expected a date, got {value!r}")
        return value.toordinal()
    if not isinstance(value, str):
        raise DurableError(f"{f.pointer}: expected text, got {value!r}")
    return value


def _truth(value: Any) -> Outcome:
    """The outcome of a truth value the interpreter computed (anything but true or false: unknown)."""
    return "met" if value is True else "not_met" if value is False else "unknown"


def evaluate(ruleset: Ruleset, assessment: Any, *, resolution: Resolution | None = None,
             plan: DurablePlan | None = None) -> DurableDecision:
    """Decide one assessment with durable-rules.

    Raises:
        AssessmentError: the assessment does not match the version's declared inputs.
        DurableUnavailableError: durable-rules is not installed.
        DurableError: durable-rules failed, or derived an incomplete or contradictory result.
    """
    data = dict(validate_assessment(ruleset, assessment).data)
    plan = plan or compile_ruleset(ruleset)
    if plan.ruleset.sha256 != ruleset.sha256:
        raise DurableError(f"the durable plan is for {plan.ruleset}, not {ruleset}")
    fact: Fact = {"t": "in"}
    for f in plan.fields:
        found = _lookup(data, f.pointer)
        if found is not _MISSING:
            fact[f.name] = _input_value(f, found)
    facts: list[Fact] = [fact]
    derived: tuple[DerivedResult, ...] = ()
    if ruleset.plan.derived:  # computed by the interpreter; the conditions it decides read them by name
        derived, values = reference_derived(ruleset, data)
        data = {**data, **values}
    try:
        # read once for every condition and computed value
        inputs = plan.interpreter.inputs(data) if plan.interpreted or plan.views else {}
        for node, expr in plan.interpreted:
            facts.append({"t": "o", "n": node, "o": _truth(plan.interpreter.evaluate_in(expr, inputs))})
        facts.extend(_view_facts(plan, inputs))
    except interp.InterpreterError as exc:
        raise DurableError(f"the backend's interpreter cannot evaluate a condition: {exc}") from exc
    facts.extend({"t": "o", "n": node, "o": outcome} for node, outcome in plan.constants)
    facts.extend({"t": "acc", "n": s.node, "i": 0, "met": 0, "hi": 0} for s in plan.scores.values())
    facts.extend(_points_facts(plan, data))
    result = runtime().run(plan.name, facts)
    decision = _assemble(plan, data, result.facts, result.fired, resolution or given(ruleset.published))
    return replace(decision, derived=derived) if derived else decision


def _view_facts(plan: DurablePlan, inputs: dict[str, Any]) -> list[Fact]:
    """The fact of each :class:`ValueView`: its value as the interpreter computed it (a derived value
    as the reference evaluator's reading left it among the inputs, a band's expression evaluated)."""
    values: dict[str, Any] = {}
    facts: list[Fact] = []
    for view in plan.views:
        if view.source not in values:
            values[view.source] = inputs.get(view.source, interp.UNKNOWN) if view.of is None \
                else plan.interpreter.evaluate_in(view.of, inputs)
        facts.append(_view_fact(view, values[view.source]))
    return facts


def _view_fact(view: ValueView, value: Any) -> Fact:
    """A computed value as the fact its patterns read (see :class:`ValueView`); no members when it has
    no value (unknown, or undefined: a division by zero), so only its ``unknown`` rule matches."""
    fact: Fact = {"t": "v", "n": view.id}
    if value is interp.UNKNOWN:
        return fact
    if view.kind in ("string", "boolean"):
        fact["x"] = _view_member(view, value)
        return fact
    if view.kind == "date" and isinstance(value, dt.date):
        lo = hi = Fraction(value.toordinal())
    elif view.kind == "number" and isinstance(value, interp.Range):
        lo, hi = Fraction(value.lo), Fraction(value.hi)
    elif view.kind == "number" and isinstance(value, Fraction):
        lo = hi = value
    else:
        raise DurableError(f"{view.source}: expected a {view.kind}, the interpreter computed {value!r}")

    def whole(x: int) -> int:  # beyond every constant compared, any whole number there compares alike
        return max(-view.bound, min(view.bound, x))

    fact.update(l=whole(math.floor(lo * view.scale)), L=whole(math.ceil(lo * view.scale)),
                h=whole(math.floor(hi * view.scale)), H=whole(math.ceil(hi * view.scale)))
    return fact


def _view_member(view: ValueView, value: Any) -> Any:
    """A text or a truth value as its fact's member ``x``: as it is, or (a text durable-rules cannot
    carry exactly) the view's ``other``, equal to no constant compared."""
    if view.kind == "boolean" and isinstance(value, bool):
        return value
    if view.kind == "string" and isinstance(value, str):
        return value if _plain(value) else view.other
    raise DurableError(f"{view.source}: expected a {view.kind}, the interpreter computed {value!r}")


def _plain(text: str) -> bool:
    """A text durable-rules carries and compares exactly (no quote, backslash, control character or
    lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(c in text for c in '"\\') and all(ord(c) >= 32 for c in text)


def _points_value(plan: DurablePlan, expr: interp.Expression, data: Mapping[str, Any]) -> Fraction | None:
    """A number a score weighs as it is, read by the interpreter (None: no value: unknown, a range)."""
    try:
        value = plan.interpreter.evaluate(expr, data)
    except interp.InterpreterError as exc:
        raise DurableError(f"the backend's interpreter cannot evaluate the points of a score: {exc}") from exc
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction)):
        return None
    return Fraction(value)


def _points_counted(plan: DurablePlan, s: ScoreScale, data: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
    """(met, unknown) weight the numbers a score weighs as they are add, read by the interpreter: what
    each counts (its value clipped to [0, maximum]), or its maximum as unknown weight without a value."""
    met = unknown = Fraction(0)
    for _, expr, maximum in s.points:
        value = _points_value(plan, expr, data)
        if value is None:
            unknown += maximum
        else:
            met += min(max(value, Fraction(0)), maximum)
    return met, unknown


def _points_facts(plan: DurablePlan, data: Mapping[str, Any]) -> list[Fact]:
    """For each score that weighs numbers as they are, the fact ``need``: the least whole scaled met
    weight of its criteria that reaches the required weight with what the numbers count (``met``),
    and with the numbers without a value at their maximum too (``hi``)."""
    facts: list[Fact] = []
    for s in plan.scores.values():
        if s.points:
            met, unknown = _points_counted(plan, s, data)
            facts.append({"t": "need", "n": s.node, "met": math.ceil(s.required - met * s.scale),
                          "hi": math.ceil(s.required - (met + unknown) * s.scale)})
    return facts


def _assemble(plan: DurablePlan, data: Mapping[str, Any], facts: list[Fact], fired: list[str],
              resolution: Resolution) -> DurableDecision:
    doc = plan.ruleset.document
    derived = _Derived.read(plan, facts, data)
    label = doc.labels[derived.labels[0]] if derived.labels else NONE_LABEL
    criteria = {cid: derived.outcome(n, "criterion") for cid, n in plan.criteria.items()}
    groups = {gid: derived.outcome(n, "group") for gid, n in plan.groups.items()}
    tier_outcomes = {lab: derived.outcome(n, "tier") for lab, n in plan.tiers.items()}
    scores = {sid: derived.score(sid, s) for sid, s in plan.scores.items()}
    tiers = _tiers(plan, data, tier_outcomes, {**criteria, **groups, **{k: v.outcome for k, v in scores.items()}})
    try:
        valid_from, valid_until, rule_id = _validity(plan, data, label)
    except interp.InterpreterError as exc:
        raise DurableError(f"the backend's interpreter cannot evaluate a validity rule: {exc}") from exc
    subject = resolve_subject(doc)
    never = any(r.id == rule_id and r.valid_until is None for r in plan.validity)
    return DurableDecision(
        methodology=doc.methodology, version=doc.version, ruleset_sha256=plan.ruleset.sha256,
        durable_ruleset=plan.name, resolution=resolution, subject=subject.id_of(data), subject_key=subject.key,
        validity_expires=False if never else None, label=label, valid_from=valid_from, valid_until=valid_until,
        validity_rule=rule_id, tiers=tiers,
        criteria=criteria, groups=groups, scores=scores, evaluated_by=dict(plan.evaluated_by),
        trace=tuple(plan.notes.get(name, name) for name in fired),
    )


@dataclass
class _Derived:
    """What durable-rules derived: one outcome per node, the labels, each score's last accumulator."""

    plan: DurablePlan
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    labels: list[int] = field(default_factory=list)
    finals: dict[int, Fact] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)  # the inputs (and derived values) the points read

    @classmethod
    def read(cls, plan: DurablePlan, facts: list[Fact], data: Mapping[str, Any] | None = None) -> _Derived:
        """Sort the facts; raises DurableError for two outcomes of one node or more than one label."""
        derived = cls(plan, data=data or {})
        for f in facts:
            t = f.get("t")
            if t == "o":
                derived.add_outcome(int(f["n"]), f["o"])
            elif t == "label":
                derived.labels.append(int(f["v"]))
            elif t == "acc":
                derived.add_step(f)
        if len(derived.labels) > 1:
            raise DurableError(f"durable-rules derived {len(derived.labels)} labels")
        return derived

    def add_outcome(self, node: int, outcome: Outcome) -> None:
        if node in self.outcomes:
            raise DurableError(f"durable-rules derived two outcomes for {self.plan.nodes[node].name}")
        self.outcomes[node] = outcome

    def add_step(self, f: Fact) -> None:
        node = int(f["n"])
        if node not in self.finals or int(f["i"]) > int(self.finals[node]["i"]):
            self.finals[node] = f

    def outcome(self, node: int, what: str) -> Outcome:
        if node not in self.outcomes:
            raise DurableError(f"durable-rules derived no outcome for the {what} {self.plan.nodes[node].name}")
        return self.outcomes[node]

    def score(self, sid: str, s: ScoreScale) -> ScoreOutcome:
        acc = self.finals.get(s.node)
        if acc is None or int(acc["i"]) != len(s.members):
            raise DurableError(f"durable-rules did not finish the score {sid}")
        met, hi = Fraction(int(acc["met"]), s.scale), Fraction(int(acc["hi"]), s.scale)
        if s.points:  # what the numbers weighed as they are count, as the interpreter read them
            more, unsure = _points_counted(self.plan, s, self.data)
            met, hi = met + more, hi + more + unsure
        return ScoreOutcome(self.outcome(s.node, "score"), met, hi - met, s.total, Fraction(s.required, s.scale))


def _tiers(plan: DurablePlan, data: Mapping[str, Any], tier_outcomes: Mapping[str, Outcome],
           value_of: Mapping[str, Outcome]) -> tuple[TierOutcome, ...]:
    """The tiers, highest first, each unknown one with the absent inputs that left it unknown (what its
    unknown requirements need, as the reference evaluator reads it, of durable's outcomes), worked out only
    for the tiers that are unknown."""
    doc = plan.ruleset.document
    scores = score_outcomes(doc)
    memo: dict[str, frozenset[str]] = {}
    found: list[Callable[[str, bool], tuple[str, ...]]] = []

    def needs(key: str, text: bool) -> tuple[str, ...]:
        if not found:  # an unknown criterion: the absent inputs where its evaluation went
            found.append(reference_needs(plan.ruleset, data))
        return found[0](key, text)

    def missing_for(refs: Iterable[str]) -> tuple[str, ...]:
        out: set[str] = set()
        for ref in refs:
            if value_of.get(ref) == "unknown":
                out |= needed(ref)
        return tuple(sorted(out))

    def needed(ref: str) -> frozenset[str]:
        if ref not in memo:
            if ref in doc.criteria:
                memo[ref] = frozenset(needs(ref, False))
            elif ref in doc.groups:
                memo[ref] = frozenset(missing_for(doc.groups[ref].all_of))
            else:  # a score: its unknown criteria, and its numbers weighed without a value
                gone = {r for _, expr, _ in plan.scores[ref].points if _points_value(plan, expr, data) is None
                        for r in needs(expr.text, True)}
                memo[ref] = frozenset(gone.union(missing_for(scores[ref][0].weights)))
        return memo[ref]

    return tuple(TierOutcome(lab, tier_outcomes[lab], missing_for(doc.tiers[lab].requires)
                             if tier_outcomes[lab] == "unknown" else ())
                 for lab in reversed(doc.labels) if lab in tier_outcomes)


def _validity(plan: DurablePlan, data: Mapping[str, Any],
              label: str) -> tuple[dt.date | None, dt.date | None, str | None]:
    """valid_from, valid_until and the validity rule applied (by the interpreter) for the label durable
    decided: the first rule for the label whose ``when`` holds decides; an undecidable ``when`` leaves
    valid_until undecided."""
    if label == NONE_LABEL:
        return None, None, None
    valid_until = None
    rule_id = None
    inputs = plan.interpreter.inputs(data)  # read once for every condition
    start = plan.interpreter.evaluate_in(plan.valid_from, inputs, {"label": label})
    valid_from = start if isinstance(start, dt.date) else None
    for rule in plan.validity:
        if label not in rule.labels:
            continue
        applies = plan.interpreter.evaluate_in(rule.when, inputs, {"label": label}) if rule.when else True
        if applies is False:
            continue
        if applies is True:
            rule_id = rule.id
            if rule.valid_until is not None:
                end = plan.interpreter.evaluate_in(rule.valid_until, inputs, {"label": label})
                valid_until = end if isinstance(end, dt.date) else None
                check_validity_span(valid_from, valid_until, rule_id)
        break
    return valid_from, valid_until, rule_id


# -- cross-checking ----------------------------------------------------------------------------------

def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float, str, Decimal)) \
            or not isinstance(b, (int, float, str, Decimal)):
        return bool(a == b)
    try:
        return Fraction(str(a)) == Fraction(str(b))
    except ValueError:
        return bool(a == b)


def disagreements(core: Decision | Mapping[str, Any], durable: DurableDecision) -> dict[str, Any]:
    """Every way the two engines' decisions differ (empty when they agree).

    Compares the label, the validity (from, until, rule), every tier's outcome and missing
    inputs, every criterion's and group's outcome, and every score's outcome and weights.
    ``core`` is a :class:`Decision` or its JSON (as a decision log records it).
    """
    c = core.to_json() if isinstance(core, Decision) else dict(core)
    d = durable.to_json()
    out: dict[str, Any] = {}
    for key in ("version", "ruleset_sha256", "label", "valid_from", "valid_until", "validity_rule",
                "validity_expires"):
        if c.get(key) != d.get(key):
            out[key] = {"core": c.get(key), "durable": d.get(key)}

    def table(items: Any, key: str, fields: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
        return {str(i.get(key)): tuple(i.get(f) for f in fields) for i in items or () if isinstance(i, dict)}

    sections: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        ("tiers", "label", ("outcome", "missing")),
        ("criteria", "id", ("outcome",)),
        ("groups", "id", ("outcome",)),
        ("scores", "id", ("outcome", "met_weight", "unknown_weight", "total_weight", "required_weight")),
        ("derived", "id", ("outcome", "value", "reason")),
    )
    for section, key, fields in sections:
        ct, dt_ = table(c.get(section), key, fields), table(d.get(section), key, fields)
        changed = {}
        for k in sorted(set(ct) | set(dt_)):
            a, b = ct.get(k), dt_.get(k)
            if a is None or b is None or not all(
                    _same_number(x, y) if not isinstance(x, list) else list(x) == list(y or [])
                    for x, y in zip(a, b, strict=True)):
                changed[k] = {"core": dict(zip(fields, a, strict=True)) if a else None,
                              "durable": dict(zip(fields, b, strict=True)) if b else None}
        if changed:
            out[section] = changed
    return out


@dataclass(frozen=True)
class CrossCheck:
    """One assessment decided by both engines."""

    core: Decision
    durable: DurableDecision
    differences: dict[str, Any] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        """True when the engines reach the same decision."""
        return not self.differences


def cross_check(ruleset: Ruleset, assessment: Any, *, resolution: Resolution | None = None,
                plan: DurablePlan | None = None) -> CrossCheck:
    """Decide with the core engine and with durable-rules; list every disagreement."""
    core = core_evaluate(ruleset, assessment, resolution=resolution)
    durable = evaluate(ruleset, assessment, resolution=resolution, plan=plan)
    return CrossCheck(core, durable, disagreements(core, durable))


@dataclass(frozen=True)
class DurableOutcome:
    """A batch item decided by durable-rules: a decision or an error, never both."""

    index: int
    decision: DurableDecision | None = None
    error: EceiRulesError | None = None
    differences: dict[str, Any] | None = None  # with cross-checking: how the core engine differs

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed for this item."""
        from ecei_rules.batch import error_json

        if self.decision is None:
            return {"error": error_json(self.error, self.index)}
        out = self.decision.to_json()
        if self.differences is not None:
            out["cross_check"] = {"agree": not self.differences, "differences": self.differences}
        return out


def decide_many(items: Iterable[Any], resolve: Callable[[Any], tuple[Ruleset, Resolution]], *,
                check: bool = False) -> Iterator[DurableOutcome]:
    """Decide every batch item (:class:`ecei_rules.batch.Item`) with durable-rules, in order; with
    ``check``, also with the core engine, recording the differences."""
    for item in items:
        if item.error is not None:
            yield DurableOutcome(item.index, error=item.error)
            continue
        try:
            ruleset, resolution = resolve(item.data)
            if check:
                both = cross_check(ruleset, item.data, resolution=resolution)
                yield DurableOutcome(item.index, decision=both.durable, differences=both.differences)
            else:
                yield DurableOutcome(item.index, decision=evaluate(ruleset, item.data, resolution=resolution))
        except (AssessmentError, ResolutionError, DurableError) as exc:
            yield DurableOutcome(item.index, error=exc)


def cross_check_log(rows: Iterable[StoredRecord], registry: Registry, *,
                    progress: Callable[[int], None] | None = None) -> AuditReport:
    """Re-decide every record of a decision log with durable-rules under the exact version it
    names, and report every record whose recorded decision durable-rules does not reach."""
    from ecei_rules.audit.replay import AuditReport, records
    from ecei_rules.errors import Finding

    report = AuditReport()
    by_hash: dict[str, Ruleset] = {}
    scanned: set[str] = set()
    for _row, record in records(rows, report, progress):
        seq = record.seq
        ruleset = by_hash.get(record.ruleset_sha256)
        if ruleset is None and record.methodology not in scanned:
            scanned.add(record.methodology)
            try:
                for version in registry.versions(record.methodology):
                    r = registry.load(record.methodology, version)
                    by_hash.setdefault(r.sha256, r)
            except (ResolutionError, RulesetError):
                pass
            ruleset = by_hash.get(record.ruleset_sha256)
        if ruleset is None:
            report.findings.append(Finding("unknown_ruleset", f"record {seq}: no ruleset hashes to "
                                           f"{record.ruleset_sha256[:16]}…",
                                           seq=seq,
                                           details={"methodology": record.methodology, "version": record.version}))
            continue
        try:
            durable = evaluate(ruleset, record.input, resolution=Resolution.model_validate(record.resolution))
        except AssessmentError as exc:
            report.findings.append(Finding("replay_failed", f"record {seq}: the recorded input is not valid "
                                           f"for {record.version}: {exc.diagnostics[0].message}", seq=seq))
            continue
        except DurableError as exc:
            report.findings.append(Finding("durable_failed", f"record {seq}: durable-rules failed: {exc}", seq=seq))
            continue
        differences = disagreements(record.decision, durable)
        if differences:
            report.findings.append(Finding("engines_disagree", f"record {seq}: durable-rules does not reach "
                                           f"the recorded decision ({', '.join(differences)} differ)",
                                           seq=seq, details=differences))
    return report
