"""What synth aims at: the thresholds each input is compared with, read from every condition.

Every comparison of every condition of the versions asked for (criteria, validity rules, the
checks of objects; :func:`ecei_rules.ruleset.analysis.comparisons`) is read into goals keyed by
JSON pointer (list items as ``-``):

* ``numbers``: an input compared with a constant (``x >= params.t``);
* ``flags``: a boolean path read as a truth value;
* ``dates``: a date placed relative to another date, in whole months (``months_between(a, b) >= 18``,
  ``a <= b``, ``b <= month_end(a, 12)``); ``moments``: a date compared with a date literal
  (``a > date("2019-12-31")``), as day numbers;
* ``sizes``: the length of a list compared with a constant (``count(...)``, ``count_distinct(...)``,
  ``len(...)``);
* ``values``: the strings a string or enum is compared with or looked up in (``x in params.scope``);
* ``relations``: two numbers compared (``2 * a > b``);
* ``computed``: anything else that reads inputs compared with a constant (``100 * energy /
  (0.233 * volume + 245) <= 42``): synth solves it for one input it reads (see synth).

Each goal carries a role: ``score`` (a criterion weighted in a score), ``gate`` (any other criterion
or validity condition), ``item`` (a condition on the items of a list: each item passes by itself)
or ``must`` (a check of the inputs: always kept, a draw that breaks it is invalid).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ecei_rules.engine.reference import declared_bounds
from ecei_rules.language.expr import parse
from ecei_rules.ruleset.analysis import Comparison, comparisons, field_at
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset

Goal = tuple[str, Decimal, str]  # (op, threshold, role)
FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!=", "in": "in", "not in": "not in"}
ORDERED = (">=", ">", "<=", "<")
SIZES = ("count", "count_distinct", "len")
PRIORITY = ("must", "gate", "item", "score")  # the role a flag read by several conditions keeps


@dataclass(frozen=True)
class Computed:
    """A comparison of a computed value with a constant: ``text op threshold``."""

    text: str
    op: str
    threshold: Decimal
    reads: tuple[str, ...]  # the numeric inputs it reads, to solve it for one of them
    params: tuple[tuple[str, Any], ...] = ()
    #: with derived values: ``text`` has each one's expression written in its place (to read it),
    #: ``side`` is the computed side as written and ``stages`` the derived values it reads,
    #: directly or not, in dependency order (name, expression): evaluated once each, in turn
    side: str = ""
    stages: tuple[tuple[str, str], ...] = ()
    #: the version opts into ranges (``unknowns: {derived: ranges}``): its derived values are read as the
    #: engine reads them, an absent number input with declared bounds (``bounds``, by pointer) as their range
    ranges: bool = False
    bounds: tuple[tuple[str, tuple[Any, Any, bool]], ...] = ()


@dataclass
class Goals:
    """Everything synth aims at, for one set of versions (see the module)."""

    numbers: dict[str, list[Goal]] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    dates: dict[str, dict[str, list[Goal]]] = field(default_factory=dict)
    moments: dict[str, list[Goal]] = field(default_factory=dict)  # a date compared with a date literal (ordinals)
    sizes: dict[str, list[Goal]] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)
    relations: list[tuple[str, int, str, str, int, str]] = field(default_factory=list)
    computed: list[Computed] = field(default_factory=list)
    scales: dict[str, Decimal] = field(default_factory=dict)  # pointer -> magnitude of the constants near it

    def add(self, table: dict[str, list[Goal]], pointer: str, goal: Goal) -> None:
        goals = table.setdefault(pointer, [])
        if goal not in goals:
            goals.append(goal)


def goals_of(rulesets: Sequence[Ruleset]) -> Goals:
    """The goals of every comparison in the versions (each read with its own version's inputs)."""
    out = Goals()
    for ruleset in rulesets:
        weighted = {c for s in ruleset.document.scores.values() for c in s.weights}
        params: dict[str, Any] = {name: p.value for name, p in ruleset.document.parameters.items()}
        params.update({name: dict(t.values) for name, t in ruleset.plan.tables.items()})  # params.t[key]
        derived = derived_expressions(ruleset)
        inliner = _Inliner(derived) if derived else None
        first = len(out.computed)
        for c in comparisons(ruleset):
            raw = c
            if inliner is not None:
                c = replace(c, left=inliner.expand(c.left), right=inliner.expand(c.right))
            _read(c, _role(c, weighted), params, ruleset.plan.inputs, out, raw, inliner)
        unknowns = getattr(ruleset.document, "unknowns", None)
        if unknowns is not None and unknowns.derived == "ranges":
            bounds = tuple(sorted(declared_bounds(ruleset.plan.inputs).items()))
            out.computed[first:] = [replace(g, ranges=True, bounds=bounds) for g in out.computed[first:]]
    return out


def derived_expressions(ruleset: Ruleset) -> dict[str, str]:
    """The hook for derived values: name -> the expression that computes it, when the version
    declares a ``derived`` section (a value computed from inputs). A comparison of a derived value
    with a constant is then solved like any other computed comparison, through its expression.
    Empty while the language has no such section."""
    section = getattr(ruleset.document, "derived", None)
    if not isinstance(section, dict):
        return {}
    out: dict[str, str] = {}
    for name, item in section.items():
        names = ("value", "expression", "formula", "when")
        text = item if isinstance(item, str) else next(
            (getattr(item, a) for a in names if isinstance(getattr(item, a, None), str)), None)
        if text is not None:
            out[str(name)] = text
    return out


class _Inliner:
    """Each derived value's name replaced by its expression (derived values of derived values too, at
    most eight deep), so that a threshold on a derived value is a computed one; each expression is
    parsed and expanded once (a name read by many values is not parsed again for each)."""

    MAX_DEPTH = 8

    def __init__(self, derived: dict[str, str]) -> None:
        self.texts = derived
        self.trees: dict[str, ast.expr | None] = {}
        self.expanded: dict[tuple[str, int], ast.expr] = {}

    def tree(self, name: str) -> ast.expr | None:
        if name not in self.trees:
            self.trees[name] = parse(self.texts[name])[0]
        return self.trees[name]

    def expand(self, node: ast.expr, depth: int = 0) -> ast.expr:
        """``node`` (a copy) with the derived values it reads written out."""
        if depth >= self.MAX_DEPTH:
            return node
        inliner = self

        class _Inline(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.expr:
                if name.id not in inliner.texts:
                    return name
                key = (name.id, depth)
                if key not in inliner.expanded:
                    tree = inliner.tree(name.id)
                    inliner.expanded[key] = inliner.expand(tree, depth + 1) if tree is not None else name
                return inliner.expanded[key]  # shared, never changed: goals only read the trees

        return _Inline().visit(copy.deepcopy(node))  # type: ignore[no-any-return]

    def stages(self, node: ast.expr) -> tuple[tuple[str, str], ...]:
        """The derived values ``node`` reads, directly or through others, in dependency order."""
        order: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name not in self.texts or name in order or name in visiting:
                return
            visiting.add(name)
            tree = self.tree(name)
            for n in _names(tree) if tree is not None else ():
                visit(n)
            order.append(name)

        for n in _names(node):
            visit(n)
        return tuple((n, self.texts[n]) for n in order)


def _names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _role(c: Comparison, weighted: set[str]) -> str:
    if c.source == "check":
        return "must"
    if c.loops:
        return "item"
    return "score" if c.source == "criterion" and c.owner in weighted else "gate"


def _constant(node: ast.AST, params: dict[str, Any]) -> Any:
    """A number (Decimal), truth value, string, date or list the node stands for, or None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
        return _plain(params.get(node.attr))
    if isinstance(node, ast.Constant):
        return _plain(node.value)
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return node.id == "true"
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_constant(e, params) for e in node.elts]
        return None if any(i is None for i in items) else items
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand, params)
        return -inner if isinstance(inner, Decimal) else None
    return _date_literal(node)


def _date_literal(node: ast.AST) -> dt.date | None:
    """``date("2019-12-31")``: the day, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "date" \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        try:
            return dt.date.fromisoformat(node.args[0].value)
        except ValueError:
            return None
    return None


def _plain(value: Any) -> Any:
    """A parameter's or literal's value: truth values, strings and dates as they are, numbers as Decimal."""
    if isinstance(value, (bool, str, dt.date)) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, (str, bool)) else Decimal(str(v)) for v in value]
    return None


