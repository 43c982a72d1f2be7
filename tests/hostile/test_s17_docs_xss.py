"""The site ``ecei-rules docs`` writes, built with mkdocs, for rulesets whose every text is an attack on a browser.

Ruleset text (titles, clauses, descriptions, sources, units, labels, enum values, catalogue and item titles,
string literals in conditions, the file's own text) is written into Markdown that the site's extensions read:
``attr_list`` turns ``{: onclick=...}`` or ``{#id .class onclick=...}`` at the end of a heading, a table cell,
a list item or after an element into attributes; Markdown turns ``[a](javascript:...)`` into a link and
``![i](javascript:...)`` into an image, inside ``<code>`` and inside a tag's attributes too; a fence in the
file's text can end the block that shows it; the theme writes the site's name into attributes as it is. One
build for every payload; the built HTML is parsed (``html.parser``) and holds no event handler, no script or
image of the ruleset's, no ``javascript:`` address, no id, class or style the ruleset chose, and the payloads
are shown as text.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.render.markdown import code, text

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="mkdocs and its theme come with the docs extra")

#: Each ends with an attribute list, or carries HTML, links, images, emphasis: every text of the rulesets takes
#: one of them in turn.
PAYLOADS = (
    'A {: onmouseover=alert("XSS") style=position:fixed }',
    'B {#pwned .pwnclass onclick=alert("XSS")}',
    'C <script>alert("XSS")</script> <img src=x onerror=alert("XSS")>',
    'D [link](javascript:alert("XSS")) <javascript:alert("XSS")> [r][ref] ![i](javascript:alert("XSS"))',
    'E *em*{: onclick=alert("XSS")} `co`{: onclick=alert("XSS")} **b**{#pwned}',
    'F &lt;script&gt; &#60;script&#62; \\<script> <!-- c --> <div markdown=1>x</div>',
    'G {onclick=alert("XSS")}',
)
LABELS = ['low {: onclick=alert("XSS")}', 'mid <script>alert("XSS")</script>', "top {#pwned .pwnclass}"]
#: Conditions' string literals and enum values are shown as code.
LITERAL = '[x](javascript:alert(1)) *e*{: onclick=alert("XSS")} <script>alert(1)</script>'


class _Payloads:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix} {PAYLOADS[self.count % len(PAYLOADS)]}"


def _rulesets(folder: Path) -> None:
    """Two versions of a methodology whose every free text is a payload (the second changes some, for the page
    of changes); the first version's description holds a fence that would end the block showing its file."""
    p = _Payloads()
    date = dt.date.fromisoformat
    doc: dict[str, Any] = {
        "methodology": "evil", "version": "1.0.0", "title": p("T"), "status": "published",
        "effective_from": date("2020-01-01"),
        "approval": {"body": p("body"), "date": date("2019-01-01"), "reference": p("ref")},
        "types": {"share": {"type": "decimal", "minimum": 0, "maximum": 1, "description": p("type")}},
        "catalogues": {"measures": {"title": p("cat"), "source": p("catsrc"), "items": {
            "m1": {"title": p("item"), "type": "boolean", "category": p("category"), "source": p("itemsrc")},
            "m2": {"title": p("item"), "type": "boolean", "assumed": p("itemassumed")}}}},
        "inputs": {
            "assessed_on": {"type": "date", "required": True},
            "model": {"type": "string", "description": p("in"),
                      "pattern": '^[a-z{}:# ]*(javascript:|<script>|\\{: onclick=x\\})?$'},
            "kind": {"type": "enum", "values": [LITERAL, '*a*{: onclick=alert("XSS")}'], "description": p("in")},
            "index": {"type": "share", "description": p("in")},
            "measures": {"type": "map", "catalogue": "measures", "description": p("in")},
            "obj": {"type": "object", "description": p("obj"),
                    "fields": {"a": {"type": "integer", "description": p("f")}, "b": {"type": "integer"}},
                    "checks": [{"rule": "a <= b", "message": p("msg")}]},
        },
        "parameters": {
            "min_index": {"value": 0.5, "unit": p("unit"), "title": p("ptitle"), "source": p("psrc")},
            "lim": {"value": 0.2, "unit": "u", "assumed": p("passumed")},
            "b1": {"value": 0.3, "source": p("bsrc")},
            "share_low": {"value": 0.5, "source": p("ssrc")},
            "share_top": {"value": 0.9, "assumed": p("sassumed")},
        },
        "derived": {"twice": {"title": p("dtitle"), "type": "decimal", "unit": p("dunit"), "description": p("ddesc"),
                              "clause": p("dclause"),
                              "value": f"index * 2 if model != {json.dumps(LITERAL)} else index"}},
        "criteria": {
            "c1": {"title": p("crit"), "clause": p("clause"), "description": p("cdesc"),
                   "when": "index >= params.min_index"},
            "c2": {"title": p("crit"), "when": f"model == {json.dumps(LITERAL)}"},
            "c3": {"title": p("crit"), "clause": p("clause"), "when": "twice <= params.lim"},
            "c4": {"title": p("crit"), "when": "index > 0.1"},
        },
        "groups": {"g1": {"title": p("group"), "clause": p("gclause"), "all_of": ["c1", "c2"]}},
        "scores": {"s1": {"title": p("score"), "clause": p("sclause"), "source": p("wsrc"),
                          "weights": {"c3": 1, "c4": 2},
                          "levels": {"low": {"title": p("level"), "threshold": "share_low"},
                                     "top": {"title": p("level"), "threshold": "share_top"}}}},
        "bands": {"bd": {"title": p("band"), "clause": p("bclause"), "unit": p("bunit"), "of": "index",
                         "source": p("bandsrc"), "classes": {"lo": "<= b1", "hi": "> b1"}}},
        "labels": list(LABELS),
        "tiers": {LABELS[0]: {"title": p("tier"), "description": p("tdesc"), "requires": ["c1", "s1.low"]},
                  LABELS[1]: {"title": p("tier"), "requires": ["c1", "g1", "bd.hi", "s1.low"]},
                  LABELS[2]: {"title": p("tier"), "requires": ["c1", "g1", "bd.hi", "s1.top"]}},
        "validity": {"valid_from": "assessed_on", "rules": [
            {"id": "r1", "title": p("rule"), "clause": p("rclause"), "labels": list(LABELS),
             "when": 'model != "{: onclick=x}"', "valid_until": "month_end(assessed_on, 24)"},
            {"id": "r2", "title": p("rule"), "labels": list(LABELS), "valid_until": "never"}]},
        "fixtures": {"f": {"assessed_on": date("2021-01-01"), "model": "abc", "kind": LITERAL, "index": 0.05}},
        "tests": [{"name": p("test"), "derivation": p("der"), "base": "f", "expect": {"label": "none"}}],
    }
    (folder / "evil").mkdir(parents=True)
    # a quoted scalar's lines at the start of a line of the file: a fence as long as the block's would end it
    fence = ("description: \"fence\n````\n<script>alert('XSS')</script>\n````\n"
             "~~~\n<img src=x onerror=alert('XSS')>\n~~~\n\"\n")
    (folder / "evil" / "1.0.0.yaml").write_text(yaml.safe_dump(doc, sort_keys=False) + fence, encoding="utf-8")
    newer = {
        "extends": "1.0.0", "version": "2.0.0", "supersedes": "1.0.0", "status": "published",
        "effective_from": date("2022-01-01"), "title": 'T2 x" onmouseover="alert(1)" y=" <script>alert("XSS")</script>',
        "description": '!!! danger onclick "x" {: onclick=alert("XSS")}',
        "criteria": {"c1": {"title": p("crit2"), "clause": p("clause2"),
                            "when": 'index >= params.min_index and model != "<b onclick=x>"'},
                     "c4": None, "c5": {"title": p("crit5"), "when": "index > 0.2"}},
        "scores": {"s1": {"weights": {"c3": 1, "c5": 3, "c4": None}}},
        "parameters": {"min_index": {"value": 0.6, "unit": p("unit2"), "source": p("psrc2")}},
        "catalogues": {"measures": {"items": {"m3": {"title": p("item3"), "type": "boolean", "assumed": p("ia3")}}}},
        "tests": [{"name": p("test2"), "base": "f", "expect": {"label": "none"}}],
    }
    (folder / "evil" / "2.0.0.yaml").write_text(yaml.safe_dump(newer, sort_keys=False), encoding="utf-8")


