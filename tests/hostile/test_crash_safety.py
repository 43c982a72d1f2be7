"""Crash safety of the decision log: writers killed with SIGKILL at random moments.

SQLite log: a writer process appends records and reports the seq of each append *after*
``append`` returns (the acknowledgement). The parent kills it with SIGKILL after a random delay,
then checks that every acknowledged record is in the log, that ``verify`` finds nothing, and that
the next writer appends cleanly after the dead one. There are no torn records to find here: each
append is one SQLite transaction (WAL, synchronous=FULL), so after a crash a record is either
wholly committed or wholly absent; the WAL is recovered when the log is next opened.

JSON Lines: a JSONL appender (writing each ~33 KB line in 4 KB ``write`` calls, each synced, and
acknowledging after the whole line) is killed the same way and leaves torn last lines; and exports are cut at random
byte offsets. A torn line is always reported (``corrupt``); a cut exactly at a line boundary
leaves a shorter log that is valid on its own, which only a head hash or record count kept
outside the log can reveal (``check_head``, ``repair --expect-head/--expect-count``).

The writers are forked from this process (imports done once, so a trial costs milliseconds, not
an interpreter start); each is a separate process with its own SQLite connection or file handle,
killed with a real SIGKILL. ``scripts/crash_trials.py`` runs the same trials 200 times each.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.audit.log import DecisionLog, open_rows, read_jsonl
from ecei_rules.audit.record import GENESIS, make_record
from ecei_rules.audit.repair import check_head, plan_repair, repair
from ecei_rules.audit.replay import verify
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import canonical_bytes, sha256_hex
from ecei_rules.engine.decision import Decision
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import synthesize

CHUNK = 4096


def sample(registry: Registry | None = None) -> tuple[Decision, Any]:
    """One decided assessment, reused for every record (only decided_at differs)."""
    registry = registry or Registry.shipped()
    data = next(iter(synthesize(1, seed=7, start=dt.date(2020, 1, 1), end=dt.date(2024, 1, 1), registry=registry)))
    return decide(data, registry=registry), data


def _at(n: int) -> str:
    return (dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC) + dt.timedelta(milliseconds=n)).isoformat()


# --- the writers (run in a forked child; they never return) -------------------------------------------


def _sqlite_writer(path: Path, decision: Decision, data: Any, ack: int) -> None:
    with DecisionLog(path) as log:
        os.write(ack, b"ready\n")
        n = 0
        while True:
            n += 1
            record = log.append(decision, data, decided_at=_at(n))
            os.write(ack, f"{record.seq}\n".encode())


def _jsonl_writer(path: Path, decision: Decision, data: Any, ack: int, stall_mid: bool = False) -> None:
    seq, head = 0, GENESIS
    for row in read_jsonl(path):  # the file was repaired before this writer started
        seq, head = row.seq, row.hash
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(ack, b"ready\n")
    while True:
        seq += 1
        record = make_record(decision, data, seq=seq, prev_hash=head, decided_at=_at(seq))
        line = record.canonical() + b"\n"
        for start in range(0, len(line), CHUNK):  # a streaming writer that syncs as it goes
            os.write(fd, line[start:start + CHUNK])
            os.fsync(fd)
            if stall_mid and seq > 1:  # a known moment mid-line: say so, and wait for the kill
                os.write(ack, b"mid\n")
                time.sleep(60)
        head = record.hash
        os.write(ack, f"{seq}\n".encode())


def _run_and_kill(target: Any, path: Path, sample_: tuple[Decision, Any], delay: float,
                  *, at_mid: bool = False) -> list[int]:
    """Fork a writer, let it run ``delay`` seconds after it is ready (or until it reports being mid-line),
    SIGKILL it; return the acknowledged seqs."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        os.close(read)
        try:
            target(path, *sample_, write)
        finally:
            os._exit(3)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        first = pipe.readline()
        assert first == b"ready\n", first
        acked: list[int] = []
        if at_mid:
            while (line := pipe.readline().strip()) != b"mid":
                acked.append(int(line))
        else:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), status
        assert os.WTERMSIG(status) == signal.SIGKILL, status
        return acked + [int(line) for line in pipe.read().split() if line != b"mid"]


