"""The semantic diff of two versions (issue 4), checked against what the spec says changed.

Expected changes are derived from ecei-labels.md: the "in versions" column of section 4 (which
indicators exist when), the weights of section 5, the inputs of section 2 and the approval
bodies of section 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compare_helpers import GOLD_EDIT_3_0_2, M, copy_rulesets, indicators_in, metadata_only, write_version

from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.registry import Registry

# spec section 2: the eight eligibility fields, from 2.0.0
ELIGIBILITY_FIELDS = {"cluster_initiative", "management_fte", "committed_participants", "private_participants",
                      "business_support", "activities_last_year", "priority_areas", "listed_on_eccp"}


def diff_of(registry: Registry, old: str, new: str) -> Diff:
    """The semantic diff between two versions of a registry."""
    return semantic_diff(registry.get(M, old), registry.get(M, new))


def ids(diff: Diff, section: str, kind: str) -> set[str]:
    """The ids of one kind of change (added, removed, changed) in one section."""
    return {c.id for c in diff.section(section) if c.kind == kind}


@pytest.fixture(scope="module")
def d2_3(shipped: Registry) -> Diff:
    """2.0.0 -> 3.0.0."""
    return diff_of(shipped, "2.0.0", "3.0.0")


def test_2_to_3_removes_and_adds_the_spec_criteria(d2_3: Diff) -> None:
    """2.0.0 -> 3.0.0 removes criteria 1.2, 2.2.4, 5.1 and adds 4.7, 4.8, 4.9 (spec section 4, 'in versions')."""
    removed = indicators_in("2.0.0") - indicators_in("3.0.0")
    added = indicators_in("3.0.0") - indicators_in("2.0.0")
    assert removed == {"1.2", "2.2.4", "5.1"}  # the spec table read independently of the helper
    assert added == {"4.7", "4.8", "4.9"}
    assert ids(d2_3, "criteria", "removed") == removed
    assert ids(d2_3, "criteria", "added") == added
    assert all(c.decides for c in d2_3.section("criteria") if c.kind != "changed")


def test_2_to_3_changes_no_threshold(d2_3: Diff) -> None:
    """No criterion kept from 2.0.0 to 3.0.0 changes its condition (one Gold threshold per indicator, section 4)."""
    assert [c for c in d2_3.section("criteria") if c.kind == "changed" and c.decides] == []
    assert [c for c in d2_3.section("parameters") if c.kind == "changed" and c.decides] == []


def test_2_to_3_doubles_every_strategy_weight(d2_3: Diff) -> None:
    """Each category-4 criterion in both versions goes from weight 1 to 2; the others keep weight 1 (section 5)."""
    weights = {c.attribute.removeprefix("weight of "): (c.old, c.new) for c in d2_3.section("scores")
               if c.kind == "changed" and c.attribute and c.attribute.startswith("weight of ")}
    common = indicators_in("2.0.0") & indicators_in("3.0.0")
    category_4 = {i for i in common if i.startswith("4.")}
    assert len(category_4) == 12
    for i in category_4:
        assert weights[i] == (1, 2), i
    for i in common - category_4:
        assert i not in weights, i
    for i in ("4.7", "4.8", "4.9"):  # new category-4 indicators weigh 2
        assert weights[i] == (None, 2)
    for i in ("1.2", "2.2.4", "5.1"):
        assert weights[i] == (1, None)
    assert all(c.decides for c in d2_3.section("scores") if c.attribute and c.attribute.startswith("weight of "))


def test_2_to_3_input_schema_is_breaking(d2_3: Diff) -> None:
    """Removing indicator inputs breaks the schema: old-valid inputs naming 1.2 are refused by 3.0.0 (section 2)."""
    assert d2_3.schema_effect == "breaking"
    removed = {c.id: c.schema for c in d2_3.section("inputs") if c.kind == "removed"}
    assert removed == {"/indicators/1.2": "breaking", "/indicators/2.2.4": "breaking", "/indicators/5.1": "breaking"}
    added = {c.id: c.schema for c in d2_3.section("inputs") if c.kind == "added"}
    assert added == {"/indicators/4.7": "compatible", "/indicators/4.8": "compatible", "/indicators/4.9": "compatible"}


def test_3_0_0_to_3_0_1_changes_no_decision(shipped: Registry) -> None:
    """3.0.0 -> 3.0.1 is metadata only (section 1: 'no decision changes'): nothing decides, schema unchanged."""
    d = diff_of(shipped, "3.0.0", "3.0.1")
    assert d.changes
    assert d.decision_changes == []
    assert d.schema_effect == "none"
    assert {c.section for c in d.changes} == {"metadata"}
    approval = next(c for c in d.changes if c.id == "approval")
    assert approval.old["body"] == "ESCA"
    assert approval.new["body"] == "EUCLES board"
    effective = next(c for c in d.changes if c.id == "effective_from")
    assert (effective.old.isoformat(), effective.new.isoformat()) == ("2020-07-01", "2021-01-01")


def test_1_2_to_2_adds_optional_eligibility_inputs(shipped: Registry) -> None:
    """1.2.0 -> 2.0.0 adds the optional eligibility object, its eight fields and success_stories: schema compatible."""
    d = diff_of(shipped, "1.2.0", "2.0.0")
    assert d.schema_effect == "compatible"
    inputs = d.section("inputs")
    assert all(c.kind == "added" and c.schema == "compatible" for c in inputs)
    assert ids(d, "inputs", "added") == ({"/eligibility", "/benchmarking/success_stories"}
                                         | {f"/eligibility/{f}" for f in ELIGIBILITY_FIELDS})
    assert all(not c.new["required"] for c in inputs)
    # section 5: from 2.0.0 every tier also needs eligibility
    tiers = {c.id: c for c in d.section("tiers")}
    assert set(tiers) == {"bronze", "silver", "gold"}
    for change in tiers.values():
        assert change.attribute == "requires"
        assert "eligibility" in change.new
        assert "eligibility" not in change.old
        assert change.decides
    assert {f"EC{i}" for i in range(1, 7)} <= ids(d, "criteria", "added")


def test_1_0_to_1_1_adds_gold_and_31_optional_indicators(shipped: Registry) -> None:
    """1.0.0 -> 1.1.0 adds Gold and its 31 indicators as optional inputs (sections 1, 2, 4): schema compatible."""
    d = diff_of(shipped, "1.0.0", "1.1.0")
    assert d.schema_effect == "compatible"
    indicator_inputs = {c.id.removeprefix("/indicators/") for c in d.section("inputs")
                        if c.kind == "added" and c.id.startswith("/indicators/")}
    assert indicator_inputs == indicators_in("1.1.0")
    assert len(indicator_inputs) == 31
    assert ids(d, "tiers", "added") == {"gold"}
    assert ids(d, "scores", "added") == {"gold_score"}


def test_1_1_to_1_2_adds_silver_between_bronze_and_gold(shipped: Registry) -> None:
    """1.1.0 -> 1.2.0 adds Silver and the optional improvement_areas input; Silver ranks between Bronze and Gold."""
    d = diff_of(shipped, "1.1.0", "1.2.0")
    assert d.schema_effect == "compatible"
    assert "/improvement_areas" in ids(d, "inputs", "added")
    assert ids(d, "tiers", "added") == {"silver"}
    (labels,) = d.section("labels")
    new = list(labels.new)
    assert "silver" not in labels.old
    assert new.index("bronze") < new.index("silver") < new.index("gold") or \
        new.index("bronze") > new.index("silver") > new.index("gold")


def test_a_version_compared_with_itself_has_no_change(shipped: Registry) -> None:
    """Comparing 3.0.1 with itself gives no change at all."""
    d = diff_of(shipped, "3.0.1", "3.0.1")
    assert d.changes == []
    assert d.schema_effect == "none"


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The rulesets with the issue's 3.0.2 (Gold threshold of 1.1.0 raised to 0.80) and a reformatted 3.0.3."""
    root = copy_rulesets(tmp_path_factory.mktemp("diff"))
    write_version(root, "3.0.2", GOLD_EDIT_3_0_2)
    # 3.0.3 rewrites 3.0.1's condition for 1.1.0 with other spacing only
    write_version(root, "3.0.3", metadata_only("3.0.3", effective_from="2023-01-01", extra=(
        "criteria:\n  \"1.1.0\":\n    when: 'indicators[\"1.1.0\"]   >=    params.gold_1_1_0'\n")))
    return Registry(root)


