"""The criteria's outcomes packed into BIGINT columns, and what DuckDB's form reads of them, decide as Python.

The query returns the criteria's outcomes two bits each in ``criteria:<n>`` columns of 31 criteria (1 met, 2
unknown, 0 not met), which ``CompiledQuery.decode`` turns back into one ``criterion:<id>`` outcome each.
DuckDB's form also reads those bits: a score's met and unknown weights are the bits of the criteria of each
weight counted, and a conjunction (a group, a tier) of three criteria or more of one packed column is decided
by its bits. A comparison ``x <= month_end(d, n)`` (or ``>``, either side) is ``DATE_DIFF('MONTH', d, x) <= n``
there. The ruleset below has 38 criteria (two packed columns), a group within one column and one across both,
a score weighing criteria of both columns, and the four comparisons with ``month_end`` (and a ``<``,
which keeps its form); the rows sit on every side of each bound, with inputs absent.
"""

from __future__ import annotations

from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import differences  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402

COUNTS = 33  # criteria k0..k32: n >= i
PACKED = f"""\
methodology: sql-packed
version: 1.0.0
title: Criteria packed into bits
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {{type: date, required: true}}
  due: {{type: date}}
  n: {{type: integer, minimum: 0, maximum: 100}}
parameters:
  half: {{value: 0.5, unit: share of weight, assumed: "chosen for the test"}}
criteria:
  le: {{title: by the month end, when: "assessed_on <= month_end(due, 1)"}}
  gt: {{title: after the month end, when: "assessed_on > month_end(due, 1)"}}
  ge_flipped: {{title: by the month end (flipped), when: "month_end(due, 1) >= assessed_on"}}
  lt_flipped: {{title: after the month end (flipped), when: "month_end(due, 1) < assessed_on"}}
  lt: {{title: before the month end, when: "assessed_on < month_end(due, 1)"}}
{"".join(f'  k{i}: {{title: at least {i}, when: "n >= {i}"}}' + chr(10) for i in range(COUNTS))}\
groups:
  low: {{title: Low counts, all_of: [k0, k1, k2, le]}}
  across: {{title: Counts across both columns, all_of: [k24, k25, k26, k27, k28, k29, k30, k31, k32]}}
scores:
  mixed:
    title: Mixed
    weights: {{k1: 1, k3: 2, k5: 2, k7: 1, k29: 3, k31: 1, k32: 2, le: 3}}
    threshold: half
    assumed: "chosen for the test"
labels: [one, two]
tiers:
  one: {{title: One, requires: [low, mixed]}}
  two: {{title: Two, requires: [across, gt, k10, k11, k12]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: forever, title: No expiry, labels: [one, two], valid_until: never}}
"""


def _rows() -> list[dict[str, Any]]:
    """Counts absent, 0 and on both sides of each group's and tier's bounds, with the due date absent, or a month (a
    leap February among them) before the assessment, so that it is the month end's day, the day before or after."""
    dues = [None, "2024-01-31", "2024-01-01", "2023-12-31", "2024-01-30", "2023-12-15", "2024-02-29"]
    days = ["2024-02-28", "2024-02-29", "2024-03-01", "2024-01-31", "2024-03-31", "2024-04-01"]
    rows: list[dict[str, Any]] = []
    for i, n in enumerate([None, 0, 3, 12, 29, 32, 40]):
        for j, due in enumerate(dues):
            row: dict[str, Any] = {"assessed_on": days[(i + j) % len(days)]}
            if due is not None:
                row["due"] = due
            if n is not None:
                row["n"] = n
            rows.append(row)
    return rows


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Ruleset, sql.CompiledQuery]:
    """The ruleset and its query, compiled once for the module."""
    path = tmp_path_factory.mktemp("packed") / "1.0.0.yaml"
    path.write_text(PACKED, encoding="utf-8")
    ruleset = load_ruleset(path)
    return ruleset, sql.compile_ruleset(ruleset)


def test_packed_outcomes_bit_counted_weights_and_month_ends_are_decided_by_sql_as_by_python(
        compiled: tuple[Ruleset, sql.CompiledQuery]) -> None:
    """Every criterion (unpacked from two columns), group, score weight and tier gets the Python engine's
    outcome on every row in DuckDB's form (bits counted, month ends compared by DATE_DIFF), every outcome
    occurring. (The standard form, a CASE per weight and member, is decided by the differential tests of every
    shipped version in that form too, and on PostgreSQL, which has no BIT_COUNT of a BIGINT.)"""
    ruleset, query = compiled
    packed = [c for c in query.columns if c.kind == sql.PACKED]
    assert [len(c.members) for c in packed] == [31, 7]
    assert not any(c.kind == "criterion" for c in query.columns)
    forms = [n.meta[sql._DUCKDB] for n in query.tree.walk() if sql._DUCKDB in n.meta]
    # le, gt and both flipped (lt keeps LAST_DAY) compare DATE_DIFFs
    assert sum(isinstance(f.this, sql.exp.DateDiff) for f in forms) == 4
    # low (le, k0..k2), across (k26..k32 of the second column; k24, k25 are two of the first) and two (k10..k12),
    # then mixed's met and unknown weights: one count per weight and column, six each
    assert sum(len(list(f.find_all(sql.exp.Anonymous))) for f in forms) == 3 + 2 * 6
    found, seen = differences(ruleset, _rows(), query=query)
    assert not found, found[:3]
    assert {"met", "not_met", "unknown", "tier:one=unknown", "tier:two=met", "label=one", "label=two"} <= set(seen)


