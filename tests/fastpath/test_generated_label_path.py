"""The label mode generated per version (engine/label.py, written from the compiler's codes by
language/source.py) gives exactly what the same mode run closure by closure gives
(``label_by_closures``), and the label and validity of the reference evaluator; its source holds
nothing of the ruleset; the data it is given is never changed."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from populations import thinned

from ecei_rules.engine.evaluate import decide_label, validate_assessment
from ecei_rules.engine.evaluator import evaluator, label_by_closures
from ecei_rules.engine.reference import evaluate_reference
from ecei_rules.errors import AssessmentError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
REGISTRY = Registry.shipped()


def _rulesets(folders: tuple[str, ...]) -> dict[str, Path | str]:
    """Test rulesets by folder of tests/data, version by version."""
    return {f"{folder} {path.stem}": path for folder in folders for path in sorted((DATA / folder).glob("*.yaml"))}


#: Every shipped version, the example methodologies and the test rulesets of the newer constructs
#: (derived values, points and levels, numbers weighed as points, bands, subject, missing by the
#: branch taken)
POPULATIONS: dict[str, Path | str] = {
    **{f"ecei-labels {v}": v for v in REGISTRY.versions("ecei-labels")},
    **{f"{p.parent.name} {p.stem}": p for p in sorted((ROOT / "examples" / "methodologies").glob("*/*.yaml"))},
    **_rulesets(("derived", "points", "bands", "subject", "needed"))}
#: ... and those of every construct of the language, ranges and parameter tables
RULESETS = {**POPULATIONS, **_rulesets(("every", "ranges", "tables"))}


def _load(where: Path | str) -> Ruleset:
    return REGISTRY.get("ecei-labels", where) if isinstance(where, str) else load_ruleset(where)


def _outline(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except AssessmentError as exc:  # a validity ending before it starts (A007): the same error
        return ("error", [p.code for p in exc.problems])


def _agree(ruleset: Ruleset, raws: list[Any]) -> int:
    """Decide every assessment that validates three ways and compare; how many were decided."""
    label_mode = evaluator(ruleset)
    decided = 0
    for raw in raws:
        try:
            validated = validate_assessment(ruleset, raw)
        except AssessmentError:
            continue
        decided += 1
        data = validated.data
        for missing in (False, True):
            generated = _outline(label_mode.label, dict(data), missing=missing)
            closures = _outline(label_by_closures, label_mode.plan, dict(data), missing=missing)
            assert generated == closures, (raw, missing)
        quick = _outline(label_mode.label_only, data)  # the highest tier first, what it needs only
        assert quick == generated[:3], raw  # (an error is a pair: the same)
        reference = _outline(evaluate_reference, ruleset, validated)
        if isinstance(reference, tuple):
            assert generated == reference, raw
            continue
        assert generated[:3] == (reference.label, reference.valid_from, reference.valid_until), raw
        assert generated[3] == any(t.outcome == "unknown" for t in reference.tiers), raw
        assert generated[4] == tuple(t.missing for t in reference.tiers if t.outcome == "unknown"), raw
    return decided


@pytest.mark.no_cover  # repetition at scale: smaller tests below reach the same code (docs/contributing.md)
@pytest.mark.parametrize("name", list(POPULATIONS))
def test_the_generated_label_path_equals_the_closures_and_the_reference_on_synth_populations(name: str) -> None:
    """On 25 synth assessments of each version and each with about one key in seven left out
    (unknowns, absent lists), the generated label mode gives what the closures give, with and
    without the absent inputs of unknown tiers, and the label, validity and unknown tiers of the
    reference evaluator."""
    ruleset = _load(RULESETS[name])
    raws = list(synthesize(25, seed=23, start=dt.date(2010, 1, 1), end=dt.date(2030, 12, 31), versions=[ruleset]))
    rng = random.Random(23)
    raws += [thinned(raw, rng) for raw in raws]
    assert _agree(ruleset, raws) >= 25


@pytest.mark.parametrize("name", ["every 1.1.0", "every 1.2.0", "ranges 1.0.0", "tables 1.0.0"])
def test_the_generated_label_path_equals_the_closures_on_the_every_construct_rulesets(name: str) -> None:
    """A few assessments of the rulesets that use every construct of the language (aggregates,
    chains, membership, choices, tables, derived values with ranges and division by zero): the
    generated label mode gives what the closures and the reference evaluator give."""
    ruleset = _load(RULESETS[name])
    raws = list(synthesize(6, seed=5, start=dt.date(2015, 1, 1), end=dt.date(2025, 12, 31), versions=[ruleset]))
    rng = random.Random(5)
    raws += [thinned(raw, rng) for raw in raws]
    assert _agree(ruleset, raws) >= 6


def _literals(source: str) -> set[Any]:
    tree = ast.parse(source)
    return {type(n.value) if not isinstance(n.value, str) else n.value
            for n in ast.walk(tree) if isinstance(n, ast.Constant)}


def test_the_generated_label_source_holds_no_text_from_the_ruleset() -> None:
    """The generated label mode's source (``evaluator(ruleset).label_plan.source``, which can be
    read) holds no string at all: only generated names, the language's operators and whole
    numbers; every key, id, label and value is bound in its namespace."""
    for name in ("ecei-labels 3.0.1", "every 1.1.0", "derived 1.0.0", "bands 1.0.0"):
        label_plan = evaluator(_load(RULESETS[name])).label_plan
        assert "def decide(env, missing):" in label_plan.source
        assert _literals(label_plan.source) <= {int, bool, type(None)}, (name, _literals(label_plan.source))
        # what it compiled is what it wrote: nothing fell back to closures or to the outline
        assert (label_plan.inline, label_plan.lazy) == (True, True), name
        assert not re.search(r"F\d+\(env\)", label_plan.source), name


#: strings with quotes, newlines and statements, written into the YAML as JSON strings (which YAML reads as they are)
QUOTE = "\"); __import__('os').system('echo pwned') #\n"
WORD = "'\\n\"; boom() #"
NAME = "\"\n)#"
KEY = "a.b-c_d"
HOSTILE = f"""\
methodology: hostile
version: 1.0.0
title: Quotes and newlines everywhere
status: draft
effective_from: 2020-01-01
approval: {{body: Test, date: 2019-12-01, reference: T-1}}
catalogues:
  odd:
    title: Odd keys
    source: test
    items:
      {json.dumps(KEY)}: {{title: {json.dumps(QUOTE)}, type: integer}}
