"""The size of numbers (the cost model's second bound): a version whose exact numbers could grow
beyond :data:`~ecei_rules.language.cost.MAX_DIGITS` digits is refused when it loads.

Arithmetic in the language is exact (integers and fractions), so the digits of a product are the
sum of its factors': 24 derived values that each square the one before (``d1 = d0 * d0``, ...)
were accepted by ``validate`` at a few steps each, and ``evaluate`` then never finished (the
numbers double their digits at each level: millions of digits). The loader now works out the
worst-case size of every number from the declared bounds and digits of the inputs it reads (a
decimal input has at most 15 significant digits, none below 10^-29; an integer one is at most
2^53 - 1), literals, parameters and the derived values it reads, and refuses (E206) at the
operation where the bound is first crossed, naming the bound.

Each scenario is a pair: the chain one step within the bound loads and evaluates to the exact
value (worked out here with :class:`fractions.Fraction`, from inputs chosen so that the worst case
is met: the bound is no pessimism for them), and one step more is refused at that step's derived
value (pointer, line and column in the YAML file). On the code before the size model, every
"one step more" loads, so each test fails there. No test measures time: they state what is
refused and what is computed.
"""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from cli_harness import ROOT, cli

import ecei_rules.ruleset.check as checking
from ecei_rules import evaluate, load_ruleset
from ecei_rules.engine.evaluate import validated_data
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import Diagnostic, RulesetError
from ecei_rules.language.cost import MAX_DIGITS, check_costs, step_weight
from ecei_rules.ruleset.load import Ruleset, check_ruleset

#: A decimal input's value with the most decimal places an assessment may give (15 significant
#: digits, the first at 10^-15: 29 places).
TINY = Decimal("1.23456789012345E-15")


def test_the_bound_is_two_thousand_digits() -> None:
    """The bound the messages name (and the docs state): generous (the largest number any shipped,
    example or test version can compute has under 150 digits), below Python's 4,300-digit limit on
    writing an integer as text."""
    assert MAX_DIGITS == 2_000


def ruleset_text(derived: list[tuple[str, str]], *, inputs: str = "  x: {type: decimal, minimum: 0, maximum: 100}\n",
                 parameters: str = "", criterion: str | None = None) -> str:
    """A version with the inputs ``inputs``, the derived values ``derived`` (name, value) in order, and one
    criterion (by default: the last derived value is above 0)."""
    lines = "".join(f'  {name}: {{title: {name.upper()}, type: decimal, value: "{value}"}}\n'
                    for name, value in derived)
    when = criterion or f"{derived[-1][0]} > 0"
    return f"""methodology: growth
version: 1.0.0
title: Growing numbers
status: draft
effective_from: 2024-01-01
inputs:
  assessed_on: {{type: date, required: true}}
{inputs}{parameters}derived:
{lines}criteria:
  c: {{title: C, when: "{when}"}}
labels: [ok]
tiers:
  ok: {{title: OK, requires: [c]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: r, title: R, labels: [ok], valid_until: "month_end(assessed_on, 12)"}}
"""


def errors(tmp_path: Path, text: str, name: str = "growth.yaml") -> list[Diagnostic]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [d for d in check_ruleset(path) if d.severity == "error"]


def loaded(tmp_path: Path, text: str) -> Ruleset:
    path = tmp_path / "growth.yaml"
    path.write_text(text, encoding="utf-8")
    return load_ruleset(path)


def assert_refused_at(diags: list[Diagnostic], text: str, name: str, value: str) -> None:
    """One E206, at the derived value ``name`` (its pointer, its line, and the column where ``value``,
    the operation that crosses the bound, starts), naming the bound."""
    assert [d.code for d in diags] == ["E206"], diags
    d = diags[0]
    assert d.pointer == f"/derived/{name}/value"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(f"  {name}: "))
    assert (d.line, d.column) == (line, text.splitlines()[line - 1].index(f'value: "{value}"') + len('value: "') + 1)
    assert f"the bound is {MAX_DIGITS:,} digits" in d.message
    assert "digits" in d.message.split("the bound")[0]  # how large it can get, before the bound
    assert d.suggestion is not None
    assert "round(x, n)" in d.suggestion


