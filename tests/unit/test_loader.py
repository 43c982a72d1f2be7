"""The loader: content hash, ``extends`` resolution, diagnostics across files, YAML 1.2 scalars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from ecei_rules import RulesetError, check_ruleset, load_ruleset, load_ruleset_text
from ecei_rules.language.expr import normalize
from ecei_rules.ruleset.safe_yaml import parse_yaml

DATA = Path(__file__).resolve().parent.parent / "data"
EVERY_PATH = DATA / "every" / "1.0.0.yaml"
EVERY = EVERY_PATH.read_text()
MINIMAL = (DATA / "minimal.yaml").read_text()


def edit(text: str, *pairs: tuple[str, str]) -> str:
    """Apply exact replacements, each of which must match exactly once."""
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def sha(text: str) -> str:
    return load_ruleset_text(text).sha256


BASE_SHA = sha(EVERY)


# --------------------------------------------------------------------------------------------
# content hash: what does not change it
# --------------------------------------------------------------------------------------------


def test_hash_is_a_sha256_and_the_same_from_file_or_text() -> None:
    """The content hash is 64 hex digits and does not depend on how the text was given."""
    assert len(BASE_SHA) == 64
    assert set(BASE_SHA) <= set("0123456789abcdef")
    assert load_ruleset(EVERY_PATH).sha256 == BASE_SHA


def test_hash_ignores_comments() -> None:
    """Removing and adding comments does not change the hash."""
    without = "\n".join(line for line in EVERY.splitlines() if not line.lstrip().startswith("#"))
    with_more = edit(
        without,
        ("methodology: every-construct", "methodology: every-construct  # the id\n# a full-line comment"),
        ("  score_min: {value: 0.6", "  # the pass mark\n  score_min: {value: 0.6"),
    )
    assert without != EVERY
    assert sha(without) == BASE_SHA
    assert sha(with_more) == BASE_SHA


def test_hash_ignores_key_order() -> None:
    """Reordering keys in mappings and whole top-level sections does not change the hash."""
    text = edit(
        EVERY,
        ("approval: {body: Test board, date: 2019-12-01, reference: TB-1}",
         "approval: {reference: TB-1, date: 2019-12-01, body: Test board}"),
        ('min_fte: {value: 0.5, unit: FTE, source: "Test handbook, section 2"}',
         'min_fte: {source: "Test handbook, section 2", unit: FTE, value: 0.5}'),
    )
    # move the 'groups' section after 'scores' (both are top-level blocks)
    start, middle, end = text.index("groups:\n"), text.index("scores:\n"), text.index("labels: [")
    reordered = text[:start] + text[middle:end] + text[start:middle] + text[end:]
    assert reordered != text
    assert sha(reordered) == BASE_SHA


def test_hash_ignores_flow_versus_block_style() -> None:
    """Writing mappings and lists in block style instead of flow style does not change the hash."""
    text = edit(
        EVERY,
        ("approval: {body: Test board, date: 2019-12-01, reference: TB-1}",
         "approval:\n  body: Test board\n  date: 2019-12-01\n  reference: TB-1"),
        ("\nlabels: [basic, premium]", "\nlabels:\n  - basic\n  - premium"),
        ("    weights: {K1: 1, K2: 2, K3: 2}", "    weights:\n      K1: 1\n      K2: 2\n      K3: 2"),
    )
    assert sha(text) == BASE_SHA


@pytest.mark.parametrize(("old", "new"), [
    ("when: staff.fte >= params.min_fte", "when: staff.fte>=params.min_fte"),
    ("when: 2 * staff.managers < staff.total", "when:   2*staff.managers<staff.total  "),
    ('when: kpi["k1"] >= params.k1_min', "when: kpi[ 'k1' ] >= params.k1_min"),
    ("when: count_distinct(a.kpi for a in areas if a.validated) >= 2",
     "when: >-\n      count_distinct(a.kpi\n        for a in areas\n        if a.validated) >= 2"),
])
def test_hash_sees_every_way_a_condition_is_written(old: str, new: str) -> None:
    """'a>=b' and 'a >= b' decide alike, but a decision carries its conditions as written, so its
    bytes differ and so does the hash (scheme 2); both still normalise to the same expression."""
    text = edit(EVERY, (old, new))
    assert sha(text) != BASE_SHA
    written = " ".join(new.removeprefix("when:").replace(">-", "").split())
    assert normalize(old.removeprefix("when: ")) == normalize(written)


def test_hash_ignores_explicit_defaults() -> None:
    """Writing a default value out (required: false, checks: [], clause: null) does not change the hash."""
    text = edit(
        EVERY,
        ("size: {type: enum, values: [small, large]}", "size: {type: enum, values: [small, large], required: false}"),
        ("    type: object\n    required: true\n", "    type: object\n    required: true\n    checks: []\n"),
        ("    title: k1 passes\n", "    title: k1 passes\n    clause: null\n"),
        ("\nlabels: [basic, premium]", "\ndescription: null\nlabels: [basic, premium]"),
    )
    assert sha(text) == BASE_SHA


def test_hash_ignores_equal_numbers_written_differently() -> None:
    """0.50 and 0.5 are the same threshold, so the hash does not change."""
    assert sha(edit(EVERY, ("value: 0.5, unit: FTE", "value: 0.50, unit: FTE"))) == BASE_SHA


def test_hash_ignores_embedded_tests_fixtures_and_status() -> None:
    """Embedded tests, fixtures and the status decide nothing, so they are not hashed."""
    cut = EVERY.index("fixtures:")
    text = edit(EVERY[:cut], ("status: published", "status: draft"))
    assert sha(text) == BASE_SHA


# --------------------------------------------------------------------------------------------
# content hash: what changes it
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("value: 0.6, unit: share of weight", "value: 0.7, unit: share of weight", id="threshold"),
        pytest.param("weights: {K1: 1, K2: 2, K3: 2}", "weights: {K1: 1, K2: 3, K3: 2}", id="weight"),
        pytest.param("when: staff.fte >= params.min_fte", "when: staff.fte > params.min_fte", id="condition"),
        pytest.param("title: Enough management", "title: Enough managers", id="criterion-title"),
        pytest.param("title: Every construct", "title: Every constructs", id="ruleset-title"),
        pytest.param("\nlabels: [basic, premium]", "\nlabels: [premium, basic]", id="label-order"),
        pytest.param('source: "Test handbook, section 2"', 'source: "Test handbook, section 2.1"', id="citation"),
        pytest.param("fte: {type: decimal, minimum: 0}", "fte: {type: decimal, minimum: 0.1}", id="input-range"),
    ],
)
def test_hash_changes_on_semantic_edit(old: str, new: str) -> None:
    """Any edit of meaning (threshold, weight, condition, title, ...) changes the hash."""
    assert sha(edit(EVERY, (old, new))) != BASE_SHA


def test_condition_literal_beyond_15_digits_is_refused() -> None:
    """A literal of more than 15 significant digits is refused (E205), so no two conditions that
    decide differently can normalise to the same text and share a hash (regression: 0.60000000000000001)."""
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(edit(MINIMAL, ("score >= params.min_score", "score >= 0.60000000000000001")))
    assert [d.code for d in info.value.diagnostics] == ["E205"]
    assert info.value.diagnostics[0].pointer == "/criteria/score_ok/when"


def test_parameter_beyond_15_digits_is_refused() -> None:
    """A threshold of 0.60000000000000001 is refused (E103) rather than hashed like 0.6 (regression)."""
    text = edit(EVERY, ("value: 0.6, unit", "value: 0.60000000000000001, unit"))
    with pytest.raises(RulesetError) as info:
        sha(text)
    (diag,) = info.value.diagnostics
    assert diag.code == "E103"
    assert diag.pointer == "/parameters/score_min/value"
    assert "15 significant digits" in diag.message


# --------------------------------------------------------------------------------------------
# extends
# --------------------------------------------------------------------------------------------

BASE_FILE = """\
methodology: minimal
version: 1.0.0
title: Minimal
description: The first version.
status: published
effective_from: 2020-01-01
approval: {body: Board, date: 2019-12-01}

