"""The benchmark harness: ``python benchmarks/run.py [--n 100000] [--quick]``.

Everything is measured in the same run, on the same synthetic population (ecei-labels 3.0.1,
seeded), and reported as throughput, latency and peak memory with ratios to the hand-written
baseline (benchmarks/baseline.py), which is first checked to agree with the engine on every
assessment of the population.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402  (the harness's own module, beside it)

from ecei_rules._canonical import to_json  # noqa: E402
from ecei_rules.engine.evaluate import decide_label, evaluate, validate_assessment  # noqa: E402
from ecei_rules.registry import Registry  # noqa: E402
from ecei_rules.synth import synthesize  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, int]:
    """Seconds of one call (best of two, no tracing) and the peak RSS (bytes) of a forked child
    running it once (the child inherits the population, so its peak includes it)."""
    best = float("inf")
    for _ in range(2):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run once, report the peak resident set size
        os.close(read)
        fn()
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        os.write(write, str(peak_kib).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        peak = int(pipe.read() or 0) * 1024
    os.waitpid(pid, 0)
    return best, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="population size (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="n = 5,000 and skip the slow CLI measurements")
    args = parser.parse_args()
    n = 5_000 if args.quick else args.n

    registry = Registry.shipped()
    ruleset = registry.get("ecei-labels", "3.0.1")
    print(f"population: {n} synthetic assessments under ecei-labels 3.0.1 (seed 2026)")
    raw = list(synthesize(n, seed=2026, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31), registry=registry))
    validated = [validate_assessment(ruleset, a) for a in raw]
    plain = [dict(v.data) for v in validated]

    # correctness first: the baseline and both engine paths agree on every assessment
    for v, p in zip(validated, plain, strict=True):
        expected = baseline.decide(p)
        fast = decide_label(ruleset, v)
        if fast != expected:
            print(f"MISMATCH baseline {expected} engine {fast} for {json.dumps(to_json(p))[:300]}")
            return 1
    for v in validated[:2000]:
        d = evaluate(ruleset, v)
        if (d.label, d.valid_from, d.valid_until) != decide_label(ruleset, v):
            print("MISMATCH between evaluate and decide_label")
            return 1
    labels: dict[str, int] = {}
    for p in plain:
        labels[baseline.decide(p)[0]] = labels.get(baseline.decide(p)[0], 0) + 1
    print(f"baseline agrees with the engine on all {n}; labels: {labels}")

    rows: list[tuple[str, float, float, int]] = []  # name, per second, ratio, peak bytes

    def each(fn: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
        def run() -> None:  # results are dropped as they come: memory is what deciding needs
            for item in items:
                fn(item)
        return run

    base_s, base_peak = timed(each(baseline.decide, plain))
    base_rate = n / base_s
    rows.append(("hand-written baseline (label + validity)", base_rate, 1.0, base_peak))
    s, peak = timed(each(lambda v: decide_label(ruleset, v), validated))
    rows.append(("engine: label-only fast path (validated input)", n / s, (n / s) / base_rate, peak))
    m = min(n, 20_000)
    s, peak = timed(each(lambda v: evaluate(ruleset, v), validated[:m]))
    rows.append(("engine: full explained decisions (validated input)", m / s, (m / s) / base_rate, peak))
    s, peak = timed(each(lambda a: evaluate(ruleset, a), raw[:m]))
    rows.append(("engine: validate + full decision (raw input)", m / s, (m / s) / base_rate, peak))

    latencies = []
    for v in validated[:2000]:
        start = time.perf_counter()
        evaluate(ruleset, v)
        latencies.append(time.perf_counter() - start)
    p50 = statistics.median(latencies) * 1e6
    p99 = sorted(latencies)[int(len(latencies) * 0.99)] * 1e6

    s, peak = timed(lambda: [Registry.shipped().get("ecei-labels", ver) for ver in registry.versions("ecei-labels")])
    load_ms = s * 1000

    from ecei_rules.audit.log import DecisionLog, open_rows
    from ecei_rules.audit.replay import replay, verify

    records = min(n, 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "log.db"
        pin = evaluate(ruleset, validated[0]).resolution
        with DecisionLog(log_path) as log:
            batch = [(evaluate(ruleset, a, resolution=pin), a) for a in raw[:records]]
            for i in range(0, records, 1000):
                log.append_many(batch[i:i + 1000], decided_at="2026-11-26T12:00:00+00:00")
        del batch
        s_verify, peak_verify = timed(lambda: verify(open_rows(log_path)))
        s_replay, peak_replay = timed(lambda: replay(open_rows(log_path), registry))

    cli_ms = None
    if not args.quick:
        example = HERE.parent / "examples" / "gold-2021.json"
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            done = subprocess.run([str(Path(sys.executable).parent / "ecei-rules"), "evaluate", str(example),
                                   "--format", "json"], capture_output=True, check=False)
            if done.returncode != 0 or b'"label"' not in done.stdout:
                raise SystemExit(f"the CLI did not decide the example: {done.stderr.decode()[:300]}")
            runs.append(time.perf_counter() - start)
        cli_ms = min(runs) * 1000

    print()
    print(f"{'measure':55} {'per second':>12} {'x baseline':>10} {'peak MiB':>9}")
    for name, rate, ratio, peak in rows:
        print(f"{name:55} {rate:12,.0f} {ratio:10.3f} {peak / 2**20:9.1f}")
    print(f"{'verify a log (records)':55} {records / s_verify:12,.0f} {'':>10} {peak_verify / 2**20:9.1f}")
    replay_rate = records / s_replay
    print(f"{'replay a log byte for byte (records)':55} {replay_rate:12,.0f} {'':>10} {peak_replay / 2**20:9.1f}")
    print(f"single decision latency: p50 {p50:.0f} us, p99 {p99:.0f} us")
    print(f"load and compile all six shipped versions: {load_ms:.0f} ms")
    if cli_ms is not None:
        print(f"CLI start-up to first decision (best of 3): {cli_ms:.0f} ms")
    print(f"(one process, {os.cpu_count()} cores on this machine; peak MiB is the resident set of a forked child "
          "running the measure once, population included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
