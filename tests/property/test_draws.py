"""A derandomized hypothesis test draws the same examples whatever ran before it in the process.

Hypothesis (6.131 and later) sometimes draws a constant it found in the source of a local module,
from every local module imported so far; ``tests/conftest.py`` pins those constants to none. Without
that, ``test_engines_agree_on_the_every_construct_rulesets`` met 1.2.0's E8 alone but not in a
whole-suite run, where earlier tests had imported more of ``src/``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DERANDOMIZED = settings(max_examples=20, derandomize=True, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))


def _draws() -> list[list[int]]:
    drawn: list[list[int]] = []

    @DERANDOMIZED
    @given(st.lists(st.integers(0, 1000), min_size=50, max_size=50))
    def draw(values: list[int]) -> None:
        drawn.append(values)

    draw()
    return drawn


def test_derandomized_draws_do_not_depend_on_the_modules_imported_before(tmp_path: Path) -> None:
    """Importing a local module full of whole numbers between two runs of the same derandomized
    test does not change a single drawn example (1,000 integer draws, of which hypothesis would
    otherwise replace about one in twenty by a constant of that module)."""
    before = _draws()
    source = tmp_path / "numbers_seen_by_hypothesis.py"
    source.write_text("VALUES = (" + ", ".join(str(n) for n in range(3, 1000, 7)) + ")\n")
    spec = importlib.util.spec_from_file_location("numbers_seen_by_hypothesis", source)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        after = _draws()
    finally:
        del sys.modules[spec.name]
    assert len(before) == 20
    assert after == before
