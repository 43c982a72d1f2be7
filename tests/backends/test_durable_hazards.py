"""Each known hazard of durable-rules 2.0.28 is ruled out by the backend (see _durable_runtime's docstring).

Every test drives the hazard's trigger and asserts the guard's effect: a correct result, or a
loud DurableError, never a silent wrong answer.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from importlib import metadata
from typing import Any

import pytest

from ecei_rules.backends import _durable_runtime as rt
from ecei_rules.backends import durable
from ecei_rules.backends._durable_runtime import DurableError, Rule, Runtime
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset

REGISTRY = Registry.shipped()


def _ruleset(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


def _fixture(version: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(_ruleset(version).document.fixtures[name]))


def _emit(*facts: dict[str, Any]) -> Callable[[Any], list[dict[str, Any]]]:
    def emit(frames: Any) -> list[dict[str, Any]]:
        return [dict(f) for f in facts]

    return emit


_names = iter(range(10**6))


def _register(durable_runtime: Runtime, rules: list[Rule]) -> str:
    name = f"hazard-test-{next(_names)}-{threading.get_ident()}"
    durable_runtime.register(name, name, rules)
    return name


@pytest.fixture
def clean_stray(durable_runtime: Runtime) -> Iterator[None]:
    yield
    durable_runtime.stray.clear()


def test_no_background_timer_threads(durable_runtime: Runtime) -> None:
    """durable's Host starts _d_timer/_t_timer threads that run actions; ours starts none, even after
    evaluations, and no threading.Timer of durable's dispatch loop is alive."""
    before = {t.ident for t in threading.enumerate()}
    for version in ("1.0.0", "3.0.0"):
        durable_decision = durable_evaluate(version, "bronze")
        assert durable_decision.label == "bronze"
    assert not hasattr(durable_runtime._host, "_d_timer")
    assert not hasattr(durable_runtime._host, "_t_timer")
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert timers == []
    assert {t.ident for t in threading.enumerate()} <= before


def durable_evaluate(version: str, fixture: str) -> durable.DurableDecision:
    return durable.evaluate(_ruleset(version), _fixture(version, fixture))


