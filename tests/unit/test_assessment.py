"""Assessment validation against the inputs declared in tests/data/every/1.0.0.yaml.

The relevant declarations: org {id (required), country (required, [A-Z]{2}), size (small|large)}
(required); assessed_on (date, required); staff {total, managers (integers >= 0), fte (decimal >= 0)}
with the check managers <= total; kpi, a map over the catalogue kpis (k1 ratio 0..1, k2 rating
0..4 integer, k3 boolean); areas, a list of {kpi (an id of kpis), validated}; history, a list
with the declared default [].
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import AssessmentError, Ruleset, check_assessment, load_ruleset, validate_assessment

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"


@pytest.fixture(scope="module")
def ruleset() -> Ruleset:
    return load_ruleset(EVERY)


def base(**extra: Any) -> dict[str, Any]:
    """The smallest valid assessment, plus the given top-level fields."""
    return {"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15", **extra}


def problems(ruleset: Ruleset, data: Any) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in check_assessment(ruleset, data)]


def test_smallest_valid_assessment(ruleset: Ruleset) -> None:
    """The required fields alone are valid."""
    assert check_assessment(ruleset, base()) == []


def test_nothing_is_defaulted_except_the_declared_history(ruleset: Ruleset) -> None:
    """Validation adds only history: [] (declared); absent optional fields stay absent."""
    data = validate_assessment(ruleset, base(staff={})).data
    assert dict(data) == {
        "org": {"id": "T1", "country": "DE"},  # no 'size'
        "assessed_on": dt.date(2021, 3, 15),  # the string becomes a date
        "staff": {},  # no total, managers or fte
        "history": [],  # the one declared default
    }


# --------------------------------------------------------------------------------------------
# A002 unknown fields
# --------------------------------------------------------------------------------------------


def test_unknown_field_with_suggestion(ruleset: Ruleset) -> None:
    """A misspelt field gives A002 at its JSON pointer with a did-you-mean."""
    found = check_assessment(ruleset, base(staff={"totl": 3}))
    assert [(d.code, d.pointer, d.suggestion) for d in found] == [("A002", "/staff/totl", "did you mean 'total'?")]


def test_misspelt_required_field_gives_both_problems(ruleset: Ruleset) -> None:
    """'assesed_on' is unknown (A002, suggesting assessed_on) and assessed_on is then missing (A001)."""
    data = {"org": {"id": "T1", "country": "DE"}, "assesed_on": "2021-03-15"}
    found = {(d.code, d.pointer): d.suggestion for d in check_assessment(ruleset, data)}
    assert found == {("A002", "/assesed_on"): "did you mean 'assessed_on'?", ("A001", "/assessed_on"): None}


def test_key_outside_the_catalogue(ruleset: Ruleset) -> None:
    """A kpi map key that is not an item of the catalogue is A002."""
    assert problems(ruleset, base(kpi={"k9": 1})) == [("A002", "/kpi/k9")]


# --------------------------------------------------------------------------------------------
# A003 wrong types
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "pointer"),
    [
        pytest.param({"staff": {"total": True}}, "/staff/total", id="true-for-integer"),
        pytest.param({"staff": {"total": 3.5}}, "/staff/total", id="float-3.5-for-integer"),
        pytest.param({"staff": {"total": Decimal("3.5")}}, "/staff/total", id="decimal-3.5-for-integer"),
        pytest.param({"staff": {"total": "3"}}, "/staff/total", id="string-for-integer"),
        pytest.param({"staff": {"fte": "0.5"}}, "/staff/fte", id="string-for-decimal"),
        pytest.param({"staff": {"fte": True}}, "/staff/fte", id="true-for-decimal"),
        pytest.param({"kpi": {"k3": "yes"}}, "/kpi/k3", id="string-for-boolean"),
        pytest.param({"kpi": {"k3": 1}}, "/kpi/k3", id="one-for-boolean"),
        pytest.param({"org": {"id": 7, "country": "DE"}}, "/org/id", id="number-for-string"),
        pytest.param({"staff": [1]}, "/staff", id="list-for-object"),
        pytest.param({"areas": {"kpi": "k1"}}, "/areas", id="object-for-list"),
        pytest.param({"areas": [None]}, "/areas/0", id="null-list-item"),
        pytest.param({"assessed_on": "15/03/2021"}, "/assessed_on", id="not-iso-date"),
        pytest.param({"assessed_on": dt.datetime(2021, 3, 15, 10, 0)}, "/assessed_on", id="datetime-for-date"),
    ],
)
def test_wrong_type(ruleset: Ruleset, extra: dict[str, Any], pointer: str) -> None:
    """A value of the wrong type is A003 at its pointer (no coercion of true, "0.5" or 3.5)."""
    assert problems(ruleset, base(**extra)) == [("A003", pointer)]


@pytest.mark.parametrize("value", [Decimal("3.0"), Decimal("3E+0"), Decimal("0.3E1"), 3.0],
                         ids=["3.0", "3E+0", "0.3E1", "float-3.0"])
def test_a_whole_number_written_with_a_point_is_the_integer(ruleset: Ruleset, value: object) -> None:
    """A whole number written with a decimal point or an exponent (3.0, 3E+0, a float 3.0) is the
    integer 3 for an integer input, as JSON and JSON Schema read it (the assessment schema's
    "type": "integer" accepts it): the data holds the int 3."""
    data = validate_assessment(ruleset, base(staff={"total": value})).data
    assert data["staff"]["total"] == 3
    assert type(data["staff"]["total"]) is int


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")],
    ids=["nan", "inf", "-inf", "Decimal-NaN", "Decimal-inf", "Decimal--inf"],
)
def test_non_finite_numbers_are_refused(ruleset: Ruleset, value: object) -> None:
    """NaN and infinities are never numbers of an assessment (A003)."""
    assert problems(ruleset, base(staff={"fte": value})) == [("A003", "/staff/fte")]
    assert problems(ruleset, base(staff={"total": value})) == [("A003", "/staff/total")]


def test_float_is_read_as_its_decimal_text(ruleset: Ruleset) -> None:
    """A JSON float 0.1 becomes Decimal('0.1') exactly, not the binary double."""
    data = validate_assessment(ruleset, base(staff={"fte": 0.1})).data
    assert data["staff"]["fte"] == Decimal("0.1")


def test_assessment_must_be_a_mapping(ruleset: Ruleset) -> None:
    """A list instead of an object is A003 at the root."""
    assert problems(ruleset, [1, 2]) == [("A003", "")]


# --------------------------------------------------------------------------------------------
# A004 out of range
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "pointer"),
    [
        pytest.param({"staff": {"total": -1}}, "/staff/total", id="below-minimum-0"),
        pytest.param({"staff": {"fte": Decimal("-0.1")}}, "/staff/fte", id="negative-fte"),
        pytest.param({"kpi": {"k1": Decimal("1.5")}}, "/kpi/k1", id="ratio-above-1"),
        pytest.param({"kpi": {"k2": 5}}, "/kpi/k2", id="rating-above-4"),
        pytest.param({"org": {"id": "T1", "country": "de"}}, "/org/country", id="pattern"),
        pytest.param({"org": {"id": "T1", "country": "DEU"}}, "/org/country", id="pattern-whole-string"),
        pytest.param({"org": {"id": "T1", "country": "DE", "size": "medium"}}, "/org/size", id="enum"),
        pytest.param({"areas": [{"kpi": "k9", "validated": True}]}, "/areas/0/kpi", id="id-outside-catalogue"),
        pytest.param({"assessed_on": "2021-02-30"}, "/assessed_on", id="impossible-date"),
        pytest.param({"staff": {"total": 2**53}}, "/staff/total", id="integer-too-large"),
        pytest.param({"staff": {"fte": Decimal("0.1234567890123456")}}, "/staff/fte", id="too-many-digits"),
    ],
)
def test_out_of_range(ruleset: Ruleset, extra: dict[str, Any], pointer: str) -> None:
    """A value of the right type but outside its declared range is A004 at its pointer."""
    assert problems(ruleset, base(**extra)) == [("A004", pointer)]


def test_range_bounds_are_inclusive(ruleset: Ruleset) -> None:
    """The declared minimum and maximum themselves are allowed (k1 = 0 and 1, k2 = 4)."""
    assert check_assessment(ruleset, base(kpi={"k1": 0, "k2": 4})) == []
    assert check_assessment(ruleset, base(kpi={"k1": Decimal("1")})) == []


def test_enum_suggestion(ruleset: Ruleset) -> None:
    """A misspelt enum value suggests the allowed value."""
    found = check_assessment(ruleset, base(org={"id": "T1", "country": "DE", "size": "smal"}))
    assert [(d.code, d.suggestion) for d in found] == [("A004", "did you mean 'small'?")]


# --------------------------------------------------------------------------------------------
# A001 missing, A005 consistency
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        pytest.param({"assessed_on": "2021-03-15"}, "/org", id="object"),
        pytest.param({"org": {"id": "T1"}, "assessed_on": "2021-03-15"}, "/org/country", id="nested-field"),
        pytest.param({"org": {"id": "T1", "country": "DE"}}, "/assessed_on", id="date"),
        pytest.param(base(history=[{"awarded_on": "2020-01-01", "valid_until": "2022-01-31"}]), "/history/0/label",
                     id="field-of-list-item"),
        pytest.param({"org": {"id": None, "country": "DE"}, "assessed_on": "2021-03-15"}, "/org/id", id="null"),
    ],
)
def test_missing_required(ruleset: Ruleset, data: dict[str, Any], pointer: str) -> None:
    """A required field that is absent (or null) is A001 at its pointer."""
    assert problems(ruleset, data) == [("A001", pointer)]


def test_consistency_check(ruleset: Ruleset) -> None:
    """managers > total fails the declared check: A005 at /staff/managers with its message."""
    found = check_assessment(ruleset, base(staff={"total": 3, "managers": 5}))
    assert [(d.code, d.pointer, d.message) for d in found] == [
        ("A005", "/staff/managers", "managers cannot exceed total")
    ]


def test_consistency_check_boundary_and_unknown(ruleset: Ruleset) -> None:
    """managers == total passes; with total absent the check is unknown, which is not a failure."""
    assert check_assessment(ruleset, base(staff={"total": 3, "managers": 3})) == []
    assert check_assessment(ruleset, base(staff={"managers": 5})) == []


def test_every_problem_is_reported(ruleset: Ruleset) -> None:
    """Several problems in one assessment are all reported, not only the first."""
    data = {"org": {"id": "T1", "country": "de"}, "staff": {"fte": "0.5"}, "kpi": {"k4": True}}
    assert sorted(problems(ruleset, data)) == sorted([
        ("A004", "/org/country"), ("A001", "/assessed_on"), ("A003", "/staff/fte"), ("A002", "/kpi/k4"),
    ])


def test_assessment_error_shows_json_paths(ruleset: Ruleset) -> None:
    """AssessmentError holds the diagnostics and its message names each problem by JSON path."""
    data = base(staff={"fte": "0.5"}, areas=[{"kpi": "k9", "validated": True}])
    with pytest.raises(AssessmentError) as info:
        validate_assessment(ruleset, data)
    message = str(info.value)
    assert "$.staff.fte: A003" in message
    assert "$.areas[0].kpi: A004" in message
    assert [d.pointer for d in info.value.diagnostics] == ["/staff/fte", "/areas/0/kpi"]
