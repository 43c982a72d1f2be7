"""Helpers for the checkpoint and receipt tests: building logs quickly, and attacking them as an
editor would, with the library's own functions."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import Result
from rfc9162_reference import MTH
from typer.testing import CliRunner

from ecei_rules.audit.checkpoint import Signer
from ecei_rules.audit.log import DecisionLog
from ecei_rules.audit.proofs import enable_checkpoints
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import canonical_json, sha256_hex
from ecei_rules.registry import Registry

ROOT = Path(__file__).parents[2]
AT = "2026-12-01T10:00:00+00:00"


def run_cli(*args: Any) -> Result:
    """The command, in this process: a forged or damaged file is a finding or a refusal, never an exception
    escaping the command, a traceback or an internal error."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result


def decided_examples(registry: Registry) -> list[tuple[Any, Any]]:
    """The shipped examples, decided: (decision, input) pairs to append over and over (each record
    differs by its seq and its chain, so every hash differs)."""
    items = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        data = json.loads(path.read_text())
        items.append((decide(data, registry=registry), data))
    return items


def append(path: Path, items: list[tuple[Any, Any]], count: int, *, signer: Signer | None, chunk: int,
           at: str = AT) -> None:
    """Append ``count`` records, ``chunk`` per transaction (with a signer: one checkpoint per transaction)."""
    with DecisionLog(path) as log:
        if signer is not None:
            enable_checkpoints(log, signer)
        start = len(log)
        for i in range(0, count, chunk):
            log.append_many([items[(start + j) % len(items)] for j in range(i, min(count, i + chunk))],
                            decided_at=at)


def stored_hashes(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [h for (h,) in db.execute("SELECT hash FROM records ORDER BY seq")]


def reference_root(path: Path, size: int) -> str:
    """The reference MTH (hex) of a log's first ``size`` records: leaf data = the raw record hash."""
    return MTH([bytes.fromhex(h) for h in stored_hashes(path)[:size]]).hex()


def checkpoints(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM checkpoints ORDER BY size")]


def rehash_from(path: Path, seq: int, edit: dict[str, Any]) -> None:
    """An attacker without the key: change record ``seq`` (top-level ``edit`` of its decision) and
    recompute its hash and every later record's prev_hash and hash as the library defines them
    (SHA-256 of the canonical JSON without ``hash``), so the chain verifies again (the tests check it).

    The edited record is rewritten with the library's canonical JSON; the later ones, whose text is
    already canonical, by replacing their prev_hash and hash members (the same bytes, faster)."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, body FROM records WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
        prev = None
        for number, body in rows:
            if number == seq:
                data = json.loads(body)
                data.pop("hash")
                data["decision"] = {**data["decision"], **edit}
                without = canonical_json(data).decode()
            else:
                data = json.loads(body)
                old_member = f'"hash":"{data["hash"]}",'
                without = body.replace(old_member, "", 1).replace(f'"prev_hash":"{data["prev_hash"]}"',
                                                                   f'"prev_hash":"{prev}"', 1)
            digest = sha256_hex(without.encode())
            text = without.replace('"format":1,', f'"format":1,"hash":"{digest}",', 1)
            db.execute("UPDATE records SET body = ?, hash = ?, prev_hash = ? WHERE seq = ?",
                       (text, digest, json.loads(text)["prev_hash"], number))
            prev = digest


def resign_all(path: Path, signer: Signer) -> None:
    """An attacker who holds the key: sign every checkpoint again over the log as it now is."""
    from ecei_rules.audit import merkle

    hashes = stored_hashes(path)
    with sqlite3.connect(path) as db:
        sizes = [s for (s,) in db.execute("SELECT size FROM checkpoints ORDER BY size")]
        for size in sizes:
            root = merkle.root([merkle.record_leaf(h) for h in hashes[:size]])
            db.execute("UPDATE checkpoints SET body = ? WHERE size = ?", (signer.sign(size, root, AT).text(), size))
        db.execute("DELETE FROM meta WHERE key = 'merkle_frontier'")


@dataclass(frozen=True)
class SignedLog:
    path: Path
    signer: Signer
    public_pem: Path
    private_pem: Path
    kept: dict  # the checkpoint of 1,000 records, as an auditor keeps it
    kept_file: Path
