"""What an unknown outcome needs: the absent inputs read where its evaluation went.

An unknown tier lists the absent inputs that left it unknown (its ``missing``). Of the inputs an
unknown condition reads, those read only in a part that was decided cannot change its outcome: the
branch of ``a if test else b`` not taken (the test decided), the operands of ``and``/``or`` once
another operand decided it (``false and x``, ``true or x``: every other operand's reads), a derived
value that has a value. The language is monotone in what is absent (giving an absent input a value
turns unknown parts into known ones and never changes a known one), except ``known(x)``: a part that
calls it lists every absent input it reads, as before. So the absent inputs listed are those read by
a part that is undecided:

* ``a if test else b``: those of the test when undecided, and of the branch taken (both when the test
  is undecided);
* ``and``, ``or``, ``not``, a comparison, arithmetic, a sign, a call of a function over values: those
  of each operand that is undecided (`operands`);
* any other part (an input's path, an aggregate over a list, a parameter table's entry): the absent
  inputs it reads itself, and, for each derived value it names that has no value, what that value
  needs (the same rules over its expression).

Each part is compiled once, again, in the criteria's scope (the checks keep it,
``CheckedRuleset.scope``), its reads counted without those of the derived values it names; the
production evaluator runs these closures. The reference evaluator reads the same parts with the
interpreter (``ecei_rules.engine.reference``), so the two are compared by the differential tests.
A condition without ``and``, ``or``, ``not``, ``if``/``else``, a sign and derived values is read whole
(its absent reads are the criterion's ``missing``, as tiers always listed them): in such a condition an
operand with a value reads no absent input.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecei_rules.core.logic import UNKNOWN, Interval
from ecei_rules.core.pointers import MISSING, lookup
from ecei_rules.language.expr import Scope, compile_expression, parse

_BRANCHING = (ast.BoolOp, ast.IfExp, ast.UnaryOp)


@dataclass(frozen=True)
class Part:
    """A part of an expression: its kind (``parts``: read through its operands; ``if``; ``leaf``: read
    whole; or ``all`` for one that calls ``known``), its compiled value, the inputs it reads (a leaf's
    own; every one for ``all``), the derived values a leaf names, and its operands (``if``: test, body,
    orelse)."""

    kind: str
    fn: Callable[[dict[str, Any]], Any]
    reads: tuple[str, ...]
    derived: tuple[str, ...] = ()
    parts: tuple[Part, ...] = ()


def branching(text: str, derived: Mapping[str, Any]) -> bool:
    """Whether an expression has parts that may decide without others: ``and``, ``or``, ``not``,
    ``if``/``else`` or a derived value (else its absent reads are all it needs)."""
    tree, _ = parse(text)
    if tree is None:
        return False
    return any(isinstance(n, _BRANCHING) or (isinstance(n, ast.Name) and n.id in derived) for n in ast.walk(tree))


def parts(text: str, scope: Scope) -> Part | None:
    """The parts of an expression compiled in ``scope`` (None when a part does not compile alone)."""
    tree, _ = parse(text)
    if tree is None:
        return None
    own = dataclasses.replace(scope, derived={n: (ty, frozenset[str](), frozenset[str]())
                                              for n, (ty, _, _) in scope.derived.items()})
    return _part(tree, scope, own)


def operands(node: ast.expr) -> list[ast.expr] | None:
    """The operands a part is read through (None: a part read whole): those of ``and``, ``or``, ``not``,
    ``if``/``else`` (test, body, orelse), comparisons, arithmetic, signs and calls of functions over
    values (not ``known``, not an aggregate over a generator). The one rule of what is a part; the
    reference evaluator reads the same."""
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.IfExp):
        return [node.test, node.body, node.orelse]
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id != "known"
            and not any(isinstance(a, ast.GeneratorExp) for a in node.args)):
        return list(node.args)
    return None


def _part(node: ast.expr, scope: Scope, own: Scope) -> Part | None:
    text = ast.unparse(node)
    calls_known = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "known"
                      for n in ast.walk(node))
    compiled, _ = compile_expression(text, scope if calls_known else own)
    if compiled is None:
        return None
    if calls_known:
        return Part("all", compiled.fn, tuple(sorted(compiled.reads)))
    children = operands(node)
    found = [_part(child, scope, own) for child in children or ()]
    if children is None or any(p is None for p in found):  # read whole
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & set(scope.derived)
        return Part("leaf", compiled.fn, tuple(sorted(compiled.reads)), tuple(sorted(names)))
    return Part("if" if isinstance(node, ast.IfExp) else "parts", compiled.fn, (), (),
                tuple(p for p in found if p is not None))


def decided(value: Any) -> bool:
    """A value that no absent input's value can change (a known truth value, number, date or text)."""
    return value is not UNKNOWN and value is not None and value.__class__ is not Interval


