"""Short lists written out as positional columns are decided by DuckDB exactly as the lists are, and as Python.

Preparing a table (``sql.load_table``) also writes each list input whose longest list is at most
``sql.POSITIONS`` items as its length and one column per item (``sql.write_positions``); a query written with
that layout (``CompiledQuery.sql(layout=...)``, which ``sql.run`` and the SQL impact study read from the table,
``sql.layout_of``) unrolls each loop over such a list into one copy of its body per position, guarded by the
length. What must hold, on the shipped versions, on generated populations and on hand-made rows that reach
the three-valued cases (an absent list, an empty one, one of exactly K items, items with absent fields,
unknown filters and values, loops nested both ways): every row is decided as the Python engine decides it,
and as the query over the lists decides it; a list longer than the bound, or than the positions a table holds,
is never decided by positions that miss an item.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import EVERY, VERSIONS, _embedded, _expected, _got, _ruleset, _without_lists  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.errors import AssessmentError  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402
from ecei_rules.testing.synth import synthesize  # noqa: E402

LOOPS = """\
methodology: sql-positional
version: 1.0.0
title: Loops over short lists
status: draft
effective_from: 2020-01-01
catalogues:
  topics:
    title: Topics
    source: "Test handbook"
    items:
      t1: {title: One, type: boolean}
      t2: {title: Two, type: boolean}
      t3: {title: Three, type: boolean}
inputs:
  assessed_on: {type: date, required: true}
  areas:
    type: list
    max_items: 20
    items:
      type: object
      fields:
        kind: {type: enum, values: [a, b, c, d], required: true}
        topic: {type: string, catalogue: topics, required: true}
        note: {type: string}
        checked: {type: boolean}
        amount: {type: decimal}
        on: {type: date}
        tags: {type: list, max_items: 10, items: {type: string}}
  tags:
    type: list
    max_items: 10
    items: {type: string}
  org:
    type: object
    fields:
      sites:
        type: list
        items: {type: integer}
parameters:
  notes: {value: [x, y, z, x], assumed: "chosen for the test (x twice)"}
criteria:
  any_exact: {title: t, when: any(a.kind == "a" for a in areas)}
  all_exact: {title: t, when: all(a.kind != "d" for a in areas if a.kind != "a")}
  any_kleene: {title: t, when: any(a.checked for a in areas if a.kind != "a")}
  all_kleene: {title: t, when: all(a.checked for a in areas)}
  any_filter_unknown: {title: t, when: any(a.kind == "b" for a in areas if a.checked)}
  all_filter_unknown: {title: t, when: all(a.kind == "b" for a in areas if a.checked)}
  count_exact: {title: t, when: count(a for a in areas if a.kind == "b") >= 2}
  count_range: {title: t, when: count(a for a in areas if a.checked) >= 2}
  distinct_bits: {title: t, when: count_distinct(a.kind for a in areas) >= 2}
  distinct_bits_range: {title: t, when: count_distinct(a.kind for a in areas if a.checked) >= 2}
  distinct_in: {title: t, when: "count_distinct(a.note for a in areas if a.note in params.notes) >= 2"}
  distinct_any: {title: t, when: count_distinct(a.note for a in areas) >= 2}
  distinct_dates: {title: t, when: count_distinct(a.on for a in areas if a.kind != "d") == 2}
  sum_amount: {title: t, when: sum(a.amount for a in areas if a.kind != "c") >= 1.5}
  min_amount: {title: t, when: min(a.amount for a in areas) < 0}
  max_on: {title: t, when: max(a.on for a in areas if a.checked) > assessed_on}
  length: {title: t, when: len(areas) >= 3}
  known_areas: {title: t, when: known(areas)}
  nested_item: {title: t, when: any(any(t == "x" for t in a.tags) for a in areas)}
  nested_root: {title: t, when: any(count_distinct(b.kind for b in areas if b.topic == a.topic) >= 2 for a in areas)}
  tags_root: {title: t, when: 'any(t == "x" or t == "y" for t in tags)'}
  tags_inside: {title: t, when: any(any(t == a.note for t in tags) for a in areas if a.checked)}
  sites: {title: t, when: sum(s for s in org.sites) >= 3 and max(s for s in org.sites) <= 5}
