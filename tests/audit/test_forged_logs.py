"""Forged decision logs: each test builds a log with the public API or the command line, forges it
with sqlite3 as an attacker with write access to the file (but not the signing key) would, and
checks the exact finding, its cause and the exit code. Records are re-hashed with ``rfc8785``,
not with the code under test."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from proof_helpers import AT, ROOT, append, checkpoints, decided_examples, run_cli

from ecei_rules.audit.checkpoint import Signer
from ecei_rules.audit.log import DecisionLog, open_rows
from ecei_rules.audit.proofs import check_checkpoints, enable_checkpoints, read_state
from ecei_rules.audit.replay import verify
from ecei_rules.batch import decide
from ecei_rules.core.version import __version__
from ecei_rules.registry import Registry

RECORDS = 12  # the shipped examples, twice: one transaction, and so one checkpoint, per record


# --- building and forging -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    (folder / "private.pem").write_bytes(signer.private_pem())
    (folder / "public.pem").write_bytes(signer.public_pem())
    return folder


@pytest.fixture(scope="module")
def signed_source(tmp_path_factory: pytest.TempPathFactory, signer: Signer, keys: Path) -> Path:
    """12 records appended one per transaction with the key (a checkpoint at each size 1 ... 12), and the
    checkpoint of all 12 kept outside the log (kept.json beside it)."""
    path = tmp_path_factory.mktemp("signed") / "log.db"
    append(path, decided_examples(Registry.shipped()), RECORDS, signer=signer, chunk=1)
    (path.parent / "kept.json").write_text(json.dumps(checkpoints(path)[-1]))
    return path


@pytest.fixture
def signed(signed_source: Path, tmp_path: Path) -> Path:
    """A private copy of the signed log, to forge."""
    target = tmp_path / "log.db"
    with sqlite3.connect(signed_source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target




def _findings(*args: Any) -> tuple[int, list[dict[str, Any]]]:
    """The exit code and the findings of a verify or replay, as JSON."""
    result = run_cli(*args, "--format", "json")
    return result.exit_code, json.loads(result.output)["findings"]


def _pairs(findings: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return sorted((f["seq"], f["kind"]) for f in findings)


def _sqlite(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


def _rows(path: Path) -> list[tuple[int, str, str, dict[str, Any]]]:
    con = sqlite3.connect(path)
    rows = [(s, h, p, json.loads(b)) for s, h, p, b in con.execute("SELECT seq, hash, prev_hash, body FROM records "
                                                                     "ORDER BY seq")]
    con.close()
    return rows


def _rehash(body: dict[str, Any]) -> None:
    body["hash"] = hashlib.sha256(rfc8785.dumps({k: v for k, v in body.items() if k != "hash"})).hexdigest()


def _rechain(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every prev_hash and hash, as a forger holding the whole log (not the key) would."""
    prev = "0" * 64
    for body in bodies:
        body["prev_hash"] = prev
        _rehash(body)
        prev = body["hash"]
    return bodies


def _write(path: Path, rows: list[tuple[int, str, str, dict[str, Any]]]) -> None:
    """Replace every row by (seq column, hash column, prev_hash column, body)."""
    con = sqlite3.connect(path)
    con.execute("DELETE FROM records")
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?)",
                    [(s, h, p, rfc8785.dumps(b).decode()) for s, h, p, b in rows])
    con.commit()
    con.close()


def _replace_record_3(bodies: list[dict[str, Any]]) -> None:
    """Record 3 made another genuine decision: record 1's input and decision under record 3's seq."""
    victim, donor = bodies[2], bodies[0]
    assert victim["decision"] != donor["decision"]
    for key in ("input", "input_sha256", "decision", "resolution", "methodology", "version", "ruleset_sha256"):
        victim[key] = json.loads(json.dumps(donor[key]))
    victim["record_id"] = f"{victim['methodology']}@{victim['version']}#{victim['seq']}"


# --- 1. a SQLite row's seq column is its position, and every column is checked -----------------------------------


