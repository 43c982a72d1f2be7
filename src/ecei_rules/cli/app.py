"""The command line: a thin typer face over the library. Each command parses its options, calls the
library and prints; the app is assembled here, explicitly, from the commands of the modules of
``ecei_rules.cli`` (none registers itself on import). No logic lives only here.

Exit codes (the ``EXIT_*`` constants of ``ecei_rules.cli.common``, also named in ``ecei_rules.cli.app``):

- 0: success.
- 1: findings: an invalid ruleset or assessment, a failed embedded test, a log that does not verify,
  a property with a counterexample.
- 2: a usage error, with one line ``error: ...`` on stderr: an unknown methodology or version, a
  reference that is not one, a missing file, a directory where a file is expected, a bad option; or an
  internal error: one line ``error: internal error (Type: message) while running 'ecei-rules
  COMMAND'; please report it with the input`` on stderr, never a traceback (set
  ``ECEI_RULES_DEBUG=1`` to see it).
- 3: the system refused what the command needed: the storage refused a write (the disk full: ENOSPC,
  SQLite's "database or disk is full"; a quota or a file size limit reached: EDQUOT, EFBIG, ``ulimit -f``;
  an I/O error: EIO, SQLite's "disk I/O error"), memory ran out (MemoryError, DuckDB's out of memory), no
  more files could be opened (EMFILE, ENFILE: ``ulimit -n``), another process held the log locked
  longer than the command waits (SQLite's "database is locked"), or a worker process was killed (the
  out-of-memory killer's SIGKILL: a broken process pool); one line on stderr says which.
  ``record`` says on stderr how many records the log holds and its head hash, to keep outside it.
- 130: interrupted (SIGINT, Ctrl-C); 143: terminated (SIGTERM). ``record`` stops between two
  appends, each append being one whole transaction, and says what the log holds as above.
- 141: the reader of the output went away (a broken pipe, as in ``ecei-rules evaluate
  batch.jsonl --format json | head -1``), without a word, as a program killed by SIGPIPE.

A version is written the same way everywhere: ``3.0.1``, a range (``^3``) or a whole reference
(``ecei-labels@3.0.1``). ``-`` as an assessment file (``evaluate``, ``evaluate-durable``,
``explain``, ``record``, ``impact``) reads standard input: JSON Lines, or one JSON document written
over several lines (a first line that is an unfinished JSON value starts it). A directory given where an
assessment file is expected is a usage error (exit 2): give its files, or a ``.jsonl`` batch.

Text output for people shows every control, format and bidi character of names, ids, file
names and rulesets as a visible escape (``\\x1b``, ``\\u202e``) and never reads them as rich
markup; JSON output is written as the library writes it."""

from __future__ import annotations

import codecs
import contextlib
import enum
import errno
import gc
import importlib
import io
import os
import sys
import typing
from typing import Annotated, Any

import typer

from ecei_rules.cli.common import (
    EXIT_CODES,
    EXIT_DISK_FULL,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    EXIT_USAGE,
    broken_pipe,
    system_limit,
)
from ecei_rules.core.files import storage_refused
from ecei_rules.core.version import __version__

__all__ = ["DEBUG_ENV", "EXIT_CODES", "EXIT_DISK_FULL", "EXIT_FINDINGS", "EXIT_OK", "EXIT_SIGINT", "EXIT_SIGPIPE",
           "EXIT_SIGTERM", "EXIT_USAGE", "app", "main", "run"]

#: Set to 1 to see the traceback of an internal error instead of its one line.
DEBUG_ENV = "ECEI_RULES_DEBUG"
#: While a command runs, the collector's youngest generation is collected after this many new objects
#: (Python's default: 700): its start-up (importing, reading and compiling rulesets) makes objects that
#: live as long as the command, which frequent collections would only walk again and again.
YOUNG_OBJECTS = 50_000


class _PipeClosedError(Exception):
    """A BrokenPipeError, carried past click (which would exit 1 on it) to :func:`run`."""


