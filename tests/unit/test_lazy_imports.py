"""Deciding a label does not import the explanation machinery, and the public names stay what
they were: ``ecei_rules.explain`` is the function whichever import comes first. Each check runs
in a fresh interpreter, where nothing is imported yet."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_import_and_cli_start_without_the_explanation_modules() -> None:
    """``import ecei_rules`` and the command line's import leave ecei_rules.explain.build unloaded."""
    out = _run("import sys, ecei_rules, ecei_rules.cli; "
               "print(sorted(m for m in sys.modules if m.startswith('ecei_rules.explain')))")
    assert out == "['ecei_rules.explain']"


def test_explain_is_the_function_whichever_import_comes_first() -> None:
    """``from ecei_rules import explain`` gives the function (and ``Explanation`` the model), also after
    a submodule of the explain package was imported first, and after the command line's import."""
    for first in ("import ecei_rules.explain.build", "from ecei_rules.explain import render_text",
                  "import ecei_rules.cli", "pass"):
        out = _run(f"{first}\nimport ecei_rules\nfrom ecei_rules import explain, Explanation\n"
                   "from ecei_rules.explain.build import explain as built\n"
                   "from ecei_rules.explain.model import Explanation as model\n"
                   "print(explain is built, Explanation is model, ecei_rules.explain is built, "
                   "'explain' in dir(ecei_rules))")
        assert out == "True True True True", first
