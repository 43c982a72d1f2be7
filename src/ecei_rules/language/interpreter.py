"""A second reading of the condition language, written apart from its compiler: the interpreter
both oracles run.

The reference evaluator (:mod:`ecei_rules.engine.reference`) evaluates every condition of a
ruleset with it (criteria, ``valid_from``, each validity rule's ``when`` and ``valid_until``),
and the durable backend (:mod:`ecei_rules.backends.durable`) hands it what durable-rules
patterns cannot express (aggregates over lists such as ``any(...)`` and ``count_distinct(...)``,
calendar functions) and the validity dates. It shares nothing with
:mod:`ecei_rules.language.expr` (the compiler, whose closures the production evaluator runs) or
:mod:`ecei_rules.core.logic` but the language reference (docs/language.md): it walks Python's
``ast`` directly, computes with :class:`~fractions.Fraction`, and has its own unknown value,
three-valued operators, count ranges and calendar arithmetic, and finds the inputs and
parameters a condition reads in its tree (:func:`reads`, :func:`parameters`). That is the
point: where it and the compiler agree, two implementations of the language agree, so a
mistake in one of them shows as a difference between the production evaluator and its
oracles. Its Kleene operators, range arithmetic and calendar functions therefore repeat those
of :mod:`ecei_rules.core.logic` on purpose (a duplicate finder pairs them): that repetition is
the independent check, never to be factored into one.

Values: ``True``/``False``/:data:`UNKNOWN` for truth; ``Fraction`` for every number; ``date``;
``str``; ``tuple`` for lists; ``dict`` for objects; :class:`Range` for a count known only to
lie between two whole numbers. Conditions reach it already checked by the ruleset loader.
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final


class _Unknown:
    """The interpreter's own unknown value (an absent input, an undecidable result)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "unknown"

    def __bool__(self) -> bool:
        raise TypeError("unknown has no Python truth value")


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class Range:
    """A number known only to lie in ``[lo, hi]``: a count over unknown filters, shifted or scaled
    by known numbers; ``whole`` when every value it may be is a whole number."""

    lo: Any
    hi: Any
    whole: bool = True


#: Where a derived value's evaluation collects why it has no value: a key of the variables that
#: is not a name (so no condition can read it); see :meth:`Interpreter.evaluate_in`.
UNDEFINED: Final = "\x00undefined"


class InterpreterError(Exception):
    """A construct outside the language reached the interpreter (a bug, never data)."""


