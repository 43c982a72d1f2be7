"""The condition language: parsed by Python's ``ast``, checked against a strict whitelist and
the declared types, and compiled once into closures. No condition's text is ever passed to
eval or exec.

Grammar (a subset of Python expression syntax)::

    expr     := expr 'or' expr | expr 'and' expr | 'not' expr
              | arith (cmp arith)*                 # chained comparisons: a <= b <= c
              | expr 'if' expr 'else' expr
    cmp      := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in'
    arith    := arith ('+'|'-'|'*'|'/') arith | '-' arith | atom
    atom     := NUMBER | STRING | true | false | name ('.' field | '[' "key" ']')*
              | FUNCTION '(' args ')' | '[' literal, ... ']' | '(' expr ')'
    args     := expr, ... | expr 'for' name 'in' expr ('if' expr)*

Names are the ruleset's declared inputs, ``params``, a comprehension's variable, and in
validity rules ``label`` (the decided label). See :data:`FUNCTIONS` for the functions.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ecei_rules.core.logic import (
    UNKNOWN,
    Interval,
    absolute,
    arithmetic,
    compare,
    contains,
    count_value,
    k_and,
    k_not,
    k_or,
    month_end,
    months_between,
)
from ecei_rules.errors import Diagnostic, did_you_mean
from ecei_rules.language.cost import (
    CALENDAR_DIGITS,
    INPUT_DIGITS,
    Size,
    Sizes,
    Sizing,
    input_size,
    joined,
    number_size,
    plus,
    quotient,
    rounded,
    summed,
    times,
    up_to,
    whole,
)
from ecei_rules.language.source import LOOPS, Code, call, combined, const, fallback

Env = dict[str, Any]
Fn = Callable[[Env], Any]

MAX_EXPRESSION_LENGTH = 4000
MAX_NODES = 400
MAX_DEPTH = 40

#: The functions of the language, with their signatures, for the docs and suggestions.
FUNCTIONS: dict[str, str] = {
    "months_between": "months_between(a: date, b: date) -> integer: whole calendar months from a to b",
    "month_end": "month_end(d: date, n: integer) -> date: last day of the month n months after d's month",
    "days_between": "days_between(a: date, b: date) -> integer: days from a to b",
    "date": 'date("YYYY-MM-DD") -> date: a date literal',
    "known": "known(x) -> boolean: true when x has a value, not a range (never unknown)",
    "len": "len(list) -> integer: the number of items",
    "abs": "abs(number) -> number",
    "count": "count(x for x in list if cond) -> integer: how many items pass the filters",
    "count_distinct": "count_distinct(v for x in list if cond) -> integer: how many distinct values v",
    "any": "any(cond for x in list if filter) -> boolean: some item passes (Kleene or)",
    "all": "all(cond for x in list if filter) -> boolean: every item passes (Kleene and)",
    "min": "min(v for x in list if cond) or min(a, b, ...) -> the smallest (unknown when there is none)",
    "max": "max(v for x in list if cond) or max(a, b, ...) -> the largest (unknown when there is none)",
    "sum": "sum(v for x in list if cond) -> number (of ranges, a range)",
    "round": "round(x) or round(x, n) -> x rounded half up (away from zero) to n decimal places (n a literal 0..15)",
    "floor": "floor(x) -> integer: the largest whole number not above x",
    "ceil": "ceil(x) -> integer: the smallest whole number not below x",
    "values": "values(map) -> list: the value of each entry of a map input (one per item of its catalogue; "
              "an absent entry is unknown)",
}
#: The key under which a derived value's evaluation collects why it has no value (a division by
#: zero, min or max over no items); not an identifier, so no input can take it.
UNDEFINED = "\x00undefined"
#: The most decimal places round() takes.
MAX_ROUND_PLACES = 15
RESERVED = frozenset({"params", "label", "true", "false", *FUNCTIONS})
#: The arithmetic operators of the language.
BINARY_OPERATORS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
#: The comparisons of the language (``in`` and ``not in`` look through a list).
COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in"}
#: The other operators: Kleene and, or, not, and the signs.
LOGICAL_OPERATORS: dict[type[ast.AST], str] = {ast.And: "and", ast.Or: "or", ast.Not: "not", ast.USub: "-",
                                               ast.UAdd: "+"}


@dataclass(frozen=True)
class Ty:
    """A static type in the condition language."""

    kind: str  # boolean integer decimal date string list object map any
    values: tuple[str, ...] | None = None  # enum values of a string
    item: Ty | None = None  # list item type
    fields: Mapping[str, Ty] | None = None  # object fields (also catalogue maps: key -> type)
    catalogue: str | None = None  # string: an id of this catalogue; map: keyed by its ids
    size: int | None = None  # list: the most items it can hold (declared, or the language default)
    bounds: tuple[Any, Any] | None = None  # number input: its declared minimum and maximum (both declared)

    def describe(self) -> str:
        """Human name of the type."""
        if self.kind == "list" and self.item is not None:
            return f"list of {self.item.describe()}"
        if self.kind == "string" and self.values:
            return "enum (" + ", ".join(self.values) + ")"
        return {"decimal": "number", "integer": "integer"}.get(self.kind, self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind in ("integer", "decimal", "any")


BOOL = Ty("boolean")
INT = Ty("integer")
DEC = Ty("decimal")
DATE = Ty("date")
STR = Ty("string")
ANY = Ty("any")


@dataclass
class Compiled:
    """A compiled expression: its static type, its closure and what it reads."""

    ty: Ty
    fn: Fn
    reads: frozenset[str]  # JSON pointers of assessment inputs
    params: frozenset[str]  # names of parameters
    path: str | None = None  # when the expression is a pure path from a root input
    const: bool = False
    keys: tuple[str, ...] | None = None  # the keys of that path, to read it in one step
    cost: int = 1  # the worst-case steps of one evaluation (see ecei_rules.language.cost)
    loops: tuple[Loop, ...] = ()  # the nested loops that make up the largest part of that cost
    code: Code | None = None  # how the generated label path writes it (None: a call of fn)
    #: a number: how large it can be (None: as its type says); a list of numbers: its items (see
    #: ecei_rules.language.cost, the size of numbers)
    size: Sizing | None = None
    sizings: tuple[Sizing, ...] = ()  # of a whole expression: each number it computes, parts first

    @property
    def source(self) -> Code:
        """How the generated label path writes it (see ecei_rules.language.source)."""
        return self.code if self.code is not None else fallback(self.fn)


@dataclass(frozen=True)
class Loop:
    """A loop of a condition (an aggregate over a list), for the cost model's messages."""

    function: str  # any, all, count, ...
    source: str  # the text of the list looped over
    size: int  # the most items of that list
    offset: int  # where the call starts in the condition text


@dataclass(frozen=True)
class Table:
    """A parameter table as conditions read it (``params.name[key]``): the type of its entries,
    the value of each key it is declared for, and the name of the entry each key reads (a key
    the table does not list reads its default entry)."""

    ty: Ty
    values: Mapping[str, Any]
    entries: Mapping[str, str]
    keyed_by: str  # what its keys are, for messages: "the values of appliance.compartments.type"


@dataclass
class Scope:
    """What names mean while compiling: declared inputs, parameters, extra variables."""

    inputs: Mapping[str, Ty]
    params: Mapping[str, tuple[Ty, Any]]
    variables: Mapping[str, Ty] = field(default_factory=dict)
    catalogues: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: derived values by name: (type, the inputs and parameters they read, transitively)
    derived: Mapping[str, tuple[Ty, frozenset[str], frozenset[str]]] = field(default_factory=dict)
    #: compiling a derived value: a division by zero and min/max over no items say why (see UNDEFINED);
    #: an absent number input with declared bounds reads as the range of them, and a choice whose
    #: test is unknown as the range of its two numbers (see _bounded and _joined), when ranges is set
    strict: bool = False
    #: parameter tables by name (read ``params.name[key]``)
    tables: Mapping[str, Table] = field(default_factory=dict)
    #: the ruleset opts into ranges (``unknowns: {derived: ranges}``): the above in a derived value,
    #: and everywhere products and quotients of ranges, sums of ranges, and known(range) false;
    #: unset, exactly the language without them
    ranges: bool = False


def _const(value: Any) -> Fn:
    return lambda env: value


