"""A generated search of N examples (``bump-check``, ``lint`` and ``check-properties`` ``--examples N``) runs
in rounds of at most ``SEARCH_ROUND`` examples, each a fresh hypothesis search: hypothesis keeps the tree of
what one search explored (~35 KB an example: 10,000 examples took 386 MB, 1,000,000 would take ~33 GB), so
no single search may be asked for more, and the budget is still spent in full when nothing is found."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find as hypothesis_find
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ecei_rules.registry import Registry
from ecei_rules.testing import counterexample, properties

REGISTRY = Registry.shipped()


def _record(monkeypatch: pytest.MonkeyPatch, *, found_in: int | None = None) -> list[tuple[int, Any]]:
    """Every hypothesis search asked for (its max_examples and the random given), none finding anything
    (or the one numbered ``found_in`` finding the first value drawn)."""
    asked: list[tuple[int, Any]] = []

    def find(strategy: Any, condition: Any, *, settings: Any, random: Any = None) -> Any:
        asked.append((settings.max_examples, random))
        if found_in is not None and len(asked) - 1 == found_in:
            return hypothesis_find(strategy, lambda _: True, settings=settings)
        raise NoSuchExample("nothing")

    monkeypatch.setattr(counterexample, "find", find)
    return asked


def test_a_budget_is_spent_in_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _record(monkeypatch)
    budget = 3 * counterexample.SEARCH_ROUND + 7
    with pytest.raises(NoSuchExample):
        counterexample.find_in_rounds(st.integers(), lambda _: False,
                                      properties.search_settings(budget, shrink=False))
    sizes = [n for n, _ in asked]
    assert max(sizes) <= counterexample.SEARCH_ROUND
    assert sum(sizes) == budget
    assert asked[0][1] is None  # the first round as one search was before: derandomised
    seeds = [r.getrandbits(64) for _, r in asked[1:]]
    assert len(set(seeds)) == len(seeds)  # each later round its own seed


def test_the_rounds_are_the_same_for_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    for _ in range(2):
        asked = _record(monkeypatch)
        with pytest.raises(NoSuchExample):
            counterexample.find_in_rounds(st.integers(), lambda _: False, properties.search_settings(1_200))
        runs.append([(n, r.getrandbits(64) if r is not None else None) for n, r in asked])
    assert runs[0] == runs[1]


def test_the_first_round_that_finds_ends_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _record(monkeypatch, found_in=1)
    found = counterexample.find_in_rounds(st.integers(), lambda _: True, properties.search_settings(10_000))
    assert isinstance(found, int)
    assert len(asked) == 2


def test_bump_check_never_asks_one_search_for_more_than_a_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """1.2.0 -> 2.0.0 is found before the generated search; 3.0.0 -> 3.0.1 (a patch: nothing to find) spends
    what its other ways leave to generated assessments, in rounds."""
    asked = _record(monkeypatch)
    old, new = REGISTRY.get("ecei-labels", "3.0.0"), REGISTRY.get("ecei-labels", "3.0.1")
    monkeypatch.setattr(counterexample._Search, "walk", lambda self, seeds, until: None)
    monkeypatch.setattr(counterexample._Search, "bisect", lambda self, seeds, until: None)
    found, _ = counterexample.find_counterexample(old, new, max_examples=5_000)
    assert found is None
    assert asked, "the generated search ran"
    assert max(n for n, _ in asked) <= counterexample.SEARCH_ROUND


def test_check_properties_searches_in_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def find(strategy: Any, condition: Any, *, settings: Any, random: Any = None) -> Any:
        asked.append(settings.max_examples)
        raise NoSuchExample("nothing")

    monkeypatch.setattr(counterexample, "find", find)
    ruleset = REGISTRY.get("ecei-labels", "3.0.0")
    assert properties.check_determinism(ruleset, properties.search_settings(1_200)) is None
    assert max(asked) <= counterexample.SEARCH_ROUND
    assert sum(asked) == 1_200