def number(value: Any) -> Any:
    """Data to interpreter values: int and Decimal become Fraction, lists become tuples."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return Fraction(value)
    if isinstance(value, list):
        return tuple(number(v) for v in value)
    if isinstance(value, tuple):
        return tuple(number(v) for v in value)
    if isinstance(value, dict):
        return {k: number(v) for k, v in value.items()}
    return value


# -- three-valued operators --------------------------------------------------------------

def _junction(values: Iterable[Any], absorbing: bool) -> Any:
    """A Kleene fold: any ``absorbing`` value gives it; else any unknown gives unknown; else the other."""
    neutral = not absorbing
    seen_unknown = False
    for v in values:
        if v is absorbing:
            return absorbing
        if v is not neutral:
            seen_unknown = True
    return UNKNOWN if seen_unknown else neutral


def both(values: Iterable[Any]) -> Any:
    """Kleene 'and': any false gives false; else any unknown gives unknown; else true."""
    return _junction(values, False)


def either(values: Iterable[Any]) -> Any:
    """Kleene 'or': any true gives true; else any unknown gives unknown; else false."""
    return _junction(values, True)


def negate(value: Any) -> Any:
    """Kleene 'not'."""
    if value is True:
        return False
    if value is False:
        return True
    return UNKNOWN


def _holds(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    raise InterpreterError(f"comparison {op}")


def _ends(value: Any) -> tuple[Any, Any]:
    """The least and greatest value a known value or a :class:`Range` can be."""
    return (value.lo, value.hi) if isinstance(value, Range) else (value, value)


def _count(lo: Any, hi: Any, whole: bool = True) -> Any:
    """A count: exact when its ends meet, else a :class:`Range`."""
    if lo == hi:
        return Fraction(lo)
    return Range(int(lo), int(hi)) if whole else Range(Fraction(lo), Fraction(hi), False)


def _is_number(value: Any) -> bool:
    """A number or a :class:`Range` (not a truth value, a date, a text or unknown)."""
    return isinstance(value, (Fraction, Range))


def _is_whole(value: Any) -> bool:
    return value.whole if isinstance(value, Range) else Fraction(value).denominator == 1


def relate(op: str, a: Any, b: Any) -> Any:
    """``a op b`` over known values, ranges (decided only when every value in them agrees) or unknown."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Range) or isinstance(b, Range):
        # the extremes decide every ordering; equality needs the ranges to overlap
        (a_lo, a_hi), (b_lo, b_hi) = _ends(a), _ends(b)
        if op in ("==", "!="):
            if a_hi < b_lo or b_hi < a_lo:
                return op == "!="
            if a_lo == a_hi == b_lo == b_hi:
                return op == "=="
            return UNKNOWN
        outcomes = {_holds(op, x, y) for x in (a_lo, a_hi) for y in (b_lo, b_hi)}
        return outcomes.pop() if len(outcomes) == 1 else UNKNOWN
    return _holds(op, a, b)


def _range_arith(op: str, a: Any, b: Any, ranges: bool = False) -> Any:
    """``a op b`` where one side (at least) is a :class:`Range`: sums and differences of ranges,
    a range times or divided by a known number; anything else unknown. With ``ranges`` (the
    ruleset opts into them): sums, differences and products of ranges and numbers, the extremes
    of the ends' results; a quotient by a number or a range other than zero (unknown when the
    divisor may be zero)."""
    (a_lo, a_hi), (b_lo, b_hi) = _ends(a), _ends(b)
    whole = _is_whole(a) and _is_whole(b)
    if op == "+":
        return _count(a_lo + b_lo, a_hi + b_hi, whole)
    if op == "-":
        return _count(a_lo - b_hi, a_hi - b_lo, whole)
    if not ranges:
        return _range_arith_by_number(op, a, b)
    if op == "*":
        ends = sorted(x * y for x in (a_lo, a_hi) for y in (b_lo, b_hi))
        return _count(ends[0], ends[-1], whole)
    if b_lo <= 0 <= b_hi:
        return UNKNOWN
    ends = sorted(Fraction(x) / y for x in (a_lo, a_hi) for y in (b_lo, b_hi))
    exact_divisor = not isinstance(b, Range) and (1 / Fraction(b)).denominator == 1
    return _count(ends[0], ends[-1], _is_whole(a) and exact_divisor)


def _range_arith_by_number(op: str, a: Any, b: Any) -> Any:
    """``a * b`` or ``a / b`` with a range, without ranges opted into: a range times or divided by a
    known number, anything else unknown."""
    (a_lo, a_hi), (b_lo, b_hi) = _ends(a), _ends(b)
    if op == "*" and not (isinstance(a, Range) and isinstance(b, Range)):
        ends = sorted(x * y for x in (a_lo, a_hi) for y in (b_lo, b_hi))
        return _count(ends[0], ends[-1], _is_whole(a) and _is_whole(b))
    if op == "/" and isinstance(a, Range) and not isinstance(b, Range) and b != 0:
        ends = sorted((Fraction(a_lo) / b, Fraction(a_hi) / b))
        return _count(ends[0], ends[1], a.whole and (1 / b).denominator == 1)
    return UNKNOWN


