"""The semver policy for methodologies, and the check that a declared bump tells the truth.

* PATCH: identical input schema, and identical decisions (label, valid_from, valid_until)
  for every valid input.
* MINOR: the input schema only gains optional fields (or widens), and every input valid
  under the old version gets the same decision under the new one.
* MAJOR: anything else.

The required bump comes from the semantic diff: a breaking schema change is major; no
decision-relevant change is a patch; and a change to what the old version's decisions are
worked out from is major, because nothing proves that every decision stays the same: a changed
or removed parameter, table entry, derived value, criterion, group, score or band that a
tier, a score or a validity rule reads (through derived values and tables too), a changed tier
or validity rule, the old labels in another order. What only adds to a version (new optional
inputs, parameters, criteria, tiers, a new label among the old ones) requires a minor bump,
unless the search finds an old assessment that it decides differently.

The search for a counterexample then confirms it: an assessment valid under the old version,
projected onto the new one's inputs, whose decision differs. A counterexample always means
major (an addition that reaches old assessments too); a search that finds none never lowers
the bump the diff requires, and the report says so (``required major: <the change> can change
decisions; no counterexample found within N examples``). The search tries the cheapest ways
first (the embedded tests, a walk towards the thresholds that changed, a bisection along each
input that reaches a changed threshold through derived values and tables, then generated
assessments), within a budget of assessments the user sets, and makes what it finds smaller.

This module is the static part (the declared bump, the semantic diff and what its changes
require) and the reports; the search is a test tool (it needs hypothesis) and lives in
``ecei_rules.testing.counterexample``, which also composes the two as ``bump_check``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import semver

from ecei_rules.compare.diff import Change, Diff, semantic_diff
from ecei_rules.core.canonical import to_json
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.check import GroupPlan, ScorePlan
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
    #: the changes to what the old version's decisions are worked out from (see ``altering_changes``)
    altering: list[Change] = field(default_factory=list)

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
    require, with the reasons (no search yet: ``counterexample`` is None, ``searched`` 0). A change
    to what the old version's decisions are worked out from (``altering_changes``) requires major."""
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
    deciding = distinct_changes(diff.decision_changes)
    if deciding:
        report.required = _at_least(report.required, "minor")
        report.reasons.append(f"{len(deciding)} change(s) can alter decisions, e.g. "
                              + "; ".join(c.describe() for c in deciding[:3]))
    else:
        report.reasons.append("no change can alter a decision (metadata and explanations only)")
    report.altering = altering_changes(diff)
    if report.altering:
        report.required = "major"
        report.reasons.append(f"{len(report.altering)} of them change what the old version's decisions are worked "
                              "out from, so decisions can change (major), e.g. "
                              + "; ".join(c.describe() for c in report.altering[:3]))
    return report


def distinct_changes(changes: list[Change]) -> list[Change]:
    """The changes without those that repeat another: a table key whose value changed because the entry
    it reads changed (the same entry in both versions), which the parameters section shows already."""
    entries = {c.id for c in changes if c.section == "parameters"}
    return [c for c in changes if not (c.section == "tables" and c.kind == "changed"
                                       and _entry(c.old) is not None and _entry(c.old) == _entry(c.new)
                                       and _entry(c.old) in entries)]


def _entry(keyed: Any) -> str | None:
    entry = keyed.get("entry") if isinstance(keyed, dict) else None
    return entry if isinstance(entry, str) else None


def altering_changes(diff: Diff) -> list[Change]:
    """The deciding changes (distinct) to what the old version's decisions are worked out from, not only
    additions to it: a parameter (its value), a table entry, a derived value, a criterion, a group, a
    score or a band changed or removed, where a tier, a score or a validity rule of the old version reads it
    (through groups, scores, derived values and tables); a tier changed or removed; the old labels in
    another order or one removed; a validity rule changed, removed, moved before another old one, or added
    for an old label; the start of validity. None of these leaves every decision the same by itself, so
    each requires a major bump whatever the search finds.

    What only adds (an input, a parameter, a criterion, a group, a score, a band, a tier, a new label put
    among the old ones, a rule that now also names a new label) can alter a decision only where the
    old assessments reach it, which the search looks for; so can what only the new version reads, which
    only such additions (or a change above) read. The inputs and catalogues are judged by their schema
    effect. ``unknowns`` (ranges opted in or out) changes how every derived value is worked out from
    absent inputs, so it alters when either version has a derived value: an assessment with a bounded
    input absent can get a label where it had none, which a search of a few hundred assessments need
    not meet (tests/unit/test_derived_ranges.py has such a pair and assessment)."""
    reads = _Reads(diff.old)
    old_labels = set(diff.old.document.labels)
    old_rules = [r.id for r in diff.old.document.validity.rules]
    new_rules = [r.id for r in diff.new.document.validity.rules]

    def alters(c: Change) -> bool:
        section = c.section
        if section == "metadata":  # the methodology is judged on its own
            return c.id == "unknowns" and bool(diff.old.plan.derived or diff.new.plan.derived)
        if section in ("inputs", "catalogues"):
            return False  # judged by the schema effect
        if section == "validity":
            return _validity_alters(c, old_labels, old_rules, new_rules)
        if c.kind == "added":
            return False
        if section == "parameters":
            return c.attribute != "unit" and reads.reads("parameter", c.id)
        if section == "tables":
            return reads.reads("table", c.id.split("[", 1)[0])
        if section == "derived":
            return reads.reads("derived", c.id)
        if section in ("criteria", "groups", "scores"):
            return reads.reads("outcome", c.id)
        if section == "bands":
            return reads.reads("band", c.id.split(".", 1)[0])
        if section == "labels":  # only new labels put among the old ones: the old keep their order
            return [label for label in _labels(c.new) if label in old_labels] != _labels(c.old)
        return True  # tiers: an old label's requirements

    return [c for c in distinct_changes(diff.decision_changes) if alters(c)]


