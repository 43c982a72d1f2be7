"""The absent inputs an outcome needs: those read where the evaluation went, not every absent input a
condition names.

A decision lists, for each derived value and criterion, every input its expression reads that is
absent (``missing``), read from the text. For ``x if a else y`` with ``a`` true, the inputs only
``y`` reads are listed although the value does not depend on them. An explanation lists instead
the absent inputs whose being known is needed by the outcome, found by walking the expression with
the interpreter (the reference evaluator's reading, exact):

* a part whose value is known needs nothing (three-valued evaluation: a value known while some
  input is absent is the same whatever that input is);
* of a choice ``x if a else y``, the branch its test takes (both, and the test, when the test
  is itself unknown);
* a name of a derived value needs what that value needs; an absent input, itself;
* any other part that is unknown, what its parts need (a generator over a list, what it reads).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from ecei_rules.core.pointers import MISSING, lookup
from ecei_rules.engine.reference import reference
from ecei_rules.language import interpreter
from ecei_rules.ruleset import analysis
from ecei_rules.ruleset.load import Ruleset

_LOOPS = (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.Lambda)
_PATHS = (ast.Name, ast.Attribute, ast.Subscript)


class Needed:
    """The absent inputs each derived value and each criterion needs, for one assessment (validated data)."""

    def __init__(self, ruleset: Ruleset, data: Mapping[str, Any]) -> None:
        self.ref = reference(ruleset)
        self.doc = ruleset.plan.doc
        self.data = data
        self.env = self.ref.machine.inputs(data)
        self.ref.derive(self.doc, self.env, data)  # the derived values into env, exact
        self.derived: dict[str, frozenset[str]] = {}
        for name, reading in self.ref.derived.items():
            self.derived[name] = self.of(reading.condition.expr)

    def criterion(self, cid: str) -> frozenset[str]:
        """The absent inputs a criterion's condition needs."""
        return self.of(interpreter.parse(self.doc.criteria[cid].when))

    def of(self, expr: interpreter.Expression) -> frozenset[str]:
        """The absent inputs an expression needs (see the module docstring)."""
        names = (*self.derived, *self.ref.derived)
        reads = interpreter.reads(expr, names, self.ref.machine.maps)
        return frozenset(self._walk(expr, expr.tree, reads))

    def _value(self, expr: interpreter.Expression, node: ast.expr) -> Any:
        try:
            return self.ref.machine.evaluate_in(interpreter.Expression(expr.text, expr.wrapped, node), self.env,
                                                {interpreter.UNDEFINED: []})
        except (interpreter.InterpreterError, TypeError, KeyError, ValueError, AttributeError):
            return interpreter.UNKNOWN

    def _known(self, value: Any) -> bool:
        return value is not interpreter.UNKNOWN and not isinstance(value, interpreter.Range)

    def _path(self, pointer: str, reads: frozenset[str]) -> set[str] | None:
        """What a path needs: a derived value's needs, an absent input itself; None for another name."""
        if pointer[1:] in self.derived:
            return set(self.derived[pointer[1:]])
        if pointer in reads:
            return {pointer} if lookup(self.data, pointer) is MISSING else set()
        return None

    def _walk(self, expr: interpreter.Expression, node: ast.AST, reads: frozenset[str]) -> set[str]:
        if isinstance(node, ast.expr) and self._known(self._value(expr, node)):
            return set()
        if isinstance(node, ast.IfExp):
            test = self._value(expr, node.test)
            if test is True:
                return self._walk(expr, node.body, reads)
            if test is False:
                return self._walk(expr, node.orelse, reads)
        if isinstance(node, _PATHS):
            pointer = analysis.scoped_pointer(node, {})
            found = self._path(pointer, reads) if pointer is not None else None
            if found is not None:
                return found
        if isinstance(node, _LOOPS):  # its variables are bound inside: what it reads
            sub = interpreter.Expression(expr.text, expr.wrapped, node)
            out: set[str] = set()
            for pointer in interpreter.reads(sub, (), self.ref.machine.maps):
                out |= self._path(pointer, reads | {pointer}) or set()
            return out
        out = set()
        for child in ast.iter_child_nodes(node):
            out |= self._walk(expr, child, reads)
        return out

