"""Impact analysis: what a revised version does to a population of assessments, and why.

Each assessment is projected onto each version's declared inputs (what a version does not
declare is ignored and reported; so is a list entry that names a catalogue item the other
version has and this one does not, e.g. an improvement area of an indicator the new version
removed), evaluated under both versions (pinned), and compared:

* the **transition matrix** counts subjects (what the methodology labels) by (old label, new label);
* a **transition** is a subject whose label, ``valid_from`` or ``valid_until`` differs;
* its **attribution** names the changed items that cause the difference.

Attribution semantics
---------------------

Outcomes are ranked ``not_met < unknown < met``. A criterion (or group, or score) that exists
in only one version has the outcome ``absent`` in the other, and counts as changed. What a
requirement that a version does not have contributes is *neutral*: ``met`` for a tier or group
requirement (a conjunction without it), weight 0 for a score.

1. **Which tiers.** For a loss (new label below the old one), every tier ``t`` with
   ``new label < t <= old label`` that is ``met`` under the old version and not under the new
   one; for a gain, every tier ``t`` with ``old label < t <= new label`` met under the new
   version and not under the old. (At least the old, resp. new, label's tier qualifies.) A tier
   that exists in one version only is attributed to the tier itself (section ``tiers``).
2. **Which requirements.** A tier is the Kleene conjunction of its requirements, so its outcome
   moved in one direction (down for a loss, up for a gain) only if some requirement moved the
   same way. Walking the tier's requirements in both versions:

   * a requirement in both versions is followed when its own outcome moved in that direction:
     a criterion is named; a group is walked like a tier (the eligibility group of 2.0.0 counts
     as its criteria EC1..EC6); a score is split by criterion (3.);
   * a requirement only the new version has (its old contribution is neutral ``met``) is
     followed for a loss when its new outcome is not ``met``; one only the old version has, for
     a gain when its old outcome was not ``met``. A group gained or lost this way is expanded
     into its members that are not ``met``.

3. **Scores.** With ``t`` the threshold share, a criterion of weight ``w`` contributes
   ``w * (m - t)`` to the score's slack (``met weight - t * total``), ``m`` being 1 when it is met
   (pessimistic slack; the optimistic slack counts unknown as met). Its change from the old to
   the new version is the difference of its contributions, weights taken as 0 where the
   criterion is not in the score. A score that moved down is attributed to the criteria whose
   contribution fell (in either slack), one that moved up to those whose contribution rose.
   A criterion whose weight and outcome are the same in both versions contributes nothing, so
   only re-weighted, added or removed criteria (or ones reading a changed parameter) are named.
   Both contributions use the old threshold; a changed threshold (the score's, or its
   parameter's) that moved the score the same way is attributed to the score itself.
4. **Validity.** When the label is the same but the validity differs, one validity rule applied
   (under either version) is named if the diff reports it: a rule only one version has (added
   or removed, e.g. the renewal rule of 2.0.0) before one that changed, the new version's first.
5. **Consistency with the semantic diff.** A criterion is named only if the semantic diff of
   the two versions reports it added, removed or changed, re-weights it in a score, or changes
   a parameter it reads (:func:`attributable`). A requirement that a tier or group gained or
   lost and that did not change itself is attributed to that tier or group (which the diff
   reports as changed). A difference found nowhere in the diff (only possible when projection
   changed what a criterion reads) is counted as **unexplained**, never attributed.

6. **Bands and derived values** (`ValueChanges`). A class of a band that moved is attributed to
   what moved it: the band, when the class's interval (or the value the band places) is written
   differently ("band energy_class: bounds changed"); each parameter the band's value reads whose
   value changed; and each derived value it reads whose value differs for this subject, followed
   down: a derived value whose formula changed (or that one version lacks) is named ("derived
   energy_index: formula changed"), else the changed parameters and derived values it reads are. A
   criterion written the same in both versions that reads derived values is attributed to them
   likewise. Only when none of these is found is the class (or criterion) named itself.
7. **A rescale.** When a declared mapping (``labels_from``) maps the old label onto another label,
   the rescale itself is named (``labels:labels_from``), beside what the tiers walked name.

Every changed decision therefore names at least one item unless it is unexplained, and every
name is an item the semantic diff reports (a band through its classes, the criteria the diff
reports changed).

Labels across versions
----------------------

A gain or a loss compares the ranks of two labels (`LabelScale`). When the new version keeps
every label of the old one (it may add some: Gold in 1.1.0, Silver in 1.2.0), both are ranked on
one scale, each added label where its version places it. When a label set is rescaled (A+++ to
G becomes A to G), a label of one version is not a label of the other: the newer version declares
how the older labels map onto its own (``labels_from: {version, map}``), and a transition is a
gain, a loss or the *same* label by the mapped ranks. Without a mapping, nothing is called a gain
or a loss: such a transition is *not comparable* ("the label sets differ and no mapping is
declared"), and is attributed to the tiers that the diff reports as added or removed.

Batch evaluation streams the input, in chunks, over a process pool (``jobs`` workers, each
loading both versions once from their files); results come back in input order and only
what the report needs is kept (labels, validity and causes of changed decisions, counts).

Usage::

    from ecei_rules.registry import Registry
    from ecei_rules.compare.impact import impact

    registry = Registry.shipped()
    report = impact(registry.lookup("ecei-labels@1.2.0"), registry.lookup("ecei-labels@2.0.0"),
                    "population.jsonl", jobs=None)          # None: every core
    report.matrix["bronze"]["none"]; report.attribution()    # counts, items most often named
    report.to_json()  # renderings (Markdown, rich, SVG chart): ecei_rules.render.impact
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ecei_rules.batch import RawLine
from ecei_rules.compare.bump import changed_criteria
from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.core.canonical import to_json
from ecei_rules.core.workers import ordered_map, worker_count
from ecei_rules.engine.decision import Decision, PointsResult, Resolution, ScoreResult
from ecei_rules.engine.derived import DerivedResult
from ecei_rules.engine.evaluate import Assessment, evaluate, outline
from ecei_rules.errors import AssessmentError, ItemProblem
from ecei_rules.language.interpreter import parameters as parameter_reads
from ecei_rules.language.interpreter import parse as parse_expression
from ecei_rules.language.interpreter import reads as input_reads
from ecei_rules.registry import Registry
from ecei_rules.ruleset.bands import class_condition
from ecei_rules.ruleset.inputs import MAX_UNKNOWN_KEYS, Field
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.ruleset.model import RulesetDocument, band_intervals, score_outcomes
from ecei_rules.ruleset.subject import IMPLIED, ResolvedSubject
from ecei_rules.ruleset.subject import resolve as resolve_subject

_RANK = {"not_met": 0, "unknown": 1, "met": 2}
_PIN = Resolution(method="pinned", reason="impact analysis")
NONE = "none"
SECTIONS = ("criteria", "groups", "scores", "tiers", "validity")
#: a list index in a JSON pointer (``/areas/3/kpi``), written ``/-`` where reports count by field
LIST_INDEX = re.compile(r"/\d+(?=/|$)")
#: At most this many members of one object that a version does not declare are named ("ignored (not
#: declared)"), in each assessment and in the report, as ``evaluate`` names at most this many unknown
#: members of an object (``ruleset.inputs.MAX_UNKNOWN_KEYS``); the others are counted, by object, in one
#: entry (`more_key`), so that what the report keeps is bounded by the versions' inputs, not the population.
MAX_IGNORED = MAX_UNKNOWN_KEYS


def more_key(parent: str) -> str:
    """The projection's entry that counts the members of the object ``parent`` (a pointer, list indices as
    ``-``) not declared and not named, beyond the first `MAX_IGNORED`: ``/… (more, not named)``."""
    return f"{parent}/… (more, not named)"


def _parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0]


def bounded_ignored(pointers: Iterable[str]) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """What one assessment's projection ignored (pointers as the validator gives them), as the report keeps it:
    each pointer once (list indices as ``-``), at most `MAX_IGNORED` per object, and (object, how many more
    distinct pointers it had) for each object beyond that."""
    named: dict[str, None] = {}
    per: Counter[str] = Counter()
    unnamed: set[str] = set()
    more: dict[str, int] = {}
    for pointer in pointers:
        shown = LIST_INDEX.sub("/-", pointer)
        if shown in named or shown in unnamed:
            continue
        parent = _parent(shown)
        if per[parent] < MAX_IGNORED:
            per[parent] += 1
            named[shown] = None
        else:
            unnamed.add(shown)
            more[parent] = more.get(parent, 0) + 1
    return tuple(named), tuple(more.items())


def assessment_error(problems: Iterable[ItemProblem]) -> ItemProblem:
    """The one problem that stands for an assessment in error (``ImpactReport.errors``), from its problems
    (one per version that refuses it, or one for a line that cannot be read): the first; when both versions
    refuse it for the same reason, that problem under both (``line 9 under 2.0.0 and 3.0.0``); for other
    reasons, the first, whose message adds the other's."""
    first, *rest = problems
    for other in rest:
        if (other.code, other.message, other.pointer) == (first.code, first.message, first.pointer):
            first = ItemProblem(first.code, first.message, index=first.index, pointer=first.pointer,
                                version=f"{first.version} and {other.version}")
        else:
            first = ItemProblem(first.code, f"{first.message} (and under {other.version}: {other.code} "
                                f"{other.message})", index=first.index, version=first.version, pointer=first.pointer)
    return first


