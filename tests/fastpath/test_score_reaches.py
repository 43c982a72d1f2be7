"""The fast line path's score test stops once the threshold is out of reach (`score_reaches`): the same
answer as the whole sum, with fewer members worked out. The generated label functions that use it are held
to the exact path by `test_fast_line_path.py`, for every shipped version and example methodology."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecei_rules.engine.label import SCORE_STRIDE, score_reaches


def _decide(values: list[bool], weights: list[int], num: int, den: int) -> tuple[bool, list[int]]:
    """(the generated expression's answer, the members it worked out, in order)."""
    worked: list[int] = []

    def member(i: int) -> bool:
        worked.append(i)
        return values[i]

    expr = score_reaches([(f"M({i})", w) for i, w in enumerate(weights)], num, den, "_t")
    answer = eval(expr, {"M": member})  # the generated text holds only the names given here and numbers
    return answer, worked


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 9)), max_size=40), st.integers(0, 400), st.integers(1, 7))
def test_property_a_score_stopped_early_is_met_exactly_when_its_whole_met_weight_reaches_the_threshold(
        members: list[tuple[bool, int]], num: int, den: int) -> None:
    """Property: for any members (true or not, weights above 0) and threshold num/den, the expression is
    True exactly when the weight of the true members times den reaches num, and no member is worked out
    twice."""
    values, weights = [v for v, _ in members], [w for _, w in members]
    answer, worked = _decide(values, weights, num, den)
    assert answer is (sum(w for v, w in members if v) * den >= num)
    assert len(worked) == len(set(worked))


def test_a_score_that_cannot_be_met_stops_after_the_stride_that_shows_it() -> None:
    """30 members of weight 1, 28 needed: with none true the first stride leaves 24 within reach, and
    nothing more is worked out; with the first stride true the second shows it; all true works out all."""
    weights = [1] * 30
    answer, worked = _decide([False] * 30, weights, 28, 1)
    assert answer is False
    assert worked == list(range(SCORE_STRIDE))
    answer, worked = _decide([True] * SCORE_STRIDE + [False] * (30 - SCORE_STRIDE), weights, 28, 1)
    assert answer is False
    assert worked == list(range(2 * SCORE_STRIDE))
    answer, worked = _decide([True] * 30, weights, 28, 1)
    assert answer is True
    assert worked == list(range(30))


def test_the_heaviest_members_are_worked_out_first() -> None:
    """The members are taken heaviest first (in the order written within a weight), so that a score far
    below its threshold shows it in the fewest members."""
    weights = [1, 3, 1, 2, 3]
    _, worked = _decide([True] * 5, weights, 0, 1)
    assert worked == [1, 4, 3, 0, 2]


def test_a_score_without_members_is_met_only_by_a_threshold_of_nothing() -> None:
    """No members: met weight 0, so met exactly when nothing is required."""
    assert eval(score_reaches([], 0, 1, "_t")) is True
    assert eval(score_reaches([], 1, 3, "_t")) is False
