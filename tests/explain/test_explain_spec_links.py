"""Explanations cite "spec section N" in clauses and provenance: in Markdown each citation can link to its
section of the specification page; terminal text keeps the plain citation. And the caches explaining uses
belong to an `ExplanationCache` the caller holds, not to the process."""

from __future__ import annotations

import re

import pytest
from explain_helpers import fixture_data, version

from ecei_rules.explanation import ExplanationCache, explain, render_markdown, render_text
from ecei_rules.explanation import build as build_module
from ecei_rules.explanation.citations import CITATION, spec_anchor

SPEC = "https://example.org/docs/specification/ecei-labels/"
LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<href>[^)]*)\)")


def test_markdown_explanation_links_each_spec_citation_to_its_section() -> None:
    """With the specification's address, every citation of a Markdown explanation is a link to its anchor,
    and removing the links gives back the Markdown rendered without it."""
    ruleset = version("2.0.0")
    expl = explain(ruleset, fixture_data(ruleset, next(iter(ruleset.document.fixtures))))
    plain = render_markdown(expl)
    linked = render_markdown(expl, spec=SPEC)
    assert len(CITATION.findall(plain)) >= 5
    links = [m for m in LINK.finditer(linked) if m["href"].startswith(SPEC)]
    assert len(links) == len(CITATION.findall(plain))
    for m in links:
        cited = CITATION.fullmatch(m["text"])
        assert cited is not None
        assert m["href"] == f"{SPEC}#{spec_anchor(cited['section'], cited['part'])}"
    assert LINK.sub(lambda m: m["text"] if m["href"].startswith(SPEC) else m[0], linked) == plain
    assert "](" not in render_text(expl).replace(plain, "")  # terminal text: plain citations


def test_an_explanation_cache_analyses_each_version_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explaining many assessments with one cache analyses the version once; without one, each call does,
    and both give the same explanation (no cache outlives the objects that hold it)."""
    calls: list[str] = []
    real = build_module._analysis
    monkeypatch.setattr(build_module, "_analysis", lambda r: calls.append(r.version) or real(r))
    ruleset = version("3.0.1")
    data = fixture_data(ruleset, next(iter(ruleset.document.fixtures)))
    cache = ExplanationCache()
    shared = [explain(ruleset, data, cache=cache) for _ in range(3)]
    assert calls == ["3.0.1"]
    fresh = [explain(ruleset, data) for _ in range(2)]
    assert calls == ["3.0.1"] * 3
    assert {e.model_dump_json() for e in shared + fresh} == {shared[0].model_dump_json()}
    assert not [name for name, value in vars(build_module).items() if name.isupper() and isinstance(value, dict)]
