"""What it takes for a criterion that compares a derived value and an input together
(``worst <= 5 and management <= 5``), on a food hygiene rating written as a new author would:
lower scores are better, a total must stay under a bound and no single score may exceed a cap."""

from __future__ import annotations

from ecei_rules import load_ruleset_text
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.explanation import explain, render_text

RULESET = """
methodology: food-hygiene
version: 1.0.0
title: Food hygiene rating
status: draft
effective_from: 2025-01-01
inputs:
  assessed_on: {type: date, required: true}
  hygiene: {type: integer, minimum: 0, maximum: 25}
  structure: {type: integer, minimum: 0, maximum: 25}
  management: {type: integer, minimum: 0, maximum: 30}
parameters:
  total_5: {value: 15, assumed: "to test"}
  total_4: {value: 20, assumed: "to test"}
  cap_5: {value: 5, assumed: "to test"}
  cap_4: {value: 10, assumed: "to test"}
derived:
  total: {title: Total score, type: integer, value: hygiene + structure + management}
  worst: {title: Highest of hygiene and structure, type: integer, value: "max(hygiene, structure)"}
criteria:
  total_15: {title: Total at most 15, when: total <= params.total_5}
  total_20: {title: Total at most 20, when: total <= params.total_4}
  cap_5: {title: No single score above 5, when: worst <= params.cap_5 and management <= params.cap_5}
  cap_10: {title: No single score above 10, when: worst <= params.cap_4 and management <= params.cap_4}
labels: [four, five]
tiers:
  four: {title: Four, requires: [total_20, cap_10]}
  five: {title: Five, requires: [total_15, cap_5]}
validity:
  valid_from: assessed_on
  rules:
    - {id: forever, title: No expiry, labels: [four, five], valid_until: never}
"""

DATA = {"assessed_on": "2025-06-01", "hygiene": 10, "structure": 5, "management": 10}


def test_a_criterion_on_a_derived_value_and_an_input_is_met_by_input_changes_not_a_described_condition() -> None:
    """cap_5 needs worst = max(hygiene, structure) <= 5 and management <= 5: with hygiene 10, structure 5 and
    management 10 that is management lowered to 5 and hygiene lowered to 5 (by hand), both given as values."""
    expl = explain(load_ruleset_text(RULESET), DATA)
    change = next(ch for p in expl.what_it_takes for ch in p.changes if ch.criterion == "cap_5")
    assert change.kind == "input"
    assert {(c.pointer, c.target) for c in change.changes} == {("/management", 5), ("/hygiene", 5)}


def test_the_fewest_changes_to_five_are_hygiene_and_management_to_5_together() -> None:
    """Five needs hygiene + 5 + management <= 15, max(hygiene, 5) <= 5 and management <= 5: the least change is
    hygiene 10 -> 5 and management 10 -> 5 (total 15), the only minimal set; the summary does not claim that every
    way lowers one score to 0 (what the total alone would need), since the one set found does not."""
    ruleset = load_ruleset_text(RULESET)
    expl = explain(ruleset, DATA)
    path = next(p for p in expl.what_it_takes if p.label == "five")
    found = [{(c.pointer, c.target) for c in s.inputs} for s in path.input_sets]
    assert found == [{("/hygiene", 5), ("/management", 5)}]
    assert all(s.verified for s in path.input_sets)
    decision = evaluate(ruleset, {**DATA, "hygiene": 5, "management": 5})
    assert decision.label == "five"
    assert "In every case" not in path.input_sentence
    text = render_text(expl)
    assert "To reach Five, the fewest changes are: lower hygiene from 10 to 5 (worst then 5) and lower management " \
           "from 10 to 5" in text
    assert "meet No single score above 5" not in text
