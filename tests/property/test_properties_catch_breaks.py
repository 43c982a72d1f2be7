"""Each property check catches a deliberately broken implementation, with a counterexample.

The breaks are built here, in throwaway objects and temporary copies of rulesets: an
evaluator with hidden state (a clock stand-in), one whose output depends on the process, a
trace missing a criterion, unknown treated as false, a ruleset whose criteria pull one input
both ways, a threshold change shipped as a patch, a diff that forgets parameter changes, and
content hashes that see too much or too little.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from ecei_rules import load_ruleset
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing import properties as props
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).parents[2]
REGISTRY = Registry.shipped()
CONFIG = props.search_settings(100, shrink=False)  # a violation is enough; minimal ones cost time


def _v(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


def test_determinism_catches_a_criterion_reading_a_hidden_clock() -> None:
    """An evaluator whose B1 outcome depends on a ticking counter (a clock stand-in) is caught."""
    ticks = itertools.count()

    def clocked(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        decision = evaluate(ruleset, data, **kw)
        if next(ticks) % 2:
            flipped = [c.model_copy(update={"outcome": "met" if c.outcome != "met" else "not_met"})
                       if c.id == "B1" else c for c in decision.criteria]
            return decision.model_copy(update={"criteria": tuple(flipped)})
        return decision

    violation = props.check_determinism(_v("1.0.0"), CONFIG, evaluate=clocked)
    assert violation is not None
    assert "differ" in violation.message
    assert "assessed_on" in violation.assessment


def test_fresh_interpreter_catches_output_that_depends_on_the_process() -> None:
    """An evaluator that writes its process id into the decision is caught by a fresh interpreter."""
    def per_process(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        return evaluate(ruleset, data, **kw).model_copy(update={"organisation": str(os.getpid())})

    ruleset = _v("1.0.0")
    examples = [{"organisation": {"id": "X", "name": "X", "country": "DE"}, "assessed_on": "2011-01-01",
                 "benchmarking": {"completed": True}}]
    violation = props.check_fresh_interpreter(ruleset, examples, evaluate=per_process)
    assert violation is not None
    assert violation.assessment == examples[0]


def test_replay_catches_a_decision_the_engine_would_not_make_again() -> None:
    """Recording with an evaluator that drops the validity makes replay differ."""
    def forgetful(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        return evaluate(ruleset, data, **kw).model_copy(update={"valid_until": None})

    violation = props.check_replay(_v("1.0.0"), CONFIG, evaluate=forgetful)
    assert violation is not None
    assert "different decision" in violation.message


def test_sufficiency_catches_a_trace_missing_one_criterion() -> None:
    """A decision whose trace omits Gold indicator 1.1.0 cannot be recomputed from the trace."""
    def incomplete(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        decision = evaluate(ruleset, data, **kw)
        return decision.model_copy(update={"criteria": tuple(c for c in decision.criteria if c.id != "1.1.0")})

    violation = props.check_sufficiency(_v("1.1.0"), CONFIG, evaluate=incomplete)
    assert violation is not None
    assert "1.1.0" in violation.message


def test_information_monotonicity_catches_unknown_treated_as_false() -> None:
    """An evaluator that reports unknown criteria as not met is caught when the input is supplied."""
    def closed_world(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        decision = evaluate(ruleset, data, **kw)
        criteria = tuple(c.model_copy(update={"outcome": "not_met"}) if c.outcome == "unknown" else c
                         for c in decision.criteria)
        return decision.model_copy(update={"criteria": criteria})

    violation = props.check_information_monotonicity(_v("1.1.0"), CONFIG, evaluate=closed_world)
    assert violation is not None
    assert "not_met with" in violation.message


def test_threshold_monotonicity_catches_criteria_pulling_one_input_both_ways(tmp_path: Path) -> None:
    """A ruleset whose basic tier needs k1 <= 0.9 loses the label when k1 moves further past Gold's 0.75."""
    text = (ROOT / "tests" / "data" / "every" / "1.0.0.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["criteria"]["CAP"] = {"title": "k1 not too high", "when": 'kpi["k1"] <= 0.9'}
    data["tiers"]["basic"]["requires"] = ["CAP"]
    data.pop("tests")
    broken = tmp_path / "1.0.0.yaml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    violation = props.check_threshold_monotonicity(load_ruleset(broken), CONFIG)
    assert violation is not None
    assert "lowers basic to none" in violation.message


def test_bump_honesty_catches_a_threshold_change_shipped_as_a_patch(tmp_path: Path) -> None:
    """3.0.2 raising Gold threshold 1.1.0 from 0.75 to 0.80 as a patch is caught with a counterexample."""
    rulesets = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", rulesets)
    (rulesets / "ecei-labels" / "3.0.2.yaml").write_text(
        "extends: 3.0.1\nversion: 3.0.2\nsupersedes: 3.0.1\nstatus: published\neffective_from: 2022-01-01\n"
        "approval: {body: EUCLES board, date: 2021-12-01, reference: test}\n"
        "parameters:\n  gold_1_1_0: {value: 0.80}\n", encoding="utf-8")
    registry = Registry(rulesets)
    violation = props.check_bump_honesty(registry.get("ecei-labels", "3.0.1"), registry.get("ecei-labels", "3.0.2"),
                                     props.search_settings(300, shrink=False))
    assert violation is not None
    assert "patch bump" in violation.message
    # by hand: the counterexample must sit between the two thresholds, 0.75 <= 1.1.0 < 0.80
    value = violation.assessment["indicators"]["1.1.0"]
    assert 0.75 <= float(value) < 0.80


def test_attribution_catches_a_diff_that_forgets_new_criteria() -> None:
    """With a diff that omits new criteria, the 1.2.0 -> 2.0.0 eligibility changes go unexplained."""
    def forgetful_diff(old: Ruleset, new: Ruleset) -> Any:
        diff = semantic_diff(old, new)
        diff.changes = [c for c in diff.changes if c.section != "criteria"]
        return diff

    violation = props.check_attribution(_v("1.2.0"), _v("2.0.0"), CONFIG, diff_fn=forgetful_diff)
    assert violation is not None
    assert "does not report" in violation.message


def test_content_hash_check_catches_a_hash_blind_to_criteria_order_and_condition_text() -> None:
    """The scheme-1 hash (sorted keys, conditions normalised) misses edits a decision shows: the check says so."""
    import ast
    import hashlib


    def scheme_1(text: str) -> str:
        def norm(value: object, key: str | None = None) -> object:
            if isinstance(value, dict):
                return {k: norm(v, k) for k, v in value.items()}
            if isinstance(value, list):
                return [norm(v) for v in value]
            if key == "when" and isinstance(value, str):
                return ast.unparse(ast.parse(value, mode="eval"))
            return value
        return hashlib.sha256(json.dumps(norm(yaml.safe_load(text)), sort_keys=True, default=str).encode()).hexdigest()

    violation = props.check_hash_invariance(props.flatten(_v("3.0.1")), props.search_settings(10, shrink=False),
                                            hash_fn=scheme_1)
    assert violation is not None
    assert "changes a decision's bytes but not the hash" in violation.message


def test_content_hash_check_catches_a_hash_of_the_raw_text() -> None:
    """A 'content hash' of the raw YAML text changes with layout, which the check reports."""
    import hashlib

    def raw(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    violation = props.check_hash_invariance(props.flatten(_v("1.0.0")), props.search_settings(10, shrink=False),
                                            hash_fn=raw)
    assert violation is not None
    assert "reformatted" in violation.message


def test_content_hash_check_catches_a_hash_blind_to_parameters() -> None:
    """A hash that leaves out the parameters does not change when a threshold does, which the check reports."""
    def blind(text: str) -> str:
        data = yaml.safe_load(text)
        data.pop("parameters", None)
        return json.dumps(data, sort_keys=True, default=str)

    violation = props.check_hash_invariance(props.flatten(_v("1.1.0")), props.search_settings(10, shrink=False),
                                            hash_fn=blind)
    assert violation is not None
    assert "does not change the hash" in violation.message


def test_strategies_generate_only_valid_assessments() -> None:
    """Every generated assessment is valid for its version (the checks never test invalid input)."""
    ruleset = _v("3.0.1")
    seen = []

    def invalid(data: dict) -> str | None:
        seen.append(1)
        problems = ruleset.plan.validator.validate(data)[1]
        return None if not problems else problems[0].message

    assert props._search(assessments(ruleset), invalid, props.search_settings(100), "validity", ruleset) is None
    assert len(seen) >= 100
