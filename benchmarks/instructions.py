"""The command line and the datalogic-py script counted in instructions, which do not move with the load.

``python benchmarks/instructions.py [--n 20000]`` (needs valgrind; a few minutes): synthesizes ``n`` assessments
under ecei-labels 3.0.1 (the harness's seed and profile, ``benchmarks/run.py``), writes them as JSON Lines, and
runs each of ``ecei-rules evaluate FILE --format json --jobs 1 --fields label,valid_until`` and the harness's
datalogic-py script under callgrind twice, on the first line alone and on all ``n``; it prints each one's
start-up (the one-line run) and its instructions a line (the difference over ``n - 1``), and what 100,000 lines
would cost each, as the ratio the issue's target is written in. A shared machine's wall-clock rounds move by
10 % from one minute to the next; these counts move by well under 1 % (docs/performance.md, session 14).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ecei_rules.core.canonical import to_json
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import load_profile, synthesize

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import peers  # noqa: E402
from run import CLI, DATALOGIC_SCRIPT  # noqa: E402


def collected(command: list[str]) -> int:
    """The instructions callgrind counts over the whole process of ``command`` (its output dropped)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    found = re.search(rb"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind said nothing countable for {command[0]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="lines counted (default 20,000)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt install valgrind)")
    registry = Registry.shipped()
    profile = load_profile(HERE.parent / "examples" / "synth" / "ecei-labels.yaml")
    raw = synthesize(args.n, seed=2026, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31), registry=registry,
                     profile=profile)
    with tempfile.TemporaryDirectory(prefix="ecei-instructions-") as name:
        folder = Path(name)
        lines = [json.dumps(to_json(a)) + "\n" for a in raw]
        one, many = folder / "one.jsonl", folder / "many.jsonl"
        one.write_text(lines[0], encoding="utf-8")
        many.write_text("".join(lines), encoding="utf-8")
        script = folder / "datalogic_script.py"
        script.write_text(DATALOGIC_SCRIPT.format(rule=json.dumps(peers.jsonlogic_label_rule())), encoding="utf-8")
        costs = {}
        for who, command in (("the command line", [str(CLI), "evaluate", "{}", "--format", "json", "--jobs", "1",
                                                   "--fields", "label,valid_until"]),
                             ("the datalogic-py script", [sys.executable, str(script), "{}"])):
            start = collected([a.replace("{}", str(one)) for a in command])
            whole = collected([a.replace("{}", str(many)) for a in command])
            per_line = (whole - start) / (args.n - 1)
            costs[who] = (start, per_line)
            print(f"{who}: start-up {start / 1e6:,.0f} M instructions, {per_line:,.0f} a line")
    cli, script_cost = (s + 100_000 * p for s, p in costs.values())
    print(f"100,000 lines: the command line {cli / 1e9:.2f} G, the script {script_cost / 1e9:.2f} G: "
          f"{script_cost / cli:.3f}x in instructions (the target, 0.5x, is written in time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
