"""The command line: exit codes, located diagnostics, and the JSON evaluation contract.

Expected labels and dates are derived by hand from ecei-labels.md (see each test).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"
CONTRACT_KEYS = {"methodology", "version", "ruleset_sha256", "label", "valid_from", "valid_until", "tiers",
                 "criteria"}

# 2011-05-10 lies between 1.0.0 (2010-11-01) and 1.1.0 (2012-04-18): 1.0.0 is in force.
# Bronze needs only a completed benchmarking; valid until month_end(2011-05-10, 24) = 2013-05-31.
BRONZE_2011 = {
    "organisation": {"id": "DE-0001", "name": "Sensor Cluster", "country": "DE"},
    "assessed_on": "2011-05-10",
    "benchmarking": {"completed": True},
}
# 2020-02-03 lies between 2.0.0 (2019-11-15) and 3.0.0 (2020-07-01): 2.0.0 is in force. Without the
# eligibility object every label's eligibility is unknown, so no label is met and Bronze is unknown.
NO_ELIGIBILITY_2020 = {
    "organisation": {"id": "NO-0002", "name": "Ocean Cluster", "country": "NO"},
    "assessed_on": "2020-02-03",
    "benchmarking": {"completed": True, "success_stories": 4},
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_reports_three_mistakes_with_locations(runner: CliRunner, tmp_path: Path) -> None:
    """validate prints a misspelt input (with a suggestion), a duplicate key and a string threshold; exit 1."""
    text = EVERY.read_text(encoding="utf-8")
    text = text.replace("when: staff.fte >= params.min_fte", "when: staff.ftee >= params.min_fte")
    text = text.replace("score_min: {value: 0.6,", 'score_min: {value: "0.6",')
    text = text.replace("  K2:\n    title: k2 passes", "  K1:\n    title: k2 passes")
    bad = _write(tmp_path, "bad.yaml", text)
    lines = text.splitlines()
    # where each mistake is, found in the text itself (1-based lines)
    misspelt = next(i for i, line in enumerate(lines, 1) if "staff.ftee" in line)
    duplicate = next(i for i, line in enumerate(lines, 1) if line == "  K1:" and "k2" in lines[i])
    threshold = next(i for i, line in enumerate(lines, 1) if 'value: "0.6"' in line)
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    out = result.output
    column = lines[misspelt - 1].index("ftee") + 1
    assert f"bad.yaml:{misspelt}:{column}: E104" in out
    assert "did you mean 'fte'?" in out
    assert f"bad.yaml:{duplicate}:3: E003 duplicate key 'K1'" in out
    assert re.search(rf"bad\.yaml:{threshold}:\d+: E204 the threshold parameter 'score_min'", out)


def test_validate_json_format_lists_diagnostics(runner: CliRunner, tmp_path: Path) -> None:
    """validate --format json gives machine-readable diagnostics with code, line, column and pointer."""
    bad = _write(tmp_path, "bad.yaml", EVERY.read_text(encoding="utf-8").replace("title: Every construct\n", ""))
    result = runner.invoke(app, ["validate", "--format", "json", str(bad)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["errors"] == 1
    (diag,) = data["diagnostics"]
    assert diag["code"] == "E102"
    assert diag["pointer"] == ""
    assert "'title'" in diag["message"]


def test_validate_accepts_the_shipped_rulesets(runner: CliRunner) -> None:
    """The shipped rulesets directory validates clean (exit 0)."""
    root = Path(__file__).parents[2] / "rulesets"
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 0, result.output
    assert "6 file(s) valid" in result.output


def test_evaluate_single_json_contract(runner: CliRunner, tmp_path: Path) -> None:
    """evaluate --format json prints one object with the contract's keys and the hand-derived decision."""
    path = _write(tmp_path, "a.json", json.dumps(BRONZE_2011))
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    decision = json.loads(line)
    assert set(decision) >= CONTRACT_KEYS
    assert decision["methodology"] == "ecei-labels"
    assert decision["version"] == "1.0.0"
    assert re.fullmatch(r"[0-9a-f]{64}", decision["ruleset_sha256"])
    assert (decision["label"], decision["valid_from"], decision["valid_until"]) == ("bronze", "2011-05-10",
                                                                                     "2013-05-31")
    assert decision["resolution"]["method"] == "in_force"


def test_evaluate_yaml_assessment(runner: CliRunner, tmp_path: Path) -> None:
    """A YAML assessment is read like JSON (dates and numbers exact)."""
    text = ("organisation: {id: DE-0001, name: Sensor Cluster, country: DE}\n"
            "assessed_on: 2011-05-10\nbenchmarking: {completed: true}\n")
    path = _write(tmp_path, "a.yaml", text)
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["valid_until"] == "2013-05-31"


def test_evaluate_batch_keeps_order_and_reports_bad_lines(runner: CliRunner, tmp_path: Path) -> None:
    """A .jsonl batch yields one line per assessment in order; bad lines carry an error; exit 1."""
    bad_type = dict(BRONZE_2011, benchmarking={"completed": "yes"})
    lines = [json.dumps(BRONZE_2011), "{not json", json.dumps(bad_type), json.dumps(NO_ELIGIBILITY_2020)]
    path = _write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n")
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == 4
    assert out[0]["label"] == "bronze"
    assert out[1]["error"]["code"] == "A006"
    assert out[1]["error"]["line"] == 2
    assert out[2]["error"] == {"code": "A003", "message": "expected true or false, got 'yes'",
                               "path": "$.benchmarking.completed", "line": 3}
    assert out[3]["version"] == "2.0.0"
    assert out[3]["label"] == "none"
    bronze = next(t for t in out[3]["tiers"] if t["label"] == "bronze")
    assert bronze["outcome"] == "unknown"
    assert any(m.startswith("/eligibility/") for m in bronze["missing"])


