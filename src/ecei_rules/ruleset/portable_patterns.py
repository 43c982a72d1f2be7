"""A declared pattern (RE2 syntax) written for JSON Schema validators, meaning the same there.

The engine matches a string input's ``pattern`` with RE2, against the whole value. JSON Schema's
``pattern`` is ECMA-262 syntax, searched anywhere in the value, and validators differ: Python's
``re`` (python-jsonschema) lets ``$`` match before a final newline and ``\\d`` match any Unicode
digit; ECMA-262 ``.`` refuses ``\\r``; RE2 alone knows ``[[:alpha:]]``, ``\\pL``, ``\\Q...\\E``
and ``\\z``. `portable_pattern` rewrites a pattern into the small syntax on which RE2,
ECMA-262 (with the ``u`` flag, as Ajv compiles patterns) and Python's ``re`` agree, anchored
at both ends, so that the three accept the same strings; it gives None for a construct it does
not rewrite (then the schema leaves the check to the engine, and says so).

What is rewritten: literal characters (escaped where any of the three reads them as syntax,
``\\uXXXX`` beyond ASCII), ``.`` (any character but ``\\n``; no negation matches a surrogate), ``\\d \\w \\s`` and their
negations (ASCII, as in RE2), classes with ranges, groups (all non-capturing), alternation,
the repetitions ``* + ? {n} {n,} {n,m}`` (lazy or not: the same strings match), ``^`` and
``\\A`` (the start), ``$`` and ``\\z`` (the end, written ``(?![\\s\\S])``), and the escapes
``\\n \\t \\r \\f \\v \\xHH \\x{H...}``. Not rewritten: flags (``(?i)``), word boundaries
(``\\b``: Unicode in Python), Unicode classes (``\\pL``), POSIX classes, ``\\Q...\\E``,
``\\C``, a repeated anchor (``^*``) and characters beyond the Basic Multilingual Plane.
"""

from __future__ import annotations

import re

#: The end of the value, in every dialect (Python's ``$`` also matches before a final newline).
END = "(?![\\s\\S])"
#: The surrogate code points: never in a value the engine accepts (text is UTF-8; a lone
#: ``\\ud800`` escape is refused when the document is parsed), but matched by a negated class of
#: Python's ``re`` or ECMA-262, so every negation written here leaves them out.
SURROGATES = "\\uD800-\\uDFFF"
#: Any string without a surrogate (the schema of a string that declares no pattern).
TEXT = "^[^" + SURROGATES + "]*$"
_CATEGORIES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_CONTROL = {"n": "\\n", "t": "\\t", "r": "\\r", "f": "\\f", "v": "\\v"}
#: A repetition, as RE2 reads one after an atom.
_QUANTIFIER = re.compile(r"[*+?]|\{[0-9]+(?:,[0-9]*)?\}")
#: Characters written with a backslash outside a class (each dialect reads them alike so).
_SYNTAX = set("^$\\.*+?()[]{}|/")
#: Characters written with a backslash inside a class.
_CLASS_SYNTAX = set("\\]^-[")


class _UnportableError(Exception):
    """A construct `portable_pattern` does not rewrite."""


def portable_pattern(text: str) -> str | None:
    """``text`` (RE2, matched against the whole value) as a JSON Schema ``pattern`` that RE2,
    ECMA-262 and Python's ``re`` read alike and that matches exactly the values ``text`` fully
    matches; None when ``text`` uses a construct without such a form (see the module).

    Example:
        >>> portable_pattern("[A-Z]{2}")
        '^(?:[A-Z]{2})(?![\\\\s\\\\S])'
        >>> portable_pattern("\\\\d+(?i)x") is None
        True
    """
    try:
        return "^(?:" + _Reader(text).sequence() + ")" + END
    except _UnportableError:
        return None


def _char(c: str, syntax: set[str]) -> str:
    """One literal character, escaped where needed."""
    if c in syntax:
        return "\\" + c
    code = ord(c)
    if code > 0xFFFF:
        raise _UnportableError(c)  # ECMA-262 without the u flag reads it as two code units
    if 0x20 <= code < 0x7F:
        return c
    return f"\\u{code:04X}"


