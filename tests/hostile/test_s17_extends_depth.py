"""How deep a chain of versions may go (``extends`` and ``tests_from``, at most ``MAX_EXTENDS_DEPTH``
versions beneath a file) is a property of the file: the same diagnostics whether it is loaded on its
own, in a registry, or after any other version of its folder (a registry's parse cache never lets a
version deeper than the limit through). And loading a long chain reads each file a bounded number of
times, not once for every version above it.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from ecei_rules.errors import Diagnostic, RulesetError
from ecei_rules.registry import Registry
from ecei_rules.ruleset import load as load_module
from ecei_rules.ruleset.load import MAX_EXTENDS_DEPTH, ParseCache, check_ruleset

ROOT = Path(__file__).resolve().parent.parent.parent
MINIMAL = (ROOT / "tests" / "data" / "minimal.yaml").read_text(encoding="utf-8")


def extending(folder: Path, n: int) -> Path:
    """``folder/minimal``: 1.0.0 (minimal.yaml), and 1.i.0 extending 1.(i-1).0 for i < n."""
    here = folder / "minimal"
    here.mkdir(parents=True)
    (here / "1.0.0.yaml").write_text(MINIMAL, encoding="utf-8")
    for i in range(1, n):
        (here / f"1.{i}.0.yaml").write_text(
            f"extends: 1.{i - 1}.0\nversion: 1.{i}.0\nstatus: published\neffective_from: {2020 + i // 12}-"
            f"{i % 12 + 1:02d}-01\nparameters:\n  min_score: {{value: 0.{i % 9 + 1}, source: x}}\n", encoding="utf-8")
    return here


def lending(folder: Path, n: int) -> Path:
    """``folder/minimal``: 1.0.0 (minimal.yaml), and 1.i.0 a copy of it that borrows the tests of 1.(i-1).0."""
    here = folder / "minimal"
    here.mkdir(parents=True)
    (here / "1.0.0.yaml").write_text(MINIMAL, encoding="utf-8")
    for i in range(1, n):
        text = MINIMAL.replace("version: 1.0.0", f"version: 1.{i}.0") + f"tests_from: 1.{i - 1}.0\n"
        (here / f"1.{i}.0.yaml").write_text(text, encoding="utf-8")
    return here


def version(path: Path) -> int:
    return int(path.stem.split(".")[1])


Found = list[tuple[str, str | None, int | None, int | None, str, str]]


def errors(diags: list[Diagnostic]) -> Found:
    return sorted((d.code, d.file, d.line, d.column, d.pointer, d.message) for d in diags if d.severity == "error")


def every_way(files: list[Path]) -> list[dict[Path, Found]]:
    """The errors of each file checked alone, and with one cache shared in ascending, descending and
    scattered order."""
    alone = {f: errors(check_ruleset(f)) for f in files}
    ways = [alone]
    for order in (files, files[::-1], files[1::2] + files[0::2][::-1]):
        cache = ParseCache()
        ways.append({f: errors(check_ruleset(f, cache=cache)) for f in order})
    return ways


def test_a_chain_of_extends_deeper_than_the_limit_is_refused_however_it_is_loaded(tmp_path: Path) -> None:
    here = extending(tmp_path, MAX_EXTENDS_DEPTH + 8)
    files = sorted(here.glob("*.yaml"), key=version)
    ways = every_way(files)
    for way in ways[1:]:
        assert way == ways[0]
    alone = ways[0]
    for f in files:
        if version(f) <= MAX_EXTENDS_DEPTH:  # 16 versions beneath it: within the limit
            assert alone[f] == [], f
        else:  # the version's own problem, at its own 'extends'
            [(code, file, line, column, pointer, message)] = alone[f]
            assert (code, file, line, column, pointer) == ("E109", str(f), 1, 10, "/extends")
            assert f"more than {MAX_EXTENDS_DEPTH} versions deep" in message


def test_a_registry_does_not_decide_under_a_version_too_deep(tmp_path: Path) -> None:
    extending(tmp_path, 40)
    registry = Registry(tmp_path)
    for v in registry.versions("minimal"):  # the order a registry lists and loads them
        with contextlib.suppress(RulesetError):
            registry.header("minimal", v)
    assert registry.get("minimal", f"1.{MAX_EXTENDS_DEPTH}.0").version == f"1.{MAX_EXTENDS_DEPTH}.0"
    for i in (MAX_EXTENDS_DEPTH + 1, 39):
        with pytest.raises(RulesetError) as caught:
            registry.get("minimal", f"1.{i}.0")
        assert [(d.code, Path(d.file or "").name, d.line, d.column) for d in caught.value.diagnostics] == [
            ("E109", f"1.{i}.0.yaml", 1, 10)]


def test_a_chain_of_tests_from_deeper_than_the_limit_is_refused_however_it_is_loaded(tmp_path: Path) -> None:
    here = lending(tmp_path, MAX_EXTENDS_DEPTH + 5)
    files = sorted(here.glob("*.yaml"), key=version)
    ways = every_way(files)
    for way in ways[1:]:
        assert way == ways[0]
    alone = ways[0]
    line = MINIMAL.count("\n") + 1
    for f in files:
        if version(f) <= MAX_EXTENDS_DEPTH:
            assert alone[f] == [], f
        else:
            [(code, file, at, _, pointer, message)] = alone[f]
            assert (code, file, at, pointer) == ("E302", str(f), line, "/tests_from")
            assert f"more than {MAX_EXTENDS_DEPTH} versions deep" in message


@pytest.mark.parametrize("make", [extending, lending])
def test_loading_a_long_chain_reads_each_file_a_bounded_number_of_times(
        make: Callable[[Path, int], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """120 versions, each building on the one before, loaded by one registry (its header, then the
    version): a load reads each file once, and a file is read only by the loads of the versions
    within twice the depth limit above it, whatever the length of the chain (before: the first file
    was read by every load, and by every check of a remembered parse in it)."""
    here = make(tmp_path, 120)
    reads: Counter[str] = Counter()
    real = load_module.read_limited

    def spy(path: Path | str, limit: int, what: str) -> bytes:
        reads[os.path.basename(path)] += 1
        return real(path, limit, what)

    monkeypatch.setattr(load_module, "read_limited", spy)
    registry = Registry(tmp_path)
    refused = []
    for v in registry.versions("minimal"):
        try:
            registry.header("minimal", v)
            registry.get("minimal", v)
        except RulesetError:
            refused.append(version(here / f"{v}.yaml"))
    assert len(reads) == 120
    assert max(reads.values()) <= 2 * 2 * (MAX_EXTENDS_DEPTH + 2), reads.most_common(3)
    assert refused == list(range(MAX_EXTENDS_DEPTH + 1, 120))
