"""The counterexample search of a bump check (a test tool: it needs hypothesis and the strategies).

``find_counterexample`` searches an assessment valid under the old version that the new one
decides differently: first a shrinking hypothesis search over assessments drawn at and around
both versions' thresholds, then, if that found nothing, a directed walk from seeds where a
changed criterion decided differently. ``bump_check`` composes the static part of the check
(``ecei_rules.compare.bump``) with this search. The library reaches this module only from
inside a function (the command line's ``bump-check`` and ``lint``), so importing the library
never imports hypothesis.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Verbosity, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from ecei_rules.compare.bump import (
    PIN,
    BumpReport,
    Counterexample,
    changed_criteria,
    confirm,
    counterexample_of,
    decision_key,
    outcome,
    required_bump,
)
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.core.pointers import set_at
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.analysis import criterion_targets, field_at, passes, value_for
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset, test_assessment
from ecei_rules.testing.strategies import assessments


def bump_check(old: Ruleset, new: Ruleset, *, max_examples: int = 2000) -> BumpReport:
    """Work out the bump ``old`` -> ``new`` requires and compare it with the declared one: the static
    analysis of the semantic diff (``ecei_rules.compare.bump.required_bump``), confirmed by a search for
    a counterexample of at most ``max_examples`` generated assessments."""
    return confirm(required_bump(old, new), find_counterexample, max_examples=max_examples)


class _Walk:
    """A directed search: from a seed where a changed criterion decides differently, pass the tier's
    other requirements and move its score towards the threshold until the two versions disagree."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: set[str]) -> None:
        self.old, self.new, self.changed = old, new, changed
        self.targets = {**criterion_targets(new), **criterion_targets(old)}

    def decide(self, data: dict[str, Any]) -> tuple[Decision, Decision | None]:
        projected, _ = project(data, self.new.plan.inputs)
        normal, problems = self.new.plan.validator.validate(projected)
        new = None if problems else evaluate(self.new, normal, resolution=PIN)
        return evaluate(self.old, data, resolution=PIN), new

    def flip(self, data: dict[str, Any], cid: str, passing: bool) -> bool:
        target = self.targets.get(cid)
        if target is None or cid in self.changed:
            return False
        pointer, op, threshold = target
        f = field_at(self.old.plan.inputs, pointer)
        if f is None:
            return False
        value = value_for(f, op, threshold, passing)
        if value is None:
            return False
        trial = copy.deepcopy(data)
        set_at(trial, pointer, value)
        if self.old.plan.validator.validate(trial)[1]:
            return False
        data.clear()
        data.update(trial)
        return True

    def aim(self, data: dict[str, Any]) -> None:
        """Put each changed criterion's input where the two versions' thresholds disagree."""
        old_targets, new_targets = criterion_targets(self.old), criterion_targets(self.new)
        for cid in sorted(self.changed):
            a, b = old_targets.get(cid), new_targets.get(cid)
            if a is None or b is None or a[0] != b[0] or isinstance(a[2], bool) or isinstance(b[2], bool):
                continue
            f = field_at(self.old.plan.inputs, a[0])
            if f is None:
                continue
            for threshold in (a[2], b[2]):
                for passing in (True, False):
                    value = value_for(f, a[1], threshold, passing)
                    if value is None:
                        continue
                    v = Decimal(value)
                    if passes(a[1], v, a[2]) != passes(b[1], v, b[2]):
                        trial = copy.deepcopy(data)
                        set_at(trial, a[0], value)
                        if not self.old.plan.validator.validate(trial)[1]:
                            data.clear()
                            data.update(trial)
                            break
                else:
                    continue
                break

    def run(self, seed: dict[str, Any], steps: int = 80) -> dict[str, Any] | None:
        data = copy.deepcopy(seed)
        self.aim(data)
        for _ in range(steps):
            old, new = self.decide(data)
            if new is None:
                return None
            if decision_key(old) != decision_key(new):
                return data
            if not self.step(data, old, new):
                return None
        return None

    def step(self, data: dict[str, Any], old: Decision, new: Decision) -> bool:
        """One move towards a disagreement, from the highest label down; False when none is left."""
        for label in reversed(self.new.document.labels):
            scores, others = self._requirements(label)
            if not any(self.changed & set(self._weights(s)) for s in scores) and not self.changed & set(others):
                continue
            if self._meet_others(data, others, old, new) or any(self._move_score(data, sid, old, new)
                                                               for sid in scores):
                return True
        return False

    def _requirements(self, label: str) -> tuple[list[str], list[str]]:
        """The scores and the other requirements (groups expanded) of a tier, in both versions."""
        scores: list[str] = []
        others: list[str] = []
        for ruleset in (self.old, self.new):
            tier = ruleset.document.tiers.get(label)
            if tier is None:
                continue
            for ref in self._expand(ruleset, tier.requires):
                (scores if ref in ruleset.document.scores else others).append(ref)
        return scores, others

    def _meet_others(self, data: dict[str, Any], others: list[str], old: Decision, new: Decision) -> bool:
        """Meet, in both versions, one unchanged requirement of the tier that is not met in either."""
        return any(cid not in self.changed and (outcome(old, cid) != "met" or outcome(new, cid) != "met")
                   and self.flip(data, cid, True) for cid in others)

    def _move_score(self, data: dict[str, Any], sid: str, old: Decision, new: Decision) -> bool:
        """Move a score towards its threshold: met in both, fail a criterion met in both (lightest
        first); met in neither, meet a criterion not met in one of them."""
        a, b = outcome(old, sid), outcome(new, sid)
        weights = self._weights(sid)
        lightest = sorted(weights, key=lambda c: weights[c])
        if a == b == "met":
            return any(outcome(old, cid) == outcome(new, cid) == "met" and self.flip(data, cid, False)
                       for cid in lightest)
        if a != "met" and b != "met":
            return any((outcome(old, cid) != "met" or outcome(new, cid) != "met") and self.flip(data, cid, True)
                       for cid in lightest)
        return False

    def _expand(self, ruleset: Ruleset, refs: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for ref in refs:
            group = ruleset.document.groups.get(ref)
            out.extend(self._expand(ruleset, group.all_of) if group else [ref])
        return out

    def _weights(self, sid: str) -> dict[str, Any]:
        weights: dict[str, Any] = {}
        for ruleset in (self.old, self.new):
            score = ruleset.document.scores.get(sid)
            if score is not None:
                weights.update(score.weights)
        return weights


def find_counterexample(old: Ruleset, new: Ruleset, *, max_examples: int = 2000,
                        require_valid: bool = True) -> tuple[Counterexample | None, int]:
    """Search an assessment valid under ``old`` that ``new`` decides differently.

    First a shrinking hypothesis search (values straddling both versions' thresholds); then, if
    that found nothing, a directed walk from the seeds where a changed criterion decided
    differently. With ``require_valid`` False, an assessment the new version rejects also counts.
    Returns the counterexample (or None) and the number of examples tried.
    """
    tried = 0
    diff = semantic_diff(old, new)
    changed = changed_criteria(diff)
    # the old version's own embedded tests are the first seeds: authored cases of every tier
    seeds: list[dict[str, Any]] = []
    for index in range(len(old.document.tests)):
        example = test_assessment(old.document, index)
        if not old.plan.validator.validate(example)[1]:
            seeds.append(example)
    authored = len(seeds)

    def differs(data: dict[str, Any]) -> bool:
        nonlocal tried
        tried += 1
        projected, _ = project(data, new.plan.inputs)
        normal, problems = new.plan.validator.validate(projected)
        if problems:
            return not require_valid
        a, b = evaluate(old, data, resolution=PIN), evaluate(new, normal, resolution=PIN)
        if decision_key(a) != decision_key(b):
            return True
        if len(seeds) < authored + 40 and any(outcome(a, c) != outcome(b, c) for c in changed):
            seeds.append(copy.deepcopy(data))
        return False

    config = settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    found: dict[str, Any] | None
    try:
        found = find(assessments(old, also=(new,)), differs, settings=config)
    except (NoSuchExample, Unsatisfiable):
        found = None
    if found is None and require_valid:
        walk = _Walk(old, new, changed)
        for seed in seeds:
            tried += 1
            found = walk.run(seed)
            if found is not None:
                break
    if found is None:
        return None, tried
    return counterexample_of(old, new, found), tried