def exact_derived(ruleset: Ruleset, data: dict[str, Any]) -> dict[str, Any]:
    """The exact value of each derived value, computed by the version's compiled expressions (as evaluate
    computes them), after the data is validated as evaluate validates it."""
    env = dict(validated_data(ruleset, data))
    for plan in ruleset.plan.derived:
        env[plan.id] = plan.compiled.fn(env)
    return {plan.id: env[plan.id] for plan in ruleset.plan.derived}


def shown(value: Fraction) -> Any:
    """How a decision shows an exact number: a whole one up to 2^53 - 1 in magnitude as it is, another to 15
    significant digits (canonical JSON's numbers are doubles)."""
    if value.denominator == 1 and abs(value.numerator) < 2**53:
        return value.numerator
    return Context(prec=15).divide(Decimal(value.numerator), Decimal(value.denominator)).normalize(Context(prec=15))


def assert_decided(ruleset: Ruleset, data: dict[str, Any], expected: dict[str, Fraction]) -> None:
    """Each derived value is exactly as expected, known in the decision (shown to 15 digits), and the
    production and reference evaluators agree."""
    exact = exact_derived(ruleset, data)
    assert {k: Fraction(v) for k, v in exact.items()} == expected
    decision = evaluate(ruleset, data)
    assert decision == evaluate_reference(ruleset, data)
    values = {d.id: (d.outcome, d.value) for d in decision.derived}
    assert values == {k: ("known", shown(v)) for k, v in expected.items()}
    assert decision.label == "ok"


# -- the report: values that square each other --------------------------------------------------------


def squaring(levels: int) -> list[tuple[str, str]]:
    """d0 = x * 1.1, then d{k} = d{k-1} * d{k-1} up to d{levels - 1}."""
    return [("d0", "x * 1.1"), *((f"d{k}", f"d{k - 1} * d{k - 1}") for k in range(1, levels))]


def test_the_reported_24_level_squaring_chain_is_refused_at_load_at_d7(tmp_path: Path) -> None:
    """The reported version (24 levels) is refused, once, at d7 = d6 * d6: d0 = x * 1.1 can have 30
    decimal places (x has up to 29), so d7 up to 3,840, over the bound; d8 to d23 only read a value
    already refused. ``validate`` says so and exits 1; load_ruleset raises."""
    text = ruleset_text(squaring(24), criterion="d23 > 100")
    assert_refused_at(errors(tmp_path, text), text, "d7", "d6 * d6")
    # for the input with the most decimal places, d7's exact denominator is indeed beyond the bound
    assert len(str(((Fraction(TINY) * Fraction(11, 10)) ** 128).denominator)) > MAX_DIGITS
    with pytest.raises(RulesetError):
        loaded(tmp_path, text)
    ran = cli(["validate", str(tmp_path / "growth.yaml")])
    assert ran.code == 1
    assert "E206" in ran.both
    assert "/derived/d7/value" in ran.both


def test_squaring_seven_levels_is_within_the_bound_and_exact_and_eight_are_refused(tmp_path: Path) -> None:
    """d0 .. d6 (d6 = (1.1 x)^64: a denominator of up to 10^1920) loads, and evaluates to the exact power
    for the input with the most decimal places and for x = 100; with d7 it is refused at d7."""
    ruleset = loaded(tmp_path, ruleset_text(squaring(7)))
    for x in (TINY, Decimal(100)):
        base = Fraction(x) * Fraction(11, 10)
        expected = {f"d{k}": base ** (2 ** k) for k in range(7)}
        assert_decided(ruleset, {"assessed_on": "2024-02-02", "x": x}, expected)
    text = ruleset_text(squaring(8))
    assert_refused_at(errors(tmp_path, text), text, "d7", "d6 * d6")


# -- through parameters --------------------------------------------------------------------------------


PARAMETERS = "parameters:\n  tiny: {value: 1e-300, source: a test}\n"


