"""A log copied while its writer ran, without its -wal file: it lacks the records the writer had not yet
checkpointed. ``verify --expect-count`` said only that they "were removed from its tail"; it now notes the
other cause an auditor must rule out, and only where it can be the cause."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cli_harness import EXAMPLES, cli

from ecei_rules.audit.log import DecisionLog, without_its_wal
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry

AT = "2026-01-01T00:00:00+00:00"
NOTE = ("or not copied: in WAL mode with no -wal file beside it, a copy made while its writer ran lacks the records "
        "in the writer's -wal file (copy both, or an export)")


def _append(log: DecisionLog) -> None:
    gold: dict[str, Any] = json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))
    log.append(evaluate(Registry.shipped().get("ecei-labels", "3.0.1"), gold), gold, decided_at=AT)


def _finding(log: Path, *args: str) -> dict[str, Any]:
    ran = cli(["verify", str(log), *args, "--format", "json"])
    assert ran.code == 1, ran.both
    first: dict[str, Any] = json.loads(ran.stdout)["first"]
    return first


def test_a_copy_made_while_the_writer_held_a_record_in_its_wal_is_noted(tmp_path: Path) -> None:
    log, copy = tmp_path / "decisions.db", tmp_path / "received.db"
    with DecisionLog(log) as writer:
        _append(writer)
    with DecisionLog(log) as writer:
        _append(writer)  # committed, in the -wal file until the writer checkpoints (when it closes)
        assert Path(f"{log}-wal").stat().st_size > 0
        shutil.copyfile(log, copy)  # the database file alone
    assert without_its_wal(copy)
    found = _finding(copy, "--expect-count", "2")
    assert found["message"] == "the log holds 1 record(s), 2 expected: 1 record(s) were removed from its tail"
    assert found["details"] == {"note": NOTE}
    assert _finding(copy, "--expect-head", "f" * 64)["details"] == {"note": NOTE}


def test_no_note_where_it_cannot_be_the_cause(tmp_path: Path) -> None:
    """More records than acknowledged; a log with its -wal file beside it; a JSONL export: no note."""
    log = tmp_path / "decisions.db"
    with DecisionLog(log) as writer:
        _append(writer)
        _append(writer)
    assert _finding(log, "--expect-count", "1")["details"] == {}
    with DecisionLog(log) as writer:  # a live log: its -wal file is there
        _append(writer)
        assert not without_its_wal(log)
        assert _finding(log, "--expect-count", "4")["details"] == {}
    export = tmp_path / "decisions.jsonl"
    assert cli(["export", str(log), str(export)]).code == 0
    assert _finding(export, "--expect-count", "4")["details"] == {}
