"""Message templates: every sentence of an explanation, per language, from a data file.

The templates live in ``ecei_rules/messages/<language>.yaml`` (shipped in the package). A
language file may leave keys out: they fall back to English. Adding German or French is a
new file, not new code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from typing import Any

from ecei_rules.errors import EceiRulesError
from ecei_rules.ruleset.safe_yaml import parse_yaml

DEFAULT_LANGUAGE = "en"


class MessagesError(EceiRulesError, ValueError):
    """A language that has no message file, or a message file that cannot be read."""


def _directory() -> Any:
    return resources.files("ecei_rules").joinpath("messages")


def languages() -> list[str]:
    """The languages that have a message file, e.g. ``["en"]``."""
    return sorted(p.name[:-5] for p in _directory().iterdir() if p.name.endswith(".yaml"))


def _load(language: str) -> dict[str, Any]:
    if language not in languages():
        raise MessagesError(f"no messages for the language '{language}'; available: {', '.join(languages())}")
    text = _directory().joinpath(f"{language}.yaml").read_text(encoding="utf-8")
    doc = parse_yaml(text, f"messages/{language}.yaml")
    if doc.diagnostics or not isinstance(doc.data, dict):
        problem = doc.diagnostics[0].message if doc.diagnostics else "not a mapping"
        raise MessagesError(f"messages/{language}.yaml cannot be read: {problem}")
    return doc.data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class Messages:
    """The templates of one language (English where it has none) and value formatting."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        data = _load(DEFAULT_LANGUAGE)
        if language != DEFAULT_LANGUAGE:
            data = _merge(data, _load(language))
        self.language = language
        self.data = data
        self.plural_one = {int(n) for n in data.get("plural_one", [1])}
        self.decimal_separator = str(data.get("decimal_separator", "."))

    def template(self, key: str, count: int | None = None) -> str:
        """The raw template at a dotted key; with ``count``, its ``one`` or ``other`` form."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"no message '{key}' in {self.language}")
            node = node[part]
        if isinstance(node, dict):
            if count is None:
                raise KeyError(f"the message '{key}' needs a count")
            node = node["one" if count in self.plural_one else "other"]
        return str(node)

    def __call__(self, key: str, plural: int | None = None, **values: Any) -> str:
        """The message at ``key`` (its form for the count ``plural``), placeholders filled and formatted."""
        shown = {k: v if isinstance(v, str) else self.value(v) for k, v in values.items()}
        if plural is not None:
            shown.setdefault("count", str(plural))
        return self.template(key, plural).format_map(shown)

    def number(self, value: int | Decimal | Fraction) -> str:
        """An exact number as text: integers plainly, finite decimals in full, others as a/b."""
        if isinstance(value, Fraction):
            if value.denominator == 1:
                return str(value.numerator)
            den = value.denominator
            for p in (2, 5):
                while den % p == 0:
                    den //= p
            if den != 1:
                return f"{value.numerator}/{value.denominator}"
            value = Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Decimal):
            if value == value.to_integral_value():
                return str(int(value))
            text = format(value, "f")
            return text.replace(".", self.decimal_separator)
        return str(value)

    def value(self, value: Any) -> str:
        """Any assessment or parameter value as text."""
        if value is None:
            return self.template("value.missing")
        if isinstance(value, bool):
            return self.template("value.true" if value else "value.false")
        if isinstance(value, (int, Decimal, Fraction)):
            return self.number(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, str) for v in value):
                return self("value.ids", len(value), n=len(value))
            return self("value.items", len(value), n=len(value))
        if isinstance(value, dict):
            return "{" + self.join([f"{k}: {self.value(v)}" for k, v in value.items()]) + "}"
        return str(value)

    def join(self, items: Sequence[str], word: str = "and") -> str:
        """``a, b and c`` (or ``a, b or c``) in this language."""
        if not items:
            return self.template("list.none")
        if len(items) == 1:
            return items[0]
        if len(items) == 2:
            return self(f"list.pair_{word}", a=items[0], b=items[1])
        head = self.template("list.separator").join(items[:-1])
        return self(f"list.last_{word}", head=head, last=items[-1])
