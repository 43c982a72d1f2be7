"""Explanations name the subject as the ruleset declares it, and say when a label does not expire.

tests/data/subject/1.0.0.yaml labels buildings (subject noun "building", id building.id, name
building.name); Gold (energy use <= 50) has `valid_until: never`. Sentences derived by hand.
"""

from __future__ import annotations

from pathlib import Path

from ecei_rules.explanation.build import explain
from ecei_rules.explanation.messages import Messages
from ecei_rules.explanation.render import render_markdown
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import load_ruleset
from ecei_rules.ruleset.subject import resolve

RULESET = load_ruleset(Path(__file__).resolve().parent.parent / "data" / "subject" / "1.0.0.yaml")


def test_explanations_take_the_subject_noun_from_the_ruleset() -> None:
    """With neither id nor name the summary says "the building" (the declared noun); with both,
    "Town hall (B-1)"; a Gold label "valid from 2022-01-10, with no expiry". ECEI, which declares no
    subject, says "the organisation" (its implied subject), never "the cluster organisation"."""
    gold = explain(RULESET, {"assessed_on": "2022-01-10", "energy_use": 50})
    assert gold.summary[0] == ("Under building-label 1.0.0, the building is awarded the label Gold, "
                               "valid from 2022-01-10, with no expiry.")
    assert (gold.subject, gold.subject_name, gold.subject_noun, gold.validity_expires) == (None, None, "building",
                                                                                          False)
    named = explain(RULESET, {"building": {"id": "B-1", "name": "Town hall"}, "assessed_on": "2022-01-10",
                              "energy_use": 80, "certified": False})
    assert named.summary[0] == ("Under building-label 1.0.0, Town hall (B-1) is awarded the label Silver, "
                                "valid from 2022-01-10 to 2025-01-31.")
    assert (named.subject, named.subject_name, named.validity_expires) == ("B-1", "Town hall", None)
    assert render_markdown(named).startswith("# building-label 1.0.0: Town hall\n")
    none = explain(RULESET, {"building": {"id": "B-9"}, "assessed_on": "2022-01-10", "energy_use": 200})
    assert none.summary[0] == "Under building-label 1.0.0, B-9 is awarded no label."
    # the implied subject of a ruleset that declares none: "the organisation" when unnamed
    ecei = Registry.shipped().get("ecei-labels", "3.0.1")
    text = " ".join(explain(ecei, {"organisation": {"id": "DE-1", "name": "Nord", "country": "DE"},
                                   "assessed_on": "2023-03-01"}).summary)
    assert text.startswith("Under ecei-labels 3.0.1, Nord (DE-1) is awarded")
    assert Messages()("decision.unnamed", noun=resolve(ecei.document).noun) == "the organisation"
    assert "cluster" not in Messages().template("decision.unnamed")
