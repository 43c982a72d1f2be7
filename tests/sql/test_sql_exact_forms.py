"""What an attacker found the SQL engine deciding otherwise than the Python engine, or not at all, now decided
as the Python engine decides it (or refused when compiling, Q001, where the SQL form cannot hold it).

Each test compiles a small ruleset, decides hand-made rows in every DuckDB form of the query (DuckDB's own, the
standard form, and over the positional columns of short lists) or in PostgreSQL, and compares each row with the
Python engine's decision: products beyond a BIGINT, a score whose numbers need more than 38 digits, a loop in a
loop whose filter reads the outer item, an aggregate reading no item of its loop, ``known()`` of an empty
object, a derived value over a short list, and a string holding U+0000.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import _expected, _got  # noqa: E402
from test_sql_postgres import _psql  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402

HEAD = """\
methodology: sql-exact
version: 1.0.0
title: t
status: draft
effective_from: 2020-01-01
"""
TAIL = """\
labels: [one]
tiers:
  one: {title: One, requires: [%s]}
validity:
  valid_from: assessed_on
  rules:
    - {id: r, title: t, labels: [one], valid_until: never}
"""
DAY = {"assessed_on": "2021-01-01"}


def _ruleset(tmp_path: Path, body: str, requires: str) -> Ruleset:
    path = tmp_path / "1.0.0.yaml"
    path.write_text(HEAD + body + TAIL % requires, encoding="utf-8")
    return load_ruleset(path)


def _agree_in_every_duckdb_form(ruleset: Ruleset, rows: list[dict[str, Any]]) -> set[str]:
    """Assert that DuckDB's form, the standard form and the form over positional columns each decide every row as
    the Python engine; the criteria's outcomes seen."""
    query = sql.compile_ruleset(ruleset)
    con = duckdb.connect()
    assert not sql.load_table(con, query, enumerate(rows, 1))
    want = {i: _expected(evaluate(ruleset, row), query) for i, row in enumerate(rows, 1)}
    for form in ({}, {"standard": True}, {"layout": sql.layout_of(con)}):
        cursor = con.execute(query.sql("duckdb", "assessments", **form))  # type: ignore[arg-type]
        names = [d[0] for d in cursor.description]
        got = {row["row"]: _got(row, query) for row in (query.decode(dict(zip(names, values, strict=True)))
                                                        for values in cursor.fetchall())}
        assert got == want, form
    return {v for decided in want.values() for k, v in decided.items() if k.startswith("criterion:")}


def _postgres_decisions(postgres: str, ruleset: Ruleset, rows: list[dict[str, Any]]) -> tuple[
        dict[int, dict[str, Any]], list[sql.Refused]]:
    """Each row loaded into PostgreSQL (as test_sql_postgres does) and decided by the PostgreSQL form, with the
    Python engine's decision beside it (by row); the rows the table refused."""
    query = sql.compile_ruleset(ruleset)
    refused: list[sql.Refused] = []
    lines = "[" + ",".join(sql.table_rows(ruleset, enumerate(rows, 1), refused)) + "]"
    schema = "ecei_sql_exact"
    _psql(postgres, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};\n"
          + ";\n".join(sql.postgres_schema(query)) + ";\n"
          + "INSERT INTO assessments SELECT * FROM jsonb_populate_recordset(NULL::assessments, $ecei$"
          + lines + "$ecei$::jsonb);\n")
    out = _psql(postgres, f"COPY (SELECT row_to_json(x) FROM ({sql.postgres_query(query, f'{schema}.assessments')})"
                " x) TO STDOUT;\n")
    _psql(postgres, f"DROP SCHEMA {schema} CASCADE;\n")
    decided = {}
    for line in out.splitlines():
        row = query.decode(json.loads(line, parse_float=Decimal))
        want = _expected(evaluate(ruleset, rows[row["row"] - 1]), query)
        got = {k: v for k, v in row.items() if k not in ("row", "subject", "valid_from", "valid_until")}
        decided[row["row"]] = {"got": got, "want": {k: v for k, v in want.items() if k in got}}
    return decided, refused


# -- 1. products beyond a BIGINT -------------------------------------------------------------------------------

