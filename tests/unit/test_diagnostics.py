"""Diagnostics: one bad ruleset per code, each located by file, line, column and JSON pointer.

Every file under tests/data/bad/ is tests/data/minimal.yaml with one mistake (its first line
says which). The expected line and column of each diagnostic were read off the file by hand:
lines count from 1 (the header comment is line 1), columns count characters from 1. For a
condition, the column is that of the condition's first character plus the offset of the
offending part within the condition (plus 1 for the opening quote of a quoted scalar).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecei_rules import Diagnostic, RulesetError, check_ruleset, load_ruleset
from ecei_rules.audit.log import LogError
from ecei_rules.batch import error_json
from ecei_rules.core.pointers import json_path, pointer_join
from ecei_rules.errors import CODES, AssessmentError, ResolutionError, did_you_mean

DATA = Path(__file__).resolve().parent.parent / "data"
BAD = DATA / "bad"
MINIMAL = DATA / "minimal.yaml"

#: Codes whose bad input is written at test time instead of being committed.
GENERATED = {"E001", "E005"}


def errors(path: Path) -> list[Diagnostic]:
    return [d for d in check_ruleset(path) if d.severity == "error"]


def single(path: Path, code: str) -> Diagnostic:
    """The one diagnostic of a file that should have exactly one, of ``code``."""
    found = errors(path)
    assert [d.code for d in found] == [code], [str(d) for d in found]
    return found[0]


def where(d: Diagnostic) -> tuple[str | None, int | None, int | None, str]:
    return d.file, d.line, d.column, d.pointer


# --------------------------------------------------------------------------------------------
# the baseline and the catalogue of codes
# --------------------------------------------------------------------------------------------


def test_minimal_ruleset_is_valid() -> None:
    """The minimal ruleset that every bad file derives from has no diagnostics at all."""
    assert check_ruleset(MINIMAL) == []
    assert load_ruleset(MINIMAL).version == "1.0.0"


def test_every_ruleset_code_has_a_bad_example() -> None:
    """Each E-code in CODES is exercised by a file under bad/ or by a generated input here."""
    committed = {p.name[:4].upper() for p in BAD.glob("e*")}  # e104_unknown_input.yaml, e109_extends/, ...
    ruleset_codes = {c for c in CODES if c.startswith("E")}
    assert ruleset_codes - committed - GENERATED == set()


@pytest.mark.parametrize("path", sorted(p for p in BAD.rglob("*.yaml") if p.name != "1.0.0.yaml"),
                         ids=lambda p: p.relative_to(BAD).as_posix())
def test_every_bad_file_is_refused_by_load_ruleset(path: Path) -> None:
    """load_ruleset raises RulesetError for each bad file, holding the same errors check_ruleset finds."""
    with pytest.raises(RulesetError) as info:
        load_ruleset(path)
    assert info.value.diagnostics
    assert [d.code for d in info.value.diagnostics] == [d.code for d in check_ruleset(path)]


# --------------------------------------------------------------------------------------------
# E0xx: reading and YAML
# --------------------------------------------------------------------------------------------


def test_e001_non_utf8_bytes(tmp_path: Path) -> None:
    """A byte that is not UTF-8 gives E001 at its line and column, naming the byte."""
    path = tmp_path / "latin1.yaml"
    # line 3 is "title: Caf\xe9": "title: Caf" is 10 characters, so the bad byte is column 11
    path.write_bytes(b"methodology: minimal\nversion: 1.0.0\ntitle: Caf\xe9\n")
    d = single(path, "E001")
    assert where(d) == (str(path), 3, 11, "")
    assert "0xe9" in d.message
    assert d.suggestion == "save the file as UTF-8"


def test_e001_missing_file(tmp_path: Path) -> None:
    """A file that does not exist gives E001 naming the file, without a line."""
    path = tmp_path / "absent.yaml"
    d = single(path, "E001")
    assert d.file == str(path)
    assert d.line is None


def test_e002_yaml_syntax() -> None:
    """A second ': ' on a line is a YAML syntax error, located at that colon."""
    # line 5 is "status: published: yes"; the second ':' is character 18
    d = single(BAD / "e002_syntax.yaml", "E002")
    assert (d.line, d.column) == (5, 18)
    assert "mapping values are not allowed" in d.message


def test_e002_tab_indentation() -> None:
    """A tab in the indentation gives E002 at the tab, with the fix as suggestion."""
    # line 16 is "  \tscore_ok:": two spaces, then the tab in column 3
    d = single(BAD / "e002_tab.yaml", "E002")
    assert (d.file, d.line, d.column) == (str(BAD / "e002_tab.yaml"), 16, 3)
    assert d.suggestion == "replace the tab with spaces"


def test_e003_duplicate_key() -> None:
    """A repeated key gives E003 at the second occurrence, naming the line of the first."""
    # lines 17 and 18 both start with "    title:"; the second key is at column 5
    d = single(BAD / "e003_duplicate_key.yaml", "E003")
    assert where(d) == (str(BAD / "e003_duplicate_key.yaml"), 18, 5, "/criteria/score_ok/title")
    assert "line 17" in d.message
    assert d.suggestion is not None


def test_e004_custom_tag() -> None:
    """A custom tag (!include) gives E004 at the tagged value."""
    # line 7 is "description: !include notes.md"; the value (with its tag) starts at column 14
    d = single(BAD / "e004_tag.yaml", "E004")
    assert where(d) == (str(BAD / "e004_tag.yaml"), 7, 14, "/description")
    assert "!include" in d.message
    assert d.suggestion is not None
    assert d.suggestion.startswith("remove the tag")


def test_e004_anchor_and_alias() -> None:
    """An anchor with an alias (&labels, *labels) is refused with E004 and nothing else (no alias bombs)."""
    d = single(BAD / "e004_alias.yaml", "E004")
    assert "alias" in d.message
    assert d.suggestion is not None
    assert "extends" in d.suggestion


def test_bug_alias_is_located_at_the_document_start() -> None:
    """BUG: the E004 for an alias points at line 2, column 1 (the document), not at the anchor or alias."""
    # docs/language.md: anchors and aliases "are errors, each with its line and column".
    # line 20 is "labels: &labels [basic]" (anchor at column 9), line 31 "      labels: *labels"
    # (alias at column 15); either place would do, the document's first key does not.
    d = single(BAD / "e004_alias.yaml", "E004")
    assert (d.line, d.column) in {(20, 9), (31, 15)}


def test_bug_anchor_without_alias_is_accepted(tmp_path: Path) -> None:
    """BUG: an anchor that no alias uses (&labels) passes, though anchors are documented as errors."""
    # docs/language.md and the _yaml module docstring: anchors and aliases are rejected.
    path = tmp_path / "anchor.yaml"
    text = MINIMAL.read_text()
    assert text.count("\nlabels: [basic]") == 1
    path.write_text(text.replace("\nlabels: [basic]", "\nlabels: &labels [basic]"))
    assert [d.code for d in errors(path)] == ["E004"]


def test_e004_merge_key(tmp_path: Path) -> None:
    """A merge key ('<<') is refused with E004 (it needs an alias, refused first)."""
    path = tmp_path / "merge.yaml"
    text = MINIMAL.read_text().replace(
        "  score: {type: decimal}", "  score: &dec {type: decimal}\n  other:\n    <<: *dec"
    )
    path.write_text(text)
    assert [d.code for d in errors(path)] == ["E004"]


def test_e005_nesting_too_deep(tmp_path: Path) -> None:
    """70 nested lists give E005 at the 65th, the first beyond the limit of 64 levels."""
    path = tmp_path / "deep.yaml"
    lines = MINIMAL.read_text().splitlines()
    # "deep: [[[...]]]" is appended as the last line; the root mapping is depth 0, the first
    # '[' (column 7, after "deep: ") depth 1, so the 65th '[' is column 7 + 64 = 71
    lines.append("deep: " + "[" * 70 + "]" * 70)
    path.write_text("\n".join(lines) + "\n")
    d = single(path, "E005")
    assert (d.line, d.column) == (len(lines), 71)
    assert d.pointer == "/deep" + "/0" * 64


def test_e005_extreme_nesting_does_not_crash(tmp_path: Path) -> None:
    """Nesting far beyond Python's recursion limit is reported as one located error, never raised."""
    path = tmp_path / "deeper.yaml"
    path.write_text("deep: " + "[" * 20000 + "]" * 20000 + "\n")
    found = errors(path)
    assert len(found) == 1
    assert found[0].line == 1


