"""Helpers of the explanation tests: the shipped versions, their fixtures as raw JSON, deciding again."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import set_at
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset

REGISTRY = Registry.shipped()


def version(v: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", v)


def fixture_data(ruleset: Ruleset, name: str) -> dict[str, Any]:
    """A fixture of a version as raw JSON data (exact decimals), as a user would send it."""
    raw = json.loads(json.dumps(to_json(ruleset.document.fixtures[name])), parse_float=Decimal)
    assert isinstance(raw, dict)
    return raw


def with_changes(data: dict[str, Any], changes: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``data`` with each (JSON pointer, value) set."""
    out = copy.deepcopy(data)
    for pointer, value in changes:
        set_at(out, pointer, value)
    return out


def tier_outcome(ruleset: Ruleset, data: dict[str, Any], label: str) -> str:
    return evaluate(ruleset, data).outcome_of(label)
