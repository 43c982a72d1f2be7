"""Hostile rulesets (issue 12): every one is refused with a located diagnostic, within bounded memory.

Nothing here may raise: ``check_ruleset`` and ``parse_yaml`` return diagnostics for any input,
and each case is refused within bounded memory (the limits of ``safe_yaml`` and ``expr`` cut it short).
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecei_rules.errors import Diagnostic
from ecei_rules.ruleset.load import check_ruleset
from ecei_rules.ruleset.safe_yaml import MAX_BYTES, parse_yaml

MINIMAL = Path(__file__).resolve().parent.parent / "data" / "minimal.yaml"
WHEN = "    when: score >= params.min_score\n"


#: The memory any hostile file may cost while it is refused: the 4 MiB read buffer and change. An
#: alias bomb that expanded, or a 500,000-node document that was composed, costs hundreds of MiB.
PEAK_BYTES = 16 * 2**20


def bounded(fn: Callable[[], Any], peak: int = PEAK_BYTES) -> Any:
    """Run ``fn``; fail when its memory peak (tracemalloc) passes ``peak`` bytes.

    The limits of the YAML reader and the condition compiler cut hostile input short; what shows it
    without a clock (a shared machine's clock proves nothing) is that nothing large was ever built.
    """
    tracemalloc.start()
    try:
        result = fn()
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert used <= peak, f"refusing it took {used / 2**20:.1f} MiB (bound {peak / 2**20:.0f} MiB)"
    return result


def errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity == "error"]


def check_text(tmp_path: Path, text: str | bytes) -> list[Diagnostic]:
    path = tmp_path / "hostile.yaml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    diags = errors(bounded(lambda: check_ruleset(path)))
    assert diags, "a hostile ruleset was accepted"
    assert all(d.file == str(path) for d in diags)
    return diags


# -- YAML-level attacks --------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
) + "\n"


def test_billion_laughs_is_refused_at_the_first_anchor(tmp_path: Path) -> None:
    diags = check_text(tmp_path, BILLION_LAUGHS)
    assert [(d.code, d.line, d.column) for d in diags] == [("E004", 1, 4)]


def test_alias_bomb_inside_a_real_ruleset(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8") + "extra: &x [1, 2]\nmore: [*x, *x]\n"
    diags = check_text(tmp_path, text)
    assert diags[0].code == "E004"
    assert diags[0].line == text.splitlines().index("extra: &x [1, 2]") + 1


def test_a_50_mb_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    chunk = ("key_%07d: " + "x" * 80 + "\n").encode()
    with path.open("wb") as handle:
        for i in range(50 * 1024 * 1024 // len(chunk % 0) + 1):
            handle.write(chunk % i)
    assert path.stat().st_size >= 50 * 1024 * 1024
    diags = errors(bounded(lambda: check_ruleset(path)))
    assert [(d.code, d.file) for d in diags] == [("E005", str(path))]
    assert "larger than 4 MiB" in diags[0].message


def test_just_over_the_size_limit_in_multibyte_text() -> None:
    """The limit counts UTF-8 bytes, not characters."""
    text = "a: '" + "é" * (MAX_BYTES // 2) + "'\n"
    assert len(text) < MAX_BYTES
    diags = bounded(lambda: parse_yaml(text).diagnostics)
    assert [d.code for d in diags] == ["E005"]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        pytest.param("[" * 10_000 + "]" * 10_000, None, id="flow-sequences"),
        pytest.param("{a: " * 10_000 + "1" + "}" * 10_000, None, id="flow-mappings"),
        pytest.param("- " * 10_000 + "x\n", None, id="block-sequences"),
        pytest.param("".join(" " * i + f"k{i}:\n" for i in range(2_800)) + " " * 2_800 + "v\n", None,
                     id="block-mappings"),
    ],
)
def test_deep_nesting_is_refused(tmp_path: Path, text: str, column: int | None) -> None:
    diags = check_text(tmp_path, text)
    assert diags[0].code == "E005"
    assert diags[0].line is not None
    assert diags[0].line >= 1


def test_nesting_just_beyond_the_depth_limit_names_the_pointer() -> None:
    text = "a: " + "[" * 70 + "]" * 70 + "\n"
    diags = parse_yaml(text).diagnostics
    assert [d.code for d in diags] == ["E005"]
    assert diags[0].pointer.startswith("/a/0/0")
    assert (diags[0].line, diags[0].column) == (1, 4 + 64)


def test_duplicate_keys(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace("title: Minimal\n", "title: Minimal\ntitle: Other\n")
    diags = check_text(tmp_path, text)
    first = diags[0]
    line = text.splitlines().index("title: Other") + 1
    assert (first.code, first.line, first.column, first.pointer) == ("E003", line, 1, "/title")
    assert f"first defined on line {line - 1}" in first.message


@pytest.mark.parametrize(
    ("blob", "line", "column"),
    [
        pytest.param(b"methodology: m\ntitle: caf\xe9\n", 2, 11, id="latin-1"),
        pytest.param(b"methodology: m\n\xff\xfe\n", 2, 1, id="bom-like"),
        pytest.param(b"a: '\xed\xa0\x80'\n", 1, 5, id="encoded-surrogate"),
        pytest.param(b"a: '\xc0\xaf'\n", 1, 5, id="overlong"),
    ],
)
def test_invalid_utf8(tmp_path: Path, blob: bytes, line: int, column: int) -> None:
    diags = check_text(tmp_path, blob)
    assert [(d.code, d.line, d.column) for d in diags] == [("E001", line, column)]


def test_tabs(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace("  score: {type: decimal}", "\tscore: {type: decimal}")
    diags = check_text(tmp_path, text)
    line = text.splitlines().index("\tscore: {type: decimal}") + 1
    assert [(d.code, d.line, d.column) for d in diags] == [("E002", line, 1)]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param("a: !!python/object/apply:os.system ['touch /tmp/pwned']\n", 1, 4, id="os-system"),
        pytest.param("!!python/object/apply:os.system ['touch /tmp/pwned']\n", 1, 1, id="root"),
        pytest.param("a:\n  b: !!python/name:os.system\n", 2, 6, id="python-name"),
        pytest.param("a: !custom {x: 1}\n", 1, 4, id="local-tag"),
        pytest.param("%TAG !e! tag:example.com,2000:\n---\na: !e!thing 1\n", 3, 4, id="tag-directive"),
        pytest.param("a: !!binary aGVsbG8=\n", 1, 4, id="binary"),
        pytest.param("a: !!set {x, y}\n", 1, 4, id="set"),
    ],
)
def test_custom_tags_are_refused_and_never_run(tmp_path: Path, text: str, line: int, column: int) -> None:
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    diags = check_text(tmp_path, text)
    assert (diags[0].code, diags[0].line, diags[0].column) == ("E004", line, column)
    assert marker.exists() == existed


def test_merge_keys_are_refused_and_do_not_merge(tmp_path: Path) -> None:
    """A plain '<<' key (a merge key in YAML 1.1) is refused with E004 where it stands, and nothing
    is merged; a quoted '<<' is an ordinary key, which a ruleset then calls unknown (E101)."""
    doc = parse_yaml("a: {x: 1}\nb:\n  <<: {y: 2}\n  z: 3\n")
    assert [(d.code, d.line, d.column, d.pointer) for d in doc.diagnostics] == [("E004", 3, 3, "/b")]
    assert "merge keys ('<<') are not allowed" in doc.diagnostics[0].message
    assert doc.data == {"a": {"x": 1}, "b": {"z": 3}}
    quoted = parse_yaml('b:\n  "<<": {y: 2}\n')
    assert quoted.diagnostics == []
    assert quoted.data == {"b": {"<<": {"y": 2}}}
    text = MINIMAL.read_text(encoding="utf-8") + "<<: {title: Merged}\n"
    diags = check_text(tmp_path, text)
    assert [(d.code, d.line) for d in diags] == [("E004", len(text.splitlines()))]
    text = MINIMAL.read_text(encoding="utf-8") + "'<<': {title: Merged}\n"
    diags = check_text(tmp_path, text)
    assert [(d.code, d.line, d.pointer) for d in diags] == [("E101", len(text.splitlines()), "/<<")]


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
def test_many_values_hit_the_node_limit() -> None:
    text = "[" + "1," * 600_000 + "1]"
    assert len(text.encode()) < MAX_BYTES
    diags = bounded(lambda: parse_yaml(text).diagnostics)
    assert [d.code for d in diags] == ["E005"]
    assert "more than 500000 values" in diags[0].message
    # found while scanning events, before any node is composed: the 500,001st value is named
    assert (diags[0].line, diags[0].column) == (1, 2 * 500_000)  # the list is value 1, item k at column 2k


def test_mapping_keys_do_not_count_as_values() -> None:
    text = "{" + ", ".join(f"k{i}: {i}" for i in range(1000)) + "}"
    doc = parse_yaml(text)
    assert doc.diagnostics == []
    assert len(doc.data) == 1000


# -- condition payloads --------------------------------------------------------------------------


def with_condition(condition: str) -> str:
    text = MINIMAL.read_text(encoding="utf-8")
    assert WHEN in text
    # JSON strings are YAML double-quoted scalars
    return text.replace(WHEN, f"    when: {json.dumps(condition)}\n")


def condition_line() -> int:
    return MINIMAL.read_text(encoding="utf-8").splitlines().index(WHEN.rstrip("\n")) + 1


PAYLOADS = [
    pytest.param("().__class__", "E202", id="attribute-of-tuple"),
    pytest.param("score.__class__.__bases__", "E202", id="dunder-attribute"),
    pytest.param("().__class__.__base__.__subclasses__()", "E202", id="subclasses"),
    pytest.param("__builtins__", "E202", id="dunder-name"),
    pytest.param("__import__('os').system('touch /tmp/pwned')", "E202", id="import"),
    pytest.param("__import__('os')", "E203", id="import-bare"),
    pytest.param("(lambda: 1)()", "E20", id="lambda-call"),
    pytest.param("lambda: True", "E202", id="lambda"),
    pytest.param("eval('1')", "E203", id="eval"),
    pytest.param("open('/etc/passwd')", "E203", id="open"),
    pytest.param("getattr(score, 'real')", "E203", id="getattr"),
    pytest.param("10**10**10 > 1", "E202", id="huge-exponent"),
    pytest.param("score ** 99999999 > 1", "E202", id="power"),
    pytest.param("9" * 3000 + " > score", "E205", id="huge-literal"),
    pytest.param("1e999999 > score", "E205", id="huge-float"),
    pytest.param("(" * 5000 + "score" + ")" * 5000 + " > 1", "E103", id="5000-parentheses"),
    pytest.param("(" * 1000 + "score" + ")" * 1000 + " > 1", "E201", id="1000-parentheses"),
    pytest.param("[" * 41 + "1" + "]" * 41 + " == score", "E201", id="41-brackets"),
    pytest.param("not " * 600 + "score > 1", "E201", id="deep-not"),
    pytest.param(" and ".join(["score > 1"] * 120), "E201", id="too-many-nodes"),
    pytest.param("score > 1 or " * 400 + "true", "E103", id="too-long"),
    pytest.param("x" * 100_000, "E103", id="100k-name"),
    pytest.param("[x for x in score]", "E202", id="list-comprehension"),
    pytest.param("(y := 1)", "E202", id="walrus"),
    pytest.param("f'{score}' == 'x'", "E202", id="f-string"),
    pytest.param("score > 1; import os", "E201", id="statement"),
    pytest.param("score\x00 > 1", "E201", id="nul"),
]


@pytest.mark.parametrize(("condition", "code"), PAYLOADS)
def test_condition_payloads_are_refused(tmp_path: Path, condition: str, code: str) -> None:
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    diags = check_text(tmp_path, with_condition(condition))
    found = [d for d in diags if d.pointer == "/criteria/score_ok/when"]
    assert found, diags
    assert found[0].code.startswith(code), found
    assert found[0].line == condition_line()
    assert marker.exists() == existed
