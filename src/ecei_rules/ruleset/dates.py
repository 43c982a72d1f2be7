"""Calendar bounds: no date a ruleset computes can fall outside 0001-01-01 .. 9999-12-31.

Every ``month_end(d, n)`` of a ruleset is analysed when it loads: which declared date inputs
(or date literals and parameters) ``d`` comes from, and how many months ``n`` can add or take
away (a number, a parameter, or an integer input with a declared ``minimum`` and ``maximum``;
nested calls add up). From that each date input gets the range of dates an assessment may
give: an assessment dated 9998-01-15 under a version whose validity counts 24 months after
it is refused by validation (A004, at the date's JSON path) instead of being awarded a label
with no end date. A literal or parameter date that would leave the calendar is refused when
the ruleset loads (E205); a ``month_end`` whose months are not bounded so is refused too (E204).

Because the bound is part of validation, every evaluator (the engine, the decision writer,
the reference evaluator, the durable backend) sees only assessments whose dates stay inside
the calendar.
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ecei_rules.errors import AssessmentError, Diagnostic
from ecei_rules.language.expr import Parses, parse
from ecei_rules.ruleset.inputs import Field

#: month indexes (year * 12 + month - 1) of the first and the last month of the calendar
FIRST_MONTH = 1 * 12
LAST_MONTH = 9999 * 12 + 11


@dataclass
class _Source:
    field: Field | None  # the date input, or None for a constant date
    constant: dt.date | None
    low: int  # months added, at least
    high: int  # months added, at most


def _whole(value: Any) -> tuple[int, int] | None:
    """A parameter's value as months (least, most) when it is a whole number."""
    if type(value) is int:
        return value, value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value), int(value)
    return None


