"""The batch's fast line path: one version's label and validity straight from a JSON line's bytes.

For a batch that writes the label and its validity (``evaluate FILE.jsonl --fields
label,valid_until``), most of the time of the exact path goes into reading: the exact parser,
the validator's normalised copy with a Decimal for each decimal input, the three-valued label
function over it. A `LinePlan` decides a line in three steps instead:

1. the version's `ecei_rules.ruleset.lines.LineReader` parses and checks the line in one pass
   (msgspec, in C), the decimal inputs as floats;
2. a two-valued label function (`ecei_rules.engine.label.two_valued`) decides the label, and the
   validity of the label awarded, from that: each criterion written as whether it is true, so that a
   comparison with an absent input is not true (nor false, under ``not``), as it is unknown;
3. where a value it needs is unknown otherwise (an item's field, an input read in arithmetic or by the
   validity rules), the three-valued one (`ecei_rules.engine.label.float_quick`) decides it.

Anything else (a line the reader refuses or is not sure of, an error raised on the way) gives
None, and the caller decides the line on the exact path, which names the problem: so a line's
output is the exact path's, always, and the differential tests hold the two equal.

Why floats decide exactly here: the reader accepts a float only from a literal of at most 15
significant digits below 10^15 without an exponent. Every such decimal is the shortest text of
its double and no two of them round to the same double, and rounding to the nearest double is
monotonic; so such a literal compares with a constant of at most 15 significant digits (below
10^15) exactly as its double compares with the constant's double (`floats`): equal when they are
equal, in the same order otherwise. The same holds between two such inputs, and between one and
an integer. The version is written with floats only where a decimal input is compared, as it is,
with a constant, another input or an integer (`Floats`); a decimal input anywhere else (passed to
a function, summed, a derived value, a weighed number, a range) leaves the version to the exact
path (`line_plan` gives None).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ecei_rules.engine.label import Quick, float_quick, two_valued
from ecei_rules.engine.plan import Plan
from ecei_rules.language.source import Code, UnknownValueError, const
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.lines import LineReader, exact_floats, float_safe, holds_decimal, line_reader


class _DeclinedError(Exception):
    """The version's conditions do with a decimal input what floats cannot do exactly."""


class Floats:
    """The conditions' codes with each comparison of a decimal input against a Decimal constant
    written against that constant's double (see the module); raises `_DeclinedError` for a code that
    uses a decimal input otherwise. Codes are rewritten once each (by identity)."""

    def __init__(self, root: Field) -> None:
        self.root = root
        self.done: dict[int, tuple[Code, Code]] = {}  # id of a code -> (it, its rewriting)

    def __call__(self, code: Code) -> Code:
        found = self.done.get(id(code))
        if found is None or found[0] is not code:
            found = self.done[id(code)] = (code, self.walk(code, {})[0])
        return found[1]

    def walk(self, code: Code, scope: dict[str, Field | None]) -> tuple[Code, Field | None]:
        """(the code rewritten, the declared input it reads as it is, or None)."""
        kind, args = code.kind, code.args
        if kind in ("const", "name"):
            return code, None
        if kind == "read":
            return code, self.field(self.root, args[0])
        if kind == "local":
            return code, scope.get(args[0])
        if kind == "get":
            base, field = self.walk(args[0], scope)
            return _same(code, (base, args[1])), None if field is None else self.field(field, (args[1],))
        if kind == "cmp":
            return self.compare(code, scope), None
        if kind in ("chain", "and", "or", "not"):
            parts = tuple(self.walk(part, scope)[0] for part in args[0])
            return _same(code, (parts, *args[1:])), None
        if kind == "in":
            (item, f), (collection, g) = self.walk(args[0], scope), self.walk(args[1], scope)
            if _decimal(f) or _decimal(g) or _has_decimal_const(collection):
                raise _DeclinedError("a decimal input in a membership")
            return _same(code, (item, collection, args[2])), None
        if kind == "known":
            if args[1]:
                raise _DeclinedError("ranges")
            return _same(code, (self.walk(args[0], scope)[0], args[1])), None
        if kind == "call":
            fn, parts, env = args
            if env:
                raise _DeclinedError("a function of the environment")
            walked = [self.walk(part, scope) for part in parts]
            if any(_holds(f) for _, f in walked):
                raise _DeclinedError("a decimal input passed to a function")
            return _same(code, (fn, tuple(part for part, _ in walked), env)), None
        if kind == "if":
            test, body, orelse, join = args
            walked = [self.walk(part, scope) for part in (test, body, orelse)]
            if _holds(walked[1][1]) or _holds(walked[2][1]):
                raise _DeclinedError("a choice of decimal inputs")
            return _same(code, (*(part for part, _ in walked), join)), None
        if kind == "agg":
            return self.aggregate(code, scope), None
        raise _DeclinedError(f"a code of kind {kind}")

    def compare(self, code: Code, scope: dict[str, Field | None]) -> Code:
        """A comparison; one of a decimal input against a Decimal constant is written against its double."""
        symbol, a, b, a_const, b_const = code.args
        (a, fa), (b, fb) = self.walk(a, scope), self.walk(b, scope)
        if not (_decimal(fa) or _decimal(fb)):  # no float on either side: as it is
            return _same(code, (symbol, a, b, a_const, b_const))
        sides = []
        for side, field in ((a, fa), (b, fb)):
            if _numeric(field):
                sides.append(side)
            elif side.kind == "const" and side.plain and _number(side.args[0]):
                value = side.args[0]
                if isinstance(value, Decimal):
                    if not float_safe(value):
                        raise _DeclinedError("a constant no double holds exactly")
                    side = const(float(value))
                elif not float_safe(value):
                    raise _DeclinedError("an integer beyond 10^15")
                sides.append(side)
            else:
                raise _DeclinedError("a decimal input compared with a computed value")
        return _same(code, (symbol, sides[0], sides[1], a_const, b_const))

    def aggregate(self, code: Code, scope: dict[str, Field | None]) -> Code:
        name, variable, source, filters, element, tail = code.args
        source, listed = self.walk(source, scope)
        inner = {**scope, variable: listed.items if listed is not None and listed.kind == "list" else None}
        filters = tuple(self.walk(f, inner)[0] for f in filters)
        element, field = self.walk(element, inner)
        if name in ("min", "max", "sum") and (_holds(field) or (field is None and _has_decimal_const(element))):
            raise _DeclinedError("a decimal input aggregated")
        return _same(code, (name, variable, source, filters, element, tail))

    @staticmethod
    def field(f: Field, keys: tuple[str, ...]) -> Field | None:
        """The declared input at ``keys`` below ``f`` (None when it is not declared)."""
        node: Field | None = f
        for key in keys:
            if node is None:
                return None
            node = node.fields.get(key) if node.kind == "object" else node.entries.get(key)
        return node


