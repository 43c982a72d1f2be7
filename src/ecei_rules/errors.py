"""Errors and problems: the exception tree, and the one record of a problem the library reports.

The exception tree: every error the library raises on purpose is an ``EceiRulesError``, and
every error caused by what a caller passed in (an assessment, a date, a version) is an
``InputError``, so ``except InputError`` catches every bad input and nothing else::

    EceiRulesError                        every error this library raises on purpose
    ├── InputError                        the caller's input is refused (catch this for bad input)
    │   ├── AssessmentError (ValueError)  an assessment does not match the declared inputs,
    │   │                                 or cannot be parsed
    │   ├── FieldsError (ValueError)      engine.serialise: a selection of a decision's members
    │   │                                 (--fields) names one no decision has
    │   ├── SqlPathError (ValueError)     backends.sql: a file name DuckDB cannot take (not UTF-8:
    │   │                                 a name given, or TMPDIR's)
    │   └── ResolutionError (LookupError) no ruleset version answers the request: a date before
    │                                     the first version, an unknown methodology or version
    ├── RulesetError (ValueError)         a ruleset has problems; holds all diagnostics
    ├── LogError                          audit.log: the decision log cannot be opened or written
    ├── ReceiptError (ValueError)         audit.proofs: a receipt cannot be read or checked
    ├── KeyFileError                      audit.checkpoint: a signing key file cannot be used
    ├── CheckpointError (ValueError)      audit.checkpoint: a checkpoint cannot be read or checked
    ├── MessagesError (ValueError)        explanation.messages: no message file for a language,
    │                                     or one that cannot be read
    ├── SqlRefused                        backends.sql: a version uses constructs the SQL form does not
    │                                     express (one Q001 diagnostic per construct)
    ├── DurableUnavailableError (ImportError)  backends: durable-rules is not installed
    └── DurableError (RuntimeError)       backends: the durable-rules backend failed
        └── DurableLimitError             a ruleset beyond what durable-rules builds in bounded time

Outside the tree, by design: ``core.files.FileReadError`` (``core`` imports nothing of ours;
every caller turns it into one of the errors above), the backends' internal
``InterpreterError`` (a construct outside the language: a bug, never data), the pytest
plugin's ``EmbeddedFailureError`` (a failing embedded test, reported by pytest),
``language.source.UnknownValueError`` (raised by two-valued generated code where a value is unknown;
the fast line path catches it and decides three-valued), ``testing.synth_draw.ProfileError`` (a
``ValueError``: a synth profile's data of a wrong shape, with the JSON pointer of the wrong value, which
``load_profile`` turns into a ValueError located in the file), and eight private exceptions that never
leave their module: ``ruleset.safe_yaml._AbortError`` (a YAML
document past its limits, turned into a diagnostic), ``ruleset.lines._UnreadableError`` and
``engine.lines._DeclinedError`` (a version whose inputs or conditions the fast line path does not
read exactly: it has none, and its lines are decided on the exact path),
``ruleset.portable_patterns._UnportableError`` (a pattern with no portable form: the schema
leaves it to the engine), ``batch._ParseError`` (a JSON line that does not parse, turned into
an ``AssessmentError``), ``backends.durable._UnsupportedError`` (a
condition durable-rules cannot express natively, handed to the interpreter),
``backends.sql._Refuse`` (a construct the SQL form cannot express, gathered into ``SqlRefused``) and
``cli.app._PipeClosedError`` (standard output was closed: the command ends quietly).

Beside the errors that end a call, the library reports problems it found and goes on (a log
with findings is still read to its end). Every such problem is one record, a `Problem`: a
stable code, a message, details, and where it is (``where()``, which renders the place as
text), with one JSON layout (``to_json()``: the members its kind lists, in order). Each kind
adds only the fields that say where::

    Problem                 code, message, details; where(), to_json()
    ├── Diagnostic          file, line, column, pointer    a ruleset or an assessment (codes:
    │                       (and suggestion, severity)     ``CODES``); held by RulesetError and
    │                                                      AssessmentError
    ├── Finding             seq (a record; < 0: a line     a decision log: verify, replay, its
    │                       of a JSONL export)             checkpoints, the durable cross-check
    │                                                      (codes: ``FINDINGS``)
    ├── ItemProblem         index, version, pointer        an assessment of an impact study's
    │                                                      population (codes: ``CODES``)
    └── Violation           ruleset, assessment            a counterexample of a property check
                                                           (codes: the property's name)

Printed, every problem is one line, ``WHERE: CODE message in POINTER (suggestion)`` (``str()``;
a message that already begins with its place, as a log finding's "record 7 ..." does, is not
given it twice).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import json_path

Severity = Literal["error", "warning"]

#: Where each code is explained in the documentation site (``docs/reference/errors.md`` when built).
DOCS_PAGE = "reference/errors/"

#: Every diagnostic code with a one-line summary. Codes are stable: never reuse one.
CODES: dict[str, str] = {
    "E001": "the file cannot be read, or is not UTF-8 text",
    "E002": "YAML syntax error",
    "E003": "duplicate key in a mapping",
    "E004": "YAML construct not allowed in rulesets (tags, anchors beyond limits, merge keys)",
    "E005": "the document is too large or too deeply nested",
    "E101": "unknown key",
    "E102": "a required key is missing",
    "E103": "a value has the wrong type or form",
    "E104": "unknown name in a condition",
    "E105": "unknown parameter",
    "E106": "unknown criterion, group or score",
    "E107": "unknown type or catalogue",
    "E108": "conflicting or duplicate definitions",
    "E109": "extends: the base version cannot be found or read, or the chain loops",
    "E201": "condition syntax error",
    "E202": "construct not allowed in a condition",
    "E203": "unknown function, or a function called with the wrong arguments",
    "E204": "type error in a condition",
    "E205": "a literal or a number of the ruleset is out of range",
    "E206": "a condition, or all of them together, can cost more steps per decision than the budget, or compute "
            "numbers beyond the size bound",
    "E301": "validity rules do not cover every label",
    "E302": "an embedded test is invalid",
    "E303": "a validity rule ends before it starts, whatever the assessment",
    "L001": "lineage: the file's methodology differs from its folder",
    "L002": "lineage: the file's version differs from its file name",
    "L003": "lineage: a version does not supersede its predecessor",
    "L004": "lineage: versions and effective dates do not increase together",
    "L005": "lineage: two versions would be in force on the same day",
    "L006": "notice: a version was announced too shortly before it took effect (warning)",
    "L007": "a published version has no approval",
    "L008": "a published version's hash is not locked yet (warning)",
    "L009": "a published version was edited without a new version (its hash changed)",
    "L010": "a locked version's file is missing",
    "L011": "the declared semver bump is smaller than the changes require",
    "L012": "a methodology's lock file cannot be used",
    "L013": "a folder of the rulesets directory holds versions but is not a methodology id (warning)",
    "A001": "assessment: a required field is missing",
    "A002": "assessment: unknown field",
    "A003": "assessment: wrong type",
    "A004": "assessment: value out of range",
    "A005": "assessment: a consistency check failed",
    "A006": "assessment: the document cannot be parsed",
    "A007": "assessment: the validity the ruleset gives it would end before it starts",
    "R001": "no ruleset version answers the request: a date before the first version took effect, "
            "an unknown methodology or version",
    "B001": "a batch item failed for a reason no other code names (its message says what went wrong)",
    "Q001": "the SQL engine does not compile a construct of this version (decide it with the Python engine)",
    "Q002": "the SQL engine's table cannot hold a value of this assessment exactly (decide it with the Python engine)",
}


#: Every code of a log finding (a `Finding`) with a one-line summary. Codes are stable: never reuse one.
FINDINGS: dict[str, str] = {
    "bad_row": "a row is not a stored record (its columns do not hold the expected types)",
    "corrupt": "a row is not a decision record (unreadable, incomplete, or not its format)",
    "not_canonical": "a record's stored text is not its canonical JSON",
    "duplicate_member": "a record holds a member twice",
    "hash_mismatch": "a record's content, or its hash column, does not match its hash",
    "misplaced": "a record is stored at another position than its seq",
    "bad_reference": "a record names a methodology, version or ruleset hash that is not one",
    "bad_field": "a record's field is not what it claims to be",
    "duplicate": "a record appears twice",
    "reordered": "records were reordered",
    "missing": "records are missing (removed from the log)",
    "chain_break": "a record's prev_hash is not the hash of the record before it",
    "unexpected_end": "the log does not end where the head or count kept outside it says",
    "unknown_ruleset": "no ruleset of the registry is the one a record names",
    "ruleset_changed": "the version a record names now hashes differently",
    "unpublished_ruleset": "a record was decided under an edit of a published version (its lock differs)",
    "replay_failed": "a record's input or resolution cannot be decided again",
    "altered": "replay gives a different decision: the record was altered",
    "engine_changed": "replay gives a different decision: another engine version decided it",
    "checkpoint_key": "the log is bound to another signing key",
    "unsigned": "records that no checkpoint covers",
    "checkpoint_corrupt": "a stored checkpoint cannot be read",
    "checkpoint_signature": "a checkpoint's signature does not check",
    "checkpoint_beyond": "a checkpoint covers more records than the log holds",
    "checkpoint_root": "a checkpoint's root is not the log's Merkle root at its size",
    "since_signature": "the checkpoint kept does not check",
    "since_shrunk": "the log holds fewer records than the checkpoint kept",
    "since_rewritten": "the log's first records are not those of the checkpoint kept",
    "since_inconsistent": "the log is not an extension of the checkpoint kept",
    "durable_failed": "durable-rules failed on a record",
    "engines_disagree": "durable-rules does not reach a recorded decision",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem the library reports: a stable code, a message, details, and where it is.

    A kind of problem adds only the fields that say where (see the module); `where` renders
    them as text, ``str()`` is the one line every problem is printed as, and `to_json` its JSON,
    the members its kind lists in ``MEMBERS`` (JSON name, attribute), in order."""

    code: str
    message: str
    #: What else is known (values shown to people, one per line, and in the JSON of a log finding).
    details: Mapping[str, Any] = field(default_factory=dict, kw_only=True, hash=False)

    MEMBERS: ClassVar[tuple[tuple[str, str], ...]] = (("code", "code"), ("message", "message"))

    def where(self) -> str:
        """Where the problem is, as text ("" when nothing more is known)."""
        return ""

    def at(self) -> str:
        """A place inside `where` (a JSON pointer), shown after the message ("" for none)."""
        return ""

    def hint(self) -> str:
        """A suggestion, shown last ("" for none)."""
        return ""

    def head(self) -> str:
        """What the printed line begins with: `where`, unless the message already begins with it."""
        where = self.where()
        return "" if not where or self.message.startswith(where) else where

    def __str__(self) -> str:
        head, at, hint = self.head(), self.at(), self.hint()
        return (f"{head}: " if head else "") + f"{self.code} {self.message}" + (f" in {at}" if at else "") + \
            (f" ({hint})" if hint else "")

    def to_json(self) -> dict[str, Any]:
        """The problem as JSON: the members its kind lists, in order."""
        return {name: to_json(getattr(self, attribute)) for name, attribute in self.MEMBERS}