def _kind(root: Field, pointer: str) -> str | None:
    f = field_at(root, pointer)
    return f.kind if f is not None else None


def _read(c: Comparison, role: str, params: dict[str, Any], root: Field, out: Goals, raw: Comparison | None = None,
          inliner: _Inliner | None = None) -> None:
    """Read one comparison (``raw``: as written, before the derived values were written out)."""
    for a, b, op in ((c.left, c.right, c.op), (c.right, c.left, FLIP[c.op])):
        if _read_side(c, a, b, op, role, params, root, out):
            return
    _computed(c, role, params, root, out, raw, inliner)


def _read_side(c: Comparison, a: ast.expr, b: ast.expr, op: str, role: str, params: dict[str, Any], root: Field,
               out: Goals) -> bool:
    """Read ``a op b`` when ``a`` is something synth draws (a path, a month count, a list length)."""
    pointer = c.pointer(a)
    value = _constant(b, params)
    if pointer is not None:
        kind = _kind(root, pointer)
        if _read_constant(pointer, kind, op, value, role, out) or _read_dates(c, pointer, kind, b, op, role, params,
                                                                               root, out):
            return True
    elif isinstance(value, Decimal) and op in ORDERED:
        return _read_call(c, a, op, value, role, out)
    linear_a, linear_b = _linear(c, a), _linear(c, b)
    if linear_a and linear_b and op in ORDERED and linear_a[0] != linear_b[0] \
            and {_kind(root, linear_a[0]), _kind(root, linear_b[0])} <= {"integer", "decimal"}:
        out.relations.append((linear_a[0], linear_a[1], op, linear_b[0], linear_b[1], role))
        return True
    return False


