"""The assessment JSON Schema of a version (``ecei_rules.assessment_schema``) accepts what the
engine accepts: generated documents go both ways (hypothesis-jsonschema from the schema to the
engine, the engine's strategies to the schema), the engine's refusals that JSON Schema can state
are in it, and what it cannot state is the residue its docstring names, no more."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from ecei_rules import Registry, Ruleset, assessment_schema, check_assessment, evaluate, load_ruleset
from ecei_rules.batch import parse_json
from ecei_rules.core.canonical import MAX_SIGNIFICANT_DIGITS, significant_digits, to_json
from ecei_rules.core.pointers import split_pointer
from ecei_rules.ruleset.inputs import CALENDAR_DATE, SCHEMA_RESIDUE
from ecei_rules.testing.strategies import assessments

ROOT = Path(__file__).parents[2]
SHIPPED = Registry.shipped()
VERSIONS = [(m, v) for m in SHIPPED.methodologies() for v in SHIPPED.versions(m)]
EVERY = ROOT / "tests" / "data" / "every" / "1.0.0.yaml"
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))


def _rulesets() -> list[Any]:
    out = [pytest.param(("shipped", m, v), id=f"{m}@{v}") for m, v in VERSIONS]
    return [*out, pytest.param(("file", str(EVERY), ""), id="every-construct")]


def _load(which: tuple[str, str, str]) -> Ruleset:
    kind, a, b = which
    return SHIPPED.get(a, b) if kind == "shipped" else load_ruleset(a)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """As a platform would validate: the draft 2020-12 validator, formats asserted."""
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _at(data: Any, pointer: str) -> Any:
    for part in split_pointer(pointer):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _in_the_residue(problem: Any, data: Any) -> bool:
    """The engine's refusals JSON Schema cannot state (the residue of assessment_schema's docstring):
    a decimal with more than 15 significant digits, or a consistency check across fields (A005)."""
    if problem.code == "A005":
        return True
    if problem.code == "A004" and "significant digits" in problem.message:
        return significant_digits(_at(data, problem.pointer)) > MAX_SIGNIFICANT_DIGITS
    return False


def _drawn(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents of a schema: every value drawn by hypothesis-jsonschema from its own schema, the
    objects and arrays around them assembled here from ``properties``, ``required`` (the others
    present or not) and ``items`` (hypothesis-jsonschema 0.23.1 draws objects through an internal
    of hypothesis, ``many.more``, that the hypothesis installed here no longer has)."""
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


@pytest.mark.parametrize("which", _rulesets())
def test_every_document_drawn_from_the_assessment_schema_is_accepted_by_the_engine_but_the_residue(
        which: tuple[str, str, str]) -> None:
    """Property: every document drawn from a version's assessment schema (values by hypothesis-jsonschema),
    sent to the engine as JSON text, is accepted by the engine (validated and decided), except
    the residue the schema documents and nothing else: a decimal with more than 15 significant
    digits, or a failed consistency check (A005)."""
    ruleset = _load(which)
    schema = assessment_schema(ruleset)

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(_drawn(schema))
    def check(document: Any) -> None:
        data = parse_json(json.dumps(document))
        problems = check_assessment(ruleset, data)
        assert [p for p in problems if not _in_the_residue(p, data)] == []
        if not problems:
            evaluate(ruleset, data)

    check()


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


def _with(pointer: str, value: Any) -> dict[str, Any]:
    """The gold example (valid under 3.0.1) with one value set (a JSON pointer)."""
    data = copy.deepcopy(GOLD)
    *parents, last = split_pointer(pointer)
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


REFUSED = [
    ("/assessed_on", "2021-02-30"), ("/assessed_on", "2021-13-01"), ("/assessed_on", "0000-01-01"),
    ("/assessed_on", "2100-02-29"), ("/assessed_on", "2021-1-01"), ("/assessed_on", "9998-01-01"),
    ("/history/0/awarded_on", "2019-04-31"), ("/benchmarking/success_stories", 2**53),
    ("/benchmarking/success_stories", -1), ("/indicators/2.1", 10**16), ("/indicators/2.1", 1e-16),
    ("/indicators/1.1.0", 1.5), ("/organisation", None), ("/history/0", None),
    ("/organisation/country", "de"), ("/organisation/extra", 1), ("/indicators/9.9", 1),
    ("/history/0/label", "platinum"), ("/benchmarking/completed", "yes"),
]


