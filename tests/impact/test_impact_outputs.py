"""Impact analysis outputs and batch behaviour: workers give the same report in input order, errors
are reported per line, and the report renders as JSON, Markdown, a rich table and an SVG chart;
the same through the command line."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.compare.impact import ImpactReport, count_lines, impact, impact_refs
from ecei_rules.core.canonical import to_json
from ecei_rules.registry import Registry
from ecei_rules.render.impact import impact_markdown, impact_renderable, transition_chart
from ecei_rules.testing.synth import load_profile, synthesize

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.shipped()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Path:
    """240 organisations for 2.0.0 -> 3.0.0, with three bad lines: line 5 is not JSON, line 9 names an
    improvement area (9.9) that neither version's catalogue has, line 13 is blank (skipped). (An area of an
    indicator only one version has is projected out, not refused: test_impact_projection.py.)"""
    import datetime as dt

    profile = load_profile(Path(__file__).parents[2] / "examples" / "synth" / "ecei-labels.yaml")  # SYN- ids
    lines = [json.dumps(to_json(d)) for d in synthesize(240, seed=31, as_of=dt.date(2020, 12, 31),
                                                       registry=registry, versions=["2.0.0", "3.0.0"],
                                                       profile=profile)]
    lines[4] = '{"organisation": '
    rejected = json.loads(lines[8])
    rejected["improvement_areas"] = [{"indicator": "9.9", "validated": True}]
    lines[8] = json.dumps(rejected)
    lines.insert(12, "")
    path = tmp_path_factory.mktemp("impact") / "population.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial(registry: Registry, population: Path) -> ImpactReport:
    return impact(registry.get("ecei-labels", "2.0.0"), registry.get("ecei-labels", "3.0.0"), population)


def _stable(report: ImpactReport) -> dict[str, Any]:
    data = report.to_json()
    data.pop("seconds")
    data.pop("jobs")
    return data


def test_errors_are_reported_by_line_and_left_out(serial: ImpactReport) -> None:
    assert serial.assessments == 240
    assert serial.decided == 238
    by_line = {(e.index, e.version): e for e in serial.problems}
    assert set(by_line) == {(5, None), (9, "2.0.0"), (9, "3.0.0")}
    assert by_line[(5, None)].code == "A006"
    assert by_line[(9, "3.0.0")].pointer == "/improvement_areas/0/indicator"


def test_workers_give_the_same_report_in_input_order(registry: Registry, population: Path,
                                                     serial: ImpactReport) -> None:
    seen: list[int] = []
    parallel = impact(registry.get("ecei-labels", "2.0.0"), registry.get("ecei-labels", "3.0.0"), population,
                      jobs=2, chunk_size=17, progress=seen.append)
    assert parallel.jobs == 2
    assert _stable(parallel) == _stable(serial)
    lines = [t.index for t in parallel.transitions]
    assert lines == sorted(lines)
    assert seen[-1] == 240


def test_python_api_by_reference(population: Path, serial: ImpactReport) -> None:
    report = impact_refs("ecei-labels@2.0.0", "ecei-labels@3.0.0", population)
    assert _stable(report) == _stable(serial)
    assert count_lines(population) == 240  # 241 lines, the blank one not counted


def test_json_markdown_rich(serial: ImpactReport) -> None:
    data = json.loads(json.dumps(serial.to_json()))
    assert data["old"]["version"] == "2.0.0"
    assert data["new"]["version"] == "3.0.0"
    assert sum(sum(row.values()) for row in data["matrix"].values()) == data["decided"] == 238
    assert data["changed"]["total"] == len(data["transitions"]) == len(serial.transitions)
    assert data["changed"]["gain"] + data["changed"]["loss"] + data["changed"]["validity_only"] == \
        data["changed"]["total"]
    items = {a["item"] for a in data["attribution"]}
    assert items
    assert all(i.startswith("criteria:") for i in items)
    assert serial.to_json(limit=3)["transitions_shown"] == min(3, len(serial.transitions))
    md = impact_markdown(serial, limit=5)
    row = serial.matrix["gold"]
    assert f"| gold | {row['none']} | {row['bronze']} | {row['silver']} | **{row['gold']}** |" in md
    assert "## Attribution" in md
    assert "| <code>criteria:" in md
    console = Console(record=True, width=200)
    console.print(impact_renderable(serial, limit=5))
    text = console.export_text()
    assert "Transitions (rows 2.0.0, columns 3.0.0)" in text
    assert "SYN-" in text


def test_svg_chart(serial: ImpactReport) -> None:
    root = ET.fromstring(transition_chart(serial))
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    # one cell per (old, new) pair, each showing its count
    cells = {(r.get("data-old"), r.get("data-new")): int(r.get("data-count", -1))
             for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"}
    assert cells == {(a, b): serial.matrix[a][b] for a in serial.labels for b in serial.labels}
    for a in serial.labels:
        for b in serial.labels:
            assert f"{serial.matrix[a][b]:,}" in texts
    top = serial.attribution()[0][0].split(":", 1)[1]
    assert top in texts


def test_cli_synth_is_reproducible(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["synth", "--n", "25", "--seed", "4", "--as-of", "2020-06-30", "-v", "1.2.0", "-v", "ecei-labels@2.0.0"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a.jsonl")])
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b.jsonl")])
    assert first.exit_code == second.exit_code == 0, first.output
    a = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in a.splitlines()]
    assert len(rows) == 25
    assert all("2019-07-01" <= r["assessed_on"] <= "2020-06-30" for r in rows)
    bad = runner.invoke(app, ["synth", "--n", "3", "--as-of", "2020-13-01"])
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["synth", "--n", "3", "--as-of", "2020-06-30", "-v", "9.9.9"])
    assert unknown.exit_code == 2


def test_cli_impact(tmp_path: Path, population: Path) -> None:
    runner = CliRunner()
    chart = tmp_path / "impact.svg"
    result = runner.invoke(app, ["impact", "--from", "ecei-labels@2.0.0", "--to", "ecei-labels@3.0.0",
                                 str(population), "--format", "json", "--jobs", "1", "--chart", str(chart),
                                 "--no-progress"])
    assert result.exit_code == 1  # two assessments could not be evaluated
    data = json.loads(result.stdout)
    assert data["decided"] == 238
    assert data["errors"] == 2  # two assessments: line 5, and line 9 (under each version: two problems)
    assert data["problems"] == 3
    assert ET.parse(chart).getroot().tag == f"{SVG}svg"
    md = tmp_path / "impact.md"
    result = runner.invoke(app, ["impact", "--from", "2.0.0", "--to", "3.0.0", str(population), "-f", "markdown",
                                 "-o", str(md), "-j", "1", "--no-progress"])
    assert md.read_text(encoding="utf-8").startswith("# Impact of ecei-labels 2.0.0 → 3.0.0")
    result = runner.invoke(app, ["impact", "--from", "ecei-labels@2.0.0", "--to", "ecei-labels@7.0.0",
                                 str(population)])
    assert result.exit_code == 2


def test_cli_impact_clean_population_exits_0(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "pop.jsonl"
    made = runner.invoke(app, ["synth", "--n", "40", "--seed", "1", "--as-of", "2020-06-30", "-v", "1.2.0", "-v",
                               "2.0.0", "-o", str(path)])
    assert made.exit_code == 0
    result = runner.invoke(app, ["impact", "--from", "1.2.0", "--to", "2.0.0", str(path), "-j", "1",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Transitions (rows 1.2.0, columns 2.0.0)" in result.stdout


def test_markdown_escapes_what_the_assessments_bring(serial: ImpactReport) -> None:
    """An organisation id and an undeclared field name come from the population: in the Markdown report they
    cannot split a table row, inject HTML or carry rich markup; each row keeps its cells."""
    hostile = "a | b <script>x</script>\n[bold]y"
    first = dataclasses.replace(serial.transitions[0], subject=hostile)
    report = dataclasses.replace(serial, transitions=[first, *serial.transitions[1:]],
                                 ignored=(Counter({hostile: 2}), serial.ignored[1]))
    md = impact_markdown(report, limit=1)
    assert "<script>" not in md
    changed = [line for line in md.splitlines() if line.startswith(f"| {first.index} |")]
    assert len(changed) == 1
    row = changed[0]
    assert "a \\| b &lt;script&gt;x&lt;/script&gt; \\[bold\\]y" in row
    assert row.count(" | ") == 5  # six cells, the escaped pipe inside one of them
    projection = next(line for line in md.splitlines() if line.startswith(f"| {report.old.version} |"))
    assert "<code>a &#124; b &lt;script&gt;x&lt;/script&gt; [bold]y</code> (2)" in projection
