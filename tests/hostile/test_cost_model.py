"""The cost model (issue 20, item 1): every condition's worst case is known when the ruleset loads.

A ruleset whose conditions could cost more than the budget (10^7 steps per decision) given
the declared bounds of their lists is refused with E206 at the costliest loop; lists and
strings have a bound whether declared (``max_items``, ``max_length``) or not (the language
default, 10,000), and validation refuses an assessment beyond it (A004 at its JSON path).
Work is bounded by counting it (function calls, allocated bytes), never by a clock.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import evaluate, load_ruleset
from ecei_rules.errors import Diagnostic
from ecei_rules.language.cost import BUDGET, amount
from ecei_rules.ruleset.inputs import MAX_ITEMS, MAX_STRING
from ecei_rules.ruleset.load import check_ruleset, load_ruleset_text

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "rulesets" / "ecei-labels"


def ruleset_text(condition: str, *, areas: str = "", extra_inputs: str = "", checks: str = "",
                 more_criteria: str = "") -> str:
    """A small ruleset with a list ``areas`` of objects (``areas`` holds extra keys of its
    declaration, e.g. ``max_items: 2000``) and one criterion ``C`` with ``condition``."""
    return f"""methodology: costly
version: 1.0.0
title: Costly
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {{type: date, required: true}}
  areas:
    type: list
    {areas}
    items:
      type: object
      fields:
        kpi: {{type: string}}
        validated: {{type: boolean}}
        weight: {{type: integer, minimum: 1, maximum: 100}}
        tags: {{type: list, max_items: 20, items: {{type: string}}}}
      {checks}
{extra_inputs}
criteria:
  C:
    title: The condition under test
    when: {json.dumps(condition)}
{more_criteria}
labels: [basic]
tiers:
  basic: {{title: Basic, requires: [C]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: always, title: Two years, labels: [basic], valid_until: "month_end(assessed_on, 24)"}}
