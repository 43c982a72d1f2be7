"""Fuzzing the three readers of untrusted text (issue 12): only diagnostics ever come out.

The examples are derandomised by the loaded hypothesis profile (``ci``); each test stays well
under ten seconds.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecei_rules import Ruleset, load_ruleset
from ecei_rules.batch import parse_json
from ecei_rules.errors import CODES, AssessmentError
from ecei_rules.language.expr import FUNCTIONS, Scope, Ty, compile_expression, parse
from ecei_rules.ruleset.safe_yaml import parse_yaml

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"
_RULESET: list[Ruleset] = []

quick = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def every() -> Ruleset:
    if not _RULESET:
        _RULESET.append(load_ruleset(EVERY))
    return _RULESET[0]


# -- YAML ----------------------------------------------------------------------------------------

YAML_BITS = st.sampled_from([
    "a", "b", ":", ": ", "- ", "\n", "  ", "[", "]", "{", "}", ",", "&x ", "*x", "!!python/object ", "!t ",
    "<<: ", "'", '"', "#", "---\n", "...\n", "%YAML 1.2\n", "|\n", ">\n", "? ", "\t", "1.5", "0x1F", "1e999",
    ".nan", "2021-02-30", "yes", "~", "\\u0000", "\\ud800", "\ufeff", "\x00", "\x85", "\u2028", "é",
])
YAML_TEXT = st.one_of(st.text(max_size=200), st.lists(YAML_BITS, max_size=40).map("".join))


def check_yaml(text: str) -> None:
    doc = parse_yaml(text, "fuzz.yaml")
    for d in doc.diagnostics:
        assert d.code in CODES
        assert d.code.startswith("E0") or d.code == "E103"
        assert d.file == "fuzz.yaml"
    if doc.diagnostics:
        assert doc.data is None or isinstance(doc.data, (dict, list))


@quick
@given(YAML_TEXT)
def test_parse_yaml_never_raises(text: str) -> None:
    check_yaml(text)


@quick
@given(st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
              st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20,
))
def test_json_documents_read_as_yaml_never_raise(value: Any) -> None:
    """JSON is (nearly) YAML: whatever comes out is either data or diagnostics."""
    check_yaml(json.dumps(value, default=str))


# -- conditions ----------------------------------------------------------------------------------

SCOPE = Scope(
    inputs={"score": Ty("decimal"), "count": Ty("integer"), "flag": Ty("boolean"), "day": Ty("date"),
            "name": Ty("string", values=("a", "b")), "items": Ty("list", item=Ty("integer"))},
    params={"limit": (Ty("decimal"), Decimal("0.5")), "n": (Ty("integer"), 3)},
)

ATOMS = st.sampled_from([
    "score", "count", "flag", "day", "name", "items", "params.limit", "params.n", "params.missing", "x",
    "true", "false", "None", "1", "0", "-1", "1.5", "1e999", "10**10**10", "'a'", '"b"', "''", "[]",
    "[1, 2]", "()", "__class__", "__import__", "().__class__", "score.__class__", "label", "date('2021-02-30')",
    "lambda: 1", "...", "b'x'", "f'{x}'", "9" * 60,
])
NAMES = st.sampled_from([*FUNCTIONS, "eval", "exec", "open", "getattr", "__import__", "print", "type"])


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from([" and ", " or ", " + ", " - ", " * ", " / ", " ** ", " % ",
                                                   " // ", " < ", " <= ", " == ", " != ", " >= ", " in ",
                                                   " not in ", " is ", " & ", " << "]), inner)
        return st.one_of(
            binary.map("".join),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
            st.tuples(NAMES, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(NAMES, inner, inner).map(lambda t: f"{t[0]}({t[1]} for x in items if {t[2]})"),
            st.tuples(inner, st.sampled_from(["real", "__class__", "a", "_x", "mro"])).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        )
    return st.recursive(ATOMS, extend, max_leaves=12)


def check_expression(text: str) -> None:
    tree, errors = parse(text)
    assert (tree is None) == bool(errors)
    compiled, errors = compile_expression(text, SCOPE)
    assert (compiled is None) == bool(errors)
    for e in errors:
        assert e.code in CODES
        assert e.code[:2] in ("E1", "E2")
        assert 0 <= e.offset <= len(text)


@quick
@given(st.text(max_size=300))
def test_compile_expression_on_arbitrary_text(text: str) -> None:
    check_expression(text)


@quick
@given(expressions())
def test_compile_expression_on_python_like_expressions(text: str) -> None:
    check_expression(text)


@quick
@given(st.integers(min_value=1, max_value=6000), st.sampled_from(["(", "[", "not ", "-", "(lambda: "]))
def test_compile_expression_on_deep_prefixes(depth: int, prefix: str) -> None:
    check_expression(prefix * depth + "score" + {"(": ")", "[": "]", "(lambda: ": ")"}.get(prefix, "") * depth)


# -- assessments ---------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12),
    st.sampled_from(["2021-03-15", "2021-02-30", "DE", "de", "k1", "k9", "basic", "small", "", "\x00", "\u200f"]),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
)
KEYS = st.one_of(st.sampled_from(["org", "id", "country", "size", "assessed_on", "staff", "total", "managers",
                                  "fte", "kpi", "k1", "k2", "k3", "areas", "validated", "history", "label",
                                  "awarded_on", "valid_until", "extra"]), st.text(max_size=6))
JSONISH = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=30,
)


def as_json(value: Any) -> str:
    def default(o: Any) -> Any:
        raise TypeError(o)

    def encode(v: Any) -> str:
        if isinstance(v, Decimal):
            return str(v) if v.is_finite() else "0"
        if isinstance(v, list):
            return "[" + ",".join(encode(i) for i in v) + "]"
        if isinstance(v, dict):
            return "{" + ",".join(json.dumps(k) + ":" + encode(i) for k, i in v.items()) + "}"
        return json.dumps(v, default=default)

    return encode(value)


def check_assessment_text(text: str) -> None:
    try:
        data = parse_json(text)
    except AssessmentError as exc:
        refusal = [d.code for d in exc.diagnostics]
        assert refusal == ["A006"]
        return
    normal, problems = every().plan.validator.validate(data)
    for d in problems:
        assert d.code in CODES
        assert d.code.startswith("A")
    assert isinstance(normal, dict)


@quick
@given(JSONISH)
def test_validator_on_arbitrary_json_data(value: Any) -> None:
    check_assessment_text(as_json(value))


@quick
@given(st.dictionaries(KEYS, JSONISH, max_size=6))
def test_validator_on_assessment_shaped_data(value: dict[str, Any]) -> None:
    value.setdefault("assessed_on", "2021-03-15")
    check_assessment_text(as_json(value))


@quick
@given(st.one_of(st.text(max_size=200), st.lists(st.sampled_from([
    "{", "}", "[", "]", ",", ":", '"a"', '"\\ud800"', '"\\u0000"', "1", "-0", "1e400", "1e99999999", "NaN",
    "Infinity", "9" * 450, "true", "null", " ", "\n", '"org"', '"assessed_on"', '"2021-03-15"',
]), max_size=40).map("".join)))
def test_parse_json_on_arbitrary_text(text: str) -> None:
    check_assessment_text(text)
