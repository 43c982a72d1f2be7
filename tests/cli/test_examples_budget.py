"""A search's budget (``--examples`` of ``bump-check``, ``lint`` and ``check-properties``) is at least 1 and at
most ``MAX_EXAMPLES``: 0 or a negative number used to end ``check-properties`` in an internal error (hypothesis
refuses ``max_examples=0``) and to be taken as 1 by ``bump-check``, and a budget mistyped by a few digits ran
for days. Each is now a usage error (exit 2) naming the option, before anything is loaded or searched."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.cli.common import MAX_EXAMPLES
from ecei_rules.registry import shipped_rulesets

COMMANDS = {
    "bump-check": ["bump-check", "1.1.0", "1.2.0"],
    "lint": ["lint"],
    "check-properties": ["check-properties", str(shipped_rulesets())],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("budget", "said"), [
    ("0", "greater than or equal to 1"),
    ("-3", "greater than or equal to 1"),
    (str(MAX_EXAMPLES + 1), f"less than or equal to {MAX_EXAMPLES}"),
    ("99999999999999999999", f"less than or equal to {MAX_EXAMPLES}"),
])
def test_a_budget_below_one_or_above_the_most_is_a_usage_error_naming_the_option(command: str, budget: str,
                                                                                  said: str) -> None:
    """``--examples`` out of its range: exit 2, "Invalid value for '--examples'" with the bound, no internal
    error."""
    result = CliRunner().invoke(app, [*COMMANDS[command], "--examples", budget])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--examples'" in result.output
    assert said in result.output
    assert "internal error" not in result.output


def test_the_least_budget_is_searched_and_reported() -> None:
    """``bump-check --examples 1`` runs: the verdict of the shipped minor pair, confirmed by one assessment."""
    result = CliRunner().invoke(app, [*COMMANDS["bump-check"], "--examples", "1"])
    assert result.exit_code == 0, result.output
    assert "declared minor, required minor" in result.output
    assert "no counterexample in 1 assessments searched" in result.output
