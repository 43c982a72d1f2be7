"""Synth works for any methodology: it knows none by name, reaches every class of an appliance energy
label (a class computed from an index, not from one input), draws values on both sides of and at
every threshold, is a function of its seed, and reports how each criterion came out."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.core.logic import months_between
from ecei_rules.core.patterns import Pattern
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.ruleset.analysis import comparisons
from ecei_rules.ruleset.load import Ruleset, load_ruleset, load_ruleset_text
from ecei_rules.testing.regex_draw import draw_matching
from ecei_rules.testing.synth import Coverage, load_profile, synthesize
from ecei_rules.testing.synth_goals import goals_of

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src" / "ecei_rules"
APPLIANCES = ROOT / "tests" / "data" / "appliance"
FRIDGE = APPLIANCES / "fridge-energy-label" / "1.0.0.yaml"
THRESHOLDS = ROOT / "tests" / "data" / "synth" / "thresholds" / "1.0.0.yaml"
AS_OF = dt.date(2020, 6, 30)

# The first methodology's vocabulary: its inputs, tiers, bodies and parameters.
ECEI_NAMES = ("cluster", "organisation", "organization", "bronze", "silver", "gold", "esca", "indicator",
              "improvement", "eligib", "benchmark", "success_stor", "history", "renewal", "ecei-labels", "eccp",
              "syn-")
SYNTH_MODULES = ("testing/synth.py", "testing/synth_goals.py", "testing/synth_draw.py", "testing/synth_coverage.py",
                 "testing/regex_draw.py", "ruleset/analysis.py")


def _mentions(text: str) -> list[str]:
    """The first methodology's names in a text (whole or as the start of a word), case-insensitive."""
    return [m.group(0) for m in re.finditer(r"(?i)\b(" + "|".join(map(re.escape, ECEI_NAMES)) + ")", text)]


