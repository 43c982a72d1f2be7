"""Commands on decision logs: ``record``, ``verify``, ``replay``, ``export`` and ``import``."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ecei_rules.batch import Item, Outcome, Resolver, decide_many, error_json, named_ruleset
from ecei_rules.cli.common import (
    EXIT_DISK_FULL,
    EXIT_FINDINGS,
    EXIT_SIGPIPE,
    Format,
    FormatOption,
    LogOption,
    MethodologyOption,
    RulesetsOption,
    VersionOption,
    broken_pipe,
    check_expected_head,
    check_input,
    check_stdout,
    console,
    err_console,
    exit_on_load_errors,
    fail,
    log_rows,
    one_log,
    print_json,
    print_report,
    progress,
    read,
    registry,
    system_limit,
)
from ecei_rules.cli.decide import ready, resolver_spec
from ecei_rules.cli.proofs import ProofChecks, attach_key
from ecei_rules.core.files import storage_refused
from ecei_rules.core.terminal import show_path, text
from ecei_rules.registry import Registry
from ecei_rules.ruleset.subject import IMPLIED

if TYPE_CHECKING:
    from ecei_rules.audit.log import DecisionLog, StoredRecord
    from ecei_rules.audit.replay import AuditReport


LogArgument = Annotated[Path | None, typer.Argument(metavar="LOG", show_default=False,
                                                    help="A decision log (SQLite) or its JSONL export.")]


class Engine(StrEnum):
    """The engines a log can be cross-checked with."""

    durable = "durable"


# --- record ----------------------------------------------------------------------------------------

def record(
    assessments: Annotated[list[Path], typer.Argument(metavar="ASSESSMENTS", help="Assessments (.json, .yaml), "
                                                      "batches (.jsonl), or - for standard input.")],
    log: Annotated[Path, typer.Option("--log", "-l", metavar="LOG", help="The decision log (SQLite file; "
                                      "created if absent).")],
    at: Annotated[str | None, typer.Option("--at", metavar="TIME", help="The decision time (ISO 8601; default: "
                                           "now, UTC).")] = None,
    methodology: MethodologyOption = None,
    version: VersionOption = None,
    rulesets: RulesetsOption = None,
    key: Annotated[Path | None, typer.Option("--key", metavar="PRIVATE.pem", help="Sign a checkpoint of the log "
                                             "(size, Merkle root, time = the decision time) in each append's "
                                             "transaction with this Ed25519 private key (PKCS#8 PEM); the first "
                                             "binds the log to it.")] = None,
) -> None:
    """Decide each assessment and append its record to the log (one transaction per record)."""
    check_stdout()
    from ecei_rules.audit.log import DecisionLog, LogError

    decided_at = _decision_time(at)
    for path in assessments:  # a missing file or a directory is a usage error: nothing is recorded
        check_input(path)
    resolve = ready(resolver_spec(None, rulesets, methodology, version), None)
    try:
        store = DecisionLog(log)
    except LogError as exc:
        fail(exc)
    with store, _stop_signals() as stopped:
        attach_key(store, key)
        recorded, failures = _append_all(store, assessments, resolve, decided_at, stopped)
        if stopped:
            number = stopped[0]
            _committed(store, recorded, f"interrupted by {signal.Signals(number).name}")
            raise typer.Exit(128 + number)
        out = console()
        last, head = store.head()
        out.print(text(f"recorded {recorded} decision(s) in {show_path(log)} (now {len(store)}); {failures} "
                       "not recorded"))
        if last:
            out.print(f"head: {head}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_FINDINGS if failures else 0)


def _decision_time(at: str | None) -> str:
    """``--at``, checked (exit 2 unless ISO 8601), or now in UTC to the second."""
    import datetime as dt

    from ecei_rules.audit.record import valid_time

    decided_at = at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if not valid_time(decided_at):
        fail(f"--at {decided_at!r} is not an ISO 8601 date and time")
    return decided_at


def _append_all(store: DecisionLog, paths: list[Path], resolve: Resolver, decided_at: str,
                stopped: list[int]) -> tuple[int, int]:
    """Decide and append every assessment of every file until a signal stops the run between two appends;
    return (recorded, not recorded). A storage that refuses a write (full, over a quota or a file size limit,
    failing) or a closed output ends the command, saying what the log holds."""
    import sqlite3

    counts = [0, 0]
    try:
        for path in paths:
            if stopped:
                break
            _append_file(store, path, resolve, decided_at, stopped, counts)
    except (OSError, sqlite3.Error, MemoryError) as exc:
        refused = storage_refused(exc) or system_limit(exc)
        code = EXIT_DISK_FULL if refused else EXIT_SIGPIPE if broken_pipe(exc) else None
        if code is None:
            raise
        what = refused or "the output was closed (broken pipe)"
        _committed(store, counts[0], f"stopped: {what} ({type(exc).__name__}: {exc})")
        if code == EXIT_SIGPIPE:
            raise
        raise typer.Exit(code) from None
    return counts[0], counts[1]


def _append_file(store: DecisionLog, path: Path, resolve: Resolver, decided_at: str, stopped: list[int],
                 counts: list[int]) -> None:
    """Append the decisions of one file (``-``: standard input), counting in ``counts`` [recorded, failed]."""
    out = console()
    for item, outcome in _decided(path, resolve):
        if stopped:  # a signal stops the run between two appends: each append is whole
            return
        if outcome.decision is None:
            counts[1] += 1
            message = error_json(outcome.error)
            out.print(text(f"{show_path(path)}:{outcome.index}: {message['code']} {message['message']} at "
                           f"{message['path']}"))
            continue
        store.append(outcome.decision, item.data, decided_at=decided_at)
        counts[0] += 1


def _decided(path: Path, resolve: Resolver) -> Iterator[tuple[Item, Outcome]]:
    """Each item of an assessments file with its outcome."""
    for item in read(path):
        (outcome,) = decide_many([item], resolve)
        yield item, outcome


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """While the block runs, SIGINT and SIGTERM only note themselves in the list it yields (the caller
    stops at its next safe point); a second one acts as usual (KeyboardInterrupt, termination)."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    numbers = (signal.SIGINT, signal.SIGTERM)
    previous = {n: signal.getsignal(n) for n in numbers}

    def note(number: int, frame: object) -> None:
        caught.append(number)
        for n, handler in previous.items():  # a second signal is not held
            signal.signal(n, handler)

    for n in numbers:
        signal.signal(n, note)
    try:
        yield caught
    finally:
        for n, handler in previous.items():
            signal.signal(n, handler)


