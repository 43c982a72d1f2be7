"""The storage commands of the decision log at their edges: what ``repair`` removes is exactly what it
says it removes; a JSON Lines line that Python's ``json`` cannot read (an integer of more than 4,300
digits) or that is not UTF-8 is a ``corrupt`` line, never an internal error nor a text read otherwise;
``cross-check`` refuses a file that is not a log as ``verify`` does; ``export``, ``import`` and
``record`` never write over a log's own companion files (``-wal``, ``-shm``, ``-journal``).

Each test builds its logs with the library or the command line, checks the finding, the message and
the exit code, and that nothing was written where nothing should be (the bytes of every file)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from proof_helpers import run_cli
from typer.testing import Result

from ecei_rules.audit.checkpoint import Signer
from ecei_rules.audit.log import DecisionLog, StoredRecord, jsonl_rows, open_rows, read_jsonl
from ecei_rules.audit.proofs import enable_checkpoints
from ecei_rules.audit.repair import repair
from ecei_rules.audit.replay import verify
from ecei_rules.batch import decide
from ecei_rules.registry import Registry

ROOT = Path(__file__).parents[2]
AT = "2026-11-26T12:00:00+00:00"
REGISTRY = Registry.shipped()
EXAMPLE = json.loads((ROOT / "examples" / "gold-2021.json").read_text())
RECORDS = 6
EXPECTED = "a decision log (a SQLite file, or a .jsonl export of one) was expected"




def _out(result: Result) -> str:
    return " ".join(result.output.split())


def _error_line(result: Result) -> str:
    """The one line a usage error writes on stderr (exit 2)."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    return lines[0]


