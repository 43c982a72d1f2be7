"""Numbers and dates at the edges (issue 20, item 3).

* A number a ruleset states that canonical JSON cannot carry exactly (a parameter above
  2^53, ``maximum: 1e300``) is refused with E205 where it stands, not a traceback in the hash.
* A date an assessment gives is refused (A004 at its JSON path) when the ruleset's
  ``month_end`` calls would carry it past 9999-12-31 (or before 0001-01-01): an assessment of
  9998-01-15 is never awarded a label with no end date. Every evaluator sees the same
  validation, so the engine, the decision writer, the reference evaluator and the durable
  backend agree.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import check_assessment, evaluate, load_ruleset
from ecei_rules.engine.evaluate import decide_label, decision_text
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import AssessmentError, Diagnostic
from ecei_rules.ruleset.load import check_ruleset, load_ruleset_text

ROOT = Path(__file__).resolve().parents[2]
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"
SHIPPED = ROOT / "rulesets" / "ecei-labels"


def check(tmp_path: Path, text: str) -> list[Diagnostic]:
    path = tmp_path / "numbers.yaml"
    path.write_text(text, encoding="utf-8")
    return [d for d in check_ruleset(path) if d.severity == "error"]


# -- numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "pointer"),
    [
        pytest.param("k2_min: {value: 3,", "k2_min: {value: 9007199254740993,", "/parameters/k2_min/value",
                     id="parameter-above-2^53"),
        pytest.param("k2_min: {value: 3,", "k2_min: {value: -9007199254740992,", "/parameters/k2_min/value",
                     id="parameter-below-minus-2^53"),
        pytest.param("k2_min: {value: 3,", "k2_min: {value: 1e300,", "/parameters/k2_min/value",
                     id="parameter-1e300"),
        pytest.param("k2_min: {value: 3,", "k2_min: {value: 12345678901234567890123,", "/parameters/k2_min/value",
                     id="parameter-23-digits"),
        pytest.param("k2_min: {value: 3,", "k2_min: {value: 1.5e20,", "/parameters/k2_min/value",
                     id="parameter-integral-decimal"),
        pytest.param("rating: {type: integer, minimum: 0, maximum: 4}",
                     "rating: {type: integer, minimum: 0, maximum: 1e300}", "/types/rating/maximum",
                     id="maximum-1e300"),
        pytest.param("ratio: {type: decimal, minimum: 0, maximum: 1,", "ratio: {type: decimal, minimum: -1e200, "
                     "maximum: 1,", "/types/ratio/minimum", id="minimum-minus-1e200"),
        pytest.param("total: {type: integer, minimum: 0}", "total: {type: integer, minimum: 0, maximum: 2e16}",
                     "/inputs/staff/fields/total/maximum", id="nested-input-maximum"),
        pytest.param("weights: {K1: 1, K2: 2, K3: 2}", "weights: {K1: 1, K2: 1e300, K3: 2}", "/scores/S/weights/K2",
                     id="weight-1e300"),
    ],
)
def test_numbers_beyond_exact_json_are_refused_where_they_stand(tmp_path: Path, old: str, new: str,
                                                                 pointer: str) -> None:
    text = EVERY.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    diags = check(tmp_path, text)
    assert [(d.code, d.pointer) for d in diags] == [("E205", pointer)], diags
    assert diags[0].line == next(i for i, line in enumerate(text.splitlines(), 1) if new.split(":")[0] in line
                                 and new.split(",")[0].split(":", 1)[1][:8] in line)
    assert "2^53 - 1" in diags[0].message or "exact form" in diags[0].message


@pytest.mark.parametrize("maximum", ["9007199254740993", "99999999999999999999999999999999999999", "1.5e20"])
def test_a_points_maximum_beyond_exact_json_is_refused_where_it_stands(tmp_path: Path, maximum: str) -> None:
    """The maximum of a number weighed as points is a number of the ruleset like a weight: beyond what
    canonical JSON holds exactly it is one E205 at the maximum (it was an internal error in the hash)."""
    old = "energy: {value: energy_points, maximum: 4}"
    text = (ROOT / "tests" / "data" / "points" / "2.0.0.yaml").read_text(encoding="utf-8")
    assert old in text
    diags = check(tmp_path, text.replace(old, f"energy: {{value: energy_points, maximum: {maximum}}}"))
    assert [(d.code, d.pointer) for d in diags] == [("E205", "/scores/points/points/energy/maximum")], diags
    assert diags[0].line == next(i for i, line in enumerate(text.splitlines(), 1) if old in line)


@pytest.mark.parametrize("value", ["1e999999999", "-1e400", "1e-400", ".inf", ".nan"])
def test_huge_exponents_are_refused_by_the_reader(tmp_path: Path, value: str) -> None:
    text = EVERY.read_text(encoding="utf-8").replace("k2_min: {value: 3,", f"k2_min: {{value: {value},")
    diags = check(tmp_path, text)
    assert [(d.code, d.pointer) for d in diags] == [("E103", "/parameters/k2_min/value")]


def test_the_largest_exact_numbers_are_accepted(tmp_path: Path) -> None:
    text = EVERY.read_text(encoding="utf-8").replace("k2_min: {value: 3,", "k2_min: {value: 9007199254740991,")
    assert check(tmp_path, text) == []


# -- dates ---------------------------------------------------------------------------------------------


def gold() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
    return data


def every_evaluator(ruleset: Any, data: dict[str, Any]) -> list[Any]:
    """The decision of each evaluator (label and validity), or the (code, pointer) of its refusal."""
    from ecei_rules.backends import durable

    results: list[Any] = []
    runs = [
        lambda: (lambda d: (d.label, d.valid_until))(evaluate(ruleset, data)),
        lambda: (lambda d: (d["label"], d["valid_until"]))(json.loads(decision_text(ruleset, data))),
        lambda: (lambda d: (d.label, d.valid_until))(evaluate_reference(ruleset, data)),
        lambda: (lambda t: (t[0], t[2]))(decide_label(ruleset, data)),
        lambda: (lambda d: (d.label, d.valid_until))(durable.evaluate(ruleset, data)),
    ]
    for run in runs:
        try:
            label, until = run()
            results.append((label, until if isinstance(until, str) or until is None else until.isoformat()))
        except AssessmentError as exc:
            results.append([(d.code, d.pointer) for d in exc.diagnostics])
    return results


def test_the_issue_example_9998_01_15_is_refused_by_every_evaluator() -> None:
    """Issue 20: Gold awarded with valid_until null. Now A004 at /assessed_on, everywhere."""
    ruleset = load_ruleset(SHIPPED / "3.0.1.yaml")
    data = gold() | {"assessed_on": "9998-01-15", "history": []}
    assert every_evaluator(ruleset, data) == [[("A004", "/assessed_on")]] * 5
    (diag,) = check_assessment(ruleset, data)
    assert "9998-01-15 is too late" in diag.message
    assert "24 months" in diag.message
    assert "9997-12-31" in diag.message


def test_the_last_date_that_fits_is_decided_to_the_last_day_of_the_calendar() -> None:
    ruleset = load_ruleset(SHIPPED / "3.0.1.yaml")
    data = gold() | {"assessed_on": "9997-12-31", "history": []}
    results = every_evaluator(ruleset, data)
    assert len(set(map(str, results))) == 1, results
    label, until = results[0]
    assert until == "9999-12-31" if label != "none" else until is None


@pytest.mark.parametrize("version", ["3.0.0", "3.0.1"])
def test_a_history_entry_too_late_for_the_renewal_rule_is_refused_at_its_path(version: str) -> None:
    """The renewal rule counts 12 (grace) and 36 months after a history entry's valid_until."""
    ruleset = load_ruleset(SHIPPED / f"{version}.yaml")
    entry = {"label": "bronze", "awarded_on": "2019-01-01", "valid_until": "9997-01-01"}
    data = gold() | {"history": [gold()["history"][0], entry]}
    assert every_evaluator(ruleset, data) == [[("A004", "/history/1/valid_until")]] * 5
    fits = data | {"history": [gold()["history"][0], entry | {"valid_until": "9996-12-31"}]}
    assert check_assessment(ruleset, fits) == []


