"""The unordered fast path of the validator (what the batch and the decision writer run) reads an object
with as many members as are declared by subscript, without counting them; anything it does not take is
read again member by member. Either way it must judge every assessment as the plain, value-by-value
validation does: checked here on synthetic assessments of every shipped ECEI version and of the
every-construct ruleset, each changed in one member at a time (null, left out, renamed to a key that is
not declared, a value of the wrong type, one member more), deterministically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"
WRONG: tuple[Any, ...] = ("x", [], {}, True, 1.5, Decimal("1E+400"))


def _rulesets() -> list[Ruleset]:
    registry = Registry.shipped()
    return [registry.get("ecei-labels", version) for version in registry.versions("ecei-labels")] + \
        [load_ruleset(EVERY)]


def _changed(data: Any) -> Iterator[Any]:
    """``data`` changed in one member of one object (at any depth, list items included) at a time."""
    if isinstance(data, list):
        for i, item in enumerate(data):
            for changed in _changed(item):
                yield [*data[:i], changed, *data[i + 1:]]
        return
    if not isinstance(data, dict):
        return
    yield {**data, "zz_undeclared": 1}
    for key, value in data.items():
        rest = {k: v for k, v in data.items() if k != key}
        yield {**data, key: None}
        yield rest
        yield {**rest, f"{key}_undeclared": value}  # as many members, one not declared
        for wrong in WRONG[:2] if isinstance(value, (dict, list)) else WRONG:
            yield {**data, key: wrong}
        for changed in _changed(value):
            yield {**data, key: changed}


def _shape(value: Any) -> Any:
    """A value with every object's members sorted and every leaf's class kept (1 and 1.0 differ)."""
    if isinstance(value, dict):
        return sorted((k, _shape(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__, repr(value)


@pytest.mark.parametrize("ruleset", _rulesets(), ids=lambda r: r.version if "every" not in str(r.path) else "every")
def test_the_unordered_fast_path_judges_each_changed_assessment_as_the_plain_validation(ruleset: Ruleset) -> None:
    """For a valid assessment and each of its one-member changes: validate_unordered refuses (None)
    exactly those the plain validation finds a problem in, and takes the others with the same values."""
    validator = ruleset.plan.validator
    taken = refused = 0
    for valid in synthesize(1, seed=5, versions=[ruleset], start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31)):
        for data in [valid, *_changed(valid)]:
            plain, problems = validator.validate_plain(data)
            fast = validator.validate_unordered(data)
            if problems:
                assert fast is None, (data, problems)
                refused += 1
            else:
                assert fast is not None, data
                assert _shape(fast) == _shape(plain)
                taken += 1
    assert taken > 10
    assert refused > 10
