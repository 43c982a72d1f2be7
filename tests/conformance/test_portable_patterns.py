"""A declared pattern (RE2, matched against the whole value by the engine) and the ``pattern`` of
the assessment schema (``portable_pattern``) accept the same strings in every dialect a validator
uses: Python's ``re`` (python-jsonschema searches with it) and ECMA-262 with the ``u`` flag (Ajv;
checked with node where it is installed)."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecei_rules.core.patterns import Pattern, pattern_problem
from ecei_rules.ruleset.portable_patterns import portable_pattern

#: RE2 patterns with a portable form: every construct portable_pattern rewrites.
PORTABLE = [
    "[A-Z]{2}", r"\d+", r"\w+", r"\s", r"\D\W\S", ".", "a.c", "[^a-c]+", "[]a]", "[^]a]", "[a-]", "[-a]",
    r"[\d.]+", r"[\w-]{2,5}", r"[\s\d]", "a{,3}", "a{2,}", "x{0}b", "(ab|cd)*", "(?:a|)b", "^a$", r"\Aa\z",
    "a$|b", r"\x41\x{e9}", "é+", "[à-ÿ]+", r"[\^]", r"\.", "a/b", "}", "]", "{", "a|b|", "(?P<n>a)b", "a*?b",
    "colou?r", "[0-9A-F]{2}(?::[0-9A-F]{2}){5}", r"[^\n]*", r"[\[\]\\-]+", r"\t\n\r\f\v", "[ -~]+", "[^ ]*",
    r"\$\(\)", "#x y", "\u2028|\u00a0",
]
#: Characters where the dialects differ: newlines, Unicode digits and spaces, beyond ASCII and the BMP.
ALPHABET = "aAbBcdxyzZ09_-.:/\\$^#\n\r \t\v\f}]{[()é٣😀\u2028\u00a0\u00e0\u00ff~"
CORNERS = ["", "a", "AB", "AB\n", "\n", "\r", "٣", "é", "😀", "\u2028", "\u00a0", "a{,3}", "a{,3", "}", "]",
           "{", "xb", "b", "aab", "a\n", "abcd", "ab\ncd", "color", "colour", "DE", "De", "0A:1B:2C:3D:4E:5F",
           "\t\n\r\f\v", "$()", "#x y", "a/b"]


#: Pieces of RE2 syntax a drawn pattern is made of (valid or not: RE2 decides).
TOKENS = ["a", "b", "0", "é", ".", "^", "$", r"\A", r"\z", "*", "+", "?", "*?", "{2}", "{1,3}", "{2,}", "{,2}",
          "(", ")", "(?:", "(?P<g>", "|", "[", "]", "[^", "-", r"\d", r"\W", r"\s", r"\.", r"\-", r"\]", "{", "}",
          r"\x41", r"\n", "/", " "]


def _patterns() -> st.SearchStrategy[str]:
    """Patterns drawn from pieces of RE2 syntax, kept when RE2 (the loader) accepts them."""
    return st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join).filter(
        lambda p: pattern_problem(p) is None)


def _texts(portable: str) -> st.SearchStrategy[str]:
    """Strings that match the portable form (by Python's re) and strings of the tricky alphabet."""
    return st.one_of(st.from_regex(portable, fullmatch=True), st.text(alphabet=ALPHABET, max_size=8),
                     st.sampled_from(CORNERS))


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
@pytest.mark.parametrize("pattern", PORTABLE)
def test_the_portable_pattern_matches_what_re2_fully_matches_in_pythons_re(pattern: str) -> None:
    """Property: for every string (none with a surrogate: the engine reads text only), Python's
    ``re.search`` with the portable form (what python-jsonschema does) matches exactly when RE2
    fully matches the declared pattern (what the engine does)."""
    portable = portable_pattern(pattern)
    assert portable is not None
    engine, compiled = Pattern(pattern), re.compile(portable)

    @settings(max_examples=max(150, settings.default.max_examples),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(_texts(portable))
    def check(text: str) -> None:
        assert bool(compiled.search(text)) == engine.fullmatch(text), repr(text)

    check()


@settings(max_examples=max(300, settings.default.max_examples),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_patterns(), st.lists(st.one_of(st.text(alphabet=ALPHABET, max_size=6), st.sampled_from(CORNERS)),
                             max_size=12))
def test_every_pattern_re2_accepts_has_a_portable_form_python_compiles_and_matches_alike(
        pattern: str, texts: list[str]) -> None:
    """Property: for any pattern the loader accepts (RE2), the portable form, when there is one,
    compiles in Python's re (a schema whose pattern does not compile breaks its validator) and
    matches exactly the strings RE2 fully matches."""
    portable = portable_pattern(pattern)
    if portable is None:
        return
    compiled, engine = re.compile(portable), Pattern(pattern)
    assert [bool(compiled.search(t)) for t in texts] == [engine.fullmatch(t) for t in texts]


def test_no_portable_pattern_matches_a_lone_surrogate() -> None:
    """A negation (``.``, ``[^...]``, ``\\S``) leaves out the surrogates, which no accepted document
    holds (a lone ``\\ud800`` escape does not parse), so the schema refuses what the engine refuses."""
    for pattern, text in ((".", "\ud800"), ("[^a]", "\udfff"), (r"\S", "\ud800"), (r"\D", "\ud800"),
                          (r"\W", "\udc00"), ("a.*", "a\ud800")):
        portable = portable_pattern(pattern)
        assert portable is not None
        assert not re.search(portable, text), pattern


@pytest.mark.skipif(shutil.which("node") is None, reason="node (ECMA-262) is not installed")
def test_the_portable_pattern_matches_what_re2_fully_matches_in_ecma_262() -> None:
    """For every pattern (those above, and those RE2 accepts of 3,000 drawn from pieces of syntax
    with a fixed seed) and a fixed set of strings (the corners and 60 drawn from the tricky
    alphabet), the portable form compiles in JavaScript and its ``new RegExp(portable, "u").test`` (how Ajv checks a
    pattern) matches exactly when RE2 fully matches the declared pattern."""
    draw = random.Random(21)
    texts = CORNERS + ["".join(draw.choice(ALPHABET) for _ in range(draw.randint(0, 6))) for _ in range(60)]
    drawn = ["".join(draw.choice(TOKENS) for _ in range(draw.randint(1, 8))) for _ in range(3000)]
    patterns = PORTABLE + [p for p in drawn if pattern_problem(p) is None and portable_pattern(p) is not None]
    cases = [(p, portable_pattern(p), t) for p in patterns for t in texts]
    script = ("const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(cases.map(([p, t]) => new RegExp(p, 'u').test(t))));")
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run([node, "-e", script], input=json.dumps([[q, t] for _, q, t in cases]),
                          capture_output=True, text=True, check=True, encoding="utf-8")
    ecma = json.loads(done.stdout)
    wrong = [(p, t) for (p, _, t), found in zip(cases, ecma, strict=True) if found != Pattern(p).fullmatch(t)]
    assert wrong == []


@pytest.mark.parametrize("pattern", ["(?i)[a-z]{2}", r"\bAB", r"\pL+", r"\PL", "[[:upper:]]{2}", r"\QA.B\E",
                                     "😀+", r"\x{1F600}", r"[^\S]", r"\C", r"\1", "^*", r"\A+", "a$?", r"\z{2}"])
def test_a_pattern_read_differently_by_the_dialects_has_no_portable_form(pattern: str) -> None:
    """Flags (Unicode case folding differs), word boundaries (Unicode in Python's re), Unicode and
    POSIX classes, quoting, characters beyond the BMP (two code units without the u flag), a
    negated category inside a class, any byte, back references, a repeated anchor (a syntax error
    in Python's re or ECMA-262 with the u flag): no portable form (None), so the schema leaves
    the check to the engine."""
    assert portable_pattern(pattern) is None