def walk_keys(keys: tuple[str, ...], absent: Any = UNKNOWN) -> Fn:
    """Read ``env[k0][k1]...``: ``absent`` as soon as a key is missing or a value is not an
    object (what a chain of one-key reads gives, in one call)."""
    if len(keys) == 1:
        (k0,) = keys
        return lambda env: env.get(k0, absent)
    if len(keys) == 2:
        k0, k1 = keys

        def walk2(env: Env) -> Any:
            v = env.get(k0, absent)
            return v.get(k1, absent) if type(v) is dict else absent

        return walk2
    first, rest = keys[0], keys[1:]

    def walk(env: Env) -> Any:
        v = env.get(first, absent)
        for k in rest:
            if type(v) is not dict:
                return absent
            v = v.get(k, absent)
        return v

    return walk


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


_SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _compare_fn(symbol: str, af: Fn, bf: Fn, a_const: bool, b_const: bool) -> Fn:
    """``compare(symbol, af(env), bf(env))``, with a constant side read once at compile time
    (a constant on the left is moved to the right: ``k < x`` is ``x > k``)."""
    if a_const and not b_const:
        symbol, af, bf = _SWAPPED[symbol], bf, af
        b_const = True
    op = _OPS[symbol]
    k = bf({}) if b_const else UNKNOWN
    if k is UNKNOWN or isinstance(k, Interval):
        return lambda env: compare(symbol, af(env), bf(env))

    def vs_const(env: Env) -> Any:
        x = af(env)
        if x is UNKNOWN:
            return UNKNOWN
        if x.__class__ is Interval:
            return compare(symbol, x, k)
        return op(x, k)

    return vs_const


_UNKNOWN_FN: Fn = _const(UNKNOWN)