def _inside(item: Any, values: Any) -> Any:
    """``item in values``: unknown in, unknown out; a :class:`Range` is inside when each whole
    number from its low to its high end is one of the values, outside when none is, else unknown."""
    if item is UNKNOWN or values is UNKNOWN:
        return UNKNOWN
    if not isinstance(item, Range):
        return item in values
    if not item.whole:
        return _near(item, values)
    found = {v for v in values if isinstance(v, Fraction) and v.denominator == 1 and item.lo <= v <= item.hi}
    if len(found) == item.hi - item.lo + 1:
        return True
    return UNKNOWN if found else False


def _near(item: Range, values: Any) -> Any:
    """A range that is not whole numbers only is outside the values when none lies between its
    ends, else unknown."""
    return UNKNOWN if any(isinstance(v, Fraction) and item.lo <= v <= item.hi for v in values) else False


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from a to b, minus one when b's day of month is before a's."""
    whole = (b.year - a.year) * 12 + b.month - a.month
    return whole - 1 if b.day < a.day else whole


def month_end(d: dt.date, n: int) -> dt.date | _Unknown:
    """The last day of the month n months after d's month (unknown outside the calendar)."""
    months = d.year * 12 + d.month - 1 + n
    year, month0 = divmod(months, 12)
    if year < dt.MINYEAR or year > dt.MAXYEAR:
        return UNKNOWN
    return dt.date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])


_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass
class Expression:
    """A parsed condition with its source text (number literals are read from the text, once)."""

    text: str
    wrapped: str
    tree: ast.expr
    #: the value of each literal of the tree (numbers exact), read when the expression is made
    literals: dict[ast.AST, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.literals = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, (bool, str, int, float)):
                self.literals[node] = _literal(node, self.wrapped)


def _literal(node: ast.Constant, wrapped: str) -> Any:
    """A literal's value: text and truth as they are, numbers as exact fractions of their text."""
    v = node.value
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return Fraction(v)
    text = ast.get_source_segment(wrapped, node) or repr(v)
    return Fraction(Decimal(text.replace("_", "")))


def parse(text: str) -> Expression:
    """Parse a condition (already checked by the ruleset loader)."""
    wrapped = "(\n" + text.strip() + "\n)"
    tree = ast.parse(wrapped, mode="eval").body
    return Expression(text, wrapped, tree)


# -- what a condition reads --------------------------------------------------------------------

def reads(expr: Expression, variables: Iterable[str] = (),
          maps: Mapping[str, tuple[str, ...]] | None = None) -> frozenset[str]:
    """The JSON pointers of the inputs ``expr`` reads: each path from an input (a name that is
    not ``true``, ``false``, ``params``, a loop's variable or one of ``variables``) through fields
    and quoted keys, taken whole where it is used as a value (``a.b.c`` reads ``/a/b/c``, not
    ``/a`` or ``/a/b``); a path from a loop's variable reads nothing of its own. ``values(m)`` of
    a map input reads each of its entries (``/m/key``, the keys in ``maps`` by the map's pointer)."""
    found: set[str] = set()
    _walk(expr.tree, frozenset(variables), found, set())
    for pointer, keys in _maps_read(expr.tree, maps or {}):
        found.discard(pointer)
        found.update(f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}" for k in keys)
    return frozenset(found)


