"""The bounds of what an explanation may be asked for: the near-miss margin and the change sets listed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ecei_rules.ruleset.inputs import decimal_problem

#: The most change sets that may be asked for per tier (``--max-sets``): each is listed, and beyond a few
#: hundred a list is no longer read (the count and the compact form say the rest). (It was 10,000: 10,000 sets
#: of 60 changes each, for a ruleset of 120 criteria in one score, took 2 GB and more.)
MAX_CHANGE_SETS = 1_000
#: The most changes listed in the change sets and input sets of one explanation, all tiers together: a list
#: stops before the set that would pass it (each list keeps its first set; the counts stay exact). This bounds
#: the work (each set listed is decided again) and the output whatever the ruleset and ``--max-sets``.
MAX_LISTED_CHANGES = 10_000


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
