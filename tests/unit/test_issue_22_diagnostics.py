"""Issue 22, item 5 and two bullets of its "Why": diagnostics across ``extends``, no cascades,
one error per problem, every problem reported; embedded tests that check only what they state.

Each test writes small rulesets into a temporary folder and asserts the whole located text of
every diagnostic, as ``ecei-rules validate`` prints it and as ``check_ruleset`` / ``load_ruleset``
return it. The lines and columns were counted by hand in the YAML below (lines from 1, columns
from 1; a condition's problem is at the condition's first character plus the offset of the part
at fault).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.errors import RulesetError
from ecei_rules.ruleset.load import check_ruleset, load_ruleset
from ecei_rules.testing.embedded import run_embedded

# line 17: "    when: score >= params.min_score": the condition starts at column 11, 'params' at 20
# line 26: "    requires: [score_ok, old_one]": 'old_one' starts at column 26
BASE = """\
methodology: minimal
version: 1.0.0
title: Minimal
status: published
effective_from: 2020-01-01

inputs:
  assessed_on: {type: date, required: true}
  score: {type: decimal}

parameters:
  min_score: {value: 0.5, source: "Handbook 1"}

criteria:
  score_ok:
    title: Score high enough
    when: score >= params.min_score
  old_one:
    title: Dropped later
    when: score >= 0.1

labels: [basic]
tiers:
  basic:
    title: Basic
    requires: [score_ok, old_one]

validity:
  valid_from: assessed_on
  rules:
    - id: always
      title: Two years
      labels: [basic]
      valid_until: month_end(assessed_on, 24)
