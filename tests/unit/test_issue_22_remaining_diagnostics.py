"""Issue 22, "What remains" item 6: three diagnostics. A misspelt name close to an entry the
model refused keeps its "did you mean"; validating a folder with a loop of ``extends`` reports
the loop once; derived values, groups and scores are put in dependency order by one helper."""

from __future__ import annotations

from pathlib import Path

from test_issue_22_diagnostics import BASE, library, patch, validate, write

from ecei_rules.registry import Registry
from ecei_rules.ruleset import check
from ecei_rules.ruleset.load import load_ruleset_text
from ecei_rules.testing.lint import lint


def test_a_misspelt_name_close_to_an_entry_set_aside_keeps_its_did_you_mean(tmp_path: Path) -> None:
    """The parameter 'min_score' is refused (its value is a list, line 12, column 22); a condition
    naming 'min_scor' (line 17, column 11, 'params' at column 20) is still an unknown parameter,
    and its suggestion names the refused entry it is close to."""
    path = write(tmp_path, "1.0.0.yaml", BASE.replace("{value: 0.5,", "{value: [1, 2],").replace(
        "params.min_score", "params.min_scor"))
    expected = [
        f"{path}:12:22: E103 expected a number, an integer, true or false, text, a date or a list, got [1, 2] in "
        "/parameters/min_score/value",
        f"{path}:17:20: E105 unknown parameter 'min_scor' in /criteria/score_ok/when (did you mean 'min_score'? It "
        "was set aside for an error of its own)",
    ]
    assert library(path) == expected
    assert validate(path) == expected


def test_validating_a_folder_reports_a_loop_of_extends_once_not_once_per_file(tmp_path: Path) -> None:
    """1.1.0 extends 1.2.0, which extends 1.1.0: the folder (and the two files named) give one E109,
    at the first file of the loop checked, and so does ``lint`` of the rulesets directory; a file on
    its own still reports the loop from itself."""
    folder = tmp_path / "m"
    folder.mkdir()
    first = write(folder, "1.1.0.yaml", patch("1.1.0", "1.2.0"))
    second = write(folder, "1.2.0.yaml", patch("1.2.0", "1.1.0"))
    expected = [f"{first}:1:10: E109 'extends' loops back to this version: 1.1.0 -> 1.2.0 -> 1.1.0 in /extends "
                "(a version extends one that came before it)"]
    assert validate(folder) == expected
    assert validate(first, second) == expected
    assert [str(d) for d in lint(Registry(tmp_path), examples=1).diagnostics] == expected
    assert library(second) == [f"{second}:1:10: E109 'extends' loops back to this version: 1.2.0 -> 1.1.0 -> "
                               "1.2.0 in /extends (a version extends one that came before it)"]


def test_derived_values_groups_and_scores_are_ordered_by_one_helper(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One helper, ``dependency_order``, orders derived values (their names, each after those it
    reads) and groups and scores (each after its members): both calls go through it, and a cycle of
    each is one E108 naming it."""
    calls: list[dict[str, list[str]]] = []
    real = check.dependency_order

    def spy(uses, cycle):  # type: ignore[no-untyped-def]
        calls.append({k: list(v) for k, v in uses.items()})
        return real(uses, cycle)

    monkeypatch.setattr(check, "dependency_order", spy)
    text = BASE.replace("parameters:", "derived:\n  a: {title: A, type: decimal, value: b + 1}\n"
                        "  b: {title: B, type: decimal, value: score * 2}\n\nparameters:").replace(
        "labels: [basic]\n", "groups:\n  both: {title: Both, all_of: [score_ok, old_one]}\n\nlabels: [basic]\n", 1)
    ruleset = load_ruleset_text(text)
    assert [d.id for d in ruleset.plan.derived] == ["b", "a"]
    assert calls == [{"a": ["b"], "b": []}, {"both": ["score_ok", "old_one"]}]
