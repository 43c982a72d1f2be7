"""What a ruleset's conditions compare, read from their syntax: one analysis for every consumer.

The strategies and synth draw values on both sides of these thresholds, the bump search and the
property checks move one input across one, and the explanations say what it would take to pass
one. All of them read the same answers from here:

* :func:`targets`: for each input path, every (operator, value) it is compared with;
* :func:`criterion_targets`: the criteria that are one comparison of one input with a threshold;
* :func:`relations`: comparisons between two input paths (``2 * a > b``);
* :func:`passes`: the one comparison rule (exact, booleans only equal or unequal);
* :func:`value_for`: a value of a field on the passing (or failing) side of a threshold;
* :func:`comparisons`: every comparison of every condition (criteria, validity, checks), with
  the loop variables it is under resolved to item pointers (synth reads its thresholds here).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ecei_rules.core.pointers import pointer_join
from ecei_rules.language.expr import RESERVED, parse
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import parameter_entries

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}


def passes(op: str, value: Any, threshold: Any) -> bool:
    """Whether ``value op threshold`` holds, exactly (Decimal, int and Fraction compare exactly).

    A boolean only equals or differs from a boolean; any other comparison with one fails.
    """
    if isinstance(threshold, bool) or isinstance(value, bool):
        if op == "==":
            return value is threshold
        return value is not threshold if op == "!=" else False
    return _COMPARE[op](value, threshold)


def thresholds(ruleset: Ruleset) -> list[Decimal]:
    values: set[Decimal] = set()
    for p in parameter_entries(ruleset.document).values():  # a table's entries too
        v = p.value
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            continue
        values.add(Decimal(v))
    return sorted(values)


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


def input_pointer(node: ast.AST) -> str | None:
    """The JSON pointer of a pure input path (``a.b["c"]`` is ``/a/b/c``), or None: a reserved name
    of the language (``params``, ``label``, ``true``, ``false``, a function) is not an input."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            parts.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Name) and node.id not in RESERVED:
            parts.append(node.id)
            return pointer_join("", *reversed(parts))
        else:
            return None


