"""Reading assessments (JSON, YAML, JSON Lines) and deciding them with a registry.

A batch never stops at a bad assessment: every item yields either a decision or an error
that names its JSON path, in input order.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO, cast

from ecei_rules.core.canonical import ORJSON_MAX_CHARS, canonical_json, to_json
from ecei_rules.core.files import FileReadError, open_stream, read_limited
from ecei_rules.core.pointers import json_path
from ecei_rules.core.workers import ordered_map, worker_count
from ecei_rules.engine.decision import Decision, Resolution, given
from ecei_rules.engine.evaluate import decision_text, evaluate, outline, validated_data
from ecei_rules.engine.evaluator import evaluator
from ecei_rules.engine.lines import LinePlan, line_plan
from ecei_rules.engine.plan import awarded, never_expires, subject_id
from ecei_rules.engine.serialise import Fields
from ecei_rules.errors import AssessmentError, Diagnostic, EceiRulesError, InputError, ResolutionError, RulesetError
from ecei_rules.registry import Registry, choosing_date, parse_reference, value_at
from ecei_rules.ruleset.lines import exact_floats
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.ruleset.model import NONE_LABEL
from ecei_rules.ruleset.safe_yaml import parse_yaml

MAX_LINE_BYTES = 8 * 1024 * 1024
#: The largest single assessment file (.json, .yaml) read: as a batch line.
MAX_DOCUMENT_BYTES = MAX_LINE_BYTES
#: A chunk sent to a worker ends after this many characters of JSON text (or its line count).
CHUNK_CHARS = 4 * 1024 * 1024
MAX_DIGITS = 400

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the exact parser decides alone without it
    _orjson = None  # type: ignore[assignment]


class _ParseError(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a key came twice: name the first one repeated
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _ParseError(f"duplicate key '{key}'")
            seen.add(key)
    return out


def _constant(name: str) -> Any:
    raise _ParseError(f"{name} is not a number JSON allows")


def _int(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise _ParseError(f"an integer with {len(text)} digits is too long")
    return int(text)


def _float(text: str) -> Decimal:
    if len(text) > MAX_DIGITS:
        raise _ParseError(f"a number with {len(text)} characters is too long")
    try:
        value = Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal can hold (decimal.InvalidOperation)
        raise _ParseError(f"the number {text[:40]} is too large or too small") from None
    if value and abs(value.adjusted()) > MAX_DIGITS:
        # an exponent like 1e99999999 would overflow every later Decimal operation
        raise _ParseError(f"the number {text} is too large or too small")
    return value


def _lone_surrogate(value: Any) -> bool:
    """True when a string (key or value) holds a lone surrogate (a \\ud800 escape): not text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(text: str) -> Any:
    """Parse JSON exactly: numbers as int or Decimal, duplicate keys and NaN rejected.

    Raises:
        AssessmentError: with an A006 diagnostic locating the problem.
    """
    try:
        data = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant,
                          object_pairs_hook=_pairs)
        # a lone surrogate can only come from a \u escape, or be in the text itself
        if ("\\u" in text or not _encodable(text)) and _lone_surrogate(data):
            raise _ParseError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
        return data
    except json.JSONDecodeError as exc:
        raise AssessmentError([Diagnostic("A006", f"invalid JSON at line {exc.lineno} column {exc.colno}: "
                                          f"{exc.msg}", line=exc.lineno, column=exc.colno)]) from None
    except (_ParseError, ValueError) as exc:
        raise AssessmentError([Diagnostic("A006", f"invalid JSON: {exc}")]) from None
    except RecursionError:
        raise AssessmentError([Diagnostic("A006", "invalid JSON: nested too deeply")]) from None


def parse_assessment_text(text: str, *, yaml: bool = False, file: str | None = None) -> Any:
    """Parse one assessment document (JSON, or YAML with ``yaml=True``)."""
    if not yaml:
        return parse_json(text)
    doc = parse_yaml(text, file)
    if doc.diagnostics:
        raise AssessmentError([Diagnostic("A006", d.message, file, d.line, d.column, d.pointer, d.suggestion)
                               for d in doc.diagnostics])
    return doc.data


@dataclass(frozen=True)
class RawLine:
    """A JSON Lines line read but not parsed yet (parsed where it is decided, e.g. in a worker)."""

    text: str

    def parse(self) -> Any:
        """The assessment (raises AssessmentError like `parse_json`, located within the line: the line's own
        end, which JSON reads as white space, is not read, so that an unfinished line is not placed on the
        next)."""
        text = self.text
        return parse_json(text[:-1] if text.endswith("\n") else text)

    def quick(self) -> dict[str, Any] | None:
        """The assessment read by orjson, when it is surely what `parse` reads once validated by a typed
        version (see `quick_json`); None otherwise."""
        return quick_json(self.text)


def quick_json(text: str) -> dict[str, Any] | None:
    """A JSON object read by orjson when its text is orjson's own writing of the values it read (or that
    writing with a space after each comma and colon, as the standard library writes; a line's end
    aside), else None (then `parse_json` reads it).

    Such a text holds each float in its shortest form (the digits ``repr`` gives too), no key twice
    and no number beyond a double: `parse_json` reads the very same values, but for each float the
    Decimal of that text, which is what a typed decimal input makes of the float (the Decimal of its
    ``repr``; an integer input takes a whole float as its integer). So, validated by a version whose
    inputs all have a type, the two are equal, class and digits alike. A text written otherwise
    (``2.50``, ``1E2``, a key twice, a huge integer, an escape, other spacing) is left to `parse_json`.
    """
    if _orjson is None or len(text) > ORJSON_MAX_CHARS:  # a long text: read where memory may run out cleanly
        return None
    try:
        data = _orjson.loads(text)
    except _orjson.JSONDecodeError:
        return None
    if data.__class__ is not dict:
        return None
    body = text.rstrip("\r\n").encode("utf-8")
    written = _orjson.dumps(data)
    if b'": ' in body:  # the standard library's separators (a number holds neither a comma nor a colon)
        written = written.replace(b",", b", ").replace(b":", b": ")
    return data if written == body else None


@dataclass(frozen=True)
class Item:
    """One assessment of a batch: where it came from and its data, or why it cannot be read."""

    index: int  # 1-based position in the input (the line, for JSON Lines)
    data: Any = None
    error: AssessmentError | None = None


