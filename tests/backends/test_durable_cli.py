"""The durable backend on the command line: ``evaluate-durable`` and ``cross-check``.

Expected labels are the shipped examples' (gold-2021: Gold under 3.0.1, see examples/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_evaluate_durable_prints_the_decision_and_the_cross_check(runner: CliRunner) -> None:
    """A Gold example: durable-rules decides Gold, names its ruleset, and the core engine agrees (exit 0)."""
    result = runner.invoke(app, ["evaluate-durable", str(EXAMPLES / "gold-2021.json"), "--cross-check"])
    assert result.exit_code == 0, result.output
    assert "label gold" in result.output
    assert "decided by durable-rules" in result.output
    assert "the core engine reaches the same decision" in result.output


def test_evaluate_durable_json_lines_for_a_batch(runner: CliRunner) -> None:
    """A batch gives one JSON object per line: a durable decision with its cross-check, or an error
    (the batch holds one invalid line, so the exit code is 1)."""
    result = runner.invoke(app, ["evaluate-durable", str(EXAMPLES / "batch.jsonl"), "-f", "json", "--cross-check"])
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    decisions = [x for x in lines if "label" in x]
    errors = [x for x in lines if "error" in x]
    assert decisions
    assert len(errors) == 1
    assert all(d["engine"] == "durable-rules 2.0.28" for d in decisions)
    assert all(d["cross_check"] == {"agree": True, "differences": {}} for d in decisions)
    assert result.exit_code == 1


def test_evaluate_durable_pinned_version(runner: CliRunner) -> None:
    """--version pins the version: the 2011 Bronze example (1.0.0 in force) pinned to 1.1.0 is decided
    under 1.1.0, still Bronze (a completed benchmarking), with the resolution recorded as pinned."""
    path = EXAMPLES / "bronze-2011.json"
    result = runner.invoke(app, ["evaluate-durable", str(path), "-v", "1.1.0", "-f", "json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["version"] == "1.1.0"
    assert decision["resolution"]["method"] == "pinned"
    assert decision["label"] == "bronze"


def _log(runner: CliRunner, tmp_path: Path) -> Path:
    log = tmp_path / "log.db"
    files = [str(p) for p in sorted(EXAMPLES.glob("*.json"))]
    result = runner.invoke(app, ["record", *files, "--log", str(log), "--at", "2024-01-01T00:00:00+00:00"])
    assert result.exit_code == 0, result.output
    return log


def test_cross_check_of_a_log_finds_no_disagreement(runner: CliRunner, tmp_path: Path) -> None:
    """Every recorded decision of a fresh log is reached by durable-rules too (exit 0)."""
    log = _log(runner, tmp_path)
    result = runner.invoke(app, ["cross-check", str(log)])
    assert result.exit_code == 0, result.output
    assert "durable-rules reaches all" in result.output


def test_cross_check_reports_a_recorded_decision_durable_does_not_reach(runner: CliRunner, tmp_path: Path) -> None:
    """A JSONL export whose first record claims another label and criterion outcome is reported as a
    disagreement of the engines, naming the record and what differs (exit 1)."""
    log = _log(runner, tmp_path)
    export = tmp_path / "log.jsonl"
    assert runner.invoke(app, ["export", str(log), str(export)]).exit_code == 0
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    decision = rows[0]["decision"]
    decision["label"] = "gold" if decision["label"] != "gold" else "none"
    decision["criteria"][0]["outcome"] = "unknown" if decision["criteria"][0]["outcome"] != "unknown" else "met"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["cross-check", str(export), "-f", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["ok"] is False
    first = report["findings"][0]
    assert first["seq"] == 1
    assert first["kind"] == "engines_disagree"
    assert "label" in first["details"]
    assert decision["criteria"][0]["id"] in first["details"]["criteria"]
