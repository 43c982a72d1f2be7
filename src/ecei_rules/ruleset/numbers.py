"""Numbers a ruleset states (parameter values, input bounds, score weights and points' maxima): each must survive
the canonical JSON of the content hash exactly, so each is checked when the ruleset loads.

RFC 8785 writes numbers as IEEE doubles: a whole number beyond 2^53 - 1 has no exact form (a
parameter of 9007199254740993, ``maximum: 1e300``), and a decimal must read back as the same
decimal. Such a number is refused (E205, at the number) instead of failing in the hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from ecei_rules.core.pointers import pointer_join
from ecei_rules.ruleset.model import TABLE_DEFAULT, InputSpec, RulesetDocument

#: The largest magnitude of a whole number in a ruleset (the largest integer a double holds exactly).
MAX_WHOLE = 2**53 - 1


def number_problem(value: Any) -> str | None:
    """Why ``value`` (a number of the document) has no exact canonical form, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    shown = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"the number {value} is not finite"
        if value == value.to_integral_value():
            value = int(value) if abs(value.adjusted()) <= 20 else MAX_WHOLE + 1
        else:
            try:
                same = Decimal(repr(float(value))) == value
            except (OverflowError, ValueError):
                same = False
            if not same:
                return f"the number {value} has no exact form in canonical JSON (an IEEE double)"
            return None
    if abs(value) > MAX_WHOLE:
        text = shown if len(shown) <= 24 else f"{shown[:12]}...({len(shown)} characters)"
        return (f"the number {text} is too large: numbers in a ruleset are at most 2^53 - 1 "
                f"({MAX_WHOLE:,}) in magnitude, so that the content hash holds them exactly")
    return None


def _specs(spec: InputSpec, pointer: str) -> Iterator[tuple[InputSpec, str]]:
    yield spec, pointer
    for name, sub in (spec.fields or {}).items():
        yield from _specs(sub, pointer_join(pointer, "fields", name))
    if spec.items is not None:
        yield from _specs(spec.items, pointer_join(pointer, "items"))


def _numbers(doc: RulesetDocument) -> Iterator[tuple[Any, str]]:
    for section, specs in (("types", doc.types), ("inputs", doc.inputs)):
        for name, top in specs.items():
            for spec, pointer in _specs(top, pointer_join("/" + section, name)):
                yield spec.minimum, pointer_join(pointer, "minimum")
                yield spec.maximum, pointer_join(pointer, "maximum")
    for name, parameter in doc.parameters.items():
        yield parameter.value, pointer_join("/parameters", name, "value")
    for name, table in doc.tables.items():
        for key, entry in table.entries().items():
            at = pointer_join("/tables", name, "default") if key == TABLE_DEFAULT else pointer_join(
                "/tables", name, "values", key)
            yield table.parameter(key, entry).value, at
    for sid, score in doc.scores.items():
        for cid, weight in score.weights.items():
            yield weight, pointer_join("/scores", sid, "weights", cid)
        for pid, points in score.points.items():
            yield points.maximum, pointer_join("/scores", sid, "points", pid, "maximum")


def add_number_problems(doc: RulesetDocument, add: Callable[..., None]) -> None:
    """Report (E205) every number of ``doc`` that canonical JSON could not carry exactly."""
    for value, pointer in _numbers(doc):
        problem = number_problem(value)
        if problem is not None:
            add("E205", problem, pointer)
