"""The guarantees, for every shipped version and every consecutive pair of versions.

Each check searches for a counterexample (budget: the loaded hypothesis profile's
max_examples) and shrinks what it finds; a failure prints the assessment that breaks it.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings

from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing import properties as props
from ecei_rules.testing.strategies import assessments

REGISTRY = Registry.shipped()
VERSIONS = REGISTRY.versions("ecei-labels")
PAIRS = list(itertools.pairwise(VERSIONS))


def _ruleset(version: str) -> Ruleset:
    return REGISTRY.get("ecei-labels", version)


def _config() -> settings:
    return props.search_settings(settings.default.max_examples)


def _ok(violation: props.Violation | None) -> None:
    assert violation is None, f"{violation.code} fails for {violation.ruleset}: {violation.message}\n" \
                              f"counterexample: {violation.to_json()['assessment']}"


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_determinism_evaluating_twice_gives_identical_bytes(version: str) -> None:
    """Evaluating the same assessment twice gives identical canonical bytes."""
    _ok(props.check_determinism(_ruleset(version), _config()))


@pytest.mark.parametrize("version", VERSIONS)
def test_determinism_a_fresh_interpreter_gives_identical_bytes(version: str) -> None:
    """A fresh Python process decides 30 generated assessments with byte-identical decisions."""
    ruleset = _ruleset(version)
    examples: list[dict] = []
    props._search(assessments(ruleset), lambda a: examples.append(a) if len(examples) < 30 else None,
              props.search_settings(30), "collect", ruleset)
    assert len(examples) == 30
    _ok(props.check_fresh_interpreter(ruleset, examples))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_replay_a_recorded_decision_replays_identically(version: str) -> None:
    """A decision recorded as a log record re-evaluates to the same canonical bytes."""
    _ok(props.check_replay(_ruleset(version), _config()))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_content_hash_ignores_layout_and_sees_every_parameter_criteria_order_and_condition_text(version: str) -> None:
    """Reordered fields of an object, flow or block style and comments keep the hash; changing a
    parameter, swapping two criteria or bracketing a condition (edits a decision shows) changes it."""
    _ok(props.check_hash_invariance(props.flatten(_ruleset(version)), props.search_settings(12)))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_sufficiency_label_and_validity_follow_from_the_trace(version: str) -> None:
    """The label and validity can be recomputed from the decision's trace alone."""
    _ok(props.check_sufficiency(_ruleset(version), _config()))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_information_monotonicity_more_inputs_never_undo_an_outcome(version: str) -> None:
    """Supplying missing inputs never changes a met or not_met outcome and never lowers the label."""
    _ok(props.check_information_monotonicity(_ruleset(version), _config()))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("version", VERSIONS)
def test_threshold_monotonicity_passing_further_never_lowers_the_label(version: str) -> None:
    """Moving one Gold indicator further past its threshold never lowers the label."""
    _ok(props.check_threshold_monotonicity(_ruleset(version), _config()))


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_bump_honesty_minor_and_patch_keep_every_decision(old: str, new: str) -> None:
    """A minor or patch version decides every input valid under its predecessor as the predecessor did."""
    _ok(props.check_bump_honesty(_ruleset(old), _ruleset(new), _config()))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_attribution_only_changed_criteria_decide_differently(old: str, new: str) -> None:
    """Where two consecutive versions decide differently, every differing criterion is changed or new in the diff."""
    _ok(props.check_attribution(_ruleset(old), _ruleset(new), _config()))
