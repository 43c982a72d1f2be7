"""The bounds of what an explanation may be asked for: the near-miss margin and the change sets listed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ecei_rules.ruleset.inputs import decimal_problem

#: The most change sets that may be asked for per tier (``--max-sets``): each is listed, and beyond a few
#: thousand a list is no longer read (the count and the compact form say the rest).
MAX_CHANGE_SETS = 10_000


def margin_problem(margin: Any) -> str | None:
    """Why ``margin`` cannot be a near-miss margin, or None: it must be a finite Decimal of at least 0 that an
    input could hold (at most 15 significant digits, 0 or at least 10^-15, at most 2^53 - 1 in magnitude), which
    also bounds the arithmetic the explanation does with it (``1e999999999`` took that arithmetic beyond any
    time)."""
    if not isinstance(margin, Decimal) or not margin.is_finite() or margin < 0:
        return "it must be a number of at least 0 (e.g. 0.1)"
    if decimal_problem(margin) is not None:
        return "it must have at most 15 significant digits, be 0 or at least 10^-15, and at most 2^53 - 1"
    return None