# -- what may be named ----------------------------------------------------------------------------


def attributable(diff: Diff) -> dict[str, frozenset[str]]:
    """Section -> ids an attribution may name, all of them reported by the semantic diff.

    ``criteria``: added, removed or changed criteria, criteria re-weighted in a score, criteria
    reading a changed parameter; ``groups``, ``tiers``: added, removed or changed ones;
    ``scores``: changed ones and those whose threshold parameter changed; ``validity``: changed
    rules and rules reading a changed parameter.
    """
    params = diff.changed_ids("parameters")
    scores = set(diff.changed_ids("scores"))
    validity = set(diff.changed_ids("validity"))
    for ruleset in (diff.old, diff.new):
        for sid, (score, _) in score_outcomes(ruleset.document).items():
            if score.threshold in params or score.minimum in params:
                scores.add(sid)
        for rule in ruleset.plan.rules:
            reads = (set(rule.valid_until.params) if rule.valid_until is not None else set()) \
                | (set(rule.when.params) if rule.when is not None else set())
            if reads & params:
                validity.add(rule.spec.id)
    return {"criteria": frozenset(changed_criteria(diff)), "groups": frozenset(diff.changed_ids("groups")),
            "scores": frozenset(scores), "tiers": frozenset(diff.changed_ids("tiers")),
            "validity": frozenset(validity)}


# -- what changed of the values a band or a criterion places or compares -------------------------


def _flat(expression: str | None) -> str:
    return " ".join((expression or "").split())


@dataclass(frozen=True)
class ValueChanges:
    """What changed between two versions in the values conditions compare, beyond the conditions
    themselves: each band's bounds (by class) and the value it places, the formula of each derived
    value, the value of each parameter. Empty for versions without bands and derived values."""

    classes: Mapping[str, tuple[str, str]]  # criterion id of a band class (either version) -> (band, class)
    bounds: frozenset[str]  # band classes (``<band>.<class>``) whose interval differs or that one version lacks
    placed: frozenset[str]  # bands whose value placed (``of``) is written differently
    formulas: Mapping[str, str]  # derived value -> formula changed | added | removed
    parameters: frozenset[str]  # parameters whose value differs (or that one version lacks)
    reads: Mapping[str, tuple[frozenset[str], frozenset[str]]]  # derived value or criterion -> (derived, parameters)
    # it reads itself, in either version
    conditions: frozenset[str] = frozenset()  # criteria whose condition is written differently or one version lacks

    @property
    def empty(self) -> bool:
        return not (self.classes or self.formulas)

    @classmethod
    def of(cls, old: Ruleset, new: Ruleset) -> ValueChanges:
        a, b = old.document, new.document
        if not (a.bands or b.bands or a.derived or b.derived):
            return cls({}, frozenset(), frozenset(), {}, frozenset(), {})
        classes = {f"{bid}.{name}": (bid, name) for doc in (a, b) for bid, band in doc.bands.items()
                   for name in band.classes}
        bounds = frozenset(cid for cid, (bid, name) in classes.items()
                           if _interval(a, bid, name) != _interval(b, bid, name))
        placed = frozenset(bid for bid in set(a.bands) & set(b.bands)
                           if _flat(a.bands[bid].of) != _flat(b.bands[bid].of))
        return cls(classes, bounds, placed, _formulas(a, b), _parameters(a, b), _own_reads(old, new),
                   _conditions(a, b))


def _parameters(a: RulesetDocument, b: RulesetDocument) -> frozenset[str]:
    """The parameters whose value differs (or that one version lacks)."""
    def value(doc: RulesetDocument, name: str) -> object:
        return doc.parameters[name].value if name in doc.parameters else None

    return frozenset(name for name in set(a.parameters) | set(b.parameters) if value(a, name) != value(b, name))


def _conditions(a: RulesetDocument, b: RulesetDocument) -> frozenset[str]:
    """The criteria whose condition is written differently (or that one version lacks)."""
    def when(doc: RulesetDocument, cid: str) -> str | None:
        return _flat(doc.criteria[cid].when) if cid in doc.criteria else None

    return frozenset(cid for cid in set(a.criteria) | set(b.criteria) if when(a, cid) != when(b, cid))


def _formulas(a: RulesetDocument, b: RulesetDocument) -> dict[str, str]:
    """Derived value -> added, removed or formula changed (its expression or type), for those that changed."""
    out = {}
    for name in sorted(set(a.derived) | set(b.derived)):
        if name not in a.derived or name not in b.derived:
            out[name] = "added" if name not in a.derived else "removed"
        elif (_flat(a.derived[name].value), a.derived[name].type) != (_flat(b.derived[name].value),
                                                                     b.derived[name].type):
            out[name] = "formula changed"
    return out


def _own_reads(old: Ruleset, new: Ruleset) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Derived value or criterion -> the derived values and parameters its expression reads itself (not
    through the derived values it reads), in either version."""
    reads: dict[str, tuple[set[str], set[str]]] = {}
    for ruleset in (old, new):
        items = [(d.id, d.spec.value, d.derived) for d in ruleset.plan.derived]
        items += [(c.id, c.spec.when, c.derived) for c in ruleset.plan.criteria]
        for ident, text, derived in items:
            own = reads.setdefault(ident, (set(), set()))
            own[0].update(derived)
            own[1].update(parameter_reads(parse_expression(text)))
    return {k: (frozenset(d), frozenset(p)) for k, (d, p) in reads.items()}


def _interval(doc: RulesetDocument, band: str, name: str) -> tuple[object, ...] | None:
    """A class's interval as a comparable value (None where the version has no such class)."""
    found = doc.bands.get(band)
    if found is None or name not in found.classes:
        return None
    i = band_intervals(doc, band)[name]
    return (i.low, i.low_closed, i.high, i.high_closed)


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """One changed item that explains (part of) a changed decision."""

    section: str  # criteria | groups | scores | tiers | validity
    id: str
    tier: str  # the tier whose outcome it moved (or the label whose validity changed)
    old: str  # outcome under the old version: met | not_met | unknown | absent (validity: the rule applied)
    new: str  # the same under the new version
    #: the group or score it acts through, or the requirement a tier or group gained/lost; a band's class; a
    #: derived value's change (formula changed, added, removed)
    via: str | None = None
    weight: tuple[str, str] | None = None  # a criterion of a score re-weighted: (old weight, new weight)

    @property
    def key(self) -> str:
        """``section:id``, e.g. ``criteria:EC6``."""
        return f"{self.section}:{self.id}"

    def to_json(self) -> dict[str, Any]:
        """The cause as JSON."""
        out: dict[str, Any] = {"section": self.section, "id": self.id, "tier": self.tier, "old": self.old,
                               "new": self.new, "via": self.via}
        if self.weight is not None:
            out["weight"] = {"old": self.weight[0], "new": self.weight[1]}
        return out


#: Why labels of the two versions compare (or not), for the report.
ONE_SCALE = "one label set (labels only added)"
NOT_COMPARABLE = "not comparable: the label sets differ and no mapping is declared"