#: click's base of usage errors (typer may carry its own copy of click).
_CLICK_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(typer.core.TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if broken_pipe(exc):
                raise _PipeClosedError() from exc
            raise


class _Argument(typer.core.TyperArgument):
    """An argument shown by its metavar alone (``ASSESSMENTS``, ``[PATHS]...``), never by a Python type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"


class _Option(typer.core.TyperOption):
    """An option whose range reads as words (``at least 1``), not as ``x>=1``."""

    def _get_number_range_help_str(self) -> str | None:
        low, high = self.min, self.max
        if low is None and high is None:
            return None
        return f"at least {low}" if high is None else f"at most {high}" if low is None else f"{low} to {high}"


class _Command(typer.core.TyperCommand):
    """A command whose help names each value in plain words: the arguments by their metavar, ranges in words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is typer.core.TyperArgument:
                param.__class__ = _Argument
            elif type(param) is typer.core.TyperOption:
                param.__class__ = _Option


def _version_callback(value: bool) -> None:
    if value:
        print(f"ecei-rules {__version__}")
        raise typer.Exit()


def _main(
    show_version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                               help="Show the version and exit.")] = False,
) -> None:
    """Decide, explain and check labels with versioned, declarative rulesets."""


#: The modules of ``ecei_rules.cli`` that hold the commands, in the order the help lists them.
MODULES = ("rulesets", "decide", "explain", "durable", "log", "repair", "proofs", "properties", "impact", "docs")
#: The module of each command, so that running one command imports its module alone (each module's
#: ``COMMANDS`` list the commands; a test keeps this table equal to them).
COMMAND_MODULES = {
    **dict.fromkeys(("validate", "test", "versions", "schema", "diff", "bump-check", "lint", "lock"), "rulesets"),
    "evaluate": "decide", "explain": "explain", "evaluate-durable": "durable", "cross-check": "durable",
    **dict.fromkeys(("record", "verify", "replay", "export", "import"), "log"), "repair": "repair",
    **dict.fromkeys(("keygen", "checkpoint", "receipt", "check-receipt"), "proofs"),
    "check-properties": "properties", "synth": "impact", "impact": "impact", "docs": "docs",
}


def commands(module: str) -> tuple[tuple[str, Any], ...]:
    """The commands a module of ``ecei_rules.cli`` lists (importing it), by name."""
    listed: tuple[tuple[str, Any], ...] = importlib.import_module(f"ecei_rules.cli.{module}").COMMANDS
    return listed


def build_app(only: str | None = None) -> typer.Typer:
    """The command line: every command of the modules of this package, in the order the help lists them
    (with ``only``, that command alone, under the same group, its module alone imported). Help is plain
    text (no rich markup is read in it), with plain-language metavars."""
    built = typer.Typer(
        cls=_Group,
        name="ecei-rules",
        help="Decide, explain and check labels with versioned, declarative rulesets.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,  # help text is plain: 'ecei-rules[durable]' is not read as markup
        pretty_exceptions_enable=False,  # never a traceback for a user: run() turns an error into one line
    )
    built.callback()(_main)
    for module in MODULES if only is None else (COMMAND_MODULES[only],):
        for name, command in commands(module):
            if only is None or name == only:
                built.command(name, cls=_Command)(command)
    return built


_whole: list[typer.Typer] = []  # the whole app, built on first use
if typing.TYPE_CHECKING:
    #: The whole command line (every command), built on first use by the module's ``__getattr__``.
    app: typer.Typer