def test_bug_deep_nesting_reported_as_e002_instead_of_e005(tmp_path: Path) -> None:
    """BUG: 1000+ nested lists are reported as E002 (syntax error) rather than E005 (too deeply nested)."""
    # CODES documents E005 as "the document is too large or too deeply nested"; libyaml stops at
    # 1000 levels with "exceeded maximum nesting depth", which the loader reports as E002.
    path = tmp_path / "deeper.yaml"
    path.write_text("deep: " + "[" * 1000 + "]" * 1000 + "\n")
    assert [d.code for d in errors(path)] == ["E005"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n", "just text\n"],
                         ids=["empty", "comment", "list", "scalar"])
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    """An empty file, a list or a scalar is E103 at line 1, column 1: a ruleset is a mapping."""
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    d = single(path, "E103")
    assert (d.line, d.column) == (1, 1)


# --------------------------------------------------------------------------------------------
# E1xx: the document
# --------------------------------------------------------------------------------------------


def test_e101_unknown_top_level_key_with_suggestion(tmp_path: Path) -> None:
    """A misspelt top-level key gives E101 at the key, suggesting the closest document key."""
    path = tmp_path / "top.yaml"
    lines = MINIMAL.read_text().splitlines()
    # line 7 (blank in minimal.yaml) becomes "descripton: x"; the key is at column 1
    lines[6] = "descripton: x"
    path.write_text("\n".join(lines) + "\n")
    d = single(path, "E101")
    assert where(d) == (str(path), 7, 1, "/descripton")
    assert d.suggestion == "did you mean 'description'?"


