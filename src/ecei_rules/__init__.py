"""ecei-rules: versioned, declarative label methodologies, decided and explained.

>>> from ecei_rules import load_ruleset, evaluate  # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from ecei_rules.core.version import __version__ as __version__
from ecei_rules.engine.decision import Decision, Resolution
from ecei_rules.engine.evaluate import Assessment, check_assessment, evaluate, validate_assessment
from ecei_rules.errors import AssessmentError, Diagnostic, EceiRulesError, ResolutionError, RulesetError
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
    "Resolution",
    "ResolutionError",
    "Ruleset",
    "RulesetError",
    "check_assessment",
    "check_ruleset",
    "evaluate",
    "explain",
    "load_ruleset",
    "load_ruleset_text",
    "validate_assessment",
]
