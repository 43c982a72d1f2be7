"""The tooling around version selection (``selected_by``, ``tests_from``): docs pages, the semantic
diff, synth and the error a batch writes when no version applies.

The registry is ``tests/data/selection`` (rating-points 1.0.0 for rating system v4 from 2016-01-01;
2.0.0 for v4.1 from 2019-01-01; 3.0.0 for v4.1 from 2020-01-01, lent 2.0.0's tests but one; each
chosen by registered_on)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.batch import error_json, registry_resolver
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.errors import ResolutionError
from ecei_rules.registry import Registry
from ecei_rules.render.docs import site_pages
from ecei_rules.testing.synth import synthesize

DATA = Path(__file__).parents[1] / "data" / "selection"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(DATA)


def _pages(registry: Registry) -> dict[str, str]:
    rulesets = [registry.get("rating-points", v) for v in registry.versions("rating-points")]
    return site_pages({"rating-points": rulesets})


def _row(page: str, head: str) -> str:
    return next(line for line in page.splitlines() if line.startswith(f"| {head} |"))


def test_the_docs_page_says_how_a_version_is_chosen_and_whose_tests_it_runs(registry: Registry) -> None:
    """Each version's page says the input and values that choose it and the date compared; 3.0.0's says it
    runs 2.0.0's tests but the one it drops."""
    pages = _pages(registry)
    v4 = pages["methodologies/rating-points/1.0.0.md"]
    assert _row(v4, "chosen by") == (
        "| chosen by | the registry, when <code>rating_<wbr>system</code> is v4 and <code>registered_<wbr>on</code> "
        "is on or after its effective date (not assessed_on); of the versions that apply, the latest |")
    lent = _row(pages["methodologies/rating-points/3.0.0.md"], "tests lent by")
    assert lent == ("| tests lent by | [2.0.0](2.0.0.md) (its embedded tests and fixtures run here too, but 44 "
                    "points is not) |")
    assert "tests lent by" not in pages["methodologies/rating-points/2.0.0.md"]


def test_a_version_chosen_by_an_input_is_in_force_within_its_line(registry: Registry) -> None:
    """1.0.0 (v4) stays in force for v4 projects after 2.0.0 (v4.1) took effect; 2.0.0 is followed by 3.0.0,
    the next version for v4.1."""
    pages = _pages(registry)
    assert _row(pages["methodologies/rating-points/1.0.0.md"], "in force") == (
        "| in force | for <code>rating_<wbr>system</code> v4: <code>registered_<wbr>on</code> from 2016-01-01, "
        "the latest version for these values |")
    assert _row(pages["methodologies/rating-points/2.0.0.md"], "in force").endswith(
        "from 2019-01-01 to 2019-12-31 (then [3.0.0](3.0.0.md)) |")


def test_the_diff_shows_selected_by_and_tests_from_not_as_deciding(registry: Registry) -> None:
    """1.0.0 -> 2.0.0 changes the values that choose the version; 2.0.0 -> 3.0.0 adds the lent tests. Neither
    decides (which version applies is the registry's business; tests decide nothing)."""
    first = semantic_diff(registry.get("rating-points", "1.0.0"), registry.get("rating-points", "2.0.0"))
    selection = [c for c in first.section("metadata") if c.id == "selected_by"]
    assert [(c.old["values"], c.new["values"], c.decides) for c in selection] == [(("v4",), ("v4.1",), False)]
    second = semantic_diff(registry.get("rating-points", "2.0.0"), registry.get("rating-points", "3.0.0"))
    lent = [c for c in second.section("metadata") if c.id == "tests_from"]
    assert [(c.old, c.new["version"], c.decides) for c in lent] == [(None, "2.0.0", False)]


def _error(registry: Registry, data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ResolutionError) as info:
        registry_resolver(registry, "rating-points")(data)
    return error_json(info.value)


def test_a_selection_error_names_the_input_that_chose_no_version(registry: Registry) -> None:
    """A rating system no version is for: $.rating_system; a v4.1 project registered before v4.1 took effect:
    $.registered_on (not $.assessed_on, which chose nothing here); a methodology chosen by date alone still
    says $.assessed_on."""
    project = {"assessed_on": "2021-06-15", "registered_on": "2019-06-01", "rating_system": "v5", "points": 44}
    assert _error(registry, project)["path"] == "$.rating_system"
    early = {**project, "rating_system": "v4.1", "registered_on": "2010-06-01"}
    assert _error(registry, early)["path"] == "$.registered_on"
    with pytest.raises(ResolutionError) as info:
        registry_resolver(Registry.shipped(), "ecei-labels")({"assessed_on": "2001-01-01"})
    assert error_json(info.value)["path"] == "$.assessed_on"


def test_synth_draws_assessments_the_registry_decides_under_the_version_drawn_for(registry: Registry) -> None:
    """60 assessments from 2016 to 2021, chosen by selected_by: each is decided under a version (before, about
    a third carried a rating system or registration date that chose none), and both lines occur."""
    resolve = registry_resolver(registry, "rating-points")
    versions: Counter[str] = Counter()
    for data in synthesize(60, seed=3, start=dt.date(2016, 1, 1), end=dt.date(2021, 12, 31), registry=registry):
        versions[resolve(data)[0].version] += 1
    assert sum(versions.values()) == 60
    assert versions["1.0.0"]
    assert versions["2.0.0"] + versions["3.0.0"]


def test_synth_for_versions_of_one_line_gives_their_common_value(registry: Registry) -> None:
    """A population for an impact study from 2.0.0 to 3.0.0 (both for v4.1) is of v4.1 projects, registered
    on their assessment date."""
    population = list(synthesize(20, seed=5, start=dt.date(2020, 1, 1), end=dt.date(2021, 12, 31),
                                 registry=registry, versions=["2.0.0", "3.0.0"]))
    assert {p["rating_system"] for p in population} == {"v4.1"}
    assert all(p["registered_on"] == p["assessed_on"] for p in population)
