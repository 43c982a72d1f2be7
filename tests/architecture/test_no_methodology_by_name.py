"""The library knows no methodology by name (issue 22, "Must show"): outside the first
methodology's own rulesets and the messages, no code of ``src/`` names it.

Each module's code is read token by token (names and string literals, not comments nor
docstrings, which may cite the shipped methodology as an example), and searched for the first
methodology's words: its id, its subject (cluster organisations), its labels, its scheme owner
and its catalogue's nouns. Two places may name them, each for a stated reason.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ecei_rules"
#: The first methodology's words (its labels as whole words: "golden" is not one).
FIRST = re.compile(r"ecei-labels|cluster|organisation|\bbronze\b|\bsilver\b|\bgold\b|\besca\b|indicator|"
                   r"improvement.area", re.IGNORECASE)
#: Where the first methodology may be named, and why.
ALLOWED = {
    # the implied subject of a ruleset that declares none: the published versions of the first
    # methodology declare none, and their decisions keep the key "organisation" byte for byte
    "ruleset/subject.py",
    # the explanation JSON (schema 1) names the subject's id and name by its first members'
    # names, kept beside "subject" and "subject_name" so that no reader of schema 1 breaks
    "explanation/model.py",
}


#: Token types that carry code's words (an f-string's text is one STRING token before Python 3.12).
_WORDS = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def _docstrings(tree: ast.AST) -> set[int]:
    """The lines of every docstring of a module."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_words(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every name and string literal of a module's code (no comment, no docstring)."""
    source = path.read_text(encoding="utf-8")
    skip = _docstrings(ast.parse(source))
    return [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type in _WORDS and tok.start[0] not in skip]


def test_no_code_of_src_names_the_first_methodology() -> None:
    """Every name and string literal of src/ but the two allowed places is free of the first
    methodology's words; the allowed places are where the test says, and nowhere else needs to."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where in ALLOWED:
            continue
        found += [f"{where}:{line}: {text}" for line, text in code_words(path) if FIRST.search(text)]
    assert found == []
    for where in ALLOWED:  # each exception is still needed: it names the first methodology
        assert any(FIRST.search(text) for _, text in code_words(SRC / where)), where


def test_the_scan_sees_names_and_strings_but_not_comments_or_docstrings(tmp_path: Path) -> None:
    """The scanner the test above relies on: it finds a word in a name and in a string, and
    ignores it in a comment and in a docstring."""
    module = tmp_path / "m.py"
    module.write_text('"""About gold."""\n# silver\nbronze = 1\nx = "the Cluster"\n', encoding="utf-8")
    assert [text for _, text in code_words(module) if FIRST.search(text)] == ["bronze", '"the Cluster"']
