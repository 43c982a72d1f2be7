"""The SQL engine (``ecei_rules.backends.sql``) decides exactly as the Python engine.

For every shipped version, one DuckDB query over a population (the version's embedded tests, which
sit at, just below and just above its thresholds by hand, and a synth population, which aims at every
threshold and leaves inputs absent) must give every row the Python engine's label, validity, tier,
group, score (outcome, met and unknown weight) and criterion outcomes. What the SQL form cannot
express is refused when compiling, naming the construct and where it is; rows the validator refuses
are never decided.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
sqlglot = pytest.importorskip("sqlglot")

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.decision import Decision  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.errors import AssessmentError  # noqa: E402
from ecei_rules.registry import Registry  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402
from ecei_rules.ruleset.load import test_assessment as embedded_assessment  # noqa: E402
from ecei_rules.testing.synth import synthesize  # noqa: E402

REGISTRY = Registry.shipped()
VERSIONS = REGISTRY.versions("ecei-labels")
EVERY = sorted((Path(__file__).parents[1] / "data" / "every").glob("*.yaml"))


def _ruleset(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


@functools.cache
def _query(version: str) -> sql.CompiledQuery:
    """Each version compiled once for the module (compiling and writing the query cost more than running it)."""
    return sql.compile_ruleset(_ruleset(version))


def _embedded(ruleset: Ruleset) -> list[dict[str, Any]]:
    doc = ruleset.document
    return [embedded_assessment(doc, i) for i in range(len(doc.tests))]


def _population(ruleset: Ruleset, n: int) -> list[dict[str, Any]]:
    synth = list(synthesize(n, seed=7, start=dt.date(2010, 1, 1), end=dt.date(2026, 12, 31),
                            versions=[ruleset.version]))
    return _embedded(ruleset) + synth


def _expected(decision: Decision, query: sql.CompiledQuery) -> dict[str, Any]:
    """What the query must give for a decision of the Python engine (column -> value)."""
    out: dict[str, Any] = {"label": decision.label, "valid_from": decision.valid_from,
                           "valid_until": decision.valid_until, "validity_rule": decision.validity_rule,
                           "error": None}
    out.update({f"tier:{t.label}": t.outcome for t in decision.tiers})
    out.update({f"group:{g.id}": g.outcome for g in decision.groups})
    out.update({f"criterion:{c.id}": c.outcome for c in decision.criteria})
    for s in decision.scores:
        out[f"score:{s.id}"] = s.outcome
        out[f"score:{s.id}:met"] = s.met_weight
        out[f"score:{s.id}:unknown"] = s.unknown_weight
    return out


def _got(row: dict[str, Any], query: sql.CompiledQuery) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("row", "subject")}
    for k, v in row.items():
        if k.endswith((":met", ":unknown")) and k.startswith("score:"):
            out[k] = sql.weight(v, query.scales[k.split(":")[1]])
    return out


def differences(ruleset: Ruleset, population: list[dict[str, Any]], *, standard: bool = False,
                query: sql.CompiledQuery | None = None) -> tuple[list[str], Counter[str]]:
    """Rows where the SQL engine and the Python engine differ (described), and the outcomes seen."""
    query = query or _query(ruleset.version)
    con = duckdb.connect()
    refused = sql.load_table(con, query, enumerate(population, 1))
    assert not refused, refused[:3]
    rows = con.execute(query.sql("duckdb", "assessments", standard=standard)).fetchall()
    names = [c.name for c in query.columns]
    seen: Counter[str] = Counter()
    out: list[str] = []
    for values in rows:
        row = query.decode(dict(zip(names, values, strict=True)))
        data = population[row["row"] - 1]
        try:
            want = _expected(evaluate(ruleset, data), query)
        except AssessmentError as exc:  # A007: the validity would end before it starts
            codes = [d.code for d in exc.diagnostics]
            if codes != ["A007"] or row["error"] != "A007":
                out.append(f"row {row['row']}: Python refuses it (A007), SQL decides it")
            continue
        got = _got(row, query)
        seen.update(f"{k}={v}" for k, v in want.items() if k.startswith(("tier:", "label")))
        seen.update(v for k, v in want.items() if k.startswith("criterion:"))
        if got != want:
            diff = {k: (want[k], got.get(k)) for k in want if want[k] != got.get(k)}
            out.append(f"row {row['row']}: {diff}")
    assert len(rows) == len(population)
    return out, seen


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the smaller tests below
@pytest.mark.parametrize("version", VERSIONS)
def test_the_sql_engine_decides_every_row_of_every_shipped_version_as_the_python_engine(version: str) -> None:
    """Property: for every shipped version, over its embedded tests (exact thresholds, at, below and
    above, by hand) and 300 synth assessments (every threshold aimed at, inputs left absent), one
    DuckDB query gives every row the Python engine's label, validity, tier, group, score and criterion
    outcomes; unknown outcomes occur (the three-valued cases are exercised, not vacuous)."""
    ruleset = _ruleset(version)
    found, seen = differences(ruleset, _population(ruleset, 300))
    assert not found, found[:5]
    assert seen["unknown"]
    assert seen["met"]
    assert seen["not_met"]
    assert {f"label={label}" for label in ruleset.document.labels} <= set(seen)


def test_the_embedded_tests_of_the_latest_version_agree() -> None:
    """Every embedded test of 3.0.1 (the 37/36 of 46 weights, 24/25 months, 15/16 participants, the
    leap-year renewal) gets the Python engine's decision from SQL, renewals and unknown Gold included."""
    ruleset = _ruleset("3.0.1")
    found, seen = differences(ruleset, _embedded(ruleset))
    assert not found, found
    assert seen["tier:gold=unknown"]
    assert seen["label=silver"]