class DateBounds:
    """Collects, per date input, the months the ruleset's ``month_end`` calls add to it."""

    def __init__(self, root: Field, params: Mapping[str, Any],
                 add: Callable[[str, str, str, int | None], None], parses: Parses | None = None) -> None:
        self.root = root
        self.params = params
        self.add = add
        self.parses = parses  # conditions already parsed, by their text (see expr.Parses)
        self.shifts: dict[int, tuple[Field, int, int]] = {}  # id(field) -> (field, low, high)
        self._starts: list[int] = [0]

    # -- the walk -----------------------------------------------------------------------------
    def expression(self, text: str, pointer: str, fields: Mapping[str, Field] | None = None) -> None:
        """Analyse one condition (``fields``: the names it sees, by default the root inputs)."""
        tree, errors = parse(text, self.parses)
        if tree is None or errors:
            return
        lead = len(text) - len(text.lstrip())
        self._starts = [0]
        for i, ch in enumerate(text.strip()):
            if ch == "\n":
                self._starts.append(i + 1)
        self._walk(tree, dict(fields if fields is not None else self.root.fields), {}, pointer, lead)

    def _walk(self, node: ast.AST, names: dict[str, Field], local: dict[str, Field | None], pointer: str,
              lead: int) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 \
                and isinstance(node.args[0], ast.GeneratorExp):
            gen = node.args[0]
            comp = gen.generators[0]
            self._walk(comp.iter, names, local, pointer, lead)
            inner = dict(local)
            if isinstance(comp.target, ast.Name):
                source = self._field(comp.iter, names, local)
                inner[comp.target.id] = source.items if source is not None and source.kind == "list" else None
            for sub in (*comp.ifs, gen.elt):
                self._walk(sub, names, inner, pointer, lead)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "month_end" \
                and len(node.args) == 2:
            self._month_end(node, names, local, pointer, lead)
        for child in ast.iter_child_nodes(node):
            self._walk(child, names, local, pointer, lead)

    def _offset(self, node: ast.AST, lead: int) -> int | None:
        """The offset of ``node`` in the condition's text (parsed inside brackets, from line 2)."""
        line = getattr(node, "lineno", 2) - 2
        if not 0 <= line < len(self._starts):
            return None
        return lead + self._starts[line] + max(getattr(node, "col_offset", 0), 0)

    def _month_end(self, node: ast.Call, names: dict[str, Field], local: dict[str, Field | None], pointer: str,
                   lead: int) -> None:
        months = self._months(node.args[1], names, local)
        where = self._offset(node, lead)
        if months is None:
            self.add("E204", "month_end(): the number of months must be known when the ruleset loads (a "
                     "number, a parameter, or an integer input with a declared minimum and maximum), so "
                     "that no date it computes can leave the calendar", pointer, where)
            return
        for source in self._sources(node.args[0], names, local):
            low, high = source.low + months[0], source.high + months[1]
            if source.field is not None:
                old = self.shifts.get(id(source.field))
                if old is not None:
                    low, high = min(low, old[1]), max(high, old[2])
                self.shifts[id(source.field)] = (source.field, low, high)
            elif source.constant is not None:
                index = source.constant.year * 12 + source.constant.month - 1
                if not FIRST_MONTH <= index + low <= index + high <= LAST_MONTH:
                    self.add("E205", f"month_end() of {source.constant.isoformat()} and {months[0]} to "
                             f"{months[1]} months leaves the calendar (0001-01-01 to 9999-12-31)", pointer, where)

    # -- what a date argument is made of ----------------------------------------------------------
    def _sources(self, node: ast.AST, names: dict[str, Field], local: dict[str, Field | None]) -> list[_Source]:
        f = self._field(node, names, local)
        if f is not None:
            return [_Source(f, None, 0, 0)] if f.kind == "date" else []
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
            value = self.params.get(node.attr)
            return [_Source(None, value, 0, 0)] if isinstance(value, dt.date) else []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call_sources(node, node.func.id, names, local)
        if isinstance(node, ast.IfExp):
            return self._sources(node.body, names, local) + self._sources(node.orelse, names, local)
        return []

    def _call_sources(self, node: ast.Call, name: str, names: dict[str, Field],
                      local: dict[str, Field | None]) -> list[_Source]:
        """The sources of a date a call gives: date("..."), month_end(...), min/max over a generator."""
        if name == "date" and node.args and isinstance(node.args[0], ast.Constant):
            try:
                return [_Source(None, dt.date.fromisoformat(str(node.args[0].value)), 0, 0)]
            except ValueError:
                return []
        if name == "month_end" and len(node.args) == 2:
            months = self._months(node.args[1], names, local)
            if months is None:
                return []  # reported where the call itself is analysed
            return [_Source(s.field, s.constant, s.low + months[0], s.high + months[1])
                    for s in self._sources(node.args[0], names, local)]
        if name in ("min", "max") and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            gen = node.args[0]
            comp = gen.generators[0]
            inner = dict(local)
            if isinstance(comp.target, ast.Name):
                source = self._field(comp.iter, names, local)
                inner[comp.target.id] = source.items if source is not None and source.kind == "list" else None
            return self._sources(gen.elt, names, inner)
        return []

    def _field(self, node: ast.AST, names: dict[str, Field], local: dict[str, Field | None]) -> Field | None:
        if isinstance(node, ast.Name):
            if node.id in local:
                return local[node.id]
            return names.get(node.id)
        key: str | None = None
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "params" and "params" not in local:
                return None
            key, base_node = node.attr, node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            key, base_node = node.slice.value, node.value
        else:
            return None
        base = self._field(base_node, names, local)
        if base is None:
            return None
        members = base.fields if base.kind == "object" else base.entries if base.kind == "map" else {}
        return members.get(key)

    def _months(self, node: ast.AST, names: dict[str, Field], local: dict[str, Field | None]) -> tuple[int, int] | None:
        """The least and the most months ``node`` can be, or None when that is not bounded."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value, node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._months(node.operand, names, local)
            if inner is None or isinstance(node.op, ast.UAdd):
                return inner
            return -inner[1], -inner[0]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params" \
                and "params" not in local:
            return _whole(self.params.get(node.attr))
        f = self._field(node, names, local)
        if f is not None and f.kind == "integer" and f.spec.minimum is not None and f.spec.maximum is not None:
            return math.floor(f.spec.minimum), math.ceil(f.spec.maximum)
        if isinstance(node, ast.IfExp):
            a, b = self._months(node.body, names, local), self._months(node.orelse, names, local)
            if a is None or b is None:
                return None
            return min(a[0], b[0]), max(a[1], b[1])
        return None

    # -- the result ---------------------------------------------------------------------------
    def apply(self) -> None:
        """Give every date input that ``month_end`` shifts the range of dates it may hold."""
        for f, low, high in self.shifts.values():
            first = max(FIRST_MONTH, FIRST_MONTH - min(low, 0))
            last = min(LAST_MONTH, LAST_MONTH - max(high, 0))
            if first > last:
                f.date_range = (dt.date.max, dt.date.min)  # nothing fits
                f.date_shift = (low, high)
                continue
            year, month0 = divmod(last, 12)
            latest = dt.date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])
            year, month0 = divmod(first, 12)
            f.date_range = (dt.date(year, month0 + 1, 1), latest)
            f.date_shift = (low, high)


# -- validity spans ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Span:
    """One way a validity date may be made: a constant, or a date input (a root one, the same value
    wherever it is named, or one of a list's items) shifted by month_end between low and high months
    (``shifted`` False: the input's own date)."""

    field: Field | None
    constant: dt.date | None
    root: bool
    shifted: bool
    low: int
    high: int


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_end_of(index: int) -> dt.date:
    index = min(max(index, FIRST_MONTH), LAST_MONTH)
    year, month0 = divmod(index, 12)
    return dt.date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])


