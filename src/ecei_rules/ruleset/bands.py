"""Bands: a value placed into ordered classes by a table of bounds, as decision tables do.

A band's classes are written as intervals, each end open or closed and said so:

* ``"<= 41"``, ``"< 22"``, ``">= 150"``, ``"> 125"``: one bound, the other end unbounded;
* ``"(41..51]"``, ``"[22..33)"``, ``"[0..10]"``, ``"(1..2)"``: both bounds, ``(``/``)`` open,
  ``[``/``]`` closed (the notation of DMN's FEEL ranges);
* a bound may name a number parameter instead (``"(a_max..b_max]"``, ``"> params.f_max"``): the
  class's condition reads the parameter, and the table is checked with the parameters' values.

:func:`intervals` reads and checks a band's table: every interval well formed and not empty,
and, taken in order of their lower bounds, each class starting exactly where the one before
ends (one end closed, the other open), so no value falls into two classes (an overlap) nor,
between the lowest and the highest class, into none (a gap). :func:`class_condition` writes the
condition a class is met by, in the condition language, so that every evaluator decides a class
as it decides any criterion.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
#: A bound: a number, or the name of a parameter (``params.`` may be written before it).
_BOUND = rf"{_NUMBER}|(?:params\.)?[A-Za-z_][A-Za-z0-9_]*"
_ONE_SIDED = re.compile(rf"^\s*(<=|<|>=|>)\s*({_BOUND})\s*$")
_RANGE = re.compile(rf"^\s*([\[(])\s*({_BOUND})\s*\.\.\s*({_BOUND})\s*([\])])\s*$")
#: A bound as read: a number, or (a str) the name of the parameter that holds it.
Bound = Decimal | str

#: How an interval may be written (the message of a malformed one).
FORMS = '"<= 41", "< 22", ">= 150", "> 125", "(41..51]", "[22..33)"'


@dataclass(frozen=True)
class Interval:
    """One class's interval: a bound of None is unbounded; ``*_closed`` says whether it is included.
    A bound that is a str names the parameter holding it."""

    name: str
    low: Bound | None
    low_closed: bool
    high: Bound | None
    high_closed: bool

    def text(self, x: str = "x") -> str:
        """The interval as a range of ``x``, e.g. ``41 < x <= 51`` (``params.a < x <= params.b``)."""
        if self.high is None and self.low is not None:
            return f"{x} {'>=' if self.low_closed else '>'} {_shown(self.low)}"
        parts = []
        if self.low is not None:
            parts.append(f"{_shown(self.low)} {'<=' if self.low_closed else '<'} ")
        parts.append(x)
        if self.high is not None:
            parts.append(f" {'<=' if self.high_closed else '<'} {_shown(self.high)}")
        return "".join(parts)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters its bounds name."""
        return tuple(b for b in (self.low, self.high) if isinstance(b, str))

    def resolved(self, values: Mapping[str, Decimal]) -> Interval:
        """The interval with each parameter bound replaced by its value (from ``values``)."""
        low = values[self.low] if isinstance(self.low, str) else self.low
        high = values[self.high] if isinstance(self.high, str) else self.high
        return Interval(self.name, low, self.low_closed, high, self.high_closed)


def _shown(bound: Bound) -> str:
    return f"params.{bound}" if isinstance(bound, str) else plain(bound)


def parse_interval(name: str, text: str) -> Interval:
    """An interval from its text; ValueError (naming the class) when malformed or empty."""
    one = _ONE_SIDED.match(text)
    if one is not None:
        op, number = one.group(1), _number(one.group(2))
        if op.startswith("<"):
            return Interval(name, None, False, number, op == "<=")
        return Interval(name, number, op == ">=", None, False)
    both = _RANGE.match(text)
    if both is None:
        raise ValueError(f"the class '{name}' has the bounds {text!r}, which is not an interval: write one of "
                         f"{FORMS} (a parenthesis leaves its end out, a bracket takes it in)")
    low, high = _number(both.group(2)), _number(both.group(3))
    low_closed, high_closed = both.group(1) == "[", both.group(4) == "]"
    interval = Interval(name, low, low_closed, high, high_closed)
    if not interval.parameters:
        _not_empty(interval, text)
    return interval


def _not_empty(interval: Interval, text: str) -> None:
    low, high = interval.low, interval.high
    if not (isinstance(low, Decimal) and isinstance(high, Decimal)):
        return  # one end unbounded
    if low > high or (low == high and not (interval.low_closed and interval.high_closed)):
        raise ValueError(f"the class '{interval.name}' has the bounds {text!r}, which no value lies within")


def intervals(classes: Mapping[str, str], values: Mapping[str, Decimal] | None = None) -> list[Interval]:
    """The classes' intervals from the lowest to the highest; ValueError naming every overlap and gap.
    Bounds that name parameters are taken at their ``values``; without them (None), such a table is
    only read (in the order written), and checked where the values are known."""
    written = [parse_interval(name, text) for name, text in classes.items()]
    if any(i.parameters for i in written):
        if values is None:
            return written
        written = [i.resolved(values) for i in written]
        for interval in written:
            _not_empty(interval, classes[interval.name])
    found = list(written)
    found.sort(key=lambda i: (i.low is not None, i.low if isinstance(i.low, Decimal) else Decimal(0), not i.low_closed))
    problems: list[str] = []
    for below, above in itertools.pairwise(found):
        problem = _between(below, above)
        if problem:
            problems.append(problem)
    if problems:
        raise ValueError("; ".join(problems))
    return found


def _between(below: Interval, above: Interval) -> str | None:
    """What is wrong where ``below`` ends and ``above`` starts (None when one starts where the other ends)."""
    pair = f"'{below.name}' ({below.text()}) and '{above.name}' ({above.text()})"
    end, start = below.high, above.low
    if end is None or start is None:
        return f"the classes {pair} overlap: both reach beyond every bound of the other"
    assert isinstance(end, Decimal)  # resolved: numbers only
    assert isinstance(start, Decimal)
    if end > start or (end == start and below.high_closed and above.low_closed):
        low, high = start, end
        shared = f"[{plain(low)}..{plain(high)}]" if low == high else f"{'[' if above.low_closed else '('}" \
            f"{plain(low)}..{plain(high)}{']' if below.high_closed else ')'}"
        return f"the classes {pair} overlap: a value in {shared} would be in both"
    if end < start or not (below.high_closed or above.low_closed):
        gap = f"{'(' if below.high_closed else '['}{plain(end)}..{plain(start)}" \
              f"{')' if above.low_closed else ']'}"
        if end == start:
            gap = f"[{plain(end)}..{plain(end)}]"
        return f"a gap between the classes {pair}: a value in {gap} would be in none"
    return None


def class_condition(of: str, interval: Interval) -> str:
    """The condition that the band's value ``of`` lies in ``interval``, e.g. ``41 < eei <= 51``."""
    value = of.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", value):
        value = f"({value})"
    return interval.text(value)


def _number(text: str) -> Bound:
    if re.fullmatch(r"(?:params\.)?[A-Za-z_][A-Za-z0-9_]*", text):
        return text.removeprefix("params.")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"not a number: {text!r}") from None


def plain(number: Decimal) -> str:
    """A number as an author writes it (110, not 110.0 or 1.1E+2)."""
    return format(number.normalize(), "f") if number != 0 else "0"
