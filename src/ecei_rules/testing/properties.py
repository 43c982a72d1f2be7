"""The guarantees, as checks that search for a counterexample with hypothesis.

Each ``check_*`` returns ``None`` when no counterexample was found within the settings'
budget, or a `Violation` (an ``ecei_rules.errors.Problem``) holding a (shrunk) assessment that breaks the property. The
checks take the evaluator (and, where relevant, the diff and hash functions) as arguments,
so that the test suite can show that each one catches a deliberately broken implementation.

Properties:

* determinism: evaluating twice (and in a fresh interpreter) gives identical canonical bytes;
* replay: a recorded decision replays identically;
* content hash: reformatting, reordering keys or adding comments keeps the hash; a semantic
  edit changes it;
* sufficiency: the label and validity can be recomputed from the decision's trace alone;
* information monotonicity: supplying missing inputs never changes a met or not_met
  outcome, and never lowers the label;
* threshold monotonicity: moving one input further past its threshold never lowers the label,
  and neither does relaxing a threshold of the version itself (a band's bound between two
  classes moved into the class of the lower label, a level's threshold lowered, a parameter a
  derived value is compared with moved to its passing side), on assessments synth aims at the
  thresholds and on generated ones;
* bump honesty: consecutive versions decide differently only as their semver bump allows;
* attribution: where two versions decide differently, every criterion whose outcome differs
  is one the semantic diff reports as changed or new.

A check that finds no counterexample may still have tested nothing: no criterion of a score
compares an input with a number, no example had an optional input to remove, a major bump
allows any change, the two versions never decided differently. `verify_registry` counts the
examples that reached what each check tests (`Exercise`) and marks such a result *vacuous*
("vacuous: 0 of 100 examples exercised ..."), which ``ecei-rules check-properties`` prints.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import functools
import itertools
import json
import random
import re
import subprocess
import sys
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable
from pydantic import BaseModel

from ecei_rules.core.canonical import canonical_bytes, to_json
from ecei_rules.core.logic import UNKNOWN
from ecei_rules.core.pointers import MISSING, lookup, set_at
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import evaluate as core_evaluate
from ecei_rules.engine.reference import reference_label, reference_validity
from ecei_rules.errors import AssessmentError, RulesetError, Violation
from ecei_rules.ruleset.analysis import Comparison, comparisons, criterion_targets, field_at, value_for
from ecei_rules.ruleset.bands import Interval, plain
from ecei_rules.ruleset.load import Ruleset, load_ruleset_text
from ecei_rules.ruleset.model import NONE_LABEL, RulesetDocument, band_criteria, band_intervals, score_outcomes
from ecei_rules.testing.counterexample import find_in_rounds
from ecei_rules.testing.strategies import assessments

Evaluator = Callable[..., Decision]
_PIN = Resolution(method="pinned", reason="property check")


@dataclass
class Exercise:
    """How many of the examples a check drew reached what it tests.

    A check that found no counterexample proved nothing when it had nothing to check (``nothing``
    says why: no scored criterion compares an input with a number, a major bump allows any change)
    or when none of its examples reached the condition it tests (``what``): it is *vacuous*.
    """

    what: str
    drawn: int = 0
    exercised: int = 0
    nothing: str | None = None

    def vacuous(self) -> str | None:
        """``vacuous: ...`` when the check tested nothing, else None."""
        if self.nothing is not None:
            return f"vacuous: {self.nothing}"
        if not self.exercised:
            return f"vacuous: 0 of {self.drawn} examples exercised {self.what}"
        return None


def _drawn(exercise: Exercise | None) -> None:
    if exercise is not None:
        exercise.drawn += 1


def _exercised(exercise: Exercise | None) -> None:
    if exercise is not None:
        exercise.exercised += 1


def search_settings(max_examples: int = 100, *, shrink: bool = True) -> settings:
    """Derandomised settings for a counterexample search (``shrink=False``: stop at the first one found)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, phases=phases)


def _search(strategy: st.SearchStrategy[Any], bad: Callable[[Any], str | None], config: settings,
            name: str, ruleset: Ruleset, example: Callable[[Any], Any] = lambda drawn: drawn) -> Violation | None:
    """Find (and shrink) an example for which ``bad`` returns a message; ``example`` picks the assessment
    out of what was drawn, for the report."""
    def violates(drawn: Any) -> bool:
        try:
            return bad(drawn) is not None
        except AssessmentError as exc:  # refused, not decided: a validity that would end before it starts
            if all(d.code == "A007" for d in exc.diagnostics):
                return False
            raise

    try:
        found = find_in_rounds(strategy, violates, config)  # memory bounded whatever the budget
    except (NoSuchExample, Unsatisfiable):
        return None
    return Violation(name, bad(found) or "", ruleset=str(ruleset), assessment=example(found))


def _order(ruleset: Ruleset, label: str) -> int:
    return -1 if label == NONE_LABEL else ruleset.document.labels.index(label)


# -- determinism and replay ---------------------------------------------------------------------

def check_determinism(ruleset: Ruleset, config: settings, evaluate: Evaluator = core_evaluate) -> Violation | None:
    """Evaluating the same assessment twice gives identical canonical bytes."""
    def bad(data: dict[str, Any]) -> str | None:
        first = canonical_bytes(evaluate(ruleset, data, resolution=_PIN).to_json())
        second = canonical_bytes(evaluate(ruleset, copy.deepcopy(data), resolution=_PIN).to_json())
        return None if first == second else "two evaluations of the same input differ"

    return _search(assessments(ruleset), bad, config, "determinism", ruleset)


