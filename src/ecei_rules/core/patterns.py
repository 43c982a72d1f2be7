"""Declared string patterns, compiled and matched by RE2 (``google-re2``): time linear in the
length of the value, whatever the pattern, so no pattern can make validation hang.

A pattern is refused when the ruleset is loaded (E103 at the pattern) if RE2 cannot compile
it (backreferences and lookaround are not RE2 syntax), if it is longer than
:data:`MAX_PATTERN_LENGTH` characters, if it asks for a repetition beyond
:data:`MAX_REPEAT` (``a{4294967295}``: RE2 would otherwise read a count it cannot hold as
literal text), or if it nests groups more than :data:`MAX_GROUP_DEPTH` deep (what draws
values for a pattern in the property checks recurses through each group).
"""

from __future__ import annotations

import re
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

#: The longest pattern accepted, in characters.
MAX_PATTERN_LENGTH = 1_000
#: The largest count in ``{n}``, ``{n,}`` or ``{n,m}`` (RE2's own limit).
MAX_REPEAT = 1_000
_REPEAT = re.compile(r"(?<!\\)\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")
#: How deep groups may nest, ``(``, ``(?:``, ``(?P<name>`` alike. The property checks draw values for a
#: pattern with hypothesis, which recurses through each group (some 300 deep end in a RecursionError)
#: and draws nothing beyond some 85 nested draws (the checks would test nothing).
MAX_GROUP_DEPTH = 64
_POSIX = re.compile(r"\[:\^?[a-z]+:\]")


def group_depth(text: str) -> int:
    """How deep the groups of a pattern nest: its brackets ``(`` counted, but for those escaped
    (``\\(``), quoted (``\\Q...\\E``) or in a character class (``[(]``)."""
    depth = deepest = 0
    i, n = 0, len(text)
    in_class = False
    while i < n:
        c = text[i]
        if c == "\\":
            if text.startswith("\\Q", i):  # literal up to \E (or the end)
                end = text.find("\\E", i + 2)
                i = n if end < 0 else end + 2
            else:
                i += 2
            continue
        if in_class:
            if (posix := _POSIX.match(text, i)) is not None:  # [[:alpha:]]
                i = posix.end()
                continue
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if text.startswith("[^", i) else 1
            if text.startswith("]", i):  # a ']' first in a class is itself
                i += 1
            continue
        elif c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth = max(depth - 1, 0)
        i += 1
    return deepest


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own message on stderr
    return options


def pattern_problem(text: str) -> str | None:
    """Why ``text`` is not an acceptable pattern, or None when it is."""
    if len(text) > MAX_PATTERN_LENGTH:
        return f"the pattern is longer than {MAX_PATTERN_LENGTH} characters"
    if group_depth(text) > MAX_GROUP_DEPTH:
        return f"the pattern nests groups more than {MAX_GROUP_DEPTH} deep"
    for match in _REPEAT.finditer(text):
        for count in match.groups():
            if count and (len(count) > 6 or int(count) > MAX_REPEAT):
                return (f"the pattern repeats something {count[:12]} times ('{match.group(0)[:24]}'); "
                        f"at most {MAX_REPEAT} is allowed")
    try:
        Pattern(text)
    except Exception as exc:  # re2.error, or anything its binding raises for a strange pattern
        message = exc.args[0] if exc.args else exc
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return f"the pattern does not compile as RE2 syntax: {message}"
    return None


_MEMO_CHARS = 64
_MEMO_VALUES = 4096


class Pattern:
    """A compiled pattern: :meth:`fullmatch` is true when the whole value matches."""

    __slots__ = ("_regex", "_seen", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._regex = re2.compile(text, _options())
        self._seen: dict[str, bool] = {}  # short values already matched (a country code recurs)

    def fullmatch(self, value: str) -> bool:
        """Whether the whole of ``value`` matches (a value RE2 cannot encode does not). The answer for
        a value of at most 64 characters is remembered, up to 4,096 values."""
        if value.__class__ is not str:
            return False
        found = self._seen.get(value)
        if found is not None:
            return found
        try:
            found = self._regex.fullmatch(value) is not None
        except (UnicodeError, TypeError):
            found = False  # a lone surrogate has no UTF-8 form
        if len(value) <= _MEMO_CHARS and len(self._seen) < _MEMO_VALUES:
            self._seen[value] = found
        return found

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Pattern, (self.text,))
