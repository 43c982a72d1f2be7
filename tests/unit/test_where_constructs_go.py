"""The list in docs/contributing.md ("Where a new construct goes") stays true: the condition
language the compiler accepts is exactly what the durable backend's interpreter handles, the
reference evaluator adds no reading of conditions of its own, and every place the list names
exists.

Each side is read the way it dispatches: the compiler by its ``c_<node>`` methods and its tables
(``FUNCTIONS``, ``BINARY_OPERATORS``, ``COMPARISONS``, ``LOGICAL_OPERATORS``); the interpreter by
its ``_<node>`` methods and, from its source, the function names its ``_Call`` and ``_aggregate``
test and the operators its ``_BinOp``, ``_Compare``, ``_BoolOp`` and ``_UnaryOp`` accept.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from ecei_rules.backends import _interpreter
from ecei_rules.engine import reference
from ecei_rules.language import expr

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Where a new construct goes"


def _method_source(cls: type, name: str) -> ast.AST:
    return ast.parse(inspect.cleandoc("\n" + inspect.getsource(getattr(cls, name))))


def _names_tested(tree: ast.AST, variable: str) -> set[str]:
    """Every string ``variable`` is compared with (``name == "x"``, ``name in ("x", "y")``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == variable:
            for other in node.comparators:
                for leaf in ast.walk(other):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                        found.add(leaf.value)
    return found


def _ast_classes(tree: ast.AST) -> set[type]:
    """Every ``ast.X`` class a piece of code names."""
    return {getattr(ast, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ast"
            and isinstance(getattr(ast, node.attr, None), type)}


def interpreter_vocabulary() -> dict[str, set[str]]:
    """What the durable backend's interpreter evaluates, read from its dispatch."""
    cls = _interpreter.Interpreter
    nodes = {name[1:] for name in vars(cls) if name.startswith("_") and isinstance(getattr(ast, name[1:], None), type)
             and issubclass(getattr(ast, name[1:]), ast.AST)}
    # the call dispatch: date literals and aggregates in Interpreter._Call, the rest in the module's
    # _function and _calendar, the aggregates by their table
    functions = _names_tested(_method_source(cls, "_Call"), "name") | set(_interpreter._AGGREGATES)
    for helper in (_interpreter._function, _interpreter._calendar):
        functions |= _names_tested(ast.parse(inspect.getsource(helper)), "name")
    binary_symbols = {leaf.value for node in ast.walk(_method_source(cls, "_BinOp")) if isinstance(node, ast.Dict)
                      for leaf in node.values if isinstance(leaf, ast.Constant)}
    compare = {type_.__name__ for type_ in _ast_classes(_method_source(cls, "_Compare"))
               if issubclass(type_, ast.cmpop)} | {op.__name__ for op in _interpreter._COMPARE}
    logical = {type_.__name__ for name in ("_BoolOp", "_UnaryOp") for type_ in _ast_classes(_method_source(cls, name))
               if issubclass(type_, (ast.boolop, ast.unaryop))}
    if "BoolOp" in nodes and "And" in logical:  # Python's only boolean operators: 'and', else 'or'
        logical.add("Or")
    return {"nodes": nodes, "functions": functions, "binary": binary_symbols, "comparisons": compare,
            "logical": logical}


def compiler_vocabulary() -> dict[str, set[str]]:
    """What the compiler accepts, from its dispatch and its tables."""
    return {
        "nodes": set(expr.constructs()),
        "functions": set(expr.FUNCTIONS),
        "binary": set(expr.BINARY_OPERATORS.values()),
        "comparisons": {op.__name__ for op in expr.COMPARISONS},
        "logical": {op.__name__ for op in expr.LOGICAL_OPERATORS},
    }


def test_the_compiler_and_the_durable_interpreter_accept_the_same_constructs() -> None:
    """Node kinds, functions, arithmetic, comparisons and logical operators: the same sets on
    both sides, so a construct added to one and not the other fails here."""
    compiler, interpreter = compiler_vocabulary(), interpreter_vocabulary()
    for part in compiler:
        assert compiler[part] == interpreter[part], (part, compiler[part] ^ interpreter[part])
    assert "months_between" in interpreter["functions"]  # the reading works
    assert {"Compare", "Call", "IfExp"} <= interpreter["nodes"]
    assert {"+", "/"} <= interpreter["binary"]


def test_the_reference_evaluator_reads_no_condition_of_its_own() -> None:
    """The reference evaluator runs the compiled conditions and re-derives everything around
    them; it parses nothing, so a construct of the condition language does not touch it."""
    source = inspect.getsource(reference)
    assert not re.search(r"^\s*(import ast|from ast )", source, re.M)
    assert "expr" not in {n.split(".")[-1] for n in re.findall(r"from ecei_rules\.([\w.]+) import", source)}


def test_the_places_the_contributing_page_lists_exist_and_every_function_is_documented() -> None:
    """Every file the section names is in the repository, and the language page documents each
    function the compiler accepts."""
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    assert SECTION in page
    section = page.split(SECTION, 1)[1].split("\n## ", 1)[0]
    paths = set(re.findall(r"`((?:src|docs|tests)/[\w/.-]+)`", section))
    assert len(paths) >= 8, paths
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing
    language = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    undocumented = sorted(f for f in expr.FUNCTIONS if f"`{f}(" not in language)
    assert not undocumented, undocumented
