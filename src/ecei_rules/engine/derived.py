"""A derived value as a decision shows it: its outcome (known, unknown or undefined), its value,
why it has none, and what it read.

A ruleset's ``derived:`` values are computed once per decision, in dependency order, before
the criteria (by the production evaluator with the compiled expressions, by the reference
evaluator with the interpreter). A value is

* ``known`` when its expression has a value;
* ``undefined`` when it has none although nothing it reads is absent or unknown: a division
  by zero or ``min``/``max`` over no items met while it was computed, or a derived value it
  reads that is itself undefined (``reason`` says which, first met first);
* ``unknown`` otherwise (an input it needs is absent, or a count over unknown filters).

An unknown value may still be known to lie in a **range** ``[lo, hi]``: a count over unknown
filters; an absent number input with a declared minimum and maximum (read as every value
between them); a choice whose test is unknown (the least range holding both branches); and what
``+ - * /``, ``min``, ``max``, ``abs``, ``round``, ``floor`` and ``ceil`` make of ranges (the
extremes of what their ends give; a division by a range holding zero has none). A decision
shows that range (``range``: ``[lo, hi]``, written only when there is one), and a condition on
the value is met or not met when every value of the range gives the same answer, so every value
the absent inputs could take would give it too.

A criterion that reads an undefined value reads it as unknown (Kleene).
"""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from ecei_rules.core.canonical import to_json
from ecei_rules.ruleset.model import EngineValue, ParameterUse

DerivedOutcome = Literal["known", "unknown", "undefined"]

#: A number a decision shows keeps at most this many significant digits (canonical JSON carries
#: them exactly); conditions compare the exact value.
SHOWN_DIGITS = 15
_SHOWN = Context(prec=SHOWN_DIGITS)


class DerivedResult(BaseModel):
    """One derived value of a decision."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(description="The derived value's name.")
    title: str = Field(description="Its title.")
    unit: str | None = Field(default=None, description="Its unit.")
    outcome: DerivedOutcome = Field(description="known, unknown or undefined (no value although nothing it "
                                    "reads is unknown: a division by zero, min or max over no items).")
    value: EngineValue = Field(default=None, description="Its value when known (a number to at most 15 "
                               "significant digits), else null.")
    reason: str | None = Field(default=None, description="Why it is undefined (null unless undefined).")
    range: tuple[EngineValue, EngineValue] | None = Field(
        default=None, description="When unknown but known to lie between two numbers, the least and the "
        "greatest it can be (each shown as a value is); written only then.")
    expression: str = Field(description="The expression as written in the ruleset.")
    inputs: dict[str, EngineValue] = Field(description="JSON pointer -> value of every input it reads (through "
                                           "the derived values it reads too) that has a value.")
    missing: tuple[str, ...] = Field(description="JSON pointers of the inputs it reads that are absent.")
    derived: tuple[str, ...] = Field(description="The derived values its expression reads.")
    parameters: tuple[ParameterUse, ...] = Field(description="The parameters it reads (through the derived "
                                                 "values it reads too).")
    # written only when there is a range (a lambda, unannotated: the model's JSON Schema stays its
    # own; a ClassVar, so that the docs' model reader does not take it for a field)
    _range_when_known: ClassVar[Any] = model_serializer(mode="wrap")(
        lambda self, handler: _without_range(handler(self)))


def _without_range(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("range") is None:
        data.pop("range", None)
    return data


#: The largest whole number a decision shows as it is (2^53 - 1: canonical JSON's numbers are doubles).
SHOWN_WHOLE = 2**53 - 1


def shown(value: Any) -> Any:
    """A derived value's runtime value as a decision shows it: a whole number up to 2^53 - 1 in
    magnitude as an int, another number as a Decimal (rounded half-even to 15 significant digits when
    it has more, or no end: so a whole number beyond 2^53 - 1, which canonical JSON cannot carry
    exactly, is shown to 15 significant digits too), anything else (a truth value, a date, a text) as
    it is. Conditions compare the exact value."""
    if value.__class__ is bool or not isinstance(value, (int, Decimal, Fraction)):
        return value
    exact = Fraction(value)
    if exact.denominator == 1:
        whole = int(exact)
        if -SHOWN_WHOLE <= whole <= SHOWN_WHOLE:
            return whole
    return _SHOWN.divide(Decimal(exact.numerator), Decimal(exact.denominator)).normalize(_SHOWN)


def shown_range(lo: Any, hi: Any) -> tuple[Any, Any]:
    """A range's ends as a decision shows them (each as :func:`shown` shows a value)."""
    return shown(lo), shown(hi)


def derived_json(r: DerivedResult) -> dict[str, Any]:
    """A derived value's JSON values (as ``Decision.to_json`` writes it; ``range`` only when there is one)."""
    out = {"id": r.id, "title": r.title, "unit": r.unit, "outcome": r.outcome, "value": to_json(r.value),
           "reason": r.reason}
    if r.range is not None:
        out["range"] = [to_json(r.range[0]), to_json(r.range[1])]
    out.update({"expression": r.expression, "inputs": {str(k): to_json(v) for k, v in r.inputs.items()},
                "missing": list(r.missing), "derived": list(r.derived),
                "parameters": [{"name": p.name, "value": to_json(p.value), "unit": p.unit,
                                "provenance": p.provenance, "source": p.source} for p in r.parameters]})
    return out
