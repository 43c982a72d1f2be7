"""Issue 22, item 3: the subject is declared by the ruleset, never assumed; validity may have no
expiry, and a validity ending before it starts is refused (at load time where that is decided
then, per assessment otherwise).

The ruleset is tests/data/subject/1.0.0.yaml, a building label (not ECEI). Every expectation is
derived by hand from it: energy use <= 50 is Gold (rule 'lifetime', valid_until: never), <= 100
Silver (rule 'certificate' when certified, to certificate_until; else 'three-years',
month_end(assessed_on, 36)); valid_from is assessed_on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.batch import decide_many, fixed_resolver, read_assessments
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate, outline, validate_assessment
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import AssessmentError, RulesetError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import check_ruleset, load_ruleset, load_ruleset_text

DATA = Path(__file__).resolve().parent.parent / "data"
SUBJECT = DATA / "subject" / "1.0.0.yaml"
RULESET = load_ruleset(SUBJECT)
TOWN_HALL = {"building": {"id": "B-1", "name": "Town hall"}, "assessed_on": "2022-01-10"}


def _variant(tmp_path: Path, old: str, new: str, name: str = "variant.yaml") -> Path:
    """The building label with one piece of text replaced (a ruleset with one change)."""
    text = SUBJECT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _codes(path: Path) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in check_ruleset(path) if d.severity == "error"]


def _json(decision: Decision) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(decision.canonical_text())
    return data


# -- the subject ----------------------------------------------------------------------------------

def test_the_subject_id_and_name_come_from_the_declared_inputs_not_organisation(tmp_path: Path) -> None:
    """A ruleset that declares `subject: {id: building.id}` names its decisions' subject by the key
    "subject", read from building.id; an input called `organisation` is ignored for it (here the
    variant declares one, with another id). A ruleset that declares no subject keeps the key
    "organisation" from organisation.id (ECEI, byte for byte: its decisions are unchanged)."""
    decision = evaluate(RULESET, {**TOWN_HALL, "energy_use": 40})
    as_json = _json(decision)
    assert as_json["subject"] == "B-1"
    assert "organisation" not in as_json
    assert decision.to_json()["subject"] == "B-1"
    assert "organisation" not in decision.to_json()
    assert evaluate_reference(RULESET, {**TOWN_HALL, "energy_use": 40}) == decision
    # no building: the subject is null, still under "subject"
    assert _json(evaluate(RULESET, {"assessed_on": "2022-01-10", "energy_use": 40}))["subject"] is None
    # an input called organisation is just an input
    both = _variant(tmp_path, "  assessed_on: {type: date, required: true}\n",
                    "  assessed_on: {type: date, required: true}\n"
                    "  organisation: {type: object, fields: {id: {type: string}}}\n")
    decided = _json(evaluate(load_ruleset(both), {**TOWN_HALL, "organisation": {"id": "ORG-9"}, "energy_use": 40}))
    assert decided["subject"] == "B-1"
    assert "organisation" not in decided
    # the implied subject: ECEI decisions keep "organisation", from organisation.id
    ecei = Registry.shipped().get("ecei-labels", "3.0.1")
    org = {"organisation": {"id": "DE-1", "name": "N", "country": "DE"}, "assessed_on": "2023-03-01"}
    assert _json(evaluate(ecei, org))["organisation"] == "DE-1"
    assert "subject" not in _json(evaluate(ecei, org))
    # read back from its JSON, a decision is equal to the one written (either key)
    for d in (decision, evaluate(ecei, org)):
        assert Decision.model_validate_json(d.model_dump_json()) == d


def test_a_subject_naming_an_undeclared_or_non_string_input_is_a_load_time_error(tmp_path: Path) -> None:
    """subject.id and subject.name must be declared string inputs: E104 (unknown) and E103 (not a
    string), at /subject/id and /subject/name."""
    unknown = _variant(tmp_path, "  id: building.id\n", "  id: building.ident\n")
    assert _codes(unknown) == [("E104", "/subject/id")]
    assert "building.ident" in check_ruleset(unknown)[0].message
    not_string = _variant(tmp_path, "  name: building.name\n", "  name: energy_use\n")
    assert _codes(not_string) == [("E103", "/subject/name")]
    with pytest.raises(RulesetError):
        load_ruleset(unknown)


# -- no expiry ------------------------------------------------------------------------------------

def test_a_validity_with_no_expiry_is_written_without_an_end_date() -> None:
    """Gold's rule states `valid_until: never`: valid_until is null and "validity_expires": false
    is written, in every evaluator; an end that is unknown (Silver, with `certified` absent: the
    rule 'certificate' is undecided) is also null but has no such key."""
    gold = {**TOWN_HALL, "energy_use": 50}
    decision = evaluate(RULESET, gold)
    assert (decision.label, decision.valid_from.isoformat() if decision.valid_from else None,
            decision.valid_until, decision.validity_rule) == ("gold", "2022-01-10", None, "lifetime")
    text = decision.canonical_text()
    assert '"valid_until":null,"validity_expires":false,"validity_inputs"' in text
    assert decision_text(RULESET, gold) == text == evaluate_reference(RULESET, gold).canonical_text()
    assert decision.to_json()["validity_expires"] is False
    undecided = evaluate(RULESET, {**TOWN_HALL, "energy_use": 80})
    assert (undecided.label, undecided.valid_until, undecided.validity_rule) == ("silver", None, None)
    assert "validity_expires" not in undecided.canonical_text()
    assert "validity_expires" not in undecided.to_json()
    three_years = evaluate(RULESET, {**TOWN_HALL, "energy_use": 80, "certified": False})
    assert (three_years.valid_until.isoformat() if three_years.valid_until else None) == "2025-01-31"


def test_never_is_refused_where_an_input_is_named_never(tmp_path: Path) -> None:
    """`valid_until: never` cannot be read as an input called `never`: a ruleset declaring one is E108."""
    path = _variant(tmp_path, "  assessed_on: {type: date, required: true}\n",
                    "  assessed_on: {type: date, required: true}\n  never: {type: date}\n")
    assert ("E108", "/validity/rules/0/valid_until") in _codes(path)


# -- a validity ending before it starts -------------------------------------------------------------

@pytest.mark.parametrize(("valid_from", "valid_until", "refused"), [
    ('date("2022-01-10")', 'date("2021-03-18")', True),  # the example
    ("assessed_on", "month_end(assessed_on, -1)", True),  # the end of the month before
    ("month_end(assessed_on, 2)", "month_end(assessed_on, 1)", True),
    ("month_end(assessed_on, 1)", "assessed_on", True),
    ("assessed_on", "month_end(assessed_on, 0)", False),  # the same month's end: never before
    ("assessed_on", "assessed_on", False),
    ("assessed_on", 'date("2021-03-18")', False),  # decided per assessment (A007)
    ('date("2022-01-10")', 'date("2022-01-10")', False),
])
def test_a_validity_ending_before_it_starts_is_a_load_time_error(tmp_path: Path, valid_from: str,
                                                                  valid_until: str, refused: bool) -> None:
    """A validity rule whose end is before its start whatever the assessment is E303 at its
    valid_until: constant dates, month_end of the start with months that always end before it.
    Where the assessment decides, the ruleset loads."""
    path = _variant(tmp_path, "  valid_from: assessed_on\n", f"  valid_from: {valid_from}\n")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "      valid_until: month_end(assessed_on, 36)\n", f"      valid_until: {valid_until}\n"), encoding="utf-8")
    codes = [c for c in _codes(path) if c[0] != "E302"]  # the embedded tests expect other dates
    assert codes == ([("E303", "/validity/rules/2/valid_until")] if refused else [])


def test_a_validity_ending_before_it_starts_at_evaluation_is_an_error_not_a_decision(tmp_path: Path) -> None:
    """A certificate that ended 2021-03-18 for an assessment of 2022-01-10: no evaluator decides it
    (a decision with an end before its start); each refuses it with A007 naming both dates. A
    batch still decides the other items and reports this one as an error."""
    bad = {**TOWN_HALL, "energy_use": 80, "certified": True, "certificate_until": "2021-03-18"}
    message = "the validity would end 2021-03-18 before it starts 2022-01-10 (validity rule 'certificate')"
    validated = validate_assessment(RULESET, bad)  # the assessment itself is valid
    calls = [lambda: evaluate(RULESET, bad), lambda: evaluate_reference(RULESET, bad),
             lambda: decision_text(RULESET, bad), lambda: decide_label(RULESET, bad),
             lambda: outline(RULESET, dict(validated.data)), lambda: evaluate(RULESET, validated)]
    for call in calls:
        with pytest.raises(AssessmentError) as info:
            call()
        assert [(d.code, d.message) for d in info.value.diagnostics] == [("A007", message)]
    # the same day is a validity of one day; the day after is decided as usual
    for day, until in (("2022-01-10", "2022-01-10"), ("2024-06-30", "2024-06-30")):
        ok = evaluate(RULESET, {**bad, "certificate_until": day})
        assert (ok.label, ok.valid_until.isoformat() if ok.valid_until else None) == ("silver", until)
    # a batch: the first item fails, the second is decided
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(bad) + "\n" + json.dumps({**TOWN_HALL, "energy_use": 40}) + "\n", encoding="utf-8")
    outcomes = list(decide_many(read_assessments(batch), fixed_resolver(RULESET)))
    assert [o.error is not None for o in outcomes] == [True, False]
    assert outcomes[0].to_json()["error"]["code"] == "A007"
    assert outcomes[1].decision is not None
    assert outcomes[1].decision.label == "gold"


def test_a_ruleset_text_with_a_constant_validity_before_its_start_does_not_load() -> None:
    """load_ruleset_text refuses the issue's example as well (E303)."""
    text = SUBJECT.read_text(encoding="utf-8").replace(
        "  valid_from: assessed_on\n", '  valid_from: date("2022-01-10")\n').replace(
        "valid_until: month_end(assessed_on, 36)", 'valid_until: date("2021-03-18")')
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    assert "E303" in str(info.value)