#: Addresses a browser runs or that carry a document of their own.
_SCRIPTED = re.compile(r"^(javascript|vbscript|data):")
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "background"})


class _Findings(HTMLParser):
    """What in a page a ruleset could have put there but must not: every finding is an attack that worked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            shown = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={shown!r}>")
            if name in _URL_ATTRIBUTES and _SCRIPTED.match(re.sub(r"[\x00-\x20]", "", shown).lower()):
                self.found.append(f"<{tag} {name}={shown!r}>")
            if (name == "id" and shown == "pwned") or (name == "class" and "pwnclass" in shown) or \
                    (name == "style" and "fixed" in shown):
                self.found.append(f"<{tag} {name}={shown!r}>")
        if tag in ("img", "iframe", "object", "embed"):  # the theme shows none
            self.found.append(f"<{tag}>")
        self._script = tag == "script"
        if tag == "script" and any("xss" in (v or "").lower() for _, v in attrs):
            self.found.append(f"<script {attrs}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and "xss" in data.lower():
            self.found.append(f"<script>{data[:80]}")
        self.text.append(data)


def _findings(html: str) -> tuple[list[str], str]:
    parser = _Findings()
    parser.feed(html)
    parser.close()
    return parser.found, "".join(parser.text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the hostile rulesets, built by mkdocs (once for every test of this module)."""
    root = tmp_path_factory.mktemp("xss")
    _rulesets(root / "rulesets")
    site = root / "site"
    done = CliRunner().invoke(app, ["docs", "--rulesets", str(root / "rulesets"), "--out", str(site)])
    assert done.exit_code == 0, done.output
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "-d", str(root / "html")], cwd=site,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, check=False)
    assert built.returncode == 0, built.stderr
    return root / "html"


