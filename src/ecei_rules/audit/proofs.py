"""Signed checkpoints kept with a decision log, inclusion receipts, and the checks that use them.

**Writing.** :func:`enable_checkpoints` binds a log to a signing key (the meta key
``signing_key_id``) and hooks its appends: in each append's own transaction the Merkle tree
(:mod:`ecei_rules.audit.merkle`) grows by the new records, and the checkpoint of the new size,
signed at the time of the last new record's ``decided_at``, is inserted in the ``checkpoints``
table (``size INTEGER PRIMARY KEY, body TEXT``). Records and their checkpoint commit together.
The tree's frontier (the roots of its perfect subtrees, O(log n) hashes) is kept in the meta
table with the size and head it belongs to, so each append costs O(log n) hashing; it is used
only when the checkpoint stored at its size was signed by the key over the same root. Otherwise
(records appended without the key, a repair, a frontier or a checkpoint that does not hold) it is
computed again, once, from the records' stored bytes, each at its position and matching its hash
column; and the checkpoint of that size, when there is one, must have its root: the writer never
signs over records the key did not sign (LogError: run verify).

**Checking.** :func:`read_state` reads a log as verify does (read-only and immutable, through
:func:`ecei_rules.audit.log.connect_received`: nothing written, a -wal beside it never checkpointed;
every column typed as stored, so a value of another type is a finding, never an error that hides
the log's other findings). The Merkle leaves are the hashes the records' stored bytes vouch for
(:func:`ecei_rules.audit.replay.stored_record_hash`), in the order of the rows, never the ``hash``
column: a body edited and its chain re-hashed inside the bodies, with the columns left as signed,
does not hold. :func:`check_checkpoints` (``verify --key``): every checkpoint is signed by the key
and equals the Merkle root of the log's records at its size; no checkpoint counts more records
than the log holds; no record stands after the last checkpoint; a stored checkpoint that cannot be
read (its size not an integer, its body not UTF-8 text) is ``checkpoint_corrupt``. A chain edited
and re-hashed by someone without the key passes the chain check but fails here.
:func:`check_since` (``verify --since``): the log still begins with the tree of a checkpoint
kept outside it (the log only grew), with the RFC 9162 consistency proof from it to the log's
latest checkpoint.

**Receipts.** :func:`make_receipt` gives one record's stored text with its inclusion proof
against the latest checkpoint; :func:`check_receipt` checks one offline with the public key
alone: the record's text must be exactly the canonical bytes whose SHA-256 is the leaf (hashed as
given, read strictly: no member twice, a record's members and types, its canonical JSON byte for
byte), then the proof, then the signature. Sizes and indexes are whole numbers up to 2**53 - 1
(what a signed message can hold).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from ecei_rules.audit import merkle
from ecei_rules.audit.checkpoint import (
    MAX_SIZE,
    Checkpoint,
    CheckpointError,
    Signer,
    checkpoint_problem,
    key_id,
    shown_number,
)
from ecei_rules.audit.log import (
    DecisionLog,
    LogError,
    StoredRecord,
    connect_received,
    not_the_log,
    read_jsonl,
    sqlite_rows,
)
from ecei_rules.audit.record import DecisionRecord
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
            frontier = _frontier(db, first.seq - 1, first.prev_hash, self.signer)
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
    """A meta value as text (a value of another type, or text that is not UTF-8, read as text all the same:
    it then names no key and no frontier)."""
    row = db.execute("SELECT CAST(value AS BLOB) FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else bytes(row[0] or b"").decode("utf-8", "replace")


#: The rows a frontier is computed from: each body with its seq and hash columns, typed as stored.
_FRONTIER_ROWS = ("SELECT seq, typeof(seq), typeof(hash), CAST(hash AS BLOB), typeof(body), CAST(body AS BLOB) "
                  "FROM records WHERE seq <= ? ORDER BY seq")


def _frontier(db: sqlite3.Connection, size: int, head: str, signer: Signer) -> merkle.Frontier:
    """The frontier of the log's first ``size`` records, which the next checkpoint extends: the stored
    one when it belongs to them (same size, same head), else computed from the records' stored bytes
    (:func:`ecei_rules.audit.replay.stored_record_hash`), never from a hash column: each row must be
    at its position and its hash column the hash of its bytes (LogError otherwise: run verify). Either
    way, when a checkpoint of that size is stored, it must be signed by this key and have the
    frontier's root: nothing the key did not sign (an edited body, a stored frontier, a hash column) is
    signed over."""
    stored = _meta(db, FRONTIER_META)
    frontier: merkle.Frontier | None = None
    if stored is not None:
        try:
            data = json.loads(stored)
            if data["size"] == size and data["head"] == head:
                frontier = merkle.Frontier(size, [bytes.fromhex(n) for n in data["nodes"]])
        except (ValueError, KeyError, TypeError):
            pass  # not usable: computed again below
    signed = _stored_checkpoint(db, size, signer)
    if frontier is not None and (signed is None or frontier.root() != signed.root_bytes()):
        frontier = None  # a stored frontier is used only as the key signed it
    if frontier is None:
        frontier = _checked_frontier(db, size, head)
    if signed is not None and frontier.root() != signed.root_bytes():
        raise LogError(f"the log's first {size} record(s) do not have the Merkle root signed for them at "
                       f"{signed.time}: they were changed since (run verify --key); not signing over them")
    return frontier


def _checked_frontier(db: sqlite3.Connection, size: int, head: str) -> merkle.Frontier:
    from ecei_rules.audit.replay import stored_record_hash

    frontier = merkle.Frontier()
    digest: str | None = None
    for seq, seq_type, hash_type, column, body_type, body in db.execute(_FRONTIER_ROWS, (size,)):
        position = frontier.size + 1
        text = _utf8(body) if body_type == "text" else None
        digest = stored_record_hash(text, bytes(body)) if text is not None else None
        if seq_type != "integer" or seq != position:
            raise LogError(f"the row at position {position} is not record {position}: run verify")
        if digest is None or hash_type != "text" or _utf8(column) != digest:
            raise LogError(f"record {position} does not match its hash, or its hash column differs: run verify")
        frontier.append(merkle.record_leaf(digest))
    if frontier.size != size:
        raise LogError(f"the log holds {frontier.size} record(s) up to record {size}: run verify")
    if size and digest != head:
        raise LogError(f"record {size}'s hash is not the head the append follows: run verify")
    return frontier


def _stored_checkpoint(db: sqlite3.Connection, size: int, signer: Signer) -> Checkpoint | None:
    """The checkpoint stored at ``size`` (None: none); LogError when it is not one this key signed."""
    if not size or not _has_table(db, "checkpoints"):
        return None
    row = db.execute("SELECT typeof(body), CAST(body AS BLOB) FROM checkpoints WHERE size = ?", (size,)).fetchone()
    if row is None:
        return None
    text = _utf8(row[1]) if row[0] == "text" else None
    try:
        checkpoint = _parse_checkpoint(text if text is not None else "")
    except CheckpointError as exc:
        raise LogError(f"the checkpoint stored at size {size} is not a checkpoint ({exc}): run verify --key; "
                       "not signing over it") from None
    problem = checkpoint_problem(checkpoint, signer.public_key) if checkpoint.size == size else \
        f"it signs size {checkpoint.size}"
    if problem is not None:
        raise LogError(f"the checkpoint stored at size {size} does not hold ({problem}): run verify --key; not "
                       "signing over it")
    return checkpoint


def _utf8(value: object) -> str | None:
    """Bytes read from a column as UTF-8 text (None when they are not)."""
    try:
        return bytes(value).decode("utf-8") if isinstance(value, (bytes, bytearray, memoryview)) else None
    except UnicodeDecodeError:
        return None


# --- reading ----------------------------------------------------------------------------------


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def bound_key_id(path: Path) -> str | None:
    """The key id a SQLite log is bound to (None: not bound, or no such file yet). The log is read as
    verify reads it (:func:`ecei_rules.audit.log.connect_received`: read-only, nothing written)."""
    if not Path(path).exists():
        return None
    db = connect_received(Path(path))
    try:
        return _meta(db, KEY_META) if _has_table(db, "meta") else None
    except sqlite3.Error as exc:
        raise not_the_log(Path(path), exc) or LogError(f"{path}: its binding to a key cannot be read ({exc})") \
            from None
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
    """What the checks read from a log: the hash each record's stored bytes vouch for, in the order of
    the rows (:func:`ecei_rules.audit.replay.stored_record_hash`; for a row whose bytes vouch for none,
    a hash no record has), its stored checkpoints (size and body text, by size), the key it is bound to,
    the stored checkpoints (or their table) that cannot be read (the seq a finding names, and why), and
    why the binding cannot be read, if it cannot."""

    hashes: list[str]
    checkpoints: list[tuple[int, str]]
    bound: str | None
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    binding_problem: str | None = None

    def leaves(self) -> list[bytes]:
        """The Merkle leaf hash of every record (a hash that is not 64 hex digits hashes as its text)."""
        out = []
        for digest in self.hashes:
            try:
                out.append(merkle.record_leaf(digest))
            except ValueError:
                out.append(merkle.leaf_hash(digest.encode("utf-8", "replace")))
        return out


#: What a row's hash is when its bytes vouch for no record hash: the SHA-256 of its bytes under this prefix,
#: which no record's hash is (a record hashes its canonical JSON, which begins with "{").
_NOT_A_RECORD = b"ecei-rules: a stored row that is not a record\n"


def row_hash(row: StoredRecord) -> str:
    """The hash a stored row's bytes vouch for (see :class:`LogState`); never its hash column."""
    from ecei_rules.audit.replay import stored_record_hash

    # a row whose other columns are not what they should be still has its body's bytes (its text, when
    # they are UTF-8 text; else "", which vouches for nothing)
    digest = stored_record_hash(row.text, row.raw)
    if digest is not None:
        return digest
    data = row.raw if row.raw is not None else row.text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(_NOT_A_RECORD + data).hexdigest()


