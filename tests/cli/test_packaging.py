"""The wheel carries the shipped rulesets: installed outside the repository, it decides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    (built,) = out.glob("ecei_rules-*.whl")
    return built


def test_wheel_contains_every_shipped_ruleset(wheel: Path) -> None:
    """Each rulesets/<methodology>/<version>.yaml is in the wheel under ecei_rules/_rulesets/."""
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.relative_to(ROOT / "rulesets").as_posix() for p in (ROOT / "rulesets").glob("*/*.yaml"))
    assert shipped, "no rulesets in the repository"
    assert {f"ecei_rules/_rulesets/{name}" for name in shipped} <= names
    assert "ecei_rules/messages/en.yaml" in names  # the explanations' message templates


def test_installed_wheel_decides_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    """A wheel installed into a bare folder evaluates the default methodology from its own rulesets."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    # 2011-05-10: 1.0.0 in force; a completed benchmarking is Bronze until month_end(2011-05, 24) = 2013-05-31
    script = (
        "import json, ecei_rules.registry as r, ecei_rules.batch as b;"
        "d = b.decide({'organisation': {'id': 'X', 'name': 'X', 'country': 'DE'}, 'assessed_on': '2011-05-10',"
        " 'benchmarking': {'completed': True}});"
        "print(json.dumps([str(r.shipped_rulesets()), d.version, d.label, d.valid_until.isoformat()]))"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=True)
    where, version, label, until = json.loads(done.stdout)
    assert Path(where).is_relative_to(target)
    assert (version, label, until) == ("1.0.0", "bronze", "2013-05-31")


def test_the_readmes_test_command_is_exactly_what_ci_runs() -> None:
    """The quick start's second command (set up and run the whole suite) is .ci/run's command, to the letter."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0].strip() for block in quick.split("```sh\n")[1:]]
    assert len(blocks) == 2, blocks  # two commands: decide an example, run the suite
    # .ci/run holds nothing else that changes what runs (no exported setting, no other step)
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith(("#", "set -euo pipefail", 'cd "$(dirname "$0")/.."'))]
    assert ci == [blocks[1]]
