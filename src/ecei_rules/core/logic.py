"""Three-valued (Kleene) logic, exact numbers, bounded counts and calendar arithmetic.

These are the runtime values of the condition language:

* booleans are ``True``, ``False`` or :data:`UNKNOWN`;
* numbers are ``int``, :class:`~decimal.Decimal` or :class:`~fractions.Fraction` (never float);
* a count over items whose filter is unknown is an :class:`Interval` of what it could be.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

Outcome = Literal["met", "not_met", "unknown"]


class _Unknown:
    """The unknown truth value, and the value of any absent input."""

    __slots__ = ()
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no Python truth value; use the Kleene helpers")

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def outcome(value: object) -> Outcome:
    """Map a truth value to ``met``, ``not_met`` or ``unknown``."""
    if value is True:
        return "met"
    if value is False:
        return "not_met"
    return "unknown"


#: :func:`outcome` of a value that is ``True``, ``False`` or :data:`UNKNOWN`, by look-up (for the
#: evaluator's loops, where a call per criterion would cost).
OUTCOMES: Final[dict[object, Outcome]] = {True: "met", False: "not_met", UNKNOWN: "unknown"}


def _junction(values: list[object], absorbing: bool) -> object:
    """A Kleene fold: ``absorbing`` wins, then unknown, else the other truth value."""
    neutral = not absorbing
    unknown = False
    for v in values:
        if v is absorbing:
            return absorbing
        if v is not neutral:
            unknown = True
    return UNKNOWN if unknown else neutral


def k_and(values: list[object]) -> object:
    """Kleene conjunction: false wins, then unknown, else true."""
    return _junction(values, False)


def k_or(values: list[object]) -> object:
    """Kleene disjunction: true wins, then unknown, else false."""
    return _junction(values, True)


def k_not(value: object) -> object:
    """Kleene negation."""
    if value is True:
        return False
    if value is False:
        return True
    return UNKNOWN


class Interval:
    """A number known only to lie in ``[lo, hi]``: a count over unknown filters, or such a count
    shifted or scaled by a known number. ``whole`` says that every value it can be is a whole
    number (a count, a count plus or times a whole number); a scaled count (``count(...) / 2``)
    is not whole."""

    __slots__ = ("hi", "lo", "whole")

    def __init__(self, lo: Any, hi: Any, whole: bool = True) -> None:
        self.lo = lo
        self.hi = hi
        self.whole = whole

    def __repr__(self) -> str:
        return f"Interval({self.lo}, {self.hi})" if self.whole else f"Interval({self.lo}, {self.hi}, whole=False)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and (self.lo, self.hi, self.whole) == (other.lo, other.hi, other.whole)

    def __hash__(self) -> int:
        return hash((self.lo, self.hi, self.whole))


def count_value(lo: Any, hi: Any, whole: bool = True) -> Any:
    """Return ``lo`` when the count is exact, else an :class:`Interval`."""
    return lo if lo == hi else Interval(lo, hi, whole)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _bounds(value: Any) -> tuple[Any, Any]:
    return (value.lo, value.hi) if isinstance(value, Interval) else (value, value)


def compare(op: str, left: object, right: object) -> object:
    """Compare two values with Kleene semantics; intervals compare by their bounds."""
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    fn = _ORDER[op]
    if isinstance(left, Interval) or isinstance(right, Interval):
        lo_l, hi_l = _bounds(left)
        lo_r, hi_r = _bounds(right)
        if op in ("==", "!="):
            if hi_l < lo_r or hi_r < lo_l:
                return op == "!="
            return UNKNOWN
        # an order relation holds for every pair iff it holds for the extreme pair
        if op in ("<", "<="):
            if fn(hi_l, lo_r):
                return True
            if not fn(lo_l, hi_r):
                return False
        else:
            if fn(lo_l, hi_r):
                return True
            if not fn(hi_l, lo_r):
                return False
        return UNKNOWN
    return fn(left, right)


def contains(item: object, collection: object) -> object:
    """``item in collection`` with Kleene semantics."""
    if item is UNKNOWN or collection is UNKNOWN:
        return UNKNOWN
    assert isinstance(collection, (list, tuple, frozenset, set))
    return item in collection


def _exact(value: object) -> Fraction | int:
    if isinstance(value, (int, Fraction)):
        return value
    assert isinstance(value, Decimal)
    return Fraction(value)


def _integral(value: Any) -> bool:
    return value.whole if isinstance(value, Interval) else value % 1 == 0


def _whole_number(value: Fraction | int) -> Fraction | int:
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


def _range_arithmetic(op: str, left: object, right: object, products: bool = False) -> object:
    """``+ -`` of ranges and numbers, ``* /`` of a range by a known number; with ``products``, also
    a range times a range and a quotient by a range (else unknown)."""
    if op in ("+", "-"):
        lo_l, hi_l = _bounds(left)
        lo_r, hi_r = _bounds(right)
        whole = _integral(left) and _integral(right)
        if op == "+":
            return count_value(_whole_number(_exact(lo_l) + _exact(lo_r)), _whole_number(_exact(hi_l) + _exact(hi_r)),
                               whole)
        return count_value(_whole_number(_exact(lo_l) - _exact(hi_r)), _whole_number(_exact(hi_l) - _exact(lo_r)),
                           whole)
    if isinstance(right, Interval) and (op == "/" or isinstance(left, Interval)):
        return _range_product(op, left, right) if products else UNKNOWN
    interval, k = (left, right) if isinstance(left, Interval) else (right, left)
    assert isinstance(interval, Interval)
    factor = _exact(k)
    if op == "/":
        if factor == 0:
            return UNKNOWN
        factor = Fraction(1) / Fraction(factor)
    whole = interval.whole and factor % 1 == 0
    ends = sorted((_whole_number(_exact(interval.lo) * factor), _whole_number(_exact(interval.hi) * factor)))
    return count_value(ends[0], ends[1], whole)


def _range_product(op: str, left: object, right: object) -> object:
    """A range times a range, or a number or a range divided by a range: the least and the
    greatest product of their ends (a quotient is a product by the divisor's reciprocals); unknown
    when the divisor's range holds zero (some of its values cannot divide)."""
    lo_l, hi_l = _bounds(left)
    lo_r, hi_r = _bounds(right)
    whole = _integral(left) and _integral(right)
    if op == "/":
        if lo_r <= 0 <= hi_r:
            return UNKNOWN
        lo_r, hi_r = Fraction(1) / _exact(hi_r), Fraction(1) / _exact(lo_r)
        whole = False
    ends = sorted(_exact(a) * _exact(b) for a in (lo_l, hi_l) for b in (lo_r, hi_r))
    return count_value(_whole_number(ends[0]), _whole_number(ends[-1]), whole)


def arithmetic(op: str, left: object, right: object, products: bool = False) -> object:
    """Exact ``+ - * /``; unknown in, unknown out; division by zero is unknown. A range (a count
    over unknown filters) plus or minus a range or a number is a range, and so is a range times
    or divided by a known number. With ``products`` (a ruleset that opts into ranges), a range
    times a range is one too, and so is a range or a number divided by a range that does not
    hold zero (else unknown)."""
    if left.__class__ is int and right.__class__ is int and op != "/":  # the common case, exact as it is
        return left + right if op == "+" else left - right if op == "-" else left * right
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, Interval) or isinstance(right, Interval):
        return _range_arithmetic(op, left, right, products)
    a, b = _exact(left), _exact(right)
    if op == "+":
        result: Fraction | int = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    else:
        if b == 0:
            return UNKNOWN
        result = Fraction(a) / Fraction(b)
    if isinstance(result, Fraction) and result.denominator == 1:
        return int(result)
    return result