PRODUCTS = """\
inputs:
  assessed_on: {type: date, required: true}
  i: {type: integer}
  r: {type: decimal, minimum: -5, maximum: 5}
  p: {type: decimal}
  q: {type: integer, minimum: 0, maximum: 1000000000000}
  a: {type: boolean}
parameters:
  m: {value: 1.0000001, unit: points, assumed: t}
criteria:
  A: {title: t, when: a}
  square: {title: t, when: i * i > 100}
  cube: {title: t, when: "-i * i * 10 < -5"}
  small_square: {title: t, when: r * r > 24}
  floored: {title: t, when: floor(p / i) >= 0}
  rounded: {title: t, when: "round(p / i, 2) > 0.1"}
scores:
  s:
    title: s
    weights: {A: 1}
    points:
      qq: {value: q, maximum: 1000000000000}
    minimum: m
    assumed: t
"""


def test_products_beyond_a_bigint_are_decided_exactly_as_python(tmp_path: Path) -> None:
    """``i * i`` of an integer input (up to 2^53 - 1), and a score's met weight times its threshold's denominator
    (a points maximum of 10^12 beside a minimum of 1.0000001), need more than 18 digits: DuckDB multiplied them as
    BIGINTs, in 64 bits, and the whole query failed (overflow). Every form now decides each row as the Python
    engine, and so it does the other products of more than 18 digits (``r * r`` of two DECIMAL(16, 15)s, the
    integer division of a quotient with 15 decimal places)."""
    ruleset = _ruleset(tmp_path, PRODUCTS, "square, s")
    rows = [{**DAY, "i": 3037000500, "r": Decimal("4.99999999999999"), "p": Decimal("0.5"), "q": 10 ** 12,
             "a": True},
            {**DAY, "i": 9007199254740991, "r": Decimal("-5"), "p": Decimal("-0.123456789012345"), "q": 7},
            {**DAY, "i": -9007199254740991, "r": Decimal("0.000000000000001"), "p": Decimal("12345.6789012345")},
            {**DAY, "i": 5, "p": Decimal("0.7"), "q": 999999999999, "a": False}, dict(DAY)]
    assert {"met", "not_met", "unknown"} <= _agree_in_every_duckdb_form(ruleset, rows)


def test_a_score_whose_points_add_up_beyond_a_bigint_is_decided_as_python(tmp_path: Path) -> None:
    """Eleven numbers weighed up to 9 x 10^15 each, at a scale of 100 (a weight of 0.01): each scaled maximum is a
    BIGINT, and their sum (the unknown weight of a row without them, 9.9 x 10^18) was added as BIGINTs, beyond 2^63
    (DuckDB and PostgreSQL fail the whole query). Every term is now of the sum's own type."""
    body = "inputs:\n  assessed_on: {type: date, required: true}\n  a: {type: boolean}\n" + "".join(
        f"  q{k}: {{type: integer}}\n" for k in range(11)) + """\
parameters:
  m: {value: 1, unit: points, assumed: t}
criteria:
  A: {title: t, when: a}
scores:
  s:
    title: s
    weights: {A: 0.01}
    minimum: m
    assumed: t
    points:
""" + "".join(f"      p{k}: {{value: q{k}, maximum: 9000000000000000}}\n" for k in range(11))
    ruleset = _ruleset(tmp_path, body, "s")
    full = {f"q{k}": 9000000000000000 for k in range(11)}
    _agree_in_every_duckdb_form(ruleset, [dict(DAY), {**DAY, "a": True, **full}, {**DAY, "q1": 5}, {**DAY, "q2": -1}])


# -- 2. a score whose numbers need more than 38 digits: refused, not an internal error --------------------------

TOO_LONG = """\
inputs:
  assessed_on: {type: date, required: true}
  a: {type: boolean}
  p: {type: decimal}
parameters:
  m1: {value: 1, unit: points, assumed: t}
  m2: {value: 1.00000000000001, unit: points, assumed: t}
criteria:
  A: {title: t, when: a}
scores:
  s:
    title: s
    weights: {A: 0.000000000000001}
    points:
      pp: {value: p, maximum: 9007199254740991}
    minimum: m1
    assumed: t
  t:
    title: s
    weights: {A: 1000000000}
    points:
      pp: {value: p / 4, maximum: 1.5}
    assumed: t
    levels:
      l1: {minimum: m1}
      l2: {minimum: m2}
"""


