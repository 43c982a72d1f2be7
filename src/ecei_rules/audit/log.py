"""The decision log: append-only and hash-chained.

SQLite is the embedded default: each append is one ``BEGIN IMMEDIATE`` transaction that
reads the head of the chain, builds the record on it and inserts it, so several processes
appending at once serialise on the database lock and keep one intact chain. The database
runs in WAL mode with ``synchronous=FULL``: a record is on disk when ``append`` returns.
JSON Lines (one canonical record per line) is the export and interchange format.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import stat
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Self, TextIO

from ecei_rules.audit.record import GENESIS, DecisionRecord, record_and_text
from ecei_rules.core.files import (
    SQLITE_BUSY,
    SQLITE_CANTOPEN,
    SQLITE_LOCKED,
    descriptors_exhausted,
    kind_of,
    replace_atomically,
    sqlite_result,
    storage_refused,
    too_many_open_files,
)
from ecei_rules.engine.decision import Decision
from ecei_rules.errors import EceiRulesError

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
_SQLITE_FILES = 3  # what SQLite holds open for a log at once: the database, its -wal and -shm
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
    made for every row a verify or a replay reads). A row whose columns hold other types than
    expected (a NULL, a blob, text for seq, text that is not UTF-8) keeps what could be read
    and says what is wrong in ``problem``. ``raw`` is the body's bytes as stored, when the reader
    had them (replay hashes them without encoding the text again). A line of a JSONL export that is
    not UTF-8 has, as its text, what is wrong with its bytes (never JSON: it is not a record)."""

    seq: int
    hash: str
    prev_hash: str
    text: str
    problem: str = ""
    raw: bytes | None = None


class _Connected:
    """A log file and its SQLite connection, closed by ``close`` or at the end of a ``with`` block."""

    path: Path
    _db: sqlite3.Connection

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DecisionLog(_Connected):
    """An append-only, hash-chained log of decision records in a SQLite file.

    An append is acknowledged exactly when it is committed: ``append_many`` returns the records,
    or, when an exception (an interrupt) arrives after the COMMIT, ``last_append`` holds them.
    """

    #: The records of the last append that committed (empty while one is under way or when it failed).
    last_append: tuple[DecisionRecord, ...] = ()

    before_commit: AppendHook | None = None

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        refuse_non_regular(self.path)
        beside = companion_of(self.path)
        if beside is not None:  # SQLite would read it as that database's own file, or replace it
            raise LogError(f"{self.path} is named as {beside[1]} of the SQLite database {beside[0]}, which SQLite "
                           "keeps beside that database as its own; give the log another name (nothing was written)")
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise not_the_log(self.path, exc) or LogError(f"{self.path}: not a decision log ({exc})") from None

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
        self.last_append = ()
        committing = False
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
            # A signal (SIGINT, SIGTERM) is held while COMMIT runs, where this thread alone receives
            # signals; in a process with other threads it may land just after COMMIT returns, which the
            # handler below tells from a failed COMMIT.
            with _signals_held():
                committing = True
                db.execute("COMMIT")
                self.last_append = tuple(out)
        except BaseException as exc:
            if db.in_transaction:  # not committed: roll back (never masking the original error)
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error as failed:
                    exc.add_note(f"(the rollback failed too: {failed})")
            elif committing and not isinstance(exc, sqlite3.Error):
                # COMMIT returned (a failed one raises sqlite3.Error) and the error came after it: the
                # records are stored, and acknowledged through last_append
                self.last_append = tuple(out)
                exc.add_note(f"the append was committed: {len(out)} record(s), head {out[-1].hash}")
            raise
        return out

    def rows(self) -> Iterator[StoredRecord]:
        """Every stored row in seq order, as stored (nothing is checked here; a value of another
        type than expected comes with its ``problem``); read through a memory map, which spares a
        copy of each page (records are tens of kilobytes)."""
        return _sqlite_rows(self._db)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def export_jsonl(self, out: Path) -> int:
        """Write every record as one canonical JSON line, atomically; return how many."""
        return write_jsonl(self.rows(), Path(out), source=self.path)

    def _checkpoints(self) -> int:
        """How many signed checkpoints the log stores (the table :mod:`ecei_rules.audit.proofs` keeps)."""
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").fetchone() \
                is None:
            return 0
        return int(self._db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0])

    def import_rows(self, rows: Iterable[StoredRecord]) -> int:
        """Copy rows as they are (for importing a JSONL export into an empty log).

        An export carries records only, never signed checkpoints: the imported log is unsigned. A log
        that holds checkpoints (signed over records it held before) is refused like a log that holds
        records: they would vouch for other records than the imported ones."""
        if len(self):
            raise LogError(f"{self.path} is not empty: import into a new log")
        signed = self._checkpoints()
        if signed:
            raise LogError(f"{self.path} holds {signed} signed checkpoint(s) of records it held before: import "
                           "into a new log")
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
            if db.in_transaction:  # a COMMIT that went through leaves nothing to roll back
                db.execute("ROLLBACK")
            raise
        return count