class _Compiler:
    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.scope = scope
        self.errors: list[Diagnostic] = []
        self.locals: dict[str, Ty] = {}
        self.plain_locals: set[str] = set()  # loop variables over an input's items (never a range)
        self.costs: list[list[Any]] = []  # per node being compiled: [cost of its parts, costliest loops]
        self.line_starts = _line_starts(text)
        self.sizings: list[Sizing] = []  # every number computed, in the order they are compiled (parts first)
        self.local_sizes: dict[str, Sizing | None] = {}  # loop variables: the size of their list's items

    # -- helpers ---------------------------------------------------------------------------
    def offset(self, node: ast.AST) -> int:
        lineno = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        start = self.line_starts[min(lineno, len(self.line_starts)) - 1]
        # ast offsets are UTF-8 byte offsets within the line
        line = _NEWLINE.split(self.text[start:], maxsplit=1)[0]
        return start + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    def error(self, node: ast.AST, code: str, message: str, suggestion: str | None = None) -> Compiled:
        offset = self.offset(node)
        if isinstance(node, (ast.Attribute, ast.Subscript)) and code == "E104":
            # point at the misspelt field itself, not at the start of the path
            end = getattr(node, "end_col_offset", None)
            if end is not None and node.lineno == node.end_lineno:
                key = node.attr if isinstance(node, ast.Attribute) else self.source(node.slice) + "]"
                offset = self.offset(node) + (end - node.col_offset) - len(key.encode("utf-8"))
        self.errors.append(Diagnostic(code, message, suggestion=suggestion, offset=offset))
        return Compiled(ANY, _UNKNOWN_FN, frozenset(), frozenset())

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    # -- dispatch --------------------------------------------------------------------------
    def compile(self, node: ast.AST) -> Compiled:
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            return self.error(node, "E202", _forbidden_message(node))
        # the cost of a node: one step, plus what its parts cost (an aggregate multiplies its
        # body by the size of its list, see aggregate)
        self.costs.append([0, ()])
        try:
            result: Compiled = method(node)
        finally:
            inner, loops = self.costs.pop()
        result.cost = 1 + inner
        result.loops = loops
        self.charge(result.cost, loops)
        return result

    def charge(self, cost: int, loops: tuple[Loop, ...]) -> None:
        """Add ``cost`` to the node being compiled; keep the costliest chain of loops."""
        if self.costs:
            frame = self.costs[-1]
            frame[0] += cost
            if loops and (not frame[1] or _chain_cost(loops) > _chain_cost(frame[1])):
                frame[1] = loops

    def sized(self, node: ast.AST, size: Callable[[Sizes], Size], what: str, derived: str | None = None) -> Sizing:
        """The size of the number ``node`` computes, from those of its parts, for the size check."""
        sizing = Sizing(size, self.offset(node), what, derived)
        self.sizings.append(sizing)
        return sizing

    @staticmethod
    def size_of(c: Compiled) -> Sizing:
        """The size of a number: its own, else (a value read from an input) as its type says."""
        if c.size is not None:
            return c.size
        size = input_size(c.ty)
        return Sizing(lambda sizes: size)

    @staticmethod
    def item_size(c: Compiled) -> Sizing | None:
        """The size of the items of a list: its own, else (an input's) as their type says."""
        if c.size is not None:
            return c.size
        item = c.ty.item
        return _fixed(input_size(item)) if item is not None and item.numeric and item.kind != "any" else None

    @property
    def widens(self) -> bool:
        """Whether absent bounded inputs and undecided choices read as ranges here: in a derived
        value of a ruleset that opts into ranges."""
        return self.scope.strict and self.scope.ranges

    def value(self, node: ast.AST) -> Compiled:
        """Compile a node used as a value: a pure path becomes a read."""
        c = self.compile(node)
        if c.path is not None:
            fn, code = c.fn, c.code
            if self.widens and c.ty.bounds is not None:
                fn, code = _bounded(c.fn, c.ty), call(_filler(c.ty), c.source)
            return Compiled(c.ty, fn, c.reads | {c.path}, c.params, None, c.const, cost=c.cost, loops=c.loops,
                            code=code, size=c.size)
        return c

    # -- leaves ----------------------------------------------------------------------------
    def c_Constant(self, node: ast.Constant) -> Compiled:
        v = node.value
        if isinstance(v, bool):
            return Compiled(BOOL, _const(v), frozenset(), frozenset(), const=True, code=const(v))
        if isinstance(v, int):
            if abs(v) > 10**18:
                return self.error(node, "E205", "integer literal out of range (at most 18 digits)")
            return Compiled(INT, _const(v), frozenset(), frozenset(), const=True, code=const(v),
                            size=_fixed(number_size(v)))
        if isinstance(v, float):
            text = self.source(node)
            try:
                d = Decimal(text.replace("_", ""))
            except InvalidOperation:
                return self.error(node, "E205", f"'{text}' is not a decimal number")
            if not d.is_finite() or abs(d.adjusted()) > 18:
                return self.error(node, "E205", f"number literal '{text}' out of range")
            if len(d.normalize().as_tuple().digits) > 15:
                return self.error(node, "E205", f"number literal '{text}' has more than 15 significant digits")
            return Compiled(DEC, _const(d), frozenset(), frozenset(), const=True, code=const(d),
                            size=_fixed(number_size(d)))
        if isinstance(v, str):
            return Compiled(STR, _const(v), frozenset(), frozenset(), const=True, code=const(v))
        if v is None:
            return self.error(node, "E202", "None is not part of the language", "use known(x) to test for a value")
        return self.error(node, "E202", f"literal {v!r} is not part of the language")

    def c_Name(self, node: ast.Name) -> Compiled:
        name = node.id
        if name in ("true", "false"):
            return Compiled(BOOL, _const(name == "true"), frozenset(), frozenset(), const=True,
                            code=const(name == "true"))
        if name.startswith("_"):
            return self.error(node, "E202", f"names starting with '_' are not allowed: '{name}'")
        if name in self.locals:
            ty = self.locals[name]
            return Compiled(ty, lambda env: env[name], frozenset(), frozenset(),
                            code=Code("local", (name,), plain=name in self.plain_locals),
                            size=self.local_sizes.get(name))
        if name in self.scope.variables:
            ty = self.scope.variables[name]
            # a variable of the scope (the label decided) holds a string, never a range
            return Compiled(ty, lambda env: env.get(name, UNKNOWN), frozenset(), frozenset(),
                            code=Code("name", (name,), plain=ty.kind == "string"))
        if name in self.scope.derived:
            ty, reads, params = self.scope.derived[name]
            size = self.sized(node, lambda sizes: sizes.of_derived(name, ty), f"the derived value '{name}'", name) \
                if ty.numeric else None
            return Compiled(ty, lambda env: env.get(name, UNKNOWN), reads, params, code=Code("name", (name,)),
                            size=size)
        if name in self.scope.inputs:
            ty = self.scope.inputs[name]
            return Compiled(ty, lambda env: env.get(name, UNKNOWN), frozenset(), frozenset(), path="/" + name,
                            keys=(name,), code=Code("read", ((name,),), plain=True))
        if name == "params":
            return self.error(node, "E104", "'params' must be followed by a parameter name, e.g. params.min_fte")
        if name in FUNCTIONS:
            return self.error(node, "E202", f"'{name}' is a function; call it: {FUNCTIONS[name]}")
        candidates = [*self.scope.inputs, *self.scope.derived, *self.scope.variables, *self.locals, "params"]
        return self.error(node, "E104", f"unknown input '{name}'", did_you_mean(name, candidates))

    # -- paths -----------------------------------------------------------------------------
    def c_Attribute(self, node: ast.Attribute) -> Compiled:
        attr = node.attr
        if attr.startswith("_"):
            return self.error(node, "E202", f"attribute names starting with '_' are not allowed: '{attr}'")
        if isinstance(node.value, ast.Name) and node.value.id == "params" and "params" not in self.locals:
            return self.param(node, attr)
        base = self.compile(node.value)
        return self.member(node, base, attr)

    def param(self, node: ast.AST, name: str) -> Compiled:
        if name in self.scope.tables:
            key = next(iter(self.scope.tables[name].values), "")
            return self.error(node, "E204", f"the parameter table '{name}' is read by one of its keys, e.g. "
                              f"params.{name}[x.type] or params.{name}[\"{key}\"]")
        if name not in self.scope.params:
            known = [*self.scope.params, *self.scope.tables]
            return self.error(node, "E105", f"unknown parameter '{name}'", did_you_mean(name, known))
        ty, value = self.scope.params[name]
        return Compiled(ty, _const(value), frozenset(), frozenset({name}), const=True, code=const(value),
                        size=_fixed(number_size(value)))

    def member(self, node: ast.AST, base: Compiled, key: str) -> Compiled:
        ty = base.ty
        if ty.kind == "any":
            return Compiled(ANY, _UNKNOWN_FN, base.reads, base.params, code=const(UNKNOWN))
        if ty.kind not in ("object", "map") or ty.fields is None:
            return self.error(node, "E204", f"'{self.source(node)}': a {ty.describe()} has no field '{key}'")
        if key not in ty.fields:
            what = f"'{key}' is not an item of the catalogue '{ty.catalogue}'" if ty.kind == "map" else (
                f"unknown field '{key}' in '{self.source(node)}'"
            )
            return self.error(node, "E104", what, did_you_mean(key, ty.fields))
        fty = ty.fields[key]
        path = None if base.path is None else base.path + "/" + key.replace("~", "~0").replace("/", "~1")
        if base.keys is not None:  # a path from an input: walk all its keys in one closure
            keys = (*base.keys, key)
            return Compiled(fty, walk_keys(keys), base.reads, base.params, path, keys=keys,
                            code=Code("read", (keys,), plain=True))
        get = base.fn
        inner = base.source
        code = Code("get", (inner, key), plain=inner.plain, closed=inner.closed)

        def fn(env: Env) -> Any:
            v = get(env)
            if type(v) is dict:
                return v.get(key, UNKNOWN)
            return UNKNOWN

        return Compiled(fty, fn, base.reads, base.params, path, code=code)

    def c_Subscript(self, node: ast.Subscript) -> Compiled:
        key_node = node.slice
        table = node.value
        if isinstance(table, ast.Attribute) and isinstance(table.value, ast.Name) and table.value.id == "params" \
                and "params" not in self.locals:
            found = self.table_read(node, table)
            if found is not None:
                return found
        if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
            return self.error(node, "E202", 'only a quoted key can be used in [...], e.g. scores["4.1.5"]')
        base = self.compile(node.value)
        return self.member(node, base, key_node.value)

    def table_read(self, node: ast.Subscript, table: ast.Attribute) -> Compiled | None:
        """``params.name[key]``: an entry of the table ``name``; None for a parameter's member by a quoted
        key (compiled as any member)."""
        if table.attr in self.scope.tables:
            return self.lookup(node, table.attr, self.scope.tables[table.attr])
        if isinstance(node.slice, ast.Constant):
            return None
        if table.attr in self.scope.params:
            return self.error(node, "E204", f"the parameter '{table.attr}' is not a table: it has no keys")
        return self.error(table, "E105", f"unknown parameter table '{table.attr}'",
                          did_you_mean(table.attr, self.scope.tables))

    def lookup(self, node: ast.Subscript, name: str, table: Table) -> Compiled:
        """``params.name[key]``: the table's entry for a quoted key (a constant), or for the value of an
        enum or catalogue expression, each of whose values must be a key of the table (unknown key,
        unknown entry); it reads every entry that key can reach."""
        key_node = node.slice
        if table.ty.kind == "any":  # a table refused when the ruleset loaded: its problem is reported there
            k = self.value(key_node)
            return Compiled(ANY, _UNKNOWN_FN, k.reads, k.params, code=const(UNKNOWN))
        if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
            key = key_node.value
            if key not in table.values:
                return self.error(key_node, "E104", f"'{key}' is not a key of the table '{name}' ({table.keyed_by})",
                                  did_you_mean(key, table.values))
            return Compiled(table.ty, _const(table.values[key]), frozenset(), frozenset({table.entries[key]}),
                            const=True, code=const(table.values[key]), size=_fixed(number_size(table.values[key])))
        k = self.value(key_node)
        if k.ty.kind == "any":
            return Compiled(table.ty, _UNKNOWN_FN, k.reads, k.params, code=const(UNKNOWN))
        possible = k.ty.values  # an enum's values, a catalogue string's item ids
        if k.ty.kind != "string" or not possible:
            return self.error(key_node, "E204", f"a table is read by an enum or catalogue value or a quoted key, "
                              f"not by '{self.source(key_node)}' ({k.ty.describe()})")
        strange = [v for v in possible if v not in table.values]
        if strange:
            return self.error(key_node, "E104", f"{', '.join(repr(v) for v in strange)} (a value of "
                              f"'{self.source(key_node)}') {'is' if len(strange) == 1 else 'are'} not a key of the "
                              f"table '{name}' ({table.keyed_by})", "give the table those keys, or a default")
        values, kf = dict(table.values), k.fn

        def entry(key: Any) -> Any:
            return UNKNOWN if key is UNKNOWN else values.get(key, UNKNOWN)

        def read(env: Env) -> Any:
            return entry(kf(env))

        numbers = [s for s in map(number_size, table.values.values()) if s is not None]
        return Compiled(table.ty, read, k.reads, k.params | frozenset(table.entries.values()),
                        code=call(entry, k.source), size=_fixed(joined(numbers)) if numbers else None)

    # -- operators -------------------------------------------------------------------------
    def c_BoolOp(self, node: ast.BoolOp) -> Compiled:
        parts = [self.value(v) for v in node.values]
        for p, v in zip(parts, node.values, strict=True):
            self.expect_bool(v, p)
        fns = tuple(p.fn for p in parts)
        # Kleene: for 'and', false wins, then unknown, else true ('or' likewise with true); the
        # operands have no effects, so the first deciding one ends the evaluation
        decides, passes = (False, True) if isinstance(node.op, ast.And) else (True, False)

        def fn(env: Env) -> Any:
            unknown = False
            for f in fns:
                v = f(env)
                if v is decides:
                    return decides
                if v is not passes:
                    unknown = True
            return UNKNOWN if unknown else passes

        kind = "and" if isinstance(node.op, ast.And) else "or"
        return Compiled(BOOL, fn, _union(p.reads for p in parts), _union(p.params for p in parts),
                        code=combined(kind, tuple(p.source for p in parts)))

    def c_UnaryOp(self, node: ast.UnaryOp) -> Compiled:
        operand = self.value(node.operand)
        inner = operand.fn
        if type(node.op) not in LOGICAL_OPERATORS:
            return self.error(node, "E202", "the operator '~' is not part of the language")
        if isinstance(node.op, ast.Not):
            self.expect_bool(node.operand, operand)
            return Compiled(BOOL, lambda env: k_not(inner(env)), operand.reads, operand.params,
                            code=combined("not", (operand.source,)))
        if not operand.ty.numeric:  # a sign
            return self.error(node, "E204", f"'{self.source(node)}': a {operand.ty.describe()} has no sign")
        if isinstance(node.op, ast.UAdd):
            return operand
        return Compiled(operand.ty, lambda env: arithmetic("-", 0, inner(env)), operand.reads, operand.params,
                        code=call(arithmetic, const("-"), const(0), operand.source), size=self.size_of(operand))

    def c_BinOp(self, node: ast.BinOp) -> Compiled:
        op = BINARY_OPERATORS.get(type(node.op))
        if op is None:
            symbol = {ast.Pow: "**", ast.Mod: "%", ast.FloorDiv: "//"}.get(type(node.op), type(node.op).__name__)
            return self.error(node, "E202", f"the operator '{symbol}' is not part of the language",
                              "use + - * / and comparisons")
        left, right = self.value(node.left), self.value(node.right)
        for side, sub in ((left, node.left), (right, node.right)):
            if not side.ty.numeric:
                return self.error(sub, "E204", f"'{self.source(sub)}' is a {side.ty.describe()}, not a number")
        ty = INT if left.ty.kind == right.ty.kind == "integer" and op != "/" else DEC
        ls, rs, rule = self.size_of(left), self.size_of(right), _SIZE_RULES[op]
        size = self.sized(node, lambda sizes: rule(sizes.of(ls), sizes.of(rs)), _SIZE_WHAT[op])
        lf, rf = left.fn, right.fn
        products = self.scope.ranges
        if op == "/" and self.scope.strict:
            why = f"division by zero: {self.source(node)} with {self.source(node.right)} = 0"
            divide = _dividing(why, products)
            return Compiled(ty, lambda env: divide(lf(env), rf(env), env), left.reads | right.reads,
                            left.params | right.params, code=call(divide, left.source, right.source, env=True),
                            size=size)
        if products:
            return Compiled(ty, lambda env: arithmetic(op, lf(env), rf(env), True),
                            left.reads | right.reads, left.params | right.params,
                            code=call(arithmetic, const(op), left.source, right.source, const(True)), size=size)
        return Compiled(ty, lambda env: arithmetic(op, lf(env), rf(env)),
                        left.reads | right.reads, left.params | right.params,
                        code=call(arithmetic, const(op), left.source, right.source), size=size)

    def c_Compare(self, node: ast.Compare) -> Compiled:
        items = [self.value(node.left), *(self.value(c) for c in node.comparators)]
        nodes = [node.left, *node.comparators]
        pairs: list[Fn] = []
        codes: list[Code] = []
        for i, op in enumerate(node.ops):
            a, b = items[i], items[i + 1]
            pairs.append(self.comparison(op, a, b, nodes[i], nodes[i + 1]))
            codes.append(_comparison_code(op, a, b))
        reads = _union(c.reads for c in items)
        params = _union(c.params for c in items)
        if len(pairs) == 1:
            return Compiled(BOOL, pairs[0], reads, params, code=codes[0])

        def fn(env: Env) -> Any:
            return k_and([p(env) for p in pairs])

        return Compiled(BOOL, fn, reads, params, code=combined("chain", tuple(codes)))

    def comparison(self, op: ast.cmpop, a: Compiled, b: Compiled, an: ast.AST, bn: ast.AST) -> Fn:
        af, bf = a.fn, b.fn
        if isinstance(op, (ast.In, ast.NotIn)):
            if b.ty.kind not in ("list", "any"):
                self.error(bn, "E204", f"'in' needs a list on its right, not a {b.ty.describe()}")
                return _UNKNOWN_FN
            if b.ty.item is not None and not _comparable(a.ty, b.ty.item, equality=True):
                self.error(an, "E204", f"'{self.source(an)}' ({a.ty.describe()}) cannot be in a {b.ty.describe()}")
            self.charge(b.ty.size if b.ty.size is not None else 1, ())  # a look through the list
            if isinstance(op, ast.In):
                return lambda env: _member(af(env), bf(env))
            return lambda env: k_not(_member(af(env), bf(env)))
        symbol = COMPARISONS.get(type(op))
        if symbol is None:
            self.error(an, "E202", "'is' is not part of the language", "use == or known(x)")
            return _UNKNOWN_FN
        equality = symbol in ("==", "!=")
        if not _comparable(a.ty, b.ty, equality=equality):
            self.error(
                bn,
                "E204",
                f"cannot compare '{self.source(an)}' ({a.ty.describe()}) with "
                f"'{self.source(bn)}' ({b.ty.describe()}) using {symbol}",
                _hint(a.ty, b.ty),
            )
            return _UNKNOWN_FN
        for side, other, sn in ((a, b, an), (b, a, bn)):
            if side.const and other.ty.values and side.ty.kind == "string":
                value = side.fn({})
                if value not in other.ty.values:
                    self.error(sn, "E104", f"'{value}' is not one of {', '.join(other.ty.values)}",
                               did_you_mean(value, other.ty.values))
        return _compare_fn(symbol, af, bf, a.const, b.const)

    def c_IfExp(self, node: ast.IfExp) -> Compiled:
        test, body, orelse = self.value(node.test), self.value(node.body), self.value(node.orelse)
        self.expect_bool(node.test, test)
        if not _comparable(body.ty, orelse.ty, equality=True):
            return self.error(node, "E204", f"both branches must have one type, not {body.ty.describe()} "
                              f"and {orelse.ty.describe()}")
        tf, bf, of = test.fn, body.fn, orelse.fn
        join = _either(self.widens)

        def fn(env: Env) -> Any:
            t = tf(env)
            if t is True:
                return bf(env)
            if t is False:
                return of(env)
            return join(bf(env), of(env))

        ty = body.ty if body.ty.kind != "any" else orelse.ty
        if ty.kind == "list":
            ty = dataclasses.replace(ty, size=max(body.ty.size or 0, orelse.ty.size or 0))
        parts = (test.source, body.source, orelse.source)
        code = Code("if", (*parts, join), closed=all(p.closed for p in parts))
        return Compiled(ty, fn, test.reads | body.reads | orelse.reads, test.params | body.params | orelse.params,
                        code=code, size=self.either_size(node, body, orelse))

    def either_size(self, node: ast.AST, body: Compiled, orelse: Compiled) -> Sizing | None:
        """The size of a choice between two numbers (or two lists of numbers): the larger of theirs."""
        if body.ty.numeric and orelse.ty.numeric:
            a, b = self.size_of(body), self.size_of(orelse)
        elif body.ty.kind == "list" or orelse.ty.kind == "list":
            a0, b0 = self.item_size(body), self.item_size(orelse)
            if a0 is None or b0 is None:
                return a0 or b0
            a, b = a0, b0
        else:
            return None
        return self.sized(node, lambda sizes: joined((sizes.of(a), sizes.of(b))), "this choice")

    def c_List(self, node: ast.List | ast.Tuple) -> Compiled:
        elts = [self.value(e) for e in node.elts]
        if not elts:
            return Compiled(Ty("list", item=ANY, size=0), _const(()), frozenset(), frozenset(), const=True,
                            code=const(()))
        for e, en in zip(elts, node.elts, strict=True):
            if not e.const:
                return self.error(en, "E202", "a list literal may hold only literal values")
        kinds = {("number" if e.ty.numeric else e.ty.kind) for e in elts}
        if len(kinds) > 1:
            return self.error(node, "E204", "a list literal must hold values of one type")
        values = tuple(e.fn({}) for e in elts)
        numbers = [s for s in map(number_size, values) if s is not None]
        return Compiled(Ty("list", item=elts[0].ty, size=len(values)), _const(values), frozenset(), frozenset(),
                        const=True, code=const(values), size=_fixed(joined(numbers)) if numbers else None)

    def c_Tuple(self, node: ast.Tuple) -> Compiled:
        return self.c_List(node)

    # -- calls -----------------------------------------------------------------------------
    def c_Call(self, node: ast.Call) -> Compiled:
        refused = self.call_refused(node)
        if refused is not None:
            return refused
        assert isinstance(node.func, ast.Name)  # call_refused saw to it
        name = node.func.id
        if name in ("min", "max") and len(node.args) >= 2:
            return self.call_extreme(node, name)
        if name in AGGREGATES:
            if len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
                if name == "count" and len(node.args) == 1:
                    return self.call_len(node, "count")
                return self.error(node, "E203", f"{name}() takes one generator: {FUNCTIONS[name]}")
            return self.aggregate(node, name, node.args[0])
        special = {"len": lambda n: self.call_len(n, "len"), "date": self.call_date, "round": self.call_round,
                   "values": self.call_values}.get(name)
        return special(node) if special is not None else self.call_function(node, name)

    def call_extreme(self, node: ast.Call, name: str) -> Compiled:
        """``min(a, b, ...)`` or ``max(a, b, ...)``: numbers or dates, all of one kind."""
        args = [self.value(a) for a in node.args]
        for arg, an in zip(args, node.args, strict=True):
            if isinstance(an, ast.GeneratorExp):
                return self.error(an, "E203", f"{name}() takes one generator or two or more values: {FUNCTIONS[name]}")
            if not (arg.ty.numeric or arg.ty.kind == "date"):
                return self.error(an, "E204", f"{name}(): '{self.source(an)}' is a {arg.ty.describe()}, "
                                  "not a number or a date")
        ty = _extreme_type([a.ty for a in args])
        if ty is None:
            return self.error(node, "E204", f"{name}() compares numbers with numbers or dates with dates, not both")
        pick = _extreme_of(name)
        fns = [a.fn for a in args]
        size = None
        if ty.kind != "date":
            parts = [self.size_of(a) for a in args]
            size = self.sized(node, lambda sizes: joined(sizes.of(p) for p in parts), f"{name}()")
        return Compiled(ty, lambda env: pick(*[f(env) for f in fns]), _union(a.reads for a in args),
                        _union(a.params for a in args), code=call(pick, *(a.source for a in args)), size=size)

    def call_round(self, node: ast.Call) -> Compiled:
        """``round(x)`` or ``round(x, n)``, ``n`` a whole number literal from 0 to 15."""
        if len(node.args) not in (1, 2):
            return self.error(node, "E203", f"round() takes one or two arguments: {FUNCTIONS['round']}")
        places = 0
        if len(node.args) == 2:
            n = node.args[1]
            if not (isinstance(n, ast.Constant) and type(n.value) is int and 0 <= n.value <= MAX_ROUND_PLACES):
                return self.error(n, "E203", "round(x, n): n must be a whole number literal from 0 to "
                                  f"{MAX_ROUND_PLACES}")
            places = n.value
        arg = self.value(node.args[0])
        if not arg.ty.numeric:
            return self.error(node.args[0], "E204", f"round(): '{self.source(node.args[0])}' is a "
                              f"{arg.ty.describe()}, expected number: {FUNCTIONS['round']}")
        to_places = _monotone_of(lambda v: round_half_up(v, places), places == 0)
        f0, inner = arg.fn, self.size_of(arg)
        size = self.sized(node, lambda sizes: rounded(sizes.of(inner), places), "round()")
        return Compiled(INT if places == 0 else DEC, lambda env: to_places(f0(env)), arg.reads, arg.params,
                        code=call(to_places, arg.source, plain=arg.source.plain), size=size)

    def call_values(self, node: ast.Call) -> Compiled:
        """``values(map)`` of a map input: the value of each entry of its catalogue, in catalogue
        order, an absent one unknown; it reads each entry (``/map/key``)."""
        if len(node.args) != 1:
            return self.error(node, "E203", f"values() takes one map: {FUNCTIONS['values']}")
        arg = self.compile(node.args[0])
        if arg.ty.kind != "map" or arg.path is None or arg.ty.fields is None:
            return self.error(node.args[0], "E204", f"values() needs a map input (such as credit_points), not "
                              f"'{self.source(node.args[0])}' ({arg.ty.describe()})")
        keys = tuple(arg.ty.fields)
        entries = list(arg.ty.fields.values())
        item = _common_type(entries)
        f0 = arg.fn
        # in a derived value, an absent entry with declared bounds is the range of them, whether
        # the map is there or not (what it reads, its entries, cannot tell the two apart)
        fills = tuple(_fill(t) if self.widens and t.bounds is not None else UNKNOWN for t in entries)
        absent = fills if self.widens else UNKNOWN

        def entries_of(v: Any) -> Any:
            return tuple([v.get(k, fill) for k, fill in zip(keys, fills, strict=True)]) if type(v) is dict else absent

        def fn(env: Env) -> Any:
            return entries_of(f0(env))

        reads = arg.reads | {arg.path + "/" + k.replace("~", "~0").replace("/", "~1") for k in keys}
        return Compiled(Ty("list", item=item, size=len(entries)), fn, frozenset(reads), arg.params,
                        code=call(entries_of, arg.source))

    def call_refused(self, node: ast.Call) -> Compiled | None:
        """The error of a call that is not one of the language's functions, or passes keywords."""
        if not isinstance(node.func, ast.Name):
            return self.error(node, "E202", "only the language's functions can be called",
                              "functions: " + ", ".join(sorted(FUNCTIONS)))
        name = node.func.id
        if name not in FUNCTIONS:
            return self.error(node.func, "E203", f"unknown function '{name}'",
                              did_you_mean(name, FUNCTIONS) or "functions: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            return self.error(node, "E203", f"{name}() takes positional arguments only: {FUNCTIONS[name]}")
        return None

    def call_date(self, node: ast.Call) -> Compiled:
        """``date("YYYY-MM-DD")``: a constant."""
        arg0 = node.args[0] if len(node.args) == 1 else None
        if not (isinstance(arg0, ast.Constant) and isinstance(arg0.value, str)):
            return self.error(node, "E203", FUNCTIONS["date"])
        try:
            d = dt.date.fromisoformat(arg0.value)
        except ValueError:
            return self.error(arg0, "E205", f"'{arg0.value}' is not a date (YYYY-MM-DD)")
        return Compiled(DATE, _const(d), frozenset(), frozenset(), const=True, code=const(d))

    def call_function(self, node: ast.Call, name: str) -> Compiled:
        """A call of one of the functions of :data:`SIGNATURES`, its arguments type-checked."""
        args = [self.value(a) for a in node.args]
        reads = _union(a.reads for a in args)
        params = _union(a.params for a in args)
        expected, result = SIGNATURES[name]
        if len(args) != len(expected):
            return self.error(node, "E203", f"{name}() takes {len(expected)} argument(s): {FUNCTIONS[name]}")
        for arg, want, an in zip(args, expected, node.args, strict=True):
            if not _fits(arg.ty, want):
                return self.error(an, "E204", f"{name}(): '{self.source(an)}' is a {arg.ty.describe()}, "
                                  f"expected {want}: {FUNCTIONS[name]}")
        if name == "abs" and args[0].ty.kind != "any":
            result = args[0].ty
        size = None
        if name == "abs":
            size = self.size_of(args[0])
        elif name in ("floor", "ceil"):
            inner = self.size_of(args[0])
            size = self.sized(node, lambda sizes: whole(sizes.of(inner)), f"{name}()")
        elif name in ("months_between", "days_between"):
            size = _fixed(Size(CALENDAR_DIGITS, CALENDAR_DIGITS))
        return Compiled(result, _function(name, [a.fn for a in args], self.scope.ranges), reads, params,
                        code=_function_code(name, [a.source for a in args], self.scope.ranges), size=size)

    def call_len(self, node: ast.Call, name: str) -> Compiled:
        if len(node.args) != 1:
            return self.error(node, "E203", f"{name}() takes one list")
        arg = self.value(node.args[0])
        if arg.ty.kind not in ("list", "any"):
            return self.error(node.args[0], "E204", f"{name}() needs a list, not a {arg.ty.describe()}")
        f0 = arg.fn

        def fn(env: Env) -> Any:
            v = f0(env)
            return UNKNOWN if v is UNKNOWN else len(v)

        return Compiled(INT, fn, arg.reads, arg.params, code=call(_length, arg.source, plain=True),
                        size=_fixed(up_to(_most_items(arg.ty))))

    def aggregate(self, node: ast.Call, name: str, gen: ast.GeneratorExp) -> Compiled:
        """count, count_distinct, any, all, min, max or sum over a generator with one ``for``."""
        loop = self.loop(node, name, gen)
        if isinstance(loop, Compiled):
            return loop
        rows, elt, reads, params, parts = loop
        items = _most_items(parts[1].ty)
        if name == "count":
            return Compiled(INT, _count(rows), reads, params, code=_loop_code(name, parts, elt),
                            size=_fixed(up_to(items)))
        if name == "count_distinct":
            if elt.ty.kind in ("list", "object", "map"):
                return self.error(gen.elt, "E204", "count_distinct() counts plain values, not a "
                                  + elt.ty.describe())
            return Compiled(INT, _count_distinct(rows), reads, params, code=_loop_code(name, parts, elt),
                            size=_fixed(up_to(items)))
        if name in ("any", "all"):
            self.expect_bool(gen.elt, elt)
            return Compiled(BOOL, _quantifier(rows, name == "any"), reads, params, code=_loop_code(name, parts, elt))
        # min, max, sum
        if name == "sum" and not elt.ty.numeric:
            return self.error(gen.elt, "E204", f"sum() needs numbers, not a {elt.ty.describe()}")
        if name in ("min", "max") and not (elt.ty.numeric or elt.ty.kind == "date"):
            return self.error(gen.elt, "E204", f"{name}() needs numbers or dates, not a {elt.ty.describe()}")
        result_ty = elt.ty if name != "sum" else (INT if elt.ty.kind == "integer" else DEC)
        why = f"{name}() over no items: {self.source(node)}" if self.scope.strict else None
        tail = _picked(name, why, self.scope.ranges)
        size = None
        if result_ty.numeric:
            term = self.size_of(elt)
            size = term if name != "sum" else self.sized(
                node, lambda sizes: summed(sizes.of(term), items),
                f"sum() over '{self.source(gen.generators[0].iter)}' (up to {items:,} items)")
        return Compiled(result_ty, _pick(rows, tail), reads, params, code=_loop_code(name, parts, elt, tail),
                        size=size)

    def loop(self, node: ast.Call, name: str, gen: ast.GeneratorExp) -> Compiled | tuple[
            Callable[[Env], Any], Compiled, frozenset[str], frozenset[str], tuple[str, Compiled, list[Compiled]]]:
        """The rows of a generator (env -> [(filters' value, element)] or UNKNOWN), its element,
        reads and parameters, with its cost charged, and (its variable, its list, its filters)
        for the generated label path; or the error."""
        if len(gen.generators) != 1:
            return self.error(gen, "E202", "a generator may have one 'for' only")
        comp = gen.generators[0]
        if comp.is_async or not isinstance(comp.target, ast.Name):
            return self.error(comp.target, "E202", "the loop variable must be a single name")
        var = comp.target.id
        if self.taken(var):
            return self.error(comp.target, "E108", f"the loop variable '{var}' hides another name; choose another")
        source = self.value(comp.iter)
        if source.ty.kind not in ("list", "any"):
            return self.error(comp.iter, "E204", f"'{self.source(comp.iter)}' is a {source.ty.describe()}, "
                              "not a list to loop over")
        self.locals[var] = source.ty.item or ANY
        self.local_sizes[var] = self.item_size(source)
        if source.code is not None and source.code.kind == "read":  # an input's items: never a range
            self.plain_locals.add(var)
        self.costs.append([0, ()])  # the body, run once per item: costed apart, then multiplied
        try:
            filters = [self.value(c) for c in comp.ifs]
            for f, fnode in zip(filters, comp.ifs, strict=True):
                self.expect_bool(fnode, f)
            elt = self.value(gen.elt)
        finally:
            del self.locals[var]
            del self.local_sizes[var]
            self.plain_locals.discard(var)
            body, inner = self.costs.pop()
        size = source.ty.size if source.ty.size is not None else 1
        per_item = 2 + body  # the item's row and its share of the fold, and the body
        # an exact sum of quotients, whose terms may widen the denominator, costs more by the size of its
        # numbers (ecei_rules.language.cost.step_weight), as every step does
        self.charge(size * per_item, (Loop(name, self.source(comp.iter), size, self.offset(node)), *inner))
        reads = source.reads | elt.reads | _union(f.reads for f in filters)
        params = source.params | elt.params | _union(f.params for f in filters)
        return _rows(source.fn, elt.fn, [f.fn for f in filters], var), elt, reads, params, (var, source, filters)

    def taken(self, var: str) -> bool:
        """Whether a loop variable would hide another name (an input, a derived value, a reserved
        name, an outer loop's variable) or starts with '_'."""
        return any(var in names for names in (self.scope.inputs, self.scope.derived, RESERVED, self.locals)) \
            or var.startswith("_")

    def c_GeneratorExp(self, node: ast.GeneratorExp) -> Compiled:
        return self.error(node, "E202", "a generator must be the argument of count, count_distinct, any, all, "
                          "min, max or sum")

    def expect_bool(self, node: ast.AST, c: Compiled) -> None:
        if c.ty.kind not in ("boolean", "any"):
            self.error(node, "E204", f"'{self.source(node)}' is a {c.ty.describe()}, not a condition",
                       "compare it, e.g. x >= params.minimum")


def _member(item: Any, collection: Any) -> Any:
    """``item in collection``, three-valued. A count known only to lie in ``[lo, hi]`` (an
    :class:`Interval`) is in the collection when every whole number of that range is, not in it
    when none is, and unknown otherwise (as ``count(...) >= 3`` is decided by the range's ends)."""
    if item.__class__ is not Interval or collection is UNKNOWN:
        return contains(item, collection)
    lo, hi = item.lo, item.hi
    if not item.whole:
        return _near(item, collection)
    hits = {int(v) for v in collection
            if isinstance(v, (int, Decimal)) and not isinstance(v, bool) and v % 1 == 0 and lo <= v <= hi}
    if not hits:
        return False
    return True if len(hits) == hi - lo + 1 else UNKNOWN


def _near(item: Interval, collection: Any) -> Any:
    """A scaled count (not whole numbers only) is in the collection when some value of it lies
    between the range's ends: unknown then, else false."""
    return UNKNOWN if any(isinstance(v, (int, Decimal)) and not isinstance(v, bool) and item.lo <= v <= item.hi
                          for v in collection) else False


def _safe_month_end(d: dt.date, n: int) -> Any:
    try:
        return month_end(d, n)
    except OverflowError:
        return UNKNOWN


#: How the size of a number follows from its operands', by operator, and what the message calls it.
_SIZE_RULES: dict[str, Callable[[Size, Size], Size]] = {"+": plus, "-": plus, "*": times, "/": quotient}
_SIZE_WHAT = {"+": "this sum", "-": "this difference", "*": "this product", "/": "this quotient"}


def _fixed(size: Size | None) -> Sizing | None:
    """The sizing of a number whose size is known as it is compiled (a literal, a parameter)."""
    return None if size is None else Sizing(lambda sizes: size)


def _most_items(ty: Ty) -> int:
    """The most items of a list of this type (of one of unknown type: as many as a whole number input)."""
    return ty.size if ty.size is not None else 10**INPUT_DIGITS


def _chain_cost(loops: tuple[Loop, ...]) -> int:
    """The product of the sizes of a chain of nested loops."""
    product = 1
    for loop in loops:
        product *= max(loop.size, 1)
    return product


def _union(sets: Any) -> frozenset[str]:
    out: set[str] = set()
    for s in sets:
        out |= s
    return frozenset(out)


def _fits(ty: Ty, want: str) -> bool:
    if ty.kind == "any" or want == "any":
        return True
    if want == "number":
        return ty.numeric
    if want == "integer":
        return ty.kind == "integer"
    return ty.kind == want


def _comparable(a: Ty, b: Ty, *, equality: bool) -> bool:
    if a.kind == "any" or b.kind == "any":
        return True
    if a.numeric and b.numeric:
        return True
    if a.kind != b.kind:
        return False
    if a.kind == "date":
        return True
    if a.kind in ("string", "boolean"):
        return equality
    return False


def _hint(a: Ty, b: Ty) -> str | None:
    kinds = {a.kind, b.kind}
    if "string" in kinds and (a.numeric or b.numeric):
        return "a number is written without quotes: 0.5, not \"0.5\""
    if "date" in kinds and "string" in kinds:
        return 'write a date literal as date("2019-11-15")'
    return None


def _forbidden_message(node: ast.AST) -> str:
    names = {
        "Lambda": "lambda is not part of the language",
        "NamedExpr": "':=' is not part of the language",
        "ListComp": "list comprehensions are not part of the language; use count(...), any(...) or all(...)",
        "SetComp": "set comprehensions are not part of the language",
        "DictComp": "dict comprehensions are not part of the language",
        "Dict": "dict literals are not part of the language",
        "Set": "set literals are not part of the language; use a list [...]",
        "Await": "await is not part of the language",
        "Yield": "yield is not part of the language",
        "YieldFrom": "yield is not part of the language",
        "JoinedStr": "f-strings are not part of the language",
        "Starred": "'*' unpacking is not part of the language",
        "Slice": "slices are not part of the language",
    }
    return names.get(type(node).__name__, f"'{type(node).__name__}' is not part of the language")


def _depth(node: ast.AST, limit: int) -> bool:
    """True when the tree is deeper than ``limit`` (checked without recursion)."""
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        if d > limit:
            return True
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return False


_OPEN, _CLOSE = "([{", ")]}"
WRAP = "(\n"  # conditions are parsed inside brackets, so that they may span lines freely


def _brackets(text: str) -> Diagnostic | None:
    """Check bracket nesting outside string literals: balanced, and at most MAX_DEPTH deep."""
    opened: list[int] = []
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in _OPEN:
            opened.append(i)
            if len(opened) > MAX_DEPTH:
                return Diagnostic("E201", f"the condition nests brackets more than {MAX_DEPTH} deep", offset=i)
        elif ch in _CLOSE:
            if not opened:
                return Diagnostic("E201", f"unmatched '{ch}'", offset=i)
            opened.pop()
    if opened:
        return Diagnostic("E201", f"'{text[opened[-1]]}' was never closed", offset=opened[-1])
    return None


#: What Python's tokenizer takes for the end of a line (a lone carriage return too).
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str) -> list[int]:
    """The offset of each line's first character, lines ending as Python's tokenizer ends them."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def _parse_wrapped(text: str) -> tuple[ast.expr | None, list[Diagnostic]]:
    """Parse ``text`` (already stripped) inside brackets; offsets are relative to ``text``."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None, [Diagnostic("E201", f"the condition is longer than {MAX_EXPRESSION_LENGTH} characters", offset=0)]
    problem = _brackets(text)
    if problem is not None:
        return None, [problem]
    wrapped = WRAP + text + "\n)"
    try:
        tree = ast.parse(wrapped, mode="eval")
    except SyntaxError as exc:
        starts = _line_starts(wrapped)
        lineno = min(max(exc.lineno or 1, 1), len(starts))
        offset = starts[lineno - 1] + max((exc.offset or 1) - 1, 0) - len(WRAP)
        message = exc.msg.replace("invalid syntax. ", "")
        return None, [Diagnostic("E201", message, offset=min(max(offset, 0), len(text)))]
    except (ValueError, RecursionError, MemoryError):
        return None, [Diagnostic("E201", "the condition cannot be parsed", offset=0)]
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES or _depth(tree, MAX_DEPTH):
        return None, [Diagnostic("E201", f"the condition is too large (at most {MAX_NODES} parts, "
                                f"{MAX_DEPTH} levels)", offset=0)]
    return tree.body, []


