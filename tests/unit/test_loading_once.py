"""A version is loaded doing each piece of work once: each condition of a registry's versions parsed
once, each YAML file read in one pass of its events (a large one in two, with the same result), and no
validation code generated for a version that is only loaded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.language import expr
from ecei_rules.registry import Registry
from ecei_rules.ruleset import safe_yaml
from ecei_rules.ruleset.load import ParseCache, load_ruleset
from ecei_rules.ruleset.safe_yaml import parse_yaml

SHIPPED = Path(__file__).resolve().parents[2] / "rulesets"
MINIMAL = Path(__file__).resolve().parents[1] / "data" / "minimal.yaml"


def test_a_registry_parses_each_condition_of_its_versions_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six versions that extend each other repeat most of their conditions, and the checks read each
    condition several times (compiling it, finding the names it uses, bounding its dates): one
    registry parses each distinct text once, and a file loaded on its own parses each of its own once."""
    seen: Counter[str] = Counter()
    real = expr._parse_wrapped

    def spy(text: str) -> Any:
        seen[text] += 1
        return real(text)

    monkeypatch.setattr(expr, "_parse_wrapped", spy)
    registry = Registry(SHIPPED)
    for version in registry.versions("ecei-labels"):
        registry.get("ecei-labels", version)
    assert len(seen) > 50
    assert set(seen.values()) == {1}
    seen.clear()
    load_ruleset(SHIPPED / "ecei-labels" / "3.0.1.yaml")
    assert seen
    assert set(seen.values()) == {1}


def _read(text: str) -> tuple[Any, ...]:
    doc = parse_yaml(text, "f.yaml")
    return doc.data, doc.positions, doc.diagnostics


def test_a_document_past_what_is_built_at_once_is_read_again_to_the_same_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A document of more values than one reading builds (so that a document past the limits never
    takes more room than that) is built in a second reading, once its events are known sound: the
    same values, positions and problems, in the same order, as when one reading builds it all."""
    text = MINIMAL.read_text(encoding="utf-8") + "extra: !!int x\nmore: {a: 1, a: 2}\n"
    whole = _read(text)
    assert whole[0]["version"]
    assert [d.code for d in whole[2]] == ["E103", "E003"]
    monkeypatch.setattr(safe_yaml, "BUILT_AT_ONCE", 5)
    assert _read(text) == whole
    assert _read(text + "last: &a 1\n")[2][0].code == "E004"  # the stream's problem, alone


def test_loading_a_version_generates_no_validation_code() -> None:
    """Its embedded tests' assessments are checked value by value: the straight-line validation is
    generated on the first assessment the version decides, for the versions that decide one."""
    ruleset = load_ruleset(SHIPPED / "ecei-labels" / "3.0.1.yaml")
    validator = ruleset.plan.validator
    assert validator.ordered_source == ""
    assert validator.unordered_source == ""


def test_the_conditions_a_cache_keeps_parsed_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache keeps the conditions of the files loaded with it parsed, up to CONDITION_CHARS characters
    of their text: past that, the table is emptied before the next file's checks use it."""
    cache = ParseCache()
    load_ruleset(SHIPPED / "ecei-labels" / "1.1.0.yaml", cache=cache)
    assert len(cache.conditions()) > 10
    monkeypatch.setattr(ParseCache, "CONDITION_CHARS", 200)
    assert cache.conditions() == {}
