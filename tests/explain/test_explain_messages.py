"""Message templates: wording lives in a data file per language; a new language is a file, not code."""

from __future__ import annotations

import shutil
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from explain_helpers import fixture_data

from ecei_rules.explanation import MessagesError, explain, languages, render_text
from ecei_rules.explanation import messages as messages_module
from ecei_rules.explanation.messages import Messages
from ecei_rules.ruleset.load import Ruleset

SHIPPED = Path(messages_module.__file__).parents[1] / "messages"


def _templates(node: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(_templates(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(node, str):
        out[prefix] = node
    return out


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_english_ships_in_the_package() -> None:
    assert "en" in languages()
    assert (SHIPPED / "en.yaml").is_file()


def test_every_language_uses_only_the_placeholders_of_english() -> None:
    """A translation may reword and reorder, but only with the values English templates receive."""
    english = _templates(Messages("en").data)
    for language in languages():
        own = _templates(Messages(language).data)
        for key, template in own.items():
            assert key in english, f"{language}: unknown key {key}"
            assert _fields(template) <= _fields(english[key]), f"{language}: {key}"


def test_unknown_language_is_an_error(v301: Ruleset) -> None:
    with pytest.raises(MessagesError, match="no messages for the language 'tlh'; available: en"):
        explain(v301, fixture_data(v301, "gold"), language="tlh")


def test_a_new_language_file_is_picked_up_and_falls_back_to_english(v301: Ruleset, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A partial German file: its outcomes, decimal comma and one sentence; every other key stays English."""
    shutil.copy(SHIPPED / "en.yaml", tmp_path / "en.yaml")
    (tmp_path / "de.yaml").write_text(
        'language: de\nname: Deutsch\ndecimal_separator: ","\n'
        'outcome: {met: "erfüllt", not_met: "nicht erfüllt", unknown: "unbekannt"}\n'
        'requirement: {">=": "mindestens {threshold}"}\n'
        'criterion:\n  part: "{input} ist {value}, verlangt {requirement}"\n',
        encoding="utf-8")
    monkeypatch.setattr(messages_module, "_directory", lambda: tmp_path)
    assert languages() == ["de", "en"]
    data = fixture_data(v301, "gold")
    data["indicators"]["3.2"] = Decimal("0.22")
    expl = explain(v301, data, language="de")
    assert expl.language == "de"
    assert expl.criterion("3.2").sentence == (
        "Gold: 3.2 private funds (3.2): nicht erfüllt; 3.2 (Share of private funds in the financing) ist 0,22, "
        "verlangt mindestens 0,30.")
    assert render_text(expl).splitlines()[0].startswith("Under ecei-labels 3.0.1")  # not translated: English


def test_values_are_formatted_exactly() -> None:
    m = Messages("en")
    assert m.value(Decimal("0.30")) == "0.30"
    assert m.value(Decimal("36.8")) == "36.8"
    assert m.value(Decimal("10.0")) == "10"
    assert m.value(True) == "yes"
    assert m.value(None) == "missing"
    assert m.value(["a", "b"]) == "[2 ids]"
    assert m.value([{"x": 1}]) == "[1 item]"
    assert m.join(["a", "b", "c"]) == "a, b and c"
    assert m.join(["a", "b"], "or") == "a or b"
