"""The explanation of a decision as data: a stable, documented JSON form (schema version 1).

Every model is frozen and its fields carry descriptions, which flow into the JSON Schema
(:func:`explanation_json_schema`). The schema is versioned by :data:`SCHEMA`: fields may be
added in a compatible release; renaming or removing one changes the schema version. Members a
document has only when its ruleset uses a construct are optional in the schema: ``derived``,
a criterion's ``band`` and ``own_parameters``, a change's ``derived`` and ``alternatives``
(derived values and bands), and ``organisation`` / ``organisation_name``, the subject's first
names, which only the explanations of a ruleset that declares no subject have (one that declares
its subject is named by ``subject``, ``subject_name`` and ``subject_noun`` alone).
Numbers are exact (JSON numbers; a fraction without a finite decimal form is the string
``"a/b"``), dates are ``YYYY-MM-DD``, inputs are named by JSON pointers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_serializer, model_validator

from ecei_rules.core.canonical import to_json
from ecei_rules.engine.decision import CriterionResult, Outcome, ParameterUse
from ecei_rules.engine.derived import DerivedResult
from ecei_rules.ruleset.subject import DECLARED_KEY, IMPLIED

SCHEMA: Final = "ecei-rules/explanation/1"

#: an exact number, written as a JSON number (never a string) by the explanation's JSON
Number = Annotated[Decimal | int, WithJsonSchema({"type": "number"})]
Op = Literal[">=", "<=", ">", "<", "=="]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def _omit_empty(*keys: str) -> Any:
    """A model serializer that leaves each of ``keys`` out of a dump when it is empty (members an
    explanation has only when its ruleset uses derived values or bands, so that the explanations of
    rulesets without them keep their bytes). A lambda, unannotated: the JSON Schema stays the model's."""

    def drop(data: dict[str, Any]) -> dict[str, Any]:
        for key in keys:
            if not data.get(key):
                data.pop(key, None)
        return data

    return model_serializer(mode="wrap")(lambda self, handler: drop(handler(self)))


class VersionChoice(_Model):
    """Which ruleset version decided, and why that one."""

    method: Literal["given", "pinned", "in_force"] = Field(
        description="in_force: the version in force on the assessment date; pinned: asked for explicitly; "
        "given: the caller passed a ruleset."
    )
    reason: str = Field(description="The engine's reason, as recorded in the decision.")
    effective_from: dt.date = Field(description="The first day the version is in force.")
    assessed_on: dt.date | None = Field(description="The assessment date.")
    sentence: str = Field(description="The reason in words, in the explanation's language.")


class Comparison(_Model):
    """A criterion that compares one input with a threshold (``indicators["3.2"] >= 0.30``)."""

    pointer: str = Field(description="JSON pointer of the input compared.")
    input: str = Field(description="The input's name for people, e.g. '3.2 (Share of private funds in the financing)'.")
    op: Op = Field(description="The comparison that passes: value op threshold.")
    threshold: Any = Field(
        description="The threshold (a number, or true for a condition that must hold); for a comparison with "
        "another input, the threshold its current value gives (null when that input is absent)."
    )
    relative_to: str | None = Field(
        default=None, description="For a comparison with another input (2 * private > committed): its pointer."
    )
    value: Any = Field(default=None, description="The value read; null when the input is absent.")
    present: bool = Field(description="Whether the input has a value in the assessment.")


class BandPlacement(_Model):
    """A band class as one criterion compares it: the band's value and the class's interval."""

    band: str = Field(description="The band id.")
    title: str = Field(description="The band's title.")
    name: str = Field(description="The class.")
    of: str = Field(description="The value placed, as the band writes it (a derived value, an input).")
    value: Any = Field(default=None, description="Its value, when known.")
    interval: str = Field(description="The class's interval, e.g. '41 < energy_index <= 51'.")
    unit: str | None = Field(default=None, description="The value's unit.")
    provenance: Literal["sourced", "assumed"] = Field(description="Whether the bounds are sourced or assumed.")
    source: str = Field(description="The bounds' citation, or why they are assumed.")


