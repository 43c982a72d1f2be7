"""The Registry beyond resolution by date (issue 4): exact pins, semver ranges, statuses and approval,
lineage checks, notice and published locks.

Resolution by date on, before and after every effective_from is tested in
tests/conformance/test_resolution.py and is not repeated here. Expected versions, dates and
approval bodies come from the spec's version table (ecei-labels.md section 1).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from compare_helpers import (
    GOLD_EDIT_IN_PLACE,
    SHIPPED,
    SPEC_VERSIONS,
    VERSIONS,
    M,
    copy_rulesets,
    metadata_only,
    version_file,
    write_version,
)

from ecei_rules import ResolutionError
from ecei_rules.batch import decide
from ecei_rules.registry import Registry

# spec section 1, "approval body" column
SPEC_APPROVAL = {"1.0.0": "ESCA", "1.1.0": "ESCA", "1.2.0": "ESCA", "2.0.0": "ESCA", "3.0.0": "ESCA",
                 "3.0.1": "EUCLES board"}


def codes(diagnostics: list) -> list[str]:
    """The codes of a list of diagnostics, sorted."""
    return sorted(d.code for d in diagnostics)


# -- exact pins and ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_exact_pin_returns_that_version(shipped: Registry, version: str) -> None:
    """ecei-labels@X.Y.Z names exactly version X.Y.Z (spec section 1 lists the six)."""
    assert shipped.lookup(f"{M}@{version}").version == version


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^2", "2.0.0"),              # [2.0.0, 3.0.0): 3.x lies outside
        ("^3", "3.0.1"),              # [3.0.0, 4.0.0): the highest is the patch 3.0.1
        ("^1", "1.2.0"),              # [1.0.0, 2.0.0)
        ("^1.1", "1.2.0"),            # [1.1.0, 2.0.0)
        ("~1.1", "1.1.0"),            # [1.1.0, 1.2.0)
        ("~3.0", "3.0.1"),            # [3.0.0, 3.1.0)
        (">=1.1.0,<2.0.0", "1.2.0"),  # the highest of 1.1.0, 1.2.0
        ("<1.2.0", "1.1.0"),
        (">=3.0.0", "3.0.1"),
    ],
)
def test_range_picks_the_highest_matching_version(shipped: Registry, spec: str, expected: str) -> None:
    """A semver range resolves to the highest shipped version inside it (issue 4: ecei-labels@^2)."""
    assert shipped.lookup(f"{M}@{spec}").version == expected


def test_reference_without_version_is_the_latest(shipped: Registry) -> None:
    """A bare methodology reference names its highest version, 3.0.1 (spec section 1)."""
    assert shipped.lookup(M).version == "3.0.1"


@pytest.mark.parametrize("ref", [f"{M}@banana", f"{M}@^x", f"{M}@", f"{M}@^4", f"{M}@9.9.9", f"{M}@<1.0.0",
                                 "ECEI Labels@2.0.0", f"{M}@2.0.0@3.0.0"])
def test_nonsense_or_unmatched_reference_is_a_resolution_error(shipped: Registry, ref: str) -> None:
    """A malformed reference, or a range no version satisfies, raises ResolutionError (never a guess)."""
    with pytest.raises(ResolutionError):
        shipped.lookup(ref)


def test_resolve_with_a_range_names_the_range(shipped: Registry) -> None:
    """resolve(version='^2') applies 2.0.0 and the reason says it is the highest match of '^2'."""
    ruleset, resolution = shipped.resolve(M, version="^2", on=dt.date(2025, 1, 1))
    assert ruleset.version == "2.0.0"
    assert resolution.method == "pinned"
    assert "^2" in resolution.reason


# -- statuses and approval ----------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "effective", "_bump"), SPEC_VERSIONS)
def test_shipped_versions_are_published_with_the_spec_approval(shipped: Registry, version: str,
                                                               effective: dt.date, _bump: object) -> None:
    """Every shipped version is published, approved by the body of spec section 1, on a real date."""
    doc = shipped.get(M, version).document
    assert doc.status == "published"
    assert doc.approval is not None
    assert doc.approval.body == SPEC_APPROVAL[version]
    assert doc.effective_from == effective


@pytest.fixture(scope="module")
def with_draft(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The shipped versions plus a draft 3.1.0 that would take effect on 2022-01-01 (read only)."""
    root = copy_rulesets(tmp_path_factory.mktemp("draft"))
    write_version(root, "3.1.0", metadata_only("3.1.0", status="draft", approval=False))
    return Registry(root)


