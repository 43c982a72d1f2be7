"""The pytest plugin runs a ruleset's embedded tests as items and reports failures readably."""

from __future__ import annotations

from pathlib import Path

import pytest

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"


def _project(pytester: pytest.Pytester, text: str) -> None:
    folder = pytester.path / "rulesets" / "every-construct"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(text, encoding="utf-8")
    pytester.makeini("[pytest]\necei_rulesets = rulesets\ntestpaths = rulesets\n")


def test_embedded_tests_become_items(pytester: pytest.Pytester) -> None:
    """The every-construct ruleset's one embedded test is collected and passes."""
    _project(pytester, EVERY.read_text(encoding="utf-8"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_a_wrong_expectation_fails_with_expected_and_actual(pytester: pytest.Pytester) -> None:
    """An expectation of premium where the ruleset decides basic fails, naming file, test, expected and got."""
    text = EVERY.read_text(encoding="utf-8").replace(
        "expect: {label: basic, valid_from: 2021-03-15", "expect: {label: premium, valid_from: 2021-03-15")
    _project(pytester, text)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*1.0.0.yaml: embedded test 'staffing met gives basic for two years'",
        "*label: expected 'premium', got 'basic'",
        "derivation: *",
    ])


def test_a_ruleset_that_does_not_load_is_one_failing_item(pytester: pytest.Pytester) -> None:
    """A ruleset with a misspelt input fails as one item that shows the located diagnostic."""
    _project(pytester, EVERY.read_text(encoding="utf-8").replace("staff.fte >=", "staff.ftee >="))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*E104 unknown field 'ftee'*did you mean 'fte'?*"])
