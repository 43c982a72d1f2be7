"""Kleene logic, bounded counts, exact arithmetic and calendar functions, against hand-written tables."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest

from ecei_rules.core.logic import (
    UNKNOWN,
    Interval,
    arithmetic,
    compare,
    contains,
    count_value,
    k_and,
    k_not,
    k_or,
    month_end,
    months_between,
    outcome,
)

T, F, U = True, False, UNKNOWN
D = dt.date

# --------------------------------------------------------------------------------------------
# Kleene truth tables (written out by hand: false dominates 'and', true dominates 'or')
# --------------------------------------------------------------------------------------------

AND_TABLE = [
    (T, T, T), (T, F, F), (T, U, U),
    (F, T, F), (F, F, F), (F, U, F),
    (U, T, U), (U, F, F), (U, U, U),
]
OR_TABLE = [
    (T, T, T), (T, F, T), (T, U, T),
    (F, T, T), (F, F, F), (F, U, U),
    (U, T, T), (U, F, U), (U, U, U),
]
NOT_TABLE = [(T, F), (F, T), (U, U)]


@pytest.mark.parametrize(("a", "b", "expected"), AND_TABLE)
def test_kleene_and(a: object, b: object, expected: object) -> None:
    """k_and follows the Kleene table for all nine pairs."""
    assert k_and([a, b]) is expected


@pytest.mark.parametrize(("a", "b", "expected"), OR_TABLE)
def test_kleene_or(a: object, b: object, expected: object) -> None:
    """k_or follows the Kleene table for all nine pairs."""
    assert k_or([a, b]) is expected


@pytest.mark.parametrize(("a", "expected"), NOT_TABLE)
def test_kleene_not(a: object, expected: object) -> None:
    """k_not swaps true and false and keeps unknown."""
    assert k_not(a) is expected


def test_kleene_empty_and_long() -> None:
    """An empty 'and' is true, an empty 'or' false; a false anywhere decides a long 'and'."""
    assert k_and([]) is True
    assert k_or([]) is False
    assert k_and([U, U, T, F, U]) is False
    assert k_or([U, F, F, T]) is True
    assert k_and([T, T, T]) is True
    assert k_or([F, F, F]) is False


def test_unknown_has_no_python_truth_value() -> None:
    """Using UNKNOWN in a Python 'if' raises instead of silently counting as true or false."""
    with pytest.raises(TypeError):
        bool(UNKNOWN)


def test_unknown_is_a_singleton_that_survives_pickling() -> None:
    """UNKNOWN is one object, also after a pickle round trip, so 'is UNKNOWN' tests stay valid."""
    assert type(UNKNOWN)() is UNKNOWN
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN


@pytest.mark.parametrize(("value", "expected"), [(T, "met"), (F, "not_met"), (U, "unknown"), (1, "unknown")])
def test_outcome(value: object, expected: str) -> None:
    """True is met, False is not_met, anything else (UNKNOWN, a truthy 1) is unknown."""
    assert outcome(value) == expected


# --------------------------------------------------------------------------------------------
# intervals (counts over unknown filters)
# --------------------------------------------------------------------------------------------


def test_count_value() -> None:
    """An exact count is a plain int; a range is an Interval."""
    assert count_value(3, 3) == 3
    assert type(count_value(3, 3)) is int
    assert count_value(2, 4) == Interval(2, 4)


# Interval(2, 3) is "2 or 3"; each answer is true when it holds for both, false when for neither
INTERVAL_TABLE = [
    (">=", 2, T), (">=", 3, U), (">=", 4, F),
    (">", 1, T), (">", 2, U), (">", 3, F),
    ("<=", 3, T), ("<=", 2, U), ("<=", 1, F),
    ("<", 4, T), ("<", 3, U), ("<", 2, F),
    ("==", 1, F), ("==", 2, U), ("==", 3, U), ("==", 4, F),
    ("!=", 5, T), ("!=", 3, U), ("!=", 1, T),
]


@pytest.mark.parametrize(("op", "number", "expected"), INTERVAL_TABLE)
def test_interval_compared_with_a_number(op: str, number: int, expected: object) -> None:
    """Interval(2, 3) compared with a number is decided exactly when every value in it agrees."""
    assert compare(op, Interval(2, 3), number) is expected


@pytest.mark.parametrize(
    ("op", "number", "expected"),
    [
        ("<=", 2, T),  # 2 <= 2 and 2 <= 3
        ("<=", 3, U),  # 3 <= 3 but not 3 <= 2
        ("<", 2, U),  # 2 < 3 but not 2 < 2
        ("<", 1, T),  # 1 < 2 and 1 < 3
        (">=", 3, T),  # 3 >= 2 and 3 >= 3
        (">", 3, U),  # 3 > 2 but not 3 > 3
        (">", 2, F),  # neither 2 > 2 nor 2 > 3
        (">=", 2, U),  # 2 >= 2 but not 2 >= 3
    ],
)
def test_number_compared_with_an_interval(op: str, number: int, expected: object) -> None:
    """With the interval on the right: 2 <= {2,3} is true, 3 <= {2,3} unknown, 2 > {2,3} false."""
    assert compare(op, number, Interval(2, 3)) is expected


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        (Interval(0, 1), "<", Interval(2, 5), T),  # 1 < 2
        (Interval(0, 3), "<", Interval(2, 5), U),  # 0 < 5 but not 3 < 2
        (Interval(5, 6), "<", Interval(2, 5), F),  # 5 < 5 fails already at the extremes
        (Interval(0, 1), "==", Interval(2, 5), F),  # disjoint
        (Interval(0, 2), "==", Interval(2, 5), U),  # may both be 2
        (Interval(0, 2), "!=", Interval(3, 5), T),
    ],
)
def test_interval_compared_with_an_interval(left: Interval, op: str, right: Interval, expected: object) -> None:
    """Two intervals compare by their extreme pairs."""
    assert compare(op, left, right) is expected


def test_compare_with_unknown_is_unknown() -> None:
    """Any comparison with UNKNOWN on either side is UNKNOWN."""
    for op in ("<", "<=", ">", ">=", "==", "!="):
        assert compare(op, UNKNOWN, 1) is U
        assert compare(op, 1, UNKNOWN) is U
        assert compare(op, Interval(0, 1), UNKNOWN) is U


def test_exact_comparison_of_mixed_numbers() -> None:
    """Decimal, int and Fraction compare exactly: 0.1 + 0.2 == 0.3, 1/3 < 0.3333333333."""
    assert compare("==", arithmetic("+", Decimal("0.1"), Decimal("0.2")), Decimal("0.3")) is True
    assert compare("<", Fraction(1, 3), Decimal("0.3333333333")) is False
    assert compare(">", Fraction(1, 3), Decimal("0.3333333333")) is True
    assert compare("==", Decimal("2.0"), 2) is True


def test_contains() -> None:
    """'in' is true or false for known values and unknown when either side is unknown."""
    assert contains("a", ("a", "b")) is True
    assert contains("c", ("a", "b")) is False
    assert contains(UNKNOWN, ("a",)) is U
    assert contains("a", UNKNOWN) is U


# --------------------------------------------------------------------------------------------
# arithmetic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("+", Decimal("0.1"), Decimal("0.2"), Fraction(3, 10)),
        ("-", 1, Decimal("0.25"), Fraction(3, 4)),
        ("*", Decimal("0.5"), 4, 2),
        ("/", 1, 3, Fraction(1, 3)),
        ("/", 6, 3, 2),
        ("/", Decimal("0.3"), Decimal("0.1"), 3),
    ],
)
def test_arithmetic_is_exact(op: str, a: object, b: object, expected: object) -> None:
    """+ - * / are exact rationals; whole results become ints."""
    result = arithmetic(op, a, b)
    assert result == expected
    if isinstance(expected, int):
        assert type(result) is int


def test_arithmetic_unknown_cases() -> None:
    """Unknown in gives unknown out; division by zero is unknown, not an exception."""
    assert arithmetic("+", UNKNOWN, 1) is U
    assert arithmetic("*", 2, UNKNOWN) is U
    assert arithmetic("/", 1, 0) is U
    assert arithmetic("/", Decimal("1.5"), Decimal("0")) is U


def test_arithmetic_on_intervals() -> None:
    """{2..3} + 1 = {3..4}; {2..3} - {0..1} = {1..3}; {2..3} * 2 = {4..6} (issue 22: a range times
    a known number is a range); {2..3} / 2 lies in [1, 1.5] and is no longer whole numbers only;
    a range times a range is unknown (not tracked)."""
    assert arithmetic("+", Interval(2, 3), 1) == Interval(3, 4)
    assert arithmetic("-", Interval(2, 3), Interval(0, 1)) == Interval(1, 3)
    assert arithmetic("-", 5, Interval(2, 3)) == Interval(2, 3)
    assert arithmetic("*", Interval(2, 3), 2) == Interval(4, 6)
    assert arithmetic("*", -1, Interval(2, 3)) == Interval(-3, -2)
    assert arithmetic("/", Interval(2, 3), 2) == Interval(1, Fraction(3, 2), whole=False)
    assert arithmetic("*", Interval(2, 3), Interval(0, 1)) is U
    assert arithmetic("/", 6, Interval(2, 3)) is U


def test_arithmetic_on_intervals_with_products() -> None:
    """With ``products`` (a ruleset that opts into ranges): a range times a range is the range of
    the products of their ends, and a quotient by a range the range of the quotients, unless the
    divisor's range holds zero (then unknown); sums and a range by a number are as without."""
    assert arithmetic("+", Interval(2, 3), Interval(0, 1), True) == Interval(2, 4)
    assert arithmetic("*", Interval(2, 3), 2, True) == Interval(4, 6)
    assert arithmetic("*", Interval(2, 3), Interval(0, 1), True) == Interval(0, 3)
    assert arithmetic("*", Interval(-2, 3), Interval(-1, 4), True) == Interval(-8, 12)
    assert arithmetic("/", 6, Interval(2, 3), True) == Interval(2, 3, whole=False)
    assert arithmetic("/", Interval(-2, 3), Interval(-4, -2), True) == Interval(Fraction(-3, 2), 1, whole=False)
    assert arithmetic("/", 6, Interval(0, 3), True) is U
    assert arithmetic("/", 6, Interval(-1, 3), True) is U


