"""The benchmark harness: ``python benchmarks/run.py [--n 100000] [--quick]``.

Everything is measured in the same run, on the same seeded synthetic population (ecei-labels
3.0.1), and reported as throughput, latency and peak memory with ratios to the hand-written
baseline (benchmarks/baseline.py), to plain Python without Decimal (the limit) and to two peers,
datalogic-py (a compiled JSONLogic rule) and GoRules zen-engine (a decision model), all written in
benchmarks/peers.py and each first checked to agree with the engine on every assessment of the
population. Without the peers (pip install -e '.[bench]') their rows and ratios are left out.
The end of the report lists the targets of issues 11, 19, 21 and 23, each with its measured value.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402  (the harness's own module, beside it)
import peers  # noqa: E402  (the harness's own module, beside it)

from ecei_rules.audit import merkle  # noqa: E402
from ecei_rules.audit.checkpoint import Checkpoint, Signer  # noqa: E402
from ecei_rules.audit.log import DecisionLog  # noqa: E402
from ecei_rules.audit.proofs import (  # noqa: E402
    Receipt,
    check_checkpoints,
    check_receipt,
    check_since,
    enable_checkpoints,
    make_receipt,
    read_state,
)
from ecei_rules.core.canonical import to_json  # noqa: E402
from ecei_rules.engine.evaluate import decide_label, decision_text, evaluate, validate_assessment  # noqa: E402
from ecei_rules.engine.evaluator import evaluator  # noqa: E402
from ecei_rules.engine.reference import evaluate_reference  # noqa: E402
from ecei_rules.registry import Registry  # noqa: E402
from ecei_rules.testing.synth import load_profile, synthesize  # noqa: E402

MiB = 2**20
CLI = Path(sys.executable).parent / "ecei-rules"


def clean(report: Any) -> None:
    """End a child that measured a verify or a replay with a failure when it found anything."""
    if not report.ok:
        print(f"the log was not clean: {report.sorted()[0]}", file=sys.stderr)
        os._exit(3)


def in_child(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, int]:
    """Best seconds of ``repeat`` runs of ``fn``, each in a forked child, and the largest peak
    resident set (bytes) of those children. A child starts with this process's memory (the
    population), so its peak includes it; the CLI measures below run in fresh processes."""
    best, peak = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run once, report seconds and peak
            os.close(read)
            start = time.perf_counter()
            fn()
            seconds = time.perf_counter() - start
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            os.write(write, f"{seconds} {peak_kib}".encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            report = pipe.read().split()
        _, status = os.waitpid(pid, 0)
        if status != 0 or len(report) != 2:
            raise SystemExit("a measure failed in its child process")
        best = min(best, float(report[0]))
        peak = max(peak, int(report[1]) * 1024)
    return best, peak


# A small launcher runs the command and reports the largest resident set among the processes it
# waited for (the command and its workers). Measured from the harness itself, a child's peak would
# include the harness's own memory, copied into it by fork before the command starts.
_LAUNCHER = """
import resource, subprocess, sys, time
out = subprocess.DEVNULL if sys.argv[1] == "-" else open(sys.argv[1], "wb")
start = time.perf_counter()
status = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, status)
"""


def compile_package() -> Path:
    """Write the bytecode of the package the CLI runs (the folder ``ecei_rules`` is imported from), as an
    installed wheel has it: with PYTHONDONTWRITEBYTECODE=1 (this environment sets it) and no ``.pyc``
    files, each CLI process would compile the package from source, a cost no installation pays."""
    import ecei_rules

    folder = Path(ecei_rules.__file__).resolve().parent
    if not compileall.compile_dir(str(folder), quiet=1):
        raise SystemExit(f"could not compile the bytecode of {folder}")
    return folder


def command(args: list[str], stdout: Path | None = None) -> tuple[float, int, int]:
    """Seconds, peak resident set (bytes) and exit status of a command in a fresh process (its
    standard output written to ``stdout``, or dropped)."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, "-" if stdout is None else str(stdout), *args],
                          capture_output=True, text=True, check=True)
    seconds, peak, status = done.stdout.split()
    return float(seconds), int(peak), int(status)