inputs:
  assessed_on: {{type: date, required: true}}
  word: {{type: string}}
  odd: {{type: map, catalogue: odd}}
  items:
    type: list
    items:
      type: object
      fields:
        name: {{type: string, required: true}}
parameters:
  quote: {{value: {json.dumps(QUOTE)}, assumed: test}}
  many: {{value: 2, assumed: test}}
criteria:
  Q1.x-y:
    title: {json.dumps("'); raise SystemExit #")}
    when: {json.dumps("word == params.quote or word == " + json.dumps(WORD))}
  Q2:
    title: a key with dots
    when: {json.dumps("odd[" + json.dumps(KEY) + "] >= params.many")}
  Q3:
    title: a count of names with quotes
    when: {json.dumps("count(i for i in items if i.name == " + json.dumps(NAME) + ") >= 1")}
labels: [ok]
tiers:
  ok:
    title: {json.dumps(chr(10) + "import os")}
    requires: [Q1.x-y, Q2, Q3]
validity:
  valid_from: assessed_on
  rules:
    - id: r1
      title: t
      labels: [ok]
      valid_until: month_end(assessed_on, 12)
"""


def test_a_hostile_ruleset_cannot_put_code_into_the_generated_label_source(tmp_path: Path) -> None:
    """Ids, keys, titles, parameter values and string constants with quotes, newlines and Python
    statements stay values: the generated source holds none of them (no string literal at all),
    and the decisions are the closures'."""
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    ruleset = load_ruleset(path)
    source = evaluator(ruleset).label_plan.source
    assert _literals(source) <= {int, bool, type(None)}
    for text in ("import", "boom", "pwned", "SystemExit", "a.b-c_d", "Q1.x-y"):
        assert text not in source
    cases = [{"assessed_on": "2021-01-01", "word": QUOTE, "odd": {KEY: 3}, "items": [{"name": NAME}]},
             {"assessed_on": "2021-01-01", "word": WORD, "odd": {KEY: 1}, "items": []},
             {"assessed_on": "2021-01-01"}]
    outlines = [decide_label(ruleset, case) for case in cases]
    assert outlines[0] == ("ok", dt.date(2021, 1, 1), dt.date(2022, 1, 31))
    assert [o[0] for o in outlines[1:]] == ["none", "none"]
    for case in cases:
        data = validate_assessment(ruleset, case).data
        assert evaluator(ruleset).label(dict(data), missing=True) == label_by_closures(ruleset_plan(ruleset),
                                                                                        dict(data), missing=True)


