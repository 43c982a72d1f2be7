"""The batch's fast line path (engine/lines.py, ruleset/lines.py, the two-valued label function of
engine/label.py) writes exactly the lines the exact path writes, for every line: the assessments of
every shipped version, of the example methodologies and of the test rulesets (with inputs left out),
and lines written to break it (a key twice, an undeclared key, 17 significant digits, 1e-400, null,
a colon or an escape in a string, a misleading ``"assessed_on"``). Lines it must not read are given
to the exact path (``LinePlan.decide`` gives None), and the versions whose conditions do with a
decimal what a double cannot do exactly have no fast line path at all."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from populations import thinned

from ecei_rules.batch import (
    Item,
    RawLine,
    ResolverSpec,
    Selection,
    _Untraced,
    decide_texts,
    fixed_resolver,
    ready_resolver,
)
from ecei_rules.core.canonical import to_json
from ecei_rules.engine.evaluator import evaluator
from ecei_rules.engine.lines import LinePlan, line_plan
from ecei_rules.engine.serialise import parse_fields
from ecei_rules.registry import Registry
from ecei_rules.ruleset.lines import exact_floats, float_safe
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
REGISTRY = Registry.shipped()
LABEL = parse_fields("label,valid_until")
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))


def _both(lines: list[str], resolve: Any, monkeypatch: pytest.MonkeyPatch,
          fields: Any = LABEL) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]], int]:
    """(the lines written with the fast line path, without it, how many it decided), for JSON lines."""
    decided = [0]
    original = LinePlan.decide

    def counted(self: LinePlan, line: bytes, *scan: bool) -> Any:
        found = original(self, line, *scan)
        decided[0] += found is not None
        return found

    items = [Item(i, RawLine(text)) for i, text in enumerate(lines, 1)]
    with monkeypatch.context() as patch:
        patch.setattr(LinePlan, "decide", counted)
        fast = list(decide_texts(items, resolve, fields=Selection(fields)))
    with monkeypatch.context() as patch:
        patch.setattr(_Untraced, "fast", lambda self, line, resolution, day, scan=True: None)
        exact = list(decide_texts(items, resolve, fields=Selection(fields)))
    return fast, exact, decided[0]


def _population(ruleset: Ruleset, n: int, seed: int) -> list[str]:
    """``n`` synth assessments of the version and as many with inputs left out, written by the
    standard library (", " and ": ") and by orjson (compact)."""
    raws = [to_json(a) for a in synthesize(n, seed=seed, start=dt.date(2010, 1, 1), end=dt.date(2030, 12, 31),
                                             versions=[ruleset])]
    rng = random.Random(seed)
    raws += [thinned(a, rng) for a in raws]
    return [json.dumps(a) for a in raws] + [orjson.dumps(a).decode() for a in raws]


#: every shipped version, the example methodologies and the test rulesets of the newer constructs
VERSIONS: dict[str, Path | str] = {
    **{f"ecei-labels {v}": v for v in REGISTRY.versions("ecei-labels")},
    **{f"{p.parent.name} {p.stem}": p for p in sorted((ROOT / "examples" / "methodologies").glob("*/*.yaml"))},
    **{f"{folder} {p.stem}": p for folder in ("derived", "points", "bands", "subject", "needed", "every", "ranges",
                                              "tables") for p in sorted((DATA / folder).glob("*.yaml"))},
}


def _load(where: Path | str) -> Ruleset:
    return REGISTRY.get("ecei-labels", where) if isinstance(where, str) else load_ruleset(where)


def _plan(ruleset: Ruleset) -> LinePlan | None:
    return line_plan(evaluator(ruleset).plan, ruleset.plan.validator.root)


@pytest.mark.no_cover  # repetition at scale: the tests below reach the same code under coverage
@pytest.mark.parametrize("name", list(VERSIONS))
def test_the_fast_line_path_writes_the_exact_lines_for_every_version(name: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """20 synth assessments of each version and 20 with inputs left out, each written two ways: the
    lines written with the fast line path are those written without it; every ECEI version has one
    and decides most of its lines on it."""
    ruleset = _load(VERSIONS[name])
    lines = _population(ruleset, 20, seed=11)
    fast, exact, decided = _both(lines, fixed_resolver(ruleset), monkeypatch)
    assert fast == exact
    if name.startswith("ecei-labels"):
        assert _plan(ruleset) is not None
        assert decided >= len(lines) // 2, decided
    elif _plan(ruleset) is None:
        assert decided == 0


def test_the_fast_line_path_writes_the_exact_lines_of_a_population_of_every_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on 40 assessments of 2011-2025, each of the version in force on its date, chosen
    through the shipped registry, and with every member of the label's writer selected that it can
    write (the subject, the version, its hash, the resolution)."""
    raws = [to_json(a) for a in synthesize(10, seed=3, start=dt.date(2011, 1, 1), end=dt.date(2025, 12, 31),
                                           registry=REGISTRY)]
    rng = random.Random(3)
    raws += [thinned(a, rng) for a in raws]
    lines = [json.dumps(a) for a in raws] + [orjson.dumps(a).decode() for a in raws]
    resolve = ready_resolver(ResolverSpec())
    for fields in (LABEL, parse_fields("label,valid_from,valid_until,methodology,version,ruleset_sha256,"
                                       "resolution,subject")):
        fast, exact, decided = _both(lines, resolve, monkeypatch, fields)
        assert fast == exact
        assert decided >= len(lines) // 2


