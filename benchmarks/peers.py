"""The ecei-labels 3.0.1 label decision written for the harness's peers, from the spec's tables
(the same as ``baseline.py``'s, which they import), not from the rulesets.

Each peer answers the same four things for one raw assessment (JSON values as ``json.loads``
reads them: floats, dates as ISO strings): the label, the Gold score's met weight, the list of
indicators it counts as met (in the table's order) and ``valid_until`` (an ISO date or None):

* ``plain_decide``: hand-written Python without Decimal or datetime (the limit);
* ``jsonlogic_rule()``: one JSONLogic rule, compiled once by datalogic-py;
* ``zen_model()``: a GoRules JSON Decision Model (input, one expression node, output) for zen-engine.

All three are two-valued: an absent value fails a criterion, which gives the same label as
Kleene's logic here because a tier is awarded only when all its criteria are met (an unknown
criterion never is) and no rule of 3.0.1 negates one.
"""

from __future__ import annotations

import json
from typing import Any

from baseline import INDICATORS, SILVER_SCOPE, TOTAL_WEIGHT

#: (id, operator, Gold threshold, Silver minimum or None, weight), numbers as floats
TABLE = [(key, op, float(gold) if not isinstance(gold, bool) else gold,
          None if silver is None else float(silver) if not isinstance(silver, bool) else silver, weight)
         for key, (op, gold, silver, weight) in INDICATORS.items()]
SCOPE = sorted(SILVER_SCOPE)
#: met weight needed for Gold: 80 % of the total (46), as 100 * met >= 80 * total
NEEDED = 80 * TOTAL_WEIGHT

Answer = tuple[str, int, tuple[str, ...], str | None]


# --- plain Python ------------------------------------------------------------------------------

def _passes(op: str, value: Any, threshold: Any) -> bool:
    if value is None:
        return False
    if op == ">=":
        return bool(value >= threshold)
    if op == "<=":
        return bool(value <= threshold)
    return value is threshold


def _month(iso: str) -> int:
    """The month of an ISO date as a count of months (year * 12 + month - 1)."""
    return int(iso[:4]) * 12 + int(iso[5:7]) - 1


def _month_end(month: int) -> str:
    """The last day of a month counted as `_month` counts it, as an ISO date."""
    year, m = divmod(month, 12)
    m += 1
    if m == 2:
        day = 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    else:
        day = 30 if m in (4, 6, 9, 11) else 31
    return f"{year:04d}-{m:02d}-{day}"


def _plain_eligible(e: dict[str, Any]) -> bool:
    committed, private, fte = e.get("committed_participants"), e.get("private_participants"), e.get("management_fte")
    activities, areas = e.get("activities_last_year"), e.get("priority_areas")
    return (e.get("cluster_initiative") is True and fte is not None and fte >= 0.5
            and committed is not None and committed >= 15 and private is not None and 2 * private > committed
            and e.get("business_support") is True and activities is not None and activities >= 5
            and areas is not None and areas >= 2 and e.get("listed_on_eccp") is True)


def _plain_indicators(ind: dict[str, Any]) -> tuple[int, list[str], bool]:
    """The Gold met weight, the indicators met and whether every Silver minimum is met."""
    met, listed, baseline = 0, [], True
    for key, op, gold, silver, weight in TABLE:
        value = ind.get(key)
        if _passes(op, value, gold):
            met += weight
            listed.append(key)
        if silver is not None and not _passes(op, value, silver):
            baseline = False
    return met, listed, baseline


def _plain_silver(a: dict[str, Any], on: str) -> bool:
    """A Bronze awarded 18 to 24 months before, and three validated improvement areas of Silver's scope."""
    day, month = on[8:], _month(on)
    if not any(h["label"] == "bronze" and 18 <= month - _month(h["awarded_on"]) - (day < h["awarded_on"][8:]) <= 24
               for h in a.get("history", [])):
        return False
    areas = a.get("improvement_areas")
    return areas is not None and len(
        {x["indicator"] for x in areas if x["validated"] and x["indicator"] in SILVER_SCOPE}) >= 3


def _plain_valid_until(a: dict[str, Any], on: str, label: str) -> str:
    month = _month(on)
    if label != "gold":
        renewable = [_month(h["valid_until"]) for h in a.get("history", [])
                     if h["label"] == label and h["awarded_on"] <= on and month <= _month(h["valid_until"]) + 12]
        if renewable:
            return _month_end(max(renewable) + 36)
    return _month_end(month + 24)


def plain_decide(a: dict[str, Any]) -> Answer:
    """(label, met weight, met indicators, valid_until) of a raw assessment under 3.0.1."""
    on: str = a["assessed_on"]
    met, listed, baseline = _plain_indicators(a.get("indicators") or {})
    b = a.get("benchmarking") or {}
    completed, stories = b.get("completed") is True, b.get("success_stories")
    label = "none"
    if _plain_eligible(a.get("eligibility") or {}):
        if 100 * met >= NEEDED:
            label = "gold"
        elif completed and baseline and _plain_silver(a, on):
            label = "silver"
        elif completed and stories is not None and stories >= 3:
            label = "bronze"
    return label, met, tuple(listed), None if label == "none" else _plain_valid_until(a, on, label)


