"""Issue 22, "What remains" 5: the version is chosen by another date than assessed_on and by a
declared input's value (``selected_by``), as LEED versions are chosen by the registered rating
system. The registry is ``tests/data/selection`` (rating-points 1.0.0 for rating system v4 from
2016-01-01; 2.0.0 for v4.1 from 2019-01-01; 3.0.0 for v4.1 from 2020-01-01; each chosen by
registered_on). The versions expected below are read off those dates by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.audit.log import DecisionLog, open_rows
from ecei_rules.audit.replay import replay
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.errors import ResolutionError
from ecei_rules.explanation.build import explain_assessment
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import check_ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment

DATA = Path(__file__).parents[1] / "data" / "selection"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(DATA)


def project(registered: str, system: str = "v4.1", points: int = 44, assessed: str = "2021-06-15") -> dict[str, Any]:
    return {"assessed_on": assessed, "registered_on": registered, "rating_system": system, "points": points}


def test_a_methodology_chooses_its_version_by_a_declared_date_input_not_assessed_on(registry: Registry) -> None:
    """Assessed on 2021-06-15 (3.0.0 in force by that date), registered on 2019-06-01: 2.0.0, whose
    45 points the 44 do not reach; registered on 2020-06-01: 3.0.0, whose 44 they do."""
    early = decide(project("2019-06-01"), registry=registry)
    assert (early.version, early.label) == ("2.0.0", "none")
    later = decide(project("2020-06-01"), registry=registry)
    assert (later.version, later.label) == ("3.0.0", "certified")


def test_versions_are_chosen_by_the_registered_rating_system(registry: Registry) -> None:
    """A v4 project registered in 2020 is decided under 1.0.0 (40 points), though the v4.1
    versions took effect later; the reason says which values chose it."""
    decision = decide(project("2020-06-01", system="v4"), registry=registry)
    assert (decision.version, decision.label) == ("1.0.0", "certified")
    assert decision.resolution.method == "in_force"
    assert decision.resolution.reason == ("version 1.0.0 applies because rating_system is v4 and registered_on "
                                          "2020-06-01 is on or after its effective date 2016-01-01")


def test_the_explanation_says_which_input_chose_the_version(registry: Registry) -> None:
    expl = explain_assessment(project("2020-06-01"), registry=registry)
    assert expl.resolution.sentence == (
        "Version 3.0.0 applies because rating_system is v4.1 and registered_on 2020-06-01 is on or after its "
        "effective date 2020-01-01 (the latest that applies).")


@pytest.mark.parametrize(("data", "message"), [
    (project("2018-06-01"), "no version of rating-points applies to this assessment: 1.0.0 is for rating_system v4; "
     "2.0.0 takes effect on 2019-01-01, after registered_on 2018-06-01; 3.0.0 takes effect on 2020-01-01, after "
     "registered_on 2018-06-01"),
    (project("2019-06-01", system="v5"), "no version of rating-points applies to this assessment: 1.0.0 is for "
     "rating_system v4; 2.0.0 is for rating_system v4.1; 3.0.0 is for rating_system v4.1"),
])
def test_no_version_applying_is_an_error_saying_why(registry: Registry, data: dict[str, Any], message: str) -> None:
    with pytest.raises(ResolutionError) as info:
        decide(data, registry=registry)
    assert str(info.value) == message


def test_two_versions_applying_is_an_error_not_a_silent_pick(tmp_path: Path) -> None:
    """A 3.1.0 for v4.1 that takes effect on 3.0.0's day: both apply to a project registered
    after it, and neither is picked."""
    shutil.copytree(DATA, tmp_path / "rulesets")
    folder = tmp_path / "rulesets" / "rating-points"
    text = (folder / "3.0.0.yaml").read_text(encoding="utf-8")
    (folder / "3.1.0.yaml").write_text(text.replace("version: 3.0.0", "version: 3.1.0"), encoding="utf-8")
    with pytest.raises(ResolutionError) as info:
        decide(project("2020-06-01"), registry=Registry(tmp_path / "rulesets"))
    assert str(info.value) == ("two versions of rating-points apply to this assessment and took effect on the same "
                               "day (2020-01-01): 3.0.0, 3.1.0; pin one, or make their selected_by values distinct")


def test_selected_by_names_declared_inputs_of_the_right_type(tmp_path: Path) -> None:
    """Validated when the version loads: the date names a date input (line 13, column 9), the input a
    declared one (a misspelling, line 14, column 10, with a suggestion), each value one of the enum's
    (line 15, the second value at column 16)."""
    path = tmp_path / "1.0.0.yaml"
    text = (DATA / "rating-points" / "1.0.0.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("date: registered_on", "date: points").replace(
        "input: rating_system", "input: rating_sytem"), encoding="utf-8")
    assert [str(d) for d in check_ruleset(path)] == [
        f"{path}:13:9: E103 the date that chooses the version, 'points', must be a date input, not integer in "
        "/selected_by/date",
        f"{path}:14:10: E104 the input that chooses the version 'rating_sytem' is not a declared input: rating_sytem "
        "is unknown in /selected_by/input (did you mean 'rating_system'?)",
    ]
    path.write_text(text.replace("values: [v4]", "values: [v4, v5]"), encoding="utf-8")
    assert [str(d) for d in check_ruleset(path)] == [
        f"{path}:15:16: E103 'v5' is not a value of the input 'rating_system' (its values: v4, v4.1) in "
        "/selected_by/values/1"]


def test_a_record_of_a_version_chosen_by_selected_by_replays_under_the_version_it_names(
        registry: Registry, tmp_path: Path) -> None:
    """Recorded under 2.0.0 (registered 2019) though 3.0.0 was in force on the assessment date: the
    log replays byte for byte under the versions its records name; ``ecei-rules evaluate`` agrees."""
    items = [project("2019-06-01"), project("2020-06-01"), project("2020-06-01", system="v4")]
    with DecisionLog(tmp_path / "log.db") as log:
        for data in items:
            log.append(decide(data, registry=registry), data, decided_at=dt.datetime(2021, 6, 16, tzinfo=dt.UTC))
    report = replay(open_rows(tmp_path / "log.db"), registry)
    assert (report.records, report.ok) == (3, True)
    path = tmp_path / "one.json"
    path.write_text('{"assessed_on": "2021-06-15", "registered_on": "2019-06-01", "rating_system": "v4.1", '
                    '"points": 44}', encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "--rulesets", str(DATA), "-f", "json", str(path)])
    assert '"version":"2.0.0"' in result.output.replace(" ", "")


def test_a_methodology_without_selected_by_is_resolved_by_assessed_on_as_before() -> None:
    """The shipped rulesets declare no selected_by: the registry says so, and an assessment gets the
    version in force on its assessed_on, with today's reason."""
    shipped = Registry.shipped()
    assert shipped.selects("ecei-labels") is False
    data = embedded_assessment(shipped.get("ecei-labels", "3.0.1").document, 0)
    decision = decide(data, registry=shipped)
    on = data["assessed_on"]
    ruleset = shipped.in_force("ecei-labels", on)
    assert decision.version == ruleset.version
    assert decision.resolution.reason == (f"version {ruleset.version} is in force on {on.isoformat()} (effective "
                                          f"from {ruleset.document.effective_from.isoformat()})")