class _Reader:
    """Reads an RE2 pattern from left to right and writes its portable form."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        c = self.peek()
        self.at += 1
        return c

    def sequence(self) -> str:
        """Everything up to the end of the text; a ``)`` without its ``(`` is refused by RE2,
        which loaded the pattern, so it never comes here."""
        out = []
        while self.at < len(self.text):
            atom = self.atom()
            if atom in ("^", END) and _QUANTIFIER.match(self.text, self.at):
                raise _UnportableError("a repeated anchor")  # Python's re and ECMA-262 (u flag) refuse it
            out.append(atom)
        return "".join(out)

    def atom(self) -> str:
        c = self.take()
        if c == "\\":
            return self.escape()
        if c == "[":
            return self.klass()
        if c == "(":
            return self.group()
        if c == "{":
            return self.repeat()
        if c == ".":
            return "[^\\n" + SURROGATES + "]"
        if c == "$":
            return END
        if c in "^)|*+?":
            return c
        return _char(c, _SYNTAX)

    def group(self) -> str:
        if self.text.startswith("?:", self.at):
            self.at += 2
        elif self.text.startswith("?P<", self.at) or self.text.startswith("?<", self.at):
            self.at = self.text.index(">", self.at) + 1  # a named group: its name is of no use here
        elif self.peek() == "?":
            raise _UnportableError("flags")
        return "(?:"

    def repeat(self) -> str:
        """``{n}``, ``{n,}`` or ``{n,m}``; anything else after ``{`` is a literal brace in RE2."""
        close = self.text.find("}", self.at)
        body = self.text[self.at:close] if close >= 0 else ""
        low, comma, high = body.partition(",")
        if low.isdigit() and low.isascii() and (not high or (high.isdigit() and high.isascii())):
            self.at = close + 1
            return "{" + low + comma + high + "}"
        return "\\{"

    def escape(self) -> str:
        c = self.take()
        if c in _CATEGORIES:
            return "[" + _CATEGORIES[c] + "]"
        if c.lower() in _CATEGORIES:
            return "[^" + _CATEGORIES[c.lower()] + SURROGATES + "]"
        if c == "A":
            return "^"
        if c == "z":
            return END
        return self.literal_escape(c, _SYNTAX)

    def literal_escape(self, c: str, syntax: set[str]) -> str:
        """An escape that stands for one character (``\\.``, ``\\n``, ``\\x41``), written anew."""
        if c in _CONTROL:
            return _CONTROL[c]
        if c == "x":
            return _char(chr(self.hex_code()), syntax)
        if c and not c.isalnum() and c.isascii():
            return _char(c, syntax)
        raise _UnportableError("\\" + c)  # \b \B \pL \Q \C, digits (octal), or the end of the text

    def hex_code(self) -> int:
        if self.peek() == "{":
            close = self.text.index("}", self.at)
            digits, self.at = self.text[self.at + 1:close], close + 1
        else:
            digits, self.at = self.text[self.at:self.at + 2], self.at + 2
        return int(digits, 16)

    def klass(self) -> str:
        """A character class: ``[...]`` or ``[^...]``, with ranges and ``\\d \\w \\s``."""
        out = "[^" if self.peek() == "^" else "["
        self.at += out == "[^"
        first, single = True, False  # single: the last item was one character (a range may start)
        while True:
            c = self.take()
            if c == "" or (c == "[" and self.peek() == ":"):
                raise _UnportableError("class")  # POSIX classes ([:alpha:]) are RE2's alone
            if c == "]" and not first:
                return out + (SURROGATES + "]" if out.startswith("[^") else "]")
            first = False
            if c == "-" and single and self.peek() not in ("]", ""):
                out, single = out + "-", False  # a range between the characters either side
                continue
            single = True
            if c != "\\":
                out += _char(c, _CLASS_SYNTAX)
                continue
            c = self.take()
            if c.lower() in _CATEGORIES:
                if c not in _CATEGORIES:
                    raise _UnportableError("negated category in a class")
                out, single = out + _CATEGORIES[c], False
            else:
                out += self.literal_escape(c, _CLASS_SYNTAX)
