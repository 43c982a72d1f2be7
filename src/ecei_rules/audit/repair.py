"""Repair a decision log after a crash: keep the longest prefix that verifies, remove the rest.

A log is trusted record by record from the start: record 1, 2, ..., k each at its own position
(in a SQLite log, the seq column of its row too), each matching its hash, each naming the hash of
the one before, each passing every check ``verify`` makes of a row on its own. The first record
that fails any of these (a torn last line of a JSONL export, an edited record, a gap, a record
stored under another seq) ends the good prefix, and *everything from it on* is removed, including
later records that are intact on their own: they chain from a record that can no longer be
trusted, so keeping them would keep an unverifiable log. What is kept verifies (but for the end
``verify --expect-head`` and ``--expect-count`` check, see below).

SQLite: the rows are read in seq order with their rowids, and exactly the rows read after the
prefix are deleted, by rowid, in one transaction under the write lock the reading took (whatever
their seq columns hold: a damaged log may number its rows anyhow); a ``records`` table without
rowids (WITHOUT ROWID, which no decision log is) is refused, nothing changed. A removed row is
named by the seq of the record it holds, else by its seq column (a JSONL line: by its line
number). A signed log (one that keeps checkpoints, :mod:`ecei_rules.audit.proofs`) is never cut
below the records its checkpoints sign: those records are vouched for by the key, and removing
them would leave checkpoints that count records the log no longer holds (and sizes the key could
not sign again). Such a repair is refused, nothing changed; ``verify --key`` says what happened
to the signed records. JSONL: the file is rewritten
with the kept lines through a temporary file in the same directory and ``os.replace`` (atomic:
a crash during repair leaves either the old file or the repaired one).

A cut exactly at a record boundary leaves a shorter log that is itself valid: nothing inside a
hash chain can tell that its tail is gone. Only something kept outside the log can (the last
acknowledged head hash, or the record count): see :func:`check_head`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ecei_rules.audit.log import (
    LogError,
    StoredRecord,
    check_rowid,
    connect_received,
    connect_writable,
    read_jsonl,
    sqlite_rows_by_id,
    write_jsonl,
)
from ecei_rules.audit.proofs import signed_size
from ecei_rules.audit.record import GENESIS
from ecei_rules.audit.replay import _parse, _stored_hash_ok, check_record, tail_problems
from ecei_rules.errors import Finding


@dataclass(frozen=True)
class Removed:
    """One row removed (or to be removed): its record seq, or the JSONL line of an unreadable one."""

    seq: int | None
    line: int | None
    reason: str


@dataclass
class RepairPlan:
    """What repair keeps and removes."""

    kept: int = 0
    head: str = GENESIS
    removed: list[Removed] = field(default_factory=list)
    first_bad: str = ""

    @property
    def clean(self) -> bool:
        """True when nothing needs removing."""
        return not self.removed

    @property
    def removed_seqs(self) -> list[int]:
        """The seq numbers of the removed rows that were readable records."""
        return [r.seq for r in self.removed if r.seq is not None]

    @property
    def removed_lines(self) -> list[int]:
        """The JSONL line numbers of removed rows that were not readable records."""
        return [r.line for r in self.removed if r.line is not None]


def _problem(row: StoredRecord, position: int, expected_prev: str, *, stored: bool) -> tuple[str, str]:
    """Why a row cannot extend the good prefix at ``position`` ('' when it can), and its record's hash. ``stored``:
    a row of a SQLite log, whose seq column must be its record's seq (whatever it holds: 0, a negative number)."""
    if row.problem:
        return f"its row is not a stored record ({row.problem})", ""
    record = _parse(row)
    if record is None:
        return "not a decision record (unreadable or incomplete: a torn write)", ""
    seq = record.seq
    if seq != position:
        return f"record {seq} stands where record {position} should", ""
    if row.seq != seq and (stored or row.seq > 0):
        return f"record {seq} is stored at position {row.seq}", ""
    fast = _stored_hash_ok(row.text, record)
    intact = fast if fast is not None else record.compute_hash() == record.hash
    if not intact or (row.hash and row.hash != record.hash):
        return f"record {seq} does not match its hash (altered after it was written)", ""
    if record.prev_hash != expected_prev:
        return f"record {seq} does not chain to record {position - 1} (its prev_hash is wrong)", ""
    findings: list[Finding] = []  # every other check verify makes of a row on its own (form, columns, fields)
    check_record(row, position, findings)
    if findings:
        return findings[0].message, ""
    return "", record.hash


def plan_repair(rows: Iterable[StoredRecord]) -> RepairPlan:
    """The longest prefix of records 1..k of a JSONL export that verifies, and every row after it."""
    return _plan(((row, None) for row in rows), stored=False)