def test_negative_seq_columns_over_a_rewritten_record_fail_verify_key_since_and_replay(
        signed: Path, signed_source: Path, keys: Path) -> None:
    """Every seq column set to -1000 + i (order kept), record 3 replaced by another genuine decision and the
    chain re-hashed inside the bodies, the hash columns left as they were signed: each row is misplaced (its
    seq column is no position), the hash columns no longer match the bodies from record 3 on, the Merkle
    root computed from the bodies fails the checkpoint of 3, the kept checkpoint shows a rewrite, and replay
    says the same. (Rows with a seq of 0 or below were read as JSON Lines lines: nothing was compared.)"""
    rows = _rows(signed)
    bodies = [body for _, _, _, body in rows]
    columns = [digest for _, digest, _, _ in rows]
    _replace_record_3(bodies)
    _rechain(bodies)
    _write(signed, [(-1000 + i, columns[i], columns[i - 1] if i else "0" * 64, body)
                    for i, body in enumerate(bodies)])

    code, findings = _findings("verify", signed, "--key", keys / "public.pem")
    assert code == 1
    misplaced = [f for f in findings if f["kind"] == "misplaced"]
    assert [(f["seq"], f["details"]["column_seq"]) for f in misplaced] == [(i + 1, -1000 + i) for i in range(RECORDS)]
    assert "record 3 is stored in a row whose seq column holds -998" in misplaced[2]["message"]
    edited_columns = {f["seq"] for f in findings if f["kind"] == "hash_mismatch"}
    assert edited_columns == set(range(3, RECORDS + 1))
    (root,) = [f for f in findings if f["kind"] == "checkpoint_root"]
    assert root["seq"] == 3
    assert "a record among 3-3 was changed, removed or inserted" in root["message"]

    code, findings = _findings("verify", signed, "--since", signed_source.parent / "kept.json")
    assert code == 1
    assert [f["kind"] for f in findings if f["kind"].startswith("since")] == ["since_rewritten"]

    code, findings = _findings("replay", signed)
    assert code == 1
    assert {f["kind"] for f in findings} == {"misplaced", "hash_mismatch"}
    assert run_cli("verify", signed, "--expect-count", RECORDS, "--expect-head", bodies[-1]["hash"]).exit_code == 1


def test_a_row_with_seq_zero_and_edited_hash_columns_is_three_findings(signed: Path, keys: Path) -> None:
    """``UPDATE records SET seq = 0, hash = 'zz', prev_hash = 'yy' WHERE seq = 1``: record 1's seq, hash and
    prev_hash columns are each a finding (the body is intact: the checkpoints hold)."""
    _sqlite(signed, "UPDATE records SET seq = 0, hash = 'zz', prev_hash = 'yy' WHERE seq = 1")
    for args in ((), ("--key", keys / "public.pem")):
        code, findings = _findings("verify", signed, *args)
        assert code == 1
        assert _pairs(findings) == [(1, "hash_mismatch"), (1, "hash_mismatch"), (1, "misplaced")]
        messages = " ".join(f["message"] for f in findings)
        assert "record 1: its hash column (zz…) is not the record's hash" in messages
        assert "record 1: its prev_hash column (yy…) is not the record's prev_hash" in messages
        assert "record 1 is stored in a row whose seq column holds 0" in messages
    code, findings = _findings("replay", signed)
    assert (code, _pairs(findings)) == (1, [(1, "hash_mismatch"), (1, "hash_mismatch"), (1, "misplaced")])


def test_the_merkle_leaves_are_the_bodies_hashes_not_the_hash_columns(signed: Path, signer: Signer) -> None:
    """Record 3 replaced and the chain re-hashed in the bodies, every column left as signed (seqs positive):
    verify reports the hash columns, and the checkpoints, computed from the bodies, fail from size 3 (read
    from the hash columns, every checkpoint held)."""
    rows = _rows(signed)
    bodies = [body for _, _, _, body in rows]
    _replace_record_3(bodies)
    _rechain(bodies)
    _write(signed, [(s, h, p, body) for (s, h, p, _), body in zip(rows, bodies, strict=True)])
    state = read_state(signed)
    assert state.hashes == [body["hash"] for body in bodies]
    findings = check_checkpoints(state, signer.public_key)
    assert sorted((f.code, f.seq) for f in findings) == [("checkpoint_root", 3), ("unsigned", 3)]
    assert {(f.seq, f.code) for f in verify(open_rows(signed)).findings} == \
        {(seq, "hash_mismatch") for seq in range(3, RECORDS + 1)}


