"""What a ruleset's conditions compare, read from their syntax: one analysis for every consumer.

The strategies and synth draw values on both sides of these thresholds, the bump search and the
property checks move one input across one, and the explanations say what it would take to pass
one. All of them read the same answers from here:

* :func:`targets`: for each input path, every (operator, value) it is compared with;
* :func:`criterion_targets`: the criteria that are one comparison of one input with a threshold;
* :func:`relations`: comparisons between two input paths (``2 * a > b``);
* :func:`passes`: the one comparison rule (exact, booleans only equal or unequal);
* :func:`value_for`: a value of a field on the passing (or failing) side of a threshold.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ecei_rules.core.pointers import pointer_join
from ecei_rules.language.expr import RESERVED, parse
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset

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
    for p in ruleset.document.parameters.values():
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

    ``indicators["4.1.5"] <= params.gold_4_1_5`` gives ``/indicators/4.1.5 -> [("<=", 24)]``; a
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
