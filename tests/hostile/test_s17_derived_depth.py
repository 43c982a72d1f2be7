"""Derived values that read each other are bounded at load, so that nothing that walks them ends in
a RecursionError: a chain holds at most ``MAX_DERIVED_CHAIN`` derived values (the SQL engine nests a
subquery per value), and a derived value written out with those it reads in their places nests at
most ``MAX_DERIVED_NESTING`` levels (what an unknown value needs is read through them). Both are
refused with a located E108 at the derived value that crosses the bound; within them every command
works. What an unknown value needs (engine/needed.py) no longer recurses per derived value at all,
and ordering them (dependency_order) never recurses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_harness import cli

from ecei_rules.core.logic import UNKNOWN
from ecei_rules.engine.needed import Needs, Part
from ecei_rules.ruleset.check import MAX_DERIVED_CHAIN, MAX_DERIVED_NESTING, dependency_order
from ecei_rules.ruleset.load import check_ruleset

ROOT = Path(__file__).resolve().parent.parent.parent
MINIMAL = (ROOT / "tests" / "data" / "minimal.yaml").read_text(encoding="utf-8")


def chain(n: int, *, nots: int = 0, first: int = 0, reverse: bool = False) -> str:
    """minimal.yaml with ``n`` boolean derived values, ``d<i>`` reading ``d<i-1>`` (each inside ``nots``
    levels of ``not (...)``; ``d0`` inside ``first``), the criterion reading the last."""
    lines = ["  d0: {title: d0, type: boolean, value: '" + "not (" * first + "score > 3" + ")" * first + "'}\n"]
    for i in range(1, n):
        lines.append(f"  d{i}: {{title: d{i}, type: boolean, value: '" + "not (" * nots
                     + f"d{i - 1} or score > {i}" + ")" * nots + "'}\n")
    if reverse:
        lines.reverse()
    return (MINIMAL.replace("  score: {type: decimal}", "  score: {type: decimal, minimum: 0, maximum: 100}")
            .replace("criteria:", "derived:\n" + "".join(lines) + "criteria:")
            .replace("when: score >= params.min_score", f"when: d{n - 1} or score >= params.min_score"))


def registry(tmp_path: Path, text: str) -> Path:
    """A rulesets folder with the version as 1.0.0 and, the same, as 2.0.0."""
    folder = tmp_path / "rulesets" / "minimal"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(text, encoding="utf-8")
    (folder / "2.0.0.yaml").write_text(text.replace("version: 1.0.0", "version: 2.0.0")
                                       .replace("effective_from: 2020", "effective_from: 2021"), encoding="utf-8")
    return tmp_path / "rulesets"


def errors(path: Path) -> list[tuple[str, int | None, int | None, str, str]]:
    return [(d.code, d.line, d.column, d.pointer, d.message) for d in check_ruleset(path) if d.severity == "error"]


def line_of(text: str, name: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(f"  {name}: "))


@pytest.mark.parametrize("reverse", [False, True], ids=["declared in order", "declared last first"])
def test_a_chain_one_longer_than_the_bound_is_refused_where_it_crosses_it(tmp_path: Path, reverse: bool) -> None:
    text = chain(MAX_DERIVED_CHAIN + 1, reverse=reverse)
    path = registry(tmp_path, text) / "minimal" / "1.0.0.yaml"
    [(code, line, column, pointer, message)] = errors(path)
    last = f"d{MAX_DERIVED_CHAIN}"
    assert (code, line, pointer) == ("E108", line_of(text, last), f"/derived/{last}/value")
    assert line is not None
    assert column == text.splitlines()[line - 1].index("value: '") + len("value: ") + 1  # at its quote
    assert f"a chain of {MAX_DERIVED_CHAIN + 1} derived values" in message
    assert "d0 -> d1" in message


def test_a_very_long_chain_is_one_problem_and_no_recursion(tmp_path: Path) -> None:
    """2,000 derived values declared last first: ordering them recursed once per value (a RecursionError
    while loading); now one E108, at the value that crosses the bound."""
    path = registry(tmp_path, chain(2000, reverse=True)) / "minimal" / "1.0.0.yaml"
    assert [(code, pointer) for code, _, _, pointer, _ in errors(path)] == [
        ("E108", f"/derived/d{MAX_DERIVED_CHAIN}/value")]


def test_nesting_beyond_the_bound_through_derived_values_is_refused(tmp_path: Path) -> None:
    """Each value nests 31 levels: d7, written out, nests more than 200 (the first that does is
    refused; those that read it follow from it, not reported again)."""
    text = chain(12, nots=30)
    path = registry(tmp_path, text) / "minimal" / "1.0.0.yaml"
    [(code, line, _, pointer, message)] = errors(path)
    assert (code, line, pointer) == ("E108", line_of(text, "d7"), "/derived/d7/value")
    assert f"at most {MAX_DERIVED_NESTING}" in message


def test_dependency_order_of_a_long_chain_does_not_recurse() -> None:
    uses = {f"d{i}": [f"d{i - 1}"] if i else [] for i in range(5000)}
    assert dependency_order(dict(reversed(uses.items())), lambda cycle: None) == list(uses)
    found: list[tuple[str, ...]] = []
    assert dependency_order({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"]}, found.append) == ["c", "b", "a", "d"]
    assert found == [("a", "b", "c", "a"), ("d", "d")]


def test_what_an_unknown_value_needs_does_not_recurse_per_derived_value() -> None:
    """3,000 derived values each reading the one before, none with a value: each needs its own absent
    input and all those of the ones it reads (this recursed through needed.py, 4 frames a value)."""
    n = 3000
    parts = {f"d{i}": Part("leaf", lambda env: UNKNOWN, (f"/x{i}",), (f"d{i - 1}",) if i else ()) for i in range(n)}
    needs = Needs({}, parts.get, lambda name: ())
    assert needs.value(f"d{n - 1}") == frozenset(f"/x{i}" for i in range(n))
    assert needs.of(Part("leaf", lambda env: UNKNOWN, ("/y",), ("d10",))) == {"/y", *(f"/x{i}" for i in range(11))}


CASES = {
    "a chain as long as the bound": chain(MAX_DERIVED_CHAIN),
    "as long, the first nesting deep": chain(MAX_DERIVED_CHAIN, first=36),
    "as long, nesting near the bound": chain(MAX_DERIVED_CHAIN, nots=4),
    "short, nesting near the bound": chain(5, nots=35),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_every_command_works_within_the_bounds(tmp_path: Path, text: str) -> None:
    rulesets = registry(tmp_path, text)
    assert errors(rulesets / "minimal" / "1.0.0.yaml") == []
    population = tmp_path / "population.jsonl"
    population.write_text(json.dumps({"assessed_on": "2021-01-01", "score": 3}) + "\n"
                          + json.dumps({"assessed_on": "2021-01-01"}) + "\n", encoding="utf-8")
    r, p = str(rulesets), str(population)
    commands: list[list[str]] = [
        ["validate", r], ["test", r], ["lint", "--rulesets", r],
        ["evaluate", p, "--rulesets", r, "-m", "minimal"],
        ["explain", p, "--rulesets", r, "-m", "minimal"],
        ["evaluate-durable", p, "--rulesets", r, "-m", "minimal"],
        ["check-properties", r, "--examples", "3"],
        ["bump-check", "1.0.0", "2.0.0", "--rulesets", r],
        ["diff", "1.0.0", "2.0.0", "--rulesets", r],
        ["impact", p, "--from", "1.0.0", "--to", "2.0.0", "--rulesets", r, "-m", "minimal", "-j", "1"],
    ]
    try:
        import duckdb  # noqa: F401
    except ImportError:
        pass
    else:
        commands.append(["evaluate", p, "--rulesets", r, "-m", "minimal", "--engine", "sql"])
    for args in commands:
        ran = cli(args)
        assert "internal error" not in ran.both, (args, ran.both[-500:])
        assert "Recursion" not in ran.both, (args, ran.both[-500:])
        assert ran.code in (0, 1), (args, ran.both[-500:])
    decided: list[dict[str, Any]] = [json.loads(line) for line in cli(
        ["evaluate", p, "--rulesets", r, "-m", "minimal", "-f", "json", "--fields", "label"]).stdout.splitlines()]
    assert [d["label"] for d in decided] == ["basic", "none"]
