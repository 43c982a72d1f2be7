"""Assessments given as Python values, not parsed from JSON: the validator turns any value into
either the assessment as plain built-in values or an AssessmentError with located diagnostics,
never another exception, with bounded work, and decides the same whatever the caller's decimal
context (see the module docstring of ``ecei_rules.ruleset.inputs``).

Each test attacks one way a caller's value could get past the validator or break it: an instance
of a subclass of a plain type (its overridden methods would run in the engine, and its outcome be
remembered in a memo table shared with every later caller), an object posing as a plain value
(``__class__``), the caller's decimal context, a decimal beyond every exponent, keys that are not
strings, an integer too long for ``str()``, a lone surrogate, an object with half a million
unknown keys, a dict changed by another thread while it is read.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecei_rules import Registry, check_assessment, evaluate, validate_assessment
from ecei_rules.engine.evaluate import decision_text
from ecei_rules.errors import AssessmentError, Diagnostic
from ecei_rules.ruleset import inputs
from ecei_rules.ruleset.load import Ruleset

ROOT = Path(__file__).resolve().parents[2]
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))
#: the threshold of criterion 3.2 of ecei-labels 3.0.1: indicators["3.2"] >= params.gold_3_2
THRESHOLD_3_2 = Decimal("0.3")
PLAIN = {dict, list, str, int, bool, Decimal, dt.date}


def version() -> Ruleset:
    return Registry.shipped().get("ecei-labels", "3.0.1")


def gold() -> dict[str, Any]:
    return copy.deepcopy(GOLD)


def put(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def problems(data: Any) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in check_assessment(version(), data)]


def plain_all_the_way(value: Any) -> bool:
    """Whether a value is made of plain built-in values only, keys included (by ``type``, which
    no object can change)."""
    if type(value) is dict:
        return all(type(k) is str and plain_all_the_way(v) for k, v in value.items())
    if type(value) is list:
        return all(plain_all_the_way(v) for v in value)
    return type(value) in PLAIN


def outcome_3_2(text: str) -> str:
    return next(c["outcome"] for c in json.loads(text)["criteria"] if c["id"] == "3.2")


# -- 1. instances of subclasses of plain types ------------------------------------------------------

#: The names of the methods of the caller's classes that were called (none may be).
CALLED: list[str] = []


def _spy(name: str, result: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        CALLED.append(name)
        return result(self, *args)
    return method


def _lying(name: str, base: type, lies: dict[str, Any]) -> type:
    """A subclass of ``base`` whose methods (and properties) record their call and lie; its
    ``__class__`` says it is ``base``."""
    namespace: dict[str, Any] = {method: property(_spy(method, result.fget)) if isinstance(result, property)
                                 else _spy(method, result) for method, result in lies.items()}
    namespace["__class__"] = property(lambda self: base)
    return type(name, (base,), namespace)


_NUMBER_LIES = {name: (lambda self, *a: False) for name in ("__eq__", "__lt__", "__le__", "__gt__", "__ge__")} | {
    "__str__": lambda self: "7", "__repr__": lambda self: "7", "__format__": lambda self, spec: "7",
    "__int__": lambda self: 7, "__index__": lambda self: 7, "__float__": lambda self: 7.0,
    "__abs__": lambda self: self, "__bool__": lambda self: True}
LyingDecimal = _lying("LyingDecimal", Decimal, _NUMBER_LIES | {
    "as_tuple": lambda self: Decimal("7").as_tuple(), "normalize": lambda self, *a: Decimal(7),
    "adjusted": lambda self: 0, "is_finite": lambda self: True,
    "to_integral_value": lambda self, *a, **k: Decimal(7)})
LyingInt = _lying("LyingInt", int, _NUMBER_LIES)
LyingFloat = _lying("LyingFloat", float, _NUMBER_LIES | {"is_integer": lambda self: True})
_TEXT_LIES = {"__len__": lambda self: 1, "__str__": lambda self: "x", "__repr__": lambda self: "x",
              "__format__": lambda self, spec: "x", "isascii": lambda self: True, "encode": lambda self, *a: b"x",
              "__iter__": lambda self: iter("x"), "__getitem__": lambda self, i: "x",
              "__contains__": lambda self, o: True, "isprintable": lambda self: True,
              "startswith": lambda self, *a: True}
#: an instance equals anything and hashes as any other
LyingStr = _lying("LyingStr", str, _TEXT_LIES | {"__eq__": lambda self, o: True, "__hash__": lambda self: 0})
#: lies about everything but equality and hash (a key of this class is the key its text spells)
TextStr = _lying("TextStr", str, _TEXT_LIES)
LyingDate = _lying("LyingDate", dt.date, {
    "__eq__": lambda self, o: True, "__lt__": lambda self, o: False, "__le__": lambda self, o: True,
    "__gt__": lambda self, o: False, "__ge__": lambda self, o: True, "isoformat": lambda self: "2005-01-01",
    "toordinal": lambda self: 1, "__str__": lambda self: "2005-01-01", "year": property(lambda self: 2005)})
LyingDict = _lying("LyingDict", dict, {
    "items": lambda self: iter(()), "keys": lambda self: iter(()), "get": lambda self, *a: None,
    "__getitem__": lambda self, k: None, "__iter__": lambda self: iter(()), "__len__": lambda self: 0,
    "__contains__": lambda self, k: False, "values": lambda self: iter(())})
LyingList = _lying("LyingList", list, {
    "__iter__": lambda self: iter(()), "__len__": lambda self: 0, "__getitem__": lambda self, i: None,
    "copy": lambda self: []})


def _hostile_cases() -> Iterator[Any]:
    """(id, path, the hostile value, its plain value) on the gold example of ecei-labels 3.0.1."""
    yield "decimal", ("indicators", "3.2"), LyingDecimal("0.31"), Decimal("0.31")
    yield "decimal-32-digits", ("indicators", "3.2"), LyingDecimal("0." + "3" * 32), Decimal("0." + "3" * 32)
    yield "int-for-integer", ("indicators", "1.1.1"), LyingInt(5), 5
    yield "int-for-decimal", ("indicators", "3.2"), LyingInt(1), 1
    yield "float-for-decimal", ("indicators", "1.1.0"), LyingFloat(0.91), Decimal("0.91")
    yield "str", ("organisation", "name"), LyingStr("Nordic"), "Nordic"
    yield "str-for-pattern", ("organisation", "country"), LyingStr("NO"), "NO"
    yield "str-for-enum", ("history", 0, "label"), LyingStr("bronze"), "bronze"
    yield "str-for-date", ("assessed_on",), LyingStr("2021-05-18"), dt.date(2021, 5, 18)
    yield "date", ("assessed_on",), LyingDate(2021, 5, 18), dt.date(2021, 5, 18)
    yield "date-in-a-list", ("history", 1, "awarded_on"), LyingDate(2019, 5, 14), dt.date(2019, 5, 14)
    yield "dict", ("organisation",), LyingDict(GOLD["organisation"]), dict(GOLD["organisation"])
    yield "list", ("history",), LyingList(GOLD["history"]), copy.deepcopy(GOLD["history"])
    yield "root", (), LyingDict(GOLD), None


@pytest.mark.parametrize(("path", "hostile", "plain"),
                         [pytest.param(*case[1:], id=case[0]) for case in _hostile_cases()])
def test_an_instance_of_a_subclass_is_validated_as_its_plain_value_without_calling_its_methods(
        path: tuple[Any, ...], hostile: Any, plain: Any) -> None:
    """A value of a subclass of str, int, float, Decimal, date, dict or list (each of whose
    methods records its call and lies, down to ``__class__``) is validated as its plain value:
    the validated data holds only plain values, equal to those of the plain assessment, and the
    decisions are the same; no method of the subclass is called, on any path."""
    data = put(gold(), path, hostile) if path else hostile
    expected = put(gold(), path, plain) if path else gold()
    CALLED.clear()
    ruleset = version()
    found, found_problems = ruleset.plan.validator.validate(data)
    wanted, wanted_problems = ruleset.plan.validator.validate(expected)
    assert [(d.code, d.pointer) for d in found_problems] == [(d.code, d.pointer) for d in wanted_problems]
    assert found == wanted
    assert plain_all_the_way(found)
    unordered = ruleset.plan.validator.validate_unordered(data)
    assert unordered is None or unordered == ruleset.plan.validator.validate_unordered(expected)
    if not wanted_problems:
        assert decision_text(ruleset, data) == decision_text(ruleset, expected)
        assert evaluate(ruleset, data).canonical_text() == evaluate(ruleset, expected).canonical_text()
    assert CALLED == []


def test_a_str_subclass_key_is_read_as_its_text() -> None:
    """A key given as an instance of a subclass of str (equal and hashed as its text) is the key
    its text spells: the validated data holds the plain key, on every path, and none of the
    subclass's methods is called."""
    data = put(gold(), ("organisation",), {TextStr(k): v for k, v in GOLD["organisation"].items()})
    data = {TextStr(k): v for k, v in data.items()}
    CALLED.clear()
    ruleset = version()
    normalised = validate_assessment(ruleset, data).data
    assert normalised == validate_assessment(ruleset, gold()).data
    assert plain_all_the_way(dict(normalised))
    assert decision_text(ruleset, data) == decision_text(ruleset, gold())
    assert CALLED == []