def by_parameters(levels: int) -> list[tuple[str, str]]:
    """p1 = params.tiny * params.tiny, p2 = p1 * p1, then p{k} = p{k-1} * params.tiny: 10^-600, 10^-1200,
    10^-1500, ..."""
    out = [("p1", "params.tiny * params.tiny"), ("p2", "p1 * p1")]
    out += [(f"p{k}", f"p{k - 1} * params.tiny") for k in range(3, levels + 1)]
    return out


def test_products_of_a_parameter_grow_until_the_bound_and_no_further(tmp_path: Path) -> None:
    """A parameter of 1e-300 (a denominator of 301 digits): p4 = 10^-1800 loads and is exact; p5 =
    10^-2100 (a denominator of 2,101 digits) is refused at p5, where the product crosses the bound."""
    ruleset = loaded(tmp_path, ruleset_text(by_parameters(4), parameters=PARAMETERS, criterion="p4 < 1"))
    expected = {"p1": Fraction(1, 10**600), "p2": Fraction(1, 10**1200), "p3": Fraction(1, 10**1500),
                "p4": Fraction(1, 10**1800)}
    assert_decided(ruleset, {"assessed_on": "2024-02-02", "x": 1}, expected)
    text = ruleset_text(by_parameters(5), parameters=PARAMETERS, criterion="p5 < 1")
    assert_refused_at(errors(tmp_path, text), text, "p5", "p4 * params.tiny")


# -- through sum over a list ----------------------------------------------------------------------------