def test_a_timer_on_the_host_stops_evaluation(durable_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """If durable ever started its dispatch timer on our host, evaluation refuses to run."""
    monkeypatch.setattr(durable_runtime._host, "_d_timer", object(), raising=False)
    with pytest.raises(DurableError, match="_d_timer"):
        durable_evaluate("1.0.0", "bronze")


def test_a_durable_lang_host_in_the_process_stops_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other code that started durable.lang's process-wide host (with its timer threads calling the
    same native engine) makes evaluation refuse to run."""
    import sys
    import types

    fake = types.ModuleType("durable.lang")
    fake._main_host = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "durable.lang", fake)
    with pytest.raises(DurableError, match=r"durable\.lang"):
        durable_evaluate("1.0.0", "bronze")


def test_an_action_on_another_thread_is_refused_and_fails_the_next_evaluation(durable_runtime: Runtime,
                                                                              clean_stray: None) -> None:
    """An action run outside an evaluation (as durable's timer threads would) does nothing but raise,
    and the next evaluation fails instead of returning a result the stray action might have touched."""
    compiled = durable_module_plan("1.0.0")
    registered = durable_runtime._rulesets[compiled.name]
    action = next(iter(registered._actions.values()))._func
    errors: list[BaseException] = []

    class FakeClosure:
        s = type("S", (), {"sid": "someone-else"})()

    def run() -> None:
        try:
            action(FakeClosure())
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert len(errors) == 1
    assert isinstance(errors[0], DurableError)
    assert durable_runtime.stray
    with pytest.raises(DurableError, match="outside an evaluation"):
        durable_evaluate("1.0.0", "bronze")


def durable_module_plan(version: str) -> durable.DurablePlan:
    return durable.compile_ruleset(_ruleset(version))


def test_each_version_is_registered_once_under_its_content_hash(durable_runtime: Runtime) -> None:
    """Compiling a version again gives the same plan and name (no second registration); another
    compilation of it gets another name; a name cannot be reused for other content."""
    ruleset = _ruleset("2.0.0")
    first = durable.compile_ruleset(ruleset)
    again = durable.compile_ruleset(REGISTRY.get("ecei-labels", "2.0.0"))
    assert again is first
    assert durable_runtime.is_registered(first.name)
    count = len(durable_runtime._rulesets)
    durable_runtime.register(first.name, first.digest, first.rules)  # same content: a no-op
    assert len(durable_runtime._rulesets) == count
    with pytest.raises(DurableError, match="already registered"):
        durable_runtime.register(first.name, "other content", first.rules)
    other = durable.compile_ruleset(ruleset, overrides={"B1": "benchmarking.completed == false"})
    assert other.name != first.name
    assert first.name.startswith("ecei-labels-2.0.0-")


def test_session_state_is_deleted_after_every_evaluation(durable_runtime: Runtime) -> None:
    """After an evaluation (and after a failed one) its session holds no state and no session is open."""
    decision = durable_evaluate("3.0.0", "gold")
    assert decision.label == "gold"
    plan = durable_module_plan("3.0.0")
    assert durable_runtime.last_session is not None
    assert not durable_runtime.has_state(plan.name, durable_runtime.last_session)
    assert durable_runtime.open_sessions() == 0


def test_facts_do_not_persist_between_subjects() -> None:
    """A complete Gold assessment followed by one without indicators: the second sees none of the first's
    facts (every indicator criterion unknown), and the first decides the same again afterwards."""
    ruleset = _ruleset("3.0.0")
    full = _fixture("3.0.0", "gold")
    empty = {k: v for k, v in full.items() if k not in ("indicators", "eligibility", "benchmarking")}
    first = durable.evaluate(ruleset, full)
    second = durable.evaluate(ruleset, empty)
    third = durable.evaluate(ruleset, full)
    assert first.label == third.label == "gold"
    assert second.label == "none"
    gold_criteria = ruleset.document.scores["gold_score"].weights
    assert all(second.criteria[c] == "unknown" for c in gold_criteria)
    assert first.criteria == third.criteria


def test_more_than_1024_sessions_in_one_process(durable_runtime: Runtime) -> None:
    """durable fails with MemoryError after 1,024 undeleted sessions; 1,100 evaluations in a row work."""
    ruleset = _ruleset("1.0.0")
    base = _fixture("1.0.0", "bronze")
    for i in range(1100):
        assessment = copy.deepcopy(base)
        assessment["benchmarking"] = {"completed": i % 2 == 0}
        assert durable.evaluate(ruleset, assessment).label == ("bronze" if i % 2 == 0 else "none")
    assert durable_runtime.open_sessions() == 0


def test_threads_share_the_engine_safely() -> None:
    """Eight threads evaluating different assessments at once get exactly the single-threaded results."""
    cases = [(v, f) for v in ("1.1.0", "2.0.0", "3.0.0") for f in ("bronze", "gold")] + [("3.0.0", "silver")]
    expected = {case: durable_evaluate(*case).to_json() for case in cases}
    results: dict[tuple[int, int], Any] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                case = cases[(k + i) % len(cases)]
                results[(k, i)] = (case, durable_evaluate(*case).to_json())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 8 * 15
    for case, got in results.values():
        got.pop("resolution")
        want = dict(expected[case])
        want.pop("resolution")
        assert got == want, case


def test_a_two_parameter_action_is_refused(durable_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """durable silently treats a two-parameter action (a default-argument closure) as asynchronous; such
    an action is refused at registration."""

    def two_parameters(self: Runtime, rule: Rule) -> Callable[..., None]:
        def action(c: Any, marker: int = 0) -> None:
            return None

        return action

    monkeypatch.setattr(Runtime, "_action", two_parameters)
    rule = Rule("r0", (("m", {"t": "x"}),), _emit())
    with pytest.raises(DurableError, match="exactly one parameter"):
        _register(durable_runtime, [rule])


def test_an_exception_in_an_action_is_raised(durable_runtime: Runtime) -> None:
    """durable swallows exceptions raised in actions; ours come back as DurableError with the cause,
    and the session is still deleted."""

    def boom(frames: Any) -> list[dict[str, Any]]:
        raise ValueError("boom in an action")

    name = _register(durable_runtime, [Rule("r0", (("m", {"t": "x"}),), boom)])
    with pytest.raises(DurableError, match="boom in an action") as caught:
        durable_runtime.run(name, [{"t": "x"}])
    assert isinstance(caught.value.__cause__, ValueError)
    assert durable_runtime.last_session is not None
    assert not durable_runtime.has_state(name, durable_runtime.last_session)
    assert durable_runtime.open_sessions() == 0


def test_a_post_that_matches_no_rule_fires_nothing_and_means_no_label(durable_runtime: Runtime) -> None:
    """Raw durable raises on a post (or an action's fact) that matches no rule; through the runtime such
    facts fire nothing and are kept, and the session is deleted. A decision in which no label rule
    matches has no label."""
    name = _register(durable_runtime, [Rule("r0", (("m", {"t": "x"}),), _emit({"t": "nobody-listens"}))])
    nothing = durable_runtime.run(name, [{"t": "nothing-matches-this"}])
    assert nothing.fired == []
    assert [f["t"] for f in nothing.facts] == ["nothing-matches-this"]
    fired = durable_runtime.run(name, [{"t": "x"}])
    assert fired.fired == ["r0"]
    assert sorted(f["t"] for f in fired.facts) == ["nobody-listens", "x"]
    assert durable_runtime.last_session is not None
    assert not durable_runtime.has_state(name, durable_runtime.last_session)
    assert durable_runtime.open_sessions() == 0
    ruleset = _ruleset("1.0.0")
    assessment = _fixture("1.0.0", "bronze")
    assessment["benchmarking"] = {"completed": False}
    decision = durable.evaluate(ruleset, assessment)
    assert decision.label == "none"
    assert not any(step.startswith("label") for step in decision.trace)


def test_a_session_without_its_end_action_is_abandoned_not_deleted(durable_runtime: Runtime,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting a session in which no action ran crashes durable-rules; if the runtime's own end action
    did not run, the evaluation fails and the session is left undeleted (and counted), never deleted."""
    name = _register(durable_runtime, [Rule("r0", (("m", {"t": "x"}),), _emit())])
    original = Runtime._run_action

    def forget_the_end(self: Runtime, c: Any, rule: str, aliases: tuple[str, ...], emit: Any) -> None:
        if rule != "__end__":
            original(self, c, rule, aliases, emit)

    monkeypatch.setattr(Runtime, "_run_action", forget_the_end)
    with pytest.raises(DurableError, match="end of session"):
        durable_runtime.run(name, [{"t": "x"}])
    sid = durable_runtime.last_session
    assert sid is not None
    assert durable_runtime.open_sessions() == 1
    assert durable_runtime.has_state(name, sid)
    monkeypatch.undo()
    # clean up: an action did run in that session, so deleting it is safe
    durable_runtime._rulesets[name].delete_state(sid)
    durable_runtime._open.discard(sid)
    assert durable_runtime.open_sessions() == 0


def test_every_registered_ruleset_has_the_runtime_rules(durable_runtime: Runtime) -> None:
    """Every shipped version's durable ruleset carries the runtime's end and catch-all rules, and every
    action is synchronous."""
    for version in REGISTRY.versions("ecei-labels"):
        plan = durable_module_plan(version)
        actions = durable_runtime._rulesets[plan.name]._actions
        assert {"__end__", "__catch_all__"} <= set(actions), version
        assert all(p._sync for p in actions.values())
        assert len(actions) == len(plan.rules) + 2


def test_numbers_durable_would_misread_are_written_so_it_reads_them() -> None:
    """durable's JSON reader rejects 1e-07 (an exponent needs a fraction): such a ratio is posted as
    1.0e-07 and decided like the core engine decides it."""
    assert rt.dumps(1e-07) == "1.0e-07"
    assert rt.dumps(0.75) == "0.75"
    assert rt.dumps(2.5e-10) == "2.5e-10"
    with pytest.raises(DurableError):
        rt.dumps(2**60)
    ruleset = _ruleset("1.1.0")
    assessment = _fixture("1.1.0", "gold")
    for value in ("1E-7", "0.74999999999999", "0.75", "0.75000000000001"):
        assessment["indicators"]["1.1.0"] = Decimal(value)
        check = durable.cross_check(ruleset, assessment)
        assert check.agree, (value, check.differences)
        assert check.durable.criteria["1.1.0"] == ("met" if Decimal(value) >= Decimal("0.75") else "not_met")


def test_durable_number_refuses_what_a_double_cannot_carry_exactly() -> None:
    """A threshold or value without an exact double form would compare wrongly: it is refused."""
    assert durable.durable_number(Decimal("0.1")) == 0.1
    assert durable.durable_number(Decimal("24")) == 24
    with pytest.raises(DurableError):
        durable.durable_number(Decimal("0.1000000000000000055511151231257827"))
    with pytest.raises(DurableError):
        durable.durable_number(2**54 + 1)


def test_a_threshold_without_a_form_durable_reads_exactly_is_left_to_the_interpreter() -> None:
    """A threshold durable would misread (1e-05 in its JSON) or that has no exact double is not compiled to a
    pattern: the criterion is decided by the backend's interpreter instead, exactly (0.1 is below
    0.1000000000000000055511151231257827, although both are the same double)."""
    ruleset = _ruleset("1.1.0")
    assessment = _fixture("1.1.0", "gold")
    cases = {
        "0.00001": [("0.00001", "met"), ("0.000009", "not_met")],
        "0.1000000000000000055511151231257827": [("0.1", "not_met"), ("0.2", "met")],
    }
    for threshold, values in cases.items():
        plan = durable.compile_ruleset(ruleset, overrides={"1.1.0": f'indicators["1.1.0"] >= {threshold}'})
        assert plan.evaluated_by["1.1.0"] == "interpreter"
        for value, outcome in values:
            assessment["indicators"]["1.1.0"] = Decimal(value)
            assert durable.evaluate(ruleset, assessment, plan=plan).criteria["1.1.0"] == outcome, (threshold, value)


@pytest.mark.no_durable_needed
def test_a_clear_error_when_the_extra_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without durable-rules (or with another release) the backend says how to install the extra."""

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(rt.DurableUnavailableError, match=r"ecei-rules\[durable\]"):
        rt._load()
    monkeypatch.setattr(metadata, "version", lambda name: "2.0.27")
    with pytest.raises(rt.DurableUnavailableError, match=r"2\.0\.27 is installed"):
        rt._load()


@pytest.mark.no_durable_needed
def test_the_cli_exits_2_with_the_install_hint_when_the_extra_is_missing(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Any) -> None:
    """``evaluate-durable`` and ``cross-check`` exit 2 and print the install hint without the extra."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    def unavailable() -> Runtime:
        raise rt.DurableUnavailableError("durable-rules is not installed: pip install 'ecei-rules[durable]'")

    monkeypatch.setattr(rt, "runtime", unavailable)
    path = tmp_path / "a.json"
    path.write_text('{"organisation": {"id": "x", "name": "y", "country": "DK"}, "assessed_on": "2011-01-01"}')
    runner = CliRunner()
    for args in (["evaluate-durable", str(path)], ["cross-check", str(tmp_path / "log.db")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "ecei-rules[durable]" in result.output.replace("\n", "")


def test_facts_of_equal_content_stay_apart(durable_runtime: Runtime) -> None:
    """Raw durable-rules knows a fact without an id by a hash of its content, so a second fact equal to
    (or colliding with) one already in the session is refused as "observed". Through the runtime every
    fact has an id of its own: two equal posted facts, and the two equal facts their rule asserts, all
    stay in the session, and none of them is read back with the id."""
    name = _register(durable_runtime, [Rule("r0", (("m", {"t": "x"}),), _emit({"t": "same", "v": 1}))])
    result = durable_runtime.run(name, [{"t": "x", "v": 0}, {"t": "x", "v": 0}])
    assert result.fired == ["r0", "r0"]
    assert sorted((f["t"], f["v"]) for f in result.facts) == [("same", 1), ("same", 1), ("x", 0), ("x", 0)]
    assert all("id" not in f for f in result.facts)
    assert durable_runtime.open_sessions() == 0
    with pytest.raises(DurableError, match="no 'sid' or 'id'"):
        durable_runtime.run(name, [{"t": "x", "id": "mine"}])
