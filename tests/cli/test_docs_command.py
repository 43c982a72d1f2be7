"""``ecei-rules docs``: a documentation site for a rulesets directory of one's own (outside this repository), and
the pytest plugin on such a directory. The methodologies are the two test ones under
tests/data/methodologies (green-points: points and levels; energy-class: bands and a rescale)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ecei_rules.cli.app import app

METHODOLOGIES = Path(__file__).resolve().parents[1] / "data" / "methodologies"


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A copy of the test methodologies in a folder of the author's own."""
    folder = tmp_path / "my-rulesets"
    shutil.copytree(METHODOLOGIES, folder)
    return folder


def test_docs_builds_a_site_for_a_rulesets_directory_of_ones_own(own: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["docs", "--rulesets", str(own), "--out", str(site), "--title", "My labels"])
    assert result.exit_code == 0, result.output
    docs = site / "docs"
    version = (docs / "methodologies" / "green-points" / "1.0.0.md").read_text(encoding="utf-8")
    for criterion in ("E1", "Energy saving, step 1", "M1", "Certified materials", "P1"):
        assert criterion in version
    assert "energy_step_1" in version
    assert "Points handbook, credit E, step 1" in version  # a parameter's source
    changes = (docs / "methodologies" / "energy-class" / "changes" / "1.0.0-2.0.0.md").read_text(encoding="utf-8")
    assert "**removed** <code>in_<wbr>a_<wbr>plus_<wbr>plus</code> | Index within class A++" in changes  # the diff
    assert (docs / "methodologies" / "energy-class" / "provenance.md").is_file()
    assert (docs / "schema" / "energy-class" / "2.0.0" / "assessment.json").is_file()
    assert (docs / "reference" / "errors.md").is_file()
    config = yaml.safe_load((site / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_name"] == "My labels"
    assert {"Methodologies": [*config["nav"][1]["Methodologies"]]} == config["nav"][1]
    # nothing in the output names the first methodology (the tool's own name aside)
    for path in site.rglob("*"):
        if path.is_file():
            content = path.read_text(encoding="utf-8")
            assert "ECEI" not in content, path
            assert "ecei-labels" not in content, path
    # a folder that is not empty is refused unless --force
    again = CliRunner().invoke(app, ["docs", "--rulesets", str(own), "--out", str(site)])
    assert again.exit_code == 2
    assert "--force" in again.output
    assert CliRunner().invoke(app, ["docs", "--rulesets", str(own), "--out", str(site), "--force"]).exit_code == 0


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
                    reason="mkdocs and its theme come with the docs extra")
def test_the_site_builds_with_mkdocs_strict(own: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(app, ["docs", "--rulesets", str(own), "--out", str(site)]).exit_code == 0
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=site,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, check=False)
    assert done.returncode == 0, done.stderr
    assert (site / "site" / "methodologies" / "green-points" / "1.0.0" / "index.html").is_file()


def test_the_pytest_plugin_runs_the_embedded_tests_of_a_directory_of_ones_own(pytester: pytest.Pytester) -> None:
    """ecei_rulesets names any folder: both methodologies' embedded tests (3 + 2 + 2), a version that extends
    another and one that maps its labels included."""
    shutil.copytree(METHODOLOGIES, pytester.path / "labels")
    pytester.makeini("[pytest]\necei_rulesets = labels\ntestpaths = labels\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


def test_a_site_of_one_methodology_and_a_tier_of_one_criterion_are_counted_in_the_singular(tmp_path: Path) -> None:
    """"8 pages for 1 methodologies" and "(1 criteria; ..." were what a new author saw; one is singular."""
    folder = tmp_path / "mine"
    shutil.copytree(METHODOLOGIES / "green-points", folder / "green-points")
    version = folder / "green-points" / "1.0.0.yaml"
    text = version.read_text(encoding="utf-8")
    assert "  certified: {title: Certified, requires: [P1, certified_points]}" in text
    m1 = "  M1: {title: Certified materials, when: certified_materials >= params.materials_min}\n"
    assert m1 in text
    text = text.replace(m1, m1 + m1.replace("M1: {title: Certified", "X1: {title: Extra"))
    version.write_text(text.replace("requires: [P1, certified_points]", "requires: [P1, certified_points, X1]"),
                       encoding="utf-8")
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["docs", "--rulesets", str(folder), "--out", str(site)])
    assert result.exit_code == 0, result.output
    assert " for 1 methodology written to " in " ".join(result.output.split())
    pages = "".join(p.read_text(encoding="utf-8") for p in (site / "docs" / "methodologies").rglob("*.md"))
    assert "Only Certified requires these (1 criterion; the tier requires " in pages
    assert "(1 criteria;" not in pages