def absolute(value: object) -> object:
    """``abs(x)``, three-valued; the absolute value of a range is a range."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, Interval):
        lo, hi = value.lo, value.hi
        if lo >= 0:
            return value
        if hi <= 0:
            return Interval(-hi, -lo, value.whole)
        return Interval(0, max(-lo, hi), value.whole)
    return abs(value)  # type: ignore[arg-type]


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from ``a`` to ``b``; negative when ``b`` precedes ``a``.

    >>> months_between(dt.date(2017, 5, 20), dt.date(2019, 5, 19))
    23
    >>> months_between(dt.date(2017, 5, 20), dt.date(2019, 5, 20))
    24
    """
    months = 12 * (b.year - a.year) + (b.month - a.month)
    if b.day < a.day:
        months -= 1
    return months


def month_end(d: dt.date, n: int) -> dt.date:
    """The last day of the month that lies ``n`` months after the month of ``d``.

    >>> month_end(dt.date(2019, 7, 25), 24)
    datetime.date(2021, 7, 31)
    >>> month_end(dt.date(2019, 12, 31), 2)
    datetime.date(2020, 2, 29)
    """
    index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    last = _MONTH_DAYS[month] if month != 2 or not calendar.isleap(year) else 29
    return dt.date(year, month, last)


#: The days of each month (1-12) of a common year.
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