def test_a_signed_append_never_signs_over_bodies_the_key_did_not_sign(signed: Path, signer: Signer) -> None:
    """Record 3 replaced, every hash re-computed (bodies and columns, so verify finds nothing), and the stored
    frontier removed or forged for the new chain: the next signed append refuses (LogError, nothing added),
    as the records no longer have the root the key signed at their size."""
    from ecei_rules.audit import merkle
    from ecei_rules.audit.log import LogError

    rows = _rows(signed)
    bodies = [body for _, _, _, body in rows]
    _replace_record_3(bodies)
    _rechain(bodies)
    _write(signed, [(b["seq"], b["hash"], b["prev_hash"], b) for b in bodies])
    assert verify(open_rows(signed)).findings == []
    forged = merkle.Frontier()
    for body in bodies:
        forged.append(merkle.record_leaf(body["hash"]))
    forged_meta = json.dumps({"size": RECORDS, "head": bodies[-1]["hash"], "nodes": [n.hex() for n in forged.nodes]})
    for frontier in (None, forged_meta):
        _sqlite(signed, "DELETE FROM meta WHERE key = 'merkle_frontier'")
        if frontier is not None:
            con = sqlite3.connect(signed)
            con.execute("INSERT INTO meta VALUES ('merkle_frontier', ?)", (frontier,))
            con.commit()
            con.close()
        with DecisionLog(signed) as log:
            enable_checkpoints(log, signer)
            decision, data = decided_examples(Registry.shipped())[0]
            with pytest.raises(LogError, match=r"do not have the Merkle root signed for them .*run verify --key"):
                log.append(decision, data, decided_at=AT)
            assert len(log) == RECORDS
    assert len(checkpoints(signed)) == RECORDS


# --- 2. reading never changes the log ------------------------------------------------------------------------------


def test_verify_key_since_checkpoint_and_receipt_leave_a_live_wal_as_it_is(signed_source: Path, signer: Signer,
                                                                           keys: Path, tmp_path: Path) -> None:
    """A copy of a log and its -wal taken while its writer ran (one signed record only in the -wal): verify
    --key, --since, checkpoint and receipt read the record in the -wal and leave the log's bytes and the
    -wal as they were (a writable connection checkpointed the -wal into the log and removed it on close)."""
    live = tmp_path / "live.db"
    shutil.copyfile(signed_source, live)
    copy = tmp_path / "copy.db"
    with DecisionLog(live) as log:
        log._db.execute("PRAGMA wal_autocheckpoint = 0")
        enable_checkpoints(log, signer)
        decision, data = decided_examples(Registry.shipped())[0]
        log.append(decision, data, decided_at=AT)
        shutil.copyfile(live, copy)
        shutil.copyfile(f"{live}-wal", f"{copy}-wal")
    wal = Path(f"{copy}-wal")
    before = (copy.read_bytes(), wal.read_bytes())
    assert before[1], "the record is in the -wal"
    kept = signed_source.parent / "kept.json"
    result = run_cli("verify", copy, "--key", keys / "public.pem", "--since", kept)
    assert result.exit_code == 0, result.output
    assert f"grew to {RECORDS + 1}" in result.output
    assert run_cli("checkpoint", copy, "--out", tmp_path / "cp.json").exit_code == 0
    assert json.loads((tmp_path / "cp.json").read_text())["size"] == RECORDS + 1
    assert run_cli("receipt", copy, "--record", RECORDS + 1, "--out", tmp_path / "r.json").exit_code == 0
    assert run_cli("check-receipt", tmp_path / "r.json", "--key", keys / "public.pem").exit_code == 0
    assert wal.exists()
    assert (copy.read_bytes(), wal.read_bytes()) == before


# --- 4. which ruleset is the published one --------------------------------------------------------------------------


def _edited_rulesets(tmp_path: Path, name: str, *, lock: bool) -> Path:
    rulesets = tmp_path / name
    shutil.copytree(ROOT / "rulesets", rulesets)
    path = rulesets / "ecei-labels" / "3.0.1.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nparameters:\n  gold_1_1_0: {value: 0.8}\n",
                    encoding="utf-8")
    if not lock:
        (rulesets / "ecei-labels" / "published.lock.json").unlink()
    return rulesets


