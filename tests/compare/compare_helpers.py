"""Shared helpers of the comparison tests (issue 4): spec tables, temporary registries, re-evaluation.

Every expected value here is copied by hand from ``shared/methodology/ecei-labels.md``; nothing is
read from the ruleset files or the code under test.

bump-check searches are slow, so :func:`cached_bump_check` runs them without hypothesis's shrink
phase (see :func:`without_shrinking`: the verdict is unchanged, only the counterexample is not
minimised, and the tests evaluate every counterexample again) and memoises the reports per session,
keyed by the content hashes of both versions and the number of examples. The search is
derandomised and reads nothing but the two resolved rulesets (whose content hash covers everything
that decides), so the lint tests reuse the reports of the shipped pairs instead of searching them
again in every temporary copy of the rulesets. One CLI test (bump-check of the 3.0.2 copy) runs the
real search, shrinking included.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import Phase, settings

from ecei_rules import AssessmentError, Decision, evaluate
from ecei_rules.compare.bump import BumpReport
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing.counterexample import bump_check

M = "ecei-labels"
REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "rulesets"
#: examples per bump-check search in these tests (the brief: about 200-300)
EXAMPLES = 200

# spec section 1: version -> (effective_from, declared bump)
SPEC_VERSIONS: list[tuple[str, dt.date, str | None]] = [
    ("1.0.0", dt.date(2010, 11, 1), None),
    ("1.1.0", dt.date(2012, 4, 18), "minor"),
    ("1.2.0", dt.date(2013, 1, 1), "minor"),
    ("2.0.0", dt.date(2019, 11, 15), "major"),
    ("3.0.0", dt.date(2020, 7, 1), "major"),
    ("3.0.1", dt.date(2021, 1, 1), "patch"),
]
VERSIONS = [v for v, _, _ in SPEC_VERSIONS]
PAIRS = list(itertools.pairwise(VERSIONS))

# spec section 4: indicator id -> (type, a value passing its Gold threshold, a value failing it, in versions);
# the failing values still meet the Silver baseline minimum where one exists, except the booleans.
# "all" = 1.1.0 and later (indicators exist from 1.1.0, spec section 2); "<3" = before 3.0.0; ">=3" = from 3.0.0.
INDICATORS: dict[str, tuple[str, Any, Any, str]] = {
    "1.1.0": ("ratio", 0.9, 0.5, "all"),        # >= 0.75
    "1.1.1": ("count", 4, 2, "all"),            # >= 3
    "1.1.2": ("count", 40, 20, "all"),          # >= 30
    "1.2": ("ratio", 0.7, 0.5, "<3"),           # >= 0.60
    "2.1": ("number", 5, 2.5, "all"),           # >= 3 (Silver baseline >= 2)
    "2.2.1": ("number", 3, 1, "all"),           # >= 2.0
    "2.2.2": ("rating", 4, 2, "all"),           # >= 3
    "2.2.3": ("boolean", True, False, "all"),   # true
    "2.2.4": ("number", 3, 1, "<3"),            # >= 2
    "2.3": ("ratio", 0.9, 0.5, "all"),          # >= 0.80
    "2.4": ("rating", 4, 2, "all"),             # >= 3
    "2.5": ("ratio", 0.6, 0.4, "all"),          # >= 0.50
    "2.6": ("rating", 4, 2, "all"),             # >= 3
    "2.7": ("rating", 4, 2, "all"),             # >= 3
    "3.1": ("number", 3, 1, "all"),             # >= 2
    "3.2": ("ratio", 0.4, 0.2, "all"),          # >= 0.30
    "4.1.1": ("rating", 4, 2, "all"),           # >= 3
    "4.1.2": ("boolean", True, False, "all"),   # true
    "4.1.3": ("boolean", True, False, "all"),   # true
    "4.1.4": ("boolean", True, False, "all"),   # true
    "4.1.5": ("number", 12, 30, "all"),         # <= 24 (Gold), <= 36 (Silver baseline)
    "4.1.6": ("rating", 4, 2, "all"),           # >= 3
    "4.2": ("rating", 4, 2, "all"),             # >= 3
    "4.3": ("count", 6, 4, "all"),              # >= 5
    "4.4": ("ratio", 0.8, 0.6, "all"),          # >= 0.70
    "4.5": ("count", 4, 2, "all"),              # >= 3
    "4.6.1": ("rating", 4, 2, "all"),           # >= 3
    "4.6.2": ("boolean", True, False, "all"),   # true
    "5.1": ("count", 6, 4, "<3"),               # >= 5
    "5.2": ("count", 4, 2, "all"),              # >= 3
    "5.3": ("boolean", True, False, "all"),     # true
    "4.7": ("rating", 4, 2, ">=3"),             # >= 3
    "4.8": ("boolean", True, False, ">=3"),     # true
    "4.9": ("count", 3, 1, ">=3"),              # >= 2
}


def indicators_in(version: str) -> set[str]:
    """The indicator ids of a version, from the 'in versions' column of spec section 4."""
    major = int(version.split(".")[0])
    if version == "1.0.0":
        return set()
    return {i for i, (_, _, _, where) in INDICATORS.items()
            if where == "all" or (where == "<3" and major < 3) or (where == ">=3" and major >= 3)}


# spec section 5, eligibility EC1-EC6 all met: 0.5 FTE, 15 committed of which a strict majority private,
# 5 activities over 2 priority areas.
ELIGIBLE = {"cluster_initiative": True, "management_fte": 1.5, "committed_participants": 40,
            "private_participants": 30, "business_support": True, "activities_last_year": 12,
            "priority_areas": 3, "listed_on_eccp": True}


def gold_assessment(version: str, assessed_on: str, failing: tuple[str, ...] = ()) -> dict[str, Any]:
    """An assessment valid under ``version`` with every indicator of the version at a Gold-passing value,
    except those named in ``failing``; eligible and with a completed benchmarking (three success stories)
    where the version declares those fields (spec sections 2, 4 and 5)."""
    major = int(version.split(".")[0])
    data: dict[str, Any] = {
        "organisation": {"id": "DE-0042", "name": "Test Cluster", "country": "DE"},
        "assessed_on": assessed_on,
        "benchmarking": {"completed": True},
    }
    if version != "1.0.0":  # indicators exist from 1.1.0 (spec section 2)
        data["indicators"] = {i: INDICATORS[i][2] if i in failing else INDICATORS[i][1]
                              for i in indicators_in(version)}
    if major >= 2:
        data["benchmarking"]["success_stories"] = 3
        data["eligibility"] = dict(ELIGIBLE)
    return data


def copy_rulesets(tmp_path: Path) -> Path:
    """A private copy of the shipped rulesets directory (lock file included)."""
    root = tmp_path / "rulesets"
    shutil.copytree(SHIPPED, root)
    return root


def version_file(root: Path, version: str) -> Path:
    """The file of one version in a rulesets directory."""
    return root / M / f"{version}.yaml"


def write_version(root: Path, version: str, text: str) -> Path:
    """Write a ruleset version file into a rulesets directory."""
    path = version_file(root, version)
    path.write_text(text, encoding="utf-8")
    return path


#: the 3.0.2 of the issue: a patch release that changes one Gold threshold (1.1.0: 0.75 -> 0.80)
GOLD_EDIT_3_0_2 = """\
extends: 3.0.1
version: 3.0.2
supersedes: 3.0.1
status: published
effective_from: 2022-01-01
approval: {body: EUCLES board, date: 2021-12-01, reference: test copy}
parameters:
  gold_1_1_0: {value: 0.80}