# The fields of the decision's CriterionResult (id, title, clause, outcome, condition, inputs, missing,
# parameters) come first, in its order and with its descriptions; then what the explanation adds.
class CriterionExplanation(CriterionResult):
    """One criterion: its outcome, what it read, its threshold with provenance, and its clause."""

    comparisons: tuple[Comparison, ...] = Field(
        description="When the criterion compares inputs with thresholds (one comparison, or an 'and' of them): "
        "each comparison with the value read; empty for other shapes (relations, counts, lists)."
    )
    fixed: bool = Field(description="True when no change of the assessment can alter it (see fixed_inputs).")
    fixed_inputs: tuple[str, ...] = Field(description="The inputs it reads that cannot change (dates, history).")
    tiers: tuple[str, ...] = Field(description="The labels whose requirement includes it (directly or not).")
    weights: dict[str, Number] = Field(description="Score id -> its weight in that score.")
    sentence: str = Field(description="The criterion in words.")
    band: BandPlacement | None = Field(default=None, description="For a band class: the value placed and the "
                                       "class's interval (present only then).")
    own_parameters: tuple[str, ...] = Field(
        default=(), description="For a criterion that reads derived values: the parameters its own condition "
        "reads (the others are read by the derived values, listed with them; present only when it has some).")
    _derived_when_read: ClassVar[Any] = _omit_empty("derived", "band", "own_parameters")


class GroupExplanation(_Model):
    """A group of criteria: met when all are met."""

    id: str = Field(description="The group id.")
    title: str = Field(description="The group's title.")
    clause: str | None = Field(default=None, description="The clause or source it implements.")
    outcome: Outcome = Field(description="met, not_met or unknown.")
    all_of: tuple[str, ...] = Field(description="Its members.")
    not_met: tuple[str, ...] = Field(description="Members not met.")
    unknown: tuple[str, ...] = Field(description="Members unknown.")
    sentence: str = Field(description="The group in words.")


class ScoreExplanation(_Model):
    """A weighted score against its threshold."""

    id: str = Field(description="The score id.")
    title: str = Field(description="The score's title.")
    clause: str | None = Field(default=None, description="The clause or source it implements.")
    outcome: Outcome = Field(description="met, not_met or unknown.")
    met_weight: Number = Field(description="Weight of the criteria met.")
    unknown_weight: Number = Field(description="Weight of the criteria unknown.")
    total_weight: Number = Field(description="Weight of all its criteria.")
    required_weight: Number = Field(description="threshold x total_weight: the met weight needed.")
    shortfall: Number = Field(description="required_weight - met_weight when positive, else 0.")
    threshold: ParameterUse = Field(description="The threshold share and its provenance.")
    weights_provenance: Literal["sourced", "assumed"] = Field(description="Provenance of the weights.")
    weights_source: str = Field(description="Citation, or why the weights are assumed.")
    not_met: tuple[str, ...] = Field(description="Its criteria not met.")
    unknown: tuple[str, ...] = Field(description="Its criteria unknown.")
    sentence: str = Field(description="The score in words.")


class TierExplanation(_Model):
    """A tier: met or not, and because of which criteria."""

    label: str = Field(description="The tier's label.")
    title: str = Field(description="The label's name as awarded.")
    outcome: Outcome = Field(description="met, not_met or unknown.")
    awarded: bool = Field(description="True for the tier whose label is awarded.")
    requires: tuple[str, ...] = Field(description="What it requires (criteria, groups, scores).")
    not_met: tuple[str, ...] = Field(
        description="The criteria and scores under its requirement that are not met (through groups)."
    )
    unknown: tuple[str, ...] = Field(description="The criteria and scores under its requirement that are unknown.")
    missing: tuple[str, ...] = Field(description="JSON pointers of the absent inputs behind the unknown ones.")
    sentence: str = Field(description="The tier in words.")


class NearMiss(_Model):
    """A criterion whose value lies within the margin of its threshold."""

    criterion: str = Field(description="The criterion id.")
    title: str = Field(description="The criterion's title.")
    outcome: Outcome = Field(description="The comparison's outcome: not_met (a near miss) or met (narrowly met).")
    pointer: str = Field(description="JSON pointer of the input.")
    input: str = Field(description="The input's name for people.")
    value: Any = Field(description="The value read.")
    op: Op = Field(description="The comparison that passes.")
    threshold: Number = Field(description="The threshold.")
    distance: Number = Field(description="|value - threshold|.")
    tiers: tuple[str, ...] = Field(description="The labels whose requirement includes the criterion.")
    sentence: str = Field(description="The near miss in words.")