def _without_lists(population: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every other assessment with its optional lists left out (absent, not empty)."""
    return [{k: v for k, v in d.items() if not isinstance(v, list)} if i % 2 else d for i, d in enumerate(population)]


def test_a_loop_over_an_absent_list_is_unknown_as_in_the_python_engine(tmp_path: Path) -> None:
    """any, count_distinct and max over a list input that is absent (not empty) are unknown, and over an empty
    one they are their value over no items: the embedded tests of 3.0.1 (S3) and 40 synth assessments of the
    every-construct ruleset with no default for its history (C5, the renewal rule), half of them without
    their lists, in the DuckDB form and the standard form, decide as the Python engine."""
    ruleset = _ruleset("3.0.1")
    for standard in (False, True):
        found, _ = differences(ruleset, _without_lists(_embedded(ruleset)), standard=standard)
        assert not found, found[:3]
    text = EVERY[0].read_text(encoding="utf-8")
    assert text.count("    default: []\n") == 1
    (tmp_path / "1.0.0.yaml").write_text(text.replace("    default: []\n", ""), encoding="utf-8")
    every = load_ruleset(tmp_path / "1.0.0.yaml")
    population = _without_lists(list(synthesize(40, seed=5, start=dt.date(2015, 1, 1), end=dt.date(2025, 1, 1),
                                                versions=[every], methodology=every.methodology)))
    assert any("history" not in d for d in population)
    query = sql.compile_ruleset(every)
    for standard in (False, True):
        found, _ = differences(every, population, query=query, standard=standard)
        assert not found, found[:3]


def test_the_standard_form_decides_as_the_duckdb_form() -> None:
    """The standard form (loops as subqueries over UNNEST, what PostgreSQL and Trino are given) run on
    DuckDB decides the embedded tests of 2.0.0 (renewals, success stories) as the Python engine."""
    ruleset = _ruleset("2.0.0")
    found, _ = differences(ruleset, _embedded(ruleset), standard=True)
    assert not found, found


def test_a_flipped_comparison_is_caught_by_the_differential(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately wrong compilation (>= compiled as >) is found on the embedded tests of 3.0.1,
    whose values sit exactly at the thresholds."""
    import ast

    from sqlglot import exp

    monkeypatch.setitem(sql._OPS, ast.GtE, exp.GT)
    ruleset = _ruleset("3.0.1")
    found, _ = differences(ruleset, _embedded(ruleset), query=sql.compile_ruleset(ruleset))
    assert found


def test_a_construct_the_sql_form_cannot_express_is_refused_naming_it_and_where() -> None:
    """The every-construct rulesets use counts over items whose filter may be unknown (ranges) with 'in'
    and in arithmetic: compiling refuses them with one Q001 diagnostic each, naming the construct and the
    JSON pointer of its condition."""
    refusals = []
    for path in EVERY:
        try:
            sql.compile_ruleset(load_ruleset(path))
        except sql.SqlRefused as exc:
            refusals += list(exc.diagnostics)
    assert refusals
    assert all(d.code == sql.REFUSED and d.pointer.startswith("/") for d in refusals)
    assert any("a count over items whose filter may be unknown" in d.message and d.pointer.endswith("/when")
               for d in refusals), refusals


def test_rows_the_validator_refuses_are_reported_and_not_decided() -> None:
    """A row with a schema error gets the validator's diagnostics and no decision; a decimal the table
    cannot hold exactly (16 decimal places) is refused (Q002), not rounded; the others are decided."""
    ruleset = _ruleset("3.0.1")
    good = _embedded(ruleset)[0]
    wrong = dict(good, assessed_on="2021-02-30")
    fine = dict(good, indicators={**good["indicators"], "1.1.0": Decimal("0.0000000000000015")})
    query = _query("3.0.1")
    con = duckdb.connect()
    refused = sql.load_table(con, query, enumerate([good, wrong, fine], 1))
    assert [(r.row, r.diagnostics[0].code) for r in refused] == [(2, "A004"), (3, sql.UNREPRESENTABLE)]
    rows = sql.run(con, query)
    assert [r["row"] for r in rows] == [1]
    assert rows[0]["label"] == evaluate(ruleset, good).label


@pytest.mark.parametrize("dialect", ["spark", "trino", "postgres"])
def test_the_query_is_written_for_other_dialects_and_parses_back(dialect: str) -> None:
    """The 3.0.1 query written for Spark SQL, Trino and PostgreSQL parses in that dialect and writes
    back to the same text (a sqlglot round trip), reading the table named."""
    text = _query("3.0.1").sql(dialect, "population")
    again = sqlglot.parse_one(text, read=dialect).sql(dialect=dialect)
    assert again == text
    assert "population" in text
    assert "UNNEST" in text.upper() or "EXPLODE" in text.upper()  # Spark's loops are EXPLODE


LENGTHS = """\
methodology: sql-lengths
version: 1.0.0
title: Lengths of lists
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  tags: {type: list, items: {type: string}}
criteria:
  few: {title: Few, when: len(tags) <= 1}
  counted: {title: Counted, when: count(tags) >= 2}
labels: [one]
tiers:
  one: {title: One, requires: [few]}
validity:
  valid_from: assessed_on
  rules:
    - {id: r, title: R, labels: [one], valid_until: never}
"""


def test_a_lists_length_is_written_so_that_an_empty_list_is_0_and_an_absent_one_unknown_in_each_dialect(
        tmp_path: Path) -> None:
    """len() and count() of a list, for other dialects: PostgreSQL and Trino write CARDINALITY (PostgreSQL's
    ARRAY_LENGTH(x, 1), sqlglot's form, is NULL for an empty array: an empty list's len() <= 1 was unknown
    there), Spark asks SIZE only of a list that is there (SIZE(NULL) is -1 outside ANSI mode); and DuckDB's
    CARDINALITY gives 0 for an empty list, NULL for an absent one, as the Python engine has them."""
    path = tmp_path / "1.0.0.yaml"
    path.write_text(LENGTHS, encoding="utf-8")
    query = sql.compile_ruleset(load_ruleset(path))
    texts = {d: query.sql(d, "population") for d in ("postgres", "trino", "spark")}
    for dialect in ("postgres", "trino"):
        assert texts[dialect].count("CARDINALITY(") == 2
        assert "ARRAY_LENGTH(" not in texts[dialect]
    sizes = list(sqlglot.parse_one(texts["spark"], read="spark").find_all(sqlglot.exp.ArraySize))  # SIZE read back
    assert len(sizes) == 2
    for size in sizes:
        case = size.parent
        assert isinstance(case, sqlglot.exp.Case), case
        assert case.args["default"] is size
        (branch,) = case.args["ifs"]
        assert isinstance(branch.this, sqlglot.exp.Is)
        assert branch.this.this == size.this
        assert isinstance(branch.args["true"], sqlglot.exp.Null)
    con = duckdb.connect()
    assert con.execute("SELECT cardinality([]::INTEGER[]), cardinality(NULL::INTEGER[]), cardinality([1, 2])"
                       ).fetchone() == (0, None, 2)


def test_parquet_rows_are_decided_as_the_table(tmp_path: Path) -> None:
    """A table written to Parquet and read back with read_parquet gives the same rows."""
    ruleset = _ruleset("1.2.0")
    query = _query("1.2.0")
    con = duckdb.connect()
    sql.load_table(con, query, enumerate(_embedded(ruleset), 1))
    target = tmp_path / "population.parquet"
    sql.write_parquet(con, "assessments", target)
    rows = sql.run(con, query, f"read_parquet('{target}')")
    assert rows == sql.run(con, query)
    assert len(rows) == len(ruleset.document.tests)


def _json(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else str(value)  # short decimals: their float is exact


def test_evaluate_with_the_sql_engine_prints_one_line_per_assessment(tmp_path: Path) -> None:
    """``evaluate --engine sql`` on a JSON Lines batch: one line per assessment, in order, the label the
    Python engine gives, and an error object (exit 1) for a line the validator refuses."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    ruleset = _ruleset("3.0.1")
    population = _embedded(ruleset)[:4]
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(d, default=_json) + "\n" for d in population) + '{"bad": 1}\n')
    result = CliRunner().invoke(app, ["evaluate", str(path), "--version", "3.0.1", "--engine", "sql"])
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.exit_code == 1, result.output
    assert [x.get("label") for x in lines[:4]] == [evaluate(ruleset, d).label for d in population]
    assert lines[4]["error"]["code"] == "A002"
    assert lines[4]["error"]["line"] == 5


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the smaller tests above
def test_the_every_construct_ruleset_it_compiles_is_decided_as_the_python_engine() -> None:
    """Property: tests/data/every/1.0.0.yaml (aggregates any/all/count/count_distinct/min/max/sum, if-else,
    known, len, abs, min/max of values, days_between, chained comparisons, in/not in) compiles whole, and
    over 300 synth assessments both the DuckDB form and the standard form decide every row as the
    Python engine, with unknown outcomes among them."""
    ruleset = load_ruleset(EVERY[0])
    population = list(synthesize(300, seed=5, start=dt.date(2015, 1, 1), end=dt.date(2025, 1, 1),
                                 versions=[ruleset], methodology=ruleset.methodology))
    query = sql.compile_ruleset(ruleset)
    for standard in (False, True):
        found, seen = differences(ruleset, population, query=query, standard=standard)
        assert not found, found[:5]
        assert seen["unknown"]


def _report(report: Any) -> dict[str, Any]:
    """An impact report's JSON without what depends on the run (its time and its workers)."""
    return {k: v for k, v in report.to_json().items() if k not in ("seconds", "jobs")}


def _impact_population(old: Ruleset, new: Ruleset) -> list[Any]:
    return _embedded(old) + _embedded(new) + [{"bad": 1}]


def test_impact_decided_by_sql_is_the_impact_studys_report(tmp_path: Path) -> None:
    """Moving the embedded tests of 2.0.0 and 3.0.0 (renewals, exact weights, Gold unknown) and an unreadable
    line from 2.0.0 to 3.0.0: the SQL engine's report is the impact study's, member for member: the matrix,
    every transition with its attribution and causes, the errors, the missing inputs, the fields ignored
    and the entries left out."""
    from ecei_rules.backends import sql_impact
    from ecei_rules.compare.impact import impact

    old, new = _ruleset("2.0.0"), _ruleset("3.0.0")
    population = _impact_population(old, new)
    want = _report(impact(old, new, population, jobs=1))
    queries = _query("2.0.0"), _query("3.0.0")
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path, queries)
    got = _report(sql_impact.impact_from_parquet(old, new, prepared, queries))
    assert got == want
    assert want["transitions"]
    assert want["attribution"]
    assert want["errors"]
    assert want["projection"]["old"]["missing"]
    assert want["projection"]["new"]["ignored"]


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the test above
@pytest.mark.parametrize("pair", list(itertools.pairwise(VERSIONS)))
def test_every_impact_decided_by_sql_is_the_impact_studys(pair: tuple[str, str], tmp_path: Path) -> None:
    """Property: for every consecutive pair of shipped versions, over both versions' embedded tests and 150
    synth assessments drawn for both, the report of the impact study decided by SQL is the Python study's,
    member for member (transitions, attribution, errors, projection, missing)."""
    from ecei_rules.backends import sql_impact
    from ecei_rules.compare.impact import impact

    old, new = _ruleset(pair[0]), _ruleset(pair[1])
    population = _impact_population(old, new) + list(synthesize(
        150, seed=3, start=dt.date(2015, 1, 1), end=dt.date(2025, 12, 31), versions=list(pair)))
    want = _report(impact(old, new, population, jobs=1))
    queries = _query(pair[0]), _query(pair[1])
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path, queries)
    assert _report(sql_impact.impact_from_parquet(old, new, prepared, queries)) == want
    assert want["assessments"] == len(population)


