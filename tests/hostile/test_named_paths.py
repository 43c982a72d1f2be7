"""Paths a person names on the command line, at their edges: each ends in a usage error that says what is
wrong (exit 2), never an internal error, a wait without end, or a device replaced by a file.

Found by a sweep that gave every command's path options names that do not exist, are files where a directory
is wanted, named pipes, directories, and names longer than the system allows:

* ``--rulesets`` that is not a directory was an internal error in every command that takes it;
* a name longer than the system allows (``OSError: File name too long``) was an internal error;
* ``verify --since FIFO`` (and ``check-receipt FIFO``) waited for a writer for ever;
* ``export LOG TARGET`` renamed its file over TARGET whatever it was: over a named pipe, or, run as root, over
  ``/dev/null`` or ``/dev/stdout``, which it replaced by a regular file;
* ``impact --chart DIR``, ``impact -o DIR`` and ``synth -o DIR`` (or a file in a folder that does not exist) were
  internal errors.

Every path here is under the test's own temporary directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cli_harness import EXAMPLES, ROOT, Ran, cli, run_subprocess, unsafe

from ecei_rules.cli.app import EXIT_USAGE

GOLD = str(EXAMPLES / "gold-2021.json")
BATCH = str(EXAMPLES / "batch.jsonl")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def _refused(ran: Ran) -> str:
    assert ran.code == EXIT_USAGE, ran.both
    assert "internal error" not in ran.both
    assert "Traceback" not in ran.both
    assert unsafe(ran.both) == []
    return " ".join(ran.both.split())


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A decision log of one record."""
    path = tmp_path / "decisions.db"
    ran = cli(["record", GOLD, "--log", str(path)])
    assert ran.code == 0, ran.both
    return path


COMMANDS_WITH_RULESETS = [["versions"], ["schema"], ["diff", "3.0.0", "3.0.1"], ["bump-check", "3.0.0", "3.0.1"],
                          ["lint"], ["evaluate", GOLD], ["explain", GOLD], ["evaluate-durable", GOLD],
                          ["synth", "--as-of", "2024-01-01", "-n", "1"],
                          ["impact", BATCH, "--from", "2.0.0", "--to", "3.0.0"]]


@pytest.mark.parametrize("kind", ["missing", "a-file", "a-fifo", "an-escape"])
def test_a_rulesets_option_that_is_not_a_directory_is_a_usage_error_in_every_command(tmp_path: Path,
                                                                                    kind: str) -> None:
    """``--rulesets`` that does not exist, is a regular file, a named pipe, or is named with an escape sequence:
    exit 2 from click's check of the option, naming it, the name shown safely."""
    target = tmp_path / ("\x1b[2Jrules" if kind == "an-escape" else "rules")
    if kind == "a-file":
        target.write_text("not a directory\n", encoding="utf-8")
    elif kind == "a-fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(target)
    for command in COMMANDS_WITH_RULESETS:
        message = _refused(cli([*command, "--rulesets", str(target)]))
        assert "Invalid value for '--rulesets'" in message, command


def test_a_name_longer_than_the_system_allows_is_a_usage_error(tmp_path: Path, log: Path) -> None:
    """A file name of 5,000 characters given to each kind of path argument: exit 2, "a file name is longer
    than this system allows", the name shown cut short."""
    long = str(tmp_path / ("a" * 5000))
    for command in (["evaluate", long], ["explain", long], ["diff", long, "3.0.1"], ["verify", long],
                    ["export", str(log), long], ["impact", BATCH, "--from", long, "--to", "3.0.0"],
                    ["synth", "--as-of", "2024-01-01", "-n", "1", "-v", long]):
        message = _refused(cli(command))
        assert "a file name is longer than this system allows (" in message, command
        assert "a" * 61 not in message  # cut short


@needs_fifo
def test_a_checkpoint_or_a_receipt_that_is_a_named_pipe_is_refused_without_waiting_for_a_writer(
        tmp_path: Path, log: Path) -> None:
    """``verify --since FIFO`` and ``check-receipt FIFO`` (no writer: a blocking read would wait for ever; run
    as real processes): exit 2, "is a named pipe"."""
    fifo = tmp_path / "checkpoint.json"
    os.mkfifo(fifo)
    key = tmp_path / "keys"
    assert cli(["keygen", "--out", str(key)]).code == 0
    for command in (["verify", str(log), "--since", str(fifo)],
                    ["check-receipt", str(fifo), "--key", str(key / "public.pem")]):
        done = run_subprocess(*command)
        out = (done.stdout + done.stderr).decode("utf-8")
        assert done.returncode == EXIT_USAGE, out
        assert "is a named pipe (FIFO), not a regular file" in out
        assert "internal error" not in out


