"""Populations compiled to SQL: one query per ruleset version, over a table of validated assessments.

:func:`compile_ruleset` turns a checked ruleset version into one SQL query, built as a
dialect-neutral tree (sqlglot) and written for DuckDB (the default embedded engine), PostgreSQL,
Spark SQL or Trino by :meth:`CompiledQuery.sql`. Per row it returns the row number, the subject's id,
the label, its validity (``valid_from``, ``valid_until``, the rule applied, ``error`` ``A007`` when the
validity would end before it starts), each tier's and group's outcome (``met``, ``not_met``,
``unknown``), each score's outcome with its met and unknown weights (scaled to whole numbers by
``scale``, exactly as the runtime plan scales them), and the criteria's outcomes, packed two bits each
into BIGINT columns ``criteria:<n>`` (see PACKED; ``CompiledQuery.decode`` gives one outcome per criterion).

How it decides as the Python engine does:

* unknown is SQL NULL: ``AND``, ``OR`` and ``NOT`` on NULL are Kleene's strong logic, which is the
  engine's; an absent input, an absent object or list read through, is NULL;
* numbers are exact DECIMALs: every number carries its static digits (whole digits, scale) and each
  operation casts to the DECIMAL that holds its result; beyond 38 digits the construct is refused;
* a count over items whose filter may be unknown is a range ``[lo, hi]`` compared by its ends, as
  :func:`ecei_rules.core.logic.compare` does;
* ``months_between`` and ``month_end`` are written with the calendar exactly as
  :mod:`ecei_rules.core.logic` computes them (``month_end`` is the last day of the month of the date
  plus the months, whose day, clipped or not, it drops);
* a quotient is a numerator over a positive denominator (``V.den``), compared by cross-multiplying;
  a division by zero is NULL, which is what the Python engine's undefined value is to a criterion
  (unknown); ``round``, ``floor`` and ``ceil`` of a quotient are an integer division of the two;
* derived values are columns, one level per depth of the derived values they read, before the
  criteria; bands are their classes' criteria; ``points`` are added to a score's met weight exactly.

What the SQL form cannot express (a number that may need more than 38 digits, derived values read as
ranges, a range in arithmetic, ordering of strings, a list input on the right of ``in``...) is refused
when compiling, with one :class:`~ecei_rules.errors.Diagnostic` (code ``Q001``) per construct naming it
and where it is: never decided differently.

Validation is not compiled: every row is validated by the project's one validator in Python first
(:func:`prepare`), and only the normalised assessments it accepts are written to the table; a row
whose numbers do not fit the table's DECIMAL(31,15) columns is refused too (``Q002``), never rounded.

A list input whose longest list in the table has at most POSITIONS items is also written out as positional
columns (its length and one column per item, :func:`write_positions`); DuckDB's form of the query written with
that layout (:func:`layout_of`) reads them instead of looping over the list with a lambda, and decides the same.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import sqlglot
from sqlglot import exp

from ecei_rules.compare.impact import project_entries
from ecei_rules.core.pointers import pointer_join, split_pointer
from ecei_rules.engine.plan import FastCriterion, FastGroup, FastScore, Plan
from ecei_rules.errors import AssessmentError, Diagnostic, EceiRulesError, InputError
from ecei_rules.language.expr import Table, parse
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL

#: The code of a construct the SQL form does not express (refused when compiling).
REFUSED = "Q001"
#: The code of a validated value the table cannot hold exactly (the row is refused, not decided).
UNREPRESENTABLE = "Q002"
#: The dialects the query is written for (sqlglot's names).
DIALECTS = ("duckdb", "postgres", "spark", "trino")
#: Decimal inputs are DECIMAL(31, 15): 16 whole digits hold every validated number (at most 2^53 - 1),
#: 15 decimal places every one the table accepts.
DECIMAL_DIGITS = (16, 15)
INTEGER_DIGITS = (16, 0)
MAX_PRECISION = 38
ROW = "ecei:row"
_ALIAS = "_a"


class SqlRefused(EceiRulesError):  # noqa: N818 (a refusal, as the diagnostics say)
    """The ruleset version uses constructs the SQL form does not express; ``diagnostics`` names each."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("the SQL engine cannot decide this ruleset version:\n" +
                         "\n".join(str(d) for d in self.diagnostics))


class _Refuse(Exception):  # noqa: N818
    def __init__(self, node: ast.AST | None, construct: str, cascade: bool = False) -> None:
        super().__init__(construct)
        self.node = node
        self.construct = construct
        self.cascade = cascade  # a read of a derived value that was refused (reported once, where it is)


@dataclass(frozen=True)
class V:
    """A compiled value: its SQL, its kind, and what the compiler knows of it."""

    sql: exp.Expr
    kind: str  # boolean number date string list object map
    digits: tuple[int, int] = (0, 0)  # numbers: (whole digits, scale)
    field: Field | None = None  # paths: the declared input (its members, items)
    nullable: bool = True
    hi: exp.Expr | None = None  # a count over filters that may be unknown: its upper end
    const: Any = None  # a list literal or list parameter: its values (a number literal: its value)
    is_const: bool = False
    #: a quotient: the value is ``sql / den``, ``den`` positive (NULL when the divisor was zero), of
    #: ``den_digits``; None for a number that is its ``sql``
    den: exp.Expr | None = None
    den_digits: tuple[int, int] = (0, 0)
    loose: bool = False  # a list whose items may be NULL (``values(map)``: an absent entry is unknown)

    @property
    def split(self) -> bool:
        """A number that is not one SQL value: a count range (``hi``) or a quotient (``den``)."""
        return self.hi is not None or self.den is not None


#: Whole numbers of at most this many digits are BIGINTs (exact: 10^18 - 1 < 2^63), cheaper than DECIMALs.
BIGINT_DIGITS = 18


def _dec(digits: tuple[int, int]) -> exp.DataType:
    """The exact type of a number of ``digits`` (whole digits, scale): a BIGINT when it is whole and
    short enough, else a DECIMAL. No cast the compiler writes lowers a scale, so none rounds."""
    whole, scale = digits
    if whole + scale > MAX_PRECISION:
        raise _Refuse(None, f"a number of more than {MAX_PRECISION} digits (exact arithmetic keeps every "
                      f"decimal place of its inputs, up to {DECIMAL_DIGITS[1]} each; a SQL DECIMAL holds "
                      f"{MAX_PRECISION} digits)")
    if scale == 0 and whole <= BIGINT_DIGITS:
        return exp.DataType.build("BIGINT")
    return exp.DataType.build(f"DECIMAL({max(whole + scale, 1)}, {scale})")


def _cast(e: exp.Expr, to: exp.DataType) -> exp.Expr:
    return exp.Cast(this=e, to=to)


def _product(x: exp.Expr, xd: tuple[int, int], y: exp.Expr, yd: tuple[int, int]) -> exp.Expr:
    """``x * y`` of two exact numbers of ``xd`` and ``yd`` digits, computed without overflow (not cast to the
    product's type). DuckDB and PostgreSQL multiply BIGINTs in 64 bits, and DuckDB some DECIMALs of at most 18 digits
    too, however long the product (``DECIMAL(16, 0) * DECIMAL(16, 0)`` is a ``DECIMAL(18, 0)``, which fails beyond
    it): so when the product may need more than BIGINT_DIGITS digits and neither side has more, ``x`` is cast to a
    DECIMAL of 19 digits (128 bits) first, and the product is a DECIMAL of both widths (at most MAX_PRECISION: ``_dec``
    of the product's digits refuses more)."""
    _dec((xd[0] + yd[0], xd[1] + yd[1]))  # refuses a product of more than MAX_PRECISION digits
    wide = _dec(xd)
    if sum(xd) + sum(yd) > BIGINT_DIGITS and sum(xd) <= BIGINT_DIGITS and sum(yd) <= BIGINT_DIGITS:
        wide = exp.DataType.build(f"DECIMAL({BIGINT_DIGITS + 1}, {xd[1]})")
    return exp.Mul(this=_cast(x, wide), expression=_cast(y, _dec(yd)))


def _times(x: exp.Expr, xd: tuple[int, int], y: exp.Expr, yd: tuple[int, int]) -> tuple[exp.Expr, tuple[int, int]]:
    """``x * y`` exactly, and its digits."""
    digits = (xd[0] + yd[0], xd[1] + yd[1])
    return _cast(_product(x, xd, y, yd), _dec(digits)), digits


def _plus(x: exp.Expr, xd: tuple[int, int], y: exp.Expr, yd: tuple[int, int],
          op: type[exp.Binary]) -> tuple[exp.Expr, tuple[int, int]]:
    """``x + y`` or ``x - y`` (``op``) exactly, and its digits."""
    digits = (max(xd[0], yd[0]) + 1, max(xd[1], yd[1]))
    to = _dec(digits)
    return _cast(op(this=_cast(x, _dec(xd)), expression=_cast(y, _dec(yd))), to), digits


def _den_times(a: V, b: V) -> tuple[exp.Expr | None, tuple[int, int]]:
    """The denominator of a product or sum of ``a`` and ``b`` (either may have none)."""
    if a.den is None:
        return b.den, b.den_digits
    if b.den is None:
        return a.den, a.den_digits
    return _times(a.den, a.den_digits, b.den, b.den_digits)


def _literal(value: int | Decimal) -> tuple[exp.Expr, tuple[int, int]]:
    """A number literal's SQL and digits."""
    v = _number_literal(value)
    return v.sql, v.digits


