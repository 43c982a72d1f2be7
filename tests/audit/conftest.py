"""A signed log shared by the checkpoint and receipt tests (built once, copied for each attack)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from proof_helpers import append, checkpoints, decided_examples

from ecei_rules.audit.checkpoint import Signer
from ecei_rules.registry import Registry


@dataclass(frozen=True)
class SignedLog:
    path: Path
    signer: Signer
    public_pem: Path
    private_pem: Path
    kept: dict  # the checkpoint of 1,000 records, as an auditor keeps it
    kept_file: Path


@pytest.fixture(scope="session")
def signed_log(tmp_path_factory: pytest.TempPathFactory) -> SignedLog:
    """1,000 records appended 250 per transaction with a signer (checkpoints at 250 ... 1,000); the
    checkpoint of 1,000 kept outside; then 500 more, 100 per transaction (checkpoints up to 1,500)."""
    folder = tmp_path_factory.mktemp("signed")
    signer = Signer.generate()
    (folder / "private.pem").write_bytes(signer.private_pem())
    (folder / "public.pem").write_bytes(signer.public_pem())
    items = decided_examples(Registry.shipped())
    path = folder / "signed.db"
    append(path, items, 1000, signer=signer, chunk=250)
    kept = checkpoints(path)[-1]
    (folder / "kept.json").write_text(json.dumps(kept))
    append(path, items, 500, signer=signer, chunk=100)
    return SignedLog(path, signer, folder / "public.pem", folder / "private.pem", kept, folder / "kept.json")


@pytest.fixture
def log_copy(signed_log: SignedLog, tmp_path: Path) -> Path:
    """A private copy of the signed log, to attack."""
    target = tmp_path / "copy.db"
    with sqlite3.connect(signed_log.path) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
