"""Bands: a value placed into ordered classes by a table of bounds, as decision tables do.

A band's classes are written as intervals, each end open or closed and said so:

* ``"<= 41"``, ``"< 22"``, ``">= 150"``, ``"> 125"``: one bound, the other end unbounded;
* ``"(41..51]"``, ``"[22..33)"``, ``"[0..10]"``, ``"(1..2)"``: both bounds, ``(``/``)`` open,
  ``[``/``]`` closed (the notation of DMN's FEEL ranges).

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
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_ONE_SIDED = re.compile(rf"^\s*(<=|<|>=|>)\s*({_NUMBER})\s*$")
_RANGE = re.compile(rf"^\s*([\[(])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\])])\s*$")

#: How an interval may be written (the message of a malformed one).
FORMS = '"<= 41", "< 22", ">= 150", "> 125", "(41..51]", "[22..33)"'


@dataclass(frozen=True)
class Interval:
    """One class's interval: a bound of None is unbounded; ``*_closed`` says whether it is included."""

    name: str
    low: Decimal | None
    low_closed: bool
    high: Decimal | None
    high_closed: bool

    def text(self) -> str:
        """The interval as a range of ``x``, e.g. ``41 < x <= 51``."""
        if self.high is None and self.low is not None:
            return f"x {'>=' if self.low_closed else '>'} {plain(self.low)}"
        parts = []
        if self.low is not None:
            parts.append(f"{plain(self.low)} {'<=' if self.low_closed else '<'} ")
        parts.append("x")
        if self.high is not None:
            parts.append(f" {'<=' if self.high_closed else '<'} {plain(self.high)}")
        return "".join(parts)


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
    if low > high or (low == high and not (low_closed and high_closed)):
        raise ValueError(f"the class '{name}' has the bounds {text!r}, which no value lies within")
    return Interval(name, low, low_closed, high, high_closed)


def intervals(classes: dict[str, str]) -> list[Interval]:
    """The classes' intervals from the lowest to the highest; ValueError naming every overlap and gap."""
    found = [parse_interval(name, text) for name, text in classes.items()]
    found.sort(key=lambda i: (i.low is not None, i.low if i.low is not None else Decimal(0), not i.low_closed))
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
    if below.high is None or above.low is None:
        return f"the classes {pair} overlap: both reach beyond every bound of the other"
    if below.high > above.low or (below.high == above.low and below.high_closed and above.low_closed):
        low, high = above.low, below.high
        shared = f"[{plain(low)}..{plain(high)}]" if low == high else f"{'[' if above.low_closed else '('}" \
            f"{plain(low)}..{plain(high)}{']' if below.high_closed else ')'}"
        return f"the classes {pair} overlap: a value in {shared} would be in both"
    if below.high < above.low or not (below.high_closed or above.low_closed):
        gap = f"{'(' if below.high_closed else '['}{plain(below.high)}..{plain(above.low)}" \
              f"{')' if above.low_closed else ']'}"
        if below.high == above.low:
            gap = f"[{plain(below.high)}..{plain(below.high)}]"
        return f"a gap between the classes {pair}: a value in {gap} would be in none"
    return None


def class_condition(of: str, interval: Interval) -> str:
    """The condition that the band's value ``of`` lies in ``interval``, e.g. ``41 < eei <= 51``."""
    value = of.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", value):
        value = f"({value})"
    return interval.text().replace("x", value, 1)


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"not a number: {text!r}") from None


def plain(number: Decimal) -> str:
    """A number as an author writes it (110, not 110.0 or 1.1E+2)."""
    return format(number.normalize(), "f") if number != 0 else "0"
