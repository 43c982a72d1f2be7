"""``evaluate --engine sql``: a batch decided by the SQL engine (``ecei_rules.backends.sql``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ecei_rules.batch import Resolver, error_json
from ecei_rules.cli.common import EXIT_FINDINGS, err_console, print_problems, read
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
    sys.stdout.flush()
    return EXIT_FINDINGS if failures else 0


def impact_sql(population: Path, old: Ruleset, new: Ruleset, engine: str, out: Path | None) -> int:
    """``impact --engine sql``: the label transitions as JSON (see ``ecei_rules.backends.sql.transitions``);
    the exit code."""
    if engine != "sql":
        err_console().print(f"error: --engine is python or sql, not {engine!r}", highlight=False)
        return 2
    try:
        from ecei_rules.backends import sql
    except ImportError:
        err_console().print("error: the SQL engine needs the [sql] extra: pip install 'ecei-rules[sql]'",
                            highlight=False)
        return 2
    items = [(item.index, item.data if item.error is None else item.error) for item in read(population)]
    try:
        report = sql.transitions(old, new, items)
    except sql.SqlRefused as exc:
        print_problems(exc.diagnostics, err_console())
        return 2
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if report["errors"] else 0