def test_a_record_decided_under_an_unpublished_edit_is_unpublished_ruleset(tmp_path: Path) -> None:
    """A record decided under a private edit of 3.0.1 (same version name, one parameter changed), replayed
    with the shipped rulesets, whose 3.0.1 still hashes to its lock: unpublished_ruleset (the record was made
    under rules never published), not ruleset_changed (the shipped file was not edited). Against a registry
    whose 3.0.1 file no longer matches its lock, or that has no lock, the file is the one that changed."""
    edited = _edited_rulesets(tmp_path, "edited", lock=False)
    log = tmp_path / "log.db"
    recorded = run_cli("record", ROOT / "examples" / "gold-2021.json", "--log", log, "--rulesets", edited, "--at", AT)
    assert recorded.exit_code == 0, recorded.output
    (body,) = [body for _, _, _, body in _rows(log)]
    assert body["version"] == "3.0.1"
    shipped = Registry.shipped().load("ecei-labels", "3.0.1")
    assert body["ruleset_sha256"] != shipped.sha256

    code, findings = _findings("replay", log)
    assert code == 1
    assert _pairs(findings) == [(1, "unpublished_ruleset")]
    message = findings[0]["message"]
    assert f"record 1: it names ecei-labels 3.0.1 hashed {body['ruleset_sha256'][:16]}…" in message
    assert f"but 3.0.1 as published hashes to {shipped.sha256[:16]}…" in message
    assert "the decision was made under unpublished rules" in message
    assert "edited without a new version" not in message
    assert findings[0]["details"]["locked"] == shipped.sha256

    no_lock = tmp_path / "no-lock"
    shutil.copytree(ROOT / "rulesets", no_lock)
    (no_lock / "ecei-labels" / "published.lock.json").unlink()
    code, findings = _findings("replay", log, "--rulesets", no_lock)
    assert (code, _pairs(findings)) == (1, [(1, "ruleset_changed")])
    assert "its file was edited without a new version" in findings[0]["message"]

    relocked = tmp_path / "relocked"  # the registry's lock records the edit; its file is the shipped one
    shutil.copytree(ROOT / "rulesets", relocked)
    lock_path = relocked / "ecei-labels" / "published.lock.json"
    lock = json.loads(lock_path.read_text())
    lock["versions"]["3.0.1"]["sha256"] = body["ruleset_sha256"]
    lock_path.write_text(json.dumps(lock))
    code, findings = _findings("replay", log, "--rulesets", relocked)
    assert (code, _pairs(findings)) == (1, [(1, "ruleset_changed")])
    assert "its file was edited without a new version" in findings[0]["message"]


# --- 5. a row that is there but unreadable is not a removed record ---------------------------------------------------


@pytest.mark.parametrize("update", ["UPDATE records SET body = CAST(body AS BLOB) WHERE seq = 5",
                                    "UPDATE records SET body = CAST(X'7BFF7D' AS TEXT) WHERE seq = 5"])
def test_an_unreadable_row_holds_its_place(signed: Path, update: str) -> None:
    """A blob, or text that is not UTF-8, in record 5's body: bad_row 5, and nothing else (not "record 5 is
    missing (removed from the log)", nor a chain break at 6); the count kept outside still matches."""
    _sqlite(signed, update)
    for command in ("verify", "replay"):
        code, findings = _findings(command, signed, *(["--expect-count", RECORDS] if command == "verify" else []))
        assert (code, _pairs(findings)) == (1, [(5, "bad_row")]), findings
        assert "the row at position 5 is not a stored record: its body column" in findings[0]["message"]