def test_a_decisions_text_is_kept_by_what_the_selection_writes_and_is_the_exact_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The gold example assessed on 40 days, one a day, under 3.0.1: with ``label,valid_until`` the texts the
    fast line path keeps are one per (label, valid_until) written, not one per day assessed; with
    ``label,valid_from`` (the start is the day assessed) one per day; and every line is the exact path's."""
    ruleset = REGISTRY.get("ecei-labels", "3.0.1")
    start = dt.date.fromisoformat(GOLD["assessed_on"])
    lines = [json.dumps({**GOLD, "assessed_on": (start + dt.timedelta(days=i)).isoformat()}) for i in range(40)]
    for text, by_day in (("label,valid_until", False), ("label,valid_from", True)):
        fields = parse_fields(text)
        selection = Selection(fields)
        fast = list(decide_texts([Item(i, RawLine(t)) for i, t in enumerate(lines, 1)], fixed_resolver(ruleset),
                                 fields=selection))
        _, exact, decided = _both(lines, fixed_resolver(ruleset), monkeypatch, fields)
        assert fast == exact
        assert decided == len(lines)
        written = {json.loads(t)["valid_until" if not by_day else "valid_from"] for t, _ in exact}
        (writer,) = selection.versions.values()
        assert len(writer.texts) == len(written)
        assert len(written) == (len(lines) if by_day else len({(json.loads(t)["label"], json.loads(t)["valid_until"])
                                                              for t, _ in exact}))


