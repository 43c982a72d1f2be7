"""``extends`` is confined to the methodology's own folder (issue 20, item 3): it names a
version (``3.0.0``), never a path. ``../``, absolute paths, ``~``, URLs, file names and
anything else are refused with a located E109 before any file is read, so a ruleset can
neither read another file nor echo its keys in diagnostics; a base linked out of the folder
is refused as well, while a folder that is itself a link works as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.errors import RulesetError
from ecei_rules.ruleset import load as load_module
from ecei_rules.ruleset.load import check_ruleset, load_ruleset, load_ruleset_text

ROOT = Path(__file__).resolve().parent.parent.parent
MINIMAL = (ROOT / "tests" / "data" / "minimal.yaml").read_text(encoding="utf-8")
SECRET = "secret_key_7f3a: hunter2\nanother_private_key: s3cr3t\n"


def child(target: str) -> str:
    """A version that builds on ``target`` (written as a YAML double-quoted string)."""
    return f"extends: {json.dumps(target)}\nversion: 1.1.0\nstatus: draft\neffective_from: 2022-01-01\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """rulesets/minimal/1.0.0.yaml, and beside the rulesets a private file and a ruleset."""
    folder = tmp_path / "rulesets" / "minimal"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(MINIMAL, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(SECRET, encoding="utf-8")
    (outside / "1.0.0.yaml").write_text(MINIMAL.replace("title: Minimal", "title: Outside"), encoding="utf-8")
    return tmp_path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path the loader reads, resolved."""
    seen: list[str] = []
    real = load_module.read_limited

    def spy(path: Path | str, limit: int, what: str) -> bytes:
        seen.append(os.path.realpath(path))
        return real(path, limit, what)

    monkeypatch.setattr(load_module, "read_limited", spy)
    return seen


