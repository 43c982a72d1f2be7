"""The engine's public functions: a pure function of (ruleset version, assessment) to a
:class:`Decision`, its label alone, or its canonical text, all through the one evaluator of
:mod:`ecei_rules.engine.evaluator`.

No clock, no I/O, no global state: the same inputs give the same decision, byte for byte.
Criteria, groups, scores and tiers are three-valued (Kleene); numbers compare exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecei_rules.engine.decision import Decision, Resolution, given
from ecei_rules.engine.evaluator import Outline, evaluator
from ecei_rules.errors import AssessmentError
from ecei_rules.ruleset.load import Ruleset


@dataclass(frozen=True)
class Assessment:
    """An assessment validated against one ruleset version (normalised values)."""

    data: Mapping[str, Any]
    ruleset_sha256: str


def validate_assessment(ruleset: Ruleset, data: Any) -> Assessment:
    """Validate raw assessment data (parsed JSON or YAML) against the version's inputs.

    Raises:
        AssessmentError: with one diagnostic per problem, each naming its JSON path.
    """
    normalised, problems = ruleset.plan.validator.validate(data)
    if problems:
        raise AssessmentError(problems)
    return Assessment(normalised, ruleset.sha256)


def check_assessment(ruleset: Ruleset, data: Any) -> list[Any]:
    """Return the problems of an assessment (empty when it is valid); never raises."""
    _, problems = ruleset.plan.validator.validate(data)
    return problems


def evaluate(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment, *,
             resolution: Resolution | None = None) -> Decision:
    """Decide the label of one assessment under one ruleset version.

    Args:
        ruleset: a loaded ruleset version.
        assessment: raw assessment data (validated here) or an `Assessment`.
        resolution: how the version was chosen, recorded in the decision (default: given).

    Raises:
        AssessmentError: the assessment does not match the version's declared inputs.
    """
    return evaluator(ruleset).decision(dict(validated_data(ruleset, assessment)), ruleset.sha256,
                                       resolution or given(ruleset.published))


def decision_text(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment, *,
                  resolution: Resolution | None = None) -> str:
    """``evaluate(ruleset, assessment, resolution=resolution).canonical_text()``, byte for byte,
    written directly without building the decision (see :mod:`ecei_rules.engine.text`).

    Raises:
        AssessmentError: the assessment does not match the version's declared inputs.
    """
    validator = ruleset.plan.validator
    data = None if isinstance(assessment, Assessment) else validator.validate_unordered(assessment)
    env = dict(validated_data(ruleset, assessment)) if data is None else data
    return evaluator(ruleset).text(env, ruleset.sha256, resolution or given(ruleset.published))


def validated_data(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment) -> Mapping[str, Any]:
    """The normalised data of an assessment for this version: an :class:`Assessment` of this very
    version as it is, anything else validated (raises AssessmentError)."""
    if isinstance(assessment, Assessment):
        if assessment.ruleset_sha256 == ruleset.sha256:
            return assessment.data
        return validate_assessment(ruleset, dict(assessment.data)).data
    return validate_assessment(ruleset, assessment).data


def decide_label(ruleset: Ruleset, assessment: Mapping[str, Any] | Assessment) -> tuple[str, Any, Any]:
    """The fast path: (label, valid_from, valid_until) with the same semantics as :func:`evaluate`,
    without building the trace. Validates raw data like :func:`evaluate`; pass an
    :class:`Assessment` to skip validation.
    """
    # the generated label mode never changes the data it is given (it copies it before it adds to it)
    return evaluator(ruleset).label_only(validated_data(ruleset, assessment))


def outline(ruleset: Ruleset, env: dict[str, Any], *, missing: bool = False) -> Outline:
    """(label, valid_from, valid_until, whether a tier is unknown, missing) of validated data,
    without the trace; ``env`` is a copy of the data that this may extend.

    With ``missing``, the last member holds, for each unknown tier (highest first), the absent
    inputs that left it unknown: the ``missing`` of the decision's unknown tiers.
    """
    return evaluator(ruleset).label(env, missing=missing)