@dataclass(frozen=True)
class LabelScale:
    """How a label of the old version compares with a label of the new one."""

    old_rank: Mapping[str, int]
    new_rank: Mapping[str, int]
    basis: str  # ONE_SCALE, NOT_COMPARABLE, or which version's labels_from maps the labels
    mapping: Mapping[str, str] | None = None  # old label -> new label, when labels_from applies

    @property
    def comparable(self) -> bool:
        return self.basis != NOT_COMPARABLE

    def direction(self, old: str, new: str) -> int | None:
        """1 for a gain, -1 for a loss, 0 for the same label (or one mapped onto it), None when not comparable."""
        if old == new:
            return 0
        if not self.comparable:
            return None
        return _sign(self.new_rank[new] - self.old_rank[old])

    def kind(self, old: str, new: str) -> str:
        """gain, loss, same (mapped onto the same label), validity (the same label) or not comparable."""
        if old == new:
            return "validity"
        return {1: "gain", -1: "loss", 0: "same", None: "not comparable"}[self.direction(old, new)]

    def to_json(self) -> dict[str, Any]:
        return {"basis": self.basis, "comparable": self.comparable,
                "mapping": dict(self.mapping) if self.mapping is not None else None}


def label_scale(old: Ruleset, new: Ruleset) -> LabelScale:
    """How the labels of ``old`` and ``new`` compare: by a declared mapping (``labels_from`` of either version,
    naming the other's labels), on one scale when the new version keeps every old label, else not at all."""
    a, b = old.document.labels, new.document.labels
    for mapper, mapped, forward in ((new, old, True), (old, new, False)):
        declared = mapper.document.labels_from
        if declared is not None and set(mapped.document.labels) <= set(declared.map) and set(a) != set(b):
            own = {NONE: -1, **{label: i for i, label in enumerate(mapper.document.labels)}}
            by_map = {NONE: -1, **{label: own.get(declared.map[label], -1) for label in mapped.document.labels}}
            basis = f"{mapped.version}'s labels mapped onto {mapper.version}'s (its labels_from)"
            mapping = dict(declared.map) if forward else {v: k for k, v in declared.map.items()}
            return LabelScale(by_map, own, basis, mapping) if forward else LabelScale(own, by_map, basis, mapping)
    order = {label: i for i, label in enumerate(_labels(old, new))}
    return LabelScale(order, order, ONE_SCALE if set(a) <= set(b) else NOT_COMPARABLE)


@dataclass(frozen=True)
class Transition:
    """A subject whose label or validity differs between the two versions."""

    index: int  # 1-based position in the population (the line of a JSON Lines file)
    subject: str | None  # its id
    old_label: str
    new_label: str
    old_valid_from: dt.date | None
    new_valid_from: dt.date | None
    old_valid_until: dt.date | None
    new_valid_until: dt.date | None
    causes: tuple[Cause, ...]
    subject_key: str = IMPLIED.key  # the key its JSON names the subject's id by (as decisions do)

    def kind(self, order: Mapping[str, int]) -> str:
        """gain, loss, or validity (same label, other validity)."""
        if self.old_label == self.new_label:
            return "validity"
        return "gain" if order[self.new_label] > order[self.old_label] else "loss"

    @property
    def items(self) -> list[str]:
        """The distinct items named (``section:id``), in order of appearance."""
        return list(dict.fromkeys(c.key for c in self.causes))

    def to_json(self) -> dict[str, Any]:
        """The transition as JSON."""
        return {"line": self.index, self.subject_key: self.subject,
                "old": {"label": self.old_label, "valid_from": to_json(self.old_valid_from),
                        "valid_until": to_json(self.old_valid_until)},
                "new": {"label": self.new_label, "valid_from": to_json(self.new_valid_from),
                        "valid_until": to_json(self.new_valid_until)},
                "attribution": self.items, "causes": [c.to_json() for c in self.causes]}


@dataclass(frozen=True)
class _Result:
    """What one assessment contributes to the report (small, picklable)."""

    index: int
    subject: str | None = None
    old_label: str | None = None
    new_label: str | None = None
    transition: Transition | None = None
    unexplained: bool = False
    errors: tuple[ItemProblem, ...] = ()  # one per version that refuses it (or one: it cannot be read)
    ignored: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # at most MAX_IGNORED per object (bounded_ignored)
    missing: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    projected: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # catalogue:id of each entry left out, per side
    #: per side: (object, members not declared beyond the MAX_IGNORED named) (bounded_ignored)
    ignored_more: tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]] = ((), ())


@dataclass(frozen=True)
class VersionInfo:
    """Which version a side of the comparison is."""

    methodology: str
    version: str
    sha256: str
    effective_from: dt.date

    @classmethod
    def of(cls, ruleset: Ruleset) -> VersionInfo:
        return cls(ruleset.methodology, ruleset.version, ruleset.sha256, ruleset.document.effective_from)

    @property
    def ref(self) -> str:
        return f"{self.methodology}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"methodology": self.methodology, "version": self.version, "sha256": self.sha256,
                "effective_from": self.effective_from.isoformat()}


