"""Forged receipts: a receipt's record text must be exactly the bytes the log stores, whose SHA-256
is the leaf the inclusion proof starts from. Every text here reads, to a lenient reader, as a record
of the log (or as the same record), and check-receipt must refuse each with its one-line cause
(exit 1); a size or an index no signed message can hold is not a receipt (exit 2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from proof_helpers import AT, ROOT, run_cli
from typer.testing import Result

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))




@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The examples recorded with a key (one checkpoint per record): the public key and record 2's receipt."""
    folder = tmp_path_factory.mktemp("receipts")
    assert run_cli("keygen", "--out", folder / "keys").exit_code == 0
    log = folder / "log.db"
    recorded = run_cli("record", *EXAMPLES, "--log", log, "--key", folder / "keys" / "private.pem", "--at", AT)
    assert recorded.exit_code == 0, recorded.output
    made = run_cli("receipt", log, "--record", 2, "--out", folder / "receipt.json")
    assert made.exit_code == 0, made.output
    return folder / "keys" / "public.pem", json.loads((folder / "receipt.json").read_text())


def _check(receipt: dict[str, Any], key: Path, tmp_path: Path) -> Result:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    return run_cli("check-receipt", path, "--key", key)


def _reordered_and_rehashed(text: str) -> str:
    """The same members in reverse order, compact, with the hash member (right after "format") recomputed over
    that text: its hash matches it as given, but it is not the canonical JSON the log stores."""
    data = json.loads(text)
    without = {k: data[k] for k in sorted(data, reverse=True) if k != "hash"}
    body = json.dumps(without, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(body.encode()).hexdigest()
    assert body.count('"format":1,') == 1
    return body.replace('"format":1,', f'"format":1,"hash":"{digest}",', 1)


def _spaced_and_rehashed(text: str) -> str:
    """Another form of the same record (spaces after separators) whose hash member is that form's hash:
    consistent on its own, but not the leaf the log signed."""
    data = json.loads(text)
    without = {k: v for k, v in data.items() if k != "hash"}
    body = json.dumps(without, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(body.encode()).hexdigest()
    return body.replace('"format": 1, ', f'"format": 1, "hash": "{digest}", ', 1)


def _relabelled(text: str) -> str:
    """Canonical and consistent on its own (another label, the hash recomputed), but not the logged leaf."""
    data = json.loads(text)
    data["decision"]["label"] = "gold" if data["decision"]["label"] != "gold" else "none"
    data["hash"] = hashlib.sha256(rfc8785.dumps({k: v for k, v in data.items() if k != "hash"})).hexdigest()
    return rfc8785.dumps(data).decode()


@pytest.mark.parametrize(("name", "forge", "cause"), [
    # a first-wins reader (or a person) reads gold; the log stores bronze (or whatever record 2's label is)
    ("duplicate label", lambda t: t.replace('"label":', '"label":"gold","label":', 1),
     "the receipt's record holds the member 'label' twice: it is not the text the log stores"),
    ("duplicate seq", lambda t: t.replace('"seq":2,', '"seq":1,"seq":2,', 1),
     "the receipt's record holds the member 'seq' twice"),
    ("spaces", lambda t: t.replace('","', '", "'),
     "record 2's text is not its canonical JSON (RFC 8785) and does not match its hash: the record was altered"),
    ("seq as a string", lambda t: t.replace('"seq":2,', '"seq":"2",', 1),
     "the receipt's record is not a decision record: its seq is \"2\", not a whole number from 1"),
    ("seq as 2.0", lambda t: t.replace('"seq":2,', '"seq":2.0,', 1),
     "the receipt's record is not a decision record: its seq is 2.0, not a whole number from 1"),
    ("members reordered, rehashed", _reordered_and_rehashed,
     "record 2's text is not its canonical JSON (RFC 8785): it is not the text the log stores, byte for byte"),
    ("another form, rehashed", _spaced_and_rehashed,
     "record 2's text is not its canonical JSON (RFC 8785) and does not match its hash"),
    ("label changed, rehashed", _relabelled, "the inclusion proof does not lead from record 2"),
])
def test_a_receipt_whose_record_is_not_the_logged_bytes_fails(signed: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                               name: str, forge: Any, cause: str) -> None:
    """Each forged record text, in an otherwise genuine receipt: exit 1 with its cause (each was accepted,
    exit 0, when the record's hash was recomputed from a leniently parsed record)."""
    key, receipt = signed
    text = receipt["record"]
    forged = forge(text)
    assert forged != text, name
    assert _check(receipt, key, tmp_path).exit_code == 0
    result = _check({**receipt, "record": forged}, key, tmp_path)
    assert result.exit_code == 1, (name, result.output)
    assert cause in " ".join(result.output.split()), (name, result.output)
    assert len(result.output.strip().splitlines()) == 1


def test_the_logged_text_is_accepted_and_is_canonical(signed: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The counterpart: the receipt's text is the record's RFC 8785 form (as rfc8785 writes it), and checks."""
    key, receipt = signed
    assert rfc8785.dumps(json.loads(receipt["record"])).decode() == receipt["record"]
    assert _check(receipt, key, tmp_path).exit_code == 0


@pytest.mark.parametrize(("field", "value"), [("tree_size", 2**53), ("leaf_index", 2**53), ("tree_size", 2**64),
                                              ("checkpoint.size", 2**53)])
def test_sizes_and_indexes_beyond_2_to_the_53_are_not_a_receipt(signed: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                                 field: str, value: int) -> None:
    """A tree size, a leaf index or a checkpoint size of 2**53 or more (which RFC 8785, and so a signed
    message, cannot write): not a receipt, exit 2 with the field named (it was an internal error)."""
    key, receipt = signed
    forged = json.loads(json.dumps(receipt))
    if field == "checkpoint.size":
        forged["checkpoint"]["size"] = value
        named = "the receipt's checkpoint: a checkpoint's size is a whole number from 0 to 2**53 - 1"
    else:
        forged[field] = value
        named = f"a receipt's {field} is a whole number from 0 to 2**53 - 1"
    result = _check(forged, key, tmp_path)
    assert result.exit_code == 2, result.output
    assert "not a receipt" in result.output
    assert named in " ".join(result.output.split())
