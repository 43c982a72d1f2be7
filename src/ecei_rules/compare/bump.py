"""The semver policy for methodologies, and the check that a declared bump tells the truth.

* PATCH: identical input schema, and identical decisions (label, valid_from, valid_until)
  for every valid input.
* MINOR: the input schema only gains optional fields (or widens), and every input valid
  under the old version gets the same decision under the new one.
* MAJOR: anything else.

The required bump comes first from the semantic diff (a breaking schema change is major;
no decision-relevant change is a patch) and is then confirmed by a hypothesis search for a
counterexample: an assessment valid under the old version, projected onto the new one's
inputs, whose decision differs. Hypothesis shrinks what it finds to a small example.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import semver
from hypothesis import HealthCheck, Verbosity, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import set_at
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.analysis import criterion_targets, field_at, passes, value_for
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset, test_assessment
from ecei_rules.testing.strategies import assessments

Bump = Literal["patch", "minor", "major"]
_ORDER: dict[str, int] = {"none": 0, "patch": 1, "minor": 2, "major": 3}


def declared_bump(old: str, new: str) -> Literal["patch", "minor", "major", "none"]:
    """The bump a pair of versions declares (``none`` when the new one is not greater)."""
    a, b = semver.Version.parse(old), semver.Version.parse(new)
    if b <= a:
        return "none"
    if b.major != a.major:
        return "major"
    if b.minor != a.minor:
        return "minor"
    return "patch"


@dataclass(frozen=True)
class Counterexample:
    """An assessment on which two versions decide differently (or the new one rejects)."""

    assessment: dict[str, Any]
    ignored: tuple[str, ...]  # JSON pointers the new version does not declare (projected away)
    old: Decision
    new: Decision | None  # None when the projected assessment is invalid under the new version
    new_problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The counterexample as JSON: the assessment and both decisions' label and validity."""
        def brief(d: Decision | None) -> Any:
            if d is None:
                return None
            return {"version": d.version, "label": d.label, "valid_from": to_json(d.valid_from),
                    "valid_until": to_json(d.valid_until)}

        return {"assessment": to_json(self.assessment), "ignored": list(self.ignored), "old": brief(self.old),
                "new": brief(self.new), "new_problems": list(self.new_problems)}


@dataclass
class BumpReport:
    """What bump a pair of versions needs, what it declares, and why."""

    old: Ruleset
    new: Ruleset
    diff: Diff
    declared: Literal["patch", "minor", "major", "none"]
    required: Bump
    reasons: list[str] = field(default_factory=list)
    counterexample: Counterexample | None = None
    searched: int = 0

    @property
    def ok(self) -> bool:
        """True when the declared bump is at least the required one."""
        return self.declared != "none" and _ORDER[self.declared] >= _ORDER[self.required]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {"old": self.old.version, "new": self.new.version, "declared": self.declared,
                "required": self.required, "ok": self.ok, "reasons": self.reasons, "examples_searched": self.searched,
                "counterexample": self.counterexample.to_json() if self.counterexample else None}


def _key(d: Decision) -> tuple[str, Any, Any]:
    return (d.label, d.valid_from, d.valid_until)


_PIN = Resolution(method="pinned", reason="bump check")


def _changed_criteria(diff: Diff) -> set[str]:
    """Criteria whose outcome may differ: changed, added or removed, reading a changed parameter,
    or weighed differently."""
    out = diff.changed_ids("criteria")
    params = diff.changed_ids("parameters")
    for ruleset in (diff.old, diff.new):
        for c in ruleset.plan.criteria:
            if c.compiled.params & params:
                out.add(c.id)
    for change in diff.section("scores"):
        if change.attribute and change.attribute.startswith("weight of "):
            out.add(change.attribute.removeprefix("weight of "))
    return out