_FRESH = """
import json, sys
from ecei_rules import load_ruleset
from ecei_rules.core.canonical import canonical_bytes
from ecei_rules.engine.decision import Resolution
from ecei_rules.engine.evaluate import evaluate
ruleset = load_ruleset(sys.argv[1])
pin = Resolution(method="pinned", reason="property check")
for line in sys.stdin:
    print(canonical_bytes(evaluate(ruleset, json.loads(line), resolution=pin).to_json()).decode())
"""


def check_fresh_interpreter(ruleset: Ruleset, examples: list[dict[str, Any]],
                            evaluate: Evaluator = core_evaluate) -> Violation | None:
    """A fresh interpreter decides the same examples with the same canonical bytes as this one."""
    if ruleset.path is None:
        raise ValueError("the ruleset must come from a file")
    lines = "".join(json.dumps(to_json(e)) + "\n" for e in examples)
    done = subprocess.run([sys.executable, "-c", _FRESH, str(ruleset.path)], input=lines, capture_output=True,
                          text=True, check=True)
    for example, theirs in zip(examples, done.stdout.splitlines(), strict=True):
        ours = canonical_bytes(evaluate(ruleset, json.loads(json.dumps(to_json(example))),
                                        resolution=_PIN).to_json()).decode()
        if ours != theirs:
            return Violation("determinism (fresh interpreter)", "a fresh interpreter decides this input differently",
                             ruleset=str(ruleset), assessment=example)
    return None


def check_replay(ruleset: Ruleset, config: settings, evaluate: Evaluator = core_evaluate) -> Violation | None:
    """A recorded decision replays identically (record, then replay from the stored record)."""
    from ecei_rules.audit.log import StoredRecord
    from ecei_rules.audit.record import GENESIS, make_record
    from ecei_rules.audit.replay import replay
    from ecei_rules.registry import Registry

    class _One(Registry):
        def get(self, methodology: str, version: str) -> Ruleset:
            return ruleset

        def load(self, methodology: str, version: str) -> Ruleset:
            return ruleset

    registry = _One(Path("."))

    def bad(data: dict[str, Any]) -> str | None:
        record = make_record(evaluate(ruleset, data, resolution=_PIN), data, seq=1, prev_hash=GENESIS,
                             decided_at="2026-01-01T00:00:00+00:00")
        row = StoredRecord(1, record.hash, record.prev_hash, record.canonical().decode())
        report = replay([row], registry)
        return None if report.ok else report.findings[0].message

    return _search(assessments(ruleset), bad, config, "replay", ruleset)


# -- content hash -------------------------------------------------------------------------------

def _reformat(data: Any, rng: Any, annotation: Any = RulesetDocument) -> Any:
    """A copy of a ruleset's data with the fields of every object (an approval, a criterion, an
    input's spec) in a random order. The entries of a collection (criteria by id, parameters by
    name) keep theirs: a decision lists them in file order, so the hash covers that order."""
    if isinstance(data, dict):
        model, entries = _shape(annotation)
        if model is not None:
            keys = list(data)
            rng.shuffle(keys)
            fields = model.model_fields
            return {k: _reformat(data[k], rng, fields[k].annotation if k in fields else None) for k in keys}
        return {k: _reformat(v, rng, entries) for k, v in data.items()}
    if isinstance(data, list):
        _, items = _shape(annotation)
        return [_reformat(v, rng, items) for v in data]
    return data