def test_synth_knows_no_methodology_by_name() -> None:
    """No synth module names the first methodology's inputs, tiers or bodies (its realism lives in
    examples/synth/ecei-labels.yaml, a profile). The check itself finds the names in a text that has them."""
    assert _mentions('if child == "/improvement_areas": org["name"] = f"Synthetic cluster {i}"  # Bronze') == [
        "improvement", "cluster", "Bronze"]
    for module in SYNTH_MODULES:
        text = (SRC / module).read_text(encoding="utf-8")
        assert _mentions(text) == [], module
    assert set(_mentions((ROOT / "examples" / "synth" / "ecei-labels.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def fridge() -> Ruleset:
    return load_ruleset(FRIDGE)


@pytest.fixture(scope="module")
def fridges(fridge: Ruleset) -> tuple[list[dict[str, Any]], Coverage]:
    coverage = Coverage()
    return list(synthesize(500, seed=3, as_of=AS_OF, versions=[fridge], coverage=coverage)), coverage


BANDS = {"A+++": 22, "A++": 33, "A+": 42, "A": 55, "B": 75, "C": 95, "D": 110, "E": 125, "F": 150}


def _index(data: dict[str, Any]) -> Fraction | None:
    """The energy efficiency index, computed here from the assessment (not by the engine)."""
    appliance = data["appliance"]
    if "energy" not in appliance or "volume" not in appliance:
        return None
    return 100 * Fraction(appliance["energy"]) / (Fraction("0.233") * Fraction(appliance["volume"]) + 245)


def test_synth_exercises_every_threshold_of_an_energy_label(fridge: Ruleset,
                                                            fridges: tuple[list[dict[str, Any]], Coverage]) -> None:
    """500 refrigerators: every class A+++ .. G comes out at least 15 times (the engine decides, and the class
    follows from the index computed here), no class takes more than a third, and the index lies within half a
    point below and at or above every band bound; volumes are litres, not hundredths of one."""
    population, _ = fridges
    labels = Counter(evaluate(fridge, data).label for data in population)
    assert set(labels) == {*BANDS, "G", "none"}
    assert min(labels.values()) >= 15, labels
    assert max(labels.values()) <= len(population) // 3, labels
    indices = [i for i in map(_index, population) if i is not None]
    for label, bound in BANDS.items():
        below = [i for i in indices if bound - Fraction(1, 2) <= i < bound]
        above = [i for i in indices if bound <= i <= bound + Fraction(1, 2)]
        assert below, (label, bound)
        assert above, (label, bound)
    for data in population:  # the index decides the class, as the engine says
        index = _index(data)
        if index is not None:
            expected = next((label for label, bound in BANDS.items() if index < bound), "G")
            assert evaluate(fridge, data).label == expected
    volumes = [Decimal(str(d["appliance"]["volume"])) for d in population if "volume" in d["appliance"]]
    assert sum(v >= 10 for v in volumes) >= 0.9 * len(volumes)


@pytest.fixture(scope="module")
def sites() -> list[dict[str, Any]]:
    return list(synthesize(400, seed=5, as_of=dt.date(2022, 6, 30), versions=[load_ruleset(THRESHOLDS)]))


def test_synth_draws_values_on_both_sides_and_at_each_threshold(sites: list[dict[str, Any]]) -> None:
    """Each threshold of tests/data/synth/thresholds: values exactly at it and one step either side (an integer
    compared strictly, a bounded decimal, whole months between two dates, a date and a date literal, the length
    of a filtered list, a relation between two numbers), strings that RE2 matches, the listed enum values more
    often than others."""
    site = [a["site"] for a in sites]
    staff = Counter(s.get("staff") for s in site)
    assert all(staff[v] for v in (11, 12, 13)), staff  # staff > 12
    share = Counter(s.get("share") for s in site)
    assert all(share[Decimal(v)] for v in ("0.34", "0.35", "0.36")), share  # share <= 0.35
    months = Counter(months_between(dt.date.fromisoformat(s["audited_on"]), dt.date.fromisoformat(a["assessed_on"]))
                     for a, s in zip(sites, site, strict=True) if "audited_on" in s)
    assert all(months[v] for v in (17, 18, 19)), months  # >= 18 months before
    opened = Counter(s.get("opened_on") for s in site)
    assert all(opened[v] for v in ("2014-12-31", "2015-01-01", "2015-01-02")), opened  # < 2015-01-01
    closed = Counter(len({f["kind"] for f in a.get("findings", []) if f["closed"]}) for a in sites)
    assert all(closed[v] for v in (1, 2, 3)), closed  # at least 2 distinct closed kinds
    ties = [s for s in site if isinstance(s.get("trained"), int) and isinstance(s.get("staff"), int)]
    assert any(2 * s["trained"] == s["staff"] for s in ties)  # 2 * trained > staff: the tie fails
    assert any(2 * s["trained"] == s["staff"] + 1 for s in ties)
    assert all(s["trained"] <= s["staff"] for s in ties)  # the check always holds
    pattern = Pattern("[A-Z]{3}-[0-9]{2}")
    assert all(pattern.fullmatch(s["code"]) for s in site)
    assert len({s["code"] for s in site}) > 300
    zones = Counter(s.get("zone") for s in site)
    assert zones["north"] + zones["east"] > 2 * (zones["south"] + zones["west"]) > 0
    assert 0 < zones[None] < 40  # an optional input is sometimes absent: unknown


def test_synth_is_deterministic_for_a_seed(fridge: Ruleset) -> None:
    """The same seed gives the same population, in this process and in another with other string hashing;
    another seed gives another one."""
    profile = load_profile(ROOT / "examples" / "synth" / "ecei-labels.yaml")
    first = list(synthesize(40, seed=9, as_of=AS_OF, versions=[fridge]))
    assert first == list(synthesize(40, seed=9, as_of=AS_OF, versions=[fridge]))
    assert first != list(synthesize(40, seed=10, as_of=AS_OF, versions=[fridge]))
    args = [sys.executable, "-m", "ecei_rules.cli.app", "synth", "--as-of", "2020-06-30", "--n", "30", "--seed", "9",
            "--rulesets", str(APPLIANCES), "-m", "fridge-energy-label"]
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT / "src")}
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=True, timeout=300)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert json.loads(next(iter(outputs)).splitlines()[0])["appliance"]["model"]
    ecei = list(synthesize(20, seed=9, as_of=AS_OF, profile=profile))
    assert ecei == list(synthesize(20, seed=9, as_of=AS_OF, profile=profile))