def test_evaluate_pinned_version(runner: CliRunner, tmp_path: Path) -> None:
    """--version pins the version whatever assessed_on says, and the decision says it was pinned."""
    path = _write(tmp_path, "a.json", json.dumps(NO_ELIGIBILITY_2020))
    result = runner.invoke(app, ["evaluate", str(path), "--version", "3.0.1", "--format", "json"])
    decision = json.loads(result.output)
    assert decision["version"] == "3.0.1"
    assert decision["resolution"]["method"] == "pinned"


def test_evaluate_date_before_first_version(runner: CliRunner, tmp_path: Path) -> None:
    """An assessment dated before 2010-11-01 gets a clear error on its line and exit 1."""
    path = _write(tmp_path, "a.json", json.dumps(dict(BRONZE_2011, assessed_on="2009-06-30")))
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["path"] == "$.assessed_on"
    assert "2010-11-01" in error["message"]


def test_evaluate_unknown_version_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """Pinning a version that does not exist stops before reading assessments, with exit 2."""
    path = _write(tmp_path, "a.json", json.dumps(BRONZE_2011))
    result = runner.invoke(app, ["evaluate", str(path), "--version", "9.0.0"])
    assert result.exit_code == 2


def test_evaluate_text_explains_the_decision(runner: CliRunner, tmp_path: Path) -> None:
    """The text output names the version, why it applies, the label and the validity."""
    path = _write(tmp_path, "a.json", json.dumps(BRONZE_2011))
    result = runner.invoke(app, ["evaluate", str(path)], terminal_width=160)
    assert result.exit_code == 0
    assert "ecei-labels 1.0.0" in result.output
    assert "in force on 2011-05-10" in result.output
    assert "BRONZE" in result.output
    assert "2013-05-31" in result.output


def test_evaluate_with_ruleset_file(runner: CliRunner, tmp_path: Path) -> None:
    """--ruleset evaluates with a given file; the decision says the ruleset was given."""
    assessment = {"org": {"id": "T", "country": "DE"}, "assessed_on": "2021-03-15",
                  "staff": {"total": 10, "managers": 2, "fte": 0.5}}
    path = _write(tmp_path, "a.json", json.dumps(assessment))
    result = runner.invoke(app, ["evaluate", str(path), "--ruleset", str(EVERY), "--format", "json"])
    decision = json.loads(result.output)
    # staffing: fte 0.5 >= 0.5 and 2*2 < 10 -> basic; first award month_end(2021-03, 24) = 2023-03-31
    assert (decision["label"], decision["valid_until"]) == ("basic", "2023-03-31")
    assert decision["resolution"]["method"] == "given"


def test_versions_lists_effective_dates(runner: CliRunner) -> None:
    """versions --format json lists the six versions with the spec's effective dates."""
    result = runner.invoke(app, ["versions", "--format", "json"])
    rows = json.loads(result.output)
    assert [(r["version"], r["effective_from"]) for r in rows] == [
        ("1.0.0", "2010-11-01"), ("1.1.0", "2012-04-18"), ("1.2.0", "2013-01-01"),
        ("2.0.0", "2019-11-15"), ("3.0.0", "2020-07-01"), ("3.0.1", "2021-01-01"),
    ]


def test_evaluate_builds_only_the_version_in_force_and_stops_on_it_when_broken(runner: CliRunner,
                                                                             tmp_path: Path) -> None:
    """With 3.0.1 broken (an unknown top-level key): an assessment of 2011 is decided under 1.0.0 (exit 0),
    since only the version in force is built; one of 2021 stops with the located diagnostic (exit 2); a
    batch loads every version first, so it stops on the broken one (exit 2) before deciding anything."""
    import shutil

    root = tmp_path / "rulesets"
    shutil.copytree(Path(__file__).parents[2] / "rulesets", root)
    broken = root / "ecei-labels" / "3.0.1.yaml"
    text = broken.read_text(encoding="utf-8") + "\nbogus_key: 1\n"
    broken.write_text(text, encoding="utf-8")
    line = len(text.splitlines())
    early = _write(tmp_path, "bronze.json", json.dumps(BRONZE_2011))
    result = runner.invoke(app, ["evaluate", str(early), "--rulesets", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["version"] == "1.0.0"
    late = _write(tmp_path, "late.json", json.dumps({**BRONZE_2011, "assessed_on": "2021-06-01"}))
    result = runner.invoke(app, ["evaluate", str(late), "--rulesets", str(root)])
    assert result.exit_code == 2
    assert f"3.0.1.yaml:{line}:1: E101 unknown key 'bogus_key'" in " ".join(result.output.split())
    batch = _write(tmp_path, "batch.jsonl", json.dumps(BRONZE_2011) + "\n")
    result = runner.invoke(app, ["evaluate", str(batch), "--rulesets", str(root), "--format", "json"])
    assert result.exit_code == 2
    assert "bogus_key" in result.output
