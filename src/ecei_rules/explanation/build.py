"""Build an :class:`~ecei_rules.explanation.model.Explanation` from a ruleset version and an assessment.

Everything is read from the decision's trace and the ruleset: outcomes, values read,
thresholds with their provenance, clauses, weights. The sentences come from the message
templates of the chosen language; no wording is written here.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ecei_rules.batch import registry_resolver
from ecei_rules.core.pointers import MISSING, lookup, set_at
from ecei_rules.engine.decision import CriterionResult, Decision, Resolution
from ecei_rules.engine.derived import DerivedResult
from ecei_rules.engine.evaluate import Assessment, evaluate, validate_assessment
from ecei_rules.errors import AssessmentError
from ecei_rules.explanation import DEFAULT_MAX_CHANGE_SETS, DEFAULT_NEAR_MARGIN, paths
from ecei_rules.explanation import model as m
from ecei_rules.explanation.limits import MAX_CHANGE_SETS, MAX_LISTED_CHANGES, margin_problem
from ecei_rules.explanation.messages import DEFAULT_LANGUAGE, Messages
from ecei_rules.explanation.needed import Needed
from ecei_rules.explanation.paths import JOIN, Structure, TierSolution, flatten, solve, solve_choices, solve_units
from ecei_rules.explanation.through import Found, Region, Search, regions
from ecei_rules.language.expr import parse
from ecei_rules.registry import Registry
from ecei_rules.ruleset import analysis
from ecei_rules.ruleset.analysis import criterion_targets, relations, value_for
from ecei_rules.ruleset.check import ScorePlan
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import NONE_LABEL, band_intervals, score_outcomes
from ecei_rules.ruleset.subject import resolve as resolve_subject


@dataclass(frozen=True)
class Check:
    """One comparison of a criterion: ``<pointer> op threshold``, or ``factor * <pointer> op k * <other>``."""

    pointer: str
    op: str
    threshold: Decimal | bool | None = None  # None: compared with another input
    factor: int = 1
    other: str | None = None
    other_factor: int = 1


@dataclass(frozen=True)
class _Analysis:
    """What explaining needs of a ruleset version, computed once per version."""

    structure: Structure
    checks: dict[str, tuple[Check, ...]]  # criteria that are a comparison or an 'and' of comparisons
    reads: dict[str, tuple[str, ...]]
    tiers_of: dict[str, tuple[str, ...]]
    weights_of: dict[str, dict[str, Decimal | int]]
    fixed_inputs: tuple[str, ...]
    regions: dict[str, Region]  # criteria on a computed value: band classes, thresholds on derived values
    partial: dict[str, tuple[Check, ...]]  # conjunctions of checks of derived values and inputs: the inputs' checks


class ExplanationCache:
    """What explaining needs of ruleset versions and languages, computed once and kept by its owner.

    `explain` builds a fresh one when it is not given one; a caller that explains many assessments
    (a batch) creates one and passes it to every call, so each version is analysed once and each
    language's messages read once. It holds what it computed for as long as it lives (one entry
    per version and per language); not shared between threads unless the caller locks it.
    """

    def __init__(self) -> None:
        self._analyses: dict[str, _Analysis] = {}
        self._messages: dict[str, Messages] = {}

    def analysis(self, ruleset: Ruleset) -> _Analysis:
        """The analysis of a ruleset version (by its content hash)."""
        found = self._analyses.get(ruleset.sha256)
        if found is None:
            found = self._analyses[ruleset.sha256] = _analysis(ruleset)
        return found

    def messages(self, language: str) -> Messages:
        """The messages of a language."""
        found = self._messages.get(language)
        if found is None:
            found = self._messages[language] = Messages(language)
        return found


def _holds_date(f: Field) -> bool:
    if f.kind == "date":
        return True
    children = [*f.fields.values(), *f.entries.values(), *([f.items] if f.items is not None else [])]
    return any(_holds_date(c) for c in children)


def fixed_inputs(ruleset: Ruleset) -> tuple[str, ...]:
    """The inputs no change of the subject can alter: root inputs that are or hold dates.

    A date records when something happened (``assessed_on``; the ``history`` of earlier labels
    with their award dates), so a criterion that reads only such inputs cannot be met by
    changing the assessment. Callers may pass their own list to :func:`explain`.
    """
    return tuple(f"/{name}" for name, f in ruleset.plan.inputs.fields.items() if _holds_date(f))


def criterion_checks(ruleset: Ruleset) -> dict[str, tuple[Check, ...]]:
    """Criteria made of comparisons: one, or a conjunction of them, each of an input with a threshold
    (:func:`~ecei_rules.ruleset.analysis.criterion_targets`) or with another input
    (:func:`~ecei_rules.ruleset.analysis.relations`, e.g. ``2 * private > committed``).

    ``EC5: a >= 5 and b >= 2`` gives two checks; a criterion with any other part (a count, a
    generator over a list, a chained comparison) is left out: it is explained as a condition.
    """
    return _criterion_parts(ruleset)[0]


def _criterion_parts(ruleset: Ruleset) -> tuple[dict[str, tuple[Check, ...]], dict[str, tuple[Check, ...]]]:
    """`criterion_checks`, and the criteria on derived values that are a conjunction of which only some
    parts are such checks (``worst <= 5 and management <= 5``, ``worst`` a derived value): those checks."""
    simple = criterion_targets(ruleset)
    out: dict[str, tuple[Check, ...]] = {cid: (Check(*t),) for cid, t in simple.items()}
    doc = ruleset.document

    def one(cid: str, crit: Any, tree: ast.expr, i: int) -> Check | None:
        key = f"{cid}\x00{i}"
        shim = dataclasses.replace(ruleset, document=doc.model_copy(
            update={"criteria": {key: crit.model_copy(update={"when": ast.unparse(tree)})}}))
        found = criterion_targets(shim).get(key)
        if found is not None:
            return Check(*found)
        if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
            rels = relations(shim)
            if len(rels) == 1:
                a, ka, op, b, kb = rels[0]
                fields = ruleset.plan.inputs
                field_at = analysis.field_at
                if ka > 0 and kb > 0 and field_at(fields, a) is not None and field_at(fields, b) is not None:
                    return Check(a, op, None, ka, b, kb)
        return None

    for cid, crit in doc.criteria.items():
        if cid in out:
            continue
        tree, _ = parse(crit.when)
        if tree is None:
            continue
        parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
        checks = [one(cid, crit, part, i) for i, part in enumerate(parts)]
        if all(c is not None for c in checks):
            out[cid] = tuple(c for c in checks if c is not None)
    partial: dict[str, tuple[Check, ...]] = {}
    for cid, conjunction in out.items():
        on_inputs = tuple(c for c in conjunction if c.pointer[1:] not in doc.derived)
        if len(conjunction) > 1 and 0 < len(on_inputs) < len(conjunction):
            partial[cid] = on_inputs
    return out, partial


def _every_set_makes(sets: Sequence[m.InputSet], claims: Sequence[Sequence[m.InputChange]]) -> bool:
    """Whether each verified set makes, for each claim, one of its changes (the input set to that value): "in
    every case" says so, and a set found by changing inputs together (a total reached by two smaller changes
    instead of one larger) may not."""
    for s in sets:
        made = {(i.pointer, repr(i.target)) for i in s.inputs}
        if s.verified and any(claim and all((c.pointer, repr(c.target)) not in made for c in claim)
                              for claim in claims):
            return False
    return True


def _analysis(ruleset: Ruleset) -> _Analysis:
    plan = ruleset.plan
    doc = plan.doc
    order = {c.id: i for i, c in enumerate(plan.criteria)}
    specs = {sid: s for sid, (s, _) in score_outcomes(doc).items()}
    weights = {sid: {c: Fraction(w) for c, w in s.weights.items()} for sid, s in specs.items()}
    required = {sp.id: sp.required for sp in plan.composites if isinstance(sp, ScorePlan)}
    structure = Structure({gid: g.all_of for gid, g in doc.groups.items()}, weights, required, order)
    tiers_of: dict[str, list[str]] = {}
    for label in doc.labels:
        direct, scores = flatten(structure, doc.tiers[label].requires)
        for ref in [*direct, *scores, *(c for s in scores for c in specs[s].weights)]:
            if label not in tiers_of.setdefault(ref, []):
                tiers_of[ref].append(label)
    weights_of: dict[str, dict[str, Decimal | int]] = {}
    for sid, score in specs.items():
        for cid, w in score.weights.items():
            weights_of.setdefault(cid, {})[sid] = w
    checks, partial = _criterion_parts(ruleset)
    return _Analysis(structure, checks, {c.id: c.reads for c in plan.criteria},
                     {k: tuple(v) for k, v in tiers_of.items()}, weights_of, fixed_inputs(ruleset),
                     regions(ruleset, checks), partial)


def _with_points(structure: Structure, decision: Decision) -> Structure:
    """The structure with what the numbers each score weighs as they are count (as decided) as a met
    pseudo criterion of the score (``paths.POINTS``): the change sets are the criteria's, those numbers
    held as they are; the structure itself for a decision without them."""
    counted = {s.id: sum((Fraction(p.counted) for p in s.points.values() if p.counted is not None), Fraction(0))
               for s in decision.scores if s.points}
    if not counted:
        return structure
    weights = {sid: ({**w, paths.POINTS: counted[sid]} if sid in counted else w)
               for sid, w in structure.weights.items()}
    return Structure(structure.groups, weights, structure.required, structure.order)


def _exact(value: Fraction | Decimal | int) -> Decimal | int:
    """An exact number for the JSON form (the fractions here have finite decimal forms)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        value = Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value.normalize()
    return value