def _maps_read(tree: ast.AST, maps: Mapping[str, tuple[str, ...]]) -> list[tuple[str, tuple[str, ...]]]:
    """(pointer, keys) of each map input ``values(...)`` reads in ``tree``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "values" \
                and len(node.args) == 1:
            pointer = _pointer(node.args[0])
            if pointer is not None and pointer in maps:
                out.append((pointer, maps[pointer]))
    return out


def _pointer(node: ast.AST) -> str | None:
    """The JSON pointer of a path from a name (``a.b["c"]`` -> ``/a/b/c``), or None."""
    base, keys = _steps(node)
    if not isinstance(base, ast.Name):
        return None
    return "/" + "/".join([base.id, *(k.replace("~", "~0").replace("/", "~1") for k in keys)])


def parameters(expr: Expression, tables: Mapping[str, Mapping[str, str]] | None = None) -> frozenset[str]:
    """The names of the parameters ``expr`` uses (``params.name``). A parameter table (of
    ``tables``: each key's entry name by table) is read by entry: ``params.t["k"]`` uses the
    entry of ``k``; ``params.t[x]`` every entry of the table."""
    found: set[str] = set()
    _walk(expr.tree, frozenset(), set(), found)
    if not tables:
        return frozenset(found)
    found -= set(tables)
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "params" \
                and node.value.attr in tables:
            entries = tables[node.value.attr]
            key = _key(node)
            found.update((entries[key],) if key is not None and key in entries else entries.values())
    return frozenset(found)


def _walk(node: ast.AST, bound: frozenset[str], inputs: set[str], params: set[str]) -> None:
    """Collect the input paths and parameter names under ``node``; ``bound`` holds the names
    that are not inputs there (loop variables, extra variables)."""
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        base, keys = _steps(node)
        if isinstance(base, ast.Name) and base.id not in bound and base.id not in ("true", "false"):
            _record(base.id, keys, node, inputs, params)
            return
        if base is not node:  # a path from something else (a loop's variable, a call): what that reads
            _walk(base, bound, inputs, params)
            return
    if isinstance(node, ast.Call):  # the function's name is no input
        for arg in node.args:
            _walk(arg, bound, inputs, params)
        return
    if isinstance(node, ast.GeneratorExp):  # the list is read outside the loop, the rest inside
        loop = node.generators[0]
        _walk(loop.iter, bound, inputs, params)
        inner = bound | {loop.target.id} if isinstance(loop.target, ast.Name) else bound
        for part in (*loop.ifs, node.elt):
            _walk(part, inner, inputs, params)
        return
    for child in ast.iter_child_nodes(node):
        _walk(child, bound, inputs, params)


def _steps(node: ast.AST) -> tuple[ast.AST, list[str]]:
    """Where a chain of fields and quoted keys starts, and its keys from the start on."""
    keys: list[str] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        key = node.attr if isinstance(node, ast.Attribute) else _key(node)
        if key is None:
            break
        keys.append(key)
        node = node.value
    keys.reverse()
    return node, keys


def _record(name: str, keys: list[str], node: ast.AST, inputs: set[str], params: set[str]) -> None:
    """A path from a name: ``params.name`` (as the interpreter reads it) a parameter, else an input."""
    if name == "params":
        first = node
        while isinstance(first, (ast.Attribute, ast.Subscript)) and not isinstance(first.value, ast.Name):
            first = first.value
        if isinstance(first, ast.Attribute) and keys:
            params.add(keys[0])
        return
    inputs.add("/" + "/".join([name, *(k.replace("~", "~0").replace("/", "~1") for k in keys)]))


def _key(node: ast.Subscript) -> str | None:
    key = node.slice
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


class Interpreter:
    """Evaluates parsed conditions against validated assessment data."""

    def __init__(self, params: Mapping[str, Any], maps: Mapping[str, tuple[str, ...]] | None = None,
                 bounds: Mapping[str, tuple[Any, Any, bool]] | None = None, ranges: bool = False) -> None:
        self.params = {name: number(value) for name, value in params.items()}
        #: the ruleset opts into ranges (``unknowns: {derived: ranges}``): bounds are read, an
        #: undecided choice of numbers is a range, products and quotients of ranges, sums of
        #: ranges, and known(range) is false; unset, exactly the language without them
        self.ranges = ranges
        #: the keys of each map input by its pointer (its catalogue's item ids), for ``values(m)``
        self.maps = dict(maps or {})
        #: by its pointer, what an absent number input with a declared minimum and maximum may be
        #: (read so in a derived value): every number between them, or every whole one
        self.bounds: dict[str, Any] = {}
        for pointer, (lo, hi, whole) in (bounds or {}).items():
            lo, hi = Fraction(lo), Fraction(hi)
            self.bounds[pointer] = _count(math.ceil(lo), math.floor(hi)) if whole else _count(lo, hi, False)
        if not ranges:
            self.bounds.clear()

    def evaluate(self, expr: Expression, data: Mapping[str, Any], variables: Mapping[str, Any] | None = None) -> Any:
        """The value of ``expr`` for the data (root inputs) and extra variables (``label``)."""
        return self.evaluate_in(expr, self.inputs(data), variables)

    @staticmethod
    def inputs(data: Mapping[str, Any]) -> dict[str, Any]:
        """The root inputs of the data as interpreter values, for ``evaluate_in`` (made once
        when many conditions read one assessment)."""
        return {k: number(v) for k, v in data.items()}

    def evaluate_in(self, expr: Expression, inputs: dict[str, Any], variables: Mapping[str, Any] | None = None) -> Any:
        """The value of ``expr`` for root inputs already made interpreter values by ``inputs``."""
        return self._eval(expr.tree, expr, inputs, dict(variables or {}))

    # the walk ------------------------------------------------------------------------------
    def _eval(self, node: ast.AST, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        method = _DISPATCH.get(type(node))
        if method is None:
            raise InterpreterError(f"{type(node).__name__} is not part of the language")
        return method(self, node, expr, inputs, local)

    def _Constant(self, node: ast.Constant, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        if node not in expr.literals:
            raise InterpreterError(f"literal {node.value!r}")
        return expr.literals[node]

    def _Name(self, node: ast.Name, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        if node.id == "true":
            return True
        if node.id == "false":
            return False
        if node.id in local:
            return local[node.id]
        return self._filled(node, inputs.get(node.id, UNKNOWN), local)

    def _filled(self, node: ast.AST, value: Any, local: dict[str, Any]) -> Any:
        """What a path reads: in a derived value, an absent number input with declared bounds is
        the range of what it may be."""
        if value is UNKNOWN and UNDEFINED in local and self.bounds:
            return self.bounds.get(_pointer(node) or "", UNKNOWN)
        return value

    def _field(self, base: Any, key: str) -> Any:
        if isinstance(base, dict):
            return base.get(key, UNKNOWN)
        return UNKNOWN

    def _Attribute(self, node: ast.Attribute, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id == "params" and "params" not in local:
            return self.params[node.attr]
        return self._filled(node, self._field(self._eval(node.value, expr, inputs, local), node.attr), local)

    def _Subscript(self, node: ast.Subscript, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return self._filled(node, self._field(self._eval(node.value, expr, inputs, local), key.value), local)
        # a parameter table read by a value: its entry for that key (an unknown key, unknown)
        table = node.value
        if not (isinstance(table, ast.Attribute) and isinstance(table.value, ast.Name) and table.value.id == "params"):
            raise InterpreterError("subscript with a non-string key")
        found = self._eval(key, expr, inputs, local)
        return UNKNOWN if not isinstance(found, str) else self._field(self.params[table.attr], found)

    def _BoolOp(self, node: ast.BoolOp, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        # read one operand after the other, up to the first that decides (as a derived value's
        # reasons for having no value are those of the operands read)
        values = (self._truth(self._eval(v, expr, inputs, local)) for v in node.values)
        return both(values) if isinstance(node.op, ast.And) else either(values)

    @staticmethod
    def _truth(value: Any) -> Any:
        return value if value is True or value is False else UNKNOWN

    def _UnaryOp(self, node: ast.UnaryOp, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        v = self._eval(node.operand, expr, inputs, local)
        if isinstance(node.op, ast.Not):
            return negate(self._truth(v))
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.USub):
            return self._arith("-", Fraction(0), v)
        raise InterpreterError("operator ~")

    def _arith(self, op: str, a: Any, b: Any) -> Any:
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if isinstance(a, Range) or isinstance(b, Range):
            return _range_arith(op, a, b, self.ranges)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return UNKNOWN
        return Fraction(a) / Fraction(b)

    def _BinOp(self, node: ast.BinOp, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(node.op))
        if symbol is None:
            raise InterpreterError(f"operator {type(node.op).__name__}")
        a = self._eval(node.left, expr, inputs, local)
        b = self._eval(node.right, expr, inputs, local)
        if symbol == "/" and UNDEFINED in local and isinstance(a, Fraction) and isinstance(b, Fraction) and b == 0:
            local[UNDEFINED].append(f"division by zero: {_text(expr, node)} with {_text(expr, node.right)} = 0")
        return self._arith(symbol, a, b)

    def _Compare(self, node: ast.Compare, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        operands = [self._eval(n, expr, inputs, local) for n in (node.left, *node.comparators)]
        results = []
        for i, op in enumerate(node.ops):
            a, b = operands[i], operands[i + 1]
            if isinstance(op, (ast.In, ast.NotIn)):
                inside = _inside(a, b)
                results.append(inside if isinstance(op, ast.In) else negate(inside))
            else:
                symbol = _COMPARE.get(type(op))
                if symbol is None:
                    raise InterpreterError(f"comparison {type(op).__name__}")
                results.append(relate(symbol, a, b))
        return results[0] if len(results) == 1 else both(results)

    def _IfExp(self, node: ast.IfExp, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        test = self._truth(self._eval(node.test, expr, inputs, local))
        if test is True:
            return self._eval(node.body, expr, inputs, local)
        if test is False:
            return self._eval(node.orelse, expr, inputs, local)
        # undecided test: the result is known only when both branches give the same value; in a
        # derived value, two numbers (or ranges) give the least range holding both
        a = self._eval(node.body, expr, inputs, local)
        b = self._eval(node.orelse, expr, inputs, local)
        if UNDEFINED in local and self.ranges and _is_number(a) and _is_number(b):
            (a_lo, a_hi), (b_lo, b_hi) = _ends(a), _ends(b)
            return _count(min(a_lo, b_lo), max(a_hi, b_hi), _is_whole(a) and _is_whole(b))
        return a if a is not UNKNOWN and relate("==", a, b) is True else UNKNOWN

    def _List(self, node: ast.List, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        return tuple(self._eval(e, expr, inputs, local) for e in node.elts)

    def _Tuple(self, node: ast.Tuple, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        return tuple(self._eval(e, expr, inputs, local) for e in node.elts)

    # functions -------------------------------------------------------------------------------
    def _Call(self, node: ast.Call, expr: Expression, inputs: dict[str, Any], local: dict[str, Any]) -> Any:
        if not isinstance(node.func, ast.Name):
            raise InterpreterError("call of something that is not a function name")
        name = node.func.id
        if name in _AGGREGATES and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            found = self._aggregate(name, node.args[0], expr, inputs, local)
            if found is _NOTHING:  # min or max over no items
                if UNDEFINED in local:
                    local[UNDEFINED].append(f"{name}() over no items: {_text(expr, node)}")
                return UNKNOWN
            return found
        if name == "date":
            return _date_literal(node.args[0])
        if name in ("values", "round"):
            return self._read_or_round(name, node, expr, inputs, local)
        return _function(name, [self._eval(a, expr, inputs, local) for a in node.args], self.ranges)

    def _read_or_round(self, name: str, node: ast.Call, expr: Expression, inputs: dict[str, Any],
                       local: dict[str, Any]) -> Any:
        """``values(m)``: every entry of the map's catalogue, an absent one unknown; ``round(x, n)``."""
        first = self._eval(node.args[0], expr, inputs, local)
        if name == "values":
            pointer = _pointer(node.args[0]) or ""
            keys = self.maps.get(pointer, ())
            if UNDEFINED not in local or not self.ranges:
                return tuple(first.get(k, UNKNOWN) for k in keys) if isinstance(first, dict) else UNKNOWN
            # a derived value's map: an absent bounded entry (the map there or not) is the range of it
            entries = first if isinstance(first, dict) else {}
            return tuple(entries.get(k, self.bounds.get(f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}",
                                                        UNKNOWN)) for k in keys)
        places = 0 if len(node.args) == 1 else int(self._eval(node.args[1], expr, inputs, local))
        return _rounded(first, places)

    def _aggregate(self, name: str, gen: ast.GeneratorExp, expr: Expression, inputs: dict[str, Any],
                   local: dict[str, Any]) -> Any:
        loop = gen.generators[0]
        if len(gen.generators) != 1 or not isinstance(loop.target, ast.Name):
            raise InterpreterError("a generator with more than one loop")
        items = self._eval(loop.iter, expr, inputs, local)
        if items is UNKNOWN:
            return UNKNOWN
        var = loop.target.id
        rows: list[tuple[Any, Any]] = []  # (passes the filters: True or unknown, the element's value)
        for item in items:
            inner = {**local, var: item}
            passes = both([self._truth(self._eval(f, expr, inputs, inner)) for f in loop.ifs])
            if passes is not False:
                rows.append((passes, self._eval(gen.elt, expr, inputs, inner)))
        return _sum_of_ranges(rows) if name == "sum" and self.ranges else _AGGREGATES[name](rows)


