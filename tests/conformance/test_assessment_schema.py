"""The assessment JSON Schema of a version (``ecei_rules.assessment_schema``) accepts what the
engine accepts: generated documents go both ways (values drawn by hypothesis-jsonschema from the
schema to the engine, the engine's strategies to the schema), numbers written every way are judged
alike by both, and what JSON Schema cannot state is marked in the schema where it applies
(``x-ecei-significant-digits``, ``x-ecei-checks``, ``x-ecei-pattern``), no more."""

from __future__ import annotations

import copy
import datetime as dt
import json
import operator
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from ecei_rules import Registry, Ruleset, assessment_schema, check_assessment, evaluate, load_ruleset
from ecei_rules.batch import parse_json
from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import split_pointer
from ecei_rules.errors import AssessmentError
from ecei_rules.ruleset.inputs import CALENDAR_DATE, SCHEMA_RESIDUE
from ecei_rules.ruleset.load import load_ruleset_text
from ecei_rules.ruleset.portable_patterns import TEXT
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).parents[2]
SHIPPED = Registry.shipped()
VERSIONS = [(m, v) for m in SHIPPED.methodologies() for v in SHIPPED.versions(m)]
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"
MINIMAL = ROOT / "tests" / "data" / "minimal.yaml"
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
V301 = SHIPPED.get("ecei-labels", "3.0.1")


def _rulesets() -> list[Any]:
    out = [pytest.param(("shipped", m, v), id=f"{m}@{v}") for m, v in VERSIONS]
    return [*out, pytest.param(("file", str(EVERY), ""), id="every-construct")]


