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
from typing import Any, Literal

import semver
from hypothesis import HealthCheck, Verbosity, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from .._canonical import to_json
from ..engine.decision import Decision, Resolution
from ..engine.evaluate import evaluate
from ..errors import pointer_join
from ..ruleset.inputs import Field
from ..ruleset.load import Ruleset
from ..testing.strategies import assessments
from .diff import Diff, semantic_diff

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


def project(data: Any, f: Field, pointer: str = "") -> tuple[Any, list[str]]:
    """Keep only what ``f`` declares; return the projection and the JSON pointers dropped."""
    ignored: list[str] = []
    if isinstance(data, dict) and f.kind in ("object", "map"):
        members = f.fields if f.kind == "object" else f.entries
        out = {}
        for key, value in data.items():
            child = pointer_join(pointer, key)
            if key not in members:
                ignored.append(child)
                continue
            out[key], sub = project(value, members[key], child)
            ignored.extend(sub)
        return out, ignored
    if isinstance(data, list) and f.kind == "list" and f.items is not None:
        items = []
        for i, value in enumerate(data):
            item, sub = project(value, f.items, pointer_join(pointer, i))
            items.append(item)
            ignored.extend(sub)
        return items, ignored
    return copy.deepcopy(data), ignored


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


def find_counterexample(old: Ruleset, new: Ruleset, *, max_examples: int = 2000,
                        require_valid: bool = True) -> tuple[Counterexample | None, int]:
    """Search (and shrink) an assessment valid under ``old`` that ``new`` decides differently.

    With ``require_valid`` False, an assessment that the new version rejects also counts.
    Returns the counterexample (or None) and the number of examples tried.
    """
    tried = 0

    def differs(data: dict[str, Any]) -> bool:
        nonlocal tried
        tried += 1
        projected, _ = project(data, new.plan.inputs)
        normal, problems = new.plan.validator.validate(projected)
        if problems:
            return not require_valid
        return _key(evaluate(old, data, resolution=_PIN)) != _key(evaluate(new, normal, resolution=_PIN))

    config = settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    try:
        found = find(assessments(old, also=(new,)), differs, settings=config)
    except (NoSuchExample, Unsatisfiable):
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
