"""The commands diff, bump-check, lint and lock (issue 4), through typer's CliRunner.

Expected contents are derived from the spec (ecei-labels.md sections 1, 4 and 5); counterexamples
printed by bump-check are evaluated again here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import Result
from compare_helpers import (
    EXAMPLES,
    GOLD_EDIT_3_0_2,
    GOLD_EDIT_IN_PLACE,
    PAIRS,
    SHIPPED,
    M,
    cached_bump_check,
    copy_rulesets,
    decide_both,
    decisions_differ,
    metadata_only,
    version_file,
    write_version,
)
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.registry import Registry
from ecei_rules.render.docs import changes_page

WIDE = {"COLUMNS": "240"}  # rich wraps at the terminal width; keep every line whole


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    """Invoke the app with a wide terminal; an exception other than the command's exit is re-raised
    (CliRunner would report it as exit code 1, which some tests expect for findings)."""
    result = runner.invoke(app, list(args), env=WIDE)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# -- diff ---------------------------------------------------------------------------------------------------


def test_diff_json_lists_the_spec_changes(runner: CliRunner) -> None:
    """diff --format json of 2.0.0 -> 3.0.0 parses and names the criteria out (1.2, 2.2.4, 5.1) and in (4.7-4.9)."""
    result = run(runner, "diff", f"{M}@2.0.0", f"{M}@3.0.0", "--rulesets", str(SHIPPED), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["old"]["version"], data["new"]["version"], data["schema"]) == ("2.0.0", "3.0.0", "breaking")
    criteria = {(c["kind"], c["id"]) for c in data["changes"] if c["section"] == "criteria" and c["decides"]}
    assert criteria == {("removed", "1.2"), ("removed", "2.2.4"), ("removed", "5.1"),
                        ("added", "4.7"), ("added", "4.8"), ("added", "4.9")}


def _markdown_sections(text: str) -> dict[str, list[list[str]]]:
    """The rows of each ``## Section`` table of a Markdown diff (the site's ``{#id}`` dropped), cells split on the
    pipes that are not escaped; the header and rule lines are left out."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].split(" {#")[0], [])
        elif current is not None and line.startswith("| ") and not line.startswith("| change | old |"):
            current.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return sections


def test_diff_markdown_has_a_criteria_section(runner: CliRunner) -> None:
    """diff --format markdown of 2.0.0 -> 3.0.0: a header naming both versions (effective dates, short sha256),
    the declared major bump and the breaking schema; a '## Criteria' table with a row per added or removed
    criterion and its condition (spec section 4), and the '## Scores' rows of section 5's weights."""
    result = run(runner, "diff", f"{M}@2.0.0", f"{M}@3.0.0", "--rulesets", str(SHIPPED), "--format", "markdown")
    assert result.exit_code == 0, result.output
    lock = json.loads((SHIPPED / M / "published.lock.json").read_text(encoding="utf-8"))["versions"]
    lines = result.output.splitlines()
    assert lines[0] == "# ecei-labels: 2.0.0 → 3.0.0"
    assert f"| old | 2.0.0, effective 2019-11-15, sha256 <code>{lock['2.0.0']['sha256'][:16]}</code> |" in lines
    assert f"| new | 3.0.0, effective 2020-07-01, sha256 <code>{lock['3.0.0']['sha256'][:16]}</code> |" in lines
    assert "| declared bump | **major** |" in lines
    assert any(line.startswith("| input schema | **breaking**<br>") for line in lines)
    assert "## Criteria" in lines
    assert "## Scores" in lines  # section 5: the strategy weights change
    sections = _markdown_sections(result.output)
    criteria = {row[0]: row[1:] for row in sections["Criteria"]}
    for cid, gold in [("1.2", "gold_1_2"), ("2.2.4", "gold_2_2_4"), ("5.1", "gold_5_1")]:
        old, new, decides = criteria[f"**removed** <code>{cid}</code>"]
        assert f"<code>indicators['{cid}'] &gt;= params.<wbr>{gold}</code>" in old
        assert (new, decides) == ("", "**yes**")
    for cid, condition in [("4.7", "indicators['4.7'] &gt;= params.<wbr>gold_4_7"), ("4.8", "indicators['4.8']"),
                           ("4.9", "indicators['4.9'] &gt;= params.<wbr>gold_4_9")]:
        old, new, decides = criteria[f"**added** <code>{cid}</code>"]
        assert (old, decides) == ("", "**yes**")
        assert f"<code>{condition}</code>" in new
    assert len(criteria) == 6
    weights = [row for row in sections["Scores"] if " weight of " in row[0]]
    assert weights == [
        ["**changed** <code>gold_<wbr>score</code> weight of 3 criteria<br><small>1.2, 2.2.4, 5.1</small>",
         "1", "—", "**yes**"],
        ["**changed** <code>gold_<wbr>score</code> weight of 12 criteria<br><small>4.1.1, 4.1.2, 4.1.3, 4.1.4, "
         "4.1.5, 4.1.6, 4.2, 4.3, 4.4, 4.5, 4.6.1, 4.6.2</small>", "1", "2", "**yes**"],
        ["**changed** <code>gold_<wbr>score</code> weight of 3 criteria<br><small>4.7, 4.8, 4.9</small>",
         "—", "2", "**yes**"],
    ]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_diff_markdown_and_the_site_changes_page_have_the_same_section_tables(runner: CliRunner, old: str,
                                                                              new: str) -> None:
    """For each consecutive shipped pair, ``diff --format markdown`` and the site's changes page carry the same
    sections, in the same order, with the same rows, cell for cell: one renderer, two wrappings."""
    result = run(runner, "diff", f"{M}@{old}", f"{M}@{new}", "--rulesets", str(SHIPPED), "--format", "markdown")
    assert result.exit_code == 0, result.output
    registry = Registry(SHIPPED)
    page = changes_page(semantic_diff(registry.get(M, old), registry.get(M, new)))
    cli_tables, site_tables = _markdown_sections(result.output), _markdown_sections(page)
    assert list(cli_tables) == list(site_tables)
    assert "Metadata" in cli_tables  # every shipped version changes its description and effective date
    for section, rows in cli_tables.items():
        assert rows, section
        assert rows == site_tables[section], section


def _summary(text: str) -> list[str]:
    """The rows of the table before the first section (the header row ``|  |  |`` left out)."""
    head = text.split("\n## ", 1)[0].splitlines()
    return [line for line in head if line.startswith("| ") and line != "|  |  |"]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_diff_markdown_has_the_site_pages_summary_and_description_without_its_links(runner: CliRunner, old: str,
                                                                                  new: str) -> None:
    """The header of ``diff --format markdown`` is the changes page's summary (versions, effective dates, short
    sha256, declared bump, schema effect, counts by section), the version names plain instead of links to the
    site's version pages, and the new version's description that the page shows in a note."""
    result = run(runner, "diff", f"{M}@{old}", f"{M}@{new}", "--rulesets", str(SHIPPED), "--format", "markdown")
    assert result.exit_code == 0, result.output
    registry = Registry(SHIPPED)
    page = changes_page(semantic_diff(registry.get(M, old), registry.get(M, new)))
    unlinked = [re.sub(r"\[([0-9.]+)\]\(\.\./[0-9.]+\.md\)", r"\1", row) for row in _summary(page)]
    assert unlinked != _summary(page)  # the page links both versions
    assert _summary(result.output) == unlinked
    assert len(unlinked) == 5
    note = page.split(f'!!! note "What {new} says about itself"\n\n    ', 1)[1].split("\n", 1)[0]
    assert f"> **What {new} says about itself:** {note}" in result.output.splitlines()


def test_diff_text_says_the_schema_breaks(runner: CliRunner) -> None:
    """diff as text of 2.0.0 -> 3.0.0 says the input schema is breaking and shows the criteria section."""
    result = run(runner, "diff", f"{M}@2.0.0", f"{M}@3.0.0", "--rulesets", str(SHIPPED))
    assert result.exit_code == 0, result.output
    assert "input schema: breaking" in result.output
    assert "criteria" in result.output
    assert "4.9" in result.output


def test_diff_of_files_equals_diff_of_references(runner: CliRunner, tmp_path: Path) -> None:
    """OLD and NEW may be files: diffing copied files gives the same changes as the registry references."""
    root = copy_rulesets(tmp_path)
    files = run(runner, "diff", str(version_file(root, "2.0.0")), str(version_file(root, "3.0.0")), "--format", "json")
    refs = run(runner, "diff", f"{M}@2.0.0", f"{M}@3.0.0", "--rulesets", str(SHIPPED), "--format", "json")
    assert files.exit_code == refs.exit_code == 0
    assert json.loads(files.output)["changes"] == json.loads(refs.output)["changes"]


def test_diff_accepts_ranges(runner: CliRunner) -> None:
    """diff ecei-labels@^2 ecei-labels@^3 compares 2.0.0 with 3.0.1 (the highest of each range)."""
    result = run(runner, "diff", f"{M}@^2", f"{M}@^3", "--rulesets", str(SHIPPED), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["old"]["version"], data["new"]["version"]) == ("2.0.0", "3.0.1")


def test_diff_of_an_unknown_version_is_a_usage_error(runner: CliRunner) -> None:
    """diff with a version that does not exist exits 2 and lists the versions that do."""
    result = run(runner, "diff", f"{M}@2.0.0", f"{M}@4.0.0", "--rulesets", str(SHIPPED))
    assert result.exit_code == 2
    assert "3.0.1" in result.output


# -- bump-check ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold_edit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rulesets copy with the issue's 3.0.2 (Gold threshold of 1.1.0 raised to 0.80, declared patch)."""
    root = copy_rulesets(tmp_path_factory.mktemp("cli_gold_edit"))
    write_version(root, "3.0.2", GOLD_EDIT_3_0_2)
    return root


def _json_block(text: str, after: str) -> dict:
    """The pretty-printed JSON object that follows the line ``after``."""
    lines = text.splitlines()
    start = lines.index(after) + 1
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    return json.loads("\n".join(lines[start:end + 1]))


def test_bump_check_text_prints_counterexample_and_both_decisions(runner: CliRunner, gold_edit_root: Path) -> None:
    """bump-check of two files 3.0.1 -> 3.0.2 exits 1, says patch < major, prints the assessment and both decisions."""
    old_file, new_file = version_file(gold_edit_root, "3.0.1"), version_file(gold_edit_root, "3.0.2")
    result = run(runner, "bump-check", str(old_file), str(new_file), "--examples", str(EXAMPLES))
    assert result.exit_code == 1, result.output
    assert "declared patch, required major" in result.output
    assert "TOO SMALL" in result.output
    assessment = _json_block(result.output, "counterexample assessment:")
    registry = Registry(gold_edit_root)
    old, new = decide_both(registry.get(M, "3.0.1"), registry.get(M, "3.0.2"), assessment)
    assert decisions_differ(old, new)
    assert new is not None
    for version, decision in (("3.0.1", old), ("3.0.2", new)):  # each decision with its validity, or none
        validity = (f", valid {decision.valid_from} to {decision.valid_until}" if decision.label != "none"
                    else " (no validity)")
        assert f"  {version}: label {decision.label}{validity}" in result.output.splitlines()


def _leaves(value: object) -> int:
    """How many scalar values a JSON document holds."""
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


def test_bump_check_shrink_sets_the_budget_for_making_a_counterexample_smaller(runner: CliRunner,
                                                                               gold_edit_root: Path) -> None:
    """--shrink N bounds the decisions spent making a counterexample smaller: with 0 it is shown as found,
    with the default it holds fewer values; both still decide differently. A negative budget is a usage
    error."""
    base = ["bump-check", f"{M}@3.0.1", f"{M}@3.0.2", "--rulesets", str(gold_edit_root), "--examples",
            str(EXAMPLES), "--format", "json"]
    found, shrunk = (json.loads(run(runner, *base, *more).output)["counterexample"]["assessment"]
                     for more in (["--shrink", "0"], []))
    registry = Registry(gold_edit_root)
    for example in (found, shrunk):
        assert decisions_differ(*decide_both(registry.get(M, "3.0.1"), registry.get(M, "3.0.2"), example))
    assert _leaves(shrunk) < _leaves(found)
    assert run(runner, *base, "--shrink", "-1").exit_code == 2


def test_bump_check_json_counterexample_re_evaluates(runner: CliRunner, gold_edit_root: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """bump-check --format json gives required major, ok false and a counterexample that really differs."""
    import ecei_rules.testing.counterexample as bump_module

    monkeypatch.setattr(bump_module, "bump_check", cached_bump_check)
    result = run(runner, "bump-check", f"{M}@3.0.1", f"{M}@3.0.2", "--rulesets", str(gold_edit_root),
                 "--examples", str(EXAMPLES), "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert (data["declared"], data["required"], data["ok"]) == ("patch", "major", False)
    example = data["counterexample"]
    registry = Registry(gold_edit_root)
    old, new = decide_both(registry.get(M, "3.0.1"), registry.get(M, "3.0.2"), example["assessment"])
    assert new is not None
    assert (old.label, new.label) == (example["old"]["label"], example["new"]["label"])
    assert decisions_differ(old, new)
    assert 0.75 <= example["assessment"]["indicators"]["1.1.0"] < 0.80


def test_bump_check_of_the_shipped_patch_passes(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                shipped_bumps: dict) -> None:
    """bump-check 3.0.0 -> 3.0.1 exits 0: declared patch, required patch (spec section 1: no decision changes)."""
    import ecei_rules.testing.counterexample as bump_module

    monkeypatch.setattr(bump_module, "bump_check", cached_bump_check)
    result = run(runner, "bump-check", f"{M}@3.0.0", f"{M}@3.0.1", "--rulesets", str(SHIPPED),
                 "--examples", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert "declared patch, required patch" in result.output
    assert "OK" in result.output


# -- lint ----------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("memo_bumps")
def test_lint_command_on_the_shipped_rulesets(runner: CliRunner, shipped_bumps: dict) -> None:
    """lint exits 0 on the shipped rulesets, prints each pair's bump and the one notice warning."""
    result = run(runner, "lint", "--rulesets", str(SHIPPED), "--examples", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    for old, new, bump in [("1.0.0", "1.1.0", "minor"), ("1.1.0", "1.2.0", "minor"), ("1.2.0", "2.0.0", "major"),
                           ("2.0.0", "3.0.0", "major"), ("3.0.0", "3.0.1", "patch")]:
        assert f"bump {old} -> {new}: declared {bump}, required {bump} ok" in result.output
    assert "L006" in result.output
    assert "0 error(s), 1 warning(s)" in result.output


@pytest.mark.usefixtures("memo_bumps")
def test_lint_command_json(runner: CliRunner, shipped_bumps: dict) -> None:
    """lint --format json: no errors, one L006 warning, five bump reports."""
    result = run(runner, "lint", "--rulesets", str(SHIPPED), "--examples", str(EXAMPLES), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["errors"] == 0
    assert [d["code"] for d in data["diagnostics"]] == ["L006"]
    assert [b["required"] for b in data["bumps"]] == ["minor", "minor", "major", "major", "patch"]


@pytest.mark.usefixtures("memo_bumps")
def test_lint_notice_days_option(runner: CliRunner, tmp_path: Path) -> None:
    """--notice-days: a 3.0.2 announced 31 days ahead is fine at 31 and warned about at 32 (still exit 0)."""
    root = copy_rulesets(tmp_path)
    write_version(root, "3.0.2", metadata_only("3.0.2", extra="announced_on: 2021-12-01\n"))
    for days, expected in [(31, {"2.0.0.yaml"}), (32, {"2.0.0.yaml", "3.0.2.yaml"})]:
        result = run(runner, "lint", "--rulesets", str(root), "--examples", str(EXAMPLES), "--notice-days", str(days),
                     "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert {Path(d["file"]).name for d in data["diagnostics"] if d["code"] == "L006"} == expected
        assert data["errors"] == 0


@pytest.mark.usefixtures("memo_bumps")
def test_lock_then_edit_then_lint(runner: CliRunner, tmp_path: Path) -> None:
    """lock records a new 3.0.2; after an in-place edit of 3.0.1, lock changes nothing and lint exits 1 with L009."""
    root = copy_rulesets(tmp_path)
    lock_file = root / M / "published.lock.json"
    write_version(root, "3.0.2", metadata_only("3.0.2"))
    result = run(runner, "lock", "--rulesets", str(root))
    assert result.exit_code == 0, result.output
    assert "locked 3.0.2" in result.output
    after_first = lock_file.read_bytes()
    assert "3.0.2" in json.loads(after_first)["versions"]

    path = version_file(root, "3.0.1")
    path.write_text(path.read_text(encoding="utf-8") + GOLD_EDIT_IN_PLACE, encoding="utf-8")
    result = run(runner, "lock", "--rulesets", str(root), "--methodology", M)
    assert result.exit_code == 0, result.output
    assert "nothing new" in result.output
    assert lock_file.read_bytes() == after_first

    result = run(runner, "lint", "--rulesets", str(root), "--examples", str(EXAMPLES), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    l009 = {Path(d["file"]).name for d in data["diagnostics"] if d["code"] == "L009"}
    # 3.0.2 extends 3.0.1 and inherits the edited threshold: its resolved, locked content changed as well
    assert l009 == {"3.0.1.yaml", "3.0.2.yaml"}
