"""Every command that reads a decision log names it as ``record`` does (``--log``/``-l``), or as its LOG argument."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gold-2021.json"


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "decisions.db"
    code, output = run("record", "--log", path, EXAMPLE, EXAMPLE, "--at", "2021-06-01T00:00:00Z")
    assert code == 0, output
    return path


@pytest.mark.parametrize("command", [["verify"], ["replay"], ["cross-check"], ["repair", "--dry-run"]])
def test_a_log_named_with_dash_l_as_record_takes_it_reads_as_one_given_as_log(command: list[str], log: Path) -> None:
    """The first thing a new user typed after 'record -l LOG' was 'verify -l LOG': "No such option: -l"."""
    by_argument = run(*command, log)
    by_option = run(*command, "-l", log)
    by_long_option = run(*command, f"--log={log}")
    assert by_argument[0] == 0, by_argument[1]
    assert by_option == by_argument
    assert by_long_option == by_argument


@pytest.mark.parametrize("command", [["checkpoint"], ["receipt", "--record", "1"]])
def test_checkpoint_and_receipt_take_the_log_either_way(command: list[str], log: Path) -> None:
    """Without a key the log holds no checkpoint: each says so (exit 1) whichever way the log is named."""
    by_argument = run(*command, log)
    by_option = run(*command, "-l", log)
    assert by_argument[0] == 1, by_argument[1]
    assert by_option == by_argument


def test_no_log_or_two_different_logs_is_a_usage_error_that_says_so(log: Path, tmp_path: Path) -> None:
    code, output = run("verify")
    assert code == 2
    assert "no log given: name it as LOG or with --log LOG" in output
    code, output = run("verify", log, "--log", tmp_path / "other.db")
    assert code == 2
    assert "two logs given" in output
    assert run("verify", log, "--log", log)[0] == 0  # the same log twice is the one log
