"""Signed checkpoints: what they are, how a log keeps them, and what they catch.

Signatures are checked here with ``cryptography`` and ``rfc8785`` directly, and roots with the
independent RFC 9162 reference (rfc9162_reference.py), not with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from proof_helpers import AT, SignedLog, append, checkpoints, decided_examples, reference_root, rehash_from, resign_all
from rfc9162_reference import MTH, PROOF

from ecei_rules.audit import merkle
from ecei_rules.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    KeyFileError,
    Signer,
    checkpoint_problem,
    load_private_key,
    load_public_key,
    write_keypair,
)
from ecei_rules.audit.log import DecisionLog, LogError, open_rows, read_jsonl
from ecei_rules.audit.proofs import (
    CheckpointWriter,
    check_checkpoints,
    check_since,
    consistency_between,
    enable_checkpoints,
    read_state,
)
from ecei_rules.audit.replay import verify
from ecei_rules.errors import EceiRulesError
from ecei_rules.registry import Registry

ROOT_HEX = hashlib.sha256(b"root").hexdigest()


def _kinds(findings) -> set[str]:
    return {f.code for f in findings}


# --- the checkpoint itself --------------------------------------------------------------------


def test_signature_covers_the_domain_prefix_and_the_canonical_json_of_the_other_fields() -> None:
    """A checkpoint's signature verifies, with cryptography directly, over b"ecei-rules checkpoint v1\\n"
    + RFC 8785 JSON of {format, key_id, root, size, time}; its key id is the SHA-256 of the raw public key."""
    signer = Signer.generate()
    cp = signer.sign(42, bytes.fromhex(ROOT_HEX), AT).to_json()
    raw = signer.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert cp["key_id"] == hashlib.sha256(raw).hexdigest()
    assert (cp["size"], cp["root"], cp["time"], cp["format"]) == (42, ROOT_HEX, AT, 1)
    message = b"ecei-rules checkpoint v1\n" + rfc8785.dumps({k: v for k, v in cp.items() if k != "signature"})
    signer.public_key.verify(base64.b64decode(cp["signature"]), message)
    with pytest.raises(InvalidSignature):  # without the prefix the signature means nothing
        signer.public_key.verify(base64.b64decode(cp["signature"]), message.split(b"\n", 1)[1])


@pytest.mark.parametrize(("field", "value"), [
    ("size", 43), ("root", hashlib.sha256(b"other").hexdigest()), ("time", "2026-12-01T10:00:01+00:00"),
    ("key_id", hashlib.sha256(b"k").hexdigest()),
])
def test_every_tampered_field_fails_the_signature(field: str, value: object) -> None:
    """Changing any signed field of a checkpoint (size, root, time, key id) leaves a signature that does not verify."""
    signer = Signer.generate()
    cp = signer.sign(42, bytes.fromhex(ROOT_HEX), AT).to_json()
    assert checkpoint_problem(Checkpoint.from_json(cp), signer.public_key) is None
    tampered = Checkpoint.from_json({**cp, field: value})
    assert checkpoint_problem(tampered, signer.public_key) is not None


def test_a_flipped_signature_bit_or_another_key_fails() -> None:
    """Every bit of the signature matters, and another key's public key refuses the checkpoint."""
    signer, other = Signer.generate(), Signer.generate()
    cp = signer.sign(7, bytes.fromhex(ROOT_HEX), AT).to_json()
    sig = base64.b64decode(cp["signature"])
    for bit in range(0, 512, 37):
        flipped = bytearray(sig)
        flipped[bit // 8] ^= 1 << (bit % 8)
        bad = Checkpoint.from_json({**cp, "signature": base64.b64encode(bytes(flipped)).decode()})
        assert checkpoint_problem(bad, signer.public_key) is not None
    assert "names key" in (checkpoint_problem(Checkpoint.from_json(cp), other.public_key) or "")
    # another key's signature over the same fields, under the right key id, fails too
    forged = other.sign(7, bytes.fromhex(ROOT_HEX), AT).to_json()
    assert checkpoint_problem(Checkpoint.from_json({**forged, "key_id": cp["key_id"]}), signer.public_key)


@pytest.mark.parametrize("change", [
    {"size": -1}, {"size": "7"}, {"size": True}, {"root": "AB" * 32}, {"root": "ab" * 31}, {"time": "yesterday"},
    {"time": 5}, {"signature": "not base64!"}, {"signature": base64.b64encode(b"x" * 63).decode()},
    {"format": 2}, {"format": True}, {"extra": 1},
])
def test_malformed_checkpoints_raise_checkpoint_error(change: dict) -> None:
    """A checkpoint with a field of the wrong type or form, or an unknown field, raises CheckpointError."""
    cp = Signer.generate().sign(7, bytes.fromhex(ROOT_HEX), AT).to_json()
    with pytest.raises(CheckpointError):
        Checkpoint.from_json({**cp, **change})
    missing = dict(cp)
    missing.pop("signature")
    with pytest.raises(CheckpointError, match="missing"):
        Checkpoint.from_json(missing)


def test_the_library_reads_no_clock_the_time_is_the_callers() -> None:
    """The time signed is the caller's string exactly; a string that is not ISO 8601 is refused."""
    signer = Signer.generate()
    assert signer.sign(1, bytes(32), "2001-02-03T04:05:06+07:00").time == "2001-02-03T04:05:06+07:00"
    with pytest.raises(CheckpointError):
        signer.sign(1, bytes(32), "now")


# --- key files --------------------------------------------------------------------------------


def test_keypair_files_are_standard_pem_private_0600_and_never_overwritten(tmp_path: Path) -> None:
    """keygen writes PKCS#8 (mode 0600) and SubjectPublicKeyInfo PEM that cryptography reads as Ed25519,
    and refuses to write over an existing key."""
    signer = write_keypair(tmp_path / "keys")
    private, public = tmp_path / "keys" / "private.pem", tmp_path / "keys" / "public.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert isinstance(serialization.load_pem_private_key(private.read_bytes(), None), Ed25519PrivateKey)
    assert Signer(load_private_key(private)).key_id == signer.key_id
    before = private.read_bytes()
    with pytest.raises(KeyFileError, match="overwrite"):
        write_keypair(tmp_path / "keys")
    assert private.read_bytes() == before


def _pem_files(tmp_path: Path) -> dict[str, Path]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed = Ed25519PrivateKey.generate()
    files = {
        "rsa_private": rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()),
        "rsa_public": rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo),
        "ec_private": ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()),
        "encrypted": ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"secret")),
        "ed_private": ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()),
        "ed_public": ed.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo),
        "garbage": b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
        "binary": bytes(range(256)),
        "empty": b"",
    }
    out = {}
    for name, data in files.items():
        out[name] = tmp_path / f"{name}.pem"
        out[name].write_bytes(data)
    out["missing"] = tmp_path / "missing.pem"
    out["directory"] = tmp_path
    return out