@dataclass(frozen=True, slots=True)
class Diagnostic(Problem):
    """A problem in a ruleset or an assessment, at a file, line, column and JSON pointer."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str = ""
    suggestion: str | None = None
    severity: Severity = "error"
    #: The character offset inside a condition, while the problem is not yet located in its file
    #: (the loader turns pointer and offset into line and column).
    offset: int | None = None

    MEMBERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("code", "code"), ("severity", "severity"), ("message", "message"), ("file", "file"), ("line", "line"),
        ("column", "column"), ("pointer", "pointer"), ("suggestion", "suggestion"))

    def location(self) -> str:
        """Return ``file:line:column`` (as much of it as is known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def _in_assessment(self) -> bool:
        """An assessment's problem (an ``A`` code) is placed by its JSON path, unless it names the file
        that could not be read (then ``file:line:column``)."""
        return self.code.startswith("A") and self.file is None

    def where(self) -> str:
        """``file:line:column``; for an assessment's problem, the JSON path (``$.staff.fte``)."""
        return json_path(self.pointer) if self._in_assessment() else self.location()

    def at(self) -> str:
        return "" if self._in_assessment() else self.pointer

    def hint(self) -> str:
        return self.suggestion or ""

    def to_json(self) -> dict[str, Any]:
        """The diagnostic as JSON, with the code's anchor on the documentation site last."""
        return {**Problem.to_json(self), "docs": self.docs()}

    def docs(self) -> str:
        """The code's anchor on the documentation site, relative to the site root."""
        return f"{DOCS_PAGE}#{self.code.lower()}"


@dataclass(frozen=True, slots=True)
class Finding(Problem):
    """A problem in a decision log (a code of ``FINDINGS``), at a record: its seq; a negative
    number is a line of a JSONL export, and 0 a row that names no record."""

    seq: int = field(kw_only=True)

    MEMBERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("seq", "seq"), ("kind", "code"), ("message", "message"), ("details", "details"))

    def where(self) -> str:
        """``record N``, ``line N`` or "" (a row that names no record)."""
        return f"record {self.seq}" if self.seq > 0 else f"line {-self.seq}" if self.seq < 0 else ""


