"""Measure the resident memory of one process over many durable-rules evaluations.

    .venv/bin/python tests/backends/memory_check.py [EVALUATIONS]   (default 20,000)

Cycles through the embedded test assessments and fixtures of every shipped version (each
evaluation a new session whose state is deleted), prints VmRSS every 1,000 evaluations, and
exits 1 if the resident memory grew by more than the allowance after the warm-up. Not collected
by pytest (its name does not start with ``test_``); test_durable_memory.py runs a shorter version.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from ecei_rules.backends import durable
from ecei_rules.backends._durable_runtime import runtime
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.load import test_assessment as embedded_assessment

WARM_UP = 1000
ALLOWANCE_KIB = 4096


def rss_kib() -> int:
    """The process's resident set size in KiB (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def cases() -> list[tuple[Ruleset, dict[str, Any]]]:
    """Every embedded test assessment and fixture of every shipped version."""
    registry = Registry.shipped()
    out: list[tuple[Ruleset, dict[str, Any]]] = []
    for version in registry.versions("ecei-labels"):
        ruleset = registry.get("ecei-labels", version)
        doc = ruleset.document
        out += [(ruleset, embedded_assessment(doc, i)) for i in range(len(doc.tests))]
        out += [(ruleset, dict(f)) for f in doc.fixtures.values()]
    return out


def measure(evaluations: int, every: int = 1000, echo: bool = True) -> list[tuple[int, int]]:
    """Evaluate ``evaluations`` times; return (evaluations done, VmRSS KiB) samples."""
    work = cases()
    for ruleset, _ in work:
        durable.compile_ruleset(ruleset)
    samples = [(0, rss_kib())]
    started = time.perf_counter()
    for n in range(1, evaluations + 1):
        ruleset, assessment = work[n % len(work)]
        durable.evaluate(ruleset, assessment)
        if n % every == 0:
            samples.append((n, rss_kib()))
            if echo:
                print(f"{n:>7} evaluations  VmRSS {samples[-1][1]:>7} KiB  "
                      f"({(time.perf_counter() - started) / n * 1000:.2f} ms each, open sessions "
                      f"{runtime().open_sessions()})", flush=True)
    return samples


def main() -> int:
    evaluations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    samples = measure(evaluations)
    after_warm_up = [kib for n, kib in samples if n >= WARM_UP]
    growth = after_warm_up[-1] - after_warm_up[0]
    print(f"start {samples[0][1]} KiB; after {WARM_UP} evaluations {after_warm_up[0]} KiB; end {samples[-1][1]} KiB; "
          f"growth after warm-up {growth} KiB (max {max(after_warm_up)} KiB)")
    return 0 if growth <= ALLOWANCE_KIB else 1


if __name__ == "__main__":
    sys.exit(main())
