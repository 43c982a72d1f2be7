"""`ecei-rules check-properties RULESETS_DIR`: the property checks for authors' own rulesets."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from ecei_rules import evaluate, load_ruleset
from ecei_rules.cli.app import app

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"


def _directory(tmp_path: Path, *, broken: bool) -> Path:
    data = yaml.safe_load(EVERY.read_text(encoding="utf-8"))
    data.pop("tests")
    if broken:  # the basic tier also needs k1 <= 0.9, so raising k1 past Gold's 0.75 can lose it
        data["criteria"]["CAP"] = {"title": "k1 not too high", "when": 'kpi["k1"] <= 0.9'}
        data["tiers"]["basic"]["requires"] = ["CAP"]
    folder = tmp_path / "rulesets" / "every-construct"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path / "rulesets"


def test_verify_a_sound_rulesets_directory_exits_0(tmp_path: Path) -> None:
    """Every property holds for the every-construct ruleset: six checks, exit 0."""
    result = CliRunner().invoke(app, ["check-properties", str(_directory(tmp_path, broken=False)), "--examples", "30",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [r["property"] for r in report["results"]] == [
        "determinism", "replay", "content hash", "sufficiency", "information monotonicity",
        "threshold monotonicity"]
    assert all(r["ok"] for r in report["results"])


def test_verify_saves_a_counterexample_that_reproduces(tmp_path: Path) -> None:
    """A ruleset that breaks threshold monotonicity exits 1 and saves an assessment showing a label."""
    root = _directory(tmp_path, broken=True)
    out = tmp_path / "counterexamples"
    result = CliRunner().invoke(app, ["check-properties", str(root), "--examples", "100", "--out", str(out)])
    assert result.exit_code == 1
    assert "threshold monotonicity" in result.output
    (saved,) = out.glob("*threshold-monotonicity.json")
    assessment = json.loads(saved.read_text(encoding="utf-8"))
    # the saved assessment is valid for the version, and CAP (k1 <= 0.9) decides basic for it
    decision = evaluate(load_ruleset(root / "every-construct" / "1.0.0.yaml"), assessment)
    assert decision.outcome_of("CAP") in ("met", "not_met")