def _validity_alters(c: Change, old_labels: set[str], old_rules: list[str], new_rules: list[str]) -> bool:
    """A validity change alters old decisions unless it only names new labels (a rule added for them,
    an old rule that also names one) or only moves an old rule past added ones."""
    if c.kind == "added":
        return bool(set(_labels(c.new)) & old_labels)
    if c.kind == "changed" and c.attribute == "labels":
        before, after = set(_labels(c.old)), set(_labels(c.new))
        return not (before <= after and not (after - before) & old_labels)
    if c.kind == "changed" and c.attribute == "position":
        return [r for r in new_rules if r in old_rules] != [r for r in old_rules if r in new_rules]
    return True


def _labels(value: Any) -> list[str]:
    labels = value.get("labels") if isinstance(value, dict) else value
    return [str(x) for x in labels] if isinstance(labels, (list, tuple)) else []


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Reads:
    """What the decisions of one version read: the criteria, groups and scores its tiers require
    (groups and scores expanded), and the parameters (table entries by name, ``t[k]``) and derived
    values those, the scores' thresholds and points and the validity rules read, derived values
    followed to what they read."""

    def __init__(self, ruleset: Ruleset) -> None:
        plan = ruleset.plan
        composites = {c.id: c for c in plan.composites}
        criteria = {c.id: c for c in plan.criteria}
        self.outcomes: set[str] = set()
        self.params: set[str] = set()
        self.derived: set[str] = set()
        stack = [ref for tier in ruleset.document.tiers.values() for ref in tier.requires]
        while stack:
            ref = stack.pop()
            if ref in self.outcomes:
                continue
            self.outcomes.add(ref)
            comp = composites.get(ref)
            if isinstance(comp, GroupPlan):
                stack.extend(comp.spec.all_of)
            elif isinstance(comp, ScorePlan):
                stack.extend(comp.spec.weights)
                self.params.add(comp.threshold_use.name)
                for points in comp.points:
                    self.params |= points.compiled.params
                    self.derived.update(points.derived)
            elif ref in criteria:
                self.params |= criteria[ref].compiled.params
                self.derived.update(criteria[ref].derived)
        validity = ruleset.document.validity
        texts = [validity.valid_from, *(r.when or "" for r in validity.rules), *(r.valid_until for r in validity.rules)]
        self.params |= plan.valid_from.params
        for rule in plan.rules:
            for compiled in (rule.when, rule.valid_until):
                if compiled is not None:
                    self.params |= compiled.params
        ids = {d.id for d in plan.derived}
        self.derived.update(name for text in texts for name in _NAME.findall(text) if name in ids)
        for d in reversed(plan.derived):  # in dependency order: a value's readers come after it
            if d.id in self.derived:
                self.derived.update(d.derived)
                self.params |= d.compiled.params

    def reads(self, kind: str, ident: str) -> bool:
        """Whether the decisions read a parameter, a table (any entry), a derived value, an outcome
        (a criterion, group or score, a score's levels too) or a band (any class)."""
        if kind == "parameter":
            return ident in self.params
        if kind == "table":
            return any(p.startswith(ident + "[") for p in self.params)
        if kind == "derived":
            return ident in self.derived
        if kind == "band":
            return any(o.startswith(ident + ".") for o in self.outcomes)
        return ident in self.outcomes or any(o.startswith(ident + ".") for o in self.outcomes)


def confirm(report: BumpReport, search: CounterexampleSearch, *, max_examples: int = 500) -> BumpReport:
    """Confirm a static report by a search for a counterexample: a full search where decisions may
    change, a short one otherwise, and one that counts rejected assessments too where the schema breaks.
    A counterexample makes the bump major; none found never lowers the bump the diff requires (a change
    to what decisions are worked out from stays major, and the reasons say that nothing was found).
    Returns the report, completed."""
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
    elif report.altering:
        report.reasons.append(f"required major: {report.altering[0].describe()} can change decisions; "
                              f"no counterexample found within {tried} examples")
    else:
        report.reasons.append(f"no counterexample in {tried} assessments searched")
    return report


def _at_least(current: Bump, floor: Bump) -> Bump:
    return floor if _ORDER[floor] > _ORDER[current] else current
