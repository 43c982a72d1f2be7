"""Decision records and the log: tampering is detected and pinpointed; concurrent appends keep one chain."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
from typer.testing import CliRunner

from ecei_rules.audit.log import DecisionLog, open_rows, read_jsonl
from ecei_rules.audit.record import GENESIS, DecisionRecord
from ecei_rules.audit.replay import replay, replay_under, verify
from ecei_rules.batch import decide
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import canonical_bytes, sha256_hex
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import synthesize

ROOT = Path(__file__).parents[2]
N = 1000
AT = "2026-11-26T12:00:00+00:00"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.shipped()


@pytest.fixture(scope="module")
def clean_log(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Path:
    """A log of 1,000 decisions on a synthetic population spanning every version."""
    path = tmp_path_factory.mktemp("log") / "decisions.db"
    population = synthesize(N, seed=11, start=dt.date(2011, 1, 1), end=dt.date(2024, 12, 31), registry=registry)
    with DecisionLog(path) as log:
        for data in population:
            log.append(decide(data, registry=registry), data, decided_at=AT)
    return path


@pytest.fixture
def copy(clean_log: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    with sqlite3.connect(clean_log) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def _body(db: Path, seq: int) -> dict:
    with sqlite3.connect(db) as con:
        (text,) = con.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
    return json.loads(text)


def _write(db: Path, seq: int, body: dict, *, rehash: bool = False) -> None:
    """Write a changed body back the way an editor would (optionally recomputing its hash)."""
    if rehash:
        without = {k: v for k, v in body.items() if k != "hash"}
        body["hash"] = sha256_hex(rfc8785.dumps(without))
    with sqlite3.connect(db) as con:
        con.execute("UPDATE records SET body = ?, hash = ? WHERE seq = ?",
                    (rfc8785.dumps(body).decode(), body["hash"], seq))


def _kinds(report) -> set[tuple[int, str]]:
    return {(f.seq, f.code) for f in report.findings}


@pytest.mark.no_cover  # repetition at scale: what it runs is covered by smaller tests (docs/contributing.md)
def test_clean_log_verifies_and_replays(clean_log: Path, registry: Registry) -> None:
    """The untouched log of 1,000 records has an intact chain and replays byte for byte."""
    assert verify(open_rows(clean_log)).findings == []
    report = replay(open_rows(clean_log), registry)
    assert report.records == N
    assert report.findings == []


def test_chain_links_each_record_to_the_previous_hash(clean_log: Path) -> None:
    """Record 1 follows 64 zeros; every later record names the hash of the one before; hashes recompute."""
    rows = list(open_rows(clean_log))
    assert [r.seq for r in rows] == list(range(1, N + 1))
    previous = GENESIS
    for row in rows:
        record = DecisionRecord.model_validate_json(row.text)
        assert record.prev_hash == previous
        body = {k: v for k, v in json.loads(row.text).items() if k != "hash"}
        assert sha256_hex(rfc8785.dumps(body)) == record.hash == row.hash
        previous = record.hash


def test_edited_label_is_pinpointed(copy: Path, registry: Registry) -> None:
    """Changing one record's label shows as a hash mismatch at that record, and replay names the label."""
    body = _body(copy, 500)
    old = body["decision"]["label"]
    body["decision"]["label"] = "silver" if old != "silver" else "gold"
    _write(copy, 500, body)
    assert _kinds(verify(open_rows(copy))) == {(500, "hash_mismatch")}
    report = replay(open_rows(copy), registry)
    assert _kinds(report) == {(500, "hash_mismatch"), (500, "altered")}
    (finding,) = [f for f in report.findings if f.code == "altered"]
    assert "the record was altered after it was written (its content does not match its hash)" in finding.message
    assert finding.details["label"] == {"recorded": body["decision"]["label"], "replayed": old}


def test_edited_label_with_recomputed_hash_breaks_the_chain(copy: Path) -> None:
    """An editor who recomputes the edited record's hash still breaks the link from the next record."""
    body = _body(copy, 500)
    body["decision"]["label"] = "none" if body["decision"]["label"] != "none" else "gold"
    _write(copy, 500, body, rehash=True)
    assert _kinds(verify(open_rows(copy))) == {(501, "chain_break")}


