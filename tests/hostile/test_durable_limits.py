"""The durable backend refuses what durable-rules cannot build in bounded time (issue 20, item 4).

durable-rules 2.0.28 loops forever creating a ruleset whose outcome facts need more than 512
distinct node numbers (30 criteria, each a ten-way ``and``: the core engine decides it at
once), and fails with a traceback on a ruleset reading 300 inputs. ``check_limits`` runs on
the compiled rules before durable-rules is touched and raises :class:`DurableLimitError`
naming the construct and the limit. Nothing here runs durable-rules on a ruleset beyond the
limits; accepted cases are bounded by counting their rules first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules import evaluate, load_ruleset
from ecei_rules.backends import durable
from ecei_rules.backends.durable import (
    MAX_EQUALITY_BRANCHES,
    MAX_OTHER_BRANCHES,
    DurableError,
    DurableLimitError,
    check_limits,
)
from ecei_rules.cli.app import app
from ecei_rules.ruleset.load import load_ruleset_text

SHIPPED = Path(__file__).resolve().parents[2] / "rulesets" / "ecei-labels"


def wide(criteria: int, width: int, inputs: int, op: str = "and", name: str = "wide") -> str:
    """``criteria`` criteria, each an ``op`` of ``width`` comparisons over ``inputs`` integer inputs;
    the one tier requires every criterion."""
    lines = [f"methodology: {name}", "version: 1.0.0", "title: Wide", "status: draft", "effective_from: 2020-01-01",
             "inputs:", "  assessed_on: {type: date, required: true}"]
    lines += [f"  x{i}: {{type: integer}}" for i in range(inputs)]
    lines.append("criteria:")
    for c in range(criteria):
        parts = [f"x{(c * width + j) % inputs} >= {j}" for j in range(width)]
        lines += [f"  c{c}:", f"    title: C{c}", f"    when: {json.dumps(f' {op} '.join(parts))}"]
    lines += ["labels: [basic]", "tiers:", "  basic:", "    title: Basic",
              "    requires: [" + ", ".join(f"c{c}" for c in range(criteria)) + "]",
              "validity:", "  valid_from: assessed_on", "  rules:",
              "    - {id: always, title: Two years, labels: [basic], valid_until: \"month_end(assessed_on, 24)\"}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def untouchable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of durable-rules fail loudly: the limit must be found before it."""
    def refuse() -> Any:
        raise AssertionError("durable-rules was touched")

    monkeypatch.setattr(durable, "runtime", refuse)


@pytest.mark.parametrize(
    ("criteria", "width", "inputs", "op", "nodes"),
    [
        pytest.param(30, 10, 20, "and", 599, id="issue-30-criteria-ten-way-and"),
        pytest.param(50, 10, 20, "or", 999, id="fifty-ten-way-or"),
        pytest.param(300, 1, 300, "and", 599, id="issue-300-inputs"),
        pytest.param(26, 10, 20, "and", 519, id="just-beyond-512"),
        pytest.param(250, 1, 20, "and", 499, id="just-beyond-the-margin"),
    ],
)
def test_rulesets_beyond_the_limits_are_refused_before_durable_is_touched(
        untouchable: None, criteria: int, width: int, inputs: int, op: str, nodes: int) -> None:
    ruleset = load_ruleset_text(wide(criteria, width, inputs, op, name=f"wide-{criteria}-{width}-{inputs}-{op}"))
    with pytest.raises(DurableLimitError) as info:
        durable.compile_ruleset(ruleset)
    message = str(info.value)
    assert f"needs {nodes} outcome nodes" in message
    assert f"at most {MAX_EQUALITY_BRANCHES}" in message
    assert isinstance(info.value, DurableError)  # what the CLI and decide_many already report
    # the core engine decides it
    data = {"assessed_on": "2021-01-01", **{f"x{i}": 100 for i in range(inputs)}}
    assert evaluate(ruleset, data).label == "basic"