# --- JSONLogic (datalogic-py) ------------------------------------------------------------------

def _known(x: Any) -> Any:
    return {"!==": [x, None]}


def _pass(op: str, x: Any, threshold: Any) -> Any:
    if op == "is":
        return {"===": [x, threshold]}
    return {"and": [_known(x), {op: [x, threshold]}]}


def _int(text: Any, start: int, length: int) -> Any:
    return {"+": [{"substr": [text, start, length]}]}


def _jl_month(iso: Any) -> Any:
    return {"-": [{"+": [{"*": [_int(iso, 0, 4), 12]}, _int(iso, 5, 2)]}, 1]}


def _jl_month_end(month: Any) -> Any:
    year, m = {"floor": {"/": [month, 12]}}, {"+": [{"%": [month, 12]}, 1]}
    leap = {"or": [{"and": [{"==": [{"%": [year, 4]}, 0]}, {"!=": [{"%": [year, 100]}, 0]}]},
                   {"==": [{"%": [year, 400]}, 0]}]}
    day = {"if": [{"==": [m, 2]}, {"if": [leap, 29, 28]}, {"in": [m, [4, 6, 9, 11]]}, 30, 31]}
    return {"cat": [year, "-", {"if": [{"<": [m, 10]}, "0", ""]}, m, "-", day]}


def jsonlogic_rule() -> Any:
    """The decision as one JSONLogic rule: an array [label, met weight, met indicators, valid_until]."""
    e = lambda key: {"val": ["eligibility", key]}  # noqa: E731
    ind = lambda key: {"val": ["indicators", key]}  # noqa: E731
    eligible = {"and": [
        {"===": [e("cluster_initiative"), True]}, _pass(">=", e("management_fte"), 0.5),
        _pass(">=", e("committed_participants"), 15),
        {"and": [_known(e("private_participants")),
                 {">": [{"*": [2, e("private_participants")]}, e("committed_participants")]}]},
        {"===": [e("business_support"), True]}, _pass(">=", e("activities_last_year"), 5),
        _pass(">=", e("priority_areas"), 2), {"===": [e("listed_on_eccp"), True]}]}
    met_weight = {"+": [{"if": [_pass(op, ind(k), gold), w, 0]} for k, op, gold, _, w in TABLE]}
    met_list = {"merge": [{"if": [_pass(op, ind(k), gold), [k], []]} for k, op, gold, _, _ in TABLE]}
    baseline = {"and": [_pass(op, ind(k), silver) for k, op, _, silver, _ in TABLE if silver is not None]}
    completed = {"===": [{"val": ["benchmarking", "completed"]}, True]}
    on = {"val": "assessed_on"}
    outer_on = {"val": [[1], "assessed_on"]}
    months = {"-": [{"-": [_jl_month(outer_on), _jl_month({"val": "awarded_on"})]},
                    {"if": [{"<": [{"substr": [outer_on, 8, 2]}, {"substr": [{"val": "awarded_on"}, 8, 2]}]}, 1, 0]}]}
    previous = {"some": [{"val": "history"}, {"and": [{"==": [{"val": "label"}, "bronze"]},
                                                       {">=": [months, 18]}, {"<=": [months, 24]}]}]}
    enough = {"and": [_known({"val": "improvement_areas"}), {">=": [{"length": {"distinct": {"map": [
        {"filter": [{"val": "improvement_areas"}, {"and": [{"===": [{"val": "validated"}, True]},
                                                           {"in": [{"val": "indicator"}, SCOPE]}]}]},
        {"val": "indicator"}]}}}, 3]}]}
    gold = {"and": [eligible, {">=": [{"*": [100, met_weight]}, NEEDED]}]}
    silver = {"and": [eligible, previous, completed, enough, baseline]}
    bronze = {"and": [eligible, completed, _pass(">=", {"val": ["benchmarking", "success_stories"]}, 3)]}
    label = {"if": [gold, "gold", silver, "silver", bronze, "bronze", "none"]}

    def renewal(name: str) -> Any:
        renewable = {"filter": [{"val": "history"}, {"and": [
            {"==": [{"val": "label"}, name]}, {"<=": [{"val": "awarded_on"}, outer_on]},
            {"<=": [_jl_month(outer_on), {"+": [_jl_month({"val": "valid_until"}), 12]}]}]}]}
        latest = {"max": {"map": [renewable, _jl_month({"val": "valid_until"})]}}
        return {"if": [{"some": [renewable, True]}, _jl_month_end({"+": [latest, 36]}),
                       _jl_month_end({"+": [_jl_month(on), 24]})]}

    valid_until = {"if": [gold, _jl_month_end({"+": [_jl_month(on), 24]}), silver, renewal("silver"), bronze,
                          renewal("bronze"), None]}
    return [label, met_weight, met_list, valid_until]