def test_wrong_unreadable_or_non_ed25519_key_files_raise_key_file_error(tmp_path: Path) -> None:
    """Every key file but the right kind of Ed25519 PEM raises KeyFileError (an EceiRulesError) with its path."""
    files = _pem_files(tmp_path)
    assert issubclass(KeyFileError, EceiRulesError)
    for name, path in files.items():
        if name != "ed_private":
            with pytest.raises(KeyFileError, match=str(path.name)):
                load_private_key(path)
        if name != "ed_public":
            with pytest.raises(KeyFileError, match=str(path.name)):
                load_public_key(path)
    load_private_key(files["ed_private"])
    load_public_key(files["ed_public"])


# --- the log keeps them -----------------------------------------------------------------------


def test_each_append_transaction_stores_one_checkpoint_whose_root_is_the_reference_mth(
        signed_log: SignedLog) -> None:
    """Checkpoints stand at 250, 500, 750, 1,000 (250 per transaction) then every 100 to 1,500; each root
    is the reference MTH of the stored record hashes at its size, and each signature verifies."""
    stored = checkpoints(signed_log.path)
    assert [c["size"] for c in stored] == [250, 500, 750, 1000, *range(1100, 1501, 100)]
    for cp in stored:
        assert cp["root"] == reference_root(signed_log.path, cp["size"])
        assert cp["time"] == AT  # the decision time of the records it covers
        assert checkpoint_problem(Checkpoint.from_json(cp), signed_log.signer.public_key) is None
    assert verify(open_rows(signed_log.path)).findings == []
    assert check_checkpoints(read_state(signed_log.path), signed_log.signer.public_key) == []