class InputChange(_Model):
    """One concrete change of the assessment."""

    pointer: str = Field(description="JSON pointer of the input to set.")
    input: str = Field(description="The input's name for people.")
    present: bool = Field(description="Whether the input has a value now.")
    current: Any = Field(default=None, description="Its value now (null when absent).")
    target: Any = Field(description="A value that meets the criterion: the threshold itself when it passes.")
    op: Op = Field(description="The comparison the target must pass.")
    threshold: Any = Field(description="The threshold (for a comparison with another input: after its change).")
    relative_to: str | None = Field(default=None, description="For a comparison with another input: its pointer.")
    derived: dict[str, Any] = Field(
        default_factory=dict, description="For a change found through derived values (a band class, a threshold "
        "on a derived value): the derived values the criterion reads, as deciding again with the change gives "
        "them (present only then).")
    _derived_when_found: ClassVar[Any] = _omit_empty("derived")


class CriterionChange(_Model):
    """What turning one criterion met takes."""

    criterion: str = Field(description="The criterion id.")
    title: str = Field(description="The criterion's title.")
    clause: str | None = Field(default=None, description="The clause it implements.")
    outcome: Outcome = Field(description="Its outcome now (not_met or unknown).")
    kind: Literal["input", "condition", "fixed"] = Field(
        description="input: the input changes listed do it; condition: its condition must be made true (a "
        "relation between inputs, a count over a list: described, not given as values); fixed: it cannot be met "
        "by changing the assessment (it reads only fixed inputs, or no allowed value passes)."
    )
    changes: tuple[InputChange, ...] = Field(
        default=(), description="For kind input: the input changes, one per comparison that does not hold yet."
    )
    fixed_inputs: tuple[str, ...] = Field(description="Inputs it reads that cannot change.")
    sentence: str = Field(description="The change in words.")
    alternatives: tuple[InputChange, ...] = Field(
        default=(), description="For a criterion on a computed value (a band class, a threshold on a derived "
        "value): each single input change that meets it, any one of them (numbers first; each confirmed by "
        "deciding again); changes holds the first. Present only for such criteria.")
    _alternatives_when_found: ClassVar[Any] = _omit_empty("alternatives")


class Pick(_Model):
    """Any ``count`` of ``criteria``, each weighing ``weight``."""

    count: int = Field(description="How many of them.")
    weight: Number = Field(description="The weight of each.")
    criteria: tuple[str, ...] = Field(description="The interchangeable criteria of this weight.")


class Option(_Model):
    """One minimal way to close a score's gap: a pick from each weight class."""

    picks: tuple[Pick, ...] = Field(description="One pick per weight class used.")
    size: int = Field(description="Number of criteria to change.")
    weight: Number = Field(description="Weight they add.")
    combinations: int = Field(description="How many distinct change sets this option stands for.")
    sentence: str = Field(description="The option in words.")


class WeightedCriterion(_Model):
    """A criterion and its weight in a score."""

    criterion: str = Field(description="The criterion id.")
    weight: Number = Field(description="Its weight.")


class ScoreNeed(_Model):
    """A score that the tier's other changes do not bring to its threshold: the exact options."""

    score: str = Field(description="The score id.")
    title: str = Field(description="The score's title.")
    met_weight: Number = Field(description="Weight met now.")
    required_weight: Number = Field(description="Weight needed.")
    mandatory_weight: Number = Field(description="Weight the tier's mandatory changes add to it.")
    deficit: Number = Field(description="Weight still to add from the candidates.")
    candidates: tuple[WeightedCriterion, ...] = Field(description="Not-met criteria that can change.")
    excluded: tuple[str, ...] = Field(description="Not-met criteria left out because they cannot change.")
    options: tuple[Option, ...] = Field(
        description="Every minimal way to add the deficit, fewest criteria first (exact and complete unless "
        "complete is false)."
    )
    combinations: int = Field(description="The number of minimal subsets of the candidates (sum over options).")
    complete: bool = Field(description="False only when the options list was cut at its limit.")
    reachable: bool = Field(description="Whether the candidates can add the deficit at all.")
    sentence: str = Field(description="The need in words.")


