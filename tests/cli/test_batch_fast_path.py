"""The batch path of ``evaluate --format json --fields`` and what the command line imports, checked
against the whole path rather than timed (issue 23: the command line per line and at start-up).

A selection without the trace is written member by member (`ecei_rules.batch.Selection`), with what
depends on the version alone worked out once: its bytes must be those cut from the whole decision.
Running one command imports that command's module alone, and the package root imports a name on its
first use. A file's lines are written in blocks, standard input's one by one, the same bytes either
way, and what the batch froze out of the collector's reach is given back."""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import ecei_rules
from ecei_rules.batch import Selection
from ecei_rules.cli import app as app_module
from ecei_rules.cli import decide as decide_module
from ecei_rules.engine.decision import Resolution
from ecei_rules.engine.evaluate import decision_text
from ecei_rules.engine.serialise import parse_fields
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
#: Selections without the trace: a profile, the benchmark's, every member a version alone decides, the
#: subject and a member of the resolution, and the validity's rule and inputs.
UNTRACED = ["label", "label,valid_until", "methodology,version,ruleset_sha256,valid_from",
            "subject,resolution.method,validity_expires", "validity_rule,validity_inputs,label", "summary"]


@pytest.fixture(scope="module")
def population() -> list[tuple[Ruleset, dict[str, Any]]]:
    """Assessments of every shipped ECEI version in force from 2021 to 2025 (a few with ids no plain string
    holds), of a ruleset with a declared subject whose gold never expires, and of one with derived values
    (the outline's path)."""
    registry = Registry.shipped()
    people = [(registry.resolve("ecei-labels", on=dt.date.fromisoformat(a["assessed_on"]))[0], a)
              for a in synthesize(40, seed=23, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31))]
    odd = ["back\\slash", 'quo"te', "\u00e9t\u00e9", "tab\t", "\x7f"]  # ids written by the canonical writer
    people += [(ruleset, {**a, "organisation": {**a["organisation"], "id": i}})
               for (ruleset, a), i in zip(people[:len(odd)], odd, strict=True)]
    data = ROOT / "tests" / "data"
    for path in (data / "subject" / "1.0.0.yaml", data / "derived" / "1.1.0.yaml"):
        ruleset = load_ruleset(path)
        people += [(ruleset, a) for a in synthesize(15, seed=23, versions=[ruleset], start=dt.date(2022, 1, 1),
                                                    end=dt.date(2024, 12, 31))]
    return people


@pytest.mark.parametrize("fields", UNTRACED)
def test_a_selection_without_the_trace_is_the_whole_decision_s_members_byte_for_byte(
        fields: str, population: list[tuple[Ruleset, dict[str, Any]]]) -> None:
    """For each assessment, the Selection's line (label mode, worked out once per version) is the text of
    the members selected cut from the whole decision's canonical text, with the resolution given or not."""
    selected = parse_fields(fields)
    assert selected is not None
    assert selected.untraced
    write = Selection(selected)
    versions = set()
    for ruleset, assessment in population:
        versions.add(ruleset.version)
        for resolution in (None, Resolution(method="pinned", reason="a reason \"quoted\" é"),
                           Resolution(method="given", reason="C:\\rulesets")):
            whole = decision_text(ruleset, assessment, resolution=resolution)
            assert write(ruleset, assessment, resolution=resolution) == selected.text(orjson.loads(whole))
    assert len(versions) >= 3


