"""Testing helpers: run the tests embedded in rulesets (hypothesis strategies come later)."""

from ecei_rules.testing.embedded import EmbeddedResult, run_embedded, run_test

__all__ = ["EmbeddedResult", "run_embedded", "run_test"]