def read_assessments(path: Path | str, stream: TextIO | None = None, *, raw: bool = False) -> Iterator[Item]:
    """Read a ``.json``, ``.yaml``/``.yml`` or ``.jsonl`` file (streamed, line by line).

    With ``raw``, the lines of a ``.jsonl`` file come as `RawLine` data, parsed later by
    `decide_many` (or by the worker process that decides them).
    """
    p = Path(path)
    if p.suffix != ".jsonl":
        yield _read_document(p, stream)
        return
    # a file is read as bytes and decoded line by line, so that one bad byte costs one line;
    # a regular file or a named pipe (streamed, 8 MiB per line at most), never a device
    if stream is None:
        try:
            handle: Any = open_stream(p, "batch")
        except FileReadError as exc:
            yield _unreadable(p, exc)
            return
    else:
        handle = stream
    try:
        yield from _read_lines(handle, raw)
    finally:
        if stream is None:
            handle.close()


def _unreadable(p: Path, exc: FileReadError) -> Item:
    return Item(1, error=AssessmentError([Diagnostic("A006", exc.message, str(p))]))


def _read_lines(handle: Any, raw: bool) -> Iterator[Item]:
    """The items of a JSON Lines stream (bytes or text), a bad line costing that line only."""
    number = 0
    while True:
        try:
            line = handle.readline(MAX_LINE_BYTES + 1)
        except UnicodeDecodeError:  # only a text stream: it cannot resynchronise
            yield _not_text(number + 1)
            break
        if not line:
            break
        number += 1
        item = _item_of(handle, number, line, raw)
        if item is not None:
            yield item


def _not_text(number: int) -> Item:
    return Item(number, error=AssessmentError([Diagnostic("A006", "the line is not UTF-8 text")]))


def _item_of(handle: Any, number: int, line: str | bytes, raw: bool) -> Item | None:
    """The item of line ``number`` just read from ``handle`` (the rest of a line longer than the limit
    read and dropped), None for a blank line."""
    if len(line) > MAX_LINE_BYTES:
        newline = b"\n" if isinstance(line, bytes) else "\n"
        rest = line
        while rest and not rest.endswith(newline):  # type: ignore[arg-type]
            rest = handle.readline(MAX_LINE_BYTES)
        return Item(number, error=AssessmentError([Diagnostic("A006", "the line is longer than 8 MiB")]))
    return _line_item(number, line, raw)


def selected_lines(path: Path | str, resolve: Resolver, fields: Fields,
                   stream: Any = None) -> Iterator[tuple[str, bool]]:
    """The lines `decide_texts` gives for ``read_assessments(path, stream, raw=True)`` and the members
    ``fields`` selects, decided in this process, with each line of a JSON Lines file or byte stream tried
    first on the fast line path straight from the bytes read, a block at a time (`Selection.fast_lines`): what
    it does not decide is read and decided as `decide_texts` does, line by line."""
    selection = Selection(fields)
    p = Path(path)
    if p.suffix != ".jsonl" or not selection.untraced:
        yield from decide_texts(read_assessments(p, stream, raw=True), resolve, fields=selection)
        return
    if stream is None:
        try:
            handle: Any = open_stream(p, "batch")
        except FileReadError as exc:
            yield from decide_texts([_unreadable(p, exc)], resolve, fields=selection)
            return
    else:
        handle = stream
    try:
        yield from _selected_blocks(handle, resolve, selection)
    finally:
        if stream is None:
            handle.close()


#: What `_selected_blocks` reads at a time: lines are split from it, and a line not yet ended waits for
#: the next read (up to `MAX_LINE_BYTES`).
READ_BYTES = 1024 * 1024


def _selected_blocks(handle: Any, resolve: Resolver, selection: Selection) -> Iterator[tuple[str, bool]]:
    """`selected_lines` of an open binary stream read `READ_BYTES` at a time (``read1``: what a pipe holds is
    decided without waiting for more): the ended lines of each read are tried on the fast line path
    together (`Selection.fast_lines`), a run of lines it decides yielded as one text of several lines; a
    line it does not decide is read and decided as `decide_texts` does. Lines, their numbers, blank lines
    and a line longer than `MAX_LINE_BYTES` (read on and dropped) are as `_read_lines` has them."""
    limit, read, number = MAX_LINE_BYTES, handle.read1, 0
    held: list[bytes] = []  # the start of a line not yet ended, in the pieces read
    size = 0
    while True:
        chunk = read(READ_BYTES)
        if not chunk:
            break
        end = chunk.rfind(b"\n")
        if end < 0:
            held.append(chunk)
            size += len(chunk)
            if size > limit:  # as readline(limit + 1) reads it: longer than the limit, the rest dropped
                number += 1
                yield from _too_long(number, handle, resolve, selection, held)
                held, size = [], 0
            continue
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if held:
            held.append(lines[0])
            lines[0] = b"".join(held)
        held, size = ([tail], len(tail)) if tail else ([], 0)
        # no number of 16 digits in the read nor in its first line (which may have begun in an earlier read)
        exact = exact_floats(chunk) and exact_floats(lines[0])
        yield from _block_lines(lines, number, True, exact, resolve, selection)
        number += len(lines)
    if held:
        last = b"".join(held)
        yield from _block_lines([last], number, False, exact_floats(last), resolve, selection)


def _too_long(number: int, handle: Any, resolve: Resolver, selection: Selection,
              start: list[bytes]) -> Iterator[tuple[str, bool]]:
    """The error of line ``number``, longer than the limit, whose ``start`` is read (the rest of the line
    read on and dropped, as `_item_of` does)."""
    item = _item_of(handle, number, b"".join(start), True)  # (no newline in it: the rest is read on)
    if item is not None:
        yield from decide_texts((item,), resolve, fields=selection, fast=False)


def _block_lines(lines: list[bytes], number: int, ended: bool, exact: bool, resolve: Resolver,
                 selection: Selection) -> Iterator[tuple[str, bool]]:
    """The texts of ``lines`` (numbered from ``number`` + 1, each ended by a newline split off but the last
    when not ``ended``; ``exact``: no number of 16 digits in any, see `exact_floats`), the lines the fast line
    path decides first."""
    # only the first line may be longer than the limit (the others are from one read); it is not tried fast
    long = len(lines[0]) + (ended or len(lines) > 1) > MAX_LINE_BYTES
    texts = selection.fast_lines(lines[1:] if long else lines, resolve, exact)
    if long:
        texts.insert(0, None)
    run: list[str] = []
    for at, text in enumerate(texts):
        if text is not None:
            run.append(text)
            continue
        if run:
            yield "\n".join(run), False
            run = []
        line = lines[at]
        if ended or at < len(lines) - 1:
            line += b"\n"
        if len(line) > MAX_LINE_BYTES:  # as `_item_of`: the line (here read whole) is too long
            yield from decide_texts([Item(number + at + 1, error=AssessmentError([Diagnostic(
                "A006", "the line is longer than 8 MiB")]))], resolve, fields=selection, fast=False)
            continue
        item = _line_item(number + at + 1, line, True)
        if item is not None:
            yield from decide_texts((item,), resolve, fields=selection, fast=False)
    if run:
        yield "\n".join(run), False


