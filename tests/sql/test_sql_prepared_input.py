"""A directory prepared for the SQL impact study is an input like any other: ``impact DIR --engine sql``.

Whoever hands the command a directory may have edited it, damaged it or written it by hand. The study
reads only what preparing wrote: ``prepared.json`` of the shape `prepare_impact` writes (read within a
bound, its first wrong member named by its JSON path), for the two versions asked, and each Parquet file
with the SHA-256 recorded when it was written. Anything else ends the command with exit 2 and one line
that says what is wrong, never an internal error. A path is written into SQL as a quoted string, so a
directory, or a temporary directory, whose name holds a quote works.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from typer.testing import CliRunner

from ecei_rules.backends import sql, sql_impact
from ecei_rules.cli.app import app
from ecei_rules.compare.impact import impact
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment

REGISTRY = Registry.shipped()
OLD, NEW = "2.0.0", "3.0.0"


def _ruleset(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


def _population(path: Path) -> Path:
    """The embedded tests of both versions (with lists: history, improvement areas), an unreadable line and
    a refused one, as JSON Lines."""
    lines = []
    for version in (OLD, NEW):
        doc = _ruleset(version).document
        lines += [json.dumps(embedded_assessment(doc, i), default=str) for i in range(len(doc.tests))]
    path.write_text("\n".join([*lines, "{not json", '{"assessed_on": "2022-01-01"}']) + "\n", encoding="utf-8")
    return path


def _report(output: str) -> dict[str, Any]:
    return {k: v for k, v in json.loads(output).items() if k not in ("seconds", "jobs")}


def _study(population: Path) -> list[str]:
    return ["impact", str(population), "--from", OLD, "--to", NEW, "--format", "json", "--engine", "sql"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory prepared for 2.0.0 -> 3.0.0, in a folder whose name holds a quote and a space."""
    folder = tmp_path_factory.mktemp("prepared") / "it's \"prepared\""
    population = _population(folder.parent / "population.jsonl")
    return sql_impact.prepare_impact(_ruleset(OLD), _ruleset(NEW), population, folder)


@pytest.fixture(scope="module")
def expected(prepared: Path) -> dict[str, Any]:
    """The Python impact study's report of the same population."""
    report = impact(_ruleset(OLD), _ruleset(NEW), prepared.parent / "population.jsonl", jobs=1)
    return {k: v for k, v in report.to_json().items() if k not in ("seconds", "jobs")}


def _copy(prepared: Path, target: Path) -> Path:
    target.mkdir()
    for item in prepared.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return target


def _refused(directory: Path) -> str:
    """The command's error on a directory: it must exit 2 with one line that is not an internal error."""
    result = CliRunner().invoke(app, _study(directory))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    return " ".join(result.output.split())


def test_a_prepared_directory_whose_name_holds_a_quote_gives_the_impact_studys_report(
        prepared: Path, expected: dict[str, Any]) -> None:
    """Preparing into, and studying from, a directory named ``it's "prepared"`` works; the report is the
    Python study's (exit 1: a line is refused), and ``prepared.json`` records each Parquet file's SHA-256."""
    result = CliRunner().invoke(app, _study(prepared))
    assert result.exit_code == 1, result.output
    assert _report(result.stdout) == expected
    assert expected["assessments"] > 10
    files = json.loads((prepared / sql_impact.PREPARED).read_text(encoding="utf-8"))["files"]
    assert files == {name: hashlib.sha256((prepared / name).read_bytes()).hexdigest()
                     for name in ("old.parquet", "new.parquet", "old_left_out.parquet", "new_left_out.parquet")}