#: the walk's dispatch: each ``Interpreter._<node>`` method by the class of the node it evaluates
_DISPATCH: dict[type[ast.AST], Callable[[Interpreter, Any, Expression, dict[str, Any], dict[str, Any]], Any]] = {
    getattr(ast, name[1:]): method for name, method in vars(Interpreter).items()
    if name.startswith("_") and isinstance(getattr(ast, name[1:], None), type)}


def _date_literal(arg: ast.expr) -> dt.date:
    """``date("...")``: only a text literal."""
    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        raise InterpreterError("date() of something that is not a text literal")
    return dt.date.fromisoformat(arg.value)


def _text(expr: Expression, node: ast.AST) -> str:
    """The text of a part of a condition, as written."""
    return ast.get_source_segment(expr.wrapped, node) or ""


def _function(name: str, args: list[Any], ranges: bool = False) -> Any:
    """A function of already evaluated arguments (every function but the aggregates, ``date`` and ``round``;
    ``ranges``: the ruleset opts into them)."""
    if name == "known":  # with ranges opted into, a range is no value
        return args[0] is not UNKNOWN and not (ranges and isinstance(args[0], Range))
    if name in ("len", "count"):
        return UNKNOWN if args[0] is UNKNOWN else Fraction(len(args[0]))
    if name in ("abs", "floor", "ceil"):
        return _numeric(name, args[0])
    if name in ("min", "max"):  # of two or more values
        return _extremes(name, args)
    if any(a is UNKNOWN or isinstance(a, Range) for a in args):
        return UNKNOWN
    return _calendar(name, args)


