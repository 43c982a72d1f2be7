"""Saving the counterexamples a property check found, each as an assessment file to re-run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ecei_rules.testing.properties import VerifyResult


def counterexample_name(number: int, result: VerifyResult) -> str:
    """The file name of a counterexample: ``NN-methodology-target-property.json``."""
    target = result.target.replace(" -> ", "-to-")
    return f"{number:02d}-{result.methodology}-{target}-{result.property.replace(' ', '-')}.json"


def save_counterexamples(results: Iterable[VerifyResult], out: Path) -> list[Path]:
    """Write the assessment of each result that has a counterexample to ``out`` (created if absent),
    one indented JSON file each, numbered in order; return their paths (none written: an empty list)."""
    failed = [r for r in results if r.violation is not None]
    saved: list[Path] = []
    if failed:
        out.mkdir(parents=True, exist_ok=True)
    for number, result in enumerate(failed, 1):
        assert result.violation is not None
        path = out / counterexample_name(number, result)
        path.write_text(json.dumps(result.violation.to_json()["assessment"], indent=2) + "\n", encoding="utf-8")
        saved.append(path)
    return saved
