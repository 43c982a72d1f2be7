"""The PostgreSQL form of the query, run on a real server, decides as the Python engine.

On the server the ``postgres`` fixture gives (conftest.py: one it starts itself, or the one
``ECEI_POSTGRES`` names); the table is created in a schema of its own, dropped first.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

sys.path.insert(0, str(Path(__file__).parent))
from test_sql_engine import VERSIONS, _embedded, _expected, _ruleset

from ecei_rules.backends import sql
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize


def _psql(server: str, text: str) -> str:
    command = ["psql", *shlex.split(server), "-v", "ON_ERROR_STOP=1", "-q", "-X"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.no_cover  # repetition at scale, on another engine
@pytest.mark.parametrize("version", VERSIONS)
def test_the_postgresql_form_decides_every_row_as_the_python_engine(postgres: str, version: str) -> None:
    """Property: the version's embedded tests and 100 synth assessments, loaded into PostgreSQL composite
    types with jsonb_populate_recordset and decided by the PostgreSQL form of the query, get the Python
    engine's label, validity, tier, group, score and criterion outcomes."""
    _decided_by_postgres(postgres, _ruleset(version))


@pytest.mark.no_cover  # repetition at scale, on another engine
@pytest.mark.parametrize("path", ["examples/methodologies/building-points/2.0.0.yaml", "tests/data/points/2.0.0.yaml",
                                  "tests/data/needed/1.0.0.yaml", "tests/data/tables-small/1.0.0.yaml",
                                  "tests/data/every/1.0.0.yaml"])
def test_the_postgresql_form_decides_derived_values_bands_and_points_as_the_python_engine(postgres: str,
                                                                                          path: str) -> None:
    """Property: likewise for versions with derived values, bands over them, points weighed as numbers (a
    quotient by a constant among them), a parameter table and every construct of the language the SQL form
    compiles (tests/data/every): every row as the Python engine decides it."""
    _decided_by_postgres(postgres, load_ruleset(Path(__file__).parents[2] / path))


def _decided_by_postgres(postgres: str, ruleset: Ruleset, rows: list[dict[str, Any]] | None = None) -> None:
    query = sql.compile_ruleset(ruleset)
    population = (rows or []) + _embedded(ruleset) + list(synthesize(100, seed=3, start=dt.date(2010, 1, 1),
                                                      end=dt.date(2026, 12, 31), versions=[ruleset],
                                                      methodology=ruleset.methodology))
    refused: list[sql.Refused] = []
    rows = "[" + ",".join(sql.table_rows(ruleset, enumerate(population, 1), refused)) + "]"
    assert not refused
    schema = "ecei_sql_test"
    _psql(postgres, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};\n"
          + ";\n".join(sql.postgres_schema(query)) + ";\n"
          + "INSERT INTO assessments SELECT * FROM jsonb_populate_recordset(NULL::assessments, $ecei$"
          + rows + "$ecei$::jsonb);\n")
    text = sql.postgres_query(query, f"{schema}.assessments")
    out = _psql(postgres, f"COPY (SELECT row_to_json(x) FROM ({text}) x) TO STDOUT;\n")
    decided = [query.decode(json.loads(line, parse_float=Decimal)) for line in out.splitlines()]
    assert len(decided) == len(population)
    for row in decided:
        want = {k: v.isoformat() if isinstance(v, dt.date) else v
                for k, v in _expected(evaluate(ruleset, population[row["row"] - 1]), query).items()}
        got = {k: sql.weight(v, query.scales[k.split(":")[1]]) if k.startswith("score:") and k.endswith(
            (":met", ":unknown")) else v for k, v in row.items() if k not in ("row", "subject")}
        assert got == want, row["row"]
    _psql(postgres, f"DROP SCHEMA {schema} CASCADE;\n")


def test_the_postgresql_form_decides_lengths_and_loops_over_empty_and_absent_lists_as_the_python_engine(
        postgres: str, tmp_path: Path) -> None:
    """The loops ruleset of test_sql_positional (any/all, count, count_distinct, sum, min, max, len and known over
    lists, loops nested both ways, a list inside an object) on its hand-made rows (absent, empty and longest lists)
    and 100 synth assessments: every row as the Python engine decides it. ``len(areas) >= 3`` of an empty list is
    not met, which PostgreSQL's ARRAY_LENGTH(x, 1) (NULL for an empty array) made unknown."""
    from test_sql_positional import _loops, _rows

    ruleset = _loops(tmp_path)
    _decided_by_postgres(postgres, ruleset, _rows())