"""


def patch(version: str, base: str, body: str = "") -> str:
    """A version that extends ``base``: four lines of its own, then ``body`` from line 5."""
    return f"extends: {base}\nversion: {version}\nstatus: draft\neffective_from: 2022-01-01\n" + body


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def validate(*paths: Path) -> list[str]:
    """The lines ``ecei-rules validate`` prints, without the summary; it must exit 1."""
    result = CliRunner().invoke(app, ["validate", *map(str, paths)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()[:-1]


def library(path: Path) -> list[str]:
    """The errors of ``check_ruleset``, which ``load_ruleset`` raises too."""
    found = [str(d) for d in check_ruleset(path) if d.severity == "error"]
    with pytest.raises(RulesetError) as info:
        load_ruleset(path)
    assert [str(d) for d in info.value.diagnostics if d.severity == "error"] == found
    return found


def test_a_diagnostic_across_extends_points_at_the_patch_that_broke_it(tmp_path: Path) -> None:
    """A patch that deletes a criterion the base's tier requires gets the error at its deletion
    (line 7, ``  old_one: null``: the key at column 3), naming the base's line that needs it; a
    patch that sets a parameter to text gets it at the value it set (line 7, column 22), naming
    the base's condition; a later version that changes neither still shows each once, where the
    patch that broke it is; an error the base itself holds stays in the base."""
    write(tmp_path, "1.0.0.yaml", BASE)
    deletes = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.0", "\ncriteria:\n  old_one: null\n"))
    sets = write(tmp_path, "1.2.0.yaml", patch("1.2.0", "1.0.0", "\nparameters:\n  min_score: {value: high}\n"))
    later = write(tmp_path, "1.3.0.yaml", patch("1.3.0", "1.1.0", "title: Renamed\n"))
    deleted = (f"{deletes}:7:3: E106 deleting this breaks 1.0.0.yaml:26:26 (/tiers/basic/requires/1): unknown "
               "criterion, group or score 'old_one' in /criteria/old_one (keep it, or change what uses it in "
               "this version too)")
    changed = (f"{sets}:7:22: E204 this change breaks 1.0.0.yaml:17:20 (/criteria/score_ok/when): cannot compare "
               "'score' (number) with 'params.min_score' (string) using >= in /parameters/min_score/value (a number "
               'is written without quotes: 0.5, not "0.5")')
    assert library(deletes) == [deleted]
    assert library(sets) == [changed]
    assert library(later) == [deleted]
    assert validate(deletes) == [deleted]
    assert validate(sets) == [changed]
    assert validate(deletes, later) == [deleted]  # one problem, printed once for both versions
    # the base's own mistake is the base's: at its line 17, whatever extends it
    base = write(tmp_path, "1.0.0.yaml", BASE.replace("when: score >= params", "when: scroe >= params"))
    own = f"{base}:17:11: E104 unknown input 'scroe' in /criteria/score_ok/when (did you mean 'score'?)"
    assert library(deletes) == [own, deleted]
    assert validate(base, deletes) == [own, deleted]


def test_a_patch_that_deletes_what_many_places_use_is_one_error_at_the_deletion(tmp_path: Path) -> None:
    """Deleting an input that two criteria read is one error at the deletion (line 7, column 3)
    naming both; deleting the required 'validity' section is one error at its key (line 8,
    column 1), and nothing that follows from either."""
    write(tmp_path, "1.0.0.yaml", BASE)
    path = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.0", "\ninputs:\n  score: null\nvalidity: null\n"))
    expected = [
        f"{path}:8:1: E102 the required key 'validity' is deleted in /validity (give it a value; only optional "
        "keys can be deleted)",
        f"{path}:7:3: E104 deleting this breaks 2 places: 1.0.0.yaml:17:11 (/criteria/score_ok/when): unknown "
        "input 'score'; 1.0.0.yaml:20:11 (/criteria/old_one/when): unknown input 'score' in /inputs/score (keep "
        "it, or change what uses it in this version too)",
    ]
    assert library(path) == expected
    assert validate(path) == expected


def test_a_patch_that_breaks_a_whole_section_is_one_error(tmp_path: Path) -> None:
    """A patch that makes 'parameters' a number (line 5, value at column 13) is one error, with no
    "unknown parameter" in the base's conditions; a patch that adds a label (line 5, the list at
    column 9) that has neither a tier (the base's 'tiers' mapping starts at line 24, column 3) nor
    a validity rule (the base's rules start at line 31, column 5) is one error naming both."""
    write(tmp_path, "1.0.0.yaml", BASE)
    section = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.0", "parameters: 5\n"))
    label = write(tmp_path, "1.2.0.yaml", patch("1.2.0", "1.0.0", "labels: [basic, gold]\n"))
    expected = [f"{section}:5:13: E103 expected a mapping, got 5 in /parameters",
                f"{label}:5:9: E102 this change breaks 2 places: 1.0.0.yaml:24:3 (/tiers): the label 'gold' has no "
                "tier under 'tiers'; 1.0.0.yaml:31:5 (/validity/rules): no validity rule without 'when' covers the "
                "label 'gold', so its validity could be undecided in /labels"]
    assert library(section) + library(label) == expected
    assert validate(section, label) == expected


def test_a_missing_base_is_one_error_with_a_suggestion_not_a_cascade(tmp_path: Path) -> None:
    """A patch naming a version that is not there gives one E109 at its 'extends' value (line 1,
    column 10) with the versions the folder holds and the closest one; nothing about the keys the
    patch does not state. Deeper in a chain, the error is in the file whose 'extends' is wrong, once."""
    write(tmp_path, "1.0.0.yaml", BASE)
    path = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.1", "\ncriteria:\n  old_one: null\n"))
    on_top = write(tmp_path, "1.2.0.yaml", patch("1.2.0", "1.1.0"))
    expected = [f"{path}:1:10: E109 the base version '1.0.1' was not found ({tmp_path / '1.0.1.yaml'}); the "
                "versions in this folder: 1.0.0, 1.2.0 in /extends (did you mean '1.0.0'?)"]
    assert library(path) == expected
    assert validate(path) == expected
    assert library(on_top) == expected
    assert validate(path, on_top) == expected


def test_a_base_that_does_not_parse_is_its_own_error_only(tmp_path: Path) -> None:
    """A base with a YAML syntax error (line 22, an unclosed '[') gives that error, located in the
    base, and nothing in the version that extends it."""
    base = write(tmp_path, "1.0.0.yaml", BASE.replace("labels: [basic]", "labels: [basic"))
    path = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.0"))
    expected = [f"{base}:23:6: E002 while parsing a flow sequence did not find expected ',' or ']'"]
    assert library(path) == expected
    assert validate(base, path) == expected


def test_a_cyclic_base_is_one_error_naming_the_cycle(tmp_path: Path) -> None:
    """1.1.0 extends 1.2.0, which extends 1.1.0: one E109 at the 'extends' value of the file
    checked (line 1, column 10), naming the chain; a version that extends into the loop gets the
    loop's error once, at the file where the loop starts."""
    first = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.2.0", "\ncriteria:\n  old_one: null\n"))
    second = write(tmp_path, "1.2.0.yaml", patch("1.2.0", "1.1.0"))
    outside = write(tmp_path, "1.3.0.yaml", patch("1.3.0", "1.2.0"))
    from_first = [f"{first}:1:10: E109 'extends' loops back to this version: 1.1.0 -> 1.2.0 -> 1.1.0 in /extends "
                  "(a version extends one that came before it)"]
    from_second = [f"{second}:1:10: E109 'extends' loops back to this version: 1.2.0 -> 1.1.0 -> 1.2.0 in "
                   "/extends (a version extends one that came before it)"]
    assert library(first) == from_first
    assert library(outside) == from_second
    assert validate(first) == from_first
    assert validate(second, outside) == from_second


def test_a_base_outside_the_folder_is_one_error(tmp_path: Path) -> None:
    """'extends' naming a path is one E109 at its value, and nothing of the keys it lacks."""
    path = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "../1.0.0"))
    expected = [f"{path}:1:10: E109 'extends' names a version of this methodology (its file in the same folder), "
                "not a path: got '../1.0.0' in /extends (write the version, e.g. extends: 1.2.0)"]
    assert library(path) == expected
    assert validate(path) == expected