def _line_item(number: int, line: str | bytes, raw: bool) -> Item | None:
    """One line's item: its data (parsed, or a `RawLine` with ``raw``) or its error; None for a blank line."""
    if isinstance(line, bytes):
        read = line
        try:
            line = read.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Item(number, error=AssessmentError([Diagnostic(
                "A006", f"the line is not UTF-8 text (byte 0x{read[exc.start]:02x})",
                line=1, column=len(read[:exc.start].decode("utf-8", "replace")) + 1)]))
    if not line or line.isspace():
        return None
    if raw:
        return Item(number, RawLine(line))
    try:
        return Item(number, data=RawLine(line).parse())  # located within the line, as a raw line is
    except AssessmentError as exc:
        return Item(number, error=exc)


def _read_document(p: Path, stream: TextIO | None) -> Item:
    """One document: a regular file, opened once, at most MAX_DOCUMENT_BYTES read."""
    try:
        text = stream.read(MAX_DOCUMENT_BYTES + 1) if stream is not None else \
            read_limited(p, MAX_DOCUMENT_BYTES, "assessment file").decode("utf-8")
        if len(text) > MAX_DOCUMENT_BYTES:
            raise FileReadError(f"the assessment is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    except FileReadError as exc:
        return Item(1, error=AssessmentError([Diagnostic("A006", exc.message, str(p))]))
    except UnicodeDecodeError:
        return Item(1, error=AssessmentError([Diagnostic("A006", "the file is not UTF-8 text", str(p))]))
    try:
        return Item(1, data=parse_assessment_text(text, yaml=p.suffix in (".yaml", ".yml"), file=str(p)))
    except AssessmentError as exc:
        return Item(1, error=exc)


#: The most keys `_misspelt` compares with the missing one (a suggestion, not worth a long search).
MISSPELT_KEYS = 1000
#: A type's own name (``type.__name__`` read past any metaclass that would answer otherwise).
_TYPE_NAME: Any = type.__dict__["__name__"]


def assessed_on(data: Any) -> dt.date:
    """The assessment date of raw data, needed to find the version in force (before the data is validated).

    Only a ``str`` in the form YYYY-MM-DD or a ``datetime.date`` chooses the version, an instance of a subclass
    of either read as its plain value as the validator reads it (`ecei_rules.registry.choosing_date`);
    nothing of the value is called (no ``str()`` of it, no comparison, no method a subclass may override),
    whatever it is. Anything else is an AssessmentError at ``/assessed_on``: A001 when it is missing (or null),
    A004 for text in that form that is not a calendar date (``2021-02-30``, as the validator has it), A003
    otherwise (a datetime included), naming the kind of value given (its type's name for anything but JSON's
    values)."""
    value = dict.get(data, "assessed_on") if issubclass(type(data), dict) else None  # (not data's __class__)
    if value is None:
        raise AssessmentError([Diagnostic("A001", "the required field 'assessed_on' is missing (it decides "
                                          "which version is in force)", pointer="/assessed_on",
                                          suggestion=_misspelt(data, "assessed_on"))])
    found = choosing_date(value)
    if type(found) is dt.date:
        return found
    if type(found) is str:
        raise AssessmentError([Diagnostic("A004", f"{found!r} is not a calendar date", pointer="/assessed_on")])
    raise AssessmentError([Diagnostic("A003", f"expected a date (YYYY-MM-DD), got {_kind_of(value)}",
                                      pointer="/assessed_on")])


def _kind_of(value: Any) -> str:
    """What a value is, in words, for a message, found without calling anything of it: a plain string
    shown (40 characters at most), JSON's other values by their kind, anything else by its type's name."""
    kind = type(value)
    if kind is str:
        return repr(value if len(value) <= 40 else value[:37] + "...")
    named = {bool: "a boolean", int: "a number", float: "a number", Decimal: "a number", list: "a list",
             dict: "an object", dt.datetime: "a date and time (datetime)"}.get(kind)
    if named is not None:
        return named
    name = _TYPE_NAME.__get__(kind)  # the type's own name, even where a metaclass would say otherwise
    return f"a value of type {name if name.isascii() and name.isidentifier() else ascii(name)}"[:100]


def _misspelt(data: Any, key: str) -> str | None:
    """``did you mean 'assessed_on'?`` when the data holds a key close to the missing ``key``
    (``assesed_on``), naming the key found; None otherwise. Only plain strings of a length that could
    be close are compared (the first `MISSPELT_KEYS` of them)."""
    if not issubclass(type(data), dict):
        return None
    # a ratio of 0.6 or more needs a length within these bounds: the others could not match
    shortest, longest = len(key) * 3 // 7, len(key) * 7 // 3 + 1
    keys = itertools.islice((k for k in dict.keys(data) if type(k) is str and shortest <= len(k) <= longest),
                            MISSPELT_KEYS)
    found = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
    return f"'{found[0]}' is given: did you mean '{key}'?" if found else None


Resolver = Callable[[Any], tuple[Ruleset, Resolution]]
#: The types of the values a resolver that chooses by inputs remembers its choice by (hashed and compared).
_KEYED = frozenset({str, int, bool, float, Decimal, dt.date, type(None)})
#: How long a resolver remembers the version it chose for a date before asking the registry again.
RECHECK_SECONDS = 1.0
#: The most dates a resolver remembers at once (a batch spanning more starts again).
RESOLUTIONS_KEPT = 4096


def registry_resolver(registry: Registry, methodology: str | None = None,
                      version: str | None = None, *, allow_unpublished: bool = False) -> Resolver:
    """Choose, for raw assessment data, the pinned version or the one in force on assessed_on
    (drafts and withdrawn versions only with ``allow_unpublished``, for simulations); ``methodology``
    None: the registry's only one."""
    return _InForce(registry, methodology or registry.default_methodology(), version, allow_unpublished)


class _InForce:
    """A registry's resolver for a batch. It keeps the versions as they stood when it last looked, for
    RECHECK_SECONDS at most: then the registry lists the folder and reads the lock again, so that a
    version added, or a lock changed, is seen within that time even in the middle of a long batch, at
    the cost of a clock read per assessment instead of a directory listing and a stat. The resolution
    of each date is remembered as long."""

    def __init__(self, registry: Registry, methodology: str, version: str | None, allow_unpublished: bool) -> None:
        self.registry, self.methodology, self.version = registry, methodology, version
        self.allow_unpublished = allow_unpublished
        self.looked = float("-inf")
        self.selecting = False
        self.choose: Callable[[dt.date], tuple[Ruleset, Resolution]] | None = None
        self.inputs: tuple[str, ...] = ()  # what chooses the version of a methodology that selects by inputs
        self.memo: dict[Any, tuple[Ruleset, Resolution]] = {}  # by date, or by the values of those inputs

    def _look(self, now: float) -> None:
        """The registry as it stands now: the folder listed anew by the chooser (an unknown methodology
        stops here; a pinned version is looked up, listing it, by `Registry.resolve`)."""
        registry, methodology, unpublished = self.registry, self.methodology, self.allow_unpublished
        self.choose = None if self.version is not None else registry.chooser(methodology,
                                                                              allow_unpublished=unpublished)
        self.selecting = self.version is None and registry.selects(methodology, allow_unpublished=unpublished)
        self.inputs = registry.selection_inputs(methodology, allow_unpublished=unpublished) if self.selecting else ()
        self.memo = {}
        self.looked = now

    def _selected(self, data: Any) -> tuple[Ruleset, Resolution]:
        """The version `Registry.select` chooses, remembered by the values of the inputs it reads when each
        is one of JSON's scalars (a value of another type, a list, an object or a subclass, is never hashed
        nor compared here)."""
        values = tuple(value_at(data, path) for path in self.inputs)
        key: tuple[Any, ...] | None = values if all(type(v) in _KEYED for v in values) else None
        found = None
        if key is not None:
            try:
                found = self.memo.get(key)
            except TypeError:  # a signalling NaN cannot be hashed: not remembered
                key = None
        if key is None:
            return self.registry.select(self.methodology, data, allow_unpublished=self.allow_unpublished)
        if found is None:
            found = self.memo[key] = self.registry.select(self.methodology, data,
                                                          allow_unpublished=self.allow_unpublished)
        return found

    def __call__(self, data: Any) -> tuple[Ruleset, Resolution]:
        now = time.monotonic()
        if now - self.looked > RECHECK_SECONDS or len(self.memo) >= RESOLUTIONS_KEPT:
            self._look(now)
        if self.selecting:
            return self._selected(data)
        on = None if self.version is not None else assessed_on(data)
        found = self.memo.get(on)
        if found is None:
            if self.choose is None or on is None:
                found = self.registry.resolve(self.methodology, version=self.version,
                                              allow_unpublished=self.allow_unpublished)
            else:
                found = self.choose(on)
            self.memo[on] = found
        return found


def fixed_resolver(ruleset: Ruleset) -> Resolver:
    """Always the given ruleset (a file the caller named)."""
    where = f"the ruleset file {ruleset.path}" if ruleset.path else f"the ruleset {ruleset}"
    resolution = Resolution(method="given", reason=f"{where} was given" + (
        "" if ruleset.published else ": an unpublished ruleset (not resolved through a registry and its lock), "
        "so this is not an official label"))
    return _Given((ruleset, resolution))


@dataclass(frozen=True)
class _Given:
    """The resolver of a given ruleset: ``fixed``, whatever the data."""

    fixed: tuple[Ruleset, Resolution]

    def __call__(self, data: Any) -> tuple[Ruleset, Resolution]:
        return self.fixed


def decide(data: Any, *, registry: Registry | None = None, methodology: str | None = None,
           version: str | None = None) -> Decision:
    """Decide one raw assessment: pick the version (pinned, or in force on assessed_on), evaluate.

    Raises:
        AssessmentError: the assessment is invalid for the version.
        ResolutionError: no version answers (unknown methodology or version, date too early).
    """
    ruleset, resolution = registry_resolver(registry or Registry.shipped(), methodology, version)(data)
    return evaluate(ruleset, data, resolution=resolution)


@dataclass(frozen=True)
class Outcome:
    """A batch item's result: a decision or an error, never both."""

    index: int
    decision: Decision | None = None
    error: EceiRulesError | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed for this item (the evaluation contract)."""
        if self.decision is not None:
            return self.decision.to_json()
        return {"error": error_json(self.error, self.index)}

    def to_line(self) -> str:
        """The item's JSON line: a decision as canonical JSON (RFC 8785), or the error object."""
        if self.decision is not None:
            return self.decision.canonical_text()
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))


