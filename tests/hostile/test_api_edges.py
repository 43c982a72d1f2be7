"""The edges of the public Python API: whatever a caller passes, a decision or a documented error (an
``InputError``: AssessmentError with located diagnostics, ResolutionError), never another exception; a batch
goes on past a bad item; no state is shared between calls.

One test (or a few) per defect found at those edges:

1. ``assessed_on`` is read to choose the version before the assessment is validated: a datetime, an int of
   5,000 digits, an object whose ``__str__`` raises, a dict nested 100,000 deep gave TypeError, ValueError,
   RuntimeError, RecursionError (and killed ``decide_many``); a str subclass chose the version by its
   ``__str__`` and was validated by its value. Only a plain ``str`` YYYY-MM-DD or a plain ``datetime.date``
   chooses a version; anything else is A003 at /assessed_on, named without calling it.
2. A version range with thousands of digits gave ValueError (the int-to-str limit); ``3.0.1\\n`` was accepted.
3. A file name holding a NUL byte gave ValueError instead of an A006 item.
4. A decision's ``criteria[i].derived`` was one dict shared by every decision: changing it changed the text
   of decisions made before and after.
5. An `Assessment` was trusted as validated whatever it held: its data changed after validation, or one
   built directly, reached the engine and failed with TypeError / decimal.InvalidOperation.
6. A registry whose folder does not exist (or is a file) gave FileNotFoundError / NotADirectoryError.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecei_rules import (
    AssessmentError,
    InputError,
    Item,
    Registry,
    ResolutionError,
    decide,
    decide_many,
    read_assessments,
    registry_resolver,
)
from ecei_rules.batch import Outcome
from ecei_rules.cli.app import run
from ecei_rules.core.files import FileReadError, open_stream, read_limited, replace_atomically
from ecei_rules.engine.evaluate import decision_text, validated_data
from ecei_rules.engine.evaluator import decision_by_closures, evaluator

ROOT = Path(__file__).resolve().parents[2]
GOLD_FILE = ROOT / "examples" / "gold-2021.json"
GOLD: dict[str, Any] = json.loads(GOLD_FILE.read_text(encoding="utf-8"))
SELECTION = ROOT / "tests" / "data" / "selection"
SHIPPED = Registry.shipped()
RULESET = SHIPPED.get("ecei-labels", "3.0.1")


def gold(**changes: Any) -> dict[str, Any]:
    """The gold example (a fresh copy), with top-level members changed (a value is put in as it is)."""
    data = copy.deepcopy(GOLD)
    data.update(changes)
    return data


def the_batch_goes_on(bad: Any, resolve: Any = None, *, refused: bool = True) -> Outcome:
    """``decide_many`` over the bad item then the gold example: the bad item's outcome (an error, unless not
    ``refused``: a decision or an error), the gold one decided after it."""
    outcomes = list(decide_many([Item(1, data=bad), Item(2, data=gold())],
                                resolve or registry_resolver(SHIPPED)))
    assert [o.index for o in outcomes] == [1, 2]
    assert (outcomes[0].decision is None) != (outcomes[0].error is None)
    assert outcomes[0].decision is None or not refused
    assert outcomes[1].error is None
    assert outcomes[1].decision is not None
    assert outcomes[1].decision.label == "gold"
    return outcomes[0]


def first(error: AssessmentError) -> tuple[str, str | None]:
    return error.diagnostics[0].code, error.diagnostics[0].pointer


# -- 1. assessed_on, read to choose the version -------------------------------------------------------


class Unprintable:
    """A value none of whose text can be had: str() and repr() raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class LyingText(str):
    """Text whose ``str()`` says another date than its value (an old version's)."""

    def __str__(self) -> str:
        return "2012-01-01"


class LyingDate(dt.date):
    """A date that compares as it likes (its comparisons raise)."""

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __le__ = __gt__ = __ge__ = __lt__


def deeply_nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


NOT_DATES = {
    "a datetime": (dt.datetime(2021, 5, 18, 12, 0), "a date and time"),
    "an int of 5000 digits": (10**5000, "a number"),
    "an object whose str() raises": (Unprintable(), "Unprintable"),
    "a dict nested 100,000 deep": (deeply_nested(100_000), "an object"),
    "bytes": (b"2021-05-18", "bytes"),
    "text with a line break": ("2021-05-18\n", "'2021-05-18\\n'"),
}