def _app() -> typer.Typer:
    """The whole app (every command), built once, on first use."""
    if not _whole:
        _whole.append(build_app())
    return _whole[0]


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole command line, built on first use (running one command builds that command alone)."""
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _ClosedStream(io.TextIOBase):
    """What stands for a standard stream that was closed when the process started (``>&-``, ``<&-``): reading
    or writing it, as text or as bytes (``buffer`` is itself), raises OSError EBADF saying so; flushing it does
    nothing."""

    def __init__(self, which: str) -> None:
        super().__init__()
        self.which = which

    def _refuse(self) -> OSError:
        return OSError(errno.EBADF, f"standard {self.which} was closed when the command started")

    @property
    def buffer(self) -> _ClosedStream:
        return self

    def write(self, text: Any) -> int:
        raise self._refuse()

    def read(self, size: int | None = -1) -> str:
        raise self._refuse()

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]  # text and bytes alike
        raise self._refuse()

    def fileno(self) -> int:
        raise self._refuse()

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        return None


def _standard_streams() -> None:
    """Make the process's standard streams safe to use. A descriptor 0, 1 or 2 that was closed when the process
    started is opened on the null device, so that no file the command opens (a decision log) takes its number
    and receives what is written there; a closed standard input or output then stands as a `_ClosedStream`
    (exit 2 when the command reads or writes it, saying so), a closed standard error as the null device. Text
    standard output and error write a character their encoding lacks (``PYTHONIOENCODING=ascii``, a C locale)
    as JSON escapes it (``\\u2026``, `_escaped`), not as an error."""
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, mode)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    if sys.stdin is None:
        sys.stdin = _ClosedStream("input")
    if sys.stdout is None:
        sys.stdout = _ClosedStream("output")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's lifetime
    codecs.register_error(_ESCAPE, _escaped)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=_ESCAPE)


#: The codec error handler of the standard streams (`_escaped`).
_ESCAPE = "ecei-rules-json-escape"


def _escaped(error: UnicodeError) -> tuple[str, int]:
    """Each character an output's encoding lacks as JSON writes it escaped, ``\\u00fc`` (a pair of them beyond
    the BMP): in a JSON text it is then the same string, and in text for people a visible escape. (Python's
    ``backslashreplace`` writes ``\\xfc``, which is not JSON.)"""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start:error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


def main() -> None:
    """Console entry point: :func:`run` with the process's arguments, then exit with its code."""
    _standard_streams()
    code = run()
    # the process ends: what it made (modules, rulesets, plans) is freed as it exits, without the
    # collector walking all of it once more at exit (atexit handlers, flushes and closes still run)
    gc.freeze()
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's arguments) and return the exit code.

    Nothing escapes as a traceback: an error the program did not expect becomes one located line
    on stderr and exit code 2 (``ECEI_RULES_DEBUG=1`` shows the traceback instead); a full disk
    exits 3, an interrupt 130, a closed output (broken pipe) 141 without a word, as ``head`` expects.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    thresholds = gc.get_threshold()
    gc.set_threshold(max(YOUNG_OBJECTS, thresholds[0]), *thresholds[1:])
    try:
        code = _invoke(args)
        _flush_stdout()
        return code
    except (_PipeClosedError, BrokenPipeError):
        return _pipe_closed()
    except KeyboardInterrupt:
        _stderr_line("error: interrupted")
        return EXIT_SIGINT
    except Exception as exc:
        return _unexpected(exc, args)
    finally:
        gc.set_threshold(*thresholds)


def _invoke(args: list[str]) -> int:
    """The app on ``args``: its exit code; a usage error of click's is one line ``error: ...`` in plain words
    (`_usage_message`), exit 2, and no command at all prints the help (exit 2)."""
    try:
        code = _app_for(args)(args=args, prog_name="ecei-rules", standalone_mode=False)
    except typer.Abort:  # end of input at a prompt
        return EXIT_SIGINT
    except _CLICK_ERROR as exc:  # a usage error: one line, exit 2 (the group alone: its help, as click shows it)
        if type(exc).__name__ == "NoArgsIsHelpError":
            shown = io.StringIO()
            exc.show(file=shown)  # type: ignore[attr-defined]
            from ecei_rules.core.terminal import clean

            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(clean(shown.getvalue(), newlines=True))
        else:
            _stderr_line(f"error: {_usage_message(exc)}")
        return int(exc.exit_code)  # type: ignore[attr-defined]
    return code if isinstance(code, int) else EXIT_OK


#: A bound of a number's range as the validation names it, and how the line says it.
_BOUNDS = {"ge": "at least {}", "gt": "more than {}", "le": "at most {}", "lt": "less than {}"}
#: What a value that does not parse should have been.
_KINDS = {"int_parsing": "a whole number", "int_from_float": "a whole number", "float_parsing": "a number",
          "decimal_parsing": "a number", "bool_parsing": "true or false", "date_from_datetime_parsing": "a date",
          "date_parsing": "a date"}