class ValiditySpans:
    """Which validity rules end before they start whatever the assessment (E303): each rule's
    ``valid_until`` against ``valid_from``, when both are made only of date literals, date
    parameters, date inputs and ``month_end`` over them (any other part: decided per assessment).
    Run after :meth:`DateBounds.apply`, whose ranges bound the inputs."""

    def __init__(self, bounds: DateBounds) -> None:
        self.bounds = bounds

    def spans(self, text: str) -> list[_Span] | None:
        """Every way the date ``text`` may be made, or None when some part is not analysed."""
        tree, errors = parse(text, self.bounds.parses)
        if tree is None or errors:
            return None
        return self._spans(tree, self.bounds.root.fields, {})

    def _spans(self, node: ast.AST, names: Mapping[str, Field], local: dict[str, Field | None]) -> list[_Span] | None:
        b = self.bounds
        f = b._field(node, dict(names), local)
        if f is not None:
            return [_Span(f, None, _rooted(node, local), False, 0, 0)] if f.kind == "date" else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
            value = b.params.get(node.attr)
            return [_Span(None, value, True, False, 0, 0)] if isinstance(value, dt.date) else None
        if isinstance(node, ast.IfExp):
            body, orelse = self._spans(node.body, names, local), self._spans(node.orelse, names, local)
            return None if body is None or orelse is None else body + orelse
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call_spans(node, node.func.id, names, local)
        return None

    def _call_spans(self, node: ast.Call, name: str, names: Mapping[str, Field],
                    local: dict[str, Field | None]) -> list[_Span] | None:
        """The spans of date("..."), month_end(d, n) and min/max over a generator; else None."""
        if name == "date" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            try:
                return [_Span(None, dt.date.fromisoformat(str(node.args[0].value)), True, False, 0, 0)]
            except ValueError:
                return None
        if name == "month_end" and len(node.args) == 2:
            months = self.bounds._months(node.args[1], dict(names), local)
            inner = self._spans(node.args[0], names, local)
            if months is None or inner is None:
                return None
            return [_Span(s.field, s.constant, s.root, True, s.low + months[0], s.high + months[1]) for s in inner]
        if name in ("min", "max") and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            gen = node.args[0]
            comp = gen.generators[0]
            inner_local = dict(local)
            if isinstance(comp.target, ast.Name):
                source = self.bounds._field(comp.iter, dict(names), local)
                inner_local[comp.target.id] = source.items if source is not None and source.kind == "list" else None
            return self._spans(gen.elt, names, inner_local)
        return None

    @staticmethod
    def _range(s: _Span) -> tuple[dt.date, dt.date]:
        """The earliest and the latest date ``s`` may be."""
        if s.constant is not None:
            first = last = s.constant
        else:
            assert s.field is not None
            first, last = s.field.date_range or (dt.date.min, dt.date.max)
        if not s.shifted:
            return first, last
        return _month_end_of(_month_index(first) + s.low), _month_end_of(_month_index(last) + s.high)

    def _before(self, end: _Span, start: _Span) -> bool:
        """Whether ``end`` is certainly before ``start``."""
        if end.field is not None and end.field is start.field and end.root and start.root:
            if not start.shifted:  # month_end(d, n) < d exactly when n <= -1; d itself is never before d
                return end.shifted and end.high <= -1
            if not end.shifted:  # d < month_end(d, n) whenever n >= 1
                return start.low >= 1
            return end.high < start.low
        return self._range(end)[1] < self._range(start)[0]

    def always_before(self, end: str, start: str) -> tuple[dt.date, dt.date] | None:
        """When the date ``end`` is before the date ``start`` whatever the assessment: the latest
        end and the earliest start (to show); else None."""
        ends, starts = self.spans(end), self.spans(start)
        if not ends or not starts:
            return None
        if all(self._before(e, s) for e in ends for s in starts):
            return max(self._range(e)[1] for e in ends), min(self._range(s)[0] for s in starts)
        return None


def _rooted(node: ast.AST, local: Mapping[str, Field | None]) -> bool:
    """Whether an input path starts at a root input (one value per assessment), not at an item of a list."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in local


def validity_span_error(valid_from: dt.date, valid_until: dt.date, rule: str | None) -> AssessmentError:
    """The error of an assessment whose validity would end before it starts (A007): no evaluator
    decides it (the rule's dates depend on the assessment; where they do not, the ruleset does not
    load: E303)."""
    return AssessmentError([Diagnostic(
        "A007", f"the validity would end {valid_until.isoformat()} before it starts {valid_from.isoformat()}"
        + (f" (validity rule '{rule}')" if rule is not None else ""),
        suggestion="the ruleset's validity rule gives an end date before the start date for this assessment")])


def check_validity_span(valid_from: Any, valid_until: Any, rule: str | None) -> None:
    """Raise :func:`validity_span_error` when both dates are known and the end is before the start."""
    if valid_until.__class__ is dt.date and valid_from.__class__ is dt.date and valid_until < valid_from:
        raise validity_span_error(valid_from, valid_until, rule)
