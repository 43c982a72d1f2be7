"""Safe terminal output: the one sanitiser every string shown to a person goes through.

Subject names and ids, input values, ruleset ids and titles, file names and the messages
built from them can hold escape sequences (``\\x1b[2J``, an OSC title ``\\x1b]0;x\\x07``, cursor
movement, ``\\r``, C1 controls like ``\\x9b``) or bidi overrides (U+202E) that would rewrite what
a terminal shows, such as the printed label. :func:`clean` makes every such character visible
as a Python-style escape (``\\x1b``, ``\\u202e``) and keeps all printable text, so a name in
any script still reads as written. :func:`markup` also escapes rich's markup (``[bold]`` prints
literally), for strings interpolated into a rich markup string. JSON output never goes through
here: it stays byte for byte what the library writes.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.segment import Segment
from rich.text import Text

#: Unicode categories made visible: controls (C0, DEL, C1), format characters (bidi overrides and
#: isolates, zero-width characters, tags), lone surrogates, line and paragraph separators.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept as a surrogate (file names): the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: object, *, newlines: bool = False) -> str:
    """``text`` (made a string) with every control, format or separator character shown as an escape.

    With ``newlines``, ``\\n`` is kept (for a block of lines this program built); otherwise it is
    escaped too, so that a value cannot start a line of its own.
    """
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():  # the common case: nothing to do (isprintable is False for every unsafe category)
        return s
    out = []
    for char in s:
        if (char == "\n" and newlines) or unicodedata.category(char) not in UNSAFE_CATEGORIES:
            out.append(char)
        else:
            out.append(_visible(char))
    return "".join(out)


def clean_lines(text: str) -> str:
    """A block of lines: each line cleaned, the newlines between them kept."""
    return clean(text, newlines=True)


def markup(text: object) -> str:
    """``text`` cleaned and with rich markup escaped, to interpolate into a rich markup string."""
    return escape(clean(text))


def path_text(path: str | PurePath) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by the file system as surrogates) shown as
    ``\\xff``; never a lone surrogate, which no UTF-8 output can carry."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")


def show_path(path: str | PurePath) -> str:
    """A file name for a person: :func:`path_text`, then :func:`clean`."""
    return clean(path_text(path))


def text(value: object, style: str = "") -> Text:
    """A rich Text of a cleaned value: printed as it is, never read as markup or emoji codes."""
    return Text(clean(value), style=style)


#: The narrowest console output is written for (a ``COLUMNS`` below it is taken for none), and the width used then
#: (rich's own when the output is not a terminal).
MIN_WIDTH, DEFAULT_WIDTH = 20, 80


class SafeConsole(Console):
    """A rich console that cleans the text of every segment it writes (the styles rich adds are
    kept): a backstop behind cleaning each value where it is rendered, so that no control
    character from content reaches a terminal even if a renderer forgets one. Emoji codes are off."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("emoji", False)
        super().__init__(**kwargs)
        if kwargs.get("width") is None and self.width < MIN_WIDTH:
            # COLUMNS=0 (as some CI runners set it) makes rich write nothing at all, and a width of a few
            # columns a letter a line: such a width is taken for none, and rich's own default used
            self.width = DEFAULT_WIDTH

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control or segment.text.isprintable() else
            Segment(clean(segment.text, newlines=True), segment.style, segment.control)
            for segment in buffer)

    def on_broken_pipe(self) -> None:
        """The reader went away: let the command line's handler say so with its exit code (rich would exit 1)."""
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")
