"""The SQL engine decides derived values, bands, points weighed as numbers, division, rounding and parameter
tables exactly as the Python engine, or refuses them when compiling (Q001), naming where.

Each ruleset of ``tests/data/{derived,points,bands,subject,needed,tables-small}`` and every version of the two
example methodologies is compiled to one query; over its embedded tests (hand-derived, at and on both sides
of every bound) and, repeated at scale, over synth populations (which aim at every threshold and leave
inputs absent), every row gets the Python engine's label, validity, tier, group, score (outcome, met and
unknown weight) and criterion outcomes. Hand-made rows add what synth rarely draws: a division by zero
(the Python engine's undefined value, read as unknown) and rounding exactly half way, of negative numbers
and of quotients.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from test_sql_engine import _embedded, differences  # noqa: E402

from ecei_rules.backends import sql  # noqa: E402
from ecei_rules.engine.evaluate import evaluate  # noqa: E402
from ecei_rules.ruleset.load import Ruleset, load_ruleset  # noqa: E402
from ecei_rules.testing.synth import synthesize  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples" / "methodologies"
LANGUAGE = [DATA / f"{name}/{version}.yaml" for name, version in (
    ("derived", "1.0.0"), ("derived", "1.1.0"), ("points", "1.0.0"), ("points", "2.0.0"), ("bands", "1.0.0"),
    ("subject", "1.0.0"), ("subject", "2.0.0"), ("needed", "1.0.0"), ("tables-small", "1.0.0"))]
#: the example methodologies' versions the SQL form expresses (eu-fridge-label 2.0.0 is refused: below)
DECIDED = [EXAMPLES / "building-points/1.0.0.yaml", EXAMPLES / "building-points/2.0.0.yaml",
           EXAMPLES / "eu-fridge-label/1.0.0.yaml"]
REFUSED_EXAMPLE = EXAMPLES / "eu-fridge-label/2.0.0.yaml"


def _name(path: Path) -> str:
    return f"{path.parent.name}@{path.stem}"


@functools.cache
def _load(path: Path) -> tuple[Ruleset, sql.CompiledQuery]:
    ruleset = load_ruleset(path)
    return ruleset, sql.compile_ruleset(ruleset)


def _agree(path: Path, population: list[dict[str, Any]], *, standard: bool = False) -> set[str]:
    """Assert that SQL decides every row of ``population`` as the Python engine; the outcomes seen."""
    ruleset, query = _load(path)
    found, seen = differences(ruleset, population, query=query, standard=standard)
    assert not found, found[:3]
    return set(seen)


def _embedded_and_synth(path: Path) -> None:
    """Assert that the embedded tests of a ruleset (bounds exactly, just below and just above; unknown
    inputs), or 20 synth assessments where it has none, get the Python engine's decision from SQL."""
    ruleset, _ = _load(path)
    population = _embedded(ruleset) or list(synthesize(20, seed=3, start=dt.date(2010, 1, 1),
                                                       end=dt.date(2026, 12, 31), versions=[ruleset],
                                                       methodology=ruleset.methodology))
    assert "met" in _agree(path, population)


@pytest.mark.parametrize("path", LANGUAGE, ids=_name)
def test_the_embedded_tests_of_every_language_ruleset_are_decided_by_sql_as_by_python(path: Path) -> None:
    """The hand-derived embedded tests of each ruleset of the new constructs (derived values, bands, points,
    subject, missing inputs, parameter tables), or 20 synth assessments where it has none, get the Python
    engine's decision from SQL."""
    _embedded_and_synth(path)


@pytest.mark.no_cover  # repetition: 60 to 90 hand-derived tests a version, what they run is covered above
@pytest.mark.parametrize("path", DECIDED, ids=_name)
def test_the_embedded_tests_of_the_example_methodologies_are_decided_by_sql_as_by_python(path: Path) -> None:
    """The hand-derived embedded tests of building-points 1.0.0 and 2.0.0 and eu-fridge-label 1.0.0 (both
    sides of every level and band) get the Python engine's decision from SQL."""
    _embedded_and_synth(path)


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by the embedded tests above
@pytest.mark.parametrize("path", LANGUAGE + DECIDED, ids=_name)
def test_synth_populations_of_every_language_ruleset_and_example_are_decided_by_sql_as_by_python(
        path: Path) -> None:
    """Property: over 100 synth assessments (every threshold aimed at, on derived values too; inputs left
    absent) both the DuckDB form and the standard form decide every row as the Python engine, and
    unknown, met and not met outcomes all occur (the three-valued cases are exercised)."""
    ruleset, _ = _load(path)
    population = list(synthesize(100, seed=11, start=dt.date(2010, 1, 1), end=dt.date(2026, 12, 31),
                                 versions=[ruleset], methodology=ruleset.methodology))
    for standard in (False, True):
        seen = _agree(path, population, standard=standard)
        assert {"met", "not_met", "unknown"} <= seen