HOSTILE = [
    "../../outside/secret",
    "../../outside/secret.yaml",
    "../../outside/1.0.0",
    "../minimal/1.0.0",
    "./1.0.0",
    "1.0.0.yaml",
    "1.0.0.yml",
    "1.0.0/../1.0.0",
    "..\\..\\outside\\secret",
    "/etc/passwd",
    "/etc/hostname",
    "~/1.0.0",
    "~root/.bashrc",
    "$HOME/1.0.0",
    "https://example.com/rulesets/1.0.0.yaml",
    "file:///etc/passwd",
    "//server/share/1.0.0",
    "1.0",
    "v1.0.0",
    "1.0.0 ",
    " 1.0.0",
    "1.0.0\n",
    "01.0.0",
    "1.0.0\x00.yaml",
    "",
    "1" * 10_000 + ".0.0/..",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_path_is_refused_before_anything_is_read(tree: Path, reads: list[str], target: str) -> None:
    version = tree / "rulesets" / "minimal" / "1.1.0.yaml"
    version.write_text(child(target), encoding="utf-8")
    diags = check_ruleset(version)
    (d,) = [d for d in diags if d.code == "E109"]  # the rest: what the version lacks without a base
    assert (d.file, d.line, d.column, d.pointer) == (str(version), 1, 10, "/extends")
    assert "not a path" in d.message
    assert len(d.message) < 300
    assert reads == [os.path.realpath(version)]  # the file itself, nothing else
    text = " ".join(f"{x.message} {x.suggestion}" for x in diags)
    assert "hunter2" not in text
    assert "secret_key" not in text


@pytest.mark.parametrize("target", ["1.0.0", "1.0.0-rc.1", "1.0.0+build.5"])
def test_a_version_is_found_beside_the_file(tree: Path, target: str) -> None:
    folder = tree / "rulesets" / "minimal"
    if target != "1.0.0":
        (folder / f"{target}.yaml").write_text(MINIMAL.replace("version: 1.0.0", f"version: {target}"),
                                               encoding="utf-8")
    version = folder / "1.1.0.yaml"
    version.write_text(child(target), encoding="utf-8")
    ruleset = load_ruleset(version)
    assert ruleset.document.title == "Minimal"


def test_a_missing_version_is_reported_with_a_suggestion(tree: Path, reads: list[str]) -> None:
    version = tree / "rulesets" / "minimal" / "1.1.0.yaml"
    version.write_text(child("1.0.1"), encoding="utf-8")
    (d,) = [d for d in check_ruleset(version) if d.code == "E109"]
    assert "was not found" in d.message
    assert d.suggestion is not None
    assert "1.0.0" in d.suggestion
    assert reads == [os.path.realpath(version)]


@pytest.mark.parametrize("value", ["[1.0.0]", "{path: ../x}", "100", "true", "null"])
def test_extends_that_is_not_a_string(tree: Path, value: str) -> None:
    version = tree / "rulesets" / "minimal" / "1.1.0.yaml"
    version.write_text(f"extends: {value}\nversion: 1.1.0\n", encoding="utf-8")
    codes = [d.code for d in check_ruleset(version) if d.severity == "error"]
    assert codes
    assert set(codes) <= {"E103", "E102", "E101"}


def test_a_base_linked_out_of_the_folder_is_refused(tree: Path, reads: list[str]) -> None:
    """rulesets/minimal/0.9.0.yaml -> ../../outside/1.0.0.yaml: not one of the folder's versions."""
    folder = tree / "rulesets" / "minimal"
    (folder / "0.9.0.yaml").symlink_to(tree / "outside" / "1.0.0.yaml")
    version = folder / "1.1.0.yaml"
    version.write_text(child("0.9.0"), encoding="utf-8")
    (d,) = [d for d in check_ruleset(version) if d.code == "E109"]
    assert "links outside the methodology's folder" in d.message
    assert os.path.realpath(tree / "outside" / "1.0.0.yaml") not in reads


def test_a_base_linked_to_a_device_is_refused(tree: Path, reads: list[str]) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    folder = tree / "rulesets" / "minimal"
    (folder / "0.9.0.yaml").symlink_to("/dev/zero")
    version = folder / "1.1.0.yaml"
    version.write_text(child("0.9.0"), encoding="utf-8")
    (d,) = [d for d in check_ruleset(version) if d.code == "E109"]
    assert "links outside" in d.message
    assert "/dev/zero" not in reads


def test_a_base_that_is_a_directory(tree: Path) -> None:
    folder = tree / "rulesets" / "minimal"
    (folder / "0.9.0.yaml").mkdir()
    version = folder / "1.1.0.yaml"
    version.write_text(child("0.9.0"), encoding="utf-8")
    diags = check_ruleset(version)
    assert [d.code for d in diags] == ["E109"]  # one problem, at the 'extends' line (issue 22)
    assert "a directory" in diags[0].message


def test_a_folder_that_is_a_link_still_works(tree: Path) -> None:
    """rulesets/linked -> ../real: the versions in it extend each other as before."""
    real = tree / "real"
    real.mkdir()
    (real / "1.0.0.yaml").write_text(MINIMAL, encoding="utf-8")
    (real / "1.1.0.yaml").write_text(child("1.0.0"), encoding="utf-8")
    (tree / "rulesets" / "linked").symlink_to(real, target_is_directory=True)
    ruleset = load_ruleset(tree / "rulesets" / "linked" / "1.1.0.yaml")
    assert ruleset.version == "1.1.0"


def test_a_chain_that_loops_is_still_reported(tree: Path) -> None:
    folder = tree / "rulesets" / "minimal"
    (folder / "1.0.0.yaml").write_text("extends: 1.1.0\n" + MINIMAL, encoding="utf-8")
    version = folder / "1.1.0.yaml"
    version.write_text(child("1.0.0"), encoding="utf-8")
    assert "E109" in [d.code for d in check_ruleset(version)]


def test_text_with_extends_reads_nothing(reads: list[str]) -> None:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(child("../../outside/secret") + MINIMAL.split("\n", 3)[3])
    assert "E109" in [d.code for d in info.value.diagnostics]
    assert reads == []


def test_cli_validate_reports_the_refusal(tree: Path) -> None:
    version = tree / "rulesets" / "minimal" / "1.1.0.yaml"
    version.write_text(child("../../outside/secret"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(version)])
    assert result.exit_code == 1
    assert "E109" in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
