"""Caches belong to the objects that own them: a registry keeps its parses, a file loaded on its
own is parsed afresh, and nothing is remembered by the process between two registries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecei_rules.registry import Registry
from ecei_rules.ruleset import load as load_module
from ecei_rules.ruleset.load import ParseCache, load_ruleset

SHIPPED = Path(__file__).resolve().parents[2] / "rulesets"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file of every YAML parse the loader makes."""
    seen: list[str] = []
    real = load_module._parse

    def spy(text: str, file: str | None) -> Any:
        seen.append(Path(file).name if file else "<text>")
        return real(text, file)

    monkeypatch.setattr(load_module, "_parse", spy)
    return seen


def test_a_registry_parses_each_file_once_and_keeps_its_parses_to_itself(parsed: list[str]) -> None:
    """Six versions that extend each other: one registry parses six files; a second registry, which
    shares nothing with the first, parses them again."""
    first = Registry(SHIPPED)
    versions = first.versions("ecei-labels")
    assert len(versions) == 6
    for version in versions:
        first.get("ecei-labels", version)
    assert sorted(parsed) == sorted(f"{v}.yaml" for v in versions)
    parsed.clear()
    second = Registry(SHIPPED)
    second.get("ecei-labels", versions[-1])
    assert len(parsed) == 6  # 3.0.1 and the five bases it extends, none remembered by the process


def test_a_file_loaded_on_its_own_is_parsed_afresh_unless_given_a_cache(parsed: list[str]) -> None:
    """``load_ruleset`` keeps nothing between calls; a ``ParseCache`` passed in keeps clean parses."""
    path = SHIPPED / "ecei-labels" / "1.1.0.yaml"  # extends 1.0.0
    load_ruleset(path)
    load_ruleset(path)
    assert parsed == ["1.1.0.yaml", "1.0.0.yaml"] * 2
    parsed.clear()
    cache = ParseCache()
    load_ruleset(path, cache=cache)
    load_ruleset(path, cache=cache)
    assert parsed == ["1.1.0.yaml", "1.0.0.yaml"]


def test_a_cached_parse_of_a_changed_file_is_not_reused(tmp_path: Path, parsed: list[str]) -> None:
    """The cache compares the text it was parsed from: an edited file is parsed again."""
    source = (Path(__file__).resolve().parents[1] / "data" / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "1.0.0.yaml"
    path.write_text(source, encoding="utf-8")
    cache = ParseCache()
    load_ruleset(path, cache=cache)
    path.write_text(source + "# edited\n", encoding="utf-8")  # another text, the same document
    load_ruleset(path, cache=cache)
    assert parsed == ["1.0.0.yaml", "1.0.0.yaml"]


def _patterns(field: Any) -> list[Any]:
    found = [field.pattern] if field.pattern is not None else []
    children = [*field.fields.values(), *field.entries.values(), *([field.items] if field.items is not None else [])]
    return found + [p for child in children for p in _patterns(child)]


def test_each_loaded_version_owns_its_compiled_patterns() -> None:
    """A pattern remembers the values it matched; two loads of one file share no pattern object,
    so what one version's validation remembered is never another's (nor the process's)."""
    every = Path(__file__).resolve().parents[1] / "data" / "every" / "1.0.0.yaml"
    first, second = load_ruleset(every), load_ruleset(every)
    mine, theirs = _patterns(first.plan.inputs), _patterns(second.plan.inputs)
    assert mine, "the every-construct ruleset declares a pattern"
    assert [p.text for p in mine] == [p.text for p in theirs]
    assert not {id(p) for p in mine} & {id(p) for p in theirs}
