"""What the command line does at start-up, counted rather than timed (issue 23): ``run`` builds the
options of the command it runs, not of every command, and what a command prints (its help, its usage
errors, its output) is the same as in the whole app."""

from __future__ import annotations

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
