"""Interrupts, full disks and closed pipes (issue 20, item 4): an append is acknowledged exactly when it is
committed, and the command line stops cleanly, says what the log holds, and exits with its documented code.

Real processes and real signals: ``evaluate ... | head -1`` through a shell; SIGINT and SIGTERM sent to a
``record`` run once it has committed some records (polled in the log, no timing assumed); a full disk
simulated with SQLite's ``max_page_count`` on the log's own connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import EXAMPLES, cli, command, subprocess_env

from ecei_rules.audit.log import DecisionLog
from ecei_rules.audit.replay import verify
from ecei_rules.batch import decide
from ecei_rules.cli.app import EXIT_DISK_FULL, EXIT_SIGINT, EXIT_SIGPIPE, EXIT_SIGTERM

AT = "2026-01-01T00:00:00+00:00"
COMMITTED = re.compile(r"holds (\d+) record\(s\); head: ([0-9a-f]{64}|none)")


def gold() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 assessments: far more than a record run commits before the signal reaches it."""
    path = tmp_path_factory.mktemp("batch") / "batch.jsonl"
    line = json.dumps(gold(), separators=(",", ":"))
    path.write_text((line + "\n") * 20_000, encoding="utf-8")
    return path


# --- broken pipes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_closed_pipe_exits_141_without_a_traceback(tmp_path: Path, big_batch: Path, fmt: str) -> None:
    """``ecei-rules evaluate batch.jsonl --format json | head -1``: the reader leaves after one line."""
    script = (" ".join(f"'{a}'" for a in command("evaluate", str(big_batch), "--format", fmt, "--jobs", "1"))
              + " 2>err.txt | head -1 >first.txt; echo ${PIPESTATUS[0]} >code.txt")
    subprocess.run(["bash", "-c", script], cwd=tmp_path, env=subprocess_env(), timeout=300, check=True)
    assert int((tmp_path / "code.txt").read_text()) == EXIT_SIGPIPE
    assert (tmp_path / "err.txt").read_text() == ""  # not a word: the reader chose to stop
    first = (tmp_path / "first.txt").read_text()
    if fmt == "json":
        assert json.loads(first)["label"] == "gold"


def test_a_closed_pipe_is_not_a_finding() -> None:
    """The documented codes: a broken pipe is 141, never 1 (findings), also for a batch read from stdin."""
    batch = (EXAMPLES / "batch.jsonl").read_bytes() * 50
    process = subprocess.Popen(command("evaluate", "-", "--format", "json", "--jobs", "1"), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    stdin = process.stdin

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError):  # the reader may stop before reading it all
            stdin.write(batch)
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert process.stdout.readline().startswith(b"{")
    process.stdout.close()
    assert process.wait(timeout=300) == EXIT_SIGPIPE
    assert b"Traceback" not in process.stderr.read()
    writer.join(timeout=60)


# --- signals during record ----------------------------------------------------------------------------