def _terminates(value: Fraction) -> bool:
    """Whether a fraction is a decimal (its denominator has no prime factor but 2 and 5)."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal(value: Fraction) -> Decimal:
    """A fraction that is a decimal (see _terminates), exactly."""
    places = 0
    while (value * 10 ** places).denominator != 1:
        places += 1
    return Decimal(int(value * 10 ** places)).scaleb(-places)


#: The integers an integer division reads (DuckDB's HUGEINT: 38 digits; ``//`` on DECIMALs is a DOUBLE's).
_INTEGER = exp.DataType.build("INT128")


def _integer(x: exp.Expr, digits: tuple[int, int], scale: int) -> exp.Expr:
    """``x x 10^scale`` (``scale`` at least x's) as an integer, exactly: its floor and its fraction
    each shifted apart, so that no DECIMAL needs more than 38 digits."""
    whole, own = digits
    if whole + scale > MAX_PRECISION or 2 * scale + 1 > MAX_PRECISION:
        raise _Refuse(None, f"a quotient of more than {MAX_PRECISION} digits")
    shift = _cast(exp.Literal.number(10 ** scale), _INTEGER)
    x = _cast(x, _dec(digits))
    if own == 0:
        return exp.Mul(this=_cast(x, _INTEGER), expression=shift)
    floor = exp.Floor(this=x)
    fraction = _cast(exp.Sub(this=x, expression=floor), _dec((0, own)))
    shifted = _cast(_product(fraction, (0, own), exp.Literal.number(10 ** scale), (scale + 1, 0)), _dec((scale, own)))
    return exp.Add(this=exp.Mul(this=_cast(floor, _INTEGER), expression=shift), expression=_cast(shifted, _INTEGER))


def _floor_quotient(n: exp.Expr, nd: tuple[int, int], d: exp.Expr,
                    dd: tuple[int, int]) -> tuple[exp.Expr, tuple[int, int]]:
    """``floor(n / d)`` of two exact numbers, ``d`` positive, as an integer division of integers (which
    truncates: a negative ``n`` is ``-((-n - 1) // d) - 1``), and its digits."""
    scale = max(nd[1], dd[1])
    top, bottom = _integer(n, nd, scale), _integer(d, dd, scale)
    zero, one = exp.Literal.number(0), exp.Literal.number(1)
    negative = exp.Sub(this=exp.Neg(this=_paren(exp.IntDiv(this=_paren(exp.Sub(this=exp.Neg(this=_paren(top)),
                                                                              expression=one)),
                                                         expression=_paren(bottom)))), expression=one)
    q = _case([(exp.GTE(this=_paren(top), expression=zero), exp.IntDiv(this=_paren(top), expression=_paren(bottom)))],
              negative)
    digits = (nd[0] + dd[1] + 1, 0)
    return _cast(q, _dec(digits)), digits


def _number_literal(value: int | Decimal) -> V:
    if isinstance(value, bool):
        raise _Refuse(None, "a boolean used as a number")
    d = Decimal(value)
    _, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    whole = max(1, len(digits) + exponent) if exponent < 0 else len(digits) + exponent
    text = format(d, "f")
    return V(_cast(exp.Literal.string(text), _dec((whole, scale))), "number", (whole, scale), nullable=False,
             const=d, is_const=True)


def _const(value: Any) -> V:
    if isinstance(value, bool):
        return V(exp.Boolean(this=value), "boolean", nullable=False, is_const=True)
    if isinstance(value, (int, Decimal)):
        return _number_literal(value)
    if isinstance(value, dt.date):
        return V(_cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE")), "date", nullable=False,
                 is_const=True)
    if isinstance(value, str):
        return V(exp.Literal.string(value), "string", nullable=False, is_const=True)
    if isinstance(value, (tuple, list)):
        return V(exp.Null(), "list", nullable=False, const=tuple(value), is_const=True)
    raise _Refuse(None, f"the constant {value!r}")


def _bounded_digits(f: Field, digits: tuple[int, int]) -> tuple[int, int]:
    """The digits of a number input: its declared bounds (validated) hold its whole digits."""
    lo, hi = f.spec.minimum, f.spec.maximum
    if lo is None or hi is None:
        return digits
    return min(digits[0], len(str(int(max(abs(Decimal(lo)), abs(Decimal(hi))))))), digits[1]


def _field_value(f: Field, sql: exp.Expr, nullable: bool) -> V:
    kind = f.kind
    if kind == "integer":
        return V(sql, "number", _bounded_digits(f, INTEGER_DIGITS), f, nullable)
    if kind == "decimal":
        return V(sql, "number", _bounded_digits(f, DECIMAL_DIGITS), f, nullable)
    if kind in ("string", "enum"):
        return V(sql, "string", field=f, nullable=nullable)
    if kind in ("boolean", "date", "list", "object", "map"):
        return V(sql, kind, field=f, nullable=nullable)
    raise _Refuse(None, f"an input of type {kind}")


def _member(base: exp.Expr, key: str) -> exp.Expr:
    return exp.Dot(this=base, expression=exp.to_identifier(key, quoted=True))


def _select(columns: Iterable[exp.Expr], source: exp.Expr) -> exp.Select:
    """``SELECT columns FROM source``, built in place (sqlglot's builders copy their arguments)."""
    return exp.Select(expressions=list(columns), from_=exp.From(this=source))


def _named(sql: exp.Expr, name: str) -> exp.Expr:
    """``sql AS "name"``, a column of a select. A subquery (a loop over a list) is put in brackets first: sqlglot
    names a subquery by an alias of its own, which the forms that rewrite loops (``_lambdas``, ``_positional``)
    would drop with the subquery they replace, leaving the column without its name."""
    if isinstance(sql, exp.Subquery):
        sql = exp.Paren(this=sql)
    return exp.alias_(sql, name, quoted=True, copy=False)


def _level(inner: exp.Expr, columns: Iterable[tuple[str, exp.Expr]]) -> exp.Select:
    """``SELECT *, <columns> FROM (inner) AS _a``: a level of columns, each reading the levels before it."""
    return _select([exp.Star(), *(_named(sql, name) for name, sql in columns)],
                   exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(_ALIAS))))


def _paren(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e)


def _p(e: exp.Expr) -> exp.Expr:
    """``e`` in brackets when it is an operator (sqlglot writes a tree as built, adding none)."""
    if isinstance(e, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(e, exp.Dot):
        return exp.Paren(this=e)
    return e


def _bracketed(tree: exp.Expr) -> exp.Expr:
    """Every operand of an operator that is not atomic, in brackets: sqlglot writes a tree as it is
    built, without adding brackets, and ``a OR b AND c`` must never be read as another tree."""
    for node in list(tree.walk()):
        if isinstance(node, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(node, exp.Dot):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, exp.Expr) and _p(child) is not child:
                    node.set(key, exp.Paren(this=child))
    return tree


_LIST_FUNCTIONS: dict[type[exp.Expr], str] = {exp.Max: "list_max", exp.Min: "list_min", exp.Sum: "list_sum",
                                               exp.LogicalOr: "list_bool_or", exp.LogicalAnd: "list_bool_and"}


def _from(select: exp.Select) -> Any:
    """What a select reads from (None when nothing)."""
    found = select.args.get("from_") or select.args.get("from")
    return found.this if isinstance(found, exp.From) else None


def _lambdas(tree: exp.Expr) -> exp.Expr:
    """The tree with each loop over a list (a subquery over ``UNNEST``, the standard form) written with
    DuckDB's list functions and lambdas, which decide per row without a join: the same aggregate
    over the same items (``MAX`` is ``list_max``, ``COUNT(DISTINCT)`` is ``list_unique``, or the bits
    set in a ``list_bit_or`` where its few possible values are known)."""
    loops = [q for q in tree.find_all(exp.Subquery) if isinstance(q.this, exp.Select)
             and isinstance(_from(q.this), exp.Unnest)]
    for sub in reversed(loops):  # the innermost first
        select = sub.this
        unnest = _from(select)
        alias = unnest.args["alias"]
        table, column = alias.name, alias.columns[0].name
        param = "ecei_" + column.split(":")[-1]
        source = unnest.expressions[0]

        def item(e: exp.Expr, table: str = table, column: str = column, param: str = param) -> exp.Expr:
            """``e`` with each read of the loop's item read from the lambda's parameter instead."""
            for col in list(e.find_all(exp.Column)):
                if col.table == table and col.name == column:
                    col.replace(exp.column(param))
            return e

        def over(e: exp.Expr, fn: str, source: exp.Expr = source, param: str = param) -> exp.Expr:
            transform = exp.Anonymous(this="list_transform", expressions=[source.copy(), exp.Lambda(
                this=e, expressions=[exp.to_identifier(param)])])
            return exp.Anonymous(this=fn, expressions=[transform])

        body = item(exp.Paren(this=select.expressions[0].copy()))  # a holder, so that the root can be replaced too
        for agg in list(body.find_all(exp.Max, exp.Min, exp.Sum, exp.Count, exp.LogicalOr, exp.LogicalAnd)):
            bits = agg.meta.get(_BITS)
            if bits is not None:
                flags = item(_bracketed(exp.Paren(this=_bit(*bits))))
                agg.replace(exp.Coalesce(this=exp.Anonymous(this="bit_count", expressions=[
                    over(flags.this, "list_bit_or")]), expressions=[exp.Literal.number(0)]))
            elif isinstance(agg, exp.Count):
                distinct = agg.this
                assert isinstance(distinct, exp.Distinct)
                agg.replace(over(distinct.expressions[0], "list_unique"))
            else:
                agg.replace(over(agg.this, _LIST_FUNCTIONS[type(agg)]))
        sub.replace(body)
    return tree


def _anchored(tree: exp.Expr) -> exp.Expr:
    """The tree with each aggregate of a loop (a subquery over ``UNNEST``, the standard form) that reads no item of
    its loop outside a subquery made to read one: ``CASE WHEN (item IS NULL) IS NULL THEN NULL ELSE x END``, which
    is ``x``. SQL gives an aggregate whose argument reads only columns of an outer query to that outer query
    (PostgreSQL then wants the outer query grouped: ``count(x for x in items if flag)``), and DuckDB does so when
    the loop's item is read only in a subquery of the argument, where it then finds no such table (a loop in a
    loop whose filter reads the outer item, guarded by a test that the list is absent)."""
    loops = [q for q in tree.find_all(exp.Subquery) if isinstance(q.this, exp.Select)
             and isinstance(_from(q.this), exp.Unnest)]
    for sub in loops:
        alias = _from(sub.this).args["alias"]
        table, column = alias.name, alias.columns[0].name
        for agg in _own(sub.this.expressions[0], exp.Max, exp.Min, exp.Sum, exp.Count, exp.LogicalOr,
                        exp.LogicalAnd):
            holder, key = agg, "this"
            if isinstance(agg.this, exp.Distinct):
                holder, key = agg.this, "expressions"
            x = holder.args[key][0] if key == "expressions" else holder.args[key]
            if any(isinstance(c, exp.Column) and c.table == table and c.name == column for c in _own(x, exp.Column)):
                continue
            item = exp.column(column, table=table, quoted=True)
            never = exp.Is(this=_paren(exp.Is(this=item, expression=exp.Null())), expression=exp.Null())
            anchored = _case([(never, exp.Null())], x)
            if key == "expressions":
                holder.set(key, [anchored])
            else:
                holder.set(key, anchored)
    return tree


#: The longest a list input may be in a population for it to be written out as positional columns too (see
#: ``write_positions``): each position is a copy of every loop's filter and value in the query (a count of distinct
#: values without known texts compares each position with those before it), so a long list costs more planning
#: and more work per row than DuckDB's list lambdas save (docs/performance.md, session 13).
POSITIONS = 8
_POSITIONAL = "ecei:list:"


def position_column(pointer: str, index: int | None) -> str:
    """The column of a list input's item ``index`` (0-based) in the positional layout, or of its length (None)."""
    return f"{_POSITIONAL}{pointer}#{'n' if index is None else index}"


def _pointer(e: exp.Expr) -> str | None:
    """The JSON pointer of the input a column path reads (``_a."x"."y"`` is ``/x/y``), or None when ``e`` is not one."""
    keys: list[str] = []
    while isinstance(e, exp.Dot) and isinstance(e.expression, exp.Identifier):
        keys.append(e.expression.name)
        e = e.this
    if not (isinstance(e, exp.Column) and e.table == _ALIAS and isinstance(e.this, exp.Identifier)):
        return None
    keys.append(e.name)
    return pointer_join("", *reversed(keys))


def _unwrapped(e: exp.Expr) -> exp.Expr:
    while isinstance(e, exp.Paren):
        e = e.this
    return e


def _own(body: exp.Expr, *types: type[exp.Expr]) -> list[exp.Expr]:
    """The nodes of ``types`` in ``body`` that are not inside a subquery of it (another loop's)."""
    out: list[exp.Expr] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, types):
            out.append(node)
        for child in node.iter_expressions():
            if not isinstance(child, exp.Subquery):
                stack.append(child)
    return out


def _positional(tree: exp.Expr, layout: Mapping[str, int]) -> exp.Expr:
    """The tree with each loop over a list input that ``layout`` writes out as positional columns (pointer ->
    positions K, see ``write_positions``) written over those columns instead: the same aggregate of the same
    items, each item ``i`` read from its column, ``K`` copies of the loop's body, each guarded by the list's
    length (``n > i``; the columns beyond the length are NULL, and a loop's item is never NULL within it):
    ``MAX`` is ``GREATEST`` of the items kept (which skips NULLs, as ``MAX`` does), ``COALESCE(SUM(x), 0)`` the
    sum of each item's ``x`` or 0, ``COALESCE(BOOL_OR(x), FALSE)`` a ``CASE`` that stops at the first item whose
    ``x`` is true (NULL is not, as for ``BOOL_OR``) and ``BOOL_AND`` likewise at the first false, a count of a
    few known texts the bits ORed, any other ``COUNT(DISTINCT x)`` the items whose ``x`` is known and equals none
    before it. A test that the list is absent reads its length (NULL exactly when the list is), and so does
    ``len()``. A loop whose aggregate is another is left as it is (it reads the list column, which the table
    keeps): never decided differently. DuckDB's form only (``GREATEST`` skips NULLs there, as in PostgreSQL
    but not Trino)."""
    loops = [q for q in tree.find_all(exp.Subquery) if isinstance(q.this, exp.Select)
             and isinstance(_from(q.this), exp.Unnest)]
    for sub in reversed(loops):  # the innermost first
        select = sub.this
        unnest = _from(select)
        pointer = _pointer(unnest.expressions[0])
        if pointer is None or pointer not in layout:
            continue
        alias = unnest.args["alias"]
        body = _unrolled(exp.Paren(this=select.expressions[0].copy()), alias.name, alias.columns[0].name,
                         pointer, layout[pointer])
        if body is not None:
            sub.replace(body)
    for node in list(tree.find_all(exp.Is, exp.ArraySize)):
        pointer = _pointer(_unwrapped(node.this))
        if pointer is not None and pointer in layout and (isinstance(node, exp.ArraySize)
                                                          or isinstance(node.expression, exp.Null)):
            length = exp.column(position_column(pointer, None), table=_ALIAS, quoted=True)
            if isinstance(node, exp.ArraySize):
                node.replace(length)
            else:
                node.set("this", length)
    return tree


def _unrolled(body: exp.Expr, table: str, column: str, pointer: str, size: int) -> exp.Expr | None:
    """A loop's body (its select's expression, in a holder) with each of its aggregates written over the ``size``
    positional columns of the list at ``pointer`` (see _positional), or None when one cannot be. Each item's
    value is computed under a ``CASE`` on the length, which DuckDB evaluates for the rows that have the item
    only (an ``AND`` computes both sides for every row): a list of 2 items costs 2 items' work, not ``size``."""
    length = exp.column(position_column(pointer, None), table=_ALIAS, quoted=True)

    def at(e: exp.Expr, i: int) -> exp.Expr:
        """``e`` with each read of the loop's item read from position ``i``."""
        e = e.copy()
        for col in list(e.find_all(exp.Column)):
            if col.table == table and col.name == column:
                col.replace(exp.column(position_column(pointer, i), table=_ALIAS, quoted=True))
        return _bracketed(_paren(e))

    def there(i: int) -> exp.Expr:
        return exp.GT(this=length.copy(), expression=exp.Literal.number(i))

    def guarded(i: int, e: exp.Expr, beyond: exp.Expr | None = None) -> exp.Expr:
        """``e`` of item ``i`` when the list has item ``i``, else ``beyond`` (NULL by default). When ``e`` is itself
        ``CASE WHEN c THEN t ELSE beyond END``: ``CASE WHEN n > i AND c THEN t ELSE beyond END``, one CASE, whose
        ``AND`` DuckDB tests as a filter (``c`` only on the rows that have the item)."""
        default = e.args.get("default") or exp.Null()
        if isinstance(e, exp.Case) and len(e.args["ifs"]) == 1 and default == (beyond or exp.Null()):
            branch = e.args["ifs"][0]
            return _case([(exp.And(this=there(i), expression=at(branch.this, i)), at(branch.args["true"], i))],
                         beyond)
        return _case([(there(i), at(e, i))], beyond)

    def fold(fn: str, terms: list[exp.Expr]) -> exp.Expr:
        return terms[0] if len(terms) == 1 else exp.Anonymous(this=fn, expressions=terms)

    def first(hit: exp.Expr, found: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
        """``found`` when ``hit`` is true of an item (NULL is not true), else ``otherwise`` (over no items, or an
        absent list, too): a CASE that tests item ``i`` only on the rows that have it and where no item before
        it was hit."""
        pairs: list[tuple[exp.Expr, exp.Expr]] = []
        for i in positions:
            beyond = exp.Not(this=there(i)) if i else exp.Not(this=exp.Coalesce(this=there(i),
                                                                                expressions=[exp.false()]))
            pairs += [(beyond, otherwise.copy()), (at(hit, i), found.copy())]
        return _case(pairs, otherwise.copy())

    positions = range(max(size, 1))
    zero = exp.Literal.number(0)
    for agg in _own(body, exp.Max, exp.Min, exp.Sum, exp.Count, exp.LogicalOr, exp.LogicalAnd):
        parent = agg.parent  # COALESCE(agg, fallback), the value over no items (else None)
        outer = parent if isinstance(parent, exp.Coalesce) and parent.this is agg and len(parent.expressions) == 1 \
            else None
        fallback = outer.expressions[0] if outer is not None else None
        if isinstance(agg, (exp.Max, exp.Min)):
            agg.replace(fold("greatest" if isinstance(agg, exp.Max) else "least", [guarded(i, agg.this)
                                                                                 for i in positions]))
        elif isinstance(agg, exp.Sum) and outer is not None and isinstance(fallback, exp.Literal) and \
                fallback.this == "0":
            x = _unwrapped(agg.this)
            if isinstance(x, exp.Case) and x.args.get("default") == zero:  # CASE WHEN c THEN t ELSE 0 END
                terms = [guarded(i, x, zero.copy()) for i in positions]
            else:
                terms = [guarded(i, exp.Coalesce(this=x, expressions=[zero.copy()]), zero.copy()) for i in positions]
            outer.replace(_paren(_added(terms)))
        elif isinstance(agg, (exp.LogicalOr, exp.LogicalAnd)) and outer is not None and \
                isinstance(fallback, exp.Boolean) and fallback.this is isinstance(agg, exp.LogicalAnd):
            # COALESCE(BOOL_OR(x), FALSE) is whether x is true of an item (NULL is not); BOOL_AND(x) likewise,
            # whether x is false of none. Over no items, or an absent list, FALSE (TRUE): the COALESCE's.
            exists = isinstance(agg, exp.LogicalOr)
            hit = agg.this if exists else exp.Not(this=_paren(agg.this))
            found, otherwise = exp.Boolean(this=exists), exp.Boolean(this=not exists)
            outer.replace(first(hit, found, otherwise))
        elif isinstance(agg, exp.Count) and isinstance(agg.this, exp.Distinct) and len(agg.this.expressions) == 1:
            bits = agg.meta.get(_BITS)
            if bits is not None:  # the bits of the items kept, ORed (a text outside the few has none)
                values, counted, value = bits
                flags = []
                for i in positions:  # CASE WHEN n > i AND counted THEN COALESCE(bit, 0) ELSE 0 END
                    flag = _bit(values, exp.And(this=there(i), expression=at(counted, i)), at(value, i))
                    if isinstance(flag, exp.Case) and len(flag.args["ifs"]) == 1:
                        branch = flag.args["ifs"][0]
                        branch.set("true", exp.Coalesce(this=branch.args["true"], expressions=[zero.copy()]))
                        flag.set("default", zero.copy())
                    else:
                        flag = exp.Coalesce(this=flag, expressions=[zero.copy()])
                    flags.append(flag)
                agg.replace(exp.Anonymous(this="bit_count", expressions=[_paren(_joined(exp.BitwiseOr, flags))]))
                continue
            x = agg.this.expressions[0]
            terms = []
            for i in positions:  # item i counts when its value is known and none before it has that value
                new: exp.Expr = exp.Not(this=exp.Is(this=at(x, i), expression=exp.Null()))
                if i:
                    same = _joined(exp.Or, [exp.EQ(this=at(x, j), expression=at(x, i)) for j in range(i)])
                    new = exp.And(this=new, expression=exp.Not(this=exp.Coalesce(this=_paren(same),
                                                                                  expressions=[exp.false()])))
                terms.append(_case([(exp.And(this=there(i), expression=new), exp.Literal.number(1))], zero.copy()))
            agg.replace(_paren(_added(terms)))
        else:
            return None
    return _bracketed(body)


#: The key of a ``COUNT(DISTINCT)`` node's meta that holds the few values it can count (see _Compiler.few_values).
_BITS = "ecei_bits"
#: The key of a node's meta that holds DuckDB's form of it (the same value, cheaper; see CompiledQuery.sql).
_DUCKDB = "ecei_duckdb"
#: The key of a ``month_end(d, n)`` node's meta: ``d`` and the whole constant ``n`` (see _month_end_comparison).
_MONTH_END = "ecei_month_end"


def _month_end_comparison(node: exp.Binary) -> None:
    """DuckDB's form of ``x <= month_end(d, n)`` or ``x > month_end(d, n)`` (either side), ``n`` a whole constant:
    ``DATE_DIFF('MONTH', d, x) <= n`` (or ``> n``), marked on the comparison. ``month_end(d, n)`` is the last day of
    the month ``n`` months after ``d``'s, and a date is at most that day exactly when its month is at most that
    month, which is when the months from ``d``'s to its own (what DuckDB's ``DATE_DIFF`` counts) are at most ``n``;
    the same NULLs. It saves adding an interval and ``LAST_DAY`` per value."""
    flipped = {exp.GTE: exp.LTE, exp.LT: exp.GT}
    x, end, cls = node.this, node.expression, type(node)
    if _MONTH_END not in end.meta and _MONTH_END in x.meta and cls in flipped:
        x, end, cls = end, x, flipped[cls]
    if _MONTH_END not in end.meta or _MONTH_END in x.meta or cls not in (exp.LTE, exp.GT):
        return
    d, n = end.meta[_MONTH_END]
    node.meta[_DUCKDB] = cls(this=exp.DateDiff(this=x.copy(), expression=d.copy(), unit=exp.var("MONTH")),
                             expression=exp.Literal.number(n))


#: The key of the meta of a loop's ``UNNEST`` over a list of objects or maps (see postgres_query).
_COMPOSITE_ITEMS = "ecei_composite_items"
#: The key of the meta of a test ``x IS NULL`` whose ``x`` is an object or a map (see _absent).
_COMPOSITE_NULL = "ecei_composite_null"


def _absent(x: exp.Expr, kind: str) -> exp.Expr:
    """``x IS NULL``: whether a value of ``kind`` is absent. Of an object or a map, marked for PostgreSQL's form (see
    _postgres_nulls): PostgreSQL's ``IS NULL`` of a composite value is true when every field is NULL, so an empty
    object (``{}``, every field absent) would be absent there, which it is not in DuckDB or the Python engine."""
    test = exp.Is(this=x, expression=exp.Null())
    if kind in ("object", "map"):
        test.meta[_COMPOSITE_NULL] = True
    return test


def _postgres_nulls(tree: exp.Expr) -> None:
    """PostgreSQL's form of each marked test that an object or a map is absent (see _absent): ``x IS NOT DISTINCT
    FROM NULL``, true of a NULL only (an empty object is a composite value whose fields are NULL, not NULL)."""
    for node in list(tree.find_all(exp.Is)):
        if node.meta.get(_COMPOSITE_NULL):
            node.replace(exp.NullSafeEQ(this=node.this, expression=node.expression))


#: The most values a count of distinct values counts as bits of a BIGINT (1 << 62 is its highest positive bit).
MAX_BITS = 63


def _bit(values: tuple[str, ...], keep: exp.Expr, value: exp.Expr) -> exp.Expr:
    """The bit of ``value`` among ``values`` (the first is 1), or NULL when it is none of them or ``keep`` is
    not true: a count of distinct values is then the number of bits set in the OR of the items' bits."""
    position = exp.Anonymous(this="list_position", expressions=[
        exp.Array(expressions=[exp.Literal.string(v) for v in values]), value.copy()])
    shifted = exp.BitwiseLeftShift(this=_cast(exp.Literal.number(1), exp.DataType.build("BIGINT")),
                                   expression=exp.Paren(this=exp.Sub(this=position, expression=exp.Literal.number(1))))
    return _case([(keep.copy(), shifted)], exp.Null())


def _conjuncts(conditions: Iterable[ast.expr]) -> list[ast.expr]:
    """The ``and`` parts of conditions that all hold, each ``and`` taken apart, in order."""
    parts: list[ast.expr] = []
    stack = list(reversed(list(conditions)))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            stack.extend(reversed(node.values))
        else:
            parts.append(node)
    return parts


def _kleene_code(e: exp.Expr) -> exp.Expr:
    """1 for true, 0 for unknown, -1 for false (so that MAX is Kleene's or and MIN its and):
    ``COALESCE(2 * CAST(e AS INT) - 1, 0)``, which computes ``e`` once."""
    twice = exp.Mul(this=exp.Literal.number(2), expression=_cast(_paren(e), exp.DataType.build("INT")))
    return exp.Coalesce(this=exp.Sub(this=twice, expression=exp.Literal.number(1)),
                        expressions=[exp.Literal.number(0)])


def _from_code(e: exp.Expr, empty: bool, absent: exp.Expr | None = None) -> exp.Expr:
    """The truth value of a Kleene code (``empty``: the value over no items, when the code is NULL, unless
    the list ``absent`` is NULL): ``NULLIF(COALESCE(code, 1 or -1), 0) > 0``, which reads the code once (a
    simple CASE does not: DuckDB writes it as one comparison per branch, each computing the code again)."""
    default: exp.Expr = exp.Literal.number(1) if empty else exp.Neg(this=exp.Literal.number(1))
    if absent is not None:
        default = _case([(exp.Is(this=absent.copy(), expression=exp.Null()), exp.Null())], default)
    return exp.GT(this=exp.Nullif(this=exp.Coalesce(this=e, expressions=[default]), expression=exp.Literal.number(0)),
                  expression=exp.Literal.number(0))


def _is_not_false(e: exp.Expr) -> exp.Expr:
    return exp.Or(this=_paren(e), expression=exp.Is(this=_paren(e), expression=exp.Null()))


def _case(pairs: list[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None) -> exp.Expr:
    if not pairs:  # no branch (every validity rule without an end): the default
        return default if default is not None else exp.Null()
    return exp.Case(ifs=[exp.If(this=c, true=t) for c, t in pairs], default=default)


def _joined(op: type[exp.Binary], terms: Sequence[exp.Expr]) -> exp.Expr:
    """``t1 op t2 op ...`` of at least one term."""
    total = terms[0]
    for t in terms[1:]:
        total = op(this=total, expression=t)
    return total


def _added(terms: Sequence[exp.Expr]) -> exp.Expr:
    """``t1 + t2 + ...`` of at least one term."""
    return _joined(exp.Add, terms)


def _sum(e: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=exp.Sum(this=e), expressions=[exp.Literal.number(0)])


_OPS: dict[type[ast.cmpop], type[exp.Binary]] = {
    ast.Eq: exp.EQ, ast.NotEq: exp.NEQ, ast.Lt: exp.LT, ast.LtE: exp.LTE, ast.Gt: exp.GT, ast.GtE: exp.GTE}


class _Compiler:
    """One condition's SQL, in a scope of the inputs (a table alias), parameters and loop variables."""

    def __init__(self, root: Field, params: Mapping[str, Any], label: str | None = None,
                 derived: Mapping[str, V] | None = None) -> None:
        self.root = root
        self.params = params
        self.label = label
        self.locals: dict[str, V] = {}
        self.loops = 0
        self.derived: Mapping[str, V] = derived or {}  # the derived values compiled so far, by name
        self.refused: frozenset[str] = frozenset()  # the derived values refused
        self.tables: Mapping[str, Table] = {}  # the parameter tables, keys resolved

    def compile(self, node: ast.AST) -> V:
        method: Callable[[Any], V] | None = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise _Refuse(node, f"the construct {type(node).__name__}")
        try:
            return method(node)
        except _Refuse as refused:
            if refused.node is None:
                refused.node = node
            raise

    def boolean(self, node: ast.AST) -> V:
        v = self.compile(node)
        if v.kind != "boolean":
            raise _Refuse(node, f"a {v.kind} used as a condition")
        return v

    def c_Constant(self, node: ast.Constant) -> V:
        if isinstance(node.value, float):
            return _number_literal(Decimal(ast.get_source_segment(self.text, node) or repr(node.value)))
        return _const(node.value)

    text = ""

    def c_Name(self, node: ast.Name) -> V:
        name = node.id
        if name in ("true", "false"):
            return _const(name == "true")
        if name in self.locals:
            return self.locals[name]
        if name == "label" and self.label is not None:
            return _const(self.label)
        if name in self.derived:
            return self.derived[name]
        if name in self.refused:
            raise _Refuse(node, name, cascade=True)
        f = self.root.fields.get(name)
        if f is None:
            raise _Refuse(node, f"the name '{name}' (a derived value or a variable)")
        return _field_value(f, exp.column(name, table=_ALIAS, quoted=True), nullable=not f.required)

    def c_Attribute(self, node: ast.Attribute) -> V:
        if isinstance(node.value, ast.Name) and node.value.id == "params" and "params" not in self.locals:
            return _const(self.params[node.attr])
        return self.member(node, self.compile(node.value), node.attr)

    def c_Subscript(self, node: ast.Subscript) -> V:
        key = node.slice
        table = node.value
        if isinstance(table, ast.Attribute) and isinstance(table.value, ast.Name) and table.value.id == "params" \
                and "params" not in self.locals and table.attr in self.tables:
            return self.lookup(node, self.tables[table.attr])
        assert isinstance(key, ast.Constant)  # the checker saw to it: a quoted key
        assert isinstance(key.value, str)
        return self.member(node, self.compile(node.value), key.value)

    def lookup(self, node: ast.Subscript, table: Table) -> V:
        """``params.table[key]``: the entry of a quoted key, or a CASE over the table's keys (which the checker
        resolved for every value the key can take; another value has no entry: NULL)."""
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return _const(table.values[key.value])
        k = self.compile(key)
        if k.kind != "string":
            raise _Refuse(key, "a table read by a value that is not a text")
        entries = [(name, _const(value)) for name, value in table.values.items()]
        kinds = {v.kind for _, v in entries}
        if len(kinds) != 1 or kinds & {"list"}:
            raise _Refuse(node, "a table of these values")
        digits = (max(v.digits[0] for _, v in entries), max(v.digits[1] for _, v in entries))
        pairs: list[tuple[exp.Expr, exp.Expr]] = [(exp.EQ(this=k.sql, expression=exp.Literal.string(name)),
                  _cast(v.sql, _dec(digits)) if v.kind == "number" else v.sql) for name, v in entries]
        return V(_case(pairs, exp.Null()), kinds.pop(), digits, nullable=True)

    def member(self, node: ast.AST, base: V, key: str) -> V:
        f = base.field
        if f is None or f.kind not in ("object", "map"):
            raise _Refuse(node, "a member of a value that is not an input object")
        members = f.fields if f.kind == "object" else f.entries
        sub = members[key]
        return _field_value(sub, _member(base.sql, key), base.nullable or not sub.required or f.kind == "map")

    def c_BoolOp(self, node: ast.BoolOp) -> V:
        parts = [self.boolean(v) for v in node.values]
        join = exp.And if isinstance(node.op, ast.And) else exp.Or
        sql: exp.Expr = _paren(parts[0].sql)
        for p in parts[1:]:
            sql = join(this=sql, expression=_paren(p.sql))
        return V(_paren(sql), "boolean", nullable=any(p.nullable for p in parts))

    def c_UnaryOp(self, node: ast.UnaryOp) -> V:
        if isinstance(node.op, ast.Not):
            v = self.boolean(node.operand)
            return V(exp.Not(this=_paren(v.sql)), "boolean", nullable=v.nullable)
        v = self.number(node.operand)
        if isinstance(node.op, ast.UAdd):
            return v
        return V(_cast(exp.Neg(this=_paren(v.sql)), _dec(v.digits)), "number", v.digits, nullable=v.nullable,
                 den=v.den, den_digits=v.den_digits)

    def number(self, node: ast.AST) -> V:
        v = self.compile(node)
        if v.kind != "number":
            raise _Refuse(node, f"a {v.kind} used as a number")
        if v.hi is not None:
            raise _Refuse(node, "arithmetic on a count over items whose filter may be unknown (a range)")
        return v

    def c_BinOp(self, node: ast.BinOp) -> V:
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            raise _Refuse(node, "the operator")
        a, b = self.number(node.left), self.number(node.right)
        if isinstance(node.op, ast.Div):
            return self.quotient(a, b)
        if a.den is not None or b.den is not None:
            return self.rational(node.op, a, b)
        if isinstance(node.op, ast.Mult):
            sql, digits = _times(a.sql, a.digits, b.sql, b.digits)
        else:
            sql, digits = _plus(a.sql, a.digits, b.sql, b.digits, exp.Add if isinstance(node.op, ast.Add) else exp.Sub)
        return V(sql, "number", digits, nullable=a.nullable or b.nullable)

    def quotient(self, a: V, b: V) -> V:
        """``a / b`` exactly: a quotient ``num / den`` with ``den`` positive, NULL when ``b`` is zero (the
        Python engine's undefined, which a criterion reads as unknown). A constant divisor whose inverse
        is a decimal (``/ 5``, ``/ 100``) is a product instead."""
        if b.is_const and b.den is None and isinstance(b.const, Decimal) and b.const != 0:
            inverse = 1 / Fraction(b.const)
            if _terminates(inverse):
                return self.rational(ast.Mult(), a, _number_literal(_decimal(inverse)))
        sign = _cast(exp.Sign(this=exp.Nullif(this=_paren(b.sql), expression=exp.Literal.number(0))),
                     _dec((1, 0)))
        num, nd = (a.sql, a.digits) if b.den is None else _times(a.sql, a.digits, b.den, b.den_digits)
        num, nd = _times(num, nd, sign, (1, 0))
        magnitude = _cast(exp.Abs(this=exp.Nullif(this=_paren(b.sql), expression=exp.Literal.number(0))),
                          _dec(b.digits))
        den, dd = (magnitude, b.digits) if a.den is None else _times(a.den, a.den_digits, magnitude, b.digits)
        return V(num, "number", nd, nullable=True, den=den, den_digits=dd)

    def rational(self, op: ast.operator, a: V, b: V) -> V:
        """``a + b``, ``a - b`` or ``a * b`` where a side may be a quotient (the sum of two quotients over
        one denominator keeps it)."""
        if isinstance(op, ast.Mult):
            num, nd = _times(a.sql, a.digits, b.sql, b.digits)
            den, dd = _den_times(a, b)
            return V(num, "number", nd, nullable=a.nullable or b.nullable, den=den, den_digits=dd)
        join: type[exp.Binary] = exp.Add if isinstance(op, ast.Add) else exp.Sub
        if a.den is not None and b.den is not None and a.den == b.den:
            num, nd = _plus(a.sql, a.digits, b.sql, b.digits, join)
            den, dd = a.den, a.den_digits
        else:
            x, xd = (a.sql, a.digits) if b.den is None else _times(a.sql, a.digits, b.den, b.den_digits)
            y, yd = (b.sql, b.digits) if a.den is None else _times(b.sql, b.digits, a.den, a.den_digits)
            num, nd = _plus(x, xd, y, yd, join)
            den, dd = _den_times(a, b)
        return V(num, "number", nd, nullable=a.nullable or b.nullable, den=den, den_digits=dd)

    def cross(self, a: V, b: V) -> tuple[V, V]:
        """Two numbers, one a quotient, as two plain numbers in the same order: ``a.num x b.den`` and
        ``b.num x a.den`` (denominators are positive)."""
        if a.hi is not None or b.hi is not None:
            raise _Refuse(None, "a comparison of a quotient with a count over items whose filter may be unknown")
        if a.den is not None and a.den == b.den:  # over one denominator: the numerators
            return dataclasses.replace(a, den=None), dataclasses.replace(b, den=None)
        x, xd = (a.sql, a.digits) if b.den is None else _times(a.sql, a.digits, b.den, b.den_digits)
        y, yd = (b.sql, b.digits) if a.den is None else _times(b.sql, b.digits, a.den, a.den_digits)
        nullable = a.nullable or b.nullable
        return V(x, "number", xd, nullable=nullable), V(y, "number", yd, nullable=nullable)

    def c_Compare(self, node: ast.Compare) -> V:
        items = [self.compile(node.left), *(self.compile(c) for c in node.comparators)]
        between = self.between(node, items)
        if between is not None:
            return between
        parts = [self.comparison(op, items[i], items[i + 1], node) for i, op in enumerate(node.ops)]
        sql: exp.Expr = _paren(parts[0].sql)
        for p in parts[1:]:
            sql = exp.And(this=sql, expression=_paren(p.sql))
        return V(_paren(sql), "boolean", nullable=any(p.nullable for p in parts))

    def between(self, node: ast.Compare, items: list[V]) -> V | None:
        """``lo <= x <= hi`` (or ``hi >= x >= lo``) of numbers or dates as ``x BETWEEN lo AND hi``, which SQL
        defines as the conjunction of the two comparisons (NULLs included) and which computes ``x`` once."""
        ops = [type(op) for op in node.ops]
        kinds = {v.kind for v in items}
        if ops not in ([ast.LtE, ast.LtE], [ast.GtE, ast.GtE]) or kinds not in ({"number"}, {"date"}) or any(
                v.hi is not None or v.den is not None for v in items):
            return None
        lo, x, hi = items if ops[0] is ast.LtE else reversed(items)
        if kinds == {"number"}:
            sql = exp.Between(this=self.compared(x, lo, hi), low=self.compared(lo, x, hi),
                              high=self.compared(hi, x, lo))
        else:
            sql = exp.Between(this=x.sql, low=lo.sql, high=hi.sql)
        return V(_paren(sql), "boolean", nullable=any(v.nullable for v in items))

    def membership(self, op: ast.cmpop, a: V, b: V, node: ast.AST) -> V:
        """``a in b`` or ``a not in b``, ``b`` a list literal or parameter: SQL's IN, NULL for unknown."""
        if not b.is_const or b.const is None:
            raise _Refuse(node, "'in' with a list that is not a literal or a parameter")
        if a.hi is not None:
            raise _Refuse(node, "'in' with a count over items whose filter may be unknown (a range)")
        if a.den is not None:
            raise _Refuse(node, "'in' with a quotient")
        values = [_const(v) for v in b.const]
        if not values:
            sql: exp.Expr = _case([(exp.Is(this=a.sql, expression=exp.Null()), exp.Null())], exp.false())
        else:
            left = a.sql if a.kind != "number" else self.widen(a, *values)
            sql = exp.In(this=left, expressions=[v.sql if v.kind != "number" else self.widen(v, a, *values)
                                                 for v in values])
        if isinstance(op, ast.NotIn):
            sql = exp.Not(this=_paren(sql))
        return V(sql, "boolean", nullable=a.nullable)

    def comparison(self, op: ast.cmpop, a: V, b: V, node: ast.AST) -> V:
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(op, a, b, node)
        cls = _OPS[type(op)]
        equality = cls in (exp.EQ, exp.NEQ)
        if a.kind != b.kind:
            raise _Refuse(node, f"a comparison of a {a.kind} with a {b.kind}")
        if a.kind in ("list", "object", "map") or (a.kind in ("string", "boolean") and not equality):
            raise _Refuse(node, f"an ordering of {a.kind}s" if not equality else f"a comparison of {a.kind}s")
        if a.kind == "number":
            if a.den is not None or b.den is not None:
                a, b = self.cross(a, b)
            if a.hi is not None or b.hi is not None:
                return self.range_comparison(cls, a, b)
            return V(cls(this=self.compared(a, b), expression=self.compared(b, a)), "boolean",
                     nullable=a.nullable or b.nullable)
        sql = cls(this=a.sql, expression=b.sql)
        if a.kind == "date":
            _month_end_comparison(sql)
        return V(sql, "boolean", nullable=a.nullable or b.nullable)

    def widen(self, v: V, *others: V) -> exp.Expr:
        """``v`` cast to the DECIMAL that holds it and ``others`` exactly."""
        whole = max(x.digits[0] for x in (v, *others))
        scale = max(x.digits[1] for x in (v, *others))
        return _cast(v.sql, _dec((whole, scale)))

    def compared(self, v: V, *others: V) -> exp.Expr:
        """``v`` cast for a comparison with ``others``: as widen does, but at least at the type a decimal input
        is stored as (DECIMAL_DIGITS) when that holds them all, so that an input whose declared bounds
        narrow its digits is not cast to a narrower DECIMAL first (a cast that checks every value)."""
        digits = [DECIMAL_DIGITS if x.field is not None and x.field.kind == "decimal" else x.digits
                  for x in (v, *others)]
        whole, scale = max(d[0] for d in digits), max(d[1] for d in digits)
        if whole + scale > MAX_PRECISION:
            return self.widen(v, *others)
        return _cast(v.sql, _dec((whole, scale)))

    def range_comparison(self, cls: type[exp.Binary], a: V, b: V) -> V:
        """A comparison where a side is a count range: decided by its ends (logic.compare)."""
        lo_a, hi_a = self.widen(a, b), self.widen(V(a.hi or a.sql, "number", a.digits), b)
        lo_b, hi_b = self.widen(b, a), self.widen(V(b.hi or b.sql, "number", b.digits), a)
        if cls in (exp.EQ, exp.NEQ):
            exact = exp.And(this=exp.EQ(this=lo_a, expression=hi_a), expression=exp.EQ(this=lo_b, expression=hi_b))
            apart = exp.Or(this=exp.LT(this=hi_a, expression=lo_b), expression=exp.LT(this=hi_b, expression=lo_a))
            sql = _case([(exact, cls(this=lo_a, expression=lo_b)), (apart, exp.Boolean(this=cls is exp.NEQ))],
                        exp.Null())
        elif cls in (exp.LT, exp.LTE):
            sql = _case([(cls(this=hi_a, expression=lo_b), exp.true()),
                         (exp.Not(this=cls(this=lo_a, expression=hi_b)), exp.false())], exp.Null())
        else:
            sql = _case([(cls(this=lo_a, expression=hi_b), exp.true()),
                         (exp.Not(this=cls(this=hi_a, expression=lo_b)), exp.false())], exp.Null())
        return V(sql, "boolean")

    def c_IfExp(self, node: ast.IfExp) -> V:
        t = self.boolean(node.test)
        body, orelse = self.compile(node.body), self.compile(node.orelse)
        if body.kind != orelse.kind or body.kind in ("list", "object", "map") or body.hi is not None \
                or orelse.hi is not None:
            raise _Refuse(node, "a conditional expression of these branches")
        if body.kind == "number" and (body.den is not None or orelse.den is not None):
            return self.choice(t, body, orelse)
        if body.kind == "number":
            digits = (max(body.digits[0], orelse.digits[0]), max(body.digits[1], orelse.digits[1]))
            to = _dec(digits)
            bs, os_ = _cast(body.sql, to), _cast(orelse.sql, to)
        else:
            digits, bs, os_ = (0, 0), body.sql, orelse.sql
        sql = _case([(t.sql, bs), (exp.Not(this=_paren(t.sql)), os_), (exp.EQ(this=bs, expression=os_), bs)],
                    exp.Null())
        return V(sql, body.kind, digits, nullable=True)

    def choice(self, t: V, body: V, orelse: V) -> V:
        """``body if t else orelse`` of numbers, one a quotient: numerator and denominator each chosen
        alike (when ``t`` is unknown, ``body`` if both are equal, else NULL). A number beside a quotient is
        written over the quotient's denominator, or 1 where that is NULL (a division by zero, whose numerator
        is NULL too), so that the choice keeps one denominator."""
        if body.den is None or orelse.den is None:
            plain, other = (body, orelse) if body.den is None else (orelse, body)
            assert other.den is not None
            den: exp.Expr = exp.Coalesce(this=other.den, expressions=[_cast(exp.Literal.number(1),
                                                                           _dec(other.den_digits))])
            num, nd = _times(plain.sql, plain.digits, den, other.den_digits)
            over = V(num, "number", nd, nullable=plain.nullable, den=den, den_digits=other.den_digits)
            other = dataclasses.replace(other, den=den)
            body, orelse = (over, other) if body.den is None else (other, over)
        one = _number_literal(1)
        bd, od = (body.den or one.sql, body.den_digits if body.den is not None else one.digits), \
            (orelse.den or one.sql, orelse.den_digits if orelse.den is not None else one.digits)
        nd = (max(body.digits[0], orelse.digits[0]), max(body.digits[1], orelse.digits[1]))
        dd = (max(bd[1][0], od[1][0]), max(bd[1][1], od[1][1]))
        x, y = self.cross(body, orelse)
        same = exp.EQ(this=self.widen(x, y), expression=self.widen(y, x))
        test = _paren(t.sql)

        def pick(first: exp.Expr, second: exp.Expr, to: exp.DataType) -> exp.Expr:
            return _case([(test, _cast(first, to)), (exp.Not(this=test), _cast(second, to)),
                          (same, _cast(first, to))], exp.Null())

        if body.den is None or body.den != orelse.den:
            den = pick(bd[0], od[0], _dec(dd))
        else:
            den = body.den
        return V(pick(body.sql, orelse.sql, _dec(nd)), "number", nd, nullable=True, den=den, den_digits=dd)

    def c_List(self, node: ast.List) -> V:
        values = []
        for e in node.elts:
            v = self.compile(e)
            if not v.is_const:
                raise _Refuse(node, "a list literal of values that are not literals")
            values.append(ast.literal_eval(e) if isinstance(e, ast.Constant) and not isinstance(e.value, float)
                          else Decimal(ast.get_source_segment(self.text, e) or "0"))
        return V(exp.Null(), "list", nullable=False, const=tuple(values), is_const=True)

    def c_Tuple(self, node: ast.Tuple) -> V:
        return self.c_List(ast.List(elts=node.elts))

    # -- calls --------------------------------------------------------------------------
    def c_Call(self, node: ast.Call) -> V:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name in ("count", "count_distinct", "any", "all", "min", "max", "sum") and len(node.args) == 1 \
                and isinstance(node.args[0], ast.GeneratorExp):
            return self.aggregate(node, name, node.args[0])
        method: Callable[[ast.Call], V] | None = getattr(self, "f_" + name, None)
        if method is None or (name in ("min", "max") and len(node.args) < 2):
            raise _Refuse(node, f"the function {name}()")
        return method(node)

    def f_date(self, node: ast.Call) -> V:
        arg = node.args[0]
        assert isinstance(arg, ast.Constant)
        return _const(dt.date.fromisoformat(str(arg.value)))

    def f_known(self, node: ast.Call) -> V:
        v = self.compile(node.args[0])
        if v.is_const:
            return _const(True)
        return V(exp.Not(this=_absent(_paren(v.sql), v.kind)), "boolean", nullable=False)

    def f_len(self, node: ast.Call) -> V:
        v = self.compile(node.args[0])
        if v.kind != "list" or v.is_const:
            raise _Refuse(node, "len() of a list that is not an input")
        return V(exp.ArraySize(this=v.sql), "number", INTEGER_DIGITS, nullable=v.nullable)

    f_count = f_len

    def f_abs(self, node: ast.Call) -> V:
        v = self.number(node.args[0])
        return V(exp.Abs(this=v.sql), "number", v.digits, nullable=v.nullable, den=v.den, den_digits=v.den_digits)

    def f_floor(self, node: ast.Call) -> V:
        return self.whole(node, ceil=False)

    def f_ceil(self, node: ast.Call) -> V:
        return self.whole(node, ceil=True)

    def whole(self, node: ast.Call, ceil: bool) -> V:
        """``floor(x)`` or ``ceil(x)``, exactly (of a quotient: an integer division; ``ceil(x)`` is
        ``-floor(-x)``)."""
        v = self.number(node.args[0])
        w, s = v.digits
        if v.den is None:
            fn: type[exp.Func] = exp.Ceil if ceil else exp.Floor
            if s == 0:
                return v
            digits = (w + 1, 0)
            return V(_cast(fn(this=_cast(v.sql, _dec(v.digits))), _dec(digits)), "number", digits,
                     nullable=v.nullable)
        num = _cast(exp.Neg(this=_paren(v.sql)), _dec(v.digits)) if ceil else v.sql
        q, digits = _floor_quotient(num, v.digits, v.den, v.den_digits)
        if ceil:
            q = _cast(exp.Neg(this=_paren(q)), _dec(digits))
        return V(q, "number", digits, nullable=v.nullable)

    def f_round(self, node: ast.Call) -> V:
        """``round(x, n)`` half up (away from zero) to ``n`` places: ``sign(x) x floor(|x| x 10^n + 1/2) / 10^n``,
        exactly (of a quotient ``a / b``: ``floor((2 |a| 10^n + b) / 2b)``, an integer division)."""
        v = self.number(node.args[0])
        places = 0
        if len(node.args) == 2:
            arg = node.args[1]
            assert isinstance(arg, ast.Constant)  # the checker saw to it: a whole number literal
            assert isinstance(arg.value, int)
            places = arg.value
        if v.den is None and v.digits[1] <= places:
            return v
        magnitude = exp.Abs(this=_cast(v.sql, _dec(v.digits)))
        if v.den is None:
            shifted, sd = _times(magnitude, v.digits, *_literal(10 ** places)) if places else (magnitude, v.digits)
            half, hd = _plus(shifted, sd, *_literal(Decimal("0.5")), exp.Add)
            digits = (hd[0], 0)
            q: exp.Expr = _cast(exp.Floor(this=half), _dec(digits))
        else:
            twice, td = _times(magnitude, v.digits, *_literal(2 * 10 ** places))
            top, topd = _plus(twice, td, v.den, v.den_digits, exp.Add)
            bottom, bd = _times(v.den, v.den_digits, *_literal(2))
            q, digits = _floor_quotient(top, topd, bottom, bd)
        signed = _case([(exp.LT(this=_paren(v.sql), expression=exp.Literal.number(0)),
                         _cast(exp.Neg(this=_paren(q)), _dec(digits)))], _cast(q, _dec(digits)))
        if places == 0:
            return V(signed, "number", digits, nullable=v.nullable)
        out, od = _times(signed, digits, *_literal(Decimal(1).scaleb(-places)))
        return V(out, "number", od, nullable=v.nullable)

    def f_values(self, node: ast.Call) -> V:
        """``values(map)``: the list of the map's entries in catalogue order (an absent entry NULL, the
        list NULL when the map is absent)."""
        m = self.compile(node.args[0])
        f = m.field
        if f is None or f.kind != "map" or not f.entries:
            raise _Refuse(node, "values() of a map that is not an input")
        entries = list(f.entries.values())
        if len({e.kind for e in entries}) != 1 or entries[0].kind not in ("integer", "decimal"):
            raise _Refuse(node, "values() of a map whose entries are not numbers of one type")
        item = entries[0]
        if any(e.spec != item.spec for e in entries):  # the widest: no bounds
            item = dataclasses.replace(item, spec=item.spec.model_copy(update={"minimum": None, "maximum": None}))
        listed = dataclasses.replace(f, kind="list", items=item, fields={}, entries={},
                                     spec=f.spec.model_copy(update={"max_items": len(entries)}))
        array: exp.Expr = exp.Array(expressions=[_member(m.sql, k) for k in f.entries])
        if m.nullable:
            array = _case([(_absent(_paren(m.sql), m.kind), exp.Null())], array)
        return V(array, "list", field=listed, nullable=m.nullable, loose=True)

    def f_months_between(self, node: ast.Call) -> V:
        a, b = (self.compile(x) for x in node.args)
        def year(e: exp.Expr) -> exp.Expr:
            return exp.Extract(this=exp.var("YEAR"), expression=e)

        def month(e: exp.Expr) -> exp.Expr:
            return exp.Extract(this=exp.var("MONTH"), expression=e)

        def day(e: exp.Expr) -> exp.Expr:
            return exp.Extract(this=exp.var("DAY"), expression=e)

        months = exp.Add(this=exp.Mul(this=exp.Literal.number(12), expression=_paren(
            exp.Sub(this=year(b.sql), expression=year(a.sql)))), expression=_paren(
            exp.Sub(this=month(b.sql), expression=month(a.sql))))
        # DuckDB's DATE_DIFF('MONTH', a, b) counts the month boundaries between a and b: the same number, in one
        # function instead of four EXTRACTs (PostgreSQL's AGE would count otherwise: the standard form stays)
        months.meta[_DUCKDB] = exp.DateDiff(this=b.sql.copy(), expression=a.sql.copy(), unit=exp.var("MONTH"))
        back = _case([(exp.LT(this=day(b.sql), expression=day(a.sql)), exp.Literal.number(1))],
                     exp.Literal.number(0))
        sql = _cast(exp.Sub(this=months, expression=back), _dec(INTEGER_DIGITS))
        return V(sql, "number", INTEGER_DIGITS, nullable=a.nullable or b.nullable)

    def f_days_between(self, node: ast.Call) -> V:
        a, b = (self.compile(x) for x in node.args)
        sql = _cast(exp.DateDiff(this=b.sql, expression=a.sql, unit=exp.var("DAY")), _dec(INTEGER_DIGITS))
        return V(sql, "number", INTEGER_DIGITS, nullable=a.nullable or b.nullable)

    def f_month_end(self, node: ast.Call) -> V:
        d, n = self.compile(node.args[0]), self.number(node.args[1])
        if n.digits[1] != 0 and not n.is_const:
            raise _Refuse(node, "month_end() of a number of months that may not be whole")
        # d plus n months is in the month n months after d's in every dialect (a day the month lacks is
        # clipped to its last), and LAST_DAY keeps only the month: no DATE_TRUNC to the first is needed
        first = d.sql
        if n.is_const:  # a whole number of months: an interval literal
            months = ast.literal_eval(node.args[1]) if isinstance(node.args[1], ast.Constant) else None
            count = months if isinstance(months, int) else self.const_int(node.args[1])
            shifted: exp.Expr = exp.Add(this=first, expression=exp.Interval(
                this=exp.Literal.string(str(count)), unit=exp.var("MONTH")))
        else:
            shifted = exp.DateAdd(this=first, expression=_cast(n.sql, exp.DataType.build("BIGINT")),
                                  unit=exp.var("MONTH"))
        sql = _cast(exp.LastDay(this=_cast(shifted, exp.DataType.build("DATE"))), exp.DataType.build("DATE"))
        if n.is_const:  # what a comparison with it can read instead (see month_end_comparison)
            sql.meta[_MONTH_END] = (d.sql, count)
        return V(sql, "date", nullable=d.nullable or n.nullable)

    def const_int(self, node: ast.AST) -> int:
        """The whole number a constant expression of months stands for (a parameter)."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
            value = self.params[node.attr]
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == int(value):
                return int(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.const_int(node.operand)
        raise _Refuse(node, "month_end() of a number of months that is not a whole constant or input")

    def f_min(self, node: ast.Call) -> V:
        return self.extreme(node, exp.Least)

    def f_max(self, node: ast.Call) -> V:
        return self.extreme(node, exp.Greatest)

    def extreme(self, node: ast.Call, fn: type[exp.Func]) -> V:
        args = [self.compile(a) for a in node.args]
        kinds = {a.kind for a in args}
        if len(kinds) != 1 or kinds - {"number", "date"} or any(a.hi is not None for a in args):
            raise _Refuse(node, "min() or max() of these values")
        if "number" in kinds and any(a.den is not None for a in args):
            return self.extreme_quotient(args, fn is exp.Least)
        if "number" in kinds:
            sqls = [self.widen(a, *args) for a in args]
            digits = (max(a.digits[0] for a in args), max(a.digits[1] for a in args))
        else:
            sqls, digits = [a.sql for a in args], (0, 0)
        unknown = exp.or_(*(exp.Is(this=_paren(s), expression=exp.Null()) for s in sqls))
        sql = _case([(unknown, exp.Null())], fn(this=sqls[0], expressions=sqls[1:]))
        return V(sql, args[0].kind, digits, nullable=any(a.nullable for a in args))

    def extreme_quotient(self, args: list[V], least: bool) -> V:
        """``min`` (``least``) or ``max`` of numbers, some quotients: the first that is at most (at least) each
        later one, numerator and denominator alike; NULL when one is NULL."""
        one = _number_literal(1)
        best = args[0]
        for other in args[1:]:
            x, y = self.cross(best, other)
            cls = exp.LTE if least else exp.GTE
            keep = cls(this=self.widen(x, y), expression=self.widen(y, x))
            unknown = exp.or_(exp.Is(this=_paren(best.sql), expression=exp.Null()),
                              exp.Is(this=_paren(other.sql), expression=exp.Null()))
            nd = (max(best.digits[0], other.digits[0]), max(best.digits[1], other.digits[1]))
            dens = [(v.den, v.den_digits) if v.den is not None else (one.sql, one.digits) for v in (best, other)]
            dd = (max(dens[0][1][0], dens[1][1][0]), max(dens[0][1][1], dens[1][1][1]))

            def pick(first: exp.Expr, second: exp.Expr, to: exp.DataType,
                     unknown: exp.Expr = unknown, keep: exp.Expr = keep) -> exp.Expr:
                return _case([(unknown, exp.Null()), (keep, _cast(first, to))], _cast(second, to))

            best = V(pick(best.sql, other.sql, _dec(nd)), "number", nd, nullable=best.nullable or other.nullable,
                     den=pick(dens[0][0], dens[1][0], _dec(dd)), den_digits=dd)
        return best

    # -- aggregates ---------------------------------------------------------------------
    def aggregate(self, node: ast.Call, name: str, gen: ast.GeneratorExp) -> V:
        comp = gen.generators[0]
        assert isinstance(comp.target, ast.Name)
        source = self.compile(comp.iter)
        if source.kind != "list" or source.is_const or source.field is None or source.field.items is None:
            raise _Refuse(comp.iter, "a loop over a list that is not an input")
        self.loops += 1
        table, column = f"ecei:u{self.loops}", f"ecei:i{self.loops}"
        item = _field_value(source.field.items, exp.column(column, table=table, quoted=True), nullable=source.loose)
        self.locals[comp.target.id] = item
        try:
            filters = [self.boolean(c) for c in comp.ifs]
            element = self.compile(gen.elt)
            few = self.few_values(comp.ifs, gen.elt, element) if name == "count_distinct" else None
        finally:
            del self.locals[comp.target.id]
        keep: exp.Expr = _paren(filters[0].sql) if filters else exp.true()
        for f in filters[1:]:
            keep = exp.And(this=_paren(keep), expression=_paren(f.sql))
        exact = not any(f.nullable for f in filters)

        def over(agg: exp.Expr, guard: bool = True) -> exp.Expr:
            """The aggregate over the list's items; NULL for an absent list (``guard``: by a CASE around it,
            for an aggregate that would give a value over no items)."""
            unnest = exp.Unnest(expressions=[source.sql], alias=exp.TableAlias(
                this=exp.to_identifier(table, quoted=True), columns=[exp.to_identifier(column, quoted=True)]))
            if item.kind in ("object", "map"):  # PostgreSQL's form names each item by the alias (postgres_query)
                unnest.meta[_COMPOSITE_ITEMS] = True
            query = _select([agg], unnest)
            sub = exp.Subquery(this=query)
            if not source.nullable or not guard:
                return sub
            return _case([(exp.Is(this=source.sql, expression=exp.Null()), exp.Null())], sub)

        if name in ("any", "all"):
            if element.kind != "boolean":
                raise _Refuse(gen.elt, f"{name}() of a value that is not a condition")
            return self.quantifier(name == "any", source, over, keep, element, exact)
        if name == "count":
            lo = _sum(_case([(keep, exp.Literal.number(1))], exp.Literal.number(0)))
            hi = _sum(_case([(_is_not_false(keep), exp.Literal.number(1))], exp.Literal.number(0)))
            return self.counted(source, over, lo, None if exact else hi)
        if name == "count_distinct":
            return self.distinct(gen.elt, source, over, keep, element, exact, few)
        return self.pick(node, name, source, over, keep, element, exact)

    def distinct(self, elt: ast.expr, source: V, over: Callable[..., exp.Expr], keep: exp.Expr, element: V,
                 exact: bool, few: tuple[tuple[str, ...], exp.Expr | None] | None) -> V:
        """``count_distinct`` of the values of the items kept: COUNT(DISTINCT), a range when whether an item
        is kept, or its value, may be unknown; its few possible values (``few``, see few_values) marked on it
        for DuckDB's form, which counts them as bits."""
        if element.kind in ("list", "object", "map") or element.split:
            raise _Refuse(elt, "count_distinct() of these values")
        value = element.sql if element.kind != "number" else self.widen(element)
        lo = exp.Count(this=exp.Distinct(expressions=[_case([(keep, value)], exp.Null())]))
        maybe = _case([(_is_not_false(keep), value)], exp.Null())
        nulls = _sum(_case([(exp.And(this=_is_not_false(keep), expression=exp.Is(
            this=_paren(value), expression=exp.Null())), exp.Literal.number(1))], exp.Literal.number(0)))
        high = exp.Count(this=exp.Distinct(expressions=[maybe]))
        if few is not None:  # DuckDB's form counts bits (see _lambdas); the standard form is as written
            counted = keep if few[1] is None else few[1]
            lo.meta[_BITS] = (few[0], counted, value)
            high.meta[_BITS] = (few[0], _is_not_false(counted), value)
        hi = exp.Add(this=high, expression=nulls)
        return self.counted(source, over, lo, None if exact and not element.nullable else hi)

    def few_values(self, ifs: list[ast.expr], elt: ast.expr,
                   element: V) -> tuple[tuple[str, ...], exp.Expr | None] | None:
        """The few texts a ``count_distinct`` of ``elt`` over the items its filters ``ifs`` keep can count, when
        they are known, and the filter to count them by:

        * those of a test ``elt in [...]`` among the filters' ``and`` parts, with the filter of the other parts
          (a text outside the list has no bit, which is what the test said);
        * else the values of ``elt``'s enum or catalogue, which the validator holds every value to, with None
          (the filters as they are).

        None when they are not known, are not texts, or are more than MAX_BITS. Counting them as the bits of a
        BIGINT decides exactly as ``COUNT(DISTINCT)`` does (NULL is neither), without a hash table per row."""
        if element.kind != "string":
            return None
        parts = _conjuncts(ifs)
        values: tuple[str, ...] = ()
        keep: exp.Expr | None = None
        for i, part in enumerate(parts):
            listed = self.listed_texts(part, elt)
            if listed is not None:
                values = listed
                others = [_paren(self.boolean(p).sql) for p in parts[:i] + parts[i + 1:]]
                keep = _paren(exp.and_(*others, copy=False)) if others else exp.true()
                break
        f = element.field
        if not values and f is not None:
            values = tuple(f.spec.values or ()) if f.kind == "enum" else f.catalogue_ids if f.spec.catalogue else ()
        distinct = tuple(dict.fromkeys(values))
        return (distinct, keep) if 0 < len(distinct) <= MAX_BITS else None

    def listed_texts(self, part: ast.expr, elt: ast.expr) -> tuple[str, ...] | None:
        """The texts of a test ``elt in [...]`` (a list literal or parameter of texts), or None."""
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.In)
                and ast.dump(part.left) == ast.dump(elt)):
            return None
        listed = self.compile(part.comparators[0])
        if listed.is_const and listed.const is not None and all(isinstance(v, str) for v in listed.const):
            return tuple(listed.const)
        return None

    def quantifier(self, exists: bool, source: V, over: Callable[..., exp.Expr], keep: exp.Expr,
                   element: V, exact: bool = False) -> V:
        """``any`` (``exists``) or ``all`` of a condition over the items kept: the MAX (or MIN) of Kleene
        codes; over no items false (or true), and NULL when the list is absent. When neither the filter
        (``exact``) nor the condition can be unknown, BOOL_OR (BOOL_AND) of the conditions, which is cheaper
        (DuckDB's LIST_BOOL_OR over a lambda)."""
        if exact and not element.nullable:
            if exists:
                found: exp.Expr = exp.LogicalOr(this=exp.And(this=_paren(keep), expression=_paren(element.sql)))
            else:
                found = exp.LogicalAnd(this=exp.Or(this=exp.Not(this=_paren(keep)), expression=_paren(element.sql)))
            return V(over(exp.Coalesce(this=found, expressions=[exp.Boolean(this=not exists)])), "boolean",
                     nullable=source.nullable)
        absent = source.sql if source.nullable else None
        if exists:
            code: exp.Expr = exp.Max(this=_kleene_code(exp.And(this=_paren(keep), expression=_paren(element.sql))))
        else:
            code = exp.Min(this=_kleene_code(exp.Or(this=exp.Not(this=_paren(keep)), expression=_paren(element.sql))))
        return V(over(_from_code(code, not exists, absent), guard=False), "boolean", nullable=True)

    def counted(self, source: V, over: Callable[[exp.Expr], exp.Expr], lo: exp.Expr,
                hi: exp.Expr | None) -> V:
        size = source.field.max_items if source.field is not None else 0
        digits = (len(str(size)), 0)
        lo_sql = _cast(over(lo), _dec(digits))
        hi_sql = None if hi is None else _cast(over(hi), _dec(digits))
        return V(lo_sql, "number", digits, nullable=source.nullable, hi=hi_sql)

    def pick(self, node: ast.Call, name: str, source: V, over: Callable[..., exp.Expr],
             keep: exp.Expr, element: V, exact: bool) -> V:
        """``sum``, ``min`` or ``max`` of the items kept: unknown when an item may be kept and its value,
        or whether it is kept, is unknown (a test written only when a filter or the value may be unknown)."""
        if element.kind not in ("number", "date") or (name == "sum" and element.kind != "number") or element.split:
            raise _Refuse(node, f"{name}() of these values")
        value = self.widen(element) if element.kind == "number" else element.sql
        unsure: exp.Expr | None = None
        if not exact or element.nullable:
            unsure = exp.GT(this=_sum(_case([(exp.And(this=_is_not_false(keep), expression=exp.Or(
                this=exp.Is(this=_paren(keep), expression=exp.Null()),
                expression=exp.Is(this=_paren(value), expression=exp.Null()))), exp.Literal.number(1))],
                exp.Literal.number(0))), expression=exp.Literal.number(0))
        digits = element.digits
        if name == "sum":
            size = source.field.max_items if source.field is not None else 0
            digits = (element.digits[0] + len(str(size)), element.digits[1])
            picked: exp.Expr = _cast(_sum(_case([(keep, value)], exp.Null())), _dec(digits))
        else:
            fn = exp.Min if name == "min" else exp.Max
            picked = fn(this=_case([(keep, value)], exp.Null()))
        return V(over(picked if unsure is None else _case([(unsure, exp.Null())], picked), guard=name == "sum"),
                 element.kind, digits, nullable=True)