@pytest.mark.parametrize("name", list(NOT_DATES))
def test_an_assessed_on_that_is_not_a_plain_date_nor_iso_text_is_A003_and_the_batch_goes_on(name: str) -> None:
    """decide, registry_resolver and decide_many refuse it with A003 at /assessed_on, the message naming
    what was given without calling it (no str() of the value), and the batch decides the next item."""
    value, named = NOT_DATES[name]
    data = {**GOLD, "assessed_on": value}  # not deep-copied: the nested dict is too deep for copy
    with pytest.raises(AssessmentError) as info:
        decide(data)
    assert first(info.value) == ("A003", "/assessed_on")
    assert named in info.value.diagnostics[0].message
    with pytest.raises(AssessmentError):
        registry_resolver(SHIPPED)(data)
    error = the_batch_goes_on(data).to_json()["error"]
    assert (error["code"], error["path"]) == ("A003", "$.assessed_on")


def test_a_subclass_of_str_or_date_chooses_the_version_by_its_plain_value_as_the_validator_reads_it() -> None:
    """A str subclass whose str() says 2012 and a date subclass whose comparisons raise are read as their plain
    values (none of their methods called), for choosing the version as for validating: the decision is the
    plain value's, byte for byte."""
    plain = decide(gold()).canonical_text()
    assert decide(gold(assessed_on=LyingText("2021-05-18"))).canonical_text() == plain
    assert decide(gold(assessed_on=LyingDate(2021, 5, 18))).canonical_text() == plain


def test_iso_text_that_is_not_a_calendar_date_is_A004_as_the_validator_has_it() -> None:
    """``2021-02-30`` is in the form of a date but names no day: A004, the code check_assessment gives."""
    with pytest.raises(AssessmentError) as info:
        decide(gold(assessed_on="2021-02-30"))
    assert first(info.value) == ("A004", "/assessed_on")
    assert [(p.code, p.pointer) for p in RULESET.plan.validator.validate(gold(assessed_on="2021-02-30"))[1]] == [
        ("A004", "/assessed_on")]


def test_a_plain_date_and_iso_text_still_choose_the_version_in_force() -> None:
    assert decide(gold(assessed_on=dt.date(2021, 5, 18))).version == "3.0.1"
    assert decide(gold(assessed_on="2021-05-18")).version == "3.0.1"
    assert decide(gold()).canonical_text() == decide(gold(assessed_on=dt.date(2021, 5, 18))).canonical_text()


ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text(max_size=12), st.binary(max_size=12),
    st.dates(), st.datetimes(), st.dates().map(str), st.dates().map(lambda d: LyingText(d.isoformat())),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.just(10**5000), st.builds(Unprintable), st.dates().map(lambda d: LyingDate(d.year, d.month, d.day)),
)


@given(ANY_VALUE)
def test_property_any_assessed_on_gives_a_decision_or_an_input_error_never_another_exception(value: Any) -> None:
    """Property: whatever assessed_on holds, decide gives a decision or an InputError (and decide_many an
    outcome for it and the decision of the next item): never another exception."""
    data = gold(assessed_on=value)
    with contextlib.suppress(InputError):
        decide(data)
    the_batch_goes_on(data, refused=False)


def test_a_date_input_that_chooses_the_version_is_read_only_as_a_plain_date_or_text() -> None:
    """In a registry whose versions are chosen by a declared date input (registered_on) and an input's value
    (rating_system): a date subclass whose comparisons raise is read as its plain date (the same decision), and a
    value of the choosing input that cannot be hashed is not hashed (it chooses no version: ResolutionError)."""

    class Unhashable:
        def __hash__(self) -> int:
            raise RuntimeError("no hash")

    registry = Registry(SELECTION)
    good = {"assessed_on": "2021-06-15", "registered_on": "2020-06-01", "rating_system": "v4.1", "points": 44}
    assert decide(good, registry=registry).version == "3.0.0"
    subclassed = decide({**good, "registered_on": LyingDate(2020, 6, 1)}, registry=registry)
    assert subclassed.canonical_text() == decide(good, registry=registry).canonical_text()
    for bad in ({**good, "rating_system": Unhashable()},):
        with pytest.raises(ResolutionError):
            decide(bad, registry=registry)
        outcomes = list(decide_many([Item(1, bad), Item(2, good)], registry_resolver(registry)))
        assert outcomes[0].to_json()["error"]["code"] == "R001"
        assert outcomes[1].decision is not None
        assert outcomes[1].decision.version == "3.0.0"