def test_synth_reports_coverage_per_criterion(fridge: Ruleset, fridges: tuple[list[dict[str, Any]], Coverage],
                                              tmp_path: Path) -> None:
    """The coverage counts, per label and per tier and criterion outcome, equal those of deciding the population
    again with the engine; the CLI prints the labels on stderr (and every count with --coverage), names the
    outcomes never reached, and writes the same counts as JSON with --report."""
    population, coverage = fridges
    decisions = [evaluate(fridge, data) for data in population]
    (counted,) = coverage.versions.values()
    assert counted.labels == Counter(d.label for d in decisions)
    for criterion in fridge.document.criteria:
        expected = Counter(next(c.outcome for c in d.criteria if c.id == criterion) for d in decisions)
        assert counted.outcomes[("criterion", criterion)] == expected, criterion
    for tier in fridge.document.tiers:
        expected = Counter(next(t.outcome for t in d.tiers if t.label == tier) for d in decisions)
        assert counted.outcomes[("tier", tier)] == expected, tier
    assert coverage.kept == 500 <= coverage.drawn
    report = tmp_path / "coverage.json"
    result = CliRunner().invoke(app, ["synth", "--as-of", "2020-06-30", "--n", "500", "--seed", "3", "--rulesets",
                                      str(APPLIANCES), "-m", "fridge-energy-label", "--report", str(report),
                                      "--coverage", "--out", str(tmp_path / "pop.jsonl")])
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text(encoding="utf-8"))
    (version,) = written["versions"]
    assert version["labels"]["A+++"] == counted.labels["A+++"]
    assert version["criteria"]["eei_below_a3"] == {o: counted.outcomes[("criterion", "eei_below_a3")][o]
                                                   for o in ("met", "not_met", "unknown")}
    assert f"A+++ {counted.labels['A+++']:,} (" in result.stderr
    assert re.search(r"criterion\s+measured\s+\d+\s+0\s+\d+\s+<- never not met", result.stderr), result.stderr
    short = CliRunner().invoke(app, ["synth", "--as-of", "2020-06-30", "--n", "50", "--rulesets", str(APPLIANCES),
                                     "-m", "fridge-energy-label", "--out", str(tmp_path / "p.jsonl")])
    assert "outcomes never reached" in short.stderr
    assert "criterion eei_below_a3" not in short.stderr