def test_a_lying_decimal_cannot_change_a_later_genuine_decision() -> None:
    """One caller's Decimal subclass that lies against the threshold of criterion 3.2 is judged
    by its value (0.31 >= 0.3: met), and a later caller's plain 0.31 in the same process, with
    the same shared registry and its memo tables, is decided byte for byte as in a fresh process."""

    class Lying(Decimal):
        def __ge__(self, other: Any) -> bool:
            return False if other == THRESHOLD_3_2 else Decimal.__ge__(self, other)

        def __le__(self, other: Any) -> bool:
            return True if other == THRESHOLD_3_2 else Decimal.__le__(self, other)

        def __gt__(self, other: Any) -> bool:
            return False if other == THRESHOLD_3_2 else Decimal.__gt__(self, other)

        def __lt__(self, other: Any) -> bool:
            return True if other == THRESHOLD_3_2 else Decimal.__lt__(self, other)

        __hash__ = Decimal.__hash__

    ruleset = version()
    hostile = put(gold(), ("indicators", "3.2"), Lying("0.31"))
    first = [decision_text(ruleset, hostile), evaluate(ruleset, hostile).canonical_text()]
    genuine = put(gold(), ("indicators", "3.2"), Decimal("0.31"))
    later = [decision_text(ruleset, genuine), evaluate(ruleset, genuine).canonical_text()]
    fresh = subprocess.run(
        [sys.executable, "-c", "import json, sys\nfrom decimal import Decimal\n"
         "from ecei_rules import Registry, evaluate\nfrom ecei_rules.engine.evaluate import decision_text\n"
         "data = json.loads(sys.argv[1]); data['indicators']['3.2'] = Decimal('0.31')\n"
         "ruleset = Registry.shipped().get('ecei-labels', '3.0.1')\n"
         "print(json.dumps([decision_text(ruleset, data), evaluate(ruleset, data).canonical_text()]))",
         json.dumps(GOLD)], capture_output=True, text=True, check=True)
    assert later == json.loads(fresh.stdout)
    assert outcome_3_2(later[0]) == "met"
    assert first == later  # the lying value was judged by its value too


