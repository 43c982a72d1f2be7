"""Markdown written once: the escaping and the small pieces every Markdown rendering is made of.

Text from a ruleset (titles, clauses, descriptions, ids, labels, sources) is hostile until
escaped: ``text`` and ``code`` make a value safe in a heading, a paragraph, a list item or a
table cell, in a terminal and in a browser. Both show every control, format or separator
character as a visible escape (the terminal's one sanitiser, ``core.terminal.clean``), collapse
whitespace (a newline cannot end a table row), escape HTML, and keep ``|`` from splitting a
table cell. No Markdown survives them: not a link, an image, emphasis or code; not an attribute
list (``{: onclick=...}``, ``{#id .class}``, which the site's ``attr_list`` extension would make
attributes of a heading, a cell, an item or an element: braces become character references, so
no extension sees one); not a block (an admonition ``!!!``, a folded block ``???``, a fence
``~~~``) at the start of a line. ``code`` writes HTML (``<code>``), whose content Markdown
still reads inline: every character that could make markup there is a character reference
(``attribute`` does the same for the value of a tag's attribute, which Markdown reads too).

>>> text("a | b <i>\\n[bold]")
'a \\\\| b &lt;i&gt; \\\\[bold\\\\]'
>>> text("Evil {: onclick=x}")
'Evil &#123;: onclick=x&#125;'
>>> code("x | y")
'<code>x &#124; y</code>'
>>> code("[a](javascript:x) *b*{: onclick=y}")
'<code>[a]&#40;javascript:x) &#42;b&#42;&#123;: onclick=y&#125;</code>'
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


def _reference(found: re.Match[str]) -> str:
    return f"&#{ord(found.group(0))};"


#: Braces: what an attribute list (``{: ...}``, ``{#id .class key=value}``) begins and ends with, in any context.
_BRACES = re.compile(r"[{}]")
#: What opens a block at the start of a line: an admonition (``!!!``), a folded block (``???``), a ``~~~`` fence.
_BLOCK_START = re.compile(r"^[!?~]")
#: What Markdown reads inside HTML (``<code>``, a tag's attributes): escapes, code spans, attribute lists, table
#: cells; the ``(`` of a link or an image (``[a](...)``, ``![i](...)``: brackets alone make nothing, as no page
#: defines a reference); ``_`` where it could open emphasis (after anything but a letter or a digit).
_CODE_MARKUP = re.compile(r"[\\`{}|]|(?<=\])\(|(?<![A-Za-z0-9])_")


def _inline(shown: str) -> str:
    """HTML-escaped text with every character Markdown would read inline made a character reference (``*`` where
    two could make emphasis: a lone one, as in ``table[*]``, makes nothing)."""
    shown = _CODE_MARKUP.sub(_reference, shown)
    return shown.replace("*", "&#42;") if shown.count("*") > 1 else shown


def text(value: object) -> str:
    """Escape plain text for a Markdown heading, paragraph, list item or table cell (no markup survives)."""
    escaped = re.sub(r"([\\`*_\[\]|#])", r"\\\1", _plain(value))
    return _BLOCK_START.sub(_reference, _BRACES.sub(_reference, escaped))


def code(value: object) -> str:
    """Inline code that is safe inside a table cell (HTML, so ``|`` and backticks cannot break it, and no
    Markdown inside it is read).

    Long names may break after ``_`` and ``.`` before a letter (``<wbr>``), so a narrow column wraps them cleanly.
    """
    shown = re.sub(r"(?<=[A-Za-z0-9])([._])(?=[A-Za-z])", r"\1<wbr>", _plain(value))
    return "<code>" + _inline(shown) + "</code>"


def attribute(value: object) -> str:
    """A value for an HTML attribute written in Markdown (``<span title="...">``): quotes escaped, and Markdown,
    which reads inside a tag's attributes too (a link, an image), escaped as inside ``code``."""
    return _inline(html.escape(clean(" ".join(str(value).split())), quote=True))


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