def _tidy(value: Fraction) -> Decimal | int | Fraction:
    """An exact fraction as int or Decimal when it has a finite decimal form."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    return _exact(value) if den == 1 else value


def _distance(current: Any, target: Any) -> Fraction:
    """How far a target lies from the current value (0 when either is not a number)."""
    numbers = (int, Decimal)
    if isinstance(current, numbers) and isinstance(target, numbers) and not isinstance(current, bool) \
            and not isinstance(target, bool):
        return abs(Fraction(target) - Fraction(current))
    return Fraction(0)


def _passing(f: Field, op: str, threshold: Any) -> Any:
    """A value of ``f`` that passes ``value op threshold`` (the threshold itself when it passes), or None."""
    if isinstance(threshold, bool):
        return value_for(f, op, threshold, True)
    t = Fraction(threshold)
    if f.kind == "integer":
        if op == "==" and t.denominator != 1:
            return None
        v = {">": math.floor(t) + 1, ">=": math.ceil(t), "<": math.ceil(t) - 1, "<=": math.floor(t)}.get(op, int(t))
        lo, hi = f.spec.minimum, f.spec.maximum
        return v if (lo is None or v >= lo) and (hi is None or v <= hi) else None
    if not isinstance(threshold, Fraction):
        return value_for(f, op, Decimal(threshold), True)  # keeps the threshold's own digits (0.30)
    exact = _tidy(t)
    return value_for(f, op, Decimal(exact), True) if not isinstance(exact, Fraction) else None


@dataclass(frozen=True)
class _Step:
    """One comparison of a criterion, resolved against the assessment."""

    check: Check
    threshold: Any  # None: compared with another input that is missing
    value: Any
    present: bool
    passes: bool
    target: Any  # a passing value, or None


class _Builder:
    def __init__(self, ruleset: Ruleset, data: Mapping[str, Any], decision: Decision, cache: ExplanationCache,
                 language: str, margin: Decimal, cap: int, fixed: Sequence[str] | None) -> None:
        self.ruleset = ruleset
        self.doc = ruleset.plan.doc
        self.data = data
        # what the comparisons read: the inputs, and the derived values that are known, by name
        self.values: Mapping[str, Any] = {**data, **{r.id: r.value for r in decision.derived
                                                     if r.outcome == "known"}} if decision.derived else data
        self.decision = decision
        self.msg = cache.messages(language)
        self.margin = margin
        self.cap = cap
        self.changes_listed = 0  # in the sets listed so far, at most MAX_LISTED_CHANGES (`listed`)
        self.a = cache.analysis(ruleset)
        self.fixed = tuple(fixed) if fixed is not None else self.a.fixed_inputs
        self.crit: dict[str, CriterionResult] = {c.id: c for c in decision.criteria}
        self.outcomes: dict[str, str] = {c.id: c.outcome for c in decision.criteria}
        self.groups = {g.id: g for g in decision.groups}
        self.scores = {s.id: s for s in decision.scores}
        self.structure = _with_points(self.a.structure, decision)
        if self.structure is not self.a.structure:  # what the numbers a score weighs count is met weight
            self.outcomes[paths.POINTS] = "met"
        self._changes: dict[str, m.CriterionChange] = {}
        self._search: Search | None = None
        self._needed: Needed | None = None
        self._completed: set[str] = set()  # criteria met by a completion: their sets are not all listed
        self._paired: set[str] = set()  # criteria met by two numbers changed together: likewise

    # -- names and values -------------------------------------------------------------------

    def outcome(self, outcome: str) -> str:
        return self.msg.template(f"outcome.{outcome}")

    def input_name(self, pointer: str) -> str:
        """``/indicators/3.2`` -> ``3.2 (Share of private funds ...)``; ``/a/b`` -> ``a.b``; a derived
        value (``/energy_index``) -> its name."""
        if pointer[1:] in self.doc.derived:
            return pointer[1:]
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        parent = analysis.field_at(self.ruleset.plan.inputs, pointer.rsplit("/", 1)[0]) if len(parts) > 1 else None
        if parent is not None and parent.kind == "map":
            entry = parent.entries.get(parts[-1])
            if entry is not None and entry.spec.description:
                return f"{parts[-1]} ({entry.spec.description})"
        return ".".join(parts)

    def ref_name(self, ref: str) -> str:
        title = (self.crit[ref].title if ref in self.crit else self.groups[ref].title if ref in self.groups
                 else self.scores[ref].title if ref in self.scores else ref)
        return f"{title} ({ref})"

    def requirement(self, op: str, threshold: Any) -> str:
        return self.msg(f"requirement.{op}", threshold=threshold)

    def needed(self) -> Needed:
        if self._needed is None:
            self._needed = Needed(self.ruleset, self.data)
        return self._needed

    def missing_of(self, c: CriterionResult) -> tuple[str, ...]:
        """The absent inputs a criterion needs: for one that reads derived values, those read where the evaluation
        went (`needed`); for any other, every absent input it reads, as its decision lists them."""
        if not c.derived or not c.missing:
            return c.missing
        needed = self.needed().criterion(c.id)
        return tuple(p for p in c.missing if p in needed)

    def reads(self, c: CriterionResult) -> str:
        items = [self.msg("criterion.read", input=self.input_name(p), value=v) for p, v in c.inputs.items()]
        items += [self.msg("criterion.read_missing", input=self.input_name(p)) for p in self.missing_of(c)]
        return self.msg.join(items)

    def is_fixed(self, pointer: str) -> bool:
        return any(pointer == f or pointer.startswith(f + "/") for f in self.fixed)

    def fixed_reads(self, cid: str) -> tuple[str, ...]:
        return tuple(p for p in self.a.reads.get(cid, ()) if self.is_fixed(p))

    def steps(self, cid: str, *, planned: bool) -> list[_Step]:
        """Each comparison of a criterion with its threshold, value and a passing value.

        With ``planned``, a comparison with another input uses that input's planned value when an
        earlier comparison of the criterion changes it (``committed >= 15 and 2 * private > committed``
        raises committed first, then asks for more than half of the new value).
        """
        plan: dict[str, Any] = {}
        out: list[_Step] = []
        for chk in self.a.checks.get(cid, ()):
            found = lookup(self.values, chk.pointer)
            present = found is not MISSING
            threshold: Any = chk.threshold
            if chk.other is not None:
                other = plan[chk.other] if planned and chk.other in plan else lookup(self.data, chk.other)
                valid = other is not MISSING and not isinstance(other, bool)
                threshold = _tidy(Fraction(chk.other_factor * other) / chk.factor) if valid else None
            f = analysis.field_at(self.ruleset.plan.inputs, chk.pointer)
            target = _passing(f, chk.op, threshold) if f is not None and threshold is not None else None
            passes = present and threshold is not None and analysis.passes(chk.op, found, threshold)
            if planned and not passes and target is not None:
                plan[chk.pointer] = target
            out.append(_Step(chk, threshold, found if present else None, present, passes, target))
        return out

    def changeable(self, cid: str) -> bool:
        reads = self.a.reads.get(cid, ())
        if not reads or len(self.fixed_reads(cid)) == len(reads):
            return False
        if self.crit[cid].derived:  # met through derived values: a condition on the inputs they read
            return True
        return all(st.target is not None for st in self.steps(cid, planned=True) if st.threshold is not None)

    # -- the trace in words -----------------------------------------------------------------

    def comparisons(self, cid: str) -> tuple[m.Comparison, ...]:
        return tuple(m.Comparison(pointer=st.check.pointer, input=self.input_name(st.check.pointer), op=st.check.op,
                                  threshold=st.threshold, relative_to=st.check.other, value=st.value,
                                  present=st.present) for st in self.steps(cid, planned=False))

    def part(self, comp: m.Comparison) -> str:
        if comp.threshold is None:
            return self.msg("criterion.part_open", input=comp.input, value=comp.value if comp.present else None,
                            other=self.input_name(comp.relative_to or ""))
        requirement = self.requirement(comp.op, comp.threshold)
        if comp.relative_to is not None:
            other = lookup(self.data, comp.relative_to)
            requirement += " " + self.msg("criterion.relative", other=self.input_name(comp.relative_to), value=other)
        key = "criterion.part" if comp.present else "criterion.part_missing"
        if not comp.present and comp.pointer[1:] in self.doc.derived:  # a derived value without a value
            key = "criterion.part_" + next(r.outcome for r in self.decision.derived if r.id == comp.pointer[1:])
        return self.msg(key, input=comp.input, value=comp.value, requirement=requirement)

    def placement(self, placed: m.BandPlacement) -> str:
        """A band class's value against the class's interval: ``energy_index is 41.1, needs 51 < energy_index <= 64 %``
        (missing, unknown or undefined when it has no value)."""
        unit = f" {placed.unit}" if placed.unit else ""
        requirement = placed.interval + unit
        of = placed.of
        if placed.value is not None:
            return self.msg("criterion.part", input=of, value=placed.value, requirement=requirement)
        state = next((r.outcome for r in self.decision.derived if r.id == of), None)
        key = f"criterion.part_{state}" if state in ("unknown", "undefined") else "criterion.part_missing"
        return self.msg(key, input=of if state else self.input_name("/" + of.replace(".", "/")), value=None,
                        requirement=requirement)

    def criterion(self, c: CriterionResult) -> m.CriterionExplanation:
        comps = self.comparisons(c.id)
        common: dict[str, Any] = {"title": c.title, "id": c.id, "outcome": self.outcome(c.outcome)}
        placed = self.band(c)
        if comps:
            sentence = self.msg("criterion.compared", parts=self.msg.join([self.part(x) for x in comps]), **common)
        elif placed is not None:
            sentence = self.msg("criterion.compared", parts=self.placement(placed), **common)
        elif c.inputs or c.missing:
            sentence = self.msg("criterion.other", reads=self.reads(c), **common)
        else:
            sentence = self.msg("criterion.other_nothing", **common)
        through = self.through_parameters(tuple(c.derived))
        return m.CriterionExplanation(
            **{**dict(c), "missing": self.missing_of(c)}, comparisons=comps, fixed=not self.changeable(c.id),
            fixed_inputs=self.fixed_reads(c.id), tiers=self.a.tiers_of.get(c.id, ()),
            weights=dict(self.a.weights_of.get(c.id, {})), sentence=sentence, band=placed,
            own_parameters=tuple(p.name for p in c.parameters if p.name not in through) if c.derived else (),
        )

    def through_parameters(self, names: Sequence[str]) -> set[str]:
        """The parameters the derived values ``names`` read (through the values they read too)."""
        known = {r.id: r for r in self.decision.derived}
        return {p.name for n in names if n in known for p in known[n].parameters}

    def band(self, c: CriterionResult) -> m.BandPlacement | None:
        """A band class's value and interval, or None for any other criterion."""
        bid, _, name = c.id.partition(".")
        band = self.doc.bands.get(bid) if name else None
        if band is None or name not in band.classes:
            return None
        region = self.a.regions.get(c.id)
        interval = region.interval if region is not None else band_intervals(self.doc, bid)[name]
        of = band.of.strip()
        value = c.derived.get(of) if of in c.derived else c.inputs.get("/" + of.replace(".", "/"))
        return m.BandPlacement(band=bid, title=band.title, name=name, of=of, value=value,
                               interval=interval.text().replace("x", of, 1), unit=band.unit,
                               provenance="sourced" if band.source is not None else "assumed",
                               source=band.source if band.source is not None else band.assumed or "")

    def group(self, gid: str) -> m.GroupExplanation:
        g = self.groups[gid]
        not_met = tuple(r for r in g.all_of if self.decision.outcome_of(r) == "not_met")
        unknown = tuple(r for r in g.all_of if self.decision.outcome_of(r) == "unknown")
        sentence = self.msg(f"group.{g.outcome}", title=g.title, id=gid,
                            failing=self.msg.join([self.ref_name(r) for r in not_met]),
                            unknown=self.msg.join([self.ref_name(r) for r in unknown]))
        return m.GroupExplanation(id=gid, title=g.title, clause=self.doc.groups[gid].clause, outcome=g.outcome,
                                  all_of=g.all_of, not_met=not_met, unknown=unknown, sentence=sentence)

    def score(self, sid: str) -> m.ScoreExplanation:
        s = self.scores[sid]
        short = max(Fraction(s.required_weight) - Fraction(s.met_weight), Fraction(0))
        points = any(sp.id == sid and sp.absolute for sp in self.ruleset.plan.composites if isinstance(sp, ScorePlan))
        sentence = self.msg("score.sentence_points" if points else "score.sentence", title=s.title, id=sid,
                            outcome=self.outcome(s.outcome), met=s.met_weight, total=s.total_weight,
                            unknown=s.unknown_weight, required=s.required_weight, share=s.threshold.value,
                            name=s.threshold.name)
        if short > 0:
            sentence += " " + self.msg("score.short", short=short)
        if s.points:
            sentence += " " + self.msg("score.points", items=self.msg.join([
                self.msg("score.points_item", name=pid, value=p.value, counted=p.counted, maximum=p.maximum)
                if p.counted is not None else self.msg("score.points_unknown", name=pid, maximum=p.maximum)
                for pid, p in s.points.items()]))
        return m.ScoreExplanation(
            id=sid, title=s.title, clause=s.clause, outcome=s.outcome, met_weight=s.met_weight,
            unknown_weight=s.unknown_weight, total_weight=s.total_weight, required_weight=s.required_weight,
            shortfall=_exact(short), threshold=s.threshold, weights_provenance=s.weights_provenance,
            weights_source=s.weights_source,
            not_met=tuple(c for c in s.weights if self.outcomes.get(c) == "not_met"),
            unknown=tuple(c for c in s.weights if self.outcomes.get(c) == "unknown"), sentence=sentence,
        )

    def tier(self, label: str, awarded: bool) -> m.TierExplanation:
        t = next(t for t in self.decision.tiers if t.label == label)
        not_met: list[str] = []
        unknown: list[str] = []

        def walk(ref: str) -> None:
            if ref in self.groups:
                for member in self.groups[ref].all_of:
                    walk(member)
                return
            outcome = self.decision.outcome_of(ref)
            bucket = not_met if outcome == "not_met" else unknown if outcome == "unknown" else None
            if bucket is not None and ref not in bucket:
                bucket.append(ref)

        for ref in t.requires:
            walk(ref)
        missing: set[str] = set()
        for ref in unknown:
            if ref in self.crit:
                missing.update(self.missing_of(self.crit[ref]))
            elif ref in self.scores:
                for c in self.scores[ref].weights:
                    if self.outcomes.get(c) == "unknown":
                        missing.update(self.missing_of(self.crit[c]))
        if t.outcome == "unknown":  # the decision's: the absent inputs read where the evaluation went
            missing = set(t.missing)
        names: dict[str, Any] = {
            "failing": self.msg.join([self.ref_name(r) for r in not_met]),
            "unknown": self.msg.join([self.ref_name(r) for r in unknown]),
            "missing": self.msg.join(sorted(self.input_name(p) for p in missing)),
        }
        if t.outcome == "met":
            sentence = self.msg("tier.met", title=t.title,
                                requirements=self.msg.join([self.ref_name(r) for r in t.requires]),
                                count_verb=self.msg.template("tier.met_count", len(t.requires)))
        elif t.outcome == "not_met":
            sentence = self.msg("tier.not_met_unknown" if unknown else "tier.not_met", title=t.title, **names)
        else:
            sentence = self.msg("tier.unknown", title=t.title, **names)
        if awarded:
            sentence += " " + self.msg.template("tier.awarded")
        return m.TierExplanation(label=label, title=t.title, outcome=t.outcome, awarded=awarded, requires=t.requires,
                                 not_met=tuple(not_met), unknown=tuple(unknown), missing=tuple(sorted(missing)),
                                 sentence=sentence)

    def near(self) -> tuple[list[m.NearMiss], list[m.NearMiss]]:
        misses: list[tuple[Fraction, int, m.NearMiss]] = []
        passes: list[tuple[Fraction, int, m.NearMiss]] = []
        for i, c in enumerate(self.decision.criteria):
            for comp in self.comparisons(c.id):
                value, threshold = comp.value, comp.threshold
                if not comp.present or comp.relative_to is not None or isinstance(threshold, bool) \
                        or isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                    continue
                distance = abs(Fraction(value) - Fraction(threshold))
                if threshold == 0 or distance > Fraction(self.margin) * abs(Fraction(threshold)):
                    continue
                met = analysis.passes(comp.op, value, threshold)
                item = m.NearMiss(
                    criterion=c.id, title=c.title, outcome="met" if met else "not_met", pointer=comp.pointer,
                    input=comp.input, value=value, op=comp.op, threshold=_exact(threshold),
                    distance=_exact(distance), tiers=self.a.tiers_of.get(c.id, ()),
                    sentence=self.msg("near.narrow" if met else "near.miss", title=c.title, id=c.id, input=comp.input,
                                      value=value, requirement=self.requirement(comp.op, threshold), gap=distance),
                )
                (passes if met else misses).append((distance / abs(Fraction(threshold)), i, item))
        return [x[2] for x in sorted(misses, key=lambda x: x[:2])], [x[2] for x in sorted(passes, key=lambda x: x[:2])]

    # -- derived values -----------------------------------------------------------------------

    def derived(self, r: DerivedResult) -> m.DerivedExplanation:
        """A derived value in words: its value (or why it has none) and what it read."""
        needed = self.needed().derived.get(r.id, frozenset()) if r.missing else frozenset()
        missing = tuple(p for p in r.missing if p in needed)
        items = [self.msg("criterion.read", input=self.input_name(p), value=v) for p, v in r.inputs.items()]
        items += [self.msg("criterion.read_missing", input=self.input_name(p)) for p in missing]
        known = {d.id: d for d in self.decision.derived}
        items += [self.msg("criterion.read", input=n, value=known[n].value) if known[n].outcome == "known"
                  else self.msg(f"derived.read_{_kind(known[n])}", input=n, **_ends(known[n])) for n in r.derived]
        reads = self.msg.join(items) if items else self.msg.template("list.none")
        sentence = self.msg(f"derived.{_kind(r)}", title=r.title, id=r.id, value=r.value,
                            unit=f" {r.unit}" if r.unit else "", reason=r.reason, reads=reads, **_ends(r))
        through = self.through_parameters(r.derived)
        return m.DerivedExplanation(**{**dict(r), "missing": missing}, sentence=sentence,
                                    own_parameters=tuple(p.name for p in r.parameters if p.name not in through))

    # -- what it takes ----------------------------------------------------------------------

    def change(self, cid: str) -> m.CriterionChange:
        """What it takes to make one criterion met: input changes, a condition, or nothing possible."""
        if cid in self._changes:
            return self._changes[cid]
        c = self.crit[cid]
        base: dict[str, Any] = {"criterion": cid, "title": c.title, "clause": c.clause, "outcome": c.outcome,
                                "fixed_inputs": self.fixed_reads(cid)}
        steps = self.steps(cid, planned=True)
        todo = [st for st in steps if not st.passes]
        concrete = bool(todo) and all(st.threshold is not None and st.target is not None for st in todo)
        if not self.changeable(cid):
            out = m.CriterionChange(kind="fixed", sentence=self.fixed_sentence(c, steps), **base)
        elif (computed := self.computed_change(cid, base)) is not None:
            out = computed
        elif (mixed := self.mixed_change(cid, steps, base)) is not None:
            out = mixed
        elif concrete and (problem := self.inconsistency(todo)) is not None:
            # the values each comparison needs would break a consistency check of the inputs
            sentence = self.msg("change.inconsistent", title=c.title, id=cid, problem=problem, reads=self.reads(c))
            out = m.CriterionChange(kind="condition", sentence=sentence, **base)
        elif concrete:
            changes = tuple(self.input_change(st) for st in todo)
            words = [self.input_change_words(change) for change in changes]
            out = m.CriterionChange(kind="input", changes=changes, sentence=self.msg.join(words), **base)
        else:
            key = "change.condition" if c.inputs or c.missing else "change.condition_nothing"
            out = m.CriterionChange(kind="condition", sentence=self.msg(key, title=c.title, id=cid,
                                                                        reads=self.reads(c)), **base)
        self._changes[cid] = out
        return out

    def computed_change(self, cid: str, base: Mapping[str, Any]) -> m.CriterionChange | None:
        """What meets a criterion on a computed value: any one of the single input changes that do (`through`),
        else changes together (`completed`); None for another criterion, or when none is found."""
        if cid not in self.a.regions:
            return None
        found = self.through(cid)
        if found:
            alternatives = tuple(self.found_change(f) for f in found)
            words = [self.input_change_words(change) for change in alternatives]
            return m.CriterionChange(kind="input", changes=alternatives[:1], alternatives=alternatives,
                                     sentence=self.msg.join(words, "or"), **base)
        together = self.completed(cid) or self.pair(cid)
        if together:
            changes = tuple(self.found_change(f) for f in together)
            return m.CriterionChange(kind="input", changes=changes, sentence=self.msg.join(
                [self.input_change_words(change) for change in changes]), **base)
        return None

    def mixed_change(self, cid: str, steps: Sequence[_Step], base: Mapping[str, Any]) -> m.CriterionChange | None:
        """What meets a criterion that compares inputs and derived values (``worst <= 5 and management <= 5``):
        each input the criterion compares set to a value that passes its comparison, then, if the criterion is
        still not met, the single change of another input it reads that meets it with those (`Search.reaching`
        with them as its base); confirmed by deciding again. None for another criterion, or when nothing is
        found."""
        if cid not in self.a.partial:
            return None
        todo = [st for st in steps if not st.passes and st.check in self.a.partial[cid]]
        if any(st.check.other is not None or st.target is None for st in todo):
            return None
        fixed = tuple(self.input_change(st) for st in todo)
        c = self.crit[cid]
        search = self.search()
        search.base = tuple((ch.pointer, ch.target) for ch in fixed)
        try:
            if fixed and search.met(search.decide(None), cid):
                after: tuple[Found, ...] = ()
            else:
                after = search.reaching(cid, tuple(p for p in (*c.inputs, *self.missing_of(c))
                                                   if p not in dict(search.base)))[:1]
                if not after:
                    return None
        finally:
            search.base = ()
        changes = (*fixed, *(self.found_change(f) for f in after))
        decision = self.decide_with(changes)
        if decision is None or decision.outcome_of(cid) != "met":
            return None
        return m.CriterionChange(kind="input", changes=changes, sentence=self.msg.join(
            [self.input_change_words(change) for change in changes]), **base)

    def pair(self, cid: str) -> tuple[Found, ...]:
        """Two numbers changed together that meet a criterion on a computed value, when no single change does
        (see `through`); the list of sets then says it may not be complete."""
        if self._search is None:
            return ()
        c = self.crit[cid]
        found = self._search.pair(cid, tuple(c.inputs))
        if found:
            self._paired.add(cid)
        return found

    def through(self, cid: str) -> tuple[Found, ...]:
        """The single input changes that meet a criterion on a computed value (see `through`)."""
        if self._search is None:
            self._search = Search(self.ruleset, self.data, self.decision, self.decide_set, self.is_fixed)
        c = self.crit[cid]
        pointers = (*c.inputs, *c.missing)
        return self._search.changes(cid, self.a.regions[cid], pointers)

    def completed(self, cid: str) -> tuple[Found, ...]:
        """Changes that meet a criterion on a computed value together, when no single one does (see `through`)."""
        if self._search is None or cid not in self.a.regions:
            return ()
        c = self.crit[cid]
        found = self._search.completed(cid, self.a.regions[cid], (*c.inputs, *self.missing_of(c)))
        if found:
            self._completed.add(cid)
        return found

    def found_change(self, f: Found) -> m.InputChange:
        """A change found through a computed value: raise or lower a number, set a truth value or a choice."""
        numeric = f.present and all(isinstance(v, (int, Decimal)) and v.__class__ is not bool
                                    for v in (f.current, f.target))
        op = f.op or ("==" if not numeric else ">=" if f.target > f.current else "<=")
        return m.InputChange(pointer=f.pointer, input=self.input_name(f.pointer), present=f.present,
                             current=f.current, target=f.target, op=op, threshold=f.target, derived=f.derived)

    def fixed_sentence(self, c: CriterionResult, steps: Sequence[_Step]) -> str:
        """Why no change can make a criterion met: no allowed value passes, or it reads only fixed inputs."""
        impossible = next((st for st in steps if st.threshold is not None and st.target is None), None)
        if impossible is not None:
            return self.msg("change.impossible", title=c.title, id=c.id,
                            input=self.input_name(impossible.check.pointer),
                            requirement=self.requirement(impossible.check.op, impossible.threshold))
        names = [self.input_name(p) for p in self.fixed_reads(c.id)] or [self.msg.template("list.none")]
        return self.msg("change.fixed", title=c.title, id=c.id, inputs=self.msg.join(names))

    def input_change(self, st: _Step) -> m.InputChange:
        return m.InputChange(pointer=st.check.pointer, input=self.input_name(st.check.pointer), present=st.present,
                             current=st.value, target=st.target, op=st.check.op, threshold=st.threshold,
                             relative_to=st.check.other)

    def input_change_words(self, change: m.InputChange) -> str:
        """``provide X (at least 3)``, ``raise X from 2 to 3``, ``lower ...``, ``set ...``."""
        if not change.present:
            op, threshold = change.op, change.threshold
            whole = change.target.__class__ is int and op in (">", ">=", "<", "<=")
            if whole and isinstance(threshold, (int, Decimal)) and threshold.__class__ is not bool \
                    and Fraction(threshold).denominator != 1:
                # a whole-number input against a threshold that is not whole (more than 7.5): the whole number it needs
                op, threshold = (">=" if op in (">", ">=") else "<="), change.target
            words = self.msg("change.provide", input=change.input, requirement=self.requirement(op, threshold))
        else:
            verb = {">=": "raise", ">": "raise", "<=": "lower", "<": "lower"}.get(change.op, "set")
            words = self.msg(f"change.{verb}", input=change.input, current=change.current, target=change.target)
        if change.derived:
            values = self.msg.join([self.msg("change.then", name=k, value=v) for k, v in change.derived.items()])
            words = self.msg("change.through", change=words, values=values)
        return words

    def inconsistency(self, steps: Sequence[_Step]) -> str | None:
        """The first problem the validator finds once the steps' targets are set, or None."""
        trial = copy.deepcopy(dict(self.data))
        for st in steps:
            set_at(trial, st.check.pointer, st.target)
        _, problems = self.ruleset.plan.validator.validate(trial)
        return problems[0].message if problems else None

    def change_set(self, label: str, title: str, members: tuple[str, ...], scores: Sequence[str]) -> m.ChangeSet:
        changes = [self.change(c) for c in members]
        feasible = all(ch.kind != "fixed" for ch in changes)
        concrete = all(ch.kind == "input" for ch in changes)
        merged: dict[str, m.InputChange] = {}
        for change in (one for ch in changes for one in ch.changes):
            prev = merged.get(change.pointer)
            if prev is None or analysis.passes(change.op, prev.target, change.threshold):
                merged.setdefault(change.pointer, change)
            elif analysis.passes(prev.op, change.target, prev.threshold):
                merged[change.pointer] = change
            else:
                concrete = False  # two criteria need values of one input that no single value meets
        verified: bool | None = None
        if concrete and feasible:
            trial = copy.deepcopy(dict(self.data))
            for change in merged.values():
                set_at(trial, change.pointer, change.target)
            try:
                verified = evaluate(self.ruleset, trial).outcome_of(label) == "met"
            except AssessmentError:  # the changes break a consistency check of the inputs
                verified = False
        weight = sum((Fraction(self.scores[s].weights.get(c, 0)) for s in scores for c in members), Fraction(0))
        sentence = self.msg("path.set", changes=self.msg.join([ch.sentence for ch in changes]))
        if verified is not None:
            sentence += " (" + self.msg("path.verified" if verified else "path.unverified", title=title) + ")"
        return m.ChangeSet(criteria=members, size=len(members), weight=_exact(weight), feasible=feasible,
                           concrete=concrete, changes=tuple(merged.values()), verified=verified, sentence=sentence)

    def listed(self, sets: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The first of ``sets`` (ranked) whose changes, with those listed before in the explanation, stay within
        `MAX_LISTED_CHANGES`; at least the first set."""
        out: list[tuple[str, ...]] = []
        for s in sets:
            if out and self.changes_listed + len(s) > MAX_LISTED_CHANGES:
                break
            out.append(s)
            self.changes_listed += len(s)
        return out

    def option(self, o: paths.Option) -> m.Option:
        picks = tuple(m.Pick(count=p.count, weight=_exact(p.weight), criteria=p.ids) for p in o.picks)
        sep = self.msg.template("list.separator")
        words = [self.msg("path.pick_all" if p.count == len(p.criteria) else "path.pick", p.count, count=p.count,
                          ids=sep.join(p.criteria), weight=p.weight) for p in picks]
        return m.Option(picks=picks, size=o.size, weight=_exact(o.weight), combinations=o.combinations,
                        sentence=self.msg.join(words))

    def need(self, n: paths.ScoreNeed) -> m.ScoreNeed:
        title = self.scores[n.score].title
        options = tuple(self.option(o) for o in n.options)
        weights = self.scores[n.score].weights
        if n.reachable:
            key = "path.need_after" if n.mandatory_weight else "path.need"
            sentence = self.msg(key, score=title, deficit=n.deficit, met=n.met_weight, added=n.mandatory_weight,
                                required=n.required_weight,
                                options=self.msg.template("path.option_or").join(o.sentence for o in options))
        else:
            sentence = self.msg(self.short_key(n.score), score=title, required=n.required_weight,
                                ids=self.msg.join(list(n.candidates)),
                                deficit=n.deficit - sum((Fraction(weights[c]) for c in n.candidates), Fraction(0)))
        if n.excluded:
            sentence += " " + self.msg("path.excluded", ids=self.msg.join(list(n.excluded)))
        return m.ScoreNeed(
            score=n.score, title=title, met_weight=_exact(n.met_weight), required_weight=_exact(n.required_weight),
            mandatory_weight=_exact(n.mandatory_weight), deficit=_exact(n.deficit),
            candidates=tuple(m.WeightedCriterion(criterion=c, weight=weights[c]) for c in n.candidates),
            excluded=n.excluded, options=options, combinations=n.combinations, complete=n.complete,
            reachable=n.reachable, sentence=sentence,
        )

    # -- what it takes, counted in inputs -------------------------------------------------------

    def units(self, involved: Sequence[str]) -> tuple[dict[str, tuple[str, ...] | None], dict[str, m.InputChange],
                                                      dict[str, list[m.InputChange]], dict[str, tuple[str, ...]]]:
        """(each criterion's units, each input unit's change, every change asked of each input, the criteria
        met by any one of several units: those units).

        An input unit is an input set to the strongest value the criteria of the tier ask of it
        (raising an input to 30 meets ``>= 10``, ``>= 20`` and ``>= 30`` at once); values that no
        single value meets (``>= 30`` and ``<= 24``) are separate units (``/x#2``). A criterion
        whose condition is described, not given as values, is one unit ``criterion:<id>``; one that
        cannot change has none (None). A criterion on a computed value that several single input changes
        meet (`through`) has each as a unit, any one of which meets it (its units are the first).
        """
        units_of: dict[str, tuple[str, ...] | None] = {}
        changes: dict[str, m.InputChange] = {}
        asked: dict[str, list[m.InputChange]] = {}
        either: dict[str, tuple[str, ...]] = {}
        for cid in involved:
            ch = self.change(cid)
            if ch.kind != "input":
                units_of[cid] = None if ch.kind == "fixed" else (f"criterion:{cid}",)
                continue
            if len(ch.alternatives) > 1:
                either[cid] = tuple(self.unit(change, changes, asked) for change in ch.alternatives)
                units_of[cid] = either[cid][:1]
                continue
            units_of[cid] = tuple(self.unit(change, changes, asked) for change in ch.changes)
        return units_of, changes, asked, either

    @staticmethod
    def unit(change: m.InputChange, changes: dict[str, m.InputChange], asked: dict[str, list[m.InputChange]]) -> str:
        """The unit of one input change: the input's, raised to the stronger value when one meets the other."""
        asked.setdefault(change.pointer, []).append(change)
        key, n = change.pointer, 1
        while (prev := changes.get(key)) is not None and prev.target != change.target:
            if analysis.passes(change.op, prev.target, change.threshold):
                break
            if analysis.passes(prev.op, change.target, prev.threshold):
                changes[key] = change
                break
            n += 1
            key = f"{change.pointer}#{n}"
        changes.setdefault(key, change)
        return key

    def decide_with(self, changes: Sequence[m.InputChange]) -> Decision | None:
        """The decision with ``changes`` applied, or None when they break a consistency check of the inputs."""
        return self.decide_set([(change.pointer, change.target) for change in changes])

    def decide_set(self, changes: Sequence[tuple[str, Any]]) -> Decision | None:
        """The decision with each (pointer, value) set, or None when they break a consistency check of the inputs."""
        trial = copy.deepcopy(dict(self.data))
        for pointer, value in changes:
            set_at(trial, pointer, value)
        try:
            return evaluate(self.ruleset, trial)
        except AssessmentError:
            return None

    def reaches(self, label: str, changes: Sequence[m.InputChange]) -> bool:
        """Whether deciding again with ``changes`` applied gives the tier met."""
        decision = self.decide_with(changes)
        return decision is not None and decision.outcome_of(label) == "met"

    def least(self, label: str, chosen: dict[str, m.InputChange],
              asked: Mapping[str, list[m.InputChange]]) -> dict[str, m.InputChange]:
        """Each input of a set that reaches the tier lowered, in turn, to the nearest value asked of it that
        still reaches it (a credit raised to its second step when the first two steps suffice)."""
        for key, change in list(chosen.items()):
            weaker = [a for a in asked.get(change.pointer, ()) if a.target != change.target
                      and analysis.passes(a.op, change.target, a.threshold)]
            weaker.sort(key=lambda a: _distance(a.current, a.target))
            for candidate in [a for i, a in enumerate(weaker) if a not in weaker[:i]]:  # once each, in order
                trial = {**chosen, key: candidate}
                if self.reaches(label, list(trial.values())):
                    chosen = trial
                    break
        return chosen

    def short_name(self, unit: str, changes: Mapping[str, m.InputChange]) -> str:
        """A unit as a list shows it: ``4.5``, ``eligibility.management_fte``, or a criterion id."""
        if unit in changes:
            return self.input_name(changes[unit].pointer).split(" (", 1)[0]
        if JOIN in unit:
            return self.msg.join([self.short_name(u, changes) for u in unit.split(JOIN)])
        return unit.removeprefix("criterion:")

    def turned_met(self, changes: list[m.InputChange] | None, units: set[str],
                   units_of: Mapping[str, tuple[str, ...] | None]) -> tuple[str, ...]:
        """The criteria of the tier a set turns met: decided again with ``changes`` (when they reach the tier),
        else the criteria whose units are all in the set."""
        after = self.decide_with(changes) if changes is not None else None
        if after is not None:
            now = {c.id: c.outcome for c in after.criteria}
            return tuple(c.id for c in self.decision.criteria
                         if c.id in units_of and c.outcome != "met" and now.get(c.id) == "met")
        return tuple(c.id for c in self.decision.criteria if set(units_of.get(c.id) or ("",)) <= units)

    def input_set(self, label: str, units: tuple[str, ...], units_of: Mapping[str, tuple[str, ...] | None],
                  changes: Mapping[str, m.InputChange], asked: Mapping[str, list[m.InputChange]]) -> m.InputSet:
        chosen = {u: changes[u] for u in units if u in changes}
        conditions = tuple(u.removeprefix("criterion:") for u in units if u not in changes)
        verified: bool | None = None
        if not conditions:
            verified = self.reaches(label, list(chosen.values()))
            if verified:
                chosen = self.least(label, chosen, asked)
        criteria = self.turned_met(list(chosen.values()) if verified else None, set(units), units_of)
        words = [self.input_change_words(ch) for ch in chosen.values()] + [self.change(c).sentence for c in conditions]
        sentence = self.msg("path.set", changes=self.msg.join(words))
        if verified is not None:
            sentence += " (" + self.msg("path.verified" if verified else "path.unverified",
                                        title=self.doc.tiers[label].title) + ")"
        return m.InputSet(inputs=tuple(chosen.values()), conditions=conditions, size=len(units), criteria=criteria,
                          verified=verified, sentence=sentence)

    def short_key(self, score: str) -> str:
        """The message of a score its criteria alone cannot bring to its threshold: unreachable, or, for a score
        that weighs numbers as they are, short by what the numbers must make up."""
        return "path.short_by_criteria" if self.scores[score].points else "path.unreachable_score"

    def input_need(self, n: paths.ScoreNeed, changes: Mapping[str, m.InputChange], units: Structure) -> str:
        title = self.scores[n.score].title
        sep = self.msg.template("list.separator")
        if not n.reachable:
            most = sum((units.weights[n.score][u] for u in n.candidates), Fraction(0))
            return self.msg(self.short_key(n.score), score=title, required=n.required_weight,
                            ids=self.msg.join([self.short_name(u, changes) for u in n.candidates]),
                            deficit=n.deficit - most)
        options = []
        for o in n.options:
            words = [self.msg("path.pick_all" if p.count == len(p.ids) else "path.pick", p.count, count=p.count,
                              ids=sep.join(self.short_name(u, changes) for u in p.ids), weight=p.weight)
                     for p in o.picks]
            options.append(self.msg.join(words))
        return self.msg("path.need", score=title, deficit=n.deficit, met=n.met_weight, required=n.required_weight,
                        options=self.msg.template("path.option_or").join(options))

    def input_path(self, label: str, fallback: str) -> dict[str, Any]:
        """The TierPath fields of the path counted in inputs."""
        tier = self.doc.tiers[label]
        direct, _ = flatten(self.structure, tier.requires)
        involved = self.involved(label)
        units_of, changes, asked, either = self.units(involved)
        if either:
            sol = solve_choices(self.structure, tier.requires, self.outcomes, units_of, either, cap=self.cap)
            structure = None
        else:
            sol, structure = solve_units(self.structure, tier.requires, self.outcomes, units_of, cap=self.cap)
        if sol.fixed:
            return {"input_sets": (), "input_sets_total": 0, "input_sets_exhaustive": True, "input_sentence": fallback}
        sets = tuple(self.input_set(label, s, units_of, changes, asked) for s in self.listed(sol.sets))
        parts: list[str] = []
        if structure is None:
            every = _every_set_makes(sets, self.claims(direct, units_of, changes, either))
            parts.extend(self.either_words(direct, units_of, changes, either, bool(sol.needs), every=every))
            if not every:
                parts.insert(0, self.msg.template("path.together"))
        else:
            parts.extend(self.mandatory_words(sol, sets, changes, structure))
        completed = bool(self._completed.intersection(involved))
        paired = bool(self._paired.intersection(involved))
        if not sol.exhaustive:
            parts.append(self.msg.template("path.not_exhaustive"))
        elif completed:
            parts.append(self.msg.template("path.completed"))
        elif paired:
            parts.append(self.msg.template("path.paired"))
        exhaustive = sol.exhaustive and not completed and not paired
        return {"input_sets": sets, "input_sets_total": sol.total, "input_sets_exhaustive": exhaustive,
                "input_sentence": " ".join(parts)}

    def claims(self, direct: Sequence[str], units_of: Mapping[str, tuple[str, ...] | None],
               changes: Mapping[str, m.InputChange],
               either: Mapping[str, tuple[str, ...]]) -> list[list[m.InputChange]]:
        """What "in every case" says of the criteria a tier requires directly: for each not met, its changes (one
        claim each), or the options any one of which meets it (one claim)."""
        claims: list[list[m.InputChange]] = []
        for cid in direct:
            if self.outcomes.get(cid) == "met":
                continue
            if cid in either:
                claims.append([changes[u] for u in either[cid] if u in changes])
            else:
                claims.extend([changes[u]] for u in dict.fromkeys(units_of.get(cid) or ()) if u in changes)
        return claims

    def mandatory_words(self, sol: TierSolution, sets: Sequence[m.InputSet], changes: Mapping[str, m.InputChange],
                        structure: Structure) -> list[str]:
        """What every set does ("in every case", unless some set does without it: then that the criteria are met
        together) and what the scores still need."""
        parts: list[str] = []
        mandatory = sol.mandatory
        if mandatory and not _every_set_makes(sets, [[changes[u]] for u in mandatory if u in changes]):
            mandatory = ()
            parts.append(self.msg.template("path.together"))
        if mandatory:
            words = [self.unit_words(u, changes) for u in mandatory]
            parts.append(self.msg("path.every", changes=self.msg.join(words)))
        parts.extend(self.input_need(n, changes, structure) for n in sol.needs)
        return parts

    def involved(self, label: str) -> list[str]:
        """The criteria not met that a tier's requirement reaches: those it requires (through groups) and those
        its scores weigh."""
        direct, scores = flatten(self.structure, self.doc.tiers[label].requires)
        weighted = (c for sid in scores for c in self.structure.weights[sid])
        return [c for c in dict.fromkeys([*direct, *weighted]) if self.outcomes.get(c) != "met"]

    def unit_words(self, unit: str, changes: Mapping[str, m.InputChange]) -> str:
        """One unit in words: its input change, or the criterion to meet."""
        if unit in changes:
            return self.input_change_words(changes[unit])
        return self.change(unit.removeprefix("criterion:")).sentence

    def either_words(self, direct: Sequence[str], units_of: Mapping[str, tuple[str, ...] | None],
                     changes: Mapping[str, m.InputChange], either: Mapping[str, tuple[str, ...]],
                     needs: bool, *, every: bool = True) -> list[str]:
        """The compact form when some criteria are met by any one of several changes: what every set does, each
        such criterion's changes joined by "or" (unless not ``every`` set does so), and a pointer to the sets
        when scores need more."""
        words: list[str] = []
        for cid in direct if every else ():
            if self.outcomes.get(cid) == "met":
                continue
            if cid in either:
                options = [self.unit_words(u, changes) for u in either[cid]]
                words.append(self.msg("path.either", options=self.msg.join(options, "or")))
            else:
                words.extend(self.unit_words(u, changes) for u in dict.fromkeys(units_of.get(cid) or ()))
        parts = [self.msg("path.every", changes=self.msg.join(words))] if words else []
        if needs:
            parts.append(self.msg.template("path.need_sets"))
        return parts

    def path(self, label: str) -> m.TierPath:
        tier = self.doc.tiers[label]
        t = next(t for t in self.decision.tiers if t.label == label)
        sol: TierSolution = solve(self.structure, tier.requires, self.outcomes, self.changeable, cap=self.cap)
        _, scores = flatten(self.structure, tier.requires)
        needs = tuple(self.need(n) for n in sol.needs)
        sets = tuple(self.change_set(label, tier.title, s, scores) for s in self.listed(sol.sets))
        involved = [*sol.mandatory, *(c for n in sol.needs for c in (*n.candidates, *n.excluded))]
        changes = tuple(self.change(c) for c in dict.fromkeys(involved))
        parts: list[str] = []
        if sol.fixed:
            parts.append(self.msg("path.fixed", title=tier.title,
                                  reasons=self.msg.join([self.change(c).sentence for c in sol.fixed])))
            rest = [self.change(c).sentence for c in sol.mandatory if c not in sol.fixed]
            if rest:
                parts.append(self.msg("path.fixed_rest", changes=self.msg.join(rest)))
        elif sol.mandatory:
            parts.append(self.msg("path.every", changes=self.msg.join([self.change(c).sentence
                                                                       for c in sol.mandatory])))
        parts.extend(n.sentence for n in needs)
        if not sol.exhaustive:
            parts.append(self.msg.template("path.not_exhaustive"))
        route, reachable = self.points_route(label, sol, self.input_path(label, " ".join(parts)))
        return m.TierPath(
            label=label, title=tier.title, outcome=t.outcome, reachable=reachable, mandatory=sol.mandatory,
            fixed=sol.fixed, needs=needs, total_sets=sol.total, exhaustive=sol.exhaustive, change_sets=sets,
            truncated=sol.total > len(sets), changes=changes, sentence=" ".join(parts), **route,
        )

    # -- the numbers a score weighs as they are -------------------------------------------------
    def points_room(self, scores: Sequence[str]) -> tuple[list[str], list[str]]:
        """(the inputs read by the numbers the scores weigh as they are that could still add weight, in
        words each such number with what it counts now and its maximum)."""
        pointers: list[str] = []
        items: list[str] = []
        for sp in self.ruleset.plan.composites:
            if not isinstance(sp, ScorePlan) or sp.id not in scores or not sp.points:
                continue
            for p in sp.points:
                shown = self.scores[sp.id].points[p.id]
                if shown.counted is not None and Fraction(shown.counted) >= Fraction(p.maximum):
                    continue
                pointers.extend(r for r in p.reads if r not in pointers)
                item = (self.msg("score.points_item", name=p.id, value=shown.value, counted=shown.counted,
                                 maximum=p.maximum) if shown.counted is not None
                        else self.msg("score.points_unknown", name=p.id, maximum=p.maximum))
                if item not in items:
                    items.append(item)
        return pointers, items

    def points_route(self, label: str, sol: TierSolution, route: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """What it takes counted in inputs, with the numbers the tier's scores weigh as they are: the sets
        of the criteria hold them as decided; the minimal sets that raise a number too (`mixed_sets`: alone,
        or with criteria) are listed with them, fewest changes first, each confirmed by deciding again.
        Where those cannot be enumerated (a criterion met by any one of several changes), a single change
        of an input they read that reaches the tier, and when the criteria alone cannot reach it, one such
        change after meeting every criterion that can change; the list then says it may not be complete.
        (route, whether the tier is reachable)"""
        _, scores = flatten(self.structure, self.doc.tiers[label].requires)
        pointers, items = self.points_room(scores)
        if not pointers:
            return route, sol.feasible
        words = [self.msg("path.points_held", items=self.msg.join(items))]
        mixed = self.mixed_sets(label, scores)
        if mixed is None:
            return self.points_singles(label, sol, route, pointers, words)
        sets, total, exhaustive = mixed
        if sets:
            words.append(self.msg("path.points_sets", changes=self.msg.join([s.sentence for s in sets])))
        elif not sol.feasible and not sol.fixed:
            words.append(self.msg("path.points_none", title=self.doc.tiers[label].title))
        listed = sorted((*sets, *route["input_sets"]), key=lambda s: s.size)[:self.cap]
        sentence = " ".join(filter(None, [route["input_sentence"], *words]))
        if not exhaustive and route["input_sets_exhaustive"]:
            sentence += " " + self.msg.template("path.not_exhaustive")
        return ({"input_sets": tuple(listed), "input_sets_total": route["input_sets_total"] + total,
                 "input_sets_exhaustive": route["input_sets_exhaustive"] and exhaustive,
                 "input_sentence": sentence}, sol.feasible or bool(sets))

    def points_singles(self, label: str, sol: TierSolution, route: dict[str, Any], pointers: Sequence[str],
                       words: list[str]) -> tuple[dict[str, Any], bool]:
        """`points_route` where the sets mixing criteria and numbers cannot be enumerated: a single change of an
        input the numbers read that reaches the tier; when the criteria alone cannot reach it, one such change
        after meeting every criterion that can change. The list then may not be complete."""
        title = self.doc.tiers[label].title
        search = self.search()
        verified = " (" + self.msg("path.verified", title=title) + ")"
        found = search.reaching(label, tuple(pointers))
        sets = [m.InputSet(inputs=(ch,), size=1, criteria=(), verified=True,
                           sentence=self.msg("path.set", changes=self.input_change_words(ch)) + verified)
                for ch in (self.found_change(f) for f in found)]
        if sets:
            words.append(self.msg("path.points_single", changes=self.msg.join([s.sentence for s in sets])))
        elif not sol.feasible and not sol.fixed:
            chosen = self.points_after_criteria(label, sol, pointers)
            if chosen:
                said = self.msg.join([self.input_change_words(ch) for ch in chosen])
                sets.append(m.InputSet(inputs=chosen, size=len(chosen), criteria=(), verified=True,
                                       sentence=self.msg("path.set", changes=said) + verified))
                words.append(self.msg("path.points_with", change=self.input_change_words(chosen[-1]), changes=said))
            else:
                words.append(self.msg("path.points_none", title=title))
        listed = (*sets, *route["input_sets"])[:self.cap]
        sentence = " ".join(filter(None, [route["input_sentence"], *words]))
        return ({"input_sets": listed, "input_sets_total": route["input_sets_total"] + len(sets),
                 "input_sets_exhaustive": False, "input_sentence": sentence}, sol.feasible or bool(sets))

    def numbers_with_room(self, scores: Sequence[str]) -> dict[str, tuple[dict[str, Fraction], tuple[str, ...]]]:
        """The numbers the scores weigh as they are that could still add weight, by unit (``number:<n>``; one
        number weighed by several levels of a score is one unit): the most each adds to each score (its
        maximum less what it counts; its maximum when it has no value), and the inputs it reads that a
        change may set."""
        out: dict[str, tuple[dict[str, Fraction], tuple[str, ...]]] = {}
        keys: dict[tuple[str, str, Fraction], str] = {}
        for sp in self.ruleset.plan.composites:
            if not isinstance(sp, ScorePlan) or sp.id not in scores:
                continue
            for p in sp.points:
                counted = self.scores[sp.id].points[p.id].counted
                room = Fraction(p.maximum) - (Fraction(counted) if counted is not None else Fraction(0))
                reads = tuple(r for r in p.reads if not self.is_fixed(r))
                if room <= 0 or not reads:
                    continue
                key = keys.setdefault((p.id, p.value, Fraction(p.maximum)), f"number:{len(keys)}")
                out.setdefault(key, ({}, reads))[0][sp.id] = room
        return out

    def mixed_sets(self, label: str, scores: Sequence[str]) -> tuple[list[m.InputSet], int, bool] | None:
        """The minimal sets that raise a number weighed as it is, alone or with criteria (`mixed_units`), each
        made by deciding again (`mixed_set`). (the sets, how many, whether that is every one): not every one
        when the enumeration was cut, a set could not be made as counted, or the numbers read an input that
        other changes set. None when some criterion is met by any one of several changes (then it cannot be
        enumerated here)."""
        numbers = self.numbers_with_room(scores)
        found = self.mixed_units(label, numbers)
        if found is None:
            return None
        sol, changes = found
        shared = {ch.pointer for ch in changes.values()}.intersection(*[set(r) for _, r in numbers.values()])
        exhaustive = sol.exhaustive and sol.total <= len(sol.sets) and not shared
        out: list[m.InputSet] = []
        for units in sol.sets:
            if any(u in numbers for u in units):  # a set of criteria alone is listed already
                made, complete = self.mixed_set(label, units, numbers, changes)
                out.extend(made)
                exhaustive = exhaustive and complete
        out.sort(key=lambda s: s.size)
        return out, len(out), exhaustive

    def mixed_units(self, label: str, numbers: Mapping[str, tuple[dict[str, Fraction], tuple[str, ...]]]
                    ) -> tuple[TierSolution, dict[str, m.InputChange]] | None:
        """The minimal sets of units (`paths.solve_units`) with each number weighed as it is a unit of the weight
        it could still add, and each input unit's change; None when some criterion is met by any one of several
        changes."""
        tier = self.doc.tiers[label]
        units_of, changes, _, either = self.units(self.involved(label))
        if either:
            return None
        weights = {sid: dict(w) for sid, w in self.structure.weights.items()}
        outcomes = dict(self.outcomes)
        order = dict(self.structure.order)
        for key, (rooms, _) in numbers.items():
            for sid, room in rooms.items():
                weights[sid][key] = room
            outcomes[key], units_of[key], order[key] = "not_met", (key,), len(order)
        structure = Structure(self.structure.groups, weights, self.structure.required, order)
        sol, _ = solve_units(structure, tier.requires, outcomes, units_of, cap=paths.MAX_OVERLAP_ENUMERATION)
        return sol, changes

    def mixed_set(self, label: str, units: Sequence[str],
                  numbers: Mapping[str, tuple[dict[str, Fraction], tuple[str, ...]]],
                  changes: Mapping[str, m.InputChange]) -> tuple[list[m.InputSet], bool]:
        """One minimal set of units that raises numbers, made: the other units' changes applied, the numbers'
        inputs searched (`raised`); a number read from several inputs gives a set per input that does it.
        (the sets, whether they are every one of it): not when it raises more than two numbers or meets a
        criterion by its condition, none was found, or it is the first pair of several."""
        raised = [u for u in units if u in numbers]
        others = [u for u in units if u not in numbers]
        if len(raised) > 2 or any(u not in changes for u in others):
            return [], False
        base = tuple((changes[u].pointer, changes[u].target) for u in others)
        reads = [tuple(r for r in numbers[u][1] if r not in dict(base)) for u in raised]
        found = self.raised(label, base, reads)
        title = self.doc.tiers[label].title
        out: list[m.InputSet] = []
        for change in found:
            chosen = (*(changes[u] for u in others), *change)
            verified = self.reaches(label, chosen)
            said = self.msg.join([self.input_change_words(ch) for ch in chosen])
            out.append(m.InputSet(inputs=chosen, size=len(chosen), criteria=(), verified=verified,
                                  sentence=self.msg("path.set", changes=said) + " (" + self.msg(
                                      "path.verified" if verified else "path.unverified", title=title) + ")"))
        return out, bool(found) and not (len(raised) > 1 and any(len(r) > 1 for r in reads))

    def raised(self, label: str, base: tuple[tuple[str, Any], ...],
               reads: Sequence[tuple[str, ...]]) -> list[tuple[m.InputChange, ...]]:
        """With ``base`` applied, the changes that raise the numbers reading ``reads`` (one tuple of inputs each)
        and reach the tier: for one number, each single change of an input it reads that does; for two, the
        first pair of an input of each that does (`Search.pair`)."""
        search = self.search()
        search.base = base
        try:
            if len(reads) == 1:
                return [(self.found_change(f),) for f in search.reaching(label, reads[0])]
            pair = search.pair(label, (*reads[0], *reads[1]))
        finally:
            search.base = ()
        one = set(reads[0])
        if len(pair) != 2 or (pair[0].pointer in one) == (pair[1].pointer in one):
            return []  # not one input of each number
        return [tuple(self.found_change(f) for f in pair)]

    def points_after_criteria(self, label: str, sol: TierSolution,
                              pointers: Sequence[str]) -> tuple[m.InputChange, ...]:
        """Every criterion that can change met (the changes of the score needs' candidates), then one change of
        an input the numbers weighed read that reaches the tier, confirmed by deciding again; () when none."""
        base = [ch for c in dict.fromkeys(c for n in sol.needs for c in n.candidates) for ch in self.change(c).changes]
        search = self.search()
        search.base = tuple((ch.pointer, ch.target) for ch in base)
        try:
            after = search.reaching(label, tuple(p for p in pointers if p not in dict(search.base)))
        finally:
            search.base = ()
        chosen = (*base, self.found_change(after[0])) if after else ()
        return chosen if chosen and self.reaches(label, chosen) else ()

    def search(self) -> Search:
        """The search through computed values, made on first use."""
        if self._search is None:
            self._search = Search(self.ruleset, self.data, self.decision, self.decide_set, self.is_fixed)
        return self._search

    # -- the whole --------------------------------------------------------------------------

    def subject(self) -> tuple[str | None, str | None, str]:
        """The subject's id and name (when they are strings: the inputs the ruleset's subject names)
        and how the summary names it ("the building" when it has neither)."""
        subject = resolve_subject(self.doc)
        sid, name = subject.id_of(self.data), subject.name_of(self.data)
        if sid is not None and name is not None:
            who = self.msg("decision.named", name=name, id=sid)
        else:
            who = name or sid or self.msg("decision.unnamed", noun=subject.noun)
        return sid, name, who

    def awarded(self, who: str, label_title: str | None) -> str:
        """The first sentence of the summary: the label awarded and until when, or none."""
        d = self.decision
        head: dict[str, Any] = {"methodology": d.methodology, "version": d.version, "subject": who,
                                "label": label_title or ""}
        if label_title is None:
            return self.msg("decision.none", **head)
        if d.valid_until is None and d.validity_expires is False:
            return self.msg("decision.awarded_no_expiry", valid_from=d.valid_from, **head)
        if d.valid_until is None:
            return self.msg("decision.awarded_open", **head)
        return self.msg("decision.awarded", valid_from=d.valid_from, valid_until=d.valid_until, **head)

    def version_choice(self) -> m.VersionChoice:
        """Which version was applied and why."""
        d = self.decision
        assessed_on = self.data.get("assessed_on")
        # a version chosen by its selected_by (another date, an input's value) says why in its reason
        selected = f"version {d.version} applies because "
        key = "selected" if d.resolution.method == "in_force" and d.resolution.reason.startswith(selected) else \
            d.resolution.method
        return m.VersionChoice(
            method=d.resolution.method, reason=d.resolution.reason, effective_from=self.doc.effective_from,
            assessed_on=assessed_on, sentence=self.msg(f"version.{key}", version=d.version,
                                                       date=assessed_on, effective_from=self.doc.effective_from,
                                                       reason=d.resolution.reason,
                                                       why=d.resolution.reason.removeprefix(selected)),
        )

    def path_summary(self, p: m.TierPath) -> str | None:
        """The summary's sentence on a tier above the label: its first set of input changes, or why it cannot be
        reached."""
        if p.reachable and p.input_sets:
            return self.msg("path.summary_reachable", title=p.title, changes=p.input_sets[0].sentence)
        if p.fixed:
            return self.msg("path.summary_fixed", title=p.title,
                            criteria=self.msg.join([self.ref_name(c) for c in p.fixed]))
        if not p.reachable:
            return self.msg("path.summary_unreachable", title=p.title)
        return None

    def build(self) -> m.Explanation:
        d = self.decision
        doc = self.doc
        subject_id, subject_name, who = self.subject()
        label_title = doc.tiers[d.label].title if d.label != NONE_LABEL else None
        summary = [self.awarded(who, label_title)]
        version = self.version_choice()
        summary.append(version.sentence)
        above = list(doc.labels)[list(doc.labels).index(d.label) + 1:] if d.label != NONE_LABEL else list(doc.labels)
        routes = tuple(self.path(label) for label in above)
        summary += [line for line in map(self.path_summary, routes) if line is not None]
        misses, passes = self.near()
        return m.Explanation(
            language=self.msg.language, methodology=d.methodology, version=d.version,
            ruleset_sha256=d.ruleset_sha256, resolution=version, subject=subject_id, subject_name=subject_name,
            subject_noun=resolve_subject(self.doc).noun, subject_key=resolve_subject(self.doc).key,
            label=d.label, label_title=label_title, valid_from=d.valid_from, valid_until=d.valid_until,
            validity_expires=d.validity_expires,
            validity_rule=d.validity_rule, summary=tuple(summary),
            tiers=tuple(self.tier(t.label, t.label == d.label) for t in d.tiers),
            groups=tuple(self.group(g.id) for g in d.groups), scores=tuple(self.score(s.id) for s in d.scores),
            criteria=tuple(self.criterion(c) for c in d.criteria), near_misses=tuple(misses),
            derived=tuple(self.derived(r) for r in d.derived),
            narrow_passes=tuple(passes), what_it_takes=routes,
            settings=m.Settings(near_margin=self.margin, max_change_sets=self.cap, fixed_inputs=self.fixed),
        )


def explain(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment, *, resolution: Resolution | None = None,
            language: str = DEFAULT_LANGUAGE, near_margin: Decimal = DEFAULT_NEAR_MARGIN,
            max_change_sets: int = DEFAULT_MAX_CHANGE_SETS, fixed: Sequence[str] | None = None,
            cache: ExplanationCache | None = None) -> m.Explanation:
    """Decide an assessment under one ruleset version and explain the decision.

    Args:
        ruleset: the version to apply.
        assessment: raw assessment data (validated here) or an `Assessment`.
        resolution: how the version was chosen, recorded in the decision (default: given).
        language: the language of the sentences (a file under ``ecei_rules/messages``).
        near_margin: a value within this share of its threshold is a near miss.
        max_change_sets: change sets listed per tier (counts and options stay exact).
        fixed: JSON pointers of inputs that cannot change (default: `fixed_inputs`).
        cache: what earlier calls computed of the version and the language (`ExplanationCache`);
            default: a fresh one.

    Raises:
        AssessmentError: the assessment does not match the version's inputs.
        MessagesError: no messages for ``language``.
        ValueError: ``near_margin`` is not a margin (`margin_problem`), or ``max_change_sets`` is not 1 to
            `MAX_CHANGE_SETS`.
    """
    problem = margin_problem(near_margin)
    if problem is not None:
        raise ValueError(f"near_margin {near_margin!r}: {problem}")
    if isinstance(max_change_sets, bool) or not isinstance(max_change_sets, int) \
            or not 1 <= max_change_sets <= MAX_CHANGE_SETS:
        raise ValueError(f"max_change_sets {max_change_sets!r}: a whole number from 1 to {MAX_CHANGE_SETS}")
    cache = cache if cache is not None else ExplanationCache()
    cache.messages(language)  # an unknown language fails before the assessment is read
    if isinstance(assessment, Assessment) and assessment.ruleset_sha256 == ruleset.sha256:
        validated = assessment
    else:
        raw = assessment.data if isinstance(assessment, Assessment) else assessment
        validated = validate_assessment(ruleset, dict(raw))
    decision = evaluate(ruleset, validated, resolution=resolution)
    return _Builder(ruleset, validated.data, decision, cache, language, near_margin, max_change_sets, fixed).build()


def explain_assessment(data: Any, *, registry: Registry | None = None, methodology: str | None = None,
                       version: str | None = None, language: str = DEFAULT_LANGUAGE,
                       near_margin: Decimal = DEFAULT_NEAR_MARGIN, max_change_sets: int = DEFAULT_MAX_CHANGE_SETS,
                       fixed: Sequence[str] | None = None, cache: ExplanationCache | None = None) -> m.Explanation:
    """Explain raw assessment data under the pinned version, or the one in force on its ``assessed_on``.

    The arguments are those of `explain`; ``registry`` defaults to the shipped rulesets.

    Raises:
        AssessmentError: the assessment is invalid for the version.
        ResolutionError: no version answers (unknown methodology or version, date too early).
        MessagesError: no messages for ``language``.
    """
    ruleset, resolution = registry_resolver(registry or Registry.shipped(), methodology, version)(data)
    return explain(ruleset, data, resolution=resolution, language=language, near_margin=near_margin,
                   max_change_sets=max_change_sets, fixed=fixed, cache=cache)


def _kind(r: DerivedResult) -> str:
    """What a derived value's sentence says of it: its outcome, or ``between`` for an unknown value
    known to lie in a range."""
    return "between" if r.outcome == "unknown" and r.range is not None else r.outcome


def _ends(r: DerivedResult) -> dict[str, Any]:
    """The ends of a derived value's range for its sentence (none without a range)."""
    return {} if r.range is None else {"lo": r.range[0], "hi": r.range[1]}