class _PosingAs:
    """An object that is none of the plain types, but whose ``__class__`` (and so ``isinstance``)
    says it is one, and whose methods answer as that type's would, recording their call."""

    def __init__(self, cls: type) -> None:
        self._cls = cls

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # the point: posing as another class
        return self._cls

    def __getattr__(self, name: str) -> Any:
        CALLED.append(name)
        return lambda *args, **kwargs: True

    def __le__(self, other: Any) -> bool:
        CALLED.append("__le__")
        return True

    def __ge__(self, other: Any) -> bool:
        CALLED.append("__ge__")
        return True

    def __len__(self) -> int:
        CALLED.append("__len__")
        return 1

    def __bool__(self) -> bool:
        CALLED.append("__bool__")
        return True


@pytest.mark.parametrize(("path", "value", "message"), [
    pytest.param(("indicators", "1.1.1"), _PosingAs(int), "expected a whole number", id="posing-as-int"),
    pytest.param(("indicators", "3.2"), _PosingAs(Decimal), "expected a number", id="posing-as-decimal"),
    pytest.param(("organisation", "name"), _PosingAs(str), "expected a string", id="posing-as-str"),
    pytest.param(("benchmarking", "completed"), _PosingAs(bool), "expected true or false", id="posing-as-bool"),
    pytest.param(("assessed_on",), _PosingAs(dt.date), "expected a date", id="posing-as-date"),
    pytest.param(("organisation",), _PosingAs(dict), "expected an object", id="posing-as-dict"),
    pytest.param(("history",), _PosingAs(list), "expected a list", id="posing-as-list"),
    pytest.param(("assessed_on",), dt.datetime(2021, 5, 18, 12, 0), "a date and time", id="datetime"),
    pytest.param(("history", 0, "awarded_on"), dt.datetime(2017, 4, 25), "a date and time", id="datetime-in-list"),
])
def test_an_object_posing_as_a_plain_value_is_a003_at_its_path(path: tuple[Any, ...], value: Any,
                                                                message: str) -> None:
    """An object that says it is an int, a Decimal, a str, a bool, a date, a dict or a list (by
    ``__class__``, which ``isinstance`` believes) is none of them: A003 at its JSON path, on every
    path, and none of its methods is called; a datetime is not a date (the JSON readers never make
    one): A003."""
    data = put(gold(), path, value)
    CALLED.clear()
    pointer = "/" + "/".join(str(k) for k in path)
    found = check_assessment(version(), data)
    assert [(d.code, d.pointer) for d in found] == [("A003", pointer)]
    assert message in found[0].message
    assert version().plan.validator.validate_unordered(data) is None
    with pytest.raises(AssessmentError):
        decision_text(version(), data)
    assert CALLED == []


