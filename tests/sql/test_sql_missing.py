"""The ``missing:`` columns (``query.sql(missing=True)``) are the absent inputs an unknown tier lists, or refused.

The Python engine lists, for an unknown tier, the absent inputs read where its criteria's evaluation went
(``ecei_rules.engine.needed``): not those read only in the branch of a choice not taken, in an ``and``/``or`` that
one known operand decided, or behind a derived value that has a value. The query's columns name every absent
input an unknown criterion reads. So a version whose criteria have such a part, derived values or weighed numbers
has its ``missing`` refused (Q001, located), and the SQL impact study reads those versions' missing inputs from
the Python engine's decisions: its report is the Python study's either way.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import VERSIONS, _query, _report  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402

#: One tier that requires one criterion, whose condition is {when}; the inputs flag, x and y; {derived}.
ONE_TIER = """\
methodology: sql-missing
version: {version}
title: Missing inputs through one criterion
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {{type: date, required: true}}
  flag: {{type: boolean}}
  x: {{type: integer}}
  y: {{type: integer}}
parameters:
  one: {{value: 1, source: "Test handbook"}}
{derived}criteria:
  c: {{title: C, when: "{when}"}}
labels: [one]
tiers:
  one: {{title: One, requires: [c]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: r, title: R, labels: [one], valid_until: "month_end(assessed_on, 24)"}}
"""

#: A condition of each kind the columns would list too much for, a row where they would (the input that is absent
#: and read, but not where the evaluation went), and what the refusal names.
DECIDED_PARTS = {
    "a choice": ("(x if flag else y) >= params.one", {"flag": True}, "/y", "a choice ('x if flag else y')"),
    "an and/or below the top": ("(x >= params.one and flag) or y >= params.one", {"flag": False}, "/x",
                                "a part decided by one of its operands ('x >= params.one and flag')"),
    "a derived value": ("d >= params.one", {"flag": True}, "/y", "a derived value ('d')"),
}


def _version(tmp_path: Path, when: str, version: str = "1.0.0") -> Ruleset:
    path = tmp_path / when.replace(" ", "_").replace("/", "_") / f"{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    derived = 'derived:\n  d: {title: D, type: integer, value: "x if flag else y"}\n' if "d >=" in when else ""
    path.write_text(ONE_TIER.format(version=version, when=when, derived=derived), encoding="utf-8")
    return load_ruleset(path)


def _missing_columns(query: sql.CompiledQuery, rows: list[dict[str, Any]]) -> list[set[str]]:
    """Each row's ``missing:`` columns that are true, from the query written with them (refusal or not)."""
    con = duckdb.connect()
    assert not sql.load_table(con, query, enumerate(rows, 1))
    cursor = con.execute(f'SELECT * FROM ({query.sql("duckdb", "assessments", missing=True)}) ORDER BY "row"')
    names = [d[0] for d in cursor.description]
    return [{name[len("missing:"):] for name, value in zip(names, values, strict=True)
             if name.startswith("missing:") and value} for values in cursor.fetchall()]


@pytest.mark.parametrize("kind", DECIDED_PARTS)
def test_missing_is_refused_where_the_columns_would_name_an_input_the_evaluation_did_not_read(
        kind: str, tmp_path: Path) -> None:
    """For a choice, an and/or below the condition's top and a derived value: on a row where the criterion is
    unknown, the Python engine's tier lists fewer absent inputs than the columns would (shown by writing them
    anyway), so ``query.sql(missing=True)`` is refused with Q001 at the criterion's condition, while the query
    without ``missing`` is written."""
    when, given, extra, named = DECIDED_PARTS[kind]
    ruleset = _version(tmp_path, when)
    query = sql.compile_ruleset(ruleset)
    row = {"assessed_on": "2021-01-01", **given}
    (tier,) = evaluate(ruleset, row).tiers
    assert tier.outcome == "unknown"
    assert extra not in tier.missing
    (written,) = _missing_columns(dataclasses.replace(query, missing_refused=()), [row])
    assert written == {*tier.missing, extra}  # what refusing keeps out of a report
    with pytest.raises(sql.SqlRefused) as refused:
        query.sql("duckdb", "assessments", missing=True)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.code == sql.REFUSED
    assert diagnostic.pointer == "/criteria/c/when"
    assert named in diagnostic.message
    assert query.sql("duckdb", "assessments")


def test_a_flat_conjunction_and_a_whole_read_aggregate_keep_their_missing_columns_and_they_are_pythons(
        tmp_path: Path) -> None:
    """An ``and`` at the condition's top over comparisons (as ecei-labels' EC3 is) is not refused: on every row
    of absent and present inputs its columns are the absent inputs the Python engine's unknown tier lists."""
    ruleset = _version(tmp_path, "x >= params.one and 2 * y > x")
    query = sql.compile_ruleset(ruleset)
    assert query.missing_refused == ()
    rows = [{"assessed_on": "2021-01-01", **values} for values in
            ({}, {"x": 2}, {"y": 2}, {"x": 0}, {"x": 2, "y": 2}, {"x": 2, "y": 0}, {"flag": True})]
    for row, columns in zip(rows, _missing_columns(query, rows), strict=True):
        (tier,) = evaluate(ruleset, row).tiers
        assert columns == (set(tier.missing) if tier.outcome == "unknown" else set()), row


@pytest.mark.parametrize("kind", DECIDED_PARTS)
def test_the_sql_impact_study_of_a_version_with_a_decided_part_is_the_python_studys(kind: str,
                                                                                     tmp_path: Path) -> None:
    """An impact study from a version whose criterion is ``x >= one`` to one whose criterion has a decided part:
    decided by SQL, its report (missing inputs of each side included) is the Python study's, member for member,
    on rows where the columns would have named an input too many."""
    from ecei_rules.backends import sql_impact
    from ecei_rules.compare.impact import impact

    old = _version(tmp_path / "old", "x >= params.one")
    new = _version(tmp_path / "new", DECIDED_PARTS[kind][0], version="1.1.0")
    base = {"assessed_on": "2021-01-01"}
    population = [base, {**base, "flag": True}, {**base, "flag": False}, {**base, "flag": True, "x": 2},
                  {**base, "flag": False, "y": 2}, {**base, "x": 0, "y": 5}, {**base, "flag": False, "x": 3}]
    want = _report(impact(old, new, population, jobs=1))
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path / "prepared")
    assert _report(sql_impact.impact_from_parquet(old, new, prepared)) == want
    assert want["projection"]["new"]["missing"]
    # the study had rows where the columns name an input too many: read from them, its report is not Python's
    queries = tuple(dataclasses.replace(sql.compile_ruleset(r), missing_refused=()) for r in (old, new))
    if not new.plan.derived:  # (a version with derived values is read from Python's decisions whatever its criteria)
        assert _report(sql_impact.impact_from_parquet(old, new, prepared, queries)) != want


@pytest.mark.parametrize("version", VERSIONS)
def test_no_shipped_version_has_its_missing_columns_refused(version: str) -> None:
    """Every shipped version's missing inputs are the query's columns (its criteria have no choice, no and/or below
    the top, no derived value), so the SQL impact study of ecei-labels stays in SQL."""
    assert _query(version).missing_refused == ()