"""

#: the same edit made in place in 3.0.1 (appended to its file): no new version
GOLD_EDIT_IN_PLACE = "\nparameters:\n  gold_1_1_0: {value: 0.80}\n"


def metadata_only(version: str, *, supersedes: str = "3.0.1", effective_from: str = "2022-01-01",
                  status: str = "published", extra: str = "", declared: str | None = None,
                  approval: bool = True) -> str:
    """A version that extends 3.0.1 and changes nothing that decides (metadata only)."""
    lines = [
        "extends: 3.0.1",
        f"version: {declared or version}",
        f"supersedes: {supersedes}",
        f"status: {status}",
        f"effective_from: {effective_from}",
    ]
    if approval:
        lines.append("approval: {body: EUCLES board, date: 2021-12-01, reference: test copy}")
    return "\n".join(lines) + "\n" + extra


# --------------------------------------------------------------------------------------------------
# re-evaluation of a counterexample, independently of the search


def decide_both(old: Ruleset, new: Ruleset, assessment: dict[str, Any]) -> tuple[Decision, Decision | None]:
    """Evaluate an assessment under ``old`` as is and under ``new`` after projecting it onto the new
    inputs (spec section 2: comparing versions projects an input onto each version's fields); the new
    decision is None when the projected assessment is invalid under ``new``."""
    old_decision = evaluate(old, assessment)
    projected, _ = project(assessment, new.plan.inputs)
    try:
        new_decision: Decision | None = evaluate(new, projected)
    except AssessmentError:
        new_decision = None
    return old_decision, new_decision


def decisions_differ(a: Decision, b: Decision | None) -> bool:
    """Whether two decisions differ in label or validity (the semver policy's 'same decision')."""
    if b is None:
        return True
    return (a.label, a.valid_from, a.valid_until) != (b.label, b.valid_from, b.valid_until)


# --------------------------------------------------------------------------------------------------
# memoised bump checks, searched without shrinking


@contextmanager
def without_shrinking() -> Iterator[None]:
    """Run hypothesis searches without the shrink phase, then restore the profile in force.

    bump_check's search inherits the phases of the hypothesis profile in force. Shrinking changes
    only how small a counterexample is, never whether one is found: the verdict (required bump)
    is the same, and every counterexample is evaluated again by the tests. On 1.2.0 -> 2.0.0 and
    2.0.0 -> 3.0.0 shrinking costs about a minute of CPU, the search itself a few seconds.
    """
    previous = settings.get_current_profile_name()
    parent = settings.get_profile(previous)
    settings.register_profile("compare-no-shrink", parent=parent,
                              phases=[p for p in parent.phases if p is not Phase.shrink])
    settings.load_profile("compare-no-shrink")
    try:
        yield
    finally:
        settings.load_profile(previous)


_BUMPS: dict[tuple[str, str, str, str, int, int | None], BumpReport] = {}
#: the real bump_check, kept here because tests monkeypatch the module attribute with cached_bump_check
_REAL_BUMP_CHECK = bump_check


def cached_bump_check(old: Ruleset, new: Ruleset, *, max_examples: int = 2000,
                      shrink: int | None = None) -> BumpReport:
    """bump_check without shrinking, memoised by both versions' content hashes, versions, number of examples
    and shrink budget."""
    key = (old.sha256, new.sha256, old.version, new.version, max_examples, shrink)
    if key not in _BUMPS:
        with without_shrinking():
            _BUMPS[key] = _REAL_BUMP_CHECK(old, new, max_examples=max_examples, shrink=shrink)
    return _BUMPS[key]