def test_an_unreadable_line_of_an_export_is_there_not_removed(signed: Path, tmp_path: Path) -> None:
    """A byte-order mark before line 1 of an export, or line 4 replaced by text that is not JSON: that line is
    corrupt, and no record is named missing (removed) nor a chain broken after it. A line deleted still is."""
    export = tmp_path / "log.jsonl"
    assert run_cli("export", signed, export).exit_code == 0
    lines = export.read_bytes().splitlines(keepends=True)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + b"".join(lines))
    code, findings = _findings("verify", bom)
    assert (code, _pairs(findings)) == (1, [(-1, "corrupt")])
    assert findings[0]["message"] == "line 1: not a decision record (unreadable or incomplete)"
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_bytes(b"".join(lines[:3]) + b"not json\n" + b"".join(lines[4:]))
    code, findings = _findings("verify", garbled, "--expect-count", RECORDS)
    assert (code, _pairs(findings)) == (1, [(-4, "corrupt")])
    removed = tmp_path / "removed.jsonl"
    removed.write_bytes(b"".join(lines[:3]) + b"".join(lines[4:]))
    code, findings = _findings("verify", removed)
    assert (code, _pairs(findings)) == (1, [(4, "missing"), (5, "chain_break")])


# --- 6. sizes beyond what a signed message can hold -------------------------------------------------------------------


def test_checkpoint_sizes_of_2_to_the_53_are_refused_or_findings(signed: Path, keys: Path, tmp_path: Path) -> None:
    """A kept checkpoint whose size is 2**53: not a checkpoint (exit 2); one stored in the log at size 2**53:
    checkpoint_corrupt, named at the end of the log (exit 1). Never an internal error."""
    kept = {**checkpoints(signed)[-1], "size": 2**53}
    since = tmp_path / "cp.json"
    since.write_text(json.dumps(kept))
    result = run_cli("verify", signed, "--key", keys / "public.pem", "--since", since)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "not a checkpoint (a checkpoint's size is a whole number from 0 to 2**53 - 1" in said
    con = sqlite3.connect(signed)
    con.execute("INSERT INTO checkpoints VALUES (?, ?)", (2**53, json.dumps(kept)))
    con.commit()
    con.close()
    code, findings = _findings("verify", signed, "--key", keys / "public.pem")
    assert (code, _pairs(findings)) == (1, [(RECORDS + 1, "checkpoint_corrupt")])
    assert f"the checkpoint stored at size {2**53} is not a checkpoint" in findings[0]["message"]
    assert run_cli("checkpoint", signed).exit_code == 1


# --- 7. columns of the checkpoints (and records) of other types ------------------------------------------------


def _untyped_checkpoints(path: Path, update: str) -> None:
    _sqlite(path, "CREATE TABLE c2 (size, body)", "INSERT INTO c2 SELECT * FROM checkpoints", "DROP TABLE checkpoints",
            "ALTER TABLE c2 RENAME TO checkpoints", update)


@pytest.mark.parametrize(("update", "wording"), [
    ("UPDATE checkpoints SET size = 'abc' WHERE size = 5", "its size column holds text ('abc'), not a whole number"),
    ("UPDATE checkpoints SET size = NULL WHERE size = 5", "its size column holds NULL, not a whole number"),
    ("UPDATE checkpoints SET body = CAST(X'7BFF7D' AS TEXT) WHERE size = 5", "its body column is not UTF-8 text"),
    ("UPDATE checkpoints SET body = CAST(body AS BLOB) WHERE size = 5", "its body column holds a blob, not text"),
])
def test_checkpoint_columns_of_other_types_are_findings(signed: Path, keys: Path, tmp_path: Path, update: str,
                                                        wording: str) -> None:
    """A checkpoints table whose size holds text or NULL, or whose body is a blob or not UTF-8: verify --key
    reports checkpoint_corrupt with the column's type (exit 1); checkpoint and receipt exit 1 with the cause,
    since which checkpoint is the latest is then unknown. Never an internal error."""
    _untyped_checkpoints(signed, update)
    code, findings = _findings("verify", signed, "--key", keys / "public.pem")
    assert code == 1
    corrupt = [f for f in findings if f["kind"] == "checkpoint_corrupt"]
    assert len(corrupt) == 1
    assert wording in corrupt[0]["message"]
    assert {f["kind"] for f in findings} <= {"checkpoint_corrupt"}  # the other checkpoints hold
    for command in (["checkpoint", signed], ["receipt", signed, "--record", 2]):
        result = run_cli(*command)
        assert result.exit_code == 1, result.output
        assert wording in " ".join(result.output.split())