def test_records_and_their_checkpoint_commit_together(log_copy: Path, signed_log: SignedLog,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """When signing fails inside an append, the records of that append are rolled back with it."""
    items = decided_examples(Registry.shipped())
    before = len(list(open_rows(log_copy)))

    def broken(*args: object) -> None:
        raise RuntimeError("the signer died")

    monkeypatch.setattr(Signer, "sign", broken)
    with pytest.raises(RuntimeError, match="died"):
        append(log_copy, items, 5, signer=signed_log.signer, chunk=5)
    assert len(list(open_rows(log_copy))) == before
    assert checkpoints(log_copy)[-1]["size"] == before


def test_a_log_bound_to_one_key_refuses_another(log_copy: Path) -> None:
    """Appending to a bound log with another key raises LogError and adds nothing."""
    items = decided_examples(Registry.shipped())
    with DecisionLog(log_copy) as log, pytest.raises(LogError, match="bound"):
        enable_checkpoints(log, Signer.generate())
    count = len(list(open_rows(log_copy)))
    with DecisionLog(log_copy) as log:
        log.before_commit = CheckpointWriter(Signer.generate())  # the hook checks the binding too
        with pytest.raises(LogError, match="bound"):
            log.append_many(items[:1], decided_at=AT)
    assert len(list(open_rows(log_copy))) == count


def test_the_tree_is_rebuilt_from_stored_hashes_after_unsigned_appends_or_a_lost_frontier(
        tmp_path: Path) -> None:
    """Records appended without the key, then with it, and a frontier removed from the log: the next
    checkpoint's root is still the reference MTH of every stored record."""
    items = decided_examples(Registry.shipped())
    signer = Signer.generate()
    path = tmp_path / "mixed.db"
    append(path, items, 13, signer=None, chunk=13)
    append(path, items, 4, signer=signer, chunk=2)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM meta WHERE key = 'merkle_frontier'")
    append(path, items, 3, signer=signer, chunk=1)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '{\"size\": 20, \"head\": \"x\", \"nodes\": []}' "
                   "WHERE key = 'merkle_frontier'")
    append(path, items, 9, signer=signer, chunk=9)
    stored = checkpoints(path)
    assert [c["size"] for c in stored] == [15, 17, 18, 19, 20, 29]
    for cp in stored:
        assert cp["root"] == reference_root(path, cp["size"])


# --- what they catch ----------------------------------------------------------------------------


def test_a_chain_rehashed_without_the_key_passes_the_chain_check_but_not_the_checkpoints(
        log_copy: Path, signed_log: SignedLog) -> None:
    """An attacker edits record 600's label and recomputes every hash and prev_hash after it with the
    library's own functions: verify's chain check finds nothing, the checkpoints find the edit between
    the last checkpoint that holds (500) and the first that does not (750)."""
    rehash_from(log_copy, 600, {"label": "gold"})
    assert verify(open_rows(log_copy)).findings == []
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert _kinds(findings) == {"checkpoint_root", "unsigned"}
    first = min(findings, key=lambda f: f.seq)
    assert first.seq == 501
    assert "501-750" in first.message


def test_a_removed_tail_shows_as_checkpoints_beyond_the_log(log_copy: Path, signed_log: SignedLog) -> None:
    """Deleting the last 50 records leaves a checkpoint that counts more records than the log holds, and
    records 1,401-1,450 after the last checkpoint that holds."""
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM records WHERE seq > 1450")
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert sorted((f.code, f.seq) for f in findings) == [("checkpoint_beyond", 1451), ("unsigned", 1401)]


def test_a_record_deleted_from_the_middle_is_not_named_as_a_removed_tail(log_copy: Path, signed_log: SignedLog) -> None:
    """One record deleted from the middle leaves the last checkpoint counting one record more than the
    log: the finding says how many were removed, not that the records at the end were."""
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM records WHERE seq = 700")
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    beyond = [f for f in findings if f.code == "checkpoint_beyond"]
    assert len(beyond) == 1
    assert "1 record(s) were removed since" in beyond[0].message
    assert "1500-1500" not in beyond[0].message


def test_records_after_the_last_checkpoint_are_reported(log_copy: Path, signed_log: SignedLog) -> None:
    """Records appended to a bound log without the key (or whose checkpoints were deleted) are covered by
    no signature, and say so."""
    append(log_copy, decided_examples(Registry.shipped()), 3, signer=None, chunk=3)
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert [(f.code, f.seq) for f in findings] == [("unsigned", 1501)]
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM checkpoints WHERE size > 1000")
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert [(f.code, f.seq) for f in findings] == [("unsigned", 1001)]


