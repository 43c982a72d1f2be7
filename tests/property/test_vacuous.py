"""A property check that tested nothing says so ("vacuous"), in the text and the JSON of check-properties;
vacuous is not a failure unless --strict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.registry import Registry
from ecei_rules.testing.properties import Exercise, check_threshold_monotonicity, search_settings, verify_registry

DATA = Path(__file__).parents[1] / "data"

#: A score whose only criterion can never be met: rating is at most 3, the threshold is 5. Every example is drawn,
#: none can move rating past the threshold, so threshold monotonicity runs and tests nothing.
NEVER = """\
methodology: never-reached
version: 1.0.0
title: Never reached
status: published
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  rating: {type: integer, minimum: 0, maximum: 3}
parameters:
  min_rating: {value: 5, source: "Handbook 1"}
  share: {value: 0.5, source: "Handbook 2"}
criteria:
  high: {title: Rating high enough, when: rating >= params.min_rating}
scores:
  points: {title: Points, source: "Handbook 3", threshold: share, weights: {high: 1}}
labels: [basic]
tiers:
  basic: {title: Basic, requires: [points]}
validity:
  valid_from: assessed_on
  rules:
    - id: always
      title: Two years
      labels: [basic]
      valid_until: month_end(assessed_on, 24)
"""


def test_a_property_check_that_checked_nothing_says_it_was_vacuous(tmp_path: Path) -> None:
    """minimal has no score: threshold monotonicity has nothing to check. never-reached has one, but none of the
    examples can reach its threshold: 0 of N exercised. Both used to report a silent pass."""
    minimal = tmp_path / "rulesets" / "minimal"
    minimal.mkdir(parents=True)
    shutil.copy(DATA / "minimal.yaml", minimal / "1.0.0.yaml")
    never = tmp_path / "rulesets" / "never-reached"
    never.mkdir()
    (never / "1.0.0.yaml").write_text(NEVER, encoding="utf-8")

    results = {(r.methodology, r.property): r for r in verify_registry(Registry(tmp_path / "rulesets"),
                                                                       max_examples=8)}
    assert all(r.violation is None for r in results.values())
    assert results[("minimal", "threshold monotonicity")].vacuous == (
        "vacuous: no criterion of a score compares one input with a numeric threshold")
    assert results[("never-reached", "threshold monotonicity")].vacuous == (
        "vacuous: 0 of 8 examples exercised an input moved past a score criterion's threshold")
    assert results[("minimal", "determinism")].vacuous is None

    # a check that does reach its condition is not vacuous: the green-points credits are moved and decided
    points = Registry(DATA / "methodologies").load("green-points", "1.0.0")
    exercise = Exercise("an input moved past a score criterion's threshold")
    assert check_threshold_monotonicity(points, search_settings(20), exercise=exercise) is None
    assert exercise.exercised > 0
    assert exercise.vacuous() is None

    # the command line: in the text and the JSON; exit 0 unless --strict
    runner = CliRunner()
    args = ["check-properties", str(tmp_path / "rulesets"), "--examples", "8"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "threshold monotonicity vacuous: no criterion of a score compares one input" in " ".join(text.output.split())
    assert "12 of 12 property checks hold (2 of them vacuous: they tested nothing)" in text.output
    as_json = runner.invoke(app, [*args, "--format", "json"])
    report = json.loads(as_json.output)
    assert report["vacuous"] == 2
    assert sorted(r["methodology"] for r in report["results"] if r["vacuous"]) == ["minimal", "never-reached"]
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1
