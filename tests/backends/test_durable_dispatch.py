"""The runtime's own dispatch of durable-rules actions (see _durable_runtime's docstring): facts written
as ``dumps`` writes them, frames without the runtime's ids, nothing but the dispatch runs an action."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ecei_rules.backends._durable_runtime import DurableError, Rule, Runtime, _Context, _fact_text, dumps

_names = iter(range(10**6))

FACTS: list[dict[str, Any]] = [
    {"t": "o", "n": 3, "o": "met", "sid": "ecei-1-a-2", "id": "7"},
    {"t": "in", "f0": 0.1, "f1": 1e-05, "f2": True, "f3": False, "f4": "é ü", "f5": -2**53, "f6": 2**53},
    {"t": "in", "f0": 2**53 + 1},
    {"t": "in", "f0": 'a "quoted" text'},
    {"t": "in", "f0": "back\\slash"},
    {"t": "in", "f0": "tab\there"},
    {"t": "in", "f0": "\ud800"},
    {"t": "in", "f0": None},
    {"t": "in", "f0": [1, 2]},
    {"t": "in", "f0": float("nan")},
    {"t": "in", "f0": 1e300, "f1": -0.0},
]


@pytest.mark.no_durable_needed
@pytest.mark.parametrize("fact", FACTS, ids=range(len(FACTS)))
def test_a_fact_is_written_as_dumps_writes_it_or_refused_as_dumps_refuses_it(fact: dict[str, Any]) -> None:
    """The fast writer of facts (orjson for text and whole numbers) gives dumps' text exactly, and
    refuses (DurableError) exactly what dumps refuses."""
    try:
        want = dumps(fact)
    except DurableError as exc:
        refusal = str(exc)
    else:
        assert _fact_text(fact) == want
        return
    with pytest.raises(DurableError) as caught:
        _fact_text(fact)
    assert str(caught.value) == refusal


def _register(durable_runtime: Runtime, rules: list[Rule]) -> str:
    name = f"dispatch-test-{next(_names)}-{threading.get_ident()}"
    durable_runtime.register(name, name, rules)
    return name


def test_an_action_sees_its_frames_without_ids_and_asserts_numbers_durable_reads(durable_runtime: Runtime) -> None:
    """A fact an action asserts with ``1e-05`` (which durable's own writer writes in a form its reader
    refuses) is read and matched; the frames an action gets carry no runtime id."""
    seen: list[dict[str, Any]] = []

    def small(frames: Any) -> list[dict[str, Any]]:
        seen.append(dict(frames["m"]))
        return [{"t": "y", "v": 1e-05}]

    def tiny(frames: Any) -> list[dict[str, Any]]:
        seen.append(dict(frames["y"]))
        return [{"t": "z"}]

    name = _register(durable_runtime, [
        Rule("r0", (("m", {"t": "x"}),), small),
        Rule("r1", (("y", {"$and": [{"t": "y"}, {"$lt": {"v": 0.001}}]}),), tiny),
    ])
    result = durable_runtime.run(name, [{"t": "x", "k": 1}])
    assert result.fired == ["r0", "r1"]
    assert sorted(f["t"] for f in result.facts) == ["x", "y", "z"]
    assert next(f for f in result.facts if f["t"] == "y")["v"] == 1e-05
    assert [sorted(f) for f in seen] == [["k", "sid", "t"], ["sid", "t", "v"]]
    assert durable_runtime.open_sessions() == 0


@pytest.fixture
def inside_an_evaluation(durable_runtime: Runtime) -> Iterator[str]:
    sid = "dispatch-test-session"
    durable_runtime._ctx = _Context(sid, threading.get_ident())
    yield sid
    durable_runtime._ctx = None


def test_an_action_not_run_by_the_runtimes_dispatch_is_refused(durable_runtime: Runtime,
                                                                inside_an_evaluation: str) -> None:
    """An action called with durable's own closure (as ``Ruleset.do_actions`` would), even on the
    evaluating thread and for its session, is refused, not run with frames read another way."""
    name = _register(durable_runtime, [Rule("r0", (("m", {"t": "x"}),), lambda frames: [])])
    action = durable_runtime._rulesets[name]._actions["r0"]._func

    class DurableClosure:
        s = type("S", (), {"sid": inside_an_evaluation})()
        m = type("M", (), {"_d": {"t": "x"}})()

    with pytest.raises(DurableError, match="not run by the runtime's own dispatch"):
        action(DurableClosure())
    assert durable_runtime._ctx is not None
    assert durable_runtime._ctx.fired == []
