"""Errors and diagnostics.

The exception tree: every error the library raises on purpose is an ``EceiRulesError``, and
every error caused by what a caller passed in (an assessment, a date, a version) is an
``InputError``, so ``except InputError`` catches every bad input and nothing else::

    EceiRulesError                        every error this library raises on purpose
    ├── InputError                        the caller's input is refused (catch this for bad input)
    │   ├── AssessmentError (ValueError)  an assessment does not match the declared inputs,
    │   │                                 or cannot be parsed
    │   └── ResolutionError (LookupError) no ruleset version answers the request: a date before
    │                                     the first version, an unknown methodology or version
    ├── RulesetError (ValueError)         a ruleset has problems; holds all diagnostics
    ├── LogError                          audit.log: the decision log cannot be opened or written
    ├── ReceiptError (ValueError)         audit.proofs: a receipt cannot be read or checked
    ├── KeyFileError                      audit.checkpoint: a signing key file cannot be used
    ├── CheckpointError (ValueError)      audit.checkpoint: a checkpoint cannot be read or checked
    ├── MessagesError (ValueError)        explanation.messages: no message file for a language,
    │                                     or one that cannot be read
    ├── DurableUnavailableError (ImportError)  backends: durable-rules is not installed
    └── DurableError (RuntimeError)       backends: the durable-rules backend failed
        └── DurableLimitError             a ruleset beyond what durable-rules builds in bounded time

Outside the tree, by design: ``core.files.FileReadError`` (``core`` imports nothing of ours;
every caller turns it into one of the errors above), the backends' internal
``InterpreterError`` (a construct outside the language: a bug, never data) and the pytest
plugin's ``EmbeddedFailureError`` (a failing embedded test, reported by pytest).

A `Diagnostic` names the problem (a stable code, see ``CODES``), the place (file,
line, column and JSON pointer) and, where one exists, a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    "E109": "extends: the base version cannot be found, or the chain loops",
    "E201": "condition syntax error",
    "E202": "construct not allowed in a condition",
    "E203": "unknown function, or a function called with the wrong arguments",
    "E204": "type error in a condition",
    "E205": "a literal or a number of the ruleset is out of range",
    "E206": "a condition, or all of them together, can cost more steps per decision than the budget",
    "E301": "validity rules do not cover every label",
    "E302": "an embedded test is invalid",
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
    "A001": "assessment: a required field is missing",
    "A002": "assessment: unknown field",
    "A003": "assessment: wrong type",
    "A004": "assessment: value out of range",
    "A005": "assessment: a consistency check failed",
    "A006": "assessment: the document cannot be parsed",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a ruleset or an assessment, with where it is."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str = ""
    suggestion: str | None = None
    severity: Severity = "error"
    #: The character offset inside a condition, while the problem is not yet located in its file
    #: (the loader turns pointer and offset into line and column).
    offset: int | None = None

    def location(self) -> str:
        """Return ``file:line:column`` (as much of it as is known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.code} {self.message}"
        if self.pointer:
            text += f" in {self.pointer}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text

    def to_dict(self) -> dict[str, object]:
        """Return the diagnostic as a JSON-ready mapping."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "suggestion": self.suggestion,
            "docs": self.docs(),
        }

    def docs(self) -> str:
        """The code's anchor on the documentation site, relative to the site root."""
        return f"{DOCS_PAGE}#{self.code.lower()}"


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
        super().__init__("invalid assessment:\n" + "\n".join(_assessment_line(d) for d in diagnostics))

    def __reduce__(self) -> tuple[Any, tuple[tuple[Diagnostic, ...]]]:
        return (type(self), (self.diagnostics,))  # pickled with its diagnostics (to and from worker processes)


class ResolutionError(InputError, LookupError):
    """No ruleset version answers the request (a date before the first version, ...)."""


def _assessment_line(d: Diagnostic) -> str:
    return f"{json_path(d.pointer)}: {d.code} {d.message}"


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return ``did you mean 'x'?`` for the closest candidate, or None."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None