def _shift(problem: Diagnostic, by: int) -> Diagnostic:
    """The problem with its offset moved ``by`` characters (never before the start)."""
    return dataclasses.replace(problem, offset=max((problem.offset or 0) + by, 0))


#: Conditions parsed, by their text (stripped): a table its owner passes to `parse` and
#: `compile_expression` so that a condition written several times is parsed once (a registry
#: keeps one for its versions). The trees are shared: nothing changes a tree once parsed.
Parses = dict[str, tuple[ast.expr | None, list[Diagnostic]]]


def _parsed(text: str, parses: Parses | None) -> tuple[ast.expr | None, list[Diagnostic]]:
    if parses is None:
        return _parse_wrapped(text)
    found = parses.get(text)
    if found is None:
        found = parses[text] = _parse_wrapped(text)
    return found


def parse(text: str, parses: Parses | None = None) -> tuple[ast.expr | None, list[Diagnostic]]:
    """Parse an expression; return its tree or the syntax errors (offsets into ``text``)."""
    lead = len(text) - len(text.lstrip())
    tree, errors = _parsed(text.strip(), parses)
    return tree, [_shift(e, lead) for e in errors]


def compile_expression(text: str, scope: Scope, parses: Parses | None = None) -> tuple[Compiled | None,
                                                                                      list[Diagnostic]]:
    """Parse, check and compile one expression. Returns (compiled, errors)."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    tree, errors = _parsed(stripped, parses)
    if tree is None:
        return None, [_shift(e, lead) for e in errors]
    compiler = _Compiler(WRAP + stripped + "\n)", scope)
    compiled = compiler.value(tree)
    shift = lead - len(WRAP)
    errs = [_shift(e, shift) for e in compiler.errors]
    compiled.loops = tuple(dataclasses.replace(loop, offset=max(loop.offset + shift, 0)) for loop in compiled.loops)
    for sizing in compiler.sizings:
        sizing.offset = max(sizing.offset + shift, 0)
    compiled.sizings = tuple(compiler.sizings)
    if compiled.size is None and compiled.ty.numeric:
        compiled.size = compiler.size_of(compiled)
    return (None if errs else compiled), errs


def normalize(text: str) -> str:
    """The canonical text of an expression (formatting ignored), used for content hashes."""
    tree, _ = parse(text)
    if tree is None:
        return text.strip()
    return ast.unparse(tree)


def constructs() -> frozenset[str]:
    """The kinds of syntax node the compiler gives a meaning (a ``c_<kind>`` method that is not
    only an error: a generator is part of its aggregate call)."""
    return frozenset(name[2:] for name in vars(_Compiler) if name.startswith("c_")) - {"GeneratorExp"}


#: The functions that fold a generator (``count`` also takes a list).
AGGREGATES = ("count", "count_distinct", "any", "all", "min", "max", "sum")
#: The argument kinds and result type of the other functions (``abs`` keeps its argument's type).
SIGNATURES: dict[str, tuple[tuple[str, ...], Ty]] = {
    "months_between": (("date", "date"), INT),
    "days_between": (("date", "date"), INT),
    "month_end": (("date", "integer"), DATE),
    "abs": (("number",), DEC),
    "known": (("any",), BOOL),
    "floor": (("number",), INT),
    "ceil": (("number",), INT),
}


def _function(name: str, fns: list[Callable[[Env], Any]], ranges: bool = False) -> Callable[[Env], Any]:
    """The closure of a call of ``name`` (one of :data:`SIGNATURES`) on compiled arguments (``ranges``:
    the ruleset opts into ranges)."""
    if name == "known" and ranges:  # a range (a count over unknown filters, a value of unknown inputs) is no value
        f0 = fns[0]
        return lambda env: (v := f0(env)) is not UNKNOWN and v.__class__ is not Interval
    if name == "known":
        f0 = fns[0]
        return lambda env: f0(env) is not UNKNOWN
    if name == "abs":
        f0 = fns[0]
        return lambda env: absolute(f0(env))
    if name in ("floor", "ceil"):
        whole = _monotone_of(math.floor if name == "floor" else math.ceil, True)
        f0 = fns[0]
        return lambda env: whole(f0(env))
    impl = _calendar(name)
    f0, f1 = fns
    return lambda env: impl(f0(env), f1(env))


def _calendar(name: str) -> Callable[[Any, Any], Any]:
    """months_between, days_between or month_end of two values, three-valued."""
    impl: Callable[..., Any] = {
        "months_between": months_between,
        "days_between": lambda a, b: (b - a).days,
        "month_end": _safe_month_end,
    }[name]

    def apply(x: Any, y: Any) -> Any:
        if x is UNKNOWN or y is UNKNOWN or isinstance(y, Interval):
            return UNKNOWN
        return impl(x, y)

    return apply


def _function_code(name: str, parts: list[Code], ranges: bool) -> Code:
    """How the generated label path writes a call of ``name`` (one of :data:`SIGNATURES`), as
    :func:`_function` computes it."""
    if name == "known":
        return Code("known", (parts[0], ranges), closed=parts[0].closed)
    if name == "abs":
        return call(absolute, parts[0], plain=parts[0].plain)
    if name in ("floor", "ceil"):
        return call(_monotone_of(math.floor if name == "floor" else math.ceil, True), parts[0], plain=parts[0].plain)
    return call(_calendar(name), *parts, plain=True)  # a whole number or a date (or unknown)


def _comparison_code(op: ast.cmpop, a: Compiled, b: Compiled) -> Code:
    """How the generated label path writes one comparison, as :meth:`_Compiler.comparison`
    compiles it (a membership is its function; any other, the symbol with both sides)."""
    if isinstance(op, (ast.In, ast.NotIn)):
        member = Code("in", (a.source, b.source, _member), closed=a.source.closed and b.source.closed)
        return member if isinstance(op, ast.In) else combined("not", (member,))
    symbol = COMPARISONS.get(type(op))
    if symbol is None:  # not part of the language: an error, the closure's value
        return const(UNKNOWN)
    return Code("cmp", (symbol, a.source, b.source, a.const, b.const), closed=a.source.closed and b.source.closed)


def _loop_code(name: str, parts: tuple[str, Compiled, list[Compiled]], elt: Compiled,
               tail: Callable[[list[Any], Env], Any] | None = None) -> Code | None:
    """How the generated label path writes an aggregate: a loop, when its filters and element
    can stand in a loop's body; else None (a call of its closure)."""
    var, source, filters = parts
    body = [f.source for f in filters] + [elt.source]
    if name not in LOOPS or not all(c.closed for c in body):
        return None
    return Code("agg", (name, var, source.source, tuple(body[:-1]), body[-1], tail), closed=source.source.closed)


