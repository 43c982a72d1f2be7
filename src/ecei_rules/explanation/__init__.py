"""Explanations people can act on: clause-cited reasons and what it takes to reach the next label.

>>> from ecei_rules.explanation import explain_assessment, render_text  # doctest: +SKIP
>>> print(render_text(explain_assessment(data)))  # doctest: +SKIP

* :func:`explain` / :func:`explain_assessment` build an :class:`Explanation` (the stable JSON
  form, schema :data:`SCHEMA`, see :func:`explanation_json_schema`);
* :func:`render_text` and :func:`render_markdown` show it in its language;
* the sentences come from ``ecei_rules/messages/<language>.yaml`` (:func:`languages`);
* the change sets are exact (see :mod:`ecei_rules.explanation.paths`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

#: A numeric value within this share of its threshold is a near miss (or narrowly met).
DEFAULT_NEAR_MARGIN = Decimal("0.1")
#: Change sets listed per tier; the count, the options and the compact form stay exact.
DEFAULT_MAX_CHANGE_SETS = 10
#: The most change sets that may be asked for per tier (``--max-sets``): each is listed, and beyond a few
#: thousand a list is no longer read (the count and the compact form say the rest).
MAX_CHANGE_SETS = 10_000


def margin_problem(margin: Any) -> str | None:
    """Why ``margin`` cannot be a near-miss margin, or None: it must be a finite Decimal of at least 0 that an
    input could hold (at most 15 significant digits, 0 or at least 10^-15, at most 2^53 - 1 in magnitude), which
    also bounds the arithmetic the explanation does with it (``1e999999999`` took that arithmetic beyond any
    time)."""
    from ecei_rules.ruleset.inputs import decimal_problem

    if not isinstance(margin, Decimal) or not margin.is_finite() or margin < 0:
        return "it must be a number of at least 0 (e.g. 0.1)"
    if decimal_problem(margin) is not None:
        return "it must have at most 15 significant digits, be 0 or at least 10^-15, and at most 2^53 - 1"
    return None

if TYPE_CHECKING:
    from ecei_rules.explanation.build import ExplanationCache, explain, explain_assessment, fixed_inputs
    from ecei_rules.explanation.messages import Messages, MessagesError, languages
    from ecei_rules.explanation.model import SCHEMA, Explanation, explanation_json_schema
    from ecei_rules.explanation.render import render_markdown, render_text

#: name -> the module that defines it, imported on first use (deciding a label never needs them)
_LAZY = {"ExplanationCache": "build", "explain": "build", "explain_assessment": "build", "fixed_inputs": "build",
         "Messages": "messages", "MessagesError": "messages", "languages": "messages",
         "SCHEMA": "model", "Explanation": "model", "explanation_json_schema": "model",
         "render_markdown": "render", "render_text": "render"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "DEFAULT_MAX_CHANGE_SETS",
    "DEFAULT_NEAR_MARGIN",
    "MAX_CHANGE_SETS",
    "SCHEMA",
    "Explanation",
    "ExplanationCache",
    "Messages",
    "MessagesError",
    "explain",
    "explain_assessment",
    "explanation_json_schema",
    "fixed_inputs",
    "languages",
    "margin_problem",
    "render_markdown",
    "render_text",
]
