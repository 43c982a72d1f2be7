"""The semver policy for methodologies, and the check that a declared bump tells the truth.

* PATCH: identical input schema, and identical decisions (label, valid_from, valid_until)
  for every valid input.
* MINOR: the input schema only gains optional fields (or widens), and every input valid
  under the old version gets the same decision under the new one.
* MAJOR: anything else.

The required bump comes first from the semantic diff (a breaking schema change is major;
no decision-relevant change is a patch) and is then confirmed by a search for a
counterexample: an assessment valid under the old version, projected onto the new one's
inputs, whose decision differs. The search tries the cheapest ways first (the embedded tests, a
walk towards the thresholds that changed, then generated assessments), within a budget of
assessments the user sets, and makes what it finds smaller.

This module is the static part (the declared bump, the semantic diff and what its changes
require) and the reports; the search is a test tool (it needs hypothesis) and lives in
``ecei_rules.testing.counterexample``, which also composes the two as ``bump_check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import semver

from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.core.canonical import to_json
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset

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


def decision_key(d: Decision) -> tuple[str, Any, Any]:
    """What the semver policy compares of a decision: label, ``valid_from``, ``valid_until``."""
    return (d.label, d.valid_from, d.valid_until)


#: the resolution of every decision a bump check makes (both versions pinned)
PIN = Resolution(method="pinned", reason="bump check")


def changed_criteria(diff: Diff) -> set[str]:
    """Criteria whose outcome may differ: changed, added or removed, reading a changed parameter
    or a changed derived value (or one that reads such a value or parameter), or weighed differently;
    every criterion when ``unknowns`` changes."""
    out = diff.changed_ids("criteria")
    if any(c.id == "unknowns" for c in diff.section("metadata")):  # ranges opted in or out: any may differ
        out.update(c.id for ruleset in (diff.old, diff.new) for c in ruleset.plan.criteria)
    params = diff.changed_ids("parameters")
    for ruleset in (diff.old, diff.new):
        derived = _changed_derived(diff, ruleset, params)
        for c in ruleset.plan.criteria:
            if c.compiled.params & params or derived.intersection(c.derived):
                out.add(c.id)
    for change in diff.section("scores"):
        if change.attribute and change.attribute.startswith("weight of "):
            out.add(change.attribute.removeprefix("weight of "))
    return out


def _changed_derived(diff: Diff, ruleset: Ruleset, params: set[str]) -> set[str]:
    """The derived values of ``ruleset`` that may differ: changed, or reading a changed parameter
    or a changed derived value."""
    derived = diff.changed_ids("derived")
    for d in ruleset.plan.derived:  # in dependency order: what a changed value reads is seen first
        if d.compiled.params & params or derived.intersection(d.derived):
            derived.add(d.id)
    return derived


def outcome(decision: Decision, ref: str) -> str:
    """The outcome of a criterion, group or score in a decision, ``unknown`` where it has none."""
    try:
        return decision.outcome_of(ref)
    except KeyError:
        return "unknown"


def counterexample_of(old: Ruleset, new: Ruleset, found: dict[str, Any]) -> Counterexample:
    """The counterexample an assessment makes: decided under ``old`` as is, under ``new`` once projected
    onto its inputs (None, with the problems, where ``new`` rejects it)."""
    projected, ignored = project(found, new.plan.inputs)
    normal, problems = new.plan.validator.validate(projected)
    old_decision = evaluate(old, found, resolution=PIN)
    new_decision = None if problems else evaluate(new, normal, resolution=PIN)
    return Counterexample(found, tuple(ignored), old_decision, new_decision,
                          tuple(f"{p.pointer}: {p.message}" for p in problems))


class CounterexampleSearch(Protocol):
    """A search for an assessment valid under ``old`` that ``new`` decides differently: the counterexample
    (or None) and how many assessments it tried. With ``require_valid`` False, an assessment the new
    version rejects also counts. ``ecei_rules.testing.counterexample.find_counterexample`` is one."""

    def __call__(self, old: Ruleset, new: Ruleset, *, max_examples: int = ...,
                 require_valid: bool = ...) -> tuple[Counterexample | None, int]: ...


def required_bump(old: Ruleset, new: Ruleset) -> BumpReport:
    """The static part of a bump check: the declared bump, and the bump the semantic diff's changes
    require, with the reasons (no search yet: ``counterexample`` is None, ``searched`` 0)."""
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
    return report


def confirm(report: BumpReport, search: CounterexampleSearch, *, max_examples: int = 500) -> BumpReport:
    """Confirm a static report by a search for a counterexample: a full search where decisions may
    change, a short one otherwise, and one that counts rejected assessments too where the schema breaks.
    A counterexample makes the bump major. Returns the report, completed."""
    old, new, diff = report.old, report.new, report.diff
    deciding = bool(diff.decision_changes)
    example, tried = search(old, new, max_examples=max_examples if deciding else max_examples // 4)
    if example is None and diff.schema_effect == "breaking":
        example, more = search(old, new, max_examples=max_examples // 4, require_valid=False)
        tried += more
    report.searched = tried
    if example is not None:
        report.counterexample = example
        report.required = "major"
        shown = example.new.label if example.new else "rejects it (" + "; ".join(example.new_problems[:2]) + ")"
        report.reasons.append(f"counterexample: {old.version} decides {example.old.label}, {new.version} {shown}")
    else:
        report.reasons.append(f"no counterexample in {tried} assessments searched")
    return report


def _at_least(current: Bump, floor: Bump) -> Bump:
    return floor if _ORDER[floor] > _ORDER[current] else current