def test_draft_pin_is_refused_for_official_use(with_draft: Registry) -> None:
    """Pinning a draft is a ResolutionError that says it is a draft (issue 4: no official drafts)."""
    with pytest.raises(ResolutionError, match="draft"):
        with_draft.lookup(f"{M}@3.1.0")
    with pytest.raises(ResolutionError, match="draft"):
        with_draft.resolve(M, version="3.1.0")


def test_draft_is_allowed_for_simulation(with_draft: Registry) -> None:
    """With allow_unpublished the draft is applied, and the reason says it is a simulation."""
    assert with_draft.lookup(f"{M}@3.1.0", allow_unpublished=True).version == "3.1.0"
    ruleset, resolution = with_draft.resolve(M, version="3.1.0", allow_unpublished=True)
    assert ruleset.version == "3.1.0"
    assert "simulation" in resolution.reason


def test_range_and_date_skip_a_draft(with_draft: Registry) -> None:
    """^3 and the version in force after the draft's date stay at 3.0.1 unless unpublished are allowed."""
    assert with_draft.lookup(f"{M}@^3").version == "3.0.1"
    assert with_draft.lookup(f"{M}@^3", allow_unpublished=True).version == "3.1.0"
    on = dt.date(2022, 6, 1)
    assert with_draft.in_force(M, on).version == "3.0.1"
    assert with_draft.in_force(M, on, allow_unpublished=True).version == "3.1.0"
    ruleset, _ = with_draft.resolve(M, on=on)
    assert ruleset.version == "3.0.1"


def test_official_decision_refuses_a_pinned_draft(with_draft: Registry) -> None:
    """batch.decide (official evaluation) pinned to a draft raises; by date it applies 3.0.1."""
    data = {"organisation": {"id": "BE-1", "name": "C", "country": "BE"}, "assessed_on": "2022-06-01"}
    with pytest.raises(ResolutionError, match="draft"):
        decide(data, registry=with_draft, version="3.1.0")
    # spec section 5: without eligibility no label from 2.0.0 on; the version in force is the published 3.0.1
    decision = decide(data, registry=with_draft)
    assert decision.version == "3.0.1"
    assert decision.label == "none"