def ruleset_plan(ruleset: Ruleset) -> Any:
    return evaluator(ruleset).plan


def test_decide_label_never_changes_the_data_and_the_outline_extends_its_copy_as_the_closures_do() -> None:
    """decide_label puts derived values and the label (read by validity rules) into a copy: the
    validated data it is given is left as it was. The outline (the label mode with unknown tiers)
    extends the copy it is given exactly as the closures do, so that its callers can read the
    derived values there (the batch works out the validity rule of an awarded label from it)."""
    for name in ("derived 1.0.0", "ecei-labels 3.0.1"):
        ruleset = _load(RULESETS[name])
        for raw in synthesize(5, seed=1, start=dt.date(2021, 1, 1), end=dt.date(2024, 1, 1), versions=[ruleset]):
            validated = validate_assessment(ruleset, raw)
            before = copy.deepcopy(dict(validated.data))
            decide_label(ruleset, validated)
            assert dict(validated.data) == before
            generated, closures = dict(validated.data), dict(validated.data)
            evaluator(ruleset).label(generated, missing=True)
            label_by_closures(evaluator(ruleset).plan, closures, missing=True)
            assert generated == closures


def test_what_the_generator_does_not_write_inline_is_a_call_of_the_compiled_closure() -> None:
    """A condition without a code (a construct the generator is not told how to write) is a call
    of its compiled closure with the environment, and decides alike."""
    ruleset = load_ruleset(RULESETS["every 1.0.0"])  # a fresh copy: its plan is built below
    for criterion in ruleset.plan.criteria[:3]:
        criterion.compiled.code = None
    source = evaluator(ruleset).label_plan.source
    assert len(re.findall(r"F\d+\(env\)", source)) >= 2 * 3  # in the outline and in the label alone
    raws = list(synthesize(8, seed=2, start=dt.date(2015, 1, 1), end=dt.date(2025, 12, 31), versions=[ruleset]))
    assert _agree(ruleset, raws) == len(raws)


def test_groups_nested_too_deep_to_compile_inline_fall_back_and_decide_alike(tmp_path: Path) -> None:
    """A tier over 250 groups each nesting the one before (more brackets than Python compiles):
    the generated label path falls back (the label alone from the outline) and decides as the
    closures do."""
    groups = "\n".join(f"  G{i}: {{title: g, all_of: [{'C0' if i == 0 else f'G{i - 1}'}, C1]}}" for i in range(250))
    path = tmp_path / "deep.yaml"
    path.write_text(f"""\
methodology: deep
version: 1.0.0
title: Deep
status: draft
effective_from: 2020-01-01
approval: {{body: T, date: 2019-12-01, reference: T}}
inputs:
  assessed_on: {{type: date, required: true}}
  x: {{type: integer}}
criteria:
  C0: {{title: c, when: x >= 1}}
  C1: {{title: c, when: x >= 0}}
groups:
{groups}
labels: [ok]
tiers:
  ok: {{title: ok, requires: [G249]}}
validity:
  valid_from: assessed_on
  rules:
    - {{id: r, title: t, labels: [ok], valid_until: never}}
""", encoding="utf-8")
    ruleset = load_ruleset(path)
    assert "return decide(env, False)[:3]" in evaluator(ruleset).label_plan.source
    cases = [{"assessed_on": "2021-01-01", "x": x} for x in (2, 0, -1)] + [{"assessed_on": "2021-01-01"}]
    assert [decide_label(ruleset, case)[0] for case in cases] == ["ok", "none", "none", "none"]
    assert _agree(ruleset, cases) == len(cases)