def test_a_score_whose_numbers_need_more_than_38_digits_is_refused_naming_it(tmp_path: Path) -> None:
    """A weight of 10^-15 beside points up to 2^53 - 1, and a level's minimum of 14 decimal places beside a weight
    of 10^9 and points with 17 decimal places, need more than 38 digits to compare exactly: compiling raised the
    compiler's private refusal (an internal error, exit 2). It is now SqlRefused, one Q001 for each score or level
    it concerns, at its pointer (the Python engine decides the version)."""
    ruleset = _ruleset(tmp_path, TOO_LONG, "s, t.l1, t.l2")
    assert evaluate(ruleset, {**DAY, "a": True, "p": 1}).label == "one"
    with pytest.raises(sql.SqlRefused) as refused:
        sql.compile_ruleset(ruleset)
    found = refused.value.diagnostics
    assert [(d.code, d.pointer) for d in found] == [(sql.REFUSED, "/scores/s"), (sql.REFUSED, "/scores/t/levels/l2")]
    assert all("38 digits" in d.message for d in found)


# -- 3. loops: a filter reading the outer item, an aggregate reading no item ------------------------------------

LOOPS = """\
inputs:
  assessed_on: {type: date, required: true}
  flag: {type: boolean}
  n: {type: integer}
  other:
    type: list
    max_items: 20
    items:
      type: object
      fields:
        kind: {type: enum, values: [a, b, c]}
  items:
    type: list
    max_items: 20
    items:
      type: object
      fields:
        kind: {type: enum, values: [a, b, c]}
criteria:
  unique: {title: t, when: all(count(y for y in items if y.kind == x.kind) == 1 for x in items)}
  matched: {title: t, when: all(count(y for y in other if y.kind == x.kind) == 1 for x in items)}
  flagged: {title: t, when: count(x for x in items if flag) >= 2}
  any_flag: {title: t, when: any(flag for x in items)}
  biggest: {title: t, when: max(n for x in items) > 3}
  nested: {title: t, when: any(count(y for y in other if flag) >= 1 for x in items)}
"""
LOOP_ROWS = [dict(DAY), {**DAY, "items": []},
             {**DAY, "items": [{"kind": "a"}, {"kind": "b"}], "flag": True, "n": 5, "other": [{"kind": "a"}]},
             {**DAY, "items": [{"kind": "a"}, {"kind": "a"}, {}], "flag": False, "n": 1,
              "other": [{"kind": "a"}, {"kind": "b"}]},
             {**DAY, "items": [{}, {"kind": "c"}], "other": [{}]}, {**DAY, "items": [{"kind": "b"}], "flag": True}]


def test_loops_whose_aggregate_reads_the_outer_item_or_no_item_are_decided_in_the_standard_form(
        tmp_path: Path) -> None:
    """A loop in a loop whose filter reads the outer loop's item (the standard form on DuckDB failed: 'Referenced
    table "ecei:u1.ecei:i1" not found', as SQL gave the outer aggregate, which read the item only in a subquery, to
    the query outside the loop), and aggregates that read no item of their loop (``count(x for x in items if
    flag)``): every DuckDB form decides each row as the Python engine."""
    ruleset = _ruleset(tmp_path, LOOPS, "unique")
    assert {"met", "not_met", "unknown"} <= _agree_in_every_duckdb_form(ruleset, LOOP_ROWS)


def test_the_postgresql_form_decides_loops_reading_no_item_as_python(postgres: str, tmp_path: Path) -> None:
    """On PostgreSQL, the loops above: an aggregate whose argument reads only outer columns belongs to the outer
    query there, which then failed ('aggregate function calls cannot be nested', or wanted a GROUP BY). Each row is
    now decided as the Python engine decides it."""
    decided, refused = _postgres_decisions(postgres, _ruleset(tmp_path, LOOPS, "unique"), LOOP_ROWS)
    assert not refused
    assert sorted(decided) == list(range(1, len(LOOP_ROWS) + 1))
    for number, row in decided.items():
        assert row["got"] == row["want"], number