def _shape(annotation: Any) -> tuple[Any, Any]:
    """(the pydantic model an annotation names, or None; the annotation of its entries or items)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, None
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis and a is not type(None)]
    if typing.get_origin(annotation) in (dict, tuple, list):
        return None, args[-1] if args else None
    for arg in args:  # X | None, Annotated[X, ...]: the model among its members
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, None
    return None, None


#: libyaml's emitter where PyYAML has it (ten times the pure-Python one's speed)
_DUMPER: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(data: Any, flow: bool | None, comments: bool) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, Decimal):
            return float(value)
        return value

    text = yaml.dump(plain(data), Dumper=_DUMPER, sort_keys=False, default_flow_style=flow, allow_unicode=True,
                     width=4096)
    if comments:
        # full-line comments before top-level keys, and trailing blank lines: never inside a value
        text = "\n".join(("# a comment\n" + line) if line[:1].isalpha() else line for line in text.splitlines())
        text = "# reformatted copy\n" + text + "\n\n"
    return text


HashFn = Callable[[str], str]


def _hash_of(text: str) -> str:
    return load_ruleset_text(text).sha256


def check_hash_invariance(flat_text: str, config: settings, hash_fn: HashFn = _hash_of) -> Violation | None:
    """Reformatting a (self-contained) ruleset keeps its hash; changing any parameter value changes it,
    and so does any edit a decision shows: criteria in another order, a condition written otherwise.

    ``flat_text`` is a ruleset without ``extends`` (see :func:`flatten`).
    """
    data = yaml.safe_load(flat_text)
    base = hash_fn(flat_text)
    params = sorted(data.get("parameters", {}))
    numeric = [p for p in params if isinstance(data["parameters"][p].get("value"), (int, float))
               and not isinstance(data["parameters"][p].get("value"), bool)]

    strategy = st.tuples(st.integers(0, 2**32), st.sampled_from([None, True, False]), st.booleans(),
                         st.sampled_from(numeric or [""]))

    def bad(drawn: tuple[int, bool | None, bool, str]) -> str | None:
        seed, flow, comments, param = drawn
        rng = random.Random(seed)
        same = _dump(_reformat(data, rng), flow, comments)
        if hash_fn(same) != base:
            return "a reformatted copy (keys reordered, layout or comments changed) hashes differently"
        if param:
            value = data["parameters"][param]["value"]
            for changed in (value + 1, value / 2 if value else 1, value - 1):
                edited = copy.deepcopy(data)
                edited["parameters"][param]["value"] = changed
                try:
                    digest = hash_fn(_dump(edited, flow, comments))
                except RulesetError:
                    continue  # that edit is not a valid ruleset (a share above 1, say): try another
                if digest == base:
                    return f"changing parameter {param} from {value} to {changed} does not change the hash"
                break
        for what, edited_text in _shown_edits(data, flow, comments):
            if hash_fn(edited_text) == base:
                return f"{what} changes a decision's bytes but not the hash"
        return None

    class _Named:
        def __str__(self) -> str:
            return f"{data.get('methodology')}@{data.get('version')}"

    return _search(strategy, bad, config, "content hash", _Named(),  # type: ignore[arg-type]
                   example=lambda d: {"seed": d[0], "flow_style": d[1], "comments": d[2], "parameter": d[3]})


def _shown_edits(data: dict[str, Any], flow: bool | None, comments: bool) -> list[tuple[str, str]]:
    """Edits that change what a decision shows without changing what it decides: the first two
    criteria swapped (a decision lists criteria in file order), the first condition in brackets
    (a decision carries each condition as written)."""
    out: list[tuple[str, str]] = []
    criteria = data.get("criteria", {})
    ids = list(criteria)
    if len(ids) >= 2:
        swapped = copy.deepcopy(data)
        order = [ids[1], ids[0], *ids[2:]]
        swapped["criteria"] = {k: criteria[k] for k in order}
        out.append((f"swapping criteria {ids[0]} and {ids[1]}", _dump(swapped, flow, comments)))
    if ids and isinstance(criteria[ids[0]].get("when"), str):
        bracketed = copy.deepcopy(data)
        bracketed["criteria"][ids[0]]["when"] = f"({criteria[ids[0]]['when']})"
        out.append((f"writing the condition of {ids[0]} in brackets", _dump(bracketed, flow, comments)))
    return out


def flatten(ruleset: Ruleset) -> str:
    """The ruleset as one self-contained YAML document (``extends`` resolved), for hash checks."""
    doc = ruleset.document.model_dump(mode="python", exclude={"extends", "tests", "fixtures"}, exclude_defaults=True)
    if ruleset.document.bands:  # the criteria a band's classes generate are the band's, not written ones
        generated = band_criteria(ruleset.document.bands)
        doc["criteria"] = {k: v for k, v in doc.get("criteria", {}).items() if k not in generated}
    return _dump(doc, None, False)


# -- sufficiency --------------------------------------------------------------------------------

def recompute(ruleset: Ruleset, decision: dict[str, Any], assessment: Any = None) -> tuple[str, Any, Any]:
    """Label, valid_from and valid_until recomputed from a decision's trace alone.

    Criterion outcomes come from the trace; the reference evaluator (the oracle, not the engine
    under test) works out groups, scores, tiers and validity from them, the validity rules
    running on an environment built only from the trace's ``validity_inputs``. The ``assessment``
    decided, when given, only completes what the validator needs to read those inputs (its required
    inputs): nothing of it but the trace's inputs reaches the validity rules (see `_trace_env`).
    """
    value = {"met": True, "not_met": False, "unknown": UNKNOWN}
    label = reference_label(ruleset, {c["id"]: value[c["outcome"]] for c in decision["criteria"]},
                            {s["id"]: {k: p["counted"] for k, p in s["points"].items()}
                             for s in decision["scores"] if "points" in s})
    if label == NONE_LABEL:
        return label, None, None
    normal = _trace_env(ruleset, decision.get("validity_inputs", {}), assessment)
    normal["label"] = label
    start, until, _, _ = reference_validity(ruleset, normal, label)
    return label, _iso(start), _iso(until)


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _trace_env(ruleset: Ruleset, validity_inputs: dict[str, Any], assessment: Any = None) -> dict[str, Any]:
    """The validated values of a trace's ``validity_inputs``, and nothing else: each read at its pointer from
    the validator's reading of the trace's values, completed with the assessment decided (when given: a valid
    one, so the validator reads them whatever the version checks, patterns or consistency checks) or with
    placeholders for the required inputs."""
    env: dict[str, Any] = {}
    for pointer, raw in validity_inputs.items():
        set_at(env, pointer, raw)
    whole = copy.deepcopy(assessment) if isinstance(assessment, dict) else _complete(ruleset, env)
    for pointer, raw in validity_inputs.items():
        set_at(whole, pointer, copy.deepcopy(raw))
    normal, _ = ruleset.plan.validator.validate(whole)
    out: dict[str, Any] = {}
    for pointer in validity_inputs:  # only what the trace holds
        found = lookup(normal, pointer)
        if found is not MISSING:  # (else refused by the validator: the validity rules find it absent)
            set_at(out, pointer, found)
    return out


def _complete(ruleset: Ruleset, env: dict[str, Any]) -> dict[str, Any]:
    """Fill required inputs the validity rules did not read with placeholders, so validation can
    normalise the ones they did read (dates as dates, numbers exact)."""
    out = copy.deepcopy(env)
    root = ruleset.plan.inputs
    for name, f in root.fields.items():
        if f.required and name not in out:
            out[name] = _placeholder(f)
    return out


def _placeholder(f: Any) -> Any:
    kinds = {"boolean": False, "integer": 0, "decimal": 0, "date": "2000-01-01", "string": "x", "list": []}
    if f.kind == "object":
        return {k: _placeholder(sub) for k, sub in f.fields.items() if sub.required}
    if f.kind == "enum":
        return (f.spec.values or ("x",))[0]
    if f.kind == "string" and f.catalogue_ids:
        return f.catalogue_ids[0]
    if f.kind == "string" and f.pattern is not None:
        return "XX" if f.pattern.fullmatch("XX") else "x"
    if f.kind in ("integer", "decimal"):
        return _number_placeholder(f.spec.minimum, f.spec.maximum)
    return kinds.get(f.kind)


def _number_placeholder(minimum: Any, maximum: Any) -> int | float:
    """0, or the declared bound nearest to it (a width of at least 1 cm gets 1)."""
    value = max(Decimal(0), Decimal(minimum)) if minimum is not None else Decimal(0)
    value = min(value, Decimal(maximum)) if maximum is not None else value
    return int(value) if value == value.to_integral_value() else float(value)


def check_sufficiency(ruleset: Ruleset, config: settings, evaluate: Evaluator = core_evaluate) -> Violation | None:
    """The label and validity can be recomputed from the decision's trace alone."""
    def bad(data: dict[str, Any]) -> str | None:
        decision = evaluate(ruleset, data, resolution=_PIN).to_json()
        try:
            again = recompute(ruleset, decision, data)
        except KeyError as exc:
            return f"the trace lacks {exc}"
        stated = (decision["label"], decision["valid_from"], decision["valid_until"])
        return None if again == stated else f"the trace gives {again}, the decision says {stated}"

    return _search(assessments(ruleset), bad, config, "sufficiency", ruleset)


