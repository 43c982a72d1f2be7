"""Declared inputs: resolved field types, their static types, and assessment validation.

A ruleset's ``inputs`` (with its named ``types`` and ``catalogues``) is resolved once into a
tree of `Field`. That tree types the condition language, validates assessments
(every error names its JSON path; nothing is defaulted silently) and yields the
assessment JSON Schema.

The validation takes any Python value and gives either the assessment as plain built-in values
(``dict`` with ``str`` keys, ``list``, ``str``, ``bool``, ``int``, ``Decimal``, ``datetime.date``)
or its problems, each at its JSON path, and never raises. A value's class is read with
``type()`` (an object can make ``__class__`` and ``isinstance`` say anything), and no method a
caller's class defines is called: an instance of a subclass of ``str``, ``int``, ``float``,
``Decimal``, ``date``, ``list`` or ``dict`` is copied to the plain class at C level
(``str.__str__``, ``int.__index__``, ``Decimal(v)``, ``date.toordinal``, ``list.copy``,
``dict.items``) and validated as that plain value, so nothing a caller overrides can reach the
engine or its memo tables; a ``datetime`` is not a date (A003), a key that is not a ``str`` is
A003 at its object, and a string holding a lone surrogate, which has no UTF-8 form, is A004
(a key too, at its object). Decimals are judged under `EXACT_CONTEXT`, never under the caller's
``decimal`` context. An object is read from a snapshot of its members (another thread may change
it meanwhile); the problems listed are bounded (`MAX_DIAGNOSTICS`, `MAX_UNKNOWN_KEYS`,
`MAX_SUGGESTIONS`), each further one counted in a last problem.

The one method of a caller's object the generated validation may call is the ``__eq__`` of a key
of a plain ``dict`` that has the hash of a declared key: the dict's own lookup of that key asks
it (in C). An exception it raises sends the value to the plain validation; `validate` gives any
object with a key that is not a plain ``str`` to the plain validation, which reads the key by its
text; `AssessmentValidator.validate_unordered` may take such a key for the declared key it claims
to equal, its value still checked and kept as a plain value under the declared key.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ecei_rules.core.canonical import EXACT_CONTEXT, MAX_SIGNIFICANT_DIGITS, significant_digits
from ecei_rules.core.patterns import Pattern
from ecei_rules.core.pointers import MISSING, Path, pointer_join, pointer_of
from ecei_rules.errors import Diagnostic, did_you_mean
from ecei_rules.language.expr import ANY, BOOL, DATE, DEC, INT, STR, Compiled, Ty
from ecei_rules.ruleset.model import BASE_TYPES, Catalogue, InputSpec
from ecei_rules.ruleset.portable_patterns import END, TEXT, portable_pattern

MAX_INTEGER = 2**53 - 1
#: The language defaults for strings and lists that declare no ``max_length`` / ``max_items``.
MAX_STRING = 10_000
MAX_ITEMS = 10_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Field:
    """A resolved input declaration."""

    kind: str
    spec: InputSpec
    type_name: str | None = None  # the declared named type, if any
    fields: dict[str, Field] = field(default_factory=dict)
    items: Field | None = None
    entries: dict[str, Field] = field(default_factory=dict)  # map: key -> value field
    pattern: Pattern | None = None
    catalogue_ids: tuple[str, ...] = ()
    checks: list[tuple[Compiled, str, str | None]] = field(default_factory=list)
    #: dates: the earliest and latest a value may be, when the ruleset's month_end calls shift it
    date_range: tuple[dt.date, dt.date] | None = None
    date_shift: tuple[int, int] = (0, 0)  # the fewest and the most months month_end adds to it

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def max_items(self) -> int:
        """The most items a list may hold: declared, or the language default."""
        return self.spec.max_items if self.spec.max_items is not None else MAX_ITEMS

    @property
    def max_length(self) -> int:
        """The most characters a string may hold: declared, or the language default."""
        return self.spec.max_length if self.spec.max_length is not None else MAX_STRING

    def ty(self) -> Ty:
        """The static type of this field in conditions."""
        if self.kind == "boolean":
            return BOOL
        if self.kind in ("integer", "decimal"):
            lo, hi = self.spec.minimum, self.spec.maximum
            return (INT if self.kind == "integer" else DEC) if lo is None or hi is None else \
                Ty(self.kind, bounds=(lo, hi))
        if self.kind == "date":
            return DATE
        if self.kind == "string":
            return Ty("string", catalogue=self.spec.catalogue,
                      values=self.catalogue_ids or None) if self.spec.catalogue else STR
        if self.kind == "enum":
            return Ty("string", values=tuple(self.spec.values or ()))
        if self.kind == "list":
            return Ty("list", item=self.items.ty() if self.items else ANY, size=self.max_items)
        if self.kind == "object":
            return Ty("object", fields={k: f.ty() for k, f in self.fields.items()})
        if self.kind == "map":
            return Ty("map", fields={k: f.ty() for k, f in self.entries.items()}, catalogue=self.spec.catalogue)
        return ANY


def map_keys(root: Field) -> dict[str, tuple[str, ...]]:
    """The keys of each map input (its catalogue's item ids, in order) by the map's JSON pointer,
    through objects (what ``values(m)`` of a map input reads)."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(f: Field, pointer: str) -> None:
        if f.kind == "map":
            out[pointer] = tuple(f.entries)
        elif f.kind == "object":
            for name, sub in f.fields.items():
                walk(sub, pointer + "/" + name.replace("~", "~0").replace("/", "~1"))

    for name, f in root.fields.items():
        walk(f, "/" + name.replace("~", "~0").replace("/", "~1"))
    return out


class InputResolver:
    """Resolves declared inputs against named types and catalogues, collecting diagnostics."""

    def __init__(self, types: Mapping[str, InputSpec], catalogues: Mapping[str, Catalogue]) -> None:
        self.types = types
        self.catalogues = catalogues
        self.problems: list[tuple[str, str, str, str | None]] = []  # (code, message, pointer, suggestion)

    def problem(self, code: str, message: str, pointer: str, suggestion: str | None = None) -> None:
        self.problems.append((code, message, pointer, suggestion))

    def resolve(self, spec: InputSpec, pointer: str, seen: tuple[str, ...] = ()) -> Field:
        """Resolve one declaration (following named types) into a `Field`."""
        followed = self._follow(spec, pointer, seen)
        if followed is None:
            return Field("any", spec)
        base, type_name, seen = followed
        kind = base.type
        out = Field(kind, base, type_name)
        self._settings(out, pointer)
        if kind == "object":
            if base.fields is None:
                self.problem("E102", "an object needs 'fields'", pointer)
            for name, sub in (base.fields or {}).items():
                out.fields[name] = self.resolve(sub, pointer_join(pointer, "fields", name), seen)
        elif kind == "list":
            self._list(out, pointer, seen)
        elif kind == "map":
            self._map(out, pointer, seen)
        elif base.default is not None:
            self.problem("E103", "only lists may declare a default ([])", pointer_join(pointer, "default"))
        self._misplaced(base, pointer)
        return out

    def _follow(self, spec: InputSpec, pointer: str,
                seen: tuple[str, ...]) -> tuple[InputSpec, str | None, tuple[str, ...]] | None:
        """The declaration with its named types followed (the use overriding what it sets), the first
        type name, and the names followed; None (with a problem) for an unknown or looping type."""
        type_name: str | None = None
        base = spec
        while base.type not in BASE_TYPES:
            name = base.type
            if name in seen:
                self.problem("E107", f"the type '{name}' refers to itself", pointer_join(pointer, "type"))
                return None
            if name not in self.types:
                self.problem("E107", f"unknown type '{name}'", pointer_join(pointer, "type"),
                             did_you_mean(name, [*BASE_TYPES, *self.types]))
                return None
            seen = (*seen, name)
            type_name = type_name or name
            # the use overrides the named type's settings that it sets explicitly
            overrides = {k: getattr(base, k) for k in base.model_fields_set if k != "type"}
            base = self.types[name].model_copy(update=overrides)
        return base, type_name, seen

    def _settings(self, out: Field, pointer: str) -> None:
        """Range, enum values, pattern and catalogue of a resolved declaration."""
        base = out.spec
        if base.minimum is not None and base.maximum is not None and base.minimum > base.maximum:
            self.problem("E103", "minimum is greater than maximum", pointer_join(pointer, "minimum"))
        if out.kind == "enum" and not base.values:
            self.problem("E102", "an enum needs 'values'", pointer)
        if base.pattern is not None:
            out.pattern = Pattern(base.pattern)  # checked by the model: RE2 compiles it; each field owns its own
        if base.catalogue is not None:
            if base.catalogue not in self.catalogues:
                self.problem("E107", f"unknown catalogue '{base.catalogue}'", pointer_join(pointer, "catalogue"),
                             did_you_mean(base.catalogue, self.catalogues))
            else:
                out.catalogue_ids = tuple(self.catalogues[base.catalogue].items)

    def _list(self, out: Field, pointer: str, seen: tuple[str, ...]) -> None:
        base = out.spec
        if base.items is None:
            self.problem("E102", "a list needs 'items'", pointer)
        else:
            out.items = self.resolve(base.items, pointer_join(pointer, "items"), seen)
        if base.default is not None and base.default != []:
            self.problem("E103", "a list's default can only be []", pointer_join(pointer, "default"))

    def _map(self, out: Field, pointer: str, seen: tuple[str, ...]) -> None:
        base = out.spec
        if base.catalogue is None:
            self.problem("E102", "a map needs 'catalogue' (its keys are the catalogue's item ids)", pointer)
        elif base.catalogue in self.catalogues:
            cat = self.catalogues[base.catalogue]
            for item_id, item in cat.items.items():
                item_spec = base.items if base.items is not None else InputSpec(type=item.type, description=item.title)
                out.entries[item_id] = self.resolve(
                    item_spec, f"/catalogues/{base.catalogue}/items/{pointer_join('', item_id)[1:]}", seen
                )

    def _misplaced(self, base: InputSpec, pointer: str) -> None:
        """Settings that do not apply to the declaration's kind."""
        kind = base.type
        if kind not in ("integer", "decimal") and (base.minimum is not None or base.maximum is not None):
            self.problem("E103", f"minimum and maximum apply to numbers, not to {kind}", pointer)
        if kind != "list" and base.max_items is not None:
            self.problem("E103", f"max_items applies to lists, not to {kind}", pointer_join(pointer, "max_items"))
        if kind not in ("string", "enum") and base.max_length is not None:
            self.problem("E103", f"max_length applies to strings, not to {kind}", pointer_join(pointer, "max_length"))


# --------------------------------------------------------------------------------------------
# validation of assessments
# --------------------------------------------------------------------------------------------

_ABSENT = object()

#: At most this many problems of one assessment are listed; one more problem says how many were not.
MAX_DIAGNOSTICS = 1_000
#: At most this many members of one object that it does not declare are named (A002); one more
#: problem, at the object, says how many more there are.
MAX_UNKNOWN_KEYS = 100
#: At most this many "did you mean" searches (difflib) for one assessment, each for a text of at
#: most `_SUGGEST_CHARS` characters.
MAX_SUGGESTIONS = 20
_SUGGEST_CHARS = 100
#: A lone surrogate: a ``str`` may hold one (made in Python, or read from a JSON ``\ud800``
#: escape), but no UTF-8 text does, so no canonical JSON can be written of it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _Problems(list[Diagnostic]):
    """The problems of one validation: at most `MAX_DIAGNOSTICS` listed, the others counted (with
    the code of the first of them), and the searches for suggestions left."""

    __slots__ = ("dropped", "dropped_code", "searches")

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0
        self.dropped_code = ""
        self.searches = MAX_SUGGESTIONS


def _not_plain() -> bool:
    """Raised from the generated validation where only the plain validation can say what a key
    is (not a plain ``str``): `AssessmentValidator.validate` then runs it."""
    raise TypeError("a key that is not a plain str")


class AssessmentValidator:
    """Validates an assessment (already parsed to Python values) against resolved inputs."""

    def __init__(self, root: Field) -> None:
        self.root = root
        self._check: Callable[[Any, Any, list[None] | None], Any] | None = None
        self._unordered: Callable[[Any], Any] | None = None
        # the generated validations' sources, for reading and for the tests
        self.ordered_source = ""
        self.unordered_source = ""

    def validate(self, data: Any, *, ignore_unknown: list[str] | None = None) -> tuple[dict[str, Any],
                                                                                        list[Diagnostic]]:
        """Return the normalised assessment and the list of problems (empty when valid).

        With ``ignore_unknown`` (a list), fields the version does not declare are left out and
        their JSON pointers appended to it, instead of being reported (A002): the same as
        validating the data projected onto the declared inputs.

        One validator, two paths: a valid assessment is checked by straight-line code generated
        from the declared inputs on first use (the fast path, see `_generate`); anything it does
        not accept is validated again value by value (`validate_plain`), which names every
        problem. Both give the same result (the property suite checks it).
        """
        if self._check is None:
            self._check, self.ordered_source = _generate(self.root, ordered=True)
        skipped: list[None] | None = [] if ignore_unknown is not None else None
        try:
            value = self._check(data, "", skipped)
            if value is not _FAIL and skipped:  # fields were left out: name them, in the order validate_plain does
                assert ignore_unknown is not None
                names: list[str] = []
                if _undeclared(data, self.root, "", names):
                    ignore_unknown.extend(names)
                else:
                    value = _FAIL  # a key that is not plain text: the plain validation says so
        except Exception:  # a key's own __eq__ raising, a dict changed meanwhile by another thread:
            value = _FAIL  # the plain validation decides, from a snapshot, calling nothing of the caller's
        if value is not _FAIL:
            return value, []
        return self.validate_plain(data, ignore_unknown=ignore_unknown)

    @functools.cached_property
    def typed(self) -> bool:
        """Whether every declared input has a type all the way down (no untyped part)."""
        return _typed_all(self.root)

    def validate_unordered(self, data: Any) -> dict[str, Any] | None:
        """The normalised assessment when it is valid and has no field the version does not
        declare, else None (then `validate` names the problems). For a caller that reads
        the data by key only, such as the decision writer: the values are those of
        `validate`, but an object's members come in declared order, not the input's.
        Straight-line code generated from the declared inputs does the checking.
        """
        if self._unordered is None:
            self._unordered, self.unordered_source = _generate(self.root, ordered=False)
        try:
            value = self._unordered(data)
        except Exception:  # a key's own __eq__ raising, a dict changed meanwhile: `validate` says what it is
            return None
        return None if value is _FAIL else value

    def validate_plain(self, data: Any, *, ignore_unknown: list[str] | None = None) -> tuple[dict[str, Any],
                                                                                              list[Diagnostic]]:
        """`validate`, value by value, collecting every problem with its JSON pointer (at most
        `MAX_DIAGNOSTICS`, then one more saying how many more there are)."""
        diags = _Problems()
        value = self._value(self.root, data, "", diags, ignore_unknown)
        problems = list(diags)
        if diags.dropped:
            problems.append(Diagnostic(diags.dropped_code, f"{diags.dropped} more problems are not listed "
                                       f"(at most {MAX_DIAGNOSTICS} are)", pointer=""))
        if type(value) is not dict:
            return {}, problems
        return value, problems

    def _err(self, diags: _Problems, code: str, pointer: Path, message: str,
             suggestion: str | None = None) -> object:
        if len(diags) < MAX_DIAGNOSTICS:
            diags.append(Diagnostic(code, message, pointer=pointer_of(pointer), suggestion=suggestion))
        else:
            if not diags.dropped:
                diags.dropped_code = code
            diags.dropped += 1
        return _ABSENT

    @staticmethod
    def _suggest(diags: _Problems, word: str, candidates: Iterable[str]) -> str | None:
        """``did you mean`` for a short word, while the validation's searches last (difflib's work
        grows with the candidates and the word's length)."""
        if diags.searches <= 0 or len(word) > _SUGGEST_CHARS or len(diags) >= MAX_DIAGNOSTICS:
            return None
        diags.searches -= 1
        return did_you_mean(word, candidates)

    def _value(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None = None) -> Any:
        """One value against its declaration: the normalised value, or _ABSENT with its problems
        appended to ``diags`` (each with its JSON pointer)."""
        check = _PLAIN.get(f.kind)
        return v if check is None else check(self, f, v, p, diags, ignored)

    def _boolean(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        if type(v) is not bool:
            return self._err(diags, "A003", p, f"expected true or false, got {_show(v)}")
        return v

    def _integer(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        if type(v) is not int:
            whole = whole_number(v)
            if whole is None:
                return self._err(diags, "A003", p, f"expected a whole number, got {_show(v)}")
            if whole is TOO_LARGE:
                return self._err(diags, "A004", p, "the integer is too large (at most 2^53 - 1)")
            v = whole  # 124.0 or 1.24e2 is the integer 124, as in JSON and JSON Schema
        if abs(v) > MAX_INTEGER:
            return self._err(diags, "A004", p, "the integer is too large (at most 2^53 - 1)")
        return self._range(f, v, p, diags)

    def _decimal(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        cls = type(v)
        if cls is int:
            if abs(v) > MAX_INTEGER:
                return self._err(diags, "A004", p, "the number is too large (at most 2^53 - 1)")
            return self._range(f, v, p, diags)
        if cls is float:
            # a Python float stands for its shortest decimal text, as JSON would write it
            if v != v or v in _INFINITIES:
                return self._err(diags, "A003", p, "expected a finite number")
            v = Decimal(repr(v))
        elif cls is not Decimal:
            plain = plain_number(v)  # a subclass's value, read without calling its methods
            if plain is None:
                return self._err(diags, "A003", p, f"expected a number, got {_show(v)}")
            return self._decimal(f, plain, p, diags, ignored)
        if not v.is_finite():
            return self._err(diags, "A003", p, "expected a finite number")
        problem = decimal_problem(v)
        if problem == "large":
            return self._err(diags, "A004", p, "the number is too large (at most 2^53 - 1)")
        if problem is not None:
            return self._err(diags, "A004", p, f"the number {_show(v)} has more precision or magnitude "
                             f"than allowed (at most {MAX_SIGNIFICANT_DIGITS} significant digits)")
        return self._range(f, v, p, diags)

    def _date(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        cls = type(v)
        if cls is not str and cls is not dt.date:
            if issubclass(cls, dt.datetime):
                return self._err(diags, "A003", p, "expected a date (YYYY-MM-DD), got a date and time")
            plain = plain_date(v)  # a subclass's date or text, read without calling its methods
            if plain is None:
                return self._err(diags, "A003", p, f"expected a date (YYYY-MM-DD), got {_show(v)}")
            v = plain
        if type(v) is dt.date:
            return self._in_calendar(f, v, p, diags)
        if not _DATE.match(v):
            return self._err(diags, "A003", p, f"expected a date (YYYY-MM-DD), got {_show(v)}")
        try:
            day = dt.date.fromisoformat(v)
        except ValueError:
            return self._err(diags, "A004", p, f"{_show(v)} is not a calendar date")
        return self._in_calendar(f, day, p, diags)

    def _string(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        cls = type(v)
        if cls is not str:
            if not issubclass(cls, str):
                return self._err(diags, "A003", p, f"expected a string, got {_show(v)}")
            v = str.__str__(v)  # a subclass's text, copied without calling its methods
        if len(v) > f.max_length:
            return self._err(diags, "A004", p, f"the string is longer than {f.max_length} characters")
        if not v.isascii() and _SURROGATE.search(v):
            return self._err(diags, "A004", p, f"the string {_show(v)} holds a lone surrogate, which is not text "
                             "(it has no UTF-8 form)")
        if f.kind == "enum" and v not in (f.spec.values or ()):
            return self._err(diags, "A004", p, f"{_show(v)} is not one of: {', '.join(f.spec.values or ())}",
                             self._suggest(diags, v, f.spec.values or ()))
        if f.pattern is not None and not f.pattern.fullmatch(v):
            return self._err(diags, "A004", p, f"{_show(v)} does not match the pattern {f.spec.pattern}")
        if f.spec.catalogue and v not in f.catalogue_ids:
            return self._err(diags, "A004", p, f"{_show(v)} is not an id of the catalogue "
                             f"'{f.spec.catalogue}'", self._suggest(diags, v, f.catalogue_ids))
        return v

    def _list(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        if type(v) is not list and not issubclass(type(v), list):
            return self._err(diags, "A003", p, f"expected a list, got {_show(v)}")
        v = list.copy(v)  # the items as they are now (a subclass's too, without calling its methods)
        if len(v) > f.max_items:
            return self._err(diags, "A004", p, f"the list has more than {f.max_items} items")
        out = []
        ok = True
        assert f.items is not None
        for i, item in enumerate(v):
            r = self._value(f.items, item, (p, i), diags, ignored) if item is not None else self._err(
                diags, "A003", (p, i), "a list item cannot be null")
            ok = ok and r is not _ABSENT
            out.append(r)
        return out if ok else _ABSENT

    def _object(self, f: Field, v: Any, p: Path, diags: _Problems, ignored: list[str] | None) -> Any:
        if type(v) is not dict and not issubclass(type(v), dict):
            return self._err(diags, "A003", p, f"expected an object, got {_show(v)}")
        members = f.fields if f.kind == "object" else f.entries
        result: dict[str, Any] = {}
        present: dict[str, Any] = {}
        ok = self._members(f, members, v, p, diags, ignored, result, present)
        ok = self._absent_members(members, present, p, diags, result) and ok
        if not ok:
            return _ABSENT
        for compiled, message, target in f.checks:
            if compiled.fn(result) is False:
                self._err(diags, "A005", (p, target) if target else p, message)
                ok = False
        return result if ok else _ABSENT

    def _members(self, f: Field, members: dict[str, Field], v: dict[Any, Any], p: Path, diags: _Problems,
                 ignored: list[str] | None, result: dict[str, Any], present: dict[str, Any]) -> bool:
        """The members present, in the input's order, into ``result`` (and, as given, into
        ``present``); False when one is wrong. The members are read once, from a snapshot taken at
        C level (another thread may change ``v`` meanwhile; a subclass's methods are not called)."""
        ok = True
        unknown = 0
        for key, item in list(dict.items(v)):
            if type(key) is not str:
                if not issubclass(type(key), str):
                    self._err(diags, "A003", p, f"a key of an object must be a string, got {_show(key)}")
                    ok = False
                    continue
                key = str.__str__(key)  # a subclass's text, copied without calling its methods
            child = (p, key)
            sub = members.get(key)
            if sub is None:
                if not key.isascii() and _SURROGATE.search(key):
                    self._err(diags, "A004", p, f"the key {_show(key)} holds a lone surrogate, which is not text "
                              "(it has no UTF-8 form)")
                    ok = False
                    continue
                if ignored is not None:
                    ignored.append(pointer_of(child))
                    continue
                unknown += 1
                if unknown <= MAX_UNKNOWN_KEYS:
                    what = "unknown field" if f.kind == "object" else f"not an id of the catalogue '{f.spec.catalogue}'"
                    self._err(diags, "A002", child, f"{_show(key)}: {what}", self._suggest(diags, key, members))
                ok = False
                continue
            if key in present:  # two keys of one text (a str and a subclass of str that hashes apart)
                self._err(diags, "A003", child, f"the key {_show(key)} is given twice")
                ok = False
                continue
            present[key] = item
            if item is None:
                # null is "not known", like an absent field (a declared default still applies)
                if sub.required:
                    self._err(diags, "A001", child, "a required field cannot be null")
                    ok = False
                continue
            r = self._value(sub, item, child, diags, ignored)
            if r is _ABSENT:
                ok = False
            else:
                result[key] = r
        if unknown > MAX_UNKNOWN_KEYS:
            what = "fields the object does not declare" if f.kind == "object" else \
                f"keys that are not ids of the catalogue '{f.spec.catalogue}'"
            self._err(diags, "A002", p, f"and {unknown - MAX_UNKNOWN_KEYS} more {what} "
                      f"(the first {MAX_UNKNOWN_KEYS} are listed)")
        return ok

    def _absent_members(self, members: dict[str, Field], present: dict[str, Any], p: Path, diags: _Problems,
                        result: dict[str, Any]) -> bool:
        """A required member absent is reported; a list with a default absent (or null) is []."""
        ok = True
        for key, sub in members.items():
            if key in result or (key in present and (present[key] is not None or sub.required)):
                continue  # present, or a required null already reported
            if sub.required:
                self._err(diags, "A001", (p, key), f"the required field '{key}' is missing")
                ok = False
            elif sub.kind == "list" and sub.spec.default == []:
                result[key] = []
        return ok

    def _in_calendar(self, f: Field, day: dt.date, p: Path, diags: _Problems) -> Any:
        if f.date_range is None or f.date_range[0] <= day <= f.date_range[1]:
            return day
        low, high = f.date_shift
        if day > f.date_range[1]:
            return self._err(diags, "A004", p, f"the date {day.isoformat()} is too late for this version: its "
                             f"rules count up to {high} months after it (month_end), past 9999-12-31; "
                             f"the latest date they can take is {f.date_range[1].isoformat()}")
        return self._err(diags, "A004", p, f"the date {day.isoformat()} is too early for this version: its "
                         f"rules count back {-low} months from it (month_end), before 0001-01-01; "
                         f"the earliest date they can take is {f.date_range[0].isoformat()}")

    def _range(self, f: Field, v: int | Decimal, p: Path, diags: _Problems) -> Any:
        lo, hi = f.spec.minimum, f.spec.maximum
        if lo is not None and v < lo:
            return self._err(diags, "A004", p, f"{_show(v)} is below the minimum {lo}")
        if hi is not None and v > hi:
            return self._err(diags, "A004", p, f"{_show(v)} is above the maximum {hi}")
        return v


#: The plain validation of each kind of input (AssessmentValidator._value dispatches on it).
_PLAIN: dict[str, Callable[..., Any]] = {
    "boolean": AssessmentValidator._boolean, "integer": AssessmentValidator._integer,
    "decimal": AssessmentValidator._decimal, "date": AssessmentValidator._date,
    "string": AssessmentValidator._string, "enum": AssessmentValidator._string,
    "list": AssessmentValidator._list, "object": AssessmentValidator._object, "map": AssessmentValidator._object,
}

_FAIL: Any = object()
#: (value, where it sits, the list of ignored pointers or None) -> the normalised value, or _FAIL
Checker = Callable[[Any, Path, "list[str] | None"], Any]
_INFINITIES = (float("inf"), float("-inf"))
#: What `whole_number` gives for a whole number beyond 2^53 - 1 in magnitude.
TOO_LARGE: Any = object()


def whole_number(v: Any) -> Any:
    """The integer a float or Decimal (or an instance of a subclass of int, float or Decimal,
    read by `plain_number`) stands for when it is a finite whole number (``124.0``, ``1.24E+2``):
    an int, or `TOO_LARGE` beyond 2^53 - 1 in magnitude (never built then); None for anything
    else (a bool, 1.5, NaN). JSON and JSON Schema compare numbers by value, so an integer input
    takes 124.0 as 124. Exact whatever the caller's decimal context (``1E+1000000`` is
    `TOO_LARGE`, never decimal.Overflow)."""
    cls = type(v)
    if cls is float:
        if v != v or v in _INFINITIES or not v.is_integer():
            return None
        return int(v) if abs(v) <= MAX_INTEGER else TOO_LARGE
    if cls is not Decimal:
        plain = plain_number(v)
        if plain is None or type(plain) is not int:
            return None if plain is None else whole_number(plain)
        return plain if -MAX_INTEGER <= plain <= MAX_INTEGER else TOO_LARGE
    if not v.is_finite() or v != v.to_integral_value(context=EXACT_CONTEXT):
        return None
    return int(v) if -MAX_INTEGER <= v <= MAX_INTEGER else TOO_LARGE  # comparisons are exact


def plain_number(v: Any) -> int | float | Decimal | None:
    """``v`` when its class is int, float or Decimal; the plain int, float or Decimal of an
    instance of a subclass of one of them, copied at C level (``int.__index__``,
    ``float.__float__``, ``Decimal(v)``: no method the subclass defines is called); None for
    anything else (a bool is not a number)."""
    cls = type(v)
    if cls is int or cls is float or cls is Decimal:
        return v  # type: ignore[no-any-return]
    if cls is bool:
        return None
    if issubclass(cls, int):
        return int.__index__(v)
    if issubclass(cls, float):
        return float.__float__(v)
    if issubclass(cls, Decimal):
        return Decimal(v)
    return None


def plain_date(v: Any) -> dt.date | str | None:
    """The plain date of an instance of a subclass of ``date`` (never a ``datetime``), or the
    plain text of an instance of a subclass of ``str``, copied at C level (``date.toordinal``,
    ``str.__str__``: no method the subclass defines is called); None for anything else."""
    cls = type(v)
    if issubclass(cls, dt.datetime):
        return None
    if issubclass(cls, dt.date):
        return dt.date.fromordinal(dt.date.toordinal(v))
    if issubclass(cls, str):
        return str.__str__(v)
    return None


def decimal_problem(v: Decimal) -> str | None:
    """Why a finite decimal input value is refused, decided by its value (never by how it is
    written: ``0E-20`` is zero, ``2.50`` is 2.5): ``"large"`` beyond 2^53 - 1 in magnitude,
    ``"precision"`` for a number that is not whole with more than 15 significant digits or
    nearer zero than 10^-15; None when canonical JSON (IEEE doubles) carries it exactly.
    Decided exactly whatever the caller's decimal context (its precision, exponents and traps)."""
    exponent = v.adjusted()
    if -15 <= exponent < 15 and significant_digits(v) <= MAX_SIGNIFICANT_DIGITS:
        return None  # the common case: below 10^15 with at most 15 digits
    if not v:
        return None
    if exponent > 15 or not -MAX_INTEGER <= v <= MAX_INTEGER:  # the exponent first: no huge integer is built
        return "large"
    return None if v == v.to_integral_value(context=EXACT_CONTEXT) else "precision"

#: Results remembered per decimal or date input (floats and strings seen before). Bounded in
#: bytes as well: a float key and its Decimal are some 200 bytes, and only a string of a date's
#: length is remembered (`MEMO_DATE_CHARS`), so a table holds at most about 1 MiB.
MEMO_LIMIT = 4096
MEMO_DATE_CHARS = 10


def _date(v: Any) -> Any:
    if type(v) is not str or not _DATE.match(v):
        return _FAIL
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        return _FAIL


def _ranged(f: Field) -> Callable[[Any], Any]:
    lo, hi = f.spec.minimum, f.spec.maximum
    if lo is None and hi is None:
        return lambda v: v
    return lambda v: _FAIL if (lo is not None and v < lo) or (hi is not None and v > hi) else v


def _checker(f: Field) -> Checker:
    """The compiled check of a decimal or a date input, which the generated validation calls
    (after a look in its memo): the normalised value when it accepts, _FAIL on anything
    `AssessmentValidator.validate_plain` would report. Any other kind is checked in place."""
    if f.kind == "decimal":
        return _decimal_checker(f)
    if f.kind == "date":
        return _date_checker(f)
    return lambda v, p, ig: v


def _decimal_checker(f: Field) -> Checker:
    ranged = _ranged(f)
    floats: dict[float, Any] = {}  # a float's result, remembered (not zero: -0.0 == 0.0)

    def decimal(v: Any, p: Path, ig: list[str] | None) -> Any:
        cls = type(v)
        if cls is int:
            return ranged(v) if abs(v) <= MAX_INTEGER else _FAIL
        if cls is float:
            found = floats.get(v)
            if found is not None:
                return found
            if v != v or v in _INFINITIES:
                return _FAIL
            r = _decimal(Decimal(repr(v)))
            if v and len(floats) < MEMO_LIMIT:
                floats[v] = r
            return r
        if cls is not Decimal:
            plain = plain_number(v)  # a subclass's value (its methods are not called)
            return _FAIL if plain is None else decimal(plain, p, ig)
        return _decimal(v)

    def _decimal(v: Decimal) -> Any:
        if not v.is_finite() or decimal_problem(v) is not None:
            return _FAIL
        return ranged(v)

    decimal.memo = floats  # type: ignore[attr-defined]  # read by the generated validation
    return decimal


def _date_checker(f: Field) -> Checker:
    dates: dict[str, Any] = {}  # a string's result, remembered
    bounds = f.date_range

    def parsed(v: Any) -> Any:
        day = _date(v)
        if bounds is not None and day is not _FAIL and not bounds[0] <= day <= bounds[1]:
            return _FAIL
        return day

    def date(v: Any, p: Path, ig: list[str] | None) -> Any:
        cls = type(v)
        if cls is str:
            found = dates.get(v)
            if found is None:
                found = parsed(v)
                if len(dates) < MEMO_LIMIT and len(v) <= MEMO_DATE_CHARS:
                    dates[v] = found
            return found
        if cls is dt.date:
            return v if bounds is None or bounds[0] <= v <= bounds[1] else _FAIL
        plain = plain_date(v)  # a subclass's date or text (its methods are not called); a datetime is not a date
        return _FAIL if plain is None else date(plain, p, ig)

    date.memo = dates  # type: ignore[attr-defined]
    return date


def _typed_all(f: Field) -> bool:
    if f.kind == "any":
        return False
    if f.kind == "list":
        return f.items is not None and _typed_all(f.items)
    return all(_typed_all(sub) for sub in (*f.fields.values(), *f.entries.values()))


def _in_input_order(v: dict[str, Any], r: dict[str, Any], defaults: tuple[str, ...]) -> dict[str, Any]:
    """An object's normalised members in the input's order, then the defaults ([]) of lists
    absent or null, in declared order: the order `validate_plain` gives them. A key that is not a
    plain ``str`` (a subclass's instance, which the lookups may have taken for a declared key)
    raises TypeError (`_not_plain`): the plain validation then reads the object."""
    out = {k: r[k] for k, x in v.items() if (type(k) is str or _not_plain()) and x is not None and k in r}
    if len(out) != len(r):
        for k in defaults:
            if k not in out:
                out[k] = []
    return out


def _generate(root: Field, *, ordered: bool) -> tuple[Callable[..., Any], str]:
    """The fast path of the validator: the success path of `AssessmentValidator.validate_plain`
    as straight-line code, one function per object or map, each declared member read by key and
    its value checked in place (decimals and dates by their compiled check, after a look in its
    memo). Only generated names and numbers go into the source: keys, bounds and checks are
    bound in its namespace.

    ``ordered`` (for `AssessmentValidator.validate`): each function takes ``(v, p, ig)`` and
    gives an object's members in the input's order; a field that is not declared is _FAIL, or,
    when ``ig`` is a list, left out with a mark (None) appended to ``ig`` (the caller then names
    the fields left out, `_undeclared`). Otherwise (for `AssessmentValidator.validate_unordered`):
    ``(v)``, members in declared order, and a field not declared is _FAIL.
    """
    ns: dict[str, Any] = {"F": _FAIL, "M": MISSING, "MAXI": MAX_INTEGER, "O": _in_input_order, "WHOLE": whole_number,
                          "SUR": _SURROGATE.search}
    functions: list[str] = []
    args, call_args = ("(v, p, ig)", "({x}, p, ig)") if ordered else ("(v)", "({x})")

    def const(prefix: str, value: Any) -> str:
        name = f"{prefix}{len(ns)}"
        ns[name] = value
        return name

    def obj(f: Field) -> str:
        name = f"o{len(functions)}"
        functions.append("")  # this function's place, filled below (nested ones come after it)
        index = len(functions) - 1
        members = f.fields if f.kind == "object" else f.entries
        lines = [f"def {name}{args}:", "    if type(v) is not dict:", "        return F", "    r = {}", "    n = 0"]
        # unordered: first, when the object has as many members as are declared, each read by subscript (a
        # KeyError: one is not declared, and the reading below refuses it), with no count of the members seen
        every = ["    r = {}"]
        defaults = []
        for key, sub in members.items():
            k = const("K", key)
            checked = leaf(sub, "x")
            lines += [f"    x = v.get({k}, M)", "    if x is not M:", "        n += 1", "        if x is not None:"]
            lines += ["            " + line for line in checked]
            lines.append(f"            r[{k}] = x")
            every += [f"    x = v[{k}]", "    if x is not None:", *("        " + line for line in checked),
                      f"        r[{k}] = x"]
            if sub.required:
                lines += ["        else:", "            return F", "    else:", "        return F"]
                every += ["    else:", "        return F"]
            elif sub.kind == "list" and sub.spec.default == []:
                lines += [f"    if {k} not in r:", f"        r[{k}] = []"]
                every += [f"    if {k} not in r:", f"        r[{k}] = []"]
                defaults.append(key)
        lines += ["    if n != len(v):"]  # a key that is not declared: refused, or left out and marked in ig
        lines += ["        if ig is None:", "            return F", "        ig.append(None)"] if ordered else \
            ["        return F"]
        checks = []
        for compiled, _, _ in f.checks:
            checks += [f"    if {const('C', compiled.fn)}(r) is False:", "        return F"]
        lines += checks
        lines.append(f"    return O(v, r, {const('D', tuple(defaults))})" if ordered else "    return r")
        if not ordered:
            every += [*checks, "    return r"]
            lines[3:3] = [f"    if len(v) == {len(members)}:", "        try:",
                          *("        " + line for line in every), "        except KeyError:", "            pass"]
        functions[index] = "\n".join(lines)
        return name

    def leaf(sub: Field, x: str) -> list[str]:
        """Check and normalise the value in variable ``x`` in place (``return F`` when it fails)."""
        kind = sub.kind
        if kind == "boolean":
            return [f"if type({x}) is not bool:", "    return F"]
        if kind == "integer":
            # one chained comparison: the declared bounds, within what an integer input may hold
            lo, hi = sub.spec.minimum, sub.spec.maximum
            low = "-MAXI" if lo is None else const("L", max(-MAX_INTEGER, lo))
            high = "MAXI" if hi is None else const("H", min(MAX_INTEGER, hi))
            return [f"if type({x}) is not int:", f"    {x} = WHOLE({x})", f"    if type({x}) is not int:",
                    "        return F", f"if not {low} <= {x} <= {high}:", "    return F"]
        if kind in ("object", "map"):
            return [f"{x} = {obj(sub)}{call_args.format(x=x)}", f"if {x} is F:", "    return F"]
        if kind == "list" and sub.items is not None:
            item, done = f"{x}i", f"{x}o"
            lines = [f"if type({x}) is not list or len({x}) > {int(sub.max_items)}:", "    return F",
                     f"{done} = []", f"for {item} in {x}:", f"    if {item} is None:", "        return F"]
            lines += ["    " + line for line in leaf(sub.items, item)]
            # the list read as it is given (another thread adding to it meanwhile: no more than declared)
            return [*lines, f"    {done}.append({item})", f"if len({done}) > {int(sub.max_items)}:", "    return F",
                    f"{x} = {done}"]
        if kind in ("string", "enum"):
            out = [f"if type({x}) is not str or len({x}) > {int(sub.max_length)}:", "    return F"]
            if kind == "string" and sub.pattern is None and not sub.spec.catalogue:
                # a lone surrogate is not text (a pattern, an enum or a catalogue refuses it anyway)
                out += [f"if not {x}.isascii() and SUR({x}):", "    return F"]
            if kind == "enum":
                out += [f"if {x} not in {const('V', frozenset(sub.spec.values or ()))}:", "    return F"]
            if sub.pattern is not None:
                out += [f"if not {const('P', sub.pattern)}.fullmatch({x}):", "    return F"]
            if sub.spec.catalogue:
                out += [f"if {x} not in {const('I', frozenset(sub.catalogue_ids))}:", "    return F"]
            return out
        # decimals and dates: their compiled checker, after a look in its memo (floats, strings)
        checker = _checker(sub)
        memo = getattr(checker, "memo", None)
        call = f"{x} = {const('X', checker)}({x}, '', None)"
        if memo is None:
            return [call, f"if {x} is F:", "    return F"]
        remembered = "float" if kind == "decimal" else "str"
        return [f"if type({x}) is {remembered}:", f"    y = {const('R', memo)}.get({x})",
                "    if y is None:", f"        {call}", "    else:", f"        {x} = y",
                "else:", f"    {call}", f"if {x} is F:", "    return F"]

    root_name = obj(root)
    source = "\n\n".join(functions)
    exec(compile(source, "<ecei-rules: validate>", "exec"), ns)  # names only, see above
    function: Callable[[Any], Any] = ns[root_name]
    return function, source


#: The name a class was made with, read from the class itself (a metaclass may define its own
#: ``__name__``, which ``type(v).__name__`` would call).
_TYPE_NAME = type.__dict__["__name__"]
#: Integers below this in magnitude are shown with their digits; larger ones by their number of digits.
_SHOWN_INT = 10**40
#: An integer of at most this many bits has its digits counted exactly (10**n is cheap below it).
_COUNTED_BITS = 1 << 17


def _show(v: Any) -> str:
    """A value in a message, at most some 40 characters, made without calling any method a
    caller's class defines (a subclass of str, int or Decimal is shown by its plain value; an
    object by the name of its class) and for any size of value (``str()`` refuses an int of more
    than 4,300 digits; such an integer is shown by its number of digits)."""
    cls = type(v)
    if v is None:
        return "null"
    if cls is bool:
        return "true" if v else "false"
    if issubclass(cls, str):
        text = str.__str__(v)
        return repr(text if len(text) <= 40 else text[:37] + "...")  # repr escapes controls and lone surrogates
    if issubclass(cls, int):
        return _show_int(int.__index__(v))
    if issubclass(cls, Decimal):
        text = EXACT_CONTEXT.to_sci_string(v)  # the value's own digits, whatever the caller's context
        return text if len(text) <= 40 else text[:20] + "...(" + str(len(text)) + " characters)"
    if issubclass(cls, list):
        return "a list"
    if issubclass(cls, dict):
        return "an object"
    name = str.__str__(_TYPE_NAME.__get__(cls))  # a class's name may be set to an instance of a subclass of str
    name = name if len(name) <= 40 else name[:37] + "..."
    return name if name.isascii() and name.isprintable() else ascii(name)


def _show_int(v: int) -> str:
    """An integer with its digits, or, beyond 40 digits, as ``an integer of N digits``."""
    if -_SHOWN_INT < v < _SHOWN_INT:
        return int.__repr__(v)
    bits = abs(v).bit_length()
    digits = (bits - 1) * 30103 // 100000 + 1  # 2^(bits-1) <= |v| < 2^bits: this many digits, or one more
    if bits > _COUNTED_BITS:
        return f"an integer of about {digits} digits"
    return f"an integer of {digits + (abs(v) >= 10**digits)} digits"


#: What the assessment JSON Schema cannot say: the engine's checks that a document the schema
#: accepts may still fail. Each is named in the schema where it applies, by a keyword of its own
#: (validators ignore them); none lets the schema refuse a document the engine accepts.
SCHEMA_RESIDUE = (
    "A decimal input that is not a whole number has at most 15 significant digits (A004): the "
    "schema states it from 10^14 up (multipleOf 1) and marks every decimal input with "
    "'x-ecei-significant-digits', because below that it needs multipleOf with a decimal fraction, "
    "which common validators compute in binary floating point and so would refuse valid numbers "
    "(0.07 / 0.01 is 7.000000000000001 there): 0.30000000000000004 passes the schema. "
    "A consistency check across fields (A005) is listed in 'x-ecei-checks' on its object. "
    "A pattern is RE2 syntax, in 'x-ecei-pattern'; 'pattern' is the same set of strings in the "
    "syntax that ECMA-262 (u flag), Python's re and RE2 read alike; where the RE2 text has no "
    "such form (flags, \\b, \\pL, POSIX classes), 'pattern' only refuses lone surrogates and the "
    "engine alone checks the RE2 pattern. "
    "A validator that reads numbers as IEEE doubles judges the nearest double: a number written "
    "with more digits than a double holds (1.0000000000000001, 1e-400) can pass where the "
    "engine, which reads the exact decimal, refuses it. The document itself must parse (A006): "
    "no duplicate key, no lone surrogate escape, numbers of at most 400 characters."
)
_WHOLE_FROM = 10**14  # from here up, a decimal of at most 15 significant digits is a whole number
_TINY = 1e-15  # a nonzero decimal is at least 10^-15 in magnitude (exact in binary: 1e-15 >= 10^-15)


class _Inputs(Protocol):
    @property
    def inputs(self) -> Field: ...


class _Version(Protocol):
    """What `assessment_schema` reads of a loaded version (a `Ruleset`)."""

    @property
    def methodology(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def plan(self) -> _Inputs: ...


def assessment_schema(ruleset: _Version) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the assessments one version accepts, for forms,
    editors and platforms that check a document before sending it.

    It states every type, range, enumeration, pattern, catalogue id, length and list size the
    version declares; a date must be a real calendar date (``2021-02-30`` fails its pattern); an
    optional member may be null ("not known"), a required one may not; an integer is a number of
    value (``124.0`` and ``1e2`` are integers, to the engine too). A document the engine accepts
    always passes the schema. What JSON Schema cannot say, the schema marks where it applies,
    with keywords that validators ignore (and the ``$comment`` says in words):

    - ``x-ecei-significant-digits`` (15) on a decimal input: a number that is not whole has at
      most 15 significant digits (A004). From 10^14 up the schema states it (``multipleOf: 1``);
      below, it would need ``multipleOf`` with a decimal fraction, which common validators
      compute in binary floating point and then refuse valid numbers, so
      ``0.30000000000000004`` passes the schema and is refused by the engine;
    - ``x-ecei-checks`` on an object: its consistency checks across fields (A005), each with its
      rule, its message and the field it names;
    - ``x-ecei-pattern`` on a string: the declared pattern (RE2 syntax, matched against the whole
      value); ``pattern`` says the same in the syntax ECMA-262, Python's ``re`` and RE2 read
      alike; where the RE2 text has no such form (``(?i)``, ``\\b``, ``\\pL``), ``pattern`` only
      refuses lone surrogates (as for any text) and the engine alone checks the RE2 pattern.

    A validator that reads numbers as IEEE doubles judges the nearest double (see the
    ``$comment``), and the document must parse (A006: no duplicate key).

    Examples:
        >>> from ecei_rules import assessment_schema
        >>> from ecei_rules.registry import Registry
        >>> schema = assessment_schema(Registry.shipped().get("ecei-labels", "3.0.1"))
        >>> schema["title"], schema["required"]
        ('ecei-labels 3.0.1 assessment', ['organisation', 'assessed_on'])
        >>> schema["properties"]["eligibility"]["x-ecei-checks"][0]["rule"]
        'private_participants <= committed_participants'
    """
    return json_schema(ruleset.plan.inputs, title=f"{ruleset.methodology} {ruleset.version} assessment")


def json_schema(f: Field, *, title: str | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the assessments a resolved input tree accepts (for
    what it cannot say, see `SCHEMA_RESIDUE`)."""
    schema = _schema(f)
    if title is not None:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                  "$comment": "The engine also checks: " + SCHEMA_RESIDUE, **schema}
    return schema


def _schema(f: Field, *, nullable: bool = False) -> dict[str, Any]:
    """One declared input's schema; ``nullable`` for an optional member of an object or map
    (null is "not known", like an absent member)."""
    out: dict[str, Any] = {}
    if f.spec.description:
        out["description"] = f.spec.description
    out.update(_KIND_SCHEMAS.get(f.kind, _any_schema)(f))
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _any_schema(f: Field) -> dict[str, Any]:
    return {}


def _boolean_schema(f: Field) -> dict[str, Any]:
    return {"type": "boolean"}


def _integer_schema(f: Field) -> dict[str, Any]:
    return {"type": "integer", **_bounds(f)}


def _decimal_schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", **_bounds(f)}
    lo, hi = f.spec.minimum, f.spec.maximum
    if (lo is None or lo < _TINY) and (hi is None or hi > -_TINY):
        # a nonzero number nearer zero than 10^-15 has too small a magnitude
        out["not"] = {"type": "number", "exclusiveMinimum": -_TINY, "exclusiveMaximum": _TINY, "not": {"const": 0}}
    if (lo is None or lo <= -_WHOLE_FROM) or (hi is None or hi >= _WHOLE_FROM):
        # from 10^14 up, 15 significant digits leave no fraction: a whole number (an integer
        # divisor, which validators compute exactly)
        out["anyOf"] = [{"exclusiveMinimum": -_WHOLE_FROM, "exclusiveMaximum": _WHOLE_FROM}, {"multipleOf": 1}]
    out["x-ecei-significant-digits"] = MAX_SIGNIFICANT_DIGITS
    return out


def _bounds(f: Field) -> dict[str, Any]:
    """minimum and maximum: the declared ones within the engine's +-(2^53 - 1)."""
    lo, hi = f.spec.minimum, f.spec.maximum
    return {"minimum": _num(lo) if lo is not None and lo > -MAX_INTEGER else -MAX_INTEGER,
            "maximum": _num(hi) if hi is not None and hi < MAX_INTEGER else MAX_INTEGER}


def _date_schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "format": "date", "pattern": CALENDAR_DATE}
    if f.date_range is not None:  # the month_end calls of the rules shift the date: it must stay in the calendar
        low, high = (day.isoformat() for day in f.date_range)
        bounds = ([{"type": "string", "pattern": f"^{_at_least(low)}{END}"}] if low > "0001-01-01" else []) + \
            ([{"type": "string", "pattern": f"^{_at_most(high)}{END}"}] if high < "9999-12-31" else [])
        if bounds:
            out["allOf"] = bounds
    return out


def _enum_schema(f: Field) -> dict[str, Any]:
    return {"type": "string", "enum": list(f.spec.values or ())}


def _string_schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if f.catalogue_ids:
        out["enum"] = list(f.catalogue_ids)
    portable = portable_pattern(f.spec.pattern) if f.spec.pattern else None
    if portable is not None:
        out["pattern"] = portable
    elif not f.catalogue_ids:
        out["pattern"] = TEXT  # any text (no lone surrogate); a pattern without a portable form is the engine's
    if f.spec.pattern:
        out["x-ecei-pattern"] = f.spec.pattern
    out["maxLength"] = f.max_length
    return out


def _list_schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "maxItems": f.max_items}
    if f.items is not None:
        out["items"] = _schema(f.items)  # an item is never null
    if f.spec.default == []:
        out["default"] = []
    return out


def _object_schema(f: Field) -> dict[str, Any]:
    members = f.fields if f.kind == "object" else f.entries
    out: dict[str, Any] = {"type": "object", "additionalProperties": False,
                           "properties": {k: _schema(sub, nullable=not sub.required) for k, sub in members.items()}}
    required = [k for k, sub in members.items() if sub.required]
    if required:
        out["required"] = required
    if f.kind == "object" and f.spec.checks:
        out["x-ecei-checks"] = [{"code": "A005", "rule": check.rule, "message": check.message,
                                 **({"field": check.field} if check.field else {})} for check in f.spec.checks]
    return out


_KIND_SCHEMAS: dict[str, Callable[[Field], dict[str, Any]]] = {
    "boolean": _boolean_schema, "integer": _integer_schema, "decimal": _decimal_schema, "date": _date_schema,
    "enum": _enum_schema, "string": _string_schema, "list": _list_schema, "object": _object_schema,
    "map": _object_schema,
}

# A calendar date YYYY-MM-DD from 0001-01-01 to 9999-12-31, leap years included, as a regular
# expression (ASCII digits only): what date.fromisoformat accepts for a ten-character date.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
#: The pattern of a date input: every calendar date, and nothing else (``2021-02-30`` fails it).
CALENDAR_DATE = f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){END}"


def _at_most(bound: str) -> str:
    """A regular expression for the strings of ``bound``'s shape (digits, and '-' where it has
    one) that are at most ``bound``: with digits of the same width, the order of their values
    (dates as YYYY-MM-DD)."""
    return _compare(bound, lambda d: f"[0-{chr(ord(d) - 1)}]" if d > "0" else None)


def _at_least(bound: str) -> str:
    """As `_at_most`, the strings at least ``bound``."""
    return _compare(bound, lambda d: f"[{chr(ord(d) + 1)}-9]" if d < "9" else None)


def _compare(bound: str, beyond: Callable[[str], str | None]) -> str:
    """``bound`` itself, or its first i characters then a digit beyond its (i+1)th, then anything."""
    options = [bound]
    for i, c in enumerate(bound):
        step = beyond(c) if c.isdigit() else None
        if step is not None:
            options.append(bound[:i] + step + "".join("[0-9]" if d.isdigit() else d for d in bound[i + 1:]))
    return "(?:" + "|".join(options) + ")"


def _num(value: Decimal | int) -> int | float:
    return value if isinstance(value, int) else (int(value) if value == value.to_integral_value() else float(value))


def _undeclared(data: Any, f: Field, path: Any, out: list[str]) -> bool:
    """Append the JSON pointers of the fields ``f`` does not declare, depth first in the input's
    order (as `AssessmentValidator.validate_plain` meets them), to ``out``; False (having
    appended some) when a key is not plain text (not a ``str``, or holding a lone surrogate),
    which has no pointer: `AssessmentValidator.validate_plain` then says what it is."""
    kind = f.kind
    if (kind == "object" or kind == "map") and type(data) is dict:
        members = f.fields if kind == "object" else f.entries
        for key, value in list(data.items()):
            if type(key) is not str or (not key.isascii() and _SURROGATE.search(key)):
                return False
            member = members.get(key)
            if member is None:
                out.append(pointer_of((path, key)))
            elif value is not None and not _undeclared(value, member, (path, key), out):
                return False
    elif kind == "list" and type(data) is list and f.items is not None:
        for i, value in enumerate(data):
            if not _undeclared(value, f.items, (path, i), out):
                return False
    return True


def project(data: Any, f: Field, pointer: str = "") -> tuple[Any, list[str]]:
    """Keep only what ``f`` declares; return the projection and the JSON pointers dropped."""
    ignored: list[str] = []
    return _project(data, f, pointer, ignored), ignored


_IMMUTABLE = frozenset({str, int, float, bool, Decimal, dt.date, type(None)})


def _project(data: Any, f: Field, path: Any, ignored: list[str]) -> Any:
    kind = f.kind
    if (kind == "object" or kind == "map") and isinstance(data, dict):
        members = f.fields if kind == "object" else f.entries
        out = {}
        for key, value in data.items():
            member = members.get(key)
            if member is None:
                ignored.append(pointer_of((path, key)))  # the pointer is built only when needed
                continue
            out[key] = _project(value, member, (path, key), ignored)
        return out
    if kind == "list" and isinstance(data, list) and f.items is not None:
        return [_project(value, f.items, (path, i), ignored) for i, value in enumerate(data)]
    return data if data.__class__ in _IMMUTABLE else copy.deepcopy(data)
