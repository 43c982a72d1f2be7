"""Signed checkpoints kept with a decision log, inclusion receipts, and the checks that use them.

**Writing.** :func:`enable_checkpoints` binds a log to a signing key (the meta key
``signing_key_id``) and hooks its appends: in each append's own transaction the Merkle tree
(:mod:`ecei_rules.audit.merkle`) grows by the new records, and the checkpoint of the new size,
signed at the time of the last new record's ``decided_at``, is inserted in the ``checkpoints``
table (``size INTEGER PRIMARY KEY, body TEXT``). Records and their checkpoint commit together.
The tree's frontier (the roots of its perfect subtrees, O(log n) hashes) is kept in the meta
table with the size and head it belongs to, so each append costs O(log n) hashing; when it does
not belong to the log's current head (records appended without the key, a repair), it is
computed again from the stored hashes, once.

**Checking.** :func:`check_checkpoints` (``verify --key``): every checkpoint is signed by the
key and equals the Merkle root of the log's records at its size; no checkpoint counts more
records than the log holds; no record stands after the last checkpoint. A chain edited and
re-hashed by someone without the key passes the chain check but fails here.
:func:`check_since` (``verify --since``): the log still begins with the tree of a checkpoint
kept outside it (the log only grew), with the RFC 9162 consistency proof from it to the log's
latest checkpoint.

**Receipts.** :func:`make_receipt` gives one record's stored text with its inclusion proof
against the latest checkpoint; :func:`check_receipt` checks one offline with the public key
alone: the record's hash, the proof, the signature.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from ecei_rules.audit import merkle
from ecei_rules.audit.checkpoint import Checkpoint, CheckpointError, Signer, checkpoint_problem, key_id
from ecei_rules.audit.log import BUSY_TIMEOUT_MS, DecisionLog, LogError, not_the_log, refuse_non_regular
from ecei_rules.audit.record import DecisionRecord, parse_record
from ecei_rules.errors import EceiRulesError, Finding

KEY_META = "signing_key_id"
FRONTIER_META = "merkle_frontier"
RECEIPT_FORMAT = 1
_TABLE = "CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, body TEXT NOT NULL)"
_RECEIPT_FIELDS = ("checkpoint", "format", "inclusion_proof", "leaf_index", "record", "tree_size")


class ReceiptError(EceiRulesError, ValueError):
    """A document is not a well-formed receipt, or a receipt cannot be made."""


# --- writing ----------------------------------------------------------------------------------


class CheckpointWriter:
    """The append hook of a log bound to a key: grows the tree and signs the new size (see the module)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self._bound = False  # seen committed: the log was bound to this key (and has its table) before
        # the frontier this writer last stored, with the head it belongs to: used again only when the
        # next append starts from exactly that head (a rolled-back append leaves the log at an older one)
        self._last: tuple[str, merkle.Frontier] | None = None

    def __call__(self, db: sqlite3.Connection, records: list[DecisionRecord]) -> None:
        if not self._bound:
            bound = _meta(db, KEY_META)
            if bound is None:  # bind in this transaction (undone with it if it rolls back)
                db.execute(_TABLE)
                db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (KEY_META, self.signer.key_id))
            elif bound != self.signer.key_id:
                raise LogError(f"the log is bound to key {bound[:16]}…, not to this key "
                               f"({self.signer.key_id[:16]}…)")
            else:
                db.execute(_TABLE)
                self._bound = True
        first = records[0]
        last_stored = self._last
        if last_stored is not None and last_stored[0] == first.prev_hash \
                and last_stored[1].size == first.seq - 1:
            frontier = last_stored[1].copy()
        else:
            frontier = _frontier(db, first.seq - 1, first.prev_hash)
        for record in records:
            frontier.append(merkle.record_leaf(record.hash))
        last = records[-1]
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                   (FRONTIER_META, json.dumps({"size": frontier.size, "head": last.hash,
                                               "nodes": [n.hex() for n in frontier.nodes]})))
        checkpoint = self.signer.sign(frontier.size, frontier.root(), last.decided_at)
        self._last = (last.hash, frontier)
        try:
            db.execute("INSERT INTO checkpoints (size, body) VALUES (?, ?)", (checkpoint.size, checkpoint.text()))
        except sqlite3.IntegrityError:
            raise LogError(f"a checkpoint of {checkpoint.size} records is already signed: the log was cut after "
                           "it was signed (see verify --key); not signing a second tree of that size") from None


