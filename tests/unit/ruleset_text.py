"""Editing a ruleset's text in tests: replacements that must each find what they replace."""

from __future__ import annotations


def edited(text: str, *pairs: tuple[str, str]) -> str:
    """``text`` with each (old, new) applied in turn to the first occurrence of old, which must be there."""
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text
