"""The list in docs/contributing.md ("Where a new construct goes") stays true: the condition
language the compiler accepts is exactly what the interpreter (language/interpreter.py) handles,
the reference evaluator reads every condition with that interpreter and never runs a compiled
closure, and every place the list names exists.

Each side is read the way it dispatches: the compiler by its ``c_<node>`` methods and its tables
(``FUNCTIONS``, ``BINARY_OPERATORS``, ``COMPARISONS``, ``LOGICAL_OPERATORS``); the interpreter by
its ``_<node>`` methods and, from its source, the function names its ``_Call`` and ``_aggregate``
test and the operators its ``_BinOp``, ``_Compare``, ``_BoolOp`` and ``_UnaryOp`` accept.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from ecei_rules.engine import reference
from ecei_rules.engine.evaluate import evaluate, validate_assessment
from ecei_rules.language import expr
from ecei_rules.language import interpreter as _interpreter
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Where a new construct goes"
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"


def _rulesets() -> dict[str, Ruleset]:
    """Every shipped version, the every-construct ruleset and the minimal one."""
    registry = Registry.shipped()
    found = {f"ecei-labels {v}": registry.get("ecei-labels", v) for v in registry.versions("ecei-labels")}
    found["every-construct"] = load_ruleset(EVERY)
    found["minimal"] = load_ruleset(ROOT / "tests" / "data" / "minimal.yaml")
    return found


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
    """What the interpreter (both oracles' reading of conditions) evaluates, read from its dispatch."""
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


def test_the_compiler_and_the_interpreter_accept_the_same_constructs() -> None:
    """Node kinds, functions, arithmetic, comparisons and logical operators: the same sets on
    both sides, so a construct added to one and not the other fails here."""
    compiler, interpreter = compiler_vocabulary(), interpreter_vocabulary()
    for part in compiler:
        assert compiler[part] == interpreter[part], (part, compiler[part] ^ interpreter[part])
    assert "months_between" in interpreter["functions"]  # the reading works
    assert {"Compare", "Call", "IfExp"} <= interpreter["nodes"]
    assert {"+", "/"} <= interpreter["binary"]


def test_the_reference_evaluator_reads_conditions_with_the_interpreter_and_runs_no_compiled_closure() -> None:
    """The reference evaluator is an oracle for the compiler: it imports the interpreter, nothing
    of the compiler (language/expr.py), and calls no compiled closure (no ``.fn(``, no
    ``.compiled``), so a construct of the condition language is read there by the interpreter."""
    source = inspect.getsource(reference)
    imported = set(re.findall(r"^from ecei_rules\.([\w.]+) import ([\w, ]+)", source, re.M))
    modules = {module for module, _ in imported} | {f"{module}.{name.strip()}" for module, names in imported
                                                    for name in names.split(",")}
    assert "language.interpreter" in modules, modules
    assert not {m for m in modules if m == "language.expr" or m.startswith("language.expr.")}, modules
    attributes = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    assert not attributes & {"fn", "compiled"}, attributes & {"fn", "compiled"}
    assert ".fn(" not in source


def test_the_interpreter_finds_the_inputs_and_parameters_the_compiler_says_each_condition_reads() -> None:
    """The inputs a decision shows for a criterion (and its validity inputs) are those the
    compiler lists; the reference evaluator finds them in the condition's tree with the
    interpreter. Both readings agree on every condition of every ruleset here, validity
    conditions (which may name ``label``) included."""
    compared = 0
    for name, ruleset in _rulesets().items():
        plan = ruleset.plan
        conditions = [(c.spec.when, c.compiled, ()) for c in plan.criteria]
        conditions.append((plan.doc.validity.valid_from, plan.valid_from, ("label",)))
        for rule in plan.rules:
            if rule.when is not None:
                conditions.append((rule.spec.when, rule.when, ("label",)))
            conditions.append((rule.spec.valid_until, rule.valid_until, ("label",)))
        for text, compiled, variables in conditions:
            parsed = _interpreter.parse(text)
            assert _interpreter.reads(parsed, variables) == compiled.reads, (name, text)
            assert _interpreter.parameters(parsed) == compiled.params, (name, text)
            compared += 1
    assert compared > 100, compared  # the reading reached every condition


#: Conditions that read deeper paths than the rulesets do: nested objects, keys that JSON
#: pointers escape, paths inside loops and filters, parameters beside inputs, ``label``.
_SCOPE = expr.Scope(
    inputs={"a": expr.Ty("object", fields={"b": expr.Ty("object", fields={"c/d~e": expr.INT, "n": expr.INT})}),
            "xs": expr.Ty("list", item=expr.Ty("object", fields={"v": expr.INT, "w": expr.DATE}), size=10),
            "flag": expr.BOOL, "d": expr.DATE},
    params={"k": (expr.INT, 3), "since": (expr.DATE, dt.date(2020, 1, 1))},
    variables={"label": expr.Ty("string", values=("x", "y"))})
_DEEP = (
    'a.b["c/d~e"] >= params.k',
    "a.b.n + a.b['c/d~e'] > 2 and flag",
    "any(x.v > a.b.n for x in xs if x.w < d and x.v < params.k)",
    "count(x for x in xs) >= len(xs)",
    "(a.b.n if flag else 0) > 1 or not flag",
    "months_between(d, params.since) > 0 and -a.b.n < 0 and a.b.n in [1, 2]",
    'known(a.b.n) and label == "x" and d > date("2020-01-01")',
    "max(x.w for x in xs if x.v == a.b.n) <= month_end(d, 12)",
)


def test_the_interpreter_finds_what_the_compiler_finds_in_deeper_paths() -> None:
    """The same agreement on conditions that reach further than the rulesets do: paths three
    levels deep, keys with ``/`` and ``~`` (escaped in the pointer), reads in loop filters and
    elements, a loop variable's fields (no read), parameters and ``label`` (no read)."""
    for text in _DEEP:
        compiled, errors = expr.compile_expression(text, _SCOPE)
        assert compiled is not None, (text, errors)
        parsed = _interpreter.parse(text)
        assert _interpreter.reads(parsed, ("label",)) == compiled.reads, text
        assert _interpreter.parameters(parsed) == compiled.params, text
    assert _interpreter.reads(_interpreter.parse(_DEEP[0])) == {"/a/b/c~1d~0e"}


def _broken(*_: Any) -> Any:
    raise AssertionError("the reference evaluator ran a compiled closure")


def test_the_reference_evaluator_decides_alike_with_every_compiled_closure_broken() -> None:
    """With every compiled closure of a loaded ruleset replaced by one that fails (criteria,
    valid_from, each validity rule's when and valid_until), the reference evaluator still gives
    the decision the production evaluator gives on an intact load of the same file."""
    intact, broken = load_ruleset(EVERY), load_ruleset(EVERY)
    plan = broken.plan
    compiled = [c.compiled for c in plan.criteria] + [plan.valid_from]
    compiled += [c for rule in plan.rules for c in (rule.when, rule.valid_until) if c is not None]
    for c in compiled:
        c.fn = _broken

    @settings(max_examples=25, deadline=None)
    @given(assessments(intact))
    def check(raw: dict[str, Any]) -> None:
        assert reference.evaluate_reference(broken, raw) == evaluate(intact, validate_assessment(intact, raw))

    check()


def test_each_loaded_version_owns_the_reference_evaluators_reading_of_its_conditions() -> None:
    """The parsed conditions are kept on the ruleset object that was read (made once, then
    reused), never shared by the process: two loads of one file have a reading each."""
    first, second = load_ruleset(EVERY), load_ruleset(EVERY)
    assert first.reference.value is None  # nothing is read before the reference evaluator runs
    mine = reference.reference(first)
    assert reference.reference(first) is mine
    assert first.reference.value is mine
    assert reference.reference(second) is not mine


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


#: The every-construct rulesets the differential tests run (tests/fastpath/test_fast_paths_equal_reference.py,
#: tests/backends/test_durable_differential.py): every construct of the language is used in one of them.
EVERY_CONSTRUCT_FILES = sorted((ROOT / "tests" / "data" / "every").glob("*.yaml"))


def _conditions(ruleset: Ruleset) -> list[str]:
    """Every condition of a loaded ruleset: criteria, valid_from, each validity rule's when and valid_until."""
    doc = ruleset.document
    found = [c.when for c in doc.criteria.values()] + [doc.validity.valid_from]
    for rule in doc.validity.rules:
        found += [text for text in (rule.when, rule.valid_until) if text is not None]
    return found


def used_vocabulary(texts: list[str]) -> dict[str, set[str]]:
    """What a set of conditions uses, read with Python's ``ast`` as the language reads them: the
    node kinds, the functions called, the arithmetic symbols and the comparison and logical
    operator classes."""
    used: dict[str, set[str]] = {"nodes": set(), "functions": set(), "binary": set(), "comparisons": set(),
                                 "logical": set()}
    for text in texts:
        tree, errors = expr.parse(text)
        assert tree is not None, (text, errors)
        for node in ast.walk(tree):
            used["nodes"].add(type(node).__name__)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                used["functions"].add(node.func.id)
            elif isinstance(node, ast.BinOp) and type(node.op) in expr.BINARY_OPERATORS:
                used["binary"].add(expr.BINARY_OPERATORS[type(node.op)])
            elif isinstance(node, ast.Compare):
                used["comparisons"] |= {type(op).__name__ for op in node.ops}
            elif isinstance(node, (ast.BoolOp, ast.UnaryOp)):
                used["logical"].add(type(node.op).__name__)
    return used


def test_every_construct_of_the_compiler_is_used_by_the_every_construct_rulesets() -> None:
    """docs/contributing.md says each construct is used in the every-construct ruleset(s) that the
    differential tests run through the production evaluator, the reference evaluator and the
    durable backend: every node kind the compiler accepts, every function (``FUNCTIONS``, its
    ``AGGREGATES`` and ``SIGNATURES``), arithmetic operator, comparison and logical operator
    (signs included) occurs in some condition of tests/data/every/*.yaml."""
    assert len(EVERY_CONSTRUCT_FILES) >= 2, EVERY_CONSTRUCT_FILES
    texts = [text for path in EVERY_CONSTRUCT_FILES for text in _conditions(load_ruleset(path))]
    used = used_vocabulary(texts)
    vocabulary = compiler_vocabulary()
    vocabulary["functions"] |= set(expr.AGGREGATES) | set(expr.SIGNATURES)
    assert set(expr.SIGNATURES) | set(expr.AGGREGATES) <= set(expr.FUNCTIONS)
    missing = {part: sorted(vocabulary[part] - used[part]) for part in vocabulary if vocabulary[part] - used[part]}
    assert not missing, f"constructs no every-construct ruleset uses: {missing}"