# -- 2. the caller's decimal context ---------------------------------------------------------------


def _contexts() -> Iterator[Any]:
    yield pytest.param(decimal.Context(), id="default")
    yield pytest.param(decimal.Context(prec=10), id="prec-10")
    yield pytest.param(decimal.Context(prec=15), id="prec-15")
    yield pytest.param(decimal.Context(prec=60), id="prec-60")
    yield pytest.param(decimal.Context(Emax=20, Emin=-20), id="narrow-exponents")
    yield pytest.param(decimal.Context(rounding=decimal.ROUND_DOWN, prec=12), id="round-down")
    yield pytest.param(decimal.Context(traps=[decimal.Inexact, decimal.Rounded, decimal.Overflow, decimal.Underflow,
                                              decimal.Clamped, decimal.Subnormal, decimal.InvalidOperation,
                                              decimal.DivisionByZero]), id="every-trap")


_DIGITS_CASES = [
    (("indicators", "3.2"), Decimal("0.29999999999999999999999999999999"), [("A004", "/indicators/3.2")]),
    (("indicators", "3.2"), Decimal("0.2999999999999999999"), [("A004", "/indicators/3.2")]),
    (("indicators", "3.2"), Decimal("0.299999999999999"), []),
    (("indicators", "3.2"), Decimal("0.29999999999999900000000000000000000"), []),
    (("indicators", "1.1.0"), Decimal("9007199254740992"), [("A004", "/indicators/1.1.0")]),
    (("indicators", "1.1.0"), Decimal("1E-16"), [("A004", "/indicators/1.1.0")]),
    (("indicators", "1.1.1"), Decimal("124.000000000000000000000000000000"), []),
    (("indicators", "1.1.1"), Decimal("9007199254740992.0"), [("A004", "/indicators/1.1.1")]),
    (("indicators", "1.1.1"), Decimal("1E+1000000"), [("A004", "/indicators/1.1.1")]),
]


