"""Run each hostile input of issues 12 and 20 once, each in its own child process, and print a table.

Usage: ``python scripts/hostile_table.py`` (from the project root, in its virtual environment).

Every row is one child process: it builds the input (in a temporary directory), runs the
reader on it, and reports the diagnostic codes, the seconds the reader took (wall clock, and
the CPU seconds of the child, which a loaded machine does not inflate) and the child's peak
resident memory (``ru_maxrss``, which includes the interpreter and the input itself). A row
over 20 CPU seconds or 1 GB is marked OVER LIMIT and makes the script exit 1.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "tests" / "data" / "minimal.yaml"
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"
WHEN = "    when: score >= params.min_score\n"
BASE = '{"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15"'


def _ruleset_text(tmp: Path, text: str | bytes) -> list[str]:
    from ecei_rules.ruleset.load import check_ruleset

    path = tmp / "hostile.yaml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return _codes(check_ruleset(path))


def _codes(diags: Any) -> list[str]:
    out = []
    for d in diags:
        if getattr(d, "severity", "error") != "error":
            continue
        where = f"@{d.line}:{d.column}" if d.line is not None else ""
        where += f" {d.pointer}" if d.pointer else ""
        out.append(f"{d.code}{where}")
    return out


def _condition(tmp: Path, condition: str) -> list[str]:
    text = MINIMAL.read_text(encoding="utf-8").replace(WHEN, f"    when: {json.dumps(condition)}\n")
    return _ruleset_text(tmp, text)


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(8):
        lines.append(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _huge_file(tmp: Path) -> list[str]:
    from ecei_rules.ruleset.load import check_ruleset

    path = tmp / "huge.yaml"
    chunk = ("key_%07d: " + "x" * 80 + "\n").encode()
    with path.open("wb") as handle:
        for i in range(50 * 1024 * 1024 // len(chunk % 0) + 1):
            handle.write(chunk % i)
    start = time.perf_counter()
    cpu = time.process_time()
    codes = _codes(check_ruleset(path))
    _STATE["start"] = start  # time only the check, not the writing
    _STATE["cpu"] = cpu
    return codes


def _json(text: str) -> list[str]:
    from ecei_rules import check_assessment, load_ruleset
    from ecei_rules.batch import parse_json
    from ecei_rules.errors import AssessmentError

    ruleset = load_ruleset(EVERY)
    start = time.perf_counter()
    cpu = time.process_time()
    try:
        data = parse_json(text)
    except AssessmentError as exc:
        _STATE["start"] = start
        _STATE["cpu"] = cpu
        return _codes(exc.diagnostics)
    codes = _codes(check_assessment(ruleset, data))
    _STATE["start"] = start
    _STATE["cpu"] = cpu
    return codes or ["accepted"]


def _big_batch(tmp: Path) -> list[str]:
    from ecei_rules import load_ruleset
    from ecei_rules.batch import decide_many, fixed_resolver, read_assessments

    line = json.dumps({"org": {"id": "T" * 4000, "country": "DE"}, "assessed_on": "2021-03-15",
                       "areas": [{"kpi": "k1", "validated": True}] * 10}) + "\n"
    bad = {1000: '{"org": NaN}\n', 2500: "[" * 20_000 + "\n", 4000: b'{"org": "\xff"}\n'.decode("latin-1")}
    path = tmp / "big.jsonl"
    count = 20 * 1024 * 1024 // len(line)
    with path.open("w", encoding="latin-1") as handle:
        for number in range(1, count + 1):
            handle.write(bad.get(number, line))
    ruleset = load_ruleset(EVERY)
    _STATE["rss0"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _STATE["start"] = time.perf_counter()
    _STATE["cpu"] = time.process_time()
    decided, errors = 0, []
    for outcome in decide_many(read_assessments(path), fixed_resolver(ruleset)):
        if outcome.error is None:
            decided += 1
        else:
            errors.append(f"{outcome.to_json()['error']['code']}@line {outcome.index}")
    return [f"{decided}/{count} decided", *errors]


def _linked(tmp: Path, name: str, target: str) -> Path:
    path = tmp / name
    path.symlink_to(target)
    return path


def _fifo(tmp: Path, name: str) -> Path:
    path = tmp / name
    os.mkfifo(path)
    return path


def _sparse(tmp: Path, name: str) -> Path:
    path = tmp / name
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 ** 3)
    return path


def _ruleset_file(path: Path) -> list[str]:
    from ecei_rules.ruleset.load import check_ruleset

    return [f"{c} ({m})" for c, m in zip(_codes(check_ruleset(path)), _messages(check_ruleset(path)), strict=False)]


def _messages(diags: Any) -> list[str]:
    return [d.message[:40] for d in diags if getattr(d, "severity", "error") == "error"]


def _extends(tmp: Path, target: str, link: str | None = None) -> list[str]:
    from ecei_rules.ruleset.load import check_ruleset

    folder = tmp / "rulesets" / "minimal"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(MINIMAL.read_text(encoding="utf-8"), encoding="utf-8")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("secret_key: hunter2\n", encoding="utf-8")
    (outside / "1.0.0.yaml").write_text(MINIMAL.read_text(encoding="utf-8"), encoding="utf-8")
    if link is not None:
        (folder / "0.9.0.yaml").symlink_to(tmp / link)
    version = folder / "1.1.0.yaml"
    version.write_text(f"extends: {json.dumps(target)}\nversion: 1.1.0\n", encoding="utf-8")
    diags = [d for d in check_ruleset(version) if d.code == "E109"]
    leaked = any("hunter2" in d.message for d in check_ruleset(version))
    return _codes(diags) + (["LEAKED the other file"] if leaked else [])


def _lock(tmp: Path) -> list[str]:
    from ecei_rules.registry import Registry

    folder = tmp / "minimal"
    folder.mkdir()
    (folder / "1.0.0.yaml").write_text(MINIMAL.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "published.lock.json").symlink_to("/dev/zero")
    return _codes(Registry(tmp).check_locks("minimal"))


def _assessment_file(path: Path) -> list[str]:
    from ecei_rules.batch import read_assessments

    out = []
    for item in read_assessments(path):
        if item.error is None:
            out.append("accepted")
        else:
            out += [f"{c} ({d.message[:40]})" for c, d in zip(_codes(item.error.diagnostics),
                                                               item.error.diagnostics, strict=False)]
    return out


def _yaml_integer(tmp: Path, value: str) -> list[str]:
    gold = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
    path = tmp / "a.yaml"
    path.write_text(json.dumps(gold).replace('"success_stories": 8', f'"success_stories": {value}'), encoding="utf-8")
    return _assessment_file(path)


def _areas_batch(tmp: Path) -> list[str]:
    """The issue's example: 40 batch lines with 100,000 improvement areas each (1.2.0)."""
    from ecei_rules.batch import ResolverSpec, decide_lines, read_assessments
    from ecei_rules.engine.evaluator import evaluator
    from ecei_rules.registry import Registry

    ruleset = Registry.shipped().get("ecei-labels", "1.2.0")
    base = json.loads(json.dumps(ruleset.document.fixtures["silver"],
                                 default=lambda v: float(v) if isinstance(v, Decimal) else str(v)))
    indicators = ["2.5", "4.1.6", "4.6.1", "3.2", "4.1.1", "2.1"]
    path = tmp / "areas.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(40):
            areas = [{"indicator": indicators[(i + j) % 6], "validated": (j * 7 + i) % 41 != 0}
                     for j in range(100_000)]
            handle.write(json.dumps({**base, "improvement_areas": areas}) + "\n")
    _STATE["rss0"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _STATE["start"] = time.perf_counter()
    _STATE["cpu"] = time.process_time()
    lines = list(decide_lines(read_assessments(path, raw=True), ResolverSpec(version="1.2.0"), jobs=1))
    memo = evaluator(ruleset).text_plan.memo_bytes if hasattr(evaluator(ruleset).text_plan, "memo_bytes") else None
    refused = sorted({json.loads(text)["error"]["code"] for text, failed in lines if failed})
    return [f"{sum(not failed for _, failed in lines)}/40 decided", *(f"refused {c}" for c in refused),
            f"memo tables {memo} bytes"]


def _areas_allowed(tmp: Path) -> list[str]:
    """The same 40 lines of 100,000 areas under a version that allows them (every-construct, max_items
    100,000): decided, and nothing of them remembered."""
    from ecei_rules.batch import ResolverSpec, decide_lines, read_assessments
    from ecei_rules.engine.evaluator import evaluator
    from ecei_rules.ruleset.load import load_ruleset

    ruleset_path = tmp / "every.yaml"
    ruleset_path.write_text(EVERY.read_text(encoding="utf-8").replace(
        "  areas:\n    type: list\n", "  areas:\n    type: list\n    max_items: 100000\n"), encoding="utf-8")
    path = tmp / "areas.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(40):
            areas = [{"kpi": ("k1", "k2", "k3")[(i + j) % 3], "validated": (j * 7 + i) % 41 != 0}
                     for j in range(100_000)]
            handle.write(json.dumps({"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15",
                                     "areas": areas}) + "\n")
    ruleset = load_ruleset(ruleset_path)
    _STATE["rss0"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _STATE["start"] = time.perf_counter()
    _STATE["cpu"] = time.process_time()
    lines = list(decide_lines(read_assessments(path, raw=True), ResolverSpec(ruleset_file=str(ruleset_path)),
                              jobs=1, resolve=fixed_resolver_of(ruleset)))
    memo = evaluator(ruleset).text_plan.memo_bytes
    return [f"{sum(not failed for _, failed in lines)}/40 decided", f"memo tables {memo} bytes"]


def fixed_resolver_of(ruleset: Any) -> Any:
    from ecei_rules.batch import fixed_resolver

    return fixed_resolver(ruleset)


def _workers_for(requested: int) -> list[str]:
    from ecei_rules.core.workers import worker_count

    workers, note = worker_count(requested)
    return [f"{workers} worker(s)" + (f": {note}" if note else "")]


def _costly(condition: str, areas: str = "") -> str:
    """The every-construct ruleset with criterion K3 replaced by ``condition`` (``areas``: extra
    keys of the list's declaration, e.g. ``max_items: 2000``)."""
    text = EVERY.read_text(encoding="utf-8").replace('    when: kpi["k3"]\n', f"    when: {json.dumps(condition)}\n")
    return text.replace("  areas:\n    type: list\n", f"  areas:\n    type: list\n    {areas}\n" if areas else
                        "  areas:\n    type: list\n")


def _pattern(pattern: str, test_value: str | None = None) -> str:
    text = EVERY.read_text(encoding="utf-8").replace('pattern: "[A-Z]{2}"', f"pattern: {json.dumps(pattern)}")
    if test_value is not None:
        text = text.replace("org: {id: T1, country: DE}", f"org: {{id: T1, country: {json.dumps(test_value)}}}")
    return text


def _evaluate(text: str, data: dict[str, Any]) -> list[str]:
    from ecei_rules.ruleset.load import load_ruleset_text

    return _timed_decision(load_ruleset_text(text), data, lambda d: f"decided: {d.label}")


def _timed_decision(ruleset: Any, data: dict[str, Any], say: Callable[[Any], str]) -> list[str]:
    """Decide ``data`` with the clocks started just before (the row times the decision alone)."""
    from ecei_rules import evaluate
    from ecei_rules.errors import AssessmentError

    _STATE["start"] = time.perf_counter()
    _STATE["cpu"] = time.process_time()
    try:
        decision = evaluate(ruleset, data)
    except AssessmentError as exc:
        return _codes(exc.diagnostics)
    return [say(decision)]


def _shipped_date(day: str) -> list[str]:
    from ecei_rules import load_ruleset

    ruleset = load_ruleset(ROOT / "rulesets" / "ecei-labels" / "3.0.1.yaml")
    data = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
    data.update(assessed_on=day, history=[])
    return _timed_decision(ruleset, data, lambda d: f"decided: {d.label}, valid until {d.valid_until}")


def _wide(criteria: int, width: int, inputs: int) -> str:
    lines = ["methodology: wide", "version: 1.0.0", "title: Wide", "status: draft", "effective_from: 2020-01-01",
             "inputs:", "  assessed_on: {type: date, required: true}"]
    lines += [f"  x{i}: {{type: integer}}" for i in range(inputs)]
    lines.append("criteria:")
    for c in range(criteria):
        parts = [f"x{(c * width + j) % inputs} >= {j}" for j in range(width)]
        lines += [f"  c{c}:", f"    title: C{c}", f"    when: {json.dumps(' and '.join(parts))}"]
    lines += ["labels: [basic]", "tiers:", "  basic:", "    title: Basic",
              "    requires: [" + ", ".join(f"c{c}" for c in range(criteria)) + "]",
              "validity:", "  valid_from: assessed_on", "  rules:",
              '    - {id: always, title: Two years, labels: [basic], valid_until: "month_end(assessed_on, 24)"}']
    return "\n".join(lines) + "\n"


def _durable(criteria: int, width: int, inputs: int) -> list[str]:
    from ecei_rules.backends import durable
    from ecei_rules.ruleset.load import load_ruleset_text

    ruleset = load_ruleset_text(_wide(criteria, width, inputs))
    data = {"assessed_on": "2021-01-01", **{f"x{i}": 100 for i in range(inputs)}}
    _STATE["start"] = time.perf_counter()
    _STATE["cpu"] = time.process_time()
    try:
        decision = durable.evaluate(ruleset, data)
    except durable.DurableError as exc:
        return [f"{type(exc).__name__}: {str(exc)[:70]}"]
    return [f"decided: {decision.label} ({len(durable.compile_ruleset(ruleset).rules)} durable rules)"]


AREA = {"kpi": "k1", "validated": False}
NEAR_MISS = {"org": {"id": "T1", "country": "a" * 9_999 + "!"}, "assessed_on": "2021-03-15"}
THREE_ANY = ("any(any(any(a.validated and b.validated and c.validated for c in areas) for b in areas) "
             "for a in areas)")

CASES: dict[str, Callable[[Path], list[str]]] = {
    "ruleset: billion laughs (alias bomb)": lambda t: _ruleset_text(t, _billion_laughs()),
    "ruleset: 50 MB file": _huge_file,
    "ruleset: 10,000-deep flow nesting `[[[[`": lambda t: _ruleset_text(t, "[" * 10_000 + "]" * 10_000),
    "ruleset: 10,000-deep block nesting `- - - -`": lambda t: _ruleset_text(t, "- " * 10_000 + "x\n"),
    "ruleset: 600,000 values in one list": lambda t: _ruleset_text(t, "[" + "1," * 600_000 + "1]"),
    "ruleset: duplicate key": lambda t: _ruleset_text(
        t, MINIMAL.read_text(encoding="utf-8").replace("title: Minimal\n", "title: Minimal\ntitle: Other\n")),
    "ruleset: invalid UTF-8": lambda t: _ruleset_text(t, b"methodology: m\ntitle: caf\xe9\n"),
    "ruleset: tab indentation": lambda t: _ruleset_text(
        t, MINIMAL.read_text(encoding="utf-8").replace("  score:", "\tscore:")),
    "ruleset: `!!python/object/apply:os.system`": lambda t: _ruleset_text(
        t, "a: !!python/object/apply:os.system ['touch /tmp/pwned']\n"),
    "condition: `().__class__`": lambda t: _condition(t, "().__class__"),
    "condition: `__builtins__`": lambda t: _condition(t, "__builtins__"),
    "condition: `__import__('os')`": lambda t: _condition(t, "__import__('os')"),
    "condition: `lambda: True`": lambda t: _condition(t, "lambda: True"),
    "condition: `open('/etc/passwd')`": lambda t: _condition(t, "open('/etc/passwd')"),
    "condition: `10**10**10 > 1`": lambda t: _condition(t, "10**10**10 > 1"),
    "condition: 5,000-deep parentheses": lambda t: _condition(t, "(" * 5000 + "score" + ")" * 5000 + " > 1"),
    "condition: 1,000-deep parentheses (under the length limit)": lambda t: _condition(
        t, "(" * 1000 + "score" + ")" * 1000 + " > 1"),
    "condition: 100,000 characters": lambda t: _condition(t, "x" * 100_000),
    "assessment: wrong types": lambda t: _json(BASE + ', "staff": {"total": "5", "fte": [1]}}'),
    "assessment: NaN": lambda t: _json(BASE + ', "staff": {"fte": NaN}}'),
    "assessment: Infinity": lambda t: _json(BASE + ', "staff": {"fte": Infinity}}'),
    "assessment: 1e400": lambda t: _json(BASE + ', "staff": {"fte": 1e400}}'),
    "assessment: 1.5e99999999": lambda t: _json(BASE + ', "staff": {"fte": 1.5e99999999}}'),
    "assessment: 5,000-digit integer": lambda t: _json(BASE + ', "staff": {"total": ' + "9" * 5000 + "}}"),
    "assessment: 10,000-deep `[[[[`": lambda t: _json("[" * 10_000 + "]" * 10_000),
    "assessment: invalid date 2021-02-30": lambda t: _json(BASE.replace("2021-03-15", "2021-02-30") + "}"),
    "assessment: NUL in a string (accepted)": lambda t: _json(BASE.replace('"T1"', '"T\\u0000"') + "}"),
    "assessment: lone surrogate `\\ud800`": lambda t: _json(BASE.replace('"T1"', '"\\ud800"') + "}"),
    "assessment: RTL mark in a string (accepted)": lambda t: _json(BASE.replace('"T1"', '"T\\u200f"') + "}"),
    "assessment: duplicate key": lambda t: _json(BASE + ', "assessed_on": "2021-03-16"}'),
    "batch: 20 MB .jsonl with 3 bad lines": _big_batch,
    # issue 20: files that are not regular, extends confined, bounded resources at run time
    "ruleset: /dev/zero": lambda t: _ruleset_file(Path("/dev/zero")),
    "ruleset: link to /dev/urandom": lambda t: _ruleset_file(_linked(t, "r.yaml", "/dev/urandom")),
    "ruleset: FIFO (no writer)": lambda t: _ruleset_file(_fifo(t, "r.yaml")),
    "ruleset: a directory": lambda t: _ruleset_file(Path(tempfile.mkdtemp(suffix=".yaml", dir=t))),
    "ruleset: 50 GiB sparse file": lambda t: _ruleset_file(_sparse(t, "r.yaml")),
    "lock file: link to /dev/zero": _lock,
    "extends: `../../outside/secret`": lambda t: _extends(t, "../../outside/secret"),
    "extends: `/etc/passwd`": lambda t: _extends(t, "/etc/passwd"),
    "extends: `~/1.0.0`": lambda t: _extends(t, "~/1.0.0"),
    "extends: `https://example.com/1.0.0.yaml`": lambda t: _extends(t, "https://example.com/1.0.0.yaml"),
    "extends: `1.0.0.yaml` (a file name)": lambda t: _extends(t, "1.0.0.yaml"),
    "extends: a version that does not exist (9.9.9)": lambda t: _extends(t, "9.9.9"),
    "extends: 0.9.0, linked to ../../outside/1.0.0.yaml": lambda t: _extends(t, "0.9.0", "outside/1.0.0.yaml"),
    "assessment: .json link to /dev/zero": lambda t: _assessment_file(_linked(t, "a.json", "/dev/zero")),
    "assessment: .yaml link to /dev/urandom": lambda t: _assessment_file(_linked(t, "a.yaml", "/dev/urandom")),
    "assessment: .json FIFO (no writer)": lambda t: _assessment_file(_fifo(t, "a.json")),
    "assessment: .json 50 GiB sparse file": lambda t: _assessment_file(_sparse(t, "a.json")),
    "assessment: YAML 5,000-digit hex integer": lambda t: _yaml_integer(t, "0x" + "f" * 5000),
    "assessment: YAML 5,000-digit octal integer": lambda t: _yaml_integer(t, "0o" + "7" * 5000),
    "batch: .jsonl link to /dev/urandom": lambda t: _assessment_file(_linked(t, "b.jsonl", "/dev/urandom")),
    "batch: 40 lines x 100,000 improvement areas": _areas_batch,
    "batch: 40 lines x 100,000 areas, allowed (max_items 100,000)": _areas_allowed,
    "batch: --jobs 64 (workers started here)": lambda t: _workers_for(64),
    # issue 20: the cost model
    "cost: three nested any() over a 2,000-item list": lambda t: _ruleset_text(
        t, _costly(THREE_ANY, "max_items: 2000")),
    "cost: two nested loops over an undeclared (10,000) list": lambda t: _ruleset_text(
        t, _costly("any(any(b.validated for b in areas) for a in areas)")),
    "cost: exact sum of 10,000 quotients": lambda t: _ruleset_text(
        t, _costly("sum(1 / months_between(assessed_on, h.valid_until) for h in history) > 1")),
    "cost: two loops over 300 items (accepted), 300 items given": lambda t: _evaluate(
        _costly("any(any(a.validated and b.validated for b in areas) for a in areas)", "max_items: 300"),
        {"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15", "areas": [AREA] * 300}),
    "assessment: 10,001 items in a list (default bound)": lambda t: _evaluate(
        EVERY.read_text(encoding="utf-8"),
        {"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15", "areas": [AREA] * 10_001}),
    "assessment: 10,001-character string (default bound)": lambda t: _evaluate(
        EVERY.read_text(encoding="utf-8"), {"org": {"id": "T" * 10_001, "country": "DE"}, "assessed_on": "2021-03-15"}),
    # issue 20: patterns on RE2
    "ruleset: pattern `(a+)+$`, embedded test of 41 characters": lambda t: _ruleset_text(
        t, _pattern("(a+)+$", "a" * 40 + "!")),
    "assessment: `(a+)+$` against 10,000 characters": lambda t: _evaluate(
        _pattern("(a+)+$", "a" * 20), NEAR_MISS),
    "assessment: `(.*a){20}` against 10,000 characters": lambda t: _evaluate(
        _pattern("(.*a){20}", "a" * 20), NEAR_MISS),
    "ruleset: pattern `a{4294967295}`": lambda t: _ruleset_text(t, _pattern("a{4294967295}")),
    "ruleset: pattern with a backreference": lambda t: _ruleset_text(t, _pattern("(a)\\1")),
    # issue 20: numbers and dates
    "ruleset: parameter 2^53 + 1": lambda t: _ruleset_text(t, EVERY.read_text(encoding="utf-8").replace(
        "k2_min: {value: 3,", "k2_min: {value: 9007199254740993,")),
    "ruleset: `maximum: 1e300`": lambda t: _ruleset_text(t, EVERY.read_text(encoding="utf-8").replace(
        "maximum: 4}", "maximum: 1e300}")),
    "ruleset: parameter `1e999999999`": lambda t: _ruleset_text(t, EVERY.read_text(encoding="utf-8").replace(
        "k2_min: {value: 3,", "k2_min: {value: 1e999999999,")),
    "assessment: assessed_on 9998-01-15 (3.0.1, Gold otherwise)": lambda t: _shipped_date("9998-01-15"),
    "assessment: assessed_on 9997-12-31 (3.0.1, the last that fits)": lambda t: _shipped_date("9997-12-31"),
    # issue 20: the durable backend
    "durable: 30 criteria, each a ten-way `and`": lambda t: _durable(30, 10, 20),
    "durable: 300 criteria over 300 inputs": lambda t: _durable(300, 1, 300),
    "durable: 100 criteria over 300 inputs (within limits)": lambda t: _durable(100, 1, 300),
    "durable: 23 criteria, each a ten-way `and` (within limits)": lambda t: _durable(23, 10, 20),
}

_STATE: dict[str, Any] = {}


def _child(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        import ecei_rules.ruleset.load  # noqa: F401  (imports are not part of the measurement)

        _STATE["rss0"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        cpu = time.process_time()
        try:
            codes = CASES[name](Path(tmp))
            crashed = False
        except BaseException as exc:  # the point of the table: report, never hide, a crash
            codes, crashed = [f"CRASH {type(exc).__name__}: {exc}"[:120]], True
        seconds = time.perf_counter() - _STATE.get("start", start)
        cpu_seconds = time.process_time() - _STATE.get("cpu", cpu)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"codes": codes, "seconds": seconds, "cpu": cpu_seconds, "peak_kib": peak,
                      "growth_kib": peak - _STATE["rss0"], "crashed": crashed}))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        _child(sys.argv[2])
        return 0
    print("| input | result (code@line:column pointer) | seconds | CPU s | peak RSS MB (growth) |")
    print("|---|---|---:|---:|---:|")
    failures = 0
    for name in CASES:
        proc = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True,
                              timeout=300)
        if proc.returncode != 0 or not proc.stdout.strip():
            failures += 1
            print(f"| {name} | CHILD FAILED rc={proc.returncode}: {proc.stderr.strip()[-100:]} | | |")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        failures += row["crashed"]
        codes = ", ".join(row["codes"][:4]) + (" ..." if len(row["codes"]) > 4 else "")
        # every input within 20 s of CPU (the wall clock also counts a loaded machine) and 1 GB
        over = row["cpu"] >= 20 or row["peak_kib"] >= 1024 * 1024
        failures += over
        print(f"| {name} | {codes.replace('|', '/')}{' OVER LIMIT' if over else ''} | {row['seconds']:.3f} | "
              f"{row['cpu']:.3f} | {row['peak_kib'] / 1024:.0f} (+{row['growth_kib'] / 1024:.0f}) |")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