@dataclass(frozen=True, slots=True)
class ItemProblem(Problem):
    """An assessment of an impact study's population that cannot be read (``version`` None), or
    that a version rejects (at ``pointer``), at its line (``index``) in the population."""

    index: int = field(kw_only=True)
    version: str | None = field(default=None, kw_only=True)
    pointer: str | None = field(default=None, kw_only=True)

    MEMBERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("line", "index"), ("version", "version"), ("code", "code"), ("message", "message"),
        ("pointer", "pointer"))

    def where(self) -> str:
        """``line N under VERSION`` (``line N`` for one that cannot be read)."""
        return f"line {self.index}" + (f" under {self.version}" if self.version else "")

    def at(self) -> str:
        return self.pointer or ""


@dataclass(frozen=True, slots=True)
class Violation(Problem):
    """A counterexample of a property check (the code is the property's name): the ruleset it
    breaks (a version, or ``old -> new``) and the assessment that breaks it (saved to re-run)."""

    ruleset: str = field(kw_only=True)
    assessment: Any = field(kw_only=True, hash=False)

    MEMBERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("property", "code"), ("ruleset", "ruleset"), ("assessment", "assessment"), ("message", "message"))

    def where(self) -> str:
        """The ruleset (``methodology@version``, or ``old -> new``)."""
        return self.ruleset


