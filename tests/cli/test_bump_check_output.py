"""What bump-check prints for people about a counterexample's decisions."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ecei_rules.cli.app import app

OLD = """
methodology: stamps
version: 1.0.0
title: Stamps
status: draft
effective_from: 2025-01-01
inputs:
  assessed_on: {type: date, required: true}
  staff: {type: integer, minimum: 0, maximum: 100}
parameters:
  min_staff: {value: 3, unit: FTE, assumed: "to test"}
criteria:
  staffed: {title: Enough staff, when: staff >= params.min_staff}
labels: [basic]
tiers:
  basic: {title: Basic, requires: [staffed]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [basic], valid_until: never}
"""


def test_a_counterexample_without_expiry_says_no_expiry_not_a_python_none(tmp_path: Path) -> None:
    """Raising the minimum staff from 3 to 5 changes some label; the counterexample's label that does not
    expire is printed "to (no expiry)", never "to None" (nor JSON's null)."""
    old, new = tmp_path / "1.0.0.yaml", tmp_path / "2.0.0.yaml"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(OLD.replace("version: 1.0.0", "version: 2.0.0").replace("value: 3,", "value: 5,"), encoding="utf-8")
    result = CliRunner().invoke(app, ["bump-check", str(old), str(new)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "declared major, required major" in result.output
    labelled = [line for line in result.output.splitlines() if ": label basic, valid " in line]
    assert len(labelled) == 1
    assert labelled[0].endswith(" to (no expiry)")
    assert " None" not in result.output
    assert "to null" not in result.output
