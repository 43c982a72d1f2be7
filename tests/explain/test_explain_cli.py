"""`ecei-rules explain`: text, Markdown and the stable JSON form; the same through the Python API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from explain_helpers import fixture_data
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.core.canonical import to_json
from ecei_rules.explanation import SCHEMA, explain_assessment, explanation_json_schema
from ecei_rules.ruleset.load import Ruleset


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bronze33(v301: Ruleset, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """33 of 46 Gold weight (see test_explain_gold.py), assessed 2021-03-16: 3.0.1 is in force."""
    data = fixture_data(v301, "gold")
    data["assessed_on"] = "2021-03-16"
    data["indicators"].update({"2.2.3": False, "2.3": Decimal("0.79"), "3.2": Decimal("0.22"), "5.2": 2, "5.3": False,
                               "4.5": 2, "4.7": 2, "4.8": False, "4.9": 1})
    path = tmp_path / "bronze33.json"
    path.write_text(json.dumps(to_json(data)), encoding="utf-8")
    return path, data


def test_text(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]]) -> None:
    result = runner.invoke(app, ["explain", str(bronze33[0])])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == ("Version 3.0.1 applies because it is the version in force on the assessment date 2021-03-16 "
                        "(effective from 2021-01-01).")
    assert "51 minimal change sets; the first 10, fewest changes first:" in result.stdout


def test_markdown(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]]) -> None:
    result = runner.invoke(app, ["explain", str(bronze33[0]), "--format", "markdown"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# ecei-labels 3.0.1: Nordic Subsea Technology Cluster")
    assert "## What it takes" in result.stdout


def test_json_is_the_api_form_and_follows_its_schema(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]]) -> None:
    result = runner.invoke(app, ["explain", str(bronze33[0]), "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc == explain_assessment(bronze33[1]).to_json()
    assert doc["schema"] == SCHEMA
    assert doc["label"] == "bronze"
    assert doc["resolution"]["method"] == "in_force"
    gold = next(p for p in doc["what_it_takes"] if p["label"] == "gold")
    assert gold["total_sets"] == 51
    assert gold["change_sets"][0]["changes"] == [
        {"pointer": "/indicators/4.5", "input": "4.5 (Working groups)", "present": True, "current": 2, "target": 3,
         "op": ">=", "threshold": 3, "relative_to": None},
        {"pointer": "/indicators/4.7", "input": "4.7 (Internationalisation strategy)", "present": True, "current": 2,
         "target": 3, "op": ">=", "threshold": 3, "relative_to": None}]
    schema = explanation_json_schema()
    assert set(schema["required"]) <= set(doc)
    assert set(doc) <= set(schema["properties"])
    defs = schema["$defs"]
    for name, value in (("TierPath", gold), ("ChangeSet", gold["change_sets"][0]), ("ScoreNeed", gold["needs"][0])):
        assert set(value) == set(defs[name]["properties"]), name
        assert all("description" in p for p in defs[name]["properties"].values()), name


def test_json_schema_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["explain", "--json-schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$id"] == SCHEMA


def test_pinned_version(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]]) -> None:
    """3.0.0 pinned: the same decision (3.0.1 changes no decision), the reason says it was asked for."""
    result = runner.invoke(app, ["explain", str(bronze33[0]), "--version", "3.0.0", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["version"] == "3.0.0"
    assert doc["resolution"]["method"] == "pinned"
    assert doc["resolution"]["sentence"] == ("Version 3.0.0 applies because it was asked for explicitly, whatever "
                                             "the assessment date.")


def test_usage_errors_exit_2(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    assert runner.invoke(app, ["explain", str(tmp_path / "nope.json")]).exit_code == 2
    assert runner.invoke(app, ["explain", str(bronze33[0]), "--language", "tlh"]).exit_code == 2
    assert runner.invoke(app, ["explain", str(bronze33[0]), "--version", "9.9.9"]).exit_code == 2
    assert runner.invoke(app, ["explain", str(bronze33[0]), "--near-margin", "lots"]).exit_code == 2


def test_invalid_assessment_exits_1_with_its_path(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"organisation": {"id": "X", "name": "X", "country": "DE"}, "assessed_on": "2021-03-16", '
                   '"indicators": {"3.2": 1.5}}', encoding="utf-8")
    result = runner.invoke(app, ["explain", str(bad)])
    assert result.exit_code == 1
    assert "$.indicators['3.2']" in result.stderr
    as_json = runner.invoke(app, ["explain", str(bad), "--format", "json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["code"] == "A004"


def test_batch_is_json_lines(runner: CliRunner, bronze33: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    lines = tmp_path / "two.jsonl"
    text = json.dumps(to_json(bronze33[1]))
    lines.write_text(text + "\n" + text + "\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", str(lines), "--format", "json"])
    assert result.exit_code == 0
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["label"] for d in docs] == ["bronze", "bronze"]


def _assessment_files() -> list[tuple[list[str], Path]]:
    root = Path(__file__).resolve().parents[2] / "examples"
    shipped = [([], path) for path in sorted(root.glob("*.json"))]
    others = [(["--rulesets", str(root / "methodologies"), "--methodology", path.parents[1].name], path)
              for path in sorted((root / "methodologies").glob("*/assessments/*.json"))]
    return shipped + others


def test_every_example_explanation_is_valid_under_the_published_json_schema(runner: CliRunner) -> None:
    """The JSON of the explanation of every example assessment (ECEI and the other methodologies)
    is valid under the schema `explain --json-schema` prints: exact numbers are JSON numbers there
    as in the documents, not strings."""
    import jsonschema

    schema = json.loads(runner.invoke(app, ["explain", "--json-schema"]).stdout)
    validator = jsonschema.Draft202012Validator(schema)
    files = _assessment_files()
    assert len(files) >= 8
    for options, path in files:
        result = runner.invoke(app, ["explain", *options, str(path), "--format", "json"])
        assert result.exit_code == 0, (path, result.output)
        document = json.loads(result.stdout)
        problems = [f"{list(e.absolute_path)}: {e.message[:120]}" for e in validator.iter_errors(document)]
        assert problems == [], (path.name, problems[:5])
