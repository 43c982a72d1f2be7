"""Hostile assessments (issue 12): refused with a located diagnostic, or accepted clearly.

``parse_json`` raises only :class:`AssessmentError` (A006); the validator returns diagnostics;
a JSON Lines batch is streamed, every good line decided and every bad one reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecei_rules import Ruleset, check_assessment, load_ruleset
from ecei_rules.batch import Item, decide_many, fixed_resolver, parse_json, read_assessments
from ecei_rules.errors import AssessmentError

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"


@pytest.fixture(scope="module")
def ruleset() -> Ruleset:
    return load_ruleset(EVERY)


def base(**extra: Any) -> dict[str, Any]:
    return {"org": {"id": "T1", "country": "DE"}, "assessed_on": "2021-03-15", **extra}


def refused(text: str) -> AssessmentError:
    """Parse ``text``, which must be refused (A006) having built nothing large: its memory peak
    (tracemalloc) stays within eight times the text, where a parsed 20,000-deep nesting or a
    converted 5,000-digit number would not."""
    tracemalloc.start()
    try:
        with pytest.raises(AssessmentError) as info:
            parse_json(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 8 * len(text) + 256 * 1024, f"refusing {len(text)} characters took {peak} bytes"
    assert [d.code for d in info.value.diagnostics] == ["A006"]
    return info.value


def problems(ruleset: Ruleset, text: str) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in check_assessment(ruleset, parse_json(text))]


# -- wrong types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param([], [("A003", "")], id="list-root"),
        pytest.param("x", [("A003", "")], id="string-root"),
        pytest.param(None, [("A003", "")], id="null-root"),
        pytest.param(1, [("A003", "")], id="number-root"),
        pytest.param(base(org=[]), [("A003", "/org")], id="list-for-object"),
        pytest.param(base(org={"id": 5, "country": "DE"}), [("A003", "/org/id")], id="number-for-string"),
        pytest.param(base(org={"id": True, "country": "DE"}), [("A003", "/org/id")], id="bool-for-string"),
        pytest.param(base(staff={"total": "5"}), [("A003", "/staff/total")], id="string-for-integer"),
        pytest.param(base(staff={"total": True}), [("A003", "/staff/total")], id="bool-for-integer"),
        pytest.param(base(staff={"fte": [1]}), [("A003", "/staff/fte")], id="list-for-decimal"),
        pytest.param(base(kpi={"k3": 1}), [("A003", "/kpi/k3")], id="number-for-boolean"),
        pytest.param(base(areas={"kpi": "k1"}), [("A003", "/areas")], id="object-for-list"),
        pytest.param(base(assessed_on=20210315), [("A003", "/assessed_on")], id="number-for-date"),
    ],
)
def test_wrong_types(ruleset: Ruleset, data: Any, expected: list[tuple[str, str]]) -> None:
    assert problems(ruleset, json.dumps(data)) == expected


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(constant: str) -> None:
    error = refused(f'{{"staff": {{"fte": {constant}}}}}')
    assert f"{constant} is not a number JSON allows" in error.diagnostics[0].message


def test_1e400_is_read_then_refused_as_out_of_range(ruleset: Ruleset) -> None:
    assert parse_json("1e400") == Decimal("1e400")
    text = json.dumps(base(staff={"fte": 0})).replace('"fte": 0', '"fte": 1e400')
    assert problems(ruleset, text) == [("A004", "/staff/fte")]


@pytest.mark.parametrize("number", ["1.5e99999999", "1e-99999999", "-1e999999999", "1e401"])
def test_absurd_exponents_are_refused_while_parsing(ruleset: Ruleset, number: str) -> None:
    """Such exponents overflowed Decimal operations in the validator (decimal.Overflow)."""
    error = refused(f'{{"staff": {{"fte": {number}}}}}')
    assert "too large or too small" in error.diagnostics[0].message


def test_5000_digit_integer_is_refused() -> None:
    error = refused('{"staff": {"total": %s}}' % ("9" * 5000))
    assert "5000 digits" in error.diagnostics[0].message


def test_5000_digit_decimal_is_refused() -> None:
    refused('{"staff": {"fte": 0.%s}}' % ("1" * 5000))


def test_400_digit_integer_is_read_then_out_of_range(ruleset: Ruleset) -> None:
    text = json.dumps(base(staff={"total": 0})).replace('"total": 0', '"total": ' + "9" * 400)
    assert [c for c, _ in problems(ruleset, text)] == ["A004"]


# -- structure -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 10_000 + "]" * 10_000, id="lists"),
        pytest.param('{"a":' * 10_000 + "1" + "}" * 10_000, id="objects"),
        pytest.param("[" * 100_000, id="unclosed"),
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    error = refused(text)
    assert "nested too deeply" in error.diagnostics[0].message or "invalid JSON at line" in error.diagnostics[0].message


def test_moderate_nesting_is_parsed_and_refused_by_the_validator(ruleset: Ruleset) -> None:
    text = json.dumps(base()).replace('"T1"', "[" * 500 + "]" * 500)
    assert problems(ruleset, text) == [("A003", "/org/id")]


def test_duplicate_keys_are_refused() -> None:
    error = refused('{"org": {"id": "a", "id": "b"}}')
    assert "duplicate key 'id'" in error.diagnostics[0].message


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param('{"a": 1,}', 1, 9, id="trailing-comma"),
        pytest.param("{'a': 1}", 1, 2, id="single-quotes"),
        pytest.param('{"a": 1}\n{"b": 2}', 2, 1, id="two-documents"),
        pytest.param('{"a": 01}', 1, 8, id="leading-zero"),
        pytest.param("", 1, 1, id="empty"),
    ],
)
def test_syntax_errors_are_located(text: str, line: int, column: int) -> None:
    d = refused(text).diagnostics[0]
    assert (d.line, d.column) == (line, column)


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2021-02-30", "A004"),
        ("2021-13-01", "A004"),
        ("0000-01-01", "A004"),
        ("not a date", "A003"),
        ("2021-3-5", "A003"),
        ("2021-03-15T00:00:00", "A003"),
        ("\u0662\u0660\u0662\u0661-\u0660\u0663-\u0661\u0665", "A004"),  # Arabic-Indic digits
        ("", "A003"),
    ],
)
def test_invalid_dates(ruleset: Ruleset, value: str, code: str) -> None:
    found = problems(ruleset, json.dumps(base(assessed_on=value)))
    assert found
    assert found[0] == (code, "/assessed_on")


# -- odd unicode ---------------------------------------------------------------------------------


def test_lone_surrogates_are_refused() -> None:
    """A \\ud800 escape is valid JSON syntax but not text: it could not be written back as UTF-8."""
    for text in ['"\\ud800"', '{"org": {"id": "a\\udfffb"}}', '{"\\udc00": 1}', '["ok", ["\\ud83d"]]']:
        assert "lone surrogate" in refused(text).diagnostics[0].message


def test_surrogate_pairs_are_text() -> None:
    assert parse_json('"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize("odd", ["a\u0000b", "\u202eevil\u202c", "\u200f", "\ufeff", "\U0001f600", "e\u0301"])
def test_odd_but_valid_unicode_is_accepted_exactly(ruleset: Ruleset, odd: str) -> None:
    """NUL, RTL/bidi marks and combining characters are text: kept as they are, never altered."""
    data = parse_json(json.dumps(base(org={"id": odd, "country": "DE"})))
    assert data["org"]["id"] == odd
    assert check_assessment(ruleset, data) == []


def test_odd_unicode_in_keys_is_an_unknown_field(ruleset: Ruleset) -> None:
    data = parse_json(json.dumps(base(**{"assessed_on\u200f": "2021-03-15"})))
    assert [d.code for d in check_assessment(ruleset, data)] == ["A002"]


def test_odd_unicode_in_an_enum_is_refused(ruleset: Ruleset) -> None:
    text = json.dumps(base(org={"id": "T1", "country": "DE", "size": "small\u200f"}))
    assert problems(ruleset, text) == [("A004", "/org/size")] or problems(ruleset, text)[0][1] == "/org/size"


# -- batches -------------------------------------------------------------------------------------


def test_bad_lines_do_not_stop_a_batch(tmp_path: Path, ruleset: Ruleset) -> None:
    good = json.dumps(base())
    path = tmp_path / "batch.jsonl"
    path.write_bytes(
        (good + "\n" + '{"a": NaN}\n' + good + "\n" + "[" * 10_000 + "\n" + good + "\n").encode()
        + b'{"org": "\xff"}\n'
        + (good + "\n").encode()
    )
    outcomes = list(decide_many(read_assessments(path), fixed_resolver(ruleset)))
    results = [(o.index, o.error is None) for o in outcomes]
    # every line is decided or reported, in order; an invalid byte costs only its own line
    assert results == [(1, True), (2, False), (3, True), (4, False), (5, True), (6, False), (7, True)]
    errors = [o.to_json()["error"] for o in outcomes if o.error]
    assert [(e["code"], e["line"]) for e in errors] == [("A006", 2), ("A006", 4), ("A006", 6)]
    assert "not UTF-8 text (byte 0xff)" in errors[2]["message"]


def test_a_line_over_8_mib_is_reported_and_skipped(tmp_path: Path, ruleset: Ruleset) -> None:
    good = json.dumps(base())
    path = tmp_path / "long.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(good + "\n")
        handle.write('{"org": {"id": "' + "x" * (9 * 1024 * 1024) + '"}}\n')
        handle.write(good + "\n")
    items = list(read_assessments(path))
    assert [(i.index, i.error is None) for i in items] == [(1, True), (2, False), (3, True)]
    assert items[1].error is not None
    assert "longer than 8 MiB" in str(items[1].error)


BIG_BATCH = textwrap.dedent(
    """
    import json, resource, sys, time
    from ecei_rules import load_ruleset
    from ecei_rules.batch import decide_many, fixed_resolver, read_assessments

    ruleset = load_ruleset(sys.argv[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    decided, errors = 0, []
    for outcome in decide_many(read_assessments(sys.argv[2]), fixed_resolver(ruleset)):
        if outcome.error is None:
            decided += 1
        else:
            errors.append((outcome.index, outcome.to_json()["error"]["code"]))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"decided": decided, "errors": errors, "growth_kib": after - before,
                      "seconds": time.perf_counter() - start}))
    """
)


def test_a_20_mb_batch_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    line = json.dumps(base(org={"id": "T" * 4000, "country": "DE"},
                           areas=[{"kpi": "k1", "validated": True}] * 10)) + "\n"
    bad = {1000: '{"org": NaN}\n', 2500: "[" * 20_000 + "\n", 4000: '{"org": {"id": 1}, "assessed_on": "2021-02-30"}\n'}
    path = tmp_path / "big.jsonl"
    count = 20 * 1024 * 1024 // len(line)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(1, count + 1):
            handle.write(bad.get(number, line))
    assert path.stat().st_size >= 19 * 1024 * 1024
    result = subprocess.run([sys.executable, "-c", BIG_BATCH, str(EVERY), str(path)],
                            capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout)
    assert report["decided"] == count - len(bad)
    assert report["errors"] == [[1000, "A006"], [2500, "A006"], [4000, "A003"]]
    assert report["growth_kib"] < 200 * 1024, report


def test_items_keep_their_input_order(ruleset: Ruleset) -> None:
    items = [Item(1, base()), Item(2, error=AssessmentError([])), Item(3, [])]
    outcomes = list(decide_many(items, fixed_resolver(ruleset)))
    assert [o.index for o in outcomes] == [1, 2, 3]


def test_validator_called_directly_refuses_a_huge_exponent_decimal() -> None:
    """The validator itself (not only parse_json) refuses Decimal('1.5e99999999') with A004, no Overflow."""
    from decimal import Decimal

    from ecei_rules import load_ruleset

    ruleset = load_ruleset(Path(__file__).parents[1] / "data" / "every" / "1.0.0.yaml")
    _, problems = ruleset.plan.validator.validate(
        {"org": {"id": "x", "country": "DE"}, "assessed_on": "2021-01-01", "staff": {"fte": Decimal("1.5e99999999")}})
    assert [(p.code, p.pointer) for p in problems] == [("A004", "/staff/fte")]
