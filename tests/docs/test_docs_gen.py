"""Pages generated from the rulesets: they follow the rulesets, so they cannot drift."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ecei_rules import load_ruleset
from ecei_rules.cli.app import app
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.errors import CODES, Diagnostic
from ecei_rules.registry import Registry
from ecei_rules.render.docs import changes_page, docstring_body, errors_page, provenance_page, version_page

ROOT = Path(__file__).parents[2]
REGISTRY = Registry.shipped()


def test_every_code_has_the_anchor_its_diagnostics_link_to() -> None:
    """Each code in CODES gets an anchor on the errors page, the one Diagnostic.docs() names."""
    page = errors_page(CODES)
    for code in CODES:
        anchor = Diagnostic(code, "x").docs().split("#")[1]
        assert f"{{#{anchor}}}" in page


def test_version_page_lists_every_criterion_with_its_threshold_provenance() -> None:
    """The 3.0.0 page names each of its 31 Gold indicators and marks assumed thresholds as assumed."""
    ruleset = REGISTRY.get("ecei-labels", "3.0.0")
    page = version_page(ruleset)
    scored = ruleset.document.scores["gold_score"].weights
    assert len(scored) == 31  # spec section 4: every version from 1.1.0 has exactly 31 Gold indicators
    for cid in scored:
        assert cid in page
    assert "assumed" in page
    assert ruleset.sha256 in page


def test_changing_a_threshold_changes_the_generated_page(tmp_path: Path) -> None:
    """Editing one threshold in a copy of the rulesets changes the version page, with no other edit."""
    copy = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", copy)
    path = copy / "ecei-labels" / "3.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    before = version_page(load_ruleset(path))
    edited = re.sub(r"(gold_4_9:\s*\n(?:\s+\w+:.*\n)*?\s+value:\s*)2\b", r"\g<1>3", text, count=1)
    assert edited != text, "the 3.0.0 file sets gold_4_9 to 2"
    path.write_text(edited, encoding="utf-8")
    after = version_page(load_ruleset(path))
    assert before != after
    assert "**3**" in after.split("gold_4_9", 1)[1][:200]


def test_changes_page_shows_the_indicators_replaced_in_3_0_0() -> None:
    """The 2.0.0 -> 3.0.0 page names the removed (1.2, 2.2.4, 5.1) and added (4.7, 4.8, 4.9) indicators."""
    page = changes_page(semantic_diff(REGISTRY.get("ecei-labels", "2.0.0"), REGISTRY.get("ecei-labels", "3.0.0")))
    for indicator in ("1.2", "2.2.4", "5.1", "4.7", "4.8", "4.9"):  # spec section 4, "in versions"
        assert indicator in page


def test_the_markdown_sample_on_the_diff_how_to_is_what_diff_prints() -> None:
    """docs/how-to/diff-versions.md shows the start of the criteria of ``diff --format markdown`` 2.0.0 -> 3.0.0:
    the sample is a run of lines the command prints, as they are."""
    page = (ROOT / "docs" / "how-to" / "diff-versions.md").read_text(encoding="utf-8")
    samples = re.findall(r"```markdown\n(.*?)```", page, flags=re.DOTALL)
    assert len(samples) == 1
    printed = CliRunner().invoke(app, ["diff", "ecei-labels@2.0.0", "ecei-labels@3.0.0", "--format", "markdown"])
    assert printed.exit_code == 0, printed.output
    assert samples[0].startswith("## Criteria\n")
    assert samples[0] in printed.output


def test_provenance_page_lists_assumed_parameters() -> None:
    """Every assumed Gold threshold of 3.0.1 appears on the provenance page."""
    rulesets = [REGISTRY.get("ecei-labels", v) for v in REGISTRY.versions("ecei-labels")]
    page = provenance_page(rulesets)
    assumed = [name for name, p in rulesets[-1].document.parameters.items() if p.assumed is not None]
    assert assumed
    for name in assumed:
        assert name in page


def test_docstring_body_drops_the_summary_and_turns_sphinx_roles_into_code() -> None:
    """A module docstring shown on a page loses its first paragraph, and its Sphinx roles become inline
    code (Markdown would show ':class:' raw); '~' keeps the last part of the name, as Sphinx does."""
    doc = """Summary line.

    Returns None, or a :class:`Violation`; see :func:`~ecei_rules.engine.evaluate.evaluate` and
    :meth:`Decision.to_json`. ``literal`` stays as it is.
    """
    assert docstring_body(doc) == ("Returns None, or a `Violation`; see `evaluate` and\n"
                                   "    `Decision.to_json`. ``literal`` stays as it is.\n")
