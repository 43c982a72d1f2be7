"""The validator's decimal arithmetic is exact and the same whatever the caller's decimal context.

``decimal.getcontext()`` is the calling thread's: its precision rounds ``normalize()`` (28 digits
by default), its exponent range makes ``to_integral_value()`` overflow, and its traps turn a
rounding into an exception. The validator's counts and checks (`significant_digits`,
`decimal_problem`, `whole_number`) must not depend on it; each is checked here against an
answer computed another way (from the digits, or with fractions), under contexts drawn at random.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ecei_rules.core.canonical import number_to_json, significant_digits
from ecei_rules.ruleset.inputs import MAX_INTEGER, TOO_LARGE, decimal_problem, whole_number

_SIGNALS = [decimal.Clamped, decimal.DivisionByZero, decimal.Inexact, decimal.Overflow, decimal.Rounded,
            decimal.Underflow, decimal.InvalidOperation, decimal.Subnormal, decimal.FloatOperation]
_ROUNDINGS = [decimal.ROUND_DOWN, decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN, decimal.ROUND_CEILING,
              decimal.ROUND_FLOOR, decimal.ROUND_UP, decimal.ROUND_HALF_DOWN, decimal.ROUND_05UP]

contexts = st.builds(decimal.Context, prec=st.integers(1, 60), rounding=st.sampled_from(_ROUNDINGS),
                     Emin=st.integers(-100, 0), Emax=st.integers(0, 100),
                     traps=st.lists(st.sampled_from(_SIGNALS), unique=True))

#: finite decimals of up to 40 digits with exponents from -40 to 40 (written with trailing zeros,
#: leading zeros of the coefficient dropped), and a few from the edges
decimals = st.builds(lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
                     st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=40),
                     st.integers(-40, 40)) | st.sampled_from(
    [Decimal("1E+1000000"), Decimal("-1E+999999999999999999"), Decimal("1E-1000000"), Decimal("9007199254740991"),
     Decimal("9007199254740992"), Decimal("9007199254740991.0000000000000000000000000000000001"),
     Decimal("0." + "3" * 32), Decimal("-0E-50"), Decimal("124.000000000000000000000000000000000")])


def digits_of(value: Decimal) -> int:
    """The significant digits of a finite decimal, from its written digits (one for zero)."""
    return len("".join(map(str, value.as_tuple().digits)).lstrip("0").rstrip("0")) or 1


def exactly(value: Decimal) -> Fraction | None:
    """The value as a fraction, or None when it is too large to build (an exponent beyond 1000)."""
    return Fraction(value) if value.adjusted() < 1000 else None


@given(decimals, contexts)
def test_property_significant_digits_counts_the_written_digits_under_any_context(value: Decimal,
                                                                                 context: Any) -> None:
    """`significant_digits` is the number of digits of a decimal without its leading and trailing
    zeros (one for zero), whatever the current context: 32 digits are 32, not the 28 or 10 of a
    context's precision, and no trap of the context is raised."""
    with decimal.localcontext(context):
        assert significant_digits(value) == digits_of(value)


@given(decimals, contexts)
def test_property_decimal_problem_and_whole_number_are_exact_under_any_context(value: Decimal, context: Any) -> None:
    """`decimal_problem` and `whole_number` give, under any context, what the exact value says:
    "large" beyond 2^53 - 1, then a whole number (the int, or TOO_LARGE) is fine, and a fraction
    is refused ("precision") when it has more than 15 significant digits or is nearer zero than
    10^-15; never an exception such as decimal.Overflow."""
    exact = exactly(value)
    large = exact is None or abs(exact) > MAX_INTEGER
    whole = exact is None or exact.denominator == 1
    if not value:
        wanted_problem = None
    elif large:
        wanted_problem = "large"
    elif whole or (digits_of(value) <= 15 and value.adjusted() >= -15):
        wanted_problem = None
    else:
        wanted_problem = "precision"
    wanted_whole: Any = None if not whole else TOO_LARGE if large else int(exact) if exact is not None else None
    with decimal.localcontext(context):
        problem, number = decimal_problem(value), whole_number(value)
    assert problem == wanted_problem
    assert number is wanted_whole if wanted_whole is TOO_LARGE or wanted_whole is None else number == wanted_whole


@given(st.integers(-(10**40), 10**40), st.integers(0, 120), st.integers(0, 120), contexts)
def test_property_a_fraction_is_written_as_under_the_default_context_under_any_context(
        numerator: int, twos: int, fives: int, context: Any) -> None:
    """`number_to_json` of a fraction with a finite decimal form (its denominator a product of 2s
    and 5s) gives, under any context, the number it gives under the default context: the context's
    precision does not round it (5/8 is 0.625 under ``prec=2`` too) and its traps do not raise."""
    value = Fraction(numerator, 2**twos * 5**fives)
    with decimal.localcontext(decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999,
                                              Emin=-999_999)):
        wanted = number_to_json(value)
    with decimal.localcontext(context):
        assert number_to_json(value) == wanted
