"""An input path in a condition is read as a JSON pointer in one place, ``ruleset.analysis.input_pointer``,
which the analysis of thresholds and the durable backend's translation both use (issue 21: "input path to
pointer x2 with different reserved names")."""

from __future__ import annotations

import ast

import pytest

from ecei_rules.backends import durable
from ecei_rules.language.expr import RESERVED
from ecei_rules.ruleset.analysis import input_pointer


def _node(source: str) -> ast.AST:
    return ast.parse(source, mode="eval").body


@pytest.mark.parametrize(("source", "pointer"), [
    ("staff.fte", "/staff/fte"),
    ('eligibility["a/b"]["c~d"]', "/eligibility/a~1b/c~0d"),
    ("a.b.c", "/a/b/c"),
])
def test_an_input_path_is_its_json_pointer_with_keys_escaped(source: str, pointer: str) -> None:
    """Attributes and string subscripts make the pointer, outermost last; ``/`` and ``~`` are escaped."""
    assert input_pointer(_node(source)) == pointer


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_no_reserved_name_of_the_language_is_read_as_an_input(name: str) -> None:
    """``params``, ``label``, ``true``, ``false`` and the functions are never inputs, however deep the path."""
    assert input_pointer(_node(name)) is None
    assert input_pointer(_node(f"{name}.x")) is None


def test_the_durable_backend_reads_input_paths_as_the_analysis_does() -> None:
    """The backend's translation names the same pointer for every path, ``label`` (the validity rules' name
    for the awarded label) included, because it calls the one reading."""
    translator = object.__new__(durable._Compiler)  # its path reading needs no compiled state
    for source in ("staff.fte", "label", "params.x", 'a["b"].c', "count"):
        assert translator.path(_node(source)) == input_pointer(_node(source))