# -- monotonicity -------------------------------------------------------------------------------

def _optional_paths(ruleset: Ruleset, data: Any, pointer: str = "") -> list[str]:
    """JSON pointers of present optional values without a declared default (removable = unknown)."""
    out: list[str] = []
    f = field_at(ruleset.plan.inputs, pointer) if pointer else ruleset.plan.inputs
    if f is None or not isinstance(data, dict):
        return out
    members = f.fields if f.kind == "object" else f.entries
    for key, value in data.items():
        sub = members.get(key)
        if sub is None:
            continue
        child = f"{pointer}/{key}"
        if not sub.required and sub.spec.default is None:
            out.append(child)
        if sub.kind in ("object", "map"):
            out.extend(_optional_paths(ruleset, value, child))
    return out


def _remove(data: dict[str, Any], pointer: str) -> None:
    parts = pointer.split("/")[1:]
    node: Any = data
    for part in parts[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def check_information_monotonicity(ruleset: Ruleset, config: settings, evaluate: Evaluator = core_evaluate, *,
                                   exercise: Exercise | None = None) -> Violation | None:
    """Supplying missing inputs never changes a met or not_met outcome and never lowers the label.

    ``exercise`` counts the examples with an optional input to remove (the ones that test something)."""
    def strategy() -> st.SearchStrategy[tuple[dict[str, Any], list[str]]]:
        def with_removals(data: dict[str, Any]) -> st.SearchStrategy[tuple[dict[str, Any], list[str]]]:
            paths = _optional_paths(ruleset, data)
            if not paths:
                return st.just((data, []))
            return st.tuples(st.just(data), st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True))

        return assessments(ruleset, optional_absent=0).flatmap(with_removals)

    def bad(drawn: tuple[dict[str, Any], list[str]]) -> str | None:
        full, removed = drawn
        _drawn(exercise)
        partial = copy.deepcopy(full)
        for pointer in removed:
            _remove(partial, pointer)
        if not removed or ruleset.plan.validator.validate(partial)[1]:
            return None  # nothing removed, or removing made it invalid (a required field inside an optional object)
        _exercised(exercise)
        more, less = evaluate(ruleset, full, resolution=_PIN), evaluate(ruleset, partial, resolution=_PIN)
        known = {c.id: c.outcome for c in less.criteria if c.outcome != "unknown"}
        known.update({t.label: t.outcome for t in less.tiers if t.outcome != "unknown"})
        for ref, outcome in known.items():
            if more.outcome_of(ref) != outcome:
                return f"{ref} is {outcome} with {removed} missing but {more.outcome_of(ref)} when supplied"
        if _order(ruleset, more.label) < _order(ruleset, less.label):
            return f"supplying {removed} lowers the label from {less.label} to {more.label}"
        return None

    return _search(strategy(), bad, config, "information monotonicity", ruleset, example=lambda drawn: drawn[0])