def _committed(store: DecisionLog, recorded: int, why: str) -> None:
    """Say on stderr what the log holds now (count and head), to anchor it outside the log."""
    import sqlite3

    err = err_console()
    try:
        count = len(store)
        last, head = store.head()
    except sqlite3.Error as exc:  # the log cannot be read back now: say what this run appended
        last_append = store.last_append
        err.print(text(f"error: {why}; {recorded} decision(s) recorded by this run before it stopped; the log "
                       f"cannot be read back now ({exc})"))
        if last_append:
            err.print(text(f"head: {last_append[-1].hash} (the last record this run appended, seq "
                           f"{last_append[-1].seq})"))
        return
    err.print(text(f"error: {why}; {recorded} decision(s) recorded by this run before it stopped"))
    err.print(text(f"log: {show_path(store.path)} holds {count} record(s); head: {head if last else 'none'}"),
              soft_wrap=True)
    if last:
        err.print(text(f"check it later with: ecei-rules verify {show_path(store.path)} --expect-head {head} "
                       f"--expect-count {count}"), soft_wrap=True)


# --- verify, replay ------------------------------------------------------------------------------

def verify(
    log: LogArgument = None,
    log_option: LogOption = None,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", metavar="HASH", help="The hash of the last acknowledged record, kept outside the log "
        "(verify prints it): a finding if the log does not end there (a tail cut at a record boundary shows "
        "only this way).")] = None,
    expect_count: Annotated[int | None, typer.Option(
        "--expect-count", min=0, metavar="N", help="The number of acknowledged records, kept outside the log: a "
        "finding if the log holds a different number.")] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", metavar="PUBLIC.pem", help="The signer's public key (PEM): every checkpoint must be signed by it "
        "and equal the log's Merkle root at its size, and every record be covered by one (a re-hashed chain "
        "shows).")] = None,
    since: Annotated[Path | None, typer.Option(
        "--since", metavar="CHECKPOINT", help="A checkpoint kept outside the log ('ecei-rules checkpoint'): a "
        "finding unless the log only grew since (its first records still have that checkpoint's Merkle "
        "root).")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Verify a decision log: every record's hash, the chain, the order, and its end against
    --expect-head/--expect-count (the properties of a rulesets directory: 'check-properties').

    Exit 1 on findings, 2 on usage errors.
    """
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.replay import verify as verify_rows

    log = one_log(log, log_option)
    if log.is_dir():
        fail(f"{show_path(log)} is a directory; verify checks a decision log (the properties of a rulesets "
             "directory are checked by 'ecei-rules check-properties DIR')")
    check_expected_head(expect_head)
    rows, total = log_rows(log)
    proofs = ProofChecks(log, key, since) if key is not None or since is not None else None
    tick, done = progress(total, "verifying")
    try:
        report = verify_rows(rows, progress=tick, expect_head=expect_head, expect_count=expect_count)
    except LogError as exc:
        fail(exc)
    finally:
        done()
    if proofs is not None:
        proofs.run(report)
        proofs.print_summary(format)
    print_report(_wal_noted(report, log), "verify", format)
    raise typer.Exit(0 if report.ok else EXIT_FINDINGS)


def _wal_noted(report: AuditReport, log: Path) -> AuditReport:
    """``report``, each finding that the log lacks records at its end noting, for a SQLite log in WAL mode with no
    -wal file beside it, that a copy made while its writer ran lacks what that file held (not only records
    removed)."""
    from dataclasses import replace

    from ecei_rules.audit.log import WAL_NOTE, without_its_wal
    from ecei_rules.audit.replay import lacks_records

    ended = [f for f in report.findings if lacks_records(f)]
    if not ended or log.suffix == ".jsonl" or not without_its_wal(log):
        return report
    report.findings = [replace(f, details={**(f.details or {}), "note": WAL_NOTE}) if f in ended else f
                       for f in report.findings]
    return report


def replay(
    log: LogArgument = None,
    log_option: LogOption = None,
    under: Annotated[str | None, typer.Option("--under", metavar="VERSION", help="What-if: decide every input "
                                              "under this version instead: 3.0.0, energy-label@3.0.0 or a ruleset "
                                              "file.")] = None,
    cross_check: Annotated[Engine | None, typer.Option("--cross-check", metavar="durable", help="Also re-decide "
                                                       "every record with this engine (durable) and report every "
                                                       "disagreement.")] = None,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Re-decide every record under the exact version it names and compare byte for byte. Exit 1 on findings."""
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.replay import replay as replay_rows

    log = one_log(log, log_option)
    found = registry(rulesets)
    if under is not None:
        _replay_under(log, under, found, format)
    rows, total = log_rows(log)
    tick, done = progress(total, "replaying")
    try:
        report = replay_rows(rows, found, progress=tick)
    except LogError as exc:
        fail(exc)
    finally:
        done()
    if cross_check is Engine.durable:
        from ecei_rules.cli.durable import cross_check_report

        report.findings.extend(cross_check_report(log, found).findings)
    print_report(report, "replay", format)
    raise typer.Exit(0 if report.ok else EXIT_FINDINGS)


def _replay_under(log: Path, under: str, found: Registry, format: Format) -> None:
    """What-if: every recorded input decided under the version ``under`` names; print what would change.
    The log's records and chain are checked first, as replay checks them: exit 0 on a clean log, else 1
    with verify's findings."""
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.replay import replay_under

    rows, total = log_rows(log)
    with exit_on_load_errors():
        target = named_ruleset(under, found)
    tick, done = progress(total, "replaying")
    try:
        report, changes = replay_under(rows, target, progress=tick)
    except LogError as exc:
        fail(exc)
    finally:
        done()
    if format is Format.json:
        print_json({"under": target.version, "records": report.records, "changed": changes,
                    "findings": [f.to_json() for f in report.sorted()]})
        raise typer.Exit(0 if report.ok else EXIT_FINDINGS)
    out = console()
    for change in changes[:200]:
        was, now = change["recorded"], change["under"]
        now_text = _label_until(now) if now else f"invalid ({change.get('problem')})"
        out.print(text(f"record {change['seq']} ({change[IMPLIED.key]}): {_label_until(was)} under {was['version']} "
                       f"-> {now_text} under {target.version}"))
    out.print(text(f"{len(changes)} of {report.records} decision(s) would differ under {target.version}"))
    if not report.ok:  # verify's findings: the what-if stands on a log that is not intact
        print_report(report, "replay", format)
    raise typer.Exit(0 if report.ok else EXIT_FINDINGS)


def _label_until(decided: dict[str, Any]) -> str:
    """``gold until 2023-05-31``, ``gold (no end)`` or ``none`` (a decision without validity)."""
    if decided["label"] == "none":
        return "none"
    until = decided["valid_until"]
    return f"{decided['label']} until {until}" if until is not None else f"{decided['label']} (no end)"


# --- export, import ------------------------------------------------------------------------------

def export(
    log: Annotated[Path, typer.Argument(metavar="LOG", help="A decision log (SQLite), read read-only.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="The JSONL file to write (one canonical record per "
                                        "line); never the log itself.")],
) -> None:
    """Export a decision log as JSON Lines, atomically (a temporary file renamed over OUT)."""
    check_stdout()
    from ecei_rules.audit.log import LogError, ReadOnlyLog, write_jsonl

    head = ""

    def remembered(rows: Iterator[StoredRecord]) -> Iterator[StoredRecord]:
        nonlocal head
        for row in rows:
            head = row.hash
            yield row

    try:
        with ReadOnlyLog(log) as store:
            count = write_jsonl(remembered(store.rows()), out, source=log)
    except LogError as exc:
        fail(exc)
    console().print(text(f"exported {count} record(s) to {show_path(out)}"))
    if head:
        console().print(f"head: {head}", highlight=False, soft_wrap=True)


def import_log(
    jsonl: Annotated[Path, typer.Argument(metavar="EXPORT", help="A JSONL export (a regular file, at most 1 GiB, "
                                          "read once).")],
    log: Annotated[Path, typer.Argument(metavar="LOG", help="A new decision log (SQLite) to fill.")],
) -> None:
    """Import a JSONL export into a new log after verifying it. Exit 1 (and import nothing) on findings.

    The file is read once, into memory (at most 1 GiB): the bytes verified are the bytes imported.
    """
    check_stdout()
    from ecei_rules.audit.log import DecisionLog, LogError, jsonl_rows, read_once, role_of
    from ecei_rules.audit.replay import verify as verify_rows

    try:
        role = role_of(jsonl, log)
        if role == "the log":
            raise LogError(f"{log} is the export being imported; import into a new log")
        if role is not None:  # SQLite would write over it, or read it as the log's own
            raise LogError(f"{jsonl} is {role} of {log}, the log being written; import into a log of another name "
                           "(nothing was written)")
        data = read_once(jsonl)
    except LogError as exc:
        fail(exc)
    report = verify_rows(jsonl_rows(data))
    if not report.ok:
        print_report(report, "import refused", Format.text)
        raise typer.Exit(EXIT_FINDINGS)
    try:
        with DecisionLog(log) as store:
            count = store.import_rows(jsonl_rows(data))
    except LogError as exc:
        fail(exc)
    console().print(text(f"imported {count} record(s) into {show_path(log)}"))


#: The commands of this module, by name.
COMMANDS = (("record", record), ("verify", verify), ("replay", replay), ("export", export),
            ("import", import_log))
