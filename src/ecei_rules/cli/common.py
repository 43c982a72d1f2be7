"""What every command shares, written once: the exit codes, the options several commands take, the
consoles, the one way to end a command with an error, reading assessments (``-`` is standard input)
and the progress bar. The command modules import this; nothing here imports them."""

from __future__ import annotations

import contextlib
import errno
import json
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer

from ecei_rules.core.canonical import to_json
from ecei_rules.core.files import SQLITE_BUSY, SQLITE_LOCKED, sqlite_result, storage_refused
from ecei_rules.errors import Diagnostic, Problem, ResolutionError, RulesetError

if TYPE_CHECKING:
    from rich.console import Console

    from ecei_rules.audit.log import StoredRecord
    from ecei_rules.audit.replay import AuditReport
    from ecei_rules.batch import Item
    from ecei_rules.errors import Finding
    from ecei_rules.registry import Registry

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2  #: also an internal error (a bug: one line on stderr, no traceback)
#: the system refused what the command needed (named for its first cause, a full disk): the storage refused a
#: write, memory ran out, no more files could be opened, or another process held the log locked
EXIT_DISK_FULL = 3
EXIT_SIGINT = 130  # 128 + SIGINT, as a shell reports a process killed by the signal
EXIT_SIGPIPE = 141  # 128 + SIGPIPE
EXIT_SIGTERM = 143  # 128 + SIGTERM
#: Every exit code the command line uses.
EXIT_CODES = frozenset({EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_DISK_FULL, EXIT_SIGINT, EXIT_SIGPIPE,
                        EXIT_SIGTERM})


class Format(StrEnum):
    """Output formats."""

    text = "text"
    json = "json"


class ReportFormat(StrEnum):
    """Output formats of reports that also read well as Markdown (diff, impact)."""

    text = "text"
    json = "json"
    markdown = "markdown"


# --- options several commands take (each with a plain-language metavar) ---------------------------

FormatOption = Annotated[Format, typer.Option("--format", "-f", metavar="text|json",
                                              help="text for people, json for machines.")]