inputs:
  assessed_on: {type: date, required: true}
  score: {type: decimal}

parameters:
  min_score: {value: 0.5, source: "Handbook 1"}

criteria:
  score_ok:
    title: Score high enough
    when: score >= params.min_score
  old_one:
    title: Dropped in 1.1.0
    when: score >= 0.1

labels: [basic]
tiers:
  basic:
    title: Basic
    requires: [score_ok, old_one]

validity:
  valid_from: assessed_on
  rules:
    - id: always
      title: Two years
      labels: [basic]
      valid_until: month_end(assessed_on, 24)

tests:
  - name: a test of the base only
    assessment: {assessed_on: 2021-03-15, score: 0.7}
    expect: {label: basic, valid_from: 2021-03-15, valid_until: 2023-03-31}
"""

CHILD_FILE = """\
extends: 1.0.0
version: 1.1.0
status: draft
effective_from: 2022-01-01

criteria:
  old_one: null
  new_one:
    title: Added in 1.1.0
    when: score >= 0.9

tiers:
  basic:
    requires: [score_ok, new_one]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_extends_resolves_a_merge_patch(tmp_path: Path) -> None:
    """A child deletes a criterion with null, adds one, patches a tier and inherits the rest."""
    write(tmp_path, "1.0.0.yaml", BASE_FILE)
    child = load_ruleset(write(tmp_path, "1.1.0.yaml", CHILD_FILE))
    doc = child.document
    # criteria: base order without old_one, then the new one
    assert list(doc.criteria) == ["score_ok", "new_one"]
    assert doc.criteria["new_one"].when == "score >= 0.9"
    # the tier keeps its inherited title; its list is replaced as a whole (RFC 7396)
    assert doc.tiers["basic"].title == "Basic"
    assert doc.tiers["basic"].requires == ("score_ok", "new_one")
    # inherited as they are
    assert doc.title == "Minimal"
    assert doc.parameters["min_score"].value == Decimal("0.5")
    assert doc.validity.rules[0].valid_until == "month_end(assessed_on, 24)"
    # the version's own description of itself
    assert (doc.version, doc.status, doc.effective_from) == ("1.1.0", "draft", dt.date(2022, 1, 1))
    assert doc.extends == "1.0.0"
    # never inherited: approval, description and embedded tests describe the base version only
    assert doc.approval is None
    assert doc.description is None
    assert doc.tests == ()


