"""Run the tests embedded in a ruleset: each an assessment and the decision it must get.

``ecei-rules test RULESET.yaml ...`` runs them from the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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

    def check(what: str, expected: object, actual: object, shown: Callable[[object], str] = as_written) -> None:
        if expected != actual:
            diffs.append(f"{what}: expected {shown(expected)}, got {shown(actual)}")

    stated = expect.model_fields_set  # only what the test states is checked
    check("label", expect.label, decision.label)
    if "valid_from" in stated:
        check("valid_from", expect.valid_from, decision.valid_from)
    if "valid_until" in stated:
        check("valid_until", expect.valid_until, _valid_until(expect.valid_until, decision), _shown)
    for label, outcome in expect.tiers.items():
        check(f"tier {label}", outcome, decision.outcome_of(label))
    for ref, outcome in expect.criteria.items():
        check(f"{ref}", outcome, decision.outcome_of(ref))
    if expect.validity_rule is not None:
        check("validity rule", expect.validity_rule, decision.validity_rule)
    diffs.extend(_derived_differences(expect.derived, decision))
    if expect.missing is not None:
        actual = sorted({m for t in decision.tiers if t.outcome == "unknown" for m in t.missing})
        check("missing", sorted(expect.missing), actual)
    return EmbeddedResult(where, test.name, not diffs, tuple(diffs), decision)


def _valid_until(expected: object, decision: Decision) -> object:
    """The decision's end of validity as a test states it: ``never`` for a label that does not
    expire, unless the test states ``null`` (no end date, which such a label has not either)."""
    return "never" if decision.validity_expires is False and expected is not None else decision.valid_until


def _derived_differences(expected: Mapping[str, object], decision: Decision) -> list[str]:
    """What differs between the derived values a test states and the decision's."""
    results = {r.id: r for r in decision.derived}
    out = []
    for name, value in expected.items():
        found = results.get(name)
        actual: object = None if found is None else found.value if found.outcome == "known" else found.outcome
        if not _same(value, actual):
            why = f" ({found.reason})" if found is not None and found.reason else ""
            out.append(f"derived {name}: expected {_shown(value)}, got {_shown(actual)}{why}")
    return out


def _shown(value: object) -> str:
    """A value as an author writes it in a test (the words never, unknown and undefined bare)."""
    return value if value in ("never", "unknown", "undefined") and isinstance(value, str) else as_written(value)


def _same(expected: object, actual: object) -> bool:
    """Exactly equal: the same number (``12.5`` is ``12.50``), but never a truth value for a number."""
    return (type(expected) is bool) == (type(actual) is bool) and expected == actual


def run_embedded(ruleset: Ruleset) -> list[EmbeddedResult]:
    """Run every embedded test of a ruleset."""
    return [run_test(ruleset, i) for i in range(len(ruleset.document.tests))]