# --------------------------------------------------------------------------------------------
# months_between: 12*(b.year - a.year) + (b.month - a.month), minus 1 when b.day < a.day
# --------------------------------------------------------------------------------------------

MONTHS_BETWEEN = [
    # (a, b, expected)                    derivation
    (D(2017, 5, 20), D(2019, 5, 19), 23),  # 24 + 0 = 24; 19 < 20 -> 23
    (D(2017, 5, 20), D(2019, 5, 20), 24),  # 24; 20 < 20 is false
    (D(2019, 3, 15), D(2019, 3, 15), 0),  # same day
    (D(2020, 1, 31), D(2020, 2, 29), 0),  # 0 + 1 = 1; 29 < 31 -> 0
    (D(2020, 1, 31), D(2020, 3, 31), 2),  # 0 + 2; 31 < 31 is false
    (D(2020, 2, 29), D(2021, 2, 28), 11),  # 12 + 0; 28 < 29 -> 11
    (D(2019, 12, 31), D(2020, 1, 1), 0),  # 12 - 11 = 1; 1 < 31 -> 0
    (D(2019, 12, 1), D(2020, 1, 1), 1),  # 12 - 11 = 1; 1 < 1 is false
    (D(2021, 3, 15), D(2020, 3, 15), -12),  # -12 + 0; 15 < 15 is false
    (D(2021, 3, 15), D(2020, 3, 14), -13),  # -12; 14 < 15 -> -13
    (D(2021, 3, 15), D(2021, 1, 20), -2),  # 0 - 2; 20 < 15 is false
    (D(2021, 3, 15), D(2021, 3, 1), -1),  # 0 + 0; 1 < 15 -> -1
    (D(2019, 2, 16), D(2021, 3, 15), 24),  # 24 + 1 = 25; 15 < 16 -> 24
    (D(2019, 2, 15), D(2021, 3, 15), 25),  # 25; 15 < 15 is false
]


