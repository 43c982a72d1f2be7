"""The sufficiency check reads the trace's validity inputs whatever else the version requires: a required string
with a pattern, which no placeholder fits, made it report a counterexample for a correct version (the validator
refused the placeholder and the validity rules lost the date); it still catches a trace that lacks what the
validity reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecei_rules import load_ruleset
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing import properties as props

CONFIG = props.search_settings(60, shrink=False)

VERSION = """\
methodology: coded
version: 1.0.0
title: A code with a pattern
status: draft
effective_from: 2024-01-01
inputs:
  assessed_on: {type: date, required: true}
  code: {type: string, required: true, pattern: "[0-9]{3}-[A-Z]"}
  x: {type: integer, minimum: 0, maximum: 10}
criteria:
  c: {title: C, when: x >= 5}
labels: [ok]
tiers:
  ok: {title: OK, requires: [c]}
validity:
  valid_from: assessed_on
  rules:
    - {id: r, title: R, labels: [ok], valid_until: "month_end(assessed_on, 12)"}
"""


def _coded(tmp_path: Path) -> Ruleset:
    path = tmp_path / "coded" / "1.0.0.yaml"
    path.parent.mkdir()
    path.write_text(VERSION, encoding="utf-8")
    return load_ruleset(path)


def test_sufficiency_holds_for_a_version_requiring_a_patterned_code(tmp_path: Path) -> None:
    """A correct version whose required input has a pattern passes the sufficiency check."""
    assert props.check_sufficiency(_coded(tmp_path), CONFIG) is None


def test_sufficiency_still_catches_a_trace_without_the_date_its_validity_reads(tmp_path: Path) -> None:
    """A decision whose trace drops the validity's input (assessed_on) cannot be recomputed: caught."""
    def forgetful(ruleset: Ruleset, data: Any, **kw: Any) -> Decision:
        decision = evaluate(ruleset, data, **kw)
        return decision.model_copy(update={"validity_inputs": {}})

    violation = props.check_sufficiency(_coded(tmp_path), CONFIG, evaluate=forgetful)
    assert violation is not None
    assert violation.code == "sufficiency"
    assert "the trace gives" in violation.message
