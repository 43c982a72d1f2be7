"""Options at the edges of what they can mean end in a usage error that says why, or work; never in an
internal error, and never in work without end.

Found by giving every numeric option of every command 0, a negative number and a number of twenty digits:

* ``synth --months 100000`` (or ``--as-of 0001-01-01``) made a window that begins before the calendar's first
  day, and an assessment drawn near that day had its earlier awards dated before it: both internal errors
  (``ValueError: year 0 is out of range``, ``OverflowError: date out of range``);
* ``explain --near-margin 1e999999999`` (or ``1e-999999999``) took the explanation's arithmetic beyond any
  time, and ``--max-sets`` of twenty digits was an internal error (``islice``).
* a synth profile's template formatted ``{index}`` with any width (``{index:99999999999}``: a MemoryError) or
  read its attributes (``{index.__class__.__mro__}``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.explanation.limits import MAX_CHANGE_SETS, margin_problem
from ecei_rules.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "examples" / "gold-2021.json"


def _usage_error(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(("as_of", "months"), [("2024-01-01", "100000"), ("2024-01-01", "99999999999999999999"),
                                               ("0001-01-01", "12"), ("0001-12-31", "12")])
def test_a_synth_window_that_begins_before_the_calendar_is_a_usage_error(as_of: str, months: str) -> None:
    """The months up to ``--as-of`` reach before 0001-01-01: exit 2, saying so, nothing written."""
    message = _usage_error("synth", "--as-of", as_of, "--months", months, "-n", "2")
    assert f"the {months} months up to {as_of} would begin before 0001-01-01" in message


def test_synth_dated_where_no_version_can_take_the_date_says_that_the_dates_asked_for_are_the_cause() -> None:
    """``--as-of 9999-12-31``: the versions count 24 months past the date assessed, so none takes a date in
    9999; exit 2, naming the input and the dates asked for (not a profile or a pattern)."""
    message = _usage_error("synth", "--as-of", "9999-12-31", "-n", "2")
    assert "at /assessed_on" in message
    assert "the dates asked for: as_of and its window" in message


def test_synth_near_the_calendars_first_day_draws_earlier_awards_within_the_calendar(tmp_path: Path) -> None:
    """Assessments of 3.0.1 dated in the year 2 (``-v 3.0.1``): their earlier awards are drawn up to 36 months
    before, which the calendar does not have; each is drawn at its first day instead, and every assessment
    written is one 3.0.1 accepts, as synth promises (the code before ended in an internal error)."""
    out = tmp_path / "early.jsonl"
    result = CliRunner().invoke(app, ["synth", "--as-of", "0002-06-30", "-n", "60", "-v", "3.0.1", "-s", "1",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    ruleset = Registry.shipped().get("ecei-labels", "3.0.1")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60
    awards: list[dt.date] = []
    for line in lines:
        data = json.loads(line)
        assert ruleset.plan.validator.validate(data)[1] == [], line
        awards += [dt.date.fromisoformat(h["awarded_on"]) for h in data.get("history", [])]
    assert awards
    assert min(awards) == dt.date.min  # drawn before the calendar's first day: at it


@pytest.mark.parametrize("margin", ["1e999999999", "1e-999999999", "0.1234567890123456", "9007199254740993",
                                    "-0.1", "NaN", "Infinity"])
def test_a_near_margin_no_input_could_hold_is_refused_before_anything_is_explained(
        margin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--near-margin`` negative, not finite, of more than 15 significant digits, nearer zero than 10^-15 or
    beyond 2^53 - 1: exit 2 with the reason, and no explanation is begun (counted: the builder is never
    called)."""
    from ecei_rules.explanation import build

    calls: list[Any] = []
    monkeypatch.setattr(build, "explain", lambda *a, **k: calls.append(a))
    message = _usage_error("explain", str(GOLD), "--near-margin", margin)
    assert f"--near-margin '{margin}'" in message
    assert calls == []


def test_margins_an_input_could_hold_are_accepted_and_the_library_refuses_the_others() -> None:
    """The bounds of `margin_problem`, and `explain` raising ValueError for a margin outside them."""
    from ecei_rules.explanation import explain

    for fine in ("0", "0.1", "1", "2.5", "0.000000000000001", "9007199254740991"):
        assert margin_problem(Decimal(fine)) is None, fine
    for wrong in ("-1", "1e999999999", "1e-16", "0.1234567890123456", "NaN", "sNaN", "Infinity"):
        assert margin_problem(Decimal(wrong)) is not None, wrong
    assert margin_problem(0.1) is not None  # a float: not a Decimal
    ruleset = Registry.shipped().get("ecei-labels", "3.0.1")
    data = json.loads(GOLD.read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="near_margin"):
        explain(ruleset, data, near_margin=Decimal("1e999999999"))
    assert explain(ruleset, data, near_margin=Decimal("0.2")).label == "gold"