def test_a_profile_replaces_draws_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    """Profile templates, choices and list lengths replace synth's own draws; a malformed profile is an error
    (exit 2, its message), not a traceback."""
    profile = load_profile(ROOT / "examples" / "synth" / "ecei-labels.yaml")
    population = list(synthesize(200, seed=1, as_of=AS_OF, profile=profile))
    assert [a["organisation"]["name"] for a in population[:2]] == ["Synthetic cluster 1", "Synthetic cluster 2"]
    assert {a["organisation"]["country"] for a in population} <= set(profile.choices["/organisation/country"][0])
    assert max(len(a.get("history", [])) for a in population) <= 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("choices: {/a: 3}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["synth", "--as-of", "2020-06-30", "--n", "2", "--profile", str(bad)])
    assert result.exit_code == 2
    assert "choices for /a" in result.output
    bad.write_text("templates: {/organisation/name: 'Cluster {name}'}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["synth", "--as-of", "2020-06-30", "--n", "2", "--profile", str(bad)])
    assert result.exit_code == 2
    assert "{index} is the only name" in result.output
    bad.write_text("choices: {/organisation/country: [12]}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["synth", "--as-of", "2020-06-30", "--n", "2", "--profile", str(bad)])
    assert result.exit_code == 2
    assert "at /organisation/country" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(ValueError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    bad.write_text("templates: [1]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'templates' maps JSON pointers"):
        load_profile(bad)


def test_a_threshold_on_a_derived_value_is_solved_through_its_expression(fridge: Ruleset) -> None:
    """The hook for derived values: a version whose criteria compare a derived value (``index < 22``, the index
    declared once in a ``derived`` section) gives synth the same computed goal as the formula written out,
    reading the same inputs; without the section nothing is aimed at (a stand-in document carries it)."""
    doc = fridge.document
    formula = "100 * appliance.energy / (0.233 * appliance.volume + 245)"

    def stand_in(derived: dict[str, str] | None) -> Any:
        document = SimpleNamespace(criteria={"a3": SimpleNamespace(when="index < params.eei_a3")},
                                   parameters=doc.parameters, scores={}, validity=doc.validity, derived=derived)
        return SimpleNamespace(document=document, plan=fridge.plan)

    (goal,) = goals_of([stand_in({"index": formula})]).computed
    assert (goal.op, goal.threshold) == ("<", 22)
    assert set(goal.reads) == {"/appliance/energy", "/appliance/volume"}
    written_out = [g for g in goals_of([fridge]).computed if g.threshold == 22]
    assert [(g.text, g.op) for g in written_out] == [(goal.text, goal.op)]
    assert goals_of([stand_in(None)]).computed == []


def test_comparisons_resolve_loop_variables_checks_and_chains() -> None:
    """Every comparison of every condition, as synth reads them: a filter's bare flag under its loop is
    ``/findings/-/closed == true``, a check's names start at its object, a chain gives its two comparisons,
    and a date expression (``valid_until``) is not read as a truth value."""
    ruleset = load_ruleset(THRESHOLDS)
    found = {(c.source, c.owner, c.pointer(c.left) or ast.unparse(c.left), c.op, ast.unparse(c.right))
             for c in comparisons(ruleset)}
    assert ("criterion", "closed", "/findings/-/closed", "==", "True") in found
    assert ("criterion", "staffed", "/site/staff", ">", "params.min_staff") in found
    assert ("check", "/site", "/site/trained", "<=", "staff") in found
    assert not any(source == "validity" for source, *_ in found)
    chain = load_ruleset_text(THRESHOLDS.read_text(encoding="utf-8").replace(
        "site.share <= params.max_share", "0.1 <= site.share <= params.max_share"))
    shares = {(c.op, ast.unparse(c.left), ast.unparse(c.right)) for c in comparisons(chain) if c.owner == "share"}
    assert shares == {("<=", "0.1", "site.share"), ("<=", "site.share", "params.max_share")}


PATTERNS = ["[A-Z]{2}", "(ab|cd)+x?", "[^0-9]{3}-\\d{2,4}", "a.c", "[[:digit:]]?z", "\\w+@\\w+\\.org"]


@pytest.mark.parametrize("text", PATTERNS)
def test_strings_drawn_for_a_pattern_match_it_under_re2(text: str) -> None:
    """Every string drawn for a pattern is matched entirely by the RE2 pattern, is bounded, and the draws are
    a function of the seed."""
    pattern = Pattern(text)
    drawn = [draw_matching(pattern, random.Random(seed), 40) for seed in range(50)]
    assert all(s is not None and pattern.fullmatch(s) and len(s) <= 40 for s in drawn), drawn
    assert drawn == [draw_matching(pattern, random.Random(seed), 40) for seed in range(50)]
    assert len(set(drawn)) > 1


def test_a_pattern_only_re2_reads_gives_no_string() -> None:
    """A pattern Python's reader does not know (RE2's script classes) gives None, never a string RE2 would
    refuse; RE2's letter class is spelt the Python way and drawn."""
    assert draw_matching(Pattern("\\p{Greek}+"), random.Random(1), 40) is None
    drawn = draw_matching(Pattern("\\pL{3}"), random.Random(1), 40)
    assert drawn is not None
    assert Pattern("\\pL{3}").fullmatch(drawn)