def test_edited_input_is_pinpointed(copy: Path) -> None:
    """Changing one input value shows at that record, with its input no longer matching input_sha256."""
    body = _body(copy, 321)
    body["input"]["assessed_on"] = "2099-01-01"
    _write(copy, 321, body)
    (finding,) = verify(open_rows(copy)).findings
    assert (finding.seq, finding.code) == (321, "hash_mismatch")
    assert finding.details["input_edited"] is True


def test_deleted_record_is_pinpointed(copy: Path) -> None:
    """Removing record 700 is reported as record 700 missing and the chain broken at 701."""
    with sqlite3.connect(copy) as con:
        con.execute("DELETE FROM records WHERE seq = 700")
    assert _kinds(verify(open_rows(copy))) == {(700, "missing"), (701, "chain_break")}


def test_swapped_records_are_pinpointed(copy: Path) -> None:
    """Exchanging records 300 and 301 is reported at both, as misplaced and out of chain order."""
    a, b = _body(copy, 300), _body(copy, 301)
    with sqlite3.connect(copy) as con:
        con.execute("UPDATE records SET body = ?, hash = ? WHERE seq = 300", (rfc8785.dumps(b).decode(), b["hash"]))
        con.execute("UPDATE records SET body = ?, hash = ? WHERE seq = 301", (rfc8785.dumps(a).decode(), a["hash"]))
    kinds = _kinds(verify(open_rows(copy)))
    assert {(300, "misplaced"), (301, "misplaced"), (300, "reordered"), (301, "reordered")} <= kinds
    assert min(seq for seq, _ in kinds) == 300


def test_swapped_lines_of_an_export_are_pinpointed(clean_log: Path, tmp_path: Path) -> None:
    """In a JSONL export, swapping lines 41 and 42 is reported as records 41 and 42 reordered."""
    out = tmp_path / "log.jsonl"
    with DecisionLog(clean_log) as log:
        assert log.export_jsonl(out) == N
    lines = out.read_text(encoding="utf-8").splitlines()
    lines[40], lines[41] = lines[41], lines[40]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert {(41, "reordered"), (42, "reordered")} <= _kinds(verify(read_jsonl(out)))


def test_ruleset_edited_without_version_bump_is_caught_by_replay(clean_log: Path, tmp_path: Path) -> None:
    """Editing 3.0.1's file in place makes every 3.0.1 record name a hash its version no longer has."""
    rulesets = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets", rulesets)
    path = rulesets / "ecei-labels" / "3.0.1.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nparameters:\n  gold_1_1_0: {value: 0.8}\n",
                    encoding="utf-8")
    with DecisionLog(clean_log) as log:
        under_301 = {json.loads(r.text)["seq"] for r in log.rows() if json.loads(r.text)["version"] == "3.0.1"}
    assert under_301, "the population has decisions under 3.0.1"
    report = replay(open_rows(clean_log), Registry(rulesets))
    assert {f.seq for f in report.findings} == under_301
    assert {f.code for f in report.findings} == {"ruleset_changed"}
    assert "edited without a new version" in report.sorted()[0].message


def test_export_and_import_round_trip(clean_log: Path, tmp_path: Path) -> None:
    """A JSONL export imports into a new log with the same canonical records, which verifies clean."""
    out = tmp_path / "log.jsonl"
    with DecisionLog(clean_log) as log:
        log.export_jsonl(out)
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(out), str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert [r.text for r in open_rows(tmp_path / "copy.db")] == [r.text for r in open_rows(clean_log)]


def test_what_if_replay_under_another_version(clean_log: Path, registry: Registry) -> None:
    """Replaying under 1.0.0 (Bronze only) turns every recorded Gold into Bronze or none."""
    report, changes = replay_under(open_rows(clean_log), registry.get("ecei-labels", "1.0.0"))
    golds = [json.loads(r.text)["seq"] for r in open_rows(clean_log)
             if json.loads(r.text)["decision"]["label"] == "gold"]
    assert golds, "the population has Gold decisions"
    changed = {c["seq"]: c for c in changes}
    for seq in golds:
        assert changed[seq]["under"]["label"] in ("bronze", "none")
    assert report.findings == []


