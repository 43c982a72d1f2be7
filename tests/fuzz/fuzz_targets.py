"""The fuzz targets (issue 20): each takes untrusted bytes and checks the one property that matters, that
nothing but the library's documented errors ever comes out (``EceiRulesError`` subclasses; for the command
line, an exit code in ``EXIT_CODES`` and never a traceback).

Shared by the hypothesis fuzzers (``tests/fuzz/test_fuzz_targets.py``) and the coverage-guided runs under
atheris (``scripts/fuzz_atheris.py``). A target raises AssertionError (or the unexpected exception) on a
bug and returns quietly otherwise.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ecei_rules.audit.log import LogError, open_rows, read_jsonl
from ecei_rules.audit.replay import verify
from ecei_rules.batch import parse_json, read_assessments
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.errors import CODES, EceiRulesError
from ecei_rules.language.expr import Scope, Ty, compile_expression
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import Ruleset, load_ruleset_text
from ecei_rules.ruleset.safe_yaml import parse_yaml

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"
_CACHE: dict[str, Any] = {}

SCOPE = Scope(
    inputs={"score": Ty("decimal"), "count": Ty("integer"), "flag": Ty("boolean"), "day": Ty("date"),
            "name": Ty("string", values=("a", "b")), "items": Ty("list", item=Ty("integer"))},
    params={"limit": (Ty("decimal"), Decimal("0.5")), "n": (Ty("integer"), 3)},
)


def text_of(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def rulesets() -> list[Ruleset]:
    """tests/data/every and the latest shipped ecei-labels version (built once)."""
    if "rulesets" not in _CACHE:
        registry = Registry.shipped()
        every = load_ruleset_text(EVERY.read_text(encoding="utf-8"), str(EVERY))
        _CACHE["rulesets"] = [every, registry.get("ecei-labels", registry.versions("ecei-labels")[-1])]
    result: list[Ruleset] = _CACHE["rulesets"]
    return result


def fuzz_yaml(data: bytes) -> None:
    """The safe YAML reader and the ruleset loader: data or located diagnostics, nothing else."""
    text = text_of(data)
    doc = parse_yaml(text, "fuzz.yaml")
    assert all(d.code in CODES for d in doc.diagnostics)
    with contextlib.suppress(EceiRulesError):
        load_ruleset_text(text, "fuzz.yaml")


def fuzz_expression(data: bytes) -> None:
    """The condition compiler: a compiled condition or E1xx/E2xx diagnostics with offsets inside the text."""
    text = text_of(data)
    compiled, errors = compile_expression(text, SCOPE)
    assert (compiled is None) == bool(errors)
    for e in errors:
        assert e.code in CODES
        assert 0 <= e.offset <= len(text)


def fuzz_assessment(data: bytes) -> None:
    """Parse a JSON assessment and decide it under each ruleset: a decision or an AssessmentError."""
    try:
        value = parse_json(text_of(data))
    except EceiRulesError:
        return
    for ruleset in rulesets():
        with contextlib.suppress(EceiRulesError):
            evaluate(ruleset, value)


def fuzz_assessment_files(data: bytes) -> None:
    """``batch.read_assessments`` on the bytes as a .jsonl batch, a .json and a .yaml file."""
    for suffix in (".jsonl", ".json", ".yaml"):
        stream: Any = io.BytesIO(data) if suffix == ".jsonl" else io.StringIO(text_of(data))
        if suffix != ".jsonl":
            try:
                stream.getvalue().encode("utf-8")
            except UnicodeEncodeError:
                continue  # a file that is not UTF-8 is refused before it is parsed (read_text)
        for item in read_assessments(Path("fuzz" + suffix), stream):
            assert item.error is None or item.data is None
            if item.error is None and isinstance(item.data, dict):
                with contextlib.suppress(EceiRulesError):
                    evaluate(rulesets()[1], item.data)


def fuzz_log(data: bytes) -> None:
    """Arbitrary bytes as a SQLite decision log and as a JSONL export, through ``verify``."""
    with tempfile.TemporaryDirectory() as folder:
        for name in ("log.db", "log.jsonl"):
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                report = verify(open_rows(path) if name == "log.db" else read_jsonl(path))
            except LogError:  # not a log, or a damaged one: one line, exit 2 at the command line
                continue
            assert report.records >= 0
            if name == "log.jsonl" and data.decode("utf-8", "replace").strip():  # a line that is not blank
                assert not report.ok or report.records > 0  # is a record or a finding


def fuzz_cli(argv: list[str], stdin: bytes = b"") -> None:
    """The command line on arbitrary arguments: an exit code it documents, never a traceback."""
    from typer.testing import CliRunner

    from ecei_rules.cli.app import EXIT_CODES, run

    with CliRunner().isolation(input=stdin, env={"NO_COLOR": "1", "ECEI_RULES_DEBUG": ""}) as (out, err, _):
        code = run(argv)
        output = out.getvalue() + err.getvalue()
    assert code in EXIT_CODES, (code, output[-2000:])
    assert b"Traceback" not in output, output[-2000:]
    assert b"internal error" not in output, output[-2000:]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "yaml": fuzz_yaml,
    "expression": fuzz_expression,
    "assessment": fuzz_assessment,
    "assessment-files": fuzz_assessment_files,
    "log": fuzz_log,
}
