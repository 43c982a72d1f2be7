"""A declared pattern nests groups at most ``MAX_GROUP_DEPTH`` deep (E103 at the pattern when it
loads). 330 nested groups (661 characters, within the other bounds) made ``check-properties``,
``bump-check`` and ``lint`` end in a RecursionError inside hypothesis' ``from_regex``; some 90 made
the property checks draw no assessment at all. At the bound every command that draws values works.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_harness import cli

from ecei_rules.core.patterns import MAX_GROUP_DEPTH, group_depth, pattern_problem
from ecei_rules.ruleset.load import check_ruleset

MINIMAL = (Path(__file__).resolve().parent.parent / "data" / "minimal.yaml").read_text(encoding="utf-8")


def nested(n: int, kind: str = "plain") -> str:
    if kind == "plain":
        return "(" * n + "a" + ")" * n
    if kind == "optional":
        return "(?:" * n + "a" + ")?" * n
    return "(b|" * n + "a" + ")" * n


def rulesets(tmp_path: Path, pattern: str) -> Path:
    """A rulesets folder: the minimal ruleset with a string input ``code`` of this pattern, as 1.0.0 and 2.0.0."""
    text = MINIMAL.replace("  score: {type: decimal}\n",
                           f"  score: {{type: decimal}}\n  code: {{type: string, pattern: {json.dumps(pattern)}}}\n")
    folder = tmp_path / "rulesets" / "minimal"
    folder.mkdir(parents=True)
    for version in ("1.0.0", "2.0.0"):
        (folder / f"{version}.yaml").write_text(text.replace("version: 1.0.0", f"version: {version}"),
                                                encoding="utf-8")
    return tmp_path / "rulesets"


@pytest.mark.parametrize("n", [MAX_GROUP_DEPTH + 1, 330])
def test_groups_nested_deeper_than_the_bound_are_refused_at_the_pattern(tmp_path: Path, n: int) -> None:
    path = rulesets(tmp_path, nested(n)) / "minimal" / "1.0.0.yaml"
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "code:" in text)
    [d] = [d for d in check_ruleset(path) if d.severity == "error"]
    assert (d.code, d.line, d.pointer) == ("E103", line, "/inputs/code/pattern")
    assert d.column is not None
    assert f"more than {MAX_GROUP_DEPTH} deep" in d.message


def test_the_depth_counts_groups_only() -> None:
    assert group_depth("a(b(c)d)(e)") == 2
    assert group_depth("(?:(?P<x>a)|(?i:b))") == 2
    assert group_depth("\\(" * 200) == 0  # escaped
    assert group_depth("[(]" * 200 + "[]((]" + "[^](]" + "[[:alpha:](]") == 0  # in a character class
    assert group_depth("\\Q" + "(" * 200 + "\\E(a)") == 1  # quoted
    assert pattern_problem("[(]" * 200) is None
    assert pattern_problem(nested(MAX_GROUP_DEPTH)) is None
    assert pattern_problem(nested(MAX_GROUP_DEPTH + 1, "optional")) == f"the pattern nests groups more than " \
        f"{MAX_GROUP_DEPTH} deep"


@pytest.mark.parametrize("kind", ["plain", "optional", "alternatives"])
def test_every_command_that_draws_values_works_at_the_bound(tmp_path: Path, kind: str) -> None:
    r = str(rulesets(tmp_path, nested(MAX_GROUP_DEPTH, kind)))
    commands = [["validate", r], ["check-properties", r, "--examples", "5"],
                ["bump-check", "1.0.0", "2.0.0", "--rulesets", r], ["lint", "--rulesets", r]]
    for args in commands:
        ran = cli(args)
        assert "internal error" not in ran.both, (args, ran.both[-500:])
        assert "Recursion" not in ran.both, (args, ran.both[-500:])
        assert ran.code in (0, 1), (args, ran.both[-500:])
        if args[0] == "check-properties":  # values were drawn: not one check left with no example
            assert ran.code == 0, ran.both[-800:]
            assert "0 of 0 examples" not in ran.both, ran.both[-800:]