# --- trials ------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    trials: int = 0
    acknowledged: int = 0
    lost: list[int] = field(default_factory=list)
    unacknowledged_committed: int = 0
    torn: int = 0
    torn_detected: int = 0
    boundary_cuts: int = 0
    boundary_cuts_caught_by_head: int = 0
    verify_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def sqlite_trials(root: Path, trials: int, *, seed: int, per_log: int = 20, max_delay: float = 0.08) -> Tally:
    """Kill a SQLite writer ``trials`` times; a new log every ``per_log`` trials."""
    rng, tally, smp, started = random.Random(seed), Tally(), sample(), time.perf_counter()
    path = root / "log-0.db"
    for trial in range(trials):
        if trial % per_log == 0:
            path = root / f"log-{trial // per_log}.db"
        before = _sqlite_len(path)
        acks = _run_and_kill(_sqlite_writer, path, smp, rng.uniform(0, max_delay))
        tally.trials += 1
        tally.acknowledged += len(acks)
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = {seq for (seq,) in db.execute("SELECT seq FROM records")}
        tally.lost += [seq for seq in acks if seq not in stored]
        assert acks == list(range(before + 1, before + 1 + len(acks))), "acks out of order"
        tally.unacknowledged_committed += len(stored) - before - len(acks)
        report = verify(open_rows(path))
        if not report.ok:
            tally.verify_failures.append(f"{path} trial {trial}: {report.sorted()[0].message}")
    # appending continues cleanly after the last crash
    with DecisionLog(path) as log:
        seq, _ = log.head()
        assert log.append(*smp, decided_at=_at(0)).seq == seq + 1
    assert verify(open_rows(path)).ok
    tally.seconds = time.perf_counter() - started
    return tally


def _sqlite_len(path: Path) -> int:
    if not path.exists():
        return 0
    with DecisionLog(path) as log:
        return len(log)


def jsonl_writer_trials(root: Path, trials: int, *, seed: int, per_log: int = 20, max_delay: float = 0.05) -> Tally:
    """Kill a JSONL appender ``trials`` times; every torn last line must be reported, then repaired."""
    rng, tally, smp, started = random.Random(seed), Tally(), sample(), time.perf_counter()
    path = root / "log-0.jsonl"
    for trial in range(trials):
        if trial % per_log == 0:
            path = root / f"log-{trial // per_log}.jsonl"
            path.touch()
        # every fourth kill lands at a known moment mid-line; the others at a random moment
        mid = trial % 4 == 3
        writer = functools.partial(_jsonl_writer, stall_mid=mid)
        acks = _run_and_kill(writer, path, smp, rng.uniform(0, max_delay), at_mid=mid)
        tally.trials += 1
        tally.acknowledged += len(acks)
        raw = path.read_bytes()
        tail = raw[raw.rfind(b"\n") + 1:]
        rows = list(read_jsonl(path))
        present = {row.seq for row in rows}
        tally.lost += [seq for seq in acks if seq not in present]
        report = verify(rows)
        torn = bool(tail) and not _complete(tail)
        if torn:
            tally.torn += 1
            last = len(raw.splitlines())
            if (-last, "corrupt") in {(f.seq, f.code) for f in report.findings}:
                tally.torn_detected += 1
            plan = repair(path)
            assert plan.removed_lines == [last], plan
            assert plan.removed_seqs == [], plan
        elif not report.ok:
            tally.verify_failures.append(f"{path} trial {trial}: {report.sorted()[0].message}")
        if tail and not torn:  # complete last record, only its newline missing: finish the line
            with path.open("ab") as handle:
                handle.write(b"\n")
        assert verify(read_jsonl(path)).ok
    tally.seconds = time.perf_counter() - started
    return tally


