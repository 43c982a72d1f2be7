"""What the command line does at start-up, counted rather than timed (issue 23): ``run`` builds the
options of the command it runs, not of every command, and what a command prints (its help, its usage
errors, its output) is the same as in the whole app; the collector is held back while a command runs
and does not walk the process's objects again at exit; the command line's own import leaves the batch
machinery to the command that uses it."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ecei_rules.cli import app as app_module
from ecei_rules.cli.app import app, build_app, run

GOLD = Path(__file__).parents[2] / "examples" / "gold-2021.json"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every command whose click command typer builds."""
    names: list[str] = []
    original = typer.main.get_command_from_info

    def counted(command_info: Any, **kwargs: Any) -> Any:
        names.append(command_info.name)
        return original(command_info, **kwargs)

    monkeypatch.setattr(typer.main, "get_command_from_info", counted)
    return names


def test_run_builds_the_command_it_runs_alone(built: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``ecei-rules evaluate FILE`` builds one command (there are more than 20); ``--version``, which
    names none, builds the whole app."""
    assert run(["evaluate", str(GOLD), "--format", "json"]) == 0
    assert '"label":"gold"' in capsys.readouterr().out
    assert built == ["evaluate"]
    assert run(["--version"]) == 0
    assert len(built) > 20


@pytest.mark.parametrize("args", [["evaluate", "--help"], ["impact", "--help"], ["evaluate", str(GOLD), "--bogus"],
                                  ["evaluate"], ["record", "--help"]])
def test_a_command_alone_says_what_it_says_in_the_whole_app(args: list[str]) -> None:
    """Help, a usage error and a missing argument read the same from the command alone."""
    alone = CliRunner().invoke(build_app(only=args[0]), args, prog_name="ecei-rules")
    whole = CliRunner().invoke(app, args, prog_name="ecei-rules")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
    assert alone.output


def test_a_name_that_is_no_command_goes_to_the_whole_app() -> None:
    """A misspelt command is answered by the whole app (which suggests the nearest)."""
    assert app_module._app_for(["evaluat", "x"]) is app
    assert app_module._app_for([]) is app
    assert app_module._app_for(["--help"]) is app


def test_the_collector_is_held_back_while_a_command_runs_and_given_back_after(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up makes objects that live as long as the command: while it runs, the youngest generation
    is collected after YOUNG_OBJECTS new objects; after it, the caller's thresholds are back."""
    during: list[tuple[int, int, int]] = []
    monkeypatch.setattr(app_module, "_invoke", lambda args: during.append(gc.get_threshold()) or 0)
    before = gc.get_threshold()
    assert app_module.run(["--version"]) == 0
    assert during[0][0] >= app_module.YOUNG_OBJECTS > before[0]
    assert during[0][1:] == before[1:]
    assert gc.get_threshold() == before


def test_the_command_line_s_import_leaves_the_batch_and_the_registry_unloaded() -> None:
    """The batch machinery (and the engine and models it imports) is imported by the command that
    runs, not by the command line's own module: one command imports only what it uses."""
    code = ("import sys, ecei_rules.cli.app; "
            "print(sorted(m for m in ('ecei_rules.batch', 'ecei_rules.registry', 'ecei_rules.ruleset.model') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_the_console_entry_point_exits_without_walking_what_the_process_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """At exit the interpreter would walk every object once more (tens of milliseconds after a
    batch's start-up): the entry point freezes them after the command ran, then exits with its code."""
    calls: list[str] = []
    monkeypatch.setattr(app_module, "run", lambda: calls.append("run") or 3)
    monkeypatch.setattr(app_module.gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as ended:
        app_module.main()
    assert ended.value.code == 3
    assert calls == ["run", "freeze"]
