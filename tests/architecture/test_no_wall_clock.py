"""No test asserts wall-clock time: the machine is shared, and a clock proves nothing under load.

Tests count work or bound memory instead. This reads every test module with :mod:`ast` and fails on
an ``assert`` (or ``pytest.fail``/``raise`` guard) whose condition reads a clock, directly or through
a name computed from one (an ``elapsed`` computed from a ``start``). Timing that is only printed or
reported, never asserted, is allowed.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
#: The clocks of the ``time`` module (called as ``time.x()`` or, imported, as ``x()``).
CLOCKS = frozenset({"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns", "process_time"})


def _reads_clock(node: ast.AST, timed: set[str], clocks: frozenset[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if name in clocks and owner in ("time", ""):
                return True
        if isinstance(sub, ast.Name) and sub.id in timed:
            return True
    return False


def _bound_from_clock(target: ast.expr, value: ast.expr, timed: set[str], clocks: frozenset[str]) -> set[str]:
    """The plain names of ``target`` that take a clock reading from ``value`` (tuples paired up)."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        pairs = zip(target.elts, value.elts, strict=True)
        return {name for t, v in pairs for name in _bound_from_clock(t, v, timed, clocks)}
    if isinstance(target, ast.Name) and _reads_clock(value, timed, clocks):
        return {target.id}
    return set()


def _fails(statement: ast.stmt) -> bool:
    """``raise ...`` or ``pytest.fail(...)``: the body of an if that guards like an assert."""
    if isinstance(statement, ast.Raise):
        return True
    call = statement.value if isinstance(statement, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "fail"


def clock_asserts(source: str, filename: str = "<test>", clocks: frozenset[str] = CLOCKS) -> list[str]:
    """Every assert-like statement in ``source`` whose condition reads the clock, as ``file:line``."""
    found = []
    for scope in ast.walk(ast.parse(source, filename)):
        if not isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        timed: set[str] = set()
        for node in ast.walk(scope):  # names bound from a clock (start, then elapsed = ... - start)
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    timed |= _bound_from_clock(target, node.value, timed, clocks)
        for node in ast.walk(scope):
            guarded = node.test if isinstance(node, ast.Assert) or (
                isinstance(node, ast.If) and any(_fails(s) for s in node.body)) else None
            if guarded is not None and _reads_clock(guarded, timed, clocks):
                found.append(f"{filename}:{node.lineno}")
    return sorted(set(found), key=lambda hit: (hit.rsplit(":", 1)[0], int(hit.rsplit(":", 1)[1])))


def test_no_test_asserts_wall_clock_time() -> None:
    """No assert in tests/ (helpers included) compares a clock reading."""
    found = [hit for path in sorted(TESTS.rglob("*.py"))
             for hit in clock_asserts(path.read_text(encoding="utf-8"), str(path.relative_to(TESTS)))]
    assert not found, "tests that assert wall-clock time (count work or bound memory instead):\n" + "\n".join(found)


def test_the_check_finds_a_clock_assert_through_a_computed_name() -> None:
    """The check is not vacuous: elapsed-time asserts, direct or through names, and fail-guards are found;
    a printed timing is not. The example reads a stand-in clock, ``tick`` (the check is told it is one),
    so that this file itself reads no clock."""
    source = textwrap.dedent("""
        import time
        def test_a():
            start = time.tick()
            work()
            elapsed = time.tick() - start
            assert elapsed < 2.0
        def test_b():
            t0 = tick()
            assert tick() - t0 < 1
        def test_c():
            began = time.tick()
            if time.tick() - began > 5:
                pytest.fail("slow")
        def test_d():
            start = time.tick()
            print(time.tick() - start)
            assert work() == 1
    """)
    assert clock_asserts(source, clocks=frozenset({"tick"})) == ["<test>:7", "<test>:10", "<test>:13"]
    assert clock_asserts(source) == []  # tick is no clock of the time module
