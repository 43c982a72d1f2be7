"""The command line of checkpoints and receipts: keygen, record --key, checkpoint, receipt,
check-receipt, verify --key/--since. Exit 0 when it holds, 1 with a one-line cause, 2 for usage
errors and unreadable files, and never a traceback."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from proof_helpers import AT, ROOT, SignedLog, rehash_from
from rfc9162_reference import MTH, PATH
from typer.testing import CliRunner

from ecei_rules.audit.checkpoint import Signer
from ecei_rules.cli.app import app

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
runner = CliRunner()


def run(*args: Any) -> Any:
    result = runner.invoke(app, [str(a) for a in args])
    # a bad file is a message and an exit code, never an exception escaping the command
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _public(pem: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    return key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys") / "keys"
    result = run("keygen", "--out", folder)
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory, keys: Path) -> Path:
    """The examples recorded with --key, one transaction (and one checkpoint) per record (shared: tests
    that change a log change a copy)."""
    log = tmp_path_factory.mktemp("small") / "d.db"
    result = run("record", *EXAMPLES, "--log", log, "--key", keys / "private.pem", "--at", AT)
    assert result.exit_code == 0, result.output
    return log


def _receipt(log: Path, seq: int, tmp_path: Path) -> dict:
    out = tmp_path / f"receipt-{seq}.json"
    result = run("receipt", log, "--record", seq, "--out", out)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def _check(receipt: dict, key: Path, tmp_path: Path) -> Any:
    path = tmp_path / "check.json"
    path.write_text(json.dumps(receipt))
    return run("check-receipt", path, "--key", key)


# --- keygen -------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_private_key_and_refuses_to_overwrite(keys: Path) -> None:
    """keygen writes private.pem (0600) and public.pem, prints the key id, and exits 2 rather than overwrite."""
    assert (keys / "private.pem").stat().st_mode & 0o777 == 0o600
    raw = _public(keys / "public.pem").public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    before = (keys / "private.pem").read_bytes()
    again = run("keygen", "--out", keys)
    assert again.exit_code == 2
    assert "overwrite" in again.output
    assert (keys / "private.pem").read_bytes() == before
    assert hashlib.sha256(raw).hexdigest()  # the id keygen printed is the hash of this key:
    fresh = run("keygen", "--out", keys.parent / "other")
    other_raw = _public(keys.parent / "other" / "public.pem").public_bytes(serialization.Encoding.Raw,
                                                                           serialization.PublicFormat.Raw)
    assert hashlib.sha256(other_raw).hexdigest() in fresh.output


# --- record --key and checkpoint ----------------------------------------------------------------


def test_record_with_a_key_signs_a_checkpoint_an_auditor_can_check_independently(
        small_log: Path, keys: Path, tmp_path: Path) -> None:
    """'checkpoint' prints the latest checkpoint: the size of the log, the reference MTH of its record
    hashes, the decision time given by --at, and an Ed25519 signature that verifies (checked here with
    cryptography and rfc8785, not the library) over the domain-separated canonical JSON."""
    result = run("checkpoint", small_log)
    assert result.exit_code == 0, result.output
    cp = json.loads(result.output)
    with sqlite3.connect(small_log) as db:
        hashes = [bytes.fromhex(h) for (h,) in db.execute("SELECT hash FROM records ORDER BY seq")]
    assert cp["size"] == len(hashes) == len(EXAMPLES)
    assert cp["root"] == MTH(hashes).hex()
    assert cp["time"] == AT
    message = b"ecei-rules checkpoint v1\n" + rfc8785.dumps({k: v for k, v in cp.items() if k != "signature"})
    _public(keys / "public.pem").verify(base64.b64decode(cp["signature"]), message)
    out = run("checkpoint", small_log, "--out", tmp_path / "cp.json")
    assert out.exit_code == 0
    assert json.loads((tmp_path / "cp.json").read_text()) == cp


def test_a_bound_log_refuses_appends_without_its_key_or_with_another(small_log: Path, tmp_path: Path,
                                                                     keys: Path) -> None:
    """Once bound, 'record' without --key, or with another key, exits 2 and records nothing."""
    small_log = Path(shutil.copy(small_log, tmp_path / "mine.db"))
    run("keygen", "--out", tmp_path / "other")
    for extra in ([], ["--key", tmp_path / "other" / "private.pem"]):
        result = run("record", EXAMPLES[0], "--log", small_log, "--at", AT, *extra)
        assert result.exit_code == 2
        assert "bound" in result.output
    assert run("verify", small_log, "--key", keys / "public.pem").exit_code == 0


def test_record_with_a_bad_key_file_exits_2_without_a_traceback(tmp_path: Path, keys: Path) -> None:
    """A missing key, a public key, or a file that is not a key: exit 2 with the file named."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for key in (tmp_path / "missing.pem", keys / "public.pem", garbage):
        result = run("record", EXAMPLES[0], "--log", tmp_path / "x.db", "--key", key, "--at", AT)
        assert result.exit_code == 2
        assert key.name in result.output