def _length(v: Any) -> Any:
    """len of a list, three-valued."""
    return UNKNOWN if v is UNKNOWN else len(v)


def _rows(src: Callable[[Env], Any], efn: Callable[[Env], Any], ffns: list[Callable[[Env], Any]],
          var: str) -> Callable[[Env], Any]:
    """env -> [(the filters' value, the element)] of the items the filters do not exclude, or UNKNOWN."""

    def rows(env: Env) -> Any:
        seq = src(env)
        if seq is UNKNOWN:
            return UNKNOWN
        out = []
        local = dict(env)
        for item in seq:
            local[var] = item
            keep = k_and([f(local) for f in ffns]) if ffns else True
            if keep is not False:
                out.append((keep, efn(local)))
        return out

    return rows


def _count(rows: Callable[[Env], Any]) -> Callable[[Env], Any]:
    def fn_count(env: Env) -> Any:
        r = rows(env)
        if r is UNKNOWN:
            return UNKNOWN
        lo = sum(1 for keep, _ in r if keep is True)
        return count_value(lo, len(r))

    return fn_count


def _count_distinct(rows: Callable[[Env], Any]) -> Callable[[Env], Any]:
    def fn_distinct(env: Env) -> Any:
        r = rows(env)
        if r is UNKNOWN:
            return UNKNOWN
        sure = {v for keep, v in r if keep is True and v is not UNKNOWN}
        maybe = {v for keep, v in r if keep is not True and v is not UNKNOWN} - sure
        # an unknown value may be a new one: each counts once more at most
        unknown_values = sum(1 for _, v in r if v is UNKNOWN)
        return count_value(len(sure), len(sure) + len(maybe) + unknown_values)

    return fn_distinct


