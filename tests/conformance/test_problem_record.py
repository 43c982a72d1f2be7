"""One problem record (issue 21): every kind of problem the library reports is an
``errors.Problem`` (a stable code, a message, details and where it is), each kind keeps the JSON
layout auditors and platforms read, and the command line prints every kind through one function."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import io
import json
from pathlib import Path

from rich.console import Console

from ecei_rules import errors
from ecei_rules.cli.common import print_problems
from ecei_rules.errors import FINDINGS, Diagnostic, Finding, ItemProblem, Problem, Violation

SRC = Path(__file__).parents[2] / "src" / "ecei_rules"

#: Classes with a ``message`` that are not problems the library reports, and why.
NOT_PROBLEMS = {
    "ecei_rules.ruleset.model.Check": "a ruleset's consistency rule; its message is what its A005 diagnostic says",
    "ecei_rules.backends.sql_impact._StoredProblem": "the JSON of an ItemProblem (its MEMBERS) as a prepared "
    "directory stores it, the type prepared.json is checked against; read back as an ItemProblem",
}
#: Words a problem record's name is made of.
PROBLEM_WORDS = ("Problem", "Finding", "Violation", "Diagnostic", "Issue", "Defect", "Failure", "Fault", "Error")


def _declared(node: ast.ClassDef) -> set[str]:
    """The names a class body declares (annotated fields and assignments)."""
    names = {t.target.id for t in node.body if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
    return names | {t.id for a in node.body if isinstance(a, ast.Assign) for t in a.targets if isinstance(t, ast.Name)}


def _records() -> list[tuple[str, type]]:
    """Every class of the package that looks like a problem record: a class declaring a ``message``,
    or named like a problem (``...Finding``, ``...Error``, ...) that is not an exception."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            if "message" not in _declared(node) and not node.name.rstrip("_").endswith(PROBLEM_WORDS):
                continue
            try:
                cls = getattr(importlib.import_module(module), node.name, None)
            except ImportError:  # an optional dependency (durable-rules) is not installed
                continue
            if isinstance(cls, type) and not issubclass(cls, BaseException):
                found.append((f"{module}.{node.name}", cls))
    return found


def test_every_problem_kind_the_library_defines_is_the_one_problem_record() -> None:
    """Every class of the package that holds a problem's message, or is named like a problem and is
    not an exception, is ``errors.Problem`` or one of its kinds, and every kind is drawn in
    errors.py's docstring beside the exception tree (no seventh shape of problem record)."""
    records = _records()
    names = {name for name, _ in records}
    assert {"ecei_rules.errors.Diagnostic", "ecei_rules.errors.Finding", "ecei_rules.errors.ItemProblem",
            "ecei_rules.errors.Violation"} <= names
    for name, cls in records:
        if name in NOT_PROBLEMS:
            continue
        assert issubclass(cls, Problem), f"{name} reports a problem but is not an errors.Problem"
        assert dataclasses.is_dataclass(cls), f"{name} is not a dataclass"
        assert cls.__dataclass_params__.frozen, f"{name} is not frozen"  # type: ignore[attr-defined]
        drawn = f"── {cls.__name__} " if cls is not Problem else "\n    Problem "  # a kind, or the root
        assert drawn in (errors.__doc__ or ""), f"{name} is not drawn in errors.py"
    kinds = {name for name, cls in records if issubclass(cls, Problem) and cls is not Problem}
    # (by name: a slotted dataclass leaves the class it replaced among the subclasses)
    assert kinds == {f"{cls.__module__}.{cls.__name__}" for cls in Problem.__subclasses__()}


def test_each_kind_keeps_its_json_layout() -> None:
    """The JSON of each kind is the layout its documented outputs have always had (the members, in
    order): a log finding ``seq, kind, message, details``; an impact study's assessment in error
    ``line, version, code, message, pointer`` (``version`` and ``pointer`` null when unreadable);
    a counterexample ``property, ruleset, assessment, message``; a diagnostic its nine members."""
    finding = Finding("altered", "record 7: replay gives a different decision", seq=7, details={"label": [1, 2]})
    assert json.dumps(finding.to_json()) == ('{"seq": 7, "kind": "altered", "message": "record 7: replay gives a '
                                             'different decision", "details": {"label": [1, 2]}}')
    assert Finding("missing", "record 3 is missing", seq=3).to_json()["details"] == {}
    rejected = ItemProblem("A003", "expected a number", index=4, version="3.0.1", pointer="/staff/fte")
    assert json.dumps(rejected.to_json()) == ('{"line": 4, "version": "3.0.1", "code": "A003", "message": '
                                              '"expected a number", "pointer": "/staff/fte"}')
    unreadable = ItemProblem("A006", "not JSON", index=2)
    assert json.dumps(unreadable.to_json()) == ('{"line": 2, "version": null, "code": "A006", "message": '
                                                '"not JSON", "pointer": null}')
    violation = Violation("determinism", "differs", ruleset="m@1.0.0", assessment={"k": 1})
    assert json.dumps(violation.to_json()) == ('{"property": "determinism", "ruleset": "m@1.0.0", "assessment": '
                                               '{"k": 1}, "message": "differs"}')
    assert list(Diagnostic("E101", "unknown key").to_json()) == [
        "code", "severity", "message", "file", "line", "column", "pointer", "suggestion", "docs"]