def primes_below(limit: int, count: int) -> list[int]:
    """The ``count`` largest primes below ``limit`` (trial division by the primes up to its square root)."""
    root = int(limit**0.5) + 1
    sieve = bytearray([1]) * (root + 1)
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(root**0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    small = [i for i, is_prime in enumerate(sieve) if is_prime]
    out: list[int] = []
    n = limit - 1
    while len(out) < count:
        if all(n % p for p in small if p * p <= n):
            out.append(n)
        n -= 1
    return out


def summing(max_items: int) -> tuple[list[tuple[str, str]], str]:
    inputs = ("  x: {type: decimal, minimum: 0, maximum: 100}\n"
              f"  items:\n    type: list\n    max_items: {max_items}\n"
              "    items: {type: object, fields: {w: {type: integer, minimum: 1, maximum: 100000000}}}\n")
    return [("total", "sum(1 / a.w for a in items)")], inputs


def test_a_sum_of_quotients_over_a_list_grows_with_its_max_items(tmp_path: Path) -> None:
    """sum(1 / a.w) over up to 249 items of at most 10^8: the common denominator can have 249 x 8 digits
    (and the numerator 3 more: the sum is at most 249), within the bound, and the sum over 249
    distinct primes below 10^8 (whose product has nearly that many digits) is exact; with max_items
    250 (2,000 + 3 digits) it is refused at the sum."""
    derived, inputs = summing(249)
    ruleset = loaded(tmp_path, ruleset_text(derived, inputs=inputs))
    weights = primes_below(10**8, 249)
    expected = sum((Fraction(1, w) for w in weights), Fraction(0))
    assert len(str(expected.denominator)) > 1_990  # the worst case is met: the bound is no pessimism here
    assert_decided(ruleset, {"assessed_on": "2024-02-02", "items": [{"w": w} for w in weights]},
                   {"total": expected})
    derived, inputs = summing(250)
    text = ruleset_text(derived, inputs=inputs)
    assert_refused_at(errors(tmp_path, text), text, "total", "sum(1 / a.w for a in items)")
    assert "sum() over 'items' (up to 250 items)" in errors(tmp_path, text)[0].message


# -- through division ----------------------------------------------------------------------------------


def dividing(levels: int) -> list[tuple[str, str]]:
    """q0 = 1 / n, then q{k} = q{k-1} / (1 / q{k-1}): a quotient's denominator takes its divisor's
    numerator, so each level doubles it (q{k} = 1 / n^(2^k))."""
    return [("q0", "1 / n"), *((f"q{k}", f"q{k - 1} / (1 / q{k - 1})") for k in range(1, levels))]


N_INPUT = "  n: {type: integer, minimum: 1, maximum: 100000000}\n"


def test_quotients_whose_denominators_double_are_refused_past_the_bound(tmp_path: Path) -> None:
    """With n up to 10^8, q7 = 1 / n^128 (a denominator of up to 1,024 digits) loads and is exact for the
    largest prime below 10^8; q8 (2,048 digits) is refused at q8."""
    ruleset = loaded(tmp_path, ruleset_text(dividing(8), inputs=N_INPUT))
    n = primes_below(10**8, 1)[0]
    expected = {f"q{k}": Fraction(1, n ** (2**k)) for k in range(8)}
    assert_decided(ruleset, {"assessed_on": "2024-02-02", "n": n}, expected)
    text = ruleset_text(dividing(9), inputs=N_INPUT)
    assert_refused_at(errors(tmp_path, text), text, "q8", "q7 / (1 / q7)")


def test_a_value_rounded_on_the_way_stops_the_growth(tmp_path: Path) -> None:
    """The remedy the message suggests: round(x, n) gives a denominator of 10^n whatever it rounds, so 24
    levels of squaring a number of at most 1 (x <= 1, times 0.9), each rounded to 10 places, load, and
    evaluate computes the exact squares of the rounded values; unrounded, the chain is refused at d7.
    (Rounding bounds the denominator; the bounds of x bound the magnitude: squaring 1.1 24 times
    would still be refused, its integer part alone having some 350,000 digits.)"""
    inputs = "  x: {type: decimal, minimum: 0, maximum: 1}\n"
    chain = [("d0", "x * 0.9"), *((f"d{k}", f"round(d{k - 1} * d{k - 1}, 10)") for k in range(1, 24))]
    ruleset = loaded(tmp_path, ruleset_text(chain, inputs=inputs, criterion="d23 >= 0"))
    value = Fraction(9, 10)  # x = 1
    expected = {"d0": value}
    for k in range(1, 24):
        squared = value * value
        value = Fraction(int(squared * 10**10 + Fraction(1, 2)), 10**10)  # half up (all positive)
        expected[f"d{k}"] = value
    assert_decided(ruleset, {"assessed_on": "2024-02-02", "x": 1}, expected)
    assert expected["d4"] == Fraction(1853020189, 10**10)  # 0.9^16 = 0.18530201888518..., rounded up
    unrounded = [("d0", "x * 0.9"), *((f"d{k}", f"d{k - 1} * d{k - 1}") for k in range(1, 24))]
    text = ruleset_text(unrounded, inputs=inputs)
    assert_refused_at(errors(tmp_path, text), text, "d7", "d6 * d6")
    growing = [("d0", "x * 1.1"), *((f"d{k}", f"round(d{k - 1} * d{k - 1}, 10)") for k in range(1, 24))]
    assert [d.code for d in errors(tmp_path, ruleset_text(growing, inputs=inputs))] == ["E206"]


# -- the size weighs the steps ------------------------------------------------------------------------


def looping(max_items: int, factor: str) -> str:
    """Two nested loops over a list of up to ``max_items`` items, each pair's values multiplied by
    ``factor``: with ``d`` (x^60, up to 1,769 digits) every one of those products is on numbers of nearly
    the bound."""
    derived = [("d1", " * ".join(["x"] * 20)), ("d2", "d1 * d1"), ("d", "d2 * d1")]
    inputs = ("  x: {type: decimal, minimum: 0, maximum: 100}\n"
              f"  items:\n    type: list\n    max_items: {max_items}\n    items:\n      type: object\n"
              "      fields:\n        v: {type: decimal, minimum: 0, maximum: 100}\n")
    return ruleset_text(derived, inputs=inputs,
                        criterion=f"count(a for a in items if count(b for b in items if a.v * {factor} > "
                                  f"b.v * {factor}) > 0) > 0")


def test_steps_on_numbers_near_the_bound_count_as_many_steps(tmp_path: Path) -> None:
    """Nested loops over 900 items multiplying by a derived value of up to 1,769 digits were accepted (9.7
    million steps, within the budget), and one decision on 900 items of 15 digits ran for 30 s on the
    command line (the same loops on small numbers: 8 s). Each step is now weighed by the size of its
    numbers: refused at the loops, the message naming the weight and the digits; the same loops on
    the input itself (at most 58 digits: weight 1) are still accepted, so it is the size that refuses."""
    diags = errors(tmp_path, looping(900, "d"))
    assert [d.code for d in diags] == ["E206"], diags
    assert diags[0].pointer == "/criteria/c/when"
    assert "count() over 'items' (up to 900 items) inside count() over 'items'" in diags[0].message
    assert f"each step counted {step_weight(1_769)} times: its numbers can have up to 1,769 digits" \
        in diags[0].message
    assert diags[0].suggestion is not None
    assert "round(x, n)" in diags[0].suggestion
    assert errors(tmp_path, looping(900, "x")) == []


def test_the_same_loops_over_fewer_items_load_and_decide_exactly(tmp_path: Path) -> None:
    """Over at most 40 items the weighed steps are within the budget: the version loads, d is exactly
    x^60, and the criterion is met (distinct values: some pair is ordered)."""
    ruleset = loaded(tmp_path, looping(40, "d"))
    data = {"assessed_on": "2024-02-02", "x": TINY,
            "items": [{"v": Decimal(f"1.{23456789000000 + 7919 * i:014d}E-15")} for i in range(40)]}
    assert exact_derived(ruleset, data)["d"] == Fraction(TINY) ** 60
    decision = evaluate(ruleset, data)
    assert decision == evaluate_reference(ruleset, data)
    assert decision.label == "ok"


def test_the_weight_of_a_step_is_one_on_small_numbers_and_grows_with_the_digits() -> None:
    """One up to 63 digits (every shipped version needs at most 17), then growing with the digits, by
    the values the language reference gives."""
    assert {step_weight(d) for d in (0, 17, 45, 63)} == {1}
    weights = [step_weight(d) for d in range(MAX_DIGITS + 1)]
    assert weights == sorted(weights)
    assert [step_weight(d) for d in (100, 200, 400, 1_200, 2_000)] == [3, 7, 17, 83, 176]


# -- nothing else changes ------------------------------------------------------------------------------


def every_ruleset() -> list[Path]:
    """Every shipped version, every example methodology's version and every test ruleset."""
    return sorted([*ROOT.glob("rulesets/ecei-labels/*.yaml"), *ROOT.glob("examples/methodologies/*/*.yaml"),
                   *ROOT.glob("tests/data/**/*.yaml")])


def test_every_shipped_example_and_test_ruleset_is_a_tenth_of_the_bound_or_less(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked against a bound ten times smaller (200 digits), no shipped version, example or test ruleset
    is refused for the size of its numbers (so none is near the real bound), and the versions that
    loaded before still load: the only E206 under tests/data is the bad example of the step budget, and
    every file outside tests/data/bad has no error at all."""
    def tenfold(items: Any, *args: Any, **kwargs: Any) -> list[Diagnostic]:
        return check_costs(items, max_digits=MAX_DIGITS // 10)

    monkeypatch.setattr(checking, "check_costs", tenfold)
    paths = every_ruleset()
    assert len(paths) > 50
    found = {path.relative_to(ROOT).as_posix(): [d for d in check_ruleset(path) if d.code == "E206"]
             for path in paths}
    refused = {p: [d.message for d in ds] for p, ds in found.items() if ds}
    assert list(refused) == ["tests/data/bad/e206_cost_budget.yaml"]
    assert all("steps per decision" in m for m in refused["tests/data/bad/e206_cost_budget.yaml"])
    monkeypatch.undo()
    for path in paths:
        if "bad" not in path.relative_to(ROOT).parts:
            assert not [d for d in check_ruleset(path) if d.severity == "error"], path
    for path in [*ROOT.glob("rulesets/ecei-labels/*.yaml"), *ROOT.glob("examples/methodologies/*/*.yaml")]:
        load_ruleset(path)