def test_checkpoint_of_an_unsigned_log_is_a_finding(tmp_path: Path) -> None:
    """A log recorded without a key has no checkpoint to give: exit 1 with the cause."""
    log = tmp_path / "plain.db"
    run("record", EXAMPLES[0], "--log", log, "--at", AT)
    result = run("checkpoint", log)
    assert result.exit_code == 1
    assert "no checkpoint" in result.output
    assert run("checkpoint", tmp_path / "none.db").exit_code == 2


# --- receipts -----------------------------------------------------------------------------------


def test_every_receipt_checks_offline_and_carries_the_reference_path(small_log: Path, keys: Path,
                                                                     tmp_path: Path) -> None:
    """Each record's receipt holds its stored text, leaf index seq-1, the latest checkpoint's size and the
    reference PATH; check-receipt accepts it with the public key alone (the log moved away)."""
    small_log = Path(shutil.copy(small_log, tmp_path / "mine.db"))
    with sqlite3.connect(small_log) as db:
        rows = db.execute("SELECT seq, hash, body FROM records ORDER BY seq").fetchall()
    hashes = [bytes.fromhex(h) for _, h, _ in rows]
    receipts = [_receipt(small_log, seq, tmp_path) for seq, _, _ in rows]
    shutil.move(small_log, tmp_path / "elsewhere.db")  # offline: the check needs no log
    for (seq, _, body), receipt in zip(rows, receipts, strict=True):
        assert receipt["record"] == body
        assert receipt["leaf_index"] == seq - 1
        assert receipt["tree_size"] == len(rows) == receipt["checkpoint"]["size"]
        assert receipt["inclusion_proof"] == [p.hex() for p in PATH(seq - 1, hashes)]
        result = _check(receipt, keys / "public.pem", tmp_path)
        assert result.exit_code == 0, result.output
        assert "ok" in result.output


