"""What a JSON Lines batch does per line, counted rather than timed (issue 23: the command line's cost
per line). A batch lists the rulesets folder and reads the lock once in a while, not once per line;
a version added during a batch is used once the resolver looks again; a line written as orjson or the
standard library writes it is read by orjson alone, and any other line exactly, with the same output
either way."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import types
from pathlib import Path
from typing import Any

import orjson
import pytest

from ecei_rules import batch as batch_module
from ecei_rules.batch import (
    RECHECK_SECONDS,
    Item,
    RawLine,
    ResolverSpec,
    decide_lines,
    quick_json,
    ready_resolver,
    registry_resolver,
)
from ecei_rules.engine.serialise import parse_fields
from ecei_rules.registry import Registry

ROOT = Path(__file__).parents[2]
M = "ecei-labels"
GOLD = json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8"))


def _dated(n: int) -> list[dict[str, Any]]:
    """The gold example assessed on ``n`` successive days of 2022 (each its own date)."""
    first = dt.date(2022, 1, 3)
    return [{**GOLD, "assessed_on": (first + dt.timedelta(days=i)).isoformat()} for i in range(n)]


def _items(texts: list[str]) -> list[Item]:
    return [Item(i, data=RawLine(text + "\n")) for i, text in enumerate(texts, 1)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The batch module's clock, stopped: a test moves it by hand."""
    now = [1000.0]
    monkeypatch.setattr(batch_module, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


def _counting(monkeypatch: pytest.MonkeyPatch, *names: str) -> dict[str, int]:
    calls = dict.fromkeys(names, 0)
    for name in names:
        original = getattr(Registry, name)

        def counted(self: Registry, *args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            calls[_name] += 1
            return _original(self, *args, **kw)

        monkeypatch.setattr(Registry, name, counted)
    return calls


def test_a_batch_lists_the_folder_and_reads_the_lock_once_in_a_while_not_per_line(
        monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
    """120 lines, each on its own date, list the folder and read the lock a handful of times (once when
    the resolver looks, once per version it hands out), not once per line; looking again after
    RECHECK_SECONDS lists the folder again."""
    spec = ResolverSpec(rulesets=str(ROOT / "rulesets"))
    resolve = ready_resolver(spec)
    calls = _counting(monkeypatch, "versions", "read_lock", "in_force")
    texts = [json.dumps(a) for a in _dated(120)]
    lines = list(decide_lines(_items(texts), spec, jobs=1, resolve=resolve))
    assert [failed for _, failed in lines] == [False] * 120
    assert calls["versions"] <= 3, calls
    assert calls["read_lock"] <= 2, calls
    assert calls["in_force"] == 0, calls
    listed = calls["versions"]
    clock[0] += RECHECK_SECONDS + 0.5
    list(decide_lines(_items(texts[:5]), spec, jobs=1, resolve=resolve))
    assert listed < calls["versions"] <= listed + 3


def test_a_version_added_during_a_batch_is_used_once_the_resolver_looks_again(tmp_path: Path,
                                                                            clock: list[float]) -> None:
    """A batch's resolver keeps the versions it found for RECHECK_SECONDS: a version added in the
    meantime decides the next assessments once that time has passed (a new resolver, as one per
    ``decide`` call, sees it at once)."""
    root = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets" / M, root / M)
    registry = Registry(root)
    resolve = registry_resolver(registry)
    later = {**GOLD, "assessed_on": "2030-01-02"}
    assert resolve(later)[0].version == "3.0.1"
    (root / M / "3.1.0.yaml").write_text(
        "extends: 3.0.1\nversion: 3.1.0\nsupersedes: 3.0.1\nstatus: published\neffective_from: 2029-01-01\n"
        "approval: {body: EUCLES board, date: 2028-12-01, reference: test copy}\n", encoding="utf-8")
    assert resolve(later)[0].version == "3.0.1"
    assert registry_resolver(registry)(later)[0].version == "3.1.0"
    clock[0] += RECHECK_SECONDS + 0.5
    ruleset, resolution = resolve(later)
    assert ruleset.version == "3.1.0"
    assert resolution.reason == "version 3.1.0 is in force on 2030-01-02 (effective from 2029-01-01)"


@pytest.mark.parametrize("text", ['{"a": 2.50}', '{"a": 1e2}', '{"a": 1E-5}', '{"a": 1, "a": 1}', '{"a":-0}',
                                  '{"a": 1180591620717411303424}', '{"a": "\\u00e9"}', '{"a" : 1}', '[1]',
                                  '{"a": NaN}', '{"a": 1}x'])
def test_a_line_orjson_may_read_otherwise_is_left_to_the_exact_parser(text: str) -> None:
    """A trailing zero, an exponent, a key twice, a minus zero, an integer beyond 64 bits, an escape,
    other spacing, anything but an object, or what orjson refuses: not read by orjson."""
    assert quick_json(text) is None


@pytest.mark.parametrize("value", [GOLD, {"a": [0.1, 2.0, -3.25, 0.0001, 123456.789], "b": {"c": None, "d": True}}])
def test_a_line_the_standard_library_or_orjson_wrote_is_read_by_orjson(value: dict[str, Any]) -> None:
    """The standard library's text (its spaces after commas and colons) and orjson's compact text, with
    or without a line's end."""
    for text in (json.dumps(value), orjson.dumps(value).decode(), json.dumps(value) + "\r\n"):
        assert quick_json(text) == value


def test_lines_read_by_orjson_or_exactly_decide_alike_and_only_the_others_are_parsed_exactly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example assessment written by the standard library is read by orjson (the exact parser
    never runs), and written with its numbers as ``2.50`` is read exactly; both give the same bytes,
    whole decisions and selected members alike, errors included. The label and its validity alone are
    read on the fast line path (msgspec, `ecei_rules.engine.lines`), which reads ``2.50`` too: there the
    exact parser reads the invalid line only."""
    exact = [0]
    original = batch_module.parse_json

    def counted(text: str) -> Any:
        exact[0] += 1
        return original(text)

    monkeypatch.setattr(batch_module, "parse_json", counted)
    assessments = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.json"))]
    assessments.append({**GOLD, "indicators": {**GOLD["indicators"], "1.1.0": "high"}})  # an invalid value
    plain = [json.dumps(a) for a in assessments]
    padded = [re.sub(r"(\d\.\d+)(?=[,}\]])", r"\g<1>0", text) for text in plain]  # 0.91 -> 0.910
    changed = sum(a != b for a, b in zip(plain, padded, strict=True))
    assert changed >= 5
    assert padded[-1] != plain[-1]
    spec = ResolverSpec()
    resolve = ready_resolver(spec)
    label = parse_fields("label,valid_until")
    for fields in (None, label, parse_fields("summary")):
        exact[0] = 0
        quick = list(decide_lines(_items(plain), spec, jobs=1, resolve=resolve, fields=fields))
        assert exact[0] == 1  # the invalid line only: read again exactly for its error
        slow = list(decide_lines(_items(padded), spec, jobs=1, resolve=resolve, fields=fields))
        assert exact[0] == 1 + (1 if fields is label else changed)
        assert quick == slow
        assert [failed for _, failed in quick].count(True) == 1


def test_a_version_chosen_by_inputs_is_chosen_once_per_set_of_their_values(monkeypatch: pytest.MonkeyPatch,
                                                                           clock: list[float]) -> None:
    """tests/data/selection chooses by rating_system and registered_on: 40 projects with two sets of
    those values (and points, assessment dates and ids of their own) are chosen twice, not 40 times,
    and each under the version and the reason a single decision gives."""
    from ecei_rules.batch import decide

    registry = Registry(ROOT / "tests" / "data" / "selection")
    resolve = registry_resolver(registry)
    calls = _counting(monkeypatch, "select")
    projects = [{"assessed_on": f"2021-06-{10 + i % 9:02d}", "registered_on": "2020-06-01" if i % 2 else "2019-06-01",
                 "rating_system": "v4.1", "points": 30 + i} for i in range(40)]
    chosen = [resolve(p) for p in projects]
    assert calls["select"] == 2
    for project, (ruleset, resolution) in zip(projects[:4], chosen, strict=False):
        alone = decide(project, registry=registry)
        assert (ruleset.version, resolution) == (alone.version, alone.resolution)
