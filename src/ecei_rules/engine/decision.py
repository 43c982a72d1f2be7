"""The Decision: a label, its validity, and the full trace that explains it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from ecei_rules.core.canonical import number_to_json, to_json
from ecei_rules.engine.derived import DerivedResult, derived_json
from ecei_rules.engine.serialise import decision_text
from ecei_rules.ruleset.model import EngineValue
from ecei_rules.ruleset.model import ParameterUse as ParameterUse
from ecei_rules.ruleset.model import parameter_use as parameter_use
from ecei_rules.ruleset.subject import DECLARED_KEY, IMPLIED

Outcome = Literal["met", "not_met", "unknown"]


def omit_empty(key: str) -> Any:
    """A model serializer that leaves ``key`` out of a dump when it is empty (a key written only
    when there is something). A lambda, unannotated: the model's JSON Schema stays its own."""

    def drop(data: dict[str, Any]) -> dict[str, Any]:
        if not data.get(key):
            data.pop(key, None)
        return data

    return model_serializer(mode="wrap")(lambda self, handler: drop(handler(self)))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True)


def _parameter_json(p: ParameterUse) -> dict[str, Any]:
    return {"name": p.name, "value": to_json(p.value), "unit": p.unit, "provenance": p.provenance,
            "source": p.source}


def points_json(p: PointsResult) -> dict[str, Any]:
    """A number weighed as it is, as JSON values (as ``Decision.to_json`` writes it)."""
    return {"expression": p.expression, "value": to_json(p.value), "maximum": number_to_json(p.maximum),
            "counted": None if p.counted is None else number_to_json(p.counted)}


class CriterionResult(_Frozen):
    """One criterion's outcome and the inputs it read."""

    id: str = Field(description="The criterion id.")
    title: str = Field(description="The criterion's title.")
    clause: str | None = Field(default=None, description="The clause or source it implements.")
    outcome: Outcome = Field(description="met, not_met or unknown.")
    condition: str = Field(description="The condition as written in the ruleset.")
    inputs: dict[str, EngineValue] = Field(description="JSON pointer -> value of every input read that has a value.")
    missing: tuple[str, ...] = Field(description="JSON pointers of inputs it reads that are absent.")
    parameters: tuple[ParameterUse, ...] = Field(description="The parameters (thresholds) it reads.")
    derived: dict[str, EngineValue] = Field(
        default_factory=dict, description="Derived value id -> its value (null unless known) of each derived value "
        "its condition reads; written only when it reads one.")
    # ClassVar: the docs site's model reader (griffe-pydantic) skips it instead of taking it for a field
    _derived_when_read: ClassVar[Any] = omit_empty("derived")


class GroupResult(_Frozen):
    """A group's outcome (all members met)."""

    id: str = Field(description="The group id.")
    title: str = Field(description="The group's title.")
    outcome: Outcome = Field(description="met, not_met or unknown: the Kleene conjunction of its members.")
    all_of: tuple[str, ...] = Field(description="The criteria, groups or scores it requires.")


class PointsResult(_Frozen):
    """A number a score weighs as it is (the score's ``points``): its value and what it adds."""

    expression: str = Field(description="The value as written in the ruleset.")
    value: EngineValue = Field(description="Its value (a number to at most 15 significant digits), null unless "
                               "known.")
    maximum: Decimal | int = Field(description="The most it adds (counted in the total weight).")
    counted: Decimal | int | None = Field(description="What it adds to the met weight: the value clipped to "
                                          "[0, maximum]; null when it has no value (the maximum is then unknown "
                                          "weight).")