def error_json(error: EceiRulesError | None, index: int | None = None) -> dict[str, Any]:
    """``{"code", "message", "path", ...}`` for an error (the first problem, and all of them)."""
    if isinstance(error, AssessmentError) and error.diagnostics:
        first = error.diagnostics[0]
        out: dict[str, Any] = {"code": first.code, "message": first.message, "path": json_path(first.pointer)}
        if first.suggestion:
            out["suggestion"] = first.suggestion
        if len(error.diagnostics) > 1:
            out["problems"] = [{"code": d.code, "message": d.message, "path": json_path(d.pointer)}
                               for d in error.diagnostics]
    elif isinstance(error, ResolutionError):
        out = {"code": "R001", "message": str(error), "path": json_path(error.pointer or "/assessed_on")}
    elif isinstance(error, RulesetError) and error.diagnostics:  # the version that would decide is unusable
        first = error.diagnostics[0]
        out = {"code": first.code, "message": first.message, "path": "$.assessed_on", "file": first.file}
    else:
        out = {"code": "B001", "message": str(error), "path": "$"}
    if index is not None:
        out["line"] = index
    return out


def decide_many(items: Iterable[Item], resolve: Resolver) -> Iterator[Outcome]:
    """Decide every item in order; a bad item yields an error and the rest go on."""
    for item in items:
        if item.error is not None:
            yield Outcome(item.index, error=item.error)
            continue
        try:
            data = item.data.parse() if isinstance(item.data, RawLine) else item.data
            ruleset, resolution = resolve(data)
            yield Outcome(item.index, decision=evaluate(ruleset, data, resolution=resolution))
        except InputError as exc:  # the assessment, its date or the version it asks for: this item's error
            yield Outcome(item.index, error=exc)


