"""``evaluate --format json --fields``: output people can afford (issue 23, item 2).

A selection writes only the members it names of each decision, each with the very bytes it has in
the whole decision, in the same order; a selection without the trace is decided in label mode.
The assessments are the repository's examples (every label of ECEI, an error line) and the
building label of tests/data/subject (a declared subject, a label that never expires).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.batch import ResolverSpec, _build_selecting, _decide_selected_chunk, decide_texts, read_assessments
from ecei_rules.cli.app import app
from ecei_rules.core.canonical import canonical_json
from ecei_rules.engine.decision import CriterionResult, Decision, GroupResult, Resolution, ScoreResult, TierResult
from ecei_rules.engine.derived import DerivedResult
from ecei_rules.engine.evaluator import Evaluator
from ecei_rules.engine.lines import LinePlan
from ecei_rules.engine.serialise import DECISION_FIELDS, PROFILES, FieldsError, parse_fields

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
BUILDING = ROOT / "tests" / "data" / "subject" / "1.0.0.yaml"
TRACE = {"criteria", "derived", "groups", "scores", "tiers"}


def _ecei_batch(tmp_path: Path) -> Path:
    """The batch example's lines (bronze, none, gold, an invalid line) and each single example (silver,
    a renewal) as one batch."""
    lines = (EXAMPLES / "batch.jsonl").read_text(encoding="utf-8").splitlines()
    lines += [json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.json"))]
    path = tmp_path / "ecei.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _building_batch(tmp_path: Path) -> Path:
    """Gold (never expires), silver with a certificate, silver for three years, and no label."""
    base = {"building": {"id": "B-1", "name": "Town hall"}, "assessed_on": "2022-01-10"}
    items = [{"energy_use": 50}, {"energy_use": 80, "certified": True, "certificate_until": "2024-06-30"},
             {"energy_use": 80}, {"energy_use": 500}]
    path = tmp_path / "building.jsonl"
    path.write_text("".join(json.dumps({**base, **item}) + "\n" for item in items), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[str]]:
    """Each batch and its whole output (no --fields), written once for the module."""
    folder = tmp_path_factory.mktemp("fields")
    return {batch: _lines(batch) for batch in (_ecei_batch(folder), _building_batch(folder))}


def _lines(batch: Path, *options: str) -> list[str]:
    args = ["evaluate", str(batch), "--format", "json", "--jobs", "1", *options]
    if batch.name.startswith("building"):
        args += ["--ruleset", str(BUILDING)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    return result.stdout.splitlines()


def _members_of(full_line: str, selected: dict[str, Any]) -> str:
    """The text made of the full line's own bytes for the selected members (each whole member's
    ``"key":value`` cut from the full line), in the full line's order."""
    full = json.loads(full_line)
    pieces = []
    for key in full:  # the parsed object keeps the line's order
        if key in selected:
            text = f"{json.dumps(key)}:{canonical_json(full[key]).decode()}"
            assert text in full_line  # the member's bytes, as the whole decision wrote them
            pieces.append(text)
    return "{" + ",".join(pieces) + "}"


@pytest.mark.parametrize("fields", ["label", "summary", "label,valid_until", "label,subject.id,scores",
                                    "validity_rule,validity_expires,version,organisation"])
def test_selected_members_are_the_full_outputs_bytes_in_its_order(batches: dict[Path, list[str]],
                                                                   fields: str) -> None:
    """Each selected line is the full line's own ``"key":value`` texts of the members selected, in the
    full line's order (a label-mode selection and one that builds the trace alike); an error line is
    the same line either way."""
    for batch, full in batches.items():
        selected = _lines(batch, "--fields", fields)
        assert len(full) == len(selected) > 3
        for whole, chosen in zip(full, selected, strict=True):
            if whole.startswith('{"error"'):
                assert chosen == whole
                continue
            assert chosen == _members_of(whole, json.loads(chosen))
            assert json.loads(chosen)  # never an empty selection of a decision


def test_full_is_the_default_and_today_s_bytes(batches: dict[Path, list[str]]) -> None:
    """--fields full writes what no --fields writes, byte for byte."""
    batch, full = next(iter(batches.items()))
    assert _lines(batch, "--fields", "full") == full


def test_the_profiles_hold_exactly_their_members(batches: dict[Path, list[str]]) -> None:
    """label: the label and its validity (validity_expires only for a label that never expires);
    summary: every member of the whole decision but the trace; dotted fields select inside each item."""
    building = list(batches)[1]
    gold, silver = (json.loads(line) for line in _lines(building, "--fields", "label")[:2])
    assert gold == {"label": "gold", "valid_from": "2022-01-10", "valid_until": None, "validity_expires": False}
    assert silver == {"label": "silver", "valid_from": "2022-01-10", "valid_until": "2024-06-30"}
    for batch, full in batches.items():
        for whole, summary in zip(full, _lines(batch, "--fields", "summary"), strict=True):
            assert set(json.loads(summary)) == set(json.loads(whole)) - TRACE
    (line, *_) = _lines(building, "--fields", "label,tiers.outcome,resolution.method")
    assert json.loads(line) == {"label": "gold", "resolution": {"method": "given"},
                                "tiers": [{"outcome": "met"}, {"outcome": "met"}]}


