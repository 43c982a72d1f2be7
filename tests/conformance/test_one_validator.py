"""One validator (issue 21): AssessmentValidator.validate runs the generated fast path and falls
back to the plain, value-by-value validation; both give the same data in the same order, and the
same fields left out, in the same order."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecei_rules import Registry, Ruleset, load_ruleset
from ecei_rules.core.canonical import to_json
from ecei_rules.testing.strategies import assessments

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"
SHIPPED = Registry.shipped()
RULESETS: dict[str, Ruleset] = {"every": load_ruleset(EVERY), "3.0.1": SHIPPED.get("ecei-labels", "3.0.1"),
                                "1.0.0": SHIPPED.get("ecei-labels", "1.0.0")}


def _reshuffled(data: Any, draw: st.DataObject, undeclared: bool) -> Any:
    """``data`` with every object's keys in a drawn order, and (with ``undeclared``) here and
    there a key no version declares."""
    if isinstance(data, list):
        return [_reshuffled(x, draw, undeclared) for x in data]
    if not isinstance(data, dict):
        return data
    items = [(k, _reshuffled(v, draw, undeclared)) for k, v in data.items()]
    items = draw.draw(st.permutations(items))
    if undeclared and draw.draw(st.booleans()):
        items.insert(draw.draw(st.integers(0, len(items))), ("zz_undeclared", [1, {"a": None}]))
    return dict(items)


def _ordered(value: Any) -> str:
    return json.dumps(to_json(value))  # keeps the order of every object's keys


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("name", list(RULESETS))
def test_the_fast_path_gives_the_plain_paths_data_in_the_same_order(name: str) -> None:
    """Property: for a valid assessment with its keys in any order, and undeclared keys here and
    there when they are ignored, validate (the generated fast path) and validate_plain give the
    same data with every object's keys in the same order, and the same ignored pointers in the
    same order; the fast path takes it (it does not fall back to the plain one)."""
    validator = RULESETS[name].plan.validator

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(assessments(RULESETS[name]), st.data())
    def check(raw: dict[str, Any], draw: st.DataObject) -> None:
        plain_only = _reshuffled(raw, draw, undeclared=False)
        fast, problems = validator.validate(plain_only)
        assert problems == []
        assert _ordered(fast) == _ordered(validator.validate_plain(plain_only)[0])
        assert validator._check is not None
        assert validator._check(plain_only, "", None) is not None  # taken by the fast path
        with_undeclared = _reshuffled(raw, draw, undeclared=True)
        fast_ignored: list[str] = []
        plain_ignored: list[str] = []
        fast, _ = validator.validate(with_undeclared, ignore_unknown=fast_ignored)
        plain, _ = validator.validate_plain(with_undeclared, ignore_unknown=plain_ignored)
        assert _ordered(fast) == _ordered(plain)
        assert fast_ignored == plain_ignored

    check()


def _numbers() -> st.SearchStrategy[Any]:
    """Numbers as a caller may hand them over: ints, floats and Decimals written every way (124.0,
    1.24E+2, 0E-20, trailing zeros, 16 digits, beyond 2^53), and a few values that are no number."""
    decimals = st.builds(lambda digits, exp: Decimal(f"{digits}E{exp}"), st.integers(-(10**17), 10**17),
                         st.integers(-25, 20))
    floats = st.floats(allow_nan=True, allow_infinity=True)
    edges = st.sampled_from([Decimal("124.0"), Decimal("0E-20"), Decimal("9007199254740991.0"), 2**53, 2**53 - 1,
                             Decimal("9.1E+15"), 124.0, 1e16, True, "3", Decimal("NaN"), Decimal("-0.0")])
    return st.one_of(edges, st.integers(-(2**54), 2**54), floats, decimals)


def test_the_fast_path_and_the_plain_path_judge_a_number_written_any_way_alike() -> None:
    """Property: a number written any way (a whole Decimal or float for an integer input, a zero
    with an exponent, beyond 2^53 - 1, NaN, a bool) at the integer and the decimal inputs of a valid
    assessment: validate (the generated fast path) and validate_plain accept the same ones, with
    the same data (124.0 read as the int 124), and refuse the others with the same problems."""
    ruleset = RULESETS["every"]  # staff: total (integer), fte (decimal)
    validator = ruleset.plan.validator

    @settings(max_examples=max(300, settings.default.max_examples),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(assessments(ruleset), _numbers(), _numbers())
    def check(raw: dict[str, Any], total: Any, fte: Any) -> None:
        data = {**raw, "staff": {"total": total, "fte": fte}}
        fast, fast_problems = validator.validate(data)
        plain, plain_problems = validator.validate_plain(data)
        assert fast_problems == plain_problems
        assert _ordered(fast) == _ordered(plain)
        assert (validator.validate_unordered(data) is None) == bool(plain_problems)
        if not plain_problems:
            assert type(fast["staff"]["total"]) is int

    check()
