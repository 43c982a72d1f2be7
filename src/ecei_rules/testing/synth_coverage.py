"""How a synthetic population exercises a version: per label, and per criterion, group, score and
tier how many assessments came out met, not met and unknown."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ecei_rules.core.logic import outcome as outcome_of
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluator import evaluator, outcome_values
from ecei_rules.engine.plan import FastGroup, awarded, conjunction
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL

OUTCOMES = ("met", "not_met", "unknown")
KINDS = ("tier", "criterion", "group", "score")
PLURAL = {"tier": "tiers", "criterion": "criteria", "group": "groups", "score": "scores"}


@dataclass(frozen=True)
class Outcome:
    """One tier's (``label``), criterion's, group's or score's (``id``) outcome."""

    id: str
    outcome: str

    @property
    def label(self) -> str:
        """A tier's label (its id)."""
        return self.id


@dataclass(frozen=True)
class Outcomes:
    """What coverage counts of a decision, in the decision's order: its label, and each tier
    (highest first), criterion, group and score with its outcome (see :func:`outcomes`)."""

    label: str
    tiers: tuple[Outcome, ...]
    criteria: tuple[Outcome, ...]
    groups: tuple[Outcome, ...]
    scores: tuple[Outcome, ...]


def outcomes(ruleset: Ruleset, data: dict[str, Any]) -> Outcomes:
    """The label and every outcome of validated ``data``, as :func:`ecei_rules.evaluate` decides
    them, without the decision's trace (the engine's label mode, with each outcome kept); an
    awarded label's validity is worked out too, so an assessment the engine cannot decide fails here
    as it would there."""
    plan = evaluator(ruleset).plan
    env = dict(data)
    values = outcome_values(plan, env)
    tiers: list[Outcome] = []
    label = NONE_LABEL
    for tier in plan.tiers:
        result = conjunction(values, tier.requires)
        if result is True:
            label = tier.label
        tiers.append(Outcome(tier.label, outcome_of(result)))
    tiers.reverse()
    if label != NONE_LABEL:
        awarded(plan, env, label)
    composites = [(isinstance(c, FastGroup), Outcome(c.id, outcome_of(values[c.id]))) for c in plan.composites]
    return Outcomes(label, tuple(tiers), tuple(Outcome(c.id, outcome_of(values[c.id])) for c in plan.criteria),
                    tuple(o for group, o in composites if group), tuple(o for group, o in composites if not group))


@dataclass
class VersionCoverage:
    """The outcomes of one version over the assessments it decided."""

    methodology: str
    version: str
    labels_in_order: tuple[str, ...]  # none first, then lowest to highest
    decided: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    outcomes: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # (kind, id) -> outcome counts

    def add(self, decision: Decision | Outcomes) -> list[tuple[str, str, str]]:
        """Count one decision; return the (kind, id, outcome) it shows for the first time."""
        self.decided += 1
        self.labels[decision.label] += 1
        new: list[tuple[str, str, str]] = []
        rows: list[tuple[str, str, str]] = [("tier", t.label, t.outcome) for t in decision.tiers]
        rows += [("criterion", c.id, c.outcome) for c in decision.criteria]
        rows += [("group", g.id, g.outcome) for g in decision.groups]
        rows += [("score", s.id, s.outcome) for s in decision.scores]
        for kind, key, outcome in rows:
            counts = self.outcomes.setdefault((kind, key), Counter())
            if not counts[outcome]:
                new.append((kind, key, outcome))
            counts[outcome] += 1
        return new

    def missing(self) -> list[tuple[str, str, str]]:
        """(kind, id, outcome) never seen: a label never awarded, an outcome never reached."""
        out = [("label", label, "awarded") for label in self.labels_in_order if not self.labels[label]]
        out += [(kind, key, o) for (kind, key), counts in self.outcomes.items() for o in OUTCOMES if not counts[o]]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "methodology": self.methodology, "version": self.version, "decided": self.decided,
            "labels": {label: self.labels[label] for label in self.labels_in_order},
            **{PLURAL[kind]: {key: {o: counts[o] for o in OUTCOMES} for (k, key), counts in self.outcomes.items()
                            if k == kind} for kind in KINDS},
        }


@dataclass
class Coverage:
    """Per version, what the population exercised (filled while it is drawn)."""

    versions: dict[str, VersionCoverage] = field(default_factory=dict)  # by content hash
    drawn: int = 0  # assessments drawn in all, candidates set aside included
    kept: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"assessments": self.kept, "candidates_drawn": self.drawn,
                "versions": [v.to_json() for v in self.versions.values()]}

    def labels_text(self) -> str:
        """One line per version: how many assessments came out with each label, and the outcomes never seen."""
        lines: list[str] = []
        for v in self.versions.values():
            n = v.decided or 1
            lines.append(f"{v.methodology} {v.version}: " + ", ".join(
                f"{label} {v.labels[label]:,} ({100 * v.labels[label] / n:.0f} %)" for label in v.labels_in_order))
            never = [f"{kind} {key} never {o.replace('_', ' ')}" for kind, key, o in v.missing() if kind != "label"]
            if never:
                lines.append(f"  {len(never)} outcomes never reached (--coverage lists every count): "
                             + "; ".join(never[:5]) + ("; ..." if len(never) > 5 else ""))
        return "\n".join(lines)

    def text(self) -> str:
        """A plain table per version: labels, then each tier, criterion, group and score."""
        lines: list[str] = []
        for v in self.versions.values():
            n = v.decided or 1
            lines.append(f"{v.methodology} {v.version}: {v.decided:,} assessments decided")
            lines.append("  labels: " + ", ".join(f"{label} {v.labels[label]:,} ({100 * v.labels[label] / n:.0f} %)"
                                                    for label in v.labels_in_order))
            width = max((len(key) for _, key in v.outcomes), default=4)
            lines.append(f"  {'':9} {'':{width}} {'met':>7} {'not met':>8} {'unknown':>8}")
            for kind in KINDS:
                for (k, key), counts in v.outcomes.items():
                    if k != kind:
                        continue
                    flag = "  <- never " + ", ".join(o.replace("_", " ") for o in OUTCOMES if not counts[o]) \
                        if any(not counts[o] for o in OUTCOMES) else ""
                    lines.append(f"  {kind:9} {key:{width}} {counts['met']:>7,} {counts['not_met']:>8,} "
                                 f"{counts['unknown']:>8,}{flag}")
        return "\n".join(lines)