class EceiRulesError(Exception):
    """Base class of every error this library raises on purpose."""


class RulesetError(EceiRulesError, ValueError):
    """A ruleset could not be loaded; ``diagnostics`` holds every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        head = f"{len(errors)} problem(s) in ruleset"
        super().__init__(head + ":\n" + "\n".join(str(d) for d in errors))

    def __reduce__(self) -> tuple[Any, tuple[tuple[Diagnostic, ...]]]:
        return (type(self), (self.diagnostics,))


class InputError(EceiRulesError):
    """Base class of every error caused by the caller's input: an assessment the version refuses
    (`AssessmentError`) or a request no version answers (`ResolutionError`, e.g. an assessment
    dated before the first version took effect). Catch this to catch every bad input."""


class AssessmentError(InputError, ValueError):
    """An assessment does not match the inputs a ruleset version declares."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("invalid assessment:\n" + "\n".join(str(d) for d in diagnostics))

    def __reduce__(self) -> tuple[Any, tuple[tuple[Diagnostic, ...]]]:
        return (type(self), (self.diagnostics,))  # pickled with its diagnostics (to and from worker processes)


class ResolutionError(InputError, LookupError):
    """No ruleset version answers the request (a date before the first version, ...)."""

    #: the JSON pointer of the assessment's input that chose no version (None: its assessed_on)
    pointer: str | None = None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return ``did you mean 'x'?`` for the closest candidate, or None."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def as_written(value: Any) -> str:
    """A value as a ruleset's author writes it, never a Python repr: a date as ``2021-03-15``,
    text as ``'text'``, anything else as its JSON (``0.5``, ``true``, ``null``, ``["/a", 1]``)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return _json_text(value)


def _json_text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, (str, dt.date)):
        return json.dumps(value.isoformat() if isinstance(value, dt.date) else value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_json_text(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
