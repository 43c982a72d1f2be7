"""The library functions the command line calls instead of holding logic of its own: one reference
syntax (``split_version``, ``named_ruleset``), a resolver with its versions loaded up front
(``ready_resolver``) and saving counterexamples (``save_counterexamples``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ecei_rules
from ecei_rules.batch import ResolverSpec, named_ruleset, ready_resolver, split_version
from ecei_rules.errors import ResolutionError, RulesetError
from ecei_rules.registry import Registry

ROOT = Path(ecei_rules.__file__).resolve().parents[2]
GOLD = ROOT / "examples" / "gold-2021.json"
SILVER = ROOT / "examples" / "silver-2016.json"


def test_split_version_reads_a_bare_version_and_a_whole_reference_alike() -> None:
    """``3.0.1`` of the methodology given and ``ecei-labels@3.0.1`` mean the same pin; a bare version
    of no methodology names none (the registry's only one is meant: see the next test)."""
    assert split_version("3.0.1", "ecei-labels") == split_version("ecei-labels@3.0.1") == ("ecei-labels", "3.0.1")
    assert split_version("ecei-labels@3.0.1", "ecei-labels") == ("ecei-labels", "3.0.1")
    assert split_version("^3", "other") == ("other", "^3")
    assert split_version("3.0.1") == (None, "3.0.1")
    assert split_version(None, None) == (None, None)
    assert split_version("other@1.0.0") == ("other", "1.0.0")


def test_a_registry_of_one_methodology_means_it_and_one_of_several_asks_which(tmp_path: Path) -> None:
    """No methodology is the default by name: a rulesets directory's only methodology is meant when
    none is named (the shipped rulesets hold one), and one of several asks which, listing them."""
    assert Registry.shipped().default_methodology() == "ecei-labels"
    for name in ("b-label", "a-label"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "1.0.0.yaml").write_text("methodology: x\n", encoding="utf-8")
    with pytest.raises(ResolutionError, match=r"several methodologies \(a-label, b-label\): name one"):
        Registry(tmp_path).default_methodology()
    (tmp_path / "b-label" / "1.0.0.yaml").unlink()
    assert Registry(tmp_path).default_methodology() == "a-label"


def test_split_version_refuses_a_reference_to_another_methodology_or_none() -> None:
    with pytest.raises(ResolutionError, match="names the methodology ecei-labels, not other"):
        split_version("ecei-labels@3.0.1", "other")
    with pytest.raises(ResolutionError, match="not a ruleset reference"):
        split_version("@3.0.1")


def test_named_ruleset_takes_a_version_a_reference_a_range_or_a_file() -> None:
    registry = Registry(ROOT / "rulesets")
    by_version = named_ruleset("2.0.0", registry)
    assert by_version is named_ruleset("ecei-labels@2.0.0", registry)
    assert named_ruleset("ecei-labels@^2", registry).version == "2.0.0"
    assert named_ruleset("^2", registry).version == "2.0.0"
    from_file = named_ruleset(str(ROOT / "rulesets" / "ecei-labels" / "2.0.0.yaml"), registry)
    assert from_file.sha256 == by_version.sha256
    with pytest.raises(ResolutionError):
        named_ruleset("9.9.9", registry)


def _broken_registry(tmp_path: Path) -> Path:
    """A copy of the shipped ecei-labels folder whose latest version, 3.0.1, no longer loads (the others do)."""
    import shutil

    root = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets" / "ecei-labels", root / "ecei-labels")
    (root / "ecei-labels" / "lock.json").unlink(missing_ok=True)
    latest = root / "ecei-labels" / "3.0.1.yaml"
    latest.write_text(latest.read_text(encoding="utf-8") + "\nnot_a_field: 3\n", encoding="utf-8")
    return root


def test_ready_resolver_stops_at_an_unknown_methodology_or_version_before_any_assessment() -> None:
    with pytest.raises(ResolutionError, match="no methodology 'nope'"):
        ready_resolver(ResolverSpec(methodology="nope"))
    with pytest.raises(ResolutionError, match=r"no version 9\.9\.9"):
        ready_resolver(ResolverSpec(version="9.9.9"))


def test_ready_resolver_builds_every_version_for_a_batch_and_only_the_sample_s_for_one_file(tmp_path: Path) -> None:
    """A broken version stops a batch up front, but not one assessment decided under another version; with
    ``build=False`` nothing is built (the broken version shows only where it decides)."""
    spec = ResolverSpec(rulesets=str(_broken_registry(tmp_path)))
    with pytest.raises(RulesetError):
        ready_resolver(spec)
    with pytest.raises(RulesetError):
        ready_resolver(spec, sample=GOLD)  # decided under 3.0.1
    resolve = ready_resolver(spec, sample=SILVER)
    ruleset, _ = resolve(json.loads(SILVER.read_text(encoding="utf-8")))
    assert ruleset.version == "1.2.0"
    ready_resolver(spec, build=False)


def test_save_counterexamples_writes_each_assessment_numbered_and_nothing_without_one(tmp_path: Path) -> None:
    from ecei_rules.errors import Violation
    from ecei_rules.testing.properties import VerifyResult, save_counterexamples

    violation = Violation(code="threshold monotonicity", ruleset="every-construct@1.0.0",
                          assessment={"assessed_on": "2021-01-01", "k1": 1}, message="label lost")
    results = [VerifyResult("m", "1.0.0", "determinism", None, 0.1),
               VerifyResult("m", "1.0.0 -> 1.1.0", "threshold monotonicity", violation, 0.2)]
    saved = save_counterexamples(results, tmp_path / "out")
    assert [p.name for p in saved] == ["01-m-1.0.0-to-1.1.0-threshold-monotonicity.json"]
    assert json.loads(saved[0].read_text(encoding="utf-8")) == {"assessed_on": "2021-01-01", "k1": 1}
    assert save_counterexamples(results[:1], tmp_path / "none") == []
    assert not (tmp_path / "none").exists()