@pytest.mark.parametrize("context", list(_contexts()))
def test_the_significant_digits_rule_is_decided_the_same_under_every_caller_decimal_context(context: Any) -> None:
    """A decimal input of more than 15 significant digits is A004 at its path, and one of at most
    15 (trailing zeros aside) is accepted, whatever the calling thread's decimal context (its
    precision, exponent range, rounding or traps): 32 digits are not rounded to 28 first, 19 are
    not rounded to 10, and no trap of the caller's is raised; the generated validation agrees."""
    ruleset = version()
    for path, value, expected in _DIGITS_CASES:
        data = put(gold(), path, value)
        with decimal.localcontext(context):
            found = [(d.code, d.pointer) for d in check_assessment(ruleset, data)]
            unordered = ruleset.plan.validator.validate_unordered(data)
        assert found == expected, (value, found)
        assert (unordered is None) == bool(expected), value


# -- 3. a decimal beyond every exponent --------------------------------------------------------------


@pytest.mark.parametrize("value", ["1E+1000000", "-1E+1000000", "1E+999999999999999999", "1.5E+1000000"])
@pytest.mark.parametrize("path", [("indicators", "1.1.1"), ("indicators", "3.2"), ("benchmarking", "success_stories")])
def test_a_decimal_beyond_the_context_exponents_is_a004_at_its_path(path: tuple[str, ...], value: str) -> None:
    """``Decimal("1E+1000000")`` (beyond the default context's largest exponent) for an integer or a
    decimal input is A004 at its JSON path, as the JSON readers refuse it, never decimal.Overflow."""
    data = put(gold(), path, Decimal(value))
    assert problems(data) == [("A004", "/" + "/".join(path))]
    assert version().plan.validator.validate_unordered(data) is None
    with pytest.raises(AssessmentError):
        evaluate(version(), data)


# -- 4. keys that are not strings --------------------------------------------------------------------


class _RaisingKey:
    """A key with the hash of a declared key whose every other method raises (``__eq__`` once it
    is in its dict)."""

    def __init__(self, like: str) -> None:
        self._hash = hash(like)
        self.armed = False

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self.armed:
            raise RuntimeError("__eq__ of a key")
        return False

    def __str__(self) -> str:
        raise RuntimeError("__str__ of a key")

    __repr__ = __str__


_KEYS = [1, None, 1.5, True, (1, 2), b"name", frozenset(), 10**5000, Decimal("1"), dt.date(2021, 1, 1)]


@pytest.mark.parametrize("where", [(), ("organisation",), ("indicators",), ("history", 0)],
                         ids=["root", "object", "map", "object-in-a-list"])
def test_a_key_that_is_not_a_string_is_a003_at_its_object(where: tuple[Any, ...]) -> None:
    """A key that is not a string (an int, None, a float, a bool, a tuple, bytes, a huge int, an
    object whose ``__eq__`` and ``__str__`` raise and whose hash is a declared key's), at the
    top, in an object, in a map or in an object of a list, is A003 at the object that holds it:
    never a TypeError from the search for a suggestion, nor the key's own exception."""
    pointer = "".join(f"/{k}" for k in where)
    for key in [*_KEYS, _RaisingKey("organisation" if not where else "name")]:
        data = gold()
        node: Any = data
        for k in where:
            node = node[k]
        node[key] = "x"
        if isinstance(key, _RaisingKey):
            key.armed = True
        found = check_assessment(version(), data)
        assert [(d.code, d.pointer) for d in found] == [("A003", pointer)], key.__class__
        assert "a key of an object must be a string" in found[0].message
        assert version().plan.validator.validate_unordered(data) is None
        with pytest.raises(AssessmentError):
            validate_assessment(version(), data)


