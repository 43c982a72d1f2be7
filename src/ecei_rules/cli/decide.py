"""``ecei-rules evaluate``: decide the label of each assessment, and how a command turns its
ruleset options into a resolver ready to decide."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ecei_rules.batch import (
    Resolver,
    ResolverSpec,
    decide_lines,
    decide_many,
    error_json,
    ready_resolver,
    selected_lines,
    selected_standard_input,
)
from ecei_rules.batch import split_version as split
from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    STDIN,
    AssessmentArgument,
    Format,
    FormatOption,
    MethodologyOption,
    RulesetFileOption,
    RulesetsOption,
    VersionOption,
    check_input,
    console,
    err_console,
    exit_on_load_errors,
    fail,
    is_batch,
    print_problems,
    read,
)
from ecei_rules.core.workers import worker_count
from ecei_rules.engine.decision import Resolution
from ecei_rules.engine.serialise import Fields, FieldsError, parse_fields
from ecei_rules.errors import AssessmentError, EceiRulesError
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.subject import resolve as resolve_subject

if TYPE_CHECKING:
    from rich.console import Console

#: The lines of a file's JSON output written at once (standard input's are written one by one), at most
#: `BLOCK_CHARS` characters of them: a block of short lines saves calls, one of whole decisions (34 KB a line)
#: would hold megabytes for nothing.
BLOCK_LINES = 256
BLOCK_CHARS = 65_536


def resolver_spec(ruleset: Path | None, rulesets: Path | None, methodology: str | None, version: str | None, *,
                  simulate: bool = False) -> ResolverSpec:
    """What the ruleset options of a command name (a version written 3.0.1 or ecei-labels@3.0.1); exit 2
    for a reference that is not one."""
    if ruleset is not None:
        return ResolverSpec(ruleset_file=str(ruleset))
    with exit_on_load_errors():
        chosen, spec = split(version, methodology)
    return ResolverSpec(rulesets=None if rulesets is None else str(rulesets), methodology=chosen, version=spec,
                        allow_unpublished=simulate)


def ready(spec: ResolverSpec, assessment: Path | None, *, build: bool = True) -> Resolver:
    """``spec``'s resolver with what it decides under loaded now (for one assessment file, only its version):
    an unknown methodology or version, or a broken ruleset, ends the command with exit 2."""
    with exit_on_load_errors():
        return ready_resolver(spec, sample=None if assessment is None or is_batch(assessment) else assessment,
                              build=build)


def evaluate(
    assessment: AssessmentArgument,
    ruleset: RulesetFileOption = None,
    methodology: MethodologyOption = None,
    version: VersionOption = None,
    rulesets: RulesetsOption = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="Allow draft and withdrawn versions (a simulation, "
                                           "not an official decision).")] = False,
    format: FormatOption = Format.text,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes for a "
                                             ".jsonl batch with --format json (default: one per core; capped by "
                                             "the cores and the memory).")] = None,
    fields: Annotated[str | None, typer.Option("--fields", metavar="FIELDS|PROFILE", help="With --format json, "
                                               "write only these members of each decision: a comma list "
                                               "(label,valid_until; resolution.method; tiers.outcome) or a "
                                               "profile: label (the label and its validity), summary (all but "
                                               "the trace) or full (the default). A selection without the "
                                               "trace is decided without building it.")] = None,
    engine: Annotated[str, typer.Option("--engine", metavar="ENGINE", help="python (default), or sql: a .jsonl "
                                        "batch decided by one SQL query per version on DuckDB (the [sql] extra); "
                                        "one JSON line of outcomes per assessment, not the explained "
                                        "decision.")] = "python",
) -> None:
    """Decide the label of each assessment and explain it (JSON Lines with --format json; - reads standard
    input). The durable-rules engine decides with 'evaluate-durable'."""
    selected = _selection(fields, format)
    check_input(assessment)
    spec = resolver_spec(ruleset, rulesets, methodology, version, simulate=simulate)
    resolve = ready(spec, assessment)
    if engine not in ("python", "sql"):
        err_console().print(f"error: --engine is python or sql, not {engine!r}", highlight=False)
        raise typer.Exit(2)
    if engine == "sql":
        if selected is not None:
            fail("--fields selects members of the explained decision; --engine sql writes outcomes only")
        from ecei_rules.cli.sql import evaluate_sql

        raise typer.Exit(evaluate_sql(assessment, resolve))
    if format is Format.json:
        failures = _json_lines(assessment, spec, resolve, jobs, selected)
    else:
        failures = _for_people(assessment, resolve)
    sys.stdout.flush()
    raise typer.Exit(EXIT_FINDINGS if failures else 0)


def _selection(fields: str | None, format: Format) -> Fields | None:
    """The members ``--fields`` selects (None: the whole decision); exit 2 for a name no decision has,
    or without --format json."""
    if fields is None:
        return None
    if format is not Format.json:
        fail("--fields selects the members of JSON output: add --format json")
    try:
        return parse_fields(fields)
    except FieldsError as exc:
        fail(exc)


def _json_lines(assessment: Path, spec: ResolverSpec, resolve: Resolver, jobs: int | None,
                fields: Fields | None = None) -> int:
    """Write one JSON line per assessment (a batch decided by worker processes); return the failures."""
    batch = is_batch(assessment)
    if batch and jobs != 1:  # never more workers than the cores and the memory allow
        jobs, note = worker_count(jobs)
        if note:
            err_console().print(f"note: {note}", highlight=False)
    if batch and jobs == 1 and fields is not None and fields.untraced:  # each line tried on the fast line path
        lines: Iterable[tuple[str, bool]] = selected_lines(assessment, resolve, fields) if assessment != STDIN \
            else selected_standard_input(sys.stdin.buffer, resolve, fields)
    else:
        lines = decide_lines(read(assessment, raw=True), spec, jobs=jobs if batch else 1, resolve=resolve,
                             fields=fields)
    # what is loaded by now (the versions, their compiled conditions) lives as long as the command: kept out of
    # the collector's reach while the lines are decided, each collection walks only what they allocate
    gc.freeze()
    try:
        return _write_lines(lines, block=BLOCK_LINES if assessment != STDIN else 1)
    finally:
        gc.unfreeze()


def _write_lines(lines: Iterable[tuple[str, bool]], *, block: int) -> int:
    """Write the lines to stdout, ``block`` lines at a time (one: each as it comes, for a reader of a pipe
    who may wait for each) or fewer once they hold `BLOCK_CHARS` characters, those held written also when
    deciding the next is interrupted; return how many are errors."""
    failures = 0
    write = sys.stdout.write
    held: list[str] = []
    size = 0
    try:
        for line, failed in lines:
            failures += failed
            held.append(line)
            size += len(line)
            if len(held) == block or size >= BLOCK_CHARS:
                held.append("")
                write("\n".join(held))
                held.clear()
                size = 0
    finally:  # the lines decided are written, also when deciding the next one is interrupted
        if held:
            held.append("")
            write("\n".join(held))
    return failures


def _for_people(assessment: Path, resolve: Resolver) -> int:
    """Print each decision explained (a rule between the lines of a batch); return the failures."""
    from ecei_rules.render.console import print_decision  # only for people: JSON output does without it

    out = console()
    batch = is_batch(assessment)
    failures = 0
    nouns: dict[str, str] = {}  # ruleset sha256 -> its subject's noun, for the decision card

    def noting(data: Any) -> tuple[Ruleset, Resolution]:
        ruleset, resolution = resolve(data)
        nouns[ruleset.sha256] = resolve_subject(ruleset.document).noun
        return ruleset, resolution

    for outcome in decide_many(read(assessment), noting):
        failures += outcome.error is not None
        if outcome.decision is not None:
            if batch:
                out.rule(f"line {outcome.index}")
            print_decision(outcome.decision, out, noun=nouns.get(outcome.decision.ruleset_sha256))
        else:
            print_outcome_error(outcome.error, out, f"line {outcome.index}: " if batch else "")
    return failures


def print_outcome_error(error: EceiRulesError | None, out: Console, prefix: str) -> None:
    """Why an assessment was not decided: its located diagnostics, or the resolution's message."""
    from ecei_rules.core.terminal import text

    if isinstance(error, AssessmentError):
        print_problems(error.diagnostics, out, prefix=prefix)
    else:
        out.print(text(prefix + str(error_json(error)["message"])))


#: The commands of this module, by name.
COMMANDS = (("evaluate", evaluate),)