def _derived_rows() -> list[dict[str, Any]]:
    """Rows of tests/data/derived 1.0.0 (index = round(100 x energy / (0.5 x volume), 1); A: index <= 50):
    a volume of 0 (a division by zero), and indexes exactly half way between two tenths."""
    base = {"assessed_on": "2021-06-01", "credit_points": {"c1": 3, "c2": 2, "c3": 0}}
    return [
        {**base, "annual_energy": 10, "volume": 0},  # standard_energy 0: the index is undefined
        {**base, "annual_energy": Decimal("25.025"), "volume": 100},  # 50.05 -> 50.1: A not met (half up)
        {**base, "annual_energy": Decimal("25.0249"), "volume": 100},  # 50.0498 -> 50.0: A met
        {**base, "annual_energy": 25, "volume": 100},  # 50 exactly: A met
        {**base, "annual_energy": Decimal("37.525"), "volume": 100},  # 75.05 -> 75.1: B not met
        {**base, "annual_energy": Decimal("16.6675"), "volume": Decimal("33.3")},  # 100.1: a quotient
        {**base, "annual_energy": 10},  # volume absent: unknown, not undefined
    ]


def test_a_division_by_zero_is_undefined_and_read_as_unknown_by_sql_as_by_python() -> None:
    """A derived value divided by zero is undefined in the Python engine and every criterion reading it is
    unknown; the SQL engine gives that row the same tiers, label and criteria (and the same as for an
    absent input, which is unknown): the hand-made rows are not vacuous."""
    path = DATA / "derived/1.0.0.yaml"
    ruleset, _ = _load(path)
    rows = _derived_rows()
    shown = {r.id: r.outcome for r in evaluate(ruleset, rows[0]).derived}
    assert shown["energy_index"] == "undefined"
    assert {r.id: r.outcome for r in evaluate(ruleset, rows[-1]).derived}["energy_index"] == "unknown"
    seen = _agree(path, rows)
    assert "unknown" in seen


def test_rounding_half_up_at_exactly_half_is_decided_by_sql_as_by_python() -> None:
    """round(x, 1) of an index exactly half way (50.05, 75.05) rounds up, across the A and B bounds, as
    the Python engine rounds it; just below half way it rounds down."""
    path = DATA / "derived/1.0.0.yaml"
    ruleset, _ = _load(path)
    rows = _derived_rows()
    assert [evaluate(ruleset, r).label for r in rows[1:5]] == ["b", "a", "a", "none"]
    _agree(path, rows)


ARITHMETIC = """\
methodology: sql-arithmetic
version: 1.0.0
title: Quotients, rounding, floor, ceil, abs, min and max of negative numbers
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  x: {type: decimal, minimum: -1000, maximum: 1000}
  y: {type: integer, minimum: -1000, maximum: 1000}
  flag: {type: boolean}
derived:
  q: {title: q, type: decimal, value: x / y}
  r0: {title: r0, type: integer, value: round(q)}
  r1: {title: r1, type: decimal, value: "round(q, 1)"}
  rx: {title: rx, type: integer, value: round(x)}
  f: {title: f, type: integer, value: floor(q)}
  c: {title: c, type: integer, value: ceil(q)}
  fx: {title: fx, type: integer, value: floor(x / 4)}
  a: {title: a, type: decimal, value: abs(q)}
  lo: {title: lo, type: decimal, value: "min(q, x, 2)"}
  hi: {title: hi, type: decimal, value: "max(q, y / 3)"}
  pick: {title: pick, type: decimal, value: "q if x > 0 else y / 7"}
  total: {title: total, type: decimal, value: q + y / 3 - x / y}
  diff: {title: diff, type: decimal, value: x / y - (x + 1) / y}
  same: {title: same, type: decimal, value: "y / 7 if flag else y / 7"}
  mix: {title: mix, type: decimal, value: "q if flag else 2"}
criteria:
  r0_low: {title: r0, when: r0 <= -3}
  r1_low: {title: r1, when: r1 <= -2.5}
  rx_low: {title: rx, when: rx <= -3}
  f_low: {title: f, when: f <= -3}
  c_low: {title: c, when: c <= -2}
  fx_low: {title: fx, when: fx <= -1}
  a_high: {title: a, when: a >= 2.5}
  lo_low: {title: lo, when: lo < -2}
  hi_high: {title: hi, when: hi > 0.3}
  pick_low: {title: pick, when: pick < 0}
  total_is: {title: total, when: total == y / 3}
  q_between: {title: q, when: -3 < q <= x / 2}
  diff_low: {title: diff, when: diff < 0}
  same_low: {title: same, when: same < 0}
  mix_high: {title: mix, when: mix >= 2}
labels: [one]
tiers:
  one: {title: One, requires: [r0_low]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [one], valid_until: never}
"""


