"""Compiled conditions written as Python source, for the evaluator's generated label path.

The compiler (:mod:`ecei_rules.language.expr`) gives each expression it compiles, beside its
closure, a :class:`Code`: what the expression does, in terms of its parts, as far as it can be
written inline (a read of an input, a comparison, Kleene ``and``/``or``/``not``, a call of one
of the compiler's own functions on values, an aggregate over a list). Any other expression is
a :class:`Code` of kind ``fn``, its closure, called as it is. :class:`Emitter` writes a code as
one Python expression; an aggregate becomes a small generated function (a loop) that the
expression calls once.

The meaning stays the compiler's: every operation is either one of the language's fixed
operators or a call of a function the compiler built (bound in the namespace, never written as
source), and the code of every constant, key and string is a generated name bound to it in the
namespace: nothing of a ruleset is ever pasted into the source. Only names made here, the
language's fixed operators and whole numbers the caller writes go into it.

The generated code evaluates parts of an expression only where its closure would (Kleene
``and``/``or`` stop at the first deciding operand) or where the part cannot matter; the
conditions have no effects in the label path (no sink of reasons is set there), so the values
are the closures' exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecei_rules.core.logic import UNKNOWN, Interval, compare, count_value

#: The comparison operators as Python writes them (the keys are the compiler's symbols).
OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
_SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

#: Aggregates an emitter writes as a loop (the others are called as their closure).
LOOPS = ("count", "count_distinct", "any", "all", "min", "max", "sum")


@dataclass(frozen=True)
class Code:
    """How a compiled expression is written as source.

    kinds and their ``args``:

    * ``fn`` (closure,): call the closure with the environment (not inside a loop's body);
    * ``const`` (value,): a constant;
    * ``read`` (keys,): an input's value at these keys from the root (UNKNOWN when absent);
    * ``name`` (name,): ``env.get(name, UNKNOWN)`` (a derived value, ``label``);
    * ``local`` (name,): a loop variable;
    * ``var`` (name,): a variable of the generated code holding a value already worked out;
    * ``get`` (base, key): a member of an object (UNKNOWN when not an object or absent);
    * ``cmp`` (symbol, a, b, a_const, b_const): a comparison, as the compiler's ``_compare_fn``;
    * ``chain`` (pairs,): a chained comparison, the Kleene conjunction of every pair;
    * ``in`` (item, collection, member): ``member(item, collection)``, the compiler's membership;
    * ``and`` / ``or`` (parts,), ``not`` (part,): Kleene, first deciding operand ends it;
    * ``known`` (part, ranges): whether the part has a value (with ranges: not a range);
    * ``call`` (function, parts, env): the function of the values of the parts (every part
      evaluated), and of the environment when ``env``;
    * ``if`` (test, body, orelse, join): the body or orelse as the test says, else ``join(b, o)``;
    * ``agg`` (name, variable, source, filters, element, tail): an aggregate over a list (``tail``:
      min, max and sum of the values).

    ``plain``: the value is never a range (an :class:`~ecei_rules.core.logic.Interval`), so a
    comparison need not look for one. ``closed``: no ``fn`` inside (it may stand in a loop's body).
    """

    kind: str
    args: tuple[Any, ...] = ()
    plain: bool = False
    closed: bool = True


def fallback(fn: Callable[[Any], Any]) -> Code:
    """The code of an expression written as a call of its closure."""
    return Code("fn", (fn,), closed=False)


def const(value: Any) -> Code:
    """The code of a constant."""
    return Code("const", (value,), plain=value is not UNKNOWN and value.__class__ is not Interval)


def call(fn: Callable[..., Any], *parts: Code, plain: bool = False, env: bool = False) -> Code:
    """The code of ``fn`` applied to the values of ``parts`` (``plain``: its value is never a range;
    ``env``: the environment is passed last)."""
    return Code("call", (fn, parts, env), plain=plain, closed=all(p.closed for p in parts))


def combined(kind: str, parts: tuple[Code, ...], *rest: Any) -> Code:
    """A code over parts (``and``, ``or``, ``not``, ``chain``), closed when they all are."""
    return Code(kind, (parts, *rest), closed=all(p.closed for p in parts))


class Emitter:
    """Writes codes as Python expressions into one generated module.

    ``ns`` is the module's namespace (constants and functions are bound there under generated
    names); ``read`` gives the variable holding an input read at the top level of the main
    function (read once there); inside an aggregate's function an input is read in place.
    ``helpers`` collects the source of the aggregates' functions.
    """

    def __init__(self, ns: dict[str, Any], read: Callable[[tuple[str, ...]], str]) -> None:
        self.ns = ns
        self.read = read
        self.helpers: list[str] = []
        #: an aggregate's code (by id) and the loop variables around it -> its function, written once
        self.defined: dict[tuple[Any, ...], str] = {}
        #: per aggregate being written: its reads (before its loop), its item's members read (at the
        #: top of the loop's body) and its item's name
        self.frames: list[tuple[dict[tuple[str, ...], str], list[str], dict[Any, str], list[str], str]] = []
        self.count = 0
        ns.setdefault("U", UNKNOWN)
        ns.setdefault("IV", Interval)
        self._compare = self.bind(compare, "CMP")
        self._count_value = self.bind(count_value, "COUNT")

    def bind(self, value: Any, prefix: str = "K") -> str:
        """A new name bound to ``value`` in the namespace."""
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def temp(self) -> str:
        """A new local variable's name."""
        self.count += 1
        return f"_{self.count}"

    @staticmethod
    def truth_valued(code: Code) -> bool:
        """Whether the expression written for ``code`` is always True, False or UNKNOWN."""
        if code.kind == "agg":
            return code.args[0] in ("any", "all")
        return code.kind in ("and", "or", "not", "known", "cmp", "chain", "in")

    def hold(self, expr: str) -> tuple[str, str]:
        """(an expression giving the value of ``expr`` and keeping it, the name that keeps it)."""
        if expr.isidentifier():
            return expr, expr
        t = self.temp()
        return f"({t} := {expr})", t

    def expr(self, code: Code, scope: dict[str, str] | None = None) -> str:
        """``code`` as a Python expression; ``scope`` maps loop variables to their names, and is
        None at the top level of the main function (where ``read`` gives inputs)."""
        method: Callable[[tuple[Any, ...], dict[str, str] | None, Code], str] = getattr(self, "_" + code.kind)
        return method(code.args, scope, code)

    # -- leaves --------------------------------------------------------------------------------
    def _fn(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        return f"{self.bind(args[0], 'F')}(env)"

    def _const(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        value = args[0]
        if value is UNKNOWN:
            return "U"
        if value is True or value is False or value is None:
            return repr(value)
        return self.bind(value)

    def _read(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        keys: tuple[str, ...] = args[0]
        if scope is None:
            return self.read(keys)
        # in an aggregate's function: read once, before its loop
        reads, head = self.frames[-1][:2]
        name = reads.get(keys)
        if name is None:
            out = f"env.get({self.bind(keys[0])}, U)"
            for key in keys[1:]:
                t = self.temp()
                out = f"({t}.get({self.bind(key)}, U) if ({t} := {out}).__class__ is dict else U)"
            name = reads[keys] = self.temp()
            head.append(f"    {name} = {out}")
        return name

    def _name(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        read = f"env.get({self.bind(args[0])}, U)"
        if scope is None:  # the main function puts derived values and the label into env as it goes
            return read
        reads, head = self.frames[-1][:2]  # in an aggregate's function, env does not change: read once
        name = reads.get(("", args[0]))  # not an input's keys (an input has a name)
        if name is None:
            name = reads[("", args[0])] = self.temp()
            head.append(f"    {name} = {read}")
        return name

    def _local(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        assert scope is not None  # the compiler only makes one inside its loop
        return scope[args[0]]

    def _get(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        base, key = args
        if self.frames and base.kind == "local" and scope is not None and scope.get(base.args[0]) == self.frames[-1][4]:
            # a member of the item looped over: read once per item, at the top of the loop's body
            _, _, members, lines, item = self.frames[-1]
            name = members.get(key)
            if name is None:
                name = members[key] = self.temp()
                lines.append(f"        {name} = {item}.get({self.bind(key)}, U) if {item}.__class__ is dict else U")
            return name
        held, t = self.hold(self.expr(base, scope))
        return f"({t}.get({self.bind(key)}, U) if {held}.__class__ is dict else U)"

    # -- operators -----------------------------------------------------------------------------
    def _cmp(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        symbol, a, b, a_const, b_const = args
        if a_const and not b_const:  # a constant on the left is moved to the right, as the compiler does
            symbol, a, b, b_const = _SWAPPED[symbol], b, a, True
        if b_const and b.kind == "const" and b.plain:
            k = self.expr(b, scope)
            held, t = self.hold(self.expr(a, scope))
            op = OPERATORS[symbol]
            if a.plain:
                return f"(U if {held} is U else {t} {op} {k})"
            return (f"(U if {held} is U else "
                    f"({self._compare}({self.bind(symbol, 'S')}, {t}, {k}) if {t}.__class__ is IV else {t} {op} {k}))")
        if a.plain and b.plain:
            (hx, x), (hy, y) = self.hold(self.expr(a, scope)), self.hold(self.expr(b, scope))
            return f"(U if {hx} is U or {hy} is U else {x} {OPERATORS[symbol]} {y})"
        return f"{self._compare}({self.bind(symbol, 'S')}, {self.expr(a, scope)}, {self.expr(b, scope)})"

    def _chain(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        """Every pair compared, as the compiler's chain does (an item between two comparisons
        evaluated once, before them: items have no effects), then the Kleene conjunction."""
        held: dict[int, tuple[str, Code]] = {}  # id of an item's code -> (its variable, its code)
        pairs: list[Code] = []
        for pair in args[0]:
            if pair.kind != "cmp":  # a membership: as it is
                pairs.append(pair)
                continue
            symbol, a, b, a_const, b_const = pair.args
            sides = []
            for side in (a, b):
                if side.kind != "const" and id(side) not in held:
                    held[id(side)] = (self.temp(), side)
                sides.append(side if side.kind == "const" else Code("var", (held[id(side)][0],), plain=side.plain))
            pairs.append(Code("cmp", (symbol, sides[0], sides[1], a_const, b_const), closed=pair.closed))
        first = ", ".join(f"({name} := {self.expr(side, scope)})" for name, side in held.values())
        junction = self._junction(tuple(pairs), scope, "False", "True")
        return f"(({first},) and {junction})" if held else junction

    def _var(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        return str(args[0])

    def _and(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        return self._junction(args[0], scope, "False", "True")

    def _or(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        return self._junction(args[0], scope, "True", "False")

    def _junction(self, parts: tuple[Code, ...], scope: dict[str, str] | None, decides: str, passes: str) -> str:
        """Kleene: the first operand that is ``decides`` decides; else unknown when one is not
        ``passes``; operands after the deciding one are not evaluated."""
        held = [self.hold(self.expr(p, scope)) for p in parts]
        first = " or ".join(f"{h} is {decides}" for h, _ in held)
        rest = " and ".join(f"{t} is {passes}" for _, t in held)
        return f"({decides} if {first} else {passes} if {rest} else U)"

    def _in(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        item, collection, member = args
        if item.plain and collection.kind == "const" and collection.plain:  # a plain value in a constant list
            held, t = self.hold(self.expr(item, scope))
            return f"(U if {held} is U else {t} in {self.expr(collection, scope)})"
        return f"{self.bind(member, 'F')}({self.expr(item, scope)}, {self.expr(collection, scope)})"

    def _not(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        held, t = self.hold(self.expr(args[0][0], scope))
        return f"(False if {held} is True else True if {t} is False else U)"

    def _known(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        part, ranges = args
        if not ranges:
            return f"({self.expr(part, scope)} is not U)"
        held, t = self.hold(self.expr(part, scope))
        return f"({held} is not U and {t}.__class__ is not IV)"

    def _call(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        fn, parts, env = args
        values = [self.expr(p, scope) for p in parts] + (["env"] if env else [])
        return f"{self.bind(fn, 'F')}({', '.join(values)})"

    def _if(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        test, body, orelse, join = args
        t, b, o = self.expr(test, scope), self.expr(body, scope), self.expr(orelse, scope)
        if len(b) + len(o) > _INLINE_BRANCHES:  # nested choices: both evaluated (no effects), written once
            return f"{self.bind(_chosen(join), 'F')}({t}, {b}, {o})"
        v = self.temp()
        return f"({b} if ({v} := {t}) is True else {o} if {v} is False else {self.bind(join, 'F')}({b}, {o}))"

    # -- aggregates ----------------------------------------------------------------------------
    def _agg(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        """An aggregate: a generated function looping over the list, called with the list, the
        environment and the loop variables of the loops around it."""
        name, variable, source, filters, element, tail = args
        outer = dict(scope or {})
        key = (id(code), *outer.values())
        fname = self.defined.get(key)
        if fname is None:
            fname = self.defined[key] = self._aggregate(name, variable, filters, element, tail, outer)
        return f"{fname}({', '.join([self.expr(source, scope), 'env', *outer.values()])})"

    def _aggregate(self, name: str, variable: str, filters: tuple[Code, ...], element: Code,
                   tail: Callable[[list[Any], Any], Any] | None, outer: dict[str, str]) -> str:
        """Write an aggregate's function; its name."""
        item = self.temp()
        inner = {**outer, variable: item}
        self.count += 1
        fname = f"A_{self.count}"  # the generated function's name (names made here only)
        params = ", ".join(["seq", "env", *outer.values()])
        head: list[str] = []
        members: list[str] = []
        self.frames.append(({}, head, {}, members, item))
        try:
            body = self._loop_body(name, item, filters, element, inner)
        finally:
            self.frames.pop()
        lines = [f"def {fname}({params}):", "    if seq is U:", "        return U", *head]
        lines += _STARTS.get(name, ["    found = []"])
        lines.append(f"    for {item} in seq:")
        lines += members + body
        if name in ("count", "count_distinct"):
            counted = ("lo, n" if name == "count" else "len(sure), len(sure) + len(maybe - sure) + nu")
            lines.append(f"    return {self._count_value}({counted})")
        elif name in ("any", "all"):
            lines.append("    return out")
        else:
            lines.append(f"    return {self.bind(tail, 'F')}(found, env)")
        self.helpers.append("\n".join(lines))
        return fname

    def _loop_body(self, name: str, item: str, filters: tuple[Code, ...], element: Code,
                   inner: dict[str, str]) -> list[str]:
        """The lines of an aggregate's loop: the filters (all ``and``-ed, three-valued), then the fold."""
        lines = ["        keep = True"]
        for f in filters:
            lines += [f"        f = {self.expr(f, inner)}",
                      "        if f is False:", "            continue",
                      "        if f is not True:", "            keep = U"]
        return lines + _BODIES[name](self.expr(element, inner) if name != "count" else "")


#: The longest branches (in characters of source) a choice writes twice; beyond, it calls one function.
_INLINE_BRANCHES = 2000


def _chosen(join: Callable[[Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    """A choice of two values evaluated both: the first, the second, or their join."""

    def choose(test: Any, body: Any, orelse: Any) -> Any:
        return body if test is True else orelse if test is False else join(body, orelse)

    return choose


def _count_body(value: str) -> list[str]:
    return ["        if keep is True:", "            lo += 1", "        n += 1"]


def _distinct_body(value: str) -> list[str]:
    return [f"        v = {value}", "        if v is U:", "            nu += 1", "        elif keep is True:",
            "            sure.add(v)", "        else:", "            maybe.add(v)"]


def _any_body(value: str) -> list[str]:
    # k_or over the items of k_and(keep, v): true as soon as one is true; unknown unless all are false
    return [f"        v = {value}", "        if v is False:", "            continue",
            "        if keep is True and v is True:", "            return True", "        out = U"]


def _all_body(value: str) -> list[str]:
    # k_and over the items of k_or(not keep, v): false as soon as one is false; unknown unless all are true
    return [f"        v = {value}", "        if v is True:", "            continue",
            "        if keep is True and v is False:", "            return False", "        out = U"]


def _pick_body(value: str) -> list[str]:
    # min, max and sum are unknown as soon as an item is unsure or a value unknown
    return ["        if keep is not True:", "            return U", f"        v = {value}", "        if v is U:",
            "            return U", "        found.append(v)"]


_STARTS: dict[str, list[str]] = {
    "count": ["    lo = n = 0"], "any": ["    out = False"], "all": ["    out = True"],
    "count_distinct": ["    sure = set()", "    maybe = set()", "    nu = 0"]}

_BODIES: dict[str, Callable[[str], list[str]]] = {
    "count": _count_body, "count_distinct": _distinct_body, "any": _any_body, "all": _all_body,
    "min": _pick_body, "max": _pick_body, "sum": _pick_body}


class UnknownValueError(Exception):
    """Raised by two-valued generated code where a value is unknown (see `TwoValued`)."""


def bail() -> Any:
    """What two-valued generated code calls where a value is unknown: raises `UnknownValueError`."""
    raise UnknownValueError


class TwoValued(Emitter):
    """An emitter of two-valued code: each condition is written as plain Python ``and``/``or``/
    ``not`` over True and False, and where a value turns out unknown (UNKNOWN, or a range) the
    code calls ``BAIL()``, which raises `UnknownValueError`. So the value written is the three-valued
    one whenever the code does not raise, and the caller decides again three-valued when it does:
    every operand is either exactly what `Emitter` writes (True or False) or raises.

    The reads the caller gives (``read``) may raise KeyError for an absent input instead of giving
    UNKNOWN (a strict read): the caller then decides three-valued as well. ``two`` False writes
    three-valued code, as `Emitter` does (for the parts the caller wants three-valued)."""

    #: the kinds written two-valued (always True or False, or raising)
    BOOLEAN = frozenset({"cmp", "chain", "and", "or", "not", "in", "known"})

    def __init__(self, ns: dict[str, Any], read: Callable[[tuple[str, ...]], str], *, strict: bool,
                 maybe: Callable[[tuple[str, ...]], str] | None = None) -> None:
        super().__init__(ns, read)
        ns.setdefault("BAIL", bail)
        self.strict = strict  # top-level reads raise KeyError when absent: never UNKNOWN
        self.two = True
        #: keys -> an expression giving a top-level input, or None when it is absent (for `definitely`)
        self.maybe = maybe

    def definitely(self, code: Code, negated: bool = False) -> str:
        """An expression that is True exactly when ``code`` is true in Kleene's logic (``negated``: false), for a
        condition at the top level: True or False, or raising where `boolean` raises. Through ``and``, ``or`` and
        ``not`` (true of an ``and`` is every part true, false of it some part false, and so on), a comparison
        that reads an input (and ``known`` of one, and a boolean input itself) is written with a read that gives
        None when the input is absent (``maybe``): neither true nor false then, as the three-valued comparison is
        unknown. So a condition an absent input leaves unknown is told apart from a true or a false one without
        raising; every other part is written as `boolean` writes it, its negation with ``not``."""
        kind = code.kind
        if self.maybe is not None and self.two:
            if kind == "not":
                return self.definitely(code.args[0][0], not negated)
            if kind in ("and", "or"):
                every = (kind == "and") != negated  # true of an and, false of an or: every part; else some part
                joiner = " and " if every else " or "
                return "(" + joiner.join(self.definitely(p, negated) for p in code.args[0]) + ")"
            if self.sure(code, None):  # a boolean input
                return f"({self.maybe(code.args[0])} is {not negated})"
            if kind == "known" and not code.args[1] and self.sure(code.args[0], None):
                return f"({self.maybe(code.args[0].args[0])} is {'' if negated else 'not '}None)"
            if kind == "cmp" and (self.sure(code.args[1], None) or self.sure(code.args[2], None)):
                return self._definite_cmp(code, negated)
        expr = self.boolean(code, None)
        return f"(not {expr})" if negated else expr

    def _definite_cmp(self, code: Code, negated: bool) -> str:
        """A comparison reading a top-level input (see `definitely`): the inputs it reads present, and the
        comparison true (or, ``negated``, false) of them."""
        assert self.maybe is not None
        symbol, a, b, _, _ = code.args
        present: list[str] = []
        sides: list[str] = []
        checks: list[str] = []
        for side in (a, b):
            if self.sure(side, None):
                t = self.temp()
                present.append(f"({t} := {self.maybe(side.args[0])}) is not None")
                sides.append(t)
                continue
            self._side(side, None, sides, checks)
        test = f"{sides[0]} {OPERATORS[symbol]} {sides[1]}"
        if checks:
            test = f"(BAIL() if {' or '.join(checks)} else {test})"
        return "(" + " and ".join([*present, f"not ({test})" if negated else f"({test})"]) + ")"

    def sure(self, code: Code, scope: dict[str, str] | None) -> bool:
        """Whether the value written for ``code`` is never UNKNOWN nor a range (a strict read)."""
        return self.strict and scope is None and code.kind == "read" and code.plain

    def boolean(self, code: Code, scope: dict[str, str] | None) -> str:
        """``code`` as an expression that is True or False, or raises."""
        expr = self.expr(code, scope)
        if not self.two or code.kind in self.BOOLEAN or self.sure(code, scope):
            return expr  # a strict read of a boolean input is True or False (validated)
        held, t = self.hold(expr)
        return f"({t} if {held} is True or {t} is False else BAIL())"

    def _cmp(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        if not self.two:
            return super()._cmp(args, scope, code)
        symbol, a, b, a_const, b_const = args
        if a_const and not b_const:
            symbol, a, b, b_const = _SWAPPED[symbol], b, a, True
        op = OPERATORS[symbol]
        sides: list[str] = []
        checks: list[str] = []
        for side in (a, b):
            self._side(side, scope, sides, checks)
        test = f"{sides[0]} {op} {sides[1]}"
        return f"(BAIL() if {' or '.join(checks)} else {test})" if checks else f"({test})"

    def _side(self, side: Code, scope: dict[str, str] | None, sides: list[str], checks: list[str]) -> None:
        """One side of a two-valued comparison into ``sides``: its value as it is (a constant, a strict read), or
        held, with the test (into ``checks``) that it is unknown or a range, where the comparison raises."""
        value = self.expr(side, scope)
        if (side.kind == "const" and side.plain) or self.sure(side, scope):
            sides.append(value)
            return
        held, t = self.hold(value)
        checks.append(f"{held} is U" if side.plain else f"{held} is U or {t}.__class__ is IV")
        sides.append(t)

    def _junction(self, parts: tuple[Code, ...], scope: dict[str, str] | None, decides: str, passes: str) -> str:
        if not self.two:
            return super()._junction(parts, scope, decides, passes)
        joiner = " and " if decides == "False" else " or "
        return "(" + joiner.join(self.boolean(p, scope) for p in parts) + ")"

    def _not(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        if not self.two:
            return super()._not(args, scope, code)
        return f"(not {self.boolean(args[0][0], scope)})"

    def _in(self, args: tuple[Any, ...], scope: dict[str, str] | None, code: Code) -> str:
        if not self.two:
            return super()._in(args, scope, code)
        item, collection, _ = args
        if item.plain and collection.kind == "const" and collection.plain:
            if self.sure(item, scope):
                return f"({self.expr(item, scope)} in {self.expr(collection, scope)})"
            held, t = self.hold(self.expr(item, scope))
            return f"(BAIL() if {held} is U else {t} in {self.expr(collection, scope)})"
        held, t = self.hold(super()._in(args, scope, code))
        return f"({t} if {held} is True or {t} is False else BAIL())"
