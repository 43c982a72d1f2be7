"""A version's declared inputs read from a JSON line in one pass: a msgspec type and its checks.

The batch's fast line path (:mod:`ecei_rules.engine.lines`) reads a line with a decoder made
from the version's declared inputs (`LineReader`): msgspec parses the JSON and checks every
type, bound, enumeration, length and date in the same pass, in C. What it accepts, with the few
checks it cannot make (`LineReader.accepts`: patterns, catalogues, date ranges, an object's
checks, no key twice nor undeclared), is an assessment `AssessmentValidator.validate` accepts,
with the same values, but for one difference the caller deals with: a decimal input written with
a fraction is a float, not a Decimal. The reader is a conservative acceptor: anything it
refuses, or is not sure of, is read again by the exact parser and the validator, which name the
problem or decide it (so a refusal here is never an error, only the slower path).

What it refuses on purpose:

* a ``null`` anywhere (an optional member declared ``NotRequired`` without ``None``), since the
  validator reads null as absent and fills a list's default;
* an integer input written as a float (``124.0``), which the validator takes as 124;
* a line with a colon inside a string: a line is accepted only when its colons are as many as
  the keys decoded (`LineReader.accepts`), so that a key written twice (msgspec keeps the last)
  or a key the version does not declare (msgspec drops it) is never read past;
* a number with 16 digits or more (`exact_floats`), and a float that is zero, nearer zero than
  10^-15 or beyond 2^53 - 1: the validator refuses a decimal input with more than 15 significant
  digits, nearer zero than 10^-15 or larger than 2^53 - 1, and within those the float stands exactly
  for the literal's decimal (decimals of at most 15 significant digits map one to one to doubles);
  a float zero may come from a literal such as 1e-400, which the validator refuses.

A version whose inputs this cannot express (an untyped input, a check that reads a decimal, a
bound that no double holds exactly) has no reader (`line_reader` gives None).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from ecei_rules.core.canonical import significant_digits
from ecei_rules.language.expr import Compiled
from ecei_rules.language.source import Emitter
from ecei_rules.ruleset.inputs import MAX_INTEGER, Field

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; without it every line takes the exact path
    msgspec = None  # type: ignore[assignment]

#: bytes -> the table `exact_floats` reads a line through: a digit or a point is "0", anything else a space.
_NUMBER_CHARS = bytes(48 if (48 <= i <= 57 or i == 46) else 32 for i in range(256))
_LONG = b"0" * 16
#: The least magnitude of a non-zero decimal input (``decimal_problem``: nearer zero is refused).
TINY = 1e-15


def exact_floats(line: bytes) -> bool:
    """Whether no number of the line (a JSON text) has 16 digits or more: then each float parsed from
    it, if it is not zero nor nearer zero than 10^-15 nor beyond 2^53 - 1 (the reader's bounds refuse
    those), stands exactly for its literal's decimal (a string that looks like such a number makes this
    False, which only costs the slower path). An exponent is no matter: below 16 digits, a literal that
    neither overflows nor comes near zero is within the doubles' normal range."""
    return _LONG not in line.translate(_NUMBER_CHARS)


def float_safe(value: Decimal | int) -> bool:
    """Whether a decimal constant compares with a float read from a line (see the module) as it
    compares with the literal's Decimal: at most 15 significant digits and below 10^15 in
    magnitude (so it is a double's shortest decimal, distinct from every other such decimal)."""
    if isinstance(value, int):
        return abs(value) < 10**15
    if not value.is_finite():
        return False
    if not value:
        return True
    digits = significant_digits(value)  # exact, whatever the caller's decimal context
    return digits <= 15 and -15 <= value.adjusted() < 15


class _UnreadableError(Exception):
    """A declaration the reader does not express: the version has no reader."""