@pytest.mark.parametrize(("pointer", "value"), REFUSED, ids=[f"{p}={v!r}" for p, v in REFUSED])
def test_the_assessment_schema_refuses_what_the_engine_refuses(pointer: str, value: Any) -> None:
    """What the engine refuses and JSON Schema can state, the schema refuses too, with a plain
    validator (no format assertion needed: a date is checked by its pattern): an impossible date
    (2021-02-30), a date the version's month_end arithmetic cannot take (9998-01-01), an integer
    beyond 2^53 - 1, a number out of range, a decimal of too great or too small a magnitude,
    null where a value is required, an undeclared key."""
    ruleset = SHIPPED.get("ecei-labels", "3.0.1")
    assert check_assessment(ruleset, GOLD) == []
    assert jsonschema.Draft202012Validator(assessment_schema(ruleset)).is_valid(GOLD)
    data = _with(pointer, value)
    assert check_assessment(ruleset, parse_json(json.dumps(data))), "the engine accepts it"
    assert not jsonschema.Draft202012Validator(assessment_schema(ruleset)).is_valid(data), "the schema accepts it"


ACCEPTED = [("/assessed_on", "2020-02-29"), ("/assessed_on", "2000-02-29"), ("/indicators/2.1", None),
            ("/indicators/2.1", 0), ("/indicators/2.1", 1e-15), ("/indicators/1.1.0", 0.999999999999999)]


@pytest.mark.parametrize(("pointer", "value"), ACCEPTED, ids=[f"{p}={v!r}" for p, v in ACCEPTED])
def test_the_assessment_schema_accepts_what_the_engine_accepts_at_the_edges(pointer: str, value: Any) -> None:
    """A leap day, null for an optional member ("not known"), zero, the smallest decimal magnitude
    and fifteen significant digits: the engine and the schema both accept them."""
    ruleset = SHIPPED.get("ecei-labels", "3.0.1")
    data = _with(pointer, value)
    assert check_assessment(ruleset, parse_json(json.dumps(data))) == []
    assert _validator(assessment_schema(ruleset)).is_valid(data)


RESIDUE = [("/benchmarking/success_stories", "8.0", "A003", "124.0"),
           ("/indicators/1.1.0", "0.30000000000000004", "A004", "0.30000000000000004"),
           ("/indicators/2.1", "0E-20", "A004", "0E-20"),
           ("/eligibility/private_participants", "125", "A005", "A005")]


@pytest.mark.parametrize(("pointer", "text", "code", "named"), RESIDUE, ids=[r[1] for r in RESIDUE])
def test_the_assessment_schema_residue_is_what_json_schema_cannot_say(pointer: str, text: str, code: str,
                                                                     named: str) -> None:
    """The residue, explicitly: an integer written with a decimal point (124.0), a decimal with more
    than 15 significant digits (0.30000000000000004), a zero with a large exponent and a failed
    consistency check pass the schema and are refused by the engine; each is named in
    assessment_schema's docstring and in the schema's $comment. (Should the schema learn to say
    one of them, this test fails: move the case to the refused ones and update the docstring.)"""
    ruleset = SHIPPED.get("ecei-labels", "3.0.1")
    marker = "\"@@value@@\""
    document_text = json.dumps(_with(pointer, "@@value@@")).replace(marker, text)
    assert jsonschema.Draft202012Validator(assessment_schema(ruleset)).is_valid(json.loads(document_text))
    assert [p.code for p in check_assessment(ruleset, parse_json(document_text))] == [code]
    assert named in (assessment_schema.__doc__ or "")
    assert named in SCHEMA_RESIDUE
    assert assessment_schema(ruleset)["$comment"].endswith(SCHEMA_RESIDUE)


def test_the_calendar_date_pattern_matches_exactly_the_calendar_dates() -> None:
    """CALENDAR_DATE matches a ten-character YYYY-MM-DD text if and only if date.fromisoformat
    takes it: every 29 February of years 0 to 9999, and every month and day 00 to 39 of a few years."""
    import re

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


def test_the_schema_command_prints_assessment_schema() -> None:
    """``ecei-rules schema --assessment --version 3.0.1`` prints assessment_schema of that version."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    result = CliRunner().invoke(app, ["schema", "--assessment", "--version", "3.0.1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(assessment_schema(SHIPPED.get("ecei-labels", "3.0.1"))))


