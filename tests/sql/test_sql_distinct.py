"""A ``count_distinct`` of a few known texts is counted as bits by DuckDB, and decides as the Python engine.

When the texts a ``count_distinct`` can count are known (an ``x in [...]`` test among its filter's ``and``
parts, or the values of an enum or a catalogue), DuckDB's form ORs one bit per item kept and counts the
bits, instead of a hash table per row (``LIST_UNIQUE``). The standard form (PostgreSQL, Spark, Trino) keeps
``COUNT(DISTINCT)``. Hand-made rows give what the bits must get right: the same text twice, a text outside
the list, an absent text, a filter that is unknown (the count is then a range), an empty and an absent list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import differences  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.ruleset.load import load_ruleset  # noqa: E402

DISTINCT = """\
methodology: sql-distinct
version: 1.0.0
title: Counts of distinct texts
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
    items:
      type: object
      fields:
        kind: {type: enum, values: [a, b, c, d], required: true}
        topic: {type: string, catalogue: topics, required: true}
        note: {type: string}
        checked: {type: boolean}
parameters:
  notes: {value: [x, y, z, x], assumed: "chosen for the test (x twice)"}
criteria:
  kinds: {title: kinds, when: count_distinct(a.kind for a in areas) >= 2}
  kinds_checked: {title: kinds checked, when: count_distinct(a.kind for a in areas if a.checked) >= 2}
  topics: {title: topics, when: count_distinct(a.topic for a in areas if a.kind != "d") == 2}
  notes: {title: notes, when: "count_distinct(a.note for a in areas if a.note in params.notes) >= 2"}
  notes_checked:
    title: notes checked
    when: "count_distinct(a.note for a in areas if a.checked and a.note in params.notes and a.kind != 'a') >= 2"
  notes_any: {title: any notes, when: count_distinct(a.note for a in areas) >= 2}
labels: [one]
tiers:
  one: {title: One, requires: [kinds]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [one], valid_until: never}
"""


def _area(kind: str, topic: str, note: str | None = None, checked: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "topic": topic}
    if note is not None:
        out["note"] = note
    if checked is not None:
        out["checked"] = checked
    return out


def _rows() -> list[dict[str, Any]]:
    """Lists of areas with the same text twice, texts outside the list, absent texts and unknown filters."""
    day = {"assessed_on": "2021-01-01"}
    lists = [
        [],
        [_area("a", "t1", "x", True), _area("a", "t1", "x", True)],
        [_area("a", "t1", "x", True), _area("b", "t2", "y", True)],
        [_area("a", "t1", "x", True), _area("b", "t2", "w", True), _area("c", "t3", "v", True)],
        [_area("b", "t1", "x"), _area("c", "t2", "y", False), _area("d", "t3", "z", True)],
        [_area("b", "t1", "x", True), _area("c", "t2"), _area("c", "t2", "y")],
        [_area("b", "t1", "x", True), _area("c", "t1", "x", True), _area("d", "t2", "x", True)],
        [_area("d", "t1", "z", True), _area("d", "t2", "y", True), _area("b", "t3", "y", False)],
        [_area("b", "t3", "x", False), _area("c", "t3", "y", False), _area("c", "t3")],
        [_area("b", "t2", "z"), _area("c", "t3", "y"), _area("a", "t1", "x")],
    ]
    return [{**day, "areas": areas} for areas in lists] + [dict(day)]  # the last: areas absent


def _ruleset(tmp_path: Path) -> Any:
    path = tmp_path / "1.0.0.yaml"
    path.write_text(DISTINCT, encoding="utf-8")
    return load_ruleset(path)


def test_counts_of_a_few_known_texts_are_bits_for_duckdb_and_count_distinct_for_the_standard_form(
        tmp_path: Path) -> None:
    """Each criterion of a few known texts (enum, catalogue, an 'in' list) is counted with BIT_COUNT in
    DuckDB's form, the one of any text (no list, no enum) with LIST_UNIQUE; the PostgreSQL form has no bits."""
    query = sql.compile_ruleset(_ruleset(tmp_path))
    duck = query.sql("duckdb")
    assert duck.count("BIT_COUNT") == 8  # kinds, topics: one each; the three ranges (unknown filter or text): two
    assert duck.count("LIST_UNIQUE") == 2  # notes_any (a range: its text may be absent)
    standard = query.sql("postgres")
    assert "BIT_COUNT" not in standard
    assert "COUNT(DISTINCT" in standard


def test_counts_of_a_few_known_texts_are_decided_by_sql_as_by_python(tmp_path: Path) -> None:
    """On the hand-made rows every criterion gets the Python engine's outcome, in both forms of the query,
    and each outcome occurs (unknown from the unknown filters and the absent list)."""
    ruleset = _ruleset(tmp_path)
    query = sql.compile_ruleset(ruleset)
    for standard in (False, True):
        found, seen = differences(ruleset, _rows(), query=query, standard=standard)
        assert not found, found[:3]
        assert {"met", "not_met", "unknown"} <= set(seen)


def test_a_bit_counted_without_its_filter_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The differential can fail: bits that ignore the filter (every item counted) are found on the rows."""
    counted = sql._bit
    monkeypatch.setattr(sql, "_bit", lambda values, keep, value: counted(values, sql.exp.true(), value))
    ruleset = _ruleset(tmp_path)
    found, _ = differences(ruleset, _rows(), query=sql.compile_ruleset(ruleset))
    assert found


def test_a_count_of_bits_inside_another_loop_reads_the_outer_item_as_python(tmp_path: Path) -> None:
    """A count of bits nested in ``any`` over the same list (its filter reads the outer item) decides every
    row as the Python engine in DuckDB's form: the outer item's fields in the bits' filter are the outer
    lambda's. (The standard form of such a nested loop does not bind on DuckDB, before this change too.)"""
    nested = ('  nested: {title: nested, when: "any(count_distinct(b.kind for b in areas if b.topic == a.topic '
              'and b.checked) >= 2 for a in areas)"}\n')
    text = DISTINCT.replace("    type: list\n", "    type: list\n    max_items: 20\n", 1).replace("labels: [one]\n",
                                                                                         nested + "labels: [one]\n")
    path = tmp_path / "1.0.0.yaml"
    path.write_text(text, encoding="utf-8")
    ruleset = load_ruleset(path)
    query = sql.compile_ruleset(ruleset)
    assert query.sql("duckdb").count("BIT_COUNT") == 10
    found, _ = differences(ruleset, _rows(), query=query)
    assert not found, found[:3]
    outcomes = {c.outcome for row in _rows() for c in evaluate(ruleset, row).criteria if c.id == "nested"}
    assert outcomes == {"met", "not_met", "unknown"}