# -- 5. values shown in messages -------------------------------------------------------------------


class _Metaclass(type):
    @property
    def __name__(cls) -> str:  # type: ignore[override]
        raise RuntimeError("__name__ of a class")


class _Unshowable(int, metaclass=_Metaclass):
    def __str__(self) -> str:
        raise RuntimeError("__str__")

    __repr__ = __format__ = __str__  # type: ignore[assignment]


class _Odd(metaclass=_Metaclass):
    pass


@pytest.mark.parametrize("path", [("organisation", "name"), ("benchmarking", "completed"), ("assessed_on",),
                                  ("history", 0, "awarded_on"), ("history", 0, "label"), ("organisation", "country")])
def test_any_value_is_shown_in_its_message_without_str(path: tuple[Any, ...]) -> None:
    """An integer of 5,000 digits (beyond the interpreter's limit for ``str()``) where a string, a
    boolean, a date or an enum is expected is A003 at its path, shown by its number of digits;
    an int subclass whose ``__str__`` and ``__repr__`` raise is shown by its digits, and an object
    whose metaclass's ``__name__`` raises by the name of its class."""
    pointer = "/" + "/".join(str(k) for k in path)
    for value, shown in ((10**5000, "an integer of 5001 digits"), (-(10**5000) + 1, "an integer of 5000 digits"),
                         (10**40, "an integer of 41 digits"), (_Unshowable(12345), "12345"), (_Odd(), "_Odd")):
        found = check_assessment(version(), put(gold(), path, value))
        assert [(d.code, d.pointer) for d in found] == [("A003", pointer)], value.__class__
        assert shown in found[0].message, found[0].message


# -- 6. lone surrogates -------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "value", "expected"), [
    pytest.param(("organisation", "id"), "NO-\ud800", [("A004", "/organisation/id")], id="string"),
    pytest.param(("organisation", "name"), "\udfff" * 3, [("A004", "/organisation/name")], id="string-of-surrogates"),
    pytest.param(("organisation", "country"), "N\udc00", [("A004", "/organisation/country")], id="pattern"),
    pytest.param(("history", 0, "label"), "gold\ud800", [("A004", "/history/0/label")], id="enum"),
    pytest.param(("assessed_on",), "2021-05-1\ud800", [("A003", "/assessed_on")], id="date"),
    pytest.param(("organisation", "id\ud800"), "x", [("A004", "/organisation")], id="key-of-an-object"),
    pytest.param(("indicators", "3.2\udc00"), 1, [("A004", "/indicators")], id="key-of-a-map"),
    pytest.param(("\ud83d",), 1, [("A004", "")], id="key-at-the-top"),
])
def test_a_lone_surrogate_is_refused_in_every_string_input(path: tuple[Any, ...], value: Any,
                                                           expected: list[tuple[str, str]]) -> None:
    """A string holding a lone surrogate (which the JSON readers and the published schema refuse,
    and no UTF-8 text can hold) is refused in every string input, and in a key, at the object
    holding it (the key has no UTF-8 JSON path): A004 (A003 for a date), on every path, so no
    decision is made that could not be written; every message can be written as UTF-8."""
    data = put(gold(), path, value)
    found = check_assessment(version(), data)
    assert [(d.code, d.pointer) for d in found] == expected
    for d in found:
        (d.message + d.pointer).encode("utf-8")
    assert version().plan.validator.validate_unordered(data) is None
    with pytest.raises(AssessmentError):
        decision_text(version(), data)
    with pytest.raises(AssessmentError):
        evaluate(version(), data)


def test_a_surrogate_pair_is_text() -> None:
    """A character beyond the Basic Multilingual Plane (one code point, not a surrogate) is text."""
    data = put(gold(), ("organisation", "name"), "Nordic \U0001f32c")
    assert check_assessment(version(), data) == []
    assert json.loads(decision_text(version(), data))