class LineReader:
    """One version's line reader: ``decode(line)`` (raises ``msgspec.MsgspecError`` on anything it
    does not accept) and ``accepts(value, colons)``, the checks msgspec does not make, given the
    number of colons in the line; ``source`` is the generated checks' source."""

    def __init__(self, root: Field) -> None:
        self._names = itertools.count()
        self.ns: dict[str, Any] = {"TINY": TINY}
        self.decimals = False  # whether an input is a decimal (floats may be read)
        kind = self._type(root)
        assert msgspec is not None
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder(kind).decode
        self.source = ""
        self.functions: list[str] = []  # the generated functions of the objects' checks
        self.emitter: Emitter | None = None  # what writes them (and the functions of their aggregates)
        self.accepts: Callable[[Any, int], bool] = self._generate(root)

    def _generate(self, root: Field) -> Callable[[Any, int], bool]:
        """The checks msgspec does not make, as one generated function (only generated names and
        whole numbers go into its source; keys, patterns, bounds and checks are bound in ``ns``)."""
        lines = ["def accepts(v, colons):", "    n = 0", *self._checks(root, "v", "    "), "    return n == colons"]
        helpers = self.emitter.helpers if self.emitter is not None else []
        self.source = "\n\n".join([*helpers, *self.functions, "\n".join(lines)]) + "\n"
        exec(compile(self.source, "<ecei-rules: line checks>", "exec"), self.ns)
        accepts: Callable[[Any, int], bool] = self.ns["accepts"]
        return accepts

    # -- the msgspec type -------------------------------------------------------------------
    def _type(self, f: Field) -> Any:
        kind = f.kind
        if kind == "boolean":
            return bool
        if kind == "integer":
            return Annotated[int, _bounds_meta(f, whole=True)]
        if kind == "decimal":
            self.decimals = True
            return Annotated[int, _bounds_meta(f, whole=True)] | Annotated[float, _bounds_meta(f, whole=False)]
        if kind == "date":
            return dt.date
        if kind in ("string", "enum"):
            longest = f.max_length
            if kind == "enum":
                values = tuple(v for v in (f.spec.values or ()) if len(v) <= longest)
                if not values:
                    raise _UnreadableError("an enumeration none of whose values fits its length")
                return Literal[values]
            return Annotated[str, msgspec.Meta(max_length=longest)]
        if kind == "list":
            if f.items is None:
                raise _UnreadableError("a list of untyped items")
            return Annotated[list[self._type(f.items)], msgspec.Meta(max_length=f.max_items)]  # type: ignore[misc]
        if kind in ("object", "map"):
            members = f.fields if kind == "object" else f.entries
            for compiled, _, _ in f.checks:
                if any(_decimal_at(f, pointer) for pointer in compiled.reads) or compiled.params:
                    raise _UnreadableError("an object's check reads a decimal")
            typed: dict[str, Any] = {}
            for key, sub in members.items():
                member = self._type(sub)
                typed[key] = member if sub.required else NotRequired[member]
            return TypedDict(f"Object{next(self._names)}", typed)  # type: ignore[operator]
        raise _UnreadableError(f"an input of kind {kind}")

    # -- the checks msgspec does not make ---------------------------------------------------
    def _const(self, value: Any, prefix: str) -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def _check(self, compiled: Compiled) -> str:
        """The name of a generated function of an object giving its check's value, as the check's closure
        does (written by the condition emitter: `ecei_rules.language.source`)."""
        name = f"check{len(self.functions)}"
        if self.emitter is None:  # one emitter for every check: the names it makes are made once
            self.emitter = Emitter(self.ns, self._read)
        self.functions.append(f"def {name}(env):\n    return {self.emitter.expr(compiled.source)}")
        return name

    def _read(self, keys: tuple[str, ...]) -> str:
        """The expression of an object's member at ``keys`` (UNKNOWN when absent or not in an object)."""
        out = f"env.get({self._const(keys[0], 'K')}, U)"
        for key in keys[1:]:
            t = f"t{len(self.ns)}"
            self.ns[t] = None  # the name is taken
            out = f"({t}.get({self._const(key, 'K')}, U) if ({t} := {out}).__class__ is dict else U)"
        return out

    def _checks(self, f: Field, x: str, indent: str) -> list[str]:
        """The lines checking the value in variable ``x`` (present, not null): ``return False`` when
        it fails; objects add their number of keys to ``n`` and fill their lists' defaults."""
        kind = f.kind
        out: list[str] = []
        if kind in ("string", "enum"):
            if f.pattern is not None:
                out += [f"{indent}if not {self._const(f.pattern, 'P')}.fullmatch({x}):", f"{indent}    return False"]
            if f.spec.catalogue:
                out += [f"{indent}if {x} not in {self._const(frozenset(f.catalogue_ids), 'I')}:",
                        f"{indent}    return False"]
        elif kind == "decimal" and _spans_zero(f):  # zero or nearer zero than TINY, as a float: not read here
            out += [f"{indent}if {x}.__class__ is float and -TINY < {x} < TINY:", f"{indent}    return False"]
        elif kind == "date" and f.date_range is not None:
            low, high = self._const(f.date_range[0], "D"), self._const(f.date_range[1], "D")
            out += [f"{indent}if not {low} <= {x} <= {high}:", f"{indent}    return False"]
        elif kind == "list":
            assert f.items is not None
            inner = self._checks(f.items, f"{x}i", indent + "    ")
            if inner == [f"{indent}    n += len({x}i)"]:  # flat objects: their keys counted at once
                out += [f"{indent}n += sum(map(len, {x}))"]
            elif inner:
                out += [f"{indent}for {x}i in {x}:", *inner]
        elif kind in ("object", "map"):
            members = f.fields if kind == "object" else f.entries
            out += [f"{indent}n += len({x})"]
            for i, (key, sub) in enumerate(members.items()):
                k, y = self._const(key, "K"), f"{x}_{i}"
                inner = self._checks(sub, y, indent + "    ")
                default = sub.kind == "list" and sub.spec.default == [] and not sub.required
                if not inner and not default:
                    continue
                if sub.required:
                    out += [f"{indent}{y} = {x}[{k}]", *(line[4:] for line in inner)]
                    continue
                out += [f"{indent}{y} = {x}.get({k})"]
                if inner:
                    out += [f"{indent}if {y} is not None:", *inner]
                if default:
                    out += [f"{indent}if {y} is None:", f"{indent}    {x}[{k}] = []"]
            for compiled, _, _ in f.checks:
                out += [f"{indent}if {self._check(compiled)}({x}) is False:", f"{indent}    return False"]
        return out


