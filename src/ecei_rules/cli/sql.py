"""``evaluate --engine sql`` and ``impact --engine sql``: batches decided by the SQL engine
(``ecei_rules.backends.sql``, ``ecei_rules.backends.sql_impact``)."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from ecei_rules.batch import Resolver, error_json
from ecei_rules.cli.common import EXIT_FINDINGS, check_input, err_console, fail, print_problems, read
from ecei_rules.compare.impact import ImpactReport
from ecei_rules.errors import EceiRulesError, InputError
from ecei_rules.ruleset.load import Ruleset


def _items(assessment: Path, resolve: Resolver) -> Iterator[tuple[int, Any, Any]]:
    for item in read(assessment):
        if item.error is not None:
            yield item.index, None, item.error
            continue
        try:
            yield item.index, item.data, resolve(item.data)[0]
        except InputError as exc:
            yield item.index, item.data, exc


def evaluate_sql(assessment: Path, resolve: Resolver) -> int:
    """Print one JSON line per assessment (its outcomes, or its error); the exit code."""
    try:
        from ecei_rules.backends import sql
    except ImportError:
        err_console().print("error: the SQL engine needs the [sql] extra: pip install 'ecei-rules[sql]'",
                            highlight=False)
        return 2
    failures = 0
    write = sys.stdout.write
    try:
        for line, row, error in sql.decide_items(_items(assessment, resolve)):
            if row is not None:
                write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            else:
                failures += 1
                err = error if isinstance(error, EceiRulesError) else None
                write(json.dumps({"error": error_json(err, line)}, ensure_ascii=False, separators=(",", ":")) + "\n")
    except sql.SqlRefused as exc:
        print_problems(exc.diagnostics, err_console())
        return 2
    except sql.SqlPathError as exc:  # a temporary folder whose name DuckDB cannot take
        fail(str(exc))
    sys.stdout.flush()
    return EXIT_FINDINGS if failures else 0


def impact_sql(engine: str, population: Path) -> Callable[..., ImpactReport]:
    """``impact --engine sql``: the function giving the impact study's report with every assessment decided
    by SQL (``ecei_rules.backends.sql_impact``), from a JSON Lines population (validated and projected
    for both versions first, into a temporary directory) or a directory prepared for it. Exits 2 when
    the engine is unknown or not installed, the population is neither, or a version does not compile."""
    if engine != "sql":
        err_console().print(f"error: --engine is python or sql, not {engine!r}", highlight=False)
        raise typer.Exit(2)
    try:
        from ecei_rules.backends import sql, sql_impact
    except ImportError:
        err_console().print("error: the SQL engine needs the [sql] extra: pip install 'ecei-rules[sql]'",
                            highlight=False)
        raise typer.Exit(2) from None
    prepared = population.is_dir() and (population / sql_impact.PREPARED).is_file()
    if not prepared:
        check_input(population)

    def run(old: Ruleset, new: Ruleset, path: Path, **_: Any) -> ImpactReport:
        try:
            if prepared:
                sql_impact.prepared_facts(old, new, path)  # before compiling
            queries = sql.compile_ruleset(old), sql.compile_ruleset(new)
            if prepared:
                return sql_impact.impact_from_parquet(old, new, path, queries)
            with tempfile.TemporaryDirectory(prefix="ecei-sql-impact-") as folder:
                return sql_impact.impact_from_parquet(
                    old, new, sql_impact.prepare_impact(old, new, path, folder, queries), queries)
        except sql.SqlRefused as exc:
            print_problems(exc.diagnostics, err_console())
            raise typer.Exit(2) from None
        except InputError as exc:
            fail(str(exc))

    return run
