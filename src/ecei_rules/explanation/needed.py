"""The absent inputs an outcome needs: those that could change it, not every absent input a
condition names.

A decision lists, for each derived value and criterion, every input its expression reads that is
absent (``missing``), read from the text. For ``x if a else y`` with ``a`` true, the inputs only
``y`` reads are listed although the value does not depend on them. An explanation lists instead
the absent inputs whose values could change the outcome, by the rule an unknown tier's
``missing`` follows (``ecei_rules.engine.needed``), read by the reference evaluator
(``reference_needs``, the interpreter's reading, exact):

* a part whose value is known needs nothing (three-valued evaluation: a value known while some
  input is absent is the same whatever that input is), unless it calls ``known``: then every
  absent input it reads (``known(x)`` is false while ``x`` is absent, and true once it is given);
* of a choice ``x if a else y``, the branch its test takes (both, and the test, when the test
  is itself unknown);
* a name of a derived value without a value needs what that value needs; an absent input, itself;
* any other part that is unknown, what its parts need (a generator over a list, what it reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecei_rules.engine.reference import reference_derived, reference_needs
from ecei_rules.ruleset.load import Ruleset


class Needed:
    """The absent inputs each derived value and each criterion needs, for one assessment (validated data)."""

    def __init__(self, ruleset: Ruleset, data: Mapping[str, Any]) -> None:
        doc = ruleset.plan.doc
        values = reference_derived(ruleset, data)[1] if doc.derived else {}
        self._needs = reference_needs(ruleset, {**data, **values})
        self.derived: dict[str, frozenset[str]] = {
            name: frozenset(self._needs(spec.value, True)) for name, spec in doc.derived.items()}

    def criterion(self, cid: str) -> frozenset[str]:
        """The absent inputs whose values could change a criterion's outcome."""
        return frozenset(self._needs(cid, False))