def jsonlogic_label_rule() -> Any:
    """The label and valid_until alone, as one object (for datalogic-py's templating mode)."""
    label, _, _, valid_until = jsonlogic_rule()
    return {"label": label, "valid_until": valid_until}


def jsonlogic_answer(result: Any) -> Answer:
    """The peer's array as an `Answer`."""
    label, met, listed, until = result
    return label, int(met), tuple(listed), until


# --- GoRules JDM (zen-engine) ------------------------------------------------------------------

def _zen_pass(op: str, x: str, threshold: Any) -> str:
    if op == "is":
        return f"{x} == {'true' if threshold else 'false'}"
    return f"({x} != null and {x} {op} {threshold})"


def zen_model() -> str:
    """A JSON Decision Model: an input node, one expression node (ZEN expressions, each reading the
    ones before it through ``$``) and an output node; its output has ``label``, ``met_weight``,
    ``met`` and ``valid_until``."""
    ind = lambda key: f'indicators["{key}"]'  # noqa: E731
    eligible = " and ".join([
        "eligibility.cluster_initiative == true", _zen_pass(">=", "eligibility.management_fte", 0.5),
        _zen_pass(">=", "eligibility.committed_participants", 15),
        "(eligibility.private_participants != null and eligibility.committed_participants != null and "
        "2 * eligibility.private_participants > eligibility.committed_participants)",
        "eligibility.business_support == true", _zen_pass(">=", "eligibility.activities_last_year", 5),
        _zen_pass(">=", "eligibility.priority_areas", 2), "eligibility.listed_on_eccp == true"])
    met_weight = " + ".join(f"({_zen_pass(op, ind(k), gold)} ? {w} : 0)" for k, op, gold, _, w in TABLE)
    met_list = "flatten([" + ", ".join(f'({_zen_pass(op, ind(k), gold)} ? ["{k}"] : [])'
                                       for k, op, gold, _, _ in TABLE) + "])"
    baseline = " and ".join(_zen_pass(op, ind(k), silver) for k, op, _, silver, _ in TABLE if silver is not None)
    month = "(d({0}).year() * 12 + d({0}).month() - 1)".format
    months = (f"({month('assessed_on')} - {month('#.awarded_on')} - "
              "(d(assessed_on).day() < d(#.awarded_on).day() ? 1 : 0))")
    previous = f'some(history ?? [], #.label == "bronze" and {months} >= 18 and {months} <= 24)'
    enough = ("improvement_areas != null and (" + " + ".join(
        f'(some(improvement_areas, #.validated == true and #.indicator == "{k}") ? 1 : 0)' for k in SCOPE)
        + ") >= 3")

    def renewable(name: str) -> str:
        return (f'filter(history ?? [], #.label == "{name}" and d(#.awarded_on).isSameOrBefore(d(assessed_on)) '
                f"and {month('assessed_on')} <= {month('#.valid_until')} + 12)")

    def month_end(months_expr: str) -> str:
        return (f"d(string(floor(({months_expr}) / 12)) + \"-\" + (({months_expr}) % 12 + 1 < 10 ? \"0\" : \"\") "
                f"+ string(({months_expr}) % 12 + 1) + \"-01\").endOf(\"M\").format(\"%Y-%m-%d\")")

    first = month_end(f"{month('assessed_on')} + 24")

    def validity(name: str) -> str:
        latest = f"max(map({renewable(name)}, {month('#.valid_until')})) + 36"
        return f"(len({renewable(name)}) > 0 ? {month_end(latest)} : {first})"

    expressions = [
        ("eligible", eligible), ("met_weight", met_weight), ("met", met_list), ("baseline", baseline),
        ("completed", "benchmarking.completed == true"),
        ("gold", "$.eligible and 100 * $.met_weight >= " + str(NEEDED)),
        ("silver", f"$.eligible and {previous} and $.completed and {enough} and $.baseline"),
        ("bronze", "$.eligible and $.completed and " + _zen_pass(">=", "benchmarking.success_stories", 3)),
        ("label", '$.gold ? "gold" : $.silver ? "silver" : $.bronze ? "bronze" : "none"'),
        ("valid_until", f'$.gold ? {first} : $.silver ? {validity("silver")} : $.bronze ? {validity("bronze")} '
                        ": null"),
    ]
    return json.dumps({
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "assessment", "position": {"x": 0, "y": 0}},
            {"id": "decide", "type": "expressionNode", "name": "ecei-labels 3.0.1", "position": {"x": 200, "y": 0},
             "content": {"expressions": [{"id": key, "key": key, "value": value} for key, value in expressions]}},
            {"id": "out", "type": "outputNode", "name": "decision", "position": {"x": 400, "y": 0}},
        ],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "decide", "type": "edge"},
                  {"id": "e2", "sourceId": "decide", "targetId": "out", "type": "edge"}],
    })


def zen_answer(response: Any) -> Answer:
    """The peer's response (``{"result": {...}}``) as an `Answer`."""
    r = response["result"]
    return r["label"], int(r["met_weight"]), tuple(r["met"]), r.get("valid_until")  # a null is left out