def _directory(value: Path | None) -> Path | None:
    """``--rulesets`` as given, if it is a directory (a usage error otherwise, saying what it is; a name longer
    than the system allows is left to the top-level handler, which says so and cuts it short)."""
    if value is None:
        return None
    from ecei_rules.core.files import kind_of

    try:
        mode = value.stat().st_mode
    except FileNotFoundError:
        raise typer.BadParameter(f"{str(value)!r} does not exist") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise
        raise typer.BadParameter(f"{str(value)!r} cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode):
        what = "a regular file" if stat.S_ISREG(mode) else kind_of(mode)
        raise typer.BadParameter(f"{str(value)!r} is {what}, not a directory")
    return value


RulesetsOption = Annotated[Path | None, typer.Option(
    "--rulesets", metavar="DIR", callback=_directory,
    help="A rulesets directory (default: the rulesets shipped with the package).")]
RulesetFileOption = Annotated[Path | None, typer.Option(
    "--ruleset", "-r", metavar="FILE", help="Use this ruleset file instead of a rulesets directory.")]
MethodologyOption = Annotated[str | None, typer.Option(
    "--methodology", "-m", metavar="ID", help="The methodology (default: the one --version names, or "
    "the only one of the rulesets directory).")]
VersionOption = Annotated[str | None, typer.Option(
    "--version", "-v", metavar="VERSION", help="Pin a version: 3.0.1, a range (^3) or a whole reference "
    "(energy-label@3.0.1). Default: the version in force on each assessment's assessed_on.")]
AssessmentArgument = Annotated[Path, typer.Argument(
    metavar="ASSESSMENTS", help="An assessment (.json, .yaml), a batch (.jsonl), or - for standard input "
    "(JSON Lines, or one JSON document).")]


# --- consoles and errors ------------------------------------------------------------------------

def console() -> Console:
    """Standard output, for people (controls in content shown as escapes)."""
    from ecei_rules.core.terminal import SafeConsole

    return SafeConsole(soft_wrap=False)


def err_console() -> Console:
    """Standard error."""
    from ecei_rules.core.terminal import SafeConsole

    return SafeConsole(stderr=True)


#: ``--log LOG`` beside a command's LOG argument, as ``record`` takes it: either may name the log.
LogOption = Annotated[Path | None, typer.Option("--log", "-l", metavar="LOG", show_default=False,
                                                help="The log, as 'record --log' names it (instead of LOG).")]


def one_log(argument: Path | None, option: Path | None) -> Path:
    """The log a command reads: its LOG argument or its ``--log`` option (a usage error without either, or with two
    different ones)."""
    if argument is not None and option is not None and argument != option:
        fail(f"two logs given: {argument} and --log {option}; give one")
    found = argument if argument is not None else option
    if found is None:
        fail("no log given: name it as LOG or with --log LOG")
    return found


def fail(message: object, code: int = EXIT_USAGE) -> NoReturn:
    """End the command: ``error: MESSAGE`` on one line of stderr, then exit ``code`` (a usage error: 2)."""
    from ecei_rules.core.terminal import markup

    err_console().print(f"[red]error:[/red] {markup(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_problems(problems: Iterable[Problem], out: Console, *, prefix: str = "", cut: int = 200) -> None:
    """Every kind of problem the library reports (a diagnostic, a log finding, an impact study's
    assessment in error, a counterexample), one line each as ``str()`` writes it:
    ``PREFIX WHERE: CODE message in POINTER (suggestion)``, then up to six of its details, each
    on its own indented line cut at ``cut`` characters."""
    from ecei_rules.core.terminal import clean, text

    for problem in problems:
        warning = isinstance(problem, Diagnostic) and problem.severity == "warning"
        line = text(prefix)
        head, at, hint = problem.head(), problem.at(), problem.hint()
        if head:
            line.append(clean(head), style="bold")
            line.append(": ")
        line.append(clean(problem.code), style="bold yellow" if warning else "bold red")
        line.append(clean(f" {problem.message}"))
        if at:
            line.append(clean(f" in {at}"), style="dim")
        if hint:
            line.append(clean(f" ({hint})"), style="cyan")
        out.print(line, soft_wrap=True, highlight=False)
        for key, value in list(problem.details.items())[:6]:
            out.print(text(f"    {key}: {json.dumps(to_json(value), ensure_ascii=False)[:cut]}"))


def fail_diagnostics(diagnostics: Sequence[Diagnostic], code: int = EXIT_USAGE) -> NoReturn:
    """End the command with located diagnostics on stderr (a ruleset that does not load)."""
    print_problems(diagnostics, err_console())
    raise typer.Exit(code)


def finding(message: str) -> NoReturn:
    """End the command with a finding (``FAIL MESSAGE`` on stdout, exit 1)."""
    from ecei_rules.core.terminal import markup

    console().print(f"[red]FAIL[/red] {markup(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_FINDINGS)


@contextlib.contextmanager
def exit_on_load_errors(*, resolution: int = EXIT_USAGE, ruleset: int = EXIT_USAGE) -> Iterator[None]:
    """A version that does not resolve, or a ruleset that does not load, ends the command with a
    clear message (located diagnostics for a ruleset) and the given exit code."""
    try:
        yield
    except ResolutionError as exc:
        fail(exc, resolution)
    except RulesetError as exc:
        fail_diagnostics(exc.diagnostics, ruleset)


def registry(rulesets: Path | None) -> Registry:
    """The registry of ``--rulesets`` (default: the shipped rulesets)."""
    from ecei_rules.registry import Registry  # imported by the commands that read rulesets, when they run

    return Registry(rulesets) if rulesets is not None else Registry.shipped()


def print_json(document: Any) -> None:
    """A JSON document on stdout, indented, as the library wrote it."""
    print(json.dumps(document, indent=2, ensure_ascii=False))


# --- reading assessments: a file, or - for standard input ---------------------------------------

STDIN = Path("-")
#: The most assessments a search may be given (``--examples``): its time grows with the budget, and a budget
#: mistyped by a few digits would otherwise run for days (the searches need at least one).
MAX_EXAMPLES = 1_000_000


def check_output(path: Path | None, what: str) -> None:
    """Exit 2 before any work when ``path`` (an output file; None: standard output) cannot be written where it
    is: a directory, or in a folder that does not exist."""
    if path is None:
        return
    from ecei_rules.core.terminal import show_path

    if path.is_dir():
        fail(f"{show_path(path)} is a directory; give {what} a file name")
    if not path.absolute().parent.is_dir():
        fail(f"cannot write {what} {show_path(path)}: its folder does not exist")


def open_output(path: Path | None, what: str) -> TextIO:
    """Standard output (``path`` None), or ``path`` opened to write text (UTF-8, newlines as written); exit 2,
    saying why, when it cannot be (a name longer than the system allows is left to the top-level handler)."""
    if path is None:
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8", newline="\n")
    except OSError as exc:
        from ecei_rules.core.terminal import show_path

        write_failed(f"cannot write {what} {show_path(path)}", exc)


#: A record's SHA-256, as records write it (what ``--expect-head`` must be).
RECORD_HASH = re.compile("[0-9a-f]{64}")


def check_expected_head(value: str | None) -> None:
    """Exit 2 unless ``--expect-head`` is absent or a record's hash (checked before the log is read or changed)."""
    if value is not None and RECORD_HASH.fullmatch(value) is None:
        shown = repr(value[:80]) + ("..." if len(value) > 80 else "")
        fail(f"--expect-head must be a record's hash: 64 lowercase hexadecimal digits, not {shown}")


def check_input(path: Path) -> None:
    """Exit 2 with a clear message unless ``path`` is a file (or ``-``, standard input)."""
    if path == STDIN or (path.exists() and not path.is_dir()):
        return
    from ecei_rules.core.terminal import show_path

    if not path.exists():
        fail(f"no such file: {show_path(path)}")
    if path.is_dir():
        fail(f"{show_path(path)} is a directory; give an assessment file (.json, .yaml) or a batch (.jsonl), "
             "or - to read JSON Lines from standard input")


def read(path: Path, *, raw: bool = False) -> Iterator[Item]:
    """The assessments of a file, or of standard input for ``-`` (JSON Lines, or one JSON document)."""
    from ecei_rules.batch import read_assessments, read_standard_input

    if path == STDIN:
        return read_standard_input(sys.stdin.buffer, raw=raw)  # bytes, line by line
    return read_assessments(path, raw=raw)


@contextlib.contextmanager
def stdin_as_file(path: Path) -> Iterator[Path]:
    """``path`` itself, or for ``-`` a temporary file holding standard input (``.jsonl``, or ``.json`` for
    one document over several lines; copied in blocks, removed afterwards), for a library function that
    reads a file by name more than once."""
    if path != STDIN:
        yield path
        return
    import shutil
    import tempfile

    from ecei_rules.batch import peek_stream

    head, document = peek_stream(sys.stdin.buffer)
    with tempfile.TemporaryDirectory(prefix="ecei-rules-") as folder:
        copy = Path(folder) / ("stdin.json" if document else "stdin.jsonl")
        with copy.open("wb") as handle:
            handle.writelines(head)
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield copy


def is_batch(path: Path) -> bool:
    """Whether a path is read as JSON Lines (a ``.jsonl`` file or standard input)."""
    return path == STDIN or path.suffix == ".jsonl"


def yaml_files(paths: list[Path]) -> list[Path]:
    """The ruleset files named, each directory standing for the YAML files below it."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*.y*ml") if q.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return files


# --- failures of the system, not of the input ---------------------------------------------------

def system_limit(exc: BaseException) -> str | None:
    """What a resource the system refused says, in words: memory run out (MemoryError, DuckDB's
    OutOfMemoryException), no more files open (EMFILE: the process's limit, ENFILE: the system's), a log
    another process holds locked past the wait (SQLite's SQLITE_BUSY, SQLITE_LOCKED), or a worker process
    killed (a broken process pool); or None."""
    if isinstance(exc, MemoryError) or (type(exc).__name__ == "OutOfMemoryException"
                                        and "duckdb" in type(exc).__module__):  # _duckdb
        return "out of memory: the command needs more memory than the system gives it"
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        if exc.errno == errno.ENFILE:
            return "too many open files: the system's table of open files is full"
        try:
            import resource

            limit = f" (this process may open {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}: ulimit -n)"
        except (ImportError, OSError):  # not on POSIX, or not even its module can be opened now
            limit = ""
        return f"too many open files: the command needs more than the system lets it open{limit}"
    if sqlite_result(exc) in (SQLITE_BUSY, SQLITE_LOCKED):
        from ecei_rules.audit.log import BUSY_TIMEOUT_MS

        return (f"another process holds the log locked (this one waited {BUSY_TIMEOUT_MS / 1000:g} s for it); "
                "try again once it is done")
    pools = sys.modules.get("concurrent.futures.process")  # imported by whatever ran a pool
    if pools is not None and isinstance(exc, pools.BrokenProcessPool):
        return ("a worker process ended abruptly (killed: the system may have run short of memory, and its "
                "out-of-memory killer ends processes so); the output stops after the last line written; "
                "--jobs 1 decides in this one process")
    return None


def check_stdout() -> None:
    """Exit 2 before a command changes anything when its standard output was closed when it started (``>&-``):
    it would change the log, the lock or the keys, then fail to say so."""
    try:
        sys.stdout.fileno()
    except OSError as exc:  # a stream without a descriptor (a test's capture) has none to be closed
        if exc.errno == errno.EBADF:
            fail(f"{exc.strerror} (give it a file, a pipe or /dev/null); nothing was changed")


def write_failed(message: str, exc: OSError) -> NoReturn:
    """End the command for a file that cannot be written: ``error: MESSAGE: why``, exit 2. A storage that refused
    the write (full, over a quota or a file size limit, failing: exit 3) and a name longer than the system allows
    are raised again, for the top-level handler to say."""
    if exc.errno == errno.ENAMETOOLONG or storage_refused(exc) is not None:
        raise exc
    fail(f"{message}: {exc.strerror or exc}")


def broken_pipe(exc: BaseException) -> bool:
    """True for a closed output (EPIPE)."""
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


# --- progress and log reports -------------------------------------------------------------------

def progress(total: int | None, label: str, *, enabled: bool | None = None,
             minimum: int = 2000) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr: ``(tick, done)``. Shown when ``enabled``, or (None) on a terminal for a
    run of at least ``minimum`` items."""
    show = enabled if enabled is not None else total is not None and total >= minimum and sys.stderr.isatty()
    if not show:
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console(), transient=True)
    task = bar.add_task(label, total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def log_rows(path: Path) -> tuple[Iterator[StoredRecord], int | None]:
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
        fail(exc)


def print_findings(report: AuditReport, *, cut: int = 200) -> list[Finding]:
    """The findings of an audit report for people (the first 50, each with six details cut at ``cut``
    characters); return them all, in order."""
    out = console()
    findings = report.sorted()
    print_problems(findings[:50], out, cut=cut)
    if len(findings) > 50:
        out.print(f"... and {len(findings) - 50} more finding(s)")
    return findings


def print_report(report: AuditReport, what: str, format: Format) -> None:
    """An audit report: JSON, or its findings and a verdict for people."""
    from ecei_rules.core.terminal import text

    if format is Format.json:
        print_json(report.to_json())
        return
    findings = print_findings(report)
    out = console()
    if report.ok:
        out.print(f"[green]{what}: {report.records} record(s), no findings[/green]")
        if report.head is not None and report.records:
            out.print(text(f"head: {report.head}"), soft_wrap=True)
            out.print("keep the head and the count outside the log: 'verify --expect-head HEAD "
                      f"--expect-count {report.records}' then shows a tail cut at a record boundary",
                      highlight=False)
        return
    seq = findings[0].seq
    first = f"the first bad record is {seq}" if seq > 0 else f"the first bad line is {-seq}" if seq < 0 else \
        "the first bad row names no record"
    out.print(f"[red]{what}: {report.records} record(s), {len(findings)} finding(s); {first}[/red]",
              highlight=False)