def check_threshold_monotonicity(ruleset: Ruleset, config: settings, evaluate: Evaluator = core_evaluate, *,
                                 exercise: Exercise | None = None) -> Violation | None:
    """Moving one scored input (a Gold indicator) further past its threshold never lowers the label;
    nor does relaxing a threshold of the version itself: a bound between two classes of a band moved
    into the class of the lower label, a level's threshold lowered, a parameter a derived value is
    compared with moved to its passing side (:func:`relaxations`; the same assessment decided by
    the version and by the relaxed copy).

    ``exercise`` counts the examples where an input was moved and both assessments decided, and those
    that a relaxed copy decides otherwise; when no scored criterion compares an input with a numeric
    threshold and nothing can be relaxed, there is nothing to check."""
    scored = {c for score in ruleset.document.scores.values() for c in score.weights}
    targets = {cid: t for cid, t in criterion_targets(ruleset).items()
               if not isinstance(t[2], bool) and cid in scored}
    relaxed = relaxations(ruleset)
    if relaxed and exercise is not None:
        exercise.what += ", or a decision a band bound, level or derived-value threshold relaxed changes"
    if not targets:
        if not relaxed:
            if exercise is not None:
                exercise.nothing = "no criterion of a score compares one input with a numeric threshold"
            return None
        return _check_relaxations(ruleset, relaxed, config, evaluate, exercise)
    found = _check_moved_inputs(ruleset, targets, config, evaluate, exercise)
    if found is None and relaxed:
        return _check_relaxations(ruleset, relaxed, config, evaluate, exercise)
    return found


def _check_moved_inputs(ruleset: Ruleset, targets: dict[str, tuple[str, str, Any]], config: settings,
                        evaluate: Evaluator, exercise: Exercise | None) -> Violation | None:
    """One scored input moved further past its threshold never lowers the label."""
    ids = sorted(targets)

    def bad(drawn: tuple[dict[str, Any], str, int]) -> str | None:
        data, cid, steps = drawn
        _drawn(exercise)
        pointer, op, threshold = targets[cid]
        f = field_at(ruleset.plan.inputs, pointer)
        current = lookup(data, pointer)
        if f is None or current is None or not isinstance(current, (int, Decimal)) or isinstance(current, bool):
            return None
        passing = value_for(f, op, threshold, True)
        if passing is None:
            return None
        up = op in (">=", ">")
        step = Decimal(1) if f.kind == "integer" else Decimal("0.01")
        start = max(Decimal(current), Decimal(passing)) if up else min(Decimal(current), Decimal(passing))
        moved = start + step * steps if up else start - step * steps
        lo, hi = f.spec.minimum, f.spec.maximum
        if (lo is not None and moved < lo) or (hi is not None and moved > hi):
            return None
        before = copy.deepcopy(data)
        set_at(before, pointer, int(start) if f.kind == "integer" else start)
        after = copy.deepcopy(before)
        set_at(after, pointer, int(moved) if f.kind == "integer" else moved)
        if ruleset.plan.validator.validate(before)[1] or ruleset.plan.validator.validate(after)[1]:
            return None
        _exercised(exercise)
        a, b = evaluate(ruleset, before, resolution=_PIN), evaluate(ruleset, after, resolution=_PIN)
        if _order(ruleset, b.label) < _order(ruleset, a.label):
            return (f"moving {pointer} from {start} to {moved} (further past {cid}'s threshold) lowers "
                    f"{a.label} to {b.label}")
        return None

    strategy = st.tuples(assessments(ruleset), st.sampled_from(ids), st.integers(0, 30))
    return _search(strategy, bad, config, "threshold monotonicity", ruleset, example=lambda drawn: drawn[0])


@dataclass(frozen=True)
class Relaxation:
    """A copy of a version with one threshold moved to the side that passes more: ``what`` says which."""

    what: str
    ruleset: Ruleset


def relaxations(ruleset: Ruleset) -> list[Relaxation]:
    """The version's band bounds, level thresholds and parameters compared with derived values, each
    relaxed in a copy of the version (one copy each; nothing for a version without bands, levels or
    derived values, or when a relaxed copy does not load):

    * a bound between two classes of a band that lead to different labels moves halfway into the
      class of the lower label (the class of the higher label takes in more values);
    * a level's threshold (``minimum`` or ``threshold`` of a score's level) is lowered halfway to the
      level below it (by a quarter without one), when the parameter names nothing else;
    * a parameter that conditions compare derived values with, and nothing else reads, moves by a
      quarter of its value (at least 1) to the side where every such comparison passes more often.

    Tiers, groups and scores only require outcomes, so a relaxed copy may award a higher label, and
    never a lower one, unless a tier needs an outcome that the relaxation takes away."""
    doc = ruleset.document
    if not (doc.bands or doc.derived or any(s.levels for s in doc.scores.values())):
        return []
    data = yaml.safe_load(flatten(ruleset))
    out: list[Relaxation] = []
    for what, edit in [*_band_moves(ruleset), *_level_moves(ruleset), *_derived_moves(ruleset)]:
        changed = copy.deepcopy(data)
        edit(changed)
        try:
            out.append(Relaxation(what, load_ruleset_text(_dump(changed, None, False))))
        except RulesetError:
            continue
    return out


