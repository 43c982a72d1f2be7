"""Strings that match a declared pattern, drawn from a seeded random source.

The language's patterns are RE2 (:mod:`ecei_rules.core.patterns`). Python's own regular expression
parser reads the common syntax they share (literals, classes, ranges, alternation, groups and
bounded or open repetition; RE2's POSIX classes ``[[:digit:]]``, ``\\pL``, ``\\pN`` and ``\\z`` are
spelt the Python way first); each string drawn from that reading is then checked by the RE2
pattern itself, so a string is only ever returned when RE2 accepts it entirely. Repetition is
bounded (an open ``*`` or ``+`` repeats at most :data:`OPEN_REPEAT` times beyond its minimum) and
a draw is a function of the random source alone: the same seed gives the same strings.
"""

from __future__ import annotations

import random
import re
import warnings
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from ecei_rules.core.patterns import Pattern

OPEN_REPEAT = 4
_POSIX = {"alpha": "A-Za-z", "digit": "0-9", "alnum": "A-Za-z0-9", "upper": "A-Z", "lower": "a-z", "space": " \\t",
          "xdigit": "0-9A-Fa-f", "word": "A-Za-z0-9_", "punct": "!-/:-@", "blank": " \\t"}
TRIES = 20
_PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: "0123456789",
    sre_constants.CATEGORY_NOT_DIGIT: "abcdefghijXYZ-_ ",
    sre_constants.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    sre_constants.CATEGORY_NOT_WORD: " -.,;:/",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "abcXYZ019-_",
}


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def draw_matching(pattern: Pattern, rng: random.Random, max_length: int) -> str | None:
    """A string of at most ``max_length`` characters that ``pattern`` matches entirely, or None
    when none was found in :data:`TRIES` draws (a syntax only RE2 reads, or a pattern too long)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a nested set's FutureWarning: RE2 decides anyway
            parsed = sre_parse.parse(_python(pattern.text))
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    for _ in range(TRIES):
        out: list[str] = []
        _emit(list(parsed), rng, out)
        text = "".join(out)
        if len(text) <= max_length and pattern.fullmatch(text):
            return text
    return None


def _python(text: str) -> str:
    """The RE2 spellings Python reads otherwise: POSIX classes, the letter and digit classes, the end of text."""
    for posix, python in _POSIX.items():
        text = text.replace(f"[:{posix}:]", python)
    for re2, python in (("\\p{L}", "[A-Za-z]"), ("\\pL", "[A-Za-z]"), ("\\p{N}", "[0-9]"), ("\\pN", "[0-9]"),
                        ("\\p{Nd}", "[0-9]"), ("\\z", "\\Z")):
        text = text.replace(re2, python)
    return text


def _emit(items: list[tuple[Any, Any]], rng: random.Random, out: list[str]) -> None:
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append(rng.choice([c for c in _PRINTABLE if ord(c) != arg]))
        elif op is sre_constants.ANY:
            out.append(rng.choice(_PRINTABLE[1:]))
        elif op is sre_constants.IN:
            out.append(_one_of(arg, rng))
        elif op is sre_constants.BRANCH:
            _emit(list(rng.choice(arg[1])), rng, out)
        elif op is sre_constants.SUBPATTERN:
            _emit(list(arg[-1]), rng, out)
        elif op in _REPEATS:
            lo, hi, body = arg
            top = lo + OPEN_REPEAT if hi is sre_constants.MAXREPEAT else min(hi, lo + OPEN_REPEAT)
            for _ in range(rng.randint(lo, top)):
                _emit(list(body), rng, out)
        elif op is sre_constants.ATOMIC_GROUP:
            _emit(list(arg), rng, out)
        # anchors (AT) and anything else emit nothing; RE2 has the last word


def _one_of(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    """One character of a class ``[...]`` (a negated class: a printable character outside it)."""
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.append(chr(arg))
        elif op is sre_constants.RANGE:
            lo, hi = arg
            chars += [chr(c) for c in range(lo, min(hi, lo + 255) + 1)]
        elif op is sre_constants.CATEGORY:
            chars += list(_CATEGORIES.get(arg, ""))
    if negate:
        excluded = set(chars)
        chars = [c for c in _PRINTABLE if c not in excluded]
    return rng.choice(chars) if chars else "x"