DATES = """methodology: dates
version: 1.0.0
title: Dates
status: draft
effective_from: 2020-01-01
inputs:
  d: {type: date, required: true}
  e: {type: date}
  n: {type: integer, minimum: -5, maximum: 5}
  m: {type: integer}
  hist: {type: list, default: [], items: {type: object, fields: {until: {type: date, required: true}}}}
parameters:
  months: {value: 120, source: "test"}
  when: {value: 2020-01-01, source: "test"}
criteria:
  C: {title: Always, when: "CRITERION"}
labels: [basic]
tiers:
  basic: {title: Basic, requires: [C]}
validity:
  valid_from: d
  rules:
    - {id: only, title: Only, labels: [basic], valid_until: "UNTIL"}
"""


def dates_ruleset(until: str, criterion: str = "known(d)") -> str:
    return DATES.replace("UNTIL", until.replace('"', '\\"')).replace("CRITERION", criterion.replace('"', '\\"'))


@pytest.mark.parametrize(
    ("until", "criterion", "pointer", "latest", "earliest"),
    [
        pytest.param("month_end(d, 24)", "known(d)", "/d", "9997-12-31", None, id="plain"),
        pytest.param("month_end(month_end(d, 12), 12)", "known(d)", "/d", "9997-12-31", None, id="nested"),
        pytest.param("month_end(d, params.months)", "known(d)", "/d", "9989-12-31", None, id="parameter"),
        pytest.param("month_end(d, n)", "known(d)", "/d", "9999-07-31", "0001-06-01", id="bounded-input"),
        pytest.param("d", "month_end(d, -12) < d", "/d", None, "0002-01-01", id="backwards"),
        pytest.param("month_end(d if known(e) else d, 6)", "known(d)", "/d", "9999-06-30", None, id="choice"),
        pytest.param("month_end(max(h.until for h in hist), 36)", "known(d)", "/hist/0/until", "9996-12-31", None,
                     id="max-over-a-list"),
        pytest.param("month_end(min(h.until for h in hist), 1)", "known(d)", "/hist/0/until", "9999-11-30", None,
                     id="min-over-a-list"),
        pytest.param("d", "month_end(d, 1200) > date(\"2020-01-01\")", "/d", "9899-12-31", None,
                     id="in-a-criterion"),
        pytest.param("d", "any(month_end(h.until, 2) > d for h in hist)", "/hist/0/until", "9999-10-31", None,
                     id="in-a-loop"),
    ],
)
def test_every_validity_shape_bounds_the_dates_it_shifts(until: str, criterion: str, pointer: str,
                                                         latest: str | None, earliest: str | None) -> None:
    ruleset = load_ruleset_text(dates_ruleset(until, criterion))

    def data(day: str) -> dict[str, Any]:
        if pointer == "/d":
            return {"d": day, "n": 5}
        return {"d": "2020-01-01", "hist": [{"until": day}]}

    for bound, step in ((latest, 1), (earliest, -1)):
        if bound is None:
            continue
        at = data(bound)
        assert check_assessment(ruleset, at) == []
        decision = evaluate(ruleset, at)
        assert decision.label == "none" or decision.valid_until is not None
        beyond = (dt.date.fromisoformat(bound) + dt.timedelta(days=step)).isoformat()
        found = [(d.code, d.pointer) for d in check_assessment(ruleset, data(beyond))]
        assert found == [("A004", pointer)]
        assert ruleset.plan.validator.validate_unordered(data(beyond)) is None
        with pytest.raises(AssessmentError):
            evaluate(ruleset, data(beyond))


def test_unbounded_months_are_refused_at_load(tmp_path: Path) -> None:
    text = dates_ruleset("month_end(d, m)")
    diags = check(tmp_path, text)
    assert [(d.code, d.pointer) for d in diags] == [("E204", "/validity/rules/0/valid_until")]
    assert "number of months must be known" in diags[0].message


@pytest.mark.parametrize("until", ['month_end(date("9999-12-01"), 1)', 'month_end(date("0001-01-01"), -1)',
                                   "month_end(params.when, 100000)"])
def test_a_literal_date_leaving_the_calendar_is_refused_at_load(tmp_path: Path, until: str) -> None:
    diags = check(tmp_path, dates_ruleset(until))
    assert [(d.code, d.pointer) for d in diags] == [("E205", "/validity/rules/0/valid_until")]
    assert "leaves the calendar" in diags[0].message
