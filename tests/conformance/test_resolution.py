"""Version resolution against the spec's version table (ecei-labels.md section 1).

The expected versions and dates below are copied from the spec's table by hand, not read
from the ruleset files.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ecei_rules import ResolutionError
from ecei_rules.registry import Registry

# version -> effective_from, from the table in ecei-labels.md section 1
SPEC_TABLE = [
    ("1.0.0", dt.date(2010, 11, 1)),
    ("1.1.0", dt.date(2012, 4, 18)),
    ("1.2.0", dt.date(2013, 1, 1)),
    ("2.0.0", dt.date(2019, 11, 15)),
    ("3.0.0", dt.date(2020, 7, 1)),
    ("3.0.1", dt.date(2021, 1, 1)),
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.shipped()


def test_shipped_versions_are_the_six_of_the_spec(registry: Registry) -> None:
    """The shipped ecei-labels versions are exactly the six of the spec, in semver order."""
    assert registry.versions("ecei-labels") == [v for v, _ in SPEC_TABLE]


@pytest.mark.parametrize(("version", "effective"), SPEC_TABLE)
def test_version_in_force_on_its_effective_date(registry: Registry, version: str, effective: dt.date) -> None:
    """On its effective_from date a version is the one in force."""
    ruleset, resolution = registry.resolve("ecei-labels", on=effective)
    assert ruleset.version == version
    assert resolution.method == "in_force"
    assert effective.isoformat() in resolution.reason


@pytest.mark.parametrize("index", range(1, len(SPEC_TABLE)))
def test_previous_version_in_force_the_day_before(registry: Registry, index: int) -> None:
    """The day before a version's effective_from, its predecessor is still in force."""
    _, effective = SPEC_TABLE[index]
    previous = SPEC_TABLE[index - 1][0]
    ruleset, _ = registry.resolve("ecei-labels", on=effective - dt.timedelta(days=1))
    assert ruleset.version == previous


@pytest.mark.parametrize(("version", "effective"), SPEC_TABLE)
def test_version_still_in_force_the_day_after(registry: Registry, version: str, effective: dt.date) -> None:
    """The day after its effective_from a version is still in force (no version starts the next day)."""
    ruleset, _ = registry.resolve("ecei-labels", on=effective + dt.timedelta(days=1))
    assert ruleset.version == version


def test_date_before_first_version_is_an_error(registry: Registry) -> None:
    """2010-10-31, the day before 1.0.0, has no version in force: a clear error naming the first date."""
    with pytest.raises(ResolutionError, match="2010-11-01"):
        registry.resolve("ecei-labels", on=dt.date(2010, 10, 31))


def test_pin_overrides_the_date(registry: Registry) -> None:
    """A pinned version is applied whatever the date, and the decision says it was pinned."""
    ruleset, resolution = registry.resolve("ecei-labels", version="2.0.0", on=dt.date(2025, 1, 1))
    assert ruleset.version == "2.0.0"
    assert resolution.method == "pinned"


def test_unknown_version_lists_the_known_ones(registry: Registry) -> None:
    """Pinning a version that does not exist names the versions that do."""
    with pytest.raises(ResolutionError, match=r"1\.0\.0, 1\.1\.0"):
        registry.get("ecei-labels", "9.9.9")


def test_unknown_methodology_suggests_the_close_one(registry: Registry) -> None:
    """A misspelt methodology id gets a suggestion."""
    with pytest.raises(ResolutionError, match="did you mean 'ecei-labels'"):
        registry.versions("ecei-label")