def test_an_outcome_packed_at_another_members_place_is_caught(monkeypatch: pytest.MonkeyPatch,
                                                              compiled: tuple[Ruleset, sql.CompiledQuery]) -> None:
    """The differential can fail: criteria decoded one place off (each read at its neighbour's bits) are found."""
    monkeypatch.setattr(sql, "unpacked", lambda column, value: {
        f"criterion:{m}": sql.CODES[(value >> 2 * ((k + 1) % len(column.members))) & 3]
        for k, m in enumerate(column.members)})
    ruleset, query = compiled
    found, _ = differences(ruleset, _rows(), query=query)
    assert found


def test_decoding_gives_each_criterion_its_outcome_and_keeps_the_columns_order() -> None:
    """A packed value's codes (1 met, 2 unknown, 0 not met, two bits each, the first member lowest) are the
    outcomes ``decode`` and ``outcomes`` give, in the members' order, after the other outcome columns."""
    columns = (sql.Column("label", "label"), sql.Column("tier:a", "tier", "a"),
               sql.Column("criteria:0", sql.PACKED, members=("x", "y", "z")))
    query = sql.CompiledQuery(ruleset=None, tree=sql.exp.select("1"), columns=columns,  # type: ignore[arg-type]
                              table_columns={})
    value = 1 | 2 << 2 | 0 << 4
    row = query.decode({"label": "a", "tier:a": None, "criteria:0": value})
    assert row == {"label": "a", "tier:a": "unknown", "criterion:x": "met", "criterion:y": "unknown",
                   "criterion:z": "not_met"}
    assert [c.name for c in query.outcome_columns] == ["tier:a", "criterion:x", "criterion:y", "criterion:z"]
    pairs = list(query.outcomes(zip(columns, ["a", True, value], strict=True)))
    assert [(c.id, found) for c, found in pairs] == [("a", "met"), ("x", "met"), ("y", "unknown"), ("z", "not_met")]


@pytest.mark.parametrize("standard", [False, True], ids=["duckdb form", "standard form"])
def test_the_query_written_unpacked_gives_a_boolean_column_per_criterion_with_the_packed_outcomes(
        standard: bool, compiled: tuple[Ruleset, sql.CompiledQuery]) -> None:
    """``query.sql(unpacked=True)``, for whoever reads the rows in SQL, gives one three-valued BOOLEAN column
    ``criterion:<id>`` per criterion, where the packed columns stood and in their members' order, and no packed
    column; each of those columns holds what the packed bits say (``decode`` reads both forms alike), on every
    row, in DuckDB's form and in the standard one."""
    _, query = compiled
    con = duckdb.connect()
    assert not sql.load_table(con, query, enumerate(_rows(), 1))
    cursor = con.execute(query.sql("duckdb", "assessments", standard=standard, unpacked=True))
    names = [d[0] for d in cursor.description]
    criteria = [m for c in query.columns if c.kind == sql.PACKED for m in c.members]
    assert names == [n for c in query.columns for n in
                     ([f"criterion:{m}" for m in c.members] if c.kind == sql.PACKED else [c.name])]
    assert len(criteria) == 38
    assert not any(n.startswith(f"{sql.PACKED}:") for n in names)
    types = {d[0]: str(d[1]) for d in cursor.description}
    assert {types[f"criterion:{m}"] for m in criteria} == {"BOOLEAN"}
    unpacked = sorted((query.decode(dict(zip(names, v, strict=True))) for v in cursor.fetchall()),
                      key=lambda r: r["row"])
    packed_names = [c.name for c in query.columns]
    packed = sorted((query.decode(dict(zip(packed_names, v, strict=True)))
                     for v in con.execute(query.sql("duckdb", "assessments", standard=standard)).fetchall()),
                    key=lambda r: r["row"])
    assert unpacked == packed
    assert {r[f"criterion:{m}"] for r in unpacked for m in criteria} == {"met", "not_met", "unknown"}
    # PostgreSQL, Spark and Trino get the same columns (their text is parsed back)
    for dialect in ("postgres", "spark", "trino"):
        text = query.sql(dialect, "assessments", unpacked=True)
        selected = sql.sqlglot.parse_one(text, read=dialect)
        assert [e.alias_or_name for e in selected.expressions] == names, dialect
