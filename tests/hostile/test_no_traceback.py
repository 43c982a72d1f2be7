"""No traceback from any input (issue 20): the top-level handler of ``ecei-rules`` and the cases that crashed."""

from __future__ import annotations

import json

import pytest
from cli_harness import EXAMPLES, cli, run_subprocess

from ecei_rules.batch import decide
from ecei_rules.cli.app import DEBUG_ENV, EXIT_CODES, EXIT_SIGINT, EXIT_USAGE, app
from ecei_rules.registry import Registry


def test_a_directory_given_as_an_assessment_is_a_usage_error() -> None:
    for command in ("evaluate", "explain"):
        ran = cli([command, str(EXAMPLES)])
        assert ran.code == EXIT_USAGE
        assert "is a directory" in ran.stderr
        assert "Traceback" not in ran.both


def test_dash_reads_json_lines_from_standard_input() -> None:
    batch = (EXAMPLES / "batch.jsonl").read_bytes()
    from_stdin = cli(["evaluate", "-", "--format", "json"], input=batch)
    from_file = cli(["evaluate", str(EXAMPLES / "batch.jsonl"), "--format", "json"])
    assert from_stdin.stdout == from_file.stdout
    assert from_stdin.code == from_file.code
    one = json.dumps(json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8")))
    ran = cli(["evaluate", "-"], input=one + "\n")
    assert ran.code == 0
    assert "GOLD" in ran.stdout
    explained = cli(["explain", "-", "--format", "json"], input=one + "\n")
    assert explained.code == 0
    assert json.loads(explained.stdout)["label"] == decide(json.loads(one)).label


def test_an_unexpected_error_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Registry, "versions", boom)
    ran = cli(["versions"])
    assert ran.code == EXIT_USAGE
    assert ran.stderr == ("error: internal error (ZeroDivisionError: division by zero) while running "
                          "'ecei-rules versions'; please report it with the input\n")
    with pytest.raises(ZeroDivisionError):  # ECEI_RULES_DEBUG=1: the traceback, for whoever fixes it
        cli(["versions"], env={DEBUG_ENV: "1"})


def test_an_interrupt_outside_record_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Registry, "versions", interrupted)
    ran = cli(["versions"])
    assert ran.code == EXIT_SIGINT
    assert "Traceback" not in ran.both


def test_usage_errors_keep_click_s_message_and_exit_2() -> None:
    ran = cli(["evaluate", "--no-such-option", "x.json"])
    assert ran.code == EXIT_USAGE
    assert "No such option" in ran.stderr
    assert cli(["--version"]).code == 0
    assert cli(["evaluate", "--help"]).code == 0


def test_typer_s_pretty_exceptions_are_off() -> None:
    assert app.pretty_exceptions_enable is False


def test_the_console_entry_point_in_a_real_process() -> None:
    """The cases of the issue, in a new interpreter: a directory, '-', a missing file, a bad option."""
    for args, code in ((["evaluate", str(EXAMPLES)], 2), (["evaluate", "no-such.json"], 2),
                       (["evaluate", "--format", "yaml", "x"], 2), (["explain", str(EXAMPLES)], 2)):
        done = run_subprocess(*args)
        assert done.returncode == code, done.stderr
        assert b"Traceback" not in done.stderr
        assert done.returncode in EXIT_CODES
    done = run_subprocess("evaluate", "-", input=b"{not json\n")
    assert done.returncode == 1
    assert b"A006" in done.stdout
