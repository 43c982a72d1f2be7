"""The reference evaluator is an oracle for the compiler, not a second runner of its closures: it
reads every condition with the interpreter (language/interpreter.py), so one compiled construct
that is wrong shows as a difference between ``evaluate`` and ``evaluate_reference``, the check
the fast-path differential test makes on every generated assessment.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, settings

from ecei_rules.engine.evaluate import evaluate, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.language import expr
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.testing.strategies import assessments

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"


def test_a_compiler_that_reads_at_least_as_more_than_is_caught_by_the_reference_evaluator(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiler's ``>=`` against a constant broken into ``>`` (an off-by-one at every
    threshold, such as ``staff.fte >= params.min_fte``): on the every-construct ruleset compiled
    with that mistake, the differential check finds an assessment the production evaluator and
    the reference evaluator decide differently, at a criterion that compares with ``>=``, and
    there the reference evaluator gives what the intact compiler gives."""
    monkeypatch.setitem(expr._OPS, ">=", operator.gt)
    broken = load_ruleset(EVERY)  # compiled with the mistake

    def differs(raw: dict[str, Any]) -> bool:
        validated = validate_assessment(broken, raw)
        return evaluate(broken, validated) != evaluate_reference(broken, validated)

    raw = find(assessments(broken), differs, settings=settings(max_examples=300, database=None, derandomize=True,
                                                                 phases=(Phase.generate,)))
    production, oracle = evaluate(broken, raw), evaluate_reference(broken, raw)
    changed = {mine.id for mine, theirs in zip(production.criteria, oracle.criteria, strict=True)
               if mine.outcome != theirs.outcome}
    assert changed, "the decisions differ at a criterion's outcome"
    assert changed <= {"C1", "K1", "K2", "A"}, changed  # the criteria written with >= against a constant
    monkeypatch.undo()
    intact = load_ruleset(EVERY)
    assert evaluate(intact, raw) == oracle