def _load(which: tuple[str, str, str]) -> Ruleset:
    kind, a, b = which
    return SHIPPED.get(a, b) if kind == "shipped" else load_ruleset(a)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """As a platform would validate: the draft 2020-12 validator, formats asserted."""
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _schema_at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the value at a JSON pointer of a document."""
    for part in split_pointer(pointer):
        schema = schema["items"] if schema.get("type") in ("array", ["array", "null"]) else schema["properties"][part]
    return schema


def _value_at(data: Any, pointer: str) -> Any:
    for part in split_pointer(pointer):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _drawn(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents of a schema: every value drawn by hypothesis-jsonschema from its own schema, the
    objects and arrays around them assembled here from ``properties``, ``required`` (the others
    present or not) and ``items``: hypothesis-jsonschema 0.23.1, its latest release, draws objects
    through an internal of hypothesis (``many.more``) that the hypothesis installed here no
    longer has (AttributeError)."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "object" not in kinds and "array" not in kinds:
        return from_schema(schema)
    options: list[st.SearchStrategy[Any]] = [st.none()] if "null" in kinds else []
    if "object" in kinds:
        members, required = schema.get("properties", {}), set(schema.get("required", ()))
        assert schema.get("additionalProperties") is False  # no other member to draw
        options.append(st.fixed_dictionaries({k: _drawn(v) for k, v in members.items() if k in required},
                                             optional={k: _drawn(v) for k, v in members.items() if k not in required}))
    if "array" in kinds:
        options.append(st.lists(_drawn(schema["items"]), max_size=min(schema["maxItems"], 4)))
    return st.one_of(options)


# -- the consistency checks (A005), evaluated here from the schema's x-ecei-checks -----------------

_RULE = re.compile(r"^([a-z_][a-z0-9_]*) (<=|>=|<|>|==|!=) ([a-z_][a-z0-9_]*)$")
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq,
        "!=": operator.ne}


def _rule_is_false(rule: str, members: dict[str, Any]) -> bool:
    """Whether a check's rule is false for an object's members (JSON values, numbers exact):
    a comparison of two members, unknown (so not false) when either is absent or null. Dates are
    YYYY-MM-DD texts, so their order is that of the texts."""
    found = _RULE.match(rule)
    assert found, f"extend this evaluator to the rule {rule!r}"
    left, op, right = found.groups()
    a, b = members.get(left), members.get(right)
    return a is not None and b is not None and not _OPS[op](a, b)


def _checked_objects(schema: dict[str, Any], data: Any, pointer: str = "") -> list[tuple[str, Any, Any]]:
    """Every object of a document whose schema lists x-ecei-checks: (pointer, checks, members)."""
    out: list[tuple[str, Any, Any]] = []
    if isinstance(data, dict):
        if "x-ecei-checks" in schema:
            out.append((pointer, schema["x-ecei-checks"], data))
        for key, value in data.items():
            out += _checked_objects(schema["properties"][key], value, f"{pointer}/{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _checked_objects(schema["items"], value, f"{pointer}/{i}")
    return out


def _expected_check_failures(schema: dict[str, Any], data: Any, problems: list[Any]) -> list[tuple[str, str]]:
    """The A005 problems the schema's x-ecei-checks predict: each failed rule of an object with no
    other problem inside it (the engine checks an object's consistency once its members are
    valid), at the field the check names."""
    expected = []
    for pointer, checks, members in _checked_objects(schema, data):
        own = {f"{pointer}/{c['field']}" if "field" in c else pointer for c in checks}
        inside = [p for p in problems if p.pointer.startswith(pointer + "/") and
                  not (p.code == "A005" and p.pointer in own)]
        if inside:
            continue
        for c in checks:
            if _rule_is_false(c["rule"], members):
                expected.append(("A005", f"{pointer}/{c['field']}" if "field" in c else pointer))
    return sorted(expected)


def _marked_precision(problem: Any, schema: dict[str, Any], data: Any) -> bool:
    """An A004 for a number that is not whole with more significant digits than the field's
    x-ecei-significant-digits (what the schema marks and does not state)."""
    if problem.code != "A004":
        return False
    limit = _schema_at(schema, problem.pointer).get("x-ecei-significant-digits")
    value = _value_at(data, problem.pointer)
    return (limit is not None and isinstance(value, Decimal) and value != value.to_integral_value()
            and len(value.normalize().as_tuple().digits) > limit)


@pytest.mark.parametrize("which", _rulesets())
def test_every_document_drawn_from_the_schema_is_accepted_by_the_engine_but_for_its_marked_checks(
        which: tuple[str, str, str]) -> None:
    """Property: every document drawn from a version's assessment schema (values by
    hypothesis-jsonschema), sent to the engine as JSON text, is accepted by the engine (validated
    and decided), except for what the schema marks: a number beyond its field's
    x-ecei-significant-digits, and the consistency checks of x-ecei-checks, which the engine
    refuses (A005 at the check's field) exactly when the rule is false."""
    ruleset = _load(which)
    schema = assessment_schema(ruleset)

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(_drawn(schema))
    def check(document: Any) -> None:
        data = parse_json(json.dumps(document))
        problems = check_assessment(ruleset, data)
        unmarked = [p for p in problems if p.code != "A005" and not _marked_precision(p, schema, data)]
        assert unmarked == []
        assert sorted((p.code, p.pointer) for p in problems if p.code == "A005") == \
            _expected_check_failures(schema, data, problems)
        if not problems:
            evaluate(ruleset, data)

    check()


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("which", _rulesets())
def test_every_assessment_the_engines_strategies_draw_validates_against_the_assessment_schema(
        which: tuple[str, str, str]) -> None:
    """Property: every assessment the engine's own strategies draw (valid by construction), written
    as JSON, validates against the version's assessment schema (formats asserted)."""
    ruleset = _load(which)
    validator = _validator(assessment_schema(ruleset))

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(assessments(ruleset))
    def check(assessment: dict[str, Any]) -> None:
        document = json.loads(json.dumps(to_json(assessment)))
        assert [e.message for e in validator.iter_errors(document)] == []

    check()


# -- numbers: every way of writing one, judged alike ---------------------------------------------

#: A decimal input (management_fte, minimum 0) and an integer input (committed_participants,
#: minimum 0) of 3.0.1, in the gold example with no private participants (so that the check
#: private_participants <= committed_participants holds whatever is written there).
NUMBER_FIELDS = ["/eligibility/management_fte", "/eligibility/committed_participants"]
NUMBER_BASE = {**GOLD, "eligibility": {**GOLD["eligibility"], "private_participants": 0}}


def _document_text(pointer: str, text: str, base: Any = None) -> str:
    """A document (the gold example by default) with the value at a JSON pointer written as ``text``."""
    data = copy.deepcopy(GOLD if base is None else base)
    *parents, last = split_pointer(pointer)
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = "@@value@@"
    return json.dumps(data).replace('"@@value@@"', text)


def _number_texts() -> st.SearchStrategy[str]:
    """JSON number texts of every shape: integers, decimals with a point, exponents, trailing
    zeros, many digits, zeros with exponents, near 10^14, 2^53 and 10^16."""
    digits = st.integers(0, 10**20).map(str)
    mantissa = st.tuples(st.sampled_from(["", "-"]), digits, st.one_of(st.just(""), digits.map(lambda d: "." + d)))
    exponent = st.one_of(st.just(""), st.integers(-30, 30).map(lambda e: f"e{e}"))
    built = st.builds(lambda m, e: m[0] + m[1].lstrip("0").rjust(1, "0") + m[2] + e, mantissa, exponent)
    edges = st.sampled_from(["124.0", "1e2", "1.24E2", "0E-20", "-0.0", "0.000000000000000000", "9007199254740991",
                             "9007199254740992", "9007199254740991.0", "9.1e15", "1e16", "1e-15", "1e-16",
                             "0.30000000000000004", "0.1234567890123456", "123456789012345.6", "99999999999999.5",
                             "100000000000000", "1000000000000000.5", "1.000000000000000", "2.50", "1e-400"])
    return st.one_of(edges, built)


def _exact_double(text: str) -> bool:
    """Whether a JSON number text's value is exactly an IEEE double (what a validator reading
    doubles sees is then the value itself)."""
    value = Decimal(text)
    try:
        return Decimal(float(text)) == value
    except OverflowError:
        return False


@pytest.mark.parametrize("pointer", NUMBER_FIELDS)
def test_a_number_passes_the_schema_exactly_when_the_engine_takes_it_but_for_marked_precision(pointer: str) -> None:
    """Property: a number written any way (124.0, 1e2, 0E-20, 2^53, 16 digits, ...) at an integer
    or a decimal input: when the engine accepts it, the schema does; when the schema accepts it and
    the engine does not, the number is not whole and has more significant digits than the field's
    x-ecei-significant-digits, below 10^14, or its text is not exactly an IEEE double (a validator
    reading doubles sees the nearest one: the residue the schema's $comment names)."""
    schema = assessment_schema(V301)
    validator = _validator(schema)
    field = _schema_at(schema, pointer)

    @settings(max_examples=max(400, settings.default.max_examples), suppress_health_check=[HealthCheck.too_slow])
    @given(_number_texts())
    @example("124.0")
    @example("0E-20")
    @example("9007199254740992")
    def check(text: str) -> None:
        document = _document_text(pointer, text, NUMBER_BASE)
        try:
            engine = [(p.code, p.message) for p in check_assessment(V301, parse_json(document))]
        except AssessmentError:  # not parsed (A006: more than 400 characters, or an exponent beyond 400)
            engine = [("A006", "")]
        schema_ok = validator.is_valid(json.loads(document))
        if not engine:
            assert schema_ok, f"the schema refuses {text}, which the engine accepts"
        elif schema_ok:
            value = Decimal(text)
            marked = ("x-ecei-significant-digits" in field and engine[0][0] == "A004"
                      and "significant digits" in engine[0][1] and abs(value) < 10**14)
            assert marked or not _exact_double(text), f"the schema accepts {text}, which the engine refuses: {engine}"

    check()


ACCEPTED = [
    ("/benchmarking/success_stories", "124.0"), ("/benchmarking/success_stories", "1e2"),
    ("/benchmarking/success_stories", "1.24E2"), ("/benchmarking/success_stories", "9007199254740991.0"),
    ("/indicators/2.1", "0E-20"), ("/indicators/2.1", "0.000000000000000000"), ("/indicators/2.1", "-0.0"),
    ("/indicators/2.1", "9007199254740991"), ("/indicators/2.1", "9007199254740991.0"),
    ("/indicators/2.1", "1234567890123456.0"), ("/indicators/2.1", "99999999999999.5"), ("/indicators/2.1", "null"),
    ("/indicators/2.1", "1e-15"), ("/indicators/2.1", "2.50"), ("/indicators/1.1.0", "0.999999999999999"),
    ("/assessed_on", '"2020-02-29"'), ("/assessed_on", '"2000-02-29"'), ("/organisation/name", '"Zürich 😀"'),
]


@pytest.mark.parametrize(("pointer", "text"), ACCEPTED, ids=[f"{p}={t}" for p, t in ACCEPTED])
def test_the_engine_and_the_schema_accept_the_same_edges(pointer: str, text: str) -> None:
    """At the edges, both accept: an integer written 124.0, 1e2 or 1.24E2 (JSON and JSON Schema
    read numbers by value), a zero with an exponent (0E-20), 2^53 - 1 as a decimal written with a
    point, a whole decimal of 16 digits, 15 significant digits below 10^14, the smallest decimal
    magnitude, a leap day, null for an optional member, text beyond ASCII."""
    document = _document_text(pointer, text)
    assert check_assessment(V301, parse_json(document)) == []
    assert _validator(assessment_schema(V301)).is_valid(json.loads(document))


REFUSED = [
    ("/assessed_on", '"2021-02-30"'), ("/assessed_on", '"2021-13-01"'), ("/assessed_on", '"0000-01-01"'),
    ("/assessed_on", '"2100-02-29"'), ("/assessed_on", '"2021-1-01"'), ("/assessed_on", '"9998-01-01"'),
    ("/assessed_on", '"2021-05-18\\n"'), ("/history/0/awarded_on", '"2019-04-31"'),
    ("/benchmarking/success_stories", "9007199254740992"), ("/benchmarking/success_stories", "9007199254740992.0"),
    ("/benchmarking/success_stories", "1e20"), ("/benchmarking/success_stories", "124.5"),
    ("/benchmarking/success_stories", "-1"), ("/indicators/2.1", "9007199254740992"), ("/indicators/2.1", "9.1e15"),
    ("/indicators/2.1", "1e16"), ("/indicators/2.1", "1e-16"), ("/indicators/2.1", "123456789012345.6"),
    ("/indicators/2.1", "1000000000000000.5"), ("/indicators/1.1.0", "1.5"), ("/organisation", "null"),
    ("/history/0", "null"), ("/organisation/country", '"de"'), ("/organisation/country", '"DE\\n"'),
    ("/organisation/name", '"a\\ud800"'), ("/history/0/label", '"platinum"'), ("/benchmarking/completed", '"yes"'),
]


@pytest.mark.parametrize(("pointer", "text"), REFUSED, ids=[f"{p}={t}" for p, t in REFUSED])
def test_the_schema_refuses_what_the_engine_refuses_at_the_edges(pointer: str, text: str) -> None:
    """At the edges, both refuse, with a plain validator (no format assertion: a date is checked
    by its pattern): an impossible date (2021-02-30), a date with a final newline, a date the
    version's month_end arithmetic cannot take (9998-01-01), 2^53 for an integer or a decimal
    however written (9.1e15 included), a whole number of 17 digits written with a point, a
    fraction of 16 significant digits from 10^14 up, a decimal beyond 10^16 or nearer zero than
    10^-15, a number out of range, a pattern with a final newline (DE\\n), a lone surrogate,
    null where a value is required, a value outside its enumeration."""
    document = _document_text(pointer, text)
    try:
        refused = check_assessment(V301, parse_json(document)) != []
    except AssessmentError:  # a lone surrogate is not text: the document does not parse (A006)
        refused = True
    assert refused, "the engine accepts it"
    assert not jsonschema.Draft202012Validator(assessment_schema(V301)).is_valid(json.loads(document)), \
        "the schema accepts it"


MARKED = [("/indicators/1.1.0", "0.30000000000000004", "A004", "x-ecei-significant-digits"),
          ("/indicators/2.1", "0.1234567890123456", "A004", "x-ecei-significant-digits"),
          ("/eligibility/private_participants", "125", "A005", "x-ecei-checks")]


@pytest.mark.parametrize(("pointer", "text", "code", "keyword"), MARKED, ids=[m[1] for m in MARKED])
def test_what_the_schema_cannot_state_it_marks_where_it_applies(pointer: str, text: str, code: str,
                                                               keyword: str) -> None:
    """What JSON Schema cannot state passes the schema and is refused by the engine, and the schema
    marks it where it applies: more than 15 significant digits below 10^14
    (0.30000000000000004: x-ecei-significant-digits on the field), a failed consistency check
    (private participants above committed ones: x-ecei-checks on the object, with its rule and
    message). The $comment and assessment_schema's docstring name both keywords. (Should the
    schema learn to state one of them, this test fails: move the case to the refused ones.)"""
    schema = assessment_schema(V301)
    document = _document_text(pointer, text)
    assert jsonschema.Draft202012Validator(schema).is_valid(json.loads(document))
    problems = check_assessment(V301, parse_json(document))
    assert [p.code for p in problems] == [code]
    *parent, _ = split_pointer(pointer)
    marked = _schema_at(schema, pointer if code == "A004" else "/" + "/".join(parent))
    assert keyword in marked
    if code == "A005":
        assert marked[keyword] == [{"code": "A005", "rule": "private_participants <= committed_participants",
                                    "message": problems[0].message, "field": "private_participants"}]
    assert keyword in (assessment_schema.__doc__ or "")
    assert keyword in SCHEMA_RESIDUE
    assert schema["$comment"].endswith(SCHEMA_RESIDUE)


@pytest.mark.parametrize("which", _rulesets())
def test_x_ecei_checks_lists_every_consistency_check_of_the_version(which: tuple[str, str, str]) -> None:
    """Every object input that declares checks has them, in order, in its schema's x-ecei-checks
    (rule, message, field), and no other object has the keyword."""
    ruleset = _load(which)
    schema = assessment_schema(ruleset)

    def walk(f: Any, s: dict[str, Any]) -> int:
        count = 0
        if f.kind == "object":
            declared = [{"code": "A005", "rule": c.rule, "message": c.message,
                         **({"field": c.field} if c.field else {})} for c in f.spec.checks]
            assert s.get("x-ecei-checks", []) == declared
            count += len(declared)
        for name, sub in (f.fields if f.kind == "object" else f.entries).items():
            count += walk(sub, s["properties"][name])
        if f.kind == "list" and f.items is not None:
            count += walk(f.items, s["items"])
        return count

    assert walk(ruleset.plan.inputs, schema) > 0  # every version here has a check


def test_the_calendar_date_pattern_matches_exactly_the_calendar_dates() -> None:
    """CALENDAR_DATE matches a ten-character YYYY-MM-DD text if and only if date.fromisoformat
    takes it: every 29 February of years 0 to 9999, and every month and day 00 to 39 of a few years;
    searched as a validator searches (Python's re), it refuses a date with a final newline."""
    pattern = re.compile(CALENDAR_DATE)

    def real(text: str) -> bool:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return False
        return True

    texts = [f"{y:04d}-02-29" for y in range(10_000)]
    texts += [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 1, 1900, 2000, 2021, 2024, 9999)
              for m in range(20) for d in range(40)]
    wrong = [t for t in texts if bool(pattern.fullmatch(t)) != real(t)]
    assert wrong == []
    assert pattern.search("2021-05-18")
    assert not pattern.search("2021-05-18\n")


