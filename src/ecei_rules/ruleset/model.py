"""The ruleset document: frozen pydantic models, one per section of a ruleset file.

These models describe the *resolved* document (after ``extends`` is applied). Their field
descriptions flow into the published JSON Schema that editors use while rulesets are typed.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ecei_rules.core.patterns import pattern_problem
from ecei_rules.core.pointers import pointer_join
from ecei_rules.ruleset.bands import Interval, class_condition, intervals, parse_interval

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
MethodologyId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")]
SemVer = Annotated[
    str,
    StringConstraints(
        pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
    ),
]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Expression = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
#: A band's class, as labels are named: letters, digits and ``_ . - +`` (``A+++``).
ClassName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$", max_length=64)]
T = TypeVar("T")
#: YAML gives lists; the frozen models keep tuples. Strict mode would refuse the conversion.
Seq = Annotated[tuple[T, ...], Strict(False)]

BASE_TYPES = ("boolean", "integer", "decimal", "date", "string", "enum", "object", "list", "map")
NONE_LABEL = "none"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Approval(_Model):
    """Who approved a version, when, and under which reference."""

    body: str = Field(description="The body that approved this version, e.g. 'the scheme owner's board'.")
    date: dt.date = Field(description="The date of the approval (YYYY-MM-DD).")
    reference: str | None = Field(default=None, description="A decision number, minutes or URL.")


class Check(_Model):
    """A consistency check on an object of an assessment, written in the condition language."""

    rule: Expression = Field(description="A condition over the object's own fields that must not be false.")
    message: str = Field(description="The error shown when the rule is false.")
    field: str | None = Field(default=None, description="The field the error points at (default: the object).")


class InputSpec(_Model):
    """The declaration of one assessment field: its type, whether it is required, its range."""

    type: str = Field(
        description=(
            "A base type (boolean, integer, decimal, date, string, enum, object, list, map) "
            "or the name of a type declared under 'types'."
        )
    )
    description: str | None = Field(default=None, description="What the field means, for people and forms.")
    required: bool = Field(default=False, description="An absent required field is an error; others are unknown.")
    default: Any = Field(
        default=None,
        description="A value used when the field is absent (declared, never silent). Only [] for lists.",
    )
    minimum: Decimal | int | None = Field(default=None, description="Smallest allowed value (numbers).")
    maximum: Decimal | int | None = Field(default=None, description="Largest allowed value (numbers).")
    values: Seq[str] | None = Field(default=None, description="The allowed values of an enum.")
    pattern: str | None = Field(
        default=None, description="A regular expression (RE2 syntax) a string must match entirely."
    )
    max_length: int | None = Field(
        default=None, ge=0, le=100_000,
        description="Strings: the most characters a value may have (default 10,000; at most 100,000).",
    )
    max_items: int | None = Field(
        default=None, ge=0, le=100_000,
        description="Lists: the most items a value may have (default 10,000; at most 100,000). Conditions "
        "that loop over the list are costed with this bound.",
    )
    catalogue: str | None = Field(
        default=None,
        description="For strings: the value must be an item id of this catalogue. For maps: keys are its item ids.",
    )
    fields: dict[str, InputSpec] | None = Field(default=None, description="The fields of an object.")
    items: InputSpec | None = Field(default=None, description="The type of a list's items.")
    checks: Seq[Check] = Field(default=(), description="Consistency checks on an object's fields.")

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            problem = pattern_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return value


class CatalogueItem(_Model):
    """One entry of a catalogue (an indicator, say)."""

    title: str = Field(description="The item's name as the methodology states it.")
    type: str = Field(description="The type of the item's value in an assessment (a declared or base type).")
    category: str | None = Field(default=None, description="A grouping label, e.g. '4' for the items of chapter 4.")
    description: str | None = Field(default=None, description="Longer explanation for assessors.")
    source: str | None = Field(default=None, description="Citation stating that this item exists.")
    assumed: str | None = Field(default=None, description="Why this item is assumed where no source states it.")


class Catalogue(_Model):
    """A named set of items (indicators) that maps and enum-like strings can refer to."""

    title: str = Field(description="The catalogue's name.")
    source: str | None = Field(default=None, description="Citation of the catalogue as a whole.")
    items: dict[ItemId, CatalogueItem] = Field(description="The items by id.")


class Parameter(_Model):
    """A named value used by conditions (a threshold, say), with its unit and provenance."""

    value: Decimal | int | bool | str | dt.date | Seq[str] = Field(
        description="The value: a number, boolean, string, date or list of strings."
    )
    unit: str | None = Field(default=None, description="The unit, e.g. 'share', 'FTE', 'months'.")
    title: str | None = Field(default=None, description="What the parameter is, in words.")
    source: str | None = Field(default=None, description="Citation when the value is sourced.")
    assumed: str | None = Field(default=None, description="Why the value is assumed when no source states it.")

    @model_validator(mode="after")
    def _one_provenance(self) -> Parameter:
        if (self.source is None) == (self.assumed is None):
            raise ValueError("give exactly one of 'source' (a citation) or 'assumed' (why)")
        return self

    @property
    def provenance(self) -> Literal["sourced", "assumed"]:
        """Whether the value is sourced or assumed."""
        return "sourced" if self.source is not None else "assumed"


#: A value a parameter (or an entry of a parameter table) may hold.
ParameterValue = Decimal | int | bool | str | dt.date | Seq[str]
#: The key of a parameter table's default entry, as decisions name it (``mc[*]``): the value of
#: every key the table does not list.
TABLE_DEFAULT = "*"


class _OwnProvenance(_Model):
    """A part with a provenance of its own, optional (the whole's is the default): not both kinds."""

    source: str | None = None
    assumed: str | None = None

    @model_validator(mode="after")
    def _at_most_one_provenance(self) -> _OwnProvenance:
        if self.source is not None and self.assumed is not None:
            raise ValueError("give one of 'source' (a citation) or 'assumed' (why), not both")
        return self


class TableEntry(_OwnProvenance):
    """One entry of a parameter table written with a provenance (or title) of its own."""

    value: ParameterValue = Field(description="The value: a number, boolean, string, date or list of strings.")
    title: str | None = Field(default=None, description="What the entry is, in words.")
    source: str | None = Field(default=None, description="Citation of this entry (default: the table's).")
    assumed: str | None = Field(default=None, description="Why this entry is assumed (default: the table's).")


class ParameterTable(_OwnProvenance):
    """A parameter with one value per key of an enum (or of a catalogue), read in conditions as
    ``params.<table>[<key>]``, e.g. ``params.mc[c.type]``: each entry is a parameter of its own,
    named ``<table>[<key>]`` in decisions and diffs."""

    title: str | None = Field(default=None, description="What the table holds, in words.")
    keys: Seq[str] | str = Field(
        description="The keys: a list of them, or the name of a declared enum type or of a catalogue, or the "
        "dotted path of an enum (or catalogue) input, through objects and list items, e.g. "
        "'appliance.compartments.type'.")
    values: dict[str, ParameterValue | TableEntry] = Field(
        description="Key -> its value, or {value, source or assumed, title} for an entry with a provenance of its "
        "own. Every key needs an entry unless the table has a 'default'.")
    default: ParameterValue | TableEntry | None = Field(
        default=None, description="The value of every key not listed under 'values' (entry '<table>[*]').")
    unit: str | None = Field(default=None, description="The unit of every entry.")
    description: str | None = Field(default=None, description="Longer explanation.")
    source: str | None = Field(default=None, description="Citation of the entries that give none of their own.")
    assumed: str | None = Field(default=None, description="Why the entries that give no provenance are assumed.")


    def entries(self) -> dict[str, ParameterValue | TableEntry]:
        """Each entry written, the default under ``*``."""
        if self.default is None:
            return dict(self.values)
        return {**self.values, TABLE_DEFAULT: self.default}

    def parameter(self, key: str, entry: ParameterValue | TableEntry) -> Parameter:
        """An entry as a parameter: its own provenance and title, else the table's."""
        own = entry if isinstance(entry, TableEntry) else None
        value = entry.value if isinstance(entry, TableEntry) else entry
        source, assumed = (own.source, own.assumed) if own is not None and (
            own.source is not None or own.assumed is not None) else (self.source, self.assumed)
        title = own.title if own is not None and own.title is not None else (
            f"{self.title}: {'any other key' if key == TABLE_DEFAULT else key}" if self.title else None)
        return Parameter.model_construct(value=value, unit=self.unit, title=title, source=source, assumed=assumed)


def table_entry(table: str, key: str) -> str:
    """The name of a parameter table's entry (``mc[chill]``; the default ``mc[*]``)."""
    return f"{table}[{key}]"


def parameter_entries(doc: RulesetDocument) -> dict[str, Parameter]:
    """Every parameter of a document by the name decisions and diffs give it: the parameters,
    then each entry of each table (``<table>[<key>]``, the default ``<table>[*]``)."""
    if not doc.tables:
        return doc.parameters
    out = dict(doc.parameters)
    for name, table in doc.tables.items():
        for key, entry in table.entries().items():
            out[table_entry(name, key)] = table.parameter(key, entry)
    return out


#: Tags of the values a plain JSON value cannot tell apart, in the JSON pydantic writes of a
#: decision (``model_dump_json``): a date is not its ISO text, a Decimal not a float, a tuple not
#: a list. An object of the data with a key that starts with "$" is wrapped, so no tag is ambiguous.
_TAGS = ("$date", "$decimal", "$tuple", "$object")


def _tagged(value: Any) -> Any:
    """An engine value as JSON that keeps its type (see :data:`_TAGS`)."""
    cls = value.__class__
    if cls is dt.date:
        return {"$date": value.isoformat()}
    if cls is Decimal:
        return {"$decimal": str(value)}
    if cls is tuple:
        return {"$tuple": [_tagged(v) for v in value]}
    if cls is list:
        return [_tagged(v) for v in value]
    if cls is dict:
        out = {k: _tagged(v) for k, v in value.items()}
        return {"$object": out} if any(str(k).startswith("$") for k in value) else out
    return value


def _untagged(value: Any) -> Any:
    """The engine value :func:`_tagged` wrote."""
    if value.__class__ is list:
        return [_untagged(v) for v in value]
    if value.__class__ is not dict:
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$date" and isinstance(inner, str):
            return dt.date.fromisoformat(inner)
        if key == "$decimal" and isinstance(inner, str):
            return Decimal(inner)
        if key == "$tuple" and isinstance(inner, list):
            return tuple(_untagged(v) for v in inner)
        if key == "$object" and isinstance(inner, dict):
            return {k: _untagged(v) for k, v in inner.items()}
    return {k: _untagged(v) for k, v in value.items()}


def _from_json(value: Any, info: ValidationInfo) -> Any:
    return _untagged(value) if info.mode == "json" else value


#: A value a decision shows (read from an assessment, or a parameter's): JSON values, Decimals,
#: dates and tuples. Its JSON form from ``model_dump_json`` keeps the type, so that a decision
#: read back with ``model_validate_json`` is equal to the one written.
EngineValue = Annotated[Any, PlainSerializer(_tagged, when_used="json"), BeforeValidator(_from_json)]


class ParameterUse(BaseModel):
    """A parameter a criterion or score read, with its provenance (as a decision shows it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="The parameter's name.")
    value: EngineValue = Field(description="Its value.")
    unit: str | None = Field(default=None, description="Its unit.")
    provenance: Literal["sourced", "assumed"] = Field(description="Sourced with a citation, or assumed.")
    source: str = Field(description="The citation, or why the value is assumed.")


def parameter_use(name: str, p: Parameter) -> ParameterUse:
    """The record of a parameter as decisions show it (value, unit, provenance)."""
    return ParameterUse.model_construct(
        name=name, value=p.value, unit=p.unit, provenance=p.provenance,
        source=p.source if p.source is not None else (p.assumed or ""),
    )


#: The types a derived value may have.
DERIVED_TYPES = ("boolean", "integer", "decimal", "date", "string")


class Derived(_Model):
    """A named value computed from inputs, parameters and other derived values, once per decision."""

    title: str = Field(description="The value's name, e.g. 'Energy efficiency index'.")
    type: Literal["boolean", "integer", "decimal", "date", "string"] = Field(
        description="The type of the value, checked against its expression when the ruleset loads.")
    value: Expression = Field(description="The expression that computes it, in the condition language.")
    unit: str | None = Field(default=None, description="Its unit, e.g. '%' or 'points'.")
    description: str | None = Field(default=None, description="Longer explanation.")
    clause: str | None = Field(default=None, description="The clause or source text that defines it.")


class Criterion(_Model):
    """A condition the methodology states, with the clause it implements."""

    title: str = Field(description="A short name of the criterion.")
    clause: str | None = Field(default=None, description="The clause or source text the criterion implements.")
    when: Expression = Field(description="The condition, in the condition language; met when true.")
    description: str | None = Field(default=None, description="Longer explanation.")


class BandClass(_OwnProvenance):
    """A class of a band written with a clause or provenance of its own."""

    bounds: str = Field(description='The interval, as a class is written: "<= 41", "(41..51]", "(a_max..b_max]".')
    clause: str | None = Field(default=None, description="The clause this class comes from (default: the band's).")
    source: str | None = Field(default=None, description="Citation of this class's bounds (default: the band's).")
    assumed: str | None = Field(default=None, description="Why this class's bounds are assumed (default: the band's).")


class Band(_Model):
    """A value placed into ordered classes by a table of bounds; each class is an outcome of its
    own, ``<band>.<class>``, met when the value lies in the class's interval."""

    title: str = Field(description="The band's name, e.g. 'Energy efficiency class'.")
    clause: str | None = Field(default=None, description="The clause or table the bounds come from.")
    of: Expression = Field(description="The value placed into a class: a number input, a derived value or an "
                           "expression in the condition language.")
    unit: str | None = Field(default=None, description="The unit of the value.")
    classes: dict[ClassName, str | BandClass] = Field(
        min_length=1,
        description='Class -> its interval, each end open or closed: "<= 41", "(41..51]", "> 125", "[22..33)"; '
        'a bound may name a number parameter ("(a_max..b_max]"). Taken in order, each class starts where the one '
        "before ends: gaps and overlaps are errors. A class may be written {bounds, clause, source or assumed} "
        "with a provenance of its own.",
    )
    source: str | None = Field(default=None, description="Citation of the bounds, when sourced.")
    assumed: str | None = Field(default=None, description="Why the bounds are assumed.")

    @field_validator("classes")
    @classmethod
    def _contiguous(cls, value: dict[str, str | BandClass]) -> dict[str, str | BandClass]:
        intervals(_bounds(value))  # raises ValueError naming every malformed interval, overlap and gap
        return value

    @model_validator(mode="after")
    def _one_provenance(self) -> Band:
        if self.source is not None and self.assumed is not None:
            raise ValueError("give exactly one of 'source' (a citation) or 'assumed' (why) for the bounds")
        own = all(isinstance(c, BandClass) and (c.source is not None or c.assumed is not None)
                  for c in self.classes.values())
        if self.source is None and self.assumed is None and not own:
            raise ValueError("give exactly one of 'source' (a citation) or 'assumed' (why) for the bounds")
        return self

    @property
    def bounds(self) -> dict[str, str]:
        """Each class's interval as written."""
        return _bounds(self.classes)

    def provenance(self, name: str) -> tuple[str | None, str | None]:
        """(source, assumed) of a class's bounds: its own, else the band's."""
        c = self.classes[name]
        if isinstance(c, BandClass) and (c.source is not None or c.assumed is not None):
            return c.source, c.assumed
        return self.source, self.assumed


def _bounds(classes: dict[str, str | BandClass]) -> dict[str, str]:
    return {name: c.bounds if isinstance(c, BandClass) else c for name, c in classes.items()}


def band_intervals(doc: RulesetDocument, bid: str) -> dict[str, Interval]:
    """Each class of the band ``bid`` by name, lowest first: its interval, with bounds that name
    parameters taken at the parameters' values."""
    values = {name: Decimal(p.value) for name, p in doc.parameters.items()
              if isinstance(p.value, (int, Decimal)) and not isinstance(p.value, bool)}
    return {i.name: i for i in intervals(doc.bands[bid].bounds, values)}


def band_criteria(bands: dict[str, Band]) -> dict[str, Criterion]:
    """The criterion each class of each band is met by (``<band>.<class>``), in the order written."""
    out: dict[str, Criterion] = {}
    for bid, band in bands.items():
        for name, text in band.bounds.items():
            interval = parse_interval(name, text)
            unit = f" {band.unit}" if band.unit else ""
            own = band.classes[name]
            clause = own.clause if isinstance(own, BandClass) and own.clause is not None else band.clause
            source, assumed = band.provenance(name)
            cited = ""
            if isinstance(own, BandClass) and (own.source is not None or own.assumed is not None):
                cited = f" (source: {source})" if source is not None else f" (assumed: {assumed})"
            out[f"{bid}.{interval.name}"] = Criterion.model_construct(
                title=f"{band.title}: {interval.name}", clause=clause, when=class_condition(band.of, interval),
                description=f"{band.title} is {interval.name} when {interval.text(band.of)}{unit}{cited}")
    return out


class Group(_Model):
    """A named set of criteria that is met when all of them are met (Kleene and)."""

    title: str = Field(description="The group's name.")
    clause: str | None = Field(default=None, description="The clause or source the group implements.")
    all_of: Seq[str] = Field(min_length=1, description="Criterion, group or score ids, all required.")


class ScoreLevel(_Model):
    """One level of a score: its own threshold over the score's weights (the weights are written once)."""

    title: str | None = Field(
        default=None, description="The level's name (default: the score's title and the level id).")
    threshold: str | None = Field(
        default=None, description="Name of a parameter holding the share of the total weight that must be met (0..1).")
    minimum: str | None = Field(
        default=None, description="Name of a parameter holding the met weight (points) that must be reached.")

    @model_validator(mode="after")
    def _one_threshold(self) -> ScoreLevel:
        if (self.threshold is None) == (self.minimum is None):
            raise ValueError("give exactly one of 'threshold' (a share of the total weight) or 'minimum' (points)")
        return self


class ScorePoints(_Model):
    """A number a score weighs as it is: the points a value earns, clipped to [0, maximum]."""

    value: str = Field(description="The number of points: an expression over inputs, parameters and derived "
                       "values (a derived value's name, say).")
    maximum: Decimal | int = Field(description="The most points it adds (> 0): a value above it adds the maximum, "
                                   "one below 0 adds nothing; the total weight counts it.")

    @model_validator(mode="after")
    def _positive(self) -> ScorePoints:
        if self.maximum <= 0:
            raise ValueError("the maximum must be greater than 0")
        return self


class Score(_Model):
    """A weighted score over criteria, met when the met weight reaches a share of the total
    (``threshold``) or a number of points (``minimum``); or several levels over the same weights."""

    title: str = Field(description="The score's name.")
    clause: str | None = Field(default=None, description="The clause or source the score implements.")
    weights: dict[str, Decimal | int] = Field(
        default_factory=dict, description="Criterion id -> weight (> 0): the weight a criterion adds when met.")
    points: dict[ItemId, ScorePoints] = Field(
        default_factory=dict, description="Name -> a number weighed as it is (points earned, up to a maximum), "
        "beside the weights of criteria.")
    threshold: str | None = Field(
        default=None,
        description="Name of a parameter holding the share of the total weight that must be met (0..1).",
    )
    minimum: str | None = Field(
        default=None,
        description="Name of a parameter holding the met weight (points) that must be reached, instead of a share.",
    )
    levels: dict[ItemId, ScoreLevel] = Field(
        default_factory=dict,
        description="Several thresholds over these weights, each an outcome of its own named '<score>.<level>' "
        "(instead of one 'threshold' or 'minimum').",
    )
    source: str | None = Field(default=None, description="Citation for the weights, when sourced.")
    assumed: str | None = Field(default=None, description="Why the weights are assumed.")

    @model_validator(mode="after")
    def _weights(self) -> Score:
        problems = []  # every problem of the score, in one message: each is its own mistake
        if not self.weights and not self.points:
            problems.append("give the 'weights' of criteria, or 'points', or both")
        problems += [f"the weight of '{key}' must be greater than 0" for key, weight in self.weights.items()
                     if weight <= 0]
        if (self.source is None) == (self.assumed is None):
            problems.append("give exactly one of 'source' (a citation) or 'assumed' (why) for the weights")
        given = (self.threshold is not None) + (self.minimum is not None) + bool(self.levels)
        if given != 1:
            problems.append("give exactly one of 'threshold' (a share of the total weight), 'minimum' (points) "
                            "or 'levels' (several thresholds over these weights)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def score_outcomes(doc: RulesetDocument) -> dict[str, tuple[Score, str]]:
    """Every score outcome of a document by id, with its weights and one threshold or minimum,
    and the JSON pointer of that threshold: a score without levels as written (under its id), a
    score with levels once per level (under ``<score>.<level>``, titled after both)."""
    out: dict[str, tuple[Score, str]] = {}
    for sid, score in doc.scores.items():
        if not score.levels:
            name = "threshold" if score.threshold is not None else "minimum"
            out[sid] = (score, pointer_join("/scores", sid, name))
            continue
        for lid, level in score.levels.items():
            flat = Score.model_construct(
                title=level.title if level.title is not None else f"{score.title}: {lid}", clause=score.clause,
                weights=score.weights, points=score.points, threshold=level.threshold, minimum=level.minimum,
                levels={},
                source=score.source, assumed=score.assumed)
            name = "threshold" if level.threshold is not None else "minimum"
            out[f"{sid}.{lid}"] = (flat, pointer_join("/scores", sid, "levels", lid, name))
    return out


class Tier(_Model):
    """A label and what it requires."""

    title: str = Field(description="The label's name as awarded.")
    requires: Seq[str] = Field(min_length=1, description="Criterion, group or score ids, all required.")
    description: str | None = Field(default=None, description="Longer explanation.")


#: The ``valid_until`` of a validity rule under which the label does not expire (no end date);
#: unlike an end that is unknown, it is written ``"validity_expires": false`` in the decision.
NEVER = "never"


class ValidityRule(_Model):
    """How long an awarded label is valid; the first rule that applies decides."""

    id: ItemId = Field(description="A stable id for the rule.")
    title: str = Field(description="A short name of the rule.")
    clause: str | None = Field(default=None, description="The clause or source the rule implements.")
    labels: Seq[str] = Field(min_length=1, description="The labels this rule applies to.")
    when: Expression | None = Field(default=None, description="Condition for the rule to apply (default: always).")
    valid_until: Expression = Field(
        description="A date expression (may use 'label', the decided label), or 'never': the label does not expire."
    )

    @property
    def expires(self) -> bool:
        """False when the rule states ``valid_until: never``."""
        return self.valid_until.strip() != NEVER


class Validity(_Model):
    """Validity of an awarded label."""

    valid_from: Expression = Field(description="A date expression for the first day of validity.")
    rules: Seq[ValidityRule] = Field(min_length=1, description="Ordered rules; the first that applies wins.")


class Subject(_Model):
    """What the methodology labels: its noun and the inputs that hold its id and display name."""

    noun: str = Field(min_length=1, max_length=64, description="What is labelled, singular, e.g. 'building'.")
    plural: str | None = Field(default=None, min_length=1, max_length=64,
                               description="The plural (default: the noun with 's').")
    id: str = Field(description="The input holding the subject's id, a dotted path to a declared string input, "
                    "e.g. 'building.id'.")
    name: str | None = Field(default=None, description="The input holding its display name (a dotted path to a "
                             "declared string input), if any.")


class SelectedBy(_Model):
    """Which assessments this version decides when it is chosen by the registry (no pin): the date
    compared with ``effective_from``, and, for a methodology whose versions run side by side, the
    values of an input that name this version's line (a rating system, a scheme)."""

    date: str | None = Field(default=None, description="The date input compared with effective_from, a dotted path "
                             "to a declared date input (default: assessed_on), e.g. 'registered_on'.")
    input: str | None = Field(default=None, description="An input whose value chooses the version, a dotted path "
                              "to a declared string or enum input, e.g. 'rating_system'.")
    values: Seq[str] = Field(default=(), description="With 'input': the values for which this version applies.")

    @model_validator(mode="after")
    def _input_with_values(self) -> SelectedBy:
        if (self.input is None) != (not self.values):
            raise ValueError("'input' and 'values' go together: the input whose value chooses the version, and "
                             "the values for which this version applies")
        if self.input is None and self.date is None:
            raise ValueError("name the date input ('date'), or the input and its values ('input', 'values')")
        return self


def selection_line(doc: RulesetDocument) -> tuple[str, ...] | None:
    """The values of the input that choose a version, sorted: its line among versions that run side by side
    (None: the versions of its methodology follow one another by date alone)."""
    chosen = doc.selected_by
    return tuple(sorted(chosen.values)) if chosen is not None and chosen.input is not None else None


class Unknowns(_Model):
    """How unknowns are computed, when a version opts into more than the language's default."""

    derived: Literal["ranges"] = Field(
        description="'ranges': an unknown derived value whose absent inputs are bounded (number inputs with a "
        "minimum and a maximum, a choice whose test is unknown, map entries) is computed as the exact range "
        "[lo, hi] of what it can be, and a condition, band class or tier on it is decided when the whole "
        "range is on one side. Absent: such a value is simply unknown.")


class TestExpect(_Model):
    """What an embedded test expects."""

    label: str = Field(description="The expected label ('none' for no label).")
    valid_from: dt.date | None = Field(default=None, description="Expected first day of validity.")
    valid_until: dt.date | Literal["never"] | None = Field(
        default=None, description="Expected last day of validity; 'never' for a label that does not expire.")
    tiers: dict[str, Literal["met", "not_met", "unknown"]] = Field(
        default_factory=dict, description="Expected tier outcomes (only those listed are checked)."
    )
    criteria: dict[str, Literal["met", "not_met", "unknown"]] = Field(
        default_factory=dict, description="Expected criterion, group or score outcomes (only those listed)."
    )
    missing: Seq[str] | None = Field(
        default=None, description="Expected JSON pointers of missing inputs over all unknown tiers."
    )
    validity_rule: str | None = Field(default=None, description="Expected id of the validity rule applied.")
    derived: dict[str, Any] = Field(
        default_factory=dict, description="Expected derived values by name, checked exactly (only those listed): "
        "a value as it is written in an assessment, or 'unknown' or 'undefined' for a value that has none.")


class RulesetTest(_Model):
    """An example assessment and the decision the methodology requires for it."""

    name: str = Field(description="A unique, descriptive name.")
    derivation: str | None = Field(default=None, description="How the expectation was derived by hand.")
    base: str | None = Field(default=None, description="Name of a fixture to start from.")
    assessment: dict[str, Any] = Field(
        default_factory=dict,
        description="The assessment, or a JSON merge patch (RFC 7396) over the fixture named in 'base'.",
    )
    expect: TestExpect = Field(description="The expected decision.")


class TestsFrom(_Model):
    """The embedded tests an earlier version of the same methodology lends this one."""

    version: SemVer = Field(description="The earlier version whose embedded tests (and fixtures) are run here too.")
    drop: Seq[str] = Field(default=(), description="Names of its tests not run here (a test of this version with "
                           "the name of one of its tests replaces it instead).")


class LabelsFrom(_Model):
    """How the labels of an earlier version with another label set map onto this version's (a rescale)."""

    version: SemVer = Field(description="The earlier version whose labels are mapped.")
    map: dict[str, str] = Field(min_length=1, description="Each label of that version -> the label of this "
                                "version it corresponds to ('none' stays 'none').")


class RulesetDocument(_Model):
    """A whole ruleset version after 'extends' is resolved."""

    methodology: MethodologyId = Field(description="The methodology id, e.g. 'energy-label'.")
    version: SemVer = Field(description="The semantic version of this ruleset.")
    title: str = Field(description="The methodology's title as published.")
    description: str | None = Field(default=None, description="What this version is and what changed.")
    status: Literal["draft", "published", "withdrawn"] = Field(description="Lifecycle status.")
    effective_from: dt.date = Field(description="The first day on which this version is in force.")
    announced_on: dt.date | None = Field(default=None, description="When the version was announced.")
    supersedes: SemVer | None = Field(default=None, description="The version this one replaces.")
    approval: Approval | None = Field(default=None, description="Who approved this version.")
    extends: str | None = Field(default=None, description="The version this file builds on (merge patch).")
    types: dict[Identifier, InputSpec] = Field(default_factory=dict, description="Named reusable types.")
    catalogues: dict[Identifier, Catalogue] = Field(default_factory=dict, description="Named catalogues.")
    inputs: dict[Identifier, InputSpec] = Field(description="The assessment fields this version reads.")
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict, description="Named parameters.")
    tables: dict[Identifier, ParameterTable] = Field(
        default_factory=dict, description="Parameters with one value per key of an enum or catalogue, read in "
        "conditions as params.<table>[<key>] (a table and a parameter may not share a name).")
    derived: dict[Identifier, Derived] = Field(
        default_factory=dict, description="Named values computed once per decision, read by conditions by name.")
    criteria: dict[ItemId, Criterion] = Field(description="The criteria by id.")
    groups: dict[ItemId, Group] = Field(default_factory=dict, description="Named sets of criteria.")
    scores: dict[ItemId, Score] = Field(default_factory=dict, description="Weighted scores.")
    bands: dict[ItemId, Band] = Field(
        default_factory=dict,
        description="Values placed into classes by tables of bounds; each class '<band>.<class>' is met like a "
        "criterion (the criteria of a decision list them after those written under 'criteria').",
    )
    labels: Seq[str] = Field(min_length=1, description="The labels from lowest to highest ('none' is implied).")
    labels_from: LabelsFrom | None = Field(
        default=None, description="For a version whose label set differs from an earlier one's: how that "
        "version's labels map onto these, so that impact can tell gains from losses across the rescale.")
    tiers: dict[str, Tier] = Field(description="Each label's requirement.")
    validity: Validity = Field(description="How long an awarded label is valid.")
    subject: Subject | None = Field(
        default=None, description="What is labelled, its id and name; decisions then name it 'subject'."
    )
    selected_by: SelectedBy | None = Field(
        default=None, description="How the registry chooses this version for an assessment when no version is "
        "pinned: by another date input than assessed_on, and/or by the value of an input (default: the "
        "version in force on assessed_on).")
    unknowns: Unknowns | None = Field(
        default=None, description="Opt-ins of how unknowns are computed ('unknowns: {derived: ranges}'); absent: "
        "an unknown input leaves what reads it unknown.")
    fixtures: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named assessments that embedded tests can start from."
    )
    tests: Seq[RulesetTest] = Field(default=(), description="Embedded tests of this version.")
    tests_from: SemVer | TestsFrom | None = Field(
        default=None, description="An earlier version of the methodology (its version, or {version, drop}) whose "
        "embedded tests and fixtures this version runs too, before its own; a test of this version with the name "
        "of one of them replaces it.")

    @model_validator(mode="after")
    def _bands_are_criteria(self) -> RulesetDocument:
        # each class of a band is decided as a criterion, by every evaluator alike: the criteria
        # of the document are those written, then those of the bands (an id written under
        # 'criteria' is kept, and the check reports the clash)
        if self.bands:
            generated = {k: v for k, v in band_criteria(self.bands).items() if k not in self.criteria}
            object.__setattr__(self, "criteria", {**self.criteria, **generated})
        return self


