"""``count(...) in [...]`` over items whose filter is unknown: the count is a range, and the
membership is decided as the language page decides any comparison with a range (docs/language.md,
"Unknowns": exact where it can be). It is in the list when every whole number of the range is,
not in it when none is, and unknown otherwise.

Found while running the every-construct rulesets: the compiler (language/expr.py, through
``core.logic.contains``) and the interpreter (language/interpreter.py) both asked Python whether
the range object itself was in the list, which it never is, so ``count(...) in [1, 2]`` was
``not_met`` (and ``not in`` ``met``) for a count known to be 1 or 2. Both were wrong alike, so the
differential tests could not see it; each side is checked here on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecei_rules.core.logic import UNKNOWN
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.language import expr
from ecei_rules.language import interpreter as interp
from ecei_rules.ruleset.load import load_ruleset_text

_SCOPE = expr.Scope(
    inputs={"xs": expr.Ty("list", item=expr.Ty("object", fields={"w": expr.DATE}), size=10), "d": expr.DATE},
    params={"allowed": (expr.Ty("list", item=expr.INT, size=2), (1, 2))})
# the first item's date is absent (its filter unknown), the second's is before d: the count is 1 or 2
_DATA: dict[str, Any] = {"xs": [{}, {"w": dt.date(2020, 1, 1)}], "d": dt.date(2021, 1, 1)}
_COUNT = "count(x for x in xs if x.w < d)"

CASES = [
    (f"{_COUNT} in [1, 2]", True),  # every value the range allows is in the list
    (f"{_COUNT} in params.allowed", True),
    (f"{_COUNT} in [0, 1, 2, 3]", True),
    (f"{_COUNT} in [1, 5]", None),  # 1 is, 2 is not
    (f"{_COUNT} in [2]", None),
    (f"{_COUNT} in [5, 6]", False),  # none is
    (f"{_COUNT} in [1.5, 0]", False),
    (f"{_COUNT} not in [1, 2]", False),
    (f"{_COUNT} not in [1, 5]", None),
    (f"{_COUNT} not in [5]", True),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_compiler_decides_membership_of_a_count_range_by_its_values(text: str, expected: bool | None) -> None:
    """The compiled closure: in when every value of the range is, out when none is, else unknown."""
    compiled, errors = expr.compile_expression(text, _SCOPE)
    assert compiled is not None, errors
    assert compiled.fn(dict(_DATA)) is (UNKNOWN if expected is None else expected)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_interpreter_decides_membership_of_a_count_range_by_its_values(text: str, expected: bool | None) -> None:
    """The interpreter (both oracles' reading): the same answers, computed on its own."""
    got = interp.Interpreter({"allowed": (1, 2)}).evaluate(interp.parse(text), _DATA)
    assert got is (interp.UNKNOWN if expected is None else expected)


_RULESET = """
methodology: range-membership
version: 1.0.0
title: Membership of a count range
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  areas:
    type: list
    max_items: 5
    items:
      type: object
      fields:
        on: {type: date}
criteria:
  IN:
    title: one or two areas before the assessment
    when: count(a for a in areas if a["on"] < assessed_on) in [1, 2]
  OUT:
    title: not one or two
    when: count(a for a in areas if a["on"] < assessed_on) not in [1, 2]
labels: [ok]
tiers:
  ok: {title: OK, requires: [IN]}
validity:
  valid_from: assessed_on
  rules:
    - {id: all, title: a year, labels: [ok], valid_until: "month_end(assessed_on, 12)"}
"""


@pytest.mark.parametrize(("areas", "inside", "label"), [
    ([{}, {"on": "2020-01-01"}], "met", "ok"),  # 1 or 2: both in the list
    ([{}, {}], "unknown", "none"),  # 0, 1 or 2
    ([{"on": "2020-01-01"}] * 3 + [{}], "not_met", "none"),  # 3 or 4
    ([{"on": "2020-01-01"}], "met", "ok"),  # exactly 1
])
def test_both_evaluators_decide_a_count_range_in_a_list_alike_and_right(areas: list[dict[str, Any]], inside: str,
                                                                        label: str) -> None:
    """Through a ruleset: the production evaluator and the reference evaluator give the expected
    outcome of ``in`` and the opposite one of ``not in``, and the label that follows."""
    ruleset = load_ruleset_text(_RULESET)
    raw = {"assessed_on": "2021-01-01", "areas": areas}
    decision = evaluate(ruleset, raw)
    assert decision == evaluate_reference(ruleset, raw)
    opposite = {"met": "not_met", "not_met": "met", "unknown": "unknown"}[inside]
    assert (decision.outcome_of("IN"), decision.outcome_of("OUT")) == (inside, opposite)
    assert decision.label == label