def _quantifier(rows: Callable[[Env], Any], is_any: bool) -> Callable[[Env], Any]:
    def fn_quantifier(env: Env) -> Any:
        r = rows(env)
        if r is UNKNOWN:
            return UNKNOWN
        if is_any:  # some item passes the filters and the condition
            return k_or([k_and([keep, v]) for keep, v in r])
        # every item that passes the filters meets the condition
        return k_and([k_or([k_not(keep), v]) for keep, v in r])

    return fn_quantifier


def _pick(rows: Callable[[Env], Any], tail: Callable[[list[Any], Env], Any]) -> Callable[[Env], Any]:
    """min, max or sum of the elements: unknown when an item is unsure or a value unknown, else
    ``tail`` of the values (see _picked)."""

    def fn_pick(env: Env) -> Any:
        r = rows(env)
        if r is UNKNOWN or any(keep is not True or v is UNKNOWN for keep, v in r):
            return UNKNOWN
        return tail([v for _, v in r], env)

    return fn_pick


def _picked(name: str, why: str | None = None, ranges: bool = False) -> Callable[[list[Any], Env], Any]:
    """min, max or sum of values, every item sure and known: unknown for min or max of no items
    (which says ``why`` when given: see UNDEFINED); a range among them makes it unknown too, but
    a sum when the ruleset opts into ranges."""
    pick = min if name == "min" else max
    sums_ranges = ranges and name == "sum"

    def fn_picked(values: list[Any], env: Env) -> Any:
        if not sums_ranges and any(v.__class__ is Interval for v in values):
            return UNKNOWN
        if name == "sum":  # of ranges too: the range of the sums
            total: Any = 0
            for v in values:
                total = arithmetic("+", total, v)
            return total
        if any(v.__class__ is Interval for v in values):
            return UNKNOWN
        if values:
            return pick(values)
        if why is not None:
            _undefined(env, why)
        return UNKNOWN

    return fn_picked