@dataclass(frozen=True)
class ResolverSpec:
    """What a worker process needs to rebuild a resolver: one ruleset file, or a rulesets
    directory (None: the shipped rulesets) with the methodology, a pinned version and whether
    drafts may be used."""

    ruleset_file: str | None = None
    rulesets: str | None = None
    methodology: str | None = None  # None: the registry's only one
    version: str | None = None
    allow_unpublished: bool = False

    def build(self) -> Resolver:
        """The resolver this describes."""
        if self.ruleset_file is not None:
            return fixed_resolver(load_ruleset(self.ruleset_file))
        registry = Registry(Path(self.rulesets)) if self.rulesets is not None else Registry.shipped()
        return registry_resolver(registry, self.methodology, self.version, allow_unpublished=self.allow_unpublished)


def _build_resolver(spec: ResolverSpec) -> Resolver:
    """A pool worker's setup: the resolver it decides with (built once in each worker)."""
    return spec.build()


def _decide_chunk(resolve: Resolver, items: list[Item]) -> list[tuple[str, bool]]:
    """A pool worker's task: a chunk decided with the worker's resolver."""
    return list(decide_texts(items, resolve))


def _build_selecting(spec: ResolverSpec, fields: Fields) -> tuple[Resolver, Selection]:
    """A pool worker's setup when the members written are selected: its resolver and the writer of the
    selection (which works out each version's part once for all the worker's chunks)."""
    return spec.build(), Selection(fields)


def _decide_selected_chunk(worker: tuple[Resolver, Selection], items: list[Item]) -> list[tuple[str, bool]]:
    """A pool worker's task: a chunk decided with the worker's resolver, the selected members written."""
    resolve, selection = worker
    return list(decide_texts(items, resolve, fields=selection))


def decide_texts(items: Iterable[Item], resolve: Resolver, *, fields: Fields | Selection | None = None,
                 fast: bool = True) -> Iterator[tuple[str, bool]]:
    """Each item's JSON line and whether it is an error, in order: what
    ``decide_many`` gives as lines, with each decision written directly as canonical JSON
    (`ecei_rules.engine.evaluate.decision_text`), without building its models; with ``fields``,
    only the members selected (`selected_text`; a selection without the trace is written by a
    `Selection`, which works out once per version what it writes; given one, it is used as it is).
    A line orjson reads as the exact parser does is read by it (see `_item_text`). With a selection
    without the trace, each `RawLine` is first tried on the fast line path (`Selection.fast`), unless
    ``fast`` is False (the caller tried it). An error's line is the same either way."""
    write: Callable[..., str] = decision_text
    if fields is not None:
        write = fields if isinstance(fields, Selection) else Selection(fields)
    # a line is tried on the fast line path first (unless ``fast`` is False), when what is selected is
    # written without the trace
    quick = write.fast if fast and write.__class__ is Selection and write.untraced else None
    for item in items:
        if item.error is not None:
            yield Outcome(item.index, error=item.error).to_line(), True
            continue
        if quick is not None and item.data.__class__ is RawLine:
            text = quick(item.data, resolve)
            if text is not None:
                yield text, False
                continue
        try:
            yield _item_text(item.data, resolve, write), False
        except (AssessmentError, ResolutionError) as exc:
            yield Outcome(item.index, error=exc).to_line(), True


def _item_text(data: Any, resolve: Resolver, write: Callable[..., str]) -> str:
    """An item's decision written by ``write`` (ruleset, data, resolution=...). A line is read by orjson
    when that surely gives the values the exact parser gives (`quick_json`) and the version deciding
    it types every input; anything that fails that way is read and decided again exactly, so that an
    error is the one it always was."""
    if data.__class__ is RawLine:
        quick = data.quick()
        if quick is not None:
            try:
                ruleset, resolution = resolve(quick)
                if ruleset.plan.validator.typed:
                    return write(ruleset, quick, resolution=resolution)
            except (AssessmentError, ResolutionError):
                pass
        data = data.parse()
    ruleset, resolution = resolve(data)
    return write(ruleset, data, resolution=resolution)


def selected_text(ruleset: Ruleset, data: Any, fields: Fields, *, resolution: Resolution | None = None) -> str:
    """The canonical JSON text of the members ``fields`` selects of the decision of raw ``data``: each
    member's text as in ``evaluate(...).canonical_text()``, in the same order. A selection of members
    written without the trace (`ecei_rules.engine.serialise.UNTRACED`: the label, its validity, what
    identifies the version and the subject) is decided in label mode, without the trace; any other
    is cut from the whole decision's text (`decision_text`, parsed).

    Raises:
        AssessmentError: the assessment does not match the version's declared inputs.
    """
    return Selection(fields)(ruleset, data, resolution=resolution)


