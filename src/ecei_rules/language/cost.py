"""The cost model: every condition's worst-case work per decision, checked when a ruleset loads.

A condition's cost is counted in *steps* while it is compiled (:mod:`ecei_rules.language.expr`):
every node of the condition is one step plus what its parts cost; an aggregate (``any``,
``all``, ``count``, ``count_distinct``, ``min``, ``max``, ``sum``) over a list costs the most
items that list can hold times (2 + its body), so nested aggregates multiply; ``x in L`` costs
the size of ``L`` more; an exact ``sum`` of quotients costs the square of the list's size
(each term may widen the denominator). The most items a list can hold is its declared
``max_items`` (the language default :data:`~ecei_rules.ruleset.inputs.MAX_ITEMS` when
undeclared), a parameter's or a literal's length.

A ruleset is refused (E206, at the costliest loop) when one condition, or all of them
together, can cost more than :data:`BUDGET` steps for one decision. A consistency check of an
object that sits in lists runs once per item, so its cost is multiplied by their sizes; a derived
value runs once per decision, however many conditions read it.

**The size of numbers.** Arithmetic is exact (integers and fractions, never floats), so a step
is only as cheap as its numbers are short: a product's digits are the sum of its factors', and
derived values that square each other double them at each level (24 levels: millions of digits).
Every number a condition computes therefore has a worst-case :class:`Size`, worked out at load
from the declared bounds of the inputs it reads (an integer input is at most 2^53 - 1, a decimal
one has at most 15 significant digits, none below 10^-29), the values of its literals,
parameters and table entries, and the sizes of the derived values it reads, through ``+ - * /``
and the functions (see the functions below :class:`Size`): a product adds its factors' digits; a
sum or a difference is one digit longer than the larger of the two, over a common denominator (the
product of theirs, but powers of ten do not multiply: the longer is common); a quotient adds the
divisor's denominator to the numerator and its numerator to the denominator; ``round(x, n)`` has
a denominator of 10^n at most, ``floor`` and ``ceil`` none; ``sum`` over a list of up to ``k``
items multiplies a term's denominator by ``k`` (the terms' common denominator; for denominators
up to 10^6 at most the least common multiple of the whole numbers up to them). A ruleset is
refused (E206, at the operation where it is first exceeded: in the derived value, criterion or
rule whose own arithmetic crosses it, not in those that merely read that value) when a number
could need more than :data:`MAX_DIGITS` decimal digits in its numerator or its denominator.

The two bounds work together: the steps bound how many operations a decision runs, the size how
dear each one can be, and the size weighs the steps. On small numbers a step takes well under a
microsecond; on two fractions of :data:`MAX_DIGITS` digits (a product, a sum or a quotient, with
the gcd that keeps them in lowest terms) some 0.15 ms, a hundred times a step on 17-digit
fractions (about 2.6 times at 100 digits, 11 at 400, 50 at 1,200, measured in CPython 3.11: a
little under quadratic in the digits). So each condition's steps count :func:`step_weight` times
the most digits of the numbers it computes or reads from derived values (1 up to 63 digits, 176
at 2,000: above the measured ratio at every size), and the budget is of these weighted steps: a
version with nested loops over lists whose bodies multiply numbers of a thousand digits is refused
at load, where each of its decisions would have run for minutes. The shipped versions need at
most 17 digits (weight 1), the examples and test rulesets under 150 (weight 5 at most).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ecei_rules.core.pointers import split_pointer
from ecei_rules.errors import Diagnostic

if TYPE_CHECKING:
    from ecei_rules.language.expr import Compiled, Loop, Ty

#: The most steps the conditions of a ruleset may cost for one decision (10^7).
BUDGET = 10_000_000
#: The most decimal digits the numerator or the denominator of a number a condition computes may
#: have, at worst (below Python's 4,300-digit limit on writing an integer as text).
MAX_DIGITS = 2_000
#: The most digits of an integer input (2^53 - 1 < 10^16), and the most decimal places of a decimal
#: input (15 significant digits, the first of them at 10^-15 at the lowest).
INPUT_DIGITS, INPUT_PLACES = 16, 29
#: The most a number a decision shows (a derived value, a score's points) may reach in magnitude, as a
#: power of ten: decisions write numbers as JSON numbers, IEEE doubles, which stop near 1.8 x 10^308.
SHOWN_MAGNITUDE = 300
#: The digits up to which a step weighs one (see :func:`step_weight`).
LIGHT_DIGITS = 63
#: days_between and months_between of two dates of the calendar (years 1 to 9999): under 10^7.
CALENDAR_DIGITS = 7


@dataclass(frozen=True)
class Size:
    """The worst-case size of an exact number ``x = N / D`` (in lowest terms), as powers of ten:
    ``|x| <= 10^magnitude``, ``|N| <= 10^numerator``, and ``D`` divides ``10^tens * G`` for a
    whole ``G <= 10^other``. Decimal fractions keep ``other`` at 0 however many are added (their
    denominators divide a power of ten); a division by a number puts its numerator there."""

    magnitude: int
    numerator: int
    tens: int = 0
    other: int = 0

    @property
    def digits(self) -> int:
        """The most digits of the numerator or the denominator (as a power of ten)."""
        return max(self.numerator, self.tens + self.other)


def step_weight(digits: int) -> int:
    """How many steps one step counts for when its numbers can have up to ``digits`` digits:
    ``1 + ceil((digits / 64) ** 1.5)`` beyond :data:`LIGHT_DIGITS` (3 at 100 digits, 7 at 200, 17
    at 400, 83 at 1,200, 176 at 2,000), 1 up to it. The time of an exact ``+ - * /`` grows a little
    under quadratically in the digits; this weight stays above its measured ratio to a step on
    17-digit fractions at every size (see the module)."""
    if digits <= LIGHT_DIGITS:
        return 1
    cube = digits**3
    root = math.isqrt(cube // 262_144)  # 64^3
    return 1 + (root if root * root * 262_144 >= cube else root + 1)


def sized(magnitude: int, numerator: int, tens: int = 0, other: int = 0) -> Size:
    """A :class:`Size`, each bound tightened by the others (``|N| = |x| * D``, and ``|x| <= |N|``)."""
    numerator = min(numerator, magnitude + tens + other)
    return Size(min(magnitude, numerator), numerator, tens, other)


def power(k: int) -> int:
    """The least ``d >= 0`` with ``|k| <= 10^d``."""
    k = abs(k)
    d = max((k.bit_length() * 30103) // 100000, 0)
    while 10**d < k:
        d += 1
    while d > 0 and 10 ** (d - 1) >= k:
        d -= 1
    return d


def up_to(most: int) -> Size:
    """A whole number at most ``most`` in magnitude (a count, a length, a number of days)."""
    d = power(most)
    return Size(d, d)


def number_size(value: Any) -> Size | None:
    """The size of a known number (a literal, a parameter, a table entry, a declared bound); None
    for a value that is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction)):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    exact = Fraction(value)
    d = exact.denominator
    twos = (d & -d).bit_length() - 1
    d >>= twos
    fives = 0
    while d % 5 == 0:
        d //= 5
        fives += 1
    return sized(power(math.ceil(abs(exact))), power(exact.numerator), max(twos, fives), power(d))