_Edit = tuple[str, Callable[[dict[str, Any]], None]]


def _ranks(ruleset: Ruleset) -> dict[str, int]:
    """For each criterion, group and score: the highest label whose tier needs it (-1: none)."""
    doc = ruleset.document
    needs: dict[str, set[str]] = {gid: set(g.all_of) for gid, g in doc.groups.items()}
    needs.update({sid: set(spec.weights) for sid, (spec, _) in score_outcomes(doc).items()})
    rank: dict[str, int] = {}

    def mark(ref: str, order: int, seen: frozenset[str] = frozenset()) -> None:
        if ref in seen:
            return
        rank[ref] = max(rank.get(ref, -1), order)
        for inner in needs.get(ref, ()):
            mark(inner, order, seen | {ref})

    for label, tier in doc.tiers.items():
        for ref in tier.requires:
            mark(ref, doc.labels.index(label))
    return rank


def _band_moves(ruleset: Ruleset) -> list[_Edit]:
    rank = _ranks(ruleset)
    out: list[_Edit] = []
    for bid in ruleset.document.bands:
        found = list(band_intervals(ruleset.document, bid).values())  # bounds naming parameters at their values
        for below, above in itertools.pairwise(found):
            low_rank, high_rank = rank.get(f"{bid}.{below.name}", -1), rank.get(f"{bid}.{above.name}", -1)
            bound = above.low
            if low_rank == high_rank or not isinstance(bound, Decimal):
                continue
            into = below if high_rank > low_rank else above  # the class of the lower label gives way
            far = into.low if into is below else into.high
            shift = abs(bound - far) / 2 if isinstance(far, Decimal) else max(abs(bound) / 4, Decimal(1))
            moved = bound - shift if into is below else bound + shift
            texts = {below.name: _interval_text(replace(below, high=moved)),
                     above.name: _interval_text(replace(above, low=moved))}
            what = f"{bid}: the bound between {below.name} and {above.name} moved from {plain(bound)} to {plain(moved)}"
            out.append((what, functools.partial(_set_classes, bid, texts)))
    return out


def _set_classes(bid: str, texts: dict[str, str], data: dict[str, Any]) -> None:
    classes = data["bands"][bid]["classes"]
    for name, bounds in texts.items():
        if isinstance(classes[name], dict):  # {bounds, clause, source}: the bounds only
            classes[name]["bounds"] = bounds
        else:
            classes[name] = bounds


def _interval_text(i: Interval) -> str:
    """An interval of numbers as a band's table writes it (``(41..51]``, ``<= 41``, ``> 125``)."""
    if i.low is None and isinstance(i.high, Decimal):
        return f"{'<=' if i.high_closed else '<'} {plain(i.high)}"
    if i.high is None and isinstance(i.low, Decimal):
        return f"{'>=' if i.low_closed else '>'} {plain(i.low)}"
    assert isinstance(i.low, Decimal)
    assert isinstance(i.high, Decimal)
    return f"{'[' if i.low_closed else '('}{plain(i.low)}..{plain(i.high)}{']' if i.high_closed else ')'}"


def _parameter_texts(ruleset: Ruleset) -> str:
    """Every expression of the version, one a line (where a parameter may be read)."""
    doc = ruleset.document
    texts = [c.when for c in doc.criteria.values()] + [d.value for d in doc.derived.values()]
    texts += [doc.validity.valid_from] + [t for r in doc.validity.rules for t in (r.when, r.valid_until) if t]
    return "\n".join(texts)


def _uses(texts: str, name: str) -> int:
    return len(re.findall(rf"\bparams\.{re.escape(name)}\b", texts))


def _level_moves(ruleset: Ruleset) -> list[_Edit]:
    doc = ruleset.document
    texts = _parameter_texts(ruleset)
    out: list[_Edit] = []
    for sid, score in doc.scores.items():
        named = [(lid, "minimum" if level.minimum is not None else "threshold", level.minimum or level.threshold)
                 for lid, level in score.levels.items()]
        for lid, kind, name in named:
            if name is None or _uses(texts, name) or sum(n == name for _, _, n in named) > 1:
                continue
            value = Decimal(str(doc.parameters[name].value))
            lower = [Decimal(str(doc.parameters[n].value)) for _, k, n in named if k == kind and n is not None]
            below = max((v for v in lower if v < value), default=None)
            moved = value - ((value - below) / 2 if below is not None else abs(value) / 4)
            what = f"{sid}.{lid}: the {kind} {name} lowered from {plain(value)} to {plain(moved)}"
            out.append((what, functools.partial(_set_parameter, name, _like(doc.parameters[name].value, moved))))
    return out


def _derived_moves(ruleset: Ruleset) -> list[_Edit]:
    doc = ruleset.document
    texts = _parameter_texts(ruleset)
    found = comparisons(ruleset)
    out: list[_Edit] = []
    for name, ways in sorted(_derived_directions(ruleset, found).items()):
        value = doc.parameters[name].value if name in doc.parameters else None
        if len(ways) != 1 or 0 in ways or not isinstance(value, (int, Decimal)) or isinstance(value, bool):
            continue
        count = sum(1 for c in found for n in (c.left, c.right) if _parameter_name(n) == name)
        if _uses(texts, name) != count:
            continue  # read elsewhere too (in a derived value, a validity rule): no one side to move it to
        number = Decimal(str(value))
        moved = number + next(iter(ways)) * max(abs(number) / 4, Decimal(1))
        what = f"the parameter {name}, compared with a derived value, moved from {plain(number)} to {plain(moved)}"
        out.append((what, functools.partial(_set_parameter, name, _like(value, moved))))
    return out