def test_bug_e101_no_did_you_mean_for_keys_inside_criteria() -> None:
    """BUG: a misspelt key inside a criterion (a dict of models) gets no did-you-mean; it should suggest 'clause'."""
    # line 18 is "    clasue: Handbook 2.1": the key starts at column 5
    d = single(BAD / "e101_unknown_key.yaml", "E101")
    assert where(d) == (str(BAD / "e101_unknown_key.yaml"), 18, 5, "/criteria/score_ok/clasue")
    assert d.suggestion == "did you mean 'clause'?"


def test_e102_missing_required_key() -> None:
    """A tier without title gives E102 at the tier's mapping."""
    # the tier 'basic' (line 22) holds only "    requires: [score_ok]" on line 23; its mapping
    # therefore starts at line 23, column 5
    d = single(BAD / "e102_missing_key.yaml", "E102")
    assert where(d) == (str(BAD / "e102_missing_key.yaml"), 23, 5, "/tiers/basic")
    assert "'title'" in d.message
    assert d.suggestion == "add 'title:' here"


def test_e103_wrong_type() -> None:
    """'required: yes' is a string under YAML 1.2, so E103 points at the value."""
    # line 9 is "  assessed_on: {type: date, required: yes}"; 'yes' is at column 39
    d = single(BAD / "e103_wrong_type.yaml", "E103")
    assert where(d) == (str(BAD / "e103_wrong_type.yaml"), 9, 39, "/inputs/assessed_on/required")


def test_e104_unknown_input_in_condition() -> None:
    """A misspelt input name gives E104 at the name, suggesting the declared input."""
    # line 18 is "    when: scroe >= params.min_score"; the condition starts at column 11
    d = single(BAD / "e104_unknown_input.yaml", "E104")
    assert where(d) == (str(BAD / "e104_unknown_input.yaml"), 18, 11, "/criteria/score_ok/when")
    assert "scroe" in d.message
    assert d.suggestion == "did you mean 'score'?"