def _plan(rows: Iterable[tuple[StoredRecord, int | None]], *, stored: bool) -> RepairPlan:
    """The longest prefix of records 1..k that verifies, and every row after it, each row with its seq column
    (``stored``: a SQLite log; None where that holds no whole number)."""
    plan = RepairPlan()
    bad = False
    for position, (row, column) in enumerate(rows, 1):
        if not bad:
            why, digest = _problem(row, position, plan.head, stored=stored)
            if not why:
                plan.kept, plan.head = position, digest
                continue
            bad = True
            plan.first_bad = f"position {position}: {why}"
            plan.removed.append(_removed(row, column, why, stored=stored))
            continue
        plan.removed.append(_removed(row, column, "after the first bad record", stored=stored))
    return plan


def _removed(row: StoredRecord, column: int | None, why: str, *, stored: bool) -> Removed:
    """A removed row, named by the seq of the record it holds; else a SQLite row by its seq column (unnamed when
    that holds no whole number) and a JSONL line by its seq when it claims one, else by its line number."""
    record = None if row.problem else _parse(row)
    if record is not None:
        return Removed(record.seq, None, why)
    if stored:
        return Removed(column, None, why if why != "after the first bad record" else "unreadable")
    return Removed(row.seq if row.seq > 0 else None, -row.seq if row.seq < 0 else None,
                   why if why != "after the first bad record" else "unreadable")


def repair(path: Path, *, dry_run: bool = False) -> RepairPlan:
    """Truncate a log (SQLite, or a ``.jsonl`` export) to its last good record; return what was removed.

    With ``dry_run`` nothing is written. Raises LogError when the file is not a log, or when the
    repair would remove records that the log's signed checkpoints vouch for (see the module).
    """
    if path.suffix == ".jsonl":
        return _repair_jsonl(path, dry_run=dry_run)
    if dry_run:  # a received log: read-only and immutable, nothing written
        db = connect_received(path)
        try:
            check_rowid(db, path)  # what the repair itself would refuse
            return _unsigned_only(_plan(((row, column) for _, row, column in sqlite_rows_by_id(db, path)),
                                        stored=True), db, path)
        finally:
            db.close()
    db = connect_writable(path)
    try:
        # read and delete under one write lock, so no append can slip in between
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = list(sqlite_rows_by_id(db, path))
            plan = _unsigned_only(_plan(((row, column) for _, row, column in rows), stored=True), db, path)
            _delete(db, path, [rowid for rowid, _, _ in rows[plan.kept:]])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()
    return plan


def _delete(db: sqlite3.Connection, path: Path, rowids: list[int]) -> None:
    """Delete exactly the rows read after the good prefix, by rowid (in the caller's transaction); LogError (the
    caller rolls back) if any is not there to delete."""
    deleted = 0
    for rowid in rowids:
        deleted += db.execute("DELETE FROM records WHERE rowid = ?", (rowid,)).rowcount
    if deleted != len(rowids):
        raise LogError(f"{path}: {len(rowids)} row(s) were read to be removed but {deleted} were there to delete; "
                       "nothing was changed")


def _unsigned_only(plan: RepairPlan, db: sqlite3.Connection, path: Path) -> RepairPlan:
    """The plan, when it removes no record a stored checkpoint signs; LogError otherwise."""
    try:
        signed = signed_size(db) if not plan.clean else 0
    except sqlite3.Error as exc:
        raise LogError(f"{path}: its checkpoints table cannot be read ({exc}); nothing was changed") from None
    if plan.kept < signed:
        raise LogError(f"{path} is signed: its checkpoints vouch for records 1-{signed}, and a repair would "
                       f"remove every record from {plan.kept + 1} on (the first bad record is at "
                       f"{plan.first_bad}); a repair never removes signed records: check the log with "
                       "'verify --key'; nothing was changed")
    return plan


def _repair_jsonl(path: Path, *, dry_run: bool) -> RepairPlan:
    if not path.exists():
        raise LogError(f"{path}: no such log")
    rows = list(read_jsonl(path))
    plan = plan_repair(rows)
    if plan.clean or dry_run:
        return plan
    write_jsonl(rows[:plan.kept], path)  # atomic: a temporary file renamed over the log
    return plan


def check_head(rows: Iterable[StoredRecord], *, head: str | None = None, count: int | None = None) -> list[str]:
    """Problems with a log's end against what was kept outside it (the last acknowledged head hash,
    or the record count). A chain cannot show its own tail was cut at a record boundary; this can.
    An empty list means the log ends where it should."""
    last_seq, last_hash, total = 0, GENESIS, 0
    for row in rows:
        total += 1
        record = _parse(row)
        if record is not None and record.seq > last_seq:
            last_seq, last_hash = record.seq, record.hash
    return [message for _, message in tail_problems(total, last_seq, last_hash, head=head, count=count)]


def ranges(numbers: Sequence[int]) -> str:
    """'1-3, 7, 9-10' for [1, 2, 3, 7, 9, 10]."""
    parts: list[str] = []
    ordered = sorted(numbers)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)
