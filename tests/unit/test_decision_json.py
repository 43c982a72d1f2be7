"""A decision round-trips through pydantic's JSON: ``model_validate_json(model_dump_json())``
gives back an equal decision (dates stay dates, Decimals stay Decimals, tuples stay tuples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from ecei_rules.batch import decide
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.ruleset.model import ParameterUse
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = Registry.shipped()
VERSIONS = REGISTRY.versions("ecei-labels")
EVERY = load_ruleset(ROOT / "tests" / "data" / "every" / "1.0.0.yaml")


def _shipped_decisions(version: str) -> list[Decision]:
    """The decisions of every embedded test and fixture of a shipped version."""
    ruleset = REGISTRY.get("ecei-labels", version)
    doc = ruleset.document
    data = [embedded_assessment(doc, i) for i in range(len(doc.tests))] + list(doc.fixtures.values())
    return [evaluate(ruleset, d) for d in data]


def _round_trips(decision: Decision) -> None:
    back = Decision.model_validate_json(decision.model_dump_json())
    assert back == decision
    assert back.canonical_text() == decision.canonical_text()


@pytest.mark.parametrize("version", VERSIONS)
def test_a_decision_round_trips_through_json(version: str) -> None:
    """Every decision of a shipped version's embedded tests and fixtures (labels awarded and
    not, unknown outcomes among them) comes back equal from its own JSON."""
    decisions = _shipped_decisions(version)
    assert decisions
    for decision in decisions:
        _round_trips(decision)


def test_the_shipped_round_trips_include_unknown_outcomes_and_every_value_type() -> None:
    """The shipped cases above are worth something: they hold unknown tiers and criteria, and
    dates, Decimals and tuples in the values a decision shows."""
    decisions = [d for v in VERSIONS for d in _shipped_decisions(v)]
    assert any(t.outcome == "unknown" for d in decisions for t in d.tiers)
    values: list[Any] = [v for d in decisions for c in d.criteria for v in c.inputs.values()]
    values += [p.value for d in decisions for c in d.criteria for p in c.parameters]
    kinds = {type(v).__name__ for v in values}
    assert {"date", "Decimal"} <= kinds, kinds


def test_the_decisions_of_the_examples_round_trip_through_json() -> None:
    """Each example assessment, decided under the version in force on its date, comes back equal."""
    examples = sorted((ROOT / "examples").glob("*.json"))
    assert examples
    for path in examples:
        _round_trips(decide(json.loads(path.read_text(encoding="utf-8")), registry=REGISTRY))


def test_tagged_values_survive_json_even_when_the_data_looks_like_a_tag() -> None:
    """A parameter value that is a tuple, a date or a Decimal, and an object of the data whose key
    looks like a tag, all come back as they were."""
    for value in [("a", "b"), ["a", {"$date": "2020-01-01"}], {"$decimal": "1"}, {"x": {"$tuple": []}}]:
        use = ParameterUse(name="p", value=value, provenance="assumed", source="why")
        assert ParameterUse.model_validate_json(use.model_dump_json()) == use


@settings(max_examples=max(settings.default.max_examples, 60))
@given(assessments(EVERY))
def test_any_decision_of_the_every_construct_ruleset_round_trips_through_json(raw: dict[str, Any]) -> None:
    """Property: for any assessment of the every-construct ruleset, the decision's JSON reads back
    as an equal decision."""
    _round_trips(evaluate(EVERY, raw))