class Selection:
    """The writer of the members ``fields`` selects of each decision (`selected_text`), called as
    ``(ruleset, data, resolution=...)``. A selection without the trace is written member by member
    in label mode, with what depends on the version alone (the order of the members, the texts of its
    methodology, version and hash, its validator and label function) worked out once per version."""

    def __init__(self, fields: Fields) -> None:
        self.fields, self.untraced = fields, fields.untraced
        self.versions: dict[int, _Untraced] = {}  # by id of the ruleset (the entry keeps it alive)
        #: the fast line path's versions in force, by the text of a date, and when the resolver looked
        self.days: dict[bytes, tuple[dt.date | None, _Untraced, Resolution]] = {}
        self.looked = float("nan")

    def __call__(self, ruleset: Ruleset, data: Any, *, resolution: Resolution | None = None) -> str:
        fields = self.fields
        if not self.untraced:  # canonical text parses to the values it was written from (by orjson alike:
            # its numbers are doubles in their shortest form, its strings valid text)
            written = decision_text(ruleset, data, resolution=resolution)
            return fields.text(json.loads(written) if _orjson is None or len(written) > ORJSON_MAX_CHARS
                               else _orjson.loads(written))
        return self._untraced(ruleset).text(data, resolution)

    def _untraced(self, ruleset: Ruleset) -> _Untraced:
        """The version's writer, worked out once."""
        found = self.versions.get(id(ruleset))
        if found is None or found.ruleset is not ruleset:
            if len(self.versions) >= RESOLUTIONS_KEPT:
                self.versions.clear()
            found = self.versions[id(ruleset)] = _Untraced(ruleset, self.fields)
        return found

    def fast(self, line: RawLine, resolve: Resolver) -> str | None:
        """A JSON line's selected members on the fast line path (`fast_lines`), or None."""
        return self.fast_lines([line.text.encode("utf-8", "surrogatepass")], resolve)[0]

    def fast_lines(self, lines: list[bytes], resolve: Resolver, exact: bool = False) -> list[str | None]:
        """The selected members of the decision of each of ``lines`` (JSON lines, their bytes) on the fast line
        path (`_Untraced.fast`), or None for a line it does not decide (then the caller decides it exactly). The
        version is the one in force on the date the line's ``assessed_on`` seems to hold (`_in_force`,
        remembered by the date's text), and the line is decided by it only when the line read holds that very
        date; a registry that chooses by inputs, and a selection with the trace, are left to the exact path.
        ``exact``: the caller knows that no line has a number of 16 digits (`exact_floats`), so none is
        scanned for one."""
        kind = resolve.__class__
        if not self.untraced or (kind is not _InForce and kind is not _Given):
            return [None] * len(lines)
        scan = not exact
        texts: list[str | None] = []
        add, days = texts.append, self.days
        forced = cast(_InForce, resolve)
        if kind is _Given:
            ruleset, resolution = resolve.fixed  # type: ignore[attr-defined]
            writer = self._untraced(ruleset)
            return [writer.fast(line, resolution, None, scan) for line in lines]
        dated = forced.version is None
        fresh = forced.looked == self.looked and time.monotonic() - forced.looked <= RECHECK_SECONDS
        for line in lines:
            key = _peek_date(line) if dated else b""
            found = days.get(key) if fresh and key is not None else None
            if found is None:
                found = self._in_force(line, forced)
                fresh = forced.looked == self.looked
                if found is None:
                    add(None)
                    continue
            day, writer, resolution = found
            add(writer.fast(line, resolution, day, scan))
        return texts

    def _in_force(self, raw: bytes, resolve: _InForce) -> tuple[dt.date | None, _Untraced, Resolution] | None:
        """(the date, the writer of the version in force on it and its resolution) for a line whose
        ``assessed_on`` seems to hold that date (any date, for a pinned version), or None. Remembered by
        the date's text for as long as the resolver's look at the registry stands (asked again when it
        is due to look again, so that it does)."""
        key = _peek_date(raw) if resolve.version is None else b""
        if key is None:
            return None
        if resolve.looked == self.looked and time.monotonic() - resolve.looked <= RECHECK_SECONDS:
            found = self.days.get(key)
            if found is not None:
                return found
        try:
            day = dt.date.fromisoformat(key.decode("ascii")) if key else None
            ruleset, resolution = resolve({"assessed_on": day})
        except (ValueError, AssessmentError, ResolutionError, RulesetError):
            return None
        if resolve.selecting:  # the registry, looked at again, chooses by inputs
            return None
        if resolve.looked != self.looked or len(self.days) >= RESOLUTIONS_KEPT:
            self.days.clear()
            self.looked = resolve.looked
        found = self.days[key] = (day, self._untraced(ruleset), resolution)
        return found


def _peek_date(raw: bytes) -> bytes | None:
    """The ten bytes of the date the first ``"assessed_on"`` of a JSON line seems to hold (a hint, which
    the fast line path checks against the assessment it reads), or None."""
    at = raw.find(b'"assessed_on"')
    if at < 0:
        return None
    start = raw.find(b'"', at + 13, at + 20) + 1
    return raw[start:start + 10] if start else None


#: The most texts of decisions an `_Untraced` keeps (a population's decisions have few distinct ones).
TEXTS_KEPT = 4096

#: What a member of a selection without the trace is made of (see `_Untraced`): its place in a decision's
#: row of values, or a constant of the version.
_LABEL, _FROM, _UNTIL, _RULE, _INPUTS, _EXPIRES, _RESOLUTION, _SUBJECT, _CONSTANT = range(9)


