"""The fast canonical writers are not sent to the slow one by what only looks like a number.

A decision record holds SHA-256 hashes in hex (``"3e9f..."``: a digit before an ``e``) and clause
texts with versions in prose (``"before 3.0.0, so"``: ``.0,``), and an input may hold an integral
float (``4.0``). Each once sent the whole record to ``rfc8785``'s pure-Python writer, about a
hundred times slower (``verify`` of a 1,500-record log: 2.6 s of CPU, 1.0 s now). These tests
count the slow writer's calls; the property tests (tests/fastpath, tests/audit) hold the bytes
equal on generated values.
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785

from ecei_rules.audit import replay
from ecei_rules.core import canonical

RECORD: dict[str, Any] = {
    "seq": 7,
    "prev_hash": "3e9f" + "0" * 60,
    "hash": "12e4" + "a" * 60,
    "decision": {"ruleset_sha256": "0e1" + "f" * 61, "version": "3.0.1",
                 "criteria": [{"id": "S3", "title": "An indicator weighs 1 before 3.0.0, so 25 are needed",
                               "outcome": "met"}]},
    "input": {"eligibility": {"management_fte": 4.0, "share": 0.25, "members": [1.0, 2.5, -0.0]}},
}


@pytest.fixture
def slow_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each value ``rfc8785.dumps`` is asked to write, by either fast writer."""
    calls: list[Any] = []
    real = rfc8785.dumps

    def counting(value: Any) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(canonical.rfc8785, "dumps", counting)
    return calls


def test_hashes_versions_in_prose_and_integral_floats_are_written_by_the_fast_path(slow_calls: list[Any]) -> None:
    """canonical_json writes a record with hex hashes, a version in prose and integral floats
    without rfc8785, and its bytes are rfc8785's."""
    expected = rfc8785.dumps(RECORD)
    slow_calls.clear()
    assert canonical.canonical_json(RECORD) == expected
    assert slow_calls == []


def test_the_log_checks_such_a_record_with_orjson_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The log's writer and checker (orjson, then canonical_json where orjson's text may differ)
    take orjson's text of a record whose strings only look like numbers; a real integral float
    still goes to canonical_json, which writes it as an integer."""
    asked: list[Any] = []
    real = replay.canonical_json
    monkeypatch.setattr(replay, "canonical_json", lambda value: asked.append(value) or real(value))
    without_floats = {**RECORD, "input": {"eligibility": {"share": 0.25}}}
    assert replay.canonical(without_floats) == rfc8785.dumps(without_floats)
    assert asked == []
    assert replay.canonical(RECORD) == rfc8785.dumps(RECORD)
    assert len(asked) == 1


@pytest.mark.parametrize("value", [
    {"a": "x:2.0,y"}, {"a": "[1e5]"}, {"a": ":1234567890123456"}, ["3.0.0,", 2.0], {"a": [1e16, 4.0]},
    {"a": 2.0**53}, {"a": -(2.0**53) + 1}, {"a": [[[1.0]]]}, {"b": 1.0, "a": {"c": 1e-07}},
])
def test_strings_that_look_like_numbers_and_floats_at_the_edges_are_written_as_rfc8785_writes_them(
        value: Any) -> None:
    """A string holding what looks like a risky number may take the slow path but never other
    bytes; integral floats at 2**53 and beyond, exponents and nested integral floats neither."""
    assert canonical.canonical_json(value) == rfc8785.dumps(value)
    assert replay.canonical(value) == rfc8785.dumps(value)
