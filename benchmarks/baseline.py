"""A hand-written decision function for ecei-labels 3.0.1, written from the spec's tables
(shared/methodology/ecei-labels.md sections 4 to 6), not from the rulesets.

Same semantics as the engine: exact numbers, Kleene logic (None is unknown), label and
validity. It takes a validated assessment (dates as datetime.date, numbers exact).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

D = Decimal
# id: (op, Gold threshold, Silver baseline minimum or None, weight in 3.0.x)
INDICATORS: dict[str, tuple[str, Any, Any, int]] = {
    "1.1.0": (">=", D("0.75"), D("0.50"), 1), "1.1.1": (">=", 3, 2, 1), "1.1.2": (">=", 30, 15, 1),
    "2.1": (">=", 3, 2, 1), "2.2.1": (">=", D("2.0"), None, 1), "2.2.2": (">=", 3, 2, 1),
    "2.2.3": ("is", True, None, 1), "2.3": (">=", D("0.80"), None, 1), "2.4": (">=", 3, 2, 1),
    "2.5": (">=", D("0.50"), D("0.30"), 1), "2.6": (">=", 3, 2, 1), "2.7": (">=", 3, 2, 1),
    "3.1": (">=", 2, None, 1), "3.2": (">=", D("0.30"), None, 1),
    "4.1.1": (">=", 3, 2, 2), "4.1.2": ("is", True, True, 2), "4.1.3": ("is", True, True, 2),
    "4.1.4": ("is", True, True, 2), "4.1.5": ("<=", 24, 36, 2), "4.1.6": (">=", 3, 2, 2),
    "4.2": (">=", 3, None, 2), "4.3": (">=", 5, 3, 2), "4.4": (">=", D("0.70"), D("0.50"), 2),
    "4.5": (">=", 3, None, 2), "4.6.1": (">=", 3, 2, 2), "4.6.2": ("is", True, True, 2),
    "5.2": (">=", 3, None, 1), "5.3": ("is", True, None, 1),
    "4.7": (">=", 3, None, 2), "4.8": ("is", True, None, 2), "4.9": (">=", 2, None, 2),
}
SILVER_SCOPE = frozenset(k for k, v in INDICATORS.items() if v[2] is not None)
TOTAL_WEIGHT = sum(v[3] for v in INDICATORS.values())  # 46


def _and(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _passes(op: str, value: Any, threshold: Any) -> bool | None:
    if value is None:
        return None
    if op == ">=":
        return bool(value >= threshold)
    if op == "<=":
        return bool(value <= threshold)
    return value is threshold


def _months_between(a: dt.date, b: dt.date) -> int:
    months = 12 * (b.year - a.year) + (b.month - a.month)
    return months - 1 if b.day < a.day else months


def _month_end(d: dt.date, n: int) -> dt.date:
    year, month = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def decide(a: dict[str, Any]) -> tuple[str, dt.date | None, dt.date | None]:
    """(label, valid_from, valid_until) under ecei-labels 3.0.1."""
    on: dt.date = a["assessed_on"]
    e = a.get("eligibility")
    if e is None:
        eligible: bool | None = None
    else:
        def g(k: str) -> Any:
            return e.get(k)

        committed, private = g("committed_participants"), g("private_participants")
        ec3 = _and(None if committed is None else committed >= 15,
                   None if private is None or committed is None else 2 * private > committed)
        fte = g("management_fte")
        eligible = _and(g("cluster_initiative"), None if fte is None else fte >= D("0.5"), ec3, g("business_support"),
                        _and(None if g("activities_last_year") is None else g("activities_last_year") >= 5,
                             None if g("priority_areas") is None else g("priority_areas") >= 2),
                        g("listed_on_eccp"))
    b = a.get("benchmarking") or {}
    completed = b.get("completed")
    stories = b.get("success_stories")
    bronze = _and(completed, None if stories is None else stories >= 3, eligible)

    ind = a.get("indicators")
    met = unknown = 0
    baseline: bool | None = True
    for key, (op, gold, silver, weight) in INDICATORS.items():
        value = None if ind is None else ind.get(key)
        outcome = _passes(op, value, gold)
        if outcome is True:
            met += weight
        elif outcome is None:
            unknown += weight
        if silver is not None:
            baseline = _and(baseline, _passes(op, value, silver))
    if 100 * met >= 80 * TOTAL_WEIGHT:
        score: bool | None = True
    elif 100 * (met + unknown) < 80 * TOTAL_WEIGHT:
        score = False
    else:
        score = None
    gold_tier = _and(score, eligible)

    history = a.get("history", [])
    previous = any(h["label"] == "bronze" and 18 <= _months_between(h["awarded_on"], on) <= 24 for h in history)
    areas = a.get("improvement_areas")
    if areas is None:
        enough: bool | None = None
    else:
        enough = len({x["indicator"] for x in areas if x["validated"] and x["indicator"] in SILVER_SCOPE}) >= 3
    silver_tier = _and(previous, completed, enough, baseline, eligible)

    label = "gold" if gold_tier else "silver" if silver_tier else "bronze" if bronze else "none"
    if label == "none":
        return label, None, None
    if label in ("bronze", "silver"):
        renewable = [h["valid_until"] for h in history
                     if h["label"] == label and h["awarded_on"] <= on <= _month_end(h["valid_until"], 12)]
        if renewable:
            return label, on, _month_end(max(renewable), 36)
    return label, on, _month_end(on, 24)
