"""Markdown written once: the escaping and the small pieces every Markdown rendering is made of.

Text from a ruleset (titles, clauses, descriptions, ids) is hostile until escaped: ``text``
and ``code`` make a value safe in a paragraph or a table cell, in a terminal and in a browser.
Both show every control, format or separator character as a visible escape (the terminal's one
sanitiser, ``core.terminal.clean``), collapse whitespace (a newline cannot end a table row),
escape HTML, and keep ``|`` from splitting a table cell.

>>> text("a | b <i>\\n[bold]")
'a \\\\| b &lt;i&gt; \\\\[bold\\\\]'
>>> code("x | y")
'<code>x &#124; y</code>'
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ecei_rules.core.terminal import clean

#: How long a text may be before ``cut`` shortens it (characters).
TRUNCATE = 160


def _plain(value: object) -> str:
    """One line of visible characters, HTML escaped."""
    return html.escape(clean(" ".join(str(value).split())), quote=False)


def text(value: object) -> str:
    """Escape plain text for a Markdown table cell or paragraph (no markup survives)."""
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", _plain(value))


def code(value: object) -> str:
    """Inline code that is safe inside a table cell (HTML, so ``|`` and backticks cannot break it).

    Long names may break after ``_`` and ``.`` before a letter (``<wbr>``), so a narrow column wraps them cleanly.
    """
    shown = _plain(value).replace("|", "&#124;")
    return "<code>" + re.sub(r"(?<=[A-Za-z0-9])([._])(?=[A-Za-z])", r"\1<wbr>", shown) + "</code>"


def small(value: str) -> str:
    """Secondary text under a cell's main line (``value`` is already Markdown)."""
    return f"<br><small>{value}</small>" if value else ""


def cut(value: str, limit: int = TRUNCATE) -> str:
    """Shorten a long text with an ellipsis."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def show(value: Any) -> str:
    """A value as written in a ruleset: decimals keep their digits, booleans are lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    return str(value)


def value_range(minimum: Any, maximum: Any) -> str:
    """``0 to 1``, ``≥ 0``, ``≤ 4`` or nothing: the bounds of an input."""
    if minimum is not None and maximum is not None:
        return f"{show(minimum)} to {show(maximum)}"
    if minimum is not None:
        return f"≥ {show(minimum)}"
    return f"≤ {show(maximum)}" if maximum is not None else ""


def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table (cells are Markdown already)."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return [*lines, ""]