@pytest.mark.parametrize(("a", "b", "expected"), MONTHS_BETWEEN)
def test_months_between(a: dt.date, b: dt.date, expected: int) -> None:
    """months_between follows the spec formula, including day-of-month and negative cases."""
    assert months_between(a, b) == expected


# --------------------------------------------------------------------------------------------
# month_end: the last day of the month n months after d's month
# --------------------------------------------------------------------------------------------

MONTH_END = [
    # (d, n, expected)                    derivation
    (D(2019, 7, 25), 24, D(2021, 7, 31)),  # spec example: July 2019 + 24 months = July 2021
    (D(2019, 12, 31), 2, D(2020, 2, 29)),  # Feb 2020, a leap year (divisible by 4)
    (D(2020, 12, 31), 2, D(2021, 2, 28)),  # Feb 2021, not a leap year
    (D(2023, 2, 10), 12, D(2024, 2, 29)),  # Feb 2024 is leap
    (D(2100, 1, 15), 1, D(2100, 2, 28)),  # 2100 is divisible by 100 but not 400: not leap
    (D(2000, 1, 15), 1, D(2000, 2, 29)),  # 2000 is divisible by 400: leap
    (D(2021, 3, 15), 0, D(2021, 3, 31)),  # the same month
    (D(2021, 4, 30), 0, D(2021, 4, 30)),  # already the last day
    (D(2021, 3, 15), -3, D(2020, 12, 31)),  # backwards across a year
    (D(2021, 1, 1), -1, D(2020, 12, 31)),
    (D(2021, 3, 15), 24, D(2023, 3, 31)),
    (D(2021, 11, 5), 3, D(2022, 2, 28)),  # Nov + 3 = Feb of the next year
    (D(2022, 1, 31), 36, D(2025, 1, 31)),
]


@pytest.mark.parametrize(("d", "n", "expected"), MONTH_END)
def test_month_end(d: dt.date, n: int, expected: dt.date) -> None:
    """month_end lands on the last day of the target month, leap years included."""
    assert month_end(d, n) == expected


def test_month_end_out_of_range() -> None:
    """Past year 9999 (or before year 1) month_end raises OverflowError, not a wrong date."""
    with pytest.raises(OverflowError):
        month_end(D(9999, 12, 1), 1)
    with pytest.raises(OverflowError):
        month_end(D(1, 1, 1), -1)