def _bounds_meta(f: Field, *, whole: bool) -> Any:
    """The msgspec bounds of a number: the declared ones within what an integer input may hold
    (for ``whole``), else the declared ones as doubles (each must be float-safe)."""
    lo, hi = f.spec.minimum, f.spec.maximum
    if whole:
        low = -MAX_INTEGER if lo is None else max(-MAX_INTEGER, math.ceil(lo))
        high = MAX_INTEGER if hi is None else min(MAX_INTEGER, math.floor(hi))
        return msgspec.Meta(ge=low, le=high)
    for bound in (lo, hi):
        if bound is not None and not float_safe(bound):
            raise _UnreadableError("a bound no double holds exactly")
    # a float is refused when it is zero or nearer zero than TINY (a literal such as 1e-400 reads as 0.0),
    # on the side of zero the declared bounds allow (a range across zero is checked by the line checks),
    # and beyond 2^53 - 1 (1e300)
    least = -float(MAX_INTEGER) if lo is None else float(lo)
    most = float(MAX_INTEGER) if hi is None else float(hi)
    if least >= 0:
        least = max(least, TINY)
    if most <= 0:
        most = min(most, -TINY)
    return msgspec.Meta(ge=least, le=most)


def _spans_zero(f: Field) -> bool:
    """Whether a decimal input's declared bounds allow both signs (zero is then checked in the line checks)."""
    lo, hi = f.spec.minimum, f.spec.maximum
    return (lo is None or lo < 0) and (hi is None or hi > 0)


def _decimal_at(f: Field, pointer: str) -> bool:
    """Whether the member at a JSON pointer relative to an object (a check's read) is, or holds,
    a decimal input (or is not a member: then it might be)."""
    node: Field | None = f
    for part in pointer.strip("/").split("/") if pointer.strip("/") else ():
        if node is None:
            return True
        node = (node.fields or node.entries).get(part.replace("~1", "/").replace("~0", "~"))
    return node is None or holds_decimal(node)


def holds_decimal(f: Field) -> bool:
    """Whether an input is, or holds, a decimal (or an untyped value, which may be one)."""
    if f.kind == "decimal" or f.kind == "any":
        return True
    if f.kind == "list":
        return f.items is None or holds_decimal(f.items)
    return any(holds_decimal(sub) for sub in (*f.fields.values(), *f.entries.values()))


def line_reader(root: Field) -> LineReader | None:
    """The line reader of a version's declared inputs, or None when msgspec is not installed or
    the inputs hold what it does not express (see the module)."""
    if msgspec is None:
        return None  # pragma: no cover
    try:
        return LineReader(root)
    except (_UnreadableError, TypeError, ValueError):
        return None
