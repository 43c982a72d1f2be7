"""A draft is never in force: the generated pages say so, a published version before it stays the latest one in
force, and the hint given when only drafts answer names options that exist and work."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.registry import Registry
from ecei_rules.render.docs import page_path, site_pages

ROOT = Path(__file__).resolve().parents[2]
FRIDGES = ROOT / "examples" / "methodologies" / "eu-fridge-label"
ASSESSMENT = FRIDGES / "assessments" / "r3-fridge-freezer-2021.json"
M = "eu-fridge-label"


def _with_drafts(tmp_path: Path, versions: tuple[str, ...]) -> Path:
    """A rulesets directory of the fridge label's two versions, those named made drafts (no lock: nothing
    published is edited in place)."""
    folder = tmp_path / "rulesets" / M
    folder.mkdir(parents=True)
    for name in ("1.0.0.yaml", "2.0.0.yaml"):
        source = (FRIDGES / name).read_text(encoding="utf-8")
        if name.removesuffix(".yaml") in versions:
            assert "\nstatus: published\n" in source
            source = source.replace("\nstatus: published\n", "\nstatus: draft\n")
        (folder / name).write_text(source, encoding="utf-8")
    return folder.parent


def _in_force_row(page: str) -> str:
    return next(line for line in page.splitlines() if line.startswith("| in force |"))


def test_a_published_version_before_a_draft_is_in_force_to_the_end_and_the_draft_never(tmp_path: Path) -> None:
    """1.0.0 published, 2.0.0 a draft: 1.0.0's page says it is the latest version in force (evaluate decides a
    2021 assessment under it), 2.0.0's page that it is never in force."""
    registry = Registry(_with_drafts(tmp_path, ("2.0.0",)))
    rulesets = [registry.load(M, v) for v in registry.versions(M)]
    pages = site_pages({M: rulesets})
    first, draft = _in_force_row(pages[page_path(M, "1.0.0")]), _in_force_row(pages[page_path(M, "2.0.0")])
    assert "the latest version" in first
    assert "2.0.0" not in first
    assert "never" in draft
    assert "draft" in draft
    assert registry.in_force(M, registry.load(M, "2.0.0").document.effective_from).version == "1.0.0"


def test_the_hint_for_a_methodology_of_drafts_names_options_that_work(tmp_path: Path) -> None:
    """Only drafts: explain says so (exit 1, as for any assessment no version answers) and points to 'evaluate
    --simulate' and '--ruleset FILE'; both, as named, decide the assessment (explain has no --simulate, which
    the hint named before)."""
    root = _with_drafts(tmp_path, ("1.0.0", "2.0.0"))
    runner = CliRunner()
    refused = runner.invoke(app, ["explain", str(ASSESSMENT), "--rulesets", str(root)], catch_exceptions=False)
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "'ecei-rules evaluate --simulate'" in said
    assert "'--ruleset FILE'" in said
    simulated = runner.invoke(app, ["evaluate", str(ASSESSMENT), "--rulesets", str(root), "--simulate"],
                              catch_exceptions=False)
    assert simulated.exit_code == 0, simulated.output
    given = runner.invoke(app, ["explain", str(ASSESSMENT), "--ruleset", str(root / M / "2.0.0.yaml")],
                          catch_exceptions=False)
    assert given.exit_code == 0, given.output
    shutil.rmtree(root)
