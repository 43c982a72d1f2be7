"""On a ruleset that declares its subject and has a validity with no expiry and one that may end
before it starts (tests/data/subject/1.0.0.yaml), every fast mode gives exactly what the reference
evaluator gives, byte for byte, and the durable backend agrees; where the validity would end before
it starts, every one of them refuses the assessment with the same A007 instead of deciding it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import rfc8785
from hypothesis import HealthCheck, example, given, settings
from json_equality import same_json

from ecei_rules.backends import durable
from ecei_rules.core.canonical import canonical_bytes, to_json
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import AssessmentError
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.testing.strategies import assessments

RULESET = load_ruleset(Path(__file__).resolve().parent.parent / "data" / "subject" / "1.0.0.yaml")
#: hand-picked cases the generated ones are added to: a validity ending before it starts (refused),
#: Gold with no expiry, Silver to a certificate's end
REFUSED = {"building": {"id": "B-1"}, "assessed_on": "2022-01-10", "energy_use": 80, "certified": True,
           "certificate_until": "2021-03-18"}
GOLD = {"building": {"id": "B-2", "name": "Library"}, "assessed_on": "2022-01-10", "energy_use": 50}
SILVER = {"assessed_on": "2022-01-10", "energy_use": 100, "certified": True, "certificate_until": "2022-01-10"}


def _either(call: Any) -> tuple[str, Any]:
    """("ok", the result) or ("A007", the diagnostics' codes and messages)."""
    try:
        return "ok", call()
    except AssessmentError as exc:
        return "error", [(d.code, d.message) for d in exc.diagnostics]


def test_fast_modes_equal_the_reference_evaluator_on_a_declared_subject_and_no_expiry() -> None:
    """Generated assessments: the same Decision, the same canonical bytes from every writer, the same
    label and validity from the label-only modes, to_json equal to to_json(model_dump()) key for key;
    or the same A007 from all of them. Not vacuous: Gold with no expiry, Silver with an end date,
    and refused assessments all occur."""
    seen: Counter[str] = Counter()

    @settings(max_examples=200, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(assessments(RULESET))
    @example(REFUSED)
    @example(GOLD)
    @example(SILVER)
    def check(raw: dict[str, Any]) -> None:
        validated = validate_assessment(RULESET, raw)
        reference = _either(lambda: evaluate_reference(RULESET, validated))
        fast = _either(lambda: evaluate(RULESET, validated))
        assert fast == reference
        if reference[0] == "error":
            seen["refused"] += 1
            for call in (lambda: decision_text(RULESET, raw), lambda: decide_label(RULESET, raw),
                         lambda: outline(RULESET, dict(validated.data))):
                assert _either(call) == reference
            return
        ref, decision = reference[1], fast[1]
        seen[f"{ref.label} {'never' if ref.validity_expires is False else ref.valid_until is not None}"] += 1
        expected = rfc8785.dumps(to_json(ref.model_dump(mode="python")))
        assert same_json(decision.to_json(), to_json(ref.model_dump(mode="python")))
        assert canonical_bytes(decision.to_json()) == expected
        assert decision.canonical_text().encode("utf-8") == expected == ref.canonical_text().encode("utf-8")
        assert decision_text(RULESET, raw).encode("utf-8") == expected
        assert decide_label(RULESET, raw) == (ref.label, ref.valid_from, ref.valid_until)
        assert outline(RULESET, dict(validated.data))[:3] == (ref.label, ref.valid_from, ref.valid_until)

    check()
    assert seen["refused"] > 0, seen
    assert seen["gold never"] > 0, seen
    assert seen["silver True"] > 0, seen


def test_the_durable_backend_agrees_on_a_declared_subject_and_no_expiry() -> None:
    """The durable backend decides the same label, validity (no expiry included) and outcomes, names
    the subject by the same key, and refuses the same assessments with A007."""
    plan = durable.compile_ruleset(RULESET)
    seen: Counter[str] = Counter()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(assessments(RULESET))
    @example(REFUSED)
    @example(GOLD)
    @example(SILVER)
    def agree(raw: dict[str, Any]) -> None:
        core = _either(lambda: evaluate(RULESET, raw))
        other = _either(lambda: durable.evaluate(RULESET, raw, plan=plan))
        assert core[0] == other[0]
        if core[0] == "error":
            assert core == other
            seen["refused"] += 1
            return
        assert durable.disagreements(core[1], other[1]) == {}
        assert other[1].to_json()["subject"] == core[1].to_json()["subject"]
        assert other[1].to_json().get("validity_expires") == core[1].to_json().get("validity_expires")
        seen[core[1].label] += 1

    agree()
    assert seen["refused"] > 0, seen
    assert seen["gold"] > 0, seen
    assert seen["silver"] > 0, seen