def test_threshold_edit_is_one_deciding_parameter_change(edited: Registry) -> None:
    """3.0.1 -> 3.0.2 changes exactly one deciding thing: gold_1_1_0 from 0.75 to 0.80 (section 4: >= 0.75)."""
    d = diff_of(edited, "3.0.1", "3.0.2")
    (change,) = d.decision_changes
    assert (change.section, change.id, change.kind) == ("parameters", "gold_1_1_0", "changed")
    assert float(change.old) == 0.75
    assert float(change.new) == 0.80
    assert d.schema_effect == "none"


def test_reformatting_a_condition_is_not_a_change(edited: Registry) -> None:
    """A condition rewritten with other spacing compares equal: 3.0.1 -> 3.0.3 changes metadata only."""
    d = diff_of(edited, "3.0.1", "3.0.3")
    assert {c.section for c in d.changes} == {"metadata"}
    assert d.decision_changes == []


def test_diff_json_is_plain_json(d2_3: Diff) -> None:
    """Diff.to_json survives json.dumps and lists every change with its section, kind and decides flag."""
    data = json.loads(json.dumps(d2_3.to_json()))
    assert data["old"]["version"] == "2.0.0"
    assert data["new"]["version"] == "3.0.0"
    assert data["schema"] == "breaking"
    assert len(data["changes"]) == len(d2_3.changes)
    criteria = {(c["kind"], c["id"]) for c in data["changes"] if c["section"] == "criteria"}
    assert {("removed", "1.2"), ("added", "4.7")} <= criteria


def test_diff_reads_files_as_well_as_registry_versions(shipped: Registry, tmp_path: Path) -> None:
    """A ruleset loaded from a copied file diffs exactly like the registry's version of it."""
    from ecei_rules import load_ruleset

    root = copy_rulesets(tmp_path)
    from_files = semantic_diff(load_ruleset(root / M / "2.0.0.yaml"), load_ruleset(root / M / "3.0.0.yaml"))
    assert from_files.to_json() == diff_of(shipped, "2.0.0", "3.0.0").to_json()