def test_versions_chosen_by_an_input_form_one_line_per_set_of_values(tmp_path: Path) -> None:
    """A v4 revision 1.0.1 of 2020-06-01, after the v4.1 2.0.0 of 2019: each line's versions
    supersede each other and take effect in order, so lineage finds nothing (one line for all would
    say 2.0.0 must supersede 1.0.1 and take effect after it); two versions of one line on one day
    are still L005."""
    shutil.copytree(DATA, tmp_path / "rulesets")
    folder = tmp_path / "rulesets" / "rating-points"
    (folder / "1.0.1.yaml").write_text(
        "extends: 1.0.0\nversion: 1.0.1\nstatus: published\neffective_from: 2020-06-01\nsupersedes: 1.0.0\n"
        "approval: {body: Test board, date: 2020-03-01, reference: TB-R4}\n"
        "description: The v4 handbook reprinted.\n", encoding="utf-8")
    assert Registry(tmp_path / "rulesets").lineage("rating-points") == []
    assert Registry(tmp_path / "rulesets").successions("rating-points") == [
        ("1.0.0", "1.0.1"), ("1.0.0", "2.0.0"), ("2.0.0", "3.0.0")]  # what lint bump-checks
    assert decide(project("2020-07-01", system="v4"), registry=Registry(tmp_path / "rulesets")).version == "1.0.1"
    (folder / "1.0.1.yaml").write_text((folder / "1.0.1.yaml").read_text(encoding="utf-8").replace(
        "2020-06-01", "2016-01-01"), encoding="utf-8")
    assert [(d.code, d.message) for d in Registry(tmp_path / "rulesets").lineage("rating-points")] == [
        ("L005", "1.0.1 and 1.0.0 would both be in force on 2016-01-01"),
        ("L004", "1.0.1 takes effect on 2016-01-01, not after 1.0.0 (2016-01-01): versions and effective dates "
                 "must increase together")]
