"""The explanations, ruleset pages and examples cite "spec section N" of a file that is not in the repository:
the specification is a page of the docs with stable anchors, and every citation in the built site links to one.

The built-site tests run ``mkdocs build --strict`` once (module fixture) and read the HTML it writes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import pytest

from ecei_rules.explanation.citations import CITATION, citation_links, spec_anchor
from ecei_rules.registry import Registry

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "docs" / "specification" / "ecei-labels.md"
SPEC_HTML = "specification/ecei-labels/index.html"

#: The section anchors of the specification page. Links in the rulesets' pages, in explanations and in
#: published reports use them: change this list only by adding to it.
PINNED_ANCHORS = ["spec-1", "spec-2", "spec-3", "spec-4", "spec-5", "spec-5-eligibility", "spec-5-bronze",
                  "spec-5-gold", "spec-5-silver", "spec-6", "spec-7", "spec-sources"]

EXPLICIT_ID = re.compile(r"\{#([^}\s]+)\}")


class _Citations(HTMLParser):
    """Every citation in a page's visible text (not in code, not in attributes), with the link around it."""

    VOID: ClassVar[set[str]] = {"br", "wbr", "img", "input", "meta", "link", "hr", "source", "col", "area", "base"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.found: list[tuple[str, str | None]] = []  # (citation text, href of the enclosing link)
        self.in_code = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("id"):
            self.ids.append(str(named["id"]))
        if tag not in self.VOID:
            self.stack.append((tag, named))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(tag in ("code", "pre", "script", "style", "title") for tag, _ in self.stack):
            return
        href = next((a.get("href") for tag, a in reversed(self.stack) if tag == "a"), None)
        self.found += [(found[0], href) for found in CITATION.finditer(data)]


def _parse(path: Path) -> _Citations:
    parser = _Citations()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's site built with ``mkdocs build --strict`` (the build .ci/run relies on: under CI a
    missing mkdocs fails here instead of skipping)."""
    import os

    if not os.environ.get("CI"):
        pytest.importorskip("mkdocs")
    out = tmp_path_factory.mktemp("site")
    # not --quiet: it hides the warnings, and then --strict has none to abort on
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env={**_env(), "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("WARNING")]
    assert warnings == [], warnings
    return out


def _env() -> dict[str, str]:
    import os

    src = str(ROOT / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_every_spec_citation_in_the_built_site_links_to_an_anchor_of_the_spec_page(site: Path) -> None:
    """Each "spec section N" a reader sees in the built site is a link to an anchor that exists on the
    specification page (the one of its section, or of its tier in section 5)."""
    anchors = set(_parse(site / SPEC_HTML).ids)
    counts: Counter[str] = Counter()
    unlinked: list[str] = []
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site).as_posix()
        for citation, href in _parse(page).found:
            counts["citations"] += 1
            if href is None:
                unlinked.append(f"{relative}: {citation}")
                continue
            target = urlsplit(urljoin(relative, href))
            assert target.path in (SPEC_HTML, SPEC_HTML.removesuffix("index.html")), (relative, citation, href)
            want = CITATION.fullmatch(" ".join(citation.split()))
            assert want is not None
            assert target.fragment == spec_anchor(want["section"], want["part"]), (relative, citation)
            assert target.fragment in anchors, (relative, citation, href)
            counts["linked"] += 1
    assert not unlinked, unlinked[:10]
    # the generated ruleset pages cite the specification hundreds of times: the check was not vacuous
    assert counts["linked"] >= 500, counts


def test_the_spec_page_carries_every_pinned_anchor_once(site: Path) -> None:
    """The built specification page has each pinned section anchor exactly once, and no id twice."""
    ids = Counter(_parse(site / SPEC_HTML).ids)
    assert [a for a in PINNED_ANCHORS if ids[a] != 1] == []
    assert [i for i, n in ids.items() if n > 1] == []


def test_spec_section_anchors_are_explicit_unique_and_pinned() -> None:
    """Every numbered section of the specification source carries an explicit anchor (so editing a title
    does not move it), the explicit anchors are unique, and they are exactly the pinned list."""
    text = SPEC.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if re.match(r"#{2,6} ", line)]
    numbered = [h for h in headings if re.match(r"## [1-9]", h)]
    assert len(numbered) == 7  # sections 1 to 7 of the specification
    assert all(EXPLICIT_ID.search(h) for h in numbered), numbered
    explicit = EXPLICIT_ID.findall(text)
    assert len(explicit) == len(set(explicit))
    assert explicit == PINNED_ANCHORS
    for h in numbered:  # section N carries spec-N
        number = re.match(r"## ([1-9][0-9]*)\.", h)
        assert number is not None
        assert f"{{#spec-{number[1]}}}" in h


def test_every_citation_of_the_shipped_rulesets_names_a_section_the_spec_has() -> None:
    """Each citation in the shipped rulesets, as the generated pages link it, names an anchor that is pinned."""
    registry = Registry.shipped()
    found = set()
    for version in registry.versions("ecei-labels"):
        text = registry.path("ecei-labels", version).read_text(encoding="utf-8")
        found |= {spec_anchor(c["section"], c["part"]) for c in CITATION.finditer(text)}
    assert found
    assert found <= set(PINNED_ANCHORS), found - set(PINNED_ANCHORS)


@pytest.mark.parametrize(("markdown", "expected"), [
    ("see spec section 4)", "see [spec section 4](s.md#spec-4))"),
    ("(Spec section 5, Gold: score", "([Spec section 5, Gold](s.md#spec-5-gold): score"),
    ('<span title="spec section 4">x</span> spec section 6', '<span title="spec section 4">x</span> '
                                                             '[spec section 6](s.md#spec-6)'),
    ("<code>spec section 1</code> `spec section 2`", "<code>spec section 1</code> `spec section 2`"),
    ("[spec section 3](x.md) and spec section 3", "[spec section 3](x.md) and [spec section 3](s.md#spec-3)"),
    ("    ```yaml\n    # spec section 2\n    ```\nspec section 7",
     "    ```yaml\n    # spec section 2\n    ```\n[spec section 7](s.md#spec-7)"),
])
def test_citation_links_link_text_and_leave_code_attributes_and_links(markdown: str, expected: str) -> None:
    """Citations in text become links; in code, fenced blocks, attributes and link texts they stay as written."""
    assert citation_links(markdown, "s.md") == expected


def test_examples_readme_cites_the_spec_page_of_the_docs_by_its_anchors() -> None:
    """examples/README.md derives its labels from the specification in the docs (not a file outside the
    repository), and each of its links to a section names a pinned anchor."""
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    assert "shared/methodology" not in readme
    links = re.findall(r"\]\(\.\./docs/specification/ecei-labels\.md(?:#([^)]+))?\)", readme)
    assert links
    assert {a for a in links if a} <= set(PINNED_ANCHORS)
    assert (ROOT / "docs" / "specification" / "ecei-labels.md").is_file()