def _flip_hex(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


def _tamper(receipt: dict, how: str, signer_key: Signer | None = None) -> dict:
    r = copy.deepcopy(receipt)
    if how == "label":
        body = json.loads(r["record"])
        body["decision"]["label"] = "gold" if body["decision"]["label"] != "gold" else "none"
        r["record"] = rfc8785.dumps(body).decode()
    elif how == "label_rehashed":
        body = json.loads(r["record"])
        body["decision"]["label"] = "gold" if body["decision"]["label"] != "gold" else "none"
        body.pop("hash")
        body["hash"] = hashlib.sha256(rfc8785.dumps(body)).hexdigest()
        r["record"] = rfc8785.dumps(body).decode()
    elif how == "surrogate":  # a lone surrogate in the record text: not even encodable
        body = json.loads(r["record"])
        body["decision"]["organisation"] = "\udcff"
        r["record"] = json.dumps(body, ensure_ascii=False)
    elif how.startswith("flip_"):
        i = int(how.split("_")[1])
        r["inclusion_proof"][i] = _flip_hex(r["inclusion_proof"][i])
    elif how == "drop":
        r["inclusion_proof"].pop()
    elif how == "add":
        r["inclusion_proof"].append(hashlib.sha256(b"x").hexdigest())
    elif how == "swap":
        r["inclusion_proof"][0], r["inclusion_proof"][1] = r["inclusion_proof"][1], r["inclusion_proof"][0]
    elif how == "not_hex":
        r["inclusion_proof"][0] = "zz" * 32
    elif how == "short":
        r["inclusion_proof"][0] = r["inclusion_proof"][0][:62]
    elif how == "index":
        r["leaf_index"] += 1
    elif how == "size":
        r["tree_size"] += 1
    elif how in ("cp_root", "cp_size", "cp_time"):
        field = how[3:]
        value = {"root": _flip_hex(r["checkpoint"]["root"]), "size": r["checkpoint"]["size"] + 1,
                 "time": "2030-01-01T00:00:00+00:00"}[field]
        r["checkpoint"][field] = value
        if field == "size":
            r["tree_size"] = value
    elif how == "resigned":  # the attacker signs a checkpoint of their own over the receipt's root
        assert signer_key is not None
        r["checkpoint"] = signer_key.sign(r["tree_size"], bytes.fromhex(r["checkpoint"]["root"]), AT).to_json()
    elif how == "resigned_as_owner":  # ... and puts the owner's key id on it
        assert signer_key is not None
        forged = signer_key.sign(r["tree_size"], bytes.fromhex(r["checkpoint"]["root"]), AT).to_json()
        r["checkpoint"] = {**forged, "key_id": r["checkpoint"]["key_id"]}
    else:
        raise AssertionError(how)
    return r


@pytest.mark.parametrize(("how", "cause"), [
    ("label", "does not match its hash"),
    ("label_rehashed", "inclusion proof does not lead"),
    ("surrogate", "does not match its hash"),
    ("flip_0", "inclusion proof does not lead"),
    ("flip_1", "inclusion proof does not lead"),
    ("flip_2", "inclusion proof does not lead"),
    ("drop", "inclusion proof does not lead"),
    ("add", "inclusion proof does not lead"),
    ("swap", "inclusion proof does not lead"),
    ("not_hex", "not a 32-byte hash"),
    ("short", "not a 32-byte hash"),
    ("index", "places it at leaf"),
    ("size", "tree size"),
    ("cp_root", "signature does not verify"),
    ("cp_size", "signature does not verify"),
    ("cp_time", "signature does not verify"),
    ("resigned", "names key"),
    ("resigned_as_owner", "signature does not verify"),
])
def test_a_tampered_receipt_fails_with_its_cause(small_log: Path, keys: Path, tmp_path: Path, how: str,
                                                 cause: str) -> None:
    """Each way of tampering with a receipt (the record, the proof, the index, the size, the checkpoint,
    a checkpoint signed by another key) exits 1 with a one-line cause that names what failed."""
    receipt = _receipt(small_log, 3, tmp_path)
    assert len(receipt["inclusion_proof"]) >= 3
    result = _check(_tamper(receipt, how, Signer.generate()), keys / "public.pem", tmp_path)
    assert result.exit_code == 1, result.output
    assert cause in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_receipt_checked_with_another_key_fails(small_log: Path, tmp_path: Path) -> None:
    """The right receipt with someone else's public key: exit 1, the checkpoint names another key."""
    receipt = _receipt(small_log, 1, tmp_path)
    run("keygen", "--out", tmp_path / "other")
    result = _check(receipt, tmp_path / "other" / "public.pem", tmp_path)
    assert result.exit_code == 1
    assert "names key" in result.output


def test_unreadable_receipts_and_keys_exit_2_without_a_traceback(small_log: Path, keys: Path,
                                                                  tmp_path: Path) -> None:
    """Not JSON, not an object, missing fields, wrong types, a missing file; a private key, an RSA key or a
    missing key given as --key: exit 2 with a message, no traceback."""
    receipt = _receipt(small_log, 2, tmp_path)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(receipt))
    bad_documents = ["{", "[]", "null", json.dumps({**receipt, "inclusion_proof": "ab"}),
                     json.dumps({k: v for k, v in receipt.items() if k != "checkpoint"}),
                     json.dumps({**receipt, "leaf_index": "1"}), json.dumps({**receipt, "format": 9}),
                     json.dumps({**receipt, "checkpoint": {**receipt["checkpoint"], "root": 5}}),
                     json.dumps({**receipt, "record": {"seq": 1}}), "\udcff"]
    for i, text in enumerate(bad_documents):
        path = tmp_path / f"bad{i}.json"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        result = run("check-receipt", path, "--key", keys / "public.pem")
        assert result.exit_code == 2, (text, result.output)
    assert run("check-receipt", tmp_path / "missing.json", "--key", keys / "public.pem").exit_code == 2
    rsa_pem = tmp_path / "rsa.pem"
    rsa_pem.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    for key in (keys / "private.pem", rsa_pem, tmp_path / "missing.pem", good):
        result = run("check-receipt", good, "--key", key)
        assert result.exit_code == 2, result.output
        assert key.name in result.output


def test_a_record_not_yet_covered_or_out_of_range_has_no_receipt(small_log: Path, tmp_path: Path) -> None:
    """A record beyond the log: exit 1 with the range; a JSONL export or a missing log: exit 2 or 1."""
    result = run("receipt", small_log, "--record", 99)
    assert result.exit_code == 1
    assert "not record 99" in result.output
    assert run("receipt", tmp_path / "none.db", "--record", 1).exit_code == 2


