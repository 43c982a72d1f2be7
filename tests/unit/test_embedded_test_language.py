"""Issue 22, "What remains" 5: embedded tests state derived values (``expect.derived``), say
that a label does not expire (``expect.valid_until: never``) and are lent by an earlier version
(``tests_from``). The rulesets are ``tests/data/inherited``; each test copies them into a
temporary folder and changes one thing, with the text that must then be reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.ruleset.load import check_ruleset, load_ruleset
from ecei_rules.testing.embedded import run_embedded

DATA = Path(__file__).parents[1] / "data" / "inherited"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "inherited")
    return tmp_path / "inherited"


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def reports(path: Path) -> list[str]:
    return [r.report() for r in run_embedded(load_ruleset(path))]


def errors(path: Path) -> list[str]:
    return [str(d) for d in check_ruleset(path) if d.severity == "error"]


def test_embedded_tests_state_derived_values_checked_exactly(folder: Path) -> None:
    """45.0 is the intensity (4500 / 100); a test that says 45.05 fails, naming the value both ways."""
    path = folder / "1.0.0.yaml"
    assert all(r.passed for r in run_embedded(load_ruleset(path)))
    edit(path, "derived: {intensity: 45.0}", "derived: {intensity: 45.05}")
    assert reports(path)[0] == f"{path}: test 'A, no expiry': FAILED\n  derived intensity: expected 45.05, got 45"


def test_an_expected_derived_value_can_be_undefined_or_unknown_and_says_why(folder: Path) -> None:
    """A division by zero is 'undefined', a missing input 'unknown': a test that confuses them
    fails, with the reason the value is undefined."""
    path = edit(folder / "1.0.0.yaml", "{intensity: undefined}", "{intensity: unknown}")
    assert reports(path)[2] == (
        f"{path}: test 'no floor area is undefined': FAILED\n  derived intensity: expected unknown, got undefined "
        "(division by zero: energy / floor_area with floor_area = 0)")


def test_a_misspelt_derived_value_in_a_test_is_an_error_with_did_you_mean(folder: Path) -> None:
    """An expected derived value that the version does not declare (line 49, the key at column 54)
    is E302 with a suggestion; so is a value not of its type (true for a decimal, line 59)."""
    path = edit(edit(folder / "1.0.0.yaml", "derived: {intensity: 45.0}", "derived: {intensty: 45.0}"),
                "{intensity: undefined}", "{intensity: true}")
    assert errors(path) == [
        f"{path}:49:54: E302 unknown derived value 'intensty' in /tests/0/expect/derived/intensty (did you mean "
        "'intensity'?)",
        f"{path}:59:48: E302 the derived value 'intensity' is decimal: true is not one of its values in "
        "/tests/2/expect/derived/intensity (write a value of its type, or 'unknown' or 'undefined')",
    ]


def test_an_embedded_test_says_a_label_does_not_expire_with_valid_until_never(folder: Path) -> None:
    """'valid_until: never' passes for the A label (its rule says never) and fails for a label
    that ends; 'valid_until: null' keeps its meaning (no end date), so published tests that write
    it for a label without expiry still pass."""
    path = edit(folder / "1.0.0.yaml", "expect: {label: b, valid_until: 2023-06-30,",
                "expect: {label: b, valid_until: never,")
    assert reports(path)[:2] == [f"{path}: test 'A, no expiry': passed",
                                 f"{path}: test 'B for two years': FAILED\n  valid_until: expected never, got "
                                 "2023-06-30"]
    edit(path, "expect: {label: a, valid_until: never,", "expect: {label: a, valid_until: null,")
    assert reports(path)[0] == f"{path}: test 'A, no expiry': passed"


def test_a_version_runs_the_tests_of_an_earlier_version_with_tests_from(folder: Path) -> None:
    """1.1.0 runs 1.0.0's tests before its own: the one it names again is replaced in place, the
    dropped one is not run, its own new test comes last; all pass (``ecei-rules test`` too)."""
    ruleset = load_ruleset(folder / "1.1.0.yaml")
    assert [t.name for t in ruleset.document.tests] == [
        "A, no expiry", "B for two years", "no floor area is undefined", "A at the new bound"]
    assert ruleset.document.tests[0].expect.label == "b"  # 1.1.0's own test of that name
    assert all(r.passed for r in run_embedded(ruleset))
    result = CliRunner().invoke(app, ["test", str(folder)])
    assert result.exit_code == 0
    assert "embedded tests: 8 passed, 0 failed in 2 ruleset(s)" in result.output
    # the short form lends every test
    short = edit(folder / "1.1.0.yaml", "tests_from:\n  version: 1.0.0\n  drop: [no energy is unknown]\n",
                 "tests_from: 1.0.0\n")
    assert [t.name for t in load_ruleset(short).document.tests][3:] == ["no energy is unknown", "A at the new bound"]
    edit(short, "tests_from: 1.0.0\n", "tests_from:\n  version: 1.0.0\n  drop: [no energy is unknown]\n")
    # the lent tests do not change the version's content hash: they decide nothing
    assert ruleset.sha256 == load_ruleset(edit(folder / "1.1.0.yaml", "tests_from:\n  version: 1.0.0\n  drop: "
                                               "[no energy is unknown]\n", "")).sha256


def test_a_lent_test_fails_where_the_new_version_changes_its_outcome(folder: Path) -> None:
    """Without its replacement, 1.0.0's 'A, no expiry' fails under 1.1.0 (45.0 is above the new
    A bound 40): the patch version re-runs its base's expectations."""
    path = edit(folder / "1.1.0.yaml", "  - name: A, no expiry\n", "  - name: A no longer\n")
    assert reports(path)[0] == (f"{path}: test 'A, no expiry': FAILED\n  label: expected 'a', got 'b'\n"
                                "  valid_until: expected never, got 2023-06-30")


