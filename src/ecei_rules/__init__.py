"""ecei-rules: versioned, declarative label methodologies, decided and explained.

>>> from ecei_rules import decide  # doctest: +SKIP
>>> decide({"organisation": {...}, "assessed_on": "2021-03-15", ...})  # doctest: +SKIP

Every name a platform needs is importable from here: deciding (`decide`, `evaluate`,
`decide_many`), reading and checking assessments (`read_assessments`, `validate_assessment`,
`check_assessment`, `assessment_schema`), loading rulesets (`load_ruleset`, `Registry`),
explaining (`explain`) and the errors (every bad input is an `InputError`).

Each name is imported from its module on first use (PEP 562), so that ``import ecei_rules`` (and the
command line, which imports it first) costs only what it uses.
"""

from typing import TYPE_CHECKING, Any

from ecei_rules.core.version import __version__ as __version__

if TYPE_CHECKING:
    from ecei_rules.batch import Item, Outcome, decide, decide_many, read_assessments, registry_resolver
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
    from ecei_rules.explanation import Explanation, explain
    from ecei_rules.registry import Registry
    from ecei_rules.ruleset.inputs import assessment_schema
    from ecei_rules.ruleset.load import Ruleset, check_ruleset, load_ruleset, load_ruleset_text

#: Each public name and the module that defines it (imported on first use).
_LAZY = {
    **dict.fromkeys(("Item", "Outcome", "decide", "decide_many", "read_assessments", "registry_resolver"),
                    "ecei_rules.batch"),
    **dict.fromkeys(("Decision", "Resolution"), "ecei_rules.engine.decision"),
    **dict.fromkeys(("Assessment", "check_assessment", "evaluate", "validate_assessment"),
                    "ecei_rules.engine.evaluate"),
    **dict.fromkeys(("AssessmentError", "Diagnostic", "EceiRulesError", "InputError", "ResolutionError",
                     "RulesetError"), "ecei_rules.errors"),
    **dict.fromkeys(("explain", "Explanation"), "ecei_rules.explanation"),
    "Registry": "ecei_rules.registry",
    "assessment_schema": "ecei_rules.ruleset.inputs",
    **dict.fromkeys(("Ruleset", "check_ruleset", "load_ruleset", "load_ruleset_text"), "ecei_rules.ruleset.load"),
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (deciding a label never needs ``explain``)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
