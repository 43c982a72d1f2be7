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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecei_rules.errors import Diagnostic
from ecei_rules.language.expr import Compiled, Loop

#: The most steps the conditions of a ruleset may cost for one decision (10^7).
BUDGET = 10_000_000


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


def check_costs(items: Iterable[Costed], budget: int = BUDGET) -> list[Diagnostic]:
    """The conditions over the budget, or the costliest one when only their sum is."""
    problems: list[Diagnostic] = []
    total = 0
    costliest: Costed | None = None
    for item in items:
        cost = item.compiled.cost * max(item.runs, 1)
        total += cost
        if costliest is None or cost > costliest.compiled.cost * max(costliest.runs, 1):
            costliest = item
        if cost <= budget:
            continue
        loops = item.compiled.loops
        what = _chain(loops) if loops else f"this condition ({item.compiled.cost:,} steps)"
        runs = f", run {item.why_runs}," if item.runs > 1 else ""
        problems.append(Diagnostic(
            "E206", f"{what}{runs} can cost up to {amount(cost)} steps per decision; the budget is "
            f"{amount(budget)} (10^{len(str(budget)) - 1})",
            pointer=item.pointer, offset=loops[0].offset if loops else 0, suggestion=_SUGGESTION))
    if not problems and total > budget and costliest is not None:
        loops = costliest.compiled.loops
        problems.append(Diagnostic(
            "E206", f"the conditions of this ruleset together can cost up to {amount(total)} steps per decision "
            f"(this one up to {amount(costliest.compiled.cost * max(costliest.runs, 1))}); the budget is "
            f"{amount(budget)} (10^{len(str(budget)) - 1})",
            pointer=costliest.pointer, offset=loops[0].offset if loops else 0, suggestion=_SUGGESTION))
    return problems