"""


def check(tmp_path: Path, text: str) -> list[Diagnostic]:
    path = tmp_path / "costly.yaml"
    path.write_text(text, encoding="utf-8")
    return [d for d in check_ruleset(path) if d.severity == "error"]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_issue_example_three_nested_any_over_2000_items_is_refused_at_load(tmp_path: Path) -> None:
    """Issue 20: three nested any() over a 2,000-item list passed validate and then hung evaluate."""
    condition = ("any(any(any(a.validated and b.validated and c.validated for c in areas) "
                 "for b in areas) for a in areas)")
    text = ruleset_text(condition, areas="max_items: 2000")
    diags = check(tmp_path, text)
    assert [d.code for d in diags] == ["E206"]
    d = diags[0]
    assert d.pointer == "/criteria/C/when"
    line = line_of(text, "when: ")
    assert (d.line, d.column) == (line, text.splitlines()[line - 1].index('"') + 2)  # at the outermost any(
    assert "3 nested loops" in d.message
    assert "any() over 'areas' (up to 2,000 items)" in d.message
    assert "x 10^10" in d.message or "x 10^9" in d.message
    assert "the budget is 10,000,000 (10^7)" in d.message
    assert d.suggestion is not None
    assert "max_items" in d.suggestion


@pytest.mark.parametrize(
    ("condition", "areas", "refused"),
    [
        pytest.param("any(a.validated for a in areas)", "", False, id="one-loop-default-bound"),
        pytest.param("any(any(b.validated for b in areas) for a in areas)", "", True, id="two-loops-default"),
        pytest.param("any(any(b.validated for b in areas) for a in areas)", "max_items: 300", False,
                     id="two-loops-300"),
        pytest.param("any(any(b.validated for b in areas) for a in areas)", "max_items: 3000", True,
                     id="two-loops-3000"),
        pytest.param("count(a for a in areas if any(t == 'x' for t in a.tags)) >= 1", "", False,
                     id="inner-loop-over-a-small-field"),
        pytest.param("all(any(any(u == a.kpi for u in b.tags) for b in areas) for a in areas)", "max_items: 300",
                     True, id="three-loops-300x300x20"),
        pytest.param("all(any(any(u == a.kpi for u in b.tags) for b in areas) for a in areas)", "max_items: 40",
                     False, id="three-loops-40x40x20"),
        pytest.param("any(any(any(any(a.validated for d in areas) for c in areas) for b in areas) for a in areas)",
                     "max_items: 30", False, id="four-loops-30"),
        pytest.param("any(any(any(any(a.validated for d in areas) for c in areas) for b in areas) for a in areas)",
                     "max_items: 100", True, id="four-loops-100"),
        pytest.param("count_distinct(b.kpi for b in areas if b.kpi in [x.kpi for x in areas]) > 0", "", True,
                     id="comprehension-refused-first"),
        pytest.param("any(count_distinct(b.kpi for b in areas) > 2 for a in areas)", "", True,
                     id="count-distinct-inside-any"),
        # whole numbers up to 100: the common denominator divides lcm(1..100), under 47 digits, so each of
        # the 10,000 additions is on small numbers (once charged 10,000 times 10,000 steps)
        pytest.param("sum(1 / a.weight for a in areas) > 1", "", False, id="exact-sum-of-quotients-10000"),
        pytest.param("sum(1 / a.weight for a in areas) > 1", "max_items: 1000", False,
                     id="exact-sum-of-quotients-1000"),
        pytest.param("sum(a.weight for a in areas) > 1", "", False, id="sum-without-quotients"),
        pytest.param("max(min(b.weight for b in areas) for a in areas) > 1", "max_items: 4000", True,
                     id="min-inside-max"),
    ],
)
def test_nested_loops_are_costed_by_their_declared_bounds(tmp_path: Path, condition: str, areas: str,
                                                           refused: bool) -> None:
    diags = check(tmp_path, ruleset_text(condition, areas=areas))
    if "[x.kpi" in condition:  # a list comprehension is not in the language at all
        assert diags[0].code == "E202"
        return
    assert [d.code for d in diags] == (["E206"] if refused else []), diags
    if refused:
        assert diags[0].pointer == "/criteria/C/when"


def test_membership_in_a_list_input_costs_its_length(tmp_path: Path) -> None:
    """``x in a.tags`` looks through up to 20 items; inside two loops over 10,000 it is far over budget,
    and over a list input of 10,000 strings (no loop) it is well within."""
    inputs = "  words: {type: list, items: {type: string}}\n"
    text = ruleset_text("any(a.kpi in words for a in areas)", extra_inputs=inputs)
    assert [d.code for d in check(tmp_path, text)] == ["E206"]  # 10,000 x 10,000
    text = ruleset_text("'x' in words", extra_inputs=inputs)
    assert check(tmp_path, text) == []


def test_a_check_inside_list_items_runs_once_per_item(tmp_path: Path) -> None:
    """A consistency check of an object inside a list runs for every item: its cost is multiplied."""
    checks = ("checks:\n        - {rule: \"count(t for t in tags if t == kpi) <= 20\", message: fine}")
    text = ruleset_text("any(a.validated for a in areas)", checks=checks)
    assert check(tmp_path, text) == []  # 10,000 items x 20 tags
    checks = ("checks:\n        - {rule: \"all(any(t == u for u in tags) for t in tags)\", message: quadratic}")
    text = ruleset_text("any(a.validated for a in areas)", checks=checks, areas="max_items: 10000")
    diags = check(tmp_path, text)
    assert [d.code for d in diags] == ["E206"]
    assert diags[0].pointer == "/inputs/areas/items/checks/0/rule"
    assert "once per item of /inputs/areas (up to 10,000)" in diags[0].message


def test_the_conditions_together_over_budget_are_refused_at_the_costliest(tmp_path: Path) -> None:
    """Each criterion within budget, all of them together not: E206 names the sum and the costliest."""
    condition = "any(any(b.validated for b in areas) for a in areas)"
    more = "".join(f"  D{i}:\n    title: D{i}\n    when: {json.dumps(condition)}\n" for i in range(30))
    text = ruleset_text(condition, areas="max_items: 300", more_criteria=more)
    diags = check(tmp_path, text)
    assert [d.code for d in diags] == ["E206"]
    assert "together can cost up to" in diags[0].message


def test_costs_are_numbers_people_can_read() -> None:
    assert amount(9_999_999) == "9,999,999"
    assert amount(8 * 10**9) == "8.0 x 10^9"
    assert BUDGET == 10**7


def test_shipped_versions_are_well_within_the_budget_and_keep_their_hashes() -> None:
    """The published versions load unchanged (the same content hash as locked) and cost at most a
    few percent of the budget."""
    lock = json.loads((SHIPPED / "published.lock.json").read_text(encoding="utf-8"))["versions"]
    for version, entry in lock.items():
        ruleset = load_ruleset(SHIPPED / f"{version}.yaml")
        assert ruleset.sha256 == entry["sha256"], version
        plan = ruleset.plan
        costs = [c.compiled.cost for c in plan.criteria] + [plan.valid_from.cost] + [
            x.cost for r in plan.rules for x in (r.when, r.valid_until) if x is not None]
        assert sum(costs) < BUDGET // 10, (version, sum(costs))


# -- the bounds on lists and strings --------------------------------------------------------------


def minimal(areas: str = "", name: str = "kpi: {type: string}") -> Any:
    return load_ruleset_text(ruleset_text("any(a.validated for a in areas)", areas=areas).replace(
        "kpi: {type: string}", name))


def problems(ruleset: Any, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The problems of one assessment, asserted to be the same on all three validation paths."""
    validator = ruleset.plan.validator
    _, diags = validator.validate(data)
    _, plain = validator.validate_plain(data)
    assert [(d.code, d.pointer) for d in diags] == [(d.code, d.pointer) for d in plain]
    assert (validator.validate_unordered(data) is None) == bool(diags)
    return [(d.code, d.pointer) for d in diags]


