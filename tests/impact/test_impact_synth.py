"""Synthetic populations: reproducible by seed, valid for the versions asked for, every tier represented,
values at the thresholds and at the edges of the date windows well covered."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.core.logic import months_between
from ecei_rules.engine.evaluate import decide_label
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.testing.synth import load_profile, synthesize, window

AS_OF = dt.date(2020, 6, 30)
PROFILE = Path(__file__).parents[2] / "examples" / "synth" / "ecei-labels.yaml"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.shipped()


def test_same_seed_same_population_other_seed_other_population(registry: Registry) -> None:
    """The population is a function of the arguments and the seed (the ids come from the profile)."""
    profile = load_profile(PROFILE)
    first = list(synthesize(60, seed=42, as_of=AS_OF, registry=registry, profile=profile))
    again = list(synthesize(60, seed=42, as_of=AS_OF, registry=registry, profile=profile))
    other = list(synthesize(60, seed=43, as_of=AS_OF, registry=registry, profile=profile))
    assert first == again
    assert first != other
    assert [a["organisation"]["id"] for a in first] == [f"SYN-{i:06d}" for i in range(1, 61)]


@pytest.mark.parametrize(("as_of", "expected"), [
    # the 12 months up to 2020-06-30 start on the day after 2019-06-30
    (dt.date(2020, 6, 30), (dt.date(2019, 7, 1), dt.date(2020, 6, 30))),
    # 2019 has no 29 February: the day after 2019-02-28
    (dt.date(2020, 2, 29), (dt.date(2019, 3, 1), dt.date(2020, 2, 29))),
    (dt.date(2021, 1, 1), (dt.date(2020, 1, 2), dt.date(2021, 1, 1))),
])
def test_window_is_the_twelve_months_up_to_as_of(as_of: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert window(as_of) == expected


def test_dates_lie_in_the_window(registry: Registry) -> None:
    dates = [dt.date.fromisoformat(a["assessed_on"]) for a in synthesize(300, seed=1, as_of=AS_OF,
                                                                          registry=registry)]
    assert min(dates) >= dt.date(2019, 7, 1)
    assert max(dates) <= AS_OF
    # spread over the window, not bunched: both halves of the year are present
    assert min(dates) < dt.date(2019, 10, 1)
    assert max(dates) > dt.date(2020, 4, 1)


def test_default_population_is_valid_for_the_version_in_force(registry: Registry) -> None:
    """Without versions, every assessment is valid (strictly, unprojected) for the version in force."""
    seen = set()
    for data in synthesize(250, seed=3, start=dt.date(2011, 1, 1), end=dt.date(2024, 12, 31), registry=registry):
        ruleset = registry.in_force("ecei-labels", dt.date.fromisoformat(data["assessed_on"]))
        seen.add(ruleset.version)
        assert ruleset.plan.validator.validate(data)[1] == [], data
    assert seen == {"1.0.0", "1.1.0", "1.2.0", "2.0.0", "3.0.0", "3.0.1"}


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("pair", [("1.2.0", "2.0.0"), ("2.0.0", "3.0.0"), ("1.0.0", "3.0.1")])
def test_union_population_is_accepted_by_each_version(registry: Registry, pair: tuple[str, str]) -> None:
    """With versions, each version accepts every assessment once projected onto its own inputs."""
    rulesets = [registry.get("ecei-labels", v) for v in pair]
    keys: Counter[str] = Counter()
    for data in synthesize(200, seed=5, as_of=AS_OF, registry=registry, versions=pair):
        keys.update(list(data.get("indicators", {})))
        for ruleset in rulesets:
            projected, _ = project(data, ruleset.plan.inputs)
            assert ruleset.plan.validator.validate(projected)[1] == [], (ruleset.version, data)
    if pair == ("2.0.0", "3.0.0"):
        # the union: indicators only 2.0.0 declares and ones only 3.0.0 declares, side by side
        assert keys["1.2"] > 150
        assert keys["4.7"] > 150


# The tiers each version defines (spec section 1): Bronze from 1.0.0, Gold from 1.1.0, Silver from 1.2.0.
TIERS = {
    "1.0.0": {"none", "bronze"},
    "1.1.0": {"none", "bronze", "gold"},
    "1.2.0": {"none", "bronze", "silver", "gold"},
    "2.0.0": {"none", "bronze", "silver", "gold"},
    "3.0.0": {"none", "bronze", "silver", "gold"},
}


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", sorted(TIERS))
def test_every_tier_is_represented(registry: Registry, version: str) -> None:
    """300 organisations assessed under one version include every label it can award, each at least 3 %."""
    ruleset = registry.get("ecei-labels", version)
    labels = Counter(decide_label(ruleset, data)[0]
                     for data in synthesize(300, seed=11, as_of=AS_OF, registry=registry, versions=[version]))
    assert set(labels) == TIERS[version]
    assert min(labels.values()) >= 9, labels


@pytest.fixture(scope="module")
def population_2_0_0(registry: Registry) -> list[dict[str, Any]]:
    """1,000 organisations with the inputs of 2.0.0 (eligibility, success stories, history)."""
    return list(synthesize(1000, seed=2, as_of=AS_OF, registry=registry, versions=["2.0.0"]))


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def test_values_at_the_thresholds_are_well_covered(population_2_0_0: list[dict[str, Any]]) -> None:
    """Values exactly at a threshold and one step either side all occur (spec section 5 thresholds)."""
    population = population_2_0_0
    fte = Counter(_get(a, "eligibility", "management_fte") for a in population)
    assert fte[Decimal("0.5")]
    assert fte[Decimal("0.49")]
    assert fte[Decimal("0.51")]
    committed = Counter(_get(a, "eligibility", "committed_participants") for a in population)
    assert committed[15]
    assert committed[14]
    assert committed[16]
    ties = [a for a in population if isinstance(_get(a, "eligibility", "private_participants"), int)
            and 2 * a["eligibility"]["private_participants"] == _get(a, "eligibility", "committed_participants")]
    assert ties  # EC3: a tie is not a majority
    stories = Counter(_get(a, "benchmarking", "success_stories") for a in population)
    assert stories[2]
    assert stories[3]
    review = Counter(_get(a, "indicators", "4.1.5") for a in population)
    assert review[24]
    assert review[Decimal("24.01")]
    assert review[36]


def test_silver_and_renewal_windows_are_well_covered(population_2_0_0: list[dict[str, Any]]) -> None:
    """Earlier Bronzes 17, 18, 24 and 25 whole months before the assessment all occur (S1: 18 to 24), and
    earlier labels whose validity ended up to 12 months before (the renewal grace) as well as longer ago."""
    months: Counter[int] = Counter()
    grace: Counter[str] = Counter()
    for data in population_2_0_0:
        on = dt.date.fromisoformat(data["assessed_on"])
        for entry in data.get("history", []):
            if entry["label"] == "bronze":
                months[months_between(dt.date.fromisoformat(entry["awarded_on"]), on)] += 1
            expired = months_between(dt.date.fromisoformat(entry["valid_until"]), on)
            grace["valid" if expired < 0 else "grace" if expired <= 11 else "lapsed"] += 1
    for edge in (17, 18, 24, 25):
        assert months[edge] >= 10, months
    assert min(grace.values()) >= 50, grace


def test_synthesize_needs_a_period(registry: Registry) -> None:
    with pytest.raises(ValueError, match="as_of"):
        next(synthesize(1, seed=1, registry=registry))