class _Untraced:
    """A selection without the trace of one version's decisions: the members in the order RFC 8785
    writes them (UTF-16 order of their keys), each with what it is made of, and the version's
    constants written once; each decision is worked out in label mode only as far as the members need
    (the validity rule and its inputs only when selected, or for a label whose validity has no end)."""

    def __init__(self, ruleset: Ruleset, fields: Fields) -> None:
        deciding = evaluator(ruleset)
        plan = deciding.plan
        self.ruleset, self.plan = ruleset, plan
        self.validate = ruleset.plan.validator.validate_unordered
        self.label_only = deciding.label_only
        self.derived = bool(plan.derived)
        kinds = {"label": _LABEL, "valid_from": _FROM, "valid_until": _UNTIL, "resolution": _RESOLUTION,
                 plan.subject.key: _SUBJECT, "validity_rule": _RULE, "validity_inputs": _INPUTS,
                 "validity_expires": _EXPIRES, "methodology": _CONSTANT, "version": _CONSTANT,
                 "ruleset_sha256": _CONSTANT}
        constants = {"methodology": plan.doc.methodology, "version": plan.doc.version,
                     "ruleset_sha256": ruleset.sha256}
        chosen = fields.select({key: {} for key in kinds})  # the keys selected, as the selection names them
        subs = dict(fields.members)
        members = []
        for key in sorted(chosen, key=lambda k: k.encode("utf-16-be")):
            sub = subs.get(key, subs.get("subject")) if kinds[key] == _SUBJECT else subs.get(key)
            members.append((f"{_member(key)}:", kinds[key], sub,
                            _member(constants[key]) if key in constants else ""))
        self.members = tuple(members)
        chosen_kinds = {kind for _, kind, _, _ in members}
        self.validity, self.inputs = bool({_RULE, _INPUTS} & chosen_kinds), _INPUTS in chosen_kinds
        self.resolved, self.subject = _RESOLUTION in chosen_kinds, _SUBJECT in chosen_kinds
        self.lines: LinePlan | Literal[False] | None = None  # the fast line path, built on first use (False: none)
        #: whether each member is the label, a date of its validity or a constant: then a decision's text
        #: is one of `texts`, by (label, valid_from, valid_until), or by (label, valid_until) when valid_from is
        #: not selected (a text does not depend on it, and it is most often the day assessed)
        self.simple = chosen_kinds <= {_LABEL, _FROM, _UNTIL, _CONSTANT}
        self.by_start = _FROM in chosen_kinds
        self.texts: dict[tuple[Any, ...], str] = {}

    def text(self, data: Any, resolution: Resolution | None) -> str:
        """The selected members of raw ``data``'s decision (``resolution`` None: given)."""
        env = self.validate(data) if data.__class__ is dict else None
        if env is None:
            env = dict(validated_data(self.ruleset, data))
        return self._write(env, self._validity(env), resolution)

    def fast(self, line: bytes, resolution: Resolution | None, day: dt.date | None, scan: bool = True) -> str | None:
        """The selected members of a JSON line's decision on the fast line path, or None when that
        path does not decide it: the line not read there, its ``assessed_on`` not ``day`` (the date
        its version was chosen by; None: any), or a validity that needs the exact inputs (selected,
        or a label that never expires). ``scan`` False: the line has no number of 16 digits."""
        if self.validity:  # the validity rule and its inputs are written from the exact inputs
            return None
        lines = self.lines
        if lines is None:
            lines = self.lines = line_plan(self.plan, self.ruleset.plan.validator.root) or False
        if lines is False:
            return None
        found = lines.decide(line, scan)
        if found is None:
            return None
        env, decided = found
        if day is not None and env.get("assessed_on") != day:
            return None
        label, valid_from, valid_until = decided
        if label != NONE_LABEL and valid_until is None:  # a label that never expires: its rule is written
            return None
        if self.simple:
            key = decided if self.by_start else (label, valid_until)
            text = self.texts.get(key)
            return self.simple_text(decided, key) if text is None else text
        # the resolution or the subject: as the exact path writes them
        return self._write(env, (label, None if valid_from is None else valid_from.isoformat(),
                                 None if valid_until is None else valid_until.isoformat(), None, {}, None), resolution)

    def simple_text(self, decided: tuple[str, dt.date | None, dt.date | None], kept: tuple[Any, ...]) -> str:
        """The text of a `simple` selection of a decision that is (label, valid_from, valid_until), kept in
        `texts` under ``kept`` (`TEXTS_KEPT` at most)."""
        label, valid_from, valid_until = decided
        parts = []
        for key, kind, _, constant in self.members:
            if kind == _LABEL:
                value = _member(label)
            elif kind == _CONSTANT:
                value = constant
            else:
                date = valid_until if kind == _UNTIL else valid_from
                value = "null" if date is None else f'"{date.isoformat()}"'  # as _member writes it
            parts.append(key + value)
        text = "{" + ",".join(parts) + "}"
        if len(self.texts) >= TEXTS_KEPT:
            self.texts.clear()
        self.texts[kept] = text
        return text

    def _write(self, env: dict[str, Any], validity: tuple[str, str | None, str | None, Any, dict[str, Any], Any],
               resolution: Resolution | None) -> str:
        """The selected members, from the validated ``env`` and the label's `_validity`."""
        row: list[Any] = [*validity, None, None]
        if self.resolved:
            given_by = resolution or given(self.ruleset.published)
            row[_RESOLUTION] = {"method": given_by.method, "reason": given_by.reason}
        if self.subject:
            row[_SUBJECT] = subject_id(self.plan, env)
        parts = []
        for key, kind, sub, constant in self.members:
            if kind == _CONSTANT:
                parts.append(key + constant)
                continue
            value = row[kind]
            if kind == _EXPIRES and value is None:  # validity_expires: only for a label that never expires
                continue
            if sub is not None and value.__class__ is dict:
                value = {k: value[k] for k in sub if k in value}
            parts.append(key + _member(value))
        return "{" + ",".join(parts) + "}"

    def _validity(self, env: dict[str, Any]) -> tuple[str, str | None, str | None, Any, dict[str, Any], Any]:
        """(label, valid_from, valid_until (as text), the validity rule, its inputs, False for a label that
        never expires else None), the rule and the inputs worked out only when selected or when the validity
        has no end."""
        if self.derived:  # the validity may read them: the outline puts them into env
            label, valid_from, valid_until, _, _ = outline(self.ruleset, env)
        else:  # only the conditions the label needs, from the highest tier down
            label, valid_from, valid_until = self.label_only(env)
        rule = expires = None
        inputs: dict[str, Any] = {}
        if label != NONE_LABEL and (valid_until is None or self.validity):
            valid_from, valid_until, rule, read = awarded(self.plan, env, label)
            if self.inputs:
                inputs = {str(k): to_json(v) for k, v in read.items()}
            expires = False if never_expires(self.plan, rule) else None
        return (label, None if valid_from is None else valid_from.isoformat(),
                None if valid_until is None else valid_until.isoformat(), rule, inputs, expires)


def _member(value: Any) -> str:
    """One value's canonical JSON text: a plain string (printable ASCII without a quote or a backslash) and
    null directly, anything else by the canonical writer."""
    if value.__class__ is str:
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return f'"{value}"'
    elif value is None:
        return "null"
    return canonical_json(value).decode("utf-8")


def decide_lines(items: Iterable[Item], spec: ResolverSpec, *, jobs: int | None = None,
                 chunk_size: int = 200, resolve: Resolver | None = None,
                 fields: Fields | None = None) -> Iterator[tuple[str, bool]]:
    """Each item's JSON line (see `Outcome.to_line`) and whether it is an error, in input
    order, decided by ``jobs`` worker processes (None: one per core; 1: in this process).
    ``resolve``, when given, is ``spec``'s resolver already built, for deciding in this process.
    ``fields``, when given, selects the members of each decision written (`selected_text`).

    The input is streamed: at most a few chunks per worker are in flight, each of at most
    ``chunk_size`` lines and about `CHUNK_CHARS` characters, so memory does not grow with
    the batch, nor with the length of its lines. The workers are capped by the usable cores and
    the available memory (`ecei_rules.core.workers.worker_count`). A bad item gives its
    error line and the batch goes on.
    """
    # never more workers than usable cores, nor than the available memory holds
    workers, _ = worker_count(None if jobs is None else max(1, jobs))
    stream = iter(items)
    head = list(itertools.islice(stream, 2 * chunk_size)) if workers > 1 else []
    if workers == 1 or len(head) < 2 * chunk_size:  # a small batch: starting workers would cost more
        yield from decide_texts(itertools.chain(head, stream), resolve or spec.build(), fields=fields)
        return
    if fields is not None:
        yield from ordered_map(_decide_selected_chunk, itertools.chain(head, stream), workers=workers,
                               chunk_size=chunk_size, setup=_build_selecting, setup_args=(spec, fields),
                               size=_text_size, max_size=CHUNK_CHARS)
        return
    yield from ordered_map(_decide_chunk, itertools.chain(head, stream), workers=workers, chunk_size=chunk_size,
                           setup=_build_resolver, setup_args=(spec,), size=_text_size, max_size=CHUNK_CHARS)


