"""The command line: a thin typer face over the library. No logic lives only here.

Exit codes (the ``EXIT_*`` constants of ``ecei_rules.cli.app``):

- 0: success.
- 1: findings: an invalid ruleset or assessment, a failed embedded test, a log that does not verify.
- 2: a usage error (unknown version, missing file, a directory where a file is expected, a bad
  option), or an internal error: one line ``error: internal error (Type: message) while running
  'ecei-rules COMMAND'; please report it with the input`` on stderr, never a traceback (set
  ``ECEI_RULES_DEBUG=1`` to see it).
- 3: the disk is full (ENOSPC, SQLite's "database or disk is full"); ``record`` says on stderr how
  many records the log holds and its head hash, to keep outside it.
- 130: interrupted (SIGINT, Ctrl-C); 143: terminated (SIGTERM). ``record`` stops between two
  appends, each append being one whole transaction, and says what the log holds as above.
- 141: the reader of the output went away (a broken pipe, as in ``ecei-rules evaluate
  batch.jsonl --format json | head -1``), without a word, as a program killed by SIGPIPE.

Text output for people shows every control, format and bidi character of names, ids, file
names and rulesets as a visible escape (``\\x1b``, ``\\u202e``) and never reads them as rich
markup; JSON output is written as the library writes it. ``-`` as an assessment file reads
JSON Lines from standard input."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer
from rich.console import Console
from rich.table import Table

from ecei_rules.batch import (
    Item,
    Outcome,
    Resolver,
    ResolverSpec,
    decide_lines,
    decide_many,
    error_json,
    fixed_resolver,
    read_assessments,
    registry_resolver,
)
from ecei_rules.core.canonical import to_json
from ecei_rules.core.terminal import SafeConsole, clean, markup, path_text, show_path, text
from ecei_rules.core.version import __version__
from ecei_rules.core.workers import worker_count
from ecei_rules.errors import AssessmentError, Diagnostic, ResolutionError, RulesetError
from ecei_rules.registry import DEFAULT_METHODOLOGY, Registry
from ecei_rules.render.console import print_assessment_error, print_decision, print_diagnostics
from ecei_rules.ruleset.inputs import assessment_schema
from ecei_rules.ruleset.load import Ruleset, check_ruleset, load_ruleset
from ecei_rules.ruleset.model import ruleset_json_schema
from ecei_rules.testing.embedded import run_embedded

if TYPE_CHECKING:
    from ecei_rules.audit.log import DecisionLog, StoredRecord
    from ecei_rules.audit.replay import AuditReport

class _PipeClosedError(Exception):
    """A BrokenPipeError, carried past click (which would exit 1 on it) to :func:`run`."""


#: click's base of usage errors (typer may carry its own copy of click).
_CLICK_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(typer.core.TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if _broken_pipe(exc):
                raise _PipeClosedError() from exc
            raise


app = typer.Typer(
    cls=_Group,
    name="ecei-rules",
    help="Decide, explain and check labels with versioned, declarative rulesets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never a traceback for a user: run() turns an error into one line
)

_HASH = re.compile("[0-9a-f]{64}")  # a record's SHA-256, as records write it

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2  #: also an internal error (a bug: one line on stderr, no traceback)
EXIT_DISK_FULL = 3
EXIT_SIGINT = 130  # 128 + SIGINT, as a shell reports a process killed by the signal
EXIT_SIGPIPE = 141  # 128 + SIGPIPE
EXIT_SIGTERM = 143  # 128 + SIGTERM
#: Every exit code the command line uses.
EXIT_CODES = frozenset({EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_DISK_FULL, EXIT_SIGINT, EXIT_SIGPIPE,
                        EXIT_SIGTERM})
#: Set to 1 to see the traceback of an internal error instead of its one line.
DEBUG_ENV = "ECEI_RULES_DEBUG"


class Format(StrEnum):
    """Output formats."""

    text = "text"
    json = "json"


class Engine(StrEnum):
    """Decision engines."""

    core = "core"
    durable = "durable"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for machines.")]
RulesetsOption = Annotated[
    Path | None,
    typer.Option("--rulesets", help="A rulesets directory (default: the rulesets shipped with the package)."),
]


def _console() -> Console:
    return SafeConsole(soft_wrap=False)


def _err() -> Console:
    return SafeConsole(stderr=True)


STDIN = Path("-")


def _check_input(path: Path) -> None:
    """Exit 2 with a clear message unless ``path`` is a readable file (or ``-``, standard input)."""
    if path == STDIN:
        return
    if not path.exists():
        _err().print(f"[red]error:[/red] no such file: {markup(show_path(path))}")
        raise typer.Exit(EXIT_USAGE)
    if path.is_dir():
        _err().print(f"[red]error:[/red] {markup(show_path(path))} is a directory; give an assessment file "
                     "(.json, .yaml) or a batch (.jsonl)")
        raise typer.Exit(EXIT_USAGE)


def _read(path: Path, *, raw: bool = False) -> Iterator[Item]:
    """The assessments of a file, or of standard input for ``-`` (read as JSON Lines: one assessment a line)."""
    if path == STDIN:
        return read_assessments(Path("<stdin>.jsonl"), cast(Any, sys.stdin.buffer), raw=raw)  # bytes, line by line
    return read_assessments(path, raw=raw)


def _is_batch(path: Path) -> bool:
    return path == STDIN or path.suffix == ".jsonl"


@contextlib.contextmanager
def _exit_on_load_errors(*, resolution: int = 2, ruleset: int = 2) -> Iterator[None]:
    """A version that does not resolve, or a ruleset that does not load, ends the command with a
    clear message (located diagnostics for a ruleset) and the given exit code."""
    try:
        yield
    except ResolutionError as exc:
        _err().print(f"[red]error:[/red] {markup(exc)}")
        raise typer.Exit(resolution) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(ruleset) from None


def _registry(rulesets: Path | None) -> Registry:
    return Registry(rulesets) if rulesets is not None else Registry.shipped()


def _yaml_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*.y*ml") if q.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return files


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Ruleset files or directories of rulesets.")],
    format: FormatOption = Format.text,
) -> None:
    """Check rulesets; print every problem with file:line:column. Exit 1 on any error."""
    files = _yaml_files(paths)
    all_diags: list[Diagnostic] = []
    for f in files:
        all_diags.extend(check_ruleset(f))
    errors = [d for d in all_diags if d.severity == "error"]
    if format is Format.json:
        # a file name that is not UTF-8 is written with its bytes as \\xff (never as a lone surrogate)
        print(json.dumps({"files": [path_text(f) for f in files],
                          "diagnostics": [{**d.to_dict(), "file": None if d.file is None else path_text(d.file)}
                                          for d in all_diags], "errors": len(errors)}, indent=2))
    else:
        console = _console()
        print_diagnostics(all_diags, console)
        bad = len({d.file for d in errors})
        if errors:
            console.print(f"[red]{len(errors)} error(s) in {bad} of {len(files)} file(s)[/red]")
        else:
            console.print(f"[green]{len(files)} file(s) valid[/green]")
    raise typer.Exit(1 if errors or not files else 0)


@app.command()
def evaluate(
    assessment: Annotated[Path, typer.Argument(help="An assessment (.json, .yaml) or a batch (.jsonl).")],
    ruleset: Annotated[Path | None, typer.Option("--ruleset", "-r", help="Evaluate with this ruleset file.")] = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id.")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Pin a version (default: the one "
                                                "in force on each assessment's assessed_on).")] = None,
    rulesets: RulesetsOption = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="Allow draft and withdrawn versions (a simulation, "
                                           "not an official decision).")] = False,
    format: FormatOption = Format.text,
    engine: Annotated[Engine, typer.Option("--engine", help="core, or durable: the independent durable-rules "
                                           "engine (needs ecei-rules[durable]).")] = Engine.core,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes for a .jsonl batch "
                                             "with --format json (default: one per core; capped by the "
                                             "cores and the memory).")] = None,
) -> None:
    """Decide the label of each assessment and explain it (JSON Lines with --format json; - reads JSON Lines
    from standard input)."""
    _check_input(assessment)
    batch = _is_batch(assessment)
    spec = ResolverSpec(ruleset_file=str(ruleset)) if ruleset is not None else ResolverSpec(
        rulesets=None if rulesets is None else str(rulesets), methodology=methodology, version=version,
        allow_unpublished=simulate)
    if ruleset is not None:
        with _exit_on_load_errors():
            resolve = fixed_resolver(load_ruleset(ruleset))
    else:
        registry = _registry(rulesets)
        resolve = registry_resolver(registry, methodology, version, allow_unpublished=simulate)
        with _exit_on_load_errors():
            if version is not None:
                registry.lookup(f"{methodology}@{version}", allow_unpublished=simulate)
            elif batch:  # load every version now: a broken one stops here
                for v in registry.versions(methodology):
                    registry.get(methodology, v)
            else:  # one assessment: only the version it is decided under is built (a broken one stops here)
                _resolve_first(assessment, resolve)
    if engine is Engine.durable:
        from ecei_rules.cli.durable import evaluate_durable

        if assessment == STDIN:
            _err().print("[red]error:[/red] --engine durable reads a file, not standard input")
            raise typer.Exit(EXIT_USAGE)

        raise typer.Exit(evaluate_durable(assessment, resolve, format))
    console = _console()
    failures = 0
    if format is Format.json:
        if batch and jobs != 1:  # never more workers than the cores and the memory allow
            jobs, note = worker_count(jobs)
            if note:
                _err().print(f"note: {note}", highlight=False)
        write = sys.stdout.write
        for line, failed in decide_lines(_read(assessment, raw=True), spec, jobs=jobs if batch else 1,
                                         resolve=resolve):
            failures += failed
            write(line + "\n")
        sys.stdout.flush()
        raise typer.Exit(1 if failures else 0)
    for outcome in decide_many(_read(assessment), resolve):
        if outcome.error is not None:
            failures += 1
        prefix = f"line {outcome.index}: " if batch else ""
        if outcome.decision is not None:
            if batch:
                console.rule(f"line {outcome.index}")
            print_decision(outcome.decision, console)
        elif isinstance(outcome.error, AssessmentError):
            print_assessment_error(outcome.error.diagnostics, console, prefix)
        else:
            console.print(text(prefix + str(error_json(outcome.error)["message"])))
    sys.stdout.flush()
    raise typer.Exit(1 if failures else 0)


def _resolve_first(path: Path, resolve: Resolver) -> None:
    """Choose (and so load) the version of a file's first assessment, letting a RulesetError out;
    any other problem (unreadable file, no date, no version in force) is reported by the caller
    when it decides the assessment, as for a batch."""
    with contextlib.suppress(AssessmentError, ResolutionError, OSError):
        item = next(iter(read_assessments(path)), None)
        if item is not None and item.error is None:
            resolve(item.data)


@app.command()
def versions(
    methodology: Annotated[str, typer.Option("--methodology", "-m")] = DEFAULT_METHODOLOGY,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """List the versions of a methodology with their effective dates and content hashes."""
    registry = _registry(rulesets)
    with _exit_on_load_errors(resolution=2, ruleset=1):
        rows = [registry.get(methodology, v) for v in registry.versions(methodology)]
    if format is Format.json:
        print(json.dumps([{
            "methodology": r.methodology, "version": r.version, "status": r.document.status,
            "effective_from": r.document.effective_from.isoformat(),
            "approval": r.document.approval.body if r.document.approval else None, "sha256": r.sha256,
        } for r in rows], indent=2))
        return
    table = Table(title=text(methodology))
    for col in ("version", "effective from", "status", "approved by", "labels", "sha256"):
        table.add_column(col)
    for r in rows:
        d = r.document
        table.add_row(text(d.version), d.effective_from.isoformat(), text(d.status),
                      text(d.approval.body if d.approval else ""), text(", ".join(d.labels)), r.sha256[:16])
    _console().print(table)


@app.command("test")
def run_tests(
    paths: Annotated[list[Path] | None, typer.Argument(help="Ruleset files or directories (default: shipped).")]
    = None,
) -> None:
    """Run the tests embedded in rulesets; exit 1 if any fails."""
    files = _yaml_files(paths or [Registry.shipped().root])
    console = _console()
    passed = failed = 0
    for f in files:
        try:
            loaded = load_ruleset(f)
        except RulesetError as exc:
            print_diagnostics(exc.diagnostics, console)
            failed += 1
            continue
        for result in run_embedded(loaded):
            if result.passed:
                passed += 1
            else:
                failed += 1
                console.print(text(result.report()))
    console.print(f"embedded tests: {passed} passed, {failed} failed in {len(files)} ruleset(s)")
    raise typer.Exit(1 if failed else 0)


class DiffFormat(StrEnum):
    """Output formats of diff."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _ruleset_arg(ref: str, registry: Registry) -> Ruleset:
    """A ruleset named by a file path or a registry reference (methodology@version or @range)."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_ruleset(path)
    return registry.lookup(ref, allow_unpublished=True)


def _two(old: str, new: str, rulesets: Path | None) -> tuple[Ruleset, Ruleset]:
    registry = _registry(rulesets)
    with _exit_on_load_errors():
        return _ruleset_arg(old, registry), _ruleset_arg(new, registry)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="A ruleset file or reference, e.g. ecei-labels@2.0.0.")],
    new: Annotated[str, typer.Argument(help="A ruleset file or reference, e.g. ecei-labels@3.0.0.")],
    rulesets: RulesetsOption = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
) -> None:
    """The semantic diff of two versions: inputs, parameters, criteria, scores, tiers, validity, metadata."""

    from ecei_rules.compare.diff import semantic_diff
    from ecei_rules.render.console import diff_markdown, print_diff

    a, b = _two(old, new, rulesets)
    result = semantic_diff(a, b)
    if format is DiffFormat.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif format is DiffFormat.markdown:
        print(diff_markdown(result))
    else:
        print_diff(result, _console())


@app.command("bump-check")
def bump_check_command(
    old: Annotated[str, typer.Argument(help="The earlier version: a file or a reference.")],
    new: Annotated[str, typer.Argument(help="The later version: a file or a reference.")],
    examples: Annotated[int, typer.Option("--examples", help="Assessments to generate in the search.")] = 2000,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Check that NEW's declared semver bump over OLD matches what its changes do to decisions. Exit 1 if too small."""

    from ecei_rules.compare.bump import bump_check
    from ecei_rules.render.console import print_bump

    a, b = _two(old, new, rulesets)
    report = bump_check(a, b, max_examples=examples)
    if format is Format.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print_bump(report, _console())
    raise typer.Exit(0 if report.ok else 1)