# -- 2. a version spec ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["^" + "9" * 5000, "~3." + "1" * 5000, ">=" + "1" * 100 + ".0.0",
                                  "3.0.1\n", "^3 ", "\t3.0.1", "3" * 65])
def test_a_version_spec_too_long_or_with_spaces_around_it_is_a_resolution_error(spec: str) -> None:
    """decide, Registry.lookup and a batch refuse it with a ResolutionError (R001 for each item: the batch
    goes on); the command line exits 2 with one error line, not an internal error."""
    with pytest.raises(ResolutionError):
        decide(gold(), version=spec)
    with pytest.raises(ResolutionError):
        SHIPPED.lookup(f"ecei-labels@{spec}")
    outcomes = list(decide_many([Item(1, gold()), Item(2, gold())], registry_resolver(SHIPPED, version=spec)))
    assert [o.to_json()["error"]["code"] for o in outcomes] == ["R001", "R001"]
    code = run(["evaluate", str(GOLD_FILE), "--version", spec, "--format", "json"])
    assert code == 2


@pytest.mark.parametrize(("spec", "version"), [("3.0.1", "3.0.1"), ("^3", "3.0.1"), ("~3.0", "3.0.1"),
                                               (">=3.0.0,<3.0.1", "3.0.0"), ("^3.0.0", "3.0.1")])
def test_version_specs_within_the_bounds_still_choose_their_version(spec: str, version: str) -> None:
    assert decide(gold(), version=spec).version == version


# -- 3. a file name holding a NUL byte --------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_a_file_name_with_a_nul_byte_is_an_A006_item_and_the_batch_goes_on(tmp_path: Path, suffix: str) -> None:
    """read_assessments gives one item whose A006 error says the name holds a NUL byte, as it does for a
    missing file; decide_many reports it and decides the next item."""
    items = list(read_assessments(str(tmp_path / f"a\x00b{suffix}")))
    assert len(items) == 1
    assert items[0].error is not None
    assert items[0].error.diagnostics[0].code == "A006"
    assert "NUL" in items[0].error.diagnostics[0].message
    outcomes = list(decide_many([items[0], Item(2, gold())], registry_resolver(SHIPPED)))
    assert outcomes[0].to_json()["error"]["code"] == "A006"
    assert outcomes[1].decision is not None
    assert outcomes[1].decision.label == "gold"


def test_the_file_openers_refuse_a_nul_byte_as_they_refuse_a_missing_file(tmp_path: Path) -> None:
    """read_limited and open_stream raise FileReadError (not ValueError); replace_atomically raises an
    OSError (EINVAL), which its callers already report."""
    name = tmp_path / "a\x00b.json"
    for opener in (lambda: read_limited(name, 100, "file"), lambda: open_stream(name, "batch")):
        with pytest.raises(FileReadError, match="NUL"):
            opener()
    with pytest.raises(OSError, match="NUL") as info:
        replace_atomically(name, lambda handle: handle.write("x"))
    assert info.value.errno == errno.EINVAL
    assert list(tmp_path.iterdir()) == []


# -- 4. no state shared between decisions -------------------------------------------------------------


def _dicts_of(decision: Any) -> Iterator[dict[str, Any]]:
    """Every dict a decision's members hold (what a caller may change with the ordinary dict API)."""
    yield decision.validity_inputs
    for c in decision.criteria:
        yield c.inputs
        yield c.derived
    for s in decision.scores:
        yield s.weights
        yield s.points


def _spoil(decision: Any) -> None:
    for found in _dicts_of(decision):
        found["/injected"] = "value"


