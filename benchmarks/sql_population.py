"""The SQL engine on a population: ``python benchmarks/sql_population.py [--n 100000] [--version 3.0.1]``.

Synthesizes ``n`` assessments (ecei-labels, the version given), validates them into a Parquet file
once (kept in the temporary directory for the next run; the positional columns of its short lists,
``sql.write_positions``, are added to a file made before they were, the time printed), then decides them
with one DuckDB query reading those columns (``--layout list``: the lists)
into a table holding every column (label, validity, tiers, groups, scores, and the criteria packed
two bits each into BIGINT columns, ``sql.PACKED``), and prints
the wall time, the process's CPU time and the decisions per second (best of ``--repeat`` runs).
``--copies k`` decides a population of ``k x n`` rows made of ``k`` copies of the ``n`` (renumbered;
each copy decides as its original): 1,000,000 rows without synthesizing and validating 1,000,000
in Python, which takes most of an hour on a 2-core machine. Needs the ``sql`` extra.

``--impact OLD`` measures ``impact --engine sql`` instead: the population of ``n`` assessments (drawn
for both versions) is validated and projected for each of OLD and ``--version`` into two Parquet files
once (``sql_impact.prepare_impact``), and the run reads both files, decides every row under both versions and
counts the matrix, the changed rows, their attribution and the missing inputs
(``sql_impact.impact_from_parquet``): the time printed includes reading the Parquet files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from ecei_rules.backends import sql, sql_impact
from ecei_rules.errors import InputError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing.synth import synthesize

TEMP = Path(tempfile.gettempdir())


def _population(ruleset: Ruleset, n: int, con: duckdb.DuckDBPyConnection) -> Path:
    """The Parquet file of ``n`` synth assessments validated for ``ruleset`` (made once), with the positional
    columns of its short lists (``sql.write_positions``; added to a file made before they were)."""
    path = TEMP / f"ecei-sql-{ruleset.version}-{n}.parquet"
    query = sql.compile_ruleset(ruleset)
    if not path.exists():
        started = time.perf_counter()
        population = synthesize(n, seed=11, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31),
                                versions=[ruleset.version])
        refused = sql.load_table(con, query, enumerate(population, 1), positions=0)
        print(f"prepared {path}: {n} assessments, {len(refused)} refused, "
              f"{time.perf_counter() - started:.1f} s (synth, validation)")
    elif not sql.layout_of(con, sql_impact.parquet(path)) and sql.list_inputs(ruleset.plan.inputs):
        con.execute(f"CREATE OR REPLACE TABLE assessments AS SELECT * FROM {sql_impact.parquet(path)}")
    else:
        return path
    started = time.perf_counter()
    layout = sql.write_positions(con, query, "assessments")
    positioned = time.perf_counter() - started
    sql.write_parquet(con, "assessments", path)
    print(f"positional columns {layout} added in {positioned:.2f} s; Parquet written, "
          f"{time.perf_counter() - started:.2f} s in all")
    return path


def _copies(path: Path, n: int, k: int, con: duckdb.DuckDBPyConnection) -> Path:
    """``k`` copies of the population of ``n`` in ``path``, renumbered 1..k x n (made once, again when the
    population has changed since)."""
    if k == 1:
        return path
    target = path.with_name(path.stem + f"-x{k}.parquet")
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        con.execute(f"COPY ({sql_impact.copied(path, sql.ROW, n, k)}) TO {sql.quoted_string(str(target))} "
                    f"(FORMAT parquet, ROW_GROUP_SIZE {sql.ROW_GROUP_SIZE})")
    return target


def _best(runs: int, work: object) -> tuple[float, float, str]:
    """The best (wall, CPU) seconds of ``runs`` calls of ``work``, and the median and range of the walls."""
    times = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()  # type: ignore[operator]
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    walls = sorted(w for w, _ in times)
    return (*min(times), f"wall median {statistics.median(walls):.2f} s, {walls[0]:.2f}-{walls[-1]:.2f} s")


def decide(args: argparse.Namespace) -> None:
    ruleset = Registry.shipped().get("ecei-labels", args.version)
    query = sql.compile_ruleset(ruleset)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # the query states no order; each row has its number
    path = _copies(_population(ruleset, args.n, con), args.n, args.copies, con)
    source = sql_impact.parquet(path)
    layout = sql.layout_of(con, source) if args.layout == "positional" else {}
    text = query.sql("duckdb", source, layout=layout)
    wall, cpu, spread = _best(args.repeat, lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE decided AS {text}"))
    found = con.execute("SELECT count(*) FROM decided").fetchone()
    rows = found[0] if found else 0
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    print(f"decided {rows:,} rows from Parquet ({len(query.columns)} columns) in {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(threads {threads[0] if threads else '?'}, best of {args.repeat}): {rows / wall:,.0f} decisions/s, "
          f"{rows / cpu:,.0f} per CPU-second ({spread}); load average {os.getloadavg()[0]:.2f}; lists read "
          f"{'as positional columns ' + str(layout) if layout else 'as lists'}")
    print(con.execute("SELECT label, count(*) FROM decided GROUP BY label ORDER BY label").fetchall())


def _prepared(base: Path) -> bool:
    """Whether ``base`` holds a population prepared before and still as prepared (else it is prepared again)."""
    try:
        sql_impact.read_prepared(base)
    except InputError:
        return False
    return True


def impact(args: argparse.Namespace) -> None:
    registry = Registry.shipped()
    old, new = registry.get("ecei-labels", args.impact), registry.get("ecei-labels", args.version)
    base = TEMP / f"ecei-sql-impact-{old.version}-{new.version}-{args.n}"
    if not _prepared(base):
        started = time.perf_counter()
        population = list(synthesize(args.n, seed=11, start=dt.date(2019, 1, 1), end=dt.date(2025, 12, 31),
                                     versions=[old.version, new.version]))
        cpu = time.process_time()
        sql_impact.prepare_impact(old, new, population, base)
        cpu = time.process_time() - cpu
        print(f"prepared {base}: {args.n} assessments, {time.perf_counter() - started:.1f} s (synth, validation and "
              f"projection for both versions, Parquet); preparing alone {cpu:.1f} s CPU, "
              f"{cpu / args.n * 1e6:.0f} us per assessment")
    source = sql_impact.copies(base, args.copies) if args.copies > 1 else base
    report: dict[str, object] = {}

    def work() -> None:
        report.update(sql_impact.impact_from_parquet(old, new, source).to_json(limit=0))

    wall, cpu, spread = _best(args.repeat, work)
    print(f"impact {old.version} -> {new.version} of {report['assessments']:,} assessments from Parquet (reading "
          f"included): {wall:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeat}; {spread}), {report['changed']}; "
          f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--version", default="3.0.1")
    parser.add_argument("--copies", type=int, default=1, help="decide k copies of the n assessments")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--impact", metavar="OLD", help="measure impact from OLD to --version instead")
    parser.add_argument("--layout", choices=("positional", "list"), default="positional",
                        help="read the short lists as the positional columns of the file (default) or as lists")
    args = parser.parse_args()
    if args.impact:
        impact(args)
    else:
        decide(args)


if __name__ == "__main__":
    main()
