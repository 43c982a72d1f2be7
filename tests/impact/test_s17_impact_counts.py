"""An impact study counts assessments in error, not problems, and keeps what projection ignored bounded.

* A line that both versions refuse is one assessment in error (``errors``, the text, the Markdown and the
  chart say 1), with a problem per version kept as the detail (``problems``, JSON ``error_details``);
  likewise with ``--engine sql``.
* The members a version does not declare are named at most ``MAX_IGNORED`` per object (as ``evaluate``
  names unknown keys), in each assessment and in the report; the others are counted by object. What the
  report keeps is then bounded by the versions' inputs, not by the population.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.compare import impact as study
from ecei_rules.compare.impact import impact
from ecei_rules.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = Registry.shipped()


def _gold() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
    return data


def _two_lines(tmp_path: Path) -> Path:
    path = tmp_path / "pop.jsonl"
    good = {"organisation": {"id": "FR-0312", "name": "Cluster", "country": "FR"}, "assessed_on": "2011-10-05",
            "benchmarking": {"completed": True}}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"assessed_on": "2021-13-45"}) + "\n", encoding="utf-8")
    return path


def test_a_line_both_versions_refuse_is_one_assessment_in_error(tmp_path: Path) -> None:
    report = impact(REGISTRY.get("ecei-labels", "2.0.0"), REGISTRY.get("ecei-labels", "3.0.0"), _two_lines(tmp_path))
    assert (report.assessments, report.decided, len(report.errors)) == (2, 1, 1)
    assert [(e.index, e.version) for e in report.problems] == [(2, "2.0.0"), (2, "3.0.0")]
    (error,) = report.errors
    assert error.where() == "line 2 under 2.0.0 and 3.0.0"
    data = report.to_json()
    assert (data["errors"], data["problems"], len(data["error_details"])) == (1, 2, 2)


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_the_text_and_the_chart_count_assessments_in_error(tmp_path: Path, form: str) -> None:
    chart = tmp_path / "chart.svg"
    result = CliRunner().invoke(app, ["impact", str(_two_lines(tmp_path)), "--from", "2.0.0", "--to", "3.0.0",
                                      "-f", form, "-j", "1", "--no-progress", "--chart", str(chart)])
    assert result.exit_code == 1, result.output
    assert "1 in error" in result.stdout
    assert "2 in error" not in result.stdout
    assert "1 assessment(s) in error" in chart.read_text(encoding="utf-8")


def test_sql_counts_assessments_in_error_as_python_does(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    from ecei_rules.backends import sql_impact

    old, new = REGISTRY.get("ecei-labels", "2.0.0"), REGISTRY.get("ecei-labels", "3.0.0")
    population = _two_lines(tmp_path)
    folder = sql_impact.prepare_impact(old, new, population, tmp_path / "prepared")
    got = sql_impact.impact_from_parquet(old, new, folder)
    assert (len(got.errors), len(got.problems)) == (1, 2)
    want = impact(old, new, population)
    assert {k: v for k, v in got.to_json().items() if k not in ("seconds", "jobs")} == \
        {k: v for k, v in want.to_json().items() if k not in ("seconds", "jobs")}


def test_one_assessment_names_at_most_max_ignored_members_per_object() -> None:
    pointers = [f"/m{i}" for i in range(study.MAX_IGNORED + 250)] + ["/m0", "/areas/0/x", "/areas/1/x"]
    named, more = study.bounded_ignored(pointers)
    assert len(named) == study.MAX_IGNORED + 1  # /m0 .. /m99 and /areas/-/x (list indices as -)
    assert "/areas/-/x" in named
    assert more == (("", 250),)


def _wide(tmp_path: Path, lines: int, members: int) -> Path:
    path = tmp_path / "wide.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for j in range(lines):
            data = _gold()
            data.update({f"u{j}_{i}": 0 for i in range(members)})
            out.write(json.dumps(data) + "\n")
    return path


def test_the_report_keeps_a_bounded_projection_of_a_wide_population(tmp_path: Path) -> None:
    """Every line has 400 members of its own that no version declares: 1,600 distinct pointers. The report
    names 100 of them and counts the other 1,500 (the JSON stays small)."""
    old, new = REGISTRY.get("ecei-labels", "3.0.0"), REGISTRY.get("ecei-labels", "3.0.1")
    report = impact(old, new, _wide(tmp_path, 4, 400))
    assert report.decided == 4
    for side in (0, 1):
        named = report.named_ignored(side)
        assert len(named) == study.MAX_IGNORED
        assert report.ignored_more[side] == {"": 4 * 400 - study.MAX_IGNORED}
        assert report.ignored[side][study.more_key("")] == 4 * 400 - study.MAX_IGNORED
        assert len(report.ignored[side]) == study.MAX_IGNORED + 1
    data = report.to_json()
    assert data["projection"]["new"]["ignored_not_named"] == {"": 1500}
    assert len(json.dumps(data)) < 20_000


def test_sql_keeps_the_same_bounded_projection(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    from ecei_rules.backends import sql_impact

    old, new = REGISTRY.get("ecei-labels", "3.0.0"), REGISTRY.get("ecei-labels", "3.0.1")
    population = _wide(tmp_path, 3, 300)
    folder = sql_impact.prepare_impact(old, new, population, tmp_path / "prepared")
    got = sql_impact.impact_from_parquet(old, new, folder)
    want = impact(old, new, population)
    assert len(got.named_ignored(1)) == study.MAX_IGNORED
    assert got.ignored_more[1] == {"": 3 * 300 - study.MAX_IGNORED}
    assert {k: v for k, v in got.to_json().items() if k not in ("seconds", "jobs")} == \
        {k: v for k, v in want.to_json().items() if k not in ("seconds", "jobs")}