def test_a_record_hash_column_that_is_not_utf8_keeps_every_finding_with_key(signed: Path, keys: Path) -> None:
    """Record 5's hash column made text that is not UTF-8: verify --key and --since report it (bad_row 5, as
    plain verify does), and the checkpoints, computed from the intact bodies, hold (it was refused as "not a
    decision log", exit 2, and every finding lost)."""
    _sqlite(signed, "UPDATE records SET hash = CAST(CAST(hash AS BLOB) || X'FF' AS TEXT) WHERE seq = 5")
    kept = signed.parent / "kept.json"
    kept.write_text(json.dumps(checkpoints(signed)[-1]))
    for args in ((), ("--key", keys / "public.pem"), ("--key", keys / "public.pem", "--since", kept)):
        code, findings = _findings("verify", signed, *args)
        assert (code, _pairs(findings)) == (1, [(5, "bad_row")]), (args, findings)
        assert "its hash column is not UTF-8 text" in findings[0]["message"]


# --- 8. the cause replay names under the same engine ---------------------------------------------------------------


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """8 records (the examples' decisions) appended without a key."""
    path = tmp_path / "plain.db"
    items = [(decide(json.loads(p.read_text()), registry=Registry.shipped()), json.loads(p.read_text()))
             for p in sorted((ROOT / "examples").glob("*.json"))]
    with DecisionLog(path) as log:
        log.append_many([items[i % len(items)] for i in range(8)], decided_at=AT)
    return path


def _forge_record_5(path: Path, edit: Any) -> None:
    bodies = [body for _, _, _, body in _rows(path)]
    edit(bodies[4])
    _rechain(bodies)
    _write(path, [(b["seq"], b["hash"], b["prev_hash"], b) for b in bodies])


def test_an_invalid_input_under_the_same_engine_is_altered(plain: Path) -> None:
    """Record 5's input made invalid (a boolean answered "yes"), input_sha256 and the chain recomputed: verify
    cannot tell, and replay names it altered, not replay_failed: this engine never records an invalid input."""
    def invalid(body: dict[str, Any]) -> None:
        assert body["engine_version"] == __version__
        body["input"]["benchmarking"]["completed"] = "yes"
        body["input_sha256"] = hashlib.sha256(rfc8785.dumps(body["input"])).hexdigest()

    _forge_record_5(plain, invalid)
    assert _findings("verify", plain) == (0, [])
    code, findings = _findings("replay", plain)
    assert (code, _pairs(findings)) == (1, [(5, "altered")])
    message = findings[0]["message"]
    assert message.startswith("record 5: the recorded input is not valid for ")
    assert f"under the same engine ({__version__}) and ruleset" in message
    assert "the record was altered and its hashes recomputed" in message


@pytest.mark.parametrize("engine", ["../../etc", "", "0.2", "v0.2.0"])
def test_an_engine_version_that_is_no_version_is_a_bad_field(plain: Path, engine: str) -> None:
    """Record 5's label changed and its engine_version set to a text that is no version, hashes recomputed:
    verify reports bad_field (only an engine's semver is an engine version), and replay names the changed
    decision altered (engine_changed would blame an engine that cannot exist)."""
    def forged(body: dict[str, Any]) -> None:
        body["decision"]["label"] = "gold" if body["decision"]["label"] != "gold" else "bronze"
        body["engine_version"] = engine

    _forge_record_5(plain, forged)
    code, findings = _findings("verify", plain)
    assert (code, _pairs(findings)) == (1, [(5, "bad_field")])
    assert f"record 5: its engine_version {engine!r} is not a version of ecei-rules" in findings[0]["message"]
    code, findings = _findings("replay", plain)
    assert (code, _pairs(findings)) == (1, [(5, "altered"), (5, "bad_field")])
    (altered,) = [f for f in findings if f["kind"] == "altered"]
    assert "is no engine's version" in altered["message"]


def test_another_engine_versions_change_is_still_engine_changed(plain: Path) -> None:
    """The counterpart: a version of another engine (a semver) that decided otherwise is engine_changed."""
    def other(body: dict[str, Any]) -> None:
        body["decision"]["label"] = "gold" if body["decision"]["label"] != "gold" else "bronze"
        body["engine_version"] = "99.0.0"

    _forge_record_5(plain, other)
    assert _findings("verify", plain) == (0, [])
    code, findings = _findings("replay", plain)
    assert (code, _pairs(findings)) == (1, [(5, "engine_changed")])
