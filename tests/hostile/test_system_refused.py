"""The system refuses what a command needs (exit code 3), and nothing a command had is lost when it does: a
storage that refuses a write (full, over a quota or a file size limit, failing), memory that runs out, a limit of
open files reached, a log another process holds locked, a worker process killed; and what is written over
(a lock, a receipt, an export) is replaced whole or not at all.

The refusals are real where they can be: each command runs in a subprocess whose file size limit
(``RLIMIT_FSIZE``, what ``ulimit -f`` sets) is reached while it writes, so the kernel answers EFBIG (Python
ignores SIGXFSZ) and SQLite answers "disk I/O error"; or whose address space (``RLIMIT_AS``) or open files
(``RLIMIT_NOFILE``) are capped a little above what it holds once started; a log is locked by a real SQLite
transaction, a worker killed by a real SIGKILL, a named pipe made with mkfifo. Before, each of these was an
internal error to report (exit 2), or a false cause ("a damaged or unreadable SQLite database"). The
subprocesses are not measured for coverage: the limits would stop coverage's own data file.
"""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from cli_harness import EXAMPLES, ROOT, command, subprocess_env

from ecei_rules.cli.app import EXIT_DISK_FULL, EXIT_USAGE
from ecei_rules.cli.common import system_limit
from ecei_rules.core.files import storage_refused

AT = "2026-01-01T00:00:00+00:00"
COMMITTED = re.compile(r"holds (\d+) record\(s\); head: ([0-9a-f]{64})")
TOO_LARGE = "error: a file would grow beyond the size this process may write"


def _unmeasured() -> dict[str, str]:
    return {k: v for k, v in subprocess_env().items() if not k.startswith(("COV_CORE_", "COVERAGE_"))}