def test_extends_hash_equals_the_flattened_document(tmp_path: Path) -> None:
    """A resolved child hashes the same as the equivalent single file written out by hand."""
    write(tmp_path, "1.0.0.yaml", BASE_FILE)
    child = load_ruleset(write(tmp_path, "1.1.0.yaml", CHILD_FILE))
    flat = edit(
        BASE_FILE.split("\ntests:")[0],
        ("version: 1.0.0", "version: 1.1.0"),
        ("description: The first version.\n", ""),
        ("status: published", "status: draft"),
        ("effective_from: 2020-01-01", "effective_from: 2022-01-01"),
        ("approval: {body: Board, date: 2019-12-01}\n", ""),
        ("  old_one:\n    title: Dropped in 1.1.0\n    when: score >= 0.1\n",
         "  new_one:\n    title: Added in 1.1.0\n    when: score >= 0.9\n"),
        ("requires: [score_ok, old_one]", "requires: [score_ok, new_one]"),
    )
    assert load_ruleset_text(flat).sha256 == child.sha256
    assert child.sha256 != load_ruleset(tmp_path / "1.0.0.yaml").sha256


def test_diagnostics_in_a_base_file_name_the_base_file(tmp_path: Path) -> None:
    """An error written in the base is reported at the base file's line, a child's error at the child's."""
    # the base's line 19 becomes "    when: scroe >= params.min_score" (condition at column 11)
    base = write(tmp_path, "1.0.0.yaml", BASE_FILE.replace("when: score >= params.min_score",
                                                          "when: scroe >= params.min_score"))
    # the child's line 10 becomes "    when: scor >= 0.9" (condition at column 11)
    child = write(tmp_path, "1.1.0.yaml", CHILD_FILE.replace("when: score >= 0.9", "when: scor >= 0.9"))
    with pytest.raises(RulesetError) as info:
        load_ruleset(child)
    located = sorted((d.file, d.line, d.column, d.code) for d in info.value.diagnostics)
    assert located == sorted([(str(base), 19, 11, "E104"), (str(child), 10, 11, "E104")])


def test_yaml_errors_in_a_base_file_name_the_base_file(tmp_path: Path) -> None:
    """A duplicate key in the base is reported with the base file's name and line."""
    # line 3 becomes a second "version:" key at column 1
    base = write(tmp_path, "1.0.0.yaml", BASE_FILE.replace("title: Minimal\n", "version: 1.0.9\n", 1))
    child = write(tmp_path, "1.1.0.yaml", CHILD_FILE.replace("version: 1.1.0\n", "version: 1.1.0\ntitle: Child\n"))
    found = [d for d in check_ruleset(child) if d.code == "E003"]
    assert [(d.file, d.line, d.column) for d in found] == [(str(base), 3, 1)]


def test_extends_loop_is_reported(tmp_path: Path) -> None:
    """Two versions extending each other give E109, never an endless loop."""
    write(tmp_path, "1.0.0.yaml", "extends: 1.1.0\n" + BASE_FILE)
    child = write(tmp_path, "1.1.0.yaml", CHILD_FILE)
    found = [d for d in check_ruleset(child) if d.code == "E109"]
    assert len(found) == 1
    assert "loop" in found[0].message


def test_extends_needs_a_file() -> None:
    """Loading text that uses 'extends' reports E109 (there is no directory to find the base in)."""
    with pytest.raises(RulesetError) as info:
        load_ruleset_text("extends: 1.0.0\n" + MINIMAL)
    assert [d.code for d in info.value.diagnostics] == ["E109"]