@needs_fifo
def test_an_export_is_never_renamed_over_a_named_pipe_nor_what_a_link_names(tmp_path: Path, log: Path) -> None:
    """``export LOG TARGET`` with TARGET a named pipe, or a symlink to one (as ``/dev/stdout`` is a link to the
    process's output): exit 2, and the pipe is still a pipe, the link still a link; a regular file is still
    replaced, atomically, with the export."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    for target in (fifo, link):
        assert "is a named pipe (FIFO); the export is written to a regular file" in _refused(
            cli(["export", str(log), str(target)]))
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert link.is_symlink()
    regular = tmp_path / "export.jsonl"
    regular.write_text("old\n", encoding="utf-8")
    assert cli(["export", str(log), str(regular)]).code == 0
    assert len(regular.read_text(encoding="utf-8").splitlines()) == 1
    assert regular.read_text(encoding="utf-8") != "old\n"


def test_a_report_or_chart_that_cannot_be_written_is_a_usage_error_before_the_study(tmp_path: Path) -> None:
    """``impact -o`` or ``--chart`` naming a directory, or a file in a folder that does not exist, and ``synth -o``
    likewise: exit 2 saying which (``impact`` before its study; the code before ended in an internal error, after
    the study); a writable name still gets the report."""
    study = ["impact", BATCH, "--from", "2.0.0", "--to", "3.0.0"]
    for option, what in (("-o", "the report"), ("--chart", "the chart")):
        assert f"is a directory; give {what} a file name" in _refused(cli([*study, option, str(tmp_path)]))
        assert f"cannot write {what}" in _refused(cli([*study, option, str(tmp_path / "missing" / "x.svg")]))
    for out in (tmp_path, tmp_path / "missing" / "pop.jsonl"):
        assert "cannot write the assessments" in _refused(cli(["synth", "--as-of", "2024-01-01", "-n", "1", "-o",
                                                                str(out)]))
    written = tmp_path / "report.json"
    assert cli([*study, "-o", str(written), "--format", "json"]).code in (0, 1)
    assert written.read_text(encoding="utf-8").startswith("{")


def test_a_counterexample_folder_that_is_a_file_is_refused_before_any_check(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``check-properties --out FILE``: exit 2 before a single property is checked (counted: the checks are
    patched and never called); the code before ran every check, then ended in an internal error
    (``FileExistsError``) when a counterexample was to be saved."""
    from ecei_rules.testing import properties

    calls: list[object] = []
    monkeypatch.setattr(properties, "verify_registry", lambda *a, **k: calls.append(a) or [])
    taken = tmp_path / "counterexamples"
    taken.write_text("a file\n", encoding="utf-8")
    rulesets = str(EXAMPLES.parent / "rulesets")
    assert "is not a directory; --out names the folder" in _refused(cli(["check-properties", rulesets, "--out",
                                                                          str(taken)]))
    assert calls == []


def test_docs_with_a_file_where_the_site_needs_a_folder_names_it(tmp_path: Path) -> None:
    """``docs -o SITE --force`` into a SITE whose ``docs`` is a file: the folder cannot be made there. That was an
    internal error (FileExistsError); it is exit 2 naming the page it could not write, the file left as it
    was."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "docs").write_text("a file, not a folder\n", encoding="utf-8")
    ran = cli(["docs", "--rulesets", str(ROOT / "examples" / "methodologies"), "-o", str(site), "--force"])
    assert ran.code == 2, ran.both
    assert " ".join(ran.stderr.split()).startswith(f"error: cannot write the site's {site / 'docs'}/")
    assert "internal error" not in ran.stderr
    assert (site / "docs").read_text(encoding="utf-8") == "a file, not a folder\n"


def test_synth_checks_its_report_before_it_draws(tmp_path: Path) -> None:
    """``synth --report DIR`` drew the whole population, then failed on the report; it is refused first, and
    nothing is written."""
    out = tmp_path / "population.jsonl"
    ran = cli(["synth", "--as-of", "2024-06-30", "-n", "5", "-o", str(out), "--report", str(tmp_path)])
    assert ran.code == 2, ran.both
    assert " ".join(ran.stderr.split()).startswith(f"error: {tmp_path} is a directory; give the report a file name")
    assert not out.exists()


def test_a_log_whose_name_is_not_utf8_is_read_like_any_other(tmp_path: Path) -> None:
    """A received log named with bytes that are not UTF-8 (``\\xfe``), a ``%20`` and a ``?``: verify, replay and
    export read it read-only through a SQLite URI, which quoted the name as text and failed (an internal error,
    UnicodeEncodeError). The name's own bytes are quoted now."""
    folder = tmp_path / os.fsdecode(b"received\xfc")
    try:
        folder.mkdir()
    except (OSError, UnicodeEncodeError):  # pragma: no cover - a file system that takes UTF-8 names only
        pytest.skip("this file system refuses names that are not UTF-8")
    log = folder / os.fsdecode(b"log\xfe%20x?.db")
    assert cli(["record", str(EXAMPLES / "gold-2021.json"), "--log", str(log)]).code == 0
    for args in (["verify", str(log)], ["replay", str(log)], ["export", str(log), str(folder / "export.jsonl")]):
        ran = cli(args)
        assert ran.code == 0, ran.both
    assert cli(["verify", str(folder / "export.jsonl")]).code == 0