def _read_constant(pointer: str, kind: str | None, op: str, value: Any, role: str, out: Goals) -> bool:
    """A path compared with a truth value, a number, a string or a list of strings."""
    if isinstance(value, bool):
        if kind == "boolean" and (op, value) in (("==", True), ("!=", False)):
            known = out.flags.get(pointer)
            out.flags[pointer] = role if known is None else min(known, role, key=PRIORITY.index)
        return True
    if isinstance(value, Decimal) and op in ORDERED and kind in ("integer", "decimal"):
        out.add(out.numbers, pointer, (op, value, role))
        return True
    if isinstance(value, dt.date) and op in ORDERED and kind == "date":
        out.add(out.moments, pointer, (op, Decimal(value.toordinal()), role))
        return True
    if isinstance(value, str) or (isinstance(value, list) and op in ("in", "not in")):
        strings = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
        listed = out.values.setdefault(pointer, [])
        listed += [s for s in strings if s not in listed]
        return True
    return False


def _read_dates(c: Comparison, pointer: str, kind: str | None, b: ast.expr, op: str, role: str,
                params: dict[str, Any], root: Field, out: Goals) -> bool:
    """A date compared with another date, directly or through ``month_end(date, k)``."""
    if kind != "date" or op not in ORDERED:
        return False
    other = c.pointer(b)
    if other is not None and _kind(root, other) == "date":
        months = Decimal(0)
    else:
        shifted = _month_end(c, b, params)
        if shifted is None:
            return False
        other, months = shifted
    out.add(out.dates.setdefault(pointer, {}), other, (op, months, role))
    out.add(out.dates.setdefault(other, {}), pointer, (FLIP[op], -months, role))
    return True


