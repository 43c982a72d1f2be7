"""ecei-rules: versioned, declarative label methodologies, decided and explained.

>>> from ecei_rules import decide  # doctest: +SKIP
>>> decide({"organisation": {...}, "assessed_on": "2021-03-15", ...})  # doctest: +SKIP

Every name a platform needs is importable from here: deciding (`decide`, `evaluate`,
`decide_many`), reading and checking assessments (`read_assessments`, `validate_assessment`,
`check_assessment`, `assessment_schema`), loading rulesets (`load_ruleset`, `Registry`),
explaining (`explain`) and the errors (every bad input is an `InputError`).
"""

from typing import TYPE_CHECKING, Any

from ecei_rules.batch import Item, Outcome, decide, decide_many, read_assessments, registry_resolver
from ecei_rules.core.version import __version__ as __version__
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import Assessment, check_assessment, evaluate, validate_assessment
from ecei_rules.errors import (
    AssessmentError,
    Diagnostic,
    EceiRulesError,
    InputError,
    ResolutionError,
    RulesetError,
)
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import assessment_schema
from ecei_rules.ruleset.load import Ruleset, check_ruleset, load_ruleset, load_ruleset_text

if TYPE_CHECKING:
    from ecei_rules.explanation import Explanation, explain


def __getattr__(name: str) -> Any:
    """``explain`` and ``Explanation``, imported on first use (deciding a label never needs them)."""
    if name in ("explain", "Explanation"):
        import ecei_rules.explanation

        value = getattr(ecei_rules.explanation, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "explain", "Explanation"})


__all__ = [
    "Assessment",
    "AssessmentError",
    "Decision",
    "Diagnostic",
    "EceiRulesError",
    "Explanation",
    "InputError",
    "Item",
    "Outcome",
    "Registry",
    "Resolution",
    "ResolutionError",
    "Ruleset",
    "RulesetError",
    "assessment_schema",
    "check_assessment",
    "check_ruleset",
    "decide",
    "decide_many",
    "evaluate",
    "explain",
    "load_ruleset",
    "load_ruleset_text",
    "read_assessments",
    "registry_resolver",
    "validate_assessment",
]