def input_size(ty: Ty) -> Size:
    """The size of a number input of this type (with its declared bounds, if any): also of any value
    whose size is not known better (a derived value not yet sized, a value of unknown type)."""
    if ty.kind == "integer":
        size = Size(INPUT_DIGITS, INPUT_DIGITS)
    else:  # a decimal: at most 15 significant digits below 2^53, or a whole number up to it
        size = Size(INPUT_DIGITS, INPUT_DIGITS, INPUT_PLACES)
    if ty.bounds is not None:
        ends = [s for s in map(number_size, ty.bounds) if s is not None]
        if len(ends) == 2:
            size = sized(min(size.magnitude, max(s.magnitude for s in ends)), size.numerator,
                         max(size.tens, *(s.tens for s in ends)), max(size.other, *(s.other for s in ends)))
    return size


def _lcm_power(other: int) -> int | None:
    """A bound (as a power of ten) on the least common multiple of any whole numbers up to 10^other:
    lcm(1..n) < e^(1.03883 n) (Rosser and Schoenfeld), so under 10^(0.4512 n); None when that
    bound is no use (beyond a million)."""
    if other == 0:
        return 0
    return math.ceil(0.4512 * 10**other) if other <= 6 else None


def _common_other(others: list[int], total: int) -> int:
    """The ``other`` of a common denominator of terms with these ``other`` parts (``total``: their sum)."""
    cap = _lcm_power(max(others))
    return total if cap is None else min(total, cap)