def _arithmetic_rows() -> list[dict[str, Any]]:
    d = Decimal
    pairs = [(d("-7.5"), 3), (d("7.5"), -3), (d("-2.5"), 1), (d("2.5"), 1), (-1, 3), (1, 3), (-10, 3), (10, -3),
             (-7, 7), (0, 1), (1, 0), (0, 0), (d("-0.25"), 10), (d("0.999"), -4), (-3, None), (None, 2), (d("-4"), 1),
             (d("-3.9"), 1), (d("-1.05"), 1), (d("-0.45"), 3), (d("0.3"), 1), (d("-6.00000000000001"), 2),
             (d("-0.000000000000001"), 7)]
    return [{"assessed_on": "2021-01-01", **({"x": x} if x is not None else {}), **({"y": y} if y is not None else {}),
             **({"flag": i % 3 == 1} if i % 3 else {})} for i, (x, y) in enumerate(pairs)]


def test_quotients_rounding_floor_ceil_and_extremes_of_negative_numbers_are_decided_as_python(tmp_path: Path) -> None:
    """Of negative numbers and quotients (x / y, y a whole number positive, negative, zero or absent, x to
    up to 15 places): round half away
    from zero (-2.5 -> -3), to one place, floor, ceil, abs, min and max of values with a quotient among
    them, a choice between quotients (equal ones when its test is unknown: the value) and between a quotient
    and a number, sums and differences of quotients and chained comparisons with a quotient: every
    criterion as the Python engine decides it, in both forms of the query."""
    path = tmp_path / "1.0.0.yaml"
    path.write_text(ARITHMETIC, encoding="utf-8")
    rows = _arithmetic_rows()
    ruleset, _ = _load(path)
    assert evaluate(ruleset, rows[0]).criteria[0].outcome == "met"  # round(-2.5) is -3
    for standard in (False, True):
        seen = _agree(path, rows, standard=standard)
        assert {"met", "not_met", "unknown"} <= seen


def test_a_broken_floor_of_a_quotient_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The differential can fail: a floor of a quotient that truncates negative quotients (toward zero)
    instead is found on the rows above."""
    path = tmp_path / "1.0.0.yaml"
    path.write_text(ARITHMETIC, encoding="utf-8")

    def truncating(n: Any, nd: tuple[int, int], d: Any, dd: tuple[int, int]) -> Any:
        from sqlglot import exp
        scale = max(nd[1], dd[1])
        q = exp.IntDiv(this=sql._integer(n, nd, scale), expression=sql._integer(d, dd, scale))
        digits = (nd[0] + dd[1] + 1, 0)
        return sql._cast(q, sql._dec(digits)), digits

    monkeypatch.setattr(sql, "_floor_quotient", truncating)
    ruleset = load_ruleset(path)
    found, _ = differences(ruleset, _arithmetic_rows(), query=sql.compile_ruleset(ruleset))
    assert found


def test_what_the_sql_form_cannot_hold_exactly_is_refused_where_it_is_written() -> None:
    """eu-fridge-label 2.0.0 multiplies quotients of volumes (each exact to 15 decimal places) into numbers
    of more than 38 digits, and tests/data/ranges reads derived values as ranges: both are refused when
    compiling (Q001), each diagnostic at the derived value or section that needs it, none decided."""
    with pytest.raises(sql.SqlRefused) as refused:
        sql.compile_ruleset(load_ruleset(REFUSED_EXAMPLE))
    found = refused.value.diagnostics
    assert found
    assert all(d.code == sql.REFUSED and d.pointer.startswith("/derived/") for d in found)
    assert any("38 digits" in d.message for d in found)
    with pytest.raises(sql.SqlRefused) as ranges:
        sql.compile_ruleset(load_ruleset(DATA / "ranges/1.0.0.yaml"))
    assert [d.pointer for d in ranges.value.diagnostics] == ["/unknowns/derived"]


def _report(report: Any) -> dict[str, Any]:
    return {k: v for k, v in report.to_json().items() if k not in ("seconds", "jobs")}


def _impact_agrees(old_path: Path, new_path: Path, n: int, tmp_path: Path,
                   extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Assert that the SQL impact study of ``old -> new`` over both versions' embedded tests and ``n`` synth
    assessments (with a line the validator refuses) is the Python study's report, member for member."""
    from ecei_rules.backends import sql_impact
    from ecei_rules.compare.impact import impact

    old, new = _load(old_path)[0], _load(new_path)[0]
    population = _embedded(old) + _embedded(new) + list(synthesize(
        n, seed=5, start=dt.date(2010, 1, 1), end=dt.date(2026, 12, 31), versions=[old, new],
        methodology=old.methodology)) + (extra or []) + [{"bad": 1}]
    want = _report(impact(old, new, population, jobs=1))
    queries = _load(old_path)[1], _load(new_path)[1]
    prepared = sql_impact.prepare_impact(old, new, population, tmp_path, queries)
    assert _report(sql_impact.impact_from_parquet(old, new, prepared, queries)) == want
    return want