def _complete(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def truncation_trials(root: Path, trials: int, *, seed: int, records: int = 12) -> Tally:
    """Cut an export at random byte offsets: a torn line is always reported; a line-boundary cut verifies
    (a shorter valid log) and is caught only by the head hash / count kept outside the log."""
    rng, tally, smp, started = random.Random(seed), Tally(), sample(), time.perf_counter()
    source = root / "source.db"
    with DecisionLog(source) as log:
        for n in range(records):
            log.append(*smp, decided_at=_at(n))
        head = log.head()[1]
    export = root / "export.jsonl"
    with DecisionLog(source) as log:
        log.export_jsonl(export)
    data = export.read_bytes()
    ends = {i + 1 for i, byte in enumerate(data) if byte == 0x0A}
    offsets = [rng.randrange(0, len(data) + 1) for _ in range(trials - len(ends) - 1)] + sorted(ends) + [0]
    cut = root / "cut.jsonl"
    for offset in offsets:
        tally.trials += 1
        cut.write_bytes(data[:offset])
        report = verify(read_jsonl(cut))
        boundary = offset == 0 or data[offset - 1] == 0x0A or data[offset] == 0x0A
        complete = data[:offset].count(b"\n") + (1 if data[offset:offset + 1] == b"\n" and offset else 0)
        if boundary:
            tally.boundary_cuts += 1
            if not report.ok:
                tally.verify_failures.append(f"boundary cut at {offset}: {report.sorted()[0].message}")
            if offset < len(data) - 1 and check_head(read_jsonl(cut), head=head, count=records):
                tally.boundary_cuts_caught_by_head += 1
            elif offset >= len(data) - 1:
                tally.boundary_cuts_caught_by_head += 1  # nothing was cut off: nothing to catch
        else:
            tally.torn += 1
            kinds = {f.code for f in report.findings}
            if "corrupt" in kinds and report.sorted()[-1].seq == -(complete + 1):
                tally.torn_detected += 1
            plan = plan_repair(read_jsonl(cut))
            assert plan.kept == complete
            assert plan.removed_lines == [complete + 1]
    tally.seconds = time.perf_counter() - started
    return tally


# --- the tests ---------------------------------------------------------------------------------------------


def test_sqlite_writer_killed_40_times_loses_no_acknowledged_record(tmp_path: Path) -> None:
    tally = sqlite_trials(tmp_path, 40, seed=12)
    assert tally.acknowledged > 10
    assert tally.lost == []
    assert tally.verify_failures == []


def test_jsonl_appender_killed_40_times_every_torn_line_reported(tmp_path: Path) -> None:
    tally = jsonl_writer_trials(tmp_path, 40, seed=12)
    assert tally.lost == []
    assert tally.verify_failures == []
    assert tally.torn >= 10  # at least the ten kills made at a known moment mid-line tore a line
    assert tally.torn_detected == tally.torn


def test_export_cut_at_random_offsets_every_torn_line_reported(tmp_path: Path) -> None:
    tally = truncation_trials(tmp_path, 150, seed=12)
    assert tally.torn > 100
    assert tally.torn_detected == tally.torn
    assert tally.verify_failures == []  # a boundary cut is a shorter valid log...
    assert tally.boundary_cuts_caught_by_head == tally.boundary_cuts  # ...caught only by the head kept outside


# --- repair ------------------------------------------------------------------------------------------------


def _out(result: Any) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def smp() -> tuple[Decision, Any]:
    return sample()


def _log(path: Path, smp: tuple[Decision, Any], n: int) -> Path:
    with DecisionLog(path) as log:
        for i in range(n):
            log.append(*smp, decided_at=_at(i))
    return path


def _export(tmp_path: Path, smp: tuple[Decision, Any], n: int) -> Path:
    out = tmp_path / "export.jsonl"
    with DecisionLog(_log(tmp_path / "src.db", smp, n)) as log:
        log.export_jsonl(out)
    return out


def test_repair_torn_jsonl_tail(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    export = _export(tmp_path, smp, 5)
    data = export.read_bytes()
    export.write_bytes(data[:-1000])  # record 5 torn
    result = CliRunner().invoke(app, ["repair", str(export), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "would remove 1 row(s)" in _out(result)
    assert "unreadable line(s) (line number): 5" in _out(result)
    assert export.read_bytes() == data[:-1000]  # dry run: untouched
    result = CliRunner().invoke(app, ["repair", str(export)])
    assert result.exit_code == 1, result.output
    assert "kept records 1-4" in _out(result)
    assert "removed 1 row(s)" in _out(result)
    assert export.read_bytes() == data[:data.rfind(b"\n", 0, len(data) - 1) + 1]
    assert verify(read_jsonl(export)).ok
    assert [p.name for p in tmp_path.iterdir() if ".repair" in p.name] == []  # no temp file left
    result = CliRunner().invoke(app, ["repair", str(export)])
    assert result.exit_code == 0
    assert "nothing removed" in _out(result)


def test_repair_edited_record_removes_everything_from_it_on(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    db = _log(tmp_path / "log.db", smp, 8)
    with sqlite3.connect(db) as con:
        (text,) = con.execute("SELECT body FROM records WHERE seq = 4").fetchone()
        body = json.loads(text)
        body["decided_at"] = "2020-01-01T00:00:00+00:00"
        con.execute("UPDATE records SET body = ? WHERE seq = 4", (canonical_bytes(body).decode(),))
    result = CliRunner().invoke(app, ["repair", str(db)])
    assert result.exit_code == 1, result.output
    out = _out(result)
    assert "the first bad record is at position 4: record 4 does not match its hash" in out
    assert "everything from the first bad record on, including any intact records after it" in out
    assert "removed record(s) (seq): 4-8" in out
    assert "kept records 1-3" in out
    with DecisionLog(db) as log:
        assert len(log) == 3
        assert log.append(*smp, decided_at=_at(99)).seq == 4  # appending continues on the good prefix
    assert verify(open_rows(db)).ok


def test_repair_edited_record_with_rehash_in_jsonl(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    """An edit that recomputes the record's own hash still breaks the chain at the next record."""
    export = _export(tmp_path, smp, 6)
    lines = export.read_text().splitlines()
    body = json.loads(lines[2])
    body["decided_at"] = "2020-01-01T00:00:00+00:00"
    body["hash"] = sha256_hex(canonical_bytes({k: v for k, v in body.items() if k != "hash"}))
    lines[2] = canonical_bytes(body).decode()
    export.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["repair", str(export), "--format", "json"])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["kept"] == 3
    assert out["removed_seqs"] == [4, 5, 6]
    assert "record 4 does not chain" in out["first_bad"]


def test_repair_clean_log_untouched(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    db = _log(tmp_path / "log.db", smp, 4)
    export = _export(tmp_path, smp, 4)
    before = (db.read_bytes(), export.read_bytes(), export.stat().st_mtime_ns)
    for target in (db, export):
        result = CliRunner().invoke(app, ["repair", str(target)])
        assert result.exit_code == 0, result.output
        assert "4 record(s), all verify; nothing removed" in _out(result)
    assert export.read_bytes() == before[1]
    assert export.stat().st_mtime_ns == before[2]
    with DecisionLog(db) as log:
        assert len(log) == 4


def test_repair_expect_head_catches_a_clean_tail_cut(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    export = _export(tmp_path, smp, 5)
    rows = list(read_jsonl(export))
    head = rows[-1].hash
    export.write_text("".join(row.text + "\n" for row in rows[:3]))  # records 4 and 5 cut at a line boundary
    assert verify(read_jsonl(export)).ok  # the chain alone cannot tell
    result = CliRunner().invoke(app, ["repair", str(export), "--expect-head", head, "--expect-count", "5"])
    assert result.exit_code == 1
    assert "3 record(s), 5 expected" in _out(result)
    assert "not at the expected head" in _out(result)
    result = CliRunner().invoke(app, ["repair", str(export), "--expect-head", rows[2].hash])
    assert result.exit_code == 0, result.output


def test_verify_expect_head_and_count_catch_a_clean_tail_cut(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    """A log cut at a record boundary verifies on its own; against the head and count printed when it
    was whole, verify reports where its end went wrong and exits 1."""
    export = _export(tmp_path, smp, 5)
    rows = list(read_jsonl(export))
    whole = CliRunner().invoke(app, ["verify", str(export)])
    assert whole.exit_code == 0
    assert f"head: {rows[-1].hash}" in whole.output  # printed whole, to be kept outside the log
    assert CliRunner().invoke(app, ["verify", str(export), "--expect-head", rows[-1].hash,
                                    "--expect-count", "5"]).exit_code == 0
    export.write_text("".join(row.text + "\n" for row in rows[:3]))  # records 4 and 5 cut
    cut = CliRunner().invoke(app, ["verify", str(export), "--expect-head", rows[-1].hash, "--expect-count", "5",
                                   "--format", "json"])
    assert cut.exit_code == 1
    report = json.loads(cut.output)
    assert report["head"] == rows[2].hash
    # both at the log's last record: an index inside the log
    assert [(f["seq"], f["kind"]) for f in report["findings"]] == [(3, "unexpected_end"), (3, "unexpected_end")]
    messages = " ".join(f["message"] for f in report["findings"])
    assert "3 record(s), 5 expected: 2 record(s) were removed from its tail" in messages
    assert "which no record in it has" in messages


def test_verify_expect_head_names_records_after_the_acknowledged_one(tmp_path: Path,
                                                                    smp: tuple[Decision, Any]) -> None:
    """A log that goes on after the acknowledged head (record 2 of 5) is not the acknowledged log: verify
    names the head's record and how many follow it; a count that is too small says how many more."""
    export = _export(tmp_path, smp, 5)
    rows = list(read_jsonl(export))
    result = CliRunner().invoke(app, ["verify", str(export), "--expect-head", rows[1].hash, "--expect-count", "2"])
    assert result.exit_code == 1
    assert "goes on after the expected head (record 2): it ends at record 5, 3 record(s) later" in _out(result)
    assert "5 record(s), 2 expected: 3 record(s) more than were acknowledged" in _out(result)
    assert "the first bad record is 3" in _out(result)


def test_verify_expectations_are_checked_as_arguments(tmp_path: Path, smp: tuple[Decision, Any]) -> None:
    """A head that is not a SHA-256 in hex, or expectations given for a rulesets directory, are usage errors."""
    export = _export(tmp_path, smp, 2)
    assert CliRunner().invoke(app, ["verify", str(export), "--expect-head", "abc"]).exit_code == 2
    assert CliRunner().invoke(app, ["verify", str(export), "--expect-head", "A" * 64]).exit_code == 2
    assert CliRunner().invoke(app, ["verify", str(export), "--expect-count", "-1"]).exit_code == 2
    assert CliRunner().invoke(app, ["verify", str(tmp_path), "--expect-count", "2"]).exit_code == 2


def test_repair_not_a_log(tmp_path: Path) -> None:
    bad = tmp_path / "x.db"
    bad.write_text("not sqlite at all, just some text " * 100)
    assert CliRunner().invoke(app, ["repair", str(bad)]).exit_code == 2
    assert CliRunner().invoke(app, ["repair", str(tmp_path / "missing.db")]).exit_code == 2
