"""lint over a rulesets directory (issue 4): lineage, published locks, notice and the bump of every
consecutive pair, on the shipped rulesets and on edited copies.

The bump checks go through the memoised bump_check (compare_helpers), so each pair is searched
once per session; what lint does with the reports is what is tested here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from compare_helpers import (
    EXAMPLES,
    GOLD_EDIT_3_0_2,
    GOLD_EDIT_IN_PLACE,
    PAIRS,
    SPEC_VERSIONS,
    M,
    cached_bump_check,
    copy_rulesets,
    metadata_only,
    version_file,
    write_version,
)

from ecei_rules.registry import Registry
from ecei_rules.testing.lint import LintReport, lint

SPEC_BUMP = {v: bump for v, _, bump in SPEC_VERSIONS}

pytestmark = pytest.mark.usefixtures("memo_bumps")


def by_code(report: LintReport) -> dict[str, list[str]]:
    """code -> the file names (not paths) its diagnostics point at."""
    out: dict[str, list[str]] = {}
    for d in report.diagnostics:
        out.setdefault(d.code, []).append(Path(d.file or "").name)
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def shipped_lint(shipped: Registry, shipped_bumps: dict) -> LintReport:
    """lint of the shipped rulesets (default notice of 30 days)."""
    import ecei_rules.testing.lint as lint_module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lint_module, "bump_check", cached_bump_check)
        return lint(shipped, examples=EXAMPLES)


def test_shipped_rulesets_lint_without_errors(shipped_lint: LintReport) -> None:
    """The shipped six have no error; the only diagnostic is the notice warning of 2.0.0 (announced late)."""
    assert shipped_lint.errors == []
    assert by_code(shipped_lint) == {"L006": ["2.0.0.yaml"]}
    (warning,) = shipped_lint.diagnostics
    assert warning.severity == "warning"
    assert "after" in warning.message


def test_lint_bump_checks_every_consecutive_pair(shipped_lint: LintReport) -> None:
    """lint runs the bump check on each consecutive pair: minor, minor, major, major, patch, all declared."""
    assert [(b.old.version, b.new.version) for b in shipped_lint.bumps] == PAIRS
    assert [b.required for b in shipped_lint.bumps] == [SPEC_BUMP[new] for _, new in PAIRS]
    assert [b.required for b in shipped_lint.bumps] == ["minor", "minor", "major", "major", "patch"]
    assert all(b.ok for b in shipped_lint.bumps)


@pytest.fixture(scope="module")
def in_place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the rulesets where 3.0.1 itself has the Gold threshold of 1.1.0 raised to 0.80 (no new version)."""
    root = copy_rulesets(tmp_path_factory.mktemp("in_place"))
    path = version_file(root, "3.0.1")
    path.write_text(path.read_text(encoding="utf-8") + GOLD_EDIT_IN_PLACE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def in_place_lint(in_place: Path, shipped_bumps: dict) -> LintReport:
    """lint of the in-place edit."""
    import ecei_rules.testing.lint as lint_module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lint_module, "bump_check", cached_bump_check)
        return lint(Registry(in_place), examples=EXAMPLES)


def test_editing_a_published_version_is_caught_by_the_lock(in_place_lint: LintReport) -> None:
    """The edit without a version bump is L009 on 3.0.1 (its hash no longer matches the lock)."""
    assert by_code(in_place_lint)["L009"] == ["3.0.1.yaml"]


def test_in_place_edit_reports_nothing_false(in_place_lint: LintReport) -> None:
    """Every error is about 3.0.1: L009 (lock) and L011 (3.0.0 -> 3.0.1 now changes decisions, declares patch)."""
    # No other version changed, so nothing else may be reported but the 2.0.0 notice warning.
    errors = {(d.code, Path(d.file or "").name) for d in in_place_lint.errors}
    assert errors == {("L009", "3.0.1.yaml"), ("L011", "3.0.1.yaml")}
    warnings = {(d.code, Path(d.file or "").name) for d in in_place_lint.diagnostics if d.severity == "warning"}
    assert warnings == {("L006", "2.0.0.yaml")}
    l011 = next(d for d in in_place_lint.errors if d.code == "L011")
    assert "patch" in l011.message
    assert "major" in l011.message
    assert [b.ok for b in in_place_lint.bumps] == [True, True, True, True, False]


def test_gold_threshold_patch_release_is_L011(tmp_path: Path) -> None:
    """The issue's 3.0.2 (Gold threshold changed, patch bump): L011 on 3.0.2 with a counterexample; L008 (unlocked)."""
    root = copy_rulesets(tmp_path)
    write_version(root, "3.0.2", GOLD_EDIT_3_0_2)
    report = lint(Registry(root), examples=EXAMPLES)
    assert by_code(report) == {"L006": ["2.0.0.yaml"], "L008": ["3.0.2.yaml"], "L011": ["3.0.2.yaml"]}
    (l011,) = report.errors
    assert "patch" in l011.message
    assert "major" in l011.message
    assert "counterexample" in l011.message
    bump = report.bumps[-1]
    assert (bump.old.version, bump.new.version, bump.declared, bump.required) == ("3.0.1", "3.0.2", "patch", "major")


def test_lineage_fault_fails_lint(tmp_path: Path) -> None:
    """A new version that supersedes the wrong predecessor is an L003 error in lint."""
    root = copy_rulesets(tmp_path)
    write_version(root, "3.0.2", metadata_only("3.0.2", supersedes="3.0.0"))
    Registry(root).lock(M)
    report = lint(Registry(root), examples=EXAMPLES)
    assert [(d.code, Path(d.file or "").name) for d in report.errors] == [("L003", "3.0.2.yaml")]
    assert report.bumps[-1].required == "patch"  # metadata only: no decision changes
    assert report.bumps[-1].ok


def test_invalid_file_is_reported_before_lineage(tmp_path: Path) -> None:
    """A version file with an unknown key fails lint with its E101, located in that file."""
    root = copy_rulesets(tmp_path)
    write_version(root, "3.0.2", metadata_only("3.0.2", extra="colour: blue\n"))
    report = lint(Registry(root), examples=EXAMPLES)
    assert "E101" in by_code(report)
    assert "3.0.2.yaml" in by_code(report)["E101"]
    assert report.errors