@pytest.mark.parametrize("made", ["trace", "closures"])
def test_changing_a_returned_decisions_dicts_changes_no_other_decisions_text(made: str) -> None:
    """Property of a returned decision: each dict it holds is its own, so changing one (every dict of one
    decision is given a member) changes the text of no decision made before or after it, and no two
    decisions share a dict; for the generated trace and for the closures (a version too large to compile)."""

    def decided() -> Any:
        if made == "trace":
            return decide(gold())
        env = dict(validated_data(RULESET, gold()))
        return decision_by_closures(evaluator(RULESET), env, RULESET.sha256, decide(gold()).resolution)

    before = decided()
    text = before.canonical_text()
    spoilt = decided()
    assert spoilt.canonical_text() == text
    shared = {id(d) for d in _dicts_of(before)} & {id(d) for d in _dicts_of(spoilt)}
    assert not shared
    _spoil(spoilt)
    after = decided()
    assert before.canonical_text() == text
    assert after.canonical_text() == text
    assert decision_text(RULESET, gold(), resolution=after.resolution) == text
    assert after.to_json() == before.to_json()


def test_a_decisions_criteria_derived_is_an_empty_dict_equal_to_one_and_dumped_as_one() -> None:
    """The derived values a criterion that reads none shows: an empty dict (of its own), which the JSON, the
    dump and the equality of decisions treat as before."""
    decision = decide(gold())
    assert all(c.derived == {} and type(c.derived) is dict for c in decision.criteria)
    assert all("derived" not in c for c in decision.model_dump()["criteria"])  # written only when one is read
    assert decision == decide(gold())
    assert pickle.loads(pickle.dumps(decision)) == decision


# -- 6. a registry whose folder cannot be read ---------------------------------------------------------


def test_a_registry_whose_folder_is_missing_or_a_file_is_a_resolution_error_naming_it(tmp_path: Path) -> None:
    """decide, registry_resolver and each listing of the registry raise ResolutionError naming the folder
    (not FileNotFoundError nor NotADirectoryError); with the methodology named, a batch reports R001 for each
    item and goes on."""
    a_file = tmp_path / "rulesets.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    for root, why in ((tmp_path / "missing", "does not exist"), (a_file, "not a directory"),
                      (tmp_path / "a\x00b", "NUL")):
        registry = Registry(root)
        for call in (lambda r=registry: decide(gold(), registry=r), lambda r=registry: registry_resolver(r),
                     registry.methodologies, registry.strays, registry.default_methodology,
                     lambda r=registry: r.versions("ecei-labels")):
            with pytest.raises(ResolutionError) as info:
                call()
            assert str(root) in str(info.value)
            assert why in str(info.value)
        resolve = registry_resolver(registry, "ecei-labels")
        outcomes = list(decide_many([Item(1, gold()), Item(2, gold())], resolve))
        assert [o.to_json()["error"]["code"] for o in outcomes] == ["R001", "R001"]


def test_a_readable_registry_lists_as_it_did() -> None:
    assert SHIPPED.methodologies() == ["ecei-labels"]
    assert SHIPPED.strays() == []
    assert SHIPPED.default_methodology() == "ecei-labels"
    assert SHIPPED.versions("ecei-labels")[-1] == "3.0.1"
    with pytest.raises(ResolutionError, match="no methodology 'nope'"):
        SHIPPED.versions("nope")


class LyingSystem(str):
    """A rating system's text whose comparisons, str() and format() raise, in a dict whose get lies."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __hash__ = str.__hash__

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no format")


class LyingDict(dict[str, Any]):
    def get(self, key: Any, default: Any = None) -> Any:
        raise RuntimeError("no get")


def test_the_input_that_chooses_the_version_is_read_as_its_plain_text_without_calling_it() -> None:
    """A registry whose versions are chosen by rating_system: a str subclass whose comparisons, str() and
    format() raise, in a dict subclass whose get() raises, chooses as its plain text does (the same decision)."""
    registry = Registry(SELECTION)
    good = {"assessed_on": "2021-06-15", "registered_on": "2020-06-01", "rating_system": "v4.1", "points": 44}
    lying = LyingDict({**good, "rating_system": LyingSystem("v4.1")})
    assert decide(lying, registry=registry).canonical_text() == decide(good, registry=registry).canonical_text()
