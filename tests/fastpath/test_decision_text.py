"""The one-pass decision writer (engine/text.py): generated code, criteria remembered by the
values they read. Its equality with the reference is checked on generated assessments in
test_fast_paths_equal_reference.py; these tests cover what that cannot see: a cold memo, a
full memo, keys that must stay apart, and the safety of the generated source."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_equality import same_json

from ecei_rules.audit import replay as replay_module
from ecei_rules.engine import text as text_module
from ecei_rules.engine.evaluate import decision_text
from ecei_rules.engine.evaluator import evaluator
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.registry import Registry
from ecei_rules.ruleset import inputs as inputs_module
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.testing.strategies import assessments

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"


def test_decision_text_with_nothing_remembered_equals_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every memo table full from the start (limit 0), each criterion is decided and written
    every time, and the text is still the reference decision's canonical JSON."""
    monkeypatch.setattr(text_module, "MEMO_LIMIT", 0)
    monkeypatch.setattr(inputs_module, "MEMO_LIMIT", 0)
    ruleset = load_ruleset(EVERY)  # a fresh plan: its tables start empty and stay empty

    @settings(max_examples=60, derandomize=True, database=None)
    @given(assessments(ruleset))
    def check(raw: dict[str, Any]) -> None:
        assert decision_text(ruleset, raw) == evaluate_reference(ruleset, raw_validated(ruleset, raw)).canonical_text()

    check()
    ns = evaluator(ruleset).text_plan.decide.__globals__
    assert all(len(v) == 0 for k, v in ns.items() if k.startswith("T")), "nothing is remembered at limit 0"


def raw_validated(ruleset: Any, raw: dict[str, Any]) -> Any:
    from ecei_rules.engine.evaluate import validate_assessment

    return validate_assessment(ruleset, raw)


def test_remembered_text_is_reused_only_for_the_same_values() -> None:
    """Deciding the same assessments twice, in turn with others, gives the same text each time:
    what a criterion remembered for one value is never served for another."""
    ruleset = load_ruleset(EVERY)
    base = {"org": {"id": "A", "country": "DE"}, "assessed_on": "2024-05-01",
            "staff": {"total": 10, "managers": 2, "fte": 0.75},
            "kpi": {"k1": 0.8, "k2": 3, "k3": True},
            "areas": [{"kpi": "k1", "validated": True}, {"kpi": "k2", "validated": True}],
            "history": [{"label": "basic", "awarded_on": "2021-05-01", "valid_until": "2024-04-30"}]}
    variants = [base,
                {**base, "staff": {"total": 10, "managers": 2, "fte": 0.25}},
                {**base, "kpi": {"k1": 0.5, "k2": 4, "k3": False}},
                {**base, "areas": [{"kpi": "k1", "validated": False}, {"kpi": "k2", "validated": True}]},
                {**base, "areas": []},
                {**base, "history": []},
                {k: v for k, v in base.items() if k != "kpi"}]
    expected = [evaluate_reference(ruleset, raw_validated(ruleset, v)).canonical_text() for v in variants]
    assert len(set(expected)) == len(variants), "the variants decide differently"
    for _ in range(2):
        for variant, text in zip(variants, expected, strict=True):
            assert decision_text(ruleset, variant) == text


def test_frozen_keys_tell_classes_apart_at_every_level() -> None:
    """A list or object read is remembered under a frozen key that keeps each value's class, so
    [true] and [1], {"a": 1} and {"a": 1.0}, a date and its ISO text are different keys."""
    frozen = text_module._frozen
    assert frozen([True]) != frozen([1])
    assert frozen({"a": 1}) != frozen({"a": Decimal("1.0")})
    assert frozen([dt.date(2024, 1, 2)]) != frozen(["2024-01-02"])
    assert frozen([{"a": [1, 2]}]) == frozen([{"a": [1, 2]}])
    hash(frozen([{"a": [1, {"b": None}]}]))  # hashable all the way down


def test_generated_source_holds_no_text_from_the_ruleset() -> None:
    """Only names and whole numbers are written into the generated code of the decision writer
    and of the validation: their only literals are integers, True, False, None, "" (and the
    writer's label "none" and the "," that joins texts), so no id, key or title of a ruleset
    can become code."""
    for ruleset in [load_ruleset(EVERY), *(Registry.shipped().get("ecei-labels", v)
                                           for v in Registry.shipped().versions("ecei-labels"))]:
        tree = ast.parse(evaluator(ruleset).text_plan.source)
        literals = {type(n.value) if not isinstance(n.value, str) else n.value
                    for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert literals <= {int, bool, type(None), "none", "", ","}, literals
        assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["decide"]
        validator = ruleset.plan.validator
        validator.validate_unordered({})  # generated on first use
        tree = ast.parse(validator.unordered_source)
        literals = {type(n.value) if not isinstance(n.value, str) else n.value
                    for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert literals <= {int, bool, type(None), ""}, literals
        assert all(isinstance(n, ast.FunctionDef) for n in tree.body)


_scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
            | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2))
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=12)


@settings(max_examples=300)
@given(_documents, st.booleans())
def test_replay_parses_a_record_input_as_the_standard_library_but_for_huge_integers(value: Any,
                                                                                    ascii_only: bool) -> None:
    """What replay reads from a record's input text is the standard library's value, class for
    class (lone surrogates kept, NaN and Infinity refused); for a version whose inputs all have
    a type, an integer beyond 64 bits may come as a float (see the next test for why that
    decides the same)."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same_json(json.loads(text), replay_module._input(text, False))
    assert same_json(json.loads(text), replay_module._input(text, True), huge_integers_as_floats=True)
    for constant in ("NaN", "Infinity", "-Infinity"):
        for typed in (False, True):
            with pytest.raises(ValueError, match="is not JSON"):
                replay_module._input(f'{{"a":[{constant}]}}', typed)


def test_no_typed_input_takes_a_huge_integer_or_the_float_orjson_reads_for_it() -> None:
    """At every place of valid assessments of every shipped version and of the every-construct
    ruleset, an integer beyond 64 bits and the float orjson reads for it are both refused: so
    replay decides the same whichever of the two it parsed."""
    rulesets = [load_ruleset(EVERY), *(Registry.shipped().get("ecei-labels", v)
                                       for v in Registry.shipped().versions("ecei-labels"))]
    for ruleset in rulesets:
        assert ruleset.plan.validator.typed
        _refuses_huge_numbers_everywhere(ruleset)


def _refuses_huge_numbers_everywhere(ruleset: Any) -> None:
    validator = ruleset.plan.validator

    @settings(max_examples=5, derandomize=True, database=None)
    @given(assessments(ruleset))
    def check(raw: dict[str, Any]) -> None:
        for place in _leaves(raw):
            for huge in (2**70, float(2**70), -(2**64), float(-(2**64))):
                broken = copy.deepcopy(raw)
                parent = broken
                for key in place[:-1]:
                    parent = parent[key]
                parent[place[-1]] = huge
                assert validator.validate_plain(broken)[1], (place, huge)

    check()


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(data, list):
        return [leaf for i, value in enumerate(data) for leaf in _leaves(value, (*path, i))]
    return [path] if path else []