@pytest.mark.parametrize(("areas", "limit"), [("", MAX_ITEMS), ("max_items: 3", 3), ("max_items: 0", 0)])
def test_a_list_longer_than_its_bound_is_refused_with_its_path(areas: str, limit: int) -> None:
    ruleset = minimal(areas)
    item = {"kpi": "k", "validated": True}
    assert problems(ruleset, {"assessed_on": "2021-01-01", "areas": [item] * limit}) == []
    found = problems(ruleset, {"assessed_on": "2021-01-01", "areas": [item] * (limit + 1)})
    assert found == [("A004", "/areas")]
    _, diags = ruleset.plan.validator.validate({"assessed_on": "2021-01-01", "areas": [item] * (limit + 1)})
    assert f"more than {limit} items" in diags[0].message


@pytest.mark.parametrize(("declared", "limit"), [("kpi: {type: string}", MAX_STRING),
                                                 ("kpi: {type: string, max_length: 5}", 5)])
def test_a_string_longer_than_its_bound_is_refused_with_its_path(declared: str, limit: int) -> None:
    ruleset = minimal(name=declared)
    at = {"assessed_on": "2021-01-01", "areas": [{"kpi": "k" * limit}]}
    assert problems(ruleset, at) == []
    over = {"assessed_on": "2021-01-01", "areas": [{"kpi": "k" * (limit + 1)}]}
    assert problems(ruleset, over) == [("A004", "/areas/0/kpi")]


@pytest.mark.parametrize(
    ("replace", "code", "pointer"),
    [
        pytest.param(("kpi: {type: string}", "kpi: {type: string, max_items: 3}"), "E103",
                     "/inputs/areas/items/fields/kpi/max_items", id="max-items-on-a-string"),
        pytest.param(("validated: {type: boolean}", "validated: {type: boolean, max_length: 3}"), "E103",
                     "/inputs/areas/items/fields/validated/max_length", id="max-length-on-a-boolean"),
        pytest.param(("tags: {type: list, max_items: 20,", "tags: {type: list, max_items: 100001,"), "E103",
                     "/inputs/areas/items/fields/tags/max_items", id="max-items-over-the-ceiling"),
        pytest.param(("tags: {type: list, max_items: 20,", "tags: {type: list, max_items: -1,"), "E103",
                     "/inputs/areas/items/fields/tags/max_items", id="negative-max-items"),
        pytest.param(("tags: {type: list, max_items: 20,", "tags: {type: list, max_items: 1e3,"), "E103",
                     "/inputs/areas/items/fields/tags/max_items", id="decimal-max-items"),
    ],
)
def test_wrong_bounds_are_refused_where_they_stand(tmp_path: Path, replace: tuple[str, str], code: str,
                                                    pointer: str) -> None:
    text = ruleset_text("any(a.validated for a in areas)").replace(*replace)
    diags = check(tmp_path, text)
    assert [(d.code, d.pointer) for d in diags] == [(code, pointer)], diags
    assert diags[0].line == line_of(text, replace[1].split(":")[0].strip() + ":" + replace[1].split(":", 1)[1][:6])


def test_the_assessment_schema_states_the_bounds() -> None:
    from ecei_rules.ruleset.inputs import json_schema

    ruleset = minimal("max_items: 7")
    schema = json_schema(ruleset.plan.inputs)
    areas = schema["properties"]["areas"]
    assert areas["maxItems"] == 7
    assert areas["items"]["properties"]["kpi"]["maxLength"] == MAX_STRING
    assert areas["items"]["properties"]["tags"]["maxItems"] == 20


# -- work and memory, counted -----------------------------------------------------------------------


def calls_during(fn: Any) -> int:
    """How many Python function calls ``fn()`` makes (a count of work, not a time)."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("size", [5, 20, 40])
def test_evaluation_work_stays_within_a_small_multiple_of_the_computed_cost(size: int) -> None:
    """The cost model is an upper bound of the real work: the calls evaluation makes grow like the
    model's steps (here two nested loops over a list at its declared bound)."""
    condition = "any(any(a.validated and b.validated and a.kpi == b.kpi for b in areas) for a in areas)"
    ruleset = load_ruleset_text(ruleset_text(condition, areas=f"max_items: {size}"))
    cost = ruleset.plan.criteria[0].compiled.cost
    items = [{"kpi": f"k{i}", "validated": i % 2 == 0} for i in range(size)]
    data = {"assessed_on": "2021-01-01", "areas": items}
    evaluate(ruleset, data)  # warm: plans built on first use are not part of the count
    assert calls_during(lambda: ruleset.plan.criteria[0].compiled.fn(dict(data, areas=items))) <= 2 * cost
    assert cost >= size * size


def test_validating_a_list_at_its_bound_allocates_in_proportion_to_it() -> None:
    """10,000 items (the default bound) are validated with a bounded allocation, counted by tracemalloc."""
    ruleset = minimal()
    data = {"assessed_on": "2021-01-01", "areas": [{"kpi": "k" * 10, "validated": True}] * MAX_ITEMS}
    tracemalloc.start()
    try:
        _, diags = ruleset.plan.validator.validate(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert diags == []
    assert peak < 20 * 1024 * 1024
