"""The test tools: the tests embedded in rulesets (``embedded``), hypothesis strategies
(``strategies``), property checks (``properties``), synthetic populations (``synth``, with
``synth_goals``: the thresholds it aims at, ``synth_draw``: how it draws, ``synth_coverage``: what
a population exercised, ``regex_draw``: strings matching a pattern), the counterexample search
of a bump check (``counterexample``) and ``lint``, which runs it.

Only this package imports hypothesis, and only its modules that search; the rest of the library
reaches them from inside a function, so importing the library never imports hypothesis."""

from ecei_rules.testing.embedded import EmbeddedResult, run_embedded, run_test

__all__ = ["EmbeddedResult", "run_embedded", "run_test"]
