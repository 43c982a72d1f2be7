"""An unknown tier's ``missing`` names only the absent inputs whose value could change it (issue 22,
"The language, from the examples' workarounds": "`missing` lists inputs read only in branches not
taken").

The scheme is ``tests/data/needed/1.0.0.yaml``: one criterion per tier, each with a construct that
decides without some of what it reads. A criterion's own ``missing`` still lists every absent input
its condition reads; the tier lists what the criterion needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecei_rules import evaluate, load_ruleset
from ecei_rules.engine.evaluate import decision_text, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.explanation import explain

NEEDED = Path(__file__).resolve().parent.parent / "data" / "needed" / "1.0.0.yaml"


def tiers_missing(site: dict[str, Any]) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """({tier: missing} of the unknown tiers, {criterion: missing} of the unknown criteria)."""
    d = evaluate(load_ruleset(NEEDED), {"assessed_on": "2021-01-15", "site": {"id": "S-1", **site}})
    return ({t.label: t.missing for t in d.tiers if t.outcome == "unknown"},
            {c.id: c.missing for c in d.criteria if c.outcome == "unknown"})


def test_an_input_read_only_in_the_branch_not_taken_is_not_missing() -> None:
    """``(x if flag else y) >= 3`` with the flag true: only x can change it; with the flag absent, the
    flag and both branches."""
    tiers, criteria = tiers_missing({"flag": True})
    assert criteria["chosen"] == ("/site/x", "/site/y")  # what the condition reads, as before
    assert tiers["two"] == ("/site/x",)
    assert tiers_missing({"flag": False})[0]["two"] == ("/site/y",)
    assert tiers_missing({})[0]["two"] == ("/site/flag", "/site/x", "/site/y")


def test_an_operand_after_another_decided_is_not_missing() -> None:
    """``(x > 5 or y > 3) and z > 1`` with x 10: the ``or`` is true whatever y is, so only z is missing;
    ``not (x > 50 and y > 50)`` with x 60 needs y."""
    tiers, criteria = tiers_missing({"x": 10})
    assert criteria["either_then_z"] == ("/site/y", "/site/z")
    assert tiers["one"] == ("/site/z",)
    assert tiers_missing({"x": 60})[0]["six"] == ("/site/y",)


def test_a_derived_value_that_has_a_value_needs_nothing_and_one_without_needs_its_branch() -> None:
    """``total = bonus + z`` with ``bonus = 2 if flag else y``: with the flag true the bonus is 2, so the
    total needs z only (not y, which the bonus reads in the branch not taken); with the flag false it
    needs y; with neither, the flag and y."""
    assert tiers_missing({"flag": True})[0]["four"] == ("/site/z",)
    assert tiers_missing({"flag": False, "z": 2})[0]["four"] == ("/site/y",)
    assert tiers_missing({"z": 2})[0]["four"] == ("/site/flag", "/site/y")


def test_known_lists_every_absent_input_it_reads() -> None:
    """``known(w) or z > 1``: giving w a value makes it met, so w is missing although ``known(w)`` has a
    value (false)."""
    assert tiers_missing({})[0]["five"] == ("/site/w", "/site/z")


@pytest.mark.parametrize("site", [{"x": 10}, {"flag": True}, {"flag": False, "z": 2}, {"x": 60}, {},
                                  {"flag": True, "x": 1, "z": 0}], ids=range(6))
def test_every_evaluator_lists_the_same_missing(site: dict[str, Any]) -> None:
    """The trace, text and label modes and the reference evaluator (its own reading, with the
    interpreter) give the same tiers, byte for byte; the explanation's unknown tiers say the same."""
    ruleset = load_ruleset(NEEDED)
    data = {"assessed_on": "2021-01-15", "site": {"id": "S-1", **site}}
    validated = validate_assessment(ruleset, data)
    fast, reference = evaluate(ruleset, validated), evaluate_reference(ruleset, validated)
    assert fast.canonical_text() == reference.canonical_text() == decision_text(ruleset, validated)
    _, _, _, _, absent = outline(ruleset, dict(validated.data), missing=True)
    assert list(absent) == [t.missing for t in fast.tiers if t.outcome == "unknown"]
    explained = {t.label: t.missing for t in explain(ruleset, data).tiers if t.outcome == "unknown"}
    assert explained == {t.label: t.missing for t in fast.tiers if t.outcome == "unknown"}