def _files(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every file of a folder (not following links) by name, with its inode (a file renamed over it shows) and its
    bytes; but for the bytes of a -shm index, which SQLite may update beside a log it reads."""
    return {p.name: (p.stat().st_ino, None if p.name.endswith("-shm") else p.read_bytes())
            for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink()}


def _copy(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    return target


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean log of six records (the same assessment), closed: no -wal file beside it."""
    path = tmp_path_factory.mktemp("src") / "log.db"
    decision = decide(EXAMPLE, registry=REGISTRY)
    with DecisionLog(path) as log:
        log.append_many([(decision, EXAMPLE)] * RECORDS, decided_at=AT)
    return path


@pytest.fixture
def db(source: Path, tmp_path: Path) -> Path:
    return _copy(source, tmp_path / "log.db")


@pytest.fixture
def export(db: Path, tmp_path: Path) -> Path:
    """The JSON Lines export of the six records, made by the command line."""
    target = tmp_path / "log.jsonl"
    assert run_cli("export", db, target).exit_code == 0
    return target


def _seq_columns(path: Path) -> list[tuple[int, int]]:
    """(seq column, the seq its body names) of every row, in seq order."""
    with sqlite3.connect(path) as con:
        rows = [(seq, json.loads(body)["seq"]) for seq, body in con.execute("SELECT seq, body FROM records ORDER BY "
                                                                             "seq")]
    con.close()
    return rows


# --- 1. repair removes exactly the rows it names ---------------------------------------------------------------


def test_repair_removes_every_row_it_names_whatever_its_seq_column_holds(db: Path) -> None:
    """Record 1 stored with seq column 0 and record 2 with 1 (verify: "misplaced record 2 is stored at position 1").
    The code before deleted 'WHERE seq > 1' (a count of good rows read as a seq bound), said it removed records
    2-6, and left record 2 in the log, which still did not verify. Now the first row is bad (its seq column is not
    its record's seq), repair deletes exactly the six rows it read after the (empty) good prefix, by rowid, names
    them, and the log left verifies; the dry run before says the same and changes no byte."""
    with sqlite3.connect(db) as con:
        con.execute("UPDATE records SET seq = 0 WHERE seq = 1")
        con.execute("UPDATE records SET seq = 1 WHERE seq = 2")
    con.close()
    assert _seq_columns(db)[:2] == [(0, 1), (1, 2)]
    before = _files(db.parent)
    dry = run_cli("repair", db, "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert _files(db.parent) == before
    result = run_cli("repair", db)
    assert result.exit_code == 1, result.output
    out = _out(result)
    assert "the first bad record is at position 1: record 1 is stored at position 0" in out
    assert "kept no records (the first record is bad)" in out
    assert "removed 6 row(s)" in out
    assert "removed record(s) (seq): 1-6" in out
    assert _out(dry) == out.replace("removed", "would remove")
    assert _seq_columns(db) == []  # every row it named is gone, and only those
    check = run_cli("verify", db)
    assert check.exit_code == 0, check.output
    assert "verify: 0 record(s), no findings" in _out(check)


def test_repair_keeps_the_good_prefix_and_deletes_the_rows_read_after_it(db: Path) -> None:
    """Records 4, 5 and 6 stored under the seq columns 10, 8 and 9 (read in the order 5, 6, 4): records 1-3 are
    kept, the three rows read after them are removed, named by the records they hold, and what is left verifies."""
    with sqlite3.connect(db) as con:
        for seq, column in ((4, 10), (5, 8), (6, 9)):
            con.execute("UPDATE records SET seq = ? WHERE seq = ?", (column, seq))
    con.close()
    plan = repair(db)
    assert (plan.kept, plan.removed_seqs, plan.removed_lines) == (3, [5, 6, 4], [])
    assert plan.first_bad == "position 4: record 5 stands where record 4 should"
    assert _seq_columns(db) == [(1, 1), (2, 2), (3, 3)]
    assert verify(open_rows(db)).ok


def test_repair_refuses_a_records_table_without_rowid(db: Path, tmp_path: Path) -> None:
    """A 'records' table made WITHOUT ROWID (which no decision log is): repair deletes the rows it read by rowid, so
    it refuses (exit 2, one line), with --dry-run too, and changes nothing."""
    odd = tmp_path / "odd.db"
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT seq, hash, prev_hash, body FROM records ORDER BY seq").fetchall()
    con.close()
    with sqlite3.connect(odd) as con:
        con.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev_hash TEXT NOT NULL, "
                    "body TEXT NOT NULL) WITHOUT ROWID")
        con.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", [*rows[:2], (3, "x", "y", "{"), *rows[3:]])
    con.close()
    before = _files(tmp_path)
    for args in (["repair", odd], ["repair", odd, "--dry-run"]):
        line = _error_line(run_cli(*args))
        assert line == (f"error: {odd}: its 'records' table has no rowid (WITHOUT ROWID), which a decision log always "
                        "has and a repair deletes rows by: refused, nothing was changed")
    assert _files(tmp_path) == before


# --- 2. an integer Python will not read is a corrupt line -------------------------------------------------------


def test_a_line_with_an_integer_of_5000_digits_is_a_corrupt_line(tmp_path: Path) -> None:
    """An export whose seventh line holds an integer of 5,000 digits (json.loads raises ValueError: it exceeds
    int_max_str_digits). verify, replay, import, repair --dry-run and verify --since (a signed log's checkpoint)
    gave an internal error; now the line is a ``corrupt`` finding at line 7, import imports nothing, and no file
    changes."""
    log = tmp_path / "signed.db"
    decision = decide(EXAMPLE, registry=REGISTRY)
    with DecisionLog(log) as store:
        enable_checkpoints(store, Signer.generate())
        store.append_many([(decision, EXAMPLE)] * RECORDS, decided_at=AT)
    assert run_cli("checkpoint", log, "--out", tmp_path / "cp.json").exit_code == 0
    export = tmp_path / "long.jsonl"
    assert run_cli("export", log, export).exit_code == 0
    line = b'{"seq":' + b"1" * 5000 + b"}"
    export.write_bytes(export.read_bytes() + line + b"\n")
    rows = list(read_jsonl(export))
    assert rows[-1] == StoredRecord(-7, "", "", line.decode())
    assert list(jsonl_rows(export.read_bytes())) == rows
    before = _files(tmp_path)
    corrupt = {"seq": -7, "kind": "corrupt", "message": "line 7: not a decision record (unreadable or incomplete)"}
    for command in ("verify", "replay"):
        result = run_cli(command, export, "--format", "json")
        assert result.exit_code == 1, result.output
        findings = json.loads(result.stdout)["findings"]
        assert [{k: f[k] for k in corrupt} for f in findings] == [corrupt], findings
    since = run_cli("verify", export, "--since", tmp_path / "cp.json")
    assert since.exit_code == 1, since.output
    assert "corrupt line 7: not a decision record (unreadable or incomplete)" in _out(since)
    imported = run_cli("import", export, tmp_path / "imported.db")
    assert imported.exit_code == 1, imported.output
    assert "import refused: 7 record(s), 1 finding(s); the first bad line is 7" in _out(imported)
    dry = run_cli("repair", export, "--dry-run", "--format", "json")
    assert dry.exit_code == 1, dry.output
    assert {k: json.loads(dry.stdout)[k] for k in ("kept", "removed_seqs", "removed_lines")} == \
        {"kept": 6, "removed_seqs": [], "removed_lines": [7]}
    assert _files(tmp_path) == before  # nothing imported, nothing repaired


# --- 3. cross-check refuses a file that is not a log as verify does ---------------------------------------------


def _durable_or_skip() -> None:
    """As tests/backends: durable-rules is installed for the tests; skip only where allowed."""
    from ecei_rules.backends._durable_runtime import DurableUnavailableError, runtime

    try:
        runtime()
    except DurableUnavailableError as exc:
        if os.environ.get("ECEI_RULES_ALLOW_NO_DURABLE") == "1":
            pytest.skip(str(exc))
        raise


def test_cross_check_refuses_a_file_that_is_not_a_log_in_one_line(tmp_path: Path) -> None:
    """A directory, an empty .jsonl, a .db that is not SQLite, a damaged SQLite file: cross-check ended with
    "internal error (LogError: ...)"; now it says what verify says, in one line, exit 2, and changes nothing."""
    _durable_or_skip()
    folder = tmp_path / "adir"
    folder.mkdir()
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    text = tmp_path / "notsqlite.db"
    text.write_bytes(b"hello")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    before = _files(tmp_path)
    assert _error_line(run_cli("cross-check", folder)) == f"error: {folder} is a directory; {EXPECTED}"
    assert _error_line(run_cli("cross-check", empty)) == f"error: {empty} is empty (0 bytes); {EXPECTED}"
    assert _error_line(run_cli("cross-check", text)) == f"error: {text} is not a SQLite database; {EXPECTED}"
    line = _error_line(run_cli("cross-check", damaged))
    assert line.startswith(f"error: {damaged} is a damaged or unreadable SQLite database"), line
    for path in (empty, text, damaged):  # verify words these the same (a directory: with its own hint)
        assert _error_line(run_cli("verify", path)) == _error_line(run_cli("cross-check", path))
    assert _files(tmp_path) == before


# --- 4. export, import and record never write over a log's companions --------------------------------------------


@pytest.fixture
def live(source: Path, tmp_path: Path) -> Path:
    """A copy of a log made while its writer held a seventh record in its -wal file (log.db and log.db-wal)."""
    writer_dir = tmp_path / "writer"
    writer_dir.mkdir()
    path = _copy(source, writer_dir / "log.db")
    copy = tmp_path / "copy"
    copy.mkdir()
    with DecisionLog(path) as log:
        log.append(decide(EXAMPLE, registry=REGISTRY), EXAMPLE, decided_at=AT)
        assert Path(f"{path}-wal").stat().st_size > 0
        shutil.copyfile(path, copy / "log.db")
        shutil.copyfile(f"{path}-wal", copy / "log.db-wal")
    target = copy / "log.db"
    assert len(list(open_rows(target))) == RECORDS + 1
    return target


def test_export_never_writes_over_the_logs_own_companion_files(live: Path) -> None:
    """`export LOG LOG-wal` wrote the export atomically in place of the write-ahead file that held the seventh
    record: the log verified with six. Now the -wal, -shm and -journal of the log (by name, by a symbolic or a hard
    link) are refused with one line, exit 2, and no file changes; the log still holds seven records."""
    folder = live.parent
    assert run_cli("verify", live).exit_code == 0  # the read may make the -shm beside it
    os.symlink(f"{live}-wal", folder / "link.jsonl")
    os.link(f"{live}-wal", folder / "hard.jsonl")
    before = _files(folder)
    for target, what in ((f"{live}-wal", "write-ahead file (-wal)"), (f"{live}-shm", "shared-memory index (-shm)"),
                         (f"{live}-journal", "rollback journal (-journal)"),
                         (folder / "link.jsonl", "write-ahead file (-wal)"),
                         (folder / "hard.jsonl", "write-ahead file (-wal)")):
        line = _error_line(run_cli("export", live, target))
        assert line == (f"error: {target} is the {what} of the log being exported ({live}), which SQLite keeps as "
                        "part of the log; write the export to another file (nothing was written)")
        assert _files(folder) == before
    assert not Path(f"{live}-journal").exists()
    check = run_cli("verify", live, "--expect-count", RECORDS + 1)
    assert check.exit_code == 0, check.output


def test_export_import_and_record_never_write_a_file_another_log_keeps_as_its_own(live: Path, export: Path) -> None:
    """The -wal, -shm or -journal name of another SQLite log as the export's target, import's or record's log: one
    line, exit 2, nothing written; and an export named as the -wal of the log import would write is refused before
    import opens it."""
    folder = live.parent
    other = folder / "other.jsonl"
    shutil.copyfile(export, other)
    before = _files(folder)
    line = _error_line(run_cli("export", export.parent / "log.db", f"{live}-shm"))
    assert line == (f"error: {live}-shm is named as the shared-memory index (-shm) of the SQLite database {live}, "
                    "which SQLite would read it as; write the export to another file (nothing was written)")
    for args in (["import", other, f"{live}-wal"],
                 ["record", ROOT / "examples" / "gold-2021.json", "--log", f"{live}-wal", "--at", AT]):
        line = _error_line(run_cli(*args))
        assert line == (f"error: {live}-wal is named as the write-ahead file (-wal) of the SQLite database {live}, "
                        "which SQLite keeps beside that database as its own; give the log another name (nothing was "
                        "written)")
    assert _files(folder) == before
    named = folder / "new.db-wal"
    shutil.copyfile(export, named)
    before = _files(folder)
    line = _error_line(run_cli("import", named, folder / "new.db"))
    assert line == (f"error: {named} is the write-ahead file (-wal) of {folder / 'new.db'}, the log being written; "
                    "import into a log of another name (nothing was written)")
    assert _files(folder) == before


# --- 5. a line that is not UTF-8 is a corrupt line ---------------------------------------------------------------


def _assessment_with(name: str) -> dict[str, Any]:
    data = json.loads(json.dumps(EXAMPLE))
    data["organisation"]["name"] = name
    return data


def test_a_line_that_is_not_utf8_is_corrupt_and_never_imported(tmp_path: Path) -> None:
    """An export whose second record holds U+FFFD (bytes EF BF BD) with those three bytes replaced by the one byte FF:
    read with errors='replace' it was the same text, so it verified, replayed and imported though its bytes are not
    the canonical JSON. Now line 2 is ``corrupt`` (its text says where the bytes are not UTF-8), import imports
    nothing, and the file is left as it is."""
    data = _assessment_with("Cluster \ufffd Name")
    log = tmp_path / "log.db"
    with DecisionLog(log) as store:
        store.append_many([(decide(EXAMPLE, registry=REGISTRY), EXAMPLE), (decide(data, registry=REGISTRY), data)],
                          decided_at=AT)
    export = tmp_path / "log.jsonl"
    assert run_cli("export", log, export).exit_code == 0
    good = export.read_bytes()
    assert good.count(b"\xef\xbf\xbd") == 1
    export.write_bytes(good.replace(b"\xef\xbf\xbd", b"\xff"))
    start = good.index(b"\n") + 1
    at = good.index(b"\xef\xbf\xbd") - start
    rows = list(read_jsonl(export))
    assert [r.seq for r in rows] == [1, -2]
    assert rows[1].text.startswith(f"(not UTF-8: invalid start byte at byte {at + 1} of the line, 0xff) {{")
    assert list(jsonl_rows(export.read_bytes())) == rows
    before = _files(tmp_path)
    corrupt = {"seq": -2, "kind": "corrupt", "message": "line 2: not a decision record (unreadable or incomplete)"}
    for command in ("verify", "replay"):
        result = run_cli(command, export, "--format", "json")
        assert result.exit_code == 1, result.output
        findings = json.loads(result.stdout)["findings"]
        assert [{k: f[k] for k in corrupt} for f in findings] == [corrupt], findings
        assert findings[0]["details"]["text"].startswith("(not UTF-8: invalid start byte")
    imported = run_cli("import", export, tmp_path / "imported.db")
    assert imported.exit_code == 1, imported.output
    assert "import refused: 2 record(s), 1 finding(s); the first bad line is 2" in _out(imported)
    assert _files(tmp_path) == before