class ScoreResult(_Frozen):
    """A weighted score: met, unknown and total weight against the threshold."""

    id: str = Field(description="The score id.")
    title: str = Field(description="The score's title.")
    clause: str | None = Field(default=None, description="The clause or source it implements.")
    outcome: Outcome = Field(description="met, not_met or unknown (see the language reference).")
    met_weight: Decimal | int = Field(description="Weight of the criteria that are met.")
    unknown_weight: Decimal | int = Field(description="Weight of the criteria that are unknown.")
    total_weight: Decimal | int = Field(description="Weight of all the score's criteria.")
    required_weight: Decimal | int = Field(description="threshold x total_weight: the met weight needed.")
    threshold: ParameterUse = Field(description="The threshold share and its provenance.")
    weights: dict[str, Decimal | int] = Field(description="Criterion id -> weight.")
    weights_provenance: Literal["sourced", "assumed"] = Field(description="Provenance of the weights.")
    weights_source: str = Field(description="Citation, or why the weights are assumed.")
    points: dict[str, PointsResult] = Field(
        default_factory=dict, description="Name -> each number the score weighs as it is (its 'points'); "
        "written only for a score that has them.")
    # ClassVar: the docs site's model reader (griffe-pydantic) skips it instead of taking it for a field
    _points_when_weighed: ClassVar[Any] = omit_empty("points")


class TierResult(_Frozen):
    """A tier's outcome, what it requires, and the inputs missing when it is unknown."""

    label: str = Field(description="The tier's label.")
    title: str = Field(description="The label's name as awarded.")
    outcome: Outcome = Field(description="met, not_met or unknown.")
    requires: tuple[str, ...] = Field(description="The criteria, groups or scores it requires.")
    missing: tuple[str, ...] = Field(description="For an unknown tier: the absent inputs that left it unknown.")


class Resolution(_Frozen):
    """How the ruleset version was chosen."""

    method: Literal["given", "pinned", "in_force"] = Field(
        description="given: the caller passed a ruleset; pinned: a version was asked for; "
        "in_force: the version in force on the assessment date."
    )
    reason: str = Field(description="The reason in words.")


#: The resolution of a decision whose caller passed the ruleset: checked against its methodology's
#: published lock by a registry, or not (a file loaded by path, a draft): then the decision says so.
GIVEN_PUBLISHED = Resolution.model_construct(method="given", reason="the caller chose this ruleset")
GIVEN_UNPUBLISHED = Resolution.model_construct(
    method="given", reason="the caller chose this ruleset, not a version checked against a published lock: "
    "an unpublished decision, not an official label")


def given(published: bool) -> Resolution:
    """The default resolution of a decision under a ruleset the caller passed."""
    return GIVEN_PUBLISHED if published else GIVEN_UNPUBLISHED


#: The instance dictionary's own descriptor, which a decision's ``__dict__`` reads and sets through.
_INSTANCE_DICT: Any = BaseModel.__dict__["__dict__"]
_instance_dict = _INSTANCE_DICT.__get__


class _Written(_Frozen):
    # _writer: the serialiser of the evaluator that made the decision (set by it, read by
    # canonical_text); _rest: for a decision of the evaluator's trace mode, what makes the members
    # of its trace left for when they are first read (None once made). Slots, not fields, so never
    # compared, dumped, copied nor pickled
    # ClassVar: the docs site's model reader (griffe-pydantic) skips it instead of taking it for a field
    __slots__: ClassVar[tuple[str, ...]] = ("_rest", "_writer")  # type: ignore[misc]

    # Every reader of a model's values as a whole (equality, dumps, copies, pickles, repr) reads
    # its ``__dict__``, and an attribute missing from the instance dictionary is looked up by
    # ``__getattr__``: the members left for later are made on the first of either, in the fields'
    # order (the order a dump keeps), and from then on the decision is as if made at once.
    @property
    def __dict__(self) -> dict[str, Any]:
        data: dict[str, Any] = _instance_dict(self)
        if "criteria" not in data:  # a decision of the trace mode not read yet (or a partial construct)
            data = _complete(self, data)
        return data

    @__dict__.setter
    def __dict__(self, data: dict[str, Any]) -> None:
        _INSTANCE_DICT.__set__(self, data)

    if not TYPE_CHECKING:  # as pydantic's own (the type checker reads fields, not this)
        def __getattr__(self, name: str) -> Any:
            if name in type(self).__pydantic_fields__:
                data = self.__dict__
                if name in data:
                    return data[name]
            return super().__getattr__(name)