@dataclass
class ImpactReport:
    """The impact of moving a population from one version to another."""

    old: VersionInfo
    new: VersionInfo
    labels: tuple[str, ...]  # "none" first, then the tiers from lowest to highest
    changed_items: dict[str, frozenset[str]]  # section -> ids an attribution may name (from the diff)
    titles: dict[str, str] = field(default_factory=dict)  # section:id -> title
    diff_kinds: dict[str, str] = field(default_factory=dict)  # section:id -> added/removed/changed/re-weighted
    assessments: int = 0  # read (including the ones in error)
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    unexplained: int = 0
    #: one per assessment in error (`assessment_error`): its count is the assessments in error
    errors: list[ItemProblem] = field(default_factory=list)
    #: every problem: one per version that refuses an assessment (one for a line that cannot be read)
    problems: list[ItemProblem] = field(default_factory=list)
    #: per side: pointer (list indices as ``-``) -> assessments that have it, not declared by the version; at
    #: most MAX_IGNORED per object, the others counted under `more_key` (members, summed over assessments)
    ignored: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()))
    #: per side: object -> members not declared and not named (what its `more_key` entry counts)
    ignored_more: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()))
    missing: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()))
    #: per side: catalogue:id -> list entries left out because they name an item the version does not have
    projected: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()))
    #: per side: catalogue:id -> the lines (1-based) whose entries were left out
    projected_lines: tuple[dict[str, list[int]], dict[str, list[int]]] = field(default_factory=lambda: ({}, {}))
    seconds: float = 0.0
    jobs: int = 1
    scale: LabelScale | None = None  # None: one scale, the order of ``labels``
    subject: ResolvedSubject = IMPLIED  # what the new version labels: the report's nouns
    #: per side: object -> distinct pointers named in ``ignored`` (at most MAX_IGNORED)
    _named: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()), repr=False)

    def __post_init__(self) -> None:
        if not self.matrix:
            self.matrix = {a: dict.fromkeys(self.labels, 0) for a in self.labels}
        if self.scale is None:
            self.scale = LabelScale(self.order, self.order, ONE_SCALE)

    @property
    def count_key(self) -> str:
        """The key of an attribution row's count in the JSON: the implied subject's plural (as
        before subjects were declared), "subjects" for a declared subject."""
        return "subjects" if self.subject.declared else self.subject.plural

    @property
    def order(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def labels_scale(self) -> LabelScale:
        """How the labels compare (`label_scale`)."""
        assert self.scale is not None
        return self.scale

    def kind_of(self, t: Transition) -> str:
        """gain, loss, same, validity or not comparable (`LabelScale.kind`)."""
        return self.labels_scale.kind(t.old_label, t.new_label)

    def direction(self, old: str, new: str) -> int | None:
        """From the old label to the new one: 1 a gain, -1 a loss, 0 the same, None not comparable."""
        return self.labels_scale.direction(old, new)

    @property
    def decided(self) -> int:
        """Assessments decided under both versions (the matrix total)."""
        return sum(sum(row.values()) for row in self.matrix.values())

    def count(self, kind: str) -> int:
        """How many transitions are gains, losses, validity-only changes, the same label mapped, or not
        comparable."""
        return sum(1 for t in self.transitions if self.kind_of(t) == kind)

    @property
    def label_changes(self) -> int:
        return sum(n for a, row in self.matrix.items() for b, n in row.items() if a != b)

    def attribution(self) -> list[tuple[str, int, int, int]]:
        """(section:id, subjects, of which losses, of which gains), most frequent first."""
        total: Counter[str] = Counter()
        loss: Counter[str] = Counter()
        gain: Counter[str] = Counter()
        for t in self.transitions:
            kind = self.kind_of(t)
            for key in t.items:
                total[key] += 1
                if kind == "loss":
                    loss[key] += 1
                elif kind == "gain":
                    gain[key] += 1
        return [(key, n, loss[key], gain[key]) for key, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]

    def add_errors(self, problems: Iterable[ItemProblem]) -> None:
        """The problems of one assessment in error (in order: unreadable, or the old version's then the new one's)."""
        found = list(problems)
        if found:
            self.problems.extend(found)
            self.errors.append(assessment_error(found))

    def add_ignored(self, side: int, pointers: Iterable[str], more: Iterable[tuple[str, int]] = ()) -> None:
        """What one assessment's projection onto a side ignored (`bounded_ignored`): each pointer counted, at most
        `MAX_IGNORED` distinct ones named per object in the whole report, the others (and ``more``) counted by
        object."""
        counter, beyond = self.ignored[side], self.ignored_more[side]
        named = self._named[side]
        for pointer in pointers:
            if pointer in counter:
                counter[pointer] += 1
                continue
            parent = _parent(pointer)
            if named[parent] < MAX_IGNORED:
                named[parent] += 1
                counter[pointer] = 1
            else:
                beyond[parent] += 1
                counter[more_key(parent)] += 1
        for parent, n in more:
            beyond[parent] += n
            counter[more_key(parent)] += n

    def named_ignored(self, side: int) -> dict[str, int]:
        """The pointers ignored under a side, most frequent first, without the `more_key` entries."""
        counts = {more_key(parent) for parent in self.ignored_more[side]}
        return {k: n for k, n in self.ignored[side].most_common() if k not in counts}

    def totals(self, side: int) -> dict[str, int]:
        """Label counts under the old (0) or new (1) version."""
        if side == 0:
            return {a: sum(row.values()) for a, row in self.matrix.items()}
        return {b: sum(self.matrix[a][b] for a in self.labels) for b in self.labels}

    # -- outputs ----------------------------------------------------------------------------------

    def to_json(self, *, limit: int | None = None) -> dict[str, Any]:
        """The report as JSON (every transition unless ``limit``)."""
        shown = self.transitions if limit is None else self.transitions[:limit]
        return {
            "old": self.old.to_json(), "new": self.new.to_json(), "labels": list(self.labels),
            "assessments": self.assessments, "decided": self.decided, "errors": len(self.errors),
            "problems": len(self.problems),
            "changed": {"label": self.label_changes, "gain": self.count("gain"), "loss": self.count("loss"),
                        "validity_only": self.count("validity"), "total": len(self.transitions),
                        "unexplained": self.unexplained,
                        **({"same": self.count("same"), "not_comparable": self.count("not comparable")}
                           if self.labels_scale.basis != ONE_SCALE else {})},
            "scale": self.labels_scale.to_json(),
            "matrix": self.matrix,
            "totals": {"old": self.totals(0), "new": self.totals(1)},
            "attribution": [{"item": key, "title": self.titles.get(key, ""), "diff": self.diff_kinds.get(key, ""),
                             self.count_key: n, "losses": lo, "gains": ga}
                            for key, n, lo, ga in self.attribution()],
            "projection": {side: {"ignored": self.named_ignored(i),
                                  "ignored_not_named": dict(self.ignored_more[i].most_common()),
                                  "missing": dict(self.missing[i].most_common()),
                                  "entries_left_out": {key: {"entries": n, "lines": self.projected_lines[i][key][:1000],
                                                             "assessments": len(self.projected_lines[i][key])}
                                                       for key, n in self.projected[i].most_common()}}
                           for i, side in enumerate(("old", "new"))},
            "diff_items": {s: sorted(ids) for s, ids in self.changed_items.items()},
            "transitions": [dict(t.to_json(), kind=self.kind_of(t)) for t in shown],
            "transitions_shown": len(shown),
            "error_details": [e.to_json() for e in self.problems[:1000]],
            "seconds": round(self.seconds, 3), "jobs": self.jobs,
        }

# -- the attribution of one decision pair ---------------------------------------------------------


class Attributor:
    """Names the changes of the semantic diff that explain one transition between the decisions of
    two versions (``explain(a, b)``: the causes, and whether anything was left unexplained); also
    used by the SQL engine's impact study, given decisions as its columns state them."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: Mapping[str, frozenset[str]],
                 labels: tuple[str, ...]) -> None:
        self.old, self.new = old, new
        self.changed = changed
        self.order = {label: i for i, label in enumerate(labels)}
        self.labels = labels
        self.scale = label_scale(old, new)
        self.a: dict[str, str] = {}
        self.b: dict[str, str] = {}
        self.sa: dict[str, ScoreResult] = {}
        self.sb: dict[str, ScoreResult] = {}
        self.causes: dict[tuple[str, str, str, str | None], Cause] = {}
        self.unexplained = False
        self.values = ValueChanges.of(old, new)
        self.da: dict[str, DerivedResult] = {}
        self.db: dict[str, DerivedResult] = {}
        # a version's thresholds and weights as fractions, and each weight's contribution, made once per study
        self.fractions: dict[Any, Fraction] = {}
        self.share_kinds: dict[str, tuple[bool, bool]] = {}  # score id -> whether it requires a share (old, new)
        self.contributions: dict[tuple[Fraction, str, Fraction], tuple[Fraction, Fraction]] = {}

    def explain(self, a: Decision, b: Decision) -> tuple[tuple[Cause, ...], bool]:
        self.a, self.b = _outcomes(a), _outcomes(b)
        self.da, self.db = _derived_by_id(a), _derived_by_id(b)
        self.sa = {s.id: s for s in a.scores}
        self.sb = {s.id: s for s in b.scores}
        self.causes = {}
        self.unexplained = False
        if a.label != b.label and self.scale.basis != ONE_SCALE:
            self.rescaled(a.label, b.label)
        elif a.label != b.label:
            up = self.order[b.label] > self.order[a.label]
            lo, hi = sorted((self.order[a.label], self.order[b.label]))
            for tier in self.labels[lo + 1:hi + 1]:
                before, after = self.a.get(f"tier:{tier}", "absent"), self.b.get(f"tier:{tier}", "absent")
                if (after == "met" and before != "met") if up else (before == "met" and after != "met"):
                    self.tier(tier, 1 if up else -1, before, after)
        else:
            self.validity(a, b)
        if not self.causes:
            self.unexplained = True
        return tuple(self.causes.values()), self.unexplained

    def rescaled(self, old: str, new: str) -> None:
        """Across a rescale: a gain or loss by the mapped ranks walks the new version's tiers between the mapped
        old label and the new one; any transition also names the tiers of its two labels that the diff reports
        (a label of one version only)."""
        for tier, way in self.rescaled_tiers(old, new):
            before, after = self.a.get(f"tier:{tier}", "absent"), self.b.get(f"tier:{tier}", "absent")
            if (after == "met" and before != "met") if way > 0 else (before == "met" and after != "met"):
                self.tier(tier, way, before, after)
        mapped = self.scale.mapping.get(old) if self.scale.mapping else None
        if mapped is not None and mapped != old:  # the rescale itself: the old label is now another one
            self.add(Cause("labels", "labels_from", new, old, mapped))
        for label in (old, new):
            if label != NONE and label in self.changed.get("tiers", frozenset()):
                self.add(Cause("tiers", label, label, self.outcome("old", f"tier:{label}"),
                               self.outcome("new", f"tier:{label}")))

    def rescaled_tiers(self, old: str, new: str) -> list[tuple[str, int]]:
        """(tier, direction) to walk across a rescale: for a gain or a loss the new version's tiers between the
        mapped old label and the new one; otherwise the old label's tier (lost) and the new one's (won), where
        both versions have them."""
        direction = self.scale.direction(old, new)
        mapped = self.scale.mapping.get(old) if self.scale.mapping else None
        if direction and mapped in self.order and new in self.order:
            lo, hi = sorted((self.order[str(mapped)], self.order[new]))
            return [(tier, direction) for tier in self.labels[lo + 1:hi + 1]]
        if direction:
            return []
        return [(tier, way) for tier, way in ((old, -1), (new, 1))
                if tier != NONE and tier in self.old.document.tiers and tier in self.new.document.tiers]

    def add(self, cause: Cause) -> None:
        self.causes.setdefault((cause.section, cause.id, cause.tier, cause.via), cause)

    def outcome(self, side: str, ref: str) -> str:
        return (self.a if side == "old" else self.b).get(ref, "absent")

    def kind(self, side: str, ref: str) -> str | None:
        return (self.old if side == "old" else self.new).plan.kinds.get(ref)

    def tier(self, tier: str, direction: int, before: str, after: str) -> None:
        ta, tb = self.old.document.tiers.get(tier), self.new.document.tiers.get(tier)
        if ta is None or tb is None:
            self.name("tiers", tier, tier, before, after, None, None)
            return
        self.refs(ta.requires, tb.requires, direction, ("tiers", tier), tier, None)

    def refs(self, old_refs: tuple[str, ...], new_refs: tuple[str, ...], direction: int,
             container: tuple[str, str], tier: str, via: str | None) -> None:
        for ref in dict.fromkeys((*new_refs, *old_refs)):
            if ref in old_refs and ref in new_refs:
                self.ref(ref, direction, tier, via)
            elif ref in new_refs:
                # a requirement gained: neutral (met) before, so only a loss can come from it
                if direction < 0 and _RANK.get(self.outcome("new", ref), 2) < 2:
                    self.whole(ref, "new", container, tier, via)
            elif direction > 0 and _RANK.get(self.outcome("old", ref), 2) < 2:
                # a requirement dropped: neutral (met) after, so only a gain can come from it
                self.whole(ref, "old", container, tier, via)

    def ref(self, ref: str, direction: int, tier: str, via: str | None) -> None:
        oa, ob = self.outcome("old", ref), self.outcome("new", ref)
        if _sign(_RANK.get(ob, 2) - _RANK.get(oa, 2)) != direction:
            return
        ka, kb = self.kind("old", ref), self.kind("new", ref)
        if ka != kb:
            self.unexplained = True
            return
        if ka == "group":
            ga, gb = self.old.document.groups[ref], self.new.document.groups[ref]
            self.refs(ga.all_of, gb.all_of, direction, ("groups", ref), tier, ref)
        elif ka == "score":
            self.score(ref, direction, tier)
        else:
            self.criterion(ref, tier, oa, ob, via, None)

    def whole(self, ref: str, side: str, fallback: tuple[str, str], tier: str, via: str | None) -> None:
        """A requirement only ``side`` has: name it, or the members of a group that are not met."""
        kind = self.kind(side, ref)
        if kind == "group":
            ruleset = self.old if side == "old" else self.new
            for member in ruleset.document.groups[ref].all_of:
                if _RANK.get(self.outcome(side, member), 2) < 2:
                    self.whole(member, side, fallback, tier, ref)
            return
        if kind == "score":
            self.name("scores", ref, tier, self.outcome("old", ref), self.outcome("new", ref), via, fallback)
        else:
            self.criterion(ref, tier, self.outcome("old", ref), self.outcome("new", ref), via, fallback)

    def criterion(self, cid: str, tier: str, old: str, new: str, via: str | None,
                  fallback: tuple[str, str] | None) -> None:
        """A criterion that moved: a band class is attributed to its changed bounds, the changed parameters
        its value reads and the derived values whose value differs for this subject (each followed down to a
        changed formula or parameter); a criterion written the same in both versions that reads derived
        values, to those derived values. Otherwise (or when none of these is found) the criterion itself."""
        v = self.values
        own_derived, own_params = v.reads.get(cid, (frozenset(), frozenset()))
        band = cid in v.classes
        if v.empty or not (band or own_derived) or \
                (not band and (cid in v.conditions or own_params & v.parameters)):
            self.name("criteria", cid, tier, old, new, via, fallback)
            return
        found = self.band(cid, tier, own_params) if band else False
        seen: set[str] = set()
        for name in sorted(own_derived):
            found = self.derived(name, tier, seen) or found
        if not found:
            self.name("criteria", cid, tier, old, new, via, fallback)

    def band(self, cid: str, tier: str, params: frozenset[str]) -> bool:
        """Name a band whose class ``cid`` is bounded or placed differently, and the changed parameters its
        value reads; whether any was named."""
        bid, name = self.values.classes[cid]
        found = False
        if cid in self.values.bounds or bid in self.values.placed:
            self.add(Cause("bands", bid, tier, _class_text(self.old, bid, name), _class_text(self.new, bid, name),
                           name))
            found = True
        for p in sorted(params & self.values.parameters):
            self.add(Cause("parameters", p, tier, _parameter_text(self.old, p), _parameter_text(self.new, p)))
            found = True
        return found

    def derived(self, name: str, tier: str, seen: set[str]) -> bool:
        """Name the derived value ``name`` when its formula changed and its value differs for this subject,
        else what it reads that did (changed parameters, derived values); whether any was named."""
        if name in seen:
            return False
        seen.add(name)
        ra, rb = self.da.get(name), self.db.get(name)
        if ra is not None and rb is not None and (ra.outcome, ra.value) == (rb.outcome, rb.value):
            return False  # the same for this subject: not why anything moved
        if name in self.values.formulas:
            self.add(Cause("derived", name, tier, _derived_text(ra), _derived_text(rb), self.values.formulas[name]))
            return True
        own_derived, own_params = self.values.reads.get(name, (frozenset(), frozenset()))
        found = False
        for p in sorted(own_params & self.values.parameters):
            self.add(Cause("parameters", p, tier, _parameter_text(self.old, p), _parameter_text(self.new, p)))
            found = True
        for d in sorted(own_derived):
            found = self.derived(d, tier, seen) or found
        return found

    def score(self, sid: str, direction: int, tier: str) -> None:
        sa, sb = self.sa.get(sid), self.sb.get(sid)
        if sa is None or sb is None:
            self.unexplained = True
            return
        ta, tb = self.fraction(sa.threshold.value), self.fraction(sb.threshold.value)
        share_a, share_b = self.shares(sid)
        if share_a != share_b or (ta != tb and _sign(int(ta > tb) - int(ta < tb)) == direction):
            self.name("scores", sid, tier, _bound_text(share_a, sa), _bound_text(share_b, sb), None, None)
        # a criterion's part of the slack: its weight less the share of it the threshold requires; a
        # minimum (points) does not grow with the weights, so a criterion not met adds nothing to it
        part_a = ta if share_a else Fraction(0)
        part_b = part_a if share_a == share_b else tb if share_b else Fraction(0)
        for cid in dict.fromkeys((*sb.weights, *sa.weights)):
            wa, wb = self.fraction(sa.weights.get(cid, 0)), self.fraction(sb.weights.get(cid, 0))
            oa, ob = self.outcome("old", cid), self.outcome("new", cid)
            pa, qa = self.contribution(wa, oa, part_a)
            pb, qb = self.contribution(wb, ob, part_b)
            moved = (pb < pa or qb < qa) if direction < 0 else (pb > pa or qb > qa)
            if moved:
                weight = (_num(wa), _num(wb)) if wa and wb and wa != wb else None
                self.name("criteria", cid, tier, oa if wa else "absent", ob if wb else "absent", sid, None, weight)
        self.points(sid, sa, sb, direction, tier)

    def points(self, sid: str, sa: ScoreResult, sb: ScoreResult, direction: int, tier: str) -> None:
        """A number the score weighs as it is that the revision added, removed or changed (its value or
        maximum), whose part of the score moved the way the tier did: the score, with what it counted."""
        a_points, b_points = getattr(sa, "points", None) or {}, getattr(sb, "points", None) or {}
        if not a_points and not b_points:  # (the SQL engine's scores state no points: it refuses them)
            return
        share_a, share_b = self.shares(sid)
        for pid in dict.fromkeys((*b_points, *a_points)):
            pa, pb = a_points.get(pid), b_points.get(pid)
            (qa, ra), (qb, rb) = _points_part(pa, sa, share_a), _points_part(pb, sb, share_b)
            if not ((qb < qa or rb < ra) if direction < 0 else (qb > qa or rb > ra)):
                continue
            if pa is not None and pb is not None and (pa.expression, pa.maximum) == (pb.expression, pb.maximum):
                self.points_reads(pa.expression, tier)  # written the same: what it reads changed
                continue
            self.name("scores", sid, tier, _points_text(pid, pa), _points_text(pid, pb), None, None)

    def points_reads(self, expression: str, tier: str) -> None:
        """Name what a number weighed as it is, written the same in both versions, reads that changed: the
        parameters it reads, and the derived values it reads whose value differs (`derived`, which names
        their changed formulas or what they read in turn); unexplained when it is none of those."""
        read = parse_expression(expression)
        found = False
        for p in sorted(parameter_reads(read) & self.values.parameters):
            self.add(Cause("parameters", p, tier, _parameter_text(self.old, p), _parameter_text(self.new, p)))
            found = True
        derived = set(self.old.document.derived) | set(self.new.document.derived)
        seen: set[str] = set()
        for pointer in sorted(input_reads(read)):
            name = pointer[1:]
            if name in derived:  # (a derived value is read by its name, which reads as an input's pointer)
                found = self.derived(name, tier, seen) or found
        if not found:
            self.unexplained = True

    def shares(self, sid: str) -> tuple[bool, bool]:
        """Whether the score (or level) ``sid`` requires a share of its weight (a ``threshold``), not a
        ``minimum`` of points, in the old and in the new version (a share when neither says)."""
        found = self.share_kinds.get(sid)
        if found is None:
            kinds = []
            for r in (self.old, self.new):
                spec = score_outcomes(r.document).get(sid, (None, ""))[0]
                kinds.append(spec is None or spec.threshold is not None)
            found = self.share_kinds[sid] = (kinds[0], kinds[1])
        return found

    def fraction(self, value: Any) -> Fraction:
        """A threshold or weight as an exact fraction (equal values are equal fractions)."""
        found = self.fractions.get(value)
        if found is None:
            found = self.fractions[value] = Fraction(str(value))
        return found

    def contribution(self, weight: Fraction, outcome: str, threshold: Fraction) -> tuple[Fraction, Fraction]:
        """The (pessimistic, optimistic) contribution of a weighted criterion to a score's slack, made once."""
        key = (weight, outcome, threshold)
        found = self.contributions.get(key)
        if found is None:
            found = self.contributions[key] = _contribution(weight, outcome, threshold)
        return found

    def validity(self, a: Decision, b: Decision) -> None:
        label = b.label
        if a.valid_from != b.valid_from and "valid_from" in self.changed["validity"]:
            self.add(Cause("validity", "valid_from", label, to_json(a.valid_from), to_json(b.valid_from)))
        ra, rb = a.validity_rule, b.validity_rule
        old_rules = {r.id for r in self.old.document.validity.rules}
        new_rules = {r.id for r in self.new.document.validity.rules}
        # a rule only one version has (added or removed) explains more than one merely moved or edited
        candidates = sorted(dict.fromkeys(r for r in (rb, ra) if r is not None),
                            key=lambda r: (r in old_rules and r in new_rules, r != rb))
        for rule in candidates:
            if rule in self.changed["validity"]:
                self.add(Cause("validity", rule, label, ra or "-", rb or "-"))
                return

    def name(self, section: str, cid: str, tier: str, old: str, new: str, via: str | None,
             fallback: tuple[str, str] | None, weight: tuple[str, str] | None = None) -> None:
        if cid in self.changed[section]:
            self.add(Cause(section, cid, tier, old, new, via, weight))
        elif fallback is not None and fallback[1] in self.changed[fallback[0]]:
            self.add(Cause(fallback[0], fallback[1], tier, old, new, cid))
        else:
            self.unexplained = True


def _derived_by_id(d: Decision) -> dict[str, DerivedResult]:
    return {r.id: r for r in d.derived}


def _class_text(ruleset: Ruleset, band: str, name: str) -> str:
    """A band class as the condition on the value it places (``44 <= energy_index < 55``), or ``absent``."""
    found = ruleset.document.bands.get(band)
    if found is None or name not in found.classes:
        return "absent"
    return class_condition(found.of, band_intervals(ruleset.document, band)[name])


def _parameter_text(ruleset: Ruleset, name: str) -> str:
    """A parameter's value as written (``absent`` where the version has none)."""
    p = ruleset.document.parameters.get(name)
    return "absent" if p is None else _text(p.value)


def _derived_text(r: DerivedResult | None) -> str:
    """A derived value of a decision: its value when known, else unknown or undefined (absent: no such value)."""
    if r is None:
        return "absent"
    return _text(r.value) if r.outcome == "known" else r.outcome


def _text(value: Any) -> str:
    """A value as an author writes it: ``0.3``, ``true``, ``a, b``."""
    shown = to_json(value)
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return ", ".join(map(str, shown)) if isinstance(shown, list) else str(shown)


def _num(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _contribution(weight: Fraction, outcome: str, threshold: Fraction) -> tuple[Fraction, Fraction]:
    """(pessimistic, optimistic) contribution of one weighted criterion to a score's slack."""
    met = 1 if outcome == "met" else 0
    maybe = 1 if outcome in ("met", "unknown") else 0
    return weight * (met - threshold), weight * (maybe - threshold)


def _bound_text(share: bool, score: ScoreResult) -> str:
    """A score's bound as an impact table shows it: ``threshold 0.8`` (a share) or ``minimum 8`` (points)."""
    return f"{'threshold' if share else 'minimum'} {score.threshold.value}"


def _points_part(p: PointsResult | None, score: ScoreResult, share: bool) -> tuple[Fraction, Fraction]:
    """(pessimistic, optimistic) part of a number weighed as it is in its score's slack: what it counts
    (0 without a value; its maximum at best), less the share of the total its maximum adds to the
    weight required (a score with a ``threshold``; a ``minimum`` does not grow with the total)."""
    if p is None:
        return Fraction(0), Fraction(0)
    maximum = Fraction(str(p.maximum))
    counted = None if p.counted is None else Fraction(str(p.counted))
    required = Fraction(str(score.threshold.value)) * maximum if share else Fraction(0)
    return (counted or Fraction(0)) - required, (maximum if counted is None else counted) - required


def _points_text(pid: str, p: PointsResult | None) -> str:
    """A number weighed as it is, as an impact table shows it: ``points energy: 4 of 4``, or ``absent``."""
    if p is None:
        return f"points {pid}: absent"
    counted = "unknown" if p.counted is None else _text(p.counted)
    return f"points {pid}: {counted} of {_text(p.maximum)}"


def _outcomes(d: Decision) -> dict[str, str]:
    out: dict[str, str] = {}
    for collection in (d.criteria, d.groups, d.scores):
        for item in collection:
            out[item.id] = item.outcome
    for tier in d.tiers:
        out[f"tier:{tier.label}"] = tier.outcome
    return out


# -- one assessment, in a worker or in process ----------------------------------------------------


class _Job:
    """Both versions, what may be named, and the evaluation of one assessment."""

    def __init__(self, old: Ruleset, new: Ruleset, changed: Mapping[str, frozenset[str]],
                 labels: tuple[str, ...]) -> None:
        self.old, self.new = old, new
        self.attributor = Attributor(old, new, changed, labels)
        self.foreign = (foreign_ids(old, new), foreign_ids(new, old))
        self.subject = resolve_subject(new.document)

    def side(self, ruleset: Ruleset, data: Any, index: int, foreign: Mapping[str, frozenset[str]] | None = None,
             left_out: list[tuple[str, str]] | None = None
             ) -> tuple[dict[str, Any] | None, tuple[str, ...], tuple[tuple[str, int], ...], ItemProblem | None]:
        found: list[tuple[str, str]] = []
        if foreign:
            data = project_entries(ruleset.plan.inputs, data, foreign, "", found)
            if left_out is not None:
                left_out.extend(found)
        ignored: list[str] = [p for p, _ in found]  # validated as projected onto the version's inputs, in one pass
        normal, problems = ruleset.plan.validator.validate(data, ignore_unknown=ignored)
        shown, more = bounded_ignored(ignored)
        del ignored
        if problems:
            first = problems[0]
            return None, shown, more, ItemProblem(first.code, first.message, index=index, version=ruleset.version,
                                                  pointer=first.pointer)
        return normal, shown, more, None

    def one(self, index: int, data: Any) -> _Result:
        if isinstance(data, RawLine):
            try:
                data = data.parse()
            except AssessmentError as exc:
                problem = exc.diagnostics[0] if exc.diagnostics else None
                return _Result(index, errors=(ItemProblem(problem.code if problem else "A006",
                                                          problem.message if problem else str(exc), index=index),))
        out_a: list[tuple[str, str]] = []
        out_b: list[tuple[str, str]] = []
        va, ignored_a, more_a, err_a = self.side(self.old, data, index, self.foreign[0], out_a)
        vb, ignored_b, more_b, err_b = self.side(self.new, data, index, self.foreign[1], out_b)
        more = (more_a, more_b)
        projected = (tuple(key for _, key in out_a), tuple(key for _, key in out_b))
        errors = tuple(e for e in (err_a, err_b) if e is not None)
        org_id = self.subject.id_of(data) if isinstance(data, dict) else None
        if va is None or vb is None:
            return _Result(index, org_id, errors=errors, ignored=(ignored_a, ignored_b), projected=projected,
                           ignored_more=more)
        # label, validity and the inputs missing from unknown tiers first, without the trace; the
        # trace only where it is read: for a transition's causes
        try:
            *first, _, absent_a = outline(self.old, dict(va), missing=True)
        except AssessmentError as exc:  # a validity ending before it starts (A007)
            return _failed(index, org_id, exc, self.old, (ignored_a, ignored_b), more)
        try:
            *second, _, absent_b = outline(self.new, dict(vb), missing=True)
        except AssessmentError as exc:
            return _failed(index, org_id, exc, self.new, (ignored_a, ignored_b), more)
        if first == second:
            return _Result(index, org_id, first[0], second[0], None, False, (), (ignored_a, ignored_b),
                           (_shown(absent_a), _shown(absent_b)), projected, more)
        # validated once: the engine takes the normalised data as is
        a = evaluate(self.old, Assessment(va, self.old.sha256), resolution=_PIN)
        b = evaluate(self.new, Assessment(vb, self.new.sha256), resolution=_PIN)
        transition = None
        unexplained = False
        if (a.label, a.valid_from, a.valid_until) != (b.label, b.valid_from, b.valid_until):
            causes, unexplained = self.attributor.explain(a, b)
            transition = Transition(index, org_id, a.label, b.label, a.valid_from, b.valid_from, a.valid_until,
                                    b.valid_until, causes, self.subject.key)
        return _Result(index, org_id, a.label, b.label, transition, unexplained, (), (ignored_a, ignored_b),
                       (_missing(a), _missing(b)), projected, more)


def foreign_ids(this: Ruleset, other: Ruleset) -> dict[str, frozenset[str]]:
    """Catalogue -> the item ids ``other`` has and ``this`` does not (its removed or not yet added items)."""
    out: dict[str, frozenset[str]] = {}
    for name, catalogue in other.document.catalogues.items():
        mine = this.document.catalogues.get(name)
        ids = frozenset(catalogue.items) - frozenset(mine.items if mine is not None else ())
        if ids:
            out[name] = ids
    return out


def _names_foreign(f: Field, item: Any, foreign: Mapping[str, frozenset[str]]) -> tuple[str, str] | None:
    """(the field's pointer suffix, ``catalogue:id``) when a list item names a foreign catalogue item, else None."""
    cat = f.spec.catalogue
    if f.kind == "string" and cat is not None and isinstance(item, str) and item in foreign.get(cat, ()):
        return "", f"{cat}:{item}"
    if f.kind == "object" and isinstance(item, dict):
        for key, sub in f.fields.items():
            found = _names_foreign(sub, item.get(key), foreign) if sub.kind == "string" else None
            if found is not None:
                return "/" + key.replace("~", "~0").replace("/", "~1"), found[1]
    return None


def project_entries(f: Field, data: Any, foreign: Mapping[str, frozenset[str]], pointer: str,
                    found: list[tuple[str, str]]) -> Any:
    """``data`` without the list entries that name a catalogue item this version does not have (a copy
    where something is left out; ``data`` itself otherwise). Each entry left out is added to ``found`` as
    (``/list/-/field = id``, ``catalogue:id``). Maps keyed by a catalogue are left to the validator, which
    ignores (and reports) keys a version does not declare."""
    if isinstance(data, dict) and f.kind in ("object", "map"):
        members = f.fields if f.kind == "object" else f.entries
        out = None
        for key, sub in members.items():
            if key in data:
                value = project_entries(sub, data[key], foreign, f"{pointer}/{key}", found)
                if value is not data[key]:
                    out = dict(data) if out is None else out
                    out[key] = value
        return data if out is None else out
    if isinstance(data, list) and f.kind == "list" and f.items is not None:
        kept: list[Any] = []
        for item in data:
            hit = _names_foreign(f.items, item, foreign)
            if hit is not None:
                found.append((f"{pointer}/-{hit[0]} = {hit[1].split(':', 1)[1]}", hit[1]))
                continue
            kept.append(project_entries(f.items, item, foreign, f"{pointer}/-", found))
        changed = len(kept) != len(data) or any(a is not b for a, b in zip(kept, data, strict=False))
        return kept if changed else data
    return data


def _failed(index: int, subject: str | None, exc: AssessmentError, ruleset: Ruleset,
            ignored: tuple[tuple[str, ...], tuple[str, ...]],
            more: tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]] = ((), ())) -> _Result:
    """The result of an assessment that one version refuses to decide (its first problem)."""
    d = exc.diagnostics[0]
    return _Result(index, subject, errors=(ItemProblem(d.code, d.message, index=index, version=ruleset.version),),
                   ignored=ignored, ignored_more=more)