def plus(a: Size, b: Size) -> Size:
    """``a + b`` or ``a - b``: the denominator divides the least common multiple of theirs."""
    magnitude = max(a.magnitude, b.magnitude) + 1
    tens, other = max(a.tens, b.tens), _common_other([a.other, b.other], a.other + b.other)
    return sized(magnitude, magnitude + tens + other, tens, other)


def times(a: Size, b: Size) -> Size:
    """``a * b``: every part the sum of theirs."""
    return sized(a.magnitude + b.magnitude, a.numerator + b.numerator, a.tens + b.tens, a.other + b.other)


def quotient(a: Size, b: Size) -> Size:
    """``a / b`` = ``(Na * Db) / (Da * Nb)``: b's denominator joins the numerator, its numerator
    the denominator."""
    below = b.tens + b.other
    return sized(a.magnitude + below, a.numerator + below, a.tens, a.other + b.numerator)


def joined(sizes: Iterable[Size]) -> Size:
    """Any one of these (a choice, ``min``, ``max``, the items of a list): the largest of each part."""
    parts = list(sizes)
    return Size(max(s.magnitude for s in parts), max(s.numerator for s in parts), max(s.tens for s in parts),
                max(s.other for s in parts))


def whole(a: Size) -> Size:
    """``floor(a)``, ``ceil(a)``: a whole number no larger in magnitude than 10^magnitude."""
    return Size(a.magnitude, a.magnitude)


def rounded(a: Size, places: int) -> Size:
    """``round(a, places)``: a decimal of ``places`` places."""
    return sized(a.magnitude, a.magnitude + places, places)


def summed(a: Size, items: int) -> Size:
    """``sum(...)`` of up to ``items`` terms of size ``a``: ``items`` times as large, over the least
    common multiple of their denominators (which may be ``items`` times as long)."""
    if items <= 0:
        return Size(0, 0)
    magnitude = a.magnitude + power(items)
    other = _common_other([a.other], a.other * items)
    return sized(magnitude, magnitude + a.tens + other, a.tens, other)


@dataclass(eq=False)
class Sizing:
    """One number a condition computes, for the size check: how its size follows from those of its
    parts (read through :class:`Sizes`), where it is in the condition text, and what it is."""

    size: Callable[[Sizes], Size]
    offset: int = 0
    what: str = "this number"
    derived: str | None = None  # a read of this derived value


class Sizes:
    """The sizes of the numbers of a ruleset's conditions, each worked out once, and of its derived
    values by name."""

    def __init__(self, derived: dict[str, Sizing] | None = None) -> None:
        self.derived: dict[str, Size] = {}
        self.memo: dict[Sizing, Size] = {}
        self.pending = dict(derived or {})  # derived values by name: the sizing of their expression

    def of(self, sizing: Sizing) -> Size:
        found = self.memo.get(sizing)
        if found is None:
            found = self.memo[sizing] = sizing.size(self)
        return found

    def of_derived(self, name: str, ty: Ty) -> Size:
        """A derived value's size, worked out when first read (that of an input of its declared type
        when it has none: its expression was refused, or it reads itself in a cycle)."""
        found = self.derived.get(name)
        if found is None:
            sizing = self.pending.pop(name, None)
            found = self.derived[name] = input_size(ty) if sizing is None else self.of(sizing)
        return found