def test_more_change_sets_than_are_ever_listed_is_a_usage_error() -> None:
    """``--max-sets`` beyond `MAX_CHANGE_SETS` (twenty digits, which the code before passed to ``islice``)."""
    for n in (str(MAX_CHANGE_SETS + 1), "99999999999999999999"):
        message = _usage_error("explain", str(GOLD), "--max-sets", n)
        assert "Invalid value for '--max-sets'" in message
    result = CliRunner().invoke(app, ["explain", str(GOLD), "--max-sets", str(MAX_CHANGE_SETS)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("template", "said"), [
    ("{index:99999999999}", "width of at most two digits"),  # was a MemoryError (an internal error)
    ("{index:200000000}", "width of at most two digits"),  # was 200 MB per name, then refused at the draw
    ("{index:{index}}", "width of at most two digits"),
    ("{index.__class__.__mro__}", "(not {index.__class__.__mro__})"),  # was written into every name
    ("{index!r}", "(not {index!r})"),
    ("{index[0]}", "(not {index[0]})"),
    ("{0}", "(not {0})"),
    ("{index", "not a template"),
])
def test_a_synth_template_is_index_alone_in_a_short_whole_number_format(tmp_path: Path, template: str,
                                                                        said: str) -> None:
    """A profile's template may only format ``{index}`` as a whole number with a width of at most two digits:
    a wider one (which built a string as wide, or failed with a MemoryError), a nested field, an attribute, an
    item or a conversion is exit 2 naming the pointer and the template, before anything is drawn."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(f"templates:\n  /organisation/name: {json.dumps(template)}\n", encoding="utf-8")
    message = _usage_error("synth", "--as-of", "2024-01-01", "-n", "2", "--profile", str(profile))
    assert "templates for /organisation/name:" in message
    assert said in message


def test_the_template_formats_a_profile_may_use_give_the_text_python_gives(tmp_path: Path) -> None:
    """Alignment, sign, zero padding, two-digit widths, grouping, bases and literal braces are kept, and give
    what ``str.format`` gives; a length below 0 in ``lengths`` is refused."""
    template = "X-{index:>8,d}-{index:06x}-{index:+}-{index:_b}-{{lit}}"
    profile = tmp_path / "profile.yaml"
    profile.write_text(f"templates:\n  /organisation/name: {json.dumps(template)}\n", encoding="utf-8")
    out = tmp_path / "pop.jsonl"
    result = CliRunner().invoke(app, ["synth", "--as-of", "2024-01-01", "-n", "3", "--profile", str(profile),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    names = [json.loads(line)["organisation"]["name"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert names == [template.format(index=i) for i in (1, 2, 3)]
    profile.write_text("lengths:\n  /history: {-5: 1}\n", encoding="utf-8")
    assert "the lengths are whole numbers >= 0" in _usage_error("synth", "--as-of", "2024-01-01", "-n", "2",
                                                                "--profile", str(profile))


def test_the_library_refuses_a_number_of_change_sets_outside_what_the_command_line_allows() -> None:
    """``explain(max_change_sets=...)`` 0, beyond `MAX_CHANGE_SETS`, twenty digits (which reached ``islice``), or
    not a whole number: ValueError naming it; 1 and `MAX_CHANGE_SETS` explain."""
    from ecei_rules.explanation import explain

    ruleset = Registry.shipped().get("ecei-labels", "3.0.1")
    data = json.loads(GOLD.read_text(encoding="utf-8"))
    for wrong in (0, -1, MAX_CHANGE_SETS + 1, 10**20, True, 2.0):
        with pytest.raises(ValueError, match="max_change_sets"):
            explain(ruleset, data, max_change_sets=wrong)  # type: ignore[arg-type]
    for fine in (1, MAX_CHANGE_SETS):
        assert explain(ruleset, data, max_change_sets=fine).label == "gold"


def test_a_negative_notice_is_a_usage_error() -> None:
    """``lint --notice-days -1``: exit 2 naming the option (days of notice are at least 0)."""
    assert "Invalid value for '--notice-days'" in _usage_error("lint", "--notice-days", "-1")


def test_repair_checks_the_expected_head_and_count_before_it_changes_anything(tmp_path: Path) -> None:
    """``repair`` with ``--expect-head zz`` (not a record's hash) or ``--expect-count -5``: exit 2 before the log
    is touched, as ``verify`` refuses them (the code before repaired a damaged export first, then compared its
    head with "zz"); the expected head is shown cut short."""
    log = tmp_path / "decisions.db"
    gold = str(ROOT / "examples" / "gold-2021.json")
    for _ in range(2):
        assert CliRunner().invoke(app, ["record", gold, "--log", str(log)]).exit_code == 0
    export = tmp_path / "export.jsonl"
    assert CliRunner().invoke(app, ["export", str(log), str(export)]).exit_code == 0
    damaged = export.read_bytes() + b'{"not": "a record"}\n'
    export.write_bytes(damaged)
    assert "must be a record's hash" in _usage_error("repair", str(export), "--expect-head", "zz")
    assert "'" + "a" * 80 + "'..." in _usage_error("repair", str(export), "--expect-head", "a" * 500)
    assert "Invalid value for '--expect-count'" in _usage_error("repair", str(export), "--expect-count", "-5")
    assert export.read_bytes() == damaged  # nothing removed


@pytest.mark.parametrize("columns", ["0", "-5", "1", "19"])
def test_a_terminal_width_too_narrow_to_write_in_is_taken_for_none(columns: str) -> None:
    """``COLUMNS=0`` (as some CI runners set it) made rich write nothing at all, exit 0: the decision was lost; a
    width of a few columns wrote a letter a line. Below 20 columns the width is taken for none, and the output is
    the one written with ``COLUMNS`` unset (80 columns, not a terminal), decision and all."""
    runner = CliRunner()
    narrow = runner.invoke(app, ["evaluate", str(GOLD)], env={"COLUMNS": columns})
    unset = runner.invoke(app, ["evaluate", str(GOLD)], env={"COLUMNS": None})
    assert narrow.exit_code == unset.exit_code == 0
    assert "label: GOLD" in unset.stdout
    assert narrow.stdout == unset.stdout


def _run(*args: str) -> tuple[int, str, str]:
    """The command line as the ``ecei-rules`` program runs it (`run`, not click's standalone mode): the exit
    code, standard output and standard error."""
    import sys

    from ecei_rules.cli.app import run

    runner = CliRunner()
    with runner.isolation(env={"NO_COLOR": "1"}) as (out, err, _):
        code = run(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


@pytest.mark.parametrize(("args", "said"), [
    (["--bogus"], "No such option: --bogus"),
    (["evaluate", str(GOLD), "--bogus"], "No such option: --bogus"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
    (["evaluate", str(GOLD), "--jobs", "0"], "Invalid value for '--jobs': must be at least 1 (got '0')"),
    (["evaluate", str(GOLD), "--jobs", "many"], "Invalid value for '--jobs': must be a whole number (got 'many')"),
    (["evaluate", str(GOLD), "--format", "xml"],
     "Invalid value for '--format': must be one of text, json (got 'xml')"),
    (["lint", "--notice-days", "-1"], "Invalid value for '--notice-days': must be at least 0 (got '-1')"),
    (["evaluate"], "Missing argument 'ASSESSMENTS'"),
    (["diff", "3.0.0"], "Missing argument 'NEW'"),
    (["receipt", "decisions.db"], "Missing option '--record'"),
    (["evaluate", str(GOLD), "--format"], "Option '--format' requires an argument"),
    (["evaluate", str(GOLD), "--rulesets", "/no/such/rulesets"],
     "Invalid value for '--rulesets': '/no/such/rulesets' does not exist"),
    (["evaluate", str(GOLD), str(GOLD)], "Got unexpected extra argument(s)"),
])
def test_a_usage_error_is_one_line_on_stderr_in_plain_words_and_exit_2(args: list[str], said: str) -> None:
    """An unknown option or command, a value its option refuses (out of range, not a number, not one of the
    choices), a missing argument or option, or a path option naming nothing: exactly one line on stderr,
    ``error: ...`` in plain words (not click's usage block, not the validation's "Input should be ..." or
    "Value error, ..."), nothing on stdout, exit 2."""
    code, out, err = _run(*args)
    assert code == 2, err
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("error: "), err
    assert said in err, err
    for jargon in ("Usage:", "Try '", "Input should", "Value error", "greater than or equal"):
        assert jargon not in err, err


def test_help_is_unchanged_and_no_arguments_still_show_it() -> None:
    """``--help`` prints the usage and the help on stdout (exit 0); no command at all shows the help too."""
    code, out, err = _run("evaluate", "--help")
    assert code == 0
    assert out.startswith("Usage: ecei-rules evaluate [OPTIONS] ASSESSMENTS")
    assert err == ""
    code, out, err = _run()
    assert code == 2
    assert "Usage: ecei-rules [OPTIONS] COMMAND [ARGS]..." in out + err
