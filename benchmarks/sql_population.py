"""The SQL engine on a population: ``python benchmarks/sql_population.py [--n 100000] [--version 3.0.1]``.

Synthesizes ``n`` assessments (ecei-labels, the version given), validates them into a Parquet file
once (kept in the temporary directory for the next run), then decides them with one DuckDB query
into a table holding every column (label, validity, tiers, groups, scores, criteria), and prints
the wall time, the process's CPU time and the decisions per second. Needs the ``sql`` extra.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from ecei_rules.backends import sql
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import synthesize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--version", default="3.0.1")
    args = parser.parse_args()
    ruleset = Registry.shipped().get("ecei-labels", args.version)
    query = sql.compile_ruleset(ruleset)
    con = duckdb.connect()
    path = Path(tempfile.gettempdir()) / f"ecei-sql-{args.version}-{args.n}.parquet"
    if not path.exists():
        started = time.perf_counter()
        population = synthesize(args.n, seed=11, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31),
                                versions=[args.version])
        refused = sql.load_table(con, query, enumerate(population, 1))
        sql.write_parquet(con, "assessments", path)
        print(f"prepared {path}: {args.n} assessments, {len(refused)} refused, "
              f"{time.perf_counter() - started:.1f} s (synth, validation, Parquet)")
    text = query.sql("duckdb", f"read_parquet('{path}')")
    wall, cpu = time.perf_counter(), time.process_time()
    con.execute(f"CREATE OR REPLACE TEMP TABLE decided AS {text}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    found = con.execute("SELECT count(*) FROM decided").fetchone()
    rows = found[0] if found else 0
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    print(f"decided {rows} rows from Parquet ({len(query.columns)} columns) in {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(threads {threads[0] if threads else '?'}): {rows / wall:,.0f} decisions/s, "
          f"{rows / cpu:,.0f} per CPU-second")
    print(con.execute("SELECT label, count(*) FROM decided GROUP BY label ORDER BY label").fetchall())


if __name__ == "__main__":
    main()