def test_running_one_command_imports_its_module_alone_and_the_root_imports_on_first_use() -> None:
    """In a fresh interpreter: ``import ecei_rules`` imports nothing but the version; ``evaluate`` imports
    the module of its command and no other command's (the table of command modules says which), and with
    JSON output not rich."""
    code = ("import sys, io, contextlib\nimport ecei_rules\n"
            "print(sorted(m for m in sys.modules if m.startswith('ecei_rules')))\n"
            "from ecei_rules.cli.app import run\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = run(['evaluate', {str(EXAMPLES / 'gold-2021.json')!r}, '--format', 'json'])\n"
            "print(code, sorted(m for m in sys.modules if m.startswith('ecei_rules.cli')))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    root, ran, rich = out.splitlines()
    assert root == "['ecei_rules', 'ecei_rules.core', 'ecei_rules.core.version']"
    assert ran == "0 ['ecei_rules.cli', 'ecei_rules.cli.app', 'ecei_rules.cli.common', 'ecei_rules.cli.decide']"
    assert rich == "[]"  # JSON output is written without the terminal's renderer


def test_the_table_of_command_modules_names_every_command_of_every_module() -> None:
    listed = {name: module for module in app_module.MODULES for name, _ in app_module.commands(module)}
    assert listed == app_module.COMMAND_MODULES


def test_every_public_name_of_the_root_is_its_module_s_definition() -> None:
    """Each name in ecei_rules.__all__ is, on first use, the object its module defines, and dir lists it."""
    for name in ecei_rules.__all__:
        module = importlib.import_module(ecei_rules._LAZY[name])
        assert getattr(ecei_rules, name) is getattr(module, name), name
        assert name in dir(ecei_rules)
    with pytest.raises(AttributeError):
        ecei_rules.nothing_of_that_name  # noqa: B018


def test_a_file_s_lines_are_written_in_blocks_standard_input_s_one_by_one_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of two lines (and a last block of one) write what standard input's lines write one by one,
    an error line included; the lines are decided with what was loaded frozen, and nothing stays frozen."""
    lines = (EXAMPLES / "batch.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 2
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(decide_module, "BLOCK_LINES", 2)
    frozen: list[int] = []
    original = decide_module._write_lines

    def counted(decided: Any, *, block: int) -> int:
        frozen.append(gc.get_freeze_count())
        return original(decided, block=block)

    monkeypatch.setattr(decide_module, "_write_lines", counted)
    args = ["--format", "json", "--jobs", "1", "--fields", "label,valid_until"]
    runner = CliRunner()
    from_file = runner.invoke(app_module.build_app(), ["evaluate", str(batch), *args])
    from_stdin = runner.invoke(app_module.build_app(), ["evaluate", "-", *args], input=batch.read_text())
    assert from_file.exit_code == from_stdin.exit_code
    assert from_file.stdout == from_stdin.stdout
    assert len(from_file.stdout.splitlines()) == len(lines)
    assert len(frozen) == 2
    assert all(count > 0 for count in frozen)
    assert gc.get_freeze_count() == 0


def test_write_lines_writes_blocks_of_the_size_given() -> None:
    """Three lines in blocks of two: two writes, the text of the lines each ended by a newline; the errors
    counted. A line held when deciding the next one is interrupted is written all the same."""
    written: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            written.append(text)

    saved = sys.stdout
    sys.stdout = Out()  # type: ignore[assignment]
    try:
        failures = decide_module._write_lines(iter([("a", False), ("b", True), ("c", True)]), block=2)
    finally:
        sys.stdout = saved
    assert (failures, written) == (2, ["a\nb\n", "c\n"])

    def interrupted() -> Any:
        yield "a", False
        yield "b", False
        yield "c", False
        raise KeyboardInterrupt

    written.clear()
    sys.stdout = Out()  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            decide_module._write_lines(interrupted(), block=2)
    finally:
        sys.stdout = saved
    assert written == ["a\nb\n", "c\n"]  # the line decided before the interrupt is written


def test_a_block_of_long_lines_is_written_once_it_holds_block_chars_not_a_whole_block_of_lines() -> None:
    """Whole decisions are about 34 KB a line: 256 of them held made the batch 22 MB larger. Lines of 40,000
    characters in blocks of 256 are written two at a time (the second passes 65,536 characters)."""
    written: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            written.append(text)

    long = "x" * 40_000
    saved = sys.stdout
    sys.stdout = Out()  # type: ignore[assignment]
    try:
        decide_module._write_lines(iter([(long, False)] * 5), block=256)
    finally:
        sys.stdout = saved
    assert decide_module.BLOCK_CHARS == 65_536
    assert [text.count("\n") for text in written] == [2, 2, 1]
    assert "".join(written) == (long + "\n") * 5