def test_tests_from_names_an_earlier_version_and_tests_it_has(folder: Path) -> None:
    """A dropped name the earlier version lacks (line 15, column 10), a version that is not earlier
    or not there (line 14, column 12): each one E302 with a suggestion; a lent test invalid here says
    it is lent."""
    path = folder / "1.1.0.yaml"
    text = path.read_text(encoding="utf-8")
    edit(path, "drop: [no energy is unknown]", "drop: [no energy unknown]")
    assert errors(path) == [f"{path}:15:10: E302 'tests_from' drops the test 'no energy unknown', which 1.0.0 does "
                            "not have in /tests_from/drop/0 (did you mean 'no energy is unknown'?)"]
    path.write_text(text.replace("version: 1.0.0\n  drop", "version: 1.2.0\n  drop"), encoding="utf-8")
    assert errors(path) == [f"{path}:14:12: E302 'tests_from' names 1.2.0, which is not earlier than this version "
                            "1.1.0 in /tests_from/version (name an earlier version of this methodology)"]
    path.write_text(text.replace("version: 1.0.0\n  drop", "version: 1.0.5\n  drop"), encoding="utf-8")
    assert errors(path) == [f"{path}:14:12: E302 'tests_from' names the version '1.0.5', which is not in this "
                            "folder; the versions in this folder: 1.0.0 in /tests_from/version"]
    path.write_text(text + "\ninputs:\n  energy: {type: decimal, minimum: 0, maximum: 1000}\n", encoding="utf-8")
    lent = [e for e in errors(path) if "lent" in e]
    assert lent == [f"{folder / '1.0.0.yaml'}:52:26: E302 the test's assessment is invalid: 7012 is above the "
                    "maximum 1000 (the test 'B for two years' lent by tests_from) in /tests/1/assessment/energy "
                    "(replace it with a test of the same name here, or drop it: tests_from: {version, drop})"]
