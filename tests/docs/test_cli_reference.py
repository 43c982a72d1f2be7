"""The command-line reference of the docs site (built by docs/hooks.py) says what ``--help`` says: the same
usage line for every command (arguments by their metavar: ``evaluate ... ASSESSMENTS``, ``import ... EXPORT
LOG``), the same argument names, which options are required, and the SQL engine's codes in a section of their
own on the errors page."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import MODULES, app, commands
from ecei_rules.errors import CODES, FINDINGS

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    pytest.importorskip("mkdocs")
    spec = importlib.util.spec_from_file_location("ecei_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(hooks: ModuleType) -> str:
    text: str = hooks.cli_page(app)
    return text


def _names() -> list[str]:
    return [name for module in MODULES for name, _ in commands(module)]


def _help(name: str) -> str:
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _section(page: str, name: str) -> str:
    return page.split(f"\n## {name} {{#{name}}}\n", 1)[1].split("\n## ", 1)[0]


def test_every_command_s_usage_line_is_the_one_help_prints(page: str) -> None:
    names = _names()
    assert {"evaluate", "explain", "evaluate-durable", "import", "check-properties"} <= set(names)
    for name in names:
        usage = _help(name).splitlines()[0].removeprefix("Usage: ")
        assert f"```\n{usage}\n```" in _section(page, name), name


@pytest.mark.parametrize(("name", "arguments"), [
    ("evaluate", ["ASSESSMENTS"]), ("explain", ["ASSESSMENTS"]), ("evaluate-durable", ["ASSESSMENTS"]),
    ("import", ["EXPORT", "LOG"]), ("check-properties", ["DIR"]), ("test", ["PATHS..."]),
])
def test_arguments_are_named_by_their_metavar(page: str, name: str, arguments: list[str]) -> None:
    section = _section(page, name)
    shown = re.findall(r"^\| <code>([A-Z][A-Z_.]*)</code> \|", section, flags=re.MULTILINE)
    assert shown == arguments


def test_a_required_option_is_marked_required(page: str) -> None:
    """``receipt --record`` (help: ``[at least 1; required]``): required, its range kept in words."""
    row = next(line for line in _section(page, "receipt").splitlines() if line.startswith("| <code>--record"))
    assert row.endswith("| yes |  |"), row
    assert "(at least 1)" in row
    assert "required]" not in row


def test_the_sql_codes_have_their_own_section_with_sentences() -> None:
    """On this site and on every site `ecei-rules docs` writes (the same errors page)."""
    from ecei_rules.render.docs import errors_page

    errors = errors_page(CODES, FINDINGS)
    assert "## Other" not in errors
    sql = errors.split("## SQL engine\n", 1)[1].split("\n## ", 1)[0]
    for code in ("Q001", "Q002"):
        assert f"### {code} {{#{code.lower()}}}\n\nThe SQL engine" in sql
    assert errors.index("## SQL engine") < errors.index("## Decision log findings")
