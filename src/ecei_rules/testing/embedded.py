"""Run the tests embedded in a ruleset: each an assessment and the decision it must get.

``ecei-rules test RULESET.yaml ...`` runs them from the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.errors import AssessmentError, as_written
from ecei_rules.ruleset.load import Ruleset, test_assessment


@dataclass(frozen=True)
class EmbeddedResult:
    """The outcome of one embedded test."""

    ruleset: str
    name: str
    passed: bool
    differences: tuple[str, ...]
    decision: Decision | None

    def report(self) -> str:
        """A readable failure report: what was expected and what the engine decided."""
        head = f"{self.ruleset}: test '{self.name}'"
        if self.passed:
            return head + ": passed"
        return head + ": FAILED\n" + "\n".join("  " + d for d in self.differences)


def run_test(ruleset: Ruleset, index: int) -> EmbeddedResult:
    """Evaluate embedded test ``index`` and compare the decision with its expectation."""
    test = ruleset.document.tests[index]
    expect = test.expect
    where = str(ruleset.path) if ruleset.path else str(ruleset)
    try:
        decision = evaluate(ruleset, test_assessment(ruleset.document, index),
                            resolution=Resolution(method="pinned", reason="embedded test of this version"))
    except AssessmentError as exc:
        return EmbeddedResult(where, test.name, False, tuple(f"invalid assessment: {d.pointer} {d.message}"
                                                             for d in exc.diagnostics), None)
    diffs: list[str] = []

    def check(what: str, expected: object, actual: object) -> None:
        if expected != actual:
            diffs.append(f"{what}: expected {as_written(expected)}, got {as_written(actual)}")

    stated = expect.model_fields_set  # only what the test states is checked
    check("label", expect.label, decision.label)
    for key in ("valid_from", "valid_until"):
        if key in stated:
            check(key, getattr(expect, key), getattr(decision, key))
    for label, outcome in expect.tiers.items():
        check(f"tier {label}", outcome, decision.outcome_of(label))
    for ref, outcome in expect.criteria.items():
        check(f"{ref}", outcome, decision.outcome_of(ref))
    if expect.validity_rule is not None:
        check("validity rule", expect.validity_rule, decision.validity_rule)
    if expect.missing is not None:
        actual = sorted({m for t in decision.tiers if t.outcome == "unknown" for m in t.missing})
        check("missing", sorted(expect.missing), actual)
    return EmbeddedResult(where, test.name, not diffs, tuple(diffs), decision)


def run_embedded(ruleset: Ruleset) -> list[EmbeddedResult]:
    """Run every embedded test of a ruleset."""
    return [run_test(ruleset, i) for i in range(len(ruleset.document.tests))]
