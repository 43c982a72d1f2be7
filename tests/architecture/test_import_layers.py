"""The package imports one way: down the declared layers, with no cycle, lazy imports included.

The layers are declared in ``tests/architecture/import_graph.py`` (``LAYERS``) and drawn in
``docs/contributing.md``; the first test checks that the two agree.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from import_graph import LAYERS, cycles, layer_violations, read_graph

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ecei_rules"


@pytest.fixture(scope="module")
def edges():  # type: ignore[no-untyped-def]
    return read_graph(PACKAGE)


def test_the_contributing_guide_draws_the_layers_the_test_enforces() -> None:
    """Every layer of LAYERS appears, in order, in the house diagram of docs/contributing.md."""
    text = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    drawn = re.search(r"```text\n(.*?)```", text, re.S)
    assert drawn, "docs/contributing.md has no ```text block drawing the layers"
    # the first column of each line names the layer's packages ("audit/  compare/") or module ("errors.py")
    firsts = [re.split(r"\s{3,}", line.strip())[0] for line in drawn.group(1).splitlines() if line[:1].strip()]
    rows = [[re.sub(r"/$|\.py$", "", name) for name in first.split()] for first in firsts]
    declared = [list(layer) for layer in LAYERS if layer != ("",)]
    assert [sorted(r) for r in rows] == [sorted(layer) for layer in declared]


def test_every_module_belongs_to_a_declared_layer(edges) -> None:  # type: ignore[no-untyped-def]
    """A new top-level folder or module must be placed in LAYERS before anything may import it."""
    assert len(edges) > 200
    assert layer_violations("ecei_rules", edges) is not None  # raises LookupError on a stray module


def test_no_import_runs_up_or_sideways_across_the_layers(edges) -> None:  # type: ignore[no-untyped-def]
    """No module imports a module of a higher layer, or of another package in its own layer."""
    problems = layer_violations("ecei_rules", edges)
    assert not problems, "\n".join(problems)


def test_the_package_has_no_import_cycle_lazy_imports_included(edges) -> None:  # type: ignore[no-untyped-def]
    """No group of modules imports itself round, counting imports inside functions."""
    found = cycles(edges)
    assert not found, "\n".join(" <-> ".join(group) for group in found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root


def test_the_checker_finds_a_cycle_made_only_by_a_lazy_import(tmp_path: Path) -> None:
    """A cycle closed by an import inside a function is found; one closed under TYPE_CHECKING is not."""
    root = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/a.py": "from pkg.low import b\n",
        "low/b.py": "def f():\n    from pkg.low.a import x\n",
        "low/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.low import d\n",
        "low/d.py": "from . import c\n",
    })
    assert cycles(read_graph(root)) == [["pkg.low.a", "pkg.low.b"]]


def test_the_checker_finds_upward_and_sideways_imports(tmp_path: Path) -> None:
    """An import of a higher layer (lazy or type-only alike) and one across a layer are both reported."""
    root = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/a.py": "def f():\n    from ..high import b\n",
        "mid1/__init__.py": "from pkg.mid2 import m\n",
        "mid2/__init__.py": "",
        "mid2/m.py": "from pkg.low import a\n",
        "high/__init__.py": "",
        "high/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg\n",
    })
    layers = (("low",), ("mid1", "mid2"), ("high",), ("",))
    problems = layer_violations("pkg", read_graph(root), layers)
    assert sorted(p.split(",")[0] for p in problems) == [
        "pkg.high.b:3 type-only imports pkg: upward",
        "pkg.low.a:2 lazy imports pkg.high.b: upward",
        "pkg.mid1:1 imports pkg.mid2.m: sideways",
    ]