@dataclass(frozen=True)
class Costed:
    """A compiled condition, where it is, and how many times one decision may run it."""

    pointer: str
    compiled: Compiled
    runs: int = 1
    why_runs: str = ""  # e.g. "once per item of /inputs/areas (up to 10,000)"


def amount(n: int) -> str:
    """A step count for people: ``8,000,000`` or ``8.0 x 10^9``."""
    if n < 10**8:
        return f"{n:,}"
    text = f"{n:.1e}"
    mantissa, exponent = text.split("e")
    return f"{mantissa} x 10^{int(exponent)}"


def _chain(loops: tuple[Loop, ...]) -> str:
    parts = [f"{loop.function}() over '{loop.source}' (up to {loop.size:,} items)" for loop in loops]
    if len(parts) == 1:
        return parts[0]
    return f"{len(parts)} nested loops, " + " inside ".join(reversed(parts))


_SUGGESTION = ("declare a smaller 'max_items' on the lists looped over, or nest fewer loops; the budget is "
               "documented in the language reference (the cost model)")
_WEIGHED_SUGGESTION = ("round a value before it is multiplied or divided further (round(x, n) in a derived value), "
                       "declare narrower bounds on the inputs it reads or a smaller 'max_items' on the lists looped "
                       "over; the budget and the weight of large numbers are documented in the language reference "
                       "(the cost model)")
_SHOWN_SUGGESTION = ("declare narrower bounds on the inputs it reads, or scale it down (a decision shows 15 "
                     "significant digits of it); the bound is documented in the language reference (the size of "
                     "numbers)")
_SIZE_SUGGESTION = ("round a value before it is multiplied or divided further (round(x, n) in a derived value), "
                    "or declare narrower bounds on the inputs it reads; the bound is documented in the language "
                    "reference (the cost model)")


def check_costs(items: Iterable[Costed], budget: int = BUDGET, max_digits: int = MAX_DIGITS) -> list[Diagnostic]:
    """The conditions over the budget, or the costliest one when only their sum is; then those
    whose numbers can grow beyond ``max_digits`` digits (see :func:`check_sizes`). A condition's
    steps are weighed by the size of the numbers it computes (:func:`step_weight`)."""
    items = list(items)
    known = _known_sizes(items)
    problems: list[Diagnostic] = []
    total = 0
    costliest: tuple[Costed, int, int] | None = None  # the item, its weighted cost, its digits
    for item in items:
        digits = min(max((known.of(s).digits for s in item.compiled.sizings), default=0), max_digits)
        cost = item.compiled.cost * max(item.runs, 1) * step_weight(digits)
        total += cost
        if costliest is None or cost > costliest[1]:
            costliest = (item, cost, digits)
        if cost <= budget:
            continue
        loops = item.compiled.loops
        what = _chain(loops) if loops else f"this condition ({item.compiled.cost:,} steps)"
        runs = f", run {item.why_runs}," if item.runs > 1 else ""
        problems.append(Diagnostic(
            "E206", f"{what}{runs} can cost up to {amount(cost)} steps per decision{_weighed(digits)}; the budget "
            f"is {amount(budget)} (10^{len(str(budget)) - 1})",
            pointer=item.pointer, offset=loops[0].offset if loops else 0,
            suggestion=_SUGGESTION if step_weight(digits) == 1 else _WEIGHED_SUGGESTION))
    if not problems and total > budget and costliest is not None:
        item, cost, digits = costliest
        loops = item.compiled.loops
        problems.append(Diagnostic(
            "E206", f"the conditions of this ruleset together can cost up to {amount(total)} steps per decision "
            f"(this one up to {amount(cost)}{_weighed(digits)}); the budget is "
            f"{amount(budget)} (10^{len(str(budget)) - 1})",
            pointer=item.pointer, offset=loops[0].offset if loops else 0, suggestion=_SUGGESTION))
    return problems + check_sizes(items, max_digits, known)