def test_each_kind_says_where_it_is_and_prints_as_one_line() -> None:
    """``where()`` renders each kind's place (a ruleset's file:line:column, an assessment's JSON path,
    a log's record or line, a population's line and version, a counterexample's ruleset); ``str()``
    is the one line ``WHERE: CODE message in POINTER (suggestion)``, without repeating a place the
    message already begins with."""
    ruleset = Diagnostic("E104", "unknown input 'scroe'", "r.yaml", 18, 11, "/criteria/c/when", "did you mean 'score'?")
    assert ruleset.where() == "r.yaml:18:11"
    assert str(ruleset) == "r.yaml:18:11: E104 unknown input 'scroe' in /criteria/c/when (did you mean 'score'?)"
    assessment = Diagnostic("A002", "unknown field", pointer="/staff/ftee", suggestion="did you mean 'fte'?")
    assert (assessment.where(), str(assessment)) == ("$.staff.ftee", "$.staff.ftee: A002 unknown field (did you "
                                                     "mean 'fte'?)")
    assert [Finding("x", "m", seq=seq).where() for seq in (7, -3, 0)] == ["record 7", "line 3", ""]
    assert str(Finding("missing", "record 7 is missing", seq=7)) == "missing record 7 is missing"
    assert str(Finding("unsigned", "no checkpoint", seq=1)) == "record 1: unsigned no checkpoint"
    assert str(ItemProblem("A003", "expected a number", index=4, version="3.0.1", pointer="/staff/fte")) == \
        "line 4 under 3.0.1: A003 expected a number in /staff/fte"
    assert str(ItemProblem("A006", "not JSON", index=2)) == "line 2: A006 not JSON"
    assert str(Violation("determinism", "differs", ruleset="m@1.0.0", assessment={})) == "m@1.0.0: determinism differs"


def test_the_command_line_prints_every_kind_through_one_function() -> None:
    """``cli.common.print_problems`` prints each kind as its ``str()`` line (with a prefix), then up
    to six details, one per indented line, each cut at the length asked for; the command modules
    print problems through it and nowhere else."""
    shown = io.StringIO()
    out = Console(file=shown, width=60, color_system=None)
    problems: list[Problem] = [
        Diagnostic("E104", "unknown input", "r.yaml", 3, 4, "/c"),
        Finding("chain_break", "record 9 does not follow record 8", seq=9,
                details={f"k{i}": "x" * 50 for i in range(8)}),
        ItemProblem("A003", "expected a number", index=4, version="3.0.1", pointer="/staff/fte"),
        Violation("determinism", "a fresh interpreter decides this input differently, a message longer than the "
                  "console is wide", ruleset="m@1.0.0", assessment={}),
    ]
    print_problems(problems, out, prefix="> ", cut=20)
    lines = shown.getvalue().splitlines()
    assert lines[0] == "> " + str(problems[0])
    assert lines[1] == "> " + str(problems[1])
    assert lines[2:8] == [f'    k{i}: "{"x" * 19}' for i in range(6)]  # six details, each cut at 20 characters
    assert lines[8:] == ["> " + str(problems[2]), "> " + str(problems[3])]  # one line each, however long
    cli = SRC / "cli"
    for path in sorted(cli.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for banned in ("print_diagnostics", "print_assessment_error", ".kind}", "violation.message"):
            assert banned not in source, f"{path.name} formats problems itself ({banned})"


def test_every_log_finding_code_is_listed_with_its_summary() -> None:
    """Every code a log finding is given in the package is in ``errors.FINDINGS`` (its stable codes),
    and every code listed there is still given somewhere."""
    given: set[str] = set()
    literals: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Finding" and \
                    node.args and isinstance(node.args[0], ast.Constant):
                given.add(node.args[0].value)
    assert len(given) > 20
    assert given <= FINDINGS.keys(), f"finding codes not in errors.FINDINGS: {sorted(given - FINDINGS.keys())}"
    assert FINDINGS.keys() <= literals, f"listed but never given: {sorted(FINDINGS.keys() - literals)}"


def test_every_log_finding_code_has_its_anchor_on_the_errors_page() -> None:
    """The errors page of the docs site (as the docs hook builds it) lists every finding code with its
    summary under its own anchor (``#finding-chain_break``), after the diagnostic codes."""
    from ecei_rules.errors import CODES
    from ecei_rules.render.docs import errors_page, text

    page = errors_page(CODES, FINDINGS)
    assert page.index("{#e001}") < page.index("## Decision log findings")
    for code, summary in FINDINGS.items():
        assert f"### `{code}` {{#finding-{code}}}\n\n{text(summary[0].upper() + summary[1:])}." in page
    hook = (SRC.parents[1] / "docs" / "hooks.py").read_text(encoding="utf-8")
    assert "errors_page(CODES, FINDINGS)" in hook
