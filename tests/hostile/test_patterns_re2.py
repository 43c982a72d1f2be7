"""Declared patterns on a linear-time engine (issue 20, item 2).

Patterns are RE2 syntax, compiled and matched by google-re2: a pattern that backtracks
catastrophically in Python's ``re`` (``(a+)+$`` against 41 characters and a mismatch) cannot
hang ``evaluate`` nor the validation of embedded tests. Patterns RE2 cannot compile, or whose
repetition is too large, are refused when the ruleset loads (E103 at the pattern). A hang here
would stop the test run: the tests bound work by finishing, never by a clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import check_assessment, evaluate
from ecei_rules.core.patterns import MAX_PATTERN_LENGTH, Pattern, pattern_problem
from ecei_rules.errors import AssessmentError, Diagnostic
from ecei_rules.ruleset.inputs import json_schema
from ecei_rules.ruleset.load import check_ruleset, load_ruleset_text

MINIMAL = Path(__file__).resolve().parent.parent / "data" / "minimal.yaml"


def with_pattern(pattern: str, *, fixture_code: str | None = None) -> str:
    """The minimal ruleset with a string input ``code`` of this pattern (and an embedded test
    whose assessment gives ``code`` when ``fixture_code`` is set)."""
    declared = f"  code: {{type: string, pattern: {json.dumps(pattern)}}}\n"
    text = MINIMAL.read_text(encoding="utf-8").replace("  score: {type: decimal}\n",
                                                       "  score: {type: decimal}\n" + declared)
    if fixture_code is not None:
        text += ("tests:\n  - name: the code does not decide\n    assessment: {assessed_on: 2021-01-01, score: 0.7, "
                 f"code: {json.dumps(fixture_code)}}}\n    expect: {{label: basic}}\n")
    return text


def check(tmp_path: Path, text: str) -> list[Diagnostic]:
    path = tmp_path / "patterns.yaml"
    path.write_text(text, encoding="utf-8")
    return [d for d in check_ruleset(path) if d.severity == "error"]


EVIL = [
    "(a+)+$", "(a+)+", "(a|a)+", "(a|aa)+", "(a*)*b", "(.*a){20}", "(\\w+\\s?)+", "^(a+)+b", "(x+x+)+y",
    "((ab)*|a)*c", "(a|b|ab)*c", "([a-z]+)*[0-9]", "(\\d+)*\\.", "(.*)*z", "(a?){30}a{30}",
]


@pytest.mark.parametrize("pattern", EVIL)
@pytest.mark.parametrize("length", [41, 2_000, 10_000])
def test_catastrophic_patterns_match_in_linear_time(pattern: str, length: int) -> None:
    """Each of these backtracks exponentially (or polynomially) in Python's re on a near miss;
    RE2 answers at once, on every validation path (the checker, the plain validator, the
    generated code)."""
    ruleset = load_ruleset_text(with_pattern(pattern))
    value = "a" * (length - 1) + "!"
    data = {"assessed_on": "2021-01-01", "score": 0.7, "code": value}
    validator = ruleset.plan.validator
    _, diags = validator.validate(data)
    _, plain = validator.validate_plain(data)
    unordered = validator.validate_unordered(data)
    matches = Pattern(pattern).fullmatch(value)
    assert [d.code for d in diags] == [d.code for d in plain] == ([] if matches else ["A004"])
    assert (unordered is None) == (not matches)
    if not matches:
        assert diags[0].pointer == "/code"
        with pytest.raises(AssessmentError):
            evaluate(ruleset, data)


def test_the_issue_example_in_an_embedded_test_is_refused_without_a_hang(tmp_path: Path) -> None:
    """The embedded test's assessment is validated when the ruleset loads: E302 at the test's value."""
    diags = check(tmp_path, with_pattern("(a+)+$", fixture_code="a" * 40 + "!"))
    assert [(d.code, d.pointer) for d in diags] == [("E302", "/tests/0/assessment/code")]
    assert "does not match the pattern (a+)+$" in diags[0].message


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        pytest.param("a{4294967295}", "4294967295 times", id="repeat-beyond-int"),
        pytest.param("a{1001}", "1001 times", id="repeat-1001"),
        pytest.param("a{2,99999999}", "99999999 times", id="repeat-range"),
        pytest.param("(ab){0,1000000}", "1000000 times", id="repeat-group"),
        pytest.param("((a{100}){100}){100}", "RE2", id="nested-repeats"),
        pytest.param("a{1000}{1000}", "RE2", id="repeat-of-repeat"),
        pytest.param("(?=a)b", "RE2", id="lookahead"),
        pytest.param("(?<!a)b", "RE2", id="lookbehind"),
        pytest.param("(a)\\1", "RE2", id="backreference"),
        pytest.param("[a-", "RE2", id="unclosed-class"),
        pytest.param("(", "RE2", id="unclosed-group"),
        pytest.param("x" * (MAX_PATTERN_LENGTH + 1), "longer than", id="too-long"),
    ],
)
def test_bad_patterns_are_refused_at_load_where_they_stand(tmp_path: Path, pattern: str, words: str) -> None:
    text = with_pattern(pattern)
    diags = check(tmp_path, text)
    assert [(d.code, d.pointer) for d in diags] == [("E103", "/inputs/code/pattern")], diags
    line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  code:"))
    assert diags[0].line == line
    assert words in diags[0].message
    assert pattern_problem(pattern) is not None


def test_a_pattern_at_the_repeat_limit_is_accepted() -> None:
    ruleset = load_ruleset_text(with_pattern("a{1000}"))
    assert check_assessment(ruleset, {"assessed_on": "2021-01-01", "code": "a" * 1000}) == []
    assert [d.code for d in check_assessment(ruleset, {"assessed_on": "2021-01-01", "code": "a" * 999})] == ["A004"]


def test_a_value_re2_cannot_encode_does_not_match_and_does_not_crash() -> None:
    """A lone surrogate (possible through the Python API) has no UTF-8 form: no match, A004."""
    ruleset = load_ruleset_text(with_pattern(".*"))
    data: dict[str, Any] = {"assessed_on": "2021-01-01", "code": "a\ud800"}
    assert [(d.code, d.pointer) for d in check_assessment(ruleset, data)] == [("A004", "/code")]
    assert ruleset.plan.validator.validate_unordered(data) is None


def test_the_assessment_schema_keeps_the_pattern_text() -> None:
    """The schema keeps the RE2 text (x-ecei-pattern) and its anchored portable form (pattern)."""
    ruleset = load_ruleset_text(with_pattern("[A-Z]{2}"))
    code = json_schema(ruleset.plan.inputs)["properties"]["code"]
    assert code["x-ecei-pattern"] == "[A-Z]{2}"
    assert code["pattern"] == "^(?:[A-Z]{2})(?![\\s\\S])"


def test_compiled_patterns_survive_pickling_for_worker_processes() -> None:
    import pickle

    pattern = Pattern("[A-Z]{2}")
    again = pickle.loads(pickle.dumps(pattern))
    assert again.fullmatch("DE")
    assert not again.fullmatch("D")