def _shown(absent: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """What :func:`_missing` gives, from the missing inputs of each unknown tier (highest first)."""
    return tuple(dict.fromkeys(LIST_INDEX.sub("/-", m) for missing in absent for m in missing))


def _missing(d: Decision) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for tier in d.tiers:
        if tier.outcome == "unknown":
            out.update(dict.fromkeys(LIST_INDEX.sub("/-", m) for m in tier.missing))
    return tuple(out)


class _Version:
    """A version handed to the pool's workers: a forked worker gets the loaded object itself
    (nothing is pickled under ``fork``); elsewhere (``spawn`` on macOS and Windows, ``forkserver``)
    it is pickled as its file and content hash, and each worker loads it once from its file."""

    __slots__ = ("ruleset",)

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset

    def __reduce__(self) -> tuple[Any, ...]:
        path = self.ruleset.path
        if path is None:
            raise TypeError("a version without a file cannot be sent to a worker process")
        return (_load, (str(path), self.ruleset.sha256))


def _load(path: str, sha256: str) -> _Version:
    """The version of ``path``, which must still be the one whose content hash is ``sha256``."""
    ruleset = load_ruleset(Path(path))
    if ruleset.sha256 != sha256:
        raise RuntimeError(f"the ruleset file {path} changed while the impact analysis ran")
    return _Version(ruleset)


def _start_job(old: _Version, new: _Version, changed: dict[str, frozenset[str]], labels: tuple[str, ...]) -> _Job:
    """A pool worker's setup: the job it runs every chunk with (built once in each worker)."""
    return _Job(old.ruleset, new.ruleset, changed, labels)


def _run_chunk(job: _Job, chunk: list[tuple[int, Any, ItemProblem | None]]) -> list[_Result]:
    """A pool worker's task: a chunk of assessments under both versions."""
    return list(_serial(job, iter(chunk)))


# -- the population -------------------------------------------------------------------------------


def population_items(population: Path | str | Iterable[Any], *,
                     raw: bool = False) -> Iterator[tuple[int, Any, ItemProblem | None]]:
    """(index, data, error) of each assessment; with ``raw``, the lines of a JSON Lines file are
    left for the worker to parse (:class:`~ecei_rules.batch.RawLine`)."""
    if isinstance(population, (str, Path)):
        from ecei_rules.batch import read_assessments

        for item in read_assessments(population, raw=raw):
            if item.error is not None:
                first = item.error.diagnostics[0] if isinstance(item.error, AssessmentError) and \
                    item.error.diagnostics else None
                yield item.index, None, ItemProblem(first.code if first else "A006",
                                                    first.message if first else str(item.error), index=item.index)
            else:
                yield item.index, item.data, None
        return
    for index, data in enumerate(population, start=1):
        yield index, data, None


def count_lines(path: Path | str) -> int | None:
    """The number of non-blank lines of a JSON Lines file (for a progress bar), else None."""
    p = Path(path)
    if p.suffix != ".jsonl" or not p.is_file():
        return None
    with p.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _labels(old: Ruleset, new: Ruleset) -> tuple[str, ...]:
    """``none``, then the tiers from lowest to highest: the new version's order, with a label only the
    old version has placed after the label it follows there."""
    out = list(new.document.labels)
    previous: str | None = None
    for label in old.document.labels:
        if label not in out:
            out.insert(out.index(previous) + 1 if previous is not None else 0, label)
        previous = label
    return (NONE, *out)


def impact(old: Ruleset, new: Ruleset, population: Path | str | Iterable[Any], *, jobs: int | None = 1,
           chunk_size: int = 250, progress: Callable[[int], None] | None = None) -> ImpactReport:
    """The impact of ``new`` over ``old`` on a population.

    Args:
        old, new: the two versions (both are pinned for every assessment).
        population: a ``.jsonl`` (streamed), ``.json`` or ``.yaml`` file, or an iterable of raw
            assessments (e.g. :func:`ecei_rules.testing.synth.synthesize`).
        jobs: worker processes (None: every core; 1: in this process). Workers load both
            versions from their files, so rulesets without a file run in process.
        chunk_size: assessments per task sent to a worker.
        progress: called with the number of assessments done so far.
    """
    started = time.perf_counter()
    diff = semantic_diff(old, new)
    changed = attributable(diff)
    labels = _labels(old, new)
    report = ImpactReport(VersionInfo.of(old), VersionInfo.of(new), labels, changed, scale=label_scale(old, new),
                          subject=resolve_subject(new.document))
    _describe(report, diff)
    workers, _ = worker_count(None if jobs is None else max(1, jobs))  # capped by cores and memory
    if old.path is None or new.path is None:
        workers = 1
    report.jobs = workers
    results: Iterator[_Result]
    if workers == 1:
        job = _Job(old, new, changed, labels)
        results = _serial(job, population_items(population))
    else:
        results = _parallel(old, new, changed, labels, population_items(population, raw=True), workers, chunk_size)
    done = 0
    for result in results:
        _add(report, result)
        done += 1
        if progress is not None and (done % 100 == 0):
            progress(done)
    if progress is not None:
        progress(done)
    report.seconds = time.perf_counter() - started
    return report


def _serial(job: _Job, items: Iterator[tuple[int, Any, ItemProblem | None]]) -> Iterator[_Result]:
    for index, data, error in items:
        if error is not None:
            yield _Result(index, errors=(error,))
        else:
            yield job.one(index, data)


def _parallel(old: Ruleset, new: Ruleset, changed: dict[str, frozenset[str]], labels: tuple[str, ...],
              items: Iterator[tuple[int, Any, ItemProblem | None]], workers: int, chunk_size: int) -> Iterator[_Result]:
    """Chunks over a process pool (:func:`ecei_rules.core.workers.ordered_map`, the batch's), results in
    input order."""
    assert old.path is not None
    assert new.path is not None
    yield from ordered_map(_run_chunk, items, workers=workers, chunk_size=chunk_size, setup=_start_job,
                           setup_args=(_Version(old), _Version(new), changed, labels))


def _add(report: ImpactReport, result: _Result) -> None:
    report.assessments += 1
    report.add_errors(result.errors)
    for i in (0, 1):
        report.add_ignored(i, result.ignored[i], result.ignored_more[i])
        report.missing[i].update(result.missing[i])
        report.projected[i].update(result.projected[i])
        for key in dict.fromkeys(result.projected[i]):
            report.projected_lines[i].setdefault(key, []).append(result.index)
    if result.old_label is None or result.new_label is None:
        return
    row = report.matrix.setdefault(result.old_label, dict.fromkeys(report.labels, 0))
    row[result.new_label] = row.get(result.new_label, 0) + 1
    if result.transition is not None:
        report.transitions.append(result.transition)
    if result.unexplained:
        report.unexplained += 1


def _describe(report: ImpactReport, diff: Diff) -> None:
    """Titles of the items that may be named, and how the diff changed each."""
    for ruleset in (diff.new, diff.old):
        doc = ruleset.document
        score_specs = {sid: s for sid, (s, _) in score_outcomes(doc).items()}
        for section, items in (("criteria", doc.criteria), ("groups", doc.groups), ("scores", score_specs),
                               ("tiers", doc.tiers)):
            for key, item in items.items():
                title = getattr(item, "title", None)
                if title:
                    report.titles.setdefault(f"{section}:{key}", str(title))
        for rule in doc.validity.rules:
            report.titles.setdefault(f"validity:{rule.id}", rule.title or "")
    for change in diff.changes:
        if change.section in SECTIONS:
            key = f"{change.section}:{change.id}"
            report.diff_kinds.setdefault(key, change.kind)
        if change.section == "scores" and change.attribute and change.attribute.startswith("weight of "):
            crit = change.attribute.removeprefix("weight of ")
            report.diff_kinds.setdefault(f"criteria:{crit}", f"weight {to_json(change.old)} → {to_json(change.new)}")
    params = diff.changed_ids("parameters")
    for ruleset in (diff.old, diff.new):
        for c in ruleset.plan.criteria:
            if c.compiled.params & params:
                report.diff_kinds.setdefault(f"criteria:{c.id}", "parameter changed")
    _describe_values(report, diff)


def _describe_values(report: ImpactReport, diff: Diff) -> None:
    """Titles and kinds of change of the bands, derived values, parameters and the rescale an attribution
    may name (`ValueChanges`)."""
    values = ValueChanges.of(diff.old, diff.new)
    mapped = diff.new.document.labels_from or diff.old.document.labels_from
    if values.empty and not values.parameters and mapped is None:
        return
    for ruleset in (diff.new, diff.old):
        doc = ruleset.document
        for bid, band in doc.bands.items():
            report.titles.setdefault(f"bands:{bid}", band.title)
            kinds = [kind for kind, changed in (("bounds changed", any(values.classes[c][0] == bid
                                                                        for c in values.bounds)),
                                                ("value placed changed", bid in values.placed)) if changed]
            if bid not in diff.old.document.bands or bid not in diff.new.document.bands:  # one version's only
                kinds = ["added" if bid not in diff.old.document.bands else "removed"]
            report.diff_kinds.setdefault(f"bands:{bid}", ", ".join(kinds))
        for name, d in doc.derived.items():
            report.titles.setdefault(f"derived:{name}", d.title)
        for name, p in doc.parameters.items():
            report.titles.setdefault(f"parameters:{name}", p.title or "")
    if not values.empty or values.parameters:  # what may be named beyond the diff's own sections (diff_items)
        report.changed_items = {**report.changed_items,
                                "bands": frozenset(values.classes[c][0] for c in values.bounds) | values.placed,
                                "derived": frozenset(values.formulas), "parameters": values.parameters}
    for name, kind in values.formulas.items():
        report.diff_kinds[f"derived:{name}"] = kind
    for name in values.parameters:
        report.diff_kinds[f"parameters:{name}"] = "value changed"
    if mapped is not None:
        report.changed_items = {**report.changed_items, "labels": frozenset({"labels_from"})}
        onto = diff.new.version if mapped is diff.new.document.labels_from else diff.old.version
        report.titles["labels:labels_from"] = f"the labels of {mapped.version} mapped onto {onto}'s"
        report.diff_kinds["labels:labels_from"] = "rescaled (labels_from)"


def impact_refs(old: str, new: str, population: Path | str | Iterable[Any], *, registry: Registry | None = None,
                jobs: int | None = 1, progress: Callable[[int], None] | None = None) -> ImpactReport:
    """:func:`impact` for two references, e.g. ``impact_refs("ecei-labels@1.2.0", "ecei-labels@2.0.0", path)``."""
    reg = registry or Registry.shipped()
    return impact(reg.lookup(old, allow_unpublished=True), reg.lookup(new, allow_unpublished=True), population,
                  jobs=jobs, progress=progress)