class ChangeSet(_Model):
    """A minimal set of criteria to turn met so that the tier is met."""

    criteria: tuple[str, ...] = Field(description="The criteria to turn met (ruleset order).")
    size: int = Field(description="How many.")
    weight: Number = Field(description="The score weight they add.")
    feasible: bool = Field(description="False when one of them cannot change.")
    concrete: bool = Field(description="True when every criterion has a single input change.")
    changes: tuple[InputChange, ...] = Field(description="The input changes (one per input; concrete parts only).")
    verified: bool | None = Field(
        description="For a concrete set: whether deciding again with the changes applied gives the tier met "
        "(checked by the engine); null when not concrete."
    )
    sentence: str = Field(description="The change set in words.")


class InputSet(_Model):
    """A minimal set of inputs to change (and conditions to meet) so that the tier is met, counted in inputs."""

    inputs: tuple[InputChange, ...] = Field(description="The inputs to change, one each, with the value it needs.")
    conditions: tuple[str, ...] = Field(
        default=(), description="Criteria to meet whose condition is described rather than given as values.")
    size: int = Field(description="How many changes: inputs plus conditions.")
    criteria: tuple[str, ...] = Field(description="The criteria these changes turn met (ruleset order).")
    verified: bool | None = Field(
        description="Whether deciding again with the changes applied gives the tier met; null when a condition "
        "is part of the set.")
    sentence: str = Field(description="The set in words.")


class TierPath(_Model):
    """What it takes to reach one tier above the awarded label."""

    label: str = Field(description="The tier's label.")
    title: str = Field(description="The label's name.")
    outcome: Outcome = Field(description="Its outcome now.")
    reachable: bool = Field(description="Whether some change of the assessment reaches it.")
    mandatory: tuple[str, ...] = Field(description="Criteria to turn met in every change set.")
    fixed: tuple[str, ...] = Field(description="Mandatory criteria that cannot change: the tier is out of reach.")
    needs: tuple[ScoreNeed, ...] = Field(description="Scores still short after the mandatory changes.")
    total_sets: int = Field(description="The number of minimal change sets (exact when exhaustive).")
    exhaustive: bool = Field(description="False only when an enumeration limit was hit.")
    change_sets: tuple[ChangeSet, ...] = Field(
        description="The first minimal change sets: fewest criteria, then least weight (at most max_change_sets)."
    )
    truncated: bool = Field(description="Whether total_sets exceeds the change sets listed.")
    changes: tuple[CriterionChange, ...] = Field(
        description="For every criterion that appears in a change set or option: what turning it met takes."
    )
    sentence: str = Field(description="The path in words (the compact, exact form).")
    input_sets: tuple[InputSet, ...] = Field(
        default=(), description="The first minimal sets counted in inputs: fewest changes first (one input that "
        "feeds several criteria is one change), at most max_change_sets.")
    input_sets_total: int = Field(default=0, description="The number of minimal sets counted in inputs (exact "
                                  "when input_sets_exhaustive).")
    input_sets_exhaustive: bool = Field(default=True, description="False only when an enumeration limit was hit.")
    input_sentence: str = Field(default="", description="The path counted in inputs, in words (the compact form).")


class Settings(_Model):
    """The settings the explanation was made with."""

    near_margin: Number = Field(description="A value within near_margin x |threshold| of it is a near miss.")
    max_change_sets: int = Field(description="The most change sets listed per tier.")
    fixed_inputs: tuple[str, ...] = Field(description="Inputs treated as unchangeable facts (JSON pointers).")


class DerivedExplanation(DerivedResult):
    """A derived value: its outcome, value (or why it has none) and what it read, in a sentence."""

    sentence: str = Field(description="The value and what it read, in words.")
    own_parameters: tuple[str, ...] = Field(
        default=(), description="The parameters its own expression reads (the others in parameters come through "
        "the derived values it reads).")