# --------------------------------------------------------------------------------------------
# YAML 1.2 core schema
# --------------------------------------------------------------------------------------------


def test_yaml_core_scalars() -> None:
    """no/yes/on stay strings, 0.75 is an exact Decimal, 2019-11-15 a date, 0o17 and 0x1F integers."""
    doc = parse_yaml(
        "a: no\nb: yes\nc: on\nd: 0.75\ne: 2019-11-15\nf: 0o17\ng: 0x1F\nh: ~\ni: 1e3\nj: True\n"
        "k: 0.1\nl: '0.75'\nm: 2019-11-15T10:00:00\nn: 007\n"
    )
    assert doc.diagnostics == []
    data = doc.data
    assert data["a"] == "no"
    assert data["b"] == "yes"
    assert data["c"] == "on"
    assert type(data["d"]) is Decimal
    assert data["d"] == Decimal("0.75")
    assert str(data["d"]) == "0.75"
    assert data["e"] == dt.date(2019, 11, 15)
    assert type(data["e"]) is dt.date
    assert data["f"] == 15
    assert data["g"] == 31
    assert data["h"] is None
    assert data["i"] == Decimal(1000)
    assert data["j"] is True
    assert data["k"] == Decimal("0.1")  # exactly one tenth, not the double 0.1000000000000000055...
    assert data["l"] == "0.75"  # quoted: a string
    assert data["m"] == "2019-11-15T10:00:00"  # only plain YYYY-MM-DD is a date
    assert data["n"] == 7
    assert type(data["n"]) is int


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("a: .inf\n", "E103", id="infinity"),
        pytest.param("a: .nan\n", "E103", id="nan"),
        pytest.param("a: 2021-02-30\n", "E103", id="impossible-date"),
        pytest.param("a: !!python/object:os.system x\n", "E004", id="python-tag"),
        pytest.param("a: !!binary aGk=\n", "E004", id="binary-tag"),
    ],
)
def test_yaml_values_refused(text: str, code: str) -> None:
    """Non-finite numbers, impossible dates and non-core tags are refused with a located diagnostic."""
    doc = parse_yaml(text, "x.yaml")
    assert [d.code for d in doc.diagnostics] == [code]
    # the value starts after "a: " on line 1, at column 4
    assert (doc.diagnostics[0].line, doc.diagnostics[0].column, doc.diagnostics[0].pointer) == (1, 4, "/a")


def test_non_string_keys_keep_their_text() -> None:
    """Keys that look like booleans, numbers or dates stay the text written (true, 0.5, 2020-01-01)."""
    doc = parse_yaml("true: a\n0.50: b\n2020-01-01: c\nnull: d\n")
    assert doc.diagnostics == []
    assert list(doc.data) == ["true", "0.50", "2020-01-01", "null"]


def test_bug_integer_like_keys_lose_their_text() -> None:
    """BUG: a key written 01 (an indicator id, say) becomes '1', so 01 and 1 even clash as duplicates."""
    # keys are names: like 'true' or '0.50' above, '01' and '0x10' should stay as written
    doc = parse_yaml("items:\n  01: a\n  1: b\n  0x10: c\n")
    assert doc.diagnostics == []
    assert list(doc.data["items"]) == ["01", "1", "0x10"]


def test_yaml_scalars_through_a_ruleset() -> None:
    """A loaded ruleset keeps parameters as exact Decimals and dates as dates."""
    doc = load_ruleset(EVERY_PATH).document
    assert doc.parameters["k1_min"].value == Decimal("0.75")
    assert type(doc.parameters["k1_min"].value) is Decimal
    assert doc.parameters["k2_min"].value == 3
    assert type(doc.parameters["k2_min"].value) is int
    assert doc.effective_from == dt.date(2020, 1, 1)


def test_no_is_not_a_boolean_in_a_ruleset() -> None:
    """'required: no' is the string 'no' (YAML 1.2), which the model refuses as E103."""
    text = MINIMAL.replace("score: {type: decimal}", "score: {type: decimal, required: no}")
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text)
    assert [(d.code, d.pointer) for d in info.value.diagnostics] == [("E103", "/inputs/score/required")]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte order mark at the start of a file is ignored."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert load_ruleset(path).sha256 == load_ruleset_text(MINIMAL).sha256


def test_normalize_ignores_formatting() -> None:
    """normalize() gives one text for differently formatted but equal conditions."""
    assert normalize("a>=b") == normalize("a >= b") == normalize("  a  >=   b ")
    assert normalize("a >= b") != normalize("a > b")