def ruleset_json_schema() -> dict[str, Any]:
    """The JSON Schema of ruleset files, for editors (yaml-language-server) and docs."""
    full = RulesetDocument.model_json_schema()
    defs = full.pop("$defs", {})
    # a version that extends another is a merge patch: nothing else is required, null deletes
    patch = _as_patch(copy.deepcopy(full))
    patch["required"] = ["extends", "version", "status", "effective_from"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ecei-rules ruleset",
        "description": "A ruleset version. With 'extends', the file is a JSON merge patch (RFC 7396) over the "
        "base version: only version, status and effective_from are required, and null deletes a key.",
        "$defs": {**defs, **{f"{name}Patch": _as_patch(copy.deepcopy(d)) for name, d in defs.items()}},
        "if": {"required": ["extends"]},
        "then": patch,
        "else": full,
    }


def _as_patch(schema: Any) -> Any:
    """The merge-patch form of a schema: no required keys, null allowed, references to patch forms."""
    if isinstance(schema, list):
        return [_as_patch(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("required", "default"):
            continue  # keywords only: property names are handled below
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: {"anyOf": [_as_patch(sub), {"type": "null"}]} for name, sub in value.items()}
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = {"anyOf": [_as_patch(value), {"type": "null"}]}
        elif key == "$ref" and isinstance(value, str):
            out[key] = value + "Patch"
        else:
            out[key] = _as_patch(value)
    return out