def test_a_checkpoint_signed_by_another_key_or_with_a_changed_root_is_reported(
        log_copy: Path, signed_log: SignedLog) -> None:
    """Replacing a stored checkpoint by one another key signed, or editing its root, is a finding."""
    other = Signer.generate()
    with sqlite3.connect(log_copy) as db:
        db.execute("UPDATE checkpoints SET body = ? WHERE size = 500",
                   (other.sign(500, bytes.fromhex(reference_root(log_copy, 500)), AT).text(),))
        body = json.loads(db.execute("SELECT body FROM checkpoints WHERE size = 750").fetchone()[0])
        body["root"] = hashlib.sha256(b"x").hexdigest()
        db.execute("UPDATE checkpoints SET body = ? WHERE size = 750", (json.dumps(body),))
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert [(f.code, f.seq) for f in findings] == [("checkpoint_signature", 500), ("checkpoint_signature", 750)]
    assert check_checkpoints(read_state(log_copy), other.public_key)  # and the other key vouches for nothing else


def test_consistency_from_the_kept_checkpoint_of_1000_holds_for_the_grown_log(signed_log: SignedLog) -> None:
    """The log grew from 1,000 to 1,500 records: it still begins with the kept checkpoint's tree, and the
    consistency proof from 1,000 to 1,500 is the reference PROOF and verifies between the two signed roots."""
    state = read_state(signed_log.path)
    kept = Checkpoint.from_json(signed_log.kept)
    assert check_since(state, kept, signed_log.signer.public_key) == []
    leaves = [bytes.fromhex(h) for h in state.hashes]
    proof = consistency_between(state, 1000, 1500)
    assert proof == [p.hex() for p in PROOF(1000, leaves)]
    latest = checkpoints(signed_log.path)[-1]
    assert latest["root"] == MTH(leaves).hex()
    assert merkle.verify_consistency(1000, 1500, bytes.fromhex(kept.root), bytes.fromhex(latest["root"]),
                                     [bytes.fromhex(p) for p in proof])


def test_a_log_rewritten_since_the_kept_checkpoint_fails_consistency(log_copy: Path,
                                                                      signed_log: SignedLog) -> None:
    """Record 10 edited and the chain re-hashed: the log no longer begins with the kept tree."""
    rehash_from(log_copy, 10, {"label": "none"})
    kept = Checkpoint.from_json(signed_log.kept)
    assert _kinds(check_since(read_state(log_copy), kept, signed_log.signer.public_key)) == {"since_rewritten"}


def test_a_key_holder_who_rewrites_and_resigns_passes_key_but_not_since(log_copy: Path,
                                                                        signed_log: SignedLog) -> None:
    """The limit of a signature: whoever holds the key can re-sign a rewritten log, and verify --key
    then holds; only a checkpoint kept outside the log before the rewrite (verify --since) shows it."""
    rehash_from(log_copy, 10, {"label": "none"})
    resign_all(log_copy, signed_log.signer)
    state = read_state(log_copy)
    assert check_checkpoints(state, signed_log.signer.public_key) == []
    assert _kinds(check_since(state, Checkpoint.from_json(signed_log.kept), None)) == {"since_rewritten"}


def test_a_tail_cut_with_its_checkpoints_shows_only_against_a_kept_checkpoint(log_copy: Path,
                                                                               signed_log: SignedLog) -> None:
    """Cutting records 901-1,500 and every checkpoint beyond 750 leaves a log whose checkpoints all hold;
    the checkpoint of 1,000 kept outside shows the cut."""
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM records WHERE seq > 750")
        db.execute("DELETE FROM checkpoints WHERE size > 750")
    state = read_state(log_copy)
    assert check_checkpoints(state, signed_log.signer.public_key) == []
    findings = check_since(state, Checkpoint.from_json(signed_log.kept), signed_log.signer.public_key)
    assert [(f.code, f.seq) for f in findings] == [("since_shrunk", 751)]


def test_a_signed_append_refuses_to_sign_over_a_log_with_a_gap(log_copy: Path, signed_log: SignedLog) -> None:
    """A record removed from the middle (and the stored tree lost): the next signed append raises LogError
    rather than sign a tree of the wrong records, and adds nothing."""
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM records WHERE seq = 700")
        db.execute("DELETE FROM meta WHERE key = 'merkle_frontier'")
    before = len(list(open_rows(log_copy)))
    with pytest.raises(LogError, match="run verify"):
        append(log_copy, decided_examples(Registry.shipped()), 1, signer=signed_log.signer, chunk=1)
    assert len(list(open_rows(log_copy))) == before


# --- repair and import of a signed log ----------------------------------------------------------