def _complete(model: _Written, data: dict[str, Any]) -> dict[str, Any]:
    """The values of a decision of the trace mode with the members of its trace left for later
    made (``data``, when it has none left)."""
    try:
        rest = _REST.__get__(model)
    except AttributeError:  # made otherwise: nothing is left for later
        return data
    if rest is None:
        return data
    more = rest()
    now = _instance_dict(model)
    if "criteria" in now:  # made meanwhile, in another thread: the same values, kept as they are
        return now  # type: ignore[no-any-return]
    full = {name: data[name] if name in data else more[name] for name in type(model).__pydantic_fields__
            if name in data or name in more}
    _INSTANCE_DICT.__set__(model, full)
    _REST.__set__(model, None)
    return full


_REST: Any = vars(_Written)["_rest"]  # the slot's own descriptor


class Decision(_Written):
    """The result of evaluating one assessment under one ruleset version.

    A decision of the evaluator makes its criteria's and scores' results when they are first read
    (an attribute, a comparison, a dump, a copy); it reads, compares, dumps and pickles exactly as
    if they had been made at once.
    """

    methodology: str = Field(description="The methodology id.")
    version: str = Field(description="The version applied.")
    ruleset_sha256: str = Field(description="The content hash of the version applied.")
    resolution: Resolution = Field(description="How the version was chosen.")
    subject: str | None = Field(
        default=None, description="The subject's id (the input the ruleset's subject names) when the inputs have "
        "one. The JSON names it by subject_key: 'subject' when the ruleset declares its subject, else the key of "
        "the implied subject (see ecei_rules.ruleset.subject).")
    subject_key: str = Field(default=IMPLIED.key, exclude=True,
                             description="The key the JSON names the subject's id by (not a member itself).")
    label: str = Field(description="The awarded label, or 'none'.")
    valid_from: dt.date | None = Field(description="First day of validity (null without a label).")
    valid_until: dt.date | None = Field(description="Last day of validity (null without a label).")
    validity_rule: str | None = Field(description="The id of the validity rule applied.")
    validity_expires: Literal[False] | None = Field(
        default=None, description="false when the validity rule applied states 'valid_until: never' (the label "
        "does not expire; valid_until is then null); absent from the JSON otherwise.")
    validity_inputs: dict[str, EngineValue] = Field(
        default_factory=dict,
        description="JSON pointer -> value of every input the validity rules read (valid_from, the 'when' of "
        "each rule tried, and the valid_until of the rule applied).",
    )
    tiers: tuple[TierResult, ...] = Field(description="Every tier's outcome, highest first.")
    criteria: tuple[CriterionResult, ...] = Field(description="Every criterion's outcome and what it read.")
    groups: tuple[GroupResult, ...] = Field(description="Every group's outcome.")
    scores: tuple[ScoreResult, ...] = Field(description="Every score with its weights and threshold.")
    derived: tuple[DerivedResult, ...] = Field(
        default=(), description="Every derived value of the ruleset, in dependency order: its outcome, value and "
        "what it read; written only when the ruleset declares derived values.")

    def to_json(self) -> dict[str, Any]:
        """The decision as plain JSON values (numbers as JSON numbers, dates as ISO strings).

        The same values as ``_canonical.to_json(self.model_dump(mode="python"))``, built field by
        field (the property suite checks that they are equal, type for type).
        """
        r = self.resolution
        data: dict[str, Any] = {
            "methodology": self.methodology, "version": self.version, "ruleset_sha256": self.ruleset_sha256,
            "resolution": {"method": r.method, "reason": r.reason},
            self.subject_key: self.subject, "label": self.label,
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
            "validity_rule": self.validity_rule,
            **({} if self.validity_expires is None else {"validity_expires": False}),
            "validity_inputs": {str(k): to_json(v) for k, v in self.validity_inputs.items()},
            "tiers": [{"label": t.label, "title": t.title, "outcome": t.outcome, "requires": list(t.requires),
                       "missing": list(t.missing)} for t in self.tiers],
            "criteria": [{"id": c.id, "title": c.title, "clause": c.clause, "outcome": c.outcome,
                          "condition": c.condition, "inputs": {str(k): to_json(v) for k, v in c.inputs.items()},
                          "missing": list(c.missing), "parameters": [_parameter_json(p) for p in c.parameters]}
                         for c in self.criteria],
            "groups": [{"id": g.id, "title": g.title, "outcome": g.outcome, "all_of": list(g.all_of)}
                       for g in self.groups],
            "scores": [{"id": s.id, "title": s.title, "clause": s.clause, "outcome": s.outcome,
                        "met_weight": number_to_json(s.met_weight), "unknown_weight": number_to_json(s.unknown_weight),
                        "total_weight": number_to_json(s.total_weight),
                        "required_weight": number_to_json(s.required_weight),
                        "threshold": _parameter_json(s.threshold),
                        "weights": {str(k): number_to_json(w) for k, w in s.weights.items()},
                        "weights_provenance": s.weights_provenance, "weights_source": s.weights_source,
                        **({"points": {k: points_json(p) for k, p in s.points.items()}} if s.points else {})}
                       for s in self.scores],
        }
        if self.derived:  # a ruleset with derived values: the values, and what each criterion read of them
            data["derived"] = [derived_json(d) for d in self.derived]
            for c, out in zip(self.criteria, data["criteria"], strict=True):
                if c.derived:
                    out["derived"] = {str(k): to_json(v) for k, v in c.derived.items()}
        return data

    # -- the members a ruleset's constructs add (the dumps hold exactly the JSON's members) -----
    @model_validator(mode="before")
    @classmethod
    def _read_subject(cls, data: Any) -> Any:
        """JSON read back: the subject's id under the implied subject's key, or under "subject"."""
        if isinstance(data, dict) and "subject_key" not in data:
            if IMPLIED.key in data:
                data = {("subject" if k == IMPLIED.key else k): v for k, v in data.items()}
            elif DECLARED_KEY in data:
                data = {**data, "subject_key": DECLARED_KEY}
        return data

    @model_serializer(mode="wrap")
    def _members(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        key, keep = self.subject_key, self.validity_expires is not None
        return {(key if k == "subject" else k): v for k, v in data.items()
                if (keep or k != "validity_expires") and (self.derived or k != "derived")}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, as pydantic makes it; ``update`` may also name the subject's id by its JSON member
        (``subject_key``, the implied subject's key for a ruleset that declares none)."""
        if update and self.subject_key in update:
            update = {("subject" if k == self.subject_key else k): v for k, v in update.items()}
        return super().model_copy(update=update, deep=deep)

    def canonical_text(self) -> str:
        """RFC 8785 canonical JSON of `to_json`, as text (the bytes records and replays compare).

        Written by the serialiser of the evaluator that made this decision, which remembers the
        texts its version's decisions share; a decision made otherwise (parsed, copied, or by the
        reference evaluator) is written by a serialiser of its own for this call."""
        return decision_text(self, getattr(self, "_writer", None))

    def outcome_of(self, ref: str) -> Outcome:
        """The outcome of a criterion, group, score or tier by id or label."""
        for collection in (self.criteria, self.groups, self.scores):
            for item in collection:
                if item.id == ref:
                    return item.outcome
        for tier in self.tiers:
            if tier.label == ref:
                return tier.outcome
        raise KeyError(ref)
