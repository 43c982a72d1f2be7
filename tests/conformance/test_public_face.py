"""The public face (issue 21): one shared registry of the shipped rulesets, one class for every bad
input, a did-you-mean on a misspelt assessment key, decisions that do not depend on threads, and
an API page that shows every public name with an example that runs."""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import ecei_rules
from ecei_rules import (
    AssessmentError,
    EceiRulesError,
    InputError,
    Registry,
    ResolutionError,
    decide,
    evaluate,
)
from ecei_rules import registry as registry_module
from ecei_rules.registry import shipped_rulesets

ROOT = Path(__file__).parents[2]
API_PAGE = ROOT / "docs" / "reference" / "api.md"
SRC = ROOT / "src" / "ecei_rules"
ORG = {"id": "X", "name": "X", "country": "DE"}


def _yaml_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every ruleset file (``.yaml``) opened from now on, and every ruleset loaded."""
    seen: list[str] = []
    real_open, real_os_open, real_io_open = builtins.open, os.open, io.open

    def note(path: Any) -> None:
        if str(path).endswith(".yaml"):
            seen.append(str(path))

    def opened(path: Any, *args: Any, **kwargs: Any) -> Any:
        note(path)
        return real_open(path, *args, **kwargs)

    def os_opened(path: Any, *args: Any, **kwargs: Any) -> Any:
        note(path)
        return real_os_open(path, *args, **kwargs)

    def io_opened(path: Any, *args: Any, **kwargs: Any) -> Any:
        note(path)
        return real_io_open(path, *args, **kwargs)

    real_load, real_raw = registry_module.load_ruleset, registry_module._load_raw
    monkeypatch.setattr(builtins, "open", opened)
    monkeypatch.setattr(os, "open", os_opened)
    monkeypatch.setattr(io, "open", io_opened)
    monkeypatch.setattr(registry_module, "load_ruleset", lambda path, **kw: (note(path), real_load(path, **kw))[1])
    monkeypatch.setattr(registry_module, "_load_raw", lambda path, **kw: (note(path), real_raw(path, **kw))[1])
    return seen


# -- one registry of the shipped rulesets ----------------------------------------------------------

def test_decide_on_the_shipped_rulesets_reuses_one_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Registry.shipped()`` is one registry, and a second ``decide`` on the shipped rulesets reads
    no ruleset file and loads no ruleset: it costs what ``evaluate`` costs."""
    assert Registry.shipped() is Registry.shipped()
    first = decide({"organisation": ORG, "assessed_on": "2021-03-01"})
    reads = _yaml_reads(monkeypatch)
    again = decide({"organisation": ORG, "assessed_on": "2022-06-30"})
    pinned = decide({"organisation": ORG, "assessed_on": "2022-06-30"}, version=first.version)
    assert reads == []
    assert again.version == pinned.version == first.version == "3.0.1"
    assert again.canonical_text() == evaluate(Registry.shipped().get("ecei-labels", "3.0.1"),
                                              {"organisation": ORG, "assessed_on": "2022-06-30"},
                                              resolution=again.resolution).canonical_text()


# -- every bad input is one class ----------------------------------------------------------------

def test_a_date_before_2010_is_a_bad_input_error() -> None:
    """An assessment dated before the first version took effect is a ResolutionError, and, like
    every refused assessment, an InputError (and an EceiRulesError)."""
    with pytest.raises(InputError) as caught:
        decide({"organisation": ORG, "assessed_on": "2005-01-01"})
    assert isinstance(caught.value, ResolutionError)
    assert isinstance(caught.value, EceiRulesError)
    for bad in ({"organisation": ORG}, {"organisation": ORG, "assessed_on": "2021-02-30"}, "not an object",
                {"organisation": {"id": 1}, "assessed_on": "2021-03-01"}):
        with pytest.raises(InputError):
            decide(bad)
    with pytest.raises(InputError):
        decide({"organisation": ORG, "assessed_on": "2021-03-01"}, version="9.9.9")
    assert issubclass(AssessmentError, InputError)
    assert issubclass(ResolutionError, InputError)


