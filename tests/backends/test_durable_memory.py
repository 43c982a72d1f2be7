"""Memory stays flat over many durable-rules evaluations in one process.

The full measurement (20,000 evaluations over every version) is memory_check.py in this folder;
this test runs a shorter one: 600 evaluations of the 2.0.0 embedded tests and fixtures after a
warm-up of 150 must not grow the resident memory by more than 1 MiB (a leak of one session's
state, or of the facts read back, per evaluation would exceed that many times over).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecei_rules.backends import durable
from ecei_rules.backends._durable_runtime import Runtime

sys.path.insert(0, str(Path(__file__).parent))
import memory_check


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
def test_resident_memory_is_flat_over_600_evaluations(durable_runtime: Runtime) -> None:
    """VmRSS after 750 evaluations is within 1 MiB of VmRSS after the first 150 (a leak of 1.7 KB per
    evaluation would exceed it), and no session is left open."""
    work = [case for case in memory_check.cases() if case[0].version == "2.0.0"]
    assert len(work) > 20
    for n in range(150):
        durable.evaluate(*work[n % len(work)])
    start = memory_check.rss_kib()
    for n in range(600):
        durable.evaluate(*work[n % len(work)])
    end = memory_check.rss_kib()
    print(f"\nVmRSS {start} KiB -> {end} KiB over 600 evaluations")
    assert end - start <= 1024
    assert durable_runtime.open_sessions() == 0