FIXTURE = BASE + """
fixtures:
  good: {assessed_on: 2021-03-15, score: high}
tests:
  - name: one
    base: good
    expect: {label: basic}
  - name: two
    base: good
    assessment: {score: 0.1}
    expect: {label: none}
  - name: three
    base: good
    assessment: {assessed_on: 2021-03-16}
    expect: {label: basic}
"""


def test_one_fixture_error_is_printed_once_not_once_per_test(tmp_path: Path) -> None:
    """A fixture's value of the wrong type (line 37, 'high' at column 42) used unchanged by two
    tests is one error, at the fixture, naming it."""
    path = write(tmp_path, "1.0.0.yaml", FIXTURE)
    expected = [f"{path}:37:42: E302 the fixture 'good' is invalid: expected a number, got 'high' in "
                "/fixtures/good/score"]
    assert library(path) == expected
    assert validate(path) == expected


def test_a_parameter_of_the_wrong_type_does_not_hide_a_misspelt_input(tmp_path: Path) -> None:
    """A parameter whose value is a list of numbers (line 12, at column 22) and an input misspelt in a
    condition (line 17, column 11) are both reported; the condition that reads the refused parameter
    is not reported again as naming an unknown parameter."""
    path = write(tmp_path, "1.0.0.yaml", BASE.replace("{value: 0.5,", "{value: [1, 2],").replace(
        "when: score >= params", "when: scroe >= params"))
    expected = [
        f"{path}:12:22: E103 expected a number, an integer, true or false, text, a date or a list, got [1, 2] in "
        "/parameters/min_score/value",
        f"{path}:17:11: E104 unknown input 'scroe' in /criteria/score_ok/when (did you mean 'score'?)",
    ]
    assert library(path) == expected
    assert validate(path) == expected


