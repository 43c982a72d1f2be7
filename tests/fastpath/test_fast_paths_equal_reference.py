"""The optimised paths give exactly what the plain ones give.

* ``evaluate`` (the runtime plan of engine/plan.py) against ``evaluate_reference`` (the
  engine written plainly, one model per result, exact fractions);
* ``decide_label`` and ``outline`` (no trace) against the label, validity and unknown tiers'
  missing inputs of the reference decision;
* ``Decision.to_json`` (built field by field) against ``to_json(model_dump())``;
* ``canonical_json`` (the standard library's encoder where it is safe),
  ``Decision.canonical_text`` (remembered text for the constant parts) and ``decision_text``
  (decided and written in one pass by generated code, criteria remembered by the values they
  read) against ``rfc8785``.

Assessments come from the threshold-aware strategy for every shipped version and for the
every-construct rulesets (counts over unknown filters, decimal weights, nested groups; in 1.1.0
division by zero, signs, membership, sums and minimums, days across month ends).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from json_equality import same_json

from ecei_rules.core.canonical import canonical_bytes, canonical_json, to_json
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import _FAIL
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.strategies import assessments

REGISTRY = Registry.shipped()
EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"
RULESETS: dict[str, Ruleset] = {f"ecei-labels {v}": REGISTRY.get("ecei-labels", v)
                                for v in REGISTRY.versions("ecei-labels")}
RULESETS["every-construct"] = load_ruleset(EVERY)
# the rest of the condition language (division, signs, membership, sum, min, days_between, ...):
# with 1.0.0 it uses every construct (tests/unit/test_where_constructs_go.py)
RULESETS["every-construct 1.1.0"] = load_ruleset(EVERY.with_name("1.1.0.yaml"))
# scores with a minimum (points) and levels over one set of weights
RULESETS["points and levels"] = load_ruleset(EVERY.parent.parent / "points" / "1.0.0.yaml")
# scores that weigh numbers as they are (points clipped to a maximum, beside criteria's weights)
RULESETS["points weighed as numbers"] = load_ruleset(EVERY.parent.parent / "points" / "2.0.0.yaml")
# an unknown tier's missing: branches not taken, operands after another decided, derived values with a value
RULESETS["missing where the evaluation went"] = load_ruleset(EVERY.parent.parent / "needed" / "1.0.0.yaml")
# bands of a computed index (a class per interval, both ends of each written)
RULESETS["bands"] = load_ruleset(EVERY.parent.parent / "bands" / "1.0.0.yaml")
# derived values (known, unknown and undefined), round, floor, ceil, min/max of values, values(map)
RULESETS["every-construct 1.2.0"] = load_ruleset(EVERY.with_name("1.2.0.yaml"))
RULESETS["derived values"] = load_ruleset(EVERY.parent.parent / "derived" / "1.0.0.yaml")


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("name", list(RULESETS))
def test_fast_evaluate_equals_the_reference_evaluator_and_serialises_alike(name: str) -> None:
    """For every assessment: the same Decision (model equality), the same canonical bytes, the
    same label and validity from decide_label, and to_json equal to to_json(model_dump()) type
    for type and key for key."""
    ruleset = RULESETS[name]

    # 60 per ruleset in CI (100 until 2026-12-07: the suite's time), the deep profile's own beyond;
    # the generated trace is compared with the closures and the reference on synth populations too
    # (tests/fastpath/test_generated_trace_path.py)
    @settings(max_examples=60 if settings.default.max_examples <= 100 else settings.default.max_examples)
    @given(assessments(ruleset))
    def check(raw: dict[str, Any]) -> None:
        validated = validate_assessment(ruleset, raw)
        fast = evaluate(ruleset, validated)
        reference = evaluate_reference(ruleset, validated)
        assert fast == reference
        assert evaluate(ruleset, raw) == reference  # raw input: validated on the way in
        fast_json = fast.to_json()
        assert same_json(fast_json, to_json(reference.model_dump(mode="python")))
        expected = rfc8785.dumps(to_json(reference.model_dump(mode="python")))
        assert canonical_bytes(fast_json) == expected
        assert fast.canonical_text().encode("utf-8") == expected
        assert decision_text(ruleset, validated).encode("utf-8") == expected  # decided and written in one pass
        assert decision_text(ruleset, raw).encode("utf-8") == expected
        assert decide_label(ruleset, validated) == (reference.label, reference.valid_from, reference.valid_until)
        assert decide_label(ruleset, raw) == (reference.label, reference.valid_from, reference.valid_until)
        label, valid_from, valid_until, undecided, absent = outline(ruleset, dict(validated.data), missing=True)
        assert (label, valid_from, valid_until) == (reference.label, reference.valid_from, reference.valid_until)
        unknown_tiers = [t for t in reference.tiers if t.outcome == "unknown"]
        assert undecided is bool(unknown_tiers)
        assert list(absent) == [t.missing for t in unknown_tiers]

    check()


def test_fast_evaluate_covers_every_outcome_of_the_every_construct_ruleset() -> None:
    """The differential test above is only as good as its inputs: on the every-construct ruleset
    the strategy reaches met, not met and unknown for every tier and score, so each branch of
    the fast path (cached tier results, integer score arithmetic) is compared."""
    ruleset = RULESETS["every-construct"]
    seen: dict[str, set[str]] = {}

    @settings(max_examples=200, derandomize=True, database=None)
    @given(assessments(ruleset))
    def collect(raw: dict[str, Any]) -> None:
        d = evaluate(ruleset, raw)
        for item in (*d.tiers, *d.scores):
            key = item.label if hasattr(item, "label") else item.id
            seen.setdefault(key, set()).add(item.outcome)

    collect()
    tiers = set(ruleset.document.labels)
    scores = set(ruleset.document.scores)
    assert set(seen) == tiers | scores
    assert all(outcomes == {"met", "not_met", "unknown"} for outcomes in seen.values()), seen


_json_scalars = (st.none() | st.booleans() | st.integers(-(2**60), 2**60)
                 | st.floats(allow_nan=False, allow_infinity=False)
                 | st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(codec="utf-8"), max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _either(fn: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value)
    except Exception as exc:  # the comparison is of which error is raised
        return "error", type(exc).__name__


@settings(max_examples=max(settings.default.max_examples, 300))
@given(_json_values)
def test_canonical_json_is_byte_for_byte_rfc8785(value: Any) -> None:
    """canonical_json gives exactly rfc8785.dumps's bytes (or the same error) for any JSON value:
    floats in every range, integers beyond 2**53, keys outside the Basic Multilingual Plane,
    control characters."""
    assert _either(canonical_json, value) == _either(rfc8785.dumps, value)


@pytest.mark.parametrize("value", [
    {"a": 1e-05}, {"a": [2.0]}, {"a": -0.0}, {"a": 1e16}, {"a": 1e21}, {"a": 2**53 + 1}, {"a": 10**15},
    {"\U0001f600": 1, "\ue000": 2}, ["\x00\x1f\x7f\u2028\"\\"], {"a": 123456789012345.6}, {"a": 0.1 + 0.2},
])
def test_canonical_json_where_the_standard_encoder_would_differ(value: Any) -> None:
    """Each value here is written differently by json.dumps (exponents, 2.0, 17-digit integers,
    key order by code point) or sits at an edge (escapes, 15 and 17 significant digits):
    canonical_json still gives rfc8785's bytes."""
    assert _either(canonical_json, value) == _either(rfc8785.dumps, value)


