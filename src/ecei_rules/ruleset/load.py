"""Load ruleset files: safe YAML with positions, ``extends`` as a merge patch, validation
against the document model, compilation, located diagnostics and the content hash.

``check_ruleset`` returns every diagnostic; ``load_ruleset`` raises one
:class:`~ecei_rules.errors.RulesetError` that holds them all.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import threading
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import semver
from pydantic import BaseModel, TypeAdapter, ValidationError

from ecei_rules.core.canonical import canonical_bytes, sha256_hex
from ecei_rules.core.files import FileReadError, read_limited
from ecei_rules.core.pointers import pointer_join
from ecei_rules.errors import Diagnostic, RulesetError, as_written, did_you_mean
from ecei_rules.language.expr import Parses
from ecei_rules.ruleset.check import CheckedRuleset, check_document, check_inputs, labels_from_problems
from ecei_rules.ruleset.inputs import AssessmentValidator
from ecei_rules.ruleset.model import RulesetDocument
from ecei_rules.ruleset.safe_yaml import MAX_BYTES, parse_yaml
from ecei_rules.ruleset.salvage import Salvage, remove_key, salvage

#: Keys a version never inherits through ``extends``: they describe the version itself.
NOT_INHERITED = frozenset(
    {"version", "status", "effective_from", "announced_on", "supersedes", "approval", "description",
     "extends", "tests", "tests_from"}
)
#: Keys that do not take part in the content hash (they decide nothing).
NOT_HASHED = frozenset({"tests", "fixtures", "status", "extends", "tests_from"})
#: How many versions deep the chain beneath a version may go: each ``extends`` base and each version
#: ``tests_from`` lends from is one more. A property of the file (its longest chain), the same
#: whichever file is loaded first, alone or in a registry; it also bounds how deep loading recurses.
MAX_EXTENDS_DEPTH = 16
#: What ``extends`` may name: a semantic version (the base is ``<version>.yaml`` beside the file).
_VERSION = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
                      r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")


class Loc(NamedTuple):
    """Where a value stands: file, 1-based line and column, and the YAML scalar style (a tuple: one
    is made for every value and key of a file, and a tuple is made fastest)."""

    file: str | None
    line: int
    column: int
    style: str | None = None


@dataclass
class Where:
    """Locations of the values and keys of a (possibly merged) document, by JSON pointer."""

    values: dict[str, Loc] = field(default_factory=dict)
    keys: dict[str, Loc] = field(default_factory=dict)
    texts: dict[str | None, list[str]] = field(default_factory=dict)

    def purge(self, *pointers: str) -> None:
        """Drop the positions at each of ``pointers`` and beneath it (one pass over each table)."""
        gone = set(pointers)
        if not gone:
            return
        for table in (self.values, self.keys):
            for key in [k for k in table if _within(k, gone)]:
                del table[key]

    def locate(self, pointer: str, *, key: bool = False) -> Loc | None:
        probe = pointer
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe.rsplit("/", 1)[0]


class EngineSlot:
    """The place a ruleset keeps what the engine builds for it (its runtime plan; the reference
    evaluator's parsed conditions), built on first use and owned by that one ruleset object.
    Nothing in ``ruleset/`` reads it; ``lock`` lets the engine build it once when threads share
    the ruleset."""

    __slots__ = ("lock", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None

    def built(self, build: Callable[[], Any]) -> Any:
        """The value kept here, made by ``build`` on first use (once, when threads share it)."""
        found = self.value
        if found is None:
            with self.lock:
                found = self.value
                if found is None:
                    found = self.value = build()
        return found


@dataclass(frozen=True)
class Ruleset:
    """A loaded and checked ruleset version."""

    document: RulesetDocument
    sha256: str
    path: Path | None
    #: what the checks compiled: the input tree and validator, each condition, composites in order
    plan: CheckedRuleset = field(repr=False, compare=False)
    warnings: tuple[Diagnostic, ...] = ()
    #: True for a version a registry handed out after checking it against its published lock;
    #: a decision under any other (a file loaded by path, a draft) says it is unpublished.
    published: bool = field(default=False, compare=False)
    #: the engine's runtime plan for this very object (a copy made with ``dataclasses.replace``
    #: starts with an empty one)
    engine: EngineSlot = field(init=False, default_factory=EngineSlot, repr=False, compare=False)
    #: the reference evaluator's reading of this very object's conditions (the oracle's own parse)
    reference: EngineSlot = field(init=False, default_factory=EngineSlot, repr=False, compare=False)

    @property
    def methodology(self) -> str:
        return self.document.methodology

    @property
    def version(self) -> str:
        return self.document.version

    def __str__(self) -> str:
        return f"{self.methodology}@{self.version} (sha256 {self.sha256[:12]})"


@dataclass
class _Raw:
    data: Any
    where: Where
    diagnostics: list[Diagnostic]
    #: a version that extends another: what it was merged from
    origin: _Origin | None = None
    #: a chain of ``extends`` that loops (resolved paths, the first also last), passed back up to
    #: the file it starts from, which reports it once
    loop: tuple[str, ...] | None = None
    #: the pointers of the tests an earlier version lends this one (``tests_from``): their problems
    #: are that version's, never caused by this version's patch of its ``extends`` base
    lent: frozenset[str] = frozenset()
    #: how many versions deep the chain beneath this one goes (``extends`` and ``tests_from``)
    height: int = 0
    #: a base or lender whose chain goes deeper than the file that started the load may reach: passed
    #: back up to that file, which reports it once, at its own ``extends`` or ``tests_from``
    deep: bool = False


@dataclass(frozen=True)
class _Origin:
    """The resolved base of a version, the base's file, and the version's own parse (the patch)."""

    base: _Raw
    base_path: Path
    patch: _Raw


#: The files one load has read, by the path as named: each file is read once in a load, however
#: many versions of the load read it (as a base, a lender, or to check a remembered parse).
_Reads = dict[str, tuple[str | None, list[Diagnostic]]]


def _read_once(path: Path, reads: _Reads) -> tuple[str | None, list[Diagnostic]]:
    """``_read(path)``, read once in the load ``reads`` belongs to."""
    name = str(path)
    found = reads.get(name)
    if found is None:
        found = reads[name] = _read(path)
    return found


def _read(path: Path) -> tuple[str | None, list[Diagnostic]]:
    name = str(path)
    try:  # opened once, a regular file only, at most MAX_BYTES read whatever its size says
        raw = read_limited(path, MAX_BYTES, "file")
    except FileReadError as exc:
        if exc.too_large:
            return None, [Diagnostic("E005", exc.message, name, suggestion="split the methodology, or check "
                                     "that this is the ruleset you meant")]
        return None, [Diagnostic("E001", exc.message, name)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
        return None, [Diagnostic("E001", f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})", name, line,
                                 column, "", "save the file as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, []


def _parse(text: str, file: str | None) -> _Raw:
    doc = parse_yaml(text, file)
    where = Where(texts={file: text.splitlines()})
    styles = doc.positions.styles
    where.values = {pointer: Loc(file, line, col, styles.get(pointer))
                    for pointer, (line, col) in doc.positions.values.items()}
    where.keys = {pointer: Loc(file, line, col) for pointer, (line, col) in doc.positions.keys.items()}
    diags = list(doc.diagnostics)
    if not diags and not isinstance(doc.data, dict):
        diags.append(Diagnostic("E103", "a ruleset must be a YAML mapping (key: value lines)", file, 1, 1))
    return _Raw(doc.data if isinstance(doc.data, dict) else None, where, diags)


def _within(pointer: str, tops: set[str]) -> bool:
    """Whether ``pointer`` is one of ``tops`` or beneath one of them."""
    while pointer not in tops:
        cut = pointer.rfind("/")
        if cut < 0:
            return False
        pointer = pointer[:cut]
    return True


def _merge(base: Any, patch: Any, pointer: str, where: Where) -> Any:
    """RFC 7396 merge patch; keeps ``where`` in step (replaced subtrees lose base positions)."""
    replaced: list[str] = []
    merged = _patched(base, patch, pointer, replaced)
    where.purge(*replaced)
    return merged


def _patched(base: Any, patch: Any, pointer: str, replaced: list[str]) -> Any:
    """``base`` merged with ``patch``; the pointers of the values the patch replaces or deletes added to
    ``replaced``."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        replaced.append(pointer)
        return _copied(patch)
    out = dict(base)
    for key, value in patch.items():
        child = pointer_join(pointer, key)
        if value is None:
            out.pop(key, None)
            replaced.append(child)
        elif key in out:
            out[key] = _patched(out[key], value, child, replaced)
        else:
            out[key] = _copied(value)
    return out


def _copied(value: Any) -> Any:
    """A copy of parsed YAML data, as ``copy.deepcopy`` makes it: each mapping and list anew, the
    values in them (text, numbers, dates, all immutable) shared. Parsed data shares no mapping or
    list between two places (anchors and aliases are refused)."""
    if type(value) is dict:
        return {k: _copied(v) for k, v in value.items()}
    if type(value) is list:
        return [_copied(v) for v in value]
    return value


def _base_of(path: Path | None, target: Any) -> Path | tuple[str, str, str | None]:
    """The file of the base version ``extends`` names, or why there is none: (code, message,
    suggestion)."""
    if not isinstance(target, str):
        return "E103", "'extends' names a version, e.g. extends: 1.2.0", None
    if path is None:
        return "E109", "'extends' needs a file on disk to find its base", None
    if not _VERSION.fullmatch(target):
        # a version of this methodology, never a path: nothing outside the file's own folder is read
        shown = repr(target[:60] + ("..." if len(target) > 60 else ""))
        return ("E109", f"'extends' names a version of this methodology (its file in the same folder), not a "
                f"path: got {shown}", "write the version, e.g. extends: 1.2.0")
    base_path = path.parent / f"{target}.yaml"
    key = str(base_path.resolve())
    if not base_path.exists():
        return ("E109", f"the base version '{target}' was not found ({base_path}); {_versions_here(path)}",
                did_you_mean(target, (p.stem for p in path.parent.glob("*.yaml") if p != path)))
    if Path(key).parent != path.resolve().parent:  # a link out of the folder is not one of its versions
        return "E109", f"the base version '{target}' ({base_path}) links outside the methodology's folder", None
    return base_path


def _versions_here(path: Path) -> str:
    """The versions the folder holds, in words (for a base that is not there)."""
    found = sorted((p.stem for p in path.parent.glob("*.yaml") if p != path and semver.Version.is_valid(p.stem)),
                   key=semver.Version.parse)
    if not found:
        return "the folder holds no other version"
    return "the versions in this folder: " + ", ".join(found[:12]) + (", ..." if len(found) > 12 else "")


def _inherit(base: _Raw, base_path: Path, raw: _Raw) -> _Raw:
    """``raw`` merged as a patch over what it inherits of ``base``, with positions of both."""
    inherited = {k: v for k, v in base.data.items() if k not in NOT_INHERITED}
    where = Where(texts={**base.where.texts, **raw.where.texts})
    own = tuple(f"/{k}" for k in NOT_INHERITED)  # a pointer at or beneath one of those keys
    beneath = tuple(f"/{k}/" for k in NOT_INHERITED)
    for table_name in ("values", "keys"):
        table = getattr(base.where, table_name)
        getattr(where, table_name).update(
            {p: v for p, v in table.items() if not (p.startswith(beneath) or p in own)}
        )
    merged = _merge(inherited, raw.data, "", where)
    # positions of the version's own file win wherever it says something
    where.values.update(raw.where.values)
    where.keys.update(raw.where.keys)
    return _Raw(merged, where, base.diagnostics + raw.diagnostics, _Origin(base, base_path, raw),
                height=max(raw.height, base.height + 1))


def _too_deep(what: str) -> str:
    return (f"the chain of versions beneath this one (its '{what}', and each 'extends' and 'tests_from' beneath "
            f"it) is more than {MAX_EXTENDS_DEPTH} versions deep")


#: what to do about a chain too deep
_TOO_DEEP_HINT = "let a version of the chain stand on its own: written out in full, without 'extends' or 'tests_from'"


def _resolve_extends(path: Path | None, raw: _Raw, chain: tuple[str, ...], cache: ParseCache | None = None,
                     reads: _Reads | None = None) -> _Raw:
    """``raw`` merged over its base. A base that cannot be had (missing, looping, unreadable, or
    more than ``MAX_EXTENDS_DEPTH`` versions deep) is one problem, reported once where it is:
    nothing of the version is checked past it (no cascade)."""
    data = raw.data
    if data is None or "extends" not in data:
        return raw
    loc = raw.where.locate("/extends")

    base_path = _base_of(path, data["extends"])
    if isinstance(base_path, tuple):
        refusal: tuple[str, str, str | None] = base_path
    else:
        key = str(base_path.resolve())
        base = _Raw(None, Where(), [], loop=(*chain[chain.index(key):], key)) if key in chain else \
            _Raw(None, Where(), [], deep=True) if len(chain) > MAX_EXTENDS_DEPTH else \
            _load_raw(base_path, (*chain, key), cache, reads)
        if base.deep:
            if len(chain) > 1:  # the file that started the load says it, once
                return _Raw(None, raw.where, [], deep=True)
            refusal = "E109", _too_deep("extends"), _TOO_DEEP_HINT
        elif base.data is not None:
            return _inherit(base, base_path, raw)
        elif (unusable := _unusable(base, data["extends"], chain)) is None:
            # the base's own problems, in its file; nothing that follows from them here
            return _Raw(None, raw.where, raw.diagnostics + base.diagnostics, loop=base.loop)
        else:
            refusal = unusable
    code, message, suggestion = refusal
    return _Raw(None, raw.where, [*raw.diagnostics, Diagnostic(
        code, message, str(path) if path else None, loc.line if loc else None, loc.column if loc else None,
        "/extends", suggestion)])


def _unusable(base: _Raw, target: str, chain: tuple[str, ...]) -> tuple[str, str, str | None] | None:
    """Why a base without data is this version's one problem (a loop that starts here, a file that
    cannot be read); None when the base's own problems say it, in its file."""
    if base.loop is not None:
        return ("E109", _LOOPS + " -> ".join(Path(k).stem for k in base.loop),
                "a version extends one that came before it") if base.loop[0] == chain[-1] else None
    if all(d.line is None for d in base.diagnostics):
        return "E109", f"the base version '{target}' cannot be read: " + "; ".join(
            d.message for d in base.diagnostics), None
    return None


_LOOPS = "'extends' loops back to this version: "


def _loop(d: Diagnostic) -> tuple[str, frozenset[str]] | None:
    """The folder and the versions of the ``extends`` loop ``d`` reports, if it reports one."""
    if d.code != "E109" or not d.message.startswith(_LOOPS) or d.file is None:
        return None
    return str(Path(d.file).resolve().parent), frozenset(d.message.removeprefix(_LOOPS).split(" -> "))


def each_problem_once(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diags`` of several files, each problem once: a diagnostic reported by several files (a
    base's, for each version that extends it) once, and a loop of ``extends`` once, at the first
    of its files reported, whichever version of the loop each file starts it from."""
    out: dict[Diagnostic, None] = {}
    loops: set[tuple[str, frozenset[str]]] = set()
    for d in diags:
        loop = _loop(d)
        if loop is not None:
            if loop in loops:
                continue
            loops.add(loop)
        out[d] = None
    return list(out)


class ParseCache:
    """Parsed and resolved files, by resolved path, with the text they were parsed from.

    A registry owns one, so that loading six versions that extend each other parses each file
    once (a file whose text changed, or one of whose bases changed, is parsed again); a file
    loaded on its own is parsed afresh. Bounded in entries and in estimated bytes (a file's
    parsed form, positions and lines at ``FACTOR`` times its text); emptied when full. Entries
    are never modified after they are made; a lock keeps it whole when threads share it.
    """

    LIMIT = 256
    BYTES = 128 * 1024 * 1024
    FACTOR = 16
    #: characters of the conditions kept parsed (a condition's tree takes some tens of bytes a character)
    CONDITION_CHARS = 1_000_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, tuple[tuple[str, list[str]], ...], _Raw]] = {}
        self._lock = threading.Lock()
        self._conditions: Parses = {}

    def conditions(self) -> Parses:
        """The conditions of the files loaded with this cache, by their text, each parsed once
        (see `expr.Parses`); emptied when full."""
        if sum(map(len, self._conditions)) > self.CONDITION_CHARS:
            self._conditions.clear()
        return self._conditions

    def get(self, key: str, text: str, reads: _Reads | None = None) -> _Raw | None:
        """A copy of the parse of ``text`` at ``key``, if its text and its bases' are unchanged
        (each base read once in the load ``reads`` belongs to)."""
        with self._lock:
            cached = self._entries.get(key)
        if cached is None or cached[0] != text or not _bases_unchanged(cached[1], {} if reads is None else reads):
            return None
        return dataclasses.replace(cached[2], diagnostics=list(cached[2].diagnostics))

    def put(self, key: str, text: str, path: Path, raw: _Raw) -> None:
        """Remember a clean parse, with the text of every base it extends."""
        bases = tuple((name, lines) for name, lines in raw.where.texts.items()
                      if name is not None and name != str(path))
        cost = self.FACTOR * len(text)
        with self._lock:
            used = self.FACTOR * sum(len(entry[0]) for entry in self._entries.values())
            if len(self._entries) >= self.LIMIT or used + cost > self.BYTES:
                self._entries.clear()
                self._conditions.clear()
            if cost <= self.BYTES:
                self._entries[key] = (text, bases, raw)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._conditions.clear()


def _bases_unchanged(bases: tuple[tuple[str, list[str]], ...], reads: _Reads) -> bool:
    for name, lines in bases:
        text, _ = _read_once(Path(name), reads)
        if text is None or text.splitlines() != lines:
            return False
    return True


def _load_raw(path: Path, chain: tuple[str, ...] = (), cache: ParseCache | None = None,
              reads: _Reads | None = None) -> _Raw:
    """The file at ``path`` parsed, with its ``extends`` and ``tests_from`` resolved. ``chain``: the
    files of the load that lead to this one (it is ``len(chain) - 1`` versions beneath the file
    the load started from); ``reads``: the files the load has read (a load reads each once)."""
    reads = {} if reads is None else reads
    text, diags = _read_once(path, reads)
    if text is None:
        return _Raw(None, Where(), diags)
    key = str(path.resolve())
    if cache is not None and (hit := cache.get(key, text, reads)) is not None:
        # remembered clean, so no deeper than the limit; too deep beneath the file the load started from
        return _Raw(None, hit.where, [], deep=True) if max(len(chain) - 1, 0) + hit.height > MAX_EXTENDS_DEPTH \
            else hit
    raw = _parse(text, str(path))
    if raw.data is None:
        return raw
    raw = _resolve_extends(path, raw, chain or (key,), cache, reads)
    if raw.data is not None and "tests_from" in raw.data:
        raw = _resolve_tests_from(path, raw, chain or (key,), cache, reads)
    if not raw.diagnostics and raw.data is not None and cache is not None:  # only clean files are remembered
        cache.put(key, text, path, raw)
    return raw


def _tests_from(spec: Any) -> tuple[str, list[Any], str] | None:
    """``tests_from``'s version, the names it drops and the pointer of its version; None when the
    document model must report it."""
    target = spec.get("version") if isinstance(spec, dict) else spec
    drop = spec.get("drop", []) if isinstance(spec, dict) else []
    if not isinstance(target, str) or not _VERSION.fullmatch(target) or not isinstance(drop, list):
        return None
    return target, drop, "/tests_from/version" if isinstance(spec, dict) else "/tests_from"


def _resolve_tests_from(path: Path, raw: _Raw, chain: tuple[str, ...], cache: ParseCache | None,
                        reads: _Reads | None = None) -> _Raw:
    """``raw`` with the embedded tests and fixtures of the earlier version ``tests_from`` names
    (resolved the same way, so they pass down a line of versions) before its own: a test of its
    own with the name of one of them replaces it, in its place; those ``drop`` names are left out.
    A version that cannot lend its tests is one E302 at ``tests_from``, and nothing is lent."""
    found = _tests_from(raw.data["tests_from"])
    if found is None:
        return raw
    target, drop, pointer = found

    def refused(message: str, suggestion: str | None = None, at: str = pointer) -> _Raw:
        here = raw.where.locate(at)
        return dataclasses.replace(raw, diagnostics=[*raw.diagnostics, Diagnostic(
            "E302", message, str(path), here.line if here else None, here.column if here else None, at, suggestion)])

    base_path = path.parent / f"{target}.yaml"
    why = _not_a_lender(path, raw.data.get("version"), target, base_path, chain)
    if why is not None:
        return refused(*why)
    base = _Raw(None, Where(), [], deep=True) if len(chain) > MAX_EXTENDS_DEPTH else \
        _load_raw(base_path, (*chain, str(base_path.resolve())), cache, reads)
    if base.deep:
        if len(chain) > 1:  # the file that started the load says it, once
            return _Raw(None, raw.where, [], deep=True)
        return refused(_too_deep("tests_from"), _TOO_DEEP_HINT)
    raw = dataclasses.replace(raw, height=max(raw.height, base.height + 1))
    if base.data is None or base.diagnostics:
        return refused(f"the tests of {target} cannot be lent: that version has problems of its own "
                       f"(ecei-rules validate {base_path})")
    lent = [t for t in base.data.get("tests") or [] if isinstance(t, dict)]
    names = [str(t.get("name")) for t in lent]
    for i, name in enumerate(drop):
        if name not in names:
            return refused(f"'tests_from' drops the test '{name}', which {target} does not have",
                           did_you_mean(str(name), names), pointer_join("/tests_from/drop", i))
    own = raw.data.get("tests")
    if own is not None and not isinstance(own, list):
        return raw  # the document model reports it
    return _lend(raw, base, lent, set(drop))


def _not_a_lender(path: Path, own: Any, target: str, base_path: Path,
                  chain: tuple[str, ...]) -> tuple[str, str | None] | None:
    """Why the version ``target`` cannot lend its tests to the version at ``path`` (message,
    suggestion), or None: it must be an earlier version in the same folder."""
    if isinstance(own, str) and semver.Version.is_valid(own) and \
            semver.Version.parse(target) >= semver.Version.parse(own):
        return (f"'tests_from' names {target}, which is not earlier than this version {own}",
                "name an earlier version of this methodology")
    key = str(base_path.resolve())
    if not base_path.is_file() or Path(key).parent != path.resolve().parent:
        return f"'tests_from' names the version '{target}', which is not in this folder; {_versions_here(path)}", None
    if key in chain:
        return "'tests_from' loops back to this version", None
    return None


def _lend(raw: _Raw, base: _Raw, lent: list[dict[str, Any]], drop: set[Any]) -> _Raw:
    """``raw`` with the tests ``lent`` by ``base`` (but those in ``drop``) before its own, and
    ``base``'s fixtures under its own; positions follow each test and fixture to its new place."""
    own = [t for t in raw.data.get("tests") or [] if isinstance(t, dict)]
    order = _run_order(raw, base, own, lent, drop)
    data = dict(raw.data)
    data["tests"] = [(own if source is raw else lent)[i] for source, i in order]
    theirs, mine = base.data.get("fixtures"), raw.data.get("fixtures")
    fixtures = _lent_fixtures(theirs, mine)
    if fixtures:
        data["fixtures"] = {**{name: theirs[name] for name in fixtures}, **(mine or {})}
    where = Where(values=dict(raw.where.values), keys=dict(raw.where.keys),
                  texts={**base.where.texts, **raw.where.texts})
    where.purge("/tests")
    for table in ("values", "keys"):
        _move(getattr(where, table), [(getattr(source.where, table), i) for source, i in order])
        found = getattr(raw.where, table).get("/tests")  # the list itself stays where this version writes it
        if found is not None:
            getattr(where, table)["/tests"] = found
        getattr(where, table).update((pointer, loc) for pointer, loc in getattr(base.where, table).items()
                                     if pointer.startswith("/fixtures/") and pointer.split("/")[2] in fixtures)
    borrowed = [pointer_join("/tests", n) for n, (source, _) in enumerate(order) if source is base]
    return _Raw(data, where, raw.diagnostics, raw.origin, raw.loop,
                lent=frozenset([*(pointer_join("/fixtures", name) for name in fixtures), *borrowed]), height=raw.height)


def _run_order(raw: _Raw, base: _Raw, own: list[dict[str, Any]], lent: list[dict[str, Any]],
               drop: set[Any]) -> list[tuple[_Raw, int]]:
    """The tests run, in order, each as (the document it comes from, its index there): those lent
    but dropped ones, each replaced in place by this version's test of its name, then the rest of
    this version's."""
    by_name = {t.get("name"): i for i, t in enumerate(own)}
    order: list[tuple[_Raw, int]] = []
    for i, test in enumerate(lent):
        name = test.get("name")
        if name not in drop:
            order.append((raw, by_name[name]) if name in by_name else (base, i))
    replaced = {i for source, i in order if source is raw}
    return order + [(raw, i) for i in range(len(own)) if i not in replaced]


def _lent_fixtures(theirs: Any, mine: Any) -> list[str]:
    """The names of the fixtures an earlier version lends: those this version has none of."""
    if not isinstance(theirs, dict) or not isinstance(mine, (dict, type(None))):
        return []
    return [name for name in theirs if mine is None or name not in mine]


def _move(table: dict[str, Loc], order: list[tuple[dict[str, Loc], int]]) -> None:
    """Into ``table``, the positions of each test at its new index: test ``n`` of the run is test
    ``old`` of the table it comes from."""
    for new, (source, old) in enumerate(order):
        prefix = pointer_join("/tests", old)
        for pointer, loc in source.items():
            if pointer == prefix or pointer.startswith(prefix + "/"):
                table[pointer_join("/tests", new) + pointer[len(prefix):]] = loc


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional; of a union, keep the model or container member."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            preferred = [a for a in members if _is_model(a) or typing.get_origin(a) in (dict, list, tuple)]
            annotation = (preferred or members)[0]
            continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_fields_at(loc: Iterable[Any]) -> list[str]:
    """The field names allowed at a location of the document model (for suggestions)."""
    model = _model_at(loc)
    return [] if model is None else list(model.model_fields)


def _model_at(loc: Iterable[Any]) -> type[BaseModel] | None:
    """The model of the document at a location, if a model stands there."""
    annotation: Any = RulesetDocument
    for part in loc:
        annotation = _unwrap(annotation)
        if _is_model(annotation):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return None
            annotation = info.annotation
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]  # part is a key
        elif typing.get_origin(annotation) in (list, tuple):
            annotation = typing.get_args(annotation)[0]  # part is an index
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if _is_model(annotation) else None


#: What stands in for a value the YAML stage refused, when a rule across an object's keys is read again.
_STAND_INS: tuple[Any, ...] = ("\0", Decimal(1))


def _follows_from_refused(err: Any, loc: tuple[Any, ...], raw: _Raw, refused: set[str | None]) -> bool:
    """Whether the model's rule across the keys of one object (``give exactly one of ...``) only
    failed because it read null where the YAML stage refused a value: with each refused value
    standing in by one of its kind, the object passes (one problem is not reported twice)."""
    pointer, used = _data_pointer(raw.data, loc)
    return err["type"] == "value_error" and used == len(loc) and _stood(raw, pointer, refused) == []


def _stood(raw: _Raw, pointer: str, refused: Collection[str | None]) -> list[str] | None:
    """The messages of the model's rules across the keys of the object at ``pointer`` when each value
    the YAML stage refused in it stands in by a value of its kind; None when it has no such value, is
    no model's object, or a refused value has no stand-in."""
    node, model = _value_at(raw.data, pointer), _model_at(_split(pointer))
    if model is None or not isinstance(node, dict):
        return None
    keys = [key for key in node if pointer_join(pointer, key) in refused and node[key] is None]
    if not keys:
        return None
    stood = dict(node)
    for key in keys:
        info = model.model_fields.get(str(key))
        fits = [s for s in _STAND_INS if info is not None and _fits(info.annotation, s)]
        if not fits:
            return None
        stood[key] = fits[0]
    try:
        model.model_validate(stood)
    except ValidationError as exc:
        return [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False)
                if e["type"] == "value_error" and not e["loc"]]
    return []


def _hidden_by_refused(raw: _Raw, located: _Located, diags: list[Diagnostic]) -> list[Diagnostic]:
    """The model's rules across the keys of an object that a refused value hid: the YAML stage left
    null where the author wrote a value, and null reads as "not given" (a threshold refused beside
    a minimum is two problems: the number, and both given)."""
    reported = {d.pointer for d in diags}
    refused = {d.pointer for d in diags if d.pointer and _value_at(raw.data, d.pointer) is None}
    out: list[Diagnostic] = []
    for parent in dict.fromkeys(p.rsplit("/", 1)[0] for p in refused if p):
        if parent and parent not in reported:
            out.extend(located.diag("E103", message, parent) for message in (_stood(raw, parent, refused) or ())[:1])
    return out


def _fits(annotation: Any, value: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


_ABSENT = object()


def _value_at(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer of the raw document (``_ABSENT`` when there is none)."""
    node = data
    for part in _split(pointer):
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return _ABSENT
    return node


def _text_at(data: Any, pointer: str) -> str | None:
    """The string at a JSON pointer of the raw document, if there is one."""
    node = _value_at(data, pointer)
    return node if isinstance(node, str) else None


def _data_pointer(data: Any, loc: tuple[Any, ...]) -> tuple[str, int]:
    """Follow ``loc`` through the data as far as it goes; return (pointer, parts used)."""
    pointer, node, used = "", data, 0
    for part in loc:
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
        pointer = pointer_join(pointer, part)
        used += 1
    return pointer, used


class _Located:
    """Turns pointers (and offsets in conditions) into diagnostics with file:line:column."""

    def __init__(self, where: Where, default_file: str | None) -> None:
        self.where = where
        self.default_file = default_file

    def diag(self, code: str, message: str, pointer: str, *, key: bool = False, offset: int | None = None,
             suggestion: str | None = None, severity: str = "error", text: str | None = None) -> Diagnostic:
        loc = self.where.locate(pointer, key=key)
        if loc is None:
            return Diagnostic(code, message, self.default_file, None, None, pointer, suggestion)
        line, column = loc.line, loc.column
        if offset is not None and pointer in self.where.values:
            line, column = self._in_scalar(loc, offset, text)
        return Diagnostic(code, message, loc.file, line, column, pointer, suggestion,
                          "warning" if severity == "warning" else "error")

    def _in_scalar(self, loc: Loc, offset: int, text: str | None) -> tuple[int, int]:
        """The file position of character ``offset`` of a scalar's value.

        A one-line plain or quoted scalar maps directly. Otherwise (several lines, folding,
        escapes) the token at the offset is found in the source after the scalar's start.
        """
        lines = self.where.texts.get(loc.file, [])
        shift = 1 if loc.style in ("'", '"') else 0
        if text is None:
            return loc.line, loc.column + shift + offset
        if "\n" not in text and loc.style not in ("|", ">") and 0 < loc.line <= len(lines):
            source = lines[loc.line - 1]
            start = loc.column - 1 + shift
            if source[start:start + len(text)] == text:
                return loc.line, loc.column + shift + offset
        token = re.match(r"[A-Za-z_0-9.]+|\S", text[offset:])
        needle = token.group(0) if token else text[offset:offset + 1]
        if not needle:
            return loc.line, loc.column
        occurrence = text[:offset].count(needle)
        seen = 0
        for index in range(loc.line - 1, len(lines)):
            source = lines[index]
            begin = loc.column - 1 if index == loc.line - 1 else 0
            position = source.find(needle, begin)
            while position != -1:
                if seen == occurrence:
                    return index + 1, position + 1
                seen += 1
                position = source.find(needle, position + 1)
        return loc.line, loc.column


#: The content-hash scheme (recorded in lock files): 2 covers the order of every mapping and every
#: expression as written, so that any edit that can change a decision's bytes changes the hash.
HASH_SCHEME = 2
_HASH_DOMAIN = b"ecei-rules ruleset content, scheme 2\n"


def content_hash(doc: RulesetDocument) -> str:
    """The content hash of a ruleset version: SHA-256 over everything a decision can depend on.

    Hashed: the document as the model holds it (defaults left out; ``tests``, ``fixtures``,
    ``status`` and ``extends`` left out, since they decide nothing), with every expression as
    written (a decision carries its conditions as written) and, beside it, the order of the keys
    of every mapping (a decision lists criteria, groups, scores and tiers in file order). Two
    documents with the same hash therefore give the same decision bytes for every assessment.
    """
    dumped = doc.model_dump(mode="python", exclude=set(NOT_HASHED), exclude_defaults=True)
    orders: list[list[Any]] = []

    def walk(value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            if len(value) > 1:
                orders.append([pointer, [str(k) for k in value]])
            for k, v in value.items():
                if isinstance(v, (dict, list, tuple)):  # only a mapping has an order to record
                    walk(v, pointer_join(pointer, str(k)))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                if isinstance(v, (dict, list, tuple)):
                    walk(v, pointer_join(pointer, i))

    walk(dumped, "")
    return sha256_hex(_HASH_DOMAIN + canonical_bytes({"document": dumped, "order": orders}))


#: What each member of a union in the document model takes, in words (for a value that is none of them).
_KINDS = {"decimal": "a number", "int": "an integer", "bool": "true or false", "str": "text", "date": "a date",
          "tuple": "a list", "list": "a list", "dict": "a mapping", "model": "a mapping", "string": "text"}


def _model_diagnostics(exc: ValidationError, raw: _Raw, located: _Located,
                       reported: set[str | None]) -> list[Diagnostic]:
    """The document model's errors as located diagnostics (not twice for one place, nor where
    the YAML stage already refused the value)."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors(include_url=False)
    # a value that matches no member of a union (a parameter's value, say): one problem, naming them all
    alternatives: dict[str, list[str]] = {}
    for err in errors:
        pointer, used = _data_pointer(raw.data, tuple(err["loc"]))
        member = err["loc"][used] if used < len(err["loc"]) else None
        if isinstance(member, str) and err["type"] != "missing":
            alternatives.setdefault(pointer, []).append(_KINDS.get(member.split("[")[0], "a mapping"))
    # a list whose items were all refused is "too short" as well: not a problem of its own
    inner = {tuple(err["loc"])[:n] for err in errors for n in range(len(err["loc"]))}
    for err in errors:
        loc = tuple(err["loc"])
        pointer, _ = _data_pointer(raw.data, loc)
        if pointer in reported or (err["type"] == "too_short" and loc in inner) or \
                _follows_from_refused(err, loc, raw, reported):
            continue
        d = _model_diagnostic(err, loc, pointer, raw, located, list(dict.fromkeys(alternatives.get(pointer, ()))))
        if (pointer, d.code) not in seen:
            seen.add((pointer, d.code))
            out.append(d)
    return out


def _labels_of(path: Path | None, version: str) -> list[str] | None:
    """The labels of the version ``version`` beside ``path`` (for labels_from), or None when it cannot be read."""
    sibling = path.parent / f"{version}.yaml" if path is not None and _VERSION.fullmatch(version) else None
    if sibling is None or sibling == path or not sibling.is_file():
        return None
    data = _load_raw(sibling).data
    labels = data.get("labels") if isinstance(data, dict) else None
    return [str(label) for label in labels] if isinstance(labels, list) else None


def _model_diagnostic(err: Any, loc: tuple[Any, ...], pointer: str, raw: _Raw, located: _Located,
                      kinds: list[str]) -> Diagnostic:
    """One error of the document model, located, in the words of a ruleset's author."""
    kind = err["type"]
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        allowed = _model_fields_at(loc[:-1])
        return located.diag("E101", f"unknown key '{key}'", pointer, key=True,
                            suggestion=did_you_mean(key, allowed) or (
                                "allowed keys: " + ", ".join(allowed) if allowed else None))
    if kind == "missing" and pointer_join(pointer, key) in raw.where.keys:  # deleted (key: null), here or by a patch
        return located.diag("E102", f"the required key '{key}' is deleted", pointer_join(pointer, key), key=True,
                            suggestion="give it a value; only optional keys can be deleted")
    if kind == "missing":
        return located.diag("E102", f"the required key '{key}' is missing", pointer, suggestion=f"add '{key}:' here")
    got = as_written(err.get("input"))[:200]
    expected = _KINDS.get(kind.removesuffix("_type")) if kind.endswith("_type") else None
    if len(kinds) > 1:
        message = f"expected {', '.join(kinds[:-1])} or {kinds[-1]}, got {got}"
    elif expected:
        message = f"expected {expected}, got {got}"
    else:
        message = str(err["msg"]).removeprefix("Value error, ") + (f" (got {got})" if kind.endswith("_type") else "")
    return located.diag("E103", message, pointer)


def _validated(raw: _Raw, located: _Located, diags: list[Diagnostic]) -> tuple[RulesetDocument | None, Salvage]:
    """The document the model makes of ``raw``; when it refuses some of it, its errors (added to
    ``diags``) and the document without what it refused, with what was set aside."""
    # a value the YAML stage refused is null: what follows from that is not reported again
    aside = Salvage(pointers={d.pointer for d in diags if d.pointer and _value_at(raw.data, d.pointer) is None})
    hidden = _hidden_by_refused(raw, located, diags) if aside.pointers else []
    try:
        doc = RulesetDocument.model_validate(raw.data)
    except ValidationError as exc:
        diags.extend(_model_diagnostics(exc, raw, located, {d.pointer for d in diags}))
        diags.extend(d for d in hidden if d.pointer not in {e.pointer for e in diags})
        return salvage(raw.data, exc, aside)
    diags.extend(hidden)
    return doc, aside


def _diagnose(raw: _Raw, path: Path | None, parses: Parses | None = None) -> tuple[RulesetDocument | None,
                                                                                  CheckedRuleset | None,
                                                                                  list[Diagnostic]]:
    """Every problem of a resolved document, each once: what the model refuses is set aside (see
    `salvage`) and the rest is still checked, without what only follows from what was set aside."""
    diags = list(raw.diagnostics)
    if raw.data is None:
        return None, None, diags
    located = _Located(raw.where, str(path) if path else None)
    doc, aside = _validated(raw, located, diags)
    if doc is None:
        return None, None, diags
    checked, problems = check_document(doc, parses=parses)
    if doc.labels_from is not None and path is not None:  # the earlier label set is read beside the file
        problems += labels_from_problems(doc, _labels_of(path, doc.labels_from.version))
    diags.extend(located.diag(p.code, p.message, p.pointer, offset=p.offset, suggestion=aside.suggestion(p),
                              text=_text_at(raw.data, p.pointer)) for p in problems if not aside.cascades(p))
    inputs = (checked.validator, checked.kinds) if checked is not None else check_inputs(doc)
    tests = _check_tests(doc, *inputs, raw.data, located) if inputs is not None else []
    tests = [_lent_problem(d, doc) if any(d.pointer.startswith(p + "/") for p in raw.lent) else d for d in tests]
    diags.extend(d for d in tests if not aside.cascades(d))  # they need only the inputs and the ids sound
    return doc, checked, diags


def _build(raw: _Raw, path: Path | None, cache: ParseCache | None = None) -> tuple[Ruleset | None, list[Diagnostic]]:
    doc, checked, diags = _diagnose(raw, path, cache.conditions() if cache is not None else None)
    diags = _blamed(raw, path, diags)[0]
    if doc is None or checked is None or any(d.severity == "error" for d in diags):
        return None, diags
    ruleset = Ruleset(doc, content_hash(doc), path, checked, tuple(d for d in diags if d.severity == "warning"))
    return ruleset, diags


_Key = tuple[str, str | None, int | None, int | None, str, str]


def _key(d: Diagnostic) -> _Key:
    return d.code, d.file, d.line, d.column, d.pointer, d.message


def _elsewhere(d: Diagnostic, own: str | None) -> bool:
    """An error located in another file than ``own`` (a base's)."""
    return d.severity == "error" and bool(d.pointer) and d.file not in (None, own)


def _blamed(raw: _Raw, path: Path | None, diags: list[Diagnostic]) -> tuple[list[Diagnostic], dict[_Key, Diagnostic]]:
    """``diags`` with every problem located in a base but caused by this version's patch moved to the
    change that caused it (the base's place named in the message); and each one moved, by its key.

    A problem located in a base is the base's own when the base alone has it too (it stays where it
    is, or where the base's own patch put it); otherwise the change of this patch that causes it is
    the first whose undoing, with the changes before it, makes it go away."""
    own = str(path) if path else None
    origin = raw.origin
    suspects = [d for d in diags if _elsewhere(d, own) and not any(
        d.pointer == p or d.pointer.startswith(p + "/") for p in raw.lent)]
    if origin is None or not suspects:
        return diags, {}
    base_diags = _diagnose(origin.base, origin.base_path)[2]
    _, base_moved = _blamed(origin.base, origin.base_path, base_diags)
    base_keys = set(map(_key, base_diags))
    changes = _Changes(origin)
    moved = {key: base_moved[key] for key in map(_key, suspects) if key in base_moved}
    caused: dict[int, list[Diagnostic]] = {}
    for d in suspects:
        index = None if _key(d) in base_keys else changes.culprit(d)
        if index is not None:
            caused.setdefault(index, []).append(d)
    for index, dependents in caused.items():
        blamed = changes.diagnostic(index, dependents)
        moved.update((_key(d), blamed) for d in dependents)
    return list(dict.fromkeys(moved.get(_key(d), d) for d in diags)), moved



def _leaves(base: Any, patch: dict[str, Any], pointer: str) -> Iterable[tuple[str, str]]:
    """The changes a merge patch makes, in its order: (pointer, "delete" | "set" | "add")."""
    for key, value in patch.items():
        child = pointer_join(pointer, key)
        old = base.get(key, _ABSENT) if isinstance(base, dict) else _ABSENT
        if isinstance(value, dict) and isinstance(old, dict):
            yield from _leaves(old, value, child)
        elif value is None:
            if old is not _ABSENT:
                yield child, "delete"
        elif old is _ABSENT:
            yield child, "add"
        elif value != old:
            yield child, "set"


class _Changes:
    """The changes a version's patch makes to what it inherits, and what stays broken with the
    first ``k`` of them undone (checked once per ``k``, only when a problem needs its cause, at
    most ``CHECKS`` times: past that, a problem stays where it is located)."""

    CHECKS = 24

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.inherited = {k: v for k, v in origin.base.data.items() if k not in NOT_INHERITED}
        patch = {k: v for k, v in origin.patch.data.items() if k not in NOT_INHERITED}
        self.leaves = list(_leaves(self.inherited, patch, ""))
        self.broken: dict[int, set[tuple[str, str, str]]] = {}

    def still_broken(self, undone: int) -> set[tuple[str, str, str]] | None:
        """(code, pointer, message) of each error with the first ``undone`` changes undone (None: no checks
        left): two problems of one condition (same code, same pointer) are told apart by what they say."""
        if undone not in self.broken:
            if len(self.broken) >= self.CHECKS:
                return None
            patch = copy.deepcopy(self.origin.patch.data)
            for pointer, _ in self.leaves[:undone]:
                remove_key(patch, _split(pointer))
            raw = _Raw(_merge(self.inherited, patch, "", Where()), Where(), [])
            self.broken[undone] = {(d.code, d.pointer, d.message) for d in _diagnose(raw, None)[2]
                                   if d.severity == "error"}
        return self.broken[undone]

    def culprit(self, d: Diagnostic) -> int | None:
        """The index of the change that causes ``d`` (None when undoing them all leaves it)."""
        found = (d.code, d.pointer, d.message)
        low, high = 1, len(self.leaves)
        every = self.still_broken(high) if high else None
        if every is None or found in every:
            return None
        while low < high:
            middle = (low + high) // 2
            broken = self.still_broken(middle)
            if broken is None:
                return None
            if found in broken:
                low = middle + 1
            else:
                high = middle
        return low - 1

    def diagnostic(self, index: int, dependents: list[Diagnostic]) -> Diagnostic:
        """One diagnostic at change ``index`` of the patch, naming what in the base it breaks."""
        pointer, kind = self.leaves[index]
        where = self.origin.patch.where
        loc = (where.keys.get(pointer) if kind == "delete" else None) or where.locate(pointer)
        places = [f"{Path(d.file or '').name}:{d.line}:{d.column} ({d.pointer}): {d.message}" for d in dependents[:5]]
        if len(dependents) > 5:
            places.append(f"and {len(dependents) - 5} more")
        what = {"delete": "deleting this", "add": "adding this", "set": "this change"}[kind]
        count = f"{len(dependents)} places: " if len(dependents) > 1 else ""
        # what the base's problem suggests is about a value written there: it fits a parameter's value set here,
        # not a declaration changed (an input's type), which is undone or followed where it is used
        suggestion = "keep it, or change what uses it in this version too" if kind == "delete" else \
            dependents[0].suggestion
        if kind != "delete" and suggestion is not None and not pointer.startswith("/parameters/"):
            suggestion = "undo the change, or change what uses it in this version too"
        return Diagnostic(dependents[0].code, f"{what} breaks {count}" + "; ".join(places),
                          loc.file if loc else None, loc.line if loc else None, loc.column if loc else None,
                          pointer, suggestion)


def test_assessment(doc: RulesetDocument, index: int) -> dict[str, Any]:
    """The assessment of embedded test ``index`` (its fixture with the test's merge patch)."""
    test = doc.tests[index]
    if test.base is None:
        return copy.deepcopy(test.assessment)
    merged: dict[str, Any] = _merge(doc.fixtures[test.base], test.assessment, "", Where())
    return merged


def _lent_problem(d: Diagnostic, doc: RulesetDocument) -> Diagnostic:
    """A problem of a test an earlier version lends (``tests_from``), said to be one here."""
    index = _split(d.pointer)[1]
    name = doc.tests[index].name if isinstance(index, int) and index < len(doc.tests) else "?"
    return dataclasses.replace(d, message=f"{d.message} (the test '{name}' lent by tests_from)", suggestion=(
        d.suggestion or "replace it with a test of the same name here, or drop it: tests_from: {version, drop}"))


def _check_tests(doc: RulesetDocument, validator: AssessmentValidator, outcomes: Mapping[str, str],
                 data: dict[str, Any], located: _Located) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names: set[str] = set()
    shown: set[tuple[str, str]] = set()  # a fixture's problem is one problem, whichever tests use it
    for i, test in enumerate(doc.tests):
        base = pointer_join("/tests", i)
        if test.name in names:
            out.append(located.diag("E302", f"two tests are named '{test.name}'", pointer_join(base, "name")))
        names.add(test.name)
        if test.base is not None and test.base not in doc.fixtures:
            out.append(located.diag("E302", f"unknown fixture '{test.base}'", pointer_join(base, "base"),
                                    suggestion=did_you_mean(test.base, doc.fixtures)))
            continue
        expect = test.expect
        if expect.label not in ("none", *doc.labels):
            out.append(located.diag("E302", f"unknown label '{expect.label}'", pointer_join(base, "expect", "label"),
                                    suggestion=did_you_mean(expect.label, ("none", *doc.labels))))
        for label in expect.tiers:
            if label not in doc.labels:
                out.append(located.diag("E302", f"unknown tier '{label}'", pointer_join(base, "expect", "tiers", label),
                                        key=True, suggestion=did_you_mean(label, doc.labels)))
        for ref in expect.criteria:
            if ref not in outcomes:
                out.append(located.diag("E302", f"unknown criterion, group or score '{ref}'",
                                        pointer_join(base, "expect", "criteria", ref), key=True,
                                        suggestion=did_you_mean(ref, outcomes)))
        out.extend(_expected_derived(doc, expect.derived, pointer_join(base, "expect", "derived"), located))
        _, problems = validator.validate_plain(test_assessment(doc, i))
        own = test.assessment
        for p in problems:
            inside, _ = _data_pointer(own, tuple(_split(p.pointer)))
            if test.base is not None and inside != p.pointer:
                where, what = pointer_join("/fixtures", test.base) + p.pointer, f"the fixture '{test.base}'"
            else:
                where, what = pointer_join(base, "assessment") + p.pointer, "the test's assessment"
            if (where, p.message) not in shown:
                shown.add((where, p.message))
                out.append(located.diag("E302", f"{what} is invalid: {p.message}", where, suggestion=p.suggestion))
    return out


#: What a test may expect of a derived value of each type (besides 'unknown' and 'undefined').
_EXPECTED = {"boolean": (bool,), "integer": (int,), "decimal": (int, Decimal), "date": (dt.date,), "string": (str,)}


def _expected_derived(doc: RulesetDocument, expected: Mapping[str, Any], pointer: str,
                      located: _Located) -> list[Diagnostic]:
    """The problems of a test's ``expect.derived``: a name that is no derived value, a value that
    is not of its type."""
    out: list[Diagnostic] = []
    for name, value in expected.items():
        at = pointer_join(pointer, name)
        spec = doc.derived.get(name)
        if spec is None:
            out.append(located.diag("E302", f"unknown derived value '{name}'", at, key=True,
                                    suggestion=did_you_mean(name, doc.derived) or (
                                        "the derived values: " + ", ".join(doc.derived) if doc.derived
                                        else "this version declares no derived values")))
        elif value not in ("unknown", "undefined") or spec.type == "string":
            kinds = _EXPECTED[spec.type]
            if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds) or (
                    isinstance(value, Decimal) and spec.type == "integer"):
                out.append(located.diag("E302", f"the derived value '{name}' is {spec.type}: {as_written(value)} is "
                                        "not one of its values", at, suggestion="write a value of its type, or "
                                        "'unknown' or 'undefined'"))
    return out


def _split(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def check_ruleset(path: str | Path, *, cache: ParseCache | None = None) -> list[Diagnostic]:
    """Check a ruleset file; return every diagnostic (errors and warnings), never raise.
    ``cache``: parses to reuse and keep (a registry passes its own)."""
    p = Path(path)
    _, diags = _build(_load_raw(p, cache=cache), p, cache)
    return diags


def load_ruleset(path: str | Path, *, cache: ParseCache | None = None) -> Ruleset:
    """Load, check and compile a ruleset file; raise RulesetError with every problem.
    ``cache``: parses to reuse and keep (a registry passes its own)."""
    p = Path(path)
    ruleset, diags = _build(_load_raw(p, cache=cache), p, cache)
    if ruleset is None:
        raise RulesetError(diags)
    return ruleset


def load_ruleset_text(text: str, file: str | None = None) -> Ruleset:
    """Load a ruleset from text (``extends`` is not available without a file)."""
    raw = _parse(text, file)
    if raw.data is not None:
        raw = _resolve_extends(None, raw, ())
    ruleset, diags = _build(raw, None)
    if ruleset is None:
        raise RulesetError(diags)
    return ruleset