def test_no_page_of_the_built_site_carries_an_attack(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) >= 8
    found = {str(page.relative_to(built)): _findings(page.read_text(encoding="utf-8"))[0] for page in pages}
    assert {page: f for page, f in found.items() if f} == {}


def test_the_search_index_carries_no_attack(built: Path) -> None:
    """The search shows its index's text as HTML: what a ruleset wrote stays text there too."""
    index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    found = [(doc["location"], _findings(doc[key])[0]) for doc in index["docs"] for key in ("title", "text")]
    assert [f for f in found if f[1]] == []


def test_the_payloads_are_shown_as_text(built: Path) -> None:
    """Escaped, not dropped: a reader sees what the ruleset says (braces, tags, links as written)."""
    _, version = _findings((built / "methodologies" / "evil" / "1.0.0" / "index.html").read_text(encoding="utf-8"))
    for shown in ('{: onmouseover=alert("XSS") style=position:fixed }', '{#pwned .pwnclass onclick=alert("XSS")}',
                  '<script>alert("XSS")</script>', '[link](javascript:alert("XSS"))', "*em*{: onclick=",
                  "Top {#pwned .pwnclass}", "<script>alert('XSS')</script>", LITERAL):
        assert shown in version, shown
    _, home = _findings((built / "index.html").read_text(encoding="utf-8"))
    assert 'T2 x" onmouseover="alert(1)" y=" <script>alert("XSS")</script>' in home  # the site's name, as text


@pytest.mark.parametrize("value", [*PAYLOADS, LITERAL, *LABELS, "!!! danger", "??? note", "~~~ html", "```js"])
def test_no_markdown_character_survives_the_escaping(value: str) -> None:
    """What the site's Markdown gives a meaning to (an attribute list's brace, a link's ``](``, HTML's angle
    bracket, a code span's backtick, a pair of ``*``, a block's opening at the start of a line) never reaches it
    from a ruleset's text."""
    from ecei_rules.render.markdown import attribute

    assert not re.match(r"[!?~`]", text(value))  # text may start a line (a heading's, a paragraph's)
    assert not re.search(r"(?<!\\)[\[\]`*{}<>]", text(value))
    for escaped in (code(value).removeprefix("<code>").removesuffix("</code>"), attribute(value)):
        assert not re.search(r"[{}<>`\\]|\]\(", escaped), escaped
        assert escaped.count("*") <= 1, escaped
    assert '"' not in attribute(value)