def _extreme_type(types: list[Ty]) -> Ty | None:
    """The type of min or max of values of these types: a date, an integer, a number; None when
    dates and numbers are mixed."""
    kinds = {"date" if t.kind == "date" else "number" for t in types if t.kind != "any"}
    if len(kinds) > 1:
        return None
    if kinds == {"date"}:
        return DATE
    return INT if all(t.kind == "integer" for t in types) else DEC


def _common_type(types: list[Ty]) -> Ty:
    """The type of the items of a list of values of these types (the entries of a map)."""
    if types and all(t == types[0] for t in types):
        return types[0]
    if types and all(t.numeric for t in types):
        return INT if all(t.kind == "integer" for t in types) else DEC
    return ANY


def _undefined(env: Env, why: str) -> None:
    """Say why a derived value being evaluated has no value (when it is being collected)."""
    sink = env.get(UNDEFINED)
    if sink is not None:
        sink.append(why)


def _dividing(why: str, ranges: bool = False) -> Callable[[Any, Any, Env], Any]:
    """``a / b`` in a derived value: a division by zero of known numbers says ``why``."""

    def divide(a: Any, b: Any, env: Env) -> Any:
        if b is not UNKNOWN and a is not UNKNOWN and b.__class__ is not Interval and a.__class__ is not Interval \
                and b == 0:
            _undefined(env, why)
            return UNKNOWN
        return arithmetic("/", a, b, ranges)

    return divide


