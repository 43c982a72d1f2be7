"""Records, replay and batches on their fast paths give what the plain paths give.

* a log stores ``record_and_text``'s text: it must be the record's RFC 8785 bytes
  (``rfc8785.dumps`` of the record's JSON, computed independently here);
* ``reproduced`` (replay without parsing the recorded decision) must accept every intact
  record, so that a clean replay really takes the fast path, and must refuse every record
  whose decision differs in any byte, so that the slow path reports it;
* a JSON Lines batch decided over worker processes prints the same bytes, in the same
  order, as in one process, errors included, and exits 1 when a line is bad.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import rfc8785
from typer.testing import CliRunner

from ecei_rules.audit.log import DecisionLog, open_rows
from ecei_rules.audit.record import record_and_text
from ecei_rules.audit.replay import _Rulesets, replay, reproduced
from ecei_rules.batch import ResolverSpec, decide, decide_lines, read_assessments
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import sha256_hex, to_json
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import synthesize

REGISTRY = Registry.shipped()
AT = "2026-11-26T12:00:00+00:00"


@pytest.fixture(scope="module")
def population() -> list[dict]:
    return list(synthesize(120, seed=5, start=dt.date(2011, 1, 1), end=dt.date(2025, 12, 31), registry=REGISTRY))


def test_record_text_is_the_records_rfc8785_bytes_and_hash(population: list[dict]) -> None:
    """For decisions under every version: the stored text is rfc8785.dumps of the record, and the
    hash is the SHA-256 of that without its hash member."""
    versions = set()
    prev = "0" * 64
    for seq, data in enumerate(population, 1):
        decision = decide(data, registry=REGISTRY)
        versions.add(decision.version)
        record, text = record_and_text(decision, data, seq=seq, prev_hash=prev, decided_at=AT)
        as_json = to_json(record.model_dump(mode="python"))
        assert text.encode("utf-8") == rfc8785.dumps(as_json)
        without = {k: v for k, v in as_json.items() if k != "hash"}
        assert record.hash == sha256_hex(rfc8785.dumps(without))
        assert record.canonical() == text.encode("utf-8")
        prev = record.hash
    assert len(versions) == len(REGISTRY.versions("ecei-labels"))


def test_record_seq_must_be_a_whole_number_from_one(population: list[dict]) -> None:
    decision = decide(population[0], registry=REGISTRY)
    with pytest.raises(ValueError, match="seq"):
        record_and_text(decision, population[0], seq=0, prev_hash="0" * 64, decided_at=AT)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory, population: list[dict]) -> Path:
    path = tmp_path_factory.mktemp("fastlog") / "log.db"
    with DecisionLog(path) as handle:
        handle.append_many([(decide(d, registry=REGISTRY), d) for d in population], decided_at=AT)
    return path


def test_reproduced_accepts_every_intact_record(log: Path) -> None:
    """A clean replay takes the fast path for every record (none needs a full parse)."""
    rulesets = _Rulesets(REGISTRY)
    rows = list(open_rows(log))
    assert len(rows) == 120
    assert all(reproduced(row.text, rulesets) for row in rows)


@pytest.mark.parametrize("edit", [
    ("label", lambda d: {**d, "label": "gold" if d["label"] != "gold" else "none"}),
    ("one outcome", lambda d: {**d, "criteria": [{**d["criteria"][0], "outcome": "unknown"}, *d["criteria"][1:]]}),
    ("a title", lambda d: {**d, "criteria": [{**d["criteria"][0], "title": d["criteria"][0]["title"] + " "},
                                             *d["criteria"][1:]]}),
    ("a number as a boolean", lambda d: {**d, "scores": [{**d["scores"][0], "total_weight": True}, *d["scores"][1:]]}
     if d["scores"] else {**d, "organisation": True}),
])
def test_reproduced_refuses_a_changed_decision_and_replay_reports_it(log: Path, tmp_path: Path, edit: tuple) -> None:
    """Any change to the recorded decision (even true for 1, which plain equality would miss) leaves
    the fast path, and the full replay then reports the record as altered (and, as verify, its hash)."""
    name, change = edit
    rows = list(open_rows(log))
    record = json.loads(rows[6].text)
    record["decision"] = change(record["decision"])
    text = rfc8785.dumps(record).decode()
    assert not reproduced(text, _Rulesets(REGISTRY)), name
    target = tmp_path / "edited.jsonl"
    target.write_text("\n".join([*(r.text for r in rows[:6]), text, *(r.text for r in rows[7:])]) + "\n")
    report = replay(open_rows(target), REGISTRY)
    assert report.records == 120
    assert [(f.seq, f.code) for f in report.sorted()] == [(7, "altered"), (7, "hash_mismatch")], name


def test_reproduced_refuses_a_member_added_after_the_decision_and_replay_reports_it(log: Path,
                                                                                   tmp_path: Path) -> None:
    """A record with a member added between the decision and the engine version (in canonical
    order, "decision_note" sorts there) holds the reproduced decision's bytes followed by more:
    the fast path must refuse it, and the full replay reports the record as not a decision record
    (holding its place: record 7 is not reported missing, nor record 8 out of chain)."""
    rows = list(open_rows(log))
    record = json.loads(rows[6].text)
    record["decision_note"] = "approved by hand"
    text = rfc8785.dumps(record).decode()
    assert text.index('"decision_note"') < text.index('"engine_version"'), "the member lies where intended"
    assert not reproduced(text, _Rulesets(REGISTRY))
    target = tmp_path / "added.jsonl"
    target.write_text("\n".join([*(r.text for r in rows[:6]), text, *(r.text for r in rows[7:])]) + "\n")
    report = replay(open_rows(target), REGISTRY)
    assert [(f.seq, f.code) for f in report.findings] == [(7, "corrupt")], report.findings


def test_reproduced_refuses_other_layouts_which_replay_still_checks(log: Path, tmp_path: Path) -> None:
    """A record written with other whitespace or key order is not the canonical layout: the fast
    path declines, and the slow path reports it as not canonical (its decision is still reproduced)."""
    rows = list(open_rows(log))
    pretty = json.dumps(json.loads(rows[0].text), indent=1)
    assert not reproduced(pretty, _Rulesets(REGISTRY))
    target = tmp_path / "pretty.jsonl"
    target.write_text(json.dumps(json.loads(rows[0].text), separators=(", ", ": ")) + "\n")
    report = replay(open_rows(target), REGISTRY)
    assert report.records == 1
    assert [(f.seq, f.code) for f in report.findings] == [(1, "not_canonical")]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, population: list[dict]) -> Path:
    path = tmp_path_factory.mktemp("batch") / "batch.jsonl"
    lines = [json.dumps(to_json(d)) for d in population * 5]
    lines[3] = '{"assessed_on": '  # not JSON
    lines[450] = json.dumps({**to_json(population[0]), "assessed_on": "2001-01-01"})  # before any version
    path.write_text("\n".join(lines) + "\n")
    return path


def test_parallel_batch_prints_the_same_lines_in_the_same_order(batch: Path) -> None:
    """600 lines over two workers (chunks of 50): the same bytes as in one process, errors in place."""
    spec = ResolverSpec()
    one = list(decide_lines(read_assessments(batch), spec, jobs=1))
    two = list(decide_lines(read_assessments(batch), spec, jobs=2, chunk_size=50))
    assert two == one
    assert len(one) == 600
    assert [i for i, (_, failed) in enumerate(one) if failed] == [3, 450]
    assert json.loads(one[3][0])["error"]["line"] == 4
    decision = json.loads(one[0][0])
    assert decision["label"] == decide(json.loads(batch.read_text().splitlines()[0]), registry=REGISTRY).label


def test_cli_batch_over_workers_matches_one_process_and_exits_1(batch: Path) -> None:
    runner = CliRunner()
    single = runner.invoke(app, ["evaluate", str(batch), "--format", "json", "--jobs", "1"])
    multi = runner.invoke(app, ["evaluate", str(batch), "--format", "json", "--jobs", "2"])
    assert single.exit_code == multi.exit_code == 1
    assert single.stdout == multi.stdout
    assert len(multi.stdout.splitlines()) == 600