labels: [one]
tiers:
  one: {title: One, requires: [any_exact]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [one], valid_until: never}
"""


def _loops(tmp_path: Path) -> Ruleset:
    path = tmp_path / "1.0.0.yaml"
    path.write_text(LOOPS, encoding="utf-8")
    return load_ruleset(path)


def _area(kind: str, topic: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "topic": topic, **fields}


#: The longest list of areas among the hand-made rows (a row has exactly this many).
LONGEST = 4


def _rows() -> list[dict[str, Any]]:
    """Hand-made rows: absent and empty lists, a list of exactly LONGEST items, the same value twice, values
    outside the known texts, absent fields (unknown filters and values), a list inside an object."""
    day = {"assessed_on": "2021-06-01"}
    lists = [
        [],
        [_area("a", "t1", note="x", checked=True, amount=Decimal("1.5"), on="2021-01-01", tags=["x"])],
        [_area("b", "t1", note="x", checked=True), _area("b", "t1", note="x", checked=True)],
        [_area("b", "t2", note="w"), _area("c", "t2", checked=False, amount=Decimal("-1")), _area("d", "t3", note="z")],
        [_area("a", "t1", note="x", checked=True, amount=Decimal("0.5"), on="2021-07-01"),
         _area("b", "t2", note="y", checked=None, amount=Decimal("1"), on="2021-07-01", tags=[]),
         _area("c", "t2", note="v", checked=False, on="2020-01-01", tags=["y", "x"]),
         _area("d", "t3", checked=True, amount=Decimal("2"), on="2022-01-01")],
        [_area("b", "t3", checked=True), _area("c", "t3", note="y"), _area("b", "t1", note="y", checked=True)],
        [_area("d", "t1", amount=Decimal("3")), _area("d", "t2", checked=True, on="2021-06-02")],
        [_area("c", "t1", note="z", checked=True, amount=Decimal("-2"), on="2021-05-01", tags=["y"])],
        [_area("b", "t2", note="y", checked=True, on="2021-08-01"), _area("a", "t3", checked=False)],
    ]
    rows: list[dict[str, Any]] = [{**day, "areas": areas} for areas in lists]
    rows += [dict(day), {**day, "tags": []}, {**day, "tags": ["z", "x"], "areas": lists[4]},
             {**day, "org": {}}, {**day, "org": {"sites": []}}, {**day, "org": {"sites": [1, 2, 1]}},
             {**day, "org": {"sites": [4, 6]}, "tags": ["w"], "areas": lists[5]}]
    assert max(len(r.get("areas", [])) for r in rows) == LONGEST
    return rows


def _decided(query: sql.CompiledQuery, population: list[dict[str, Any]], layout: dict[str, int] | None = None,
             positions: int = sql.POSITIONS) -> tuple[dict[int, dict[str, Any]], dict[str, int], str]:
    """Each row decided by DuckDB over the table ``load_table`` prepares (with ``positions``), in the layout the
    table holds (``layout_of``) or the one given; and the layout and query text used."""
    con = duckdb.connect()
    refused = sql.load_table(con, query, enumerate(population, 1), positions=positions)
    assert not refused, refused[:3]
    layout = sql.layout_of(con) if layout is None else layout
    text = query.sql("duckdb", "assessments", layout=layout)
    names = [c.name for c in query.columns]
    rows = [query.decode(dict(zip(names, values, strict=True))) for values in con.execute(text).fetchall()]
    assert len(rows) == len(population)
    return {row["row"]: row for row in rows}, layout, text


def _differences(ruleset: Ruleset, query: sql.CompiledQuery, population: list[dict[str, Any]],
                 positions: int = sql.POSITIONS) -> tuple[list[str], dict[str, int], set[str]]:
    """Rows where the query in the table's positional layout and the Python engine, or the query over the lists,
    decide differently (described); the layout; the outcomes seen."""
    by_positions, layout, _ = _decided(query, population, positions=positions)
    by_lists, _, _ = _decided(query, population, layout={})
    out: list[str] = []
    seen: set[str] = set()
    for number, row in sorted(by_positions.items()):
        if row != by_lists[number]:
            out.append(f"row {number}: positions {row} != lists {by_lists[number]}")
        try:
            want = _expected(evaluate(ruleset, population[number - 1]), query)
        except AssessmentError:
            if row["error"] is None:
                out.append(f"row {number}: Python refuses it, SQL decides it")
            continue
        got = _got(row, query)
        seen.update(f"{k}={v}" for k, v in want.items() if k.startswith("criterion:"))
        if got != want:
            out.append(f"row {number}: {({k: (want[k], got.get(k)) for k in want if want[k] != got.get(k)})}")
    return out, layout, seen


def test_every_aggregate_over_positional_columns_decides_the_hand_made_rows_as_python_and_as_the_lists(
        tmp_path: Path) -> None:
    """any/all (exact and three-valued, unknown filters), count (exact and a range), count_distinct (as bits, with
    an 'in' list, of any text, of dates), sum, min, max, len and known over the positional columns of the
    hand-made rows (absent, empty and longest lists, absent fields), and loops nested both ways (over an item's
    own list, which stays a list, and over a positional list inside a positional loop), decide every row as the
    Python engine and as the query over the lists; each criterion meets all three outcomes somewhere (known(), two)."""
    ruleset = _loops(tmp_path)
    query = sql.compile_ruleset(ruleset)
    found, layout, seen = _differences(ruleset, query, _rows())
    assert not found, found[:3]
    assert layout == {"/areas": LONGEST, "/tags": 2, "/org/sites": 3}
    for c in ruleset.plan.criteria:
        outcomes = ("met", "not_met") if c.id == "known_areas" else ("met", "not_met", "unknown")
        assert {f"criterion:{c.id}={o}" for o in outcomes} <= seen, c.id
    _, _, text = _decided(query, _rows())
    assert '"_a"."areas"' not in text.replace('"_a"."areas"."', "")  # no loop over areas reads the list
    assert 'LIST_TRANSFORM("_a"."ecei:list:/areas#0"."tags"' in text  # a loop over an item's own tags: a lambda


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the hand-made rows above
def test_generated_populations_over_positional_columns_are_decided_as_python_and_as_the_lists(tmp_path: Path) -> None:
    """Property: 200 synth assessments of the loops ruleset and of the every-construct ruleset (its history,
    areas, renewal rule), and the same with every other one's lists absent, decide every row as the Python
    engine and as the query over the lists, in the positional layout."""
    for ruleset in (_loops(tmp_path), load_ruleset(EVERY[0])):
        query = sql.compile_ruleset(ruleset)
        population = list(synthesize(200, seed=13, start=dt.date(2015, 1, 1), end=dt.date(2024, 1, 1),
                                     versions=[ruleset], methodology=ruleset.methodology))
        for rows in (population, _without_lists(population)):
            found, layout, _ = _differences(ruleset, query, rows)
            assert not found, found[:3]
            assert layout


@pytest.mark.no_cover  # repetition at scale, like test_sql_engine's property over every version
@pytest.mark.parametrize("version", VERSIONS)
def test_every_shipped_version_over_positional_columns_is_decided_as_python_and_as_the_lists(version: str) -> None:
    """Property: for every shipped version (each has list inputs), its embedded tests and 300 synth assessments,
    and the same with every other one's lists absent, are decided in the positional layout (history and, from
    1.2.0, improvement areas) as the Python engine and the query over the lists decide them."""
    ruleset = _ruleset(version)
    query = sql.compile_ruleset(ruleset)
    population = _embedded(ruleset) + list(synthesize(300, seed=7, start=dt.date(2010, 1, 1),
                                                      end=dt.date(2026, 12, 31), versions=[ruleset.version]))
    for rows in (population, _without_lists(population)):
        found, layout, _ = _differences(ruleset, query, rows)
        assert not found, found[:3]
        assert "/history" in layout


def test_the_latest_version_reads_its_lists_as_positional_columns_and_decides_as_python() -> None:
    """3.0.1's embedded tests (the renewal rule's loops, S1, S3 at exactly three areas, an absent list) and the
    same with their lists absent: the positional query reads neither list column, and decides as Python."""
    ruleset = _ruleset("3.0.1")
    query = sql.compile_ruleset(ruleset)
    for rows in (_embedded(ruleset), _without_lists(_embedded(ruleset))):
        found, layout, _ = _differences(ruleset, query, rows)
        assert not found, found[:3]
        assert set(layout) == {"/history", "/improvement_areas"}
    text = query.sql("duckdb", "t", layout=layout)
    assert "LIST_TRANSFORM" not in text
    assert '"_a"."history"' not in text
    assert '"_a"."improvement_areas"' not in text


def test_a_list_longer_than_the_bound_is_read_as_a_list_and_decided_as_python(tmp_path: Path) -> None:
    """A population with one list of areas longer than POSITIONS: the table gets no positional columns for areas
    (the other lists keep theirs), and every row is decided as Python; with the bound raised to that length,
    areas get exactly that many positions, and the rows are decided as Python again."""
    ruleset = _loops(tmp_path)
    query = sql.compile_ruleset(ruleset)
    long = [_area("abcd"[i % 4], f"t{1 + i % 3}", note="xyzw"[i % 4], checked=i % 3 == 0 or None)
            for i in range(sql.POSITIONS + 1)]
    rows = [*_rows(), {"assessed_on": "2021-06-01", "areas": long}]
    found, layout, _ = _differences(ruleset, query, rows)
    assert not found, found[:3]
    assert "/areas" not in layout
    assert layout
    found, layout, _ = _differences(ruleset, query, rows, positions=sql.POSITIONS + 1)
    assert not found, found[:3]
    assert layout["/areas"] == sql.POSITIONS + 1


def test_positional_columns_shorter_than_a_list_are_not_read(tmp_path: Path) -> None:
    """A table whose positional columns miss an item of one list (written by hand, one position short): layout_of
    leaves that list out, so `run` decides every row as Python; the query told to read those columns anyway
    decides that row differently (the check is what keeps it exact)."""
    ruleset = _loops(tmp_path)
    query = sql.compile_ruleset(ruleset)
    rows = _rows()
    con = duckdb.connect()
    sql.load_table(con, query, enumerate(rows, 1), positions=0)
    short = LONGEST - 1
    columns = [f'len(areas) AS "{sql.position_column("/areas", None)}"',
               *(f'areas[{i + 1}] AS "{sql.position_column("/areas", i)}"' for i in range(short))]
    con.execute(f"CREATE OR REPLACE TABLE assessments AS SELECT *, {', '.join(columns)} FROM assessments")
    assert sql.layout_of(con) == {}
    for row in sql.run(con, query):
        want = _expected(evaluate(ruleset, rows[row["row"] - 1]), query)
        assert _got(row, query) == want
    forced = con.execute(query.sql("duckdb", "assessments", layout={"/areas": short})).fetchall()
    listed = con.execute(query.sql("duckdb", "assessments")).fetchall()
    assert sorted(forced, key=str) != sorted(listed, key=str)


def test_a_loop_reading_the_wrong_position_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The differential can fail: a query whose item i reads position i + 1 (its columns named one off) decides
    some hand-made row differently from Python."""
    ruleset = _loops(tmp_path)
    query = sql.compile_ruleset(ruleset)
    real = sql.position_column
    rows = _rows()
    con = duckdb.connect()
    sql.load_table(con, query, enumerate(rows, 1))
    layout = sql.layout_of(con)
    monkeypatch.setattr(sql, "position_column", lambda pointer, i: real(pointer, None if i is None else
                                                                        (i + 1) % layout[pointer]))
    text = query.sql("duckdb", "assessments", layout=layout)
    names = [c.name for c in query.columns]
    wrong = 0
    for values in con.execute(text).fetchall():
        row = query.decode(dict(zip(names, values, strict=True)))
        wrong += _got(row, query) != _expected(evaluate(ruleset, rows[row["row"] - 1]), query)
    assert wrong