def _limited(*args: str, limit: int, stdout: Path | None = None) -> tuple[int, str]:
    """(exit code, stderr) of ``ecei-rules ARGS`` run with files limited to ``limit`` bytes (stdout to the file
    ``stdout``, which the limit holds too, or dropped)."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with open(stdout if stdout is not None else os.devnull, "wb") as out:
        done = subprocess.run(command(*args), stdout=out, stderr=subprocess.PIPE, env=_unmeasured(), timeout=300,
                              preexec_fn=limit_files, check=False)
    return done.returncode, done.stderr.decode("utf-8", "replace")


#: ``ecei-rules ARGV[2:]`` with its address space capped at what it holds once its modules are imported plus
#: ARGV[1] bytes (so the cap does not depend on the machine's libraries).
_CAPPED = """import resource, sys
import ecei_rules.batch, ecei_rules.cli.decide, ecei_rules.engine.decision
from ecei_rules.cli.app import main
held = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (held + int(sys.argv[1]), resource.RLIM_INFINITY))
sys.argv = ["ecei-rules", *sys.argv[2:]]
main()
"""


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command(*args), capture_output=True, env=subprocess_env(), timeout=300, check=False)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 copies of the Gold example, as JSON Lines (about 3 MB of decisions as JSON, 4 MB as records)."""
    path = tmp_path_factory.mktemp("storage") / "batch.jsonl"
    line = json.dumps(json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8")))
    path.write_text((line + "\n") * 120, encoding="utf-8")
    return path


def test_record_stopped_by_a_file_size_limit_exits_3_and_every_record_it_acknowledged_verifies(
        tmp_path: Path, batch: Path) -> None:
    """SQLite's 'disk I/O error' (EFBIG below it) ends ``record`` with exit 3, saying what the log holds; the
    log verifies with exactly that head and count."""
    log = tmp_path / "decisions.db"
    assert _run("record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT).returncode == 0
    code, stderr = _limited("record", str(batch), "--log", str(log), "--at", AT, limit=log.stat().st_size + 1_000_000)
    assert code == EXIT_DISK_FULL, stderr
    assert "the storage reported an I/O error (SQLITE_IOERR_WRITE: " in " ".join(stderr.split())
    assert "internal error" not in stderr
    assert "Traceback" not in stderr
    match = COMMITTED.search(stderr)
    assert match is not None, stderr
    count, head = int(match.group(1)), match.group(2)
    assert 1 < count < 121
    checked = _run("verify", str(log), "--expect-head", head, "--expect-count", str(count), "--format", "json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert (report["ok"], report["records"], report["head"]) == (True, count, head)


@pytest.mark.parametrize("case", ["evaluate", "explain", "synth", "impact"])
def test_an_output_beyond_a_file_size_limit_exits_3_saying_so(tmp_path: Path, batch: Path, case: str) -> None:
    """A command whose output (stdout to a file, or ``-o``) reaches the limit: exit 3, one line that says the
    limit is why, not an internal error."""
    out = tmp_path / "out"
    args = {"evaluate": ["evaluate", str(batch), "--format", "json"],
            "explain": ["explain", str(batch), "--format", "json"],
            "synth": ["synth", "--as-of", "2024-06-30", "-n", "400", "-o", str(out)],
            "impact": ["impact", str(batch), "--from", "2.0.0", "--to", "3.0.1", "--format", "json", "-o", str(out)]}
    code, stderr = _limited(*args[case], limit=1_000, stdout=None if "-o" in args[case] else out)
    assert code == EXIT_DISK_FULL, stderr
    assert stderr.startswith(f"{TOO_LARGE} (a file size limit, as ulimit -f sets) (OSError: [Errno {errno.EFBIG}]")
    assert stderr.endswith(f"while running 'ecei-rules {case}'\n")
    assert out.stat().st_size == 1_000  # it wrote up to the limit: the limit, not the output, stopped it


def test_an_export_beyond_a_file_size_limit_exits_3_and_leaves_the_target_as_it_was(tmp_path: Path,
                                                                                       batch: Path) -> None:
    """``export`` writes a temporary file and renames it: when the limit stops it, the target keeps its old
    bytes and no temporary file is left."""
    log = tmp_path / "decisions.db"
    assert _run("record", str(batch), "--log", str(log), "--at", AT).returncode == 0
    target = tmp_path / "export.jsonl"
    target.write_bytes(b"the previous export\n")
    code, stderr = _limited("export", str(log), str(target), limit=100_000)
    assert code == EXIT_DISK_FULL, stderr
    assert stderr.startswith(TOO_LARGE)
    assert target.read_bytes() == b"the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.db", "export.jsonl"]


def test_keygen_beyond_a_file_size_limit_exits_3_and_leaves_no_key(tmp_path: Path) -> None:
    """A key that cannot be written whole is not left half written: neither file remains."""
    keys = tmp_path / "keys"
    code, stderr = _limited("keygen", "--out", str(keys), limit=0)
    assert code == EXIT_DISK_FULL, stderr
    assert stderr.startswith(TOO_LARGE)
    assert list(keys.iterdir()) == []


@pytest.mark.parametrize(("number", "expected"), [
    (errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "the disk quota is exceeded"),
    (errno.EFBIG, f"{TOO_LARGE[7:]} (a file size limit, as ulimit -f sets)"),
    (errno.EIO, "the storage reported an I/O error"),
    (errno.EACCES, None), (errno.ENOENT, None), (errno.EROFS, None), (errno.EISDIR, None), (errno.EPIPE, None)])
def test_which_errors_are_the_storages(number: int, expected: str | None) -> None:
    """Only a storage that is full, over a limit or failing is the storage's refusal; a name, a permission, a
    read-only mount or a closed pipe is the caller's (said as such by the command that met it)."""
    assert storage_refused(OSError(number, os.strerror(number))) == expected


def test_sqlites_full_database_is_a_full_disk(tmp_path: Path) -> None:
    """SQLite's own 'database or disk is full' (a real one: the database may not grow by a page)."""
    db = sqlite3.connect(tmp_path / "small.db")
    db.execute("CREATE TABLE t (x)")
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    db.close()
    assert storage_refused(caught.value) == "the disk is full"
    assert storage_refused(sqlite3.OperationalError("no such table: t")) is None
    assert storage_refused(ValueError("disk is full")) is None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmSize from /proc (Linux)")
def test_a_line_that_needs_more_memory_than_the_process_may_have_exits_3_after_the_lines_before_it(
        tmp_path: Path) -> None:
    """A line of 8 MB of empty lists (about 170 MB once read) under a cap of 100 MB above what the started
    process holds: the line before it is decided and written, then exit 3, "out of memory", one line (it was
    an internal error to report)."""
    batch = tmp_path / "batch.jsonl"
    gold = json.dumps(json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8")))
    empties = ",".join(["[]"] * 2_700_000)
    batch.write_text(f'{gold}\n{{"assessed_on": "2021-05-18", "x": [{empties}]}}\n', encoding="utf-8")
    done = subprocess.run([command()[0], "-c", _CAPPED, str(100 * 2**20), "evaluate", str(batch), "--format",
                           "json", "--fields", "label"], capture_output=True, env=_unmeasured(), timeout=300,
                          check=False)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == EXIT_DISK_FULL, stderr
    assert stderr.startswith("error: out of memory: the command needs more memory than the system gives it "
                             "(MemoryError"), stderr
    assert stderr.count("\n") == 1
    # the label profile of the Gold example: the README's first command shows it
    assert done.stdout.decode("utf-8").splitlines() == [
        '{"label":"gold","valid_from":"2021-05-18","valid_until":"2023-05-31"}']


def test_which_errors_are_memory_running_out() -> None:
    """Python's MemoryError and DuckDB's own out of memory (its real class); not another error, nor a class of
    that name from elsewhere."""
    duckdb = pytest.importorskip("duckdb")
    said = "out of memory: the command needs more memory than the system gives it"
    assert system_limit(MemoryError()) == said
    assert system_limit(duckdb.OutOfMemoryException("Out of Memory Error: Failed to allocate")) == said
    assert system_limit(duckdb.OperationalError("Out of Memory Error")) is None
    assert system_limit(type("OutOfMemoryException", (Exception,), {})("elsewhere")) is None
    assert system_limit(ValueError("out of memory")) is None


def test_a_text_longer_than_orjson_max_chars_is_read_by_the_standard_library(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson, given too little memory, may end the process with a segmentation fault or a SystemError (under
    caps of 100 to 260 MB above a started process, ``orjson.loads`` of the line above did, orjson 3.13)
    instead of raising MemoryError: so no text longer than ORJSON_MAX_CHARS reaches it, and the same text read
    by the standard library gives the same values."""
    orjson = pytest.importorskip("orjson")
    from ecei_rules import batch
    from ecei_rules.audit import replay
    from ecei_rules.core.canonical import ORJSON_MAX_CHARS

    seen: list[int] = []
    original = orjson.loads

    def loads(text: str | bytes) -> object:
        seen.append(len(text))
        return original(text)

    monkeypatch.setattr(orjson, "loads", loads)
    short = json.dumps({"assessed_on": "2021-05-18", "x": "a" * (ORJSON_MAX_CHARS - 100)}, separators=(",", ":"))
    long = short.replace('"x":"', '"x":"' + "b" * 101, 1)
    assert len(short) <= ORJSON_MAX_CHARS < len(long)
    for read in (batch.quick_json, replay._load, lambda text: replay._input(text, True)):
        seen.clear()
        assert read(short) == json.loads(short)
        assert seen == [len(short)]
        seen.clear()
        assert read(long) in (None, json.loads(long))  # quick_json: None, "read it the exact way"
        assert seen == []


#: ``ecei-rules ARGV[2:]`` allowed ARGV[1] more open files than it holds once its modules are imported and its
#: rulesets read.
_FEW_FILES = """import os, resource, sys
import ecei_rules.audit.checkpoint, ecei_rules.audit.log, ecei_rules.audit.proofs, ecei_rules.audit.replay
import ecei_rules.batch, ecei_rules.cli.log, ecei_rules.cli.proofs, ecei_rules.engine.decision
from ecei_rules.cli.app import main
from ecei_rules.registry import Registry
registry = Registry.shipped()
for version in registry.versions("ecei-labels"):
    registry.get("ecei-labels", version)
held = len(os.listdir("/proc/self/fd")) - 1  # the listing's own descriptor, closed again
resource.setrlimit(resource.RLIMIT_NOFILE, (held + int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
sys.argv = ["ecei-rules", *sys.argv[2:]]
main()
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc (Linux)")
@pytest.mark.parametrize("args", [["verify", "{log}"], ["replay", "{log}"], ["record", "{gold}", "--log", "{log}"],
                                  ["record", "{gold}", "--log", "{new}"]])
def test_a_process_that_may_open_no_more_files_says_so_and_never_calls_the_log_damaged(
        tmp_path: Path, args: list[str]) -> None:
    """SQLite says only "unable to open database file" when the process may not open the files a log needs (the
    database, its -wal and -shm while a writer holds it): that was "a damaged or unreadable SQLite database" for
    verify and replay of a live log, and "not a decision log" for record. It is now exit 3, "too many open
    files", and the log verifies as it did."""
    from ecei_rules.audit.log import DecisionLog
    from ecei_rules.engine.evaluate import evaluate
    from ecei_rules.registry import Registry

    log = tmp_path / "decisions.db"
    gold = json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))
    named = [a.format(log=log, gold=EXAMPLES / "gold-2021.json", new=tmp_path / "new.db") for a in args]
    with DecisionLog(log) as live:  # a live log: its writer holds it open, its records in the -wal file
        live.append(evaluate(Registry.shipped().get("ecei-labels", "3.0.1"), gold), gold, decided_at=AT)
        assert Path(f"{log}-wal").stat().st_size > 0
        done = subprocess.run([command()[0], "-c", _FEW_FILES, "1", *named], capture_output=True,
                              env=_unmeasured(), timeout=300, check=False)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == EXIT_DISK_FULL, stderr
    assert stderr.startswith("error: too many open files: the command needs more than the system lets it open")
    assert "damaged" not in stderr
    assert "not a decision log" not in stderr
    checked = _run("verify", str(log), "--format", "json")
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["records"] == 1


def test_record_names_what_stands_in_the_way_of_opening_the_log(tmp_path: Path) -> None:
    """A log whose folder does not exist, or a directory given as the log: SQLite's "unable to open database
    file" was "not a decision log"; it now says which, exit 2, and nothing is made."""
    from cli_harness import cli

    missing = cli(["record", str(EXAMPLES / "gold-2021.json"), "--log", str(tmp_path / "no-such" / "x.db")])
    assert missing.code == EXIT_USAGE
    assert missing.stderr.startswith("error: ")
    assert f"cannot open the log: the folder {tmp_path / 'no-such'} does not exist" in missing.stderr.replace("\n", "")
    folder = tmp_path / "folder"
    folder.mkdir()
    directory = cli(["record", str(EXAMPLES / "gold-2021.json"), "--log", str(folder)])
    assert directory.code == EXIT_USAGE
    assert f"{folder} is a directory; a decision log" in directory.stderr.replace("\n", "")
    assert list(tmp_path.iterdir()) == [folder]
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command_name", ["record", "repair"])
def test_a_log_another_process_holds_locked_is_exit_3_and_left_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command_name: str) -> None:
    """A writer that holds the log past the wait (60 s; 0.2 s here): SQLite's "database is locked" was an
    internal error to report; it is now exit 3 saying another process holds the log, ``record`` saying what the
    log holds, and nothing is changed."""
    from cli_harness import cli

    from ecei_rules.audit import log as log_module

    log = tmp_path / "decisions.db"
    assert _run("record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT).returncode == 0
    before = log.read_bytes()
    monkeypatch.setattr(log_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(log, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        args = ["record", str(EXAMPLES / "gold-2021.json"), "--log", str(log)] if command_name == "record" \
            else ["repair", str(log)]
        ran = cli(args)
    finally:
        holder.close()
    assert ran.code == EXIT_DISK_FULL, ran.both
    said = " ".join(ran.stderr.split())  # as wrapped to the terminal's width, joined again
    assert "another process holds the log locked (this one waited 0.2 s for it)" in said
    assert "internal error" not in said
    if command_name == "record":
        assert COMMITTED.search(said) is not None
    assert log.read_bytes() == before


def _killed(work: object, chunk: list[object]) -> list[object]:
    """A pool's task that ends its worker as the out-of-memory killer would (the pool pickles it by name)."""
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return []


def test_a_worker_process_killed_mid_batch_is_exit_3_and_the_lines_written_stand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker the system kills (its out-of-memory killer does: SIGKILL) broke the pool, which was an internal
    error to report. Each worker here kills itself on its first chunk (the pool forks, so the patch is the
    workers' too): exit 3 saying a worker ended abruptly, and every line written before is whole JSON."""
    import multiprocessing

    from cli_harness import cli

    from ecei_rules.cli import decide
    from ecei_rules.core import workers

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the patch reaches the workers only when they are forked")

    monkeypatch.setattr(workers, "_run_chunk", _killed)
    monkeypatch.setattr(decide, "worker_count", lambda jobs: (2, None))  # two workers on any machine
    batch = tmp_path / "batch.jsonl"
    batch.write_text((json.dumps(json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))) + "\n")
                     * 500, encoding="utf-8")  # more than two chunks of 200: a pool is started
    ran = cli(["evaluate", str(batch), "--format", "json", "--jobs", "2"])
    assert ran.code == EXIT_DISK_FULL, ran.both
    assert ran.stderr.startswith("error: a worker process ended abruptly (killed: the system may have run short "
                                 "of memory")
    assert "internal error" not in ran.stderr
    assert all(json.loads(line) for line in ran.stdout.splitlines())


def _limited_in(folder: Path, *args: str, limit: int) -> tuple[int, str]:
    """`_limited`, run in ``folder``."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(command(*args), capture_output=True, env=_unmeasured(), cwd=folder, timeout=300,
                          preexec_fn=limit_files, check=False)
    return done.returncode, done.stderr.decode("utf-8", "replace")


def test_a_lock_that_cannot_be_written_whole_is_left_as_it_was(tmp_path: Path) -> None:
    """``lock`` rewrote the lock file in place: a write the storage refused (here a file size limit below the
    lock's size) left it truncated, the hashes of the versions locked before lost, and every later command
    that reads it refused. It is replaced whole now: exit 3, the file as it was, no temporary file left; once
    the storage allows it, the version is locked."""
    import shutil

    rulesets = tmp_path / "rulesets"
    shutil.copytree(ROOT / "examples" / "methodologies" / "building-points", rulesets / "building-points")
    lock = rulesets / "building-points" / "published.lock.json"
    data = json.loads(lock.read_text(encoding="utf-8"))
    del data["versions"]["3.0.0"]  # a published version not locked yet: lock will write the file
    lock.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lock.chmod(0o640)  # kept readable by a group: it stays so
    before = lock.read_bytes()
    code, stderr = _limited_in(tmp_path, "lock", "--rulesets", str(rulesets), limit=200)
    assert code == EXIT_DISK_FULL, stderr
    assert stderr.startswith(TOO_LARGE)
    assert lock.read_bytes() == before
    assert sorted(p.name for p in lock.parent.iterdir() if p.name.startswith(".")) == []
    assert _run("lock", "--rulesets", str(rulesets)).returncode == 0
    assert sorted(json.loads(lock.read_text(encoding="utf-8"))["versions"]) == ["1.0.0", "2.0.0", "3.0.0"]
    assert lock.stat().st_mode & 0o777 == 0o640


def test_a_receipt_written_over_an_old_one_is_all_or_nothing(tmp_path: Path) -> None:
    """``receipt --out FILE`` over an earlier receipt: when the storage refuses the write, FILE keeps the earlier
    receipt whole (it was truncated, then half written)."""
    keys, log, out = tmp_path / "keys", tmp_path / "decisions.db", tmp_path / "receipt.json"
    assert _run("keygen", "--out", str(keys)).returncode == 0
    assert _run("record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT, "--key",
                str(keys / "private.pem")).returncode == 0
    assert _run("receipt", str(log), "--record", "1", "--out", str(out)).returncode == 0
    whole = out.stat().st_size  # about 36 KB: the record's text is in it
    out.write_text('{"an": "earlier receipt"}\n', encoding="utf-8")
    # one byte short of the receipt: more than SQLite's -shm file (32 KB) takes when the log is opened
    code, stderr = _limited_in(tmp_path, "receipt", str(log), "--record", "1", "--out", str(out), limit=whole - 1)
    assert code == EXIT_DISK_FULL, stderr
    assert out.read_text(encoding="utf-8") == '{"an": "earlier receipt"}\n'
    assert _run("receipt", str(log), "--record", "1", "--out", str(out)).returncode == 0
    assert _run("check-receipt", str(out), "--key", str(keys / "public.pem")).returncode == 0


def test_duckdbs_write_errors_name_the_storage_by_their_errno() -> None:
    """DuckDB (the SQL engine's Parquet files) says a refused write in an IOException whose message carries the
    errno, as this one, from a COPY under a file size limit: EFBIG, ENOSPC, EIO are the storage's; another
    errno, or none, is not."""
    duckdb = pytest.importorskip("duckdb")

    def io_error(number: int) -> Exception:
        error: Exception = duckdb.IOException(
            'IO Error: Async write failed for range [offset=27, size=492490]: {"exception_type":"IO",'
            f'"exception_message":"Could not write file \\"dd.parquet\\": {os.strerror(number)}","errno":"{number}"}}')
        return error

    assert storage_refused(io_error(errno.EFBIG)) == f"{TOO_LARGE[7:]} (a file size limit, as ulimit -f sets)"
    assert storage_refused(io_error(errno.ENOSPC)) == "the disk is full"
    assert storage_refused(io_error(errno.EIO)) == "the storage reported an I/O error"
    assert storage_refused(io_error(errno.EACCES)) is None
    assert storage_refused(duckdb.IOException("IO Error: No files found that match the pattern")) is None



@pytest.mark.parametrize("args", [["record", "{gold}", "--log", "{log}"], ["checkpoint", "{log}"],
                                  ["receipt", "{log}", "--record", "1"], ["import", "{export}", "{log}"]])
def test_a_named_pipe_given_as_the_log_is_refused_for_what_it_is(tmp_path: Path, args: list[str]) -> None:
    """SQLite opened a named pipe given as the log and said "disk I/O error": that was an internal error, and
    would have been taken for a failing disk. It is now refused before SQLite opens it, saying what it is, and
    nothing is made beside it."""
    from cli_harness import cli

    log = tmp_path / "decisions.db"
    assert _run("record", str(EXAMPLES / "gold-2021.json"), "--log", str(log), "--at", AT).returncode == 0
    export = tmp_path / "decisions.jsonl"
    assert _run("export", str(log), str(export)).returncode == 0
    pipe = tmp_path / "pipe.db"
    os.mkfifo(pipe)
    # (a device is refused by the same check; none is named here: a regression would have SQLite make its -wal
    # and -shm files beside it, in /dev)
    ran = cli([a.format(gold=EXAMPLES / "gold-2021.json", log=pipe, export=export) for a in args])
    assert ran.code == EXIT_USAGE, ran.both
    assert " ".join(ran.stderr.split()).startswith(
        f"error: {pipe} is a FIFO (named pipe); a decision log (a SQLite file, or a .jsonl export of one) was expected")
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.db", "decisions.jsonl", "pipe.db"]


def test_a_lock_in_a_folder_that_cannot_be_written_is_a_usage_error(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder of the lock not writable (a package installed by another user, a read-only file system):
    the error the system gives the new file (EACCES here, as for a user without the right; root is not refused,
    so it is raised where the file is made) was an internal error; it is exit 2 naming the lock, the lock left
    as it was."""
    import shutil

    from cli_harness import cli

    from ecei_rules import registry as registry_module

    rulesets = tmp_path / "rulesets"
    shutil.copytree(ROOT / "examples" / "methodologies" / "building-points", rulesets / "building-points")
    lock = rulesets / "building-points" / "published.lock.json"
    data = json.loads(lock.read_text(encoding="utf-8"))
    del data["versions"]["3.0.0"]
    lock.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    before = lock.read_bytes()

    def refused(path: Path, fill: object) -> object:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(registry_module, "replace_atomically", refused)
    ran = cli(["lock", "--rulesets", str(rulesets)])
    assert ran.code == EXIT_USAGE, ran.both
    assert " ".join(ran.stderr.split()) == f"error: cannot write the lock {lock}: Permission denied"
    assert lock.read_bytes() == before
