"""ecei-rules: versioned, declarative label methodologies, decided and explained.

>>> from ecei_rules import load_ruleset, evaluate  # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

# The explain package is light until one of its names is used. It is imported here, once, so
# that the name "explain" its import binds on this package can be taken back (importing it
# later would bind the package over the function); __getattr__ then gives the function.
from . import explain as _explain_package
from .engine.decision import Decision, Resolution
from .engine.evaluate import Assessment, check_assessment, evaluate, validate_assessment
from .errors import AssessmentError, Diagnostic, EceiRulesError, ResolutionError, RulesetError
from .ruleset.load import Ruleset, check_ruleset, load_ruleset, load_ruleset_text

if TYPE_CHECKING:
    from .explain import Explanation, explain
else:
    del explain


def __getattr__(name: str) -> Any:
    """``explain`` and ``Explanation``, imported on first use (deciding a label never needs them)."""
    if name in ("explain", "Explanation"):
        value = getattr(_explain_package, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "explain", "Explanation"})


__version__ = "0.2.0"

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
