"""Issue 19 (items 2 to 4) and issue 20's log cases: a received log is checked in full, replay names
the true cause, and files that are not logs are refused without being touched. Each test is named
after the case it pins and checks the finding's wording and the exit code (no traceback)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from ecei_rules.audit.log import DecisionLog, StoredRecord, open_rows, read_jsonl
from ecei_rules.audit.replay import canonical, is_canonical, replay, verify
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import sha256_hex
from ecei_rules.registry import Registry

ROOT = Path(__file__).parents[2]
AT = "2026-11-26T12:00:00+00:00"
REGISTRY = Registry.shipped()
EXAMPLE = json.loads((ROOT / "examples" / "gold-2021.json").read_text())


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean log of 14 records (the same assessment, decided under 3.0.1)."""
    path = tmp_path_factory.mktemp("src") / "log.db"
    decision = decide(EXAMPLE, registry=REGISTRY)
    with DecisionLog(path) as log:
        log.append_many([(decision, EXAMPLE)] * 14, decided_at=AT)
    return path


@pytest.fixture
def db(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "log.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    return target


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _out(result: Result) -> str:
    return " ".join(result.output.split())


def _bodies(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as con:
        rows = [json.loads(text) for (text,) in con.execute("SELECT body FROM records ORDER BY seq")]
    con.close()
    return rows


def _rehash_all(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every hash and link, as a forger with the whole log would."""
    prev = "0" * 64
    for body in bodies:
        body["prev_hash"] = prev
        body["hash"] = sha256_hex(rfc8785.dumps({k: v for k, v in body.items() if k != "hash"}))
        prev = body["hash"]
    return bodies


def _store(path: Path, bodies: list[dict[str, Any]], *, texts: list[str] | None = None) -> None:
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM records")
        for i, body in enumerate(bodies):
            text = texts[i] if texts else rfc8785.dumps(body).decode()
            con.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (body["seq"], body["hash"], body["prev_hash"], text))
    con.close()


def _kinds(report: Any) -> set[tuple[int, str]]:
    return {(f.seq, f.code) for f in report.findings}


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "", p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


# --- a forged decision ----------------------------------------------------------------------------------------

def test_forged_decision_with_methodology_path_is_a_bad_reference(db: Path, tmp_path: Path) -> None:
    """A platform's own "ecei-labels 3.0.1" that gives Gold to everyone, named by a path in the
    record's methodology (absolute, ../, /proc/self/cwd) with every hash recomputed: verify and replay
    report a bad reference and never read that folder."""
    evil = tmp_path / "evil" / "ecei-labels"
    evil.mkdir(parents=True)
    shutil.copy(ROOT / "rulesets" / "ecei-labels" / "3.0.1.yaml", evil / "3.0.1.yaml")
    for name in (str(evil), "../../" + str(evil).lstrip("/"), "/proc/self/cwd/" + str(evil).lstrip("/")):
        bodies = _bodies(db)
        for body in bodies:
            body["methodology"] = name
            body["decision"]["methodology"] = name
            body["record_id"] = f"{name}@3.0.1#{body['seq']}"
        _store(db, _rehash_all(bodies))
        for command in ("verify", "replay"):
            result = _run(command, db)
            assert result.exit_code == 1, result.output
            assert "bad_reference" in result.output
            assert "which is not a methodology id (lowercase letters, digits and '-'): a record names its ruleset " \
                   "by id, version and content hash, never by path" in _out(result)
            assert "no findings" not in result.output


def test_forged_version_named_in_the_record_is_resolved_only_in_the_chosen_registry(db: Path, tmp_path: Path) -> None:
    """A registry handed over with the log is used only when the auditor chooses it (--rulesets); the
    default is the shipped one, under which the platform's edited 3.0.1 is unpublished rules (the shipped file
    matches its lock: the record, not the registry, names rules that were never published)."""
    rulesets = tmp_path / "theirs"
    shutil.copytree(ROOT / "rulesets", rulesets)
    edited = rulesets / "ecei-labels" / "3.0.1.yaml"
    edited.write_text(edited.read_text() + "\nparameters:\n  gold_1_1_0: {value: 0.8}\n")
    theirs = Registry(rulesets).load("ecei-labels", "3.0.1")
    bodies = _bodies(db)
    for body in bodies:
        body["ruleset_sha256"] = body["decision"]["ruleset_sha256"] = theirs.sha256
    _store(db, _rehash_all(bodies))
    result = _run("replay", db)
    assert result.exit_code == 1
    assert "unpublished_ruleset" in _out(result)
    assert "as published hashes to" in _out(result)
    assert "its file was edited without a new version" not in _out(result)
    chosen = _run("replay", db, "--rulesets", rulesets)  # the auditor's choice: its lock still says what was published
    assert chosen.exit_code == 1
    assert "now hashes to" not in _out(chosen)
    assert "unpublished_ruleset" in _out(chosen)
    assert "under an edit of a published version" in " ".join(_out(chosen).split())
    with_their_lock = tmp_path / "their-lock"
    shutil.copytree(rulesets, with_their_lock)
    lock = with_their_lock / "ecei-labels" / "published.lock.json"
    data = json.loads(lock.read_text())
    data["versions"]["3.0.1"]["sha256"] = theirs.sha256
    lock.write_text(json.dumps(data))
    relocked = _run("replay", db, "--rulesets", with_their_lock)  # a registry whose own lock says so: its word
    assert "unpublished_ruleset" not in _out(relocked)


# --- record fields ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "wording"), [
    ("input_sha256", "ab" * 32, "its input_sha256 is not the hash of its input"),
    ("record_id", "ecei-labels@3.0.1#99", "is not '<methodology>@<version>#<seq>'"),
    ("version", "3.0.0", "its version is '3.0.0' but its decision's is \"3.0.1\""),
    ("decided_at", "yesterday", "its decided_at 'yesterday' is not an ISO 8601 date and time"),
    ("ruleset_sha256", "cd" * 32, "its ruleset_sha256 is"),
])
def test_false_record_field_with_recomputed_hashes_is_found(db: Path, field: str, value: str, wording: str) -> None:
    """A false input_sha256, record_id, version, ruleset hash or decided_at, with every hash
    recomputed, is a finding at that record in verify and in replay."""
    bodies = _bodies(db)
    bodies[4][field] = value
    _store(db, _rehash_all(bodies))
    for command in ("verify", "replay"):
        result = _run(command, db)
        assert result.exit_code == 1, result.output
        assert "record 5" in _out(result), result.output
        assert wording in _out(result), result.output


@pytest.mark.parametrize(("depth", "member"), [("top", "decided_at"), ("decision", "label")])
def test_duplicate_label_member_is_refused(db: Path, depth: str, member: str) -> None:
    """A stored record holding a member twice (a second "label" inside its decision, or a second
    "decided_at" at the top), placed first so that a reader keeping the last one sees the record
    whose hash matches: a finding, since a record is read one way only."""
    bodies = _rehash_all(_bodies(db))
    text = rfc8785.dumps(bodies[2]).decode()
    if depth == "top":
        text = text.replace('{"decided_at":', '{"decided_at":"2020-01-01T00:00:00+00:00","decided_at":', 1)
    else:
        text = text.replace('"decision":{', '"decision":{"label":"gold",', 1)
    texts = [rfc8785.dumps(b).decode() for b in bodies]
    texts[2] = text
    _store(db, bodies, texts=texts)
    for command in ("verify", "replay"):
        result = _run(command, db)
        assert result.exit_code == 1
        assert f"record 3 holds the member '{member}' twice: a record is read one way only" in _out(result)
        assert "hash_mismatch" not in result.output  # the hash alone would not tell


def test_non_canonical_stored_text_is_a_finding(db: Path) -> None:
    """Stored text with spaces (hashed as canonical JSON, so the hash still matches) is not the
    canonical RFC 8785 text of its content: a finding, not a pass."""
    bodies = _bodies(db)
    texts = [rfc8785.dumps(b).decode() for b in bodies]
    texts[6] = json.dumps(bodies[6], sort_keys=True)
    _store(db, bodies, texts=texts)
    result = _run("verify", db)
    assert result.exit_code == 1
    assert "record 7: its stored text is not the canonical JSON (RFC 8785) of its content" in _out(result)


# --- replay tells the causes apart ----------------------------------------------------------------------------

def test_replay_reports_a_record_deleted_from_the_middle(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM records WHERE seq = 7")
    con.close()
    result = _run("replay", db)
    assert result.exit_code == 1
    assert "record 7 is missing (removed from the log)" in _out(result)
    assert "record 8 does not follow record 6 (record 7 is missing)" in _out(result)
    assert "no findings" not in result.output


def test_replay_reports_two_swapped_records(db: Path) -> None:
    bodies = _bodies(db)
    bodies[3], bodies[4] = bodies[4], bodies[3]
    texts = [rfc8785.dumps(b).decode() for b in bodies]
    with sqlite3.connect(db) as con:
        for seq, (body, text) in enumerate(zip(bodies, texts, strict=True), 1):
            con.execute("UPDATE records SET body = ?, hash = ?, prev_hash = ? WHERE seq = ?",
                        (text, body["hash"], body["prev_hash"], seq))
    con.close()
    result = _run("replay", db)
    assert result.exit_code == 1
    assert "record 5 stands at position 4: records were reordered" in _out(result)
    assert "record 5 is stored at position 4" in _out(result)


def test_replay_of_a_rehashed_edit_says_altered_not_engine(db: Path) -> None:
    """An edited label with the whole chain re-hashed: the engine is the same, so replay says the
    record was altered, never that the engine decides differently now."""
    bodies = _bodies(db)
    bodies[9]["decision"]["label"] = "bronze"
    _store(db, _rehash_all(bodies))
    assert _run("verify", db).exit_code == 0  # the chain alone cannot tell
    result = _run("replay", db)
    assert result.exit_code == 1
    assert "record 10: replay gives a different decision: under the same engine" in _out(result)
    assert "the record was altered and its hashes recomputed" in _out(result)
    assert "decides differently now" not in result.output
    assert "the first bad record is 10" in _out(result)


def test_replay_under_another_engine_version_says_engine_changed(db: Path) -> None:
    bodies = _bodies(db)
    bodies[9]["decision"]["label"] = "bronze"
    bodies[9]["engine_version"] = "0.0.1"
    _store(db, _rehash_all(bodies))
    result = _run("replay", db, "--format", "json")
    assert result.exit_code == 1
    (finding,) = json.loads(result.output)["findings"]
    assert finding["kind"] == "engine_changed"
    assert "the engine changed (0.0.1 decided it," in finding["message"]


def test_replay_of_an_edit_without_rehash_reports_hash_and_alteration(db: Path) -> None:
    bodies = _bodies(db)
    bodies[1]["decision"]["label"] = "none"
    _store(db, bodies)
    report = replay(open_rows(db), REGISTRY)
    assert _kinds(report) == {(2, "hash_mismatch"), (2, "altered")}


# --- evidence never touched -----------------------------------------------------------------------------------

def test_export_onto_its_own_source_is_refused(db: Path, tmp_path: Path) -> None:
    """`export d.db d.db` (or through a symlink or a hard link) no longer truncates the log."""
    before = db.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(db)
    hard = tmp_path / "hard.jsonl"
    os.link(db, hard)
    for out in (db, link, hard):
        result = _run("export", db, out)
        assert result.exit_code == 2
        assert "is the log being exported" in _out(result)
    assert db.read_bytes() == before
    assert _run("verify", db).exit_code == 0


def test_export_writes_atomically_and_leaves_no_temporary_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    result = _run("export", db, out)
    assert result.exit_code == 0
    assert f"head: {_bodies(db)[-1]['hash']}" in result.output
    assert len(out.read_text().splitlines()) == 14
    assert [p.name for p in tmp_path.iterdir() if ".export" in p.name] == []
    assert _run("verify", out).exit_code == 0


def test_verify_and_replay_never_change_a_byte_of_the_log(db: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """verify, replay, export, repair --dry-run and the head check on a received log: the file's bytes
    and mtime and the folder's listing are the same after (no WAL switch, no -wal or -shm file)."""
    folder = db.parent
    before = _snapshot(folder)
    elsewhere = tmp_path_factory.mktemp("out") / "out.jsonl"
    for args in (["verify", db], ["replay", db], ["repair", db, "--dry-run"], ["verify", db, "--expect-count", "14"],
                 ["repair", db, "--dry-run", "--expect-count", "14"], ["export", db, elsewhere]):
        assert _run(*args).exit_code == 0
    assert _snapshot(folder) == before


def test_verify_works_on_a_read_only_file_in_a_read_only_folder(db: Path, tmp_path: Path) -> None:
    """chmod 0444 in a 0555 folder. Tests run as root, which ignores permissions, so this alone proves
    little: the next test shows the connection itself cannot write."""
    folder = tmp_path / "media"
    folder.mkdir()
    target = folder / "log.db"
    shutil.copy(db, target)
    before = _snapshot(folder)
    target.chmod(0o444)
    folder.chmod(0o555)
    try:
        for command in ("verify", "replay"):
            assert _run(command, target).exit_code == 0
    finally:
        folder.chmod(0o755)
    assert {k: v[0] for k, v in _snapshot(folder).items()} == {k: v[0] for k, v in before.items()}


def test_reading_rows_leaves_the_writers_connection_as_it_was(db: Path) -> None:
    """Reading every row through the writer's connection (values fetched as bytes, to report text
    that is not UTF-8) leaves its text values text: the head is still a str, and appending goes on."""
    with DecisionLog(db) as log:
        assert len(list(log.rows())) == 14
        seq, head = log.head()
        assert (seq, type(head)) == (14, str)


def test_received_log_connection_is_read_only_and_runs_nothing(db: Path) -> None:
    """The connection verify uses refuses any write (mode=ro, immutable, query_only), even as root."""
    from ecei_rules.audit.log import connect_received

    con = connect_received(db)
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        con.execute("DELETE FROM records")
    assert con.execute("PRAGMA query_only").fetchone() == (1,)
    assert con.execute("PRAGMA trusted_schema").fetchone() == (0,)
    con.close()


# --- files that are not logs ---------------------------------------------------------------------------------

def _refused(path: Path, wording: str, *commands: str) -> None:
    for command in commands or ("verify", "replay", "export", "repair"):
        args = [command, path] + ([path.parent / "out.jsonl"] if command == "export" else []) + \
            (["--dry-run"] if command == "repair" else [])
        result = _run(*args)
        assert result.exit_code == 2, (command, result.output)
        assert wording in _out(result), (command, result.output)
        assert len(result.output.strip().splitlines()) == 1 or "error:" in result.output


def test_empty_file_is_refused_and_not_written(tmp_path: Path) -> None:
    """A 0-byte file is not a log of 0 records: exit 2, one line, and it stays 0 bytes."""
    empty = tmp_path / "empty.db"
    empty.touch()
    _refused(empty, "is empty (0 bytes); a decision log (a SQLite file, or a .jsonl export of one) was expected")
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "x.db"
    folder.mkdir()
    _refused(folder, "is a directory", "replay", "export", "repair")


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO is never opened for reading (it would block): its type is checked first."""
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    _refused(fifo, "is a FIFO (named pipe)")
    jsonl = tmp_path / "pipe.jsonl"
    os.mkfifo(jsonl)
    _refused(jsonl, "is a FIFO (named pipe)", "verify", "replay")
    result = _run("import", jsonl, tmp_path / "new.db")
    assert result.exit_code == 2
    assert "is a FIFO" in _out(result)


def test_non_sqlite_and_read_only_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a log\n" * 100)
    text.chmod(0o444)
    before = text.read_bytes()
    _refused(text, "is not a SQLite database")
    assert text.read_bytes() == before


def test_random_bytes_in_the_middle_of_a_log_give_no_traceback(db: Path) -> None:
    """4 KiB of random bytes written into the middle of a SQLite log: verify and replay end with a
    finding (exit 1) or a one-line refusal (exit 2), never a traceback."""
    data = bytearray(db.read_bytes())
    for seed in range(6):
        rng = random.Random(seed)
        damaged = db.parent / f"damaged-{seed}.db"
        at = rng.randrange(4096, len(data) - 8192)
        copy = bytearray(data)
        copy[at:at + 4096] = rng.randbytes(4096)
        damaged.write_bytes(bytes(copy))
        for command in ("verify", "replay"):
            result = _run(command, damaged)
            assert result.exit_code in (1, 2), (seed, command, result.output)


def _sqlite(path: Path, script: str) -> Path:
    con = sqlite3.connect(path)
    con.executescript(script)
    con.commit()
    con.close()
    return path


def test_records_view_calling_a_function_is_refused(tmp_path: Path) -> None:
    log = _sqlite(tmp_path / "view.db", "CREATE TABLE other (x); CREATE VIEW records AS SELECT randomblob(100) "
                  "AS seq, 1 AS hash, 2 AS prev_hash, 3 AS body FROM other;")
    _refused(log, "its 'records' is a view, not a plain table")


def test_trigger_and_view_carried_by_a_log_are_never_run(db: Path, tmp_path: Path) -> None:
    """A log carrying a trigger (that would write a row into a table if run) and a view: verify and
    replay read the plain table only, run neither, and change nothing; repair refuses to write."""
    _sqlite(db, "CREATE TABLE evidence (x); CREATE VIEW v AS SELECT load_extension('x'); "
                "CREATE TRIGGER t AFTER DELETE ON records BEGIN INSERT INTO evidence VALUES (1); END;")
    before = db.read_bytes()
    assert _run("verify", db).exit_code == 0
    assert _run("replay", db).exit_code == 0
    result = _run("repair", db)
    assert result.exit_code == 2
    assert "carries trigger(s) (t) that a repair would run" in _out(result)
    assert db.read_bytes() == before


@pytest.mark.parametrize(("update", "wording"), [
    ("UPDATE records SET body = CAST(body AS BLOB) WHERE seq = 3", "its body column holds a blob, not text"),
    ("UPDATE records SET body = X'FFFE' WHERE seq = 3", "its body column holds a blob, not text"),
    ("UPDATE records SET body = CAST(X'7BFF7D' AS TEXT) WHERE seq = 3", "its body column is not UTF-8 text"),
])
def test_columns_holding_other_types_give_findings(db: Path, update: str, wording: str) -> None:
    _sqlite(db, update)
    for command in ("verify", "replay"):
        result = _run(command, db)
        assert result.exit_code == 1, result.output
        assert wording in _out(result)


@pytest.mark.parametrize(("update", "wording"), [
    ("UPDATE records SET seq = 'three' WHERE seq = 3", "its seq column holds text, not a whole number"),
    ("UPDATE records SET seq = NULL WHERE seq = 3", "its seq column holds NULL, not a whole number"),
    ("UPDATE records SET body = NULL WHERE seq = 3", "its body column holds NULL, not text"),
    ("UPDATE records SET hash = NULL WHERE seq = 3", "its hash column holds NULL, not text"),
    ("UPDATE records SET prev_hash = 2.5 WHERE seq = 3", "its prev_hash column holds a real, not text"),
])
def test_seq_as_text_and_null_columns_give_findings(tmp_path: Path, source: Path, update: str, wording: str) -> None:
    """A log whose columns have no type can hold text for seq, NULL or a number anywhere: a
    finding, not a traceback."""
    log = _sqlite(tmp_path / "loose.db", "CREATE TABLE records (seq, hash, prev_hash, body);")
    rows = list(open_rows(source))
    with sqlite3.connect(log) as con:
        con.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", [(r.seq, r.hash, r.prev_hash, r.text) for r in rows])
        con.execute(update)
    con.close()
    for command in ("verify", "replay"):
        result = _run(command, log)
        assert result.exit_code == 1, result.output
        assert wording in _out(result)


# --- import ---------------------------------------------------------------------------------------------------

def test_import_reads_the_file_once_and_imports_what_it_verified(db: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The export is read once: a file swapped after that read cannot be imported unchecked."""
    export = tmp_path / "log.jsonl"
    assert _run("export", db, export).exit_code == 0
    good = export.read_bytes()
    from ecei_rules.audit import log as log_module

    real = log_module.read_once
    calls: list[Path] = []

    def read_then_swap(path: Path, limit: int = log_module.IMPORT_LIMIT) -> bytes:
        data = real(path, limit)
        calls.append(path)
        export.write_text("forged\n")  # swapped right after the read
        return data

    monkeypatch.setattr(log_module, "read_once", read_then_swap)
    result = _run("import", export, tmp_path / "new.db")
    assert result.exit_code == 0, result.output
    assert calls == [export]
    assert "".join(r.text + "\n" for r in open_rows(tmp_path / "new.db")).encode() == good


def test_import_refuses_its_own_target(db: Path, tmp_path: Path) -> None:
    export = tmp_path / "log.jsonl"
    assert _run("export", db, export).exit_code == 0
    assert _run("import", export, export).exit_code == 2


# --- wording ----------------------------------------------------------------------------------------------

def test_expect_count_on_a_record_deleted_from_the_middle_says_middle(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM records WHERE seq = 7")
    con.close()
    result = _run("verify", db, "--expect-count", "14")
    assert result.exit_code == 1
    assert "the log holds 13 record(s), 14 expected: 1 record(s) were removed, 1 from the middle" in _out(result)
    assert "from its tail" not in _out(result)


def test_hash_mismatch_on_an_edited_hash_column_shows_both_hashes(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("UPDATE records SET hash = ? WHERE seq = 4", ("ee" * 32,))
    con.close()
    report = verify(open_rows(db))
    (finding,) = [f for f in report.findings if f.code == "hash_mismatch"]
    assert finding.details["column_hash"] == "ee" * 32
    assert finding.details["computed_hash"] != "ee" * 32
    assert finding.details["computed_hash"] == finding.details["record_hash"]
    assert "record 4: its hash column (eeeeeeeeeeeeeeee…) is not the record's hash" in finding.message


def test_rehashed_log_first_bad_record_is_inside_the_log(db: Path) -> None:
    """A 14-record log rewritten after an edit, checked against its old head: the first bad record
    named is inside the log (14), never 15."""
    head = _bodies(db)[-1]["hash"]
    bodies = _bodies(db)
    bodies[4]["decided_at"] = "2020-01-01T00:00:00+00:00"
    _store(db, _rehash_all(bodies))
    result = _run("verify", db, "--expect-head", head, "--expect-count", "14")
    assert result.exit_code == 1
    assert "the first bad record is 14" in _out(result)
    assert "15" not in _out(result).replace(head, "")


# --- linear work and memory whatever the seq numbers claim -----------------------------------------------------

def _rows(n: int) -> list[StoredRecord]:
    decision = decide(EXAMPLE, registry=REGISTRY)
    from ecei_rules.audit.record import record_and_text

    rows, prev = [], "0" * 64
    for seq in range(1, n + 1):
        record, text = record_and_text(decision, EXAMPLE, seq=seq, prev_hash=prev, decided_at=AT)
        rows.append(StoredRecord(-seq, record.hash, record.prev_hash, text))
        prev = record.hash
    return rows


def test_record_numbered_ten_to_the_twelve_costs_no_memory(source: Path, tmp_path: Path) -> None:
    """One record numbered 10**12: verify reports the gap as one finding in bounded memory."""
    body = _bodies(source)[0]
    body["seq"] = 10**12
    body["record_id"] = f"ecei-labels@3.0.1#{10**12}"
    body["hash"] = sha256_hex(rfc8785.dumps({k: v for k, v in body.items() if k != "hash"}))
    export = tmp_path / "big.jsonl"
    export.write_text(rfc8785.dumps(body).decode() + "\n")
    tracemalloc.start()
    report = verify(read_jsonl(export))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak
    missing = [f for f in report.findings if f.code == "missing"]
    assert [f.message for f in missing] == ["records 1 to 999999999999 are missing (999,999,999,999 records removed "
                                            "from the log)"]


def _calls(rows: list[StoredRecord]) -> int:
    """How many Python and C function calls a verify of the rows makes (a count of work, not a time)."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        verify(rows)
    finally:
        sys.setprofile(None)
    return count


def test_rotated_log_is_checked_in_linear_work() -> None:
    """A log rotated by one does about twice the calls at 400 records as at 200 (a count, not a time;
    quadratic Python work would do four times), and not much more than the same log in order."""
    rows = _rows(400)
    small, large = _calls(rows[1:200] + rows[:1]), _calls(rows[1:] + rows[:1])
    assert large < 2.5 * small, (small, large)
    assert large < 1.5 * _calls(rows)


def _rotated_chain(n: int) -> tuple[Any, int]:
    """The order and chain checks over n records rotated by one: the report and the peak memory."""
    from ecei_rules.audit.replay import AuditReport, _Chain, _Link

    digests = [f"{i:064x}" for i in range(n + 1)]
    links = [_Link(seq, digests[seq], digests[seq - 1] if seq > 1 else "0" * 64, True) for seq in range(1, n + 1)]
    report = AuditReport(records=n)
    chain = _Chain(report)
    tracemalloc.start()
    for link in links[1:] + links[:1]:
        chain.add(link)
    chain.finish()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return report, peak


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
def test_rotated_chain_of_200000_records_is_ordered_in_one_pass() -> None:
    """The order and chain checks over 200,000 records rotated by one: one finding per displaced
    record, and memory that doubles with the records (the former check rebuilt a set of every seq at
    each position, 4 * 10**10 steps here, and would not finish)."""
    report, peak = _rotated_chain(200_000)
    assert {f.code for f in report.findings} == {"reordered"}
    assert len(report.findings) == 200_000
    _, half = _rotated_chain(100_000)
    assert peak < 2.3 * half, (half, peak)
    assert peak < 1000 * 200_000, peak  # bytes per record, its finding included


# --- the canonical-form check agrees with RFC 8785 -------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_json_values)
def test_fast_canonical_text_is_rfc8785_text(value: Any) -> None:
    """The fast canonical text verify uses (orjson, where it is surely the same) is byte for byte
    rfc8785.dumps, and refuses what RFC 8785 refuses (integers beyond 2**53)."""
    try:
        expected = rfc8785.dumps(value)
    except (ValueError, TypeError):
        with pytest.raises((ValueError, TypeError)):
            canonical(value)
        return
    assert canonical(value) == expected
    text = expected.decode("utf-8", "surrogatepass")
    assert is_canonical(text, json.loads(text))


@pytest.mark.parametrize("text", ['{"a":2.0}', '{"a":0.0000001}', '{"a":1.5e+16}', '2.0', '{"b":1,"a":1}', '{"a": 1}',
                                  '{"a":1,"a":1}', '{"a":9007199254740993}', '{"a":"\\u0041"}', '[1.50]'])
def test_non_canonical_texts_are_told(text: str) -> None:
    assert not is_canonical(text, json.loads(text))
