"""The one-pass decision writer (engine/text.py): generated code, criteria remembered by the
values they read. Its equality with the reference is checked on generated assessments in
test_fast_paths_equal_reference.py; these tests cover what that cannot see: a cold memo, a
full memo, keys that must stay apart, and the safety of the generated source."""

from __future__ import annotations

import ast
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecei_rules.audit import replay as replay_module
from ecei_rules.engine import text as text_module
from ecei_rules.engine.evaluate import decision_text
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
    ns = ruleset.plan.text.decide.__globals__
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
    """Only names and whole numbers are written into the generated code: its only literals are
    integers, True, False, None, the label "none", "" and the "," that joins texts, so no id, key or
    title of a ruleset can become code."""
    for ruleset in [load_ruleset(EVERY), *(Registry.shipped().get("ecei-labels", v)
                                           for v in Registry.shipped().versions("ecei-labels"))]:
        tree = ast.parse(ruleset.plan.text.source)
        literals = {type(n.value) if not isinstance(n.value, str) else n.value
                    for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert literals <= {int, bool, type(None), "none", "", ","}, literals
        assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["decide"]


_scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
            | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2))
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=12)


def _same_json(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


@settings(max_examples=300)
@given(_documents, st.booleans())
def test_replay_parses_a_record_input_exactly_as_the_standard_library(value: Any, ascii_only: bool) -> None:
    """What replay reads from a record's input text (orjson where it agrees) is the standard
    library's value, class for class: integers beyond 64 bits stay integers, lone surrogates
    stay, and NaN or Infinity are refused by both."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same_json(replay_module._input(text), json.loads(text))
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="is not JSON"):
            replay_module._input(f'{{"a":[{constant}]}}')
