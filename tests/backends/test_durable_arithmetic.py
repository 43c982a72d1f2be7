"""Why the durable backend does not compute derived values with durable-rules' own arithmetic.

durable-rules 2.0.28 has arithmetic only on the right-hand side of a comparison (``$add``, ``$sub``,
``$mul``, ``$div`` over members of matched facts), computed in C: whole numbers as 64-bit integers,
anything else as doubles. The language's derived values are exact. These tests pin the three
differences the backend's docstring names, so that a release of durable-rules that changed them
would be noticed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from ecei_rules.backends._durable_runtime import Fact, Frames, Rule, Runtime


def _hit(tag: str) -> Any:
    def emit(frames: Frames) -> list[Fact]:
        return [{"t": "hit", "tag": tag}]

    return emit


def _arith(op: str, left: str, right: str) -> dict[str, Any]:
    return {op: {"$l": {"$m": left}, "$r": {"$m": right}}}


def test_durable_arithmetic_divides_whole_numbers_by_truncation_and_adds_decimals_as_doubles(
        durable_runtime: Runtime) -> None:
    """In durable-rules' own arithmetic 7 / 2 is 3 (the language: 3.5), and 0.1 + 0.2 is more than
    0.3 (the language: equal), so a derived value or a comparison through it would differ from the
    core engine at exactly the boundaries the differential tests probe."""
    rules = [
        Rule("half_is_3", (("m", {"$and": [{"t": "in"}, {"three": _arith("$div", "seven", "two")}]}),),
            _hit("7 / 2 == 3")),
        Rule("half_is_3.5", (("m", {"$and": [{"t": "in"}, {"three_and_a_half": _arith("$div", "seven", "two")}]}),),
            _hit("7 / 2 == 3.5")),
        Rule("sum_above", (("m", {"$and": [{"t": "in"}, {"$lt": {"x": _arith("$add", "p", "q")}}]}),),
            _hit("0.3 < 0.1 + 0.2")),
        Rule("sum_equal", (("m", {"$and": [{"t": "in"}, {"x": _arith("$add", "p", "q")}]}),),
            _hit("0.3 == 0.1 + 0.2")),
    ]
    durable_runtime.register("test-durable-arithmetic", "1", rules)
    result = durable_runtime.run("test-durable-arithmetic", [
        {"t": "in", "seven": 7, "two": 2, "three": 3, "three_and_a_half": 3.5, "x": 0.3, "p": 0.1, "q": 0.2}])
    hits = sorted(f["tag"] for f in result.facts if f.get("t") == "hit")
    assert hits == ["0.3 < 0.1 + 0.2", "7 / 2 == 3"]


def test_a_whole_number_division_by_zero_in_durable_arithmetic_kills_the_process() -> None:
    """A ``$div`` of two whole numbers by zero ends the process with SIGFPE (the language: the named
    outcome "division by zero"), so no derived value may divide in durable-rules. Run in a subprocess."""
    script = textwrap.dedent("""
        from durable import engine

        class Quiet(engine.Host):
            def _run(self):
                pass

        def act(c):
            pass

        host = Quiet()
        pattern = {"$and": [{"t": "in"}, {"$gte": {"a": {"$div": {"$l": {"$m": "a"}, "$r": {"$m": "zero"}}}}}]}
        host.register_rulesets({"div0": {"r": {"all": [{"m": pattern}], "run": act}}})
        host.post("div0", {"sid": "s", "t": "in", "a": 1, "zero": 0})
        print("survived")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert "survived" not in done.stdout
    assert done.returncode == -8, (done.returncode, done.stderr[-500:])  # SIGFPE