def test_the_schema_command_prints_assessment_schema() -> None:
    """``ecei-rules schema --assessment --version 3.0.1`` prints assessment_schema of that version."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    result = CliRunner().invoke(app, ["schema", "--assessment", "--version", "3.0.1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(assessment_schema(V301)))


# -- patterns: RE2 in the engine, the same strings in every validator's dialect -------------------


def _with_pattern(pattern: str) -> Ruleset:
    declared = f"  code: {{type: string, pattern: {json.dumps(pattern, ensure_ascii=False)}}}\n"
    text = MINIMAL.read_text(encoding="utf-8").replace("  score: {type: decimal}\n",
                                                       "  score: {type: decimal}\n" + declared)
    return load_ruleset_text(text)


@pytest.mark.parametrize("pattern", ["(?i)[a-z]{2}", r"\bAB", r"\pL+", "[[:upper:]]{2}", r"\QA.B\E", "😀+"])
def test_a_pattern_without_a_portable_form_is_left_to_the_engine_and_marked(pattern: str) -> None:
    """A pattern RE2 reads differently from ECMA-262 or Python's re (flags, word boundaries,
    Unicode and POSIX classes, quoting, characters beyond the BMP) is not in the schema's
    'pattern', which then only refuses lone surrogates, as any text's (so the schema never refuses
    what the engine accepts), and keeps its RE2 text in x-ecei-pattern."""
    code = assessment_schema(_with_pattern(pattern))["properties"]["code"]
    assert code["pattern"] == TEXT
    assert code["x-ecei-pattern"] == pattern
