"""Preparing a population for the SQL engine (``sql.table_rows``) the fast way writes what the slow way writes.

A validated row is written by per-field writers and orjson when it can be; a value the table refuses (a
decimal with more places than it holds) or a string that is not UTF-8 text sends the row the slow way, which
names it. Projecting an impact study's population visits only the inputs under which a list entry can name
a catalogue item the version does not have, and finds what the study's own projection finds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from ecei_rules.backends import sql
from ecei_rules.compare.impact import foreign_ids, project_entries
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.testing.synth import synthesize

REGISTRY = Registry.shipped()


def _ruleset(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


def _slow(ruleset: Ruleset, row: int, normalised: dict[str, Any]) -> dict[str, Any] | None:
    """The row as `_plain` writes it (None when it refuses a value)."""
    root = ruleset.plan.inputs
    lost: list[Any] = []
    out = {sql.ROW: row, **{k: sql._plain(v, root.fields[k], "/" + k, lost) for k, v in normalised.items()}}
    return None if lost else out


def _fast(ruleset: Ruleset, row: int, normalised: dict[str, Any]) -> dict[str, Any] | None:
    writers = {k: sql._writer(f) for k, f in ruleset.plan.inputs.fields.items()}
    line = sql._fast_line(row, normalised, writers)
    return None if line is None else json.loads(line)


def test_the_fast_writer_writes_every_row_as_the_slow_one_or_leaves_it_to_it() -> None:
    """Every embedded test of 3.0.1 and 30 synth assessments (decimals, dates, lists of objects, maps): the
    fast line is the slow line's JSON. A decimal with 16 places that is exact at 15 is written; one that is
    not, and a lone surrogate, are left to the slow way (which refuses them)."""
    ruleset = _ruleset("3.0.1")
    doc = ruleset.document
    population = [embedded_assessment(doc, i) for i in range(len(doc.tests))] + list(synthesize(
        30, seed=5, start=dt.date(2015, 1, 1), end=dt.date(2025, 12, 31), versions=["3.0.1"]))
    validator = ruleset.plan.validator
    written = 0
    for row, data in enumerate(population, 1):
        normalised, problems = validator.validate(data)
        if problems:
            continue
        assert _fast(ruleset, row, normalised) == _slow(ruleset, row, normalised), row
        written += 1
    assert written > 30
    normalised, problems = validator.validate(population[0])
    assert not problems
    exact = dict(normalised, indicators={**normalised.get("indicators", {}), "2.1": Decimal("0.1000000000000000")})
    fast = _fast(ruleset, 1, exact)
    assert fast is not None
    assert fast == _slow(ruleset, 1, exact)
    assert fast["indicators"]["2.1"] == "0.1000000000000000"
    finer = dict(normalised, indicators={**normalised.get("indicators", {}), "2.1": Decimal("0.0000000000000001")})
    assert _slow(ruleset, 1, finer) is None
    assert _fast(ruleset, 1, finer) is None
    surrogate = dict(normalised, organisation={**normalised["organisation"], "name": "a \ud800 b"})
    assert _fast(ruleset, 1, surrogate) is None
    refused: list[sql.Refused] = []
    assert list(sql.table_rows(ruleset, [(1, finer), (2, surrogate)], refused)) == []
    assert [r.row for r in refused] == [1, 2]  # both by the validator itself (A004: a lone surrogate is no text)
    assert refused[1].diagnostics[0].code == "A004"


@pytest.mark.parametrize(("pair", "naming"), [(("2.0.0", "3.0.0"), ("improvement_areas",)),
                                               (("3.0.0", "2.0.0"), ("improvement_areas",)),
                                               (("1.0.0", "1.1.0"), ())])
def test_projecting_only_where_an_entry_can_name_a_foreign_item_finds_what_the_study_finds(
        pair: tuple[str, str], naming: tuple[str, ...]) -> None:
    """For versions whose catalogues differ, over 25 assessments drawn for both, each also given an improvement
    area naming every item only the other version has: the projection that visits only the inputs under which a
    list entry can name such an item is the study's projection, with the same entries left out in the same
    order (1.0.0 has no such list: nothing is visited, and nothing is left out)."""
    this, other = _ruleset(pair[0]), _ruleset(pair[1])
    foreign = foreign_ids(this, other)
    root = this.plan.inputs
    assert sql._naming_foreign(root, foreign) == naming
    left_out = 0
    for data in synthesize(25, seed=9, start=dt.date(2015, 1, 1), end=dt.date(2025, 12, 31), versions=list(pair)):
        extra = [{"indicator": i, "validated": True} for i in sorted(foreign.get("indicators", ()))]
        data = dict(data, improvement_areas=[*data.get("improvement_areas", []), *extra])
        want: list[tuple[str, str]] = []
        got: list[tuple[str, str]] = []
        assert sql._project_entries(root, data, foreign, naming, got) == project_entries(root, data, foreign, "",
                                                                                         want)
        assert got == want
        left_out += len(want)
    assert bool(left_out) == bool(naming)


def test_copies_of_a_prepared_population_hold_its_columns_only_renumbered(tmp_path: Path) -> None:
    """``sql_impact.copies`` (the populations of a million measured): 3 copies of a prepared population of 3
    rows have, in each Parquet file, the original's columns only (none for the copy's number), the rows
    numbered 1 to 9, each copy's rows the original's values, and ``prepared.json`` counts 9 assessments and
    records the SHA-256 of the copies' files."""
    import duckdb

    from ecei_rules.backends import sql_impact

    prepared = tmp_path / "prepared"
    prepared.mkdir()
    con = duckdb.connect()
    for side in sql_impact.SIDES:
        con.execute(f"COPY (SELECT i AS \"{sql.ROW}\", {{'id': 'S-' || i}} AS organisation, [i, i + 1] AS history "
                    f"FROM range(1, 4) AS t(i)) TO '{prepared / (side + '.parquet')}' (FORMAT parquet)")
        con.execute(f"COPY (SELECT 2 AS \"row\", ['/x'] AS ignored, ['c:y'] AS found) TO "
                    f"'{prepared / (side + '_left_out.parquet')}' (FORMAT parquet)")
    facts = {"old": ["1.0.0", "a"], "new": ["2.0.0", "b"], "assessments": 3, "unreadable": [],
             "old_refused": [], "new_refused": [{"line": 3, "version": "2.0.0", "code": "A004", "message": "m",
                                                 "pointer": "/x"}],
             "files": {name: hashlib.sha256((prepared / name).read_bytes()).hexdigest() for name in
                       ("old.parquet", "new.parquet", "old_left_out.parquet", "new_left_out.parquet")}}
    (prepared / sql_impact.PREPARED).write_text(json.dumps(facts), encoding="utf-8")
    copied = sql_impact.copies(prepared, 3)
    for name, row in (("old", sql.ROW), ("new", sql.ROW), ("old_left_out", "row"), ("new_left_out", "row")):
        def read(folder: Path, name: str = name, row: str = row) -> tuple[list[str], list[tuple[Any, ...]]]:
            cursor = con.execute(f"SELECT * FROM read_parquet('{folder / (name + '.parquet')}') ORDER BY \"{row}\"")
            return [d[0] for d in cursor.description], cursor.fetchall()

        (names, original), (copy_names, copies) = read(prepared), read(copied)
        assert copy_names == names
        at = names.index(row)
        assert [r[at] for r in copies] == [r[at] + 3 * c for c in range(3) for r in original]
        assert [r[:at] + r[at + 1:] for r in copies] == [r[:at] + r[at + 1:] for r in original] * 3
    written = json.loads((copied / sql_impact.PREPARED).read_text(encoding="utf-8"))
    assert written["assessments"] == 9
    assert [e["line"] for e in written["new_refused"]] == [3, 6, 9]
    assert written["files"] == {name: hashlib.sha256((copied / name).read_bytes()).hexdigest()
                                for name in facts["files"]}  # the copies' own files, which the study checks