def enable_checkpoints(log: DecisionLog, signer: Signer) -> None:
    """Sign a checkpoint in every later append's transaction; the first binds the log to the key.

    Raises LogError when the log is already bound to another key."""
    bound = bound_key_id(log.path)
    if bound is not None and bound != signer.key_id:
        raise LogError(f"{log.path} is bound to key {bound[:16]}…, not to this key ({signer.key_id[:16]}…)")
    log.before_commit = CheckpointWriter(signer)


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _frontier(db: sqlite3.Connection, size: int, head: str) -> merkle.Frontier:
    """The frontier of the log's first ``size`` records: the stored one when it belongs to them
    (same size, same head), else computed from the stored record hashes."""
    stored = _meta(db, FRONTIER_META)
    if stored is not None:
        try:
            data = json.loads(stored)
            if data["size"] == size and data["head"] == head:
                return merkle.Frontier(size, [bytes.fromhex(n) for n in data["nodes"]])
        except (ValueError, KeyError, TypeError):
            pass  # not usable: computed again below
    frontier = merkle.Frontier()
    for (digest,) in db.execute("SELECT hash FROM records WHERE seq <= ? ORDER BY seq", (size,)):
        try:
            frontier.append(merkle.record_leaf(str(digest)))
        except ValueError:
            raise LogError(f"a stored record hash is not a hash ({str(digest)[:20]!r}): run verify") from None
    if frontier.size != size:
        raise LogError(f"the log holds {frontier.size} record(s) up to record {size}: run verify")
    return frontier


# --- reading ----------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise LogError(f"{path}: no such log")
    refuse_non_regular(path)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("SELECT seq, hash FROM records LIMIT 0")
    except sqlite3.DatabaseError as exc:
        raise not_the_log(path, exc) or LogError(f"{path}: not a decision log ({exc})") from None
    return db


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def bound_key_id(path: Path) -> str | None:
    """The key id a SQLite log is bound to (None: not bound, or no such file yet)."""
    if not Path(path).exists():
        return None
    db = _connect(Path(path))
    try:
        return _meta(db, KEY_META) if _has_table(db, "meta") else None
    finally:
        db.close()


def signed_size(db: sqlite3.Connection) -> int:
    """The largest number of records a checkpoint stored in an open SQLite log signs (0: it holds
    none). Only a ``checkpoints`` table counts, and only whole-number sizes."""
    if not _has_table(db, "checkpoints"):
        return 0
    (largest,) = db.execute("SELECT MAX(size) FROM checkpoints WHERE typeof(size) = 'integer'").fetchone()
    return int(largest) if largest is not None else 0


@dataclass
class LogState:
    """What the checks read from a log: its record hashes in seq order, its stored checkpoints
    (size and body text, by size) and the key it is bound to."""

    hashes: list[str]
    checkpoints: list[tuple[int, str]]
    bound: str | None

    def leaves(self) -> list[bytes]:
        """The Merkle leaf hash of every record (a hash that is not 64 hex digits hashes as its text)."""
        out = []
        for digest in self.hashes:
            try:
                out.append(merkle.record_leaf(digest))
            except ValueError:
                out.append(merkle.leaf_hash(digest.encode("utf-8", "replace")))
        return out


def read_state(path: Path) -> LogState:
    """The record hashes (the ``hash`` column, in seq order), checkpoints and binding of a SQLite log;
    for a JSONL export, the ``hash`` of each record line and no checkpoints."""
    if path.suffix == ".jsonl":
        from ecei_rules.audit.log import read_jsonl

        if not path.exists():
            raise LogError(f"{path}: no such log")
        return LogState([row.hash for row in read_jsonl(path)], [], None)
    db = _connect(path)
    try:
        hashes = [str(h) for (h,) in db.execute("SELECT hash FROM records ORDER BY seq")]
        checkpoints = ([(int(s), str(b)) for s, b in db.execute("SELECT size, body FROM checkpoints ORDER BY size")]
                       if _has_table(db, "checkpoints") else [])
        bound = _meta(db, KEY_META) if _has_table(db, "meta") else None
    except sqlite3.DatabaseError as exc:
        raise not_the_log(path, exc) or LogError(f"{path}: not a decision log ({exc})") from None
    finally:
        db.close()
    return LogState(hashes, checkpoints, bound)