def read_state(path: Path) -> LogState:
    """What the checkpoint checks need of a log (see :class:`LogState`), read as verify reads it: a
    SQLite log through :func:`ecei_rules.audit.log.connect_received` (read-only, immutable; nothing
    written, a -wal beside it read, never checkpointed), every column typed as stored (a value of
    another type is a finding of the checks, never an error that hides the log's other findings); a
    JSON Lines export line by line (no checkpoints)."""
    return _read_state(path)[0]


def _read_state(path: Path, keep: int | None = None) -> tuple[LogState, StoredRecord | None]:
    """:func:`read_state`, and the row at position ``keep`` (from 1) when asked, read in the same pass."""
    kept: StoredRecord | None = None

    def hashed(rows: Iterable[StoredRecord]) -> list[str]:
        nonlocal kept
        out = []
        for position, row in enumerate(rows, 1):
            if position == keep:
                kept = row
            out.append(row_hash(row))
        return out

    if path.suffix == ".jsonl":
        if not path.exists():
            raise LogError(f"{path}: no such log")
        return LogState(hashed(read_jsonl(path)), [], None), kept
    db = connect_received(path)
    try:
        hashes = hashed(sqlite_rows(db, path))
        checkpoints, unreadable = _stored_checkpoints(db, path)
        binding: str | None = None
        try:
            bound = _meta(db, KEY_META) if _has_table(db, "meta") else None
        except sqlite3.Error as exc:
            _content_error(path, exc)
            bound, binding = None, f"the log's binding to its key (its meta table) cannot be read ({exc})"
    finally:
        db.close()
    return LogState(hashes, checkpoints, bound, unreadable, binding), kept