def _count(log: Path) -> int:
    try:
        with sqlite3.connect(f"file:{log}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


@pytest.mark.parametrize(("number", "code"), [(signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_record_cleanly_and_names_what_was_committed(tmp_path: Path, big_batch: Path, number: int,
                                                                    code: int) -> None:
    log = tmp_path / "decisions.db"
    process = subprocess.Popen(command("record", str(big_batch), "--log", str(log), "--at", AT),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())
    polls = 0
    while _count(log) < 5:  # poll the log (a bounded loop: the run cannot finish 20,000 records first)
        polls += 1
        assert process.poll() is None, process.communicate()
        assert polls < 200_000
        os.sched_yield()
    process.send_signal(number)
    out, err = process.communicate(timeout=300)
    assert process.returncode == code, err
    text = err.decode("utf-8")
    assert "Traceback" not in text
    assert f"interrupted by {signal.Signals(number).name}" in text
    match = COMMITTED.search(text)
    assert match is not None, text
    count, head = int(match.group(1)), match.group(2)
    assert 5 <= count < 20_000
    assert f"{count} decision(s) recorded by this run" in text
    checked = cli(["verify", str(log), "--format", "json"])
    report = json.loads(checked.stdout)
    assert checked.code == 0
    assert (report["records"], report["head"]) == (count, head)
    assert cli(["verify", str(log), "--expect-head", head, "--expect-count", str(count)]).code == 0
    assert out == b""  # the summary of a finished run is not printed: this one did not finish


# --- a full disk ----------------------------------------------------------------------------------------


def _small_disk(monkeypatch: pytest.MonkeyPatch, pages: int) -> None:
    """Every log opened from now on can grow by ``pages`` pages only (SQLite: 'database or disk is full')."""
    original = DecisionLog.__init__

    def init(self: DecisionLog, path: str | Path) -> None:
        original(self, path)
        used = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {used + pages}")

    monkeypatch.setattr(DecisionLog, "__init__", init)


def test_a_full_disk_stops_record_with_its_own_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text((json.dumps(gold()) + "\n") * 200, encoding="utf-8")
    log = tmp_path / "decisions.db"
    assert cli(["record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT]).code == 0
    _small_disk(monkeypatch, pages=40)
    ran = cli(["record", str(batch), "--log", str(log), "--at", AT])
    assert ran.code == EXIT_DISK_FULL, ran.both
    assert "the disk is full" in ran.stderr
    assert "Traceback" not in ran.both
    match = COMMITTED.search(ran.stderr)
    assert match is not None, ran.stderr
    count, head = int(match.group(1)), match.group(2)
    assert 1 < count < 201
    monkeypatch.undo()
    report = json.loads(cli(["verify", str(log), "--format", "json"]).stdout)
    assert report["ok"]
    assert (report["records"], report["head"]) == (count, head)


def test_a_full_disk_in_any_command_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC from writing a file (an export here) is reported as a full disk, not as an internal error."""
    log = tmp_path / "decisions.db"
    assert cli(["record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT]).code == 0

    def full(*args: Any, **kwargs: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ecei_rules.audit.log.write_jsonl", full)
    ran = cli(["export", str(log), str(tmp_path / "out.jsonl")])
    assert ran.code == EXIT_DISK_FULL
    assert ran.stderr.startswith("error: the disk is full (OSError: [Errno 28] No space left on device) while "
                                 "running 'ecei-rules export'")


# --- the library: append_many ----------------------------------------------------------------------------


class _Connection:
    """A SQLite connection that misbehaves on cue: runs a hook before (``before``) or after (``after``) a
    statement."""

    def __init__(self, db: sqlite3.Connection, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.db, self.before, self.after = db, before, after

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def execute(self, sql: str, *args: Any) -> Any:
        word = sql.split()[0]
        if word in self.before:
            self.before[word]()
        result = self.db.execute(sql, *args)
        if word in self.after:
            self.after[word]()
        return result


def _decision() -> tuple[Any, dict[str, Any]]:
    data = gold()
    return decide(data), data


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Python's own SIGINT handler (KeyboardInterrupt) for the test, whatever an earlier test of the
    worker left installed (one CI run saw the interrupt taken by another handler, not raised)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint")
def test_an_interrupt_just_after_commit_is_not_masked_and_the_records_are_acknowledged(tmp_path: Path) -> None:
    """Ctrl-C lands right after COMMIT (a real SIGINT, raised by the COMMIT itself): before the fix, the
    rollback failed ('no transaction is active') and hid both the interrupt and the stored record.

    The signal is sent to this thread, which holds it while COMMIT runs, so it is delivered as the append
    lets it go. Sent to the process, it could go to another thread of the test runner (pytest-xdist's
    worker has some) and reach this one at any later moment, even after the append has returned: a
    race of the test, not of the log (an append that returned is acknowledged)."""
    decision, data = _decision()

    def interrupt() -> None:
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    with DecisionLog(tmp_path / "log.db") as log:
        first = log.append(decision, data, decided_at=AT)
        db = log._db
        log._db = _Connection(db, {}, {"COMMIT": interrupt})  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt) as caught:
            log.append_many([(decision, data), (decision, data)], decided_at=AT)
        log._db = db
        assert [r.seq for r in log.last_append] == [2, 3]  # acknowledged: committed and handed back
        assert any("the append was committed: 2 record(s)" in note for note in caught.value.__notes__)
        assert len(log) == 3
        assert log.head() == (3, log.last_append[-1].hash)
        assert verify(log.rows()).ok
        assert first.seq == 1


def test_an_interrupt_raised_as_commit_returns_is_acknowledged(tmp_path: Path) -> None:
    """An interrupt raised the moment COMMIT returns, before the log notes the append (what a SIGINT
    received by another thread of the process does: the appending thread's signal mask cannot hold
    it): the records are stored, so the append is acknowledged (last_append and the note)."""
    decision, data = _decision()

    def interrupt() -> None:
        raise KeyboardInterrupt

    with DecisionLog(tmp_path / "log.db") as log:
        db = log._db
        log._db = _Connection(db, {}, {"COMMIT": interrupt})  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt) as caught:
            log.append_many([(decision, data), (decision, data)], decided_at=AT)
        log._db = db
        assert [r.seq for r in log.last_append] == [1, 2]
        assert any("the append was committed: 2 record(s)" in note for note in caught.value.__notes__)
        assert len(log) == 2
        assert verify(log.rows()).ok


def test_an_interrupt_before_commit_rolls_back(tmp_path: Path) -> None:
    decision, data = _decision()
    with DecisionLog(tmp_path / "log.db") as log:
        log.append(decision, data, decided_at=AT)
        db = log._db

        def interrupt() -> None:
            raise KeyboardInterrupt

        log._db = _Connection(db, {"COMMIT": interrupt}, {})  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            log.append(decision, data, decided_at=AT)
        log._db = db
        assert log.last_append == ()  # not acknowledged, and not stored
        assert len(log) == 1
        assert not db.in_transaction
        log.append(decision, data, decided_at=AT)
        assert verify(log.rows()).ok


def test_a_full_disk_is_reported_as_such_even_when_the_rollback_fails(tmp_path: Path) -> None:
    decision, data = _decision()
    with DecisionLog(tmp_path / "log.db") as log:
        log.append(decision, data, decided_at=AT)
        db = log._db

        def full() -> None:
            raise sqlite3.OperationalError("database or disk is full")

        def rollback_fails() -> None:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")

        log._db = _Connection(db, {"COMMIT": full, "ROLLBACK": rollback_fails}, {})  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full") as caught:
            log.append(decision, data, decided_at=AT)
        assert any("the rollback failed too" in note for note in caught.value.__notes__)
        log._db = db
        db.execute("ROLLBACK")
        assert len(log) == 1
        assert log.last_append == ()


def test_a_real_full_disk_leaves_a_log_that_verifies(tmp_path: Path) -> None:
    decision, data = _decision()
    with DecisionLog(tmp_path / "log.db") as log:
        log.append(decision, data, decided_at=AT)
        used = log._db.execute("PRAGMA page_count").fetchone()[0]
        log._db.execute(f"PRAGMA max_page_count = {used + 20}")
        stored = 1

        def fill() -> None:
            nonlocal stored
            for _ in range(1000):
                log.append(decision, data, decided_at=AT)
                stored += 1

        with pytest.raises(sqlite3.OperationalError, match="full"):
            fill()
        assert not log._db.in_transaction
        assert len(log) == stored
        assert verify(log.rows()).ok