def _same(code: Code, args: tuple[Any, ...]) -> Code:
    """``code`` with new arguments (itself when they are the same objects)."""
    if len(args) == len(code.args) and all(a is b for a, b in zip(args, code.args, strict=True)):
        return code
    return Code(code.kind, args, plain=code.plain, closed=code.closed)


def _decimal(f: Field | None) -> bool:
    return f is not None and f.kind == "decimal"


def _numeric(f: Field | None) -> bool:
    return f is not None and f.kind in ("decimal", "integer")


def _number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _holds(f: Field | None) -> bool:
    """Whether a value read as it is is, or holds, a decimal input."""
    return f is not None and holds_decimal(f)


def _has_decimal_const(code: Code) -> bool:
    """Whether the code is a constant holding a Decimal (a number or a collection with one)."""
    if code.kind != "const":
        return False
    value = code.args[0]
    if isinstance(value, Decimal):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return any(isinstance(v, Decimal) for v in value)
    return False


class LinePlan:
    """One version's fast line path: ``decide(line)`` gives (the assessment read, (label,
    valid_from, valid_until)) or None (see the module)."""

    def __init__(self, plan: Plan, reader: LineReader, fast: Quick, slow: Quick) -> None:
        self.plan, self.reader, self.fast, self.slow = plan, reader, fast, slow
        self.floats = reader.decimals
        self.decode, self.accepts = reader.decode, reader.accepts

    def decide(self, line: bytes, scan: bool = True
               ) -> tuple[dict[str, Any], tuple[str, dt.date | None, dt.date | None]] | None:
        """The line's assessment and (label, valid_from, valid_until), or None for the exact path.
        ``scan`` False: the caller knows the line holds no number of 16 digits (`exact_floats`)."""
        if scan and self.floats and not exact_floats(line):
            return None
        try:
            value = self.decode(line)
            if not self.accepts(value, line.count(b":")):
                return None
            try:
                return value, self.fast(value)
            except (UnknownValueError, KeyError):
                return value, self.slow(value)
        except Exception:
            return None


def line_plan(plan: Plan, root: Field) -> LinePlan | None:
    """A version's fast line path, or None when it has none (no msgspec, inputs or conditions it
    cannot read exactly, see the module)."""
    reader = line_reader(root)
    if reader is None:
        return None
    floats = Floats(root)
    try:
        return LinePlan(plan, reader, two_valued(plan, floats), float_quick(plan, floats))
    except Exception:
        return None