def _numeric(name: str, v: Any) -> Any:
    """abs, floor or ceil of a number; of a range, the range of what its values give."""
    if v is UNKNOWN:
        return UNKNOWN
    if name == "abs":
        if not isinstance(v, Range):
            return abs(v)
        if v.lo >= 0:
            return v
        if v.hi <= 0:
            return _count(-v.hi, -v.lo, v.whole)
        return _count(0, max(-v.lo, v.hi), v.whole)
    step = math.floor if name == "floor" else math.ceil
    if isinstance(v, Range):
        return _count(step(v.lo), step(v.hi))
    return Fraction(step(v))


def _half_up(v: Fraction, places: int) -> Fraction:
    """v to ``places`` decimal places, a half rounded away from zero."""
    unit = Fraction(1, 10**places)
    below = math.floor(v / unit)
    rest = v / unit - below
    if v >= 0:
        return (below + (1 if rest >= Fraction(1, 2) else 0)) * unit
    return (below + (1 if rest > Fraction(1, 2) else 0)) * unit


def _rounded(v: Any, places: int) -> Any:
    """round(v, places), half up; of a range, the range of its rounded ends."""
    if v is UNKNOWN:
        return UNKNOWN
    if isinstance(v, Range):
        return _count(_half_up(Fraction(v.lo), places), _half_up(Fraction(v.hi), places), v.whole or places == 0)
    return _half_up(v, places)