def test_impact_with_the_sql_engine_prints_the_impact_studys_report(tmp_path: Path) -> None:
    """``impact --engine sql --format json`` prints the report ``impact`` prints (exit 1: a line is refused),
    from the JSON Lines population and from a directory prepared for it; a directory prepared for other
    versions is refused (exit 2), saying which."""
    from typer.testing import CliRunner

    from ecei_rules.backends import sql_impact
    from ecei_rules.cli.app import app
    from ecei_rules.compare.impact import impact

    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(d, default=_json) + "\n" for d in _embedded(_ruleset("3.0.0"))[:3])
                    + '{"bad": 1}\n')
    command = ["impact", str(path), "--from", "2.0.0", "--to", "3.0.0", "--format", "json", "--engine", "sql"]
    prepared = sql_impact.prepare_impact(_ruleset("2.0.0"), _ruleset("3.0.0"), path, tmp_path / "prepared",
                                         (_query("2.0.0"), _query("3.0.0")))
    runs = [CliRunner().invoke(app, command), CliRunner().invoke(app, ["impact", str(prepared), *command[2:]])]
    reports = [{k: v for k, v in json.loads(r.stdout).items() if k not in ("seconds", "jobs")} for r in runs]
    assert [r.exit_code for r in runs] == [1, 1], runs[0].output
    assert reports[0] == reports[1] == _report(impact(_ruleset("2.0.0"), _ruleset("3.0.0"), path, jobs=1))
    assert reports[0]["assessments"] == 4
    other = CliRunner().invoke(app, ["impact", str(prepared), "--from", "2.0.0", "--to", "3.0.1", "--engine", "sql"])
    assert other.exit_code == 2
    assert "prepared for 2.0.0 -> 3.0.0" in other.output