# --- the references every figure is a ratio to ----------------------------------------------------

BASELINE = "hand-written baseline (Decimal; label + validity)"
PLAIN = "plain Python, no Decimal (the limit)"
DATALOGIC = "datalogic-py: compiled JSONLogic rule, Session"
ZEN = "zen-engine: decision model, create_decision().evaluate"
COLUMNS = {BASELINE: "x baseline", PLAIN: "x plain", DATALOGIC: "x datalog", ZEN: "x zen"}

#: The peer's side of "CLI --fields label,valid_until against a datalogic-py script": the rule compiled
#: once, each line evaluated from its JSON text as datalogic-py's documentation recommends for data
#: that is already JSON (Rule.evaluate_str), the result written as it comes.
DATALOGIC_SCRIPT = """import sys
from datalogic_py import Engine

rule = Engine(templating=True).compile({rule!r})
evaluate, write = rule.evaluate_str, sys.stdout.write
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        write(evaluate(line) + "\\n")
"""


@dataclass
class Logic:
    """datalogic-py's engine and the rule compiled by it once."""

    engine: Any
    rule: Any

    def evaluate(self, data: Any) -> Any:
        return self.rule.evaluate(data)


def load_peers() -> tuple[Logic | None, Any]:
    """The compiled JSONLogic rule and the zen-engine decision, or None for a peer not installed."""
    logic = zen_decision = None
    try:
        from datalogic_py import Engine
    except ImportError:
        print("(datalogic-py is not installed: its rows are skipped; pip install -e '.[bench]')")
    else:
        engine = Engine()
        logic = Logic(engine, engine.compile(peers.jsonlogic_rule()))
    try:
        import zen
    except ImportError:
        print("(zen-engine is not installed: its rows are skipped; pip install -e '.[bench]')")
    else:
        zen_decision = zen.ZenEngine().create_decision(peers.zen_model())
    return logic, zen_decision


def datalogic_run(logic: Logic, items: list[Any]) -> Callable[[], None]:
    """The hot loop datalogic-py's documentation recommends: one Session, the compiled rule, each item."""
    def run() -> None:
        with logic.engine.session() as session:
            evaluate, rule = session.evaluate, logic.rule
            for item in items:
                evaluate(rule, item)
    return run


def reference_check(logic: Logic | None, zen_decision: Any) -> tuple[dict[str, int],
                                                                     Callable[[Any, Any, str], None]]:
    """The mismatches of plain Python and of each peer installed, by name, and the check that counts
    them for one assessment (the engine's decision, the parsed JSON, its text), printing the first
    three of each."""
    mismatches = dict.fromkeys(["plain Python", "datalogic-py", "zen-engine"], 0)

    def check(d: Any, data: Any, text: str) -> None:
        answer = engine_answer(d)
        found = {"plain Python": peers.plain_decide(data)}
        if logic is not None:
            found["datalogic-py"] = peers.jsonlogic_answer(logic.evaluate(data))
        if zen_decision is not None:
            found["zen-engine"] = peers.zen_answer(zen_decision.evaluate(data))
        for name, got in found.items():
            if got != answer:
                mismatches[name] += 1
                if mismatches[name] <= 3:
                    print(f"MISMATCH {name} {got} engine {answer} for {text[:300]}")

    return mismatches, check