def _extremes(name: str, args: list[Any]) -> Any:
    """min or max of two or more values; with ranges among them, the range of the extreme ends."""
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    pick = min if name == "min" else max
    if not any(isinstance(a, Range) for a in args):
        return pick(args)
    low = pick(_ends(a)[0] for a in args)
    high = pick(_ends(a)[1] for a in args)
    return _count(low, high, all(_is_whole(a) for a in args))


def _calendar(name: str, args: list[Any]) -> Any:
    """The calendar functions, over known arguments."""
    if name == "months_between":
        return Fraction(months_between(args[0], args[1]))
    if name == "days_between":
        return Fraction((args[1] - args[0]).days)
    if name == "month_end":
        n = args[1]
        if n.denominator != 1:
            raise InterpreterError("month_end with a fractional number of months")
        return month_end(args[0], int(n))
    raise InterpreterError(f"function {name}")


# aggregates over the rows of a generator: (passes its filters: True or unknown, the element's value)
Rows = list[tuple[Any, Any]]


def _any(rows: Rows) -> Any:
    return either(both([p, Interpreter._truth(v)]) for p, v in rows)


def _all(rows: Rows) -> Any:
    return both(either([negate(p), Interpreter._truth(v)]) for p, v in rows)


def _count_rows(rows: Rows) -> Any:
    return _count(sum(1 for p, _ in rows if p is True), len(rows))


