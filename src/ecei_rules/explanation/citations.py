"""Citations of a methodology's specification ("spec section 5, Bronze") and the links that replace them.

The shipped rulesets cite the written specification (``docs/specification/<methodology>.md``) in
their clauses and provenance as "spec section N". Each section of that page has a stable anchor
(`spec_anchor`); `citation_links` turns the citations of a Markdown text into links to them. The
generated docs pages and Markdown explanations use it; terminal text keeps the plain citation.
"""

from __future__ import annotations

import re

__all__ = ["CITATION", "citation_links", "spec_anchor"]

#: A citation of the specification as rulesets word it: ``spec section 5``, or a part of a section
#: named by one capitalised word, ``Spec section 5, Eligibility`` (the specification page gives each
#: part it names an anchor: a citation of one it does not have is a broken link the docs build refuses).
CITATION = re.compile(r"\b[Ss]pec\s+section\s+(?P<section>[1-9][0-9]*)"
                      r"(?:,\s+(?P<part>[A-Z][a-z]+)\b)?")
#: What a citation inside must stay as written: code, an HTML tag (its attributes), a Markdown link.
_UNLINKABLE = re.compile(r"<code>.*?</code>|<[^<>\n]*>|(?<!\\)`[^`\n]*(?<!\\)`|\[[^\]\n]*\]\([^)\n]*\)")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def spec_anchor(section: str, part: str | None = None) -> str:
    """The stable anchor of a section of a specification page: ``spec-5``, ``spec-5-bronze``."""
    return f"spec-{section}" + (f"-{part.lower()}" if part else "")


def citation_links(markdown: str, spec: str) -> str:
    """Markdown with every citation "spec section N" (", Tier" optional) linked to its anchor at ``spec``.

    ``spec`` is the link to the specification page as seen from the page the Markdown belongs to.
    Citations in code (fenced or inline), in an HTML tag's attributes and in the text of a link
    stay as they are.
    """

    def link(found: re.Match[str]) -> str:
        return f"[{found[0]}]({spec}#{spec_anchor(found['section'], found['part'])})"

    def outside_code(line: str) -> str:
        parts: list[str] = []
        start = 0
        for kept in _UNLINKABLE.finditer(line):
            parts += [CITATION.sub(link, line[start:kept.start()]), kept[0]]
            start = kept.end()
        return "".join([*parts, CITATION.sub(link, line[start:])])

    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened is not None:
            fence = opened[1]
        elif fence is not None:
            if opened is not None and opened[1].startswith(fence) and not line.strip()[len(opened[1]):]:
                fence = None
        else:
            line = outside_code(line)
        out.append(line)
    return "\n".join(out)