# -- 7. very many unknown keys ------------------------------------------------------------------------


def test_unknown_keys_give_a_bounded_number_of_problems_and_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 unknown keys in a map give MAX_UNKNOWN_KEYS A002 problems and one more at the map
    saying how many more there are; at most MAX_SUGGESTIONS "did you mean" searches are made for
    the whole assessment, and 60 objects of a list with 150 unknown keys each give at most
    MAX_DIAGNOSTICS problems and one saying how many more there are (the work is counted, not
    timed)."""
    from ecei_rules.ruleset.inputs import MAX_DIAGNOSTICS, MAX_SUGGESTIONS, MAX_UNKNOWN_KEYS

    searches: list[str] = []
    search = inputs.did_you_mean

    def counted(word: str, candidates: Any) -> str | None:
        searches.append(word)
        return search(word, candidates)

    monkeypatch.setattr(inputs, "did_you_mean", counted)
    data = gold()
    data["indicators"].update({f"9.{i % 7}.{i}": 0 for i in range(100_000)})
    found = check_assessment(version(), data)
    assert [d.code for d in found] == ["A002"] * (MAX_UNKNOWN_KEYS + 1)
    assert {d.pointer for d in found[:-1]} <= {f"/indicators/{k}" for k in data["indicators"]}
    assert found[-1].pointer == "/indicators"
    assert f"and {100_000 - MAX_UNKNOWN_KEYS} more" in found[-1].message
    assert len(searches) <= MAX_SUGGESTIONS

    searches.clear()
    entry = {"label": "gold", "awarded_on": "2019-05-14", "valid_until": "2021-05-31"}
    data = put(gold(), ("history",), [{**entry, **{f"k{i}": i for i in range(150)}} for _ in range(60)])
    found = check_assessment(version(), data)
    assert len(found) == MAX_DIAGNOSTICS + 1
    assert found[-1].pointer == ""
    assert f"{60 * (MAX_UNKNOWN_KEYS + 1) - MAX_DIAGNOSTICS} more problems" in found[-1].message
    assert len(searches) <= MAX_SUGGESTIONS


# -- 8. a dict changed while it is read -----------------------------------------------------------


class _MutatingKey(str):
    """A key (of some text) with the hash of a declared key, whose ``__eq__`` changes the dict
    holding it, as another thread could at any moment."""

    _hash: int
    _holder: dict[Any, Any]
    calls: int
    armed: bool

    def arm(self, like: str, holder: dict[Any, Any]) -> _MutatingKey:
        self._hash, self._holder, self.calls, self.armed = hash(like), holder, 0, False
        return self

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self.armed:
            self.calls += 1
            self._holder[f"added{self.calls}"] = 1
        return False


def test_a_dict_changed_while_it_is_validated_gives_a_result() -> None:
    """An object changed while it is validated (here, deterministically, by the ``__eq__`` of one
    of its keys, which the fast path's lookup of the absent member "benchmarking" asks, the key
    having its hash) is then read from a snapshot: located problems (A002 for that key, read as
    its text, and for the member it added), never RuntimeError ("dictionary changed size during
    iteration")."""
    data = gold()
    del data["benchmarking"]
    key = _MutatingKey("zzz").arm("benchmarking", data)
    data[key] = 1
    key.armed = True
    found = problems(data)
    assert key.calls >= 1
    # the snapshot holds what the key added before it was taken (how often the lookups ask the key depends on
    # the path the validation takes): each is named, with the key itself, and nothing else
    assert found[0] == ("A002", "/zzz")
    assert found[1:]
    assert set(found[1:]) <= {("A002", f"/added{i}") for i in range(1, key.calls + 1)}


def test_dicts_changed_by_another_thread_while_they_are_validated_give_results() -> None:
    """While another thread adds and removes members of an assessment (at the top and in a map),
    2,000 validations each give a list of located problems (A002 for the members it added), never
    an exception; the thread switches as often as the interpreter allows."""
    data = gold()
    stop = threading.Event()

    def mutate() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            data[f"x{i % 50}"] = i
            data.pop(f"x{(i + 25) % 50}", None)
            data["indicators"][f"z{i % 7}"] = 1
            data["indicators"].pop(f"z{(i + 3) % 7}", None)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=mutate)
    thread.start()
    outcomes: list[Any] = []
    try:
        for _ in range(2000):
            try:
                outcomes.append({d.code for d in check_assessment(version(), data)})
            except Exception as exc:  # what the test counts
                outcomes.append(exc)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert [o for o in outcomes if not isinstance(o, set)] == []
    assert set().union(*outcomes) <= {"A002"}