@pytest.fixture(scope="module")
def with_withdrawn(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The shipped versions with 3.0.1 withdrawn (read only)."""
    root = copy_rulesets(tmp_path_factory.mktemp("withdrawn"))
    path = version_file(root, "3.0.1")
    text = path.read_text(encoding="utf-8")
    assert "status: published\n" in text
    path.write_text(text.replace("status: published\n", "status: withdrawn\n"), encoding="utf-8")
    return Registry(root)


def test_withdrawn_version_is_refused_unless_simulating(with_withdrawn: Registry) -> None:
    """A withdrawn 3.0.1 cannot be pinned officially (the error says withdrawn); simulation may use it."""
    with pytest.raises(ResolutionError, match="withdrawn"):
        with_withdrawn.lookup(f"{M}@3.0.1")
    assert with_withdrawn.lookup(f"{M}@3.0.1", allow_unpublished=True).version == "3.0.1"


def test_range_and_date_skip_a_withdrawn_version(with_withdrawn: Registry) -> None:
    """With 3.0.1 withdrawn, ^3 gives 3.0.0 and 3.0.0 is the version in force in 2021."""
    assert with_withdrawn.lookup(f"{M}@^3").version == "3.0.0"
    on = dt.date(2021, 6, 1)
    assert with_withdrawn.in_force(M, on).version == "3.0.0"
    assert with_withdrawn.in_force(M, on, allow_unpublished=True).version == "3.0.1"


# -- the version in force is the only one built ------------------------------------------------------


def test_in_force_builds_only_the_version_it_returns() -> None:
    """Finding the version in force reads the others' status and date from their files without
    building them: a date of 2016 lies between 1.2.0 (2013-01-01) and 2.0.0 (2019-11-15) in
    spec section 1's table, so only 1.2.0 is loaded; and the header of every version equals what
    its full load says."""
    registry = Registry(SHIPPED)
    assert registry.in_force(M, dt.date(2016, 3, 1)).version == "1.2.0"
    assert list(registry._cache) == [(M, "1.2.0")]
    for version, starts, _ in SPEC_VERSIONS:
        assert registry.header(M, version) == ("published", starts)
    for version in VERSIONS:
        document = Registry(SHIPPED).get(M, version).document
        assert registry.header(M, version) == (document.status, document.effective_from)


def test_a_broken_version_stops_only_the_decisions_it_would_make(tmp_path: Path) -> None:
    """3.0.1 with an unknown top-level key: assessments of 2011 are still decided under 1.0.0; one of
    2021, which 3.0.1 would decide, raises the RulesetError that names the key."""
    from ecei_rules import RulesetError

    root = copy_rulesets(tmp_path)
    path = version_file(root, "3.0.1")
    path.write_text(path.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    registry = Registry(root)
    assert registry.in_force(M, dt.date(2011, 6, 1)).version == "1.0.0"
    with pytest.raises(RulesetError) as caught:
        registry.in_force(M, dt.date(2021, 6, 1))
    assert [d.code for d in caught.value.diagnostics] == ["E101"]
    assert "bogus_key" in caught.value.diagnostics[0].message


def test_a_version_whose_header_cannot_be_read_is_loaded_to_report_it(tmp_path: Path) -> None:
    """A version without a date (or not YAML at all) cannot be placed in time: resolving any date
    loads it, and its diagnostics are raised, whichever version would have been chosen."""
    from ecei_rules import RulesetError

    root = copy_rulesets(tmp_path)
    path = version_file(root, "3.0.1")
    text = path.read_text(encoding="utf-8")
    assert "effective_from: 2021-01-01\n" in text
    path.write_text(text.replace("effective_from: 2021-01-01\n", ""), encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        Registry(root).in_force(M, dt.date(2011, 6, 1))
    assert "effective_from" in " ".join(d.message for d in caught.value.diagnostics)
    path.write_text("version: [3.0.1\n", encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        Registry(root).in_force(M, dt.date(2011, 6, 1))
    assert [d.code for d in caught.value.diagnostics] == ["E002"]


# -- lineage --------------------------------------------------------------------------------------------


def test_shipped_lineage_is_clean(shipped: Registry) -> None:
    """The shipped six form one line: each supersedes its predecessor and dates increase (no L00x)."""
    assert shipped.lineage(M) == []
    for (previous, _, _), (version, _, _) in itertools.pairwise(SPEC_VERSIONS):
        assert shipped.get(M, version).document.supersedes == previous
    assert shipped.get(M, "1.0.0").document.supersedes is None


def _lineage_with(tmp_path: Path, version: str, text: str) -> tuple[list, Path]:
    root = copy_rulesets(tmp_path)
    path = write_version(root, version, text)
    return Registry(root).lineage(M), path


def test_wrong_supersedes_is_L003(tmp_path: Path) -> None:
    """3.0.2 superseding 3.0.0 instead of its predecessor 3.0.1 is exactly one L003, on 3.0.2."""
    diags, path = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", supersedes="3.0.0"))
    assert codes(diags) == ["L003"]
    assert diags[0].file == str(path)
    assert diags[0].pointer == "/supersedes"
    assert "3.0.1" in (diags[0].suggestion or "")


def test_a_version_naming_no_predecessor_is_L003_saying_so_not_none(tmp_path: Path) -> None:
    """3.0.2 without ``supersedes`` is one L003 that says it names none (the message once read "not None")."""
    text = metadata_only("3.0.2").replace("supersedes: 3.0.1\n", "")
    assert "supersedes" not in text
    diags, _ = _lineage_with(tmp_path, "3.0.2", text)
    assert codes(diags) == ["L003"]
    assert diags[0].message.endswith("must supersede its predecessor 3.0.1, and names none")
    assert "None" not in diags[0].message


def test_first_version_superseding_something_is_L003(tmp_path: Path) -> None:
    """The first version (1.0.0) cannot supersede anything: one L003 on 1.0.0."""
    root = copy_rulesets(tmp_path)
    path = version_file(root, "1.0.0")
    path.write_text(path.read_text(encoding="utf-8") + "\nsupersedes: 0.9.0\n", encoding="utf-8")
    diags = Registry(root).lineage(M)
    assert codes(diags) == ["L003"]
    assert diags[0].file == str(path)


def test_effective_date_before_predecessor_is_L004(tmp_path: Path) -> None:
    """3.0.2 taking effect 2020-12-31, before 3.0.1 (2021-01-01): one L004, no L005."""
    diags, path = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", effective_from="2020-12-31"))
    assert codes(diags) == ["L004"]
    assert diags[0].file == str(path)


def test_same_effective_date_is_L005_and_L004(tmp_path: Path) -> None:
    """3.0.2 on 3.0.1's date 2021-01-01: both would be in force that day (L005) and dates do not increase (L004)."""
    diags, _ = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", effective_from="2021-01-01"))
    assert codes(diags) == ["L004", "L005"]
    l005 = next(d for d in diags if d.code == "L005")
    assert "3.0.1" in l005.message
    assert "3.0.2" in l005.message


def test_draft_on_the_same_date_is_not_in_force_twice(tmp_path: Path) -> None:
    """A draft sharing 3.0.1's date is never in force, so only L004 (dates), not L005."""
    text = metadata_only("3.0.2", effective_from="2021-01-01", status="draft", approval=False)
    diags, _ = _lineage_with(tmp_path, "3.0.2", text)
    assert codes(diags) == ["L004"]


def test_file_name_differing_from_version_is_L002(tmp_path: Path) -> None:
    """A file named 3.0.2.yaml that says version 3.0.3 is one L002."""
    diags, path = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", declared="3.0.3"))
    assert codes(diags) == ["L002"]
    assert diags[0].file == str(path)
    assert "3.0.3" in diags[0].message


def test_methodology_differing_from_folder_is_L001(tmp_path: Path) -> None:
    """A version that says methodology other-labels inside the ecei-labels folder is one L001."""
    diags, _ = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", extra="methodology: other-labels\n"))
    assert codes(diags) == ["L001"]


def test_published_without_approval_is_L007(tmp_path: Path) -> None:
    """A published version needs approval metadata (issue 4): L007; a draft without approval is fine."""
    diags, _ = _lineage_with(tmp_path, "3.0.2", metadata_only("3.0.2", approval=False))
    assert codes(diags) == ["L007"]
    diags, _ = _lineage_with(tmp_path / "draft", "3.0.2", metadata_only("3.0.2", status="draft", approval=False))
    assert diags == []


# -- notice -----------------------------------------------------------------------------------------------


def test_shipped_notice_warns_that_2_0_0_was_announced_after_it_took_effect(shipped: Registry) -> None:
    """2.0.0 was announced 2019-11-20, 5 days after 2019-11-15: the only L006, a warning saying 'after'."""
    for days in (0, 30):
        diags = shipped.notice(M, days)
        assert codes(diags) == ["L006"]
        (d,) = diags
        assert d.severity == "warning"
        assert d.file == str(SHIPPED / M / "2.0.0.yaml")
        assert "after" in d.message
        assert "5 day" in d.message


def test_notice_days_is_configurable(tmp_path: Path) -> None:
    """3.0.2 announced 2021-12-01 gives 31 days of notice for 2022-01-01: no warning at 31, one at 32."""
    root = copy_rulesets(tmp_path)
    write_version(root, "3.0.2", metadata_only("3.0.2", extra="announced_on: 2021-12-01\n"))
    registry = Registry(root)

    def about_3_0_2(days: int) -> list:
        return [d for d in registry.notice(M, days) if d.file and d.file.endswith("3.0.2.yaml")]

    assert about_3_0_2(31) == []
    (warning,) = about_3_0_2(32)
    assert warning.code == "L006"
    assert "31 day" in warning.message
    assert "before" in warning.message


# -- published locks ---------------------------------------------------------------------------------------


def test_shipped_lock_records_the_six_published_versions(shipped: Registry) -> None:
    """published.lock.json holds the six versions of spec section 1 with their dates, and all still match."""
    data = json.loads((SHIPPED / M / "published.lock.json").read_text(encoding="utf-8"))
    assert {v: e["effective_from"] for v, e in data["versions"].items()} == {
        v: d.isoformat() for v, d, _ in SPEC_VERSIONS}
    assert shipped.check_locks(M) == []


def test_editing_a_published_version_is_L009(tmp_path: Path) -> None:
    """The Gold threshold edit made in place in 3.0.1 breaks its lock: one L009 on 3.0.1, nothing else."""
    root = copy_rulesets(tmp_path)
    path = version_file(root, "3.0.1")
    path.write_text(path.read_text(encoding="utf-8") + GOLD_EDIT_IN_PLACE, encoding="utf-8")
    recorded = json.loads((root / M / "published.lock.json").read_text(encoding="utf-8"))["versions"]["3.0.1"]
    diags = Registry(root).check_locks(M)
    assert codes(diags) == ["L009"]
    assert diags[0].file == str(path)
    assert recorded["sha256"][:16] in diags[0].message


def test_comments_and_layout_are_not_an_edit(tmp_path: Path) -> None:
    """Re-formatting a published file (a comment, blank lines) keeps its content hash: no L009."""
    root = copy_rulesets(tmp_path)
    path = version_file(root, "3.0.1")
    path.write_text("# a comment added after publication\n\n" + path.read_text(encoding="utf-8") + "\n\n",
                    encoding="utf-8")
    assert Registry(root).check_locks(M) == []


def test_lock_never_rewrites_a_recorded_entry(tmp_path: Path) -> None:
    """After an in-place edit, lock adds nothing and leaves the lock file byte for byte; L009 stays."""
    root = copy_rulesets(tmp_path)
    lock_file = root / M / "published.lock.json"
    before = lock_file.read_bytes()
    path = version_file(root, "3.0.1")
    path.write_text(path.read_text(encoding="utf-8") + GOLD_EDIT_IN_PLACE, encoding="utf-8")
    registry = Registry(root)
    assert registry.lock(M) == []
    assert lock_file.read_bytes() == before
    assert codes(registry.check_locks(M)) == ["L009"]


def test_lock_records_a_new_published_version_only(tmp_path: Path) -> None:
    """A new published 3.0.2 is L008 until locked; lock adds exactly it and keeps the six entries as they were."""
    root = copy_rulesets(tmp_path)
    lock_file = root / M / "published.lock.json"
    old_entries = json.loads(lock_file.read_text(encoding="utf-8"))["versions"]
    write_version(root, "3.0.2", metadata_only("3.0.2"))
    write_version(root, "3.1.0", metadata_only("3.1.0", supersedes="3.0.2", effective_from="2023-01-01",
                                               status="draft", approval=False))
    registry = Registry(root)
    diags = registry.check_locks(M)
    assert codes(diags) == ["L008"]  # the draft is not expected in the lock
    assert diags[0].severity == "warning"
    assert diags[0].file == str(version_file(root, "3.0.2"))
    assert registry.lock(M) == ["3.0.2"]
    new_entries = json.loads(lock_file.read_text(encoding="utf-8"))["versions"]
    assert set(new_entries) == {*VERSIONS, "3.0.2"}
    assert {v: new_entries[v] for v in VERSIONS} == old_entries
    assert new_entries["3.0.2"]["effective_from"] == "2022-01-01"
    assert registry.check_locks(M) == []
    assert registry.lock(M) == []


def test_locked_version_whose_file_is_gone_is_L010(tmp_path: Path) -> None:
    """Deleting the published 3.0.1 file leaves its lock entry orphaned: L010 naming 3.0.1."""
    root = copy_rulesets(tmp_path)
    version_file(root, "3.0.1").unlink()
    diags = Registry(root).check_locks(M)
    assert codes(diags) == ["L010"]
    assert "3.0.1" in diags[0].message


@pytest.mark.parametrize("methodology", ["../ecei-labels", "/proc/self/cwd/rulesets/ecei-labels", "ecei-labels/..",
                                         "", "Ecei", "a" * 65, "ecei labels", "ecei-labels\x00"])
def test_a_registry_refuses_a_methodology_that_is_not_an_id(shipped: Registry, methodology: str) -> None:
    """A methodology is a folder name, never a path: anything else is a ResolutionError before any file is read."""
    with pytest.raises(ResolutionError, match="is not a methodology id"):
        shipped.get(methodology, "3.0.1")
    with pytest.raises(ResolutionError, match="is not a methodology id"):
        shipped.versions(methodology)


@pytest.mark.parametrize("version", ["../3.0.1", "3.0.1/../../x", "3.0", "/etc/passwd", "3.0.1.yaml"])
def test_a_registry_refuses_a_version_that_is_not_semver(shipped: Registry, version: str) -> None:
    """A version is a semantic version: a path in its place never reaches the file system."""
    with pytest.raises(ResolutionError):
        shipped.get(M, version)
    with pytest.raises(ResolutionError, match="is not a version"):
        shipped.path(M, version)


def test_a_registry_of_a_folder_given_as_text_works_as_one_given_as_a_path() -> None:
    """``Registry("examples/methodologies")`` was a TypeError ('str' / 'str') on first use."""
    folder = Path(__file__).resolve().parents[2] / "examples" / "methodologies"
    as_text, as_path = Registry(str(folder)), Registry(folder)
    assert as_text.root == as_path.root == folder
    assert as_text.methodologies() == as_path.methodologies()
    assert "eu-fridge-label" in as_text.methodologies()
    assert as_text.get("eu-fridge-label", "2.0.0").sha256 == as_path.get("eu-fridge-label", "2.0.0").sha256