def test_e105_unknown_parameter() -> None:
    """A misspelt parameter gives E105 at 'params.', suggesting the declared parameter."""
    # line 18 is "    when: score >= params.min_scor": column 11 + len("score >= ") = 20
    d = single(BAD / "e105_unknown_parameter.yaml", "E105")
    assert where(d) == (str(BAD / "e105_unknown_parameter.yaml"), 18, 20, "/criteria/score_ok/when")
    assert d.suggestion == "did you mean 'min_score'?"


def test_e106_unknown_criterion_in_tier() -> None:
    """A tier requiring a misspelt criterion gives E106 at the list item, with a suggestion."""
    # line 24 is "    requires: [scor_ok]": the item starts at column 16
    d = single(BAD / "e106_unknown_criterion.yaml", "E106")
    assert where(d) == (str(BAD / "e106_unknown_criterion.yaml"), 24, 16, "/tiers/basic/requires/0")
    assert d.suggestion == "did you mean 'score_ok'?"


def test_e107_unknown_type() -> None:
    """A misspelt input type gives E107 at the type, suggesting the base type."""
    # line 10 is "  score: {type: decmal}": 'decmal' is at column 17
    d = single(BAD / "e107_unknown_type.yaml", "E107")
    assert where(d) == (str(BAD / "e107_unknown_type.yaml"), 10, 17, "/inputs/score/type")
    assert d.suggestion == "did you mean 'decimal'?"


def test_e108_duplicate_id() -> None:
    """A group with a criterion's id gives E108 at the group."""
    # the group 'score_ok' is on line 25; its mapping starts at line 26, column 5
    d = single(BAD / "e108_duplicate_id.yaml", "E108")
    assert where(d) == (str(BAD / "e108_duplicate_id.yaml"), 26, 5, "/groups/score_ok")
    assert "score_ok" in d.message


def test_e108_group_cycle() -> None:
    """Two groups requiring each other give one E108 naming the cycle."""
    # group 'first' is on line 21, its mapping starts at line 22, column 5
    d = single(BAD / "e108_cycle.yaml", "E108")
    assert where(d) == (str(BAD / "e108_cycle.yaml"), 22, 5, "/groups/first")
    assert "first -> second -> first" in d.message


def test_e109_extends_missing_version() -> None:
    """'extends' naming an absent version gives E109 at the value, suggesting a sibling version."""
    path = BAD / "e109_extends" / "1.1.0.yaml"
    # line 3 is "extends: 1.0.1": the value starts at column 10
    d = single(path, "E109")
    assert where(d) == (str(path), 3, 10, "/extends")
    assert "1.0.1" in d.message
    assert d.suggestion == "did you mean '1.0.0'?"


# --------------------------------------------------------------------------------------------
# E2xx: conditions
# --------------------------------------------------------------------------------------------


def test_e201_condition_syntax_error() -> None:
    """An unclosed bracket gives E201 at the bracket."""
    # line 18 is "    when: score >= (params.min_score": column 11 + len("score >= ") = 20
    d = single(BAD / "e201_syntax.yaml", "E201")
    assert where(d) == (str(BAD / "e201_syntax.yaml"), 18, 20, "/criteria/score_ok/when")
    assert "never closed" in d.message


