"""The durable backend decides the language's additions as the core engine does: parameter tables
read by an enum value or a quoted key, and band bounds from parameters with a provenance per class
(tests/data/tables/1.0.0.yaml, the fridge written with them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ecei_rules.backends import durable
from ecei_rules.ruleset.load import load_ruleset, load_ruleset_text
from ecei_rules.testing.strategies import assessments

pytestmark = pytest.mark.skipif(not durable.available(), reason="durable-rules is not installed")

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = DATA / "tables" / "1.0.0.yaml"
EVERY_DIFFERENTIAL = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))


@pytest.mark.no_cover
def test_engines_agree_on_parameter_tables_and_bounds_from_parameters() -> None:
    """100 generated appliances of the fridge written with tables: the same label, validity and every
    outcome from both engines; several classes are awarded (not a vacuous agreement)."""
    ruleset = load_ruleset(TABLES)
    plan = durable.compile_ruleset(ruleset)
    labels: set[str] = set()

    @EVERY_DIFFERENTIAL
    @given(assessments(ruleset))
    def agree(assessment: dict[str, Any]) -> None:
        check = durable.cross_check(ruleset, assessment, plan=plan)
        assert check.agree, check.to_json()
        labels.add(check.core.label)

    agree()
    assert len(labels) >= 3, labels


def test_durable_decides_a_table_entry_by_a_quoted_key_as_a_pattern() -> None:
    """``x <= params.t["k"]`` is a durable pattern (the entry is a constant); ``x <= params.t[kind]``
    is posted by the interpreter; both agree with the core engine on each side and on an unknown key."""
    small = (DATA / "tables-small" / "1.0.0.yaml").read_text(encoding="utf-8").replace(
        'when: params.max_use["office"] * 2 <= params.office_floor', 'when: floor_area <= params.max_use["office"]')
    ruleset = load_ruleset_text(small)
    plan = durable.compile_ruleset(ruleset)
    assert plan.evaluated_by == {"efficient": "interpreter", "office_floor": "durable"}
    for data in ({"kind": "flat", "floor_area": 90}, {"kind": "flat", "floor_area": 91},
                 {"kind": "house", "floor_area": 110.5}, {"kind": "office", "floor_area": 151}, {"floor_area": 3}):
        check = durable.cross_check(ruleset, {"assessed_on": "2021-01-01", **data}, plan=plan)
        assert check.agree, check.to_json()
