"""The library is free of its test tools (issue 21, "What to build" 4): hypothesis and the strategies
are imported only by ``ecei_rules.testing`` (where the counterexample search lives,
``ecei_rules.testing.counterexample``), which everything else reaches lazily, from inside a function.

Each check runs in a fresh interpreter where ``hypothesis`` is blocked (``sys.modules["hypothesis"]
= None`` makes every ``import hypothesis...`` raise), so a module that imports it at load time, itself
or through another module of the package, fails to import there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ecei_rules"
#: the test tools themselves: the hypothesis strategies, properties and the counterexample search
ALLOWED = "ecei_rules.testing"

_IMPORT_ALL = """
import importlib, json, sys
sys.modules["hypothesis"] = None  # any import of hypothesis now raises ImportError
failed = {}
for name in NAMES:
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed[name] = str(exc)
print(json.dumps({"failed": failed, "loaded": sorted(m for m in sys.modules if m.startswith("ecei_rules"))}))
"""


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _import_blocked(names: list[str]) -> dict[str, object]:
    code = f"NAMES = {names!r}\n" + _IMPORT_ALL
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_module_but_the_test_tools_imports_with_hypothesis_blocked() -> None:
    """Every module of the package outside ecei_rules.testing imports in an interpreter without hypothesis."""
    names = [n for n in _modules() if n != ALLOWED and not n.startswith(ALLOWED + ".")]
    assert len(names) > 50  # the whole package is walked, not an empty list
    assert {"ecei_rules.compare.bump", "ecei_rules.audit.replay", "ecei_rules.cli.app"} <= set(names)
    out = _import_blocked(names)
    assert out["failed"] == {}, "these modules import hypothesis: " + json.dumps(out["failed"], indent=1)


def test_the_blocked_interpreter_does_refuse_the_test_tools() -> None:
    """The check can fail: with hypothesis blocked, the strategies (which need it) do not import."""
    out = _import_blocked(["ecei_rules.testing.strategies", "ecei_rules.testing.counterexample"])
    assert set(out["failed"]) == {"ecei_rules.testing.strategies", "ecei_rules.testing.counterexample"}


def test_replaying_a_log_loads_no_test_tool() -> None:
    """``import ecei_rules.audit.replay`` (the issue's example) loads nothing of ecei_rules.testing."""
    out = _import_blocked(["ecei_rules.audit.replay"])
    assert out["failed"] == {}
    loaded = out["loaded"]
    assert isinstance(loaded, list)
    assert not [m for m in loaded if m == ALLOWED or m.startswith(ALLOWED + ".")]