@pytest.mark.no_cover  # repetition: what it runs is covered by the test below
def test_impact_across_derived_values_and_bands_decided_by_sql_is_the_python_studys(tmp_path: Path) -> None:
    """building-points 1.0.0 -> 2.0.0 (a derived credit added, a band over the total): the SQL impact study
    gives the Python study's report, its transitions attributed to the derived values whose value changed
    (read from the Python engine's decisions of the changed rows) and its missing inputs those behind the
    derived values an unknown tier needs."""
    want = _impact_agrees(EXAMPLES / "building-points/1.0.0.yaml", EXAMPLES / "building-points/2.0.0.yaml", 60,
                          tmp_path)
    assert any(c["section"] == "derived" for t in want["transitions"] for c in t["causes"])
    assert any(want["projection"][side]["missing"] for side in ("old", "new"))


def test_impact_across_a_changed_rounding_decided_by_sql_is_the_python_studys(tmp_path: Path) -> None:
    """derived-values 1.0.0 -> 1.1.0 (the index rounded to whole per cent, a derived band) over the hand-made
    rows and 20 synth assessments: the SQL impact study is the Python study's report, its transition
    (50.05: rounded to 50.1, then to 50: b -> a) attributed to the derived value whose formula changed."""
    want = _impact_agrees(DATA / "derived/1.0.0.yaml", DATA / "derived/1.1.0.yaml", 20, tmp_path, _derived_rows())
    assert any(c["section"] == "derived" for t in want["transitions"] for c in t["causes"])


@pytest.mark.no_cover  # repetition: what it runs is covered by the test above
def test_impact_of_points_weighed_as_numbers_decided_by_sql_is_the_python_studys(tmp_path: Path) -> None:
    """Property: the SQL impact study of points-test 1.0.0 -> 2.0.0 (numbers weighed as points) over 150
    synth assessments is the Python study's report."""
    want = _impact_agrees(DATA / "points/1.0.0.yaml", DATA / "points/2.0.0.yaml", 150, tmp_path)
    assert want["transitions"]


@pytest.mark.parametrize("dialect", ["spark", "trino", "postgres"])
def test_a_version_that_rounds_a_quotient_is_written_for_duckdb_only(dialect: str) -> None:
    """derived-values 1.0.0 rounds a quotient (an exact integer division on DuckDB's HUGEINTs, which Trino
    would write through a DOUBLE): its query for another dialect is refused (Q001), not written inexact;
    points-test 2.0.0, which floors a product (a division by 5), is written for each and parses back."""
    import sqlglot

    with pytest.raises(sql.SqlRefused) as refused:
        _load(DATA / "derived/1.0.0.yaml")[1].sql(dialect)
    assert [d.code for d in refused.value.diagnostics] == [sql.REFUSED]
    text = _load(DATA / "points/2.0.0.yaml")[1].sql(dialect)
    assert sqlglot.parse_one(text, read=dialect).sql(dialect=dialect) == text
