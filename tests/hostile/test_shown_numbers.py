"""Numbers a decision shows beyond what canonical JSON carries exactly.

A derived value is exact (integers and fractions) and a decision shows it to 15 significant digits
(`ecei_rules.engine.derived.shown`); canonical JSON's numbers are IEEE doubles, exact for whole
numbers up to 2^53 - 1. A version accepted at load could compute a whole derived value beyond that
(``round(score) * 100000000000000000``): ``evaluate -f json``, ``--fields`` and ``record`` ended in an
internal error (the canonical writer refuses such an integer), and one beyond about 10^308 (no double
holds it) in another. Now a whole number beyond 2^53 - 1 is shown to 15 significant digits as every
other number is, the same by every path, and a value that could exceed 10^300 is refused at load
(E205 at the value)."""

from __future__ import annotations

import json
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from cli_harness import cli

from ecei_rules.engine.evaluate import decision_text, evaluate
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import Diagnostic
from ecei_rules.language.cost import SHOWN_MAGNITUDE
from ecei_rules.ruleset.load import check_ruleset, load_ruleset

RULESET = """methodology: large
version: 1.0.0
title: Large numbers
status: published
effective_from: 2020-01-01
inputs:
  assessed_on: {{type: date, required: true}}
  score: {{type: decimal, minimum: 0, maximum: 100}}
  n: {{type: integer}}
derived:
  big: {{title: Big, type: integer, value: 'round(score) * 100000000000000000'}}
  odd: {{title: Odd, type: integer, value: 'round(score) * 3002399751580331'}}
  negative: {{title: Negative, type: decimal, value: '-score * 100000000000000000 * 1000 - 0.5'}}
{more}criteria:
  ok: {{title: OK, when: big >= 0}}
labels: [basic]
tiers:
  basic: {{title: Basic, requires: [ok]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: always, title: Two years, labels: [basic], valid_until: "month_end(assessed_on, 24)"}}
"""
DATA: dict[str, Any] = {"assessed_on": "2021-01-01", "score": 3, "n": 5}


def _write(tmp_path: Path, more: str = "") -> Path:
    folder = tmp_path / "rulesets" / "large"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "1.0.0.yaml"
    path.write_text(RULESET.format(more=more), encoding="utf-8")
    return path


def _fifteen(exact: Fraction) -> Any:
    """How a decision shows a number beyond 2^53 - 1: rounded half-even to 15 significant digits, as a
    double writes it (worked out here with Decimal, apart from the engine)."""
    context = Context(prec=15)
    return float(context.divide(Decimal(exact.numerator), Decimal(exact.denominator)))


def test_whole_numbers_beyond_2_53_are_shown_alike_by_every_path(tmp_path: Path) -> None:
    """evaluate, decision_text and the reference evaluator write the same bytes; the values shown are the
    exact ones rounded to 15 significant digits (3 x 10^17; 3 x 3002399751580331 = 9007199254740993, one
    past 2^53, shown as 9007199254740990; a negative decimal); the command line's JSON, its --fields and
    a recorded decision replayed agree with them."""
    path = _write(tmp_path)
    ruleset = load_ruleset(path)
    text = evaluate(ruleset, DATA).canonical_text()
    assert text == decision_text(ruleset, DATA) == evaluate_reference(ruleset, DATA).canonical_text()
    shown = {d["id"]: d["value"] for d in json.loads(text)["derived"]}
    assert shown == {"big": _fifteen(Fraction(3 * 10**17)), "odd": _fifteen(Fraction(3 * 3002399751580331)),
                     "negative": _fifteen(-Fraction(3 * 10**20) - Fraction(1, 2))}
    assert shown["odd"] == 9007199254740990
    data = tmp_path / "a.json"
    data.write_text(json.dumps(DATA), encoding="utf-8")
    rulesets = str(tmp_path / "rulesets")
    whole = cli(["evaluate", str(data), "--rulesets", rulesets, "-f", "json"])
    assert whole.code == 0, whole.stderr
    assert {d["id"]: d["value"] for d in json.loads(whole.stdout)["derived"]} == shown
    fields = cli(["evaluate", str(data), "--rulesets", rulesets, "-f", "json", "--fields", "derived.value,label"])
    assert fields.code == 0, fields.stderr
    assert [d["value"] for d in json.loads(fields.stdout)["derived"]] == [shown["big"], shown["odd"],
                                                                          shown["negative"]]
    log = tmp_path / "log.db"
    assert cli(["record", str(data), "--rulesets", rulesets, "--log", str(log)]).code == 0
    replayed = cli(["replay", str(log), "--rulesets", rulesets])
    assert replayed.code == 0, replayed.stdout + replayed.stderr


def _e205(path: Path) -> list[Diagnostic]:
    return [d for d in check_ruleset(path) if d.code == "E205"]


def test_a_value_that_could_pass_10_300_is_refused_at_the_value(tmp_path: Path) -> None:
    """n is an integer input (up to 2^53 - 1: 16 digits): n to the 18th power can reach 10^288 and loads,
    n to the 19th 10^304, beyond what a double holds shown, and is refused with E205 at that derived
    value, naming the bound."""
    within = " * ".join(["n"] * 18)
    beyond = " * ".join(["n"] * 19)
    assert _e205(_write(tmp_path, f"  power: {{title: P, type: integer, value: '{within}'}}\n")) == []
    problems = _e205(_write(tmp_path, f"  power: {{title: P, type: integer, value: '{beyond}'}}\n"))
    assert [d.pointer for d in problems] == ["/derived/power/value"]
    assert f"the bound is 10^{SHOWN_MAGNITUDE}" in problems[0].message
    assert problems[0].line is not None