def _derived_directions(ruleset: Ruleset, found: list[Comparison]) -> dict[str, set[int]]:
    """Each parameter compared with something that reads a derived value, and which way it passes
    more often: -1 lower (``value >= p``), 1 higher (``value <= p``), 0 neither (``==``)."""
    derived = ruleset.document.derived
    directions: dict[str, set[int]] = {}
    for c in found:
        for side, other, op in ((c.left, c.right, c.op), (c.right, c.left, _FLIP.get(c.op))):
            name = _parameter_name(other)
            if name is None or op is None or not any(isinstance(n, ast.Name) and n.id in derived
                                                     for n in ast.walk(side)):
                continue
            directions.setdefault(name, set()).add(-1 if op in (">=", ">") else 1 if op in ("<=", "<") else 0)
    return directions


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


def _parameter_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "params":
        return node.attr
    return None


def _like(original: Any, moved: Decimal) -> Any:
    """``moved`` as YAML writes a number like ``original`` (a whole number stays one when it can)."""
    if isinstance(original, int) and moved == moved.to_integral_value():
        return int(moved)
    return float(moved) if moved == Decimal(repr(float(moved))) else str(moved)


def _set_parameter(name: str, value: Any, data: dict[str, Any]) -> None:
    data["parameters"][name]["value"] = value


def _check_relaxations(ruleset: Ruleset, relaxed: list[Relaxation], config: settings, evaluate: Evaluator,
                       exercise: Exercise | None) -> Violation | None:
    """No relaxed copy decides an assessment with a lower label than the version: every relaxed copy
    on each assessment synth aims at the thresholds (those of derived values too), then a search
    over generated assessments, each with one relaxed copy."""
    def compare(data: dict[str, Any], decided: Decision, move: Relaxation) -> str | None:
        _drawn(exercise)
        other = evaluate(move.ruleset, data, resolution=_PIN)
        if other.label != decided.label or [c.outcome for c in other.criteria] != [c.outcome for c in decided.criteria]:
            _exercised(exercise)
        if _order(ruleset, other.label) < _order(ruleset, decided.label):
            return f"with {move.what}, the label falls from {decided.label} to {other.label}"
        return None

    for data in _near_thresholds(ruleset, min(config.max_examples or 0, NEAR_THRESHOLDS)):
        decided = evaluate(ruleset, data, resolution=_PIN)
        for move in relaxed:
            message = compare(data, decided, move)
            if message is not None:
                return Violation("threshold monotonicity", message, ruleset=str(ruleset), assessment=data)

    def bad(drawn: tuple[dict[str, Any], int]) -> str | None:
        data, index = drawn
        return compare(data, evaluate(ruleset, data, resolution=_PIN), relaxed[index])

    strategy = st.tuples(assessments(ruleset), st.integers(0, len(relaxed) - 1))
    return _search(strategy, bad, config, "threshold monotonicity", ruleset, example=lambda drawn: drawn[0])


#: At most this many assessments from synth for the relaxed thresholds (its values lie on both sides
#: of every threshold, those of derived values included, where the generic strategy rarely reaches).
NEAR_THRESHOLDS = 60


def _near_thresholds(ruleset: Ruleset, n: int) -> list[dict[str, Any]]:
    """``n`` (at least 1) assessments synth draws for the version (seed 0, dated in the year from its
    start), their values aimed at the thresholds of every condition."""
    from ecei_rules.testing.synth import synthesize

    start = ruleset.document.effective_from
    return list(synthesize(max(n, 1), seed=0, start=start, end=start + dt.timedelta(days=365),
                           methodology=ruleset.methodology, versions=[ruleset]))


# -- between versions ---------------------------------------------------------------------------

def check_bump_honesty(old: Ruleset, new: Ruleset, config: settings, *,
                       exercise: Exercise | None = None) -> Violation | None:
    """For a minor or patch bump, no input valid under the old version is decided differently.

    ``exercise`` is told when there is nothing to check (a major bump allows any change)."""
    from ecei_rules.compare.bump import declared_bump
    from ecei_rules.testing.counterexample import find_counterexample

    bump = declared_bump(old.version, new.version)
    if bump in ("major", "none"):
        if exercise is not None:
            exercise.nothing = (f"{old.version} -> {new.version} is a major bump, which allows any change"
                                if bump == "major" else f"{old.version} -> {new.version} is not a bump")
        return None
    if exercise is not None:
        exercise.drawn = exercise.exercised = config.max_examples or 0
    example, _ = find_counterexample(old, new, max_examples=config.max_examples)
    if example is None:
        return None
    new_label = example.new.label if example.new else "invalid"
    return Violation("bump honesty", f"a {declared_bump(old.version, new.version)} bump, yet {old.version} decides "
                     f"{example.old.label} and {new.version} {new_label}", ruleset=f"{old} -> {new}",
                     assessment=example.assessment)


