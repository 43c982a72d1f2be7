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
    "render_markdown",
    "render_text",
]