def test_a_temporary_directory_whose_name_holds_a_quote_does_not_break_the_study_of_json_lines(
        prepared: Path, expected: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``impact POP.jsonl --engine sql`` prepares into a temporary directory and loads through a temporary
    file: with TMPDIR named ``o'clock`` (which the code before wrote into SQL unquoted, a parser error) the
    report is still the Python study's."""
    odd = tmp_path / "o'clock"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    result = CliRunner().invoke(app, _study(prepared.parent / "population.jsonl"))
    assert result.exit_code == 1, result.output
    assert _report(result.stdout) == expected


def test_a_temporary_directory_whose_name_is_not_utf8_is_named_as_the_cause(
        prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB takes file names as UTF-8 only: with TMPDIR named with a byte that is not (``\\xfa``, a name Linux
    allows), ``impact POP.jsonl --engine sql`` and ``evaluate POP.jsonl --engine sql`` were internal errors
    (DuckDB's InvalidInputException); they are exit 2 naming the file and TMPDIR as the cure."""
    odd = tmp_path / os.fsdecode(b"tmp\xfa")
    try:
        odd.mkdir()
    except (OSError, UnicodeEncodeError):  # pragma: no cover - a file system that takes UTF-8 names only
        pytest.skip("this file system refuses names that are not UTF-8")
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    population = prepared.parent / "population.jsonl"
    for args in (_study(population), ["evaluate", str(population), "--version", NEW, "--engine", "sql"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert "internal error" not in said
        assert said.startswith("error: the SQL engine (DuckDB) takes file names in UTF-8 only, and "
                               f"'{tmp_path}/tmp\\xfa/")
        assert said.endswith("is not one: rename it, or set TMPDIR to a folder whose name is (for the files it writes)")


@pytest.mark.parametrize(("written", "said"), [
    (b"", "Input data was truncated"),
    (b"{not json", "JSON is malformed"),
    (b"[]", "Expected `object`, got `array`"),
    (b"{}", "missing required field `old`"),
    (b"null", "Expected `object`, got `null`"),
], ids=["empty", "not-json", "a-list", "no-members", "null"])
def test_a_prepared_json_that_is_not_one_is_refused_saying_why(prepared: Path, tmp_path: Path, written: bytes,
                                                                said: str) -> None:
    """``prepared.json`` empty, not JSON, or JSON of another shape: exit 2, saying what was expected."""
    directory = _copy(prepared, tmp_path / "copy")
    (directory / sql_impact.PREPARED).write_bytes(written)
    message = _refused(directory)
    assert "is not what preparing a population writes" in message
    assert said in message


@pytest.mark.parametrize(("change", "path"), [
    (lambda f: f.update(assessments="12"), "$.assessments"),
    (lambda f: f.update(assessments=-1), "$.assessments"),
    (lambda f: f.update(old=["2.0.0"]), "$.old"),
    (lambda f: f["old_refused"][0].pop("line"), "$.old_refused[0]"),
    (lambda f: f["new_refused"][0].update(line=[1]), "$.new_refused[0].line"),
    (lambda f: f["unreadable"][0].update(message=None), "$.unreadable[0].message"),
    (lambda f: f.pop("files"), "`files`"),
    (lambda f: f["files"].update({"old.parquet": 7}), "$.files"),
], ids=["count-a-string", "count-negative", "version-short", "entry-no-line", "line-a-list", "message-null",
        "no-files", "hash-a-number"])
def test_a_member_of_prepared_json_of_the_wrong_shape_is_named_by_its_json_path(
        prepared: Path, tmp_path: Path, change: Any, path: str) -> None:
    """Each member of ``prepared.json`` changed to the wrong type or left out: exit 2, naming where."""
    directory = _copy(prepared, tmp_path / "copy")
    facts = json.loads((directory / sql_impact.PREPARED).read_text(encoding="utf-8"))
    assert all(facts[k] for k in ("old_refused", "new_refused", "unreadable"))  # each change has its target
    change(facts)
    (directory / sql_impact.PREPARED).write_text(json.dumps(facts), encoding="utf-8")
    message = _refused(directory)
    assert "is not what preparing a population writes" in message
    assert path in message


def test_prepared_json_naming_other_files_is_refused(prepared: Path, tmp_path: Path) -> None:
    """A file left out of, or added to, what ``prepared.json`` records: exit 2, naming the files."""
    for n, change in enumerate((lambda f: f.pop("new_left_out.parquet"), lambda f: f.update({"x.parquet": "0"}))):
        directory = _copy(prepared, tmp_path / f"copy{n}")
        facts = json.loads((directory / sql_impact.PREPARED).read_text(encoding="utf-8"))
        change(facts["files"])
        (directory / sql_impact.PREPARED).write_text(json.dumps(facts), encoding="utf-8")
        assert "names the files" in _refused(directory)


def test_a_parquet_file_changed_since_preparing_is_refused_before_it_is_read(prepared: Path, tmp_path: Path) -> None:
    """A prepared Parquet file with a byte appended, or rewritten by DuckDB as a valid Parquet file whose
    positional column of the history disagrees with the history list (so that the query, which reads the
    positions, would decide from values the version never validated): exit 2, naming the file."""
    import duckdb

    directory = _copy(prepared, tmp_path / "appended")
    with (directory / "new.parquet").open("ab") as out:
        out.write(b"\0")
    assert "new.parquet changed since it was prepared" in _refused(directory)

    directory = _copy(prepared, tmp_path / "rewritten")
    column = sql.position_column("/history", 0)
    con = duckdb.connect()
    source = sql_impact.parquet(prepared / "old.parquet")
    assert column in [d[0] for d in con.execute(f"SELECT * FROM {source} LIMIT 0").description]
    con.execute(f'COPY (SELECT * REPLACE (NULL AS "{column}") FROM {source}) TO '
                f"{sql.quoted_string(str(directory / 'old.parquet'))} (FORMAT parquet)")
    assert "old.parquet changed since it was prepared" in _refused(directory)


@pytest.mark.parametrize("how", ["missing", "a-directory", "a-fifo"])
def test_a_parquet_file_missing_or_not_a_regular_file_is_refused(prepared: Path, tmp_path: Path, how: str) -> None:
    """``old_left_out.parquet`` removed, or a directory or a named pipe in its place (which is never opened
    for reading, so nothing waits for a writer): exit 2, naming the file."""
    directory = _copy(prepared, tmp_path / "copy")
    target = directory / "old_left_out.parquet"
    target.unlink()
    if how == "a-directory":
        target.mkdir()
    elif how == "a-fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(target)
    message = _refused(directory)
    assert "prepared file old_left_out.parquet" in message
    assert ("No such file" in message) if how == "missing" else ("not a regular file" in message)


def test_a_prepared_json_larger_than_its_bound_is_refused_before_it_is_read(
        prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``prepared.json`` over `MAX_PREPARED_BYTES` (lowered here to its size less one byte): exit 2, its
    size named, nothing parsed."""
    directory = _copy(prepared, tmp_path / "copy")
    size = (directory / sql_impact.PREPARED).stat().st_size
    monkeypatch.setattr(sql_impact, "MAX_PREPARED_BYTES", size - 1)
    assert "is larger than" in _refused(directory)
    monkeypatch.setattr(sql_impact, "MAX_PREPARED_BYTES", size)
    assert CliRunner().invoke(app, _study(directory)).exit_code == 1