def _text_size(item: Item) -> int:
    """The characters of an item's line, for sizing chunks (0 for an item already parsed)."""
    return len(item.data.text) if item.data.__class__ is RawLine else 0


# --- what the command line asks of the library: one reference syntax, resolvers ready to decide ---


def split_version(version: str | None, methodology: str | None = None) -> tuple[str | None, str | None]:
    """The methodology and the version spec meant by a version as a person writes it: ``3.0.1`` or
    ``^3`` (of ``methodology``; None when none is named: the registry's only one), or a whole
    reference ``energy-label@3.0.1`` (its methodology, which must then be ``methodology`` when one
    is given).

    >>> split_version("energy-label@3.0.1"), split_version("3.0.1", "energy-label"), split_version("3.0.1")
    (('energy-label', '3.0.1'), ('energy-label', '3.0.1'), (None, '3.0.1'))

    Raises ResolutionError for a reference that is not one, or that names another methodology.
    """
    if version is None or "@" not in version:
        return methodology, version
    named, spec = parse_reference(version)
    if methodology is not None and named != methodology:
        raise ResolutionError(f"the version '{version}' names the methodology {named}, not {methodology}")
    return named, spec


def named_ruleset(name: str, registry: Registry, methodology: str | None = None) -> Ruleset:
    """The ruleset a person names: a ruleset file (``.yaml``, or any path that exists), a reference
    (``energy-label@2.0.0``, ``energy-label@^2``) or a version of ``methodology`` (``2.0.0``; None:
    the registry's only methodology). Drafts and
    withdrawn versions are allowed (a comparison, not a decision). Raises ResolutionError or RulesetError."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_ruleset(path)
    chosen, spec = split_version(name if "@" in name else f"{methodology or registry.default_methodology()}@{name}")
    return registry.lookup(f"{chosen}@{spec or '>=0.0.0'}", allow_unpublished=True)


def ready_resolver(spec: ResolverSpec, *, sample: Path | None = None, build: bool = True) -> Resolver:
    """The resolver ``spec`` describes, with what it will decide under loaded now, so that an unknown
    methodology or version (ResolutionError) or a broken ruleset (RulesetError) stops the caller once,
    before the first assessment: the ruleset file; else the pinned version; else, given ``sample`` (a
    file of one assessment), the version its assessment is decided under (another broken version does
    not stop it); else, with ``build``, every version of the methodology (a batch); else none is built,
    and only the methodology is checked."""
    if spec.ruleset_file is not None:
        return spec.build()
    registry = Registry(Path(spec.rulesets)) if spec.rulesets is not None else Registry.shipped()
    methodology = spec.methodology or registry.default_methodology()
    resolve = registry_resolver(registry, methodology, spec.version, allow_unpublished=spec.allow_unpublished)
    versions = registry.versions(methodology)  # an unknown methodology stops here
    if spec.version is not None:
        registry.lookup(f"{methodology}@{spec.version}", allow_unpublished=spec.allow_unpublished)
    elif sample is not None:
        _resolve_first(sample, resolve)
    elif build:
        for version in versions:
            registry.get(methodology, version)
    return resolve


def _resolve_first(path: Path, resolve: Resolver) -> None:
    """Choose (and so load) the version of a file's first assessment, letting a RulesetError out; any
    other problem (unreadable file, no date, no version in force) is reported where the assessment is
    decided, as in a batch."""
    import contextlib

    with contextlib.suppress(AssessmentError, ResolutionError, OSError):
        item = next(iter(read_assessments(path)), None)
        if item is not None and item.error is None:
            resolve(item.data)


def selected_standard_input(stream: Any, resolve: Resolver, fields: Fields) -> Iterator[tuple[str, bool]]:
    """`selected_lines` of a byte stream such as standard input (one JSON document over several lines
    is read as `read_standard_input` reads it)."""
    head, document = peek_stream(stream)
    if document:
        yield from decide_texts(_standard_input(head, document, stream, raw=True), resolve, fields=fields)
        return
    yield from selected_lines(Path("<stdin>.jsonl"), resolve, fields, stream=_Replayed(head, stream))


def read_standard_input(stream: Any, *, raw: bool = False) -> Iterator[Item]:
    """The assessments of a byte stream such as standard input: JSON Lines (streamed, one assessment a
    line, as :func:`read_assessments` reads a ``.jsonl`` file), or one JSON document written over several
    lines (a pretty-printed ``.json`` file), told apart by a first line that is an unfinished JSON value."""
    head, document = peek_stream(stream)
    yield from _standard_input(head, document, stream, raw=raw)


def _standard_input(head: list[bytes], document: bool, stream: Any, *, raw: bool) -> Iterator[Item]:
    """`read_standard_input` once the stream was peeked at (``head``, ``document``: `peek_stream`)."""
    if document:
        import io

        data = b"".join(head) + stream.read(MAX_DOCUMENT_BYTES + 1)
        yield from read_assessments(Path("<stdin>.json"), io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        return
    lines: Any = _Replayed(head, stream)  # what read_assessments asks of a stream: readline
    yield from read_assessments(Path("<stdin>.jsonl"), lines, raw=raw)


def peek_stream(stream: Any) -> tuple[list[bytes], bool]:
    """The lines read from a byte stream up to its first that is not blank, and whether that line begins
    one JSON document written over several lines (it is an unfinished JSON object or array)."""
    head: list[bytes] = []
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return head, False
        head.append(line)
        text = line.decode("utf-8", "replace").strip()
        if text:
            break
    if not text.startswith(("{", "[")):
        return head, False
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return head, exc.pos >= len(text)  # the text ran out before the value ended
    except RecursionError:
        return head, False
    return head, False


class _Replayed:
    """A byte stream that gives back the lines already read from it before reading on."""

    def __init__(self, head: list[bytes], stream: Any) -> None:
        self.head, self.stream = list(head), stream

    def readline(self, limit: int = -1) -> bytes:
        if self.head:
            return self.head.pop(0)
        line: bytes = self.stream.readline(limit)
        return line

    def read1(self, size: int = -1) -> bytes:
        """What the stream holds now, up to ``size`` bytes (a line read before first), as
        ``BufferedReader.read1`` gives it (a stream without it: a line of ``size`` bytes at most)."""
        if self.head:
            return self.head.pop(0)
        read = getattr(self.stream, "read1", None)
        data: bytes = read(size) if read is not None else self.stream.readline(size)
        return data
