"""A published version edited in place decides nothing: every path that decides or records under a
registry checks the version's content hash against its published lock (issue 19, item 1)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules import RulesetError, evaluate, load_ruleset
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
M = "ecei-labels"
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
#: the Gold threshold of indicator 4.9 raised from 2 to 3 in 3.0.0's own file, no new version
EDIT = ("  gold_4_9:\n    title: \"Gold threshold of 4.9 (twin transition services): at least this value\"\n"
        "    value: 2\n")


def _edited(tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the shipped rulesets with 3.0.0 edited in place; (root, locked hash, hash now)."""
    root = tmp_path / "rulesets"
    if not root.exists():
        shutil.copytree(ROOT / "rulesets", root)
    path = root / M / "3.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(EDIT) == 1
    path.write_text(text.replace(EDIT, EDIT.replace("value: 2", "value: 3")), encoding="utf-8")
    locked = json.loads((root / M / "published.lock.json").read_text(encoding="utf-8"))["versions"]["3.0.0"]["sha256"]
    now = load_ruleset(path).sha256
    assert now != locked
    return root, locked, now


def _assessment(tmp_path: Path, assessed_on: str = "2020-09-01") -> Path:
    """The Gold example assessed while 3.0.0 was in force."""
    path = tmp_path / f"gold-{assessed_on}.json"
    path.write_text(json.dumps({**GOLD, "assessed_on": assessed_on}), encoding="utf-8")
    return path


def _refused(result: Any, locked: str, now: str) -> None:
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == 2, out
    assert "L009" in out
    assert "3.0.0" in out
    assert locked in "".join(out.split())
    assert now in "".join(out.split())
    assert "new version" in out
    assert "Traceback" not in out


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_evaluate_refuses_a_published_version_edited_in_place(runner: CliRunner, tmp_path: Path) -> None:
    """evaluate under the version in force (3.0.0, edited) exits 2 naming the version, both hashes and the fix."""
    root, locked, now = _edited(tmp_path)
    result = runner.invoke(app, ["evaluate", str(_assessment(tmp_path)), "--rulesets", str(root)])
    _refused(result, locked, now)
    pinned = runner.invoke(app, ["evaluate", str(_assessment(tmp_path, "2021-05-18")), "--rulesets", str(root),
                                 "--version", "3.0.0", "--format", "json"])
    _refused(pinned, locked, now)


def test_explain_refuses_a_published_version_edited_in_place(runner: CliRunner, tmp_path: Path) -> None:
    """explain goes through the same check."""
    root, locked, now = _edited(tmp_path)
    _refused(runner.invoke(app, ["explain", str(_assessment(tmp_path)), "--rulesets", str(root)]), locked, now)


def test_record_refuses_a_published_version_edited_in_place_and_leaves_the_log_unchanged(
        runner: CliRunner, tmp_path: Path) -> None:
    """record appends nothing under the edited version: the log keeps its records and its head."""
    root = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", root)
    log = tmp_path / "decisions.db"
    first = runner.invoke(app, ["record", str(_assessment(tmp_path)), "--log", str(log),
                                "--rulesets", str(root), "--at", "2020-09-02T10:00:00+00:00"])
    assert first.exit_code == 0, first.output
    root, locked, now = _edited(tmp_path)
    before = sqlite3.connect(log).execute("SELECT seq, hash, body FROM records").fetchall()
    assert len(before) == 1
    result = runner.invoke(app, ["record", str(_assessment(tmp_path)), "--log", str(log), "--rulesets", str(root),
                                 "--at", "2020-09-02T10:00:00+00:00"])
    _refused(result, locked, now)
    assert sqlite3.connect(log).execute("SELECT seq, hash, body FROM records").fetchall() == before


def test_impact_refuses_a_published_version_edited_in_place(runner: CliRunner, tmp_path: Path) -> None:
    """impact from 2.0.0 to the edited 3.0.0 reports the lock mismatch instead of a study."""
    root, locked, now = _edited(tmp_path)
    population = tmp_path / "population.jsonl"
    population.write_text(json.dumps({**GOLD, "assessed_on": "2020-09-01"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["impact", "--from", "2.0.0", "--to", "3.0.0", str(population), "--rulesets",
                                 str(root), "--format", "json", "--jobs", "1", "--no-progress"])
    _refused(result, locked, now)


def test_library_decide_and_registry_refuse_a_published_version_edited_in_place(tmp_path: Path) -> None:
    """decide and Registry.get raise RulesetError L009; lint's Registry.load still reads the file as it stands."""
    root, locked, now = _edited(tmp_path)
    registry = Registry(root)
    with pytest.raises(RulesetError) as caught:
        decide({**GOLD, "assessed_on": "2020-09-01"}, registry=registry)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "L009"
    assert locked in diagnostic.message
    assert now in diagnostic.message
    assert diagnostic.file == str(root / M / "3.0.0.yaml")
    with pytest.raises(RulesetError):
        registry.get(M, "3.0.0")
    assert registry.load(M, "3.0.0").sha256 == now
    # 3.0.1 extends 3.0.0, so it inherits the edit and is refused too; 2.0.0 still decides
    with pytest.raises(RulesetError) as inherited:
        decide(GOLD, registry=registry)
    assert inherited.value.diagnostics[0].message.startswith("ecei-labels 3.0.1 was published")
    older = json.loads((ROOT / "examples" / "bronze-renewal-2020.json").read_text(encoding="utf-8"))
    assert decide(older, registry=registry).version == "2.0.0"


def test_a_ruleset_given_by_path_decides_but_the_decision_says_unpublished(runner: CliRunner, tmp_path: Path) -> None:
    """An explicit file outside a registry is allowed; its decision's resolution says it is unpublished,
    while a version handed out by a registry after its lock check does not."""
    root, _, now = _edited(tmp_path)
    result = runner.invoke(app, ["evaluate", str(_assessment(tmp_path)), "--ruleset", str(root / M / "3.0.0.yaml"),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["ruleset_sha256"] == now
    assert decision["resolution"]["method"] == "given"
    assert "unpublished" in decision["resolution"]["reason"]
    by_path = evaluate(load_ruleset(ROOT / "rulesets" / M / "3.0.1.yaml"), GOLD)
    assert "unpublished" in by_path.resolution.reason
    published = evaluate(Registry.shipped().get(M, "3.0.1"), GOLD)
    assert "unpublished" not in published.resolution.reason
    assert published.canonical_text().replace(published.resolution.reason, "") == \
        by_path.canonical_text().replace(by_path.resolution.reason, "")


def test_a_lock_of_another_hash_scheme_or_unreadable_is_refused(tmp_path: Path) -> None:
    """A lock written with scheme-1 hashes (or not JSON) cannot be compared: L012, and nothing is decided."""
    root = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", root)
    lock = root / M / "published.lock.json"
    data = json.loads(lock.read_text(encoding="utf-8"))
    del data["hash_scheme"]
    lock.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        decide(GOLD, registry=Registry(root))
    assert caught.value.diagnostics[0].code == "L012"
    assert "scheme 1" in caught.value.diagnostics[0].message
    lock.write_text("{not json", encoding="utf-8")
    assert [d.code for d in Registry(root).check_locks(M)] == ["L012"]