def test_e202_forbidden_constructs() -> None:
    """lambda, a dunder attribute, '**' and a method call each give E202 at the construct."""
    found = errors(BAD / "e202_forbidden.yaml")
    assert [d.code for d in found] == ["E202"] * 4
    got = [(d.pointer, d.line, d.column) for d in found]
    assert got == [
        # line 22: '    when: "lambda: true"' -- the quote is column 11, the lambda column 12
        ("/criteria/uses_lambda/when", 22, 12),
        # line 25: "    when: score.__class__ == score" -- the attribute node starts at 'score'
        ("/criteria/uses_dunder/when", 25, 11),
        # line 28: "    when: score ** 2 >= ..." -- the '**' operation starts at 'score'
        ("/criteria/uses_power/when", 28, 11),
        # line 31: "    when: assessed_on.isoformat() == ..." -- the call starts at 'assessed_on'
        ("/criteria/calls_method/when", 31, 11),
    ]
    assert "lambda" in found[0].message
    assert "__class__" in found[1].message
    assert "'**'" in found[2].message
    assert "called" in found[3].message


def write_minimal_with_when(tmp_path: Path, when: str) -> Path:
    """minimal.yaml with its line 18 ("    when: score >= params.min_score") replaced by ``when``."""
    text = MINIMAL.read_text()
    old = "    when: score >= params.min_score"
    assert text.count(old) == 1
    path = tmp_path / "when.yaml"
    path.write_text(text.replace(old, when))
    return path


def test_error_on_second_line_of_folded_condition(tmp_path: Path) -> None:
    """An error on the second line of a '>-' condition is located on that line."""
    # line 18 "    when: >-", line 19 "      score >=", line 20 "      params.min_scor": 'params' at column 7
    path = write_minimal_with_when(tmp_path, "    when: >-\n      score >=\n      params.min_scor")
    d = single(path, "E105")
    assert (d.line, d.column) == (20, 7)


def test_error_after_non_ascii_text_in_condition(tmp_path: Path) -> None:
    """Columns count characters, not UTF-8 bytes, when a condition holds non-ASCII text."""
    # line 18 is '    when: score >= params.min_score and "é" == "é" and scroe >= 0'; the condition starts at
    # column 11 and 'scroe' is 45 characters into it: "score >= params.min_score and " is 30,
    # '"é" == "é" and ' 15 more ("é" is one character, two bytes)
    condition = 'score >= params.min_score and "é" == "é" and scroe >= 0'
    path = write_minimal_with_when(tmp_path, "    when: " + condition)
    d = single(path, "E104")
    assert condition.index("scroe") == 45
    assert (d.line, d.column) == (18, 11 + 45)


def test_bug_multiline_plain_condition_located_on_its_first_line(tmp_path: Path) -> None:
    """BUG: an error on the 2nd line of a plain multi-line condition is put on the 1st line, past its end."""
    # line 18 "    when: score >=" (18 characters), line 19 "      params.min_scor": the unknown
    # parameter is at line 19, column 7. The loader reports line 18, column 20 (beyond the line's end).
    path = write_minimal_with_when(tmp_path, "    when: score >=\n      params.min_scor")
    d = single(path, "E105")
    assert (d.line, d.column) == (19, 7)


def test_bug_more_indented_line_of_folded_condition_located_too_far_right(tmp_path: Path) -> None:
    """BUG: on a more-indented line of a '>-' condition the column is shifted right by the extra indent."""
    every = DATA / "every" / "1.0.0.yaml"
    old = '          for h in history if h.label == "basic")'
    text = every.read_text()
    assert text.count(old) == 1
    path = tmp_path / "every.yaml"
    path.write_text(text.replace(old, old.replace("h.label", "h.lable")))
    line = text.splitlines().index(old) + 1
    # the line is '          for h in history if h.lable == "basic")': 10 spaces, then 'lable' is at
    # column 11 + len("for h in history if h.") = 33. It is 4 spaces more indented than the
    # condition's first line (6), and the loader reports column 37.
    d = single(path, "E104")
    assert (d.line, d.column) == (line, 33)


def test_e203_unknown_function() -> None:
    """A misspelt function gives E203 at the name, suggesting the language's function."""
    # line 32 is "      valid_until: mnth_end(assessed_on, 24)": the value starts at column 20
    d = single(BAD / "e203_unknown_function.yaml", "E203")
    assert where(d) == (str(BAD / "e203_unknown_function.yaml"), 32, 20, "/validity/rules/0/valid_until")
    assert d.suggestion == "did you mean 'month_end'?"