# --- verify --key / --since -----------------------------------------------------------------------


def test_verify_key_passes_a_clean_log_and_catches_a_rehashed_chain(signed_log: SignedLog, log_copy: Path) -> None:
    """verify --key exits 0 on the signed log; after an edit whose chain was re-hashed (which plain verify
    no longer sees) it exits 1 naming the first checkpoint that does not hold."""
    assert run("verify", signed_log.path, "--key", signed_log.public_pem).exit_code == 0
    rehash_from(log_copy, 1200, {"label": "gold"})
    assert run("verify", log_copy).exit_code == 0
    result = run("verify", log_copy, "--key", signed_log.public_pem)
    assert result.exit_code == 1
    assert "checkpoint_root" in result.output
    assert "1101-1200" in result.output


def test_verify_key_with_another_key_fails(signed_log: SignedLog, tmp_path: Path) -> None:
    """Someone else's public key vouches for none of the checkpoints: exit 1."""
    run("keygen", "--out", tmp_path / "other")
    result = run("verify", signed_log.path, "--key", tmp_path / "other" / "public.pem")
    assert result.exit_code == 1
    assert "checkpoint_signature" in result.output


def test_verify_since_holds_for_a_grown_log_and_fails_for_a_rewritten_one(signed_log: SignedLog,
                                                                          log_copy: Path) -> None:
    """The checkpoint of 1,000 kept by an auditor: the log grown to 1,500 passes --since (with and without
    --key); the same log with record 10 rewritten and its chain re-hashed fails it."""
    assert run("verify", signed_log.path, "--since", signed_log.kept_file).exit_code == 0
    both = run("verify", signed_log.path, "--key", signed_log.public_pem, "--since", signed_log.kept_file)
    assert both.exit_code == 0
    assert "grew to 1500" in both.output
    rehash_from(log_copy, 10, {"label": "none"})
    result = run("verify", log_copy, "--since", signed_log.kept_file)
    assert result.exit_code == 1
    assert "since_rewritten" in result.output


def test_verify_since_checks_a_jsonl_export_too(signed_log: SignedLog, tmp_path: Path) -> None:
    """An export of the signed log still begins with the kept tree; --key on an export is a usage error."""
    export = tmp_path / "export.jsonl"
    assert run("export", signed_log.path, export).exit_code == 0
    assert run("verify", export, "--since", signed_log.kept_file).exit_code == 0
    assert run("verify", export, "--key", signed_log.public_pem).exit_code == 2


def test_verify_with_unreadable_key_or_checkpoint_files_exits_2(signed_log: SignedLog, tmp_path: Path) -> None:
    """A --since file that is not JSON or not a checkpoint, a --key that is not an Ed25519 public key, or
    either option on a rulesets directory: exit 2, no traceback."""
    not_json = tmp_path / "nj.json"
    not_json.write_text("{")
    not_cp = tmp_path / "ncp.json"
    not_cp.write_text(json.dumps({**signed_log.kept, "size": -1}))
    for args in (["--since", not_json], ["--since", not_cp], ["--since", tmp_path / "missing.json"],
                 ["--key", not_json], ["--key", signed_log.private_pem]):
        result = run("verify", signed_log.path, *args)
        assert result.exit_code == 2, (args, result.output)
    assert run("verify", ROOT / "rulesets", "--key", signed_log.public_pem).exit_code == 2


def test_check_receipt_json_output_says_ok_or_the_cause(small_log: Path, keys: Path, tmp_path: Path) -> None:
    """--format json: {"ok": true, "cause": null} and exit 0 for a good receipt; ok false with the cause and
    exit 1 for a tampered one."""
    receipt = _receipt(small_log, 4, tmp_path)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(receipt))
    good = run("check-receipt", path, "--key", keys / "public.pem", "--format", "json")
    assert good.exit_code == 0
    assert json.loads(good.output)["ok"] is True
    assert json.loads(good.output)["cause"] is None
    path.write_text(json.dumps(_tamper(receipt, "index")))
    bad = run("check-receipt", path, "--key", keys / "public.pem", "--format", "json")
    assert bad.exit_code == 1
    assert json.loads(bad.output)["ok"] is False
    assert "places it at leaf" in json.loads(bad.output)["cause"]