def _bounded(f0: Fn, ty: Ty) -> Fn:
    """The read of a number input with declared bounds in a derived value: when absent, the range
    of the values it may take (whole numbers from the minimum to the maximum for an integer)."""
    fill = _fill(ty)

    def read(env: Env) -> Any:
        v = f0(env)
        return fill if v is UNKNOWN else v

    return read


def _filler(ty: Ty) -> Callable[[Any], Any]:
    """What :func:`_bounded` gives of a value read."""
    fill = _fill(ty)
    return lambda v: fill if v is UNKNOWN else v


def _fill(ty: Ty) -> Any:
    """What a number of this type with declared bounds may be: every whole number between them
    for an integer, every number between them otherwise (a range, or the one value)."""
    assert ty.bounds is not None
    lo, hi = ty.bounds
    return count_value(math.ceil(lo), math.floor(hi)) if ty.kind == "integer" else count_value(lo, hi, False)


def _either(ranges: bool) -> Callable[[Any, Any], Any]:
    """The value of a choice whose test is unknown, from its two values: the range of both when
    ranges are read (``ranges``) and both are numbers, else their value when they are equal."""

    def join(x: Any, y: Any) -> Any:
        if ranges and _numeric(x) and _numeric(y):
            return _joined(x, y)
        return x if x is not UNKNOWN and compare("==", x, y) is True else UNKNOWN

    return join


def _numeric(value: Any) -> bool:
    """Whether a value is a number or a range of numbers (not a truth value, a date or a text)."""
    return value.__class__ is Interval or (isinstance(value, (int, Decimal, Fraction)) and value.__class__ is not bool)


def _joined(x: Any, y: Any) -> Any:
    """The least range holding two numbers or ranges: a choice between them whose test is unknown."""
    lo_x, hi_x = (x.lo, x.hi) if x.__class__ is Interval else (x, x)
    lo_y, hi_y = (y.lo, y.hi) if y.__class__ is Interval else (y, y)
    whole = all(v.whole if v.__class__ is Interval else v % 1 == 0 for v in (x, y))
    return count_value(min(lo_x, lo_y), max(hi_x, hi_y), whole)


def _monotone_of(whole: Callable[[Any], Any], integral: bool) -> Callable[[Any], Any]:
    """A rising function of a number, three-valued; of a range, the range of its ends."""

    def fn(v: Any) -> Any:
        if v is UNKNOWN:
            return UNKNOWN
        if v.__class__ is Interval:
            return count_value(whole(v.lo), whole(v.hi), v.whole or integral)
        return whole(v)

    return fn


def round_half_up(value: Any, places: int) -> Any:
    """``value`` rounded half up (away from zero) to ``places`` decimal places: an int for 0
    places, else an exact Decimal."""
    exact = Fraction(value)
    scaled = abs(exact) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    signed = -whole if exact < 0 else whole
    if places == 0:
        return signed
    return Decimal(signed).scaleb(-places)


def _extreme_of(name: str) -> Callable[..., Any]:
    """min or max of two or more values; of ranges, the range of the extremes of their ends."""
    pick = min if name == "min" else max

    def fn(*vs: Any) -> Any:
        if any(v is UNKNOWN for v in vs):
            return UNKNOWN
        if any(v.__class__ is Interval for v in vs):
            los = [v.lo if v.__class__ is Interval else v for v in vs]
            his = [v.hi if v.__class__ is Interval else v for v in vs]
            whole = all(v.whole if v.__class__ is Interval else v % 1 == 0 for v in vs)
            return count_value(pick(los), pick(his), whole)
        return pick(vs)

    return fn