class Needs:
    """The absent inputs the undecided parts of expressions read, for one decision's values (``env``:
    the validated data with the derived values by name); ``derived`` gives a derived value's parts."""

    def __init__(self, env: dict[str, Any], derived: Callable[[str], Part | None],
                 reads: Callable[[str], tuple[str, ...]]) -> None:
        self.env = env
        self.derived = derived
        self.all_reads = reads  # a derived value's every read (when its parts do not compile alone)
        self.memo: dict[str, frozenset[str]] = {}

    def absent(self, pointers: tuple[str, ...]) -> set[str]:
        return {p for p in pointers if lookup(self.env, p) is MISSING}

    def of(self, part: Part) -> set[str]:
        """What an undecided part needs (nothing for a decided one, unless it calls ``known``)."""
        if part.kind == "all":
            return self.absent(part.reads)
        if decided(part.fn(self.env)):
            return set()
        if part.kind == "if":
            test, body, orelse = part.parts
            choice = test.fn(self.env)
            taken = (body,) if choice is True else (orelse,) if choice is False else (body, orelse)
            return self.of(test).union(*(self.of(p) for p in taken))
        if part.kind != "leaf":
            return set().union(*(self.of(p) for p in part.parts))
        out = self.absent(part.reads)
        for name in part.derived:
            if not decided(self.env.get(name, UNKNOWN)):
                out |= self.value(name)
        return out

    def value(self, name: str) -> frozenset[str]:
        """What a derived value without a value needs. The derived values without a value it names
        (through theirs) are worked out first, those they name before them, so that reading one
        finds what each it names needs already known: the stack goes as deep as one expression, never
        along a chain of derived values."""
        found = self.memo.get(name)
        if found is None:
            for below in self._beneath(name):
                self._work_out(below)
            found = self.memo[name]
        return found

    def _work_out(self, name: str) -> None:
        self.memo[name] = frozenset()  # values are ordered without cycles; a guard all the same
        tree = self.derived(name)
        self.memo[name] = frozenset(self.of(tree) if tree is not None else self.absent(self.all_reads(name)))

    def _beneath(self, name: str) -> list[str]:
        """``name`` and the derived values without a value (and not yet worked out) its parts name, through
        theirs, each after those it names (a walk with a stack of its own)."""
        order: list[str] = []
        seen = {name}
        stack: list[tuple[str, list[str]]] = [(name, self._names(name, seen))]
        while stack:
            node, pending = stack[-1]
            if pending:
                below = pending.pop()
                stack.append((below, self._names(below, seen)))
            else:
                stack.pop()
                order.append(node)
        return order

    def _names(self, name: str, seen: set[str]) -> list[str]:
        """The derived values without a value, not yet seen nor worked out, that the parts of ``name`` name
        (marked seen), in reverse order of first mention."""
        tree = self.derived(name)
        out: list[str] = []
        parts = [tree] if tree is not None else []
        while parts:
            part = parts.pop()
            parts.extend(part.parts)
            for below in part.derived:
                if below not in seen and below not in self.memo and not decided(self.env.get(below, UNKNOWN)):
                    seen.add(below)
                    out.append(below)
        return out[::-1]


class Reading:
    """The parts of a version's conditions and derived values, compiled on first use (kept by the runtime
    plan): ``needed`` gives what an unknown one needs on one decision's values."""

    def __init__(self, scope: Scope | None, derived: Mapping[str, str],
                 derived_reads: Mapping[str, tuple[str, ...]]) -> None:
        self.scope = scope
        self.texts = dict(derived)  # derived value -> its expression
        self.derived_reads = dict(derived_reads)  # derived value -> every input it reads
        self.cache: dict[str, Part | None] = {}

    def part(self, key: str, text: str) -> Part | None:
        """The parts of ``text`` (remembered under ``key``); None when it has none to tell apart."""
        if key not in self.cache:
            self.cache[key] = (parts(text, self.scope) if self.scope is not None and branching(text, self.texts)
                               else None)
        return self.cache[key]

    def needed(self, key: str, text: str, env: dict[str, Any], absent: tuple[str, ...]) -> tuple[str, ...]:
        """The absent inputs an unknown expression needs (sorted); ``absent``, every absent input it reads,
        when it has no parts to tell apart."""
        tree = self.part(key, text)
        if tree is None:
            return absent
        needs = Needs(env, lambda name: self.part(f"derived:{name}", self.texts[name]),
                      lambda name: self.derived_reads.get(name, ()))
        return tuple(sorted(needs.of(tree)))