def test_the_postgresql_form_decides_known_of_an_empty_object_as_python(postgres: str, tmp_path: Path) -> None:
    """``known(org)`` of an empty object ``{}`` (every field absent) is met in the Python engine and DuckDB;
    PostgreSQL's ``IS NULL`` is true of a composite whose fields are all NULL, so its form said not met. ``known(x)``
    of an item of a list of objects read the item's first field (PostgreSQL's UNNEST makes the fields columns, and
    the loop's column alias named the first). Each row is now decided as the Python engine decides it."""
    body = """\
inputs:
  assessed_on: {type: date, required: true}
  org:
    type: object
    fields:
      v: {type: decimal}
      w: {type: integer}
  items:
    type: list
    max_items: 5
    items:
      type: object
      fields:
        kind: {type: enum, values: [a, b]}
criteria:
  has_org: {title: t, when: known(org)}
  has_item: {title: t, when: all(known(x) for x in items)}
"""
    rows = [dict(DAY), {**DAY, "org": {}, "items": [{}]}, {**DAY, "org": {"v": 1}, "items": [{"kind": "a"}, {}]},
            {**DAY, "org": {"v": 1, "w": 2}, "items": []}]
    decided, refused = _postgres_decisions(postgres, _ruleset(tmp_path, body, "has_org"), rows)
    assert not refused
    assert sorted(decided) == [1, 2, 3, 4]
    for number, row in decided.items():
        assert row["got"] == row["want"], number
    assert decided[2]["got"]["criterion:has_org"] == "met"


def test_a_string_holding_u0000_is_refused_by_the_table_at_its_row_and_pointer(postgres: str,
                                                                               tmp_path: Path) -> None:
    """PostgreSQL's text cannot hold U+0000, and a row with such a string made the whole load fail: the table
    now refuses that row (Q002, at the string's pointer), the other rows are decided as the Python engine decides
    them, in PostgreSQL and in DuckDB alike."""
    body = """\
inputs:
  assessed_on: {type: date, required: true}
  s: {type: string}
  tags: {type: list, max_items: 5, items: {type: string}}
criteria:
  named: {title: t, when: s == "x"}
"""
    ruleset = _ruleset(tmp_path, body, "named")
    rows = [{**DAY, "s": "x"}, {**DAY, "s": "a\x00b"}, {**DAY, "tags": ["ok", "\x00"]}, {**DAY, "s": "y"},
            {**DAY, "s": "\\u0000"}]
    decided, refused = _postgres_decisions(postgres, ruleset, rows)
    assert [(r.row, [(d.code, d.pointer) for d in r.diagnostics]) for r in refused] == [
        (2, [(sql.UNREPRESENTABLE, "/s")]), (3, [(sql.UNREPRESENTABLE, "/tags/1")])]
    assert sorted(decided) == [1, 4, 5]
    for number, row in decided.items():
        assert row["got"] == row["want"], number
    con = duckdb.connect()
    assert [r.row for r in sql.load_table(con, sql.compile_ruleset(ruleset), enumerate(rows, 1))] == [2, 3]


# -- 5. a derived value over a short list -------------------------------------------------------------------------

DERIVED = """\
inputs:
  assessed_on: {type: date, required: true}
  rooms:
    type: list
    max_items: 10
    items:
      type: object
      fields:
        area: {type: decimal, minimum: 0, maximum: 1000}
        lit: {type: boolean}
derived:
  biggest: {title: t, type: decimal, value: max(r.area for r in rooms)}
  smallest: {title: t, type: decimal, value: min(r.area for r in rooms)}
  some_lit: {title: t, type: boolean, value: any(r.lit for r in rooms)}
criteria:
  big: {title: t, when: biggest > 20}
  small: {title: t, when: smallest < 6}
  lit: {title: t, when: some_lit}
"""


def test_a_derived_value_over_a_short_list_is_decided_in_every_form(tmp_path: Path) -> None:
    """``max``, ``min`` and ``any`` over a short list as derived values: a derived column that is a loop lost its
    name when DuckDB's form (list lambdas) or the positional columns replaced the loop, and ``evaluate --engine
    sql`` and ``impact --engine sql`` failed (Binder Error: no column "derived:biggest"). Every form now decides
    each row as the Python engine."""
    ruleset = _ruleset(tmp_path, DERIVED, "big")
    rows = [{**DAY, "rooms": [{"area": 25, "lit": True}]}, {**DAY, "rooms": [{"area": 5}, {"area": 7, "lit": False}]},
            {**DAY, "rooms": []}, dict(DAY), {**DAY, "rooms": [{"lit": False}, {"area": 30}]}]
    assert {"met", "not_met", "unknown"} <= _agree_in_every_duckdb_form(ruleset, rows)