def _number(node: ast.AST, ruleset: Ruleset) -> Decimal | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
        p = ruleset.document.parameters.get(node.attr)
        v = p.value if p is not None else None
        return Decimal(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Decimal(repr(node.value))
    return None


def targets(ruleset: Ruleset) -> dict[str, list[tuple[str, Decimal | bool]]]:
    """What each input path is compared with in the criteria: pointer -> [(op, value)].

    ``readings["4.1"] <= params.max_reading`` gives ``/readings/4.1 -> [("<=", 24)]``; a
    criterion that is a bare boolean path gives ``[("==", True)]``.
    """
    out: dict[str, list[tuple[str, Decimal | bool]]] = {}
    symbols = {ast.GtE: ">=", ast.LtE: "<=", ast.Gt: ">", ast.Lt: "<", ast.Eq: "==", ast.NotEq: "!="}
    for crit in ruleset.document.criteria.values():
        tree, _ = parse(crit.when)
        if tree is None:
            continue
        bare = input_pointer(tree)
        if bare is not None:
            out.setdefault(bare, []).append(("==", True))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                continue
            op = symbols.get(type(node.ops[0]))
            if op is None:
                continue
            left, right = node.left, node.comparators[0]
            lp, rp = input_pointer(left), input_pointer(right)
            if lp is not None and (value := _number(right, ruleset)) is not None:
                out.setdefault(lp, []).append((op, value))
            elif rp is not None and (value := _number(left, ruleset)) is not None:
                out.setdefault(rp, []).append((_FLIP[op], value))
    return out


Relation = tuple[str, int, str, str, int]  # (pointer a, factor a, op, pointer b, factor b): ka*a op kb*b


def _linear(node: ast.AST) -> tuple[str, int] | None:
    """``path`` -> (pointer, 1); ``k * path`` or ``path * k`` -> (pointer, k) for a whole number k."""
    p = input_pointer(node)
    if p is not None:
        return p, 1
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for k, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(k, ast.Constant) and type(k.value) is int and (q := input_pointer(other)) is not None:
                return q, k.value
    return None


def relations(ruleset: Ruleset) -> list[Relation]:
    """Comparisons between two input paths in the criteria, e.g. ``2 * a.x > a.y``."""
    out: list[Relation] = []
    symbols = {ast.GtE: ">=", ast.LtE: "<=", ast.Gt: ">", ast.Lt: "<"}
    for crit in ruleset.document.criteria.values():
        tree, _ = parse(crit.when)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in symbols:
                left, right = _linear(node.left), _linear(node.comparators[0])
                if left is not None and right is not None and left[0] != right[0]:
                    out.append((left[0], left[1], symbols[type(node.ops[0])], right[0], right[1]))
    return out


def criterion_targets(ruleset: Ruleset) -> dict[str, tuple[str, str, Decimal | bool]]:
    """Criteria that compare one input with a threshold: id -> (pointer, op, threshold).

    A bare boolean path gives ``(pointer, "==", True)``. Criteria of any other shape are left out.
    """
    out: dict[str, tuple[str, str, Decimal | bool]] = {}
    symbols = {ast.GtE: ">=", ast.LtE: "<=", ast.Gt: ">", ast.Lt: "<", ast.Eq: "=="}
    for cid, crit in ruleset.document.criteria.items():
        tree, _ = parse(crit.when)
        if tree is None:
            continue
        bare = input_pointer(tree)
        if bare is not None:
            out[cid] = (bare, "==", True)
            continue
        if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in symbols:
            op = symbols[type(tree.ops[0])]
            lp, rp = input_pointer(tree.left), input_pointer(tree.comparators[0])
            if lp is not None and (value := _number(tree.comparators[0], ruleset)) is not None:
                out[cid] = (lp, op, value)
            elif rp is not None and (value := _number(tree.left, ruleset)) is not None:
                out[cid] = (rp, _FLIP[op], value)
    return out


def value_for(f: Field, op: str, threshold: Decimal | bool, passing: bool) -> Any:
    """A value of field ``f`` that passes (or fails) ``value op threshold``, or None if there is none."""
    if isinstance(threshold, bool):
        return threshold if passing else not threshold
    step = Decimal(1) if f.kind == "integer" else Decimal("0.01")
    for candidate in (threshold, threshold + step, threshold - step, threshold + 2 * step, threshold - 2 * step):
        if _in_range(f, candidate) and passes(op, candidate, threshold) == passing:
            if f.kind == "integer":
                return int(candidate)
            return candidate.normalize() if candidate == candidate.to_integral_value() else candidate
    return None


def _in_range(f: Field, v: Decimal) -> bool:
    lo, hi = f.spec.minimum, f.spec.maximum
    return (lo is None or v >= lo) and (hi is None or v <= hi)


def field_at(root: Field, pointer: str) -> Field | None:
    """The declared field at a JSON pointer of an assessment."""
    node: Field | None = root
    for part in pointer.split("/")[1:]:
        node = _child(node, part.replace("~1", "/").replace("~0", "~"))
        if node is None:
            return None
    return node


def _child(f: Field | None, part: str) -> Field | None:
    if f is None:
        return None
    if f.kind == "list":
        return f.items
    if f.kind == "object":
        return f.fields.get(part)
    if f.kind == "map":
        return f.entries.get(part)
    return None


@dataclass(frozen=True)
class Comparison:
    """One comparison of one condition of a version, with its loop variables resolved.

    ``source`` is ``"criterion"``, ``"validity"`` or ``"check"``; ``owner`` the criterion id, the
    validity rule id (``"valid_from"`` for the start) or the pointer of the object a check is on.
    A bare boolean path (``a.flag``, a filter ``if a.ok``) is read as ``path == true``; a chain
    ``a <= b <= c`` as its two comparisons. ``loops`` maps each loop variable in scope to the
    pointer of the items it runs over (``r`` in ``for r in repairs`` is ``/repairs/-``), and
    ``base`` is the pointer the names of a check start from.
    """

    source: str
    owner: str
    op: str
    left: ast.expr
    right: ast.expr
    loops: tuple[tuple[str, str], ...] = ()
    base: str = ""

    def pointer(self, node: ast.AST) -> str | None:
        """The JSON pointer a side reads when it is a pure path (items of a list as ``-``), or None."""
        return scoped_pointer(node, dict(self.loops), self.base)


_OPS = {ast.GtE: ">=", ast.LtE: "<=", ast.Gt: ">", ast.Lt: "<", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
        ast.NotIn: "not in"}


def scoped_pointer(node: ast.AST, loops: dict[str, str], base: str = "") -> str | None:
    """:func:`input_pointer` with loop variables (``r.cost`` -> ``/repairs/-/cost``) and a base."""
    parts: list[str] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            parts.append(node.slice.value)
        else:
            return None
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in loops:
        return pointer_join(loops[node.id], *reversed(parts))
    if node.id in RESERVED:
        return None
    return pointer_join(base, node.id, *reversed(parts))


def conditions(ruleset: Ruleset) -> list[tuple[str, str, str, str, bool]]:
    """Every expression of a version: (source, owner, text, base, whether it is a truth value) for
    each criterion, ``valid_from``, each validity rule's ``when`` and ``valid_until`` (dates, not
    truth values), and each check of an object of the inputs."""
    doc = ruleset.document
    out = [("criterion", cid, c.when, "", True) for cid, c in doc.criteria.items()]
    out.append(("validity", "valid_from", doc.validity.valid_from, "", False))
    for rule in doc.validity.rules:
        if rule.when is not None:
            out.append(("validity", rule.id, rule.when, "", True))
        out.append(("validity", rule.id, rule.valid_until, "", False))
    stack: list[tuple[Field, str]] = [(ruleset.plan.inputs, "")]
    while stack:
        f, pointer = stack.pop()
        out += [("check", pointer, check.rule, pointer, True) for check in f.spec.checks]
        stack += [(sub, pointer_join(pointer, name)) for name, sub in (*f.fields.items(), *f.entries.items())]
        if f.items is not None:
            stack.append((f.items, pointer + "/-"))
    return out


def comparisons(ruleset: Ruleset) -> list[Comparison]:
    """Every comparison in every condition of a version (see :class:`Comparison`)."""
    out: list[Comparison] = []
    for source, owner, text, base, truth in conditions(ruleset):
        tree, _ = parse(text)
        if tree is not None:
            _comparisons(tree, (), Comparison(source, owner, "==", tree, tree, (), base), out, truth=truth)
    return out


def _comparisons(node: ast.AST, loops: tuple[tuple[str, str], ...], where: Comparison, out: list[Comparison],
                 truth: bool) -> None:
    """Walk ``node`` keeping the loop variables in scope; ``truth``: the node stands where a truth
    value is read (a condition, an operand of and/or/not, a filter), so a bare path is a flag."""
    def add(op: str, left: ast.expr, right: ast.expr) -> None:
        out.append(Comparison(where.source, where.owner, op, left, right, loops, where.base))

    if truth and isinstance(node, ast.expr) and scoped_pointer(node, dict(loops), where.base) is not None:
        add("==", node, ast.Constant(True))
        return
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
            if type(op) in _OPS:
                add(_OPS[type(op)], left, right)
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.GeneratorExp):
        gen = node.args[0]
        inner = loops
        for comp in gen.generators:
            source = scoped_pointer(comp.iter, dict(inner), where.base)
            if isinstance(comp.target, ast.Name) and source is not None:
                inner = (*inner, (comp.target.id, source + "/-"))
            _comparisons(comp.iter, inner, where, out, truth=False)
            for cond in comp.ifs:
                _comparisons(cond, inner, where, out, truth=True)
        quantifier = isinstance(node.func, ast.Name) and node.func.id in ("any", "all")
        _comparisons(gen.elt, inner, where, out, truth=quantifier)
        return
    flags = isinstance(node, ast.BoolOp) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not))
    for child in ast.iter_child_nodes(node):
        if isinstance(node, ast.IfExp):
            _comparisons(child, loops, where, out, truth=child is node.test)
        else:
            _comparisons(child, loops, where, out, truth=flags and isinstance(child, ast.expr))