PAIRS = [("1.2.0", "2.0.0"), ("2.0.0", "3.0.1"), ("1.0.0", "3.0.1")]


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_validating_with_ignore_unknown_equals_projecting_then_validating(old: str, new: str) -> None:
    """Impact validates an assessment that carries two versions' inputs in one pass, leaving out
    what a version does not declare: the same normalised data, problems and ignored pointers (in
    the same order) as inputs.project followed by validation."""
    from ecei_rules.ruleset.inputs import project

    a, b = REGISTRY.get("ecei-labels", old), REGISTRY.get("ecei-labels", new)
    left_out = 0

    @settings(max_examples=max(settings.default.max_examples, 60))
    @given(st.one_of(assessments(a, also=(b,)), assessments(b, also=(a,))))
    def check(raw: dict[str, Any]) -> None:
        nonlocal left_out
        for ruleset in (a, b):
            projected, expected_ignored = project(raw, ruleset.plan.inputs)
            ignored: list[str] = []
            assert ruleset.plan.validator.validate(raw, ignore_unknown=ignored) == \
                ruleset.plan.validator.validate(projected)
            assert ignored == expected_ignored
            left_out += bool(ignored)

    check()
    assert left_out > 0  # the versions' inputs differ, so something was left out


def _places(data: Any, path: tuple = ()) -> list[tuple]:
    """Every position in a JSON value (as key paths), the root included."""
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out.extend(_places(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.extend(_places(value, (*path, i)))
    return out


# edges of the validator: out of range, too precise, too long, null items, and plain junk
_edges = st.sampled_from([-1, -1000, 10**9, 2**53, 2**53 - 1, Decimal("-1"), Decimal("1000000"), Decimal("1.5"),
                          Decimal("0.1234567890123456"), Decimal("1E+16"), 1.5, -0.5, "x" * 10_001, [None], {}, ""])
_junk = st.one_of(_edges, _edges, st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(allow_nan=True),
                  st.text(max_size=5), st.dates().map(str), st.just("2021-02-30"), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("name", list(RULESETS))
def test_compiled_validation_equals_plain_validation_on_valid_and_broken_assessments(name: str) -> None:
    """validate (compiled closures for the success path, the plain validator otherwise) gives
    exactly what validate_plain gives: the normalised data and every diagnostic, with and without
    ignore_unknown, on valid assessments and on assessments with one value replaced by junk, one
    key removed or one unknown key added; and the compiled path does accept the valid ones.
    validate_unordered (generated code) gives the same values for valid data and None for
    invalid data, and accepts every valid assessment."""
    import copy

    ruleset = RULESETS[name]
    validator = ruleset.plan.validator

    # as many as the profile's default (150 until 2026-12-07: the junk of every kind at every place is the
    # systematic test below; these are random breaks of random assessments)
    @settings(max_examples=settings.default.max_examples)
    @given(assessments(ruleset), st.data())
    def check(raw: dict[str, Any], data: st.DataObject) -> None:
        validator.validate(raw)  # compiles the closures on first use
        assert validator._check is not None
        accepted = validator._check(raw, "", None)
        assert accepted is not _FAIL  # the compiled path takes every valid assessment
        assert accepted == validator.validate_plain(raw)[0]
        broken = copy.deepcopy(raw)
        place = data.draw(st.sampled_from(_places(broken)[1:]))
        parent = broken
        for key in place[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            parent[place[-1]] = data.draw(_junk)
        elif action == "remove":
            parent.pop(place[-1])
        elif isinstance(parent, dict):
            parent["zz_unknown"] = 1
        for target in (raw, broken):
            assert validator.validate(target) == validator.validate_plain(target)
            fast_ignored: list[str] = []
            plain_ignored: list[str] = []
            assert validator.validate(target, ignore_unknown=fast_ignored) == \
                validator.validate_plain(target, ignore_unknown=plain_ignored)
            assert fast_ignored == plain_ignored
            # the generated, unordered path: the same values when the data is valid with no
            # undeclared field, None otherwise
            normalised, problems = validator.validate_plain(target)
            unordered = validator.validate_unordered(target)
            if problems:
                assert unordered is None
            else:
                assert unordered == normalised
        assert validator.validate_unordered(raw) is not None  # the generated path takes every valid assessment

    check()


# one value of each kind a declared input can refuse: wrong class, out of range, too precise,
# too long, not a member of an enum, not a catalogue id, not a date, an empty container
_EVERY_JUNK = [None, True, 0, -1, 2**53, 1.5, 1e300, Decimal("1.5"), "", "not-a-member", "x" * 10_001,
               "2021-02-30", "2021-02-03", [], [None], {}, {"zz": 1}]


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("name", list(RULESETS))
def test_generated_validation_refuses_every_junk_value_at_every_place(name: str) -> None:
    """For each position of a valid assessment and each junk value put there, the generated
    validation refuses exactly what the plain validator reports, and otherwise gives its data:
    every check (type, range, enum, pattern, catalogue, date) is tried at every place."""
    import copy

    ruleset = RULESETS[name]
    validator = ruleset.plan.validator

    @settings(max_examples=8, derandomize=True, database=None)
    @given(assessments(ruleset))
    def check(raw: dict[str, Any]) -> None:
        for place in _places(raw)[1:]:
            for junk in _EVERY_JUNK:
                broken = copy.deepcopy(raw)
                parent = broken
                for key in place[:-1]:
                    parent = parent[key]
                parent[place[-1]] = junk
                normalised, problems = validator.validate_plain(broken)
                unordered = validator.validate_unordered(broken)
                assert (unordered is None) == bool(problems), (place, junk, problems)
                if unordered is not None:
                    assert unordered == normalised

    check()
