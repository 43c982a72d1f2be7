"""The command-line bullets of issue 21 ("One house"), one test each, named after the bullet, run
through the top-level handler as a user runs the program; and the shape of the thin CLI package
(one route to each feature, an app assembled explicitly)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import ecei_rules
from ecei_rules.cli.app import app, run

ROOT = Path(ecei_rules.__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLD = EXAMPLES / "gold-2021.json"


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def cli(args: Sequence[str | Path], *, input: str | None = None) -> Ran:
    """The command line on ``args``, through :func:`run` (the top-level handler), colour off."""
    runner = CliRunner()
    with runner.isolation(input=input, env={"NO_COLOR": "1"}) as (out, err, _):
        code = run([str(a) for a in args])
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    return Ran(code, stdout.decode("utf-8"), stderr.decode("utf-8"))


def _usage_error(ran: Ran) -> None:
    assert ran.code == 2, ran
    assert ran.stderr.startswith("error: "), ran
    assert "Traceback" not in ran.stdout + ran.stderr


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "decisions.db"
    assert cli(["record", GOLD, "--log", path, "--at", "2026-01-01T00:00:00+00:00"]).code == 0
    return path


# --- `--version ecei-labels@3.0.0` gave "'ecei-labels@ecei-labels@3.0.0' is not a ruleset reference" ----------

@pytest.mark.parametrize("written", ["3.0.0", "ecei-labels@3.0.0"])
def test_version_ecei_labels_at_3_0_0_is_accepted_as_well_as_3_0_0_by_every_command(written: str, log: Path,
                                                                                     tmp_path: Path) -> None:
    """One reference syntax: every command that takes a version takes both ``3.0.0`` and
    ``ecei-labels@3.0.0``, and means the same version by them."""
    decided = cli(["evaluate", GOLD, "--version", written, "--format", "json"])
    assert decided.code == 0, decided
    assert json.loads(decided.stdout)["version"] == "3.0.0"
    explained = cli(["explain", GOLD, "--version", written, "--format", "json"])
    assert explained.code == 0, explained
    assert json.loads(explained.stdout)["version"] == "3.0.0"
    schema = cli(["schema", "--assessment", "--version", written])
    assert json.loads(schema.stdout)["title"] == "ecei-labels 3.0.0 assessment"
    recorded = cli(["record", GOLD, "--log", tmp_path / "pinned.db", "--version", written])
    assert recorded.code == 0, recorded
    assert cli(["replay", log, "--under", written]).code == 0
    diffed = cli(["diff", "2.0.0", written, "--format", "json"])
    assert diffed.code == 0, diffed
    assert json.loads(diffed.stdout)["new"]["version"] == "3.0.0"
    assert cli(["synth", "--as-of", "2021-06-30", "--n", "2", "--version", written]).code == 0
    assert cli(["impact", EXAMPLES / "batch.jsonl", "--from", "2.0.0", "--to", written,
                "--format", "json", "--jobs", "1"]).code in (0, 1)
    for ran in (decided, explained, schema, recorded, diffed):
        assert "ecei-labels@ecei-labels" not in ran.stdout + ran.stderr


def test_a_version_naming_another_methodology_than_methodology_is_a_usage_error() -> None:
    """``-m other --version ecei-labels@3.0.0`` names two methodologies: exit 2, saying which."""
    ran = cli(["evaluate", GOLD, "-m", "other", "--version", "ecei-labels@3.0.0"])
    _usage_error(ran)
    assert "names the methodology ecei-labels, not other" in ran.stderr


# --- an unknown methodology exited 1 without "error:", an unknown version exits 2 ---------------------------

@pytest.mark.parametrize("args", [
    ["evaluate", GOLD], ["explain", GOLD], ["evaluate-durable", GOLD], ["versions"], ["schema", "--assessment"],
    ["record", GOLD, "--log", "{tmp}/log.db"], ["synth", "--as-of", "2021-06-30", "--n", "1"],
], ids=lambda a: a[0])
def test_an_unknown_methodology_exits_2_with_error_like_an_unknown_version(args: list[str | Path],
                                                                         tmp_path: Path) -> None:
    """Usage and resolution errors exit 2 with one line ``error: ...`` on stderr: an unknown methodology
    as an unknown version."""
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    unknown_methodology = cli([*args, "--methodology", "nope"])
    _usage_error(unknown_methodology)
    assert "no methodology 'nope'" in unknown_methodology.stderr
    if args[0] not in ("versions", "synth"):
        _usage_error(cli([*args, "--version", "9.9.9"]))
    assert not (tmp_path / "log.db").exists() or args[0] != "record"


# --- `evaluate -` was "no such file" (stdin as `-` everywhere a file is read) -------------------------------

def test_dash_reads_standard_input_in_every_command_that_reads_assessments(tmp_path: Path) -> None:
    """``-`` is standard input (JSON Lines) for evaluate, explain, evaluate-durable, record and impact, and
    decides what the same lines in a file decide."""
    batch = (EXAMPLES / "batch.jsonl").read_text(encoding="utf-8")
    from_file = cli(["evaluate", EXAMPLES / "batch.jsonl", "--format", "json", "--jobs", "1"])
    from_stdin = cli(["evaluate", "-", "--format", "json", "--jobs", "1"], input=batch)
    assert (from_stdin.code, from_stdin.stdout) == (from_file.code, from_file.stdout)
    one = json.dumps(json.loads(GOLD.read_text(encoding="utf-8"))) + "\n"
    explained = cli(["explain", "-", "--format", "json"], input=one)
    assert explained.code == 0, explained
    assert json.loads(explained.stdout)["label"] == "gold"
    durable = cli(["evaluate-durable", "-", "--format", "json"], input=one)
    assert durable.code == 0, durable
    assert json.loads(durable.stdout)["label"] == "gold"
    recorded = cli(["record", "-", "--log", tmp_path / "log.db"], input=one)
    assert recorded.code == 0, recorded
    assert "recorded 1 decision(s)" in recorded.stdout
    by_stdin = cli(["impact", "-", "--from", "2.0.0", "--to", "3.0.0", "--format", "json", "--jobs", "1"],
                   input=batch)
    by_file = cli(["impact", EXAMPLES / "batch.jsonl", "--from", "2.0.0", "--to", "3.0.0", "--format", "json",
                   "--jobs", "1"])
    assert by_stdin.code == by_file.code
    stdin_report, file_report = json.loads(by_stdin.stdout), json.loads(by_file.stdout)
    assert stdin_report["transitions"] == file_report["transitions"]
    for ran in (explained, durable, recorded, by_stdin):
        assert "no such file" not in ran.stdout + ran.stderr


def test_dash_reads_one_json_document_written_over_several_lines_as_a_file_holds_it(tmp_path: Path) -> None:
    """``cat gold-2021.json | ecei-rules evaluate -`` decides what the file decides: a first line that is an
    unfinished JSON value starts one document; a first line that is bad JSON stays one bad line of a batch,
    and the lines after it are still decided."""
    pretty = GOLD.read_text(encoding="utf-8")
    assert pretty.startswith("{\n")
    by_stdin = cli(["evaluate", "-", "--format", "json"], input=pretty)
    by_file = cli(["evaluate", GOLD, "--format", "json"])
    assert (by_stdin.code, by_stdin.stdout) == (by_file.code, by_file.stdout)
    recorded = cli(["record", "-", "--log", tmp_path / "log.db"], input=pretty)
    assert "recorded 1 decision(s)" in recorded.stdout, recorded
    one = json.dumps(json.loads(pretty))
    lines = cli(["evaluate", "-", "--format", "json"], input="\n{not json\n" + one + "\n").stdout.splitlines()
    assert json.loads(lines[0])["error"]["line"] == 2
    assert json.loads(lines[1])["label"] == "gold"


# --- help showed `<bool>`, `<list[Path]>` (plain-language metavars and option help) ------------------------

#: What a Python type or click's notation looks like in help text.
TYPE_NOTATION = re.compile(r"<(bool|str|int|path|list|float|text)|list\[|\{[A-Za-z]|\[x[<>]=?")


def _helps() -> dict[str, str]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    ctx = group.context_class(group, info_name="ecei-rules")
    helps = {"": group.get_help(ctx)}
    for name, command in group.commands.items():
        helps[name] = command.get_help(command.context_class(command, info_name=name, parent=ctx))
    return helps


def test_help_shows_no_bool_or_list_path_but_plain_words() -> None:
    """No command's help shows a Python type (``<bool>``, ``<list[Path]>``, ``<str>``) or click's notation
    (``{assessment}``, ``[x>=1]``); values are named in words (``FILE``, ``VERSION``, ``at least 1``) and
    text in brackets is not read as markup (``ecei-rules[durable]`` is shown)."""
    helps = _helps()
    shown = {name: TYPE_NOTATION.findall(text) for name, text in helps.items()}
    assert {name: found for name, found in shown.items() if found} == {}
    assert "-v, --version VERSION" in helps["evaluate"]
    assert "ASSESSMENTS" in helps["evaluate"]
    assert "at least 1" in helps["evaluate"]
    assert "ecei-rules[durable]" in " ".join(helps["evaluate-durable"].split())


# --- `evaluate examples` (a directory) was a traceback --------------------------------------------------

@pytest.mark.parametrize("args", [["evaluate"], ["explain"], ["evaluate-durable"], ["record", "--log", "{tmp}/l.db"],
                                  ["impact", "--from", "2.0.0", "--to", "3.0.0"]], ids=lambda a: a[0])
def test_evaluate_examples_a_directory_is_a_clear_usage_error(args: list[str], tmp_path: Path) -> None:
    """A directory where an assessment file is expected is a usage error: exit 2, one line saying it is a
    directory and what to give instead, nothing decided or recorded, no traceback."""
    ran = cli([*(a.replace("{tmp}", str(tmp_path)) for a in args), EXAMPLES])
    _usage_error(ran)
    assert "is a directory" in ran.stderr
    assert not (tmp_path / "l.db").exists()


# --- one route to each feature ---------------------------------------------------------------------------

def test_verify_checks_a_log_and_check_properties_a_rulesets_directory(tmp_path: Path, log: Path) -> None:
    """``verify`` no longer switches on is_dir() between two commands: given a directory it is a usage
    error naming check-properties; check-properties given a file is a usage error naming verify."""
    assert cli(["verify", log]).code == 0
    wrong = cli(["verify", ROOT / "rulesets"])
    _usage_error(wrong)
    assert "check-properties" in wrong.stderr
    wrong = cli(["check-properties", log])
    _usage_error(wrong)
    assert "verify" in wrong.stderr
    assert cli(["verify", log, "--examples", "3"]).code == 2  # a property option is no log option


def test_durable_evaluation_has_one_route_evaluate_durable() -> None:
    """``evaluate --engine durable`` is gone (a usage error); ``evaluate-durable`` decides."""
    assert cli(["evaluate", GOLD, "--engine", "durable"]).code == 2
    assert cli(["evaluate-durable", GOLD]).code == 0


def test_the_app_is_assembled_from_each_module_s_commands_without_registration_on_import() -> None:
    """The commands of the app are exactly those the modules of ecei_rules.cli list, each once, and no
    module of the package holds an app to register on (the old ``_register_plugins``)."""
    from ecei_rules.cli import app as app_module
    from ecei_rules.cli import decide, docs, durable, explain, impact, log, proofs, properties, repair, rulesets

    modules = (decide, docs, durable, explain, impact, log, proofs, properties, repair, rulesets)
    listed = [name for module in modules for name, _ in module.COMMANDS]
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert sorted(group.commands) == sorted(listed)
    assert len(set(listed)) == len(listed)
    assert not any(hasattr(module, "app") for module in modules)
    assert not hasattr(app_module, "_register_plugins")