def _usage_message(exc: Exception) -> str:
    """A usage error of click (an unknown option or command, a missing argument, a value its option refuses) as
    one line in plain words, without click's usage block and without the wording of the validation behind it:
    ``Invalid value for '--jobs': must be at least 1 (got '0') (see 'ecei-rules evaluate --help')``."""
    ctx = getattr(exc, "ctx", None)
    see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    kind = type(exc).__name__
    param = getattr(exc, "param", None)
    if kind == "NoSuchOption":
        near = sorted(getattr(exc, "possibilities", None) or [])
        guess = f"; did you mean {' or '.join(near)}?" if near else ""
        return f"{getattr(exc, 'message', exc)}{guess}{see}"
    if kind == "BadParameter" and param is not None:
        names = [o for o in getattr(param, "opts", []) if o.startswith("-")]
        name = max(names, key=len) if names else (getattr(param, "metavar", None) or str(param.name).upper())
        return f"Invalid value for '{name}': {_plain_refusal(exc, param)}{see}"
    said = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return " ".join(said.split()).rstrip(".") + see


def _plain_refusal(exc: Exception, param: Any) -> str:
    """Why a value was refused, in plain words: a validation's own wording (``Input should be greater than or
    equal to 1``, ``Value error, ...``) becomes what the value must be, with the value given."""
    cause = exc.__cause__
    errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
    if not errors:
        return str(getattr(exc, "message", exc))
    first = errors[0]
    given = f" (got {str(first.get('input'))!r})"
    bounds = [_BOUNDS[k].format(v) for k, v in (first.get("ctx") or {}).items() if k in _BOUNDS]
    if bounds:
        return f"must be {' and '.join(bounds)}{given}"
    if first.get("type") in _KINDS:
        return f"must be {_KINDS[first['type']]}{given}"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return f"must be one of {', '.join(str(m.value) for m in annotation)}{given}"
    said = str(first.get("msg", ""))
    said = said.removeprefix("Value error, ").replace("Input should be", "must be")
    return said.rstrip(".") + ("" if repr(str(first.get("input"))) in said else given)


def _app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``args``: when they begin with a command's name, the group with that command
    alone (what it parses, prints and says on a usage error is the same; typer then builds the options
    of one command at start-up, not of every one), else the whole app."""
    if args and args[0] in COMMAND_MODULES:
        return build_app(only=args[0])
    return _app()


def _unexpected(exc: Exception, args: list[str]) -> int:
    """An error nothing expected: one line and exit 2 (the system refusing what the command needed: 3, see
    `system_limit` and `storage_refused`; a closed output: 141)."""
    if broken_pipe(exc):
        return _pipe_closed()
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        raise exc
    where = _command_of(args)
    refused = storage_refused(exc) or system_limit(exc)
    if refused:
        said = str(exc).split("\n", 1)[0]  # DuckDB's goes on with advice for SQL sessions
        _stderr_line(f"error: {refused} ({type(exc).__name__}: {said}) while running {where}")
        return EXIT_DISK_FULL
    if isinstance(exc, OSError) and exc.errno == errno.EBADF and str(exc.strerror).startswith("standard "):
        _stderr_line(f"error: {exc.strerror} (give it a file, a pipe or /dev/null) while running {where}")
        return EXIT_USAGE
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:  # a name given, not a bug
        name = str(exc.filename)
        _stderr_line(f"error: a file name is longer than this system allows ({len(name)} characters: "
                     f"{name[:60]!r}...) while running {where}")
        return EXIT_USAGE
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
    try:
        from ecei_rules.core.terminal import clean

        line = clean(message)
    except Exception:  # nothing more can be imported (no memory, no file to open): every control escaped plainly
        line = "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") for c in message)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _command_of(args: list[str]) -> str:
    """The command the arguments name, for an error's line: from the table of commands, nothing imported (the
    error may be that nothing more can be: no memory, no file to open)."""
    chosen = next((a for a in args if not a.startswith("-")), None)
    return f"'ecei-rules {chosen}'" if chosen in COMMAND_MODULES else "'ecei-rules'"


if __name__ == "__main__":
    main()
