"""The trace mode generated per version (engine/trace.py): ``evaluate`` gives the decision the
closures give with every result made at once (``decision_by_closures``, the previous path) and the
reference evaluator gives, equal as models and in canonical bytes; its criteria and scores, made
when first read, read as if made at once; its source holds nothing of the ruleset."""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import pickle
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from populations import thinned
from pydantic import BaseModel
from test_generated_label_path import HOSTILE, RULESETS, _literals, _load

from ecei_rules.engine import trace
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate, validate_assessment
from ecei_rules.engine.evaluator import decision_by_closures, evaluator
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import AssessmentError
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

#: the instance dictionary as it is, without making what a decision left for later
_AS_IT_IS: Any = vars(BaseModel)["__dict__"].__get__
SHIPPED = Path(__file__).resolve().parent.parent.parent / "rulesets" / "ecei-labels"


def _decided(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except AssessmentError as exc:  # a validity ending before it starts (A007): the same error
        return ("error", [p.code for p in exc.problems])


def _agree(ruleset: Ruleset, raws: list[Any], *, reference: bool = True, lazy: bool = True) -> int:
    """Decide every assessment that validates by the generated trace (``lazy``: its results left
    for when they are read; else all made at once), by the closures and by the reference
    evaluator; compare models, dumps and canonical bytes; how many were decided."""
    ev = evaluator(ruleset)
    decided = 0
    for raw in raws:
        try:
            validated = validate_assessment(ruleset, raw)
        except AssessmentError:
            continue
        decided += 1
        made = _decided(evaluate, ruleset, validated)
        eager = _decided(decision_by_closures, ev, dict(validated.data), ruleset.sha256,
                         made.resolution if isinstance(made, Decision) else None)
        if not isinstance(made, Decision):
            assert made == eager, raw
            continue
        assert ("criteria" in _AS_IT_IS(made)) is not lazy  # nothing of the trace is made before it is read
        assert made.canonical_text() == eager.canonical_text(), raw  # the first reader of the trace
        again = evaluate(ruleset, validated)
        assert again == eager, raw
        assert again.model_dump_json() == eager.model_dump_json(), raw  # the same members in the same order
        assert list(_AS_IT_IS(again)) == list(_AS_IT_IS(eager))
        if reference:
            assert evaluate(ruleset, validated) == evaluate_reference(ruleset, validated), raw
    return decided


#: where the reference evaluator decides too (the other fast-path tests compare it on every version)
WITH_REFERENCE = ("ecei-labels 3.0.1", "every 1.1.0", "derived 1.0.0", "points 2.0.0", "needed 1.0.0")


def _one(ruleset: Ruleset, seed: int) -> Any:
    return next(iter(synthesize(1, seed=seed, start=dt.date(2021, 1, 1), end=dt.date(2024, 1, 1),
                                versions=[ruleset])))


def _population(name: str, n: int, seed: int) -> tuple[Ruleset, list[Any]]:
    ruleset = _load(RULESETS[name])
    raws = list(synthesize(n, seed=seed, start=dt.date(2010, 1, 1), end=dt.date(2030, 12, 31), versions=[ruleset]))
    rng = random.Random(seed)
    return ruleset, raws + [thinned(raw, rng) for raw in raws]


@pytest.mark.parametrize("name", list(RULESETS))
def test_the_generated_trace_equals_the_closures_and_the_reference_on_synth_populations(name: str) -> None:
    """On 3 synth assessments of every shipped version, example methodology and test ruleset of
    the newer constructs and of every construct of the language, and each with about one key in
    seven left out (unknown tiers, absent inputs): ``evaluate`` (the generated trace) gives the
    decision the closures give with every result made at once, equal as a model, in its JSON dump
    (member order included) and in its canonical bytes (written before anything was read), and
    on a few of them the reference evaluator's decision (which tests/fastpath compares with
    ``evaluate`` on every version)."""
    ruleset, raws = _population(name, 3, 23)
    assert _agree(ruleset, raws, reference=name in WITH_REFERENCE) >= 3


@pytest.mark.no_cover  # repetition at scale: the test above reaches the same code (docs/contributing.md)
@pytest.mark.parametrize("name", [name for name in RULESETS if name.startswith("ecei-labels")])
def test_the_generated_trace_equals_the_closures_on_larger_populations(name: str) -> None:
    """60 synth assessments of each shipped version and as many thinned ones (values seen again
    are found in the tables): the generated trace gives the closures' decisions, byte for byte."""
    ruleset, raws = _population(name, 60, 7)
    assert _agree(ruleset, raws, reference=False) >= 60


def test_with_full_tables_or_nothing_remembered_the_trace_decides_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables of values found by the criteria's closures are bounded: with room for one entry
    per table, and with no room at all, a version decides as the closures do."""
    for limit, entries in ((1, 65536), (8192, 0)):
        monkeypatch.setattr(trace, "MEMO_LIMIT", limit)
        monkeypatch.setattr(trace, "MEMO_ENTRIES", entries)
        _, raws = _population("ecei-labels 3.0.1", 3, 11)
        ruleset = load_ruleset(SHIPPED / "3.0.1.yaml")  # a fresh copy: its evaluator is built with the bounds
        assert _agree(ruleset, raws, reference=False) >= 3
        tables = [v for k, v in evaluator(ruleset).trace_plan.namespace.items() if k.startswith("T")]
        assert tables
        assert all(len(t) <= (limit if entries else 0) for t in tables)


def test_a_decision_made_lazily_reads_as_one_made_at_once() -> None:
    """Before its criteria are read a decision holds none of them (nor the assessment, only the
    values read); any reader (an attribute,
    equality, a dump, a copy, a pickle, repr) makes them, in the fields' order, once: the same
    objects are read again, and a copy or a pickle is a decision as any other."""
    ruleset = _load(RULESETS["ecei-labels 3.0.1"])
    validated = validate_assessment(ruleset, _one(ruleset, 3))
    eager = decision_by_closures(evaluator(ruleset), dict(validated.data), ruleset.sha256,
                                 evaluate(ruleset, validated).resolution)
    readers = [lambda d: d.criteria, lambda d: d.scores, lambda d: d == eager, lambda d: d.model_dump(),
               lambda d: d.to_json(), copy.copy, copy.deepcopy, lambda d: pickle.loads(pickle.dumps(d)), repr,
               lambda d: d.model_copy(update={"label": "x"}), lambda d: d.outcome_of(eager.criteria[0].id), vars]
    pending = object.__getattribute__(evaluate(ruleset, validated), "_rest")  # what is left for later
    assert not any(isinstance(a, dict) and "assessed_on" in a for a in pending.args)  # not the assessment
    for read in readers:
        lazy = evaluate(ruleset, validated)
        assert "criteria" not in _AS_IT_IS(lazy)
        assert lazy.label == eager.label
        read(lazy)
        assert list(_AS_IT_IS(lazy)) == list(Decision.model_fields)
        assert lazy == eager
        assert lazy.model_dump() == eager.model_dump()
        assert lazy.criteria is lazy.criteria
        assert lazy.scores is lazy.scores
    assert pickle.loads(pickle.dumps(evaluate(ruleset, validated))) == eager
    assert copy.deepcopy(evaluate(ruleset, validated)).canonical_text() == eager.canonical_text()


def test_threads_reading_one_decision_read_the_same_trace() -> None:
    """Threads that read a decision's criteria at once all read the same results, equal to the
    closures'."""
    ruleset = _load(RULESETS["ecei-labels 3.0.1"])
    validated = validate_assessment(ruleset, _one(ruleset, 4))
    eager = decision_by_closures(evaluator(ruleset), dict(validated.data), ruleset.sha256,
                                 evaluate(ruleset, validated).resolution)
    for _ in range(5):
        lazy = evaluate(ruleset, validated)
        start = threading.Barrier(4)
        seen: list[Any] = []

        def read(d: Decision = lazy, barrier: threading.Barrier = start, out: list[Any] = seen) -> None:
            barrier.wait()
            out.append(d.criteria)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(seen) == 4
        assert all(s == eager.criteria for s in seen)
        assert lazy.criteria == eager.criteria


def _closures(namespace: dict[str, Any]) -> set[int]:
    """The functions the generated trace calls on the environment: directly, or through a table's
    decider (which calls them when the table has not seen the values read)."""
    found = {id(v) for k, v in namespace.items() if k.startswith("F")}
    for k, v in namespace.items():
        if k.startswith("D"):
            found |= {id(fn) for fn in inspect.getclosurevars(v).nonlocals["fns"]}
    return found


def test_the_generated_trace_source_holds_no_text_from_the_ruleset(tmp_path: Path) -> None:
    """The generated trace's source (``evaluator(ruleset).trace_plan.source``) holds no string at
    all, on the shipped rulesets and on one whose ids, keys, titles and constants hold quotes,
    newlines and Python statements: only generated names and whole numbers; and every criterion
    is decided by its compiled closure (called directly, or when its table has not seen the
    values read), so a mistake of the compiler shows in ``evaluate``, but a criterion over a list,
    which is decided by its condition generated as the label mode writes it (`label.criterion_function`,
    loops instead of closures): the source of that function holds no string either."""
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    generated = 0
    for ruleset in (_load(RULESETS["ecei-labels 3.0.1"]), _load(RULESETS["every 1.1.0"]), load_ruleset(path)):
        plan = evaluator(ruleset).trace_plan
        assert "def run(env):" in plan.source
        assert _literals(plan.source) <= {int, bool, type(None)}, _literals(plan.source)
        for text in ("import", "boom", "pwned", "SystemExit", "a.b-c_d", "Q1.x-y"):
            assert text not in plan.source
        called = _closures(plan.namespace)
        functions = [v for k, v in plan.namespace.items() if k.startswith("F") and hasattr(v, "source")]
        for fn in functions:
            assert "def criterion(env" in fn.source
            assert _literals(fn.source) <= {int, bool, type(None)}, _literals(fn.source)
            for text in ("import", "boom", "pwned", "SystemExit", "a.b-c_d", "Q1.x-y"):
                assert text not in fn.source
        # each criterion is decided one way or the other: by its closure, or by a function generated for it
        assert len({id(c.fn) for c in plan.plan.criteria} & called) + len(functions) == len(plan.plan.criteria)
        generated += len(functions)
    assert generated > 0  # 3.0.1's criteria over the history and the improvement areas
    cases = [{"assessed_on": "2021-01-01", "word": "'\\n\"; boom() #", "odd": {"a.b-c_d": 3}, "items": []},
             {"assessed_on": "2021-01-01"}]
    assert _agree(load_ruleset(path), cases) == 2


def test_a_version_too_large_to_compile_is_traced_by_the_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the generated function cannot be compiled (a version too large), the trace mode
    makes every result at once with the closures, and decides alike."""

    def too_large(_: Any) -> Any:
        raise RecursionError

    monkeypatch.setattr(trace, "_generate", too_large)
    ruleset = load_ruleset(SHIPPED / "2.0.0.yaml")
    assert evaluator(ruleset).trace_plan.run is None
    assert evaluator(ruleset).trace_plan.namespace == {}
    _, raws = _population("ecei-labels 2.0.0", 2, 3)
    assert _agree(ruleset, raws, lazy=False) >= 2