def _read_call(c: Comparison, a: ast.expr, op: str, value: Decimal, role: str, out: Goals) -> bool:
    """``months_between(x, y) op k`` and ``count(... for i in list) op k`` (also count_distinct, len)."""
    if not isinstance(a, ast.Call) or not isinstance(a.func, ast.Name):
        return False
    name, args = a.func.id, a.args
    if name == "months_between" and len(args) == 2:
        first, second = c.pointer(args[0]), c.pointer(args[1])
        if first is None or second is None:
            return False
        # months_between(first, second) = the months from first to second
        out.add(out.dates.setdefault(second, {}), first, (op, value, role))
        out.add(out.dates.setdefault(first, {}), second, (FLIP[op], -value, role))
        return True
    if name in SIZES and len(args) == 1:
        arg = args[0]
        source = arg.generators[0].iter if isinstance(arg, ast.GeneratorExp) else arg
        pointer = c.pointer(source)
        if pointer is None:
            return False
        out.add(out.sizes, pointer, (op, value, role))
        return True
    return False


def _month_end(c: Comparison, node: ast.expr, params: dict[str, Any]) -> tuple[str, Decimal] | None:
    """``month_end(path, k)`` -> (pointer, k): a date about k months after the path's."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "month_end" \
            and len(node.args) == 2:
        pointer, months = c.pointer(node.args[0]), _constant(node.args[1], params)
        if pointer is not None and isinstance(months, Decimal):
            return pointer, months
    return None


def _linear(c: Comparison, node: ast.expr) -> tuple[str, int] | None:
    """``path`` -> (pointer, 1); ``k * path`` or ``path * k`` -> (pointer, k) for a whole number k."""
    pointer = c.pointer(node)
    if pointer is not None:
        return pointer, 1
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for k, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(k, ast.Constant) and type(k.value) is int and (q := c.pointer(other)) is not None:
                return q, k.value
    return None


def _computed(c: Comparison, role: str, params: dict[str, Any], root: Field, out: Goals, raw: Comparison | None,
              inliner: _Inliner | None) -> None:
    """A computed side compared with a constant, outside loops: kept to be solved for an input."""
    if c.loops or c.op not in ORDERED:
        return
    for side, other, op in ((c.left, c.right, c.op), (c.right, c.left, FLIP[c.op])):
        threshold = _constant(other, params)
        if not isinstance(threshold, Decimal):
            continue
        reads: list[str] = []
        constants = [abs(threshold)]
        nodes = _walk_once(side)
        for node in nodes:
            pointer = c.pointer(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else None
            if pointer is not None and _kind(root, pointer) in ("integer", "decimal") and pointer not in reads:
                reads.append(pointer)
            value = _constant(node, params)
            if isinstance(value, Decimal):
                constants.append(abs(value))
        if not reads:
            continue
        used = tuple(sorted({n.attr: params.get(n.attr) for n in nodes if isinstance(n, ast.Attribute)
                             and isinstance(n.value, ast.Name) and n.value.id == "params"}.items()))
        out.computed.append(Computed(ast.unparse(side), op, threshold, tuple(reads), used,
                                     *_as_written(side is c.left, raw, inliner)))
        for pointer in reads:
            out.scales[pointer] = max(out.scales.get(pointer, Decimal(0)), *constants)
        return


def _as_written(left: bool, raw: Comparison | None,
                inliner: _Inliner | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A computed side as written (its derived values by name) and the derived values it reads, in
    dependency order; ``("", ())`` without derived values."""
    if raw is None or inliner is None:
        return "", ()
    written = raw.left if left else raw.right
    stages = inliner.stages(written)
    return (ast.unparse(written), stages) if stages else ("", ())


def _walk_once(tree: ast.AST) -> list[ast.AST]:
    """``ast.walk`` of a tree whose written-out derived values share subtrees, each node once (in the
    order of its first visit, so the inputs read come in the order ``ast.walk`` finds them)."""
    seen: set[int] = set()
    out: list[ast.AST] = []
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        todo.extend(ast.iter_child_nodes(node))
        out.append(node)
    return out