class _Walk:
    """A directed search: from a seed where a changed criterion decides differently, pass the tier's
    other requirements and move its score towards the threshold until the two versions disagree."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: set[str]) -> None:
        self.old, self.new, self.changed = old, new, changed
        self.targets = {**criterion_targets(new), **criterion_targets(old)}

    def decide(self, data: dict[str, Any]) -> tuple[Decision, Decision | None]:
        projected, _ = project(data, self.new.plan.inputs)
        normal, problems = self.new.plan.validator.validate(projected)
        new = None if problems else evaluate(self.new, normal, resolution=_PIN)
        return evaluate(self.old, data, resolution=_PIN), new

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
            if _key(old) != _key(new):
                return data
            if not self.step(data, old, new):
                return None
        return None

    def step(self, data: dict[str, Any], old: Decision, new: Decision) -> bool:
        for label in reversed(self.new.document.labels):
            scores: list[str] = []
            others: list[str] = []
            for ruleset in (self.old, self.new):
                tier = ruleset.document.tiers.get(label)
                if tier is None:
                    continue
                for ref in self._expand(ruleset, tier.requires):
                    (scores if ref in ruleset.document.scores else others).append(ref)
            if not any(self.changed & set(self._weights(s)) for s in scores) and not self.changed & set(others):
                continue
            # every other requirement of the tier met in both versions
            for cid in others:
                if cid not in self.changed and (_outcome(old, cid) != "met" or _outcome(new, cid) != "met") \
                        and self.flip(data, cid, True):
                    return True
            for sid in scores:
                a, b = _outcome(old, sid), _outcome(new, sid)
                weights = self._weights(sid)
                if a == b == "met":
                    # lower the score: fail a criterion met in both, lightest first
                    for cid in sorted(weights, key=lambda c: weights[c]):
                        if _outcome(old, cid) == _outcome(new, cid) == "met" and self.flip(data, cid, False):
                            return True
                elif a != "met" and b != "met":
                    for cid in sorted(weights, key=lambda c: weights[c]):
                        if (_outcome(old, cid) != "met" or _outcome(new, cid) != "met") and self.flip(data, cid, True):
                            return True
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


def _outcome(decision: Decision, ref: str) -> str:
    try:
        return decision.outcome_of(ref)
    except KeyError:
        return "unknown"


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
    changed = _changed_criteria(diff)
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
        a, b = evaluate(old, data, resolution=_PIN), evaluate(new, normal, resolution=_PIN)
        if _key(a) != _key(b):
            return True
        if len(seeds) < authored + 40 and any(_outcome(a, c) != _outcome(b, c) for c in changed):
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
    projected, ignored = project(found, new.plan.inputs)
    normal, problems = new.plan.validator.validate(projected)
    old_decision = evaluate(old, found, resolution=_PIN)
    new_decision = None if problems else evaluate(new, normal, resolution=_PIN)
    return Counterexample(found, tuple(ignored), old_decision, new_decision,
                          tuple(f"{p.pointer}: {p.message}" for p in problems)), tried


def bump_check(old: Ruleset, new: Ruleset, *, max_examples: int = 2000) -> BumpReport:
    """Work out the bump ``old`` -> ``new`` requires and compare it with the declared one."""
    diff = semantic_diff(old, new)
    report = BumpReport(old, new, diff, declared_bump(old.version, new.version), "patch")
    if old.methodology != new.methodology:
        report.required = "major"
        report.reasons.append(f"the methodology changes ({old.methodology} -> {new.methodology})")
    schema = diff.schema_effect
    if schema == "breaking":
        report.required = "major"
        breaking = [c.describe() for c in diff.changes if c.schema == "breaking"]
        report.reasons.append(f"the input schema changes incompatibly ({len(breaking)} change(s), e.g. "
                              + "; ".join(breaking[:3]) + ")")
    elif schema == "compatible":
        report.required = _at_least(report.required, "minor")
        report.reasons.append("the input schema gains optional fields")
    deciding = diff.decision_changes
    if deciding:
        report.required = _at_least(report.required, "minor")
        report.reasons.append(f"{len(deciding)} change(s) can alter decisions, e.g. "
                              + "; ".join(c.describe() for c in deciding[:3]))
    else:
        report.reasons.append("no change can alter a decision (metadata and explanations only)")
    # confirm by search: a full search where decisions may change, a short one otherwise
    example, tried = find_counterexample(old, new, max_examples=max_examples if deciding else max_examples // 4)
    if example is None and schema == "breaking":
        example, more = find_counterexample(old, new, max_examples=max_examples // 4, require_valid=False)
        tried += more
    report.searched = tried
    if example is not None:
        report.counterexample = example
        report.required = "major"
        outcome = example.new.label if example.new else "rejects it (" + "; ".join(example.new_problems[:2]) + ")"
        report.reasons.append(f"counterexample: {old.version} decides {example.old.label}, {new.version} {outcome}")
    else:
        report.reasons.append(f"no counterexample in {tried} generated assessments")
    return report


def _at_least(current: Bump, floor: Bump) -> Bump:
    return floor if _ORDER[floor] > _ORDER[current] else current
