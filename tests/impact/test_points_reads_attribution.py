"""A number a score weighs as it is (``points``), written the same in both versions, counts differently when what
it reads changed: a derived value whose formula reads a parameter the revision changed. The changed decisions
name that parameter (they were counted unexplained, and the text report said "no decision changes" beside a
header counting the change)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Console

from ecei_rules.compare.impact import impact
from ecei_rules.render.impact import impact_renderable
from ecei_rules.ruleset.load import Ruleset, load_ruleset

OLD = """\
methodology: green-office
version: 1.0.0
title: Green office
status: published
effective_from: 2022-01-01
approval: {body: Board, date: 2021-11-01, reference: B-1}
inputs:
  assessed_on: {type: date, required: true}
  saving_pct: {type: decimal, minimum: 0, maximum: 100}
  bonus_ok: {type: boolean}
parameters:
  step: {value: 5, unit: "%", source: "Manual 3"}
  silver_pts: {value: 3, unit: points, source: "Manual 4"}
derived:
  energy_pts:
    title: Energy saving points
    type: integer
    value: floor(saving_pct / params.step)
criteria:
  bonus: {title: Bonus, when: bonus_ok}
scores:
  points:
    title: Points
    weights: {bonus: 1}
    points:
      energy: {value: energy_pts, maximum: 20}
    source: "Manual 4"
    minimum: silver_pts
labels: [silver]
tiers:
  silver: {title: Silver, requires: [points]}
validity:
  valid_from: assessed_on
  rules:
    - {id: first, title: Three years, labels: [silver], valid_until: "month_end(assessed_on, 36)"}
"""

# 'step' 5 -> 4: floor(12 / 5) = 2 points, under the 3 required; floor(12 / 4) = 3, enough for silver
NEW = """\
extends: 1.0.0
version: 1.1.0
supersedes: 1.0.0
status: published
effective_from: 2023-01-01
approval: {body: Board, date: 2022-11-01, reference: B-2}
parameters:
  step: {value: 4}
"""

POPULATION = [{"assessed_on": "2023-06-01", "saving_pct": 12, "bonus_ok": False},
              {"assessed_on": "2023-06-01", "saving_pct": 2, "bonus_ok": True}]


def _versions(tmp_path: Path) -> tuple[Ruleset, Ruleset]:
    folder = tmp_path / "green-office"
    folder.mkdir()
    (folder / "1.0.0.yaml").write_text(OLD, encoding="utf-8")
    (folder / "1.1.0.yaml").write_text(NEW, encoding="utf-8")
    return load_ruleset(folder / "1.0.0.yaml"), load_ruleset(folder / "1.1.0.yaml")


def test_points_read_through_a_derived_value_name_the_parameter_that_changed(tmp_path: Path) -> None:
    """The first office gains silver (2 -> 3 energy points); the parameter 'step' is named for it, with its
    kind of change, and nothing is unexplained; the second office (2 % saved) keeps no label."""
    old, new = _versions(tmp_path)
    report = impact(old, new, POPULATION)
    assert report.unexplained == 0
    assert [(key, count, losses, gains) for key, count, losses, gains in report.attribution()] == [
        ("parameters:step", 1, 0, 1)]
    assert report.diff_kinds["parameters:step"] == "value changed"


def test_a_report_whose_changes_are_all_unexplained_does_not_say_nothing_changed(tmp_path: Path) -> None:
    """With the attribution emptied (as when nothing can be named), the text says the changes are unexplained,
    never "no decision changes"."""
    old, new = _versions(tmp_path)
    report = impact(old, new, POPULATION)
    report.transitions = [dataclasses.replace(t, causes=()) for t in report.transitions]
    report.unexplained = 1
    console = Console(width=200, record=True)
    console.print(impact_renderable(report))
    text = console.export_text()
    assert "no decision changes" not in text
    assert "1 changed decisions unexplained" in text