def _content_error(path: Path, exc: sqlite3.Error) -> None:
    """Raise what a SQLite error whose cause is not the log's content raises (the storage, a lock; see
    :func:`ecei_rules.audit.log.not_the_log`); return for one that the log's content caused."""
    refused = not_the_log(path, exc)
    if refused is not None:
        raise refused


#: The stored checkpoints, every value typed as stored (a size that is not an integer, a body that is not
#: UTF-8 text: a finding, never an exception).
_CHECKPOINT_ROWS = ("SELECT typeof(size), CASE WHEN typeof(size) = 'integer' THEN size END, CAST(size AS BLOB), "
                    "typeof(body), CAST(body AS BLOB) FROM checkpoints ORDER BY size")
_TYPES = {"null": "NULL", "integer": "an integer", "real": "a real", "blob": "a blob", "text": "text"}


def _stored_checkpoints(db: sqlite3.Connection, path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The stored checkpoints (size, body) whose columns hold an integer and UTF-8 text, by size; and, for
    each other one, the seq its finding names and why it cannot be read."""
    good: list[tuple[int, str]] = []
    bad: list[tuple[int, str]] = []
    try:
        if not _has_table(db, "checkpoints"):
            return good, bad
        rows = db.execute(_CHECKPOINT_ROWS).fetchall()
    except sqlite3.Error as exc:
        _content_error(path, exc)
        return good, [(1, f"the checkpoints table cannot be read ({exc})")]
    for size_type, size, size_text, body_type, body in rows:
        text = _utf8(body) if body_type == "text" else None
        problems = []
        if size_type != "integer":
            shown = bytes(size_text or b"")[:40].decode("utf-8", "replace")
            problems.append(f"its size column holds {_TYPES.get(size_type, size_type)}"
                            f"{f' ({shown!r})' if size_type != 'null' else ''}, not a whole number")
        if body_type != "text":
            problems.append(f"its body column holds {_TYPES.get(body_type, body_type)}, not text")
        elif text is None:
            problems.append("its body column is not UTF-8 text")
        if not problems and size is not None and text is not None:
            good.append((int(size), text))
            continue
        where = f"the checkpoint stored at size {size}" if size is not None else "a stored checkpoint"
        seq = size if size is not None else 1
        bad.append((seq, f"{where} cannot be read: {'; '.join(problems)}"))
    return good, bad


def _parse_checkpoint(text: str) -> Checkpoint:
    try:
        return Checkpoint.from_json(json.loads(text))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and CheckpointError are ValueErrors
        raise CheckpointError(str(exc)) from None


def latest_checkpoint(state: LogState) -> Checkpoint | None:
    """The stored checkpoint of the largest size (CheckpointError if it is not well formed, or if a stored
    checkpoint cannot be read: which is the latest is then unknown)."""
    if state.unreadable:
        raise CheckpointError(state.unreadable[0][1])
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


def _at(size: int, total: int) -> int:
    """The seq a finding about the checkpoint stored at ``size`` names: its last record, inside the log (or
    the one after its end)."""
    return max(1, min(size, total + 1))


def check_checkpoints(state: LogState, public_key: Ed25519PublicKey) -> list[Finding]:
    """Problems with a log's checkpoints against a public key (an empty list: every record is
    covered by a checkpoint signed by the key whose root is the log's own)."""
    total = len(state.hashes)
    findings = [Finding("checkpoint_corrupt", why, seq=_at(seq, total)) for seq, why in state.unreadable]
    if state.binding_problem is not None:
        findings.append(Finding("checkpoint_key", state.binding_problem, seq=1))
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
                                    f"checkpoint ({exc})", seq=_at(size, total)))
            continue
        if checkpoint.size != size:
            findings.append(Finding("checkpoint_corrupt", f"the checkpoint stored at size {size} signs size "
                                    f"{checkpoint.size}", seq=_at(size, total)))
            continue
        problem = checkpoint_problem(checkpoint, public_key)
        if problem is not None:
            findings.append(Finding("checkpoint_signature", f"checkpoint at size {size}: {problem}",
                                    seq=_at(size, total)))
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
    """The record of a receipt's (or a row's) text and why it is not the bytes a log stores for it (None
    when it is): the text is read strictly (JSON; no member twice; the members, types and seq of a record),
    hashed exactly as given (without its hash member, it must hash to it: never another form of it), and
    must be its own canonical JSON (RFC 8785), byte for byte."""
    from ecei_rules.audit.replay import _duplicate_member, _load, _shape, is_canonical, stored_record_hash

    not_a_record = "the receipt's record is not a decision record"
    try:
        data = _load(text)
    except (ValueError, RecursionError):
        return None, not_a_record
    if not isinstance(data, dict):
        return None, not_a_record
    twice = _duplicate_member(text)
    if twice is not None:
        return None, (f"the receipt's record holds the member {twice[:40]!r} twice: it is not the text the log "
                      "stores (a record is read one way only)")
    problems = _shape(data)
    if problems:
        return None, f"{not_a_record}: {'; '.join(problems)}"
    try:
        record = DecisionRecord.model_validate(data)
    except ValidationError:
        return None, not_a_record
    canonical = is_canonical(text, data)
    if stored_record_hash(text) != record.hash:  # the text as given, never another form of it
        form = "" if canonical else "is not its canonical JSON (RFC 8785) and "
        return record, f"record {record.seq}'s text {form}does not match its hash: the record was altered"
    if not canonical:
        return record, (f"record {record.seq}'s text is not its canonical JSON (RFC 8785): it is not the text the "
                        "log stores, byte for byte")
    return record, None


def make_receipt(path: Path, seq: int) -> dict[str, Any]:
    """The receipt of record ``seq`` of a SQLite log: its stored text, its leaf index, and the inclusion
    proof against the log's latest checkpoint (which must cover it and match the log).
    Raises ReceiptError when no receipt can be made, LogError when the file is not a log."""
    state, row = _read_state(path, keep=seq)
    if path.suffix == ".jsonl":
        raise ReceiptError("receipts are made from the SQLite log, which holds the checkpoints")
    if not 1 <= seq <= len(state.hashes) or row is None:
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
    text = "" if row.problem else row.text
    record, problem = record_hash_problem(text)
    if problem is not None or record is None or record.hash != state.hashes[seq - 1] or record.seq != seq \
            or row.seq != seq or row.hash != record.hash or row.prev_hash != record.prev_hash:
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
            if type(data[name]) is not int or not 0 <= data[name] <= MAX_SIZE:
                raise ReceiptError(f"a receipt's {name} is a whole number from 0 to 2**53 - 1, not "
                                   f"{shown_number(data[name])}")
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