@pytest.mark.parametrize(("fields", "nearest"), [("lable,valid_until", "'label'"),
                                                 ("label,tiers.outcom", "'tiers.outcome'"),
                                                 ("summry", "'summary'")])
def test_an_unknown_field_is_a_usage_error_with_the_fields_and_the_nearest(fields: str, nearest: str) -> None:
    """Exit 2 (a usage error) before anything is decided: the name, the nearest names and every field."""
    result = CliRunner().invoke(app, ["evaluate", str(EXAMPLES / "gold-2021.json"), "--format", "json",
                                      "--fields", fields])
    assert result.exit_code == 2
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert f"did you mean {nearest}" in message
    assert "valid_until" in message
    assert "validity_rule" in message
    assert "tiers.{label,missing,outcome" in message


@pytest.mark.parametrize(("fields", "said"), [
    ("label,validity_inputs./assessed_on", "'validity_inputs' is selected whole, not by its members: write "
                                            "'validity_inputs', not 'validity_inputs./assessed_on'"),
    ("label,summary", "'summary' is a profile: give it alone (--fields summary)"),
    (" , ", "no field named"),
])
def test_a_misused_name_says_how_to_write_it(fields: str, said: str) -> None:
    """A dotted name under a member selected whole only, a profile inside a list, an empty list: each says
    what to write."""
    with pytest.raises(FieldsError) as raised:
        parse_fields(fields)
    assert said in str(raised.value)
    assert "the fields are criteria, derived, groups, label" in str(raised.value)


def test_fields_without_json_output_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["evaluate", str(EXAMPLES / "gold-2021.json"), "--fields", "label"])
    assert result.exit_code == 2
    assert "--format json" in result.stderr


def test_a_selection_without_the_trace_is_decided_in_label_mode(batches: dict[Path, list[str]],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """--fields label,valid_until never builds a decision nor writes its trace (the trace and text modes
    are not called): each assessment decided is decided once, in label mode or on the fast line path
    (`ecei_rules.engine.lines`); a selection with a trace member writes the decision of each assessment
    once."""
    calls = {"label": 0, "label_only": 0, "decision": 0, "text": 0}  # the label mode: with or without missing
    for mode in calls:
        original = getattr(Evaluator, mode)

        def counted(self: Evaluator, *args: Any, _mode: str = mode, _original: Any = original, **kw: Any) -> Any:
            calls[_mode] += 1
            return _original(self, *args, **kw)

        monkeypatch.setattr(Evaluator, mode, counted)
    fast = [0]
    line_decide = LinePlan.decide

    def fast_counted(self: LinePlan, line: bytes, *scan: bool) -> Any:
        found = line_decide(self, line, *scan)
        fast[0] += found is not None
        return found

    monkeypatch.setattr(LinePlan, "decide", fast_counted)
    batch, full = next(iter(batches.items()))
    decided = sum(1 for line in full if not line.startswith('{"error"'))
    _lines(batch, "--fields", "label,valid_until")
    assert calls["label"] + calls["label_only"] + fast[0] == decided
    assert fast[0] > 0
    assert calls["decision"] == calls["text"] == 0
    calls.update(label=0, label_only=0)
    fast[0] = 0
    _lines(batch, "--fields", "label,tiers")
    assert calls == {"label": 0, "label_only": 0, "decision": 0, "text": decided}
    assert fast[0] == 0


def test_the_field_names_are_the_members_of_the_decision_models() -> None:
    """Every member of a decision's JSON (and of its results) can be named, and nothing else."""
    decision = set(Decision.model_fields) - {"subject_key"}
    assert set(DECISION_FIELDS) == decision
    for name, model in (("criteria", CriterionResult), ("groups", GroupResult), ("scores", ScoreResult),
                        ("tiers", TierResult), ("resolution", Resolution), ("derived", DerivedResult)):
        assert set(DECISION_FIELDS[name]) == set(model.model_fields), name
    assert set(PROFILES) == {"label", "summary", "full"}


def test_a_batch_s_workers_write_the_selected_members(batches: dict[Path, list[str]]) -> None:
    """The selection reaches a worker process as it is (pickled under spawn) and its chunks are written
    as in one process: the worker's setup and task, called here without starting a pool."""
    fields = parse_fields("label,valid_until,tiers.outcome")
    assert fields is not None
    assert pickle.loads(pickle.dumps(fields)) == fields
    spec = ResolverSpec()
    batch = next(iter(batches))
    items = list(read_assessments(batch, raw=True))
    worker = _build_selecting(*pickle.loads(pickle.dumps((spec, fields))))
    chunk = _decide_selected_chunk(worker, items)
    assert chunk == list(decide_texts(items, spec.build(), fields=fields))
    assert [line for line, _ in chunk] == _lines(batch, "--fields", "label,valid_until,tiers.outcome")
