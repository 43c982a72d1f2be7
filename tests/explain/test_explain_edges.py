"""Edge cases on a small hand-written ruleset: criteria no change can meet, an unreachable score, a fixed date."""

from __future__ import annotations

from decimal import Decimal

from ecei_rules import load_ruleset_text
from ecei_rules.explanation import explain, render_markdown, render_text

RULESET = """
methodology: edges
version: 1.0.0
title: Edges
status: published
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  founded: {type: date}
  share: {type: decimal, minimum: 0, maximum: 1}
  a: {type: boolean}
  b: {type: boolean}
  c: {type: boolean}
parameters:
  impossible_share: {value: 1.5, assumed: "a threshold above the range, to test"}
  since: {value: 2015-01-01, assumed: "a date, to test"}
  half: {value: 0.5, assumed: "to test"}
criteria:
  OLD: {title: Founded before 2015, when: "founded < params.since"}
  HIGH: {title: Share above the range, when: "share >= params.impossible_share"}
  A: {title: A, when: a}
  B: {title: B, when: b}
  C: {title: C, when: c}
scores:
  S: {title: Score, weights: {OLD: 3, A: 1, B: 1}, threshold: half, assumed: "to test"}
labels: [one, two, three]
tiers:
  one: {title: One, requires: [C]}
  two: {title: Two, requires: [S]}
  three: {title: Three, requires: [HIGH, C]}
validity:
  valid_from: assessed_on
  rules:
    - {id: always, title: Two years, labels: [one, two, three], valid_until: "month_end(assessed_on, 24)"}
"""


def test_unreachable_score_impossible_threshold_and_fixed_date() -> None:
    """S needs 0.5 x 5 = 2.5; OLD (3) reads only a date and is fixed; A + B give 2 < 2.5: Two is out of reach.
    HIGH needs share >= 1.5, above its maximum of 1: Three is out of reach. One needs C: c true."""
    ruleset = load_ruleset_text(RULESET)
    data = {"assessed_on": "2021-05-04", "founded": "2016-03-01", "share": Decimal("0.4"), "a": False, "b": False,
            "c": False}
    expl = explain(ruleset, data)
    assert expl.label == "none"
    assert ruleset.plan.inputs.fields["founded"].kind == "date"
    one, two, three = expl.what_it_takes
    assert [(s.criteria, s.verified) for s in one.change_sets] == [(("C",), True)]
    assert not two.reachable
    assert two.total_sets == 0
    (need,) = two.needs
    assert need.excluded == ("OLD",)
    assert [c.criterion for c in need.candidates] == ["A", "B"]
    assert "Score cannot reach 2.5: even meeting every criterion that can change (A and B) leaves it 0.5 short." in (
        need.sentence)
    assert not three.reachable
    assert three.fixed == ("HIGH",)
    high = next(ch for ch in three.changes if ch.criterion == "HIGH")
    assert high.sentence == "Share above the range (HIGH) cannot be met: no allowed value of share is at least 1.5"
    assert expl.summary[-1] == "Three cannot be reached by changing this assessment alone: Share above the range " \
        "(HIGH) cannot change."
    assert "Two cannot be reached by changing this assessment alone." in expl.summary
    render_text(expl)
    render_markdown(expl)


def test_fixed_inputs_can_be_given() -> None:
    """With no input treated as fixed, OLD becomes a candidate (a condition on a date): Two is reachable."""
    ruleset = load_ruleset_text(RULESET)
    data = {"assessed_on": "2021-05-04", "founded": "2016-03-01", "a": False, "b": False, "c": False}
    two = explain(ruleset, data, fixed=()).path("two")
    assert two.reachable
    assert [s.criteria for s in two.change_sets] == [("OLD",)]
    assert two.change_sets[0].verified is None  # a date comparison: described, not given as a value


def test_narrow_passes_without_a_near_miss_do_not_announce_an_empty_list_of_near_misses() -> None:
    """share 0.5 meets HIGH2 (>= 0.5) with 0 to spare, and nothing is missed within 10 %: the near
    misses say none was missed (not a heading over an empty list), and the narrow pass is listed."""
    ruleset = load_ruleset_text(RULESET.replace(
        "  A: {title: A, when: a}\n",
        "  A: {title: A, when: a}\n  HIGH2: {title: Share at least half, when: \"share >= params.half\"}\n").replace(
        "requires: [C]}", "requires: [C, HIGH2]}"))
    data = {"assessed_on": "2021-01-01", "share": Decimal("0.5"), "c": True}
    expl = explain(ruleset, data)
    assert not expl.near_misses
    assert len(expl.narrow_passes) == 1
    text = render_text(expl)
    near = text[text.index("Near misses"):text.index("Narrowly met")]
    assert "No criterion is missed within 10 % of its threshold." in near
    assert "Criteria within" not in near
    assert "Share at least half (HIGH2): share is 0.5, needs at least 0.5; met with 0 to spare." in text
    markdown = render_markdown(expl)
    near_md = markdown[markdown.index("## Near misses"):markdown.index("### Narrowly met")]
    assert "Criteria within" not in near_md
    assert "No criterion is missed within 10 %" in near_md