@dataclass(frozen=True)
class Column:
    """One output column: its name and what it holds (``criteria``: the outcomes of the criteria ``members``,
    packed, see PACKED)."""

    name: str
    kind: str  # row subject label valid_from valid_until validity_rule error tier group score met unknown criteria
    id: str | None = None
    members: tuple[str, ...] = ()


@dataclass
class CompiledQuery:
    """A ruleset version compiled to one SQL query over a table of validated assessments."""

    ruleset: Ruleset
    tree: exp.Select
    columns: tuple[Column, ...]
    table_columns: dict[str, str]  # the source table's columns and their DuckDB types
    scales: dict[str, int] = field(default_factory=dict)  # score id -> what its weights are scaled by
    source: str = "assessments"
    #: pointer -> whether the input is among the missing inputs of an unknown tier (the decision's
    #: ``tiers[].missing``), over the columns the last level reads: added by ``sql(missing=True)``
    missing: tuple[tuple[str, exp.Expr], ...] = ()
    #: why ``sql(missing=True)`` is refused (its columns would not be the decision's ``missing``), if it is
    missing_refused: tuple[Diagnostic, ...] = ()

    def sql(self, dialect: str = "duckdb", source: exp.Expr | str | None = None, *, pretty: bool = False,
            standard: bool | None = None, missing: bool = False, unpacked: bool = False,
            layout: Mapping[str, int] | None = None) -> str:
        """The query written for ``dialect`` (duckdb, postgres, spark or trino), reading ``source``
        (a table name or a table expression such as ``read_parquet('pop.parquet')``). Loops over lists
        are subqueries over ``UNNEST`` (the standard form), except for DuckDB, where they are its list
        functions with lambdas (``standard=True`` keeps the standard form there too). With ``missing``,
        one more BOOLEAN column ``missing:<pointer>`` per input a criterion reads: whether it is among
        the absent inputs that left a tier unknown (what the decision's unknown tiers list). With
        ``unpacked``, one three-valued BOOLEAN column ``criterion:<id>`` per criterion, in the packed
        columns' order and place, instead of the packed columns (for whoever reads the rows in SQL;
        ``decode`` reads either). With ``layout`` (DuckDB's form only; see ``layout_of``), a loop over a list input
        the table also holds as positional columns (pointer -> positions, every list of the table at most that
        long) reads those columns instead of the list: the same decisions, without DuckDB's list lambdas.

        Raises:
            SqlRefused: the query divides whole numbers (``round``, ``floor`` or ``ceil`` of a quotient), which
                is written exactly for DuckDB only (Trino's form would go through a DOUBLE); or ``missing`` is asked
                of a version whose missing inputs the columns would not give exactly (``missing_refused``).
        """
        if missing and self.missing_refused:
            raise SqlRefused(self.missing_refused)
        _duckdb_only(self, dialect)
        tree: exp.Expr = self.with_source(source)
        if unpacked:  # the criteria's own columns, which the levels below the output hold
            assert isinstance(tree, exp.Select)
            members = {c.name: c.members for c in self.columns if c.kind == PACKED}
            tree.set("expressions", [
                unpacked_column for e in tree.expressions
                for unpacked_column in ([exp.alias_(exp.column(f"criterion:{m}", table=_ALIAS, quoted=True),
                                                    f"criterion:{m}", quoted=True) for m in members[e.alias]]
                                        if e.alias in members else [e])])
        if missing:
            assert isinstance(tree, exp.Select)
            tree.set("expressions", [*tree.expressions, *(
                exp.alias_(sql.copy(), f"missing:{pointer}", quoted=True) for pointer, sql in self.missing)])
        if dialect == "duckdb":
            _duckdb_forms(tree)
            if layout:
                tree = _positional(tree, layout)
            tree = _anchored(tree) if standard else _lambdas(tree)
        else:
            _anchored(tree)
            _list_sizes(tree, dialect)
            if dialect == "postgres":
                _postgres_nulls(tree)
        return tree.sql(dialect=dialect, pretty=pretty)

    def decode(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row of the query (a dict by column name) with each outcome written as the decision writes it
        (``met``, ``not_met``, ``unknown``; the query gives three-valued BOOLEANs, and the criteria's packed
        in ``criteria:<n>`` columns, which are replaced by one ``criterion:<id>`` entry each); changed in place."""
        for c in self.columns:
            if c.kind in OUTCOMES:
                row[c.name] = outcome(row[c.name])
            elif c.kind == PACKED and c.name in row:
                row.update(unpacked(c, row.pop(c.name)))
            elif c.kind == PACKED:  # the query written ``unpacked``: a column per criterion
                for m in c.members:
                    row[f"criterion:{m}"] = outcome(row[f"criterion:{m}"])
        return row

    @property
    def outcome_columns(self) -> tuple[Column, ...]:
        """The outcome of each tier, group, score and criterion, in the query's order, as the columns of a
        decoded row (``decode``): a ``criterion:<id>`` column for each criterion of a packed column."""
        out: list[Column] = []
        for c in self.columns:
            if c.kind in OUTCOMES:
                out.append(c)
            elif c.kind == PACKED:
                out += [Column(f"criterion:{m}", "criterion", m) for m in c.members]
        return tuple(out)

    def outcomes(self, values: Iterable[tuple[Column, Any]]) -> Iterator[tuple[Column, str]]:
        """Each outcome of ``(column, value)`` pairs of a row (outcome and packed columns; the others are
        skipped) as ``(outcome column, met / not_met / unknown)``, in the order of ``outcome_columns``."""
        for c, value in values:
            if c.kind in OUTCOMES:
                yield c, outcome(value)
            elif c.kind == PACKED:
                for (name, found), member in zip(unpacked(c, value).items(), c.members, strict=True):
                    yield Column(name, "criterion", member), found

    def with_source(self, source: exp.Expr | str | None = None) -> exp.Select:
        """The query tree reading ``source`` (default: the table named ``assessments``)."""
        if source is None or isinstance(source, str):
            text = self.source if source is None else source
            found = sqlglot.parse_one(f"SELECT * FROM {text}", read="duckdb").find(exp.From)
            assert found is not None
            table = found.this
        else:
            table = source
        table = table.copy()
        table.set("alias", exp.TableAlias(this=exp.to_identifier(_ALIAS)))
        tree = self.tree.copy()
        inner = next(t for t in tree.find_all(exp.Table) if t.name == "ecei:source")
        inner.replace(table)
        return tree


def _duckdb_forms(tree: exp.Expr) -> None:
    """Each node marked with DuckDB's form of it (``_DUCKDB``) replaced by that form, outermost first: a form
    holds copies of the nodes under the one it replaces, marked too, which the next pass replaces."""
    while True:
        marked = [n for n in tree.walk() if _DUCKDB in n.meta]
        if not marked:
            return
        inner = {id(m) for node in marked for m in node.walk() if m is not node}
        for node in marked:
            if id(node) not in inner:
                node.replace(node.meta[_DUCKDB].copy())


def _duckdb_only(query: CompiledQuery, dialect: str) -> None:
    """Refuse to write for another dialect than DuckDB a query that divides whole numbers (exactly, on
    HUGEINTs): ``round``, ``floor`` or ``ceil`` of a quotient."""
    if dialect != "duckdb" and query.tree.find(exp.IntDiv) is not None:
        raise SqlRefused([Diagnostic(REFUSED, f"the {dialect} form of this version is not written: it rounds, "
                                     "floors or ceils a quotient, an integer division written exactly for DuckDB only",
                                     file=str(query.ruleset.path or query.ruleset), pointer="",
                                     suggestion="run it on DuckDB")])


_FROM_PYTHON = "take them from the Python engine's decisions, as impact --engine sql does"


def _decided_part(tree: ast.expr, derived: set[str]) -> str | None:
    """What in a condition can be decided while reading an absent input and leave the condition unknown (see
    ``_Build.missing_refused``), described, or None. A generator (an aggregate's body) is read whole."""
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    while stack:
        node, top = stack.pop()
        if isinstance(node, ast.IfExp):
            return f"a choice ('{ast.unparse(node)}')"
        if isinstance(node, ast.BoolOp) and not top:
            return f"a part decided by one of its operands ('{ast.unparse(node)}')"
        if isinstance(node, ast.Name) and node.id in derived:
            return f"a derived value ('{node.id}')"
        if isinstance(node, ast.GeneratorExp):
            continue
        stack.extend((child, False) for child in ast.iter_child_nodes(node))
    return None


def _where(ruleset: Ruleset, pointer: str, text: str, node: ast.AST | None, construct: str) -> Diagnostic:
    snippet = ast.get_source_segment(text, node) if node is not None and hasattr(node, "lineno") else None
    what = f"{construct} ('{snippet}')" if snippet and snippet.strip() != text.strip() else construct
    return Diagnostic(REFUSED, f"the SQL engine does not compile {what}", file=str(ruleset.path or ruleset),
                      pointer=pointer, suggestion="decide this version with the Python engine")


#: The kinds of output column that hold an outcome: a three-valued BOOLEAN (NULL for unknown).
OUTCOMES = ("tier", "group", "score", "criterion")
#: The kind of output column that holds the outcomes of up to PACKED_MEMBERS criteria (its ``members``, in
#: order), a BIGINT never NULL: the k-th member's outcome is its bits 2k and 2k + 1, ``(value >> 2k) & 3``,
#: 1 for met, 2 for unknown, 0 for not met (see CODES). One such column costs a query less than a BOOLEAN
#: column per criterion, and a score's weights are the bits counted (DuckDB's form).
PACKED = "criteria"
PACKED_MEMBERS = 31
#: The outcome of each 2-bit code of a packed column.
CODES = ("not_met", "met", "unknown", "")


def outcome(value: bool | None) -> str:
    """An outcome column's value as the decision writes it: ``met``, ``not_met`` or ``unknown``."""
    return "unknown" if value is None else "met" if value else "not_met"


def unpacked(column: Column, value: int) -> dict[str, str]:
    """The outcome of each criterion of a packed column's value (see PACKED), by ``criterion:<id>``."""
    return {f"criterion:{m}": CODES[(value >> 2 * k) & 3] for k, m in enumerate(column.members)}


def table_type(f: Field) -> str:
    """The DuckDB type of an input (raises _Refuse for one the table cannot hold)."""
    kind = f.kind
    simple = {"boolean": "BOOLEAN", "integer": "BIGINT", "date": "DATE", "string": "VARCHAR", "enum": "VARCHAR",
              "decimal": f"DECIMAL({sum(DECIMAL_DIGITS)}, {DECIMAL_DIGITS[1]})"}
    if kind in simple:
        return simple[kind]
    if kind == "list" and f.items is not None:
        return table_type(f.items) + "[]"
    if kind in ("object", "map"):
        members = f.fields if kind == "object" else f.entries
        if not members:
            raise _Refuse(None, f"an {kind} input with no members")
        inner = ", ".join('"' + k.replace('"', '""') + '" ' + table_type(sub) for k, sub in members.items())
        return f"STRUCT({inner})"
    raise _Refuse(None, f"an input of type {kind}")


class _Build:
    """The query of one ruleset version (see :func:`compile_ruleset`)."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.checked = ruleset.plan
        self.plan = Plan(ruleset.plan)
        self.params = {name: p.value for name, p in self.checked.doc.parameters.items()}
        self.problems: list[Diagnostic] = []
        self.extra: list[tuple[str, exp.Expr]] = []  # columns of the first level: validity conditions
        self.whens: list[tuple[str, exp.Expr]] = []  # columns after the label: each validity rule's when
        self.derived: dict[str, V] = {}  # each derived value compiled: its columns, by name
        self.derived_levels: list[list[tuple[str, exp.Expr]]] = []  # their columns, each level reading those before
        self.bits: dict[str, tuple[str, int]] = {}  # each criterion's packed column and place in it (see PACKED)

    def condition(self, text: str, pointer: str, label: str | None = None) -> exp.Expr | None:
        found = self.value(text, pointer, label)
        return None if found is None else found.sql

    def value(self, text: str, pointer: str, label: str | None = None) -> V | None:
        """An expression compiled (reading the derived values compiled so far), or None when refused."""
        tree, errors = parse(text)
        assert tree is not None  # the ruleset was checked
        assert not errors
        compiler = _Compiler(self.checked.inputs, self.params, label, self.derived)
        compiler.refused = frozenset(d.id for d in self.checked.derived) - set(self.derived)
        compiler.tables = self.checked.tables
        compiler.text = "(\n" + text.strip() + "\n)"
        try:
            return compiler.compile(tree)
        except _Refuse as refused:
            if refused.cascade:
                return None
            self.problems.append(_where(self.ruleset, pointer, compiler.text, refused.node, refused.construct))
            return None

    def derive(self) -> None:
        """Each derived value compiled, in dependency order, into a column (two for a quotient: numerator and
        denominator) of a level of its own depth before the criteria, so that every reader reads it once.
        A derived value without a value (unknown, or undefined: a division by zero, min or max over no items)
        is NULL, which a criterion reads as unknown, as the Python engine reads it."""
        checked = self.checked
        unknowns = checked.doc.unknowns
        if unknowns is not None and unknowns.derived == "ranges":
            self.problems.append(Diagnostic(REFUSED, "the SQL engine does not compile derived values read as "
                                            "ranges (unknowns: {derived: ranges})", file=str(self.ruleset.path or
                                                                                           self.ruleset),
                                            pointer="/unknowns/derived",
                                            suggestion="decide this version with the Python engine"))
            return
        depth: dict[str, int] = {}
        for d in checked.derived:  # in dependency order
            v = self.value(d.spec.value, f"/derived/{d.id}/value")
            if v is None:
                continue
            if v.kind not in ("number", "boolean", "string", "date") or v.hi is not None:
                self.problems.append(_where(self.ruleset, f"/derived/{d.id}/value", "", None,
                                            f"a derived {v.kind if v.hi is None else 'count range'} ('{d.id}')"))
                continue
            level = depth[d.id] = 1 + max((depth[name] for name in d.derived), default=-1)
            while len(self.derived_levels) <= level:
                self.derived_levels.append([])
            name = f"derived:{d.id}"
            self.derived_levels[level].append((name, v.sql))
            den = None
            if v.den is not None:
                self.derived_levels[level].append((name + ":den", v.den))
                den = exp.column(name + ":den", table=_ALIAS, quoted=True)
            self.derived[d.id] = V(exp.column(name, table=_ALIAS, quoted=True), v.kind, v.digits,
                                   nullable=v.nullable, den=den, den_digits=v.den_digits)

    def source(self) -> exp.Expr:
        """The table of assessments, with the derived values' levels of columns over it."""
        a = exp.to_identifier(_ALIAS)
        source: exp.Expr = exp.Table(this=exp.to_identifier("ecei:source", quoted=True), alias=exp.TableAlias(this=a))
        for cols in self.derived_levels:
            source = exp.Subquery(this=_select([exp.Star(), *(_named(sql, name) for name, sql in cols)], source),
                                  alias=exp.TableAlias(this=exp.to_identifier(_ALIAS)))
        return source

    def table(self) -> dict[str, str]:
        """The source table's columns (each root input's DuckDB type); what it cannot hold is refused."""
        checked = self.checked
        table: dict[str, str] = {ROW: "BIGINT"}
        for name, f in checked.inputs.fields.items():
            try:
                table[name] = table_type(f)
            except _Refuse as refused:
                self.problems.append(Diagnostic(REFUSED, f"the SQL engine does not compile {refused.construct}",
                                                file=str(self.ruleset.path or self.ruleset),
                                                pointer=f"/inputs/{name}"))
        return table

    def build(self) -> CompiledQuery:
        checked = self.checked
        table = self.table()
        self.derive()
        criteria = {c.id: self.condition(c.spec.when, f"/criteria/{c.id}/when") for c in checked.criteria}
        self.weighed()
        valid_from, rule_index, valid_until, rule = self.validity()
        crit_cols = {cid: f"criterion:{cid}" for cid in criteria}
        ref: dict[str, exp.Expr] = {cid: exp.column(col, table=_ALIAS, quoted=True)
                                          for cid, col in crit_cols.items()}
        packed = self.packed(ref)
        levels, composites, scales = self.composites(ref)  # its refusals are problems too
        if self.problems:
            raise SqlRefused(self.problems)
        first = _select([exp.Star(), *(exp.alias_(_paren(sql), crit_cols[cid], quoted=True, copy=False)
                                       for cid, sql in criteria.items() if sql is not None),
                         *(_named(sql, name) for name, sql in self.extra)],
                        self.source())
        if packed:  # a level of its own: the scores' weights read it
            first = _level(first, [(c.name, sql) for c, sql in packed])
        for cols in (cols for cols in levels if cols):  # each level reads the columns of those before it
            first = _level(first, cols)
        second = _level(first, [(f"tier:{t.label}", self.conjunction(ref, t.requires)) for t in self.plan.tiers])
        label_sql = _case([(exp.column(f"tier:{t.label}", table=_ALIAS, quoted=True), exp.Literal.string(t.label))
                           for t in reversed(self.plan.tiers)], exp.Literal.string(NONE_LABEL))
        third = _level(second, [("ecei:label", label_sql)])
        if self.whens:
            third = _level(third, self.whens)
        decided = exp.column("ecei:label", table=_ALIAS, quoted=True)
        awarded = exp.NEQ(this=decided, expression=exp.Literal.string(NONE_LABEL))
        fourth = _level(third, [("ecei:from", _case([(awarded, valid_from)], exp.Null())), ("ecei:rulei", rule_index)])
        fourth = _level(fourth, [("ecei:until", valid_until), ("ecei:rule", rule)])
        out, columns = self.outputs(composites, [c for c, _ in packed])
        alias = exp.TableAlias(this=exp.to_identifier(_ALIAS))
        final = _select(out, exp.Subquery(this=fourth, alias=alias))  # in no order: see run
        _bracketed(final)
        missing = tuple((pointer, _bracketed(sql)) for pointer, sql in self.missing())
        return CompiledQuery(self.ruleset, final, tuple(columns), table, scales, missing=missing,
                             missing_refused=tuple(self.missing_refused()))

    def missing_refused(self) -> list[Diagnostic]:
        """Why the ``missing:`` columns would not be the absent inputs the Python engine lists for an unknown tier
        (those read where a criterion's evaluation went, :mod:`ecei_rules.engine.needed`), one diagnostic each;
        empty when they are. The columns name every absent input an unknown criterion reads, which is what it needs
        unless a part of its condition can be decided while reading an absent input and the condition still be
        unknown: a choice (``a if test else b``: the branch not taken), an ``and``/``or`` below the condition's top
        (decided by one known operand), a derived value (it may have a value without an absent input it reads); a
        score that weighs numbers needs what those need. Aggregates over a list are read whole in both engines."""
        checked = self.checked
        derived = {d.id for d in checked.derived}
        where = str(self.ruleset.path or self.ruleset)
        out: list[Diagnostic] = []
        for c in checked.criteria:
            tree, _ = parse(c.spec.when)
            found = _decided_part(tree, derived) if tree is not None else None
            if found is not None:
                out.append(Diagnostic(REFUSED, f"the SQL engine does not list the missing inputs of an unknown tier "
                                      f"through {found} (the Python engine lists only those its evaluation read)",
                                      file=where, pointer=f"/criteria/{c.id}/when",
                                      suggestion=_FROM_PYTHON))
        for score_id, score in checked.doc.scores.items():
            if score.points:
                out.append(Diagnostic(REFUSED, "the SQL engine does not list the missing inputs of an unknown tier "
                                      "through the numbers a score weighs", file=where, pointer=f"/scores/{score_id}",
                                      suggestion=_FROM_PYTHON))
        return out

    def missing(self) -> list[tuple[str, exp.Expr]]:
        """For each input a criterion reads: whether it is absent and read by an unknown criterion that an
        unknown tier reaches through unknown groups and scores (``absent_inputs`` of the runtime plan)."""
        plan = self.plan

        def unknown(ref: str) -> exp.Expr:
            item = plan.by_id[ref]
            kind = "criterion" if isinstance(item, FastCriterion) else "group" if isinstance(item, FastGroup) \
                else "score"
            return exp.Is(this=exp.column(f"{kind}:{ref}", table=_ALIAS, quoted=True), expression=exp.Null())

        def reaching(refs: Iterable[str], target: str, seen: frozenset[str]) -> exp.Expr | None:
            """Whether ``target`` is among ``refs`` or reached from them through unknown composites."""
            ways: list[exp.Expr] = []
            for ref in refs:
                if ref == target:
                    return exp.true()
                item = plan.by_id[ref]
                if isinstance(item, FastCriterion) or ref in seen:
                    continue
                members = item.members if isinstance(item, FastGroup) else tuple(r for r, _ in item.weights)
                inner = reaching(members, target, seen | {ref})
                if inner is not None:
                    ways.append(exp.And(this=unknown(ref), expression=_paren(inner)))
            return exp.or_(*ways, copy=False) if ways else None

        readers: dict[str, list[str]] = {}
        for c in self.checked.criteria:
            for pointer in c.reads:
                readers.setdefault(pointer, []).append(c.id)
        out: list[tuple[str, exp.Expr]] = []
        for pointer, ids in readers.items():
            keys = split_pointer(pointer)
            path: exp.Expr = exp.column(keys[0], table=_ALIAS, quoted=True)
            for key in keys[1:]:
                path = _member(path, key)
            reached: list[exp.Expr] = []
            for cid in ids:
                tiers = []
                for tier in plan.tiers:
                    way = reaching(tier.requires, cid, frozenset())
                    if way is not None:
                        tiers.append(exp.And(this=exp.Is(this=exp.column(f"tier:{tier.label}", table=_ALIAS,
                                                                         quoted=True), expression=exp.Null()),
                                             expression=_paren(way)))
                if tiers:
                    reached.append(exp.And(this=unknown(cid), expression=_paren(exp.or_(*tiers, copy=False))))
            if reached:
                out.append((pointer, exp.And(this=exp.Is(this=_paren(path), expression=exp.Null()),
                                             expression=_paren(exp.or_(*reached, copy=False)))))
        return out

    def packed(self, ref: Mapping[str, exp.Expr]) -> list[tuple[Column, exp.Expr]]:
        """The criteria's outcomes packed into BIGINT columns of PACKED_MEMBERS each (see PACKED): the sum of one
        ``CASE`` per criterion, whose bits no other sets. Each criterion's place is kept in ``self.bits``."""
        ids = list(ref)
        out: list[tuple[Column, exp.Expr]] = []
        big = exp.DataType.build("BIGINT")
        for start in range(0, len(ids), PACKED_MEMBERS):
            members = tuple(ids[start:start + PACKED_MEMBERS])
            name = f"{PACKED}:{len(out)}"
            terms: list[exp.Expr] = []
            for k, cid in enumerate(members):
                self.bits[cid] = (name, k)
                c = _paren(ref[cid])
                met, unknown = (_cast(exp.Literal.number(code << 2 * k), big) for code in (1, 2))
                terms.append(_case([(c, met), (exp.Is(this=c.copy(), expression=exp.Null()), unknown)],
                                   _cast(exp.Literal.number(0), big)))
            out.append((Column(name, PACKED, members=members), _cast(_added(terms), big)))
        return out

    def outputs(self, composites: Mapping[str, tuple[str, dict[str, None]]],
                packed: Iterable[Column]) -> tuple[list[exp.Expr], list[Column]]:
        """The query's output columns, and what each holds."""
        decided = exp.column("ecei:label", table=_ALIAS, quoted=True)
        start, until, applied = (exp.column(n, table=_ALIAS, quoted=True) for n in ("ecei:from", "ecei:until",
                                                                                    "ecei:rule"))
        error = _case([(exp.LT(this=until, expression=start), exp.Literal.string("A007"))], exp.Null())
        columns: list[Column] = [Column("row", "row"), Column("subject", "subject"), Column("label", "label"),
                                 Column("valid_from", "valid_from"), Column("valid_until", "valid_until"),
                                 Column("validity_rule", "validity_rule"), Column("error", "error")]
        out: list[exp.Expr] = [
            exp.alias_(exp.column(ROW, table=_ALIAS, quoted=True), "row", quoted=True),
            exp.alias_(self.subject(), "subject", quoted=True), exp.alias_(decided, "label", quoted=True),
            exp.alias_(start, "valid_from", quoted=True), exp.alias_(until, "valid_until", quoted=True),
            exp.alias_(applied, "validity_rule", quoted=True), exp.alias_(error, "error", quoted=True)]
        for t in self.plan.tiers:
            name = f"tier:{t.label}"
            out.append(exp.alias_(exp.column(name, table=_ALIAS, quoted=True), name, quoted=True))
            columns.append(Column(name, "tier", t.label))
        for cid, (kind, extra) in composites.items():
            name = f"{kind}:{cid}"
            out.append(exp.alias_(exp.column(name, table=_ALIAS, quoted=True), name, quoted=True))
            columns.append(Column(name, kind, cid))
            for part in extra:
                out.append(exp.alias_(exp.column(f"{name}:{part}", table=_ALIAS, quoted=True), f"{name}:{part}",
                                      quoted=True))
                columns.append(Column(f"{name}:{part}", part, cid))
        for c in packed:
            out.append(exp.alias_(exp.column(c.name, table=_ALIAS, quoted=True), c.name, quoted=True))
            columns.append(c)
        return out, columns

    def conjunction(self, ref: Mapping[str, exp.Expr], ids: Iterable[str]) -> exp.Expr:
        """``a AND b AND ...`` of the outcomes ``ids`` (Kleene's). DuckDB's form, for three criteria or more of
        one packed column, reads their bits instead (see PACKED): true when every one is met, false when one
        is not met (fewer of them met or unknown than there are), else unknown."""
        ids = list(ids)
        sql = _paren(_joined(exp.And, [_paren(ref[i]) for i in ids]))
        packed: dict[str, list[int]] = {}
        for i in ids:
            if i in self.bits:
                name, k = self.bits[i]
                packed.setdefault(name, []).append(k)
        if any(len(ks) >= 3 for ks in packed.values()):
            big = exp.DataType.build("BIGINT")
            parts: list[exp.Expr] = []
            for name, ks in packed.items():
                if len(ks) < 3:
                    continue
                column = exp.column(name, table=_ALIAS, quoted=True)
                met = _cast(exp.Literal.number(sum(1 << 2 * k for k in ks)), big)
                known = _cast(exp.Literal.number(sum(3 << 2 * k for k in ks)), big)
                counted = exp.Anonymous(this="bit_count", expressions=[_paren(exp.BitwiseAnd(this=column.copy(),
                                                                                             expression=known))])
                some_not_met = exp.LT(this=counted, expression=exp.Literal.number(len(ks)))
                parts.append(_paren(_case([(exp.EQ(this=_paren(exp.BitwiseAnd(this=column, expression=met)),
                                                   expression=met.copy()), exp.true()), (some_not_met, exp.false())],
                                          exp.Null())))
            parts += [_paren(ref[i]) for i in ids if i not in self.bits or len(packed[self.bits[i][0]]) < 3]
            sql.meta[_DUCKDB] = _bracketed(_paren(_joined(exp.And, parts)))
        return sql

    def composites(self, ref: dict[str, exp.Expr]) -> tuple[
            list[list[tuple[str, exp.Expr]]], dict[str, tuple[str, dict[str, None]]], dict[str, int]]:
        """The levels of columns that decide each group and score, each composite's kind and extra columns,
        and each score's scale. A composite of depth d (d = 0: it reads criteria only; else one more than the
        deepest composite it reads) is decided in levels 2d (a group; a score's weights) and 2d + 1 (a score's
        outcome), so that each level reads only columns of the levels before it, and composites of one depth
        share their levels (fewer nested selects to plan)."""
        levels: list[list[tuple[str, exp.Expr]]] = []
        out: dict[str, tuple[str, dict[str, None]]] = {}
        scales: dict[str, int] = {}
        depth: dict[str, int] = {}

        def column(name: str) -> exp.Expr:
            return exp.column(name, table=_ALIAS, quoted=True)

        def place(comp: FastGroup | FastScore, parts: list[list[tuple[str, exp.Expr]]]) -> None:
            members = comp.members if isinstance(comp, FastGroup) else tuple(r for r, _ in comp.weights)
            depth[comp.id] = 1 + max((depth[m] for m in members if m in depth), default=-1)
            for i, cols in enumerate(parts, 2 * depth[comp.id]):
                while len(levels) <= i:
                    levels.append([])
                levels[i] += cols

        for comp in self.plan.composites:
            if isinstance(comp, FastGroup):
                place(comp, [[(f"group:{comp.id}", self.conjunction(ref, comp.members))]])
                out[comp.id] = ("group", {})
                ref[comp.id] = column(f"group:{comp.id}")
                continue
            assert isinstance(comp, FastScore)
            name = f"score:{comp.id}"
            try:
                parts = self.points_score(ref, comp, name) if comp.points else self.score(ref, comp, name)
            except _Refuse as refused:  # a number of the score's weights that SQL does not hold exactly
                self.problems.append(self.score_refused(comp, refused))
                parts = [[(name, exp.Null())]]
            place(comp, parts)
            out[comp.id] = ("score", {"met": None, "unknown": None})
            scales[comp.id] = comp.scale
            ref[comp.id] = column(name)
        return levels, out, scales

    def score_refused(self, comp: FastScore, refused: _Refuse) -> Diagnostic:
        """Q001 for a score (or a level of one) whose weights, thresholds or points the SQL form does not hold."""
        scores = self.checked.doc.scores
        if comp.id in scores:
            pointer, what = f"/scores/{comp.id}", f"score '{comp.id}'"
        else:
            sid, _, level = comp.id.rpartition(".")
            pointer, what = f"/scores/{sid}/levels/{level}", f"level '{level}' of score '{sid}'"
        return _where(self.ruleset, pointer, "", None, f"{refused.construct}, in the met weight of {what} compared "
                      "with its threshold")

    def score(self, ref: Mapping[str, exp.Expr], comp: FastScore, name: str) -> list[list[tuple[str, exp.Expr]]]:
        """The levels of a score without ``points``: its met and unknown weights (whole numbers), then its
        outcome, ``met x den >= num`` in the whole type holding ``total x den`` and ``num`` (no overflow)."""
        def column(name: str) -> exp.Expr:
            return exp.column(name, table=_ALIAS, quoted=True)

        sums = [(name + ":met", self.weight_sum(ref, comp, unknown=False)),
                (name + ":unknown", self.weight_sum(ref, comp, unknown=True))]
        total = sum(w for _, w in comp.weights)
        to = _dec((max(len(str(total * comp.required_den)), len(str(comp.required_num))) + 1, 0))
        met, unknown = (_cast(column(name + part), to) for part in (":met", ":unknown"))
        num, den = (_cast(exp.Literal.number(n), to) for n in (comp.required_num, comp.required_den))
        sql = _case([(exp.GTE(this=exp.Mul(this=met, expression=den), expression=num), exp.true()),
                     (exp.LT(this=exp.Mul(this=_paren(exp.Add(this=met, expression=unknown)), expression=den),
                             expression=num), exp.false())], exp.Null())
        return [sums, [(name, sql)]]

    def weighed(self) -> None:
        """The value of each number a score weighs as it is (``points``), compiled into a column of the first
        level (beside the criteria): ``points:<score>:<name>``."""
        self.points: dict[tuple[str, str], V] = {}
        for sid, score in self.checked.doc.scores.items():
            for pid, spec in score.points.items():
                pointer = f"/scores/{sid}/points/{pid}/value"
                v = self.value(spec.value, pointer)
                if v is None:
                    continue
                if v.kind != "number" or v.den is not None or v.hi is not None:
                    self.problems.append(_where(self.ruleset, pointer, "", None, "points of a quotient whose divisor "
                                                "is not a constant, or of a count range"))
                    continue
                name = f"points:{sid}:{pid}"
                self.extra.append((name, v.sql))
                self.points[sid, pid] = V(exp.column(name, table=_ALIAS, quoted=True), "number", v.digits)

    def points_score(self, ref: Mapping[str, exp.Expr], comp: FastScore, name: str) -> list[list[tuple[str, exp.Expr]]]:
        """The levels of a score with ``points``: its met weight (the criteria's, plus what each number counts,
        clipped to [0, its maximum], times the score's scale: an exact DECIMAL) and unknown weight (the
        criteria's, plus each maximum of a number that has no value), then its outcome, exactly."""
        sid = comp.id if comp.id in self.checked.doc.scores else comp.id.rsplit(".", 1)[0]
        if any((sid, p.id) not in self.points for p in comp.points):  # refused at its value already (weighed)
            return [[(name, exp.Null())]]
        total = sum(w for _, w in comp.weights) + sum(p.scaled_maximum for p in comp.points)
        whole = len(str(total)) + 1
        # every term of a sum is cast to the type of the whole sum, which holds the total (each partial sum is at
        # most the total): a sum of BIGINTs beyond 2^63 fails in DuckDB and PostgreSQL, however wide a cast after it
        to_unknown = _dec((whole, 0))
        counts: list[tuple[exp.Expr, exp.Expr]] = []  # each number's scaled count (NULL without a value), maximum
        scale = 0
        for p in comp.points:
            v = self.points[sid, p.id]
            high, hd = _literal(p.maximum)
            digits = (hd[0], max(v.digits[1], hd[1]))
            wide = _cast(v.sql, _dec((max(v.digits[0], hd[0]), digits[1])))
            counted = _case([(exp.LT(this=wide, expression=exp.Literal.number(0)), _cast(exp.Literal.number(0),
                                                                                       _dec(digits))),
                             (exp.GT(this=wide, expression=_cast(high, _dec(digits))), _cast(high, _dec(digits)))],
                            _cast(v.sql, _dec(digits)))
            scaled, sd = _times(counted, digits, *_literal(comp.scale))
            scale = max(scale, sd[1])
            counts.append((scaled, _case([(exp.Is(this=v.sql, expression=exp.Null()),
                                           _cast(exp.Literal.number(p.scaled_maximum), to_unknown))],
                                         _cast(exp.Literal.number(0), to_unknown))))
        to_met = _dec((whole, scale))
        zero = _cast(exp.Literal.number(0), to_met)
        met = _added([_cast(self.weight_sum(ref, comp, unknown=False), to_met) if comp.weights else zero,
                      *(exp.Coalesce(this=_cast(scaled, to_met), expressions=[zero.copy()]) for scaled, _ in counts)])
        unknown = _added([_cast(self.weight_sum(ref, comp, unknown=True) if comp.weights else exp.Literal.number(0),
                                to_unknown), *(most for _, most in counts)])
        sums = [(name + ":met", _cast(met, to_met)), (name + ":unknown", _cast(unknown, to_unknown))]
        column = {part: exp.column(name + part, table=_ALIAS, quoted=True) for part in (":met", ":unknown")}
        den = len(str(comp.required_den))
        required = _cast(exp.Literal.number(comp.required_num), _dec((len(str(comp.required_num)), 0)))
        times = exp.Literal.number(comp.required_den)
        reached = exp.GTE(this=_times(column[":met"], (whole, scale), times, (den, 0))[0], expression=required)
        reachable = exp.LT(this=_times(exp.Add(this=column[":met"], expression=column[":unknown"]), (whole + 1, scale),
                                       times, (den, 0))[0], expression=required)
        return [sums, [(name, _case([(reached, exp.true()), (reachable, exp.false())], exp.Null()))]]

    def weight_sum(self, ref: Mapping[str, exp.Expr], comp: FastScore, *, unknown: bool) -> exp.Expr:
        """The sum of the (scaled, whole) weights of the members that are met (or ``unknown``), in the whole type
        that holds the total (a BIGINT unless it is too long): one ``CASE`` per member. DuckDB's form, when the
        total is a BIGINT, counts the criteria's bits in their packed columns instead: ``BIT_COUNT`` of the bits
        of the criteria of one weight in one column, times the weight (see PACKED)."""
        to = _dec((len(str(sum(w for _, w in comp.weights))), 0))

        def test(e: exp.Expr) -> exp.Expr:
            return exp.Is(this=_paren(e), expression=exp.Null()) if unknown else _paren(e)

        def term(rid: str, weight: int) -> exp.Expr:
            return _case([(test(ref[rid]), _cast(exp.Literal.number(weight), to))], _cast(exp.Literal.number(0), to))

        total = _cast(_added([term(rid, weight) for rid, weight in comp.weights]), to)
        if to.this == exp.DataType.Type.BIGINT and all(rid in self.bits for rid, _ in comp.weights):
            masks: dict[tuple[int, str], int] = {}
            for rid, weight in comp.weights:
                name, k = self.bits[rid]
                masks[weight, name] = masks.get((weight, name), 0) | 1 << (2 * k + unknown)
            counted = [exp.Mul(this=_cast(exp.Literal.number(weight), to), expression=_cast(exp.Anonymous(
                this="bit_count", expressions=[_paren(exp.BitwiseAnd(this=exp.column(name, table=_ALIAS, quoted=True),
                                                                     expression=_cast(exp.Literal.number(mask), to)))]),
                to)) for (weight, name), mask in masks.items()]
            total.meta[_DUCKDB] = _bracketed(_cast(_added(counted), to))
        return total

    def validity(self) -> tuple[exp.Expr, exp.Expr, exp.Expr, exp.Expr]:
        """valid_from, the index of the validity rule applied (by the decided label), and valid_until
        and the rule's id from that index: each rule's ``when`` and ``valid_until`` are computed only
        for the rows of its label (CASE decides the branch first), ``when`` once (a simple CASE)."""
        found = self.condition(self.checked.doc.validity.valid_from, "/validity/valid_from")
        self.extra.append(("ecei:start", found or exp.Null()))
        start = exp.column("ecei:start", table=_ALIAS, quoted=True)
        label = exp.column("ecei:label", table=_ALIAS, quoted=True)
        index = exp.column("ecei:rulei", table=_ALIAS, quoted=True)
        chosen: list[tuple[exp.Expr, exp.Expr]] = []
        until: list[tuple[exp.Expr, exp.Expr]] = []
        for tier in self.plan.tiers:
            is_label = exp.EQ(this=label, expression=exp.Literal.string(tier.label))
            chain, ends = self.rules_for(tier.label)
            chosen.append((is_label, chain))
            for i, end in ends.items():
                until.append((exp.And(this=_paren(is_label), expression=exp.EQ(
                    this=index, expression=exp.Literal.number(i))), end))
        rules = self.checked.doc.validity.rules
        rule_id = _case([(exp.EQ(this=index, expression=exp.Literal.number(i)), exp.Literal.string(r.id))
                         for i, r in enumerate(rules)], exp.Null())
        never = _cast(exp.Null(), exp.DataType.build("DATE"))  # no rule has an end: a DATE still (PostgreSQL)
        return start, _case(chosen, exp.Null()), _case(until, exp.Null()) if until else never, rule_id

    def rules_for(self, label: str) -> tuple[exp.Expr, dict[int, exp.Expr]]:
        """The index of the first rule for ``label`` whose ``when`` is not false (NULL when the first
        that is not false is unknown, or none is), and each rule's ``valid_until`` by index. Each
        ``when`` is a column of its own (``self.whens``), computed for the rows of its label only, so
        that the chain reads it rather than computing it once per branch."""
        steps: list[tuple[exp.Expr | None, int]] = []
        ends: dict[int, exp.Expr] = {}
        for i, rule in enumerate(self.checked.doc.validity.rules):
            if label not in rule.labels:
                continue
            if rule.expires:
                ends[i] = self.condition(rule.valid_until, f"/validity/rules/{i}/valid_until", label) or exp.Null()
            when = None if rule.when is None else self.condition(rule.when, f"/validity/rules/{i}/when", label)
            if rule.when is not None and when is None:
                continue
            steps.append((when, i))
            if when is None:
                break
        chain: exp.Expr = exp.Null()
        is_label = exp.EQ(this=exp.column("ecei:label", table=_ALIAS, quoted=True),
                          expression=exp.Literal.string(label))
        for when, i in reversed(steps):
            number = exp.Literal.number(i)
            if when is None:
                chain = number
                continue
            name = f"ecei:when:{len(self.whens)}"
            self.whens.append((name, _case([(is_label, _paren(when))], exp.Null())))
            column = exp.column(name, table=_ALIAS, quoted=True)
            chain = _case([(column, number), (exp.Not(this=column), chain)], exp.Null())
        return chain, ends

    def subject(self) -> exp.Expr:
        f: Field | None = self.checked.inputs
        sql: exp.Expr | None = None
        for key in self.plan.subject.id:
            members = f.fields if f is not None and f.kind == "object" else {}
            f = members.get(key)
            if f is None:
                return exp.Null()
            sql = exp.column(key, table=_ALIAS, quoted=True) if sql is None else _member(sql, key)
        if f is None or f.kind not in ("string", "enum") or sql is None:
            return exp.Null()
        return sql


def compile_ruleset(ruleset: Ruleset) -> CompiledQuery:
    """The SQL query deciding ``ruleset`` over a table of validated assessments.

    Raises:
        SqlRefused: a construct the SQL form does not express, one diagnostic per construct.
    """
    return _Build(ruleset).build()


# -- the table of validated assessments ----------------------------------------------------------


def _plain(value: Any, f: Field, pointer: str, refused: list[Diagnostic]) -> Any:
    """A validated value as the JSON the table is loaded from (decimals as exact text)."""
    kind = f.kind
    if kind == "decimal":
        d = Decimal(value)
        exponent = d.as_tuple().exponent
        assert isinstance(exponent, int)
        if exponent < -DECIMAL_DIGITS[1] and d != d.quantize(Decimal(1).scaleb(-DECIMAL_DIGITS[1])):
            refused.append(Diagnostic(UNREPRESENTABLE, f"the SQL table holds {DECIMAL_DIGITS[1]} decimal places; "
                                      f"{d} has more (decide it with the Python engine)", pointer=pointer))
            return None
        return format(d, "f")
    if kind == "date":
        return value.isoformat()
    if kind in ("string", "enum") and isinstance(value, str) and "\x00" in value:
        refused.append(Diagnostic(UNREPRESENTABLE, "a string holds the character U+0000, which PostgreSQL's text "
                                  "cannot hold (decide it with the Python engine)", pointer=pointer))
        return None
    if kind == "list":
        assert f.items is not None
        return [_plain(v, f.items, f"{pointer}/{i}", refused) for i, v in enumerate(value)]
    if kind in ("object", "map"):
        members = f.fields if kind == "object" else f.entries
        return {k: _plain(v, members[k], f"{pointer}/{k}", refused) for k, v in value.items() if k in members}
    return value


_PLACES = Decimal(1).scaleb(-DECIMAL_DIGITS[1])


def _decimal_text(value: Any) -> str:
    """`_plain` of a decimal; ValueError where it refuses it (more places than the table holds)."""
    if type(value) is int:
        return str(value)
    d = Decimal(value)
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -DECIMAL_DIGITS[1] and d != d.quantize(_PLACES):
        raise ValueError(value)
    return format(d, "f")


def _date_text(value: Any) -> str:
    return str(value.isoformat())


def _writer(f: Field) -> Callable[[Any], Any] | None:
    """What `_plain` makes of a validated value of ``f``, without pointers (ValueError where it refuses one), or
    None when that is the value itself: nothing in it is a decimal or a date (a validated object holds only the
    members its field declares, so leaving out the others changes nothing)."""
    kind = f.kind
    if kind in ("decimal", "date"):
        return _decimal_text if kind == "decimal" else _date_text
    if kind == "list" and f.items is not None:
        item = _writer(f.items)
        return None if item is None else (lambda v: [item(x) for x in v])
    if kind in ("object", "map"):
        members = f.fields if kind == "object" else f.entries
        inner = {k: w for k, sub in members.items() if (w := _writer(sub)) is not None}
        if not inner:
            return None
        return lambda v: {k: inner[k](x) if k in inner else x for k, x in v.items() if k in members}
    return None


def _fast_line(row: int, normalised: Mapping[str, Any],
               writers: Mapping[str, Callable[[Any], Any] | None]) -> str | None:
    """The table's JSON line of a validated row (the same JSON as `table_rows` writes the slow way, by orjson),
    or None when the row must go the slow way (a value refused, a string that is not UTF-8 text or may hold U+0000)."""
    out: dict[str, Any] = {ROW: row}
    try:
        for k, v in normalised.items():
            w = writers[k]
            out[k] = v if w is None else w(v)
        line = orjson.dumps(out).decode("utf-8")
    except (ValueError, orjson.JSONEncodeError):
        return None
    return None if "\\u0000" in line else line  # perhaps a string holding U+0000: refused the slow way


def _naming_foreign(root: Field, foreign: Mapping[str, frozenset[str]]) -> tuple[str, ...]:
    """The root's members (in declared order) under which a list entry may name a ``foreign`` catalogue item:
    the only ones ``project_entries`` can change."""
    def names(f: Field) -> bool:
        if f.kind == "list" and f.items is not None:
            items = f.items
            own = (items, *items.fields.values()) if items.kind == "object" else (items,)
            return any(x.kind == "string" and x.spec.catalogue in foreign for x in own) or names(items)
        if f.kind in ("object", "map"):
            return any(names(sub) for sub in (f.fields if f.kind == "object" else f.entries).values())
        return False

    return tuple(k for k, sub in root.fields.items() if names(sub)) if foreign else ()


def _project_entries(root: Field, data: Any, foreign: Mapping[str, frozenset[str]], naming: tuple[str, ...],
                     found: list[tuple[str, str]]) -> Any:
    """``project_entries(root, data, foreign, "", found)``, visiting only the members in ``naming`` (the others
    it returns as they are, finding nothing)."""
    if not isinstance(data, dict) or root.kind != "object":
        return project_entries(root, data, foreign, "", found)
    out = data
    for key in naming:
        if key in data:
            value = project_entries(root.fields[key], data[key], foreign, f"/{key}", found)
            if value is not data[key]:
                out = dict(data) if out is data else out
                out[key] = value
    return out


@dataclass(frozen=True)
class Refused:
    """A row not decided by SQL: its 1-based position and why (the validator's diagnostics)."""

    row: int
    diagnostics: tuple[Diagnostic, ...]


def table_rows(ruleset: Ruleset, items: Iterable[tuple[int, Any]], refused: list[Refused],
               foreign: Mapping[str, frozenset[str]] | None = None,
               left_out: dict[int, tuple[list[str], list[str]]] | None = None) -> Iterator[str]:
    """The JSON lines of the table for ``(row, raw assessment)`` items: each validated by the project's
    validator first; a row it refuses (or whose numbers or strings the table cannot hold, Q002) goes to ``refused``.
    With ``foreign`` (an impact study's other version), the row is first projected onto this version's
    inputs as the impact study projects it (fields it does not declare and list entries naming catalogue
    items it does not have are left out); ``left_out`` then gets, by row, what was left out: the pointers
    ignored (entries and undeclared fields, as the validator lists them) and the ``catalogue:id`` of each
    entry (as ``ecei_rules.compare.impact.project_entries`` gives them)."""
    root = ruleset.plan.inputs
    validator = ruleset.plan.validator
    writers = {k: _writer(sub) for k, sub in root.fields.items()}
    naming = _naming_foreign(root, foreign or {})
    for row, data in items:
        if isinstance(data, AssessmentError):
            refused.append(Refused(row, data.diagnostics))
            continue
        if foreign is None:
            normalised, problems = validator.validate(data)
        else:
            found: list[tuple[str, str]] = []
            projected = _project_entries(root, data, foreign, naming, found)
            ignored = [p for p, _ in found]
            normalised, problems = validator.validate(projected, ignore_unknown=ignored)
            if ignored and left_out is not None:
                left_out[row] = (ignored, [key for _, key in found])
        if problems:
            refused.append(Refused(row, tuple(problems)))
            continue
        fast = _fast_line(row, normalised, writers)
        if fast is not None:
            yield fast
            continue
        lost: list[Diagnostic] = []
        out: dict[str, Any] = {ROW: row}
        for k, v in normalised.items():
            out[k] = _plain(v, root.fields[k], "/" + k, lost)
        line = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text a table can hold
            lost.append(Diagnostic(UNREPRESENTABLE, "a string is not UTF-8 text (a lone surrogate)", pointer=""))
        if lost:
            refused.append(Refused(row, tuple(lost)))
            continue
        yield line


def load_table(connection: Any, query: CompiledQuery, items: Iterable[tuple[int, Any]], name: str = "assessments",
               foreign: Mapping[str, frozenset[str]] | None = None,
               left_out: dict[int, tuple[list[str], list[str]]] | None = None,
               positions: int = POSITIONS) -> list[Refused]:
    """Create the table ``name`` in a DuckDB connection from ``(row, raw assessment)`` items, validated
    first (projected first with ``foreign``, see `table_rows`), with the positional columns of each list input
    whose longest list has at most ``positions`` items (see `write_positions`; 0: none); return the rows refused."""
    refused: list[Refused] = []
    handle, path = tempfile.mkstemp(suffix=".jsonl", prefix="ecei-sql-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for line in table_rows(query.ruleset, items, refused, foreign, left_out):
                out.write(line + "\n")
        columns = "{" + ", ".join(f"{quoted_string(k)}: {quoted_string(v)}"
                                  for k, v in query.table_columns.items()) + "}"
        connection.execute(f"CREATE OR REPLACE TABLE {_quote(name)} AS SELECT * FROM read_json("
                           f"{quoted_path(path)}, format='newline_delimited', columns={columns})")
    finally:
        Path(path).unlink(missing_ok=True)
    write_positions(connection, query, name, positions)
    return refused


def list_inputs(root: Field) -> list[tuple[str, str]]:
    """Each list input the root reaches through objects and maps only (not through another list): its JSON
    pointer and its path in the table (``"a"."b"``), in declared order."""
    out: list[tuple[str, str]] = []

    def visit(f: Field, pointer: str, path: str) -> None:
        if f.kind == "list" and f.items is not None:
            out.append((pointer, path))
        elif f.kind in ("object", "map"):
            for key, sub in (f.fields if f.kind == "object" else f.entries).items():
                visit(sub, pointer_join(pointer, key), f"{path}.{_quote(key)}")

    for key, sub in root.fields.items():
        visit(sub, pointer_join("", key), _quote(key))
    return out


def write_positions(connection: Any, query: CompiledQuery, name: str = "assessments",
                    limit: int = POSITIONS) -> dict[str, int]:
    """Add to the table ``name`` (of ``query``'s inputs) the positional layout of each list input whose longest list
    in it has at most ``limit`` items: its length (``ecei:list:<pointer>#n``, NULL when the list is absent) and its
    items 0 to K - 1 (``ecei:list:<pointer>#<i>``, NULL beyond the length; K the longest, at least 1), beside the
    list, which the table keeps. Returns that layout (pointer -> K), which `layout_of` reads back from the table;
    a query written with it (``CompiledQuery.sql(layout=...)``) decides as the list's query does."""
    lists = list_inputs(query.ruleset.plan.inputs)
    if not lists or limit < 1:
        return {}
    found = connection.execute("SELECT " + ", ".join(f"max(len({path}))" for _, path in lists) +
                               f" FROM {_quote(name)}").fetchone()
    assert found is not None
    layout = {pointer: max(longest or 0, 1) for (pointer, _), longest in zip(lists, found, strict=True)
              if (longest or 0) <= limit}
    columns = [column for pointer, path in lists if pointer in layout for column in (
        f"len({path}) AS {_quote(position_column(pointer, None))}",
        *(f"{path}[{i + 1}] AS {_quote(position_column(pointer, i))}" for i in range(layout[pointer])))]
    if columns:
        connection.execute(f"CREATE OR REPLACE TABLE {_quote(name)} AS SELECT *, {', '.join(columns)} FROM "
                           f"{_quote(name)}")
    return layout


def is_positional(column: str) -> bool:
    """Whether a column of a table is of the positional layout (see `write_positions`), not an input."""
    return column.startswith(_POSITIONAL)


def layout_of(connection: Any, source: str = "assessments") -> dict[str, int]:
    """The positional layout a table or Parquet file (``source``, as `run` reads it) holds (pointer -> positions K):
    each list whose length column and item columns 0 to K - 1 it has, and none of whose lists is longer than K
    (checked here: a list that does not fit is read as a list)."""
    cursor = connection.execute(f"SELECT * FROM {source} LIMIT 0")
    places: dict[str, set[str]] = {}
    for (column, *_) in cursor.description:
        if is_positional(column) and "#" in column:
            pointer, _, place = column[len(_POSITIONAL):].rpartition("#")
            places.setdefault(pointer, set()).add(place)
    candidates = {pointer: len(found) - 1 for pointer, found in places.items()
                  if len(found) > 1 and found == {"n", *(str(i) for i in range(len(found) - 1))}}
    if not candidates:
        return {}
    fits = connection.execute("SELECT " + ", ".join(
        f"coalesce(max({_quote(position_column(pointer, None))}), 0) <= {k}" for pointer, k in candidates.items())
        + f" FROM {source}").fetchone()
    assert fits is not None
    return {pointer: k for (pointer, k), fit in zip(candidates.items(), fits, strict=True) if fit}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quoted_string(text: str) -> str:
    """``text`` as a SQL string literal (a quote in it written twice)."""
    return "'" + text.replace("'", "''") + "'"


class SqlPathError(InputError, ValueError):
    """A file name DuckDB cannot take: it reads names as UTF-8, and this one is not (bytes a file system allows,
    in the name given or in the temporary folder, ``TMPDIR``)."""


def quoted_path(path: Path | str) -> str:
    """A file's name as a SQL string literal (`quoted_string`); SqlPathError for a name that is not UTF-8."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise SqlPathError(f"the SQL engine (DuckDB) takes file names in UTF-8 only, and '{shown}' is not one: "
                           "rename it, or set TMPDIR to a folder whose name is (for the files it writes)") from None
    return quoted_string(text)


#: Rows per row group of the Parquet files written: DuckDB reads a file with one thread per row group,
#: so a population of 100,000 is read by every core (its default, 122,880, gives such a file one group).
ROW_GROUP_SIZE = 32_768


def write_parquet(connection: Any, table: str, path: Path | str) -> None:
    """Write a table of validated assessments (see :func:`load_table`) to a Parquet file."""
    connection.execute(f"COPY {_quote(table)} TO {quoted_path(path)} (FORMAT parquet, "
                       f"ROW_GROUP_SIZE {ROW_GROUP_SIZE})")


def run(connection: Any, query: CompiledQuery, source: str = "assessments") -> list[dict[str, Any]]:
    """The query's rows over ``source`` (a table, or ``read_parquet('file')``), each a dict by column name,
    in row order (the query itself states no order: sorting a population is left to whoever needs it). The
    loops over the lists ``source`` also holds as positional columns read those (see `layout_of`)."""
    text = query.sql("duckdb", source, layout=layout_of(connection, source))
    cursor = connection.execute(f'SELECT * FROM ({text}) ORDER BY "row"')
    names = [d[0] for d in cursor.description]
    return [query.decode(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def weight(value: Any, scale: int) -> Decimal | int:
    """A scaled met or unknown weight of the query as the decision shows it (an int when whole)."""
    exact = Fraction(value) / scale
    if exact.denominator == 1:
        return int(exact)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).normalize()


def row_json(row: Mapping[str, Any], query: CompiledQuery) -> dict[str, Any]:
    """A row of the query as the JSON line ``evaluate --engine sql`` prints (outcomes grouped by kind)."""
    ruleset = query.ruleset
    out: dict[str, Any] = {"line": row["row"], "methodology": ruleset.methodology, "version": ruleset.version,
                           "subject": row["subject"], "label": row["label"]}
    for key in ("valid_from", "valid_until"):
        out[key] = row[key].isoformat() if row[key] is not None else None
    out["validity_rule"] = row["validity_rule"]
    for kind, key in (("tier", "tiers"), ("group", "groups"), ("criterion", "criteria")):
        out[key] = {c.id: row[c.name] for c in query.outcome_columns if c.kind == kind}
    scores: dict[str, Any] = {}
    for c in query.columns:
        if c.kind == "score" and c.id is not None:
            scale = query.scales[c.id]
            scores[c.id] = {"outcome": row[c.name], "met_weight": str(weight(row[c.name + ":met"], scale)),
                            "unknown_weight": str(weight(row[c.name + ":unknown"], scale))}
    out["scores"] = scores
    return out


def decide_items(items: Iterable[tuple[int, Any, Ruleset | Exception]]) -> Iterator[tuple[int, dict[str, Any] | None,
                                                                                        Exception | None]]:
    """Decide ``(line, raw assessment, its ruleset or why none)`` items with one query per version:
    ``(line, the row's JSON, None)`` or ``(line, None, the error)``, in line order. Raises SqlRefused
    when a version uses a construct the SQL form does not express (nothing is decided then)."""
    import duckdb

    groups: dict[int, tuple[Ruleset, list[tuple[int, Any]]]] = {}
    out: dict[int, tuple[dict[str, Any] | None, Exception | None]] = {}
    for line, data, ruleset in items:
        if isinstance(ruleset, Exception):
            out[line] = (None, ruleset)
            continue
        groups.setdefault(id(ruleset), (ruleset, []))[1].append((line, data))
    connection = duckdb.connect()
    for ruleset, rows in groups.values():
        query = compile_ruleset(ruleset)
        for refused in load_table(connection, query, rows):
            out[refused.row] = (None, AssessmentError(refused.diagnostics))
        for row in run(connection, query):
            if row["error"] is not None:
                out[row["row"]] = (None, AssessmentError([Diagnostic(
                    "A007", "the validity the ruleset gives it would end before it starts", pointer="")]))
            else:
                out[row["row"]] = (row_json(row, query), None)
    for line in sorted(out):
        yield line, *out[line]


# -- PostgreSQL --------------------------------------------------------------------------------------

_PG_SIMPLE = {"boolean": "boolean", "integer": "bigint", "date": "date", "string": "text", "enum": "text",
              "decimal": f"numeric({sum(DECIMAL_DIGITS)}, {DECIMAL_DIGITS[1]})"}


def postgres_schema(query: CompiledQuery, table: str = "assessments") -> list[str]:
    """The statements creating, in PostgreSQL, the table the query reads: objects and maps as composite
    types (named ``<table>_t1``, ...), lists as arrays, decimals as numeric(31, 15)."""
    statements: list[str] = []

    def pg(f: Field) -> str:
        if f.kind in _PG_SIMPLE:
            return _PG_SIMPLE[f.kind]
        if f.kind == "list" and f.items is not None:
            return pg(f.items) + "[]"
        members = f.fields if f.kind == "object" else f.entries
        inner = ", ".join(f"{_quote(k)} {pg(sub)}" for k, sub in members.items())
        name = _quote(f"{table}_t{len(statements) + 1}")
        statements.append(f"CREATE TYPE {name} AS ({inner})")
        return name

    root = query.ruleset.plan.inputs
    columns = [f"{_quote(ROW)} bigint"] + [f"{_quote(k)} {pg(f)}" for k, f in root.fields.items()]
    return [*statements, f"CREATE TABLE {_quote(table)} ({', '.join(columns)})"]


def postgres_query(query: CompiledQuery, source: str = "assessments") -> str:
    """The standard form of the query written for PostgreSQL, with what its dialect needs beyond
    sqlglot's: a field of a composite value read as ``(value).field``, and a loop over an array of
    composites naming each element by the loop's table alias (a whole-row value)."""
    _duckdb_only(query, "postgres")
    tree = _anchored(query.with_source(source))
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        if alias is None or not alias.columns:
            continue
        table, column = alias.name, alias.columns[0].name
        select = unnest.find_ancestor(exp.Select)
        uses = [c for c in select.find_all(exp.Column) if c.table == table and c.name == column] \
            if select is not None else []
        # an element with fields: unnested, PostgreSQL makes its fields the row's columns, the first named by the alias
        if unnest.meta.get(_COMPOSITE_ITEMS) or any(isinstance(c.parent, exp.Dot) and c.parent.this is c for c in uses):
            unnest.set("alias", exp.TableAlias(this=exp.to_identifier(column, quoted=True)))
            for c in uses:
                c.replace(exp.column(column, quoted=True))
    for dot in list(tree.find_all(exp.Dot)):
        if not isinstance(dot.this, exp.Paren):
            dot.set("this", exp.Paren(this=dot.this))
    _list_sizes(tree, "postgres")
    _postgres_nulls(tree)
    return tree.sql(dialect="postgres")


def _list_sizes(tree: exp.Expr, dialect: str) -> None:
    """A list's length (``len()``, ``count()`` of a list) written so that an empty list is 0 and an absent one
    NULL in ``dialect``, as DuckDB's ``ARRAY_LENGTH`` and the Python engine have them: PostgreSQL's
    ``ARRAY_LENGTH(x, 1)`` (sqlglot's form) is NULL for an empty array, so ``CARDINALITY(x)`` (Trino's name too);
    Spark's ``SIZE(NULL)`` is -1 unless ANSI mode or ``spark.sql.legacy.sizeOfNull`` is off, so it is asked only
    of a list that is there."""
    for node in list(tree.find_all(exp.ArraySize)):
        x = node.this
        if dialect == "spark":
            node.replace(_case([(exp.Is(this=x.copy(), expression=exp.Null()), exp.Null())],
                               exp.Anonymous(this="SIZE", expressions=[x.copy()])))
        elif dialect in ("postgres", "trino"):
            node.replace(exp.Anonymous(this="CARDINALITY", expressions=[x.copy()]))
