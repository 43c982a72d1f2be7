"""A rulesets directory holds other folders too: ``.git``, the ``.hypothesis`` that bump-check writes where it
runs, ``__pycache__``, a folder of old files. None is a methodology: every command reads the methodologies as
without them, and lint warns (L013) about a folder that holds versions it does not read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
VERSION = ROOT / "examples" / "methodologies" / "eu-fridge-label" / "1.0.0.yaml"
OTHERS = (".git", ".hypothesis", "__pycache__", "Old versions", ".old")


def _rulesets(tmp_path: Path) -> Path:
    """A rulesets directory of one methodology, beside folders that are not methodologies ("Old versions" and
    ".old" holding a copy of its version)."""
    root = tmp_path / "rulesets"
    (root / "eu-fridge-label").mkdir(parents=True)
    shutil.copy(VERSION, root / "eu-fridge-label")
    for name in OTHERS:
        (root / name).mkdir()
    for name in ("Old versions", ".old"):
        shutil.copy(VERSION, root / name)
    (root / ".hypothesis" / "examples").mkdir()
    return root


def test_folders_that_are_not_methodology_ids_are_not_methodologies(tmp_path: Path) -> None:
    """The registry's methodologies are the folders named by an id; the strays are the others that hold files
    named as versions, hidden ones left out."""
    registry = Registry(_rulesets(tmp_path))
    assert registry.methodologies() == ["eu-fridge-label"]
    assert registry.strays() == ["Old versions"]
    assert registry.default_methodology() == "eu-fridge-label"


def test_lint_lock_and_docs_read_the_methodologies_beside_other_folders(tmp_path: Path) -> None:
    """lint, lock and docs exit as on a directory of the methodology alone (each ended in an internal error on a
    folder such as .git); lint warns once, L013, about the folder that holds a version it does not read."""
    root = _rulesets(tmp_path)
    runner = CliRunner()
    linted = runner.invoke(app, ["lint", "--rulesets", str(root), "--format", "json"], catch_exceptions=False)
    assert linted.exit_code == 0, linted.output
    found = json.loads(linted.output)
    strays = [d for d in found["diagnostics"] if d["code"] == "L013"]
    assert [Path(d["file"]).name for d in strays] == ["Old versions"]
    assert strays[0]["severity"] == "warning"
    assert found["errors"] == 0
    locked = runner.invoke(app, ["lock", "--rulesets", str(root)], catch_exceptions=False)
    assert locked.exit_code == 0, locked.output
    assert "locked 1.0.0" in locked.output
    assert (root / "eu-fridge-label" / "published.lock.json").is_file()
    site = tmp_path / "site"
    written = runner.invoke(app, ["docs", "--rulesets", str(root), "--out", str(site)], catch_exceptions=False)
    assert written.exit_code == 0, written.output
    assert "for 1 methodology" in written.output
    assert not any(name in str(p) for p in site.rglob("*") for name in OTHERS)
