"""Explanations people can act on: clause-cited reasons and what it takes to reach the next label.

>>> from ecei_rules.explain import explain_assessment, render_text  # doctest: +SKIP
>>> print(render_text(explain_assessment(data)))  # doctest: +SKIP

* :func:`explain` / :func:`explain_assessment` build an :class:`Explanation` (the stable JSON
  form, schema :data:`SCHEMA`, see :func:`explanation_json_schema`);
* :func:`render_text` and :func:`render_markdown` show it in its language;
* the sentences come from ``ecei_rules/messages/<language>.yaml`` (:func:`languages`);
* the change sets are exact (see :mod:`ecei_rules.explain.paths`).
"""

from .build import DEFAULT_MAX_CHANGE_SETS, DEFAULT_NEAR_MARGIN, explain, explain_assessment, fixed_inputs
from .messages import Messages, MessagesError, languages
from .model import SCHEMA, Explanation, explanation_json_schema
from .render import render_markdown, render_text

__all__ = [
    "DEFAULT_MAX_CHANGE_SETS",
    "DEFAULT_NEAR_MARGIN",
    "SCHEMA",
    "Explanation",
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
