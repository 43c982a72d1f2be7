"""Synth on the two example methodologies: every energy class and every building level is reached
with their profiles; a threshold on a derived value is solved with each derived value evaluated once
(the same values as its expression written out); candidates are counted with every outcome the
engine decides, without building decisions."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from ecei_rules.engine.evaluate import evaluate, validate_assessment
from ecei_rules.language.interpreter import Interpreter, parse
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.testing.synth import Coverage, _Side, load_profile, synthesize
from ecei_rules.testing.synth_coverage import outcomes
from ecei_rules.testing.synth_goals import goals_of

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "methodologies"
PROFILES = ROOT / "examples" / "synth"
REGISTRY = Registry(EXAMPLES)


def _population(methodology: str, as_of: str, n: int, coverage: Coverage | None = None) -> list[dict]:
    return list(synthesize(n, seed=0, as_of=dt.date.fromisoformat(as_of), registry=REGISTRY,
                           methodology=methodology, versions=["1.0.0", "2.0.0"],
                           profile=load_profile(PROFILES / f"{methodology}.yaml"), coverage=coverage))


@pytest.mark.no_cover  # a population per methodology: smaller tests cover what it runs (docs/contributing.md)
@pytest.mark.parametrize(("methodology", "as_of", "n", "outcomes_of"), [
    ("eu-fridge-label", "2021-06-30", 50, "energy_class."),
    ("building-points", "2020-06-30", 40, "level."),
])
def test_synth_reaches_every_band_class_and_level_of_the_example_methodologies(
        methodology: str, as_of: str, n: int, outcomes_of: str) -> None:
    """With the profiles of examples/synth, a small population (50 fridges, 40 buildings, each decided by
    both versions) awards every label of each version and meets and misses every class of the energy
    bands (eleven under 2010, seven under 2019) and every level of the building's points band."""
    coverage = Coverage()
    _population(methodology, as_of, n, coverage)
    for version in coverage.versions.values():
        assert all(version.labels[label] for label in version.labels_in_order if label != "none"), version.labels
        classes = {key: counts for (kind, key), counts in version.outcomes.items()
                   if kind == "criterion" and key.startswith(outcomes_of)}
        assert len(classes) >= 5
        assert all(counts["met"] and counts["not_met"] for counts in classes.values()), classes


def test_a_derived_threshold_is_solved_with_each_derived_value_once_and_the_same_values() -> None:
    """Every computed goal of the 2019 fridge label (the class bounds of an index computed through 17
    derived values): the staged reading (each derived value once, those the moving input does not
    change once per solve) gives the interpreter's value of the goal written out, as the input moves."""
    ruleset = load_ruleset(EXAMPLES / "eu-fridge-label" / "2.0.0.yaml")
    goals = goals_of([ruleset]).computed
    assert goals
    assert all(g.stages and g.side for g in goals)
    drawn = _population("eu-fridge-label", "2021-06-30", 1)[0]
    data = dict(validate_assessment(ruleset, project(drawn, ruleset.plan.inputs)[0]).data)
    compared = 0
    for goal, pointer in itertools.product(goals, ("/edaily_kwh_24h",)):
        if pointer not in goal.reads:
            continue
        side = _Side(goal, pointer)
        assert side.fixed  # the volumes are read once per solve ...
        assert side.moving  # ... the energy and what it feeds at every step
        side.start(data)
        written_out = Interpreter(dict(goal.params))
        for value in ("0.05", "0.3", "0.8", "2.5"):
            moved = {**data, "edaily_kwh_24h": Decimal(value)}
            assert side.value(moved) == written_out.evaluate(parse(goal.text), moved), (goal.text[:80], value)
            compared += 1
    assert compared >= 8


def test_synth_counts_the_outcomes_the_engine_decides() -> None:
    """outcomes() gives the label and each tier, criterion, group and score outcome of the engine's
    decision, in its order, for every assessment of a building population under both versions."""
    for data in _population("building-points", "2020-06-30", 12):
        for version in ("1.0.0", "2.0.0"):
            ruleset = REGISTRY.get("building-points", version)
            valid = dict(validate_assessment(ruleset, project(data, ruleset.plan.inputs)[0]).data)
            decision, counted = evaluate(ruleset, valid), outcomes(ruleset, valid)
            assert counted.label == decision.label
            assert [(t.label, t.outcome) for t in counted.tiers] == [(t.label, t.outcome) for t in decision.tiers]
            for mine, theirs in (("criteria", decision.criteria), ("groups", decision.groups),
                                 ("scores", decision.scores)):
                assert [(o.id, o.outcome) for o in getattr(counted, mine)] == [(o.id, o.outcome) for o in theirs]