def test_every_independent_problem_is_reported_and_none_that_follows_from_another(tmp_path: Path) -> None:
    """Six mistakes of different stages in one file are all reported, each once: an input whose
    minimum is text (line 9, column 35), an unknown key in a criterion (line 20, column 5), a
    misspelt input (line 21, column 11; its suggestion names the input it is close to, which was refused),
    a misspelt criterion in a tier (line 27, column 26), an unknown tier in a test's expectation
    (line 39, column 36) and an unknown field in a test's assessment (line 38: its value at column
    62). The criterion that reads the refused input is not reported."""
    text = (BASE.replace("score: {type: decimal}", "score: {type: decimal, minimum: low}")
            .replace("    title: Dropped later\n", "    title: Dropped later\n    descripton: typo\n")
            .replace("when: score >= 0.1", "when: scor >= 0.1")
            .replace("requires: [score_ok, old_one]", "requires: [score_ok, old_on]")
            + "tests:\n  - name: t\n    assessment: {assessed_on: 2021-01-01, score: 0.7, extra: many}\n"
              "    expect: {label: basic, tiers: {gold: met}}\n")
    path = write(tmp_path, "1.0.0.yaml", text)
    expected = [
        f"{path}:9:35: E103 expected a number or an integer, got 'low' in /inputs/score/minimum",
        f"{path}:20:5: E101 unknown key 'descripton' in /criteria/old_one/descripton (did you mean 'description'?)",
        f"{path}:21:11: E104 unknown input 'scor' in /criteria/old_one/when (did you mean 'score'? It was set "
        "aside for an error of its own)",
        f"{path}:27:26: E106 unknown criterion, group or score 'old_on' in /tiers/basic/requires/1 (did you mean "
        "'old_one'?)",
        f"{path}:39:36: E302 unknown tier 'gold' in /tests/0/expect/tiers/gold",
        f"{path}:38:62: E302 the test's assessment is invalid: 'extra': unknown field in /tests/0/assessment/extra",
    ]
    assert library(path) == expected
    assert validate(path) == expected


EMBEDDED = BASE + """
tests:
  - name: states only the label
    assessment: {assessed_on: 2021-03-15, score: 0.6}
    expect: {label: basic}
  - name: states a wrong end
    assessment: {assessed_on: 2021-03-15, score: 0.6}
    expect: {label: basic, valid_until: 2023-03-30}
  - name: states that there is no end
    assessment: {assessed_on: 2021-03-15, score: 0.6}
    expect: {label: basic, valid_until: null, missing: [/score]}
"""


def _run_tests(path: Path) -> list[str]:
    result = CliRunner().invoke(app, ["test", str(path)])
    assert result.exit_code == 1, result.output
    return result.output.splitlines()


def test_embedded_tests_check_validity_only_when_they_state_it(tmp_path: Path) -> None:
    """A test that states only its label passes whatever the validity dates; one that states a wrong
    end fails on it alone; one that states ``valid_until: null`` checks that there is no end."""
    path = write(tmp_path, "1.0.0.yaml", EMBEDDED)
    results = run_embedded(load_ruleset(path))
    assert [(r.name, r.passed, r.differences) for r in results] == [
        ("states only the label", True, ()),
        ("states a wrong end", False, ("valid_until: expected 2023-03-30, got 2023-03-31",)),
        ("states that there is no end", False, ("valid_until: expected null, got 2023-03-31",
                                                "missing: expected [\"/score\"], got []")),
    ]
    assert _run_tests(path) == [
        f"{path}: test 'states a wrong end': FAILED",
        "  valid_until: expected 2023-03-30, got 2023-03-31",
        f"{path}: test 'states that there is no end': FAILED",
        "  valid_until: expected null, got 2023-03-31",
        '  missing: expected ["/score"], got []',
        "embedded tests: 1 passed, 2 failed in 1 ruleset(s)",
    ]


def test_embedded_test_failures_show_values_as_authors_write_them(tmp_path: Path) -> None:
    """A failing expectation shows dates as ISO dates, an absent value as null, text quoted as in
    YAML and lists as JSON: never a Python repr."""
    path = write(tmp_path, "1.0.0.yaml", EMBEDDED.replace(
        "expect: {label: basic}", "expect: {label: none, valid_from: 2021-03-16, tiers: {basic: not_met}}"))
    (first, *_) = run_embedded(load_ruleset(path))
    assert first.differences == ("label: expected 'none', got 'basic'",
                                 "valid_from: expected 2021-03-16, got 2021-03-15",
                                 "tier basic: expected 'not_met', got 'met'")
    output = "\n".join(_run_tests(path))
    assert "  valid_from: expected 2021-03-16, got 2021-03-15" in output
    assert "datetime" not in output
    assert "None" not in output
    assert "\\n" not in output