def _parse_checkpoint(text: str) -> Checkpoint:
    try:
        return Checkpoint.from_json(json.loads(text))
    except ValueError as exc:  # JSONDecodeError and CheckpointError are ValueErrors
        raise CheckpointError(str(exc)) from None


def latest_checkpoint(state: LogState) -> Checkpoint | None:
    """The stored checkpoint of the largest size (CheckpointError if it is not well formed)."""
    return _parse_checkpoint(state.checkpoints[-1][1]) if state.checkpoints else None


# --- checking a log ---------------------------------------------------------------------------


def roots_at(leaves: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The Merkle root of the first s leaves for each wanted size s (one pass; sizes beyond the leaves
    are left out)."""
    wanted = sorted(set(sizes))
    out: dict[int, bytes] = {}
    frontier = merkle.Frontier()
    at = 0
    if wanted and wanted[0] == 0:
        out[0] = merkle.EMPTY_ROOT
        at = 1
    for leaf in leaves:
        if at >= len(wanted):
            break
        frontier.append(leaf)
        if frontier.size == wanted[at]:
            out[frontier.size] = frontier.root()
            at += 1
    return out


def check_checkpoints(state: LogState, public_key: Ed25519PublicKey) -> list[Finding]:
    """Problems with a log's checkpoints against a public key (an empty list: every record is
    covered by a checkpoint signed by the key whose root is the log's own)."""
    findings: list[Finding] = []
    total = len(state.hashes)
    kid = key_id(public_key)
    if state.bound is not None and state.bound != kid:
        findings.append(Finding("checkpoint_key", f"the log is bound to key {state.bound[:16]}…, not to the given "
                                f"key {kid[:16]}…", seq=1))
    if not state.checkpoints:
        if total:
            findings.append(Finding("unsigned", f"the log holds no checkpoint: none of its {total} record(s) is "
                                    "vouched for by the key", seq=1))
        return findings
    parsed: list[tuple[int, Checkpoint]] = []
    for size, body in state.checkpoints:
        try:
            checkpoint = _parse_checkpoint(body)
        except CheckpointError as exc:
            findings.append(Finding("checkpoint_corrupt", f"the checkpoint stored at size {size} is not a "
                                    f"checkpoint ({exc})", seq=max(size, 1)))
            continue
        if checkpoint.size != size:
            findings.append(Finding("checkpoint_corrupt", f"the checkpoint stored at size {size} signs size "
                                    f"{checkpoint.size}", seq=max(size, 1)))
            continue
        problem = checkpoint_problem(checkpoint, public_key)
        if problem is not None:
            findings.append(Finding("checkpoint_signature", f"checkpoint at size {size}: {problem}",
                                    seq=max(size, 1)))
            continue
        parsed.append((size, checkpoint))
    roots = roots_at(state.leaves(), [size for size, _ in parsed])
    good = 0
    beyond = [(size, checkpoint) for size, checkpoint in parsed if size > total]
    if beyond:
        size, checkpoint = beyond[-1]
        findings.append(Finding("checkpoint_beyond",
                                f"{len(beyond)} checkpoint(s) count more records than the log's {total}, up "
                                f"to {size} (signed at {checkpoint.time}): {size - total} record(s) were "
                                "removed since (the chain's findings say where)", seq=total + 1))
    wrong: list[tuple[int, int, Checkpoint]] = []
    for size, checkpoint in parsed:
        if size > total:
            continue
        if roots[size] != checkpoint.root_bytes():
            wrong.append((good, size, checkpoint))
            continue
        good = size
    if wrong:
        before, size, checkpoint = wrong[0]
        more = f"; {len(wrong) - 1} later checkpoint(s) do not hold either" if len(wrong) > 1 else ""
        findings.append(Finding("checkpoint_root",
                                f"the log's first {size} record(s) do not have the Merkle root signed at "
                                f"{checkpoint.time}: a record among {before + 1}-{size} was changed, removed "
                                f"or inserted, even if the chain was re-hashed{more}", seq=before + 1))
    if good < total:
        findings.append(Finding("unsigned",
                                f"records {good + 1}-{total} are after the last checkpoint that holds: no "
                                "signature vouches for them (appended without the key, or their checkpoints "
                                "were removed or do not hold)", seq=good + 1))
    return findings


def check_since(state: LogState, kept: Checkpoint, public_key: Ed25519PublicKey | None) -> list[Finding]:
    """Problems with a log against a checkpoint kept outside it: the log must still begin with the
    tree the checkpoint signs (it only grew since), and the log's latest checkpoint must be
    consistent with it (RFC 9162 consistency proof). With a key, the kept checkpoint's signature
    is checked too."""
    findings: list[Finding] = []
    if public_key is not None:
        problem = checkpoint_problem(kept, public_key)
        if problem is not None:
            findings.append(Finding("since_signature", f"the checkpoint kept: {problem}", seq=1))
    total = len(state.hashes)
    if kept.size > total:
        findings.append(Finding("since_shrunk",
                                f"the log holds {total} record(s), fewer than the {kept.size} of the "
                                f"checkpoint kept from {kept.time}: records were removed since", seq=total + 1))
        return findings
    leaves = state.leaves()
    if kept.size == 0:
        return findings
    if merkle.root(leaves[:kept.size]) != kept.root_bytes():
        findings.append(Finding("since_rewritten",
                                f"the log's first {kept.size} record(s) no longer have the Merkle root of the "
                                f"checkpoint kept from {kept.time}: the log was rewritten since", seq=1))
        return findings
    try:
        latest = latest_checkpoint(state)
    except CheckpointError:
        latest = None  # reported by check_checkpoints
    if latest is not None and kept.size <= latest.size <= total:
        proof = merkle.consistency_proof(kept.size, leaves, latest.size)
        if not merkle.verify_consistency(kept.size, latest.size, kept.root_bytes(), latest.root_bytes(), proof):
            findings.append(Finding("since_inconsistent",
                                    f"the log's latest checkpoint ({latest.size} records, {latest.time}) is "
                                    f"not an extension of the checkpoint kept from {kept.time}", seq=kept.size + 1))
    return findings


# --- receipts ---------------------------------------------------------------------------------


def record_hash_problem(text: str) -> tuple[DecisionRecord | None, str | None]:
    """The record of a stored text and why its content does not match its hash (None when it does)."""
    try:
        record = parse_record(text)
    except (ValidationError, ValueError, RecursionError):
        return None, "the receipt's record is not a decision record"
    # the stored text is canonical: without its hash member it is exactly the bytes the hash covers
    # (as verify checks it); any other layout is hashed the long way
    needle = f'"format":{record.format},"hash":"{record.hash}",'
    try:
        fast = (text.count(needle) == 1 and hashlib.sha256(text.replace(needle, f'"format":{record.format},', 1)
                                                            .encode("utf-8")).hexdigest() == record.hash)
        intact = fast or record.compute_hash() == record.hash
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError (a lone surrogate) is a ValueError
        intact = False
    if not intact:
        return record, f"record {record.seq}'s text does not match its hash: the record was altered"
    return record, None


def make_receipt(path: Path, seq: int) -> dict[str, Any]:
    """The receipt of record ``seq`` of a SQLite log: its stored text, its leaf index, and the inclusion
    proof against the log's latest checkpoint (which must cover it and match the log).
    Raises ReceiptError when no receipt can be made, LogError when the file is not a log."""
    state = read_state(path)
    if path.suffix == ".jsonl":
        raise ReceiptError("receipts are made from the SQLite log, which holds the checkpoints")
    if not 1 <= seq <= len(state.hashes):
        raise ReceiptError(f"the log holds records 1-{len(state.hashes)}, not record {seq}")
    try:
        checkpoint = latest_checkpoint(state)
    except CheckpointError as exc:
        raise ReceiptError(f"the log's latest checkpoint is not well formed ({exc})") from None
    if checkpoint is None or checkpoint.size < seq:
        raise ReceiptError(f"no checkpoint covers record {seq} yet (record with --key to sign checkpoints)")
    if checkpoint.size > len(state.hashes):
        raise ReceiptError(f"the latest checkpoint counts {checkpoint.size} records, the log holds "
                           f"{len(state.hashes)}: run verify --key")
    leaves = state.leaves()
    if merkle.root(leaves[:checkpoint.size]) != checkpoint.root_bytes():
        raise ReceiptError(f"the log's first {checkpoint.size} records do not match their checkpoint: run verify --key")
    db = _connect(path)
    try:
        row = db.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
    finally:
        db.close()
    text = str(row[0]) if row else ""
    record, problem = record_hash_problem(text)
    if problem is not None or record is None or record.hash != state.hashes[seq - 1] or record.seq != seq:
        raise ReceiptError(f"record {seq} does not verify ({problem or 'its position or hash column differs'}): "
                           "run verify")
    proof = merkle.inclusion_proof(seq - 1, leaves, checkpoint.size)
    return {"format": RECEIPT_FORMAT, "record": text, "leaf_index": seq - 1, "tree_size": checkpoint.size,
            "inclusion_proof": [p.hex() for p in proof], "checkpoint": checkpoint.to_json()}


@dataclass(frozen=True)
class Receipt:
    """A receipt's parts, well formed (the checks are :func:`check_receipt`'s)."""

    record: str
    leaf_index: int
    tree_size: int
    proof: list[str]
    checkpoint: Checkpoint

    @classmethod
    def from_json(cls, data: Any) -> Receipt:
        """A receipt from JSON values; ReceiptError unless every field is there with its type."""
        if not isinstance(data, dict):
            raise ReceiptError("a receipt is a JSON object")
        missing = [f for f in _RECEIPT_FIELDS if f not in data]
        if missing:
            raise ReceiptError(f"a receipt has the fields {', '.join(_RECEIPT_FIELDS)}; missing: {', '.join(missing)}")
        if data["format"] != RECEIPT_FORMAT or type(data["format"]) is not int:
            raise ReceiptError(f"unknown receipt format {data['format']!r} (this version reads {RECEIPT_FORMAT})")
        for name in ("leaf_index", "tree_size"):
            if type(data[name]) is not int or data[name] < 0:
                raise ReceiptError(f"a receipt's {name} is a whole number, not {data[name]!r}")
        if not isinstance(data["record"], str):
            raise ReceiptError("a receipt's record is the record's JSON text (a string)")
        proof = data["inclusion_proof"]
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise ReceiptError("a receipt's inclusion_proof is a list of hex strings")
        try:
            checkpoint = Checkpoint.from_json(data["checkpoint"])
        except CheckpointError as exc:
            raise ReceiptError(f"the receipt's checkpoint: {exc}") from None
        return cls(data["record"], data["leaf_index"], data["tree_size"], proof, checkpoint)


def check_receipt(receipt: Receipt, public_key: Ed25519PublicKey) -> str | None:
    """Why a receipt does not prove its record is in the log as of a checkpoint signed by this key
    (one line), or None when it does. Needs nothing but the receipt and the key."""
    record, problem = record_hash_problem(receipt.record)
    if record is None or problem is not None:
        return problem
    if record.seq - 1 != receipt.leaf_index:
        return f"the record is record {record.seq}, but the receipt places it at leaf {receipt.leaf_index}"
    if receipt.tree_size != receipt.checkpoint.size:
        return (f"the receipt's tree size {receipt.tree_size} is not its checkpoint's "
                f"{receipt.checkpoint.size}")
    problem = checkpoint_problem(receipt.checkpoint, public_key)
    if problem is not None:
        return problem
    proof: list[bytes] = []
    for i, element in enumerate(receipt.proof):
        try:
            value = bytes.fromhex(element)
        except ValueError:
            value = b""
        if len(value) != merkle.HASH_SIZE or element != value.hex():
            return f"inclusion proof element {i + 1} is not a 32-byte hash in lowercase hex"
        proof.append(value)
    if not merkle.verify_inclusion(merkle.record_leaf(record.hash), receipt.leaf_index, receipt.tree_size,
                                   proof, receipt.checkpoint.root_bytes()):
        return (f"the inclusion proof does not lead from record {record.seq} to the checkpoint's root "
                f"({receipt.tree_size} records)")
    return None


def consistency_between(state: LogState, m: int, n: int) -> list[str]:
    """The RFC 9162 consistency proof (hex) from the log's first m records to its first n."""
    leaves: Sequence[bytes] = state.leaves()
    return [p.hex() for p in merkle.consistency_proof(m, leaves, n)]