#: The largest JSON Lines export ``import`` reads (it holds the file in memory, once).
IMPORT_LIMIT = 1 << 30
_SQLITE_MAGIC = b"SQLite format 3\x00"
_EXPECTED = "a decision log (a SQLite file, or a .jsonl export of one) was expected"
_COLUMNS = ("seq", "hash", "prev_hash", "body")


def refuse_non_regular(path: Path) -> None:
    """LogError, before SQLite opens it, for a path that is there and is not a regular file (through a symbolic
    link too): a named pipe (SQLite's open would wait for a writer, then fail with "disk I/O error", which is not
    the cause), a device, a directory, a socket. A path not there yet is left to SQLite, which creates the log."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise LogError(f"{path} is {_kind(mode)}; {_EXPECTED}")


def _kind(mode: int) -> str:
    """What a file that is not a regular file is."""
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _open_regular(path: Path, *, allow_empty: bool = False) -> int:
    """A read-only descriptor of a regular, non-empty file (``allow_empty``: or empty), checked
    before anything is read: a FIFO, a device or a directory is refused without reading it (the
    stat comes first, and the descriptor is opened non-blocking and checked again, so a file
    swapped in between is caught)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LogError(f"{path}: no such log") from None
    except OSError as exc:
        raise LogError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise LogError(f"{path} is {_kind(info.st_mode)}; {_EXPECTED}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LogError(f"{path}: cannot be read ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (info.st_size == 0 and not allow_empty):
        os.close(fd)
        what = _kind(info.st_mode) if not stat.S_ISREG(info.st_mode) else "empty (0 bytes)"
        raise LogError(f"{path} is {what}; {_EXPECTED}")
    return fd


def _uri(path: Path, *, immutable: bool) -> str:
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    # the name's bytes as the file system has them (a name that is not UTF-8 is one too), percent-encoded
    return f"file:{urllib.parse.quote(os.fsencode(Path(path).absolute()))}?{flags}"


def _check_schema(db: sqlite3.Connection, path: Path, *, writing: bool = False) -> None:
    """``records`` must be a plain table with the four expected columns (no view, no virtual table,
    no generated column: reading it runs nothing the file carries). Other tables, views and
    triggers are ignored when reading (a SELECT from a table fires no trigger); ``writing`` (repair)
    refuses a log that carries a trigger, which a DELETE would fire."""
    objects = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    found = [(kind, sql or "") for kind, name, sql in objects if isinstance(name, str) and name.lower() == "records"]
    if not found:
        raise LogError(f"{path} is a SQLite database without a 'records' table; {_EXPECTED}")
    kind, sql = found[0]
    if kind != "table" or sql.lstrip().upper().startswith("CREATE VIRTUAL"):
        raise LogError(f"{path}: its 'records' is a {'virtual table' if kind == 'table' else kind}, not a plain "
                       f"table; {_EXPECTED} (nothing in it was run)")
    columns = db.execute("PRAGMA table_xinfo(records)").fetchall()
    names = tuple(str(c[1]).lower() for c in columns)
    if sorted(names) != sorted(_COLUMNS) or any(c[6] for c in columns):
        raise LogError(f"{path}: its 'records' table has the columns {', '.join(names)}, not seq, hash, "
                       f"prev_hash, body; {_EXPECTED}")
    triggers = [str(name) for kind, name, _ in objects if kind == "trigger"]
    if writing and triggers:
        raise LogError(f"{path} carries trigger(s) ({', '.join(triggers[:5])}) that a repair would run; a "
                       "decision log has none: refused, nothing was changed")
    if writing:
        check_rowid(db, path)


def check_rowid(db: sqlite3.Connection, path: Path) -> None:
    """LogError when the log's ``records`` has no rowid (a table made WITHOUT ROWID): a repair deletes the rows it
    read by their rowid, whatever their seq column holds, and refuses such a table (a decision log never is one)."""
    try:
        db.execute("SELECT rowid FROM records LIMIT 0")
    except sqlite3.OperationalError:
        raise LogError(f"{path}: its 'records' table has no rowid (WITHOUT ROWID), which a decision log always has "
                       "and a repair deletes rows by: refused, nothing was changed") from None


def not_the_log(path: Path, exc: sqlite3.Error) -> LogError | None:
    """The error to raise for a SQLite error whose cause is not the log's content, or None (then the log may be
    damaged or not a log). A storage that refused (a full disk, an I/O error: exit 3) is raised as it is, and
    so is a process that cannot open the files a log needs (EMFILE); SQLite's "unable to open database file" is a
    LogError saying what stands in the way (a directory, a missing folder) and what else may. A log another
    process holds locked (SQLITE_BUSY, SQLITE_LOCKED) is raised as it is too."""
    if storage_refused(exc) or sqlite_result(exc) in (SQLITE_BUSY, SQLITE_LOCKED):
        raise exc  # the storage, or another process holding the log: said by the command line (exit 3)
    if descriptors_exhausted(_SQLITE_FILES):
        raise too_many_open_files(exc)
    if sqlite_result(exc) != SQLITE_CANTOPEN:
        return None
    where = path.absolute().parent
    why = "it is a directory" if path.is_dir() else f"the folder {where} does not exist" if not where.is_dir() \
        else ("SQLite cannot open it or the files beside it (-wal, -shm): the folder or the file may not be "
              "writable, or the process may have as many files open as it may (ulimit -n)")
    return LogError(f"{path}: cannot open the log: {why}")


def _damaged(path: Path, exc: sqlite3.Error | UnicodeDecodeError) -> LogError:
    """The error of a log SQLite could not read (`not_the_log` first: the cause may lie elsewhere)."""
    found = not_the_log(path, exc) if isinstance(exc, sqlite3.Error) else None
    return found or LogError(f"{path} is a damaged or unreadable SQLite database ({exc}); {_EXPECTED}")


#: What a log copied without its -wal file may lack, said where its end is not what was kept outside it.
WAL_NOTE = ("or not copied: in WAL mode with no -wal file beside it, a copy made while its writer ran lacks the "
            "records in the writer's -wal file (copy both, or an export)")


def without_its_wal(path: Path) -> bool:
    """Whether a SQLite log is in WAL mode (its header's write version, byte 18, is 2) with no -wal file beside
    it: a copy made while its writer ran then lacks what the writer's -wal file held."""
    if Path(f"{path}-wal").exists():
        return False
    try:
        fd = _open_regular(path)
    except LogError:
        return False
    try:
        header = os.read(fd, 20)
    finally:
        os.close(fd)
    return header.startswith(_SQLITE_MAGIC) and len(header) == 20 and header[18] == 2


def check_sqlite_file(path: Path) -> None:
    """Refuse (LogError), before SQLite opens it, a file that is not a regular, non-empty file
    beginning as a SQLite database."""
    fd = _open_regular(path)
    try:
        magic = os.read(fd, len(_SQLITE_MAGIC))
    finally:
        os.close(fd)
    if magic != _SQLITE_MAGIC:
        what = "a JSON Lines file (name it .jsonl)" if magic[:1] in (b"{", b"[") else "not a SQLite database"
        raise LogError(f"{path} is {what}; {_EXPECTED}")


def connect_writable(path: Path) -> sqlite3.Connection:
    """Open an existing log to change it (repair): checked as :func:`connect_received` checks, and
    refused when it carries a trigger (a DELETE would run it)."""
    check_sqlite_file(path)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    return _checked(db, path, (f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA trusted_schema = 0"),
                    writing=True)


def sqlite_rows(db: sqlite3.Connection, path: Path) -> Iterator[StoredRecord]:
    """The rows of an open log's ``records`` (see :meth:`DecisionLog.rows`)."""
    return _sqlite_rows(db, path)


def sqlite_rows_by_id(db: sqlite3.Connection, path: Path) -> Iterator[tuple[int, StoredRecord, int | None]]:
    """The rows of an open log's ``records`` as :func:`sqlite_rows` reads them, in the same order, each with its
    rowid (what a repair deletes by: the seq column of a damaged log may hold anything, twice) and its seq column
    when that holds a whole number (None when it holds another type: the row's seq is then 0). See
    :func:`check_rowid`."""
    try:
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        for rowid, *values in db.execute(_ROWS_BY_ID):
            yield rowid, _stored_row(*values), values[0] if values[1] == "integer" else None
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None


def connect_received(path: Path) -> sqlite3.Connection:
    """Open a received SQLite log read-only, checked before SQLite reads it: a regular, non-empty
    file that begins as a SQLite database, whose ``records`` is a plain table.

    It is opened ``immutable``: nothing is written, no -wal or -shm file is made, and a log on
    read-only media can be read. A log with a non-empty write-ahead file beside it (a live log, or
    one whose writer was killed) is read with it, still read-only (SQLite may update the -shm index
    beside it; never the log). ``query_only`` and ``trusted_schema=0`` stop anything the file
    carries from writing or calling functions.
    """
    check_sqlite_file(path)
    wal = Path(f"{path}-wal")
    live = wal.is_file() and wal.stat().st_size > 0
    try:
        db = sqlite3.connect(_uri(path, immutable=not live), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    return _checked(db, path, ("PRAGMA query_only = 1", "PRAGMA trusted_schema = 0"))


def _checked(db: sqlite3.Connection, path: Path, pragmas: tuple[str, ...], *,
             writing: bool = False) -> sqlite3.Connection:
    """``db`` after its pragmas and the schema check (see :func:`_check_schema`); closed, and the
    problem raised as a LogError, when either fails."""
    try:
        for pragma in pragmas:
            db.execute(pragma)
        _check_schema(db, path, writing=writing)
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # a schema whose text is not UTF-8: damaged too
        db.close()
        raise _damaged(path, exc) from None
    except LogError:
        db.close()
        raise
    return db


_TYPES = {"null": "NULL", "integer": "an integer", "real": "a real", "blob": "a blob", "text": "text"}
#: Every value as bytes with its type (whatever the connection's text_factory): text that is not
#: UTF-8 is then a finding, not an exception in the middle of the rows.
_ROWS = ("SELECT CASE WHEN typeof(seq) = 'integer' THEN seq ELSE CAST(seq AS BLOB) END, typeof(seq), "
         "typeof(hash), CAST(hash AS BLOB), typeof(prev_hash), CAST(prev_hash AS BLOB), "
         "typeof(body), CAST(body AS BLOB) FROM records ORDER BY seq")
_ROWS_BY_ID = _ROWS.replace("SELECT ", "SELECT rowid, ", 1)


def _sqlite_rows(db: sqlite3.Connection, path: Path | None = None) -> Iterator[StoredRecord]:
    """The rows of ``records`` in seq order; a value of another type (NULL, a blob, a number, text
    for seq, text that is not UTF-8) is reported in the row's ``problem``, never raised."""
    try:
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        for values in db.execute(_ROWS):
            yield _stored_row(*values)
    except sqlite3.Error as exc:
        raise _damaged(path or Path("the log"), exc) from None


def _stored_row(seq: Any, seq_type: str, hash_type: str, digest: Any, prev_type: str, prev: Any, body_type: str,
                body: Any) -> StoredRecord:
    """A row of ``_ROWS`` as stored (each value as SQLite's type name and the value as bytes, seq as an integer
    when it is one): its values as text when they are, else each problem said (:func:`_odd_row`)."""
    if seq_type == "integer" and hash_type == prev_type == body_type == "text":
        try:
            return StoredRecord(seq, digest.decode("utf-8"), prev.decode("utf-8"), body.decode("utf-8"), "", body)
        except UnicodeDecodeError:
            pass
    return _odd_row(seq, seq_type, (hash_type, digest), (prev_type, prev), (body_type, body))


def _odd_row(seq: object, seq_type: str, *columns: tuple[str, bytes | None]) -> StoredRecord:
    """A row with a value of another type than expected, each problem said."""
    problems = []
    if seq_type != "integer":
        problems.append(f"its seq column holds {_TYPES.get(seq_type, seq_type)}, not a whole number")
    values = []
    for (kind, value), column in zip(columns, ("hash", "prev_hash", "body"), strict=True):
        text = ""
        if kind != "text":
            problems.append(f"its {column} column holds {_TYPES.get(kind, kind)}, not text")
        else:
            try:
                text = (value or b"").decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"its {column} column is not UTF-8 text")
        values.append(text)
    return StoredRecord(seq if type(seq) is int else 0, values[0], values[1], values[2], "; ".join(problems))


class ReadOnlyLog(_Connected):
    """A received SQLite log, opened read-only and immutable (see :func:`connect_received`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect_received(self.path)

    def rows(self) -> Iterator[StoredRecord]:
        """Every row in seq order (see :class:`DecisionLog.rows`)."""
        return _sqlite_rows(self._db, self.path)

    def __len__(self) -> int:
        try:
            return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        except sqlite3.Error as exc:
            raise _damaged(self.path, exc) from None

    def export_jsonl(self, out: Path) -> int:
        """Write every record as one JSON line, atomically; return how many."""
        return write_jsonl(self.rows(), Path(out), source=self.path)


def _jsonl_row(number: int, line: bytes) -> StoredRecord | None:
    """A JSONL line (its bytes, without the line break) as a row: its seq when it names a whole number
    from 1, else minus its line number. A line that is not JSON (torn, an integer Python will not read,
    nested too deep) keeps its text, for verify to report; so does a line that is not UTF-8, whose text
    says so (and is never JSON: its bytes are never read as other characters)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return StoredRecord(-number, "", "", _not_utf8(line, exc))
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: not JSON, or an integer beyond int_max_str_digits
        return StoredRecord(-number, "", "", text)
    if not isinstance(data, dict):
        return StoredRecord(-number, "", "", text)
    seq = data.get("seq")
    return StoredRecord(seq if type(seq) is int and seq >= 1 else -number, str(data.get("hash", "")),
                        str(data.get("prev_hash", "")), text)


def _not_utf8(line: bytes, exc: UnicodeDecodeError) -> str:
    """The text of a JSONL row whose line is not UTF-8: what is wrong, where, then the line with each byte
    that is not UTF-8 as an escape (``\\xff``), cut at 4,096 bytes; it begins with a parenthesis, so it is never read
    as JSON."""
    return (f"(not UTF-8: {exc.reason} at byte {exc.start + 1} of the line, 0x{line[exc.start]:02x}) "
            + line[:4096].decode("utf-8", "backslashreplace"))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (POSIX) for the block; they are delivered when it ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def read_jsonl(path: Path, *, allow_empty: bool = True) -> Iterator[StoredRecord]:
    """Rows of a JSONL export, in file order, streamed; a line that is not a record (not JSON, not
    UTF-8) keeps its text for verify. The file is checked (and opened) at once: a missing file, a FIFO,
    a device or a directory is refused unread (LogError), and an empty one unless ``allow_empty`` (a
    writer's new file). Lines end at ``\\n`` only, and each is decoded on its own, strictly."""
    handle = open(_open_regular(Path(path), allow_empty=allow_empty), "rb")  # noqa: SIM115
    return _jsonl_lines(handle)


def _jsonl_lines(handle: BinaryIO) -> Iterator[StoredRecord]:
    with handle:
        for number, line in enumerate(handle, 1):
            row = _jsonl_row(number, line[:-1] if line.endswith(b"\n") else line)
            if row is not None:
                yield row


def read_once(path: Path, limit: int = IMPORT_LIMIT) -> bytes:
    """The whole of a regular file, read once through one descriptor, at most ``limit`` bytes (a
    FIFO, a device or a larger file is refused): what ``import`` verifies and then imports."""
    fd = _open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise LogError(f"{path} holds {size:,} bytes, more than import reads ({limit:,}); split it")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 24, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise LogError(f"{path} holds more than {limit:,} bytes, more than import reads; split it")
        return b"".join(chunks)
    finally:
        os.close(fd)


def jsonl_rows(data: bytes) -> Iterator[StoredRecord]:
    """Rows of a JSONL export held in memory (as :func:`read_jsonl` reads them from a file: a line that is
    not UTF-8 is a row that is not a record, never its bytes read as other characters)."""
    start, number, end = 0, 0, len(data)
    while start <= end:
        stop = data.find(b"\n", start)
        stop = end if stop < 0 else stop
        number += 1
        row = _jsonl_row(number, data[start:stop])
        if row is not None:
            yield row
        start = stop + 1


def open_rows(path: Path) -> Iterator[StoredRecord]:
    """The rows of a received log file: SQLite, opened read-only and immutable, or a JSONL export
    (.jsonl). Raises LogError, before anything is read, for a file that is not a log (missing,
    empty, a directory, a FIFO, not SQLite, a damaged database, a ``records`` that is not a plain table)."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return read_jsonl(path, allow_empty=False)
    log = ReadOnlyLog(path)
    return _closing(log)


def _closing(log: ReadOnlyLog) -> Iterator[StoredRecord]:
    with log:
        yield from log.rows()


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through a symlink or a hard link too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


#: The files SQLite keeps beside a database ``LOG``, by the suffix of their names: ``LOG-wal`` holds the records
#: its writer has not checkpointed yet.
COMPANIONS = {"-wal": "write-ahead file (-wal)", "-shm": "shared-memory index (-shm)",
              "-journal": "rollback journal (-journal)"}


def _names(path: Path) -> set[str]:
    """The names a path goes by: as given (absolute, ``.`` and ``..`` folded) and with its links resolved."""
    names = {os.path.abspath(path)}
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        names.add(os.path.realpath(path))
    return names


def role_of(path: Path, log: Path) -> str | None:
    """What ``path`` is of the SQLite log ``log``: "the log" itself, or one of the files SQLite keeps beside it
    (:data:`COMPANIONS`: "the write-ahead file (-wal)", ...), by identity where they exist (a hard link, a symbolic
    link) and by name where they do not yet; None when it is none of them. SQLite names the companions after the
    log with its links resolved, so both names of the log count."""
    if same_file(path, log) or _names(path) & _names(log):
        return "the log"
    names = _names(path)
    for suffix, what in COMPANIONS.items():
        for name in _names(log):
            if name + suffix in names or same_file(path, Path(name + suffix)):
                return f"the {what}"
    return None


def companion_of(path: Path) -> tuple[Path, str] | None:
    """The SQLite database that ``path`` is a companion file of (:data:`COMPANIONS`), and which one, when ``path``
    is named as one (``LOG-wal``, ``LOG-shm``, ``LOG-journal``) and ``LOG`` is a SQLite file (begins as one): SQLite
    would read or replace what is written there as that log's own file."""
    text = os.fspath(path)
    for suffix, what in COMPANIONS.items():
        if not text.endswith(suffix) or len(text) == len(suffix) or text[-len(suffix) - 1] in "/" + os.sep:
            continue
        base = Path(text[:-len(suffix)])
        try:
            fd = _open_regular(base, allow_empty=True)
        except LogError:
            continue
        try:
            if os.read(fd, len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                return base, f"the {what}"
        finally:
            os.close(fd)
    return None


def write_jsonl(rows: Iterable[StoredRecord], out: Path, *, source: Path | None = None) -> int:
    """Write rows as JSON Lines to ``out`` atomically (a temporary file in the same folder, flushed
    to disk, then renamed over ``out``); refuses to write over ``source`` (the same file under
    another name, a symlink or a hard link included) or a file SQLite keeps beside it or beside another SQLite
    database (``-wal``, ``-shm``, ``-journal``: :func:`role_of`, :func:`companion_of`), and rows that are not one
    line of text. ``out`` is left as
    it was when anything fails; an ``OSError`` of a storage that refused the write (full, over a quota or a file
    size limit, failing: `ecei_rules.core.files.storage_refused`) is raised as it is, any other as LogError."""
    out = Path(out)
    role = role_of(out, source) if source is not None else None
    if role == "the log":
        raise LogError(f"{out} is the log being exported ({source}); write the export to another file")
    if role is not None:
        raise LogError(f"{out} is {role} of the log being exported ({source}), which SQLite keeps as part of the "
                       "log; write the export to another file (nothing was written)")
    beside = companion_of(out)
    if beside is not None:
        raise LogError(f"{out} is named as {beside[1]} of the SQLite database {beside[0]}, which SQLite would "
                       "read it as; write the export to another file (nothing was written)")
    if out.is_dir():
        raise LogError(f"{out} is a directory; give the export's file name")
    try:
        mode = out.stat().st_mode
    except OSError:
        mode = stat.S_IFREG  # not there yet (or not to be looked at: the write says why)
    if not stat.S_ISREG(mode):  # the rename would put a file in place of a device, a pipe or a socket
        raise LogError(f"{out} is {kind_of(mode)}; the export is written to a regular file, atomically "
                       "(a new one, or one it replaces)")

    def fill(handle: TextIO) -> int:
        count = 0
        for row in rows:
            if row.problem or "\n" in row.text or "\r" in row.text:
                raise LogError(f"{source or 'the log'}: the row of record {row.seq} is not one line of text "
                               f"({row.problem or 'it holds a line break'}); verify the log; nothing exported")
            handle.write(row.text + "\n")
            count += 1
        return count

    try:
        return replace_atomically(out, fill)
    except OSError as exc:
        if storage_refused(exc):  # not the place named: the storage (full, a limit, failing) says why
            raise
        raise LogError(f"{out}: cannot write there ({exc.strerror})") from None