def _edited(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


BASE = json.dumps(GOLD)
MARK = '"1.1.0": 0.91'  # the gold example's first indicator, as the standard library writes it
WHEN = '"assessed_on": "2021-05-18"'


def _with(text: str) -> str:
    """The gold example with its first indicator written as ``text`` (a literal, as it is)."""
    return BASE.replace(MARK, f'"1.1.0": {text}')


#: (what, the line, whether the fast line path must leave it to the exact path)
HOSTILE: list[tuple[str, str, bool]] = [
    ("the example", BASE, False),
    ("compact", json.dumps(GOLD, separators=(",", ":")), False),
    ("a threshold with a trailing zero", _with("0.910"), False),
    ("an exponent within the digits", _with("91e-2"), False),
    ("17 significant digits", _with("0.91000000000000001"), True),
    ("16 significant digits", _with("0.9100000000000001"), True),
    ("a literal below 10^-15", _with("1e-400"), True),
    ("a literal beyond 2^53", _with("1e300"), True),
    ("a float zero", _with("0.0"), True),
    ("a negative zero", _with("-0.0"), True),
    ("the key twice", BASE.replace(MARK, MARK + ', "1.1.0": 0.1'), True),
    ("the key twice, one written with a space before its colon",
     BASE.replace(MARK, MARK + ', "1.1.0" : 0.1'), True),
    ("assessed_on twice", BASE.replace('"assessed_on": "2021-05-18"', '"assessed_on": "2021-05-18", '
                                       '"assessed_on": "2011-03-15"'), True),
    ("an undeclared indicator", BASE.replace(MARK, MARK + ', "9.9": 1'), True),
    ("an undeclared member", BASE.replace('{"organisation": {', '{"extra": 1, "organisation": {'), True),
    ("null for an optional input", _with("null"), True),
    ("null for a required input", BASE.replace('"assessed_on": "2021-05-18"', '"assessed_on": null'), True),
    ("an integer input written 2.0", json.dumps(_edited(GOLD, ("indicators", "1.1.1"), 2.0)), True),
    ("a colon in a string", json.dumps(_edited(GOLD, ("organisation", "name"), "Cluster: North")), True),
    ("an escaped quote and colon in a string",
     json.dumps(_edited(GOLD, ("organisation", "name"), 'A": 1, "b')), True),
    ("a lone surrogate", BASE.replace('"name": "', '"name": "\\ud800', 1), True),
    ("a misleading assessed_on in a string",
     json.dumps({"organisation": {**GOLD["organisation"], "name": '"assessed_on": "2011-01-01"'},
                 **{k: v for k, v in GOLD.items() if k != "organisation"}}), True),
    ("sixteen digits in a string", json.dumps(_edited(GOLD, ("organisation", "id"), "1234567890123456")), True),
    ("a value below its minimum", _with("-0.5"), True),
    ("an integer beyond 2^53", json.dumps(_edited(GOLD, ("indicators", "1.1.1"), 2**60)), True),
    ("not a calendar date", BASE.replace('"assessed_on": "2021-05-18"', '"assessed_on": "2021-02-29"'), True),
    ("a string for a number", _with('"0.91"'), True),
    ("NaN", _with("NaN"), True),
    ("a list for an object", BASE.replace('"organisation": {', '"organisation": [{', 1), True),
]


def test_lines_written_to_break_the_fast_line_path_are_written_as_the_exact_path_writes_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hostile line (a key twice, also hidden by a space before a colon; an undeclared key; a
    literal of 16 or 17 significant digits; 1e-400; null; a colon, a quote or a lone surrogate in a
    string; a misleading ``"assessed_on"``; ...) gives the exact path's line with the fast line path,
    and the fast line path leaves each of them to the exact path (its decide gives None), while the
    example, compact or with a trailing zero or an exponent, is decided on it."""
    early = BASE.replace(WHEN, '"assessed_on": "1999-03-15"')  # no version answers it: the resolver's error
    lines = [line for _, line, _ in HOSTILE] + [early]
    assert BASE.count(MARK) == BASE.count(WHEN) == 1
    assert len(set(lines)) == len(lines)  # each edit made a line of its own
    fast, exact, decided = _both(lines, ready_resolver(ResolverSpec()), monkeypatch)
    assert fast == exact
    plan = _plan(REGISTRY.get("ecei-labels", "3.0.1"))
    assert plan is not None
    declined = [what for what, line, leave in HOSTILE
                if leave and plan.decide(line.encode("utf-8", "surrogatepass")) is not None]
    assert declined == []
    taken = [what for what, line, leave in HOSTILE if not leave]
    assert decided == len(taken) == 4, decided
    assert sum(failed for _, failed in exact) >= 15  # most are errors, each the exact path's


def test_a_bad_byte_and_a_byte_order_mark_give_the_exact_paths_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line with a byte that is not UTF-8, and one after a byte order mark, read from a file as the
    command line reads it, give the exact path's lines."""
    from ecei_rules.batch import read_assessments

    raw = [BASE.encode(), b"\xef\xbb\xbf" + BASE.encode(), BASE.encode().replace(b"Nordic", b"Nor\xffdic"),
           json.dumps(GOLD, separators=(",", ":")).encode() + b"\r"]

    def lines(tmp: Path) -> list[tuple[str, bool]]:
        tmp.write_bytes(b"\n".join(raw) + b"\n")
        return list(decide_texts(read_assessments(tmp, raw=True), ready_resolver(ResolverSpec()),
                                 fields=Selection(LABEL)))

    path = Path(str(ROOT / "tests" / ".fast-lines.jsonl"))
    try:
        fast = lines(path)
        with monkeypatch.context() as patch:
            patch.setattr(_Untraced, "fast", lambda self, line, resolution, day, scan=True: None)
            exact = lines(path)
    finally:
        path.unlink(missing_ok=True)
    assert fast == exact
    assert [failed for _, failed in fast] == [False, True, True, False]


MINIMAL = (DATA / "minimal.yaml").read_text(encoding="utf-8")


def _minimal(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> Ruleset:
    text = MINIMAL if edit is None else MINIMAL.replace(*edit)
    assert edit is None or text != MINIMAL
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_ruleset(path)


def test_a_version_that_computes_with_a_decimal_has_no_fast_line_path(tmp_path: Path) -> None:
    """A decimal input compared with a constant, or with another decimal, is read as a float; one
    passed to arithmetic or a function, or compared with a constant from 10^15 up (where doubles no
    longer tell every decimal of 15 digits apart), leaves the version to the exact path."""
    assert _plan(_minimal(tmp_path, "plain")) is not None
    other = _minimal(tmp_path, "other", ("  score: {type: decimal}\n",
                                         "  score: {type: decimal}\n  other: {type: decimal}\n"))
    compared = tmp_path / "compared.yaml"
    compared.write_text(other.path.read_text(encoding="utf-8").replace("score >= params.min_score", "score >= other"),
                        encoding="utf-8")
    assert _plan(load_ruleset(compared)) is not None
    declined = {
        "arithmetic": ("score >= params.min_score", "score * 2 >= 1"),
        "a function": ("score >= params.min_score", "round(score) >= 1"),
        "a constant of 10^15": ("value: 0.5,", "value: 1000000000000000,"),
    }
    for name, edit in declined.items():
        assert _plan(_minimal(tmp_path, name.replace(" ", "-"), edit)) is None, name


@pytest.mark.parametrize("literal", ["0.5", "0.50", "5e-1", "0.49999999999999999", "0.4999999999999999",
                                     "0.500000000000001", "0.499999999999999", "1", "0", "-0.0", "0.0",
                                     "1e-16", "1e-15", "9007199254740991", "9007199254740992", "1e16"])
def test_a_score_at_its_threshold_is_decided_as_the_exact_path_decides_it(literal: str, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``score >= 0.5`` (tests/data/minimal.yaml) for literals at, just below and just above the
    threshold in 15, 16 and 17 digits, zeros, and the bounds of what a decimal input may hold: the
    line written is the exact path's."""
    ruleset = _minimal(tmp_path, "minimal")
    line = f'{{"assessed_on": "2021-05-01", "score": {literal}}}'
    fast, exact, _ = _both([line], fixed_resolver(ruleset), monkeypatch)
    assert fast == exact


@functools.cache
def _shipped() -> Any:
    """The shipped registry's resolver, built once (for the property below)."""
    return ready_resolver(ResolverSpec())


THRESHOLDS = [Decimal(t) for t in ("0", "0.5", "0.3", "0.1", "1", "2", "0.25", "0.7", "3", "4", "15")]


@st.composite
def _indicators(draw: st.DrawFn) -> dict[str, Any]:
    """The gold example with some numbers of its indicators and eligibility set near common
    thresholds (at them, or 10^-k away, k up to 15), some left out."""
    data = json.loads(BASE)
    for group in ("indicators", "eligibility"):
        for key, value in list(data[group].items()):
            if isinstance(value, bool) or not draw(st.booleans()):
                continue
            if draw(st.integers(0, 9)) == 0:
                del data[group][key]
                continue
            base = draw(st.sampled_from(THRESHOLDS))
            step = Decimal(1).scaleb(-draw(st.integers(1, 15)))
            near = base + draw(st.sampled_from([-1, 0, 1])) * step
            data[group][key] = int(near) if isinstance(value, int) and near == int(near) else near
    return data


@pytest.mark.no_cover
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_indicators())
def test_property_numbers_near_thresholds_are_decided_on_the_fast_line_path_as_exactly(
        data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Property: whatever numbers near the thresholds the gold example's indicators and eligibility
    hold (up to 16 significant digits, integers written as decimals, some left out), the line the
    fast line path writes is the exact path's."""
    literal = re.sub(r'"@@(.*?)@@"', r"\1", json.dumps(data, default=lambda d: f"@@{d}@@"))  # 5E-15 as it is
    rounded = json.dumps(data, default=float)  # each as the double nearest it
    fast, exact, _ = _both([literal, rounded], _shipped(), monkeypatch)
    assert fast == exact


_FIFTEEN = st.builds(lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**15 - 1), 10**15 - 1), st.integers(-15, 0))


@settings(max_examples=400, deadline=None)
@given(a=_FIFTEEN, b=_FIFTEEN)
def test_property_decimals_of_fifteen_digits_compare_as_their_doubles(a: Decimal, b: Decimal) -> None:
    """Property (the fast line path rests on it): two decimals of at most 15 significant digits,
    below 10^15 in magnitude, compare as the doubles nearest them compare (equal when equal, in the
    same order otherwise), and each is float-safe."""
    assert float_safe(a)
    assert float_safe(b)
    x, y = float(str(a)), float(str(b))
    assert (a < b, a == b, a > b) == (x < y, x == y, x > y)


def test_float_safe_and_exact_floats_at_their_bounds() -> None:
    """float_safe takes at most 15 significant digits below 10^15; exact_floats refuses a run of
    16 digits or points anywhere in the line (a literal of 16 significant digits has one, with a
    point or before an exponent) and nothing shorter."""
    assert float_safe(Decimal("0.123456789012345"))
    assert not float_safe(Decimal("0.1234567890123456"))
    assert float_safe(Decimal("999999999999999"))
    assert not float_safe(Decimal("1E15"))
    assert float_safe(Decimal("1E-15"))
    assert not float_safe(Decimal("1E-16"))
    assert float_safe(10**15 - 1)
    assert not float_safe(10**15)
    assert not float_safe(Decimal("NaN"))
    assert exact_floats(b'{"a": 0.1234567890123}')
    assert exact_floats(b'{"a": 123456789012345}')
    assert not exact_floats(b'{"a": 0.12345678901234}')  # 14 digits and a point: left to the exact path
    assert not exact_floats(b'{"a": 1234567890123456e-5}')  # 16 digits before an exponent
    assert not exact_floats(b'{"a": 0.12345678901234567}')
    assert not exact_floats(b'{"a": 1234567890123456}')
    assert not exact_floats(b'{"a": "0000000000000000"}')


def test_the_command_line_writes_the_same_lines_from_a_file_and_from_standard_input(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``evaluate FILE.jsonl`` and ``evaluate -`` with --jobs 1 and --fields label,valid_until (both on
    the fast line path) write the lines the exact path writes for the hostile lines, and exit 1 for
    their errors."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import app

    text = "\n".join(line for _, line, _ in HOSTILE) + "\n"
    path = tmp_path / "lines.jsonl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    args = ["evaluate", "--format", "json", "--jobs", "1", "--fields", "label,valid_until"]
    runner = CliRunner()
    from_file = runner.invoke(app, [*args[:1], str(path), *args[1:]])
    from_stdin = runner.invoke(app, [*args[:1], "-", *args[1:]], input=path.read_bytes())
    with monkeypatch.context() as patch:
        patch.setattr(_Untraced, "fast", lambda self, line, resolution, day, scan=True: None)
        exact = runner.invoke(app, [*args[:1], str(path), *args[1:]])
    assert from_file.exit_code == from_stdin.exit_code == exact.exit_code == 1
    assert from_file.stdout == from_stdin.stdout == exact.stdout
    assert from_file.stdout.count("\n") == len(HOSTILE)


TWO_CHECKS = """\
methodology: two-checks
version: 1.0.0
title: Two objects checked by a count each
status: published
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  a:
    type: object
    fields:
      items: {type: list, items: {type: integer}}
      limit: {type: integer}
    checks:
      - rule: count(i for i in items if i > 1) <= limit
        message: too many above 1 in a
  b:
    type: object
    fields:
      items: {type: list, items: {type: integer}}
      limit: {type: integer}
    checks:
      - rule: count(i for i in items if i > 5) <= limit
        message: too many above 5 in b
criteria:
  some: {title: Some, when: "a.limit >= 1"}
labels: [basic]
tiers:
  basic: {title: Basic, requires: [some]}
validity:
  valid_from: assessed_on
  rules:
    - {id: always, title: Two years, labels: [basic], valid_until: "month_end(assessed_on, 24)"}
"""


def test_each_objects_check_keeps_its_own_generated_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two objects, each with a check that counts over its own list: the line checks generated for the
    fast line path keep one loop per check (a loop written for the second once replaced the first's,
    which then counted above 5, not above 1). A line that breaks the first check only is refused there
    and gets the exact path's error."""
    path = tmp_path / "two.yaml"
    path.write_text(TWO_CHECKS, encoding="utf-8")
    ruleset = load_ruleset(path)
    plan = _plan(ruleset)
    assert plan is not None
    broken = '{"assessed_on": "2021-01-01", "a": {"items": [2, 3], "limit": 1}, "b": {"items": [2, 3], "limit": 1}}'
    fine = '{"assessed_on": "2021-01-01", "a": {"items": [2], "limit": 1}, "b": {"items": [9], "limit": 1}}'
    assert plan.decide(broken.encode()) is None
    assert plan.decide(fine.encode()) is not None
    fast, exact, _ = _both([broken, fine], fixed_resolver(ruleset), monkeypatch)
    assert fast == exact
    assert [failed for _, failed in fast] == [True, False]


def _written(pairs: Any) -> tuple[str, int]:
    """(the text a batch writes, how many of its lines are errors) of the (text, failed) it gives."""
    pairs = list(pairs)
    return "\n".join(text for text, _ in pairs), sum(failed for _, failed in pairs)


@pytest.mark.parametrize("ending", ["\n", ""], ids=["ended", "last line unended"])
def test_a_file_read_block_by_block_gives_the_lines_read_line_by_line(
        ending: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``selected_lines`` reads a JSON Lines file in blocks (`READ_BYTES`, here 97 bytes, so that lines
    span reads) and decides their lines together: it writes the text and counts the errors that reading
    line by line (``read_assessments``) and deciding each exactly writes, for the hostile lines, blank
    and CRLF lines, and lines of the line limit's length minus one, exactly it and beyond it (here
    the limit is made a little longer than the longest hostile line), the last with or without a
    newline; with the label and its validity selected, and with members the exact writer writes."""
    import ecei_rules.batch as batch

    limit = max(len(line.encode("utf-8", "surrogatepass")) for _, line, _ in HOSTILE) + 20
    monkeypatch.setattr(batch, "READ_BYTES", 97)
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", limit)
    short = BASE + " " * (limit - 1 - len(BASE))  # with its newline, exactly the limit: read
    assert len(short) == limit - 1
    lines = [line for _, line, _ in HOSTILE] + ["", "   ", BASE + "\r", short, short + " ", short + "  ",
                                                BASE + " " * (3 * limit), BASE]
    path = tmp_path / "lines.jsonl"
    path.write_bytes(("\n".join(lines) + "\n" + short + " " + ending).encode("utf-8", "surrogatepass"))
    resolve = ready_resolver(ResolverSpec())
    every = parse_fields("label,valid_from,valid_until,version,resolution,subject")  # written by the exact writer
    assert _written(batch.selected_lines(path, resolve, every)) == _written(decide_texts(
        batch.read_assessments(path, raw=True), resolve, fields=Selection(every), fast=False))
    blocks = _written(batch.selected_lines(path, resolve, LABEL))
    one_by_one = _written(decide_texts(batch.read_assessments(path, raw=True), resolve, fields=Selection(LABEL),
                                       fast=False))
    assert blocks == one_by_one
    text, failures = blocks
    assert text.count("\n") + 1 == len(lines) - 2 + 1  # every line but the two blank ones has its line
    # the hostile lines' errors, the lines of the limit's length and beyond (the last one: only with its newline)
    hostile = _written(decide_texts([Item(i, RawLine(line)) for i, (_, line, _) in enumerate(HOSTILE, 1)], resolve,
                                    fields=Selection(LABEL), fast=False))[1]
    assert failures == hostile + 3 + (ending == "\n"), (failures, hostile)
    assert text.count('"label":"gold"') >= 4


ABSENT_INPUTS = """\
methodology: absent-inputs
version: 1.0.0
title: Conditions an absent input leaves unknown
status: draft
effective_from: 2020-01-01
inputs:
  assessed_on: {type: date, required: true}
  flag: {type: boolean}
  x: {type: integer}
  y: {type: integer}
  z: {type: decimal}
parameters:
  one: {value: 1, source: "Test handbook"}
  half: {value: 0.5, source: "Test handbook"}
criteria:
  above: {title: t, when: x >= params.one}
  negated: {title: t, when: not (y >= params.one)}
  nested: {title: t, when: flag and (x >= params.one or not y <= 2)}
  given: {title: t, when: known(z)}
  ordered: {title: t, when: x <= y}
  flagged: {title: t, when: flag}
  decimal: {title: t, when: not (z > params.half) or flag}
  not_both: {title: t, when: not (x >= params.one and y >= params.one)}
  neither: {title: t, when: not (flag or x <= 0)}
  no_y: {title: t, when: not known(y) or x >= 3}
labels: [bronze, silver, gold]
tiers:
  bronze: {title: B, requires: [flagged, decimal, not_both]}
  silver: {title: S, requires: [above, negated, given, neither]}
  gold: {title: G, requires: [nested, ordered, above, no_y]}
validity:
  valid_from: assessed_on
  rules:
    - {id: r, title: R, labels: [bronze, silver, gold], valid_until: "month_end(assessed_on, 24)"}
"""


def test_a_line_with_inputs_absent_is_decided_once_by_the_two_valued_label_function_as_exactly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line of a grid of present and absent values of four inputs (a boolean, two integers, a decimal), read
    under not (of a comparison, of an and, of an or, of known()), nested and/or, known() and a comparison of two
    inputs: the two-valued label function decides it
    without falling back to the three-valued one (an absent input makes a comparison neither true nor false,
    not an error), gives the three-valued function's label and validity, and the lines written are the exact
    path's. Each tier comes out met on some line and not on another."""
    path = tmp_path / "1.0.0.yaml"
    path.write_text(ABSENT_INPUTS, encoding="utf-8")
    ruleset = load_ruleset(path)
    plan = _plan(ruleset)
    assert plan is not None
    values = {"flag": [None, True, False], "x": [None, 0, 1, 3], "y": [None, 0, 1, 3], "z": [None, 0.25, 0.75]}
    lines = [json.dumps({"assessed_on": "2021-06-01", **{k: v for k, v in zip(values, drawn, strict=True)
                                                         if v is not None}})
             for drawn in itertools.product(*values.values())]
    labels = set()
    for line in lines:
        value = plan.decode(line.encode())
        assert plan.accepts(value, line.count(":"))
        decided = plan.fast(value)  # raises if it needs the three-valued function
        assert decided == plan.slow(value), line
        labels.add(decided[0])
    assert labels == {"none", "bronze", "silver", "gold"}
    fast, exact, decided_fast = _both(lines, fixed_resolver(ruleset), monkeypatch)
    assert fast == exact
    assert decided_fast == len(lines)