def cli_against_script(folder: Path, batch_file: Path, n: int, logic: Logic | None,
                       batch_rows: list[tuple[str, float, int]]) -> tuple[float, float | None]:
    """The CLI with --fields label,valid_until and the datalogic-py script on the same file, one process
    each (rows added to ``batch_rows``): their rates (the script's None without datalogic-py). Either
    failing, or the two writing different lines, ends the run."""
    fields_out, script_out = folder / "fields.jsonl", folder / "script.jsonl"
    s, peak, status = command([str(CLI), "evaluate", str(batch_file), "--format", "json", "--jobs", "1",
                               "--fields", "label,valid_until"], stdout=fields_out)
    if status != 0:
        raise SystemExit(f"the CLI batch with --fields failed (exit {status})")
    batch_rows.append((f"CLI batch, {n:,} lines, --jobs 1, --fields label,valid_until", n / s, peak))
    cores = os.cpu_count() or 1
    if cores > 1:  # the same on every core (the workers' lines go through the same fast line path)
        every, every_peak, status = command([str(CLI), "evaluate", str(batch_file), "--format", "json", "--jobs",
                                             str(cores), "--fields", "label,valid_until"])
        if status != 0:
            raise SystemExit(f"the CLI batch with --fields on {cores} cores failed (exit {status})")
        batch_rows.append((f"CLI batch, {n:,} lines, --jobs {cores}, --fields label,valid_until", n / every,
                           every_peak))
    if logic is None:
        return n / s, None
    script = folder / "datalogic_script.py"
    script.write_text(DATALOGIC_SCRIPT.format(rule=json.dumps(peers.jsonlogic_label_rule())), encoding="utf-8")
    script_s, peak, status = command([sys.executable, str(script), str(batch_file)], stdout=script_out)
    if status != 0:
        raise SystemExit(f"the datalogic-py script failed (exit {status})")
    batch_rows.append((f"datalogic-py script, {n:,} lines (label, valid_until)", n / script_s, peak))
    differ = sum(a != b for a, b in zip(fields_out.read_text().splitlines(), script_out.read_text().splitlines(),
                                        strict=True))
    print(f"CLI --fields label,valid_until and the datalogic-py script: {differ} lines of {n:,} differ")
    if differ:
        raise SystemExit("the CLI with --fields and the datalogic-py script wrote different lines")
    return n / s, n / script_s