@app.command("lint")
def lint_command(
    rulesets: RulesetsOption = None,
    notice_days: Annotated[int, typer.Option("--notice-days", help="Days of notice expected between "
                                             "announced_on and effective_from (a warning).")] = 30,
    examples: Annotated[int, typer.Option("--examples", help="Assessments per bump-check search.")] = 500,
    format: FormatOption = Format.text,
) -> None:
    """Check a rulesets directory: files, lineage, published locks, notice, and every bump. Exit 1 on errors."""
    from ecei_rules.compare.lint import lint

    report = lint(_registry(rulesets), notice_days=notice_days, examples=examples)
    if format is Format.json:
        print(json.dumps({"diagnostics": [d.to_dict() for d in report.diagnostics],
                          "bumps": [b.to_json() for b in report.bumps], "errors": len(report.errors)}, indent=2))
    else:
        console = _console()
        print_diagnostics(report.diagnostics, console)
        for b in report.bumps:
            mark = "[green]ok[/green]" if b.ok else "[red]too small[/red]"
            console.print(f"bump {markup(b.old.version)} -> {markup(b.new.version)}: declared {b.declared}, "
                          f"required {b.required} {mark}")
        console.print(f"{len(report.errors)} error(s), {len(report.diagnostics) - len(report.errors)} warning(s)")
    raise typer.Exit(1 if report.errors else 0)