def test_the_standard_form_ignores_the_layout() -> None:
    """Only DuckDB's form reads positional columns: the PostgreSQL, Spark and Trino forms written with a layout
    are those written without (they read the lists, which the table keeps)."""
    query = sql.compile_ruleset(_ruleset("3.0.1"))
    layout = {"/history": 4, "/improvement_areas": 5}
    for dialect in ("postgres", "spark", "trino"):
        assert query.sql(dialect, "t", layout=layout) == query.sql(dialect, "t")
    assert query.sql("duckdb", "t", layout=layout) != query.sql("duckdb", "t")


def test_prepared_impact_files_and_their_copies_hold_the_positional_columns(tmp_path: Path) -> None:
    """``prepare_impact`` writes each side's short lists as positional columns too (2.0.0 and 3.0.0: history and
    improvement areas), ``copies`` keeps them, and the impact study over the copies is the one over the
    original with every count tripled."""
    from ecei_rules.backends import sql_impact

    old, new = _ruleset("2.0.0"), _ruleset("3.0.0")
    population = _embedded(old) + _embedded(new)
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path / "prepared")
    copied = sql_impact.copies(prepared, 3)
    con = duckdb.connect()
    for side in sql_impact.SIDES:
        layouts = [sql.layout_of(con, f"read_parquet('{folder / (side + '.parquet')}')")
                   for folder in (prepared, copied)]
        assert layouts[0] == layouts[1]
        assert set(layouts[0]) == {"/history", "/improvement_areas"}
    once, thrice = (sql_impact.impact_from_parquet(old, new, folder).to_json() for folder in (prepared, copied))
    assert thrice["assessments"] == 3 * once["assessments"]
    assert thrice["matrix"] == {a: {b: 3 * n for b, n in row.items()} for a, row in once["matrix"].items()}