def each(fn: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
    """A run of ``fn`` over the items, the results dropped as they come (memory is what deciding needs)."""
    def run() -> None:
        for item in items:
            fn(item)
    return run


def time_references(plain: list[Any], parsed: list[Any], logic: Logic | None,
                    zen_decision: Any) -> dict[str, tuple[float, int]]:
    """Rate and peak of each reference, by name: the baseline on validated data, plain Python and the
    peers installed on the parsed JSON (zen-engine on at most 5,000)."""
    n = len(parsed)
    runs: dict[str, tuple[Callable[[], None], int]] = {
        BASELINE: (each(baseline.decide, plain), n), PLAIN: (each(peers.plain_decide, parsed), n)}
    if logic is not None:
        runs[DATALOGIC] = (datalogic_run(logic, parsed), n)
    if zen_decision is not None:
        runs[ZEN] = (each(zen_decision.evaluate, parsed[:5_000]), min(n, 5_000))
    rates = {}
    for name, (run, count) in runs.items():
        seconds, peak = in_child(run, repeat=2)
        rates[name] = (count / seconds, peak)
    return rates


def print_rates(rows: list[tuple[str, float, bool, int]], reference: dict[str, tuple[float, int]]) -> None:
    """The table: each row's rate, its ratio to each reference measured (when it has ratios), its peak."""
    against = [(name, rate) for name, (rate, _) in reference.items()]
    print("ratios: x each reference's rate measured in this run (" + "; ".join(
        f"{COLUMNS[name]}: {name}" for name, _ in against) + ")")
    print(f"{'measure':58} {'per second':>12} " + " ".join(f"{COLUMNS[name]:>10}" for name, _ in against)
          + f" {'peak MiB':>9}")
    for name, rate, ratio, peak in rows:
        shown = " ".join(f"{rate / base:10.3f}" if ratio else f"{'':>10}" for _, base in against)
        print(f"{name:58} {rate:12,.0f} {shown} {peak / MiB:9.1f}")
    if DATALOGIC not in reference or ZEN not in reference:
        print("(datalogic-py or zen-engine is not installed: pip install -e '.[bench]' to measure the peers)")


def peer_targets(reference: dict[str, tuple[float, int]], fast_rate: float, full_rate: float,
                 cli_fields_rate: float, script_rate: float | None) -> list[tuple[str, str, bool | None]]:
    """Issue 23's targets, judged against datalogic-py (n/a without it)."""
    if DATALOGIC not in reference or script_rate is None:
        return [("issue 23's targets against datalogic-py", "not installed", None)]
    datalogic_rate = reference[DATALOGIC][0]
    return [
        ("label-only path >= 1.2x datalogic-py (issue 23)", f"{fast_rate / datalogic_rate:.2f}x",
         fast_rate / datalogic_rate >= 1.2),
        ("full explained decision >= 0.5x datalogic-py", f"{full_rate / datalogic_rate:.2f}x",
         full_rate / datalogic_rate >= 0.5),
        ("CLI --fields label,valid_until >= 0.5x a datalogic-py script", f"{cli_fields_rate / script_rate:.2f}x",
         cli_fields_rate / script_rate >= 0.5),
    ]


def engine_answer(d: Any) -> peers.Answer:
    """What the peers answer, read from the engine's decision: label, the Gold score's met weight, its
    criteria met (in its order) and valid_until."""
    (score,) = d.scores
    outcomes = {c.id: c.outcome for c in d.criteria}
    return (d.label, int(score.met_weight), tuple(c for c in score.weights if outcomes[c] == "met"),
            None if d.valid_until is None else d.valid_until.isoformat())


@dataclass
class ProofMeasures:
    """Signed checkpoints, receipts and consistency proofs on the harness's log (issue 19)."""

    appended: int = 0
    plain_rate: float = 0.0
    signed_rate: float = 0.0
    receipts: int = 0
    make_ms: float = 0.0
    check_ms: float = 0.0
    proof_length: int = 0
    m: int = 0
    prove_ms: float = 0.0
    consistency_length: int = 0
    consistency_verify_us: float = 0.0
    since_s: float = 0.0
    checkpoints: int = 0
    key_s: float = 0.0


def measure_proofs(folder: Path, log_path: Path, log_records: int, signer: Signer,
                   pairs: list[tuple[Any, Any]]) -> ProofMeasures:
    """Appends with and without a key (one record per transaction, as 'record' appends, into two fresh
    logs, taking turns), receipts made and checked on the signed log, the consistency
    proof from its first 1,000 records and verify --key's checkpoint checks."""
    out = ProofMeasures(appended=len(pairs))
    at = "2026-11-26T12:00:00+00:00"

    # the two kinds of append take turns in blocks of 50, so a slow moment of the disk (every append
    # waits for an fsync) weighs on both alike
    seconds = {False: 0.0, True: 0.0}
    with DecisionLog(folder / "plain.db") as plain, DecisionLog(folder / "signed.db") as signed:
        enable_checkpoints(signed, signer)
        for block in range(0, len(pairs), 50):
            for log, key in ((plain, False), (signed, True)) if block % 100 else ((signed, True), (plain, False)):
                start = time.perf_counter()
                for pair in pairs[block:block + 50]:
                    log.append_many([pair], decided_at=at)
                seconds[key] += time.perf_counter() - start
    out.plain_rate, out.signed_rate = len(pairs) / seconds[False], len(pairs) / seconds[True]

    seqs = sorted(random.Random(7).sample(range(1, log_records + 1), min(10, log_records)))
    start = time.perf_counter()
    receipts = [json.dumps(make_receipt(log_path, seq)) for seq in seqs]
    out.make_ms = (time.perf_counter() - start) / len(seqs) * 1000
    out.receipts = len(receipts)
    out.proof_length = len(json.loads(receipts[-1])["inclusion_proof"])
    checks, start = 0, time.perf_counter()
    for _ in range(20):
        for text in receipts:  # as check-receipt does it: parse the file's text, then check
            if check_receipt(Receipt.from_json(json.loads(text)), signer.public_key) is not None:
                raise SystemExit("a receipt of the harness's log did not check")
            checks += 1
    out.check_ms = (time.perf_counter() - start) / checks * 1000

    state = read_state(log_path)
    leaves = state.leaves()
    out.m = min(1000, log_records)
    start = time.perf_counter()
    proof = merkle.consistency_proof(out.m, leaves)
    out.prove_ms = (time.perf_counter() - start) * 1000
    out.consistency_length = len(proof)
    first, second = merkle.root(leaves[:out.m]), merkle.root(leaves)
    start = time.perf_counter()
    if not merkle.verify_consistency(out.m, len(leaves), first, second, proof):
        raise SystemExit("the consistency proof of the harness's log did not verify")
    out.consistency_verify_us = (time.perf_counter() - start) * 1e6
    kept = next(Checkpoint.from_json(json.loads(body)) for size, body in state.checkpoints if size >= out.m)
    start = time.perf_counter()
    if check_since(read_state(log_path), kept, signer.public_key):
        raise SystemExit("verify --since found something in the harness's log")
    out.since_s = time.perf_counter() - start
    start = time.perf_counter()
    if check_checkpoints(read_state(log_path), signer.public_key):
        raise SystemExit("verify --key found something in the harness's log")
    out.key_s = time.perf_counter() - start
    out.checkpoints = len(state.checkpoints)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="population size (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="5,000 assessments, for a first look (about a minute)")
    parser.add_argument("--log-records", type=int, default=None, help="records in the log to verify and replay "
                        "(default: the population size; 100,000 records take about 3.5 GB of disk)")
    parser.add_argument("--no-durable", action="store_true", help="skip the durable-rules backend")
    args = parser.parse_args()
    n = 5_000 if args.quick else args.n
    log_records = args.log_records if args.log_records is not None else n
    cores = os.cpu_count() or 1

    registry = Registry.shipped()
    ruleset = registry.get("ecei-labels", "3.0.1")
    started = time.perf_counter()
    print(f"population: {n:,} synthetic assessments under ecei-labels 3.0.1 (seed 2026); {cores} cores")
    profile = load_profile(HERE.parent / "examples" / "synth" / "ecei-labels.yaml")  # names, countries, histories
    raw = list(synthesize(n, seed=2026, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31), registry=registry,
                          profile=profile))
    validated = [validate_assessment(ruleset, a) for a in raw]
    plain = [dict(v.data) for v in validated]
    # the population is the harness's, not the engine's: keep the garbage collector from walking
    # it again and again while the measures allocate (a streaming process never holds it)
    gc.collect()
    gc.freeze()

    # the peers read what a JSON Lines file holds: each assessment's JSON text, parsed by json.loads
    texts = [json.dumps(to_json(a)) for a in raw]
    parsed = [json.loads(t) for t in texts]
    logic, zen_decision = load_peers()

    # correctness first: the baseline, the fast path and the full decision agree on every assessment,
    # and so do the plain Python and the peers on label, met weight, met list and valid_until
    labels: dict[str, int] = {}
    mismatches, peer_check = reference_check(logic, zen_decision)
    for v, p, text, data in zip(validated, plain, texts, parsed, strict=True):
        expected = baseline.decide(p)
        labels[expected[0]] = labels.get(expected[0], 0) + 1
        if decide_label(ruleset, v) != expected:
            print(f"MISMATCH baseline {expected} engine {decide_label(ruleset, v)} for {json.dumps(to_json(p))[:300]}")
            return 1
        d = evaluate(ruleset, v)
        if (d.label, d.valid_from, d.valid_until) != expected:
            print(f"MISMATCH baseline {expected} evaluate {d.label} for {json.dumps(to_json(p))[:300]}")
            return 1
        peer_check(d, data, text)
    if any(mismatches.values()):
        print(f"the peers disagree with the engine: {mismatches}")
        return 1
    for v in validated[:1000]:
        if evaluate(ruleset, v) != evaluate_reference(ruleset, v):
            print("MISMATCH between evaluate and the reference evaluator")
            return 1
    print(f"the baseline and the engine agree on all {n:,}; labels: {labels}")
    checked = ["plain Python"] + [name for name, peer in (("datalogic-py", logic), ("zen-engine", zen_decision))
                                  if peer is not None]
    print(f"label, met weight, met list and valid_until agree with the engine's decisions on all {n:,}: "
          + ", ".join(f"{name} {mismatches[name]} mismatches" for name in checked))

    rows: list[tuple[str, float, bool, int]] = []  # name, per second, whether ratios are shown, peak bytes

    def measure(name: str, fn: Callable[[Any], Any], items: list[Any], *, ratio: bool = True) -> float:
        seconds, peak = in_child(each(fn, items), repeat=2)
        rate = len(items) / seconds
        rows.append((name, rate, ratio, peak))
        return rate

    # the references (the baseline, plain Python, the peers) are timed before and after the engine's
    # rows, and the best of each is the reference, so a busy moment of the machine does not flatter
    # the engine
    def references() -> dict[str, tuple[float, int]]:
        return time_references(plain, parsed, logic, zen_decision)

    reference = references()
    fast_rate = measure("engine: label-only fast path", lambda v: decide_label(ruleset, v), validated)
    full_rate = measure("engine: full explained decision", lambda v: evaluate(ruleset, v), validated)
    measure("engine: full decision + list of met criteria",
            lambda v: [c.id for c in evaluate(ruleset, v).criteria if c.outcome == "met"], validated)
    for name, (rate, peak) in references().items():
        if rate > reference[name][0]:
            reference[name] = (rate, max(peak, reference[name][1]))
    base_rate = reference[BASELINE][0]
    rows[:0] = [(name, rate, True, peak) for name, (rate, peak) in reference.items()]
    measure("engine: validate raw input + full decision", lambda a: evaluate(ruleset, a), raw)
    measure("engine: full decision as canonical JSON", lambda v: evaluate(ruleset, v).canonical_text(), validated)
    # each run starts in a fresh child with nothing remembered: the rate includes warming up
    measure("engine: raw input to canonical JSON in one pass", lambda a: decision_text(ruleset, a), raw)
    m = min(n, 5_000)
    measure("reference evaluator (unoptimised, same semantics)", lambda v: evaluate_reference(ruleset, v),
            validated[:m])
    if not args.no_durable:
        from ecei_rules.backends import durable

        if durable.available():
            plan = durable.compile_ruleset(ruleset)
            measure("durable-rules backend (full decision)", lambda p: durable.evaluate(ruleset, p, plan=plan),
                    plain[:min(n, 2_000)])
        else:
            print("(durable-rules is not installed: pip install -e '.[durable]' to measure it)")

    latencies = []
    for v in validated[:2000]:
        start = time.perf_counter()
        evaluate(ruleset, v)
        latencies.append(time.perf_counter() - start)
    p50 = statistics.median(latencies) * 1e6
    p99 = sorted(latencies)[int(len(latencies) * 0.99)] * 1e6
    # decide(data) as the README shows it: raw data, the shipped rulesets, the version in force
    from ecei_rules.batch import decide

    decide_latencies = []
    for a in raw[:500]:
        start = time.perf_counter()
        decide(a)
        decide_latencies.append(time.perf_counter() - start)
    decide_p50 = statistics.median(decide_latencies) * 1e6

    def load_all() -> None:
        fresh = Registry(Registry.shipped().root)  # cold: a registry of its own reads, parses and compiles every file
        for ver in fresh.versions("ecei-labels"):
            evaluator(fresh.get("ecei-labels", ver))  # compiled for evaluate too

    load_s, load_peak = in_child(load_all, repeat=3)

    from ecei_rules.audit.log import open_rows
    from ecei_rules.audit.replay import replay, verify

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # batch: the CLI streams a JSON Lines file, in one process and over every core
        batch_file = folder / "population.jsonl"
        with batch_file.open("w") as handle:
            for a in raw:
                handle.write(json.dumps(to_json(a)) + "\n")
        compiled = compile_package()
        print(f"CLI rows: run with the bytecode of {compiled} compiled first (as an installed wheel has it)")
        batch_rows = []
        for jobs in sorted({1, cores}):
            s, peak, status = command([str(CLI), "evaluate", str(batch_file), "--format", "json", "--jobs", str(jobs)])
            if status != 0:
                raise SystemExit(f"the CLI batch failed (exit {status})")
            batch_rows.append((f"CLI batch, {n:,} lines, --jobs {jobs} (JSON out)", n / s, peak))
        # label and validity only: the CLI with --fields against a datalogic-py script doing the same
        # work (read JSON Lines, decide, write one JSON object a line), one process each; the two must
        # write the same bytes
        cli_fields_rate, script_rate = cli_against_script(folder, batch_file, n, logic, batch_rows)

        startup = []
        example = HERE.parent / "examples" / "gold-2021.json"
        for _ in range(3):
            s, peak, status = command([str(CLI), "evaluate", str(example), "--format", "json"])
            if status != 0:
                raise SystemExit("the CLI did not decide the example")
            startup.append((s, peak))
        cli_s, cli_peak = min(startup)

        # impact across two versions of a population that carries both versions' inputs, streamed
        # from a file, on every core
        old, new = registry.get("ecei-labels", "2.0.0"), registry.get("ecei-labels", "3.0.1")
        impact_file = folder / "impact.jsonl"
        with impact_file.open("w") as handle:
            for a in synthesize(n, seed=2027, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31),
                                registry=registry, versions=(old, new), profile=profile):
                handle.write(json.dumps(to_json(a)) + "\n")
        impact_s, impact_peak, status = command([str(CLI), "impact", "--from", str(old.path), "--to", str(new.path),
                                                 "--format", "json", str(impact_file)])
        if status not in (0, 1):
            raise SystemExit(f"the CLI impact failed (exit {status})")

        # a log of decisions, then verify and replay it
        log_path = folder / "log.db"
        pin = evaluate(ruleset, validated[0]).resolution
        signer = Signer.generate()
        start = time.perf_counter()
        with DecisionLog(log_path) as log:
            enable_checkpoints(log, signer)  # a signed checkpoint in each 1,000-record transaction
            for i in range(0, log_records, 1000):
                chunk = [raw[j % n] for j in range(i, min(i + 1000, log_records))]
                log.append_many([(evaluate(ruleset, a, resolution=pin), a) for a in chunk],
                                decided_at="2026-11-26T12:00:00+00:00")
        write_rate = log_records / (time.perf_counter() - start)
        log_mib = log_path.stat().st_size / MiB
        verify_s, verify_peak = in_child(lambda: clean(verify(open_rows(log_path))))
        replay_s, replay_peak = in_child(lambda: clean(replay(open_rows(log_path), registry)))
        proofs = measure_proofs(folder, log_path, log_records, signer,
                                [(evaluate(ruleset, raw[j % n], resolution=pin), raw[j % n])
                                 for j in range(min(log_records, 2_000))])

    # the one-pass writer was timed in children only (so every child started cold): check it here
    for a in raw[:2000]:
        if decision_text(ruleset, a) != evaluate(ruleset, a).canonical_text():
            print("MISMATCH between decision_text and the decision's canonical text")
            return 1

    print()
    print_rates([*rows, *((name, rate, True, peak) for name, rate, peak in batch_rows)], reference)
    print(f"{f'write a log ({log_records:,} records, {log_mib:,.0f} MiB)':52} {write_rate:12,.0f}")
    print(f"{'verify the log (records)':52} {log_records / verify_s:12,.0f} {'':>10} {verify_peak / MiB:9.1f}")
    print(f"{'replay the log byte for byte, one core (records)':52} {log_records / replay_s:12,.0f} {'':>10} "
          f"{replay_peak / MiB:9.1f}")
    print(f"{f'CLI impact 2.0.0 -> 3.0.1 of {n:,}, every core':52} {n / impact_s:12,.0f} {'':>10} "
          f"{impact_peak / MiB:9.1f}")
    print(f"{f'append, 1 record per transaction ({proofs.appended:,}), no key':52} {proofs.plain_rate:12,.0f}")
    print(f"{'append, 1 record per transaction, signed checkpoints':52} {proofs.signed_rate:12,.0f} "
          f"{proofs.signed_rate / proofs.plain_rate:10.3f}  (x the appends without a key)")
    print()
    print(f"single decision latency (full, validated input): p50 {p50:.0f} us, p99 {p99:.0f} us")
    print(f"decide(data) on the shipped rulesets (raw input, version in force): p50 {decide_p50:.0f} us")
    print(f"load and compile all six shipped versions: {load_s * 1000:.0f} ms (peak {load_peak / MiB:.0f} MiB)")
    print(f"CLI start-up to first decision (best of 3): {cli_s * 1000:.0f} ms (peak {cli_peak / MiB:.0f} MiB)")
    print(f"impact of {n:,} assessments across two versions on {cores} cores (CLI, start-up included): "
          f"{impact_s:.1f} s")
    print("peak MiB: in-process measures run in a forked child that starts with the population in memory; "
          "the CLI rows are fresh processes (the peak is the largest of the process and its workers); "
          "verify and replay read the log through a memory map, whose pages (the file's, up to 2 GiB) "
          "count in their peak")

    print(f"make a receipt from the {log_records:,}-record log (CLI 'receipt', file read included): "
          f"{proofs.make_ms:.0f} ms each ({proofs.receipts} receipts)")
    print(f"check a receipt offline (record hash, {proofs.proof_length}-hash inclusion proof, Ed25519 signature): "
          f"{proofs.check_ms:.2f} ms each")
    print(f"consistency proof {proofs.m:,} -> {log_records:,}: made in {proofs.prove_ms:.0f} ms from the stored hashes "
          f"({proofs.consistency_length} hashes), verified in {proofs.consistency_verify_us:.0f} us; "
          f"verify --since (read, root at {proofs.m:,}, proof): {proofs.since_s:.2f} s")
    print(f"verify --key: {proofs.checkpoints} checkpoint(s) signed and equal to the log's roots, "
          f"{proofs.key_s:.2f} s (beside the chain check)")

    full_size = n == 100_000
    batch_peak = max(peak for _, _, peak in batch_rows)
    print()
    print("targets (issues 11, 19, 21 and 23)")
    targets = [
        ("label-only fast path >= 0.5x baseline", f"{fast_rate / base_rate:.2f}x", fast_rate / base_rate >= 0.5),
        ("full explained decisions >= 0.2x baseline", f"{full_rate / base_rate:.2f}x", full_rate / base_rate >= 0.2),
        # judged on the 100,000-record log: the first ten thousand records cost more (tables fill)
        ("decide(data) on the shipped rulesets: p50 < 2 ms", f"{decide_p50 / 1000:.2f} ms", decide_p50 < 2000),
        ("replay >= 10,000 records/s per core", f"{log_records / replay_s:,.0f}/s for {log_records:,}",
         log_records / replay_s >= 10_000 if log_records >= 100_000 else None),
        ("append with signed checkpoints >= 0.80x without", f"{proofs.signed_rate / proofs.plain_rate:.2f}x",
         proofs.signed_rate / proofs.plain_rate >= 0.8),
        ("receipt check < 10 ms on the 100,000-record log", f"{proofs.check_ms:.2f} ms for {log_records:,}",
         proofs.check_ms < 10 if log_records >= 100_000 else None),
        ("impact of 100,000 across two versions < 20 s on 2 cores",
         f"{impact_s:.1f} s for {n:,}", impact_s < 20 if full_size else None),
        ("peak memory of a 100,000-assessment batch < 300 MB (streamed)",
         f"{batch_peak / 1e6:.0f} MB for {n:,}", batch_peak < 300e6 if full_size else None),
    ]
    targets += peer_targets(reference, fast_rate, full_rate, cli_fields_rate, script_rate)
    for name, value, met in targets:
        verdict = "met " if met else ("GAP " if met is not None else "n/a ")
        print(f"  {verdict} {name:62} {value}")
    if not full_size or log_records < 100_000:
        print("  (n/a: judged at 100,000 assessments and a 100,000-record log only; run without --quick)")
    print(f"(the whole run took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