def test_e204_type_errors() -> None:
    """A date compared with a number, and a number with a quoted threshold, each give E204."""
    found = errors(BAD / "e204_type_error.yaml")
    assert [d.code for d in found] == ["E204", "E204"]
    date_vs_number, quoted = found
    # line 23 is "    when: assessed_on >= 2020": column 11 + len("assessed_on >= ") = 26
    assert where(date_vs_number) == (str(BAD / "e204_type_error.yaml"), 23, 26, "/criteria/recent/when")
    assert "date" in date_vs_number.message
    # line 26 is "    when: score >= params.min_text": column 11 + len("score >= ") = 20
    assert where(quoted) == (str(BAD / "e204_type_error.yaml"), 26, 20, "/criteria/quoted/when")
    assert quoted.suggestion == 'a number is written without quotes: 0.5, not "0.5"'


def test_e205_literal_out_of_range() -> None:
    """A 20-digit integer literal gives E205 at the literal."""
    # line 18 is "    when: score >= 10000000000000000000": column 11 + 9 = 20
    d = single(BAD / "e205_literal_range.yaml", "E205")
    assert where(d) == (str(BAD / "e205_literal_range.yaml"), 18, 20, "/criteria/score_ok/when")


def test_e206_over_the_cost_budget() -> None:
    """Three nested any() over a 2,000-item list: E206 at the outermost any(), naming the loops."""
    # line 22 is "    when: any(any(any(...": column 11
    d = single(BAD / "e206_cost_budget.yaml", "E206")
    assert where(d) == (str(BAD / "e206_cost_budget.yaml"), 22, 11, "/criteria/score_ok/when")
    assert "3 nested loops" in d.message
    assert "(up to 2,000 items)" in d.message
    assert "the budget is 10,000,000 (10^7)" in d.message


# --------------------------------------------------------------------------------------------
# E3xx: coverage and embedded tests
# --------------------------------------------------------------------------------------------


def test_e301_validity_rules_do_not_cover_a_label() -> None:
    """When every rule for a label has a 'when', E301 points at the rules with the fix."""
    # "  rules:" is line 28; its list starts with "    - id: always" on line 29, column 5
    d = single(BAD / "e301_validity_coverage.yaml", "E301")
    assert where(d) == (str(BAD / "e301_validity_coverage.yaml"), 29, 5, "/validity/rules")
    assert "'basic'" in d.message
    assert d.suggestion == "end the list with a rule that has no 'when'"


def test_e302_invalid_embedded_tests() -> None:
    """An unknown expected label and an invalid test assessment each give E302 where they are written."""
    found = errors(BAD / "e302_embedded_test.yaml")
    assert [d.code for d in found] == ["E302", "E302"]
    label, assessment = found
    # line 37 is "    expect: {label: basik}": 'basik' is at column 21
    assert where(label) == (str(BAD / "e302_embedded_test.yaml"), 37, 21, "/tests/0/expect/label")
    assert label.suggestion == "did you mean 'basic'?"
    # line 39 is "    assessment: {assessed_on: 2021-03-15, score: high}": 'high' is at column 50
    assert where(assessment) == (str(BAD / "e302_embedded_test.yaml"), 39, 50, "/tests/1/assessment/score")


# --------------------------------------------------------------------------------------------
# three mistakes at once
# --------------------------------------------------------------------------------------------

THREE = BAD / "three_mistakes.yaml"