def _weighed(digits: int) -> str:
    """What a message adds for steps weighed by the size of their numbers."""
    weight = step_weight(digits)
    if weight == 1:
        return ""
    return f" (each step counted {weight} times: its numbers can have up to {digits:,} digits)"


def _known_sizes(items: list[Costed]) -> Sizes:
    """The sizes of the items' numbers, the derived values' by name, each worked out once."""
    return Sizes({name: item.compiled.size for item in items
                  if (name := _derived_name(item.pointer)) is not None and item.compiled.size is not None})


def _derived_name(pointer: str) -> str | None:
    """The name of the derived value whose expression sits at ``pointer`` (``/derived/<name>/value``)."""
    keys = split_pointer(pointer)
    return keys[1] if len(keys) == 3 and keys[0] == "derived" and keys[2] == "value" else None


def _shown_value(pointer: str) -> bool:
    """Whether the expression at ``pointer`` computes a number a decision shows: a derived value's
    (``/derived/<name>/value``) or a score's points' (``/scores/<id>/points/<name>/value``)."""
    keys = split_pointer(pointer)
    return _derived_name(pointer) is not None or (
        len(keys) == 5 and keys[0] == "scores" and keys[2] == "points" and keys[4] == "value")


def check_shown(items: Iterable[Costed], known: Sizes, most: int = SHOWN_MAGNITUDE) -> list[Diagnostic]:
    """The derived values and points whose value could exceed 10^``most`` in magnitude: a decision shows
    them (to 15 significant digits) as JSON numbers, which are doubles, so E205 at the value."""
    problems: list[Diagnostic] = []
    for item in items:
        size = item.compiled.size
        if size is None or not _shown_value(item.pointer):
            continue
        magnitude = known.of(size).magnitude
        if magnitude > most:
            problems.append(Diagnostic(
                "E205", f"this value can reach 10^{magnitude:,} in magnitude (at worst for the declared bounds of "
                f"what it reads), and a decision shows it as a JSON number, which stops near 1.8 x 10^308; the "
                f"bound is 10^{most}", pointer=item.pointer, suggestion=_SHOWN_SUGGESTION))
    return problems


def check_sizes(items: Iterable[Costed], max_digits: int = MAX_DIGITS, known: Sizes | None = None) -> list[Diagnostic]:
    """The conditions (derived values, criteria, rules, checks) that compute a number which can
    need more than ``max_digits`` digits, each at the first such operation of its own. The items
    come as the ruleset compiles them, derived values in the order they read each other, so a
    derived value is usually sized before any condition reads it (else when first read)."""
    items = list(items)
    known = _known_sizes(items) if known is None else known
    problems: list[Diagnostic] = []
    for item in items:
        compiled = item.compiled
        over: tuple[Sizing, Size] | None = None
        for sizing in compiled.sizings:
            size = known.of(sizing)
            if size.digits > max_digits:
                over = (sizing, size)
                break
        if over is None or over[0].derived is not None:
            continue  # within the bound, or over it only by reading a derived value refused already
        sizing, size = over
        problems.append(Diagnostic(
            "E206", f"{sizing.what} can reach numbers of up to {size.digits:,} digits (exact fractions, at worst "
            f"for the declared bounds and digits of what it reads: {size.numerator:,} in the numerator, "
            f"{size.tens + size.other:,} in the denominator); the bound is {max_digits:,} digits",
            pointer=item.pointer, offset=sizing.offset, suggestion=_SIZE_SUGGESTION))
    # a number beyond the size bound is refused first (what reads it would be beyond the magnitude too)
    return problems or check_shown(items, known)