def check_attribution(old: Ruleset, new: Ruleset, config: settings, evaluate: Evaluator = core_evaluate,
                      diff_fn: Callable[[Ruleset, Ruleset], Any] | None = None, *,
                      exercise: Exercise | None = None) -> Violation | None:
    """Where two versions decide differently, every criterion whose outcome differs is changed or new.

    ``exercise`` counts the examples the two versions decide differently (the ones that test something)."""
    from ecei_rules.compare.bump import changed_criteria
    from ecei_rules.compare.diff import semantic_diff
    from ecei_rules.ruleset.inputs import project

    changed = changed_criteria((diff_fn or semantic_diff)(old, new))

    def bad(data: dict[str, Any]) -> str | None:
        _drawn(exercise)
        projected, _ = project(data, new.plan.inputs)
        normal, problems = new.plan.validator.validate(projected)
        if problems:
            return None
        a, b = evaluate(old, data, resolution=_PIN), evaluate(new, normal, resolution=_PIN)
        if (a.label, a.valid_from, a.valid_until) == (b.label, b.valid_from, b.valid_until):
            return None
        _exercised(exercise)
        outcomes_a = {c.id: c.outcome for c in a.criteria}
        outcomes_b = {c.id: c.outcome for c in b.criteria}
        differing = {c for c in outcomes_a.keys() | outcomes_b.keys() if outcomes_a.get(c) != outcomes_b.get(c)}
        unexplained = sorted(differing - changed)
        return f"criteria {unexplained} decide differently but the diff does not report them" if unexplained else None

    return _search(assessments(old, also=(new,)), bad, config, "attribution", old)


#: The checks that can test nothing, and what an example must reach to test something.
_EXERCISES = {
    "information monotonicity": "an optional input to remove",
    "threshold monotonicity": "an input moved past a score criterion's threshold",
    "bump honesty": "a minor or patch bump",
    "attribution": "a decision the two versions make differently",
}


@dataclass
class VerifyResult:
    """One property run on one version (or pair) of a methodology."""

    methodology: str
    target: str  # a version, or "old -> new"
    property: str
    violation: Violation | None
    seconds: float
    vacuous: str | None = None  # "vacuous: ..." when the check tested nothing (see Exercise)


def verify_registry(registry: Any, *, max_examples: int = 100,
                    progress: Callable[[VerifyResult], None] | None = None) -> list[VerifyResult]:
    """Run every property over every version and consecutive pair of every methodology in a registry."""
    import functools
    import itertools
    import time

    results: list[VerifyResult] = []
    config = search_settings(max_examples)

    def run(methodology: str, target: str, name: str, check: Callable[..., Violation | None]) -> None:
        start = time.perf_counter()
        what = _EXERCISES.get(name)
        exercise = Exercise(what) if what is not None else None
        violation = check(exercise=exercise) if exercise is not None else check()
        vacuous = exercise.vacuous() if exercise is not None and violation is None else None
        result = VerifyResult(methodology, target, name, violation, time.perf_counter() - start, vacuous)
        results.append(result)
        if progress is not None:
            progress(result)

    for methodology in registry.methodologies():
        versions = registry.versions(methodology)
        hash_config = search_settings(min(max_examples, 12))
        for version in versions:
            r = registry.load(methodology, version)
            checks: list[tuple[str, Callable[..., Violation | None]]] = [
                ("determinism", functools.partial(check_determinism, r, config)),
                ("replay", functools.partial(check_replay, r, config)),
                ("content hash", functools.partial(check_hash_invariance, flatten(r), hash_config)),
                ("sufficiency", functools.partial(check_sufficiency, r, config)),
                ("information monotonicity", functools.partial(check_information_monotonicity, r, config)),
                ("threshold monotonicity", functools.partial(check_threshold_monotonicity, r, config)),
            ]
            for name, check in checks:
                run(methodology, version, name, check)
        for old_v, new_v in itertools.pairwise(versions):
            old, new = registry.load(methodology, old_v), registry.load(methodology, new_v)
            pair = f"{old_v} -> {new_v}"
            run(methodology, pair, "bump honesty", functools.partial(check_bump_honesty, old, new, config))
            run(methodology, pair, "attribution", functools.partial(check_attribution, old, new, config))
    return results


# --- saving what a check found, each counterexample as an assessment file to re-run ---


def counterexample_name(number: int, result: VerifyResult) -> str:
    """The file name of a counterexample: ``NN-methodology-target-property.json``."""
    target = result.target.replace(" -> ", "-to-")
    return f"{number:02d}-{result.methodology}-{target}-{result.property.replace(' ', '-')}.json"


def save_counterexamples(results: Iterable[VerifyResult], out: Path) -> list[Path]:
    """Write the assessment of each result that has a counterexample to ``out`` (created if absent),
    one indented JSON file each, numbered in order; return their paths (none written: an empty list)."""
    failed = [r for r in results if r.violation is not None]
    saved: list[Path] = []
    if failed:
        out.mkdir(parents=True, exist_ok=True)
    for number, result in enumerate(failed, 1):
        assert result.violation is not None
        path = out / counterexample_name(number, result)
        path.write_text(json.dumps(result.violation.to_json()["assessment"], indent=2) + "\n", encoding="utf-8")
        saved.append(path)
    return saved
