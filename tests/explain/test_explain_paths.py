"""The change-set solver alone: minimal sets by inclusion, derived by hand and checked by brute force."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecei_rules.explanation.paths import Structure, score_options, solve

F = Fraction


def _options(cands: list[tuple[str, Fraction]], deficit: Fraction) -> list[list[tuple[int, Fraction, tuple[str, ...]]]]:
    options, complete = score_options(cands, deficit)
    assert complete
    return [[(p.count, p.weight, p.ids) for p in o.picks] for o in options]


W2 = ["4.5", "4.7", "4.8", "4.9"]
W1 = ["2.2.3", "2.3", "3.2", "5.2", "5.3"]
CANDS = [(c, F(2)) for c in W2] + [(c, F(1)) for c in W1]


def test_deficit_3_8_gives_three_options() -> None:
    """Deficit 3.8 from four weight-2 and five weight-1: 2 x w2 (4), 1 x w2 + 2 x w1 (4), 4 x w1 (4).

    1 x w2 + 1 x w1 = 3 and 3 x w1 = 3 fall short; 1 x w2 + 3 x w1 = 5 is not minimal (drop a w1: 4).
    """
    assert _options(CANDS, F(19, 5)) == [
        [(2, F(2), tuple(W2))],
        [(1, F(2), tuple(W2)), (2, F(1), tuple(W1))],
        [(4, F(1), tuple(W1))],
    ]
    options, _ = score_options(CANDS, F(19, 5))
    # C(4,2) = 6, 4 * C(5,2) = 40, C(5,4) = 5
    assert [o.combinations for o in options] == [6, 40, 5]


def test_deficit_3_exactly() -> None:
    """Deficit 3: w2 + w1 (3), 2 x w2 (4; minus 2 = 2 < 3), 3 x w1 (3); 2 x w2 + anything is not minimal.

    Ranked by size, then weight: the two-criteria options come first, the lighter (3) before 4.
    """
    assert _options(CANDS, F(3)) == [
        [(1, F(2), tuple(W2)), (1, F(1), tuple(W1))],
        [(2, F(2), tuple(W2))],
        [(3, F(1), tuple(W1))],
    ]


def test_deficit_beyond_every_candidate_has_no_option() -> None:
    """4 x 2 + 5 x 1 = 13 < 13.5: unreachable."""
    assert _options(CANDS, F(27, 2)) == []


def test_no_deficit_needs_nothing() -> None:
    assert _options(CANDS, F(0)) == [[]]


def _structure(groups: dict[str, tuple[str, ...]], weights: dict[str, dict[str, int]], required: dict[str, Fraction],
               order: list[str]) -> Structure:
    return Structure(groups, {s: {c: F(w) for c, w in ws.items()} for s, ws in weights.items()}, required,
                     {c: i for i, c in enumerate(order)})


ORDER = ["x", "y", "z", "a", "b", "c"]
S = _structure({"G": ("x", "y")}, {"S": {"a": 2, "b": 2, "c": 1}}, {"S": F(4)}, ORDER)
OUT = {"x": "met", "y": "not_met", "z": "unknown", "a": "met", "b": "not_met", "c": "not_met"}


def test_mandatory_and_score() -> None:
    """y (group G) and z (unknown) are needed in every set; S has 2 of 4: b (2) closes it, c (1) cannot alone."""
    sol = solve(S, ["G", "S", "z"], OUT, lambda c: True)
    assert sol.mandatory == ("y", "z")
    assert sol.sets == (("y", "z", "b"),)
    assert sol.total == 1
    assert sol.feasible


def test_a_mandatory_criterion_counts_in_the_score() -> None:
    """b required directly and weighing 2 in S: once b is met, S has 4 of 4 needed; nothing else is needed."""
    sol = solve(S, ["S", "b"], OUT, lambda c: True)
    assert sol.needs == ()
    assert sol.sets == (("b",),)


def test_fixed_mandatory_makes_the_tier_infeasible() -> None:
    sol = solve(S, ["G", "S", "z"], OUT, lambda c: c != "z")
    assert sol.fixed == ("z",)
    assert not sol.feasible
    assert sol.sets == (("y", "z", "b"),)  # still listed: what else it would take


def test_fixed_candidate_is_left_out_and_can_make_a_score_unreachable() -> None:
    """Without b, S can only gain c (1) < 2: no change set."""
    sol = solve(S, ["S"], OUT, lambda c: c != "b")
    assert sol.total == 0
    assert sol.sets == ()
    assert sol.needs[0].excluded == ("b",)
    assert not sol.feasible


def test_overlapping_scores() -> None:
    """S1 = a + b >= 1, S2 = b + c >= 1: the minimal sets are {b} and {a, c}."""
    st_ = _structure({}, {"S1": {"a": 1, "b": 1}, "S2": {"b": 1, "c": 1}}, {"S1": F(1), "S2": F(1)}, ["a", "b", "c"])
    sol = solve(st_, ["S1", "S2"], {"a": "not_met", "b": "not_met", "c": "unknown"}, lambda c: True)
    assert sol.sets == (("b",), ("a", "c"))
    assert sol.total == 2
    assert sol.exhaustive


# -- brute force: every minimal set by enumerating all subsets --------------------------------

def _met(structure: Structure, requires: list[str], met: set[str]) -> bool:
    def ok(ref: str) -> bool:
        if ref in structure.groups:
            return all(ok(m) for m in structure.groups[ref])
        if ref in structure.weights:
            got = sum((w for c, w in structure.weights[ref].items() if c in met), F(0))
            return got >= structure.required[ref]
        return ref in met

    return all(ok(r) for r in requires)


@st.composite
def _problems(draw: st.DrawFn) -> tuple[Structure, list[str], dict[str, str], set[str]]:
    names = [f"c{i}" for i in range(draw(st.integers(4, 9)))]
    outcomes = {c: draw(st.sampled_from(["met", "not_met", "not_met", "unknown"])) for c in names}
    fixed = {c for c in names if draw(st.integers(0, 9)) == 0}
    weights: dict[str, dict[str, int]] = {}
    required: dict[str, Fraction] = {}
    for s in range(draw(st.integers(0, 2))):
        members = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        weights[f"S{s}"] = {c: draw(st.integers(1, 3)) for c in members}
        total = sum(weights[f"S{s}"].values())
        required[f"S{s}"] = F(draw(st.integers(3, 10)), 10) * total
    groups = {"G": tuple(draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)))}
    refs = [*weights, *draw(st.lists(st.sampled_from([*names, "G"]), max_size=2, unique=True))]
    if not refs:
        refs = ["G"]
    return _structure(groups, weights, required, names), refs, outcomes, fixed


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(_problems())
def test_solver_matches_brute_force(problem: tuple[Structure, list[str], dict[str, str], set[str]]) -> None:
    """Every minimal sufficient set of changeable not-met criteria, and only those, when the tier is feasible."""
    structure, refs, outcomes, fixed = problem
    met = {c for c, o in outcomes.items() if o == "met"}
    if _met(structure, refs, met):
        return  # a met tier has nothing to explain
    sol = solve(structure, refs, outcomes, lambda c: c not in fixed, cap=10_000)
    open_ = [c for c, o in outcomes.items() if o != "met" and c not in fixed]
    sufficient = [frozenset(s) for n in range(len(open_) + 1) for s in itertools.combinations(open_, n)
                  if _met(structure, refs, met | set(s))]
    minimal = {s for s in sufficient if not any(t < s for t in sufficient)}
    if sol.fixed:
        # a fixed mandatory criterion: no set of changeable criteria suffices
        assert not minimal
        assert not sol.feasible
        return
    assert {frozenset(s) for s in sol.sets} == minimal
    assert sol.total == len(minimal)
    sizes = [len(s) for s in sol.sets]
    assert sizes == sorted(sizes)