@app.command("lock")
def lock_command(
    methodology: Annotated[str | None, typer.Option("--methodology", "-m", help="Only this methodology.")] = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Record the content hash of every published version not yet locked (never rewrites one)."""
    registry = _registry(rulesets)
    console = _console()
    for m in [methodology] if methodology else registry.methodologies():
        with _exit_on_load_errors(ruleset=1):
            added = registry.lock(m)
        console.print(text(f"{m}: locked {', '.join(added) if added else 'nothing new'} in "
                           f"{show_path(registry.lock_path(m))}"))


@app.command()
def record(
    assessments: Annotated[list[Path], typer.Argument(help="Assessments (.json, .yaml) or batches (.jsonl).")],
    log: Annotated[Path, typer.Option("--log", "-l", help="The decision log (SQLite file; created if absent).")],
    at: Annotated[str | None, typer.Option("--at", help="The decision time (ISO 8601; default: now, UTC).")]
    = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Pin a version.")] = None,
    rulesets: RulesetsOption = None,
    key: Annotated[Path | None, typer.Option("--key", help="Sign a checkpoint of the log (size, Merkle root, "
                                             "time = the decision time) in each append's transaction with this "
                                             "Ed25519 private key (PKCS#8 PEM); the first binds the log to it.")]
    = None,
) -> None:
    """Decide each assessment and append its record to the log (one transaction per record)."""
    import datetime as dt
    import sqlite3

    from ecei_rules.audit.log import DecisionLog, LogError
    from ecei_rules.audit.record import valid_time

    decided_at = at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if not valid_time(decided_at):
        _err().print(f"[red]error:[/red] --at {markup(repr(decided_at))} is not an ISO 8601 date and time")
        raise typer.Exit(2) from None
    registry = _registry(rulesets)
    with _exit_on_load_errors():
        for v in [version] if version else registry.versions(methodology):
            registry.get(methodology, v)
    resolve = registry_resolver(registry, methodology, version)
    console = _console()
    recorded = failures = 0
    try:
        store = DecisionLog(log)
    except LogError as exc:
        _err().print(f"[red]error:[/red] {markup(exc)}")
        raise typer.Exit(2) from None
    with store, _stop_signals() as stopped:
        from ecei_rules.cli.proofs import attach_key

        attach_key(store, key)
        try:
            for path in assessments:
                if stopped:
                    break
                if not path.exists() or path.is_dir():
                    _err().print(f"[red]error:[/red] {'not a file' if path.exists() else 'no such file'}: "
                                 f"{markup(show_path(path))}")
                    failures += 1
                    continue
                for item, outcome in _decided(path, resolve):
                    if stopped:  # a signal stops the run between two appends: each append is whole
                        break
                    if outcome.decision is None:
                        failures += 1
                        message = error_json(outcome.error)
                        console.print(text(f"{show_path(path)}:{outcome.index}: {message['code']} "
                                           f"{message['message']} at {message['path']}"))
                        continue
                    store.append(outcome.decision, item.data, decided_at=decided_at)
                    recorded += 1
        except (OSError, sqlite3.Error) as exc:
            code = EXIT_DISK_FULL if _disk_full(exc) else EXIT_SIGPIPE if _broken_pipe(exc) else None
            if code is None:
                raise
            what = "the disk is full" if code == EXIT_DISK_FULL else "the output was closed (broken pipe)"
            _committed(store, recorded, f"stopped: {what} ({type(exc).__name__}: {exc})")
            if code == EXIT_SIGPIPE:
                raise
            raise typer.Exit(code) from None
        if stopped:
            number = stopped[0]
            _committed(store, recorded, f"interrupted by {signal.Signals(number).name}")
            raise typer.Exit(128 + number)
        last, head = store.head()
        console.print(text(f"recorded {recorded} decision(s) in {show_path(log)} (now {len(store)}); {failures} "
                           "not recorded"))
        if last:
            console.print(f"head: {head}", highlight=False, soft_wrap=True)
    raise typer.Exit(1 if failures else 0)


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

    err = _err()
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


def _disk_full(exc: BaseException) -> bool:
    """True for 'no space left on device' (OSError ENOSPC, SQLite's SQLITE_FULL or 'disk is full')."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    sqlite3 = sys.modules.get("sqlite3")  # imported by whatever raised a SQLite error
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in str(exc)  # 13: SQLITE_FULL
    return False


def _broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


def _decided(path: Path, resolve: Resolver) -> Iterator[tuple[Item, Outcome]]:
    """Each item of an assessments file with its outcome."""
    for item in read_assessments(path):
        (outcome,) = decide_many([item], resolve)
        yield item, outcome


def _progress(total: int | None, label: str) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr for long runs (only on a terminal)."""
    if total is None or total < 2000 or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import Progress

    bar = Progress(console=_err(), transient=True)
    task = bar.add_task(label, total=total)
    bar.start()
    return (lambda n: bar.update(task, completed=n)), bar.stop


def _log_rows(path: Path) -> tuple[Iterator[StoredRecord], int | None]:
    """The rows of a received log (opened read-only and immutable), and their number when a progress
    bar will show it; a file that is not a log ends the command with one line and exit 2."""
    from ecei_rules.audit.log import LogError, ReadOnlyLog, open_rows

    try:
        if path.suffix != ".jsonl" and sys.stderr.isatty():
            with ReadOnlyLog(path) as store:
                total: int | None = len(store)
        else:
            total = None
        return open_rows(path), total
    except LogError as exc:
        _log_error(exc)


def _log_error(exc: Exception) -> NoReturn:
    """End a log command with its one-line error and exit 2."""
    _err().print(f"[red]error:[/red] {markup(exc)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def _print_report(report: AuditReport, what: str, format: Format) -> None:
    if format is Format.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    console = _console()
    findings = report.sorted()
    for finding in findings[:50]:
        console.print(f"[red]{markup(finding.kind)}[/red] {markup(finding.message)}", highlight=False)
        for key, value in list(finding.details.items())[:6]:
            console.print(text(f"    {key}: {json.dumps(to_json(value), ensure_ascii=False)[:200]}"))
    if len(findings) > 50:
        console.print(f"... and {len(findings) - 50} more finding(s)")
    if report.ok:
        console.print(f"[green]{what}: {report.records} record(s), no findings[/green]")
        if report.head is not None and report.records:
            console.print(text(f"head: {report.head}"), soft_wrap=True)
            console.print("keep the head and the count outside the log: 'verify --expect-head HEAD "
                          f"--expect-count {report.records}' then shows a tail cut at a record boundary",
                          highlight=False)
    else:
        seq = findings[0].seq
        first = f"the first bad record is {seq}" if seq > 0 else f"the first bad line is {-seq}" if seq < 0 else \
            "the first bad row names no record"
        console.print(f"[red]{what}: {report.records} record(s), {len(findings)} finding(s); {first}[/red]",
                      highlight=False)


@app.command("verify")
def verify_command(
    target: Annotated[Path, typer.Argument(help="A decision log (SQLite or JSONL export), or a rulesets directory.")],
    examples: Annotated[int, typer.Option("--examples", help="Rulesets: generated assessments per property.")]
    = 100,
    out: Annotated[Path | None, typer.Option("--out", help="Rulesets: write each counterexample here as an "
                                             "assessment file.")] = None,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="Log: the hash of the last acknowledged record, kept outside the log (verify prints "
        "it): a finding if the log does not end there (a tail cut at a record boundary shows only this way).")]
    = None,
    expect_count: Annotated[int | None, typer.Option(
        "--expect-count", min=0, help="Log: the number of acknowledged records, kept outside the log: a finding if "
        "the log holds a different number.")] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", help="Log: the signer's public key (PEM): every checkpoint must be signed by it and equal the log's "
        "Merkle root at its size, and every record be covered by one (a re-hashed chain shows).")] = None,
    since: Annotated[Path | None, typer.Option(
        "--since", help="Log: a checkpoint kept outside the log ('ecei-rules checkpoint'): a finding unless the "
        "log only grew since (its first records still have that checkpoint's Merkle root).")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Verify a decision log (hashes, chain, order, and its end against --expect-head/--expect-count),
    or check every property of a rulesets directory.

    Exit 1 on findings or counterexamples, 2 on usage errors.
    """
    if target.is_dir():
        if expect_head is not None or expect_count is not None or key is not None or since is not None:
            _err().print("[red]error:[/red] --expect-head, --expect-count, --key and --since apply to a decision "
                         "log, not to a rulesets directory")
            raise typer.Exit(2)
        _verify_rulesets(target, examples, out, format)
        return
    if expect_head is not None and _HASH.fullmatch(expect_head) is None:
        _err().print(f"[red]error:[/red] --expect-head must be a record's hash: 64 lowercase hexadecimal "
                     f"digits, not {markup(repr(expect_head))}")
        raise typer.Exit(2)
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.replay import verify

    rows, total = _log_rows(target)
    proofs = None
    if key is not None or since is not None:
        from ecei_rules.cli.proofs import ProofChecks

        proofs = ProofChecks(target, key, since)
    tick, done = _progress(total, "verifying")
    try:
        report = verify(rows, progress=tick, expect_head=expect_head, expect_count=expect_count)
    except LogError as exc:
        _log_error(exc)
    finally:
        done()
    if proofs is not None:
        proofs.run(report)
        proofs.print_summary(format)
    _print_report(report, "verify", format)
    raise typer.Exit(0 if report.ok else 1)


def _verify_rulesets(root: Path, examples: int, out: Path | None, format: Format) -> None:
    from ecei_rules.testing.properties import VerifyResult, verify_registry

    console = _console()

    def show(result: VerifyResult) -> None:
        if format is Format.text:
            mark = "[green]ok[/green]" if result.violation is None else "[red]COUNTEREXAMPLE[/red]"
            console.print(f"{markup(result.methodology)} {markup(result.target)}: {markup(result.property)} {mark} "
                          f"({result.seconds:.1f} s)", highlight=False)
            if result.violation is not None:
                console.print(text(f"    {result.violation.message}"))

    registry = Registry(root)
    if not registry.methodologies():  # nothing checked is no success
        _err().print(f"[red]error:[/red] no rulesets found in {root} (expected {root}/<methodology>/<version>.yaml)",
                     highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    with _exit_on_load_errors():
        results = verify_registry(registry, max_examples=examples, progress=show)
    failed = [r for r in results if r.violation is not None]
    saved: list[str] = []
    if out is not None and failed:
        out.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(failed, 1):
            assert r.violation is not None
            name = f"{i:02d}-{r.methodology}-{r.target.replace(' -> ', '-to-')}-{r.property.replace(' ', '-')}.json"
            (out / name).write_text(json.dumps(r.violation.to_json()["assessment"], indent=2) + "\n",
                                    encoding="utf-8")
            saved.append(str(out / name))
    if format is Format.json:
        print(json.dumps({"results": [{"methodology": r.methodology, "target": r.target, "property": r.property,
                                       "ok": r.violation is None, "seconds": round(r.seconds, 3),
                                       "counterexample": r.violation.to_json() if r.violation else None}
                                      for r in results], "saved": saved}, indent=2))
    else:
        for path in saved:
            console.print(text(f"counterexample saved: {show_path(path)} (re-run: ecei-rules evaluate "
                               f"{show_path(path)} --version ...)"))
        console.print(f"{len(results) - len(failed)} of {len(results)} property checks hold")
    raise typer.Exit(1 if failed else 0)


@app.command("replay")
def replay_command(
    log: Annotated[Path, typer.Argument(help="A decision log (SQLite) or its JSONL export.")],
    under: Annotated[str | None, typer.Option("--under", help="What-if: decide every input under this version "
                                              "instead, e.g. ecei-labels@3.0.0.")] = None,
    cross_check: Annotated[Engine | None, typer.Option("--cross-check", help="Also re-decide every record with "
                                                       "this engine (durable) and report every disagreement.")]
    = None,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Re-decide every record under the exact version it names and compare byte for byte. Exit 1 on findings."""
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.replay import replay, replay_under

    registry = _registry(rulesets)
    rows, total = _log_rows(log)
    tick, done = _progress(total, "replaying")
    try:
        if under is None:
            report = replay(rows, registry, progress=tick)
            if cross_check is Engine.durable:
                from ecei_rules.cli.durable import cross_check_report

                report.findings.extend(cross_check_report(log, registry).findings)
        else:
            with _exit_on_load_errors():
                target = _ruleset_arg(under, registry)
            report, changes = replay_under(rows, target, progress=tick)
            if format is Format.json:
                print(json.dumps({"under": target.version, "records": report.records, "changed": changes,
                                  "findings": [f.to_json() for f in report.sorted()]}, indent=2,
                                 ensure_ascii=False))
            else:
                console = _console()
                for change in changes[:200]:
                    was, now = change["recorded"], change["under"]
                    now_text = (f"{now['label']} until {now['valid_until']}" if now
                                else f"invalid ({change.get('problem')})")
                    console.print(text(f"record {change['seq']} ({change['organisation']}): {was['label']} until "
                                       f"{was['valid_until']} under {was['version']} -> {now_text} under "
                                       f"{target.version}"))
                console.print(text(f"{len(changes)} of {report.records} decision(s) would differ under "
                                   f"{target.version}"))
            raise typer.Exit(0)
    except LogError as exc:
        _log_error(exc)
    finally:
        done()
    _print_report(report, "replay", format)
    raise typer.Exit(0 if report.ok else 1)


@app.command("export")
def export_command(
    log: Annotated[Path, typer.Argument(help="A decision log (SQLite), read read-only.")],
    out: Annotated[Path, typer.Argument(help="The JSONL file to write (one canonical record per line); never "
                                        "the log itself.")],
) -> None:
    """Export a decision log as JSON Lines, atomically (a temporary file renamed over OUT)."""
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
        _log_error(exc)
    _console().print(text(f"exported {count} record(s) to {show_path(out)}"))
    if head:
        _console().print(f"head: {head}", highlight=False, soft_wrap=True)


@app.command("import")
def import_command(
    jsonl: Annotated[Path, typer.Argument(help="A JSONL export (a regular file, at most 1 GiB, read once).")],
    log: Annotated[Path, typer.Argument(help="A new decision log (SQLite) to fill.")],
) -> None:
    """Import a JSONL export into a new log after verifying it. Exit 1 (and import nothing) on findings.

    The file is read once, into memory (at most 1 GiB): the bytes verified are the bytes imported.
    """
    from ecei_rules.audit.log import DecisionLog, LogError, jsonl_rows, read_once, same_file
    from ecei_rules.audit.replay import verify

    try:
        if same_file(jsonl, log):
            raise LogError(f"{log} is the export being imported; import into a new log")
        data = read_once(jsonl)
    except LogError as exc:
        _log_error(exc)
    report = verify(jsonl_rows(data))
    if not report.ok:
        _print_report(report, "import refused", Format.text)
        raise typer.Exit(1)
    try:
        with DecisionLog(log) as store:
            count = store.import_rows(jsonl_rows(data))
    except LogError as exc:
        _log_error(exc)
    _console().print(text(f"imported {count} record(s) into {show_path(log)}"))


@app.command()
def schema(
    assessment: Annotated[bool, typer.Option("--assessment", help="The assessment schema of a version instead "
                                             "of the ruleset schema.")] = False,
    methodology: Annotated[str, typer.Option("--methodology", "-m")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="The version (default: the latest).")]
    = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Print a JSON Schema: of ruleset files (for editors), or of one version's assessments (for forms)."""
    if not assessment:
        print(json.dumps(ruleset_json_schema(), indent=2))
        return
    registry = _registry(rulesets)
    with _exit_on_load_errors():
        chosen = registry.get(methodology, version or registry.versions(methodology)[-1])
    print(json.dumps(assessment_schema(chosen), indent=2))


def _version_callback(value: bool) -> None:
    if value:
        print(f"ecei-rules {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                               help="Show the version and exit.")] = False,
) -> None:
    """Decide, explain and check labels with versioned, declarative rulesets."""


def main() -> None:
    """Console entry point: :func:`run` with the process's arguments, then exit with its code."""
    sys.exit(run())


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's arguments) and return the exit code.

    Nothing escapes as a traceback: an error the program did not expect becomes one located line
    on stderr and exit code 2 (``ECEI_RULES_DEBUG=1`` shows the traceback instead); a full disk
    exits 3, an interrupt 130, a closed output (broken pipe) 141 without a word, as ``head`` expects.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            code = app(args=args, prog_name="ecei-rules", standalone_mode=False)
        except typer.Abort:  # end of input at a prompt
            code = EXIT_SIGINT
        except _CLICK_ERROR as exc:  # a usage error: click's message (cleaned), exit 2
            shown = io.StringIO()
            exc.show(file=shown)  # type: ignore[attr-defined]
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(clean(shown.getvalue(), newlines=True))
            code = exc.exit_code  # type: ignore[attr-defined]
        _flush_stdout()
        return code if isinstance(code, int) else EXIT_OK
    except _PipeClosedError:
        return _pipe_closed()
    except BrokenPipeError:
        return _pipe_closed()
    except KeyboardInterrupt:
        _stderr_line("error: interrupted")
        return EXIT_SIGINT
    except Exception as exc:
        if _broken_pipe(exc):
            return _pipe_closed()
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        where = _command_of(args)
        if _disk_full(exc):
            _stderr_line(f"error: the disk is full ({type(exc).__name__}: {exc}) while running {where}")
            return EXIT_DISK_FULL
        _stderr_line(f"error: internal error ({type(exc).__name__}: {exc}) while running {where}; please report "
                     "it with the input")
        return EXIT_USAGE


def _flush_stdout() -> None:
    with contextlib.suppress(ValueError):  # a closed stdout
        sys.stdout.flush()


def _pipe_closed() -> int:
    """The Python documentation's way: point stdout at /dev/null, so that the flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_SIGPIPE


def _stderr_line(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(clean(message) + "\n")
        sys.stderr.flush()


def _command_of(args: list[str]) -> str:
    group = typer.main.get_command(app)
    names = set(group.commands) if isinstance(group, typer.core.TyperGroup) else set()
    chosen = next((a for a in args if not a.startswith("-")), None)
    return f"'ecei-rules {chosen}'" if chosen in names else "'ecei-rules'"


def _register_plugins() -> None:
    """Commands that live in their own modules register themselves on ``app`` when imported."""
    import importlib

    for name in ("explain", "impact", "durable", "repair", "proofs"):
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise


_register_plugins()
