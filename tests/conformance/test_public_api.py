"""The public surface: documented models, a sorted __all__, purity of evaluate."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

import ecei_rules
from ecei_rules import evaluate, load_ruleset
from ecei_rules.core.canonical import canonical_bytes
from ecei_rules.engine import decision as decision_module
from ecei_rules.ruleset import model as model_module
from ecei_rules.ruleset.model import ruleset_json_schema

EVERY = Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml"
ASSESSMENT = {"org": {"id": "T", "country": "DE"}, "assessed_on": "2021-03-15",
              "staff": {"total": 10, "managers": 2, "fte": 0.5}, "kpi": {"k1": 0.8},
              "history": [{"label": "basic", "awarded_on": "2019-03-16", "valid_until": "2021-03-31"}]}


def _models() -> list[type[BaseModel]]:
    found = []
    for module in (model_module, decision_module):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__ \
                    and not obj.__name__.startswith("_"):
                found.append(obj)
    return found


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_model_field_has_a_description(model: type[BaseModel]) -> None:
    """Every field of the ruleset and decision models carries a description (it feeds the JSON Schema)."""
    undocumented = [name for name, info in model.model_fields.items() if not info.description]
    assert not undocumented


def test_all_is_sorted_and_importable() -> None:
    """__all__ is sorted and every name in it exists."""
    assert list(ecei_rules.__all__) == sorted(ecei_rules.__all__)
    for name in ecei_rules.__all__:
        assert hasattr(ecei_rules, name)


def test_decision_is_immutable() -> None:
    """A decision cannot be changed after it is made."""
    decision = evaluate(load_ruleset(EVERY), ASSESSMENT)
    with pytest.raises(ValidationError):
        decision.label = "premium"  # type: ignore[misc]


def test_evaluate_does_not_touch_its_input_and_repeats_byte_for_byte() -> None:
    """evaluate leaves the assessment as it was and two runs give identical canonical bytes."""
    ruleset = load_ruleset(EVERY)
    before = copy.deepcopy(ASSESSMENT)
    first = canonical_bytes(evaluate(ruleset, ASSESSMENT).to_json())
    second = canonical_bytes(evaluate(load_ruleset(EVERY), ASSESSMENT).to_json())
    assert before == ASSESSMENT
    assert first == second


def test_ruleset_json_schema_is_json_and_documents_sections() -> None:
    """The ruleset JSON Schema serialises and describes the top-level sections (of a complete file)."""
    schema = json.loads(json.dumps(ruleset_json_schema()))
    for key in ("methodology", "version", "inputs", "criteria", "tiers", "validity"):
        assert schema["else"]["properties"][key]["description"]


def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(ruleset_json_schema())


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "rulesets").glob("*/*.yaml")),
                         ids=lambda p: p.name)
def test_ruleset_json_schema_accepts_every_shipped_file(path: Path) -> None:
    """Editors validating with the published schema accept the shipped files, extends patches included."""
    data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    assert list(_validator().iter_errors(data)) == []


def test_ruleset_json_schema_rejects_a_misspelt_key_in_a_patch() -> None:
    """In a file that extends another, a misspelt criterion key ('whn') is still an error for editors."""
    patch = {"extends": "1.0.0", "version": "1.1.0", "status": "published", "effective_from": "2012-01-01",
             "criteria": {"x": {"whn": "a"}}}
    assert list(_validator().iter_errors(patch))


def test_ruleset_json_schema_requires_every_section_without_extends() -> None:
    """A file without extends must have the required sections: title, status, inputs, criteria, ..."""
    errors = list(_validator().iter_errors({"methodology": "x", "version": "1.0.0"}))
    missing = {e.message.split("'")[1] for e in errors if e.validator == "required"}
    assert {"title", "status", "effective_from", "inputs", "criteria", "labels", "tiers", "validity"} <= missing