def test_what_if_replay_under_checks_the_chain_first(copy: Path, registry: Registry) -> None:
    """A what-if over a cut and altered log reports verify's findings (a missing record, the chain
    broken after it, an altered record), not just the decisions that would change."""
    with sqlite3.connect(copy) as con:
        con.execute("DELETE FROM records WHERE seq = 700")
    body = _body(copy, 500)
    body["decision"]["label"] = "none" if body["decision"]["label"] != "none" else "gold"
    _write(copy, 500, body, rehash=True)
    report, changes = replay_under(open_rows(copy), registry.get("ecei-labels", "1.0.0"))
    assert _kinds(report) == _kinds(verify(open_rows(copy))) == {(700, "missing"), (701, "chain_break"),
                                                                  (501, "chain_break")}
    assert changes, "the readable records are still decided under the other version"


def test_cli_what_if_replay_under_a_broken_log_exits_1_with_the_findings(copy: Path) -> None:
    """``replay --under`` on a log with a record removed prints the finding and exits 1 (0 on a clean
    log, as before)."""
    runner = CliRunner()
    clean = runner.invoke(app, ["replay", str(copy), "--under", "ecei-labels@1.0.0"])
    assert clean.exit_code == 0, clean.output
    # a decision without a label is "none", not "none until None" (as the text output once said)
    changed = json.loads(runner.invoke(app, ["replay", str(copy), "--under", "ecei-labels@1.0.0", "--format",
                                             "json"]).output)["changed"]
    assert any(c["under"] and c["under"]["label"] == "none" for c in changed)
    assert "None" not in clean.output
    assert " -> none under 1.0.0" in clean.output
    with sqlite3.connect(copy) as con:
        con.execute("DELETE FROM records WHERE seq = 700")
    result = runner.invoke(app, ["replay", str(copy), "--under", "ecei-labels@1.0.0"])
    assert result.exit_code == 1, result.output
    assert "record 700 is missing" in result.output
    as_json = runner.invoke(app, ["replay", str(copy), "--under", "ecei-labels@1.0.0", "--format", "json"])
    assert as_json.exit_code == 1, as_json.output
    assert {(f["seq"], f["kind"]) for f in json.loads(as_json.output)["findings"]} == {(700, "missing"),
                                                                                     (701, "chain_break")}


def test_record_is_canonical_json(clean_log: Path) -> None:
    """Every stored body is exactly the RFC 8785 canonical form of itself."""
    for row in list(open_rows(clean_log))[:50]:
        assert canonical_bytes(json.loads(row.text)) == row.text.encode("utf-8")


_APPENDER = """
import sys, datetime as dt
from ecei_rules.audit.log import DecisionLog
from ecei_rules.batch import decide
from ecei_rules.registry import Registry
from ecei_rules.testing.synth import synthesize
reg = Registry.shipped()
worker = int(sys.argv[2])
items = list(synthesize(250, seed=worker, start=dt.date(2015, 1, 1), end=dt.date(2024, 1, 1), registry=reg))
with DecisionLog(sys.argv[1]) as log:
    for data in items:
        log.append(decide(data, registry=reg), data, decided_at=f"2026-11-26T12:00:0{worker}+00:00")
"""


def test_four_processes_appending_keep_one_chain(tmp_path: Path) -> None:
    """Four processes appending 250 records each at once leave 1,000 records in one intact chain."""
    path = tmp_path / "shared.db"
    DecisionLog(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(path), str(w)]) for w in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    rows = list(open_rows(path))
    assert [r.seq for r in rows] == list(range(1, 1001))
    assert verify(rows).findings == []
    writers = {json.loads(r.text)["decided_at"][-7] for r in rows}
    assert writers == {"0", "1", "2", "3"}