def _break(path: Path, seq: int) -> None:
    """Edit record ``seq``'s label without recomputing its hash (it no longer matches its hash)."""
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
        data = json.loads(body)
        data["decision"]["label"] = "gold" if data["decision"]["label"] != "gold" else "none"
        db.execute("UPDATE records SET body = ? WHERE seq = ?", (rfc8785.dumps(data).decode(), seq))


def test_repair_refuses_to_remove_records_a_checkpoint_signs(log_copy: Path) -> None:
    """A record signed by a checkpoint no longer matches its hash: repair (and its dry run) refuses with
    LogError, naming the signed records and the first bad one, and changes nothing (records and
    checkpoints stay); the command says so with "error:" and exits 2."""
    from ecei_rules.audit.repair import repair

    _break(log_copy, 700)
    before = ([r.text for r in open_rows(log_copy)], checkpoints(log_copy))
    for dry_run in (True, False):
        with pytest.raises(LogError, match=r"is signed: its checkpoints vouch for records 1-1500.*position 700"):
            repair(log_copy, dry_run=dry_run)
    assert ([r.text for r in open_rows(log_copy)], checkpoints(log_copy)) == before
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    result = CliRunner().invoke(app, ["repair", str(log_copy)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert "a repair never removes signed records" in " ".join(result.output.split())
    assert ([r.text for r in open_rows(log_copy)], checkpoints(log_copy)) == before


def test_repair_removes_an_unsigned_tail_and_keeps_every_checkpoint(log_copy: Path, signed_log: SignedLog) -> None:
    """Records appended without the key after the last checkpoint (1,500), one of them broken: repair
    removes the broken one and those after it, keeps every checkpoint, and the checkpoints still hold."""
    from ecei_rules.audit.repair import repair

    append(log_copy, decided_examples(Registry.shipped()), 10, signer=None, chunk=10)
    _break(log_copy, 1505)
    stored = checkpoints(log_copy)
    plan = repair(log_copy)
    assert (plan.kept, plan.removed_seqs) == (1504, list(range(1505, 1511)))
    assert checkpoints(log_copy) == stored
    findings = check_checkpoints(read_state(log_copy), signed_log.signer.public_key)
    assert [(f.code, f.seq) for f in findings] == [("unsigned", 1501)]


def test_import_refuses_a_log_that_holds_checkpoints(log_copy: Path, tmp_path: Path) -> None:
    """Importing an export into a log emptied of its records but still holding its checkpoints is refused
    (they sign other records); into a new log it works, and the imported log holds no checkpoint."""
    out = tmp_path / "log.jsonl"
    with DecisionLog(log_copy) as log:
        log.export_jsonl(out)
    with sqlite3.connect(log_copy) as db:
        db.execute("DELETE FROM records")
    with DecisionLog(log_copy) as log, pytest.raises(LogError, match="holds 9 signed checkpoint"):
        log.import_rows(read_jsonl(out))
    assert list(open_rows(log_copy)) == []
    with DecisionLog(tmp_path / "new.db") as log:
        assert log.import_rows(read_jsonl(out)) == 1500
    assert read_state(tmp_path / "new.db").checkpoints == []


def test_an_append_rolled_back_after_signing_leaves_the_next_checkpoint_right(tmp_path: Path,
                                                                              signed_log: SignedLog) -> None:
    """The writer keeps the frontier it signed for its next append; when that append's COMMIT fails after
    the checkpoint was made (the records and the checkpoint roll back), the next append starts from the
    log's real head, and every stored checkpoint's root is the reference MTH of the records at its size."""
    items = decided_examples(Registry.shipped())
    path = tmp_path / "log.db"
    with DecisionLog(path) as log:
        enable_checkpoints(log, signed_log.signer)
        log.append_many(items[:3], decided_at=AT)
        db = log._db

        class _FailingCommit:
            in_transaction = property(lambda self: db.in_transaction)

            def execute(self, sql: str, *args: object) -> object:
                if sql.split()[0] == "COMMIT":
                    raise sqlite3.OperationalError("disk I/O error")
                return db.execute(sql, *args)

        log._db = _FailingCommit()  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError):
            log.append_many(items[:2], decided_at=AT)
        log._db = db
        assert len(log) == 3
        log.append_many(items[:4], decided_at=AT)
        log.append_many(items[:1], decided_at=AT)
    stored = checkpoints(path)
    assert [c["size"] for c in stored] == [3, 7, 8]
    for cp in stored:
        assert cp["root"] == reference_root(path, cp["size"])
    assert check_checkpoints(read_state(path), signed_log.signer.public_key) == []
