"""Impact across a rescale: energy-class 1.0.0 (C, B, A, A+, A++) -> 2.0.0 (C, B, A, stricter bounds), whose
labels_from maps C -> C, B -> C, A -> B, A+ -> B, A++ -> A (tests/data/methodologies/energy-class).

Six appliances, decided by hand from the bounds (an index at most the bound is in the class):

| index | 1.0.0 (C 100, B 80, A 60, A+ 45, A++ 30) | 2.0.0 (C 80, B 55, A 35) | mapped 1.0.0 label | kind |
|---|---|---|---|---|
| 25 | A++ | A | A | same |
| 40 | A+ | B | B | same |
| 58 | A | C | B | loss |
| 90 | C | none | C | loss |
| 50 | A | B | B | same |
| 34 | A+ | A | B | gain |
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ecei_rules.compare.impact import NOT_COMPARABLE, impact, label_scale
from ecei_rules.errors import RulesetError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import load_ruleset

ENERGY = Path(__file__).resolve().parents[1] / "data" / "methodologies" / "energy-class"
INDEXES = [25, 40, 58, 90, 50, 34]


def _population() -> list[dict[str, object]]:
    return [{"assessed_on": "2021-06-01", "model": f"F-{i}", "index": index} for i, index in enumerate(INDEXES, 1)]


def test_impact_across_a_rescale_uses_the_declared_label_mapping() -> None:
    registry = Registry(ENERGY.parent)
    old, new = registry.get("energy-class", "1.0.0"), registry.get("energy-class", "2.0.0")
    report = impact(old, new, _population())
    got = [(t.index, t.old_label, t.new_label, report.kind_of(t)) for t in report.transitions]
    assert got == [(1, "A++", "A", "same"), (2, "A+", "B", "same"), (3, "A", "C", "loss"), (4, "C", "none", "loss"),
                   (5, "A", "B", "same"), (6, "A+", "A", "gain")]
    assert (report.count("loss"), report.count("gain"), report.count("same")) == (2, 1, 3)
    data = report.to_json()
    assert data["scale"]["comparable"] is True
    assert data["scale"]["mapping"] == {"C": "C", "B": "C", "A": "B", "A+": "B", "A++": "A"}
    assert data["changed"]["same"] == 3
    # a loss is attributed through the new version's tiers: A (58) -> C lost B, whose bound moved 80 -> 55
    loss = next(t for t in report.transitions if t.index == 3)
    assert loss.causes
    assert report.unexplained == 0


def test_impact_without_a_mapping_does_not_call_a_rescale_a_loss(tmp_path: Path) -> None:
    """The same rescale with labels_from deleted: no gain, no loss; every label change is not comparable and is
    attributed to the tiers the diff reports removed (A+, A++) or to nothing it can name."""
    folder = tmp_path / "energy-class"
    shutil.copytree(ENERGY, folder)
    data = yaml.safe_load((folder / "2.0.0.yaml").read_text(encoding="utf-8"))
    del data["labels_from"]
    (folder / "2.0.0.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    registry = Registry(tmp_path)
    old, new = registry.get("energy-class", "1.0.0"), registry.get("energy-class", "2.0.0")
    assert label_scale(old, new).basis == NOT_COMPARABLE
    report = impact(old, new, _population())
    assert len(report.transitions) == 6
    assert report.count("loss") == report.count("gain") == 0
    assert report.count("not comparable") == 6
    assert report.to_json()["scale"] == {"basis": NOT_COMPARABLE, "comparable": False, "mapping": None}
    assert all(lo == ga == 0 for _, _, lo, ga in report.attribution())
    a_plus_plus = next(t for t in report.transitions if t.old_label == "A++")
    assert "tiers:A++" in a_plus_plus.items
    from ecei_rules.render.impact import impact_markdown

    assert f"labels: {NOT_COMPARABLE}" in impact_markdown(report)


def test_labels_from_names_labels_of_both_versions(tmp_path: Path) -> None:
    """A mapped label must exist on both sides: E106 at the entry (a label 2.0.0 does not have, a label 1.0.0 does
    not have), E102 for a 1.0.0 label left unmapped."""
    folder = tmp_path / "energy-class"
    shutil.copytree(ENERGY, folder)
    data = yaml.safe_load((folder / "2.0.0.yaml").read_text(encoding="utf-8"))
    data["labels_from"]["map"] = {"C": "C", "B": "C", "A": "B", "A+": "Z", "A+++": "A"}
    (folder / "2.0.0.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(folder / "2.0.0.yaml")
    found = {(d.code, d.pointer) for d in caught.value.diagnostics}
    assert ("E106", "/labels_from/map/A+") in found  # Z is not a 2.0.0 label
    assert ("E106", "/labels_from/map/A+++") in found  # A+++ is not a 1.0.0 label
    assert ("E102", "/labels_from/map") in found  # A++ of 1.0.0 is not mapped
    assert all(d.line is not None for d in caught.value.diagnostics if d.pointer.startswith("/labels_from"))