def _count_distinct(rows: Rows) -> Any:
    certain = {v for p, v in rows if p is True and v is not UNKNOWN}
    possible = {v for p, v in rows if v is not UNKNOWN} | certain
    unknown_values = sum(1 for _, v in rows if v is UNKNOWN)
    return _count(len(certain), len(possible) + unknown_values)


def _decided(rows: Rows) -> list[Any] | None:
    """The values of the rows when every row is decided (min, max and sum need that), else None."""
    if any(p is not True or v is UNKNOWN or isinstance(v, Range) for p, v in rows):
        return None
    return [v for _, v in rows]


def _sum(rows: Rows) -> Any:
    """The sum of decided rows (unknown when a range is among them)."""
    values = _decided(rows)
    return UNKNOWN if values is None else sum(values, Fraction(0))


def _sum_of_ranges(rows: Rows) -> Any:
    """The sum of decided rows; of ranges among them, the range of the sums (with ranges opted into)."""
    if any(p is not True or v is UNKNOWN for p, v in rows):
        return UNKNOWN
    total: Any = Fraction(0)
    for _, v in rows:
        total = _range_arith("+", total, v) if isinstance(v, Range) or isinstance(total, Range) else total + v
    return total


#: what min and max give over no items (unknown, and in a derived value a reason to say so)
_NOTHING: Final = object()


def _min(rows: Rows) -> Any:
    values = _decided(rows)
    if values is None:
        return UNKNOWN
    return min(values) if values else _NOTHING


def _max(rows: Rows) -> Any:
    values = _decided(rows)
    if values is None:
        return UNKNOWN
    return max(values) if values else _NOTHING


_AGGREGATES: dict[str, Callable[[Rows], Any]] = {
    "any": _any, "all": _all, "count": _count_rows, "count_distinct": _count_distinct,
    "sum": _sum, "min": _min, "max": _max,
}