def test_a_refused_test_rule_or_label_list_hides_nothing_else(tmp_path: Path) -> None:
    """A validity rule whose labels are a number (line 33, column 15), a test without 'expect'
    (the item at line 36, column 5), a misspelt input (line 20, column 11) and another test's value
    of the wrong type (line 39, column 50) are all reported, and nothing else: not the rule list as
    "too short", not the label the refused rule covered as uncovered. Labels given as text (line 22,
    column 9) do not hide the misspelt input either."""
    text = (BASE.replace("      labels: [basic]\n", "      labels: 5\n")
            .replace("when: score >= 0.1", "when: scor >= 0.1")
            + "tests:\n  - name: no expect\n    assessment: {assessed_on: 2021-01-01}\n  - name: fine\n"
              "    assessment: {assessed_on: 2021-01-01, score: x}\n    expect: {label: basic}\n")
    path = write(tmp_path, "1.0.0.yaml", text)
    expected = [
        f"{path}:33:15: E103 expected a list, got 5 in /validity/rules/0/labels",
        f"{path}:36:5: E102 the required key 'expect' is missing in /tests/0 (add 'expect:' here)",
        f"{path}:20:11: E104 unknown input 'scor' in /criteria/old_one/when (did you mean 'score'?)",
        f"{path}:39:50: E302 the test's assessment is invalid: expected a number, got 'x' in /tests/1/assessment/score",
    ]
    assert library(path) == expected
    assert validate(path) == expected
    labels = write(tmp_path, "1.1.0.yaml", BASE.replace("labels: [basic]", "labels: basic", 1).replace(
        "when: score >= 0.1", "when: scor >= 0.1"))
    assert library(labels) == [
        f"{labels}:22:9: E103 expected a list, got 'basic' in /labels",
        f"{labels}:20:11: E104 unknown input 'scor' in /criteria/old_one/when (did you mean 'score'?)",
    ]


def test_a_refused_catalogue_item_is_one_error(tmp_path: Path) -> None:
    """An item of a catalogue whose title is a list (line 21, the list at column 19) is one error:
    the conditions that name the item are not reported as naming an unknown item, and the rest of
    the catalogue still serves the others."""
    every = Path(__file__).resolve().parents[1] / "data" / "every" / "1.0.0.yaml"
    text = every.read_text(encoding="utf-8").replace("k3: {title: Has a plan,", "k3: {title: [Has, a, plan],")
    path = write(tmp_path, "1.0.0.yaml", text)
    expected = [f'{path}:21:19: E103 expected text, got ["Has", "a", "plan"] in /catalogues/kpis/items/k3/title']
    assert library(path) == expected
    assert validate(path) == expected


def test_two_changes_breaking_one_condition_are_each_blamed_where_they_were_made(tmp_path: Path) -> None:
    """A patch that makes a parameter text and an input a string, each breaking another comparison of one
    condition of the base (same code, same pointer): each problem is at the change that causes it, whichever
    change the patch writes first (both went to one of them), and the type change is not told to unquote a
    number (that hint is the parameter's)."""
    base = BASE.replace("  score: {type: decimal}\n", "  score: {type: decimal}\n  level: {type: integer}\n")
    base = base.replace("when: score >= params.min_score", "when: score >= params.min_score and level > 2")
    write(tmp_path, "1.0.0.yaml", base)
    typed, valued = "inputs:\n  level: {type: string}\n", "parameters:\n  min_score: {value: high}\n"
    for first, second in ((typed, valued), (valued, typed)):
        path = write(tmp_path, "1.1.0.yaml", patch("1.1.0", "1.0.0", "\n" + first + second))
        lines = path.read_text(encoding="utf-8").splitlines()
        type_line = lines.index("  level: {type: string}") + 1
        value_line = lines.index("  min_score: {value: high}") + 1
        found = library(path)
        assert len(found) == 2
        by_line = {int(d.split(":")[1]): d for d in found}
        assert set(by_line) == {type_line, value_line}
        assert "'level' (string) with '2'" in by_line[type_line]
        assert "params.min_score" not in by_line[type_line]
        assert "without quotes" not in by_line[type_line]
        assert "'params.min_score' (string)" in by_line[value_line]
        assert "'level'" not in by_line[value_line]
        assert validate(path) == found