class Explanation(_Model):
    """A decision explained: why this version and label, each tier and criterion, near misses, what it takes."""

    schema_id: Literal["ecei-rules/explanation/1"] = Field(
        default=SCHEMA, alias="schema", description="The schema of this document."
    )
    language: str = Field(description="The language of the sentences (e.g. 'en').")
    methodology: str = Field(description="The methodology id.")
    version: str = Field(description="The version applied.")
    ruleset_sha256: str = Field(description="The content hash of the version applied.")
    resolution: VersionChoice = Field(description="Why this version.")
    subject: str | None = Field(default=None, description="The subject's id (the input the ruleset's subject names).")
    subject_name: str | None = Field(default=None, description="The subject's display name, if the ruleset names one.")
    subject_noun: str = Field(default="", description="What the methodology labels, e.g. 'building'.")
    organisation: str | None = Field(default=None, description="The subject's id (this schema's first name for it; "
                                     "only for a ruleset that declares no subject).")
    organisation_name: str | None = Field(default=None, description="The subject's name (this schema's first "
                                          "name for it; only for a ruleset that declares no subject).")
    subject_key: str = Field(default=IMPLIED.key, exclude=True, description="'subject' when the ruleset declares "
                             "its subject: the JSON then names it by subject members only (not a member itself).")
    label: str = Field(description="The awarded label, or 'none'.")
    label_title: str | None = Field(description="The awarded label's name, or null.")
    valid_from: dt.date | None = Field(description="First day of validity.")
    valid_until: dt.date | None = Field(description="Last day of validity.")
    validity_expires: Literal[False] | None = Field(
        default=None, description="false when the label does not expire (valid_until is then null).")
    validity_rule: str | None = Field(description="The validity rule applied.")
    summary: tuple[str, ...] = Field(description="The decision in a few sentences.")
    tiers: tuple[TierExplanation, ...] = Field(description="Every tier, highest first.")
    groups: tuple[GroupExplanation, ...] = Field(description="Every group.")
    scores: tuple[ScoreExplanation, ...] = Field(description="Every score.")
    criteria: tuple[CriterionExplanation, ...] = Field(description="Every criterion, in ruleset order.")
    near_misses: tuple[NearMiss, ...] = Field(description="Criteria not met within the margin of their threshold.")
    narrow_passes: tuple[NearMiss, ...] = Field(description="Criteria met within the margin of their threshold.")
    what_it_takes: tuple[TierPath, ...] = Field(description="For each tier above the awarded one, lowest first.")
    settings: Settings = Field(description="How the explanation was made.")
    derived: tuple[DerivedExplanation, ...] = Field(
        default=(), description="Every derived value of the ruleset (only when it declares some).")
    # ClassVar: not a field for the docs
    _derived_when_declared: ClassVar[Any] = model_serializer(mode="wrap")(
        lambda self, handler: _members(self, handler(self)))

    @model_validator(mode="before")
    @classmethod
    def _first_names(cls, data: Any) -> Any:
        """Schema 1's first members for the subject's id and name are always equal to ``subject``
        and ``subject_name`` (the builder gives only those)."""
        if isinstance(data, dict) and "organisation" not in data and "organisation_name" not in data:
            data = {**data, "organisation": data.get("subject"), "organisation_name": data.get("subject_name")}
        return data

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The explanation as plain JSON values (exact numbers, ISO dates)."""
        data: dict[str, Any] = to_json(self.model_dump(mode="python", by_alias=True))
        return data

    def criterion(self, cid: str) -> CriterionExplanation:
        """The explanation of one criterion."""
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def path(self, label: str) -> TierPath:
        """What it takes to reach ``label``."""
        for p in self.what_it_takes:
            if p.label == label:
                return p
        raise KeyError(label)

    def tier(self, label: str) -> TierExplanation:
        """The explanation of one tier."""
        for t in self.tiers:
            if t.label == label:
                return t
        raise KeyError(label)


def _members(expl: Explanation, data: dict[str, Any]) -> dict[str, Any]:
    """The members of an explanation's dump: ``derived`` only when the ruleset declares derived values; the
    first names of the subject (``organisation``, ``organisation_name``) only when it declares no subject."""
    if not data.get("derived"):
        data.pop("derived", None)
    if expl.subject_key == DECLARED_KEY:
        data.pop("organisation", None)
        data.pop("organisation_name", None)
    return data


def explanation_json_schema() -> dict[str, Any]:
    """The JSON Schema of the explanation document (``--format json``)."""
    schema = Explanation.model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA
    schema["title"] = "ecei-rules explanation"
    return schema