def test_many_presence_tests_are_refused_too(untouchable: None) -> None:
    """A membership over many distinct values builds many equality tests after one input."""
    values = ", ".join(f"v{i}" for i in range(MAX_EQUALITY_BRANCHES + 20))
    text = wide(1, 1, 1, name="wide-values").replace('when: "x0 >= 0"', 'when: "s in params.vals"').replace(
        "  x0: {type: integer}\n", f"  x0: {{type: integer}}\n  s: {{type: string}}\nparameters:\n"
        f"  vals: {{value: [{values}], source: test}}\n")
    ruleset = load_ruleset_text(text)
    with pytest.raises(DurableLimitError, match="c0 -> met: a durable-rules pattern has more than 480 alternatives"):
        durable.compile_ruleset(ruleset)


def test_the_checks_are_linear_in_the_rules() -> None:
    """check_limits looks at each test of each rule once: its work is counted by the tests it sees."""
    plan = durable._Compiler(load_ruleset_text(wide(23, 10, 20, name="wide-count")), {}).compile()
    tests = sum(len(path) for rule in plan.rules for _, p in rule.frames for path in durable._tests(p))
    assert tests < 20 * len(plan.rules)
    check_limits(plan)  # 459 outcome nodes: within the limit


def test_within_the_limits_durable_decides_and_agrees_with_the_core(durable_available: None) -> None:
    """Just within the limits (459 outcome nodes, counted before durable-rules runs) durable-rules
    builds the ruleset and reaches the core engine's decision."""
    ruleset = load_ruleset_text(wide(23, 10, 20, name="wide-within"))
    plan = durable._Compiler(ruleset, {}).compile()
    assert len(plan.nodes) < MAX_EQUALITY_BRANCHES
    check_limits(plan)
    data = {"assessed_on": "2021-01-01", **{f"x{i}": 100 for i in range(20)}}
    assert durable.evaluate(ruleset, data).label == evaluate(ruleset, data).label == "basic"


def test_300_inputs_are_read_by_the_interpreter_beyond_48(durable_available: None) -> None:
    """Many inputs are no traceback: at most 48 become durable-rules properties (durable-rules fails
    around 65); conditions on the others are decided by the backend's interpreter."""
    ruleset = load_ruleset_text(wide(100, 1, 300, name="wide-inputs"))
    plan = durable._Compiler(ruleset, {}).compile()
    assert len(plan.fields) == 48
    check_limits(plan)
    data = {"assessed_on": "2021-01-01", **{f"x{i}": 100 for i in range(300)}}
    decision = durable.evaluate(ruleset, data)
    assert decision.label == evaluate(ruleset, data).label == "basic"
    assert set(decision.evaluated_by.values()) == {"durable", "interpreter"}


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "3.0.0", "3.0.1"])
def test_shipped_versions_are_well_within_the_limits(version: str) -> None:
    plan = durable._Compiler(load_ruleset(SHIPPED / f"{version}.yaml"), {}).compile()
    check_limits(plan)
    assert len(plan.nodes) < MAX_EQUALITY_BRANCHES // 4
    assert len(plan.fields) < 48
    assert 2 * len(plan.fields) <= MAX_OTHER_BRANCHES


def test_the_cli_prints_the_limit_and_exits_1(tmp_path: Path, untouchable: None) -> None:
    rules = tmp_path / "wide.yaml"
    rules.write_text(wide(30, 10, 20, name="wide-cli"), encoding="utf-8")
    assessment = tmp_path / "a.json"
    assessment.write_text('{"assessed_on": "2021-01-01", "x1": 3}', encoding="utf-8")
    runner = CliRunner()
    for args in (["evaluate-durable", str(assessment), "-r", str(rules)],):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "599 outcome nodes" in " ".join(result.output.split())
        assert "Traceback" not in result.output


@pytest.fixture
def durable_available() -> None:
    from ecei_rules.backends._durable_runtime import DurableUnavailableError, runtime

    try:
        runtime()
    except DurableUnavailableError as exc:  # the test command installs the extra; see tests/backends
        pytest.fail(str(exc), pytrace=False)
