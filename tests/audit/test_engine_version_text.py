"""A record's engine_version is checked as a semantic version by replay's own pattern (cheap, and owned by
no process-wide cache): it must agree with the semver library the registry reads versions with."""

from __future__ import annotations

import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from ecei_rules.audit.replay import _engine_version_ok

PARTS = st.sampled_from(["0", "1", "01", "10", "a", "rc", "-", "x-1", "007", "\u0661", ""])
TEXTS = st.one_of(
    st.lists(PARTS, min_size=1, max_size=6).map(".".join),
    st.builds(lambda a, b, c, pre, build: f"{a}.{b}.{c}" + (f"-{pre}" if pre is not None else "")
              + (f"+{build}" if build is not None else ""),
              PARTS, PARTS, PARTS, st.none() | st.lists(PARTS, min_size=1, max_size=3).map(".".join),
              st.none() | st.lists(PARTS, min_size=1, max_size=3).map(".".join)),
    st.text(max_size=20),
)


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_property_an_engine_version_is_valid_exactly_when_semver_reads_it(text: str) -> None:
    """Property: for any text of at most 64 characters, replay's check says valid exactly when
    semver.Version.is_valid does."""
    assert _engine_version_ok(text) is semver.Version.is_valid(text)


def test_an_engine_version_longer_than_64_characters_is_not_one() -> None:
    """A version text is bounded: 1.0.0 with a build of 70 characters is refused."""
    assert not _engine_version_ok("1.0.0+" + "a" * 70)