def test_three_mistakes_are_all_reported_with_locations() -> None:
    """A misspelt input, a duplicate key and a quoted threshold are all reported, each at file:line:column."""
    found = {d.code: d for d in errors(THREE)}
    assert sorted(found) == ["E003", "E104", "E204"]
    # line 19 is the second "    title:" of the criterion (the first is line 18)
    assert found["E003"].location() == f"{THREE}:19:5"
    assert found["E003"].pointer == "/criteria/score_ok/title"
    # line 20 is "    when: scroe >= params.min_score": the condition starts at column 11
    assert found["E104"].location() == f"{THREE}:20:11"
    assert found["E104"].suggestion == "did you mean 'score'?"
    assert "did you mean 'score'?" in str(found["E104"])
    # line 14 is '  pass_share: {value: "0.8", source: "Handbook 3"}': the quoted value is column 23
    assert found["E204"].location() == f"{THREE}:14:23"
    assert found["E204"].pointer == "/parameters/pass_share/value"
    assert found["E204"].suggestion == 'a number is written without quotes: 0.8, not "0.8"'


def test_three_mistakes_load_raises_one_error_holding_all() -> None:
    """load_ruleset raises a single RulesetError whose diagnostics and message hold all three."""
    with pytest.raises(RulesetError) as info:
        load_ruleset(THREE)
    codes = sorted(d.code for d in info.value.diagnostics)
    assert codes == ["E003", "E104", "E204"]
    message = str(info.value)
    assert message.startswith("3 problem(s)")
    for location in (f"{THREE}:19:5", f"{THREE}:20:11", f"{THREE}:14:23"):
        assert location in message


# --------------------------------------------------------------------------------------------
# the Diagnostic value and the helpers
# --------------------------------------------------------------------------------------------


def test_diagnostic_text_and_json_form() -> None:
    """str() shows file:line:column, code, message, pointer and suggestion; to_json carries every field."""
    d = Diagnostic("E104", "unknown input 'scroe'", "r.yaml", 18, 11, "/criteria/c/when", "did you mean 'score'?")
    assert str(d) == "r.yaml:18:11: E104 unknown input 'scroe' in /criteria/c/when (did you mean 'score'?)"
    assert Diagnostic("E001", "m").location() == "<input>"
    assert Diagnostic("E001", "m", "f", 3).location() == "f:3"
    assert d.to_json() == {
        "code": "E104", "severity": "error", "message": "unknown input 'scroe'", "file": "r.yaml",
        "line": 18, "column": 11, "pointer": "/criteria/c/when", "suggestion": "did you mean 'score'?",
        "docs": "reference/errors/#e104",  # the code's anchor on the documentation site
    }


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("", "$"),
        ("/staff/fte", "$.staff.fte"),
        ("/areas/0/kpi", "$.areas[0].kpi"),
        ("/kpi/4.1.5", "$.kpi['4.1.5']"),
        ("/a~1b/c~0d", "$['a/b']['c~d']"),
    ],
)
def test_json_path_from_pointer(pointer: str, path: str) -> None:
    """JSON pointers become JSON paths: identifiers with dots, indexes and other keys in brackets."""
    assert json_path(pointer) == path


def test_pointer_join_escapes() -> None:
    """pointer_join escapes '~' as ~0 and '/' as ~1 (RFC 6901)."""
    assert pointer_join("/a", "b/c", "d~e", 0) == "/a/b~1c/d~0e/0"


def test_did_you_mean() -> None:
    """did_you_mean proposes a close candidate and nothing for a distant word."""
    assert did_you_mean("scroe", ["score", "assessed_on"]) == "did you mean 'score'?"
    assert did_you_mean("zzzz", ["score", "assessed_on"]) is None


def test_every_code_a_batch_error_object_carries_is_a_documented_code() -> None:
    """A batch's error object (``batch.error_json``) carries only codes listed in CODES (each has its anchor on the
    errors page): an assessment's, a resolution's, a broken version's, and the catch-all for anything else."""
    errors = [AssessmentError([Diagnostic("A001", "organisation is missing", pointer="/organisation")]),
              ResolutionError("no version of ecei-labels was in force on 2009-12-31"),
              RulesetError([Diagnostic("E104", "unknown name 'x'", file="r.yaml", line=3)]),
              LogError("the log cannot be opened")]
    codes = [error_json(e)["code"] for e in errors]
    assert codes == ["A001", "R001", "E104", "B001"]
    assert set(codes) <= set(CODES)