def test_impact_read_back_by_python_from_a_table_with_positional_columns_is_the_python_studys(
        tmp_path: Path) -> None:
    """An impact study to a version with a derived value (the loops ruleset 1.0.0 -> a 1.1.0 whose tier also
    needs two distinct kinds, counted into a derived value): the rows the study reads back from the prepared
    table for the Python engine (unknown tiers, changes) are the assessments without the positional columns,
    and the report, decided over those columns, is the Python study's, member for member."""
    from ecei_rules.backends import sql_impact
    from ecei_rules.compare.impact import impact

    (tmp_path / "1.0.0.yaml").write_text(LOOPS, encoding="utf-8")
    derived = ("derived:\n  kinds:\n    title: Kinds\n    type: integer\n    value: count_distinct(a.kind for a in "
               "areas)\nlabels: [one]\n")
    newer = LOOPS.replace("version: 1.0.0", "version: 1.1.0").replace("labels: [one]\n", derived).replace(
        "  sites: {title: t,", "  many_kinds: {title: t, when: kinds >= 2}\n  sites: {title: t,").replace(
        "requires: [any_exact]", "requires: [any_exact, many_kinds]")
    (tmp_path / "1.1.0.yaml").write_text(newer, encoding="utf-8")
    old, new = load_ruleset(tmp_path / "1.0.0.yaml"), load_ruleset(tmp_path / "1.1.0.yaml")
    population = _rows()
    want = {k: v for k, v in impact(old, new, population, jobs=1).to_json().items() if k not in ("seconds", "jobs")}
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path / "prepared")
    con = duckdb.connect()
    assert sql.layout_of(con, f"read_parquet('{prepared / 'new.parquet'}')")
    got = sql_impact.impact_from_parquet(old, new, prepared).to_json()
    assert {k: v for k, v in got.items() if k not in ("seconds", "jobs")} == want
    assert want["transitions"]
    assert any(want["projection"][side]["missing"] for side in ("old", "new"))