# -- any value, anywhere --------------------------------------------------------------------------

_weird_scalars = (
    st.none() | st.booleans() | st.integers() | st.sampled_from([5000, 41, 16]).map(lambda n: 10**n - 1)
    | st.sampled_from([-(2**53), 2**53, 2**64])
    | st.floats() | st.decimals() | st.sampled_from([Decimal("1E+1000000"), Decimal("sNaN"), Decimal("-0E-50"),
                                                     Decimal("0." + "9" * 40)])
    | st.text(max_size=6) | st.text(alphabet=st.characters(min_codepoint=0xD7FF, max_codepoint=0xE000), max_size=3)
    | st.binary(max_size=3) | st.dates() | st.datetimes() | st.fractions() | st.complex_numbers()
    | st.sampled_from(["2021-05-18", "bronze", "NO"])
    | st.sampled_from([(LyingStr, "gold"), (TextStr, "gold"), (LyingDecimal, "0.5"), (LyingInt, 3), (LyingFloat, 0.5),
                      (_PosingAs, int), (_PosingAs, str), (_PosingAs, dict)]).map(lambda made: made[0](made[1]))
    | st.sampled_from([(2020, 1, 1), (1, 1, 1)]).map(lambda ymd: LyingDate(*ymd))
)
_weird_keys = st.text(max_size=4) | st.sampled_from(["1.1.1", "name", "label", "\ud800", 1, None, 2.5, (1,)])
_weird_values = st.recursive(_weird_scalars, lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(_weird_keys, inner, max_size=3), max_leaves=8)


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if type(value) is dict:
        for k, v in value.items():
            yield from _places(v, (*path, k))
    elif type(value) is list:
        for i, v in enumerate(value):
            yield from _places(v, (*path, i))


_GOLD_PLACES = list(_places(GOLD))[1:]


@settings(max_examples=300)
@given(st.sampled_from(_GOLD_PLACES), _weird_values, st.booleans())
def test_property_any_python_value_anywhere_gives_plain_data_or_located_problems(
        path: tuple[Any, ...], value: Any, as_key: bool) -> None:
    """Whatever Python value is put at any place of a valid assessment (or added there as a key),
    validating it never raises: it gives plain data (every value of a plain built-in class, every
    key a str) and no problem, or problems that each have a JSON pointer and a message that can
    be written as UTF-8; the generated validation accepts only what the plain one accepts, with
    the same data."""
    data = gold()
    if as_key and type(value) is not dict and type(value) is not list:
        parent: Any = data
        for k in path[:-1]:
            parent = parent[k]
        if type(parent) is not dict:
            return
        try:
            parent[value] = 1
        except TypeError:  # unhashable
            return
    else:
        put(data, path, value)
    validator = version().plan.validator
    normalised, found = validator.validate(data)
    if found:
        assert normalised == {}
        for d in found:
            assert isinstance(d, Diagnostic)
            assert d.code.startswith("A")
            (d.message + d.pointer + (d.suggestion or "")).encode("utf-8")
    else:
        assert plain_all_the_way(normalised)
    unordered = validator.validate_unordered(data)
    if unordered is not None:
        assert not found
        assert unordered == normalised
