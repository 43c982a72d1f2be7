"""Hypothesis fuzzers over every reader of untrusted input and over the command line (issue 20).

Property: nothing but the library's documented errors comes out (``EceiRulesError`` subclasses); the
command line exits with a documented code and never prints a traceback. The targets live in
``fuzz_targets.py`` and also run, coverage-guided, under atheris (``scripts/fuzz_atheris.py``).

Budgets: the ``ci`` and ``dev`` profiles run a few dozen examples per fuzzer (the whole file stays well
under a minute); ``HYPOTHESIS_PROFILE=fuzz-deep`` runs each with the profile's very large example count
(about an hour in all).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from fuzz_targets import (
    EVERY,
    fuzz_assessment,
    fuzz_assessment_files,
    fuzz_cli,
    fuzz_expression,
    fuzz_log,
    fuzz_yaml,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecei_rules.audit.log import DecisionLog, LogError, open_rows
from ecei_rules.audit.replay import verify
from ecei_rules.batch import decide

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz-deep"


def budget(examples: int, deep: int) -> settings:
    """``examples`` per fuzzer (fewer if the profile asks for fewer), or ``deep`` under the fuzz-deep profile.
    The deep counts are sized for about an hour of CPU in all on the development machine (measured with
    a quarter of them: 856 s of CPU, from 17 s for the log reader to 316 s for the condition compiler)."""
    chosen = deep if DEEP else min(examples, settings.default.max_examples)
    return settings(max_examples=chosen, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Bytes near a valid document: cut, spliced, with bytes flipped or inserted; or any bytes."""
    def mutate(args: tuple[int, int, bytes, int]) -> bytes:
        at, length, insert, flip = args
        at %= max(1, len(seed))
        out = bytearray(seed[:at] + insert + seed[at + length:])
        if out and flip:
            out[flip % len(out)] ^= 1 << (flip % 8)
        return bytes(out)

    return st.one_of(
        st.binary(max_size=400),
        st.tuples(st.integers(0, 1 << 20), st.integers(0, 64), st.binary(max_size=16), st.integers(0, 1 << 20))
        .map(mutate),
    )


SEED_RULESET = EVERY.read_bytes()
SEED_ASSESSMENT = (EXAMPLES / "gold-2021.json").read_bytes()
SEED_BATCH = (EXAMPLES / "batch.jsonl").read_bytes()


@budget(100, 400_000)
@given(mutations(SEED_RULESET))
def test_fuzz_yaml_and_ruleset_loader(data: bytes) -> None:
    fuzz_yaml(data)


@budget(200, 1_600_000)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.lists(st.sampled_from([b"score", b" and ", b"(", b")", b"[", b"]", b"params.limit", b"<", b"1.5",
                                           b"min(", b"date(", b"'a'", b",", b" for x in ", b"items", b" if ",
                                           b"not ", b"-", b"**", b"."]), max_size=30).map(b"".join)))
def test_fuzz_condition_compiler(data: bytes) -> None:
    fuzz_expression(data)


@budget(100, 400_000)
@given(mutations(SEED_ASSESSMENT))
def test_fuzz_assessment_parser_and_validator(data: bytes) -> None:
    fuzz_assessment(data)


@budget(60, 400_000)
@given(mutations(SEED_BATCH))
def test_fuzz_read_assessments(data: bytes) -> None:
    fuzz_assessment_files(data)


_SEEDS: list[bytes] = []


def log_seeds() -> list[bytes]:
    """A real two-record SQLite log and its JSONL export: the seeds the log fuzzer mutates (made once)."""
    if not _SEEDS:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            data = json.loads(SEED_ASSESSMENT)
            with DecisionLog(folder / "log.db") as log:
                for _ in range(2):
                    log.append(decide(data), data, decided_at="2026-01-01T00:00:00+00:00")
                log.export_jsonl(folder / "log.jsonl")
            _SEEDS.extend([(folder / "log.db").read_bytes(), (folder / "log.jsonl").read_bytes()])
    return _SEEDS


@budget(60, 200_000)
@given(which=st.integers(0, 1), data=st.data())
def test_fuzz_log_reader(which: int, data: st.DataObject) -> None:
    fuzz_log(data.draw(mutations(log_seeds()[which]), label="log bytes"))


TOKENS = st.sampled_from([
    "evaluate", "explain", "validate", "versions", "schema", "diff", "record", "verify", "replay", "export",
    "import", "test", "synth", "repair", "--help", "--version", "--format", "json", "text", "markdown", "-f",
    "--version", "1.0.0", "3.0.1", "9.9.9", "ecei-labels@2.0.0", "ecei-labels@^3", "@", "--ruleset", "--rulesets",
    "--methodology", "nope", "--log", "log.db", "--at", "2026-01-01T00:00:00", "yesterday", "-", "--jobs", "1",
    "0", "-1", "--simulate", "--n", "2", "--as-of", "2021-01-01", "2021-02-30", "--under", "--expect-head",
    "--expect-count", "--dry-run", "--assessment", "--near-margin", "0.1", "nan", "--max-sets", "--language", "xx",
    "gold.json", "batch.jsonl", "bad.json", "every.yaml", "log.jsonl", ".", "missing.json", "dir", "\x1b[2J",
    "[bold]x", "\udcff", "",
])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with an assessment, a batch, a bad file, a ruleset, a log and a folder."""
    shutil.copy(EXAMPLES / "gold-2021.json", tmp_path / "gold.json")
    shutil.copy(EXAMPLES / "batch.jsonl", tmp_path / "batch.jsonl")
    shutil.copy(EVERY, tmp_path / "every.yaml")
    (tmp_path / "bad.json").write_bytes(b'{"organisation": \xff')
    (tmp_path / "dir").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@budget(40, 24_000)
@given(argv=st.lists(st.one_of(TOKENS, st.text(max_size=8)), min_size=1, max_size=6),
       stdin=st.sampled_from([b"", SEED_BATCH[:2000], b"\xff\n{"]))
def test_fuzz_command_line(workdir: Path, argv: list[str], stdin: bytes) -> None:
    if argv[0] in ("lock",):  # never write into the shipped rulesets
        return
    fuzz_cli(argv, stdin)


def test_a_byte_inserted_into_the_schema_page_is_a_log_error_not_a_decode_error() -> None:
    """Found by the deep log fuzzer: one 0x80 byte inserted at 3,952 in a real log left text in its schema
    that Python could not decode (UnicodeDecodeError out of the schema check); it is a damaged log now."""
    seed = log_seeds()[0]
    mutated = seed[:3952] + b"\x80" + seed[3952:]
    fuzz_log(mutated)
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "log.db"
        path.write_bytes(mutated)
        with pytest.raises(LogError, match="damaged or unreadable"):
            verify(open_rows(path))
