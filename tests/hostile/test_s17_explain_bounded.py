"""``explain --max-sets`` is bounded in what it lists: at most ``MAX_CHANGE_SETS`` (1,000) sets per tier may be
asked for, and at most ``MAX_LISTED_CHANGES`` changes are listed in the change sets and input sets of one
explanation (each list keeps its first set; the counts stay exact). 120 boolean criteria in one score at a
threshold of one half, all false, and ``--max-sets 10000`` (the maximum it documented) took 1.9 GB and ran out
of memory; 60 criteria took 1.28 GB and wrote 202 MB of JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.explanation import explain, limits, paths
from ecei_rules.explanation.limits import MAX_CHANGE_SETS
from ecei_rules.explanation.paths import Structure, solve
from ecei_rules.ruleset.load import load_ruleset


def _comb(folder: Path, n: int) -> Path:
    """A methodology of ``n`` boolean criteria weighted 1 in one score whose threshold is one half."""
    fields = "".join(f"      x{i}: {{type: boolean}}\n" for i in range(n))
    criteria = "".join(f"  c{i}: {{title: C{i}, when: f.x{i}}}\n" for i in range(n))
    weights = ", ".join(f"c{i}: 1" for i in range(n))
    text = f"""methodology: minimal
version: 1.0.0
title: Comb
status: published
effective_from: 2020-01-01
inputs:
  assessed_on: {{type: date, required: true}}
  f:
    type: object
    fields:
{fields}parameters:
  half: {{value: 0.5, source: x}}
criteria:
{criteria}scores:
  sc:
    title: S
    threshold: half
    source: x
    weights: {{{weights}}}
labels: [basic]
tiers:
  basic:
    title: Basic
    requires: [sc]
validity:
  valid_from: assessed_on
  rules:
    - id: always
      title: Two years
      labels: [basic]
      valid_until: month_end(assessed_on, 24)
"""
    path = folder / "reg" / "minimal" / "1.0.0.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def _assessment(n: int) -> dict[str, object]:
    return {"assessed_on": "2021-01-01", "f": {f"x{i}": False for i in range(n)}}


def test_the_changes_listed_are_bounded(tmp_path: Path) -> None:
    ruleset = load_ruleset(_comb(tmp_path, 30))
    explained = explain(ruleset, _assessment(30), max_change_sets=MAX_CHANGE_SETS)
    (path,) = explained.what_it_takes
    assert path.total_sets > MAX_CHANGE_SETS  # C(30, 15)
    listed = sum(s.size for s in path.change_sets) + sum(s.size for s in path.input_sets)
    assert listed <= limits.MAX_LISTED_CHANGES + path.input_sets[0].size  # (each list keeps its first set)
    assert path.change_sets
    assert path.input_sets
    assert path.truncated
    assert len(json.dumps(explained.to_json())) < 10_000_000


def test_the_documented_maximum_is_refused_beyond(tmp_path: Path) -> None:
    _comb(tmp_path, 4)
    data = tmp_path / "a.json"
    data.write_text(json.dumps(_assessment(4)), encoding="utf-8")
    runner = CliRunner()
    base = ["explain", str(data), "--rulesets", str(tmp_path / "reg"), "-f", "json"]
    assert runner.invoke(app, [*base, "--max-sets", str(MAX_CHANGE_SETS)]).exit_code == 0
    assert runner.invoke(app, [*base, "--max-sets", str(MAX_CHANGE_SETS + 1)]).exit_code == 2
    assert MAX_CHANGE_SETS <= 1_000
    with pytest.raises(ValueError, match="max_change_sets"):
        explain(load_ruleset(tmp_path / "reg" / "minimal" / "1.0.0.yaml"), _assessment(4), max_change_sets=10_000)


def test_sets_of_several_scores_are_combined_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two scores of 30 criteria each, no criterion shared, both at half: 155,117,520 sets for each, and a cap of
    300 combined 90,000 pairs; at most MAX_COMBINED are ranked."""
    from fractions import Fraction

    weights = {s: {f"{s}{i}": Fraction(1) for i in range(30)} for s in ("a", "b")}
    order = {c: i for i, c in enumerate(c for w in weights.values() for c in w)}
    structure = Structure({}, weights, {"a": Fraction(15), "b": Fraction(15)}, order)
    seen: list[int] = []
    import itertools

    real = itertools.product

    def product(*lists: list[object]) -> object:
        total = 1
        for item in lists:
            total *= len(item)
        seen.append(total)
        return real(*lists)

    monkeypatch.setattr(itertools, "product", product)
    sol = solve(structure, ["a", "b"], {}, lambda c: True, cap=300)
    monkeypatch.undo()
    assert len(sol.sets) == 300
    assert sol.total > 10**16
    assert max(seen) <= paths.MAX_COMBINED
