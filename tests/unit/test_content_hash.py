"""The content hash covers everything a decision's bytes depend on (scheme 2).

Every edit of a ruleset is tried, one at a time, at every node of its document: the entries of
each mapping in another order, each text with a character more, each number changed. Where the
edited version still loads and decides some assessment into other bytes than the original, its
content hash must differ. (The converse is not required: an edit may change the hash and no
decision, e.g. two parameters swapped.)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecei_rules import RulesetError, load_ruleset, load_ruleset_text
from ecei_rules.engine.decision import Resolution
from ecei_rules.engine.evaluate import decision_text
from ecei_rules.errors import AssessmentError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment
from ecei_rules.testing.properties import _dump, flatten

ROOT = Path(__file__).resolve().parents[2]
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"
PIN = Resolution(method="pinned", reason="content hash test")


def _edits(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, kind) of every edit tried: reorder a mapping, lengthen a text, change a number."""
    if isinstance(node, dict):
        if len(node) >= 2:
            yield path, "reorder"
        for key, value in node.items():
            yield from _edits(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _edits(value, (*path, i))
    elif isinstance(node, str):
        yield path, "text"
    elif isinstance(node, (int, float, Decimal)) and not isinstance(node, bool):
        yield path, "number"


def _apply(data: dict[str, Any], path: tuple[Any, ...], kind: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    if kind == "reorder":
        target = parent[path[-1]] if path else out
        keys = list(target)
        reordered = {k: target[k] for k in [keys[-1], *keys[:-1]]}
        if not path:
            return reordered
        parent[path[-1]] = reordered
    elif kind == "text":
        value = parent[path[-1]]
        # a condition gets a space (same meaning, other text); any other text a visible character
        parent[path[-1]] = value + " " if path[-1] in ("when", "valid_from", "valid_until", "rule") else value + "x"
    else:
        parent[path[-1]] = parent[path[-1]] + 1
    return out


def _decisions(ruleset: Ruleset, assessments: list[dict[str, Any]]) -> list[str | None]:
    out: list[str | None] = []
    for data in assessments:
        try:
            out.append(decision_text(ruleset, data, resolution=PIN))
        except AssessmentError:
            out.append(None)
    return out


def _check(ruleset: Ruleset, assessments: list[dict[str, Any]], stride: int) -> tuple[int, int]:
    """(edits that changed some decision's bytes, edits tried that loaded); fails on a collision."""
    data = yaml.safe_load(flatten(ruleset))
    base_sha = load_ruleset_text(flatten(ruleset)).sha256
    base = _decisions(load_ruleset_text(flatten(ruleset)), assessments)
    assert any(b is not None for b in base)
    shown = loaded = 0
    for index, (path, kind) in enumerate(_edits(data)):
        if index % stride:
            continue
        try:
            edited = load_ruleset_text(_dump(_apply(data, path, kind), None, False))
        except RulesetError:
            continue
        loaded += 1
        if _decisions(edited, assessments) != base:
            shown += 1
            assert edited.sha256 != base_sha, f"{kind} at {'/'.join(map(str, path))} changes decisions, not the hash"
    return shown, loaded


def test_every_edit_that_changes_a_decisions_bytes_changes_the_hash_every_construct() -> None:
    """On the every-construct ruleset, at every node: an edit that changes some decision's bytes changes the hash."""
    ruleset = load_ruleset(EVERY)
    assessments = [embedded_assessment(ruleset.document, i) for i in range(len(ruleset.document.tests))]
    shown, loaded = _check(ruleset, assessments, stride=1)
    assert shown >= 50, (shown, loaded)  # the edits reach the decisions: the check is not vacuous


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", ["1.2.0", "3.0.1"])
def test_every_edit_that_changes_a_decisions_bytes_changes_the_hash_shipped(version: str) -> None:
    """The same on shipped versions, at one node in eleven (their documents have thousands)."""
    ruleset = Registry.shipped().get("ecei-labels", version)
    doc = ruleset.document
    assessments = [embedded_assessment(doc, i) for i in range(len(doc.tests))]
    shown, loaded = _check(ruleset, assessments, stride=11)
    assert shown >= 20, (shown, loaded)
