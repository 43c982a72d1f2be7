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
    """``import ecei_rules`` and the command line's import leave the explanation package unloaded (each name of
    the package root is imported on first use)."""
    out = _run("import sys, ecei_rules, ecei_rules.cli.app; "
               "print(sorted(m for m in sys.modules if m.startswith('ecei_rules.explanation')))")
    assert out == "[]"


def test_explain_is_the_function_whichever_import_comes_first() -> None:
    """``from ecei_rules import explain`` gives the function (and ``Explanation`` the model), also after
    a submodule of the explain package was imported first, and after the command line's import."""
    for first in ("import ecei_rules.explanation.build", "from ecei_rules.explanation import render_text",
                  "import ecei_rules.cli.app", "pass"):
        out = _run(f"{first}\nimport ecei_rules\nfrom ecei_rules import explain, Explanation\n"
                   "from ecei_rules.explanation.build import explain as built\n"
                   "from ecei_rules.explanation.model import Explanation as model\n"
                   "print(explain is built, Explanation is model, ecei_rules.explain is built, "
                   "'explain' in dir(ecei_rules))")
        assert out == "True True True True", first


def test_every_public_name_of_the_explain_package_resolves_to_its_definition() -> None:
    """Each name in ecei_rules.explanation.__all__ is, on first use, the object its module defines (a name
    missing from the lazy table would raise AttributeError here)."""
    out = _run("import importlib\n"
               "package = importlib.import_module('ecei_rules.explanation')\n"
               "wrong = []\n"
               "for name in package.__all__:\n"
               "    if name.startswith('DEFAULT_'):\n"
               "        continue\n"
               "    defined = importlib.import_module('ecei_rules.explanation.' + package._LAZY[name])\n"
               "    if getattr(package, name) is not getattr(defined, name):\n"
               "        wrong.append(name)\n"
               "print(wrong, len(package.__all__))")
    assert out == "[] 14"
