"""Criteria decided once are remembered by the values they read (engine/trace.py for ``evaluate``,
engine/text.py for ``decision_text``, the text batches and replay write). ``values(m)`` reads the
entries of the map input ``m``, but it is unknown when ``m`` is absent and a list of absent entries
when ``m`` is ``{}``: the entries read are the same (all absent), the criterion's outcome is not.
Remembered by the entries alone, the first of the two decided in a process decided the other (an
absent map counted as having no entry given, or ``{}`` as unknown), so a decision depended on the
decisions made before it. The look-up's key now holds whether each such map is there."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from ecei_rules.engine.evaluate import decision_text, evaluate
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.ruleset.load import load_ruleset

RULESET = """methodology: counting
version: 1.0.0
title: Counting the given entries of a map
status: draft
effective_from: 2020-01-01
catalogues:
  kpis:
    title: K
    source: s
    items:
      k1: {title: a, type: decimal, category: "1"}
      k2: {title: b, type: decimal, category: "1"}
inputs:
  assessed_on: {type: date, required: true}
  kpi: {type: map, catalogue: kpis}
criteria:
  two_given: {title: Two given, when: "count(p for p in values(kpi) if known(p)) == 2"}
  none_given: {title: None given, when: "count(p for p in values(kpi) if known(p)) == 0"}
  first_high: {title: First high, when: "kpi.k1 > 1"}
labels: [one, two]
tiers:
  one: {title: One, requires: [none_given]}
  two: {title: Two, requires: [two_given, first_high]}
validity:
  valid_from: assessed_on
  rules:
    - {id: r, title: t, labels: [one, two], valid_until: never}
"""

ASSESSMENTS: list[dict[str, Any]] = [
    {"assessed_on": "2021-01-01"},
    {"assessed_on": "2021-01-01", "kpi": {}},
    {"assessed_on": "2021-01-01", "kpi": {"k1": 2}},
    {"assessed_on": "2021-01-01", "kpi": {"k1": 2, "k2": 3}},
]


def test_a_decision_does_not_depend_on_the_decisions_made_before_it(tmp_path: Path) -> None:
    """In every order of the four assessments (each order with the version loaded afresh, nothing
    remembered), ``evaluate`` and ``decision_text`` give each assessment the reference evaluator's
    decision, byte for byte; and an absent map and ``{}`` are decided apart (unknown, then met)."""
    path = tmp_path / "1.0.0.yaml"
    path.write_text(RULESET, encoding="utf-8")
    reference = load_ruleset(path)
    expected = [evaluate_reference(reference, a).canonical_text() for a in ASSESSMENTS]
    outcomes = [{c.id: c.outcome for c in evaluate_reference(reference, a).criteria}["none_given"]
                for a in ASSESSMENTS[:2]]
    assert outcomes == ["unknown", "met"]  # absent: unknown; {}: no entry given
    for order in itertools.permutations(range(len(ASSESSMENTS))):
        ruleset = load_ruleset(path)
        for i in order:
            assert evaluate(ruleset, ASSESSMENTS[i]).canonical_text() == expected[i], (order, i)
            assert decision_text(ruleset, ASSESSMENTS[i]) == expected[i], (order, i)
