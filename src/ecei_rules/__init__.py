"""ecei-rules: versioned, declarative label methodologies, decided and explained.

>>> from ecei_rules import load_ruleset, evaluate  # doctest: +SKIP
"""

from .engine.decision import Decision, Resolution
from .engine.evaluate import Assessment, check_assessment, evaluate, validate_assessment
from .errors import AssessmentError, Diagnostic, EceiRulesError, ResolutionError, RulesetError
from .explain import Explanation, explain
from .ruleset.load import Ruleset, check_ruleset, load_ruleset, load_ruleset_text

__version__ = "0.1.0"

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