def _classes() -> list[tuple[str, str]]:
    """(module, class) of every class defined in the package's source, at any depth."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found.append((module, node.name))
    return found


#: Outside the tree by design (errors.py's docstring says why): none reaches a caller as the
#: library's own error; the private ones (a leading underscore) never leave their module.
OUTSIDE = {"FileReadError", "InterpreterError", "EmbeddedFailureError", "_AbortError", "_UnportableError",
           "_ParseError", "_UnsupportedError", "_PipeClosedError", "_Refuse", "_UnreadableError", "_DeclinedError",
           "UnknownValueError", "ProfileError"}


def test_the_exception_tree_drawn_in_errors_py_is_complete() -> None:
    """Every exception class the package defines, whatever its name and private ones included, is
    drawn in errors.py's docstring (with its module for a private one), and is an EceiRulesError
    unless the docstring names it as outside the tree (MessagesError, LogError and DurableError
    are inside)."""
    from ecei_rules import errors

    drawn = errors.__doc__ or ""
    seen = set()
    for module, name in _classes():
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:  # an optional dependency (durable-rules) is not installed
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            continue
        seen.add(name)
        pattern = rf"(?<![\w.]){re.escape(module.removeprefix('ecei_rules.'))}\.{name}\b" if name.startswith("_") \
            else rf"\b{name}\b"  # a private one with its module (``batch._ParseError``)
        assert re.search(pattern, drawn), f"{module}.{name} is not drawn in errors.py"
        if name not in OUTSIDE:
            assert issubclass(cls, EceiRulesError), f"{module}.{name} is not an EceiRulesError"
    assert seen >= {"MessagesError", "LogError", "DurableError", "InputError", "_AbortError"}
    optional = {"_UnsupportedError", "_Refuse"}  # in backends whose extras may not be installed
    assert seen | optional >= OUTSIDE, "a name outside the tree that the package no longer defines"


# -- did you mean ------------------------------------------------------------------------------------

def test_a_misspelt_assessment_key_gets_did_you_mean() -> None:
    """``assesed_on`` for ``assessed_on`` is answered with "did you mean 'assessed_on'?", whether the
    date chooses the version (decide) or a pinned version validates the assessment."""
    with pytest.raises(AssessmentError) as caught:
        decide({"organisation": ORG, "assesed_on": "2021-03-01"})
    assert [(d.code, d.pointer) for d in caught.value.diagnostics] == [("A001", "/assessed_on")]
    assert "did you mean 'assessed_on'?" in (caught.value.diagnostics[0].suggestion or "")
    assert "'assesed_on'" in (caught.value.diagnostics[0].suggestion or "")
    with pytest.raises(AssessmentError) as pinned:
        decide({"organisation": ORG, "assesed_on": "2021-03-01"}, version="3.0.1")
    hints = {d.pointer: d.suggestion for d in pinned.value.diagnostics}
    assert hints["/assesed_on"] == "did you mean 'assessed_on'?"
    with pytest.raises(AssessmentError) as unrelated:
        decide({"organisation": ORG, "zzz": "2021-03-01"})
    assert unrelated.value.diagnostics[0].suggestion is None


# -- threads -------------------------------------------------------------------------------------------

def _population() -> list[dict[str, Any]]:
    import json

    out = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.json"))]
    with (ROOT / "examples" / "batch.jsonl").open(encoding="utf-8") as lines:
        out += [json.loads(line) for line in lines if line.strip()]
    return out


def _decided(data: Any, registry: Registry) -> str:
    """The decision's canonical text, or the error's text (the examples hold a bad line)."""
    try:
        return decide(data, registry=registry).canonical_text()
    except InputError as exc:
        return f"error {type(exc).__name__}: {exc}"


def test_many_threads_deciding_on_one_shared_registry_give_the_bytes_of_one_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads start together on one new registry (so they also race to load its versions,
    and loading is made slow for them to meet in it) and decide the same assessments: every
    thread's decisions are, byte for byte, those of one thread, and each version is loaded once."""
    population = _population() * 3
    one = Registry(shipped_rulesets())
    alone = [_decided(a, one) for a in population]
    assert any(text.startswith("error") for text in alone)
    assert any(text.startswith("{") for text in alone)
    loads: list[str] = []
    real_load = registry_module.load_ruleset

    def slow_load(path: Any, **options: Any) -> Any:  # slow, so threads would meet in it were loading not serialised
        loads.append(str(path))
        time.sleep(0.02)
        return real_load(path, **options)

    monkeypatch.setattr(registry_module, "load_ruleset", slow_load)
    shared = Registry(shipped_rulesets())
    start = threading.Barrier(8)
    results: list[list[str]] = [[] for _ in range(8)]
    failures: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            start.wait()
            order = population[slot:] + population[:slot]  # each thread starts elsewhere
            texts = [_decided(a, shared) for a in order]
            results[slot] = texts[len(population) - slot:] + texts[:len(population) - slot]
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert all(texts == alone for texts in results)
    assert loads
    assert sorted(loads) == sorted(set(loads))


# -- the API page ----------------------------------------------------------------------------------------

def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", API_PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_every_public_name_is_on_the_api_page_with_an_example() -> None:
    """Each name of ``ecei_rules.__all__`` is rendered on docs/reference/api.md from its docstring
    (``::: ecei_rules.NAME``) and used by name in one of the page's Python examples."""
    page = API_PAGE.read_text(encoding="utf-8")
    examples = _examples()
    for name in ecei_rules.__all__:
        assert f"::: ecei_rules.{name}\n" in page, f"{name} is not rendered on the API page"
        assert any(re.search(rf"\b{name}\b", code) for code in examples), f"{name} has no example"


@pytest.mark.parametrize("index", range(len(_examples())))
def test_every_example_on_the_api_page_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Python example of the API page runs as written, from the repository's root."""
    monkeypatch.chdir(ROOT)
    exec(compile(_examples()[index], f"{API_PAGE.name} example {index + 1}", "exec"), {})
