"""The decision log: append-only and hash-chained.

SQLite is the embedded default: each append is one ``BEGIN IMMEDIATE`` transaction that
reads the head of the chain, builds the record on it and inserts it, so several processes
appending at once serialise on the database lock and keep one intact chain. The database
runs in WAL mode with ``synchronous=FULL``: a record is on disk when ``append`` returns.
JSON Lines (one canonical record per line) is the export and interchange format.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..engine.decision import Decision
from ..errors import EceiRulesError
from .record import GENESIS, DecisionRecord, record_and_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
BUSY_TIMEOUT_MS = 60_000
#: How much of a log is read through a memory map (SQLite caps it at its build's limit).
MMAP_BYTES = 1 << 31


#: Called in each append's transaction, after its records are inserted and before COMMIT, with the
#: connection and the new records; raising rolls the append back. Signed checkpoints use it
#: (:func:`ecei_rules.audit.proofs.enable_checkpoints`), so records and their checkpoint commit together.
AppendHook = Callable[[sqlite3.Connection, list[DecisionRecord]], None]


class LogError(EceiRulesError):
    """The log cannot be opened or written."""


class StoredRecord(NamedTuple):
    """A row as stored: its position, the hash column, and the raw body text (a named tuple:
    made for every row a verify or a replay reads)."""

    seq: int
    hash: str
    prev_hash: str
    text: str


class DecisionLog:
    """An append-only, hash-chained log of decision records in a SQLite file."""

    before_commit: AppendHook | None = None

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LogError(f"{self.path}: not a decision log ({exc})") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def head(self) -> tuple[int, str]:
        """(last seq, its hash), or (0, GENESIS) for an empty log."""
        row = self._db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def append(self, decision: Decision, input_data: Any, *, decided_at: dt.datetime | str) -> DecisionRecord:
        """Append one decision; return its record once it is durably stored."""
        return self.append_many([(decision, input_data)], decided_at=decided_at)[0]

    def append_many(self, items: Iterable[tuple[Decision, Any]], *,
                    decided_at: dt.datetime | str) -> list[DecisionRecord]:
        """Append several decisions in one transaction (all or none)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            seq, prev = self.head()
            out = []
            for decision, data in items:
                seq += 1
                record, text = record_and_text(decision, data, seq=seq, prev_hash=prev, decided_at=decided_at)
                db.execute("INSERT INTO records (seq, hash, prev_hash, body) VALUES (?, ?, ?, ?)",
                           (record.seq, record.hash, record.prev_hash, text))
                prev = record.hash
                out.append(record)
            if self.before_commit is not None and out:
                self.before_commit(db, out)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return out

    def rows(self) -> Iterator[StoredRecord]:
        """Every stored row in seq order, as stored (nothing is checked here); read through a
        memory map, which spares a copy of each page (records are tens of kilobytes)."""
        self._db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        yield from map(StoredRecord._make,
                       self._db.execute("SELECT seq, hash, prev_hash, body FROM records ORDER BY seq"))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def export_jsonl(self, out: Path) -> int:
        """Write every record as one canonical JSON line; return how many."""
        count = 0
        with out.open("w", encoding="utf-8", newline="\n") as handle:
            for row in self.rows():
                handle.write(row.text + "\n")
                count += 1
        return count

    def import_rows(self, rows: Iterable[StoredRecord]) -> int:
        """Copy rows as they are (for importing a JSONL export into an empty log)."""
        if len(self):
            raise LogError(f"{self.path} is not empty: import into a new log")
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        count = 0
        try:
            for row in rows:
                db.execute("INSERT INTO records (seq, hash, prev_hash, body) VALUES (?, ?, ?, ?)",
                           (row.seq, row.hash, row.prev_hash, row.text))
                count += 1
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return count


def read_jsonl(path: Path) -> Iterator[StoredRecord]:
    """Rows of a JSONL export, in file order; a line that is not a record keeps its text for verify."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            text = line.rstrip("\n")
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                yield StoredRecord(-number, "", "", text)
                continue
            if not isinstance(data, dict):
                yield StoredRecord(-number, "", "", text)
                continue
            seq = data.get("seq")
            yield StoredRecord(seq if isinstance(seq, int) else -number, str(data.get("hash", "")),
                               str(data.get("prev_hash", "")), text)


def open_rows(path: Path) -> Iterator[StoredRecord]:
    """The rows of a log file: SQLite (.db, .sqlite) or a JSONL export (.jsonl)."""
    if path.suffix == ".jsonl":
        yield from read_jsonl(path)
        return
    if not path.exists():
        raise LogError(f"{path}: no such log")
    with DecisionLog(path) as log:
        yield from log.rows()
